/*
 * `picollama train-tokenizer --corpus FILE --vocab N --out TOK.bin`:
 * byte-pair encoding with byte fallback, written as llama2.c's tokenizer.bin.
 *
 * Layout: ids 0-2 <unk>, <s>, </s>; 3-258 the byte tokens <0x00>..<0xFF>;
 * then the alphabet (every code point seen at least twice, and " " for the
 * dummy prefix); then one token per merge, best first.
 *
 * The segmentation it trains is run.c's: merges apply by score, greedily,
 * the best-scoring adjacent pair anywhere first (leftmost on ties), and any
 * pair whose concatenation is a merged token merges. Merge k gets score -k;
 * every other token gets -1e10, which run.c never merges into. A new merge
 * is the worst-scoring token so far, so the greedy encoding with it is the
 * encoding without it carried on: the trainer keeps every word encoded
 * exactly as the engine will encode it, and picks each next merge from
 * those encodings. Words never span a space or a newline (a space starts a
 * word; a newline is a word of its own), so merges never cross them in the
 * engine either.
 */
#include "cli.h"
#include "output_file.h"
#include "corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_MERGE_SCORE (-1e10f)

/* ---- a string -> id table ---------------------------------------------- */

typedef struct {
    char **str;
    int *len;
    float *score;
    int n, cap;
    int *slots; /* open addressing: id + 1, 0 empty */
    size_t n_slots;
} vocab_t;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int vocab_find(const vocab_t *v, const char *s, int n) {
    size_t mask = v->n_slots - 1;
    for (size_t i = hash_bytes(s, (size_t)n) & mask;; i = (i + 1) & mask) {
        int id = v->slots[i] - 1;
        if (id < 0) return -1;
        if (v->len[id] == n && memcmp(v->str[id], s, (size_t)n) == 0) return id;
    }
}

static int vocab_add(vocab_t *v, const char *s, int n, float score) {
    size_t mask = v->n_slots - 1, i;
    for (i = hash_bytes(s, (size_t)n) & mask; v->slots[i]; i = (i + 1) & mask) {}
    v->str[v->n] = malloc((size_t)n + 1);
    memcpy(v->str[v->n], s, (size_t)n);
    v->str[v->n][n] = '\0';
    v->len[v->n] = n;
    v->score[v->n] = score;
    v->slots[i] = v->n + 1;
    return v->n++;
}

/* ---- words --------------------------------------------------------------- */

typedef struct {
    uint64_t count;
    int n;      /* symbols */
    int *sym;
    char *text;
    int bytes;
} word_t;

typedef struct {
    word_t *w;
    size_t n, cap;
    size_t *slots; /* index + 1 */
    size_t n_slots;
} words_t;

static void words_grow(words_t *ws) {
    size_t new_slots = ws->n_slots ? ws->n_slots * 2 : 1u << 16;
    size_t *slots = calloc(new_slots, sizeof *slots);
    for (size_t k = 0; k < ws->n; k++) {
        size_t i = hash_bytes(ws->w[k].text, (size_t)ws->w[k].bytes) & (new_slots - 1);
        while (slots[i]) i = (i + 1) & (new_slots - 1);
        slots[i] = k + 1;
    }
    free(ws->slots);
    ws->slots = slots;
    ws->n_slots = new_slots;
}

static void words_add(words_t *ws, const char *s, int n) {
    if (ws->n * 2 >= ws->n_slots) words_grow(ws);
    size_t mask = ws->n_slots - 1, i;
    for (i = hash_bytes(s, (size_t)n) & mask; ws->slots[i]; i = (i + 1) & mask) {
        word_t *w = &ws->w[ws->slots[i] - 1];
        if (w->bytes == n && memcmp(w->text, s, (size_t)n) == 0) {
            w->count++;
            return;
        }
    }
    if (ws->n == ws->cap) {
        ws->cap = ws->cap ? ws->cap * 2 : 4096;
        ws->w = realloc(ws->w, ws->cap * sizeof *ws->w);
    }
    word_t *w = &ws->w[ws->n];
    w->count = 1;
    w->text = malloc((size_t)n);
    memcpy(w->text, s, (size_t)n);
    w->bytes = n;
    w->sym = NULL;
    w->n = 0;
    ws->slots[i] = ++ws->n;
}

/* Words of one document as the engine sees it: " " + text; a space starts a
 * word, a newline is a word of its own. */
