/* `picollama inspect MODEL [-z TOK]`: what a model costs on the RP2350. */
#include "cli.h"
#include "host_platform.h"

#include <stdio.h>

/* The board: Pimoroni PGA2350 class, RP2350 with 16 MB flash and 8 MB PSRAM. */
#define BOARD_FLASH (16u * 1024u * 1024u)
#define BOARD_SRAM (520u * 1024u)
#define BOARD_PSRAM (8u * 1024u * 1024u)
/* Room left for what is not the model: the sketch and core code in flash;
 * the core, USB stack, both 4 KB stacks and the sketch's globals in SRAM.
 * Budgeting assumptions, not measurements. */
#define FLASH_RESERVE (1024u * 1024u)
#define SRAM_RESERVE (96u * 1024u)
/* Quad-SPI flash through XIP at 50 MHz (rp2350-facts.md): about 24.8 MB/s. */
#define FLASH_BYTES_PER_S 24.8e6

static const char *format_name(pl_format f) {
    switch (f) {
    case PL_FORMAT_LLAMA2C_V0: return "llama2.c version 0 (legacy, fp32)";
    case PL_FORMAT_LLAMA2C_V1: return "llama2.c version 1 (ak42, fp32)";
    case PL_FORMAT_LLAMA2C_V2: return "llama2.c version 2 (ak42, int8 groups)";
    }
    return "unknown";
}

static const char *verdict(unsigned long long used, unsigned long long room) {
    return used <= room ? "fits" : "DOES NOT FIT";
}

int pl_cmd_inspect(int argc, char **argv) {
    pl_run_args a;
    pl_host_file model, tok;
    pl_model_info info;
    pl_memory_plan plan;
    pl_error err;
    int rc = pl_parse_run_args(argc, argv, 1, &a);
    if (rc) return rc;
    if ((rc = pl_open_input(&model, "model", a.model_path))) return rc;
    if (pl_model_inspect(model.data, model.size, &info, &err) != PL_OK) {
        rc = pl_report(&err);
        pl_host_file_close(&model);
        return rc;
    }
    if ((rc = pl_open_input(&tok, "tokenizer", a.tokenizer_path))) {
        pl_host_file_close(&model);
        return rc;
    }
    if (pl_plan_memory(model.data, model.size, tok.data, tok.size, NULL, &plan, &err) != PL_OK) {
        rc = pl_report(&err);
        goto done;
    }
    unsigned long long per_token = pl_model_bytes_per_token(&info);
    unsigned long long flash = (unsigned long long)model.size + tok.size;
    printf("model:        %s\n", a.model_path);
    printf("format:       %s\n", format_name(info.format));
    printf("config:       dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, seq_len %d\n",
           info.dim, info.hidden_dim, info.n_layers, info.n_heads, info.n_kv_heads,
           info.vocab_size, info.seq_len);
    printf("classifier:   %s\n", info.shared_classifier ? "shared with the token embedding" : "separate");
    if (info.group_size) printf("group size:   %d\n", info.group_size);
    if (pl_model_runq_mishandles(&info))
        printf("note:         hidden_dim %d is not a multiple of the group size %d: llama2.c's runq.c\n"
               "              skips the last %d weights of every w2 row and misreads later scales;\n"
               "              PicoLlama uses every weight with its own scale, so its stories differ\n"
               "              from runq.c's (re-quantize from fp32 with `picollama quantize`)\n",
               info.hidden_dim, info.group_size, info.hidden_dim % info.group_size);
    printf("parameters:   %llu\n", (unsigned long long)pl_model_parameter_count(&info));
    printf("file bytes:   model %lu, tokenizer %lu\n", (unsigned long)model.size, (unsigned long)tok.size);
    printf("weights read per token: %llu bytes (every matrix, one embedding row, the classifier)\n", per_token);
    printf("fast pool (SRAM):   %lu bytes: activations %lu, sampler %lu, tokenizer piece buffer and engine\n",
           (unsigned long)plan.fast_bytes, (unsigned long)plan.activations_bytes,
           (unsigned long)plan.sampler_bytes);
    printf("large pool (PSRAM): %lu bytes: KV cache %lu, tokenizer index %lu, prompt scratch %lu (default %u-byte prompts)\n",
           (unsigned long)plan.large_bytes, (unsigned long)plan.kv_cache_bytes,
           (unsigned long)plan.tokenizer_bytes, (unsigned long)plan.prompt_bytes,
           PL_DEFAULT_PROMPT_BYTES);
    printf("RP2350 budget:\n");
    printf("  flash %llu of %u bytes (keeping %u for code): %s\n", flash, BOARD_FLASH,
           FLASH_RESERVE, verdict(flash, BOARD_FLASH - FLASH_RESERVE));
    printf("  SRAM  %lu of %u bytes (keeping %u for core, stacks, sketch): %s\n",
           (unsigned long)plan.fast_bytes, BOARD_SRAM, SRAM_RESERVE,
           verdict(plan.fast_bytes, BOARD_SRAM - SRAM_RESERVE));
    printf("  PSRAM %lu of %u bytes: %s\n", (unsigned long)plan.large_bytes, BOARD_PSRAM,
           verdict(plan.large_bytes, BOARD_PSRAM));
    printf("  flash streaming alone: %.1f ms per token at %.1f MB/s\n",
           (double)per_token / FLASH_BYTES_PER_S * 1e3, FLASH_BYTES_PER_S / 1e6);
done:
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    return rc;
}
