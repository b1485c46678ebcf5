/*
 * `picollama generate MODEL.bin [run flags] --stories N --out TEXT`: a corpus
 * written by a model, for training another one on it (sequence-level
 * distillation; docs/builtin-model.md).
 *
 * Story k (from 0) is exactly what `picollama MODEL.bin [run flags] -s S+k`
 * prints, S the -s seed (default 1), followed by a line "<|endoftext|>", the
 * separator the tools read documents by. Threads (one per core by default)
 * each take a contiguous share of the stories, each with its own engine,
 * and the file is written in story order: the same bytes with any number of
 * threads, so a corpus can be made again from its command.
 */
#include "cli.h"
#include "host_platform.h"
#include "output_file.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* after each story's closing newline: the separator the tools split by */
#define END_OF_STORY "<|endoftext|>\n"

/* A growing text buffer. */
typedef struct {
    char *text;
    size_t len, cap;
    int failed; /* out of memory */
} text_buffer;

static int append(text_buffer *b, const char *s) {
    size_t n = strlen(s);
    if (b->failed) return 1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->len + n + 1) cap *= 2;
        char *t = realloc(b->text, cap);
        if (!t) return b->failed = 1;
        b->text = t;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n + 1);
    b->len += n;
    return 0;
}

/* pl_generate's callback: NULL is the story's end, printed as a newline as
 * run.c prints it. */
static int collect_piece(void *user, const char *piece) {
    return append((text_buffer *)user, piece ? piece : "\n");
}

typedef struct {
    const pl_run_args *args;
    const pl_story_blobs *blobs;
    const pl_options *options;
    pthread_mutex_t *lock; /* guards done and failed, which the progress line reads */
    long first, count;     /* stories [first, first + count) */
    text_buffer out;
    long done;
    int failed;
    pl_error err;
} generate_share;

static void progress(generate_share *s, long done, int failed) {
    pthread_mutex_lock(s->lock);
    s->done = done;
    s->failed |= failed;
    pthread_mutex_unlock(s->lock);
}

static void *generate_stories(void *arg) {
    generate_share *s = (generate_share *)arg;
    pl_platform platform = pl_host_platform(NULL);
    pl_engine *e = NULL;
    pl_sampling sampling;
    sampling.temperature = s->args->temperature;
    sampling.topp = s->args->topp;
    sampling.steps = s->args->steps;
    if (pl_open(&e, s->blobs->model, s->blobs->model_size, s->blobs->tokenizer,
                s->blobs->tokenizer_size, s->options, &platform, &s->err) != PL_OK) {
        progress(s, 0, 1);
        return NULL;
    }
    for (long k = 0; k < s->count; k++) {
        pl_seed(e, s->args->seed + (uint64_t)(s->first + k));
        int failed = pl_generate(e, s->args->prompt, &sampling, collect_piece, &s->out, NULL, &s->err) != PL_OK;
        if (!failed && (append(&s->out, END_OF_STORY) || s->out.failed)) {
            s->err.status = PL_ERR_NO_MEMORY;
            snprintf(s->err.message, sizeof s->err.message, "no memory for the generated text");
            failed = 1;
        }
        progress(s, k + 1, failed);
        if (failed) break;
    }
    pl_close(e);
    return NULL;
}

static void generate_usage(void) { pl_help("generate", stderr); }

