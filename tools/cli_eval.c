/*
 * `picollama eval [MODEL.bin -z TOK.bin] TEXTFILE`: how well a model predicts
 * a text, on the engine itself (the numbers the board would compute).
 *
 * Each document (documents separated by <|endoftext|>) is encoded as a
 * prompt is, BOS first, and scored in windows of the model's seq_len that
 * overlap by one token, each from an empty KV cache: a window feeds up to
 * seq_len tokens at positions 0.. and predicts the token after each; the
 * next window starts at the last token the previous one fed. So a document
 * of at most seq_len + 1 tokens is one window with every token after the BOS
 * predicted once, and each further window predicts its first target a
 * second time, from a fresh context. Prints the mean loss per predicted
 * token and bits per byte (total nats / ln 2 / the documents' UTF-8 bytes),
 * which does not depend on the tokenizer. Without a model it scores the
 * built-in one.
 *
 * One thread per core, each with its own engine, takes every n-th document;
 * each token's loss goes to its own slot and the slots are summed in the
 * text's order at the end, so the figures are the same bits with any number
 * of threads. On a terminal, stderr shows the progress.
 */
#include "builtin.h"
#include "cli.h"
#include "corpus.h"
#include "host_platform.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The encoded text, and where each document's losses go. */
typedef struct {
    const pl_story_blobs *blobs;
    const pl_options *options;
    size_t n_docs;
    int **tokens;          /* [doc] BOS + the document's tokens */
    int *n_tokens;         /* [doc] */
    size_t *first_loss;    /* [doc] its first slot in losses */
    double *losses;        /* one per predicted token, in the text's order */
    int threads;
    pthread_mutex_t lock;  /* guards the three below */
    size_t done;           /* documents scored (progress) */
    pl_error err;          /* the first failure */
    int failed;
} eval_job;

/* A window's positions (see above): the number of predictions for n tokens. */
static size_t predictions(int n, int seq_len) {
    size_t count = 0;
    int step = seq_len > 1 ? seq_len - 1 : 1;
    for (int s = 0; s + 1 < n; s += step) {
        int len = n - 1 - s < seq_len ? n - 1 - s : seq_len;
        count += (size_t)len;
        if (s + len >= n - 1) break;
    }
    return count;
}

typedef struct {
    eval_job *job;
    int index;
} eval_worker;

static void *score_documents(void *arg) {
    eval_worker *w = (eval_worker *)arg;
    eval_job *j = w->job;
    pl_platform platform = pl_host_platform(NULL);
    pl_engine *e = NULL;
    pl_error err;
    if (pl_open(&e, j->blobs->model, j->blobs->model_size, j->blobs->tokenizer,
                j->blobs->tokenizer_size, j->options, &platform, &err) != PL_OK) {
        pthread_mutex_lock(&j->lock);
        if (!j->failed) j->err = err;
        j->failed = 1;
        pthread_mutex_unlock(&j->lock);
        return NULL;
    }
    const pl_model_info *info = pl_info(e);
    int step = info->seq_len > 1 ? info->seq_len - 1 : 1;
    for (size_t d = (size_t)w->index; d < j->n_docs; d += (size_t)j->threads) {
        pthread_mutex_lock(&j->lock);
        int stop = j->failed;
        pthread_mutex_unlock(&j->lock);
        if (stop) break;
        const int *tokens = j->tokens[d];
        int n = j->n_tokens[d];
        double *loss = j->losses + j->first_loss[d];
        for (int s = 0; s + 1 < n; s += step) {
            int len = n - 1 - s < info->seq_len ? n - 1 - s : info->seq_len;
            for (int i = 0; i < len; i++) {
                const float *logits = pl_forward(e, tokens[s + i], i);
                double mx = (double)logits[0], sum = 0.0;
                for (int k = 1; k < info->vocab_size; k++)
                    if ((double)logits[k] > mx) mx = (double)logits[k];
                for (int k = 0; k < info->vocab_size; k++) sum += exp((double)logits[k] - mx);
                *loss++ = mx + log(sum) - (double)logits[tokens[s + i + 1]];
            }
            if (s + len >= n - 1) break;
        }
        pthread_mutex_lock(&j->lock);
        j->done++;
        pthread_mutex_unlock(&j->lock);
    }
    pl_close(e);
    return NULL;
}

