/*
 * The tokenizer trainer: the engine's encoder (run.c's algorithm) must
 * reproduce the segmentation the trainer built, token for token in count
 * over the whole corpus; the pieces of any UTF-8 text's encoding must give
 * the text back; training is deterministic.
 */
#include "cli.h"
#include "corpus.h"
#include "fixtures.h"
#include "tool_tokenizer.h"
#include "pl_test.h"

#include <stdlib.h>

/* The bytes a token stands for: its piece, or the byte of a <0xXX> piece. */
static size_t raw_piece(pl_tool_tokenizer *t, int id, char *out) {
    size_t len;
    const char *p = pl_tokenizer_piece(&t->tok, id, &len);
    if (id >= 3 && id < 259) { /* byte tokens */
        out[0] = (char)(id - 3);
        return 1;
    }
    memcpy(out, p, len);
    return len;
}

/* bytes_per_token: the least compression the vocabulary must reach */
static void test_trained(int vocab, double bytes_per_token) {
    char *text = fx_corpus(60000, 4);
    fx_write_file("build/test_bpe_corpus.txt", text, strlen(text));
    uint64_t trainer_tokens = 0, engine_tokens = 0;
    CHECK_EQ_INT(pl_bpe_train("build/test_bpe_corpus.txt", vocab, "build/test_bpe_tok.bin", &trainer_tokens), 0);
    CHECK_EQ_INT(pl_bpe_train("build/test_bpe_corpus.txt", vocab, "build/test_bpe_tok2.bin", &trainer_tokens), 0);
    size_t s1, s2;
    uint8_t *a = fx_read_file("build/test_bpe_tok.bin", &s1), *b = fx_read_file("build/test_bpe_tok2.bin", &s2);
    CHECK(a && b && s1 == s2 && memcmp(a, b, s1) == 0); /* deterministic */
    free(a);
    free(b);

    pl_tool_tokenizer t;
    int entries = 0;
    CHECK_EQ_INT(pl_tool_tokenizer_entries("build/test_bpe_tok.bin", &entries), 0);
    CHECK_EQ_INT(entries, vocab);
    CHECK_EQ_INT(pl_tool_tokenizer_open(&t, "build/test_bpe_tok.bin", vocab, 70000), 0);
    pl_corpus c;
    CHECK_EQ_INT(pl_corpus_load(&c, "build/test_bpe_corpus.txt"), 0);
    int *tok = malloc(sizeof(int) * 70000);
    pl_error err;
    for (size_t d = 0; d < c.n_docs; d++) {
        int n = pl_tool_encode(&t, c.docs[d], tok, &err);
        engine_tokens += (uint64_t)(n - 1); /* without the BOS */
    }
    /* The trainer keeps every word encoded as the engine encodes it; the
     * corpus totals agree exactly (a single differing merge would change
     * them). */
    printf("test_bpe: vocab %d: trainer %llu tokens, engine %llu tokens\n", vocab,
           (unsigned long long)trainer_tokens, (unsigned long long)engine_tokens);
    CHECK_EQ_INT(engine_tokens, trainer_tokens);
    CHECK((double)c.total_bytes / (double)engine_tokens >= bytes_per_token);

    /* Round trip: arbitrary UTF-8 (including bytes the corpus never had)
     * encodes to pieces that concatenate back to the text. */
    static const char *const texts[] = {
        "Lily saw a caf\xC3\xA9!", "\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x8C\x8D ok", "x\x01y\x7f\xC3\n\n  end",
        "Once upon a time, Zo\xC3\xAB found some cake.", "\xCE\xA9\xCE\xB1 \xD0\x96 \xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC"};
    char back[512];
    int roundtrips = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int n = pl_tool_encode(&t, texts[i], tok, &err);
        size_t len = 0;
        for (int k = 1; k < n; k++) len += raw_piece(&t, tok[k], back + len);
        back[len] = '\0';
        /* the dummy prefix adds one space in front */
        roundtrips += len == strlen(texts[i]) + 1 && back[0] == ' ' && strcmp(back + 1, texts[i]) == 0;
    }
    CHECK_EQ_INT(roundtrips, (int)(sizeof texts / sizeof texts[0]));
    free(tok);
    pl_corpus_free(&c);
    pl_tool_tokenizer_close(&t);
    free(text);
}

int main(void) {
    /* 300: 41 places for the alphabet and no merges, so about one token per
     * character (multibyte ones included); 700: merges make words tokens. */
    test_trained(300, 1.0);
    test_trained(700, 3.0);
    return pl_test_report("test_bpe");
}
