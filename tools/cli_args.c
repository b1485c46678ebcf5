/* run.c's command line, with its defaults, and stricter checks. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void) {
    fprintf(stderr,
            "Usage:   picollama <checkpoint> [options]\n"
            "         picollama inspect <checkpoint> [-z tokenizer]\n"
            "Example: picollama model.bin -n 256 -i \"Once upon a time\"\n"
            "Options:\n"
            "  -t <float>  temperature in [0,inf), default 1.0\n"
            "  -p <float>  p value in top-p (nucleus) sampling in [0,1], default 0.9\n"
            "  -s <int>    random seed, default time(NULL)\n"
            "  -n <int>    number of steps to run for, default 256. 0 = max_seq_len\n"
            "  -i <string> input prompt\n"
            "  -z <string> optional path to custom tokenizer\n"
            "  -m <string> mode: generate (chat is not supported)\n"
            "  --place <where>  weights: flash (read in place, the default), psram, sram,\n"
            "                   or auto (the Arduino class's rule for the RP2350's memories)\n"
            "  --kv <where>     KV cache: psram (the default) or sram\n"
            "  --cores <n>      1 (the default) or 2: split the work between two cores\n"
            "  --stream <n>     1 (the default) or 0: stream weights outside SRAM through two\n"
            "                   SRAM stages by the board's DMA (a platform without it reads\n"
            "                   them in place)\n"
            "A PicoLlama model file carries its tokenizer: -z is then optional.\n");
}

static int bad_value(const char *flag, const char *value, const char *why) {
    fprintf(stderr, "picollama: %s %s: %s\n", flag, value, why);
    return PL_EXIT_USAGE;
}

static int parse_float(const char *flag, const char *s, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end); /* then rounded to float, exactly as atof in run.c */
    if (end == s || *end != '\0' || errno == ERANGE)
        return bad_value(flag, s, "not a number");
    *out = (float)v;
    return 0;
}

static int parse_int(const char *flag, const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0') return bad_value(flag, s, "not an integer");
    if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
        return bad_value(flag, s, "out of range (an integer from -2147483648 to 2147483647)");
    *out = v;
    return 0;
}

int pl_arg_long(const char *flag, const char *text, long min, long max, long *out) {
    char *end, why[96];
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0') return bad_value(flag, text, "not an integer");
    if (errno == ERANGE || v < min || v > max) {
        snprintf(why, sizeof why, "out of range (an integer from %ld to %ld)", min, max);
        return bad_value(flag, text, why);
    }
    *out = v;
    return 0;
}

int pl_arg_float(const char *flag, const char *text, double min, double max, int min_open,
                 float *out) {
    char *end, why[96];
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !(v == v))
        return bad_value(flag, text, "not a number");
    if (min_open ? !(v > min) : !(v >= min)) {
        snprintf(why, sizeof why, "out of range (%s %g and at most %g)", min_open ? "more than" : "at least", min, max);
        return bad_value(flag, text, why);
    }
    if (!(v <= max)) {
        snprintf(why, sizeof why, "out of range (at most %g)", max);
        return bad_value(flag, text, why);
    }
    *out = (float)v;
    return 0;
}

