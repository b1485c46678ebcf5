/*
 * `picollama train --corpus FILE [--corpus FILE ...] [--extra FILE ...] -z TOK.bin
 *      [architecture] [schedule] --out MODEL.bin`
 *
 * Each --corpus file gives its last --val-fraction of documents to the
 * held-out split and the rest to training; an --extra file (a teacher's
 * stories from `picollama generate`) trains in full and is never held out,
 * so the held-out score is on real text only. Training windows are drawn
 * from all training text alike.
 *
 * Trains a Llama-2-architecture model from scratch on a CPU: AdamW, linear
 * warmup then cosine decay, gradient clipping, a held-out split scored as it
 * goes, every core (one thread per core, each taking whole sequences; the
 * gradients are added in thread order, so a run is repeatable for a seed and
 * a thread count), and checkpoints it resumes from bit for bit. Exports a
 * llama2.c version-0 checkpoint.
 *
 * --quantize-aware TYPE (every matrix) or EMBEDDING,ATTENTION,FFN (a type
 * for each of convert's tensor classes): each step's passes run on the
 * matrices as convert will store them in those types (tr_quantized_view,
 * made by all threads), and the update goes to the fp32 weights, so
 * training fits the model as shipped.
 */
#define _POSIX_C_SOURCE 200809L
#include "checkpoint.h"
#include "cli.h"
#include "corpus.h"
#include "output_file.h"
#include "tool_tokenizer.h"
#include "trainer.h"

#include <math.h>
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PL_TRAIN_MAX_FILES 16   /* of --corpus, and of --extra */

typedef struct {
    tr_config c;
    long steps, warmup, eval_every, save_every, stop_at;
    int batch, threads, val_batches;
    float lr, min_lr, weight_decay, clip, val_fraction;
    uint64_t seed;
    const char *tokenizer, *out, *checkpoint, *resume;
    const char *corpora[PL_TRAIN_MAX_FILES], *extras[PL_TRAIN_MAX_FILES];
    int n_corpora, n_extras;
    int arch_given; /* an architecture flag was on the command line */
    pl_convert_type quantize_aware[PL_CLASS_COUNT]; /* the types the passes see each class in (all fp32: off) */
    int quantizing;                                  /* any of them not fp32 */
} train_opts;

typedef struct {
    int *tok;
    size_t n;
} stream_t;

/* ---- one step on all threads ---------------------------------------------------- */

typedef struct {
    const train_opts *o;
    const float *params;
    float *grads;
    float *view; /* --quantize-aware: this step's matrices as converted, from params */
    tr_acts acts;
    const stream_t *data;
    const size_t *offsets; /* one window start per sequence of the batch */
    int first, stride, count, T;
    float scale;
    int backward;
    double loss;
    long tokens;
} worker_t;

static void *worker_run(void *arg) {
    worker_t *w = (worker_t *)arg;
    w->loss = 0.0;
    w->tokens = 0;
    if (w->backward) memset(w->grads, 0, sizeof(float) * tr_layout_of(&w->o->c).total);
    for (int b = w->first; b < w->count; b += w->stride) {
        const int *x = w->data->tok + w->offsets[b];
        w->loss += tr_forward(&w->acts, w->params, x, x + 1, w->T);
        w->tokens += w->T;
        if (w->backward) tr_backward(&w->acts, w->params, w->grads, x, x + 1, w->scale);
    }
    return NULL;
}

/* Each thread converts its share of the rows into the shared view. */
static void *view_run(void *arg) {
    worker_t *w = (worker_t *)arg;
    tr_quantized_view(&w->o->c, w->o->quantize_aware, w->params, w->view, w->first, w->stride);
    return NULL;
}

static void run_threads(worker_t *ws, int n, pthread_t *th, void *(*fn)(void *)) {
    for (int i = 1; i < n; i++) pthread_create(&th[i], NULL, fn, &ws[i]);
    fn(&ws[0]);
    for (int i = 1; i < n; i++) pthread_join(th[i], NULL);
}

