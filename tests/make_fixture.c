/*
 * make_fixture: writes the test models and tokenizers to files, for the
 * command-line and emulator tests and the benchmarks.
 *   make_fixture model OUT [--dim N --hidden N --layers N --heads N
 *                           --kv-heads N --vocab N --seq-len N --seed N
 *                           --version 0|1|2 --group-size N --unshared]
 *   make_fixture tokenizer OUT [--vocab N] [--nul]
 *   make_fixture corpus OUT [--bytes N] [--seed N]
 *   make_fixture fuzz-seed OUT   (a valid input for tests/fuzz_engine.c)
 *   make_fixture fuzz-seed-picollama OUT   (the same with a PicoLlama file)
 */
#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: make_fixture model|tokenizer OUT [options]\n");
    return 64;
}

int main(int argc, char **argv) {
    fx_model_spec s = fx_small_spec();
    int nul = 0, vocab = fx_tokenizer_vocab();
    long corpus_bytes = 100000;
    if (argc < 3) return usage();
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        int v = has_value ? atoi(argv[i + 1]) : 0;
        if (!strcmp(a, "--unshared")) { s.shared_classifier = 0; continue; }
        if (!strcmp(a, "--nul")) { nul = 1; continue; }
        if (!has_value) return usage();
        if (!strcmp(a, "--dim")) s.dim = v;
        else if (!strcmp(a, "--hidden")) s.hidden_dim = v;
        else if (!strcmp(a, "--layers")) s.n_layers = v;
        else if (!strcmp(a, "--heads")) s.n_heads = v;
        else if (!strcmp(a, "--kv-heads")) s.n_kv_heads = v;
        else if (!strcmp(a, "--vocab")) s.vocab_size = vocab = v;
        else if (!strcmp(a, "--seq-len")) s.seq_len = v;
        else if (!strcmp(a, "--seed")) s.seed = (uint32_t)v;
        else if (!strcmp(a, "--version")) s.version = v;
        else if (!strcmp(a, "--group-size")) s.group_size = v;
        else if (!strcmp(a, "--bytes")) corpus_bytes = v;
        else return usage();
        i++;
    }
    size_t size;
    uint8_t *buf;
    if (!strcmp(argv[1], "model")) buf = fx_model(&s, &size);
    else if (!strcmp(argv[1], "tokenizer")) buf = fx_tokenizer(vocab, nul, &size);
    else if (!strcmp(argv[1], "fuzz-seed") || !strcmp(argv[1], "fuzz-seed-picollama")) {
        size_t ms, ts;
        s.seq_len = 16;
        int plm = argv[1][9] != '\0';
        /* a PicoLlama file carries its tokenizer: none follows it */
        uint8_t *m = plm ? fx_picollama(&s, "int4:8", "int8:8", "int4:16", &ms) : fx_model(&s, &ms);
        uint8_t *t = plm ? calloc(1, 1) : fx_tokenizer(s.vocab_size, 1, &ts);
        if (plm) ts = 0;
        if (!m) return 1;
        const char *prompt = "Once upon a caf\xC3\xA9";
        size = 9 + ms + ts + strlen(prompt);
        buf = malloc(size);
        uint32_t m32 = (uint32_t)ms, t32 = (uint32_t)ts;
        memcpy(buf, &m32, 4);
        memcpy(buf + 4, &t32, 4);
        buf[8] = 0x35; /* temperature 0.5, top-p 1/3, 4 positions */
        memcpy(buf + 9, m, ms);
        memcpy(buf + 9 + ms, t, ts);
        memcpy(buf + 9 + ms + ts, prompt, strlen(prompt));
        free(m);
        free(t);
    }
    else if (!strcmp(argv[1], "corpus")) {
        buf = (uint8_t *)fx_corpus((size_t)corpus_bytes, s.seed);
        size = strlen((char *)buf);
    }
    else return usage();
    if (!buf || fx_write_file(argv[2], buf, size) != 0) {
        fprintf(stderr, "make_fixture: cannot write %s\n", argv[2]);
        free(buf);
        return 1;
    }
    free(buf);
    return 0;
}
