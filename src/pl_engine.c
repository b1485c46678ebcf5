/*
 * The engine: memory plan, open/close, and generation (run.c's generate()).
 *
 * Memory: pl_layout() lays out every buffer the engine writes in three
 * arenas: the fast pool's, the large pool's, and the KV cache's, which is a
 * block of its own from the pool the plan puts it in (so a platform may serve
 * it from another memory of that kind). Run without a base it measures
 * (pl_plan_memory); run again on the three allocations it carves them
 * (pl_open). Three allocations, at open, through the platform's hooks;
 * nothing afterwards.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

/* Validates both blobs and fills what layout needs. A NULL, empty
 * tokenizer means the model's own. */
static pl_status prepare(const void *model, size_t model_size,
                         const void *tokenizer, size_t tokenizer_size,
                         pl_model_info *info, pl_tokenizer *tok, pl_error *err) {
    pl_status st = pl_model_inspect(model, model_size, info, err);
    if (st != PL_OK) return st;
    if (!tokenizer && tokenizer_size == 0) {
        if (info->tokenizer_size == 0)
            return pl_fail(err, PL_ERR_ARGUMENT,
                           "this model file has no tokenizer inside: pass one");
        tokenizer = (const uint8_t *)model + info->tokenizer_offset;
        tokenizer_size = info->tokenizer_size;
    }
    return pl_tokenizer_scan(tok, tokenizer, tokenizer_size, info->vocab_size, err);
}

static size_t prompt_bytes_of(const pl_options *options) {
    return options && options->max_prompt_bytes ? options->max_prompt_bytes
                                                : PL_DEFAULT_PROMPT_BYTES;
}

static int positions_of(const pl_options *options, const pl_model_info *info) {
    int n = options ? options->max_positions : 0;
    return n <= 0 || n > info->seq_len ? info->seq_len : n;
}

/* Lays out the engine struct and every buffer, and the copies of the
 * placed weights; fills the plan's sizes (the placement is already in it).
 * The pools' sizes count the KV cache in the pool it is in. */
static void pl_layout(pl_engine *e, size_t max_prompt_bytes, pl_arena *fast,
                      pl_arena *large, pl_arena *kv, pl_memory_plan *plan) {
    uint64_t f, l;
#define PL_MEASURED(field, call)                                            \
    (f = fast->used, l = large->used, call,                                 \
     plan->field = (size_t)((fast->used - f) + (large->used - l)))
    pl_arena_take(fast, sizeof(pl_engine));
    PL_MEASURED(activations_bytes,
                pl_state_layout(&e->state, &e->info, e->positions, plan, fast, NULL));
    pl_state_layout(&e->state, &e->info, e->positions, plan, NULL, kv);
    plan->kv_cache_bytes = (size_t)kv->used;
    PL_MEASURED(sampler_bytes, pl_sampler_layout(&e->sampler, e->info.vocab_size, plan->cores, fast));
    PL_MEASURED(tokenizer_bytes, pl_tokenizer_layout(&e->tokenizer, fast, large));
    PL_MEASURED(prompt_bytes, pl_tokenizer_layout_prompt(&e->tokenizer, max_prompt_bytes, large));
#undef PL_MEASURED
    for (int id = 0; id < PL_TENSOR_COUNT; id++) {
        pl_place p = plan->tensor_place[id];
        e->copies[id] = NULL;
        if (p == PL_PLACE_IN_PLACE || (id == PL_TENSOR_EMBEDDING && e->info.shared_classifier))
            continue; /* a shared embedding is the classifier's copy */
        e->copies[id] = pl_arena_take(p == PL_PLACE_FAST ? fast : large, e->info.tensors[id].bytes);
    }
    e->classifier_head = NULL;
    if (plan->classifier_rows_large) {
        const pl_tensor_info *t = &e->info.tensors[PL_TENSOR_WCLS];
        e->classifier_head = pl_arena_take(large, pl_wtypes[t->type].layer_bytes((uint64_t)plan->classifier_rows_large,
                                                                                 (uint64_t)t->cols, t->group_size));
    }
    plan->fast_bytes = (size_t)fast->used;
    plan->large_bytes = (size_t)large->used;
    if (plan->kv_place == PL_PLACE_FAST) plan->fast_bytes += plan->kv_cache_bytes;
    else plan->large_bytes += plan->kv_cache_bytes;
}

