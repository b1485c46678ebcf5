#include "fixtures.h"
#include "convert.h"
#include "quantize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fx_model_spec fx_small_spec(void) {
    fx_model_spec s;
    s.dim = 16;
    s.hidden_dim = 40;
    s.n_layers = 2;
    s.n_heads = 4;
    s.n_kv_heads = 2;
    s.vocab_size = fx_tokenizer_vocab();
    s.seq_len = 32;
    s.shared_classifier = 1;
    s.version = 0;
    s.group_size = 0;
    s.seed = 1234;
    return s;
}

/* ---- weights ------------------------------------------------------------ */

enum { T_EMB, T_RMS_ATT, T_WQ, T_WK, T_WV, T_WO, T_RMS_FFN, T_W1, T_W2, T_W3,
       T_RMS_FINAL, T_WCLS, T_COUNT };

static uint64_t numel(const fx_model_spec *s, int t) {
    uint64_t dim = (uint64_t)s->dim, hid = (uint64_t)s->hidden_dim, L = (uint64_t)s->n_layers;
    uint64_t kv = dim / (uint64_t)s->n_heads * (uint64_t)s->n_kv_heads;
    switch (t) {
    case T_EMB: case T_WCLS: return (uint64_t)s->vocab_size * dim;
    case T_RMS_ATT: case T_RMS_FFN: return L * dim;
    case T_WQ: case T_WO: return L * dim * dim;
    case T_WK: case T_WV: return L * kv * dim;
    case T_W1: case T_W2: case T_W3: return L * hid * dim;
    case T_RMS_FINAL: return dim;
    }
    return 0;
}