static void split_document(words_t *ws, const char *doc, size_t len, char *buf) {
    size_t n = 0;
    buf[n++] = ' ';
    for (size_t i = 0; i < len; i++) {
        char c = doc[i];
        if ((c == ' ' || c == '\n') && n > 0) {
            words_add(ws, buf, (int)n);
            n = 0;
        }
        buf[n++] = c;
        if (c == '\n') {
            words_add(ws, buf, (int)n);
            n = 0;
        }
    }
    if (n) words_add(ws, buf, (int)n);
}

/* A unit as run.c's encoder reads one: a byte and up to three following
 * continuation bytes. */
static int unit_length(const char *s, int i, int n) {
    int len = 1;
    while (i + len < n && len < 4 && ((unsigned char)s[i + len] & 0xC0) == 0x80) len++;
    return len;
}

/* ---- the greedy merge, as pl_tokenizer_encode does it --------------------- */

static int pair_id(const vocab_t *v, int a, int b, char *buf) {
    memcpy(buf, v->str[a], (size_t)v->len[a]);
    memcpy(buf + v->len[a], v->str[b], (size_t)v->len[b]);
    int id = vocab_find(v, buf, v->len[a] + v->len[b]);
    return id >= 0 && v->score[id] > NO_MERGE_SCORE ? id : -1;
}

static void merge_greedily(const vocab_t *v, word_t *w, char *buf) {
    for (;;) {
        float best = NO_MERGE_SCORE;
        int at = -1, best_id = -1;
        for (int i = 0; i + 1 < w->n; i++) {
            int id = pair_id(v, w->sym[i], w->sym[i + 1], buf);
            if (id >= 0 && v->score[id] > best) {
                best = v->score[id];
                at = i;
                best_id = id;
            }
        }
        if (at < 0) return;
        w->sym[at] = best_id;
        memmove(&w->sym[at + 1], &w->sym[at + 2], sizeof(int) * (size_t)(w->n - at - 2));
        w->n--;
    }
}

/* ---- pair counting ------------------------------------------------------- */

typedef struct {
    uint64_t key, count;
} pair_slot;

int pl_cmd_train_tokenizer(int argc, char **argv) {
    const char *corpus_path = NULL, *out = NULL;
    long vocab_size = 0;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "picollama: flag %s needs a value\n", argv[i]);
            return PL_EXIT_USAGE;
        }
        if (!strcmp(argv[i], "--corpus")) corpus_path = argv[i + 1];
        else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
        else if (!strcmp(argv[i], "--vocab")) {
            int rc = pl_arg_long("--vocab", argv[i + 1], 260, 65536, &vocab_size);
            if (rc) return rc;
        }
        else {
            fprintf(stderr, "picollama: unknown flag '%s'\n", argv[i]);
            return PL_EXIT_USAGE;
        }
    }
    if (!corpus_path || !out || vocab_size < 260 || vocab_size > 65536) {
        fprintf(stderr, "usage: picollama train-tokenizer --corpus FILE --vocab N --out TOK.bin\n"
                        "       (N from 260 to 65536: 259 ids are <unk>, <s>, </s> and the 256 bytes)\n");
        return PL_EXIT_USAGE;
    }
    uint64_t tokens;
    return pl_bpe_train(corpus_path, (int)vocab_size, out, &tokens);
}

