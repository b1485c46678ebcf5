/*
 * Telling a story from parsed run.c flags: the part of `picollama MODEL ...`
 * that does not depend on where the blobs come from. The host CLI feeds it
 * mapped files; the Cortex-M33 image feeds it arrays in its memory, so both
 * print through the same code.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

/* Writes a piece; a write that fails (a full disk, a closed pipe where
 * SIGPIPE is ignored) stops the story: nonzero. With flush, each piece
 * leaves at once, so a closed pipe ends the run at once (SIGPIPE, as run.c
 * ends) instead of after the whole story. */
static int print_piece(void *user, const char *piece) {
    int flush = *(const int *)user;
    fputs(piece ? piece : "\n", stdout);
    if (flush || !piece) fflush(stdout);
    return ferror(stdout) != 0;
}

int pl_tell_story(const pl_run_args *a, const pl_story_blobs *b,
                  const pl_platform *platform, pl_room room, int flush_each_piece,
                  pl_stats *stats, pl_memory_plan *memory, void (*around_generate)(int end)) {
    pl_options options;
    pl_engine *engine = NULL;
    pl_error err;
    pl_sampling sampling;
    int rc = 0;

    if ((rc = pl_story_options(a, b, room, &options)) != 0) return rc;
    if (pl_open(&engine, b->model, b->model_size, b->tokenizer, b->tokenizer_size,
                &options, platform, &err) != PL_OK)
        return pl_report(&err);
    if (memory) *memory = *pl_memory(engine);
    /* run.c reads a tokenizer's first vocab_size entries and ignores the
     * rest, so a longer one is accepted, but it may not be this model's */
    if (b->tokenizer) {
        size_t used = pl_tokenizer_size(b->tokenizer, b->tokenizer_size, pl_info(engine)->vocab_size);
        if (used && used < b->tokenizer_size)
            fprintf(stderr, "picollama: note: the tokenizer holds more entries than the model's %d "
                            "tokens; only the first %d are used (is it this model's?)\n",
                    pl_info(engine)->vocab_size, pl_info(engine)->vocab_size);
    }
    pl_seed(engine, a->seed);
    sampling.temperature = a->temperature;
    sampling.topp = a->topp;
    sampling.steps = a->steps;
    if (around_generate) around_generate(0);
    pl_status st = pl_generate(engine, a->prompt, &sampling, print_piece, &flush_each_piece, stats, &err);
    if (around_generate) around_generate(1);
    if (st != PL_OK)
        rc = pl_report(&err);
    else if (ferror(stdout) || fflush(stdout) != 0) {
        fputs("picollama: cannot write the story to stdout\n", stderr);
        rc = PL_EXIT_IOERR;
    }
    pl_close(engine);
    return rc;
}
