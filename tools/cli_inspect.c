/* `picollama inspect MODEL [-z TOK] [-n steps] [--place where] [--kv where]`:
 * what a model costs on the RP2350: its tensors, where each would live, the
 * memory of each pool against the board's budget, and the bus time per
 * token that follows from the bytes. */
#include "cli.h"
#include "host_platform.h"

#include <stdio.h>
#include <string.h>

static const char *format_name(pl_format f) {
    switch (f) {
    case PL_FORMAT_LLAMA2C_V0: return "llama2.c version 0 (legacy, fp32)";
    case PL_FORMAT_LLAMA2C_V1: return "llama2.c version 1 (ak42, fp32)";
    case PL_FORMAT_LLAMA2C_V2: return "llama2.c version 2 (ak42, int8 groups)";
    case PL_FORMAT_PICOLLAMA: return "PicoLlama version 1 (a type per tensor, tokenizer inside)";
    }
    return "unknown";
}

static const char *place_name(pl_place p) {
    return p == PL_PLACE_FAST ? "SRAM" : p == PL_PLACE_LARGE ? "PSRAM" : "flash";
}

static const char *verdict(unsigned long long used, unsigned long long room) {
    return used <= room ? "fits" : "DOES NOT FIT";
}

/* Milliseconds to read bytes at a rate in bytes per millisecond. */
static double ms_at(unsigned long long bytes, unsigned long rate) { return (double)bytes / (double)rate; }

static void print_tensors(const pl_model_info *info, const pl_memory_plan *plan) {
    printf("tensors:      name       type               group  layers x rows x cols      bytes  read/token  place\n");
    for (int id = 0; id < PL_TENSOR_COUNT; id++) {
        const pl_tensor_info *t = &info->tensors[id];
        char group[16] = "-";
        if (id == PL_TENSOR_WCLS && info->shared_classifier) {
            printf("              %-10s (the embedding)\n", pl_tensor_name((pl_tensor_id)id));
            continue;
        }
        if (t->group_size) snprintf(group, sizeof group, "%d", t->group_size);
        char place[64];
        int classifier = id == PL_TENSOR_WCLS || (id == PL_TENSOR_EMBEDDING && info->shared_classifier);
        if (classifier && plan->classifier_rows_large) /* the classifier's head in PSRAM */
            snprintf(place, sizeof place, "%s, rows 0-%d PSRAM", place_name(plan->tensor_place[id]),
                     plan->classifier_rows_large - 1);
        else
            snprintf(place, sizeof place, "%s", place_name(plan->tensor_place[id]));
        printf("              %-10s %-17s %6s  %6d x %5d x %5d %10lu %11llu  %s\n",
               pl_tensor_name((pl_tensor_id)id), pl_wtype_name(t->type), group, t->layers,
               t->rows, t->cols, (unsigned long)t->bytes,
               (unsigned long long)pl_tensor_bytes_per_token(info, (pl_tensor_id)id), place);
    }
}

static void inspect_usage(void) { pl_help("inspect", stderr); }