/* The weights the passes run on: params itself, or under --quantize-aware
 * the view of them made now (every thread converting its share of rows). */
static const float *pass_weights(worker_t *ws, int n, pthread_t *th, const float *params, float *view) {
    if (!view) return params;
    for (int i = 0; i < n; i++) {
        ws[i].params = params;
        ws[i].view = view;
    }
    run_threads(ws, n, th, view_run);
    return view;
}

static double run_workers(worker_t *ws, int n, pthread_t *th) {
    run_threads(ws, n, th, worker_run);
    double loss = 0.0;
    for (int i = 0; i < n; i++) loss += ws[i].loss;
    return loss;
}

/* ---- checkpoints: tools/checkpoint.c ------------------------------------------------ */

static int save_checkpoint(const char *path, const train_opts *o, long step, uint64_t rng,
                           const float *p, const float *m, const float *v, size_t n) {
    pl_checkpoint_state st = {o->c, o->threads, step, rng};
    return pl_checkpoint_save(path, &st, p, m, v, n);
}

static int load_checkpoint(const char *path, train_opts *o, long *step, uint64_t *rng,
                           float **p, float **m, float **v, size_t *n) {
    pl_checkpoint_state st;
    int rc = pl_checkpoint_load(path, &st, p, m, v, n);
    if (rc) return rc;
    o->c = st.c;
    o->threads = st.threads;
    *step = st.step;
    *rng = st.rng;
    return 0;
}

/* ---- options ---------------------------------------------------------------------- */

/* Ctrl-C: finish the step, save, and say where (the loop checks it). */
static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
}

static int usage(void) {
    pl_help("train", stderr);
    return PL_EXIT_USAGE;
}

/* --quantize-aware: one type for every matrix, or three separated by commas
 * in convert's class order (embedding, attention, ffn). 0 or -1. */
static int parse_quantize_aware(const char *text, pl_convert_type to[PL_CLASS_COUNT]) {
    if (!strchr(text, ',')) {
        if (pl_convert_parse_type(text, &to[0]) != 0) return -1;
        for (int k = 1; k < PL_CLASS_COUNT; k++) to[k] = to[0];
        return 0;
    }
    for (int k = 0; k < PL_CLASS_COUNT; k++) {
        const char *end = strchr(text, ',');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        char one[32];
        if ((end != NULL) != (k + 1 < PL_CLASS_COUNT) || len >= sizeof one) return -1;
        memcpy(one, text, len);
        one[len] = '\0';
        if (pl_convert_parse_type(one, &to[k]) != 0) return -1;
        text += len + 1;
    }
    return 0;
}