static pl_status measure(pl_engine *e, const pl_options *options, pl_memory_plan *plan,
                         pl_error *err) {
    pl_arena fast = {NULL, 0}, large = {NULL, 0}, kv = {NULL, 0};
    memset(plan, 0, sizeof *plan);
    e->positions = positions_of(options, &e->info);
    plan->kv_positions = e->positions;
    plan->cores = options && options->cores == 2 ? 2 : 1;
    plan->kv_place = options && options->kv_cache_fast ? PL_PLACE_FAST : PL_PLACE_LARGE;
    pl_place_weights(&e->info, options, plan);
    /* streaming serves the matrices and the KV cache outside SRAM: with
     * none, no stages (run.c's cache layout has no runs to stream) */
    plan->stream_weights = 0;
    for (int id = PL_TENSOR_WQ; id < PL_TENSOR_COUNT; id++)
        if (options && options->stream_weights && plan->tensor_place[id] != PL_PLACE_FAST) plan->stream_weights = 1;
#if !defined(PL_RUNC_READ_ORDER)
    if (options && options->stream_weights && plan->kv_place != PL_PLACE_FAST) plan->stream_weights = 1;
#endif
    plan->stage_bytes = pl_cores_stages_bytes(&e->info, options ? options->stage_bytes : 0, plan->cores,
                                              plan->stream_weights);
    pl_layout(e, prompt_bytes_of(options), &fast, &large, &kv, plan);
    if (fast.used > (uint64_t)SIZE_MAX / 4 || large.used > (uint64_t)SIZE_MAX / 4 ||
        kv.used > (uint64_t)SIZE_MAX / 4)
        return pl_fail(err, PL_ERR_NO_MEMORY,
                       "this model needs more memory than this platform can address");
    return PL_OK;
}

pl_status pl_plan_memory(const void *model, size_t model_size,
                         const void *tokenizer, size_t tokenizer_size,
                         const pl_options *options, pl_memory_plan *plan,
                         pl_error *err) {
    pl_engine e;
    pl_status st;
    pl_clear_error(err);
    if (!plan) return pl_fail(err, PL_ERR_ARGUMENT, "plan must not be NULL");
    memset(&e, 0, sizeof e);
    if (!tokenizer && tokenizer_size == 0) {
        /* no tokenizer given and none inside: the plan counts none */
        st = pl_model_inspect(model, model_size, &e.info, err);
        if (st != PL_OK) return st;
        if (e.info.tokenizer_size == 0) return measure(&e, options, plan, err);
    }
    st = prepare(model, model_size, tokenizer, tokenizer_size, &e.info,
                 &e.tokenizer, err);
    if (st != PL_OK) return st;
    return measure(&e, options, plan, err);
}

static uint64_t now(const pl_engine *e) {
    return e->platform.clock ? e->platform.clock(e->platform.user) : 0;
}

/* Copies the placed tensors and points the weights at the copies. */
static void copy_placed_weights(pl_engine *e, const uint8_t *blob) {
    pl_tensor *matrices[PL_TENSOR_COUNT] = {NULL};
    matrices[PL_TENSOR_EMBEDDING] = &e->weights.embedding;
    matrices[PL_TENSOR_WQ] = &e->weights.wq;
    matrices[PL_TENSOR_WK] = &e->weights.wk;
    matrices[PL_TENSOR_WV] = &e->weights.wv;
    matrices[PL_TENSOR_WO] = &e->weights.wo;
    matrices[PL_TENSOR_W1] = &e->weights.w1;
    matrices[PL_TENSOR_W2] = &e->weights.w2;
    matrices[PL_TENSOR_W3] = &e->weights.w3;
    matrices[PL_TENSOR_WCLS] = &e->weights.wcls;
    uint64_t t0 = now(e);
    for (int id = 0; id < PL_TENSOR_COUNT; id++) {
        uint8_t *copy = e->copies[id];
        if (!copy) continue;
        memcpy(copy, blob + e->info.tensors[id].offset, e->info.tensors[id].bytes);
        if (matrices[id]) matrices[id]->place = e->plan.tensor_place[id];
        if (id == PL_TENSOR_WCLS && e->info.shared_classifier)
            e->weights.embedding.place = e->plan.tensor_place[id];
        if (id == PL_TENSOR_RMS_ATT) e->weights.rms_att = (const float *)(void *)copy;
        else if (id == PL_TENSOR_RMS_FFN) e->weights.rms_ffn = (const float *)(void *)copy;
        else if (id == PL_TENSOR_RMS_FINAL) e->weights.rms_final = (const float *)(void *)copy;
        else matrices[id]->base = copy;
        if (id == PL_TENSOR_WCLS && e->info.shared_classifier) e->weights.embedding.base = copy;
    }
    e->weights.wcls_head.rows = 0;
    if (e->classifier_head) { /* the first rows, as a layer of their own (a stream block's way) */
        pl_tensor *head = &e->weights.wcls_head;
        pl_span spans[PL_ROW_SPANS];
        int rows = e->plan.classifier_rows_large;
        int n = pl_wtypes[e->weights.wcls.type].row_spans(&e->weights.wcls, 0, 0, rows, spans);
        for (int i = 0; i < n; i++) memcpy(e->classifier_head + spans[i].at, spans[i].src, spans[i].bytes);
        *head = e->weights.wcls;
        head->rows = rows;
        head->base = e->classifier_head;
        head->stride = (size_t)pl_wtypes[head->type].layer_bytes((uint64_t)rows, (uint64_t)head->cols, head->group_size);
        head->place = PL_PLACE_LARGE;
    }
    e->plan.copy_ticks = now(e) - t0;
}