int pl_parse_run_args(int argc, char **argv, int first, pl_run_args *a, void (*command_usage)(void)) {
    long v;
    int rc;
    void (*usage_of)(void) = command_usage ? command_usage : usage;
    a->model_path = NULL;
    a->tokenizer_path = NULL; /* the model's own, else run.c's tokenizer.bin */
    a->place = "flash";
    a->kv = "psram";
    a->kv_given = 0;
    a->cores = 1;
    a->stream = 1;
    a->prompt = NULL;
    a->mode = "generate";
    a->temperature = 1.0f;
    a->temperature_given = 0;
    a->topp = 0.9f;
    a->steps = 256;
    a->seed = 0;
    if (first >= argc || argv[first][0] == '-') {
        usage_of();
        return PL_EXIT_USAGE;
    }
    a->model_path = argv[first];
    for (int i = first + 1; i < argc; i += 2) {
        const char *flag = argv[i];
        if (!strcmp(flag, "--cores") || !strcmp(flag, "--stream")) {
            int cores = flag[2] == 'c';
            const char *one = "1", *other = cores ? "2" : "0";
            if (i + 1 >= argc) {
                fprintf(stderr, "picollama: flag %s needs a value\n", flag);
                return PL_EXIT_USAGE;
            }
            if (strcmp(argv[i + 1], one) != 0 && strcmp(argv[i + 1], other) != 0)
                return bad_value(flag, argv[i + 1], cores ? "1 or 2" : "1 or 0");
            if (cores) a->cores = argv[i + 1][0] - '0';
            else a->stream = argv[i + 1][0] - '0';
            continue;
        }
        if (!strcmp(flag, "--place") || !strcmp(flag, "--kv")) {
            int place = flag[2] == 'p';
            const char *val = i + 1 < argc ? argv[i + 1] : NULL;
            if (!val) {
                fprintf(stderr, "picollama: flag %s needs a value\n", flag);
                return PL_EXIT_USAGE;
            }
            if (place ? pl_placement_from_name(val, NULL) != 0
                      : strcmp(val, "psram") != 0 && strcmp(val, "sram") != 0)
                return bad_value(flag, val, place ? "one of flash, psram, sram, auto"
                                                  : "one of psram, sram");
            if (place) a->place = val;
            else a->kv = val, a->kv_given = 1;
            continue;
        }
        if (flag[0] != '-' || strlen(flag) != 2) {
            fprintf(stderr, "picollama: unknown argument '%s'\n", flag);
            usage_of();
            return PL_EXIT_USAGE;
        }
        if (!strchr("tpsnizmy", flag[1])) {
            fprintf(stderr, "picollama: unknown flag '%s'\n", flag);
            usage_of();
            return PL_EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "picollama: flag %s needs a value\n", flag);
            return PL_EXIT_USAGE;
        }
        const char *val = argv[i + 1];
        switch (flag[1]) {
        case 't':
            if ((rc = parse_float(flag, val, &a->temperature))) return rc;
            a->temperature_given = 1;
            if (!(a->temperature >= 0.0f))
                return bad_value(flag, val, "temperature must be 0 or more");
            break;
        case 'p':
            if ((rc = parse_float(flag, val, &a->topp))) return rc;
            if (!(a->topp >= 0.0f && a->topp <= 1.0f))
                return bad_value(flag, val, "top-p must be between 0 and 1");
            break;
        case 's':
            if ((rc = parse_int(flag, val, &v))) return rc;
            /* run.c: atoi into an unsigned long long, so -1 is 2^64 - 1 */
            a->seed = (uint64_t)(int64_t)v;
            break;
        case 'n':
            if ((rc = parse_int(flag, val, &v))) return rc;
            if (v < 0) return bad_value(flag, val, "steps must be 0 or more");
            a->steps = (int)v;
            break;
        case 'i': a->prompt = val; break;
        case 'z': a->tokenizer_path = val; break;
        case 'm':
            if (strcmp(val, "generate") != 0)
                return bad_value(flag, val, "only generate mode is supported");
            a->mode = val;
            break;
        case 'y': break; /* system prompt: used by chat mode only, as in run.c */
        }
    }
    return 0;
}

int pl_report(const pl_error *err) {
    fprintf(stderr, "picollama: %s: %s\n", pl_status_name(err->status), err->message);
    return (int)err->status;
}

int pl_placement_from_name(const char *name, pl_placement *out) {
    static const char *const names[] = {"flash", "psram", "sram", "auto"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, names[i])) {
            if (out) *out = (pl_placement)i;
            return 0;
        }
    return -1;
}

int pl_story_options(const pl_run_args *a, const pl_story_blobs *b, pl_room room,
                     pl_options *options) {
    pl_placement placement = PL_PLACEMENT_FLASH;
    pl_error err;
    memset(options, 0, sizeof *options);
    /* The prompt is known before open: reserve exactly for it; and the KV
     * cache for the story's steps. */
    options->max_prompt_bytes = a->prompt ? strlen(a->prompt) + 1 : 1;
    options->max_positions = a->steps;
    options->kv_cache_fast = !strcmp(a->kv, "sram");
    options->cores = a->cores;
    options->stream_weights = a->stream;
    pl_placement_from_name(a->place, &placement);
    switch (placement) {
    case PL_PLACEMENT_FLASH: break;
    case PL_PLACEMENT_PSRAM: options->large_weight_budget = SIZE_MAX; break;
    case PL_PLACEMENT_SRAM: options->fast_weight_budget = SIZE_MAX; break;
    case PL_PLACEMENT_AUTO:
        if (pl_auto_place(b->model, b->model_size, b->tokenizer, b->tokenizer_size, room.fast,
                          room.large, options, &err) != PL_OK)
            return pl_report(&err);
        /* the rule places the KV cache last, in SRAM when it fits beside the
         * weights it put there: --kv psram is always honoured, --kv sram
         * only where the rule found room */
        if (a->kv_given && !strcmp(a->kv, "psram")) {
            options->kv_cache_fast = 0;
        } else if (a->kv_given && !options->kv_cache_fast) {
            fprintf(stderr, "picollama: --kv sram: with --place auto the KV cache for %d positions does not fit "
                            "in SRAM beside the weights the rule puts there; use --place flash or psram "
                            "with --kv sram, or leave --kv to the rule\n", a->steps);
            return PL_EXIT_USAGE;
        }
        break;
    }
    return 0;
}