static int parse(int argc, char **argv, train_opts *o) {
    memset(o, 0, sizeof *o);
    tr_config c = {128, 352, 5, 8, 4, 0, 256, 1};
    o->c = c;
    o->steps = 2000;
    o->warmup = 100;
    o->eval_every = 100;
    o->save_every = 500;
    o->batch = 16;
    o->threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    o->val_batches = 16;
    o->lr = 2e-3f;
    o->min_lr = 2e-4f;
    o->weight_decay = 0.1f;
    o->clip = 1.0f;
    o->val_fraction = 0.05f;
    o->seed = 1;
    for (int k = 0; k < PL_CLASS_COUNT; k++) o->quantize_aware[k].type = PL_WTYPE_F32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--unshared")) { o->c.shared_classifier = 0; o->arch_given = 1; continue; }
        if (i + 1 >= argc) {
            fprintf(stderr, "picollama: flag %s needs a value\n", a);
            return PL_EXIT_USAGE;
        }
        const char *val = argv[++i];
        /* the numeric flags: where each goes and its range */
        static const struct { const char *flag; long min, max; } ints[] = {
            {"--dim", 2, 65536},        {"--hidden", 1, 1 << 20},   {"--layers", 1, 1024},
            {"--heads", 1, 65536},      {"--kv-heads", 1, 65536},   {"--seq-len", 2, 1 << 20},
            {"--steps", 1, 1000000000}, {"--warmup", 0, 1000000000}, {"--eval-every", 1, 1000000000},
            {"--save-every", 1, 1000000000}, {"--stop-at", 0, 1000000000}, {"--batch", 1, 65536},
            {"--threads", 1, 256},      {"--val-batches", 1, 65536}, {"--seed", 0, 2147483647}};
        static const struct { const char *flag; double min, max; int open; } floats[] = {
            {"--lr", 0.0, 1e9, 1}, {"--min-lr", 0.0, 1e9, 0}, {"--weight-decay", 0.0, 10.0, 0},
            {"--clip", 0.0, 1e6, 1}, {"--val-fraction", 0.0, 0.5, 0}};
        long *long_out[] = {NULL, NULL, NULL, NULL, NULL, NULL, &o->steps, &o->warmup, &o->eval_every,
                            &o->save_every, &o->stop_at, NULL, NULL, NULL, NULL};
        int *int_out[] = {&o->c.dim, &o->c.hidden_dim, &o->c.n_layers, &o->c.n_heads, &o->c.n_kv_heads,
                          &o->c.seq_len, NULL, NULL, NULL, NULL, NULL, &o->batch, &o->threads,
                          &o->val_batches, NULL};
        float *float_out[] = {&o->lr, &o->min_lr, &o->weight_decay, &o->clip, &o->val_fraction};
        int known = 0, rc;
        if (!strcmp(a, "--corpus") || !strcmp(a, "--extra")) {
            int *n = a[2] == 'c' ? &o->n_corpora : &o->n_extras;
            if (*n == PL_TRAIN_MAX_FILES) {
                fprintf(stderr, "picollama: at most %d %s files\n", PL_TRAIN_MAX_FILES, a);
                return PL_EXIT_USAGE;
            }
            (a[2] == 'c' ? o->corpora : o->extras)[(*n)++] = val;
            known = 1;
        }
        else if (!strcmp(a, "-z")) o->tokenizer = val, known = 1;
        else if (!strcmp(a, "--out")) o->out = val, known = 1;
        else if (!strcmp(a, "--checkpoint")) o->checkpoint = val, known = 1;
        else if (!strcmp(a, "--resume")) o->resume = val, known = 1;
        else if (!strcmp(a, "--quantize-aware")) {
            if (parse_quantize_aware(val, o->quantize_aware) != 0) {
                fprintf(stderr, "picollama: --quantize-aware '%s': expected fp32, int8[:GROUP] or int4[:GROUP] "
                                "(as convert takes them), one for every matrix or three separated by commas "
                                "(embedding,attention,ffn)\n", val);
                return PL_EXIT_USAGE;
            }
            o->quantizing = 0;
            for (int k = 0; k < PL_CLASS_COUNT; k++)
                if (o->quantize_aware[k].type != PL_WTYPE_F32) o->quantizing = 1;
            known = 1;
        }
        for (size_t k = 0; !known && k < sizeof ints / sizeof ints[0]; k++) {
            long v;
            if (strcmp(a, ints[k].flag) != 0) continue;
            if ((rc = pl_arg_long(a, val, ints[k].min, ints[k].max, &v))) return rc;
            if (long_out[k]) *long_out[k] = v;
            else if (int_out[k]) *int_out[k] = (int)v;
            else o->seed = (uint64_t)v;
            if (k < 6) o->arch_given = 1; /* --dim .. --seq-len */
            known = 1;
        }
        for (size_t k = 0; !known && k < sizeof floats / sizeof floats[0]; k++) {
            if (strcmp(a, floats[k].flag) != 0) continue;
            if ((rc = pl_arg_float(a, val, floats[k].min, floats[k].max, floats[k].open, float_out[k])))
                return rc;
            known = 1;
        }
        if (known) continue;
        fprintf(stderr, "picollama: unknown flag '%s'\n", a);
        return usage();
    }
    if (!o->n_corpora || !o->tokenizer || !o->out) return usage();
    const tr_config *k = &o->c;
    /* ranges were checked as the flags were read; what is left is how they fit */
    if (k->dim % k->n_heads != 0) {
        fprintf(stderr, "picollama: --heads %d does not divide --dim %d\n", k->n_heads, k->dim);
        return PL_EXIT_USAGE;
    }
    if (k->n_heads % k->n_kv_heads != 0) {
        fprintf(stderr, "picollama: --kv-heads %d does not divide --heads %d\n", k->n_kv_heads, k->n_heads);
        return PL_EXIT_USAGE;
    }
    if ((k->dim / k->n_heads) % 2 != 0) {
        fprintf(stderr, "picollama: the head size (--dim / --heads) is %d; it must be even (RoPE rotates pairs)\n",
                k->dim / k->n_heads);
        return PL_EXIT_USAGE;
    }
    if (!o->checkpoint) {
        static char buf[4096];
        snprintf(buf, sizeof buf, "%s.ckpt", o->out);
        o->checkpoint = buf;
    }
    return 0;
}