static uint32_t next_u32(uint64_t *st) {
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return (uint32_t)((*st * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Tensor t's values depend on (seed, t) only, so every version's order
 * writes the same weights. Norm weights near 1, matrices uniform in
 * [-0.1, 0.1): wide enough that the stories differ by seed. */
static float *write_tensor(float *out, const fx_model_spec *s, int t) {
    uint64_t st = ((uint64_t)s->seed << 8) + (uint64_t)t + 0x9E3779B97F4A7C15ull;
    uint64_t n = numel(s, t);
    int norm = t == T_RMS_ATT || t == T_RMS_FFN || t == T_RMS_FINAL;
    for (uint64_t i = 0; i < n; i++) {
        float u = (float)(next_u32(&st) >> 8) / 16777216.0f; /* [0,1) */
        out[i] = norm ? 0.75f + 0.5f * u : (u - 0.5f) * 0.2f;
    }
    return out + n;
}

/* Version 2: the same weights written as version 1, then quantized by the
 * project's own writer with export.py's rules (group size 64 halved until
 * it divides dim; hidden_dim need not divide, as in karpathy's files). */
static uint8_t *fx_model_q8(const fx_model_spec *s, size_t *size) {
    fx_model_spec v1 = *s;
    size_t v1_size;
    uint8_t *q = NULL;
    pl_error err;
    v1.version = 1;
    uint8_t *fp32 = fx_model(&v1, &v1_size);
    int gs = s->group_size;
    if (gs <= 0)
        for (gs = 64; gs > 1 && s->dim % gs != 0; gs /= 2) {}
    if (fp32 && pl_write_q8_model(fp32, v1_size, gs, &q, size, &err) != PL_OK) {
        fprintf(stderr, "fixture: %s\n", err.message);
        q = NULL;
    }
    free(fp32);
    return q;
}

uint8_t *fx_model(const fx_model_spec *s, size_t *size) {
    if (s->version == 2) return fx_model_q8(s, size);
    static const int v0_order[] = {T_EMB, T_RMS_ATT, T_WQ, T_WK, T_WV, T_WO, T_RMS_FFN,
                                   T_W1, T_W2, T_W3, T_RMS_FINAL};
    static const int v1_order[] = {T_RMS_ATT, T_RMS_FFN, T_RMS_FINAL, T_EMB, T_WQ, T_WK,
                                   T_WV, T_WO, T_W1, T_W2, T_W3};
    const int *order = s->version == 1 ? v1_order : v0_order;
    uint64_t header = s->version == 1 ? 256 : 28, floats = 0;
    uint64_t rope = s->version == 1 ? 0 : (uint64_t)s->seq_len * (uint64_t)(s->dim / s->n_heads);
    for (int i = 0; i < 11; i++) floats += numel(s, order[i]);
    floats += rope;
    if (!s->shared_classifier) floats += numel(s, T_WCLS);
    *size = (size_t)(header + 4 * floats);
    uint8_t *buf = calloc(1, *size);
    if (!buf) return NULL;
    int32_t cfg[7] = {s->dim, s->hidden_dim, s->n_layers, s->n_heads, s->n_kv_heads,
                      s->vocab_size, s->seq_len};
    if (s->version == 1) {
        uint32_t magic = 0x616b3432u;
        int32_t version = 1;
        memcpy(buf, &magic, 4);
        memcpy(buf + 4, &version, 4);
        memcpy(buf + 8, cfg, sizeof cfg);
        buf[36] = (uint8_t)(s->shared_classifier != 0);
    } else {
        if (!s->shared_classifier) cfg[5] = -cfg[5];
        memcpy(buf, cfg, sizeof cfg);
    }
    float *p = (float *)(buf + header);
    for (int i = 0; i < 11; i++) p = write_tensor(p, s, order[i]);
    for (uint64_t i = 0; i < rope; i++) *p++ = 0.5f; /* unused RoPE tables */
    if (!s->shared_classifier) write_tensor(p, s, T_WCLS);
    return buf;
}

/* ---- tokenizer ---------------------------------------------------------- */

/* Merged pieces, best first. With the single characters and the byte
 * tokens they make a small but real BPE vocabulary. */
static const char *const merges[] = {
    " t", "he", " the", "in", " a", "an", "nd", " and", "on", "ce", "On", "Once",
    " up", " upon", " ti", "me", " time", " was", " w", "as", " L", "il", "ly",
    " Lily", " s", "aw", " saw", " b", "ig", " big", " d", "og", " dog", ".\n",
    "\xC3\xA9" /* é, one code point */, " caf", "\xC3\xA9!"};

int fx_tokenizer_vocab(void) {
    return 3 + 256 + 95 + (int)(sizeof merges / sizeof merges[0]);
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} growbuf;

static void put(growbuf *g, const void *p, size_t n) {
    if (g->len + n > g->cap) {
        g->cap = (g->len + n) * 2 + 64;
        g->buf = realloc(g->buf, g->cap);
    }
    memcpy(g->buf + g->len, p, n);
    g->len += n;
}

static void put_piece(growbuf *g, const char *s, size_t len, float score, int nul) {
    int32_t l = (int32_t)len;
    put(g, &score, 4);
    put(g, &l, 4);
    put(g, s, len);
    if (nul) put(g, "", 1);
}

uint8_t *fx_tokenizer(int vocab_size, int nul, size_t *size) {
    growbuf g = {NULL, 0, 0};
    int32_t max_len = 16;
    char piece[32];
    int n = 0;
    put(&g, &max_len, 4);
    put_piece(&g, "<unk>", 5, 0.0f, nul);
    put_piece(&g, "\n<s>\n", 5, 0.0f, nul);
    put_piece(&g, "\n</s>\n", 6, 0.0f, nul);
    n = 3;
    for (int b = 0; b < 256; b++, n++) {
        snprintf(piece, sizeof piece, "<0x%02X>", b);
        put_piece(&g, piece, 6, 0.0f, nul);
    }
    for (int c = 0x20; c <= 0x7E; c++, n++) {
        piece[0] = (char)c;
        put_piece(&g, piece, 1, -1000.0f - (float)c, nul);
    }
    for (size_t i = 0; i < sizeof merges / sizeof merges[0]; i++, n++)
        put_piece(&g, merges[i], strlen(merges[i]), -1.0f - (float)i, nul);
    for (; n < vocab_size; n++) { /* padding, as in the original's 4096-token file */
        int len = snprintf(piece, sizeof piece, "<pad%d>", n);
        put_piece(&g, piece, (size_t)len, -1e9f, nul);
    }
    *size = g.len;
    return g.buf;
}

/* ---- corpus ------------------------------------------------------------- */

char *fx_corpus(size_t bytes, uint32_t seed) {
    static const char *const names[] = {"Lily", "Ben", "Tom", "Sue", "Zo\xC3\xAB", "Max"};
    static const char *const verbs[] = {"saw", "found", "liked", "wanted", "made", "lost"};
    static const char *const things[] = {"a big dog", "the red ball", "a little cat", "a caf\xC3\xA9",
                                         "the old tree", "a shiny \xE2\x82\xAC coin", "some cake"};
    static const char *const ends[] = {".", "!", ". They were happy.", ", and it was fun.",
                                       ". \"Wow!\" said Mom.", " \xF0\x9F\x98\x80."};
    uint64_t st = (uint64_t)seed * 2654435761u + 1;
    size_t cap = bytes + 256, n = 0;
    char *out = malloc(cap);
    int sentences = 0;
    while (n + 200 < cap) {
        if (sentences == 0) n += (size_t)sprintf(out + n, "Once upon a time, ");
        n += (size_t)sprintf(out + n, "%s %s %s%s", names[next_u32(&st) % 6], verbs[next_u32(&st) % 6],
                             things[next_u32(&st) % 7], ends[next_u32(&st) % 6]);
        sentences++;
        if (sentences % 3 == 0) {
            n += (size_t)sprintf(out + n, "\n");
        } else {
            n += (size_t)sprintf(out + n, " ");
        }
        if (sentences > 4 + (int)(next_u32(&st) % 6)) {
            n += (size_t)sprintf(out + n, "\n<|endoftext|>\n");
            sentences = 0;
        }
    }
    out[n] = '\0';
    return out;
}

/* ---- files -------------------------------------------------------------- */

uint8_t *fx_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

int fx_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, size, f);
    return (fclose(f) == 0 && w == size) ? 0 : -1;
}

const char *fx_shared_model_path(const char *name, char *buf, size_t buflen) {
    const char *dir = getenv("PICOLLAMA_SHARED");
    FILE *f;
    snprintf(buf, buflen, "%s/data/models/%s", dir ? dir : "../shared", name);
    f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}

uint8_t *fx_picollama(const fx_model_spec *spec, const char *embedding, const char *attention,
                      const char *ffn, size_t *size) {
    pl_convert_type types[PL_CLASS_COUNT];
    size_t ms, ts;
    uint8_t *model = fx_model(spec, &ms), *tok = fx_tokenizer(spec->vocab_size, 0, &ts), *out = NULL;
    FILE *f = tmpfile();
    if (f && pl_convert_parse_type(embedding, &types[PL_CLASS_EMBEDDING]) == 0 &&
        pl_convert_parse_type(attention, &types[PL_CLASS_ATTENTION]) == 0 &&
        pl_convert_parse_type(ffn, &types[PL_CLASS_FFN]) == 0 &&
        pl_convert_model(f, model, ms, tok, ts, types, NULL) == PL_OK) {
        long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
        /* malloc: 16-byte aligned on the hosts the tests run on, as fx_model's */
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (out = malloc((size_t)n)) != NULL &&
            fread(out, 1, (size_t)n, f) == (size_t)n)
            *size = (size_t)n;
        else {
            free(out);
            out = NULL;
        }
    }
    if (f) fclose(f);
    free(model);
    free(tok);
    return out;
}