int pl_bpe_train(const char *corpus_path, int vocab_size, const char *out, uint64_t *corpus_tokens) {
    const char *inputs[] = {corpus_path};
    int rc = pl_output_check(out, inputs, 1);
    if (rc) return rc;
    pl_corpus corpus;
    if ((rc = pl_corpus_load(&corpus, corpus_path))) return rc;

    /* Words and their counts. */
    words_t ws;
    memset(&ws, 0, sizeof ws);
    size_t longest = 0;
    for (size_t d = 0; d < corpus.n_docs; d++)
        if (corpus.doc_bytes[d] > longest) longest = corpus.doc_bytes[d];
    char *buf = malloc(longest + 2);
    for (size_t d = 0; d < corpus.n_docs; d++) split_document(&ws, corpus.docs[d], corpus.doc_bytes[d], buf);
    free(buf);

    /* The alphabet: units seen at least twice, in order of first appearance
     * by count (most frequent first, ties by bytes). */
    vocab_t v;
    memset(&v, 0, sizeof v);
    v.cap = (int)vocab_size;
    v.str = calloc((size_t)v.cap, sizeof *v.str);
    v.len = calloc((size_t)v.cap, sizeof *v.len);
    v.score = calloc((size_t)v.cap, sizeof *v.score);
    v.n_slots = 1;
    while (v.n_slots < (size_t)v.cap * 4) v.n_slots <<= 1;
    v.slots = calloc(v.n_slots, sizeof *v.slots);
    vocab_add(&v, "<unk>", 5, NO_MERGE_SCORE);
    vocab_add(&v, "\n<s>\n", 5, NO_MERGE_SCORE);
    vocab_add(&v, "\n</s>\n", 6, NO_MERGE_SCORE);
    for (int b = 0; b < 256; b++) {
        char piece[8];
        snprintf(piece, sizeof piece, "<0x%02X>", b);
        vocab_add(&v, piece, 6, NO_MERGE_SCORE);
    }
    {
        /* count units */
        vocab_t units;
        memset(&units, 0, sizeof units);
        units.cap = 1 << 16;
        units.str = calloc((size_t)units.cap, sizeof *units.str);
        units.len = calloc((size_t)units.cap, sizeof *units.len);
        units.score = calloc((size_t)units.cap, sizeof *units.score); /* used as count */
        units.n_slots = 1 << 18;
        units.slots = calloc(units.n_slots, sizeof *units.slots);
        for (size_t k = 0; k < ws.n; k++) {
            word_t *w = &ws.w[k];
            for (int i = 0; i < w->bytes;) {
                int l = unit_length(w->text, i, w->bytes);
                int id = vocab_find(&units, w->text + i, l);
                if (id < 0 && units.n < units.cap) id = vocab_add(&units, w->text + i, l, 0.0f);
                if (id >= 0) units.score[id] += (float)w->count;
                i += l;
            }
        }
        /* most frequent first; ties by bytes, so the order is repeatable */
        int *order = malloc(sizeof(int) * (size_t)units.n);
        for (int i = 0; i < units.n; i++) order[i] = i;
        for (int i = 1; i < units.n; i++) { /* insertion sort: a few hundred units */
            int x = order[i], j = i - 1;
            while (j >= 0) {
                int y = order[j];
                int before = units.score[x] > units.score[y] ||
                             (units.score[x] == units.score[y] &&
                              (units.len[x] < units.len[y] ||
                               (units.len[x] == units.len[y] && memcmp(units.str[x], units.str[y], (size_t)units.len[x]) < 0)));
                if (!before) break;
                order[j + 1] = y;
                j--;
            }
            order[j + 1] = x;
        }
        vocab_add(&v, " ", 1, NO_MERGE_SCORE); /* the dummy prefix, always */
        for (int i = 0; i < units.n && v.n < v.cap; i++) {
            int u = order[i];
            if (units.score[u] >= 2.0f && !(units.len[u] == 1 && units.str[u][0] == ' '))
                vocab_add(&v, units.str[u], units.len[u], NO_MERGE_SCORE);
        }
        free(order);
        for (int i = 0; i < units.n; i++) free(units.str[i]);
        free(units.str);
        free(units.len);
        free(units.score);
        free(units.slots);
    }
    int alphabet_end = v.n;

    /* Initial symbols: alphabet units, or their bytes. */
    for (size_t k = 0; k < ws.n; k++) {
        word_t *w = &ws.w[k];
        w->sym = malloc(sizeof(int) * (size_t)w->bytes);
        for (int i = 0; i < w->bytes;) {
            int l = unit_length(w->text, i, w->bytes);
            int id = vocab_find(&v, w->text + i, l);
            if (id >= 259) { /* an alphabet unit */
                w->sym[w->n++] = id;
            } else {
                for (int b = 0; b < l; b++) w->sym[w->n++] = 3 + (unsigned char)w->text[i + b];
            }
            i += l;
        }
    }

    /* Merges. */
    size_t n_slots = 1u << 20;
    pair_slot *pairs = malloc(n_slots * sizeof *pairs);
    int max_len = 6;
    for (int i = 0; i < v.n; i++)
        if (v.len[i] > max_len) max_len = v.len[i];
    char *joined = malloc(4096);
    int merges = 0;
    while (v.n < v.cap) {
        memset(pairs, 0, n_slots * sizeof *pairs);
        uint64_t best_count = 0, best_key = 0;
        for (size_t k = 0; k < ws.n; k++) {
            word_t *w = &ws.w[k];
            for (int i = 0; i + 1 < w->n; i++) {
                if (w->sym[i] < 259 || w->sym[i + 1] < 259) continue; /* bytes never merge */
                uint64_t key = ((uint64_t)w->sym[i] << 32) | (uint32_t)w->sym[i + 1];
                size_t s = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 44) & (n_slots - 1);
                while (pairs[s].count && pairs[s].key != key) s = (s + 1) & (n_slots - 1);
                pairs[s].key = key;
                pairs[s].count += w->count;
            }
        }
        for (size_t s = 0; s < n_slots; s++) {
            if (!pairs[s].count) continue;
            uint64_t key = pairs[s].key;
            int a = (int)(key >> 32), b = (int)(uint32_t)key;
            if (v.len[a] + v.len[b] > 4000) continue;
            if (pairs[s].count > best_count || (pairs[s].count == best_count && key < best_key)) {
                /* a pair that spells an existing (unmergeable) token cannot
                 * become a second token with the same text */
                memcpy(joined, v.str[a], (size_t)v.len[a]);
                memcpy(joined + v.len[a], v.str[b], (size_t)v.len[b]);
                if (vocab_find(&v, joined, v.len[a] + v.len[b]) >= 0) continue;
                best_count = pairs[s].count;
                best_key = key;
            }
        }
        if (best_count < 2) break; /* nothing repeats: the vocabulary is done */
        int a = (int)(best_key >> 32), b = (int)(uint32_t)best_key;
        memcpy(joined, v.str[a], (size_t)v.len[a]);
        memcpy(joined + v.len[a], v.str[b], (size_t)v.len[b]);
        int len = v.len[a] + v.len[b];
        merges++;
        int t = vocab_add(&v, joined, len, -(float)merges);
        if (len > max_len) max_len = len;
        /* Carry on the greedy encoding of every word where the new token can
         * form: a pair spelling it. */
        for (size_t k = 0; k < ws.n; k++) {
            word_t *w = &ws.w[k];
            for (int i = 0; i + 1 < w->n; i++) {
                int x = w->sym[i], y = w->sym[i + 1];
                if (v.len[x] + v.len[y] == len && memcmp(v.str[x], joined, (size_t)v.len[x]) == 0 &&
                    memcmp(v.str[y], joined + v.len[x], (size_t)v.len[y]) == 0) {
                    merge_greedily(&v, w, joined + len + 1);
                    break;
                }
            }
        }
        (void)t;
    }
    free(pairs);

    /* Pad with unused pieces if the corpus ran out of repeated pairs. */
    for (int i = 0; v.n < v.cap; i++) {
        char piece[32];
        int n = snprintf(piece, sizeof piece, "<unused%d>", i);
        vocab_add(&v, piece, n, NO_MERGE_SCORE);
        if (n > max_len) max_len = n;
    }

    /* Write tokenizer.bin. */
    pl_output o;
    if ((rc = pl_output_open(&o, out, inputs, 1)) == 0) {
        int32_t mtl = max_len;
        int ok = fwrite(&mtl, 4, 1, o.f) == 1;
        for (int i = 0; ok && i < v.n; i++) {
            int32_t l = v.len[i];
            ok = fwrite(&v.score[i], 4, 1, o.f) == 1 && fwrite(&l, 4, 1, o.f) == 1 &&
                 fwrite(v.str[i], 1, (size_t)l, o.f) == (size_t)l;
        }
        if (!ok) {
            fprintf(stderr, "picollama: cannot write %s\n", out);
            pl_output_discard(&o);
            rc = PL_EXIT_IOERR;
        } else {
            rc = pl_output_commit(&o);
        }
    }
    uint64_t tokens = 0;
    for (size_t k = 0; k < ws.n; k++) tokens += ws.w[k].count * (uint64_t)ws.w[k].n;
    *corpus_tokens = tokens;
    if (rc == 0)
        fprintf(stderr, "train-tokenizer: %d tokens (%d alphabet, %d merges), %zu distinct words, "
                        "%llu tokens for %zu bytes (%.3f bytes per token) on the corpus; wrote %s\n",
                v.n, alphabet_end - 259, merges, ws.n, (unsigned long long)tokens, corpus.total_bytes,
                (double)corpus.total_bytes / (double)tokens, out);
    free(joined);
    for (size_t k = 0; k < ws.n; k++) {
        free(ws.w[k].sym);
        free(ws.w[k].text);
    }
    free(ws.w);
    free(ws.slots);
    for (int i = 0; i < v.n; i++) free(v.str[i]);
    free(v.str);
    free(v.len);
    free(v.score);
    free(v.slots);
    pl_corpus_free(&corpus);
    return rc;
}