/* Releases blocks [0, n) in reverse order of taking (the fast one, which
 * holds the engine, last). */
static void release_blocks(const pl_platform *platform, const pool_block *blocks, int n) {
    while (n-- > 0) platform->release(platform->user, blocks[n].pool, blocks[n].ptr);
}

/* Takes every block from the platform, each aligned as the engine needs:
 * 8 for the fast pool's (the engine's own structure, with 64-bit fields,
 * starts it), 4 for the others (floats and 32-bit words); on any failure
 * gives back what it took. */
static pl_status take_blocks(const pl_platform *platform, pool_block *blocks, pl_error *err) {
    for (int i = 0; i < PL_BLOCK_COUNT; i++) {
        unsigned align = i == PL_BLOCK_FAST ? 8u : 4u;
        int fast = blocks[i].pool == PL_POOL_FAST;
        const char *pool = fast ? "fast pool (SRAM)" : "large pool (PSRAM)";
        const char *what = i == PL_BLOCK_KV ? " for the KV cache" : "";
        blocks[i].ptr = platform->alloc(platform->user, blocks[i].pool, blocks[i].size);
        if (!blocks[i].ptr) {
            release_blocks(platform, blocks, i);
            return pl_fail(err, PL_ERR_NO_MEMORY, "the %s could not give %lu bytes%s", pool,
                           (unsigned long)blocks[i].size, what);
        }
        if (((uintptr_t)blocks[i].ptr & (align - 1u)) != 0) {
            release_blocks(platform, blocks, i + 1);
            return pl_fail(err, PL_ERR_ALIGNMENT,
                           "the platform's allocator returned a %s pool block%s not aligned to %u bytes",
                           fast ? "fast" : "large", what, align);
        }
        memset(blocks[i].ptr, 0, blocks[i].size);
    }
    return PL_OK;
}

