/*
 * libFuzzer target: the command-line parsers on any arguments: run.c's
 * flags (every story command's, and the board image's), the placement they
 * lead to on a small model, and the strict number and weight-type parsers
 * every other command uses. The input is the arguments separated by NUL
 * bytes. Nothing here opens or writes a file.
 */
#include "cli.h"
#include "convert.h"
#include "fixtures.h"
#include "fuzz_support.h"

static void quiet_usage(void) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t *model;
    static size_t model_size;
    if (!model) {
        fz_scratch_path(); /* quiet */
        fx_model_spec s = fx_small_spec();
        model = fx_picollama(&s, "int4:8", "int8:8", "int4:16", &model_size);
        if (!model) abort();
    }
    char *text = malloc(size + 1);
    char *argv[65];
    int argc = 0;
    memcpy(text, data, size);
    text[size] = '\0';
    argv[argc++] = (char *)"picollama";
    for (size_t i = 0; i <= size && argc < 64;) {
        argv[argc++] = text + i;
        i += strlen(text + i) + 1;
    }
    argv[argc] = NULL;

    pl_run_args a;
    if (pl_parse_run_args(argc, argv, 1, &a, quiet_usage) == 0) {
        pl_story_blobs b = {model, model_size, NULL, 0};
        pl_options options;
        pl_story_options(&a, &b, PL_BOARD_ROOM, &options);
    }
    for (int i = 1; i < argc; i++) {
        long l;
        float f;
        pl_convert_type t;
        pl_arg_long("--n", argv[i], -5, 1000, &l);
        pl_arg_float("--f", argv[i], 0.0, 1.0, i & 1, &f);
        pl_convert_parse_type(argv[i], &t);
        pl_placement_from_name(argv[i], NULL);
    }
    free(text);
    return 0;
}