static float lr_at(const train_opts *o, long step) {
    if (step < o->warmup) return o->lr * (float)(step + 1) / (float)o->warmup;
    float progress = (float)(step - o->warmup) / (float)(o->steps - o->warmup > 0 ? o->steps - o->warmup : 1);
    if (progress > 1.0f) progress = 1.0f;
    return o->min_lr + 0.5f * (o->lr - o->min_lr) * (1.0f + cosf(3.14159265f * progress));
}

static uint64_t next_u64(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Appends documents [from, to), tokenized as the engine would prompt with
 * them. */
static int tokenize(pl_tool_tokenizer *t, const pl_corpus *c, size_t from, size_t to, stream_t *s) {
    size_t cap = s->n;
    for (size_t d = from; d < to; d++) cap += c->doc_bytes[d] + 3;
    int *tok = realloc(s->tok, sizeof(int) * (cap + 1));
    if (!tok) {
        fputs("picollama: out of memory for the tokenized text\n", stderr);
        return 1;
    }
    s->tok = tok;
    for (size_t d = from; d < to; d++) {
        pl_error err;
        int n = pl_tool_encode(t, c->docs[d], s->tok + s->n, &err);
        if (n < 0) return pl_report(&err);
        s->n += (size_t)n;
    }
    return 0;
}

/* Every --corpus and --extra file, read and split (see the top). */
typedef struct {
    pl_corpus files[2 * PL_TRAIN_MAX_FILES];
    int n_files;
    int tokenizer_open;
    size_t train_docs, val_docs;
} text_sources;

static void free_text(text_sources *src, pl_tool_tokenizer *tok, stream_t *train, stream_t *val) {
    if (src->tokenizer_open) pl_tool_tokenizer_close(tok);
    for (int f = 0; f < src->n_files; f++) pl_corpus_free(&src->files[f]);
    free(train->tok);
    free(val->tok);
}

static int load_text(const train_opts *o, text_sources *src, pl_tool_tokenizer *tok, int vocab,
                     stream_t *train, stream_t *val) {
    int rc;
    size_t longest = 0;
    memset(src, 0, sizeof *src);
    for (int f = 0; f < o->n_corpora + o->n_extras; f++) {
        const char *path = f < o->n_corpora ? o->corpora[f] : o->extras[f - o->n_corpora];
        if ((rc = pl_corpus_load(&src->files[f], path))) return rc;
        src->n_files = f + 1;
        for (size_t d = 0; d < src->files[f].n_docs; d++)
            if (src->files[f].doc_bytes[d] > longest) longest = src->files[f].doc_bytes[d];
    }
    if ((rc = pl_tool_tokenizer_open(tok, o->tokenizer, vocab, longest))) return rc;
    src->tokenizer_open = 1;
    for (int f = 0; f < src->n_files; f++) {
        const pl_corpus *c = &src->files[f];
        size_t n_val = f < o->n_corpora ? (size_t)((double)c->n_docs * (double)o->val_fraction) : 0;
        if ((rc = tokenize(tok, c, 0, c->n_docs - n_val, train)) ||
            (rc = tokenize(tok, c, c->n_docs - n_val, c->n_docs, val)))
            return rc;
        src->train_docs += c->n_docs - n_val;
        src->val_docs += n_val;
    }
    return 0;
}

int pl_cmd_train(int argc, char **argv) {
    train_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    /* the outputs, before hours of training: writable, and none of them an
     * input (the checkpoint may be the one resumed from: it is read whole
     * before it is replaced) */
    {
        const char *inputs[2 * PL_TRAIN_MAX_FILES + 3];
        int n = 0;
        for (int i = 0; i < o.n_corpora; i++) inputs[n++] = o.corpora[i];
        for (int i = 0; i < o.n_extras; i++) inputs[n++] = o.extras[i];
        inputs[n++] = o.tokenizer;
        inputs[n++] = o.checkpoint;
        if ((rc = pl_output_check(o.out, inputs, n))) return rc;
        inputs[n - 1] = o.out;
        if ((rc = pl_output_check(o.checkpoint, inputs, n))) return rc;
        if (!strcmp(o.out, o.checkpoint)) {
            fprintf(stderr, "picollama: --out and --checkpoint are both %s\n", o.out);
            return PL_EXIT_USAGE;
        }
    }
    int vocab;
    if ((rc = pl_tool_tokenizer_entries(o.tokenizer, &vocab))) return rc;
    if (vocab < 3) {
        fprintf(stderr, "picollama: %s: tokenizer %s has %d entries; a model needs <unk>, <s>, </s> and more\n",
                pl_status_name(PL_ERR_TOKENIZER_VOCAB), o.tokenizer, vocab);
        return PL_ERR_TOKENIZER_VOCAB;
    }

    float *params = NULL, *m = NULL, *v = NULL;
    long step = 0;
    uint64_t rng = o.seed * 0x9E3779B97F4A7C15ull + 7;
    size_t n_params;
    if (o.resume) {
        train_opts saved = o;
        if ((rc = load_checkpoint(o.resume, &saved, &step, &rng, &params, &m, &v, &n_params))) return rc;
        {
            const tr_config *a = &o.c, *b = &saved.c;
            if (o.arch_given && (a->dim != b->dim || a->hidden_dim != b->hidden_dim ||
                                 a->n_layers != b->n_layers || a->n_heads != b->n_heads ||
                                 a->n_kv_heads != b->n_kv_heads || a->seq_len != b->seq_len ||
                                 a->shared_classifier != b->shared_classifier)) {
                fprintf(stderr, "picollama: --resume %s: the checkpoint is dim %d, hidden %d, %d layers, %d heads, "
                                "%d kv heads, seq_len %d%s; the flags ask for dim %d, hidden %d, %d layers, %d heads, "
                                "%d kv heads, seq_len %d%s\n", o.resume, b->dim, b->hidden_dim, b->n_layers,
                        b->n_heads, b->n_kv_heads, b->seq_len, b->shared_classifier ? "" : ", unshared",
                        a->dim, a->hidden_dim, a->n_layers, a->n_heads, a->n_kv_heads, a->seq_len,
                        a->shared_classifier ? "" : ", unshared");
                free(params);
                free(m);
                free(v);
                return PL_EXIT_USAGE;
            }
        }
        fprintf(stderr, "train: resuming %s at step %ld\n", o.resume, step);
        if (saved.c.vocab_size != vocab) {
            fprintf(stderr, "picollama: checkpoint vocabulary %d does not match tokenizer %d\n",
                    saved.c.vocab_size, vocab);
            free(params);
            free(m);
            free(v);
            return PL_EXIT_USAGE;
        }
        o.c = saved.c;
        o.threads = saved.threads; /* the same gradient sums, bit for bit */
    } else {
        o.c.vocab_size = vocab;
        n_params = tr_layout_of(&o.c).total;
        params = malloc(sizeof(float) * n_params);
        m = calloc(n_params, sizeof(float));
        v = calloc(n_params, sizeof(float));
        if (!params || !m || !v) return 1;
        tr_init_params(&o.c, params, o.seed);
    }

    static text_sources text; /* large: off the stack */
    pl_tool_tokenizer tok;
    stream_t train = {NULL, 0}, val = {NULL, 0};
    if ((rc = load_text(&o, &text, &tok, vocab, &train, &val))) {
        free_text(&text, &tok, &train, &val);
        free(params);
        free(m);
        free(v);
        return rc;
    }
    int T = o.c.seq_len;
    if (train.n < (size_t)T + 2) {
        fprintf(stderr, "picollama: the training split has %zu tokens, fewer than a %d-token window\n",
                train.n, T + 1);
        free_text(&text, &tok, &train, &val);
        free(params);
        free(m);
        free(v);
        return PL_EXIT_USAGE;
    }
    fprintf(stderr, "train: %d parameters (dim %d, hidden %d, %d layers, %d heads, %d kv heads, vocab %d, seq %d, %s classifier)\n",
            (int)n_params, o.c.dim, o.c.hidden_dim, o.c.n_layers, o.c.n_heads, o.c.n_kv_heads,
            o.c.vocab_size, o.c.seq_len, o.c.shared_classifier ? "shared" : "separate");
    fprintf(stderr, "train: %zu training tokens (%zu documents), %zu held out (%zu documents); %d threads\n",
            train.n, text.train_docs, val.n, text.val_docs, o.threads);

    int nt = o.threads;
    worker_t *ws = calloc((size_t)nt, sizeof *ws);
    pthread_t *th = calloc((size_t)nt, sizeof *th);
    int max_seqs = o.batch > o.val_batches ? o.batch : o.val_batches;
    size_t *offsets = malloc(sizeof(size_t) * (size_t)max_seqs);
    float *view = NULL;
    if (o.quantizing) {
        if (!(view = malloc(sizeof(float) * n_params))) {
            fprintf(stderr, "picollama: out of memory for the quantized view\n");
            return 1;
        }
        fprintf(stderr, "train: quantization-aware: the passes see the matrices as convert stores them:");
        for (int k = 0; k < PL_CLASS_COUNT; k++) {
            const pl_convert_type *t = &o.quantize_aware[k];
            fprintf(stderr, " %s %s", pl_convert_class_names[k], pl_wtype_name(t->type));
            if (t->type != PL_WTYPE_F32) fprintf(stderr, ":%d", t->group_size);
            fprintf(stderr, k + 1 < PL_CLASS_COUNT ? "," : "\n");
        }
    }
    for (int i = 0; i < nt; i++) {
        ws[i].o = &o;
        ws[i].grads = malloc(sizeof(float) * n_params);
        if (tr_acts_alloc(&ws[i].acts, &o.c) != 0 || !ws[i].grads) {
            fprintf(stderr, "picollama: out of memory for training buffers\n");
            return 1;
        }
        ws[i].first = i;
        ws[i].stride = nt;
        ws[i].offsets = offsets;
        ws[i].T = T;
    }
    tr_adamw adam = {o.lr, 0.9f, 0.95f, 1e-8f, o.weight_decay};
    double t0 = now_s(), tokens_done = 0.0;
    long first_step = step, saved_step = 0;
    signal(SIGINT, on_interrupt);
    long end = o.stop_at > 0 && o.stop_at < o.steps ? o.stop_at : o.steps;
    for (; step < end; step++) {
        for (int b = 0; b < o.batch; b++) offsets[b] = (size_t)(next_u64(&rng) % (train.n - (size_t)T - 1));
        const float *weights = pass_weights(ws, nt, th, params, view);
        for (int i = 0; i < nt; i++) {
            ws[i].params = weights;
            ws[i].data = &train;
            ws[i].count = o.batch;
            ws[i].backward = 1;
            ws[i].scale = 1.0f / (float)(o.batch * T);
        }
        double loss = run_workers(ws, nt, th) / (double)(o.batch * T);
        if (!isfinite(loss)) {
            /* before the update: the model and checkpoint last saved stay as they were */
            if (saved_step > 0)
                fprintf(stderr, "picollama: train: the loss is %g at step %ld (a learning rate too high?); "
                                "stopped: %s and %s hold step %ld, the last one saved\n",
                        loss, step + 1, o.out, o.checkpoint, saved_step);
            else
                fprintf(stderr, "picollama: train: the loss is %g at step %ld (a learning rate too high?); "
                                "stopped before anything was saved\n", loss, step + 1);
            rc = PL_EXIT_DATAERR; /* the loss became NaN or infinite */
            break;
        }
        float *g = ws[0].grads;
        for (int i = 1; i < nt; i++)
            for (size_t j = 0; j < n_params; j++) g[j] += ws[i].grads[j];
        double norm2 = 0.0;
        for (size_t j = 0; j < n_params; j++) norm2 += (double)g[j] * (double)g[j];
        float norm = (float)sqrt(norm2);
        if (o.clip > 0.0f && norm > o.clip)
            for (size_t j = 0; j < n_params; j++) g[j] *= o.clip / norm;
        adam.lr = lr_at(&o, step);
        tr_adamw_step(&o.c, &adam, params, g, m, v, step + 1);
        tokens_done += (double)o.batch * T;

        int last = step + 1 == o.steps;
        if ((step + 1) % 10 == 0 || last || step == first_step) {
            double el = now_s() - t0, rate = tokens_done / (el > 0 ? el : 1e-9);
            double left = (double)(o.steps - step - 1) * o.batch * T / (rate > 0 ? rate : 1);
            fprintf(stderr, "step %ld/%ld | loss %.4f | lr %.2e | grad norm %.3f | %.0f tok/s | %.0f s left\n",
                    step + 1, o.steps, loss, (double)adam.lr, (double)norm, rate, left);
        }
        if ((o.eval_every > 0 && (step + 1) % o.eval_every == 0) || last) {
            /* held-out loss: the first val_batches windows of the held-out split */
            int nb = 0;
            for (int b = 0; b < o.val_batches && (size_t)(b + 1) * T + 1 <= val.n; b++) offsets[nb++] = (size_t)b * T;
            if (nb > 0) {
                weights = pass_weights(ws, nt, th, params, view); /* the updated weights */
                for (int i = 0; i < nt; i++) {
                    ws[i].params = weights;
                    ws[i].data = &val;
                    ws[i].count = nb;
                    ws[i].backward = 0;
                }
                double vl = run_workers(ws, nt, th) / (double)(nb * T);
                fprintf(stderr, "step %ld | val loss %.4f\n", step + 1, vl);
            }
        }
        int stop = interrupted != 0;
        if ((o.save_every > 0 && (step + 1) % o.save_every == 0) || step + 1 == end || stop) {
            if (save_checkpoint(o.checkpoint, &o, step + 1, rng, params, m, v, n_params) != 0 ||
                tr_export_v0(o.out, &o.c, params) != 0) {
                fprintf(stderr, "picollama: cannot write %s or %s\n", o.checkpoint, o.out);
                rc = PL_EXIT_IOERR;
                break;
            }
            fprintf(stderr, "train: saved step %ld to %s (and %s)\n", step + 1, o.checkpoint, o.out);
            saved_step = step + 1;
        }
        if (stop) {
            fprintf(stderr, "train: interrupted; resume with --resume %s\n", o.checkpoint);
            rc = 130; /* as a shell reports SIGINT */
            break;
        }
    }
    if (rc == 0)
        fprintf(stderr, "train: wrote %s (llama2.c version 0) and %s after %ld steps, %.0f s\n",
                o.out, o.checkpoint, step, now_s() - t0);
    for (int i = 0; i < nt; i++) {
        tr_acts_free(&ws[i].acts);
        free(ws[i].grads);
    }
    free(ws);
    free(th);
    free(offsets);
    free(view);
    free(params);
    free(m);
    free(v);
    free_text(&text, &tok, &train, &val);
    return rc;
}
