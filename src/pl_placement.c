/*
 * Weight placement: which tensors are copied at open into the fast pool
 * (SRAM on the board) or the large pool (PSRAM), within the budgets of
 * pl_options. Copying costs memory once and saves bus time every token, so
 * the fast pool takes the set of whole tensors that is read the most per
 * token and fits its budget; the large pool then takes the best set of the
 * rest within its own. A model has at most 11 placeable tensors, so every
 * subset is tried (2048 sums, at open only): the best fit, not a greedy one.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

/* Tensors that can move: the norms, the matrices, and the classifier (with
 * the embedding, when they are the same bytes). A separate embedding is
 * read one row a token: copying it would cost its size and save a row. */
static const pl_tensor_id movable[] = {
    PL_TENSOR_RMS_ATT, PL_TENSOR_RMS_FFN, PL_TENSOR_RMS_FINAL, PL_TENSOR_WQ,
    PL_TENSOR_WK,      PL_TENSOR_WV,      PL_TENSOR_WO,        PL_TENSOR_W1,
    PL_TENSOR_W2,      PL_TENSOR_W3,      PL_TENSOR_WCLS};
#define MOVABLE (int)(sizeof movable / sizeof movable[0])

/* Bytes a tensor takes in a pool (the arena's 8-byte alignment included). */
static uint64_t pool_bytes(const pl_model_info *info, pl_tensor_id id) {
    return ((uint64_t)info->tensors[id].bytes + 7u) & ~(uint64_t)7u;
}

/* Moves into `to` the subset of tensors still in place that reads the most
 * bytes per token within budget. */
static void fill(const pl_model_info *info, pl_place *place, pl_place to, size_t budget) {
    uint32_t best = 0;
    uint64_t best_read = 0;
    if (budget == 0) return;
    for (uint32_t set = 1; set < (1u << MOVABLE); set++) {
        uint64_t size = 0, read = 0;
        int ok = 1;
        for (int i = 0; i < MOVABLE && ok; i++) {
            if (!(set & (1u << i))) continue;
            if (place[movable[i]] != PL_PLACE_IN_PLACE) ok = 0;
            size += pool_bytes(info, movable[i]);
            read += pl_tensor_bytes_per_token(info, movable[i]);
        }
        if (ok && size <= (uint64_t)budget && read > best_read) {
            best = set;
            best_read = read;
        }
    }
    for (int i = 0; i < MOVABLE; i++)
        if (best & (1u << i)) place[movable[i]] = to;
}

/* Bytes of the classifier's first `rows` rows as a layer of their own, in a
 * pool. */
static uint64_t classifier_head_bytes(const pl_model_info *info, int rows) {
    const pl_tensor_info *t = &info->tensors[PL_TENSOR_WCLS];
    return (pl_wtypes[t->type].layer_bytes((uint64_t)rows, (uint64_t)t->cols, t->group_size) + 7u) & ~(uint64_t)7u;
}

/* A classifier too large for the large pool whole, which every token reads
 * from flash (a 32000-token model's: 5 MB of stories15M's 8.5), takes what
 * the pool has left: as many of its first rows as fit, a multiple of 4
 * (the stream's blocks), are copied there, and PSRAM reads 1.5 times as
 * fast as flash (board-model.md). */
static int classifier_rows_large(const pl_model_info *info, const pl_place *place, size_t budget) {
    const pl_tensor_info *t = &info->tensors[PL_TENSOR_WCLS];
    uint64_t used = 0;
    int rows;
    if (place[PL_TENSOR_WCLS] != PL_PLACE_IN_PLACE || t->layers != 1 ||
        !pl_wtype_cuts_at_rows(t->type, t->cols, t->group_size))
        return 0;
    for (int i = 0; i < MOVABLE; i++)
        if (place[movable[i]] == PL_PLACE_LARGE) used += pool_bytes(info, movable[i]);
    if (used >= (uint64_t)budget) return 0;
    /* the largest multiple of 4 below the rows that fits */
    rows = (int)(((uint64_t)budget - used) / (classifier_head_bytes(info, 4) / 4u)) & ~3;
    if (rows >= t->rows) rows = (t->rows - 1) & ~3;
    while (rows > 0 && classifier_head_bytes(info, rows) > (uint64_t)budget - used) rows -= 4;
    return rows > 0 ? rows : 0;
}

void pl_place_weights(const pl_model_info *info, const pl_options *options, pl_memory_plan *plan) {
    pl_place *place = plan->tensor_place;
    for (int id = 0; id < PL_TENSOR_COUNT; id++) place[id] = PL_PLACE_IN_PLACE;
    plan->classifier_rows_large = 0;
    if (options) {
        fill(info, place, PL_PLACE_FAST, options->fast_weight_budget);
        fill(info, place, PL_PLACE_LARGE, options->large_weight_budget);
        plan->classifier_rows_large = classifier_rows_large(info, place, options->large_weight_budget);
    }
    /* The shared classifier is the embedding's bytes: one copy serves both. */
    if (info->shared_classifier) place[PL_TENSOR_EMBEDDING] = place[PL_TENSOR_WCLS];
    for (int p = 0; p < PL_PLACE_COUNT; p++) {
        plan->weight_bytes[p] = 0;
        plan->weight_bytes_per_token[p] = 0;
    }
    for (int id = 0; id < PL_TENSOR_COUNT; id++) {
        if (!(id == PL_TENSOR_EMBEDDING && info->shared_classifier))
            plan->weight_bytes[place[id]] += info->tensors[id].bytes;
        plan->weight_bytes_per_token[place[id]] += pl_tensor_bytes_per_token(info, (pl_tensor_id)id);
    }
    if (plan->classifier_rows_large) { /* the head's bytes read from the copy, the rest in place */
        const pl_tensor_info *t = &info->tensors[PL_TENSOR_WCLS];
        uint64_t head = pl_wtypes[t->type].layer_bytes((uint64_t)plan->classifier_rows_large, (uint64_t)t->cols,
                                                       t->group_size);
        plan->weight_bytes[PL_PLACE_LARGE] += (size_t)head;
        plan->weight_bytes_per_token[PL_PLACE_LARGE] += head;
        plan->weight_bytes_per_token[PL_PLACE_IN_PLACE] -= head;
    }
}

pl_status pl_auto_place(const void *model, size_t model_size, const void *tokenizer,
                        size_t tokenizer_size, size_t fast_free, size_t large_free,
                        pl_options *options, pl_error *err) {
    pl_memory_plan plan;
    pl_status st;
    if (!options) return pl_fail(err, PL_ERR_ARGUMENT, "options must not be NULL");
    options->fast_weight_budget = options->large_weight_budget = 0;
    options->kv_cache_fast = 0;
    st = pl_plan_memory(model, model_size, tokenizer, tokenizer_size, options, &plan, err);
    if (st != PL_OK) return st;
    if (plan.fast_bytes > fast_free && plan.stream_weights) { /* no room for the stages: no streaming */
        options->stream_weights = 0;
        st = pl_plan_memory(model, model_size, tokenizer, tokenizer_size, options, &plan, err);
        if (st != PL_OK) return st;
    }
    options->fast_weight_budget = fast_free > plan.fast_bytes ? fast_free - plan.fast_bytes : 0;
    options->large_weight_budget = large_free > plan.large_bytes ? large_free - plan.large_bytes : 0;
    st = pl_plan_memory(model, model_size, tokenizer, tokenizer_size, options, &plan, err);
    if (st != PL_OK) return st;
    if (plan.fast_bytes + plan.kv_cache_bytes + 8u <= fast_free) options->kv_cache_fast = 1;
    return PL_OK;
}