pl_status pl_open(pl_engine **out, const void *model, size_t model_size,
                  const void *tokenizer, size_t tokenizer_size,
                  const pl_options *options, const pl_platform *platform,
                  pl_error *err) {
    pl_engine tmp, *e;
    pl_memory_plan plan;
    pl_arena fast, large, kv;
    pl_status st;
    pool_block blocks[PL_BLOCK_COUNT];

    pl_clear_error(err);
    if (!out || !platform || !platform->alloc || !platform->release)
        return pl_fail(err, PL_ERR_ARGUMENT,
                       "engine pointer and platform allocator hooks must not be NULL");
    *out = NULL;
    memset(&tmp, 0, sizeof tmp);
    st = prepare(model, model_size, tokenizer, tokenizer_size, &tmp.info,
                 &tmp.tokenizer, err);
    if (st != PL_OK) return st;
    st = pl_model_map_weights(model, &tmp.info, &tmp.weights, err);
    if (st != PL_OK) return st;
    st = measure(&tmp, options, &plan, err);
    if (st != PL_OK) return st;
    if (plan.cores == 2 && !platform->run_on_both)
        return pl_fail(err, PL_ERR_ARGUMENT,
                       "two cores were asked for, but the platform cannot run work on a second core");
    if (!platform->copy_start != !platform->copy_wait)
        return pl_fail(err, PL_ERR_ARGUMENT,
                       "the platform's background copy needs both copy_start and copy_wait");

    blocks[PL_BLOCK_FAST].pool = PL_POOL_FAST;
    blocks[PL_BLOCK_FAST].size = plan.fast_bytes;
    blocks[PL_BLOCK_LARGE].pool = PL_POOL_LARGE;
    blocks[PL_BLOCK_LARGE].size = plan.large_bytes;
    /* the cache is a block of its own, from the pool it is counted in */
    blocks[PL_BLOCK_KV].pool = plan.kv_place == PL_PLACE_FAST ? PL_POOL_FAST : PL_POOL_LARGE;
    blocks[PL_BLOCK_KV].size = plan.kv_cache_bytes;
    blocks[plan.kv_place == PL_PLACE_FAST ? PL_BLOCK_FAST : PL_BLOCK_LARGE].size -= plan.kv_cache_bytes;
    st = take_blocks(platform, blocks, err);
    if (st != PL_OK) return st;

    /* The engine struct is the first thing in the fast pool. */
    e = (pl_engine *)blocks[PL_BLOCK_FAST].ptr;
    *e = tmp;
    fast.base = (uint8_t *)blocks[PL_BLOCK_FAST].ptr;
    fast.used = 0;
    large.base = (uint8_t *)blocks[PL_BLOCK_LARGE].ptr;
    large.used = 0;
    kv.base = (uint8_t *)blocks[PL_BLOCK_KV].ptr;
    kv.used = 0;
    e->plan = plan;
    pl_layout(e, prompt_bytes_of(options), &fast, &large, &kv, &e->plan);
    e->platform = *platform;
    e->state.cores.platform = &e->platform;
    e->state.cores.two_cores = plan.cores == 2;
    /* the stages are in the plan either way; without the platform's
     * background copy the tensors are read where they are (one core) or
     * through one stage (two) */
    e->state.cores.streaming = plan.stream_weights && platform->copy_start;
    e->state.cores.ahead = NULL;
    e->state.kv_in_sram = plan.kv_place == PL_PLACE_FAST;
#if !defined(PL_RUNC_READ_ORDER)
    e->state.kv_streaming = e->state.cores.streaming && !e->state.kv_in_sram;
#endif
    memcpy(e->blocks, blocks, sizeof blocks);
    copy_placed_weights(e, (const uint8_t *)model);
    pl_state_init(&e->state, &e->info);
    pl_tokenizer_index(&e->tokenizer);
    pl_seed(e, 1);
    *out = e;
    return PL_OK;
}

void pl_close(pl_engine *e) {
    if (!e) return;
    pl_platform platform = e->platform;
    pool_block blocks[PL_BLOCK_COUNT];
    memcpy(blocks, e->blocks, sizeof blocks); /* e lives in the first */
    release_blocks(&platform, blocks, PL_BLOCK_COUNT);
}

const pl_model_info *pl_info(const pl_engine *e) { return &e->info; }

const pl_memory_plan *pl_memory(const pl_engine *e) { return &e->plan; }

pl_sampling pl_default_sampling(void) {
    pl_sampling s;
    s.temperature = 1.0f;
    s.topp = 0.9f;
    s.steps = 256;
    return s;
}

void pl_seed(pl_engine *e, uint64_t seed) { e->sampler.rng_state = seed; }

float *pl_forward(pl_engine *e, int token, int pos) {
    if (!e || token < 0 || token >= e->info.vocab_size || pos < 0 ||
        pos >= e->positions)
        return NULL;
    return pl_transformer_forward(&e->info, &e->weights, &e->state, token, pos, NULL);
}

pl_status pl_encode(pl_engine *e, const char *text, int add_bos, int *tokens,
                    int capacity, int *n_tokens, pl_error *err) {
    pl_status st;
    pl_clear_error(err);
    if (!e || !text || !tokens || !n_tokens)
        return pl_fail(err, PL_ERR_ARGUMENT, "arguments must not be NULL");
    *n_tokens = 0;
    st = pl_tokenizer_encode(&e->tokenizer, text, add_bos, n_tokens, err);
    if (st != PL_OK) return st;
    if (*n_tokens > capacity) {
        int n = *n_tokens;
        *n_tokens = 0;
        return pl_fail(err, PL_ERR_ARGUMENT, "%d tokens do not fit in %d", n, capacity);
    }
    for (int i = 0; i < *n_tokens; i++) tokens[i] = e->tokenizer.scratch_tokens[i];
    return PL_OK;
}

