/*
 * The tokenizer: both file variants, every malformed record, and encoding
 * checked against a direct transcription of run.c's algorithm (linear
 * lookups, a full rescan per merge), on fixed and on random text.
 */
#include "fixtures.h"
#include "host_platform.h"
#include "pl_internal.h"
#include "pl_test.h"

#include <stdlib.h>

/* ---- the reference: run.c's encode, written as plainly as possible ------ */

typedef struct {
    char **pieces;
    float *scores;
    int n;
} ref_vocab;

static ref_vocab ref_load(const uint8_t *b, int n, int nul) {
    ref_vocab v;
    size_t off = 4;
    v.n = n;
    v.pieces = malloc(sizeof(char *) * (size_t)n);
    v.scores = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) {
        int32_t len;
        memcpy(&v.scores[i], b + off, 4);
        memcpy(&len, b + off + 4, 4);
        v.pieces[i] = calloc(1, (size_t)len + 1);
        memcpy(v.pieces[i], b + off + 8, (size_t)len);
        off += 8 + (size_t)len + (size_t)nul;
    }
    return v;
}

static void ref_free(ref_vocab *v) {
    for (int i = 0; i < v->n; i++) free(v->pieces[i]);
    free(v->pieces);
    free(v->scores);
}

static int ref_lookup(const ref_vocab *v, const char *s) {
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->pieces[i], s) == 0) return i;
    return -1;
}

static int ref_encode(const ref_vocab *v, const char *text, int *tokens) {
    char buf[64];
    size_t len = 0;
    int n = 0;
    tokens[n++] = 1;
    if (text[0]) tokens[n++] = ref_lookup(v, " ");
    for (const char *c = text; *c; c++) {
        if ((*c & 0xC0) != 0x80) len = 0;
        buf[len++] = *c;
        buf[len] = 0;
        if ((*(c + 1) & 0xC0) == 0x80 && len < 4) continue;
        int id = ref_lookup(v, buf);
        if (id != -1) tokens[n++] = id;
        else
            for (size_t i = 0; i < len; i++) tokens[n++] = (unsigned char)buf[i] + 3;
        len = 0;
    }
    for (;;) {
        float best_score = -1e10f;
        int best_id = -1, best_idx = -1;
        for (int i = 0; i < n - 1; i++) {
            char joined[128];
            snprintf(joined, sizeof joined, "%s%s", v->pieces[tokens[i]], v->pieces[tokens[i + 1]]);
            int id = ref_lookup(v, joined);
            if (id != -1 && v->scores[id] > best_score) {
                best_score = v->scores[id];
                best_id = id;
                best_idx = i;
            }
        }
        if (best_idx == -1) break;
        tokens[best_idx] = best_id;
        for (int i = best_idx + 1; i < n - 1; i++) tokens[i] = tokens[i + 1];
        n--;
    }
    return n;
}

/* ---- helpers ------------------------------------------------------------ */

static pl_engine *open_with(const uint8_t *tok, size_t tok_size, int vocab,
                            uint8_t **model_out) {
    fx_model_spec s = fx_small_spec();
    size_t msize;
    pl_engine *e = NULL;
    pl_error err;
    pl_platform platform = pl_host_platform(NULL);
    pl_options opt;
    memset(&opt, 0, sizeof opt);
    opt.max_prompt_bytes = 300;
    s.vocab_size = vocab;
    *model_out = fx_model(&s, &msize);
    if (pl_open(&e, *model_out, msize, tok, tok_size, &opt, &platform, &err) != PL_OK) {
        fprintf(stderr, "open: %s\n", err.message);
        return NULL;
    }
    return e;
}

static int same_encoding(pl_engine *e, const ref_vocab *v, const char *text) {
    int want[1024], got[1024], n_want, n_got;
    pl_error err;
    n_want = ref_encode(v, text, want);
    if (pl_encode(e, text, 1, got, 1024, &n_got, &err) != PL_OK) return 0;
    if (n_want != n_got) return 0;
    for (int i = 0; i < n_got; i++)
        if (want[i] != got[i]) return 0;
    return 1;
}