int pl_cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *tok_path = NULL, *text_path = NULL;
    const char *positional[2] = {NULL, NULL};
    int n_pos = 0;
    long threads = 0; /* 0: one per core */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads")) {
            int rc;
            if (i + 1 >= argc) {
                fprintf(stderr, "picollama: flag --threads needs a value\n");
                return PL_EXIT_USAGE;
            }
            if ((rc = pl_arg_long("--threads", argv[++i], 1, 64, &threads))) return rc;
        } else if (!strcmp(argv[i], "-z")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "picollama: flag -z needs a value\n");
                return PL_EXIT_USAGE;
            }
            tok_path = argv[++i];
        } else if (argv[i][0] == '-' || n_pos == 2) {
            pl_help("eval", stderr);
            return PL_EXIT_USAGE;
        } else {
            positional[n_pos++] = argv[i];
        }
    }
    if (n_pos == 0) {
        pl_help("eval", stderr);
        return PL_EXIT_USAGE;
    }
    if (n_pos == 2) model_path = positional[0];
    text_path = positional[n_pos - 1];

    pl_host_file model = {NULL, 0, 0}, tok = {NULL, 0, 0};
    pl_story_blobs b;
    int rc;
    if (model_path) {
        if ((rc = pl_open_model_files(model_path, tok_path, &model, &tok, &b.model, &b.model_size,
                                      &b.tokenizer, &b.tokenizer_size)))
            return rc;
    } else {
        b = pl_builtin_blobs();
    }
    pl_corpus corpus;
    if ((rc = pl_corpus_load(&corpus, text_path))) goto done_files;

    size_t longest = 0;
    for (size_t d = 0; d < corpus.n_docs; d++)
        if (corpus.doc_bytes[d] > longest) longest = corpus.doc_bytes[d];
    pl_host_allocator_stats mem = {0, {0, 0}};
    pl_platform platform = pl_host_platform(&mem);
    pl_options options;
    memset(&options, 0, sizeof options);
    options.max_prompt_bytes = longest + 1;
    pl_engine *e = NULL;
    pl_error err;
    /* encode every document first (one engine), then score in parallel */
    eval_job job;
    memset(&job, 0, sizeof job);
    pthread_mutex_init(&job.lock, NULL);
    if (pl_open(&e, b.model, b.model_size, b.tokenizer, b.tokenizer_size, &options, &platform, &err) != PL_OK) {
        rc = pl_report(&err);
        goto done_corpus;
    }
    job.blobs = &b;
    job.options = &options;
    job.n_docs = corpus.n_docs;
    job.tokens = calloc(corpus.n_docs + 1, sizeof *job.tokens);
    job.n_tokens = calloc(corpus.n_docs + 1, sizeof *job.n_tokens);
    job.first_loss = calloc(corpus.n_docs + 1, sizeof *job.first_loss);
    uint64_t predicted = 0;
    for (size_t d = 0; d < corpus.n_docs && rc == 0; d++) {
        int n;
        job.tokens[d] = malloc(sizeof(int) * (corpus.doc_bytes[d] + 3));
        if (!job.tokens[d] ||
            pl_encode(e, corpus.docs[d], 1, job.tokens[d], (int)(corpus.doc_bytes[d] + 3), &n, &err) != PL_OK) {
            rc = job.tokens[d] ? pl_report(&err) : 1;
            break;
        }
        job.n_tokens[d] = n;
        job.first_loss[d] = (size_t)predicted;
        predicted += predictions(n, pl_info(e)->seq_len);
    }
    pl_close(e);
    double nats = 0.0;
    if (rc == 0 && predicted > 0) {
        long cores = threads ? threads : sysconf(_SC_NPROCESSORS_ONLN);
        job.threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
        job.losses = malloc(sizeof(double) * (size_t)predicted);
        pthread_t th[64];
        eval_worker workers[64];
        int started = 0;
        for (int t = 0; t < job.threads && job.losses; t++) {
            workers[t].job = &job;
            workers[t].index = t;
            if (pthread_create(&th[t], NULL, score_documents, &workers[t]) == 0) started++;
            else break;
        }
        if (started < job.threads) { /* fewer threads than asked: this one takes the rest */
            if (job.losses) {
                for (int t = started; t < job.threads; t++) {
                    workers[t].job = &job;
                    workers[t].index = t;
                    score_documents(&workers[t]);
                }
            }
        }
        if (isatty(STDERR_FILENO)) { /* progress, on a terminal */
            time_t t0 = time(NULL);
            for (;;) {
                pthread_mutex_lock(&job.lock);
                size_t done = job.done;
                int stop = job.failed || done >= job.n_docs;
                pthread_mutex_unlock(&job.lock);
                if (stop) break;
                sleep(1);
                long el = (long)(time(NULL) - t0);
                long left = done ? (long)((double)el * (double)(job.n_docs - done) / (double)done) : -1;
                fprintf(stderr, "\reval: %zu/%zu documents, %ld s, %s%ld s left  ", done, job.n_docs, el,
                        left < 0 ? "~" : "", left < 0 ? 0 : left);
            }
            fputs("\n", stderr);
        }
        for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
        if (!job.losses) {
            fputs("picollama: eval: out of memory\n", stderr);
            rc = 1;
        } else if (job.failed) {
            rc = pl_report(&job.err);
        }
        for (uint64_t k = 0; rc == 0 && k < predicted; k++) nats += job.losses[k];
    }
    if (rc == 0 && (predicted == 0 || corpus.total_bytes == 0)) {
        fprintf(stderr, "picollama: eval: %s holds no text to score\n", text_path);
        rc = PL_EXIT_DATAERR;
    }
    if (rc == 0) {
        double per_token = predicted ? nats / (double)predicted : 0.0;
        double bpb = corpus.total_bytes ? nats / log(2.0) / (double)corpus.total_bytes : 0.0;
        printf("eval: %zu documents, %zu bytes, %llu predicted tokens, loss %.4f nats/token, bits_per_byte=%.4f\n",
               corpus.n_docs, corpus.total_bytes, (unsigned long long)predicted, per_token, bpb);
    }
done_corpus:
    for (size_t d = 0; job.tokens && d < corpus.n_docs; d++) free(job.tokens[d]);
    free(job.tokens);
    free(job.n_tokens);
    free(job.first_loss);
    free(job.losses);
    pthread_mutex_destroy(&job.lock);
    pl_corpus_free(&corpus);
done_files:
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    return rc;
}