int pl_cmd_generate(int argc, char **argv) {
    long stories = 0, threads = 0;
    const char *out_path = NULL;
    int rc;
    /* our flags out, run.c's flags (and the model) to its parser */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int n_rest = 0;
    if (!rest) return 1;
    rest[n_rest++] = argv[0];
    for (int i = 1; i < argc; i++) {
        int ours = !strcmp(argv[i], "--stories") || !strcmp(argv[i], "--out") || !strcmp(argv[i], "--threads");
        if (!ours) {
            rest[n_rest++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "picollama: flag %s needs a value\n", argv[i]);
            free(rest);
            return PL_EXIT_USAGE;
        }
        const char *flag = argv[i], *value = argv[++i];
        rc = 0;
        if (!strcmp(flag, "--stories")) rc = pl_arg_long(flag, value, 1, 100000000, &stories);
        else if (!strcmp(flag, "--threads")) rc = pl_arg_long(flag, value, 1, 64, &threads);
        else out_path = value;
        if (rc) {
            free(rest);
            return rc;
        }
    }
    pl_run_args a;
    rc = n_rest < 2 || rest[1][0] == '-' ? (pl_help("generate", stderr), PL_EXIT_USAGE)
                                         : pl_parse_run_args(n_rest, rest, 1, &a, generate_usage);
    free(rest);
    if (rc) return rc;
    if (!stories || !out_path) {
        fprintf(stderr, "picollama: generate needs --stories N and --out FILE\n");
        pl_help("generate", stderr);
        return PL_EXIT_USAGE;
    }
    if (a.seed == 0) a.seed = 1; /* repeatable by default: a corpus is made again from its command */

    const char *inputs[] = {a.model_path, a.tokenizer_path};
    if ((rc = pl_output_check(out_path, inputs, 2))) return rc;
    pl_host_file model = {NULL, 0, 0}, tok = {NULL, 0, 0};
    pl_story_blobs blobs;
    if ((rc = pl_open_model_files(a.model_path, a.tokenizer_path, &model, &tok, &blobs.model,
                                  &blobs.model_size, &blobs.tokenizer, &blobs.tokenizer_size)))
        return rc;
    pl_options options;
    pl_output output = {NULL, NULL, NULL, NULL};
    generate_share share[64];
    pthread_t th[64];
    int started[64];
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    memset(share, 0, sizeof share);
    memset(started, 0, sizeof started);
    if ((rc = pl_story_options(&a, &blobs, PL_BOARD_ROOM, &options))) goto done;
    if ((rc = pl_output_open(&output, out_path, inputs, 2))) goto done;
    long n_threads = threads ? threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 64) n_threads = 64;
    if (n_threads > stories) n_threads = stories;
    for (long t = 0; t < n_threads; t++) {
        share[t].args = &a;
        share[t].blobs = &blobs;
        share[t].options = &options;
        share[t].lock = &lock;
        share[t].first = stories * t / n_threads;
        share[t].count = stories * (t + 1) / n_threads - share[t].first;
        started[t] = pthread_create(&th[t], NULL, generate_stories, &share[t]) == 0;
        if (!started[t]) generate_stories(&share[t]); /* no thread: this one does it */
    }
    if (isatty(STDERR_FILENO)) { /* progress, on a terminal */
        time_t t0 = time(NULL);
        for (;;) {
            long done = 0;
            int failed = 0;
            pthread_mutex_lock(&lock);
            for (long t = 0; t < n_threads; t++) done += share[t].done, failed |= share[t].failed;
            pthread_mutex_unlock(&lock);
            if (failed || done >= stories) break;
            sleep(1);
            long el = (long)(time(NULL) - t0);
            long left = done ? (long)((double)el * (double)(stories - done) / (double)done) : -1;
            fprintf(stderr, "\rgenerate: %ld/%ld stories, %ld s, %s%ld s left  ", done, stories, el,
                    left < 0 ? "~" : "", left < 0 ? 0 : left);
        }
        fputs("\n", stderr);
    }
    size_t bytes = 0;
    for (long t = 0; t < n_threads; t++) {
        if (started[t]) pthread_join(th[t], NULL);
        if (share[t].failed && !rc) rc = pl_report(&share[t].err);
        if (!rc && share[t].out.len &&
            fwrite(share[t].out.text, 1, share[t].out.len, output.f) != share[t].out.len) {
            fprintf(stderr, "picollama: cannot write %s\n", out_path);
            rc = PL_EXIT_IOERR;
        }
        bytes += share[t].out.len;
    }
    if (!rc) rc = pl_output_commit(&output);
    if (!rc)
        fprintf(stderr, "generate: %ld stories, %zu bytes, seeds %llu to %llu, in %s\n", stories, bytes,
                (unsigned long long)a.seed, (unsigned long long)(a.seed + (uint64_t)stories - 1), out_path);
done:
    pl_output_discard(&output); /* nothing left after a commit */
    for (long t = 0; t < 64; t++) free(share[t].out.text);
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    return rc;
}