static void random_text(uint64_t *rng, char *buf, int len, int bytes_only) {
    /* Mostly the vocabulary's letters, with spaces, UTF-8 and stray bytes. */
    static const char *const parts[] = {"the", " ", "a", "Lily", " saw", "caf", "\xC3\xA9",
                                        "\xE2\x82\xAC", "!", ".", "\n", "dog", "upon", "x"};
    int n = 0;
    while (n < len) {
        uint32_t r = pl_random_u32(rng);
        if (bytes_only || r % 7 == 0) {
            buf[n++] = (char)(1 + r % 255); /* any byte but NUL */
        } else {
            const char *p = parts[r % (sizeof parts / sizeof parts[0])];
            size_t l = strlen(p);
            if (n + (int)l > len) break;
            memcpy(buf + n, p, l);
            n += (int)l;
        }
    }
    buf[n] = '\0';
}

/* ---- tests -------------------------------------------------------------- */

static void test_encode_matches_reference(int nul) {
    size_t size;
    int vocab = fx_tokenizer_vocab();
    uint8_t *tok = fx_tokenizer(vocab, nul, &size), *model;
    pl_engine *e = open_with(tok, size, vocab, &model);
    ref_vocab v = ref_load(tok, vocab, nul);
    CHECK(e != NULL);
    if (!e) return;
    static const char *const fixed[] = {
        "", "a", "Once upon a time", "Lily saw the big dog.\n", "caf\xC3\xA9!",
        "\xE2\x82\xAC", "\x80", "abc\xE2\x82", "\xF0\x80\x80\x80\x80\x80x", "  ",
        "the the the", "~|}{"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        int ok = same_encoding(e, &v, fixed[i]);
        CHECK(ok);
        if (!ok) fprintf(stderr, "  text %zu differs\n", i);
    }
    uint64_t rng = 99;
    char text[200];
    int agree = 0;
    for (int i = 0; i < 300; i++) {
        random_text(&rng, text, 1 + (int)(pl_random_u32(&rng) % 150), i % 10 == 0);
        agree += same_encoding(e, &v, text);
    }
    CHECK_EQ_INT(agree, 300);

    /* Known merges: " the" and "Once" are single pieces. */
    int t[64], n;
    pl_error err;
    CHECK_STATUS(pl_encode(e, "Once the", 1, t, 64, &n, &err), PL_OK, err);
    CHECK_EQ_INT(n, 4); /* <s>, " ", "Once", " the" */
    CHECK_STR(pl_decode(e, 1, t[2]), "Once");
    CHECK_STR(pl_decode(e, t[2], t[3]), " the");
    /* Without BOS, and the empty text. */
    CHECK_STATUS(pl_encode(e, "", 0, t, 64, &n, &err), PL_OK, err);
    CHECK_EQ_INT(n, 0);
    CHECK_STATUS(pl_encode(e, "", 1, t, 64, &n, &err), PL_OK, err);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(t[0], 1);
    /* A text longer than the scratch reserved at open (300 bytes). */
    char longtext[400];
    memset(longtext, 'a', 399);
    longtext[399] = '\0';
    CHECK_STATUS(pl_encode(e, longtext, 1, t, 64, &n, &err), PL_ERR_PROMPT_TOO_LONG, err);
    longtext[300] = '\0';
    int *many = malloc(sizeof(int) * 400);
    CHECK_STATUS(pl_encode(e, longtext, 1, many, 400, &n, &err), PL_OK, err);
    free(many);

    ref_free(&v);
    pl_close(e);
    free(model);
    free(tok);
}

static void test_decode(void) {
    size_t size;
    int vocab = fx_tokenizer_vocab();
    uint8_t *tok = fx_tokenizer(vocab, 0, &size), *model;
    pl_engine *e = open_with(tok, size, vocab, &model);
    CHECK(e != NULL);
    if (!e) return;
    CHECK_STR(pl_decode(e, 5, 3 + 'A'), "A");       /* <0x41> is a byte */
    CHECK_STR(pl_decode(e, 5, 3 + '\n'), "\n");     /* whitespace prints */
    CHECK_STR(pl_decode(e, 5, 3 + 0x01), "");       /* control bytes do not */
    CHECK_STR(pl_decode(e, 5, 3 + 0xE2), "");       /* nor a lone high byte */
    CHECK_STR(pl_decode(e, 5, 3 + 0x00), "");
    int t[16], n;
    pl_error err;
    CHECK_STATUS(pl_encode(e, "the", 0, t, 16, &n, &err), PL_OK, err);
    /* " the" after BOS loses its leading space; after any other token not. */
    CHECK_EQ_INT(n, 1);
    CHECK_STR(pl_decode(e, 1, t[0]), "the");
    CHECK_STR(pl_decode(e, 7, t[0]), " the");
    CHECK_STR(pl_decode(e, 1, 2), "\n</s>\n");
    CHECK_STR(pl_decode(e, 1, vocab), ""); /* out of range: nothing */
    CHECK_STR(pl_decode(e, 1, -1), "");
    pl_close(e);
    free(model);
    free(tok);
}