const char *pl_decode(pl_engine *e, int prev_token, int token) {
    if (!e || token < 0 || token >= e->info.vocab_size) return "";
    return pl_tokenizer_decode(&e->tokenizer, prev_token, token);
}

static void count_traffic(const pl_engine *e, int pos, uint64_t sections, pl_traffic *t) {
    uint64_t r, w;
    pl_model_kv_traffic(&e->info, pos, &r, &w);
    for (int p = 0; p < PL_PLACE_COUNT; p++) t->weight_bytes[p] += e->plan.weight_bytes_per_token[p];
    t->kv_read_bytes += r;
    t->kv_write_bytes += w;
    t->sections += sections;
}

static pl_status check_sampling(const pl_sampling *s, pl_error *err) {
    /* Written so that NaN fails too. */
    if (!(s->temperature >= 0.0f))
        return pl_fail(err, PL_ERR_ARGUMENT, "temperature must be 0 or more");
    if (!(s->topp >= 0.0f && s->topp <= 1.0f))
        return pl_fail(err, PL_ERR_ARGUMENT, "top-p must be between 0 and 1");
    if (s->steps < 0)
        return pl_fail(err, PL_ERR_ARGUMENT, "steps must be 0 or more");
    return PL_OK;
}

pl_status pl_generate(pl_engine *e, const char *prompt,
                      const pl_sampling *sampling, pl_piece_fn on_piece,
                      void *user, pl_stats *stats, pl_error *err) {
    pl_stats st_local;
    pl_stats *st = stats ? stats : &st_local;
    pl_status status;
    int n_prompt, steps, token, pos = 0;
    uint64_t t_start, t_prompt_end, t_end;
    const int32_t *prompt_tokens;

    pl_clear_error(err);
    memset(st, 0, sizeof *st);
    if (!e || !sampling || !on_piece)
        return pl_fail(err, PL_ERR_ARGUMENT, "engine, sampling and callback must not be NULL");
    status = check_sampling(sampling, err);
    if (status != PL_OK) return status;
    steps = sampling->steps;
    if (steps == 0 || steps > e->positions) steps = e->positions;

    /* A prompt of more tokens than the steps (or the context) is cut where
     * the story ends, as run.c cuts it: its first `steps` positions are
     * forced and printed, nothing is sampled. */
    status = pl_tokenizer_encode(&e->tokenizer, prompt ? prompt : "", 1, &n_prompt, err);
    if (status != PL_OK) return status;
    prompt_tokens = e->tokenizer.scratch_tokens;
    st->prompt_tokens = n_prompt;

    t_start = now(e);
    t_prompt_end = t_start;
    token = prompt_tokens[0];
    while (pos < steps) {
        int next;
        if (pos == n_prompt - 1) t_prompt_end = now(e);
        uint64_t sections = e->state.cores.sections;
        /* a position whose logits are sampled at a temperature divides
         * them as the classifier computes them */
        pl_logits_prep prep, *ready = NULL;
        if (pos >= n_prompt - 1 && sampling->temperature != 0.0f) {
            pl_logits_prep_init(&prep, sampling->temperature);
            ready = &prep;
        }
        float *logits = pl_transformer_forward(&e->info, &e->weights, &e->state, token, pos,
                                               ready ? &ready->done : NULL);
        sections = e->state.cores.sections - sections;
        if (pos < n_prompt - 1) {
            next = prompt_tokens[pos + 1];
            count_traffic(e, pos, sections, &st->prompt_traffic);
        } else {
            next = pl_sample(&e->sampler, &e->state.cores, logits, sampling->temperature, sampling->topp, ready);
            st->generated_tokens++;
            count_traffic(e, pos, sections, &st->generate_traffic);
        }
        pos++;
        if (next == 1) break; /* BOS ends a story, as in run.c */
        const char *piece = pl_tokenizer_decode(&e->tokenizer, token, next);
        token = next;
        if (piece[0] != '\0' && on_piece(user, piece) != 0) {
            st->stopped_early = 1;
            break;
        }
    }
    st->positions = pos;
    t_end = now(e);
    if (st->generated_tokens == 0) t_prompt_end = t_end; /* stopped inside the prompt */
    st->prompt_ticks = t_prompt_end - t_start;
    st->generate_ticks = t_end - t_prompt_end;
    on_piece(user, NULL);
    return PL_OK;
}
