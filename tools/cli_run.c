/* `picollama MODEL [flags]`: run.c's generate mode, the same stdout. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int flush;
} print_ctx;

static int print_piece(void *user, const char *piece) {
    print_ctx *ctx = (print_ctx *)user;
    if (!piece) {
        fputs("\n", stdout);
        fflush(stdout);
        return 0;
    }
    fputs(piece, stdout);
    if (ctx->flush) fflush(stdout);
    return 0;
}

int pl_cmd_run(int argc, char **argv) {
    pl_run_args a;
    pl_host_file model, tok;
    pl_host_allocator_stats mem = {0, {0, 0}};
    pl_platform platform = pl_host_platform(&mem);
    pl_options options;
    pl_engine *engine = NULL;
    pl_error err;
    pl_stats stats;
    pl_sampling sampling;
    print_ctx ctx;
    int rc = pl_parse_run_args(argc, argv, 1, &a);
    if (rc) return rc;
    if ((rc = pl_open_input(&model, "model", a.model_path))) return rc;
    if ((rc = pl_open_input(&tok, "tokenizer", a.tokenizer_path))) {
        pl_host_file_close(&model);
        return rc;
    }
    /* On a PC the prompt is known before open: reserve exactly for it. */
    memset(&options, 0, sizeof options);
    options.max_prompt_bytes = a.prompt ? strlen(a.prompt) + 1 : 1;
    if (pl_open(&engine, model.data, model.size, tok.data, tok.size, &options,
                &platform, &err) != PL_OK) {
        rc = pl_report(&err);
        goto done;
    }
    pl_seed(engine, a.seed ? a.seed : (uint64_t)(unsigned int)time(NULL));
    sampling.temperature = a.temperature;
    sampling.topp = a.topp;
    sampling.steps = a.steps;
    ctx.flush = isatty(STDOUT_FILENO);
    if (pl_generate(engine, a.prompt, &sampling, print_piece, &ctx, &stats, &err) != PL_OK) {
        rc = pl_report(&err);
        goto done;
    }
    if (stats.positions > 1) {
        uint64_t us = stats.prompt_us + stats.generate_us;
        fprintf(stderr, "achieved tok/s: %.2f (%d positions, %d prompt tokens, %.3f ms/token)\n",
                us ? (double)stats.positions * 1e6 / (double)us : 0.0, stats.positions,
                stats.prompt_tokens, us ? (double)us / 1e3 / stats.positions : 0.0);
    }
    fprintf(stderr, "memory: fast pool %lu bytes, large pool %lu bytes, %lu allocations; weights mapped in place (%lu bytes)\n",
            (unsigned long)mem.bytes[PL_POOL_FAST], (unsigned long)mem.bytes[PL_POOL_LARGE],
            (unsigned long)mem.allocations, (unsigned long)model.size);
done:
    pl_close(engine);
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    return rc;
}