static pl_status scan(const uint8_t *b, size_t size, int vocab, pl_error *err) {
    pl_tokenizer t;
    return pl_tokenizer_scan(&t, b, size, vocab, err);
}

static void test_bad_tokenizers(void) {
    int vocab = fx_tokenizer_vocab();
    size_t size;
    pl_error err;
    for (int nul = 0; nul <= 1; nul++) {
        uint8_t *tok = fx_tokenizer(vocab, nul, &size);
        pl_tokenizer t;
        CHECK_STATUS(pl_tokenizer_scan(&t, tok, size, vocab, &err), PL_OK, err);
        CHECK_EQ_INT(t.nul_terminated, nul);
        /* More entries than the model needs: fine. */
        CHECK_STATUS(scan(tok, size, vocab - 10, &err), PL_OK, err);
        /* Fewer: the model's vocabulary cannot be covered. */
        CHECK_STATUS(scan(tok, size, vocab + 1, &err), PL_ERR_TOKENIZER_VOCAB, err);
        /* Cut inside a record's header and inside its text. */
        CHECK_STATUS(scan(tok, size - 1, vocab, &err), PL_ERR_TOKENIZER_TRUNCATED, err);
        CHECK_STATUS(scan(tok, 10, vocab, &err), PL_ERR_TOKENIZER_TRUNCATED, err);
        CHECK_STATUS(scan(tok, 3, vocab, &err), PL_ERR_TOKENIZER_TRUNCATED, err);
        CHECK_STATUS(scan(tok, 0, vocab, &err), PL_ERR_TOKENIZER_TRUNCATED, err);
        CHECK_STATUS(scan(NULL, 0, vocab, &err), PL_ERR_ARGUMENT, err);
        /* max_token_length not positive. */
        int32_t v = 0;
        memcpy(tok, &v, 4);
        CHECK_STATUS(scan(tok, size, vocab, &err), PL_ERR_TOKENIZER_FORMAT, err);
        /* A piece longer than max_token_length (<0x00> is 6 bytes). */
        v = 5;
        memcpy(tok, &v, 4);
        CHECK_STATUS(scan(tok, size, vocab, &err), PL_ERR_TOKENIZER_FORMAT, err);
        CHECK(strstr(err.message, "token 1 ") != NULL || strstr(err.message, "token 2 ") != NULL);
        v = 16;
        memcpy(tok, &v, 4);
        /* A negative and a huge length in record 0. */
        v = -1;
        memcpy(tok + 8, &v, 4);
        CHECK_STATUS(scan(tok, size, vocab, &err), PL_ERR_TOKENIZER_FORMAT, err);
        v = 0x7fffffff;
        memcpy(tok + 8, &v, 4);
        CHECK_STATUS(scan(tok, size, vocab, &err), PL_ERR_TOKENIZER_FORMAT, err);
        free(tok);
    }
    /* tokenizer0 whose last record lacks its NUL: read as plain it does not
     * parse either, so it is refused. */
    uint8_t *tok = fx_tokenizer(vocab, 1, &size);
    tok[size - 1] = 'x';
    CHECK(scan(tok, size, vocab, &err) != PL_OK);
    free(tok);
}