int pl_cmd_inspect(int argc, char **argv) {
    pl_run_args a;
    pl_host_file model, tok;
    pl_story_blobs b;
    pl_model_info info;
    pl_memory_plan plan;
    pl_options options;
    pl_error err;
    int rc = pl_parse_run_args(argc, argv, 1, &a, inspect_usage);
    if (rc) return rc;
    /* A model is inspected without a tokenizer unless one is given (or is
     * inside it): its figures are then left out. */
    memset(&tok, 0, sizeof tok);
    if (a.tokenizer_path) {
        if ((rc = pl_open_model_files(a.model_path, a.tokenizer_path, &model, &tok, &b.model,
                                      &b.model_size, &b.tokenizer, &b.tokenizer_size)))
            return rc;
    } else {
        if ((rc = pl_open_input(&model, "model", a.model_path))) return rc;
        b.model = model.data;
        b.model_size = model.size;
        b.tokenizer = NULL;
        b.tokenizer_size = 0;
    }
    if (pl_model_inspect(model.data, model.size, &info, &err) != PL_OK ||
        (rc = pl_story_options(&a, &b, PL_BOARD_ROOM, &options)) != 0 ||
        pl_plan_memory(b.model, b.model_size, b.tokenizer, b.tokenizer_size, &options, &plan,
                       &err) != PL_OK) {
        if (!rc) rc = pl_report(&err);
        goto done;
    }
    /* the report shows the default prompt room, and the rule's placement
     * for it (the rule gives the weights what the prompt leaves) */
    options.max_prompt_bytes = 0;
    if (!strcmp(a.place, "auto")) {
        int kv_fast = options.kv_cache_fast; /* as --kv and the rule left it */
        if (pl_auto_place(b.model, b.model_size, b.tokenizer, b.tokenizer_size, PL_BOARD_ROOM.fast,
                          PL_BOARD_ROOM.large, &options, &err) != PL_OK) {
            rc = pl_report(&err);
            goto done;
        }
        options.kv_cache_fast = kv_fast && options.kv_cache_fast;
    }
    pl_plan_memory(b.model, b.model_size, b.tokenizer, b.tokenizer_size, &options, &plan, &err);

    unsigned long long flash = (unsigned long long)model.size + tok.size;
    const uint64_t *read = plan.weight_bytes_per_token;
    printf("model:        %s\n", a.model_path);
    printf("format:       %s\n", format_name(info.format));
    printf("config:       dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d\n",
           info.dim, info.hidden_dim, info.n_layers, info.n_heads, info.n_kv_heads,
           info.vocab_size, info.seq_len);
    printf("classifier:   %s\n", info.shared_classifier ? "shared with the token embedding" : "separate");
    if (pl_model_runq_mishandles(&info))
        printf("note:         hidden_dim %d is not a multiple of the group size %d: llama2.c's runq.c\n"
               "              skips the last %d weights of every w2 row and misreads later scales;\n"
               "              PicoLlama uses every weight with its own scale, so its stories differ\n"
               "              from runq.c's (re-quantize from fp32 with `picollama quantize`)\n",
               info.hidden_dim, info.group_size, info.hidden_dim % info.group_size);
    printf("parameters:   %llu\n", (unsigned long long)pl_model_parameter_count(&info));
    if (tok.data)
        printf("file bytes:   model %lu, tokenizer %lu\n", (unsigned long)model.size, (unsigned long)tok.size);
    else if (info.tokenizer_size)
        printf("file bytes:   model %lu (its tokenizer inside: %lu)\n", (unsigned long)model.size,
               (unsigned long)info.tokenizer_size);
    else
        printf("file bytes:   model %lu (no tokenizer given: its memory is not counted; add -z TOK)\n",
               (unsigned long)model.size);
    print_tensors(&info, &plan);
    printf("placement:    --place %s: weights as above; KV cache for %d positions in %s\n", a.place,
           plan.kv_positions, place_name(plan.kv_place));
    printf("weights read per token: %llu bytes: flash %llu, PSRAM %llu, SRAM %llu\n",
           (unsigned long long)(read[0] + read[1] + read[2]), (unsigned long long)read[0],
           (unsigned long long)read[1], (unsigned long long)read[2]);
    printf("fast pool (SRAM):   %lu bytes: activations %lu, sampler %lu, weights %lu%s, tokenizer piece buffer and engine\n",
           (unsigned long)plan.fast_bytes, (unsigned long)plan.activations_bytes,
           (unsigned long)plan.sampler_bytes, (unsigned long)plan.weight_bytes[PL_PLACE_FAST],
           plan.kv_place == PL_PLACE_FAST ? ", KV cache" : "");
    printf("large pool (PSRAM): %lu bytes: %sweights %lu, tokenizer index %lu, prompt scratch %lu (default %u-byte prompts)\n",
           (unsigned long)plan.large_bytes, plan.kv_place == PL_PLACE_LARGE ? "KV cache, " : "",
           (unsigned long)plan.weight_bytes[PL_PLACE_LARGE], (unsigned long)plan.tokenizer_bytes,
           (unsigned long)plan.prompt_bytes, PL_DEFAULT_PROMPT_BYTES);
    printf("KV cache:     %lu bytes\n", (unsigned long)plan.kv_cache_bytes);
    printf("RP2350 budget:\n");
    printf("  flash %llu of %lu bytes (keeping %lu for code): %s\n", flash, PL_BOARD_FLASH_BYTES,
           PL_BOARD_FLASH_RESERVE, verdict(flash, PL_BOARD_FLASH_BYTES - PL_BOARD_FLASH_RESERVE));
    printf("  SRAM  %lu of %lu bytes (keeping %lu for core, stacks, sketch): %s\n",
           (unsigned long)plan.fast_bytes, PL_BOARD_SRAM_BYTES, PL_BOARD_SRAM_RESERVE,
           verdict(plan.fast_bytes, PL_BOARD_SRAM_BYTES - PL_BOARD_SRAM_RESERVE));
    printf("  PSRAM %lu of %lu bytes: %s\n", (unsigned long)plan.large_bytes, PL_BOARD_PSRAM_BYTES,
           verdict(plan.large_bytes, PL_BOARD_PSRAM_BYTES));
    /* The KV cache read at the last position of the story: the most a token reads. */
    uint64_t kv_read, kv_written;
    pl_model_kv_traffic(&info, plan.kv_positions - 1, &kv_read, &kv_written);
    uint64_t kv_psram = plan.kv_place == PL_PLACE_LARGE ? kv_read + kv_written : 0;
    double flash_ms = ms_at(read[0], PL_BOARD_FLASH_BYTES_PER_MS);
    double psram_ms = ms_at(read[1] + kv_psram, PL_BOARD_PSRAM_BYTES_PER_MS);
    printf("  bytes-only bus estimate per token: %.1f ms = %llu B flash / %.1f MB/s + %llu B PSRAM (weights, KV cache at the last position, %d) / %.1f MB/s;\n"
           "  a floor: every byte streamed at the bus's best rate, no burst broken, no compute. Board time:\n"
           "  `make bench-m33` (the cycle-level board model, docs/board-model.md)\n",
           flash_ms + psram_ms, (unsigned long long)read[0], PL_BOARD_FLASH_BYTES_PER_MS / 1e3,
           (unsigned long long)(read[1] + kv_psram), plan.kv_positions - 1,
           PL_BOARD_PSRAM_BYTES_PER_MS / 1e3);
    if (plan.weight_bytes[1] || plan.weight_bytes[2])
        printf("  copying %lu bytes of weights at open: about %.0f ms from flash\n",
               (unsigned long)(plan.weight_bytes[1] + plan.weight_bytes[2]),
               ms_at(plan.weight_bytes[1] + plan.weight_bytes[2], PL_BOARD_FLASH_BYTES_PER_MS));
    /* A plan the board cannot hold is a failure, as pl_open would fail there. */
    if (flash > PL_BOARD_FLASH_BYTES - PL_BOARD_FLASH_RESERVE) {
        fprintf(stderr, "picollama: %s: the model does not fit the RP2350's flash\n", pl_status_name(PL_ERR_NO_MEMORY));
        rc = PL_ERR_NO_MEMORY;
    } else if (plan.fast_bytes > PL_BOARD_SRAM_BYTES - PL_BOARD_SRAM_RESERVE ||
               plan.large_bytes > PL_BOARD_PSRAM_BYTES) {
        fprintf(stderr, "picollama: %s: with --place %s%s the %s pool does not fit the RP2350 (see the budget above)\n",
                pl_status_name(PL_ERR_NO_MEMORY), a.place, a.kv_given ? (strcmp(a.kv, "sram") ? " --kv psram" : " --kv sram") : "",
                plan.fast_bytes > PL_BOARD_SRAM_BYTES - PL_BOARD_SRAM_RESERVE ? "SRAM" : "PSRAM");
        rc = PL_ERR_NO_MEMORY;
    }
done:
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    return rc;
}
