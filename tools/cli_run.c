/*
 * `picollama MODEL [flags]`: run.c's generate mode, the same stdout.
 * `picollama [flags]`: the same with the built-in story model.
 */
#include "builtin.h"
#include "cli.h"
#include "host_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int pl_cmd_run(int argc, char **argv) {
    pl_run_args a;
    pl_host_file model, tok;
    pl_host_allocator_stats mem = {0, {0, 0}};
    pl_platform platform = pl_host_platform(&mem);
    pl_story_blobs blobs;
    pl_stats stats;
    int builtin = argc < 2 || argv[1][0] == '-', rc;
    memset(&model, 0, sizeof model);
    memset(&tok, 0, sizeof tok);
    if (builtin) {
        /* the flags alone: parse them behind a stand-in model name */
        char **args = calloc((size_t)argc + 2, sizeof *args);
        args[0] = argv[0];
        args[1] = (char *)"(built-in)";
        for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
        rc = pl_parse_run_args(argc + 1, args, 1, &a, NULL);
        if (rc == 0 && a.tokenizer_path) {
            fprintf(stderr, "picollama: -z: the built-in model carries its own tokenizer; "
                            "give a model file to use another (picollama MODEL.bin -z TOK)\n");
            rc = PL_EXIT_USAGE;
        }
        /* the built-in model reads best a little cooler than run.c's 1.0,
         * unless the flags say otherwise */
        if (!a.temperature_given) a.temperature = PL_BUILTIN_TEMPERATURE;
        free(args);
        if (rc) return rc;
        blobs = pl_builtin_blobs();
    } else {
        if ((rc = pl_parse_run_args(argc, argv, 1, &a, NULL))) return rc;
        if ((rc = pl_open_model_files(a.model_path, a.tokenizer_path, &model, &tok, &blobs.model,
                                      &blobs.model_size, &blobs.tokenizer, &blobs.tokenizer_size)))
            return rc;
    }
    if (a.seed == 0) a.seed = (uint64_t)(unsigned int)time(NULL); /* run.c's default */
    if (a.cores == 2) platform.run_on_both = pl_host_run_on_both;
    pl_memory_plan plan;
    /* each piece flushed: a reader sees the story as it is told, and a
     * closed pipe or full disk stops it at once */
    rc = pl_tell_story(&a, &blobs, &platform, PL_BOARD_ROOM, 1, &stats, &plan, NULL);
    if (rc == 0 && stats.positions > 1) {
        uint64_t us = stats.prompt_ticks + stats.generate_ticks;
        fprintf(stderr, "achieved tok/s: %.2f (%d positions, %d prompt tokens, %.3f ms/token)\n",
                us ? (double)stats.positions * 1e6 / (double)us : 0.0, stats.positions,
                stats.prompt_tokens, us ? (double)us / 1e3 / stats.positions : 0.0);
    }
    if (rc == 0)
        fprintf(stderr, "memory: fast pool %lu bytes, large pool %lu bytes, %lu allocations; weights: %lu bytes read in place, %lu copied to the large pool, %lu to the fast pool\n",
                (unsigned long)mem.bytes[PL_POOL_FAST], (unsigned long)mem.bytes[PL_POOL_LARGE],
                (unsigned long)mem.allocations, (unsigned long)plan.weight_bytes[PL_PLACE_IN_PLACE],
                (unsigned long)plan.weight_bytes[PL_PLACE_LARGE], (unsigned long)plan.weight_bytes[PL_PLACE_FAST]);
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    return rc;
}