static void test_missing_pieces(void) {
    /* A vocabulary without " " cannot add the dummy prefix; one of 200
     * tokens has no <0xFF> for byte fallback. Both refuse, cleanly. */
    size_t size;
    int vocab = fx_tokenizer_vocab();
    uint8_t *tok = fx_tokenizer(vocab, 0, &size), *model;
    /* The " " piece is the first single character: find and rename it. */
    size_t off = 4;
    for (int i = 0; i < vocab; i++) {
        int32_t len;
        memcpy(&len, tok + off + 4, 4);
        if (len == 1 && tok[off + 8] == ' ') tok[off + 8] = '\x7f';
        off += 8 + (size_t)len;
    }
    pl_engine *e = open_with(tok, size, vocab, &model);
    int t[16], n;
    pl_error err;
    CHECK(e != NULL);
    if (e) {
        CHECK_STATUS(pl_encode(e, "a", 1, t, 16, &n, &err), PL_ERR_PROMPT_ENCODING, err);
        CHECK_STATUS(pl_encode(e, "", 1, t, 16, &n, &err), PL_OK, err);
        pl_close(e);
    }
    free(model);
    free(tok);

    tok = fx_tokenizer(vocab, 0, &size);
    e = open_with(tok, size, 200, &model);
    CHECK(e != NULL);
    if (e) {
        /* " " is not among the first 200 pieces either. */
        CHECK_STATUS(pl_encode(e, "\xff", 1, t, 16, &n, &err), PL_ERR_PROMPT_ENCODING, err);
        pl_close(e);
    }
    free(model);
    free(tok);
}

static void test_reference_tokenizers(void) {
    /* The real vocabularies, when ../shared is there: all three variants
     * load, and tokenizer.bin and tokenizer0.bin encode alike. */
    char p1[512], p2[512], p3[512];
    const char *plain = fx_shared_model_path("tokenizer.bin", p1, sizeof p1);
    const char *nul = fx_shared_model_path("tokenizer0.bin", p2, sizeof p2);
    const char *t4096 = fx_shared_model_path("tok4096_tokenizer0.bin", p3, sizeof p3);
    if (!plain || !nul || !t4096) {
        pl_test_skip("test_tokenizer", "the reference tokenizers (no ../shared)");
        return;
    }
    size_t s1, s2, s3;
    uint8_t *b1 = fx_read_file(plain, &s1), *b2 = fx_read_file(nul, &s2), *b3 = fx_read_file(t4096, &s3);
    pl_tokenizer t;
    pl_error err;
    CHECK_STATUS(pl_tokenizer_scan(&t, b1, s1, 32000, &err), PL_OK, err);
    CHECK_EQ_INT(t.nul_terminated, 0);
    CHECK_STATUS(pl_tokenizer_scan(&t, b2, s2, 32000, &err), PL_OK, err);
    CHECK_EQ_INT(t.nul_terminated, 1);
    CHECK_STATUS(pl_tokenizer_scan(&t, b3, s3, 32000, &err), PL_OK, err);
    CHECK_EQ_INT(t.nul_terminated, 1);
    CHECK_STATUS(pl_tokenizer_scan(&t, b1, s1, 32001, &err), PL_ERR_TOKENIZER_VOCAB, err);

    ref_vocab v = ref_load(b1, 32000, 0);
    static const char *const texts[] = {"Once upon a time, there was a dog",
                                        "Lily and Ben", "caf\xC3\xA9 \xE2\x82\xAC 12.5%",
                                        "\xF0\x9F\x98\x80 emoji"};
    for (int variant = 0; variant < 2; variant++) {
        uint8_t *model;
        pl_engine *e = open_with(variant ? b2 : b1, variant ? s2 : s1, 32000, &model);
        CHECK(e != NULL);
        if (!e) continue;
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) CHECK(same_encoding(e, &v, texts[i]));
        /* the Llama 2 vocabulary's many merges on random texts: the heap's
         * order of merges is run.c's scan's (a few: the reference looks
         * pieces up linearly in 32,000) */
        uint64_t rng = 2350 + (uint64_t)variant;
        char text[200];
        int agree = 0;
        for (int i = 0; i < 6; i++) {
            random_text(&rng, text, 40 + (int)(pl_random_u32(&rng) % 60), i % 3 == 0);
            agree += same_encoding(e, &v, text);
        }
        CHECK_EQ_INT(agree, 6);
        pl_close(e);
        free(model);
    }
    ref_free(&v);
    free(b1);
    free(b2);
    free(b3);
}

int main(void) {
    test_encode_matches_reference(0);
    test_encode_matches_reference(1);
    test_decode();
    test_bad_tokenizers();
    test_missing_pieces();
    test_reference_tokenizers();
    return pl_test_report("test_tokenizer");
}
