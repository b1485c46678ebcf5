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
 */
#include "builtin.h"
#include "cli.h"
#include "corpus.h"
#include "host_platform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pl_cmd_eval(int argc, char **argv) {
    const char *model_path = NULL, *tok_path = NULL, *text_path = NULL;
    const char *positional[2] = {NULL, NULL};
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-z")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "picollama: flag -z needs a value\n");
                return PL_EXIT_USAGE;
            }
            tok_path = argv[++i];
        } else if (argv[i][0] == '-' || n_pos == 2) {
            fprintf(stderr, "usage: picollama eval [MODEL.bin -z TOKENIZER] TEXTFILE\n");
            return PL_EXIT_USAGE;
        } else {
            positional[n_pos++] = argv[i];
        }
    }
    if (n_pos == 0) {
        fprintf(stderr, "usage: picollama eval [MODEL.bin -z TOKENIZER] TEXTFILE\n");
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
    if (pl_open(&e, b.model, b.model_size, b.tokenizer, b.tokenizer_size, &options, &platform, &err) != PL_OK) {
        rc = pl_report(&err);
        goto done_corpus;
    }
    const pl_model_info *info = pl_info(e);
    int *tokens = malloc(sizeof(int) * (longest + 3));
    double nats = 0.0;
    uint64_t predicted = 0;
    for (size_t d = 0; d < corpus.n_docs && rc == 0; d++) {
        int n;
        if (pl_encode(e, corpus.docs[d], 1, tokens, (int)(longest + 3), &n, &err) != PL_OK) {
            rc = pl_report(&err);
            break;
        }
        /* inputs [s, s + len), targets [s + 1, s + len]; s advances by
         * seq_len - 1 (at least 1) */
        int step = info->seq_len > 1 ? info->seq_len - 1 : 1;
        for (int s = 0; s + 1 < n; s += step) {
            int len = n - 1 - s < info->seq_len ? n - 1 - s : info->seq_len;
            for (int i = 0; i < len; i++) {
                const float *logits = pl_forward(e, tokens[s + i], i);
                double mx = (double)logits[0], sum = 0.0;
                for (int k = 1; k < info->vocab_size; k++)
                    if ((double)logits[k] > mx) mx = (double)logits[k];
                for (int k = 0; k < info->vocab_size; k++) sum += exp((double)logits[k] - mx);
                nats += mx + log(sum) - (double)logits[tokens[s + i + 1]];
                predicted++;
            }
            if (s + len >= n - 1) break;
        }
    }
    if (rc == 0 && (predicted == 0 || corpus.total_bytes == 0)) {
        fprintf(stderr, "picollama: eval: %s holds no text to score\n", text_path);
        rc = PL_EXIT_USAGE;
    }
    if (rc == 0) {
        double per_token = predicted ? nats / (double)predicted : 0.0;
        double bpb = corpus.total_bytes ? nats / log(2.0) / (double)corpus.total_bytes : 0.0;
        printf("eval: %zu documents, %zu bytes, %llu predicted tokens, loss %.4f nats/token, bits_per_byte=%.4f\n",
               corpus.n_docs, corpus.total_bytes, (unsigned long long)predicted, per_token, bpb);
    }
    free(tokens);
    pl_close(e);
done_corpus:
    pl_corpus_free(&corpus);
done_files:
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    return rc;
}
