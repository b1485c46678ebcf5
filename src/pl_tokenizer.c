/*
 * The tokenizer: llama2.c's tokenizer.bin, the original PicoLlama's
 * "tokenizer0" variant (a NUL byte after each piece) and PicoLlama's indexed
 * variant, all read in place.
 *
 * tokenizer.bin: int32 max_token_length, then per token: float32 score,
 * int32 len, len bytes [, NUL]. Records are unaligned, so every field is
 * read with memcpy. Encoding and decoding reproduce run.c's encode() and
 * decode() plus safe_printf(): the same pieces, the same merges, the same
 * bytes printed.
 *
 * RAM: an offset per token (to reach a variable-length record) and the ids
 * in sorted order (for lookups), both in the large pool; a buffer to
 * NUL-terminate one piece; the prompt scratch.
 *
 * The indexed variant ("PLT1", written by `picollama tokenizer`) carries the
 * offsets and the sorted ids in the file, so they are used in place from
 * flash and need no RAM:
 *   uint32 magic "PLT1", int32 entries, int32 max_token_length,
 *   uint32 records_offset, uint32 offsets[entries] (of each piece's bytes),
 *   uint16 sorted[entries] (padded to 4 bytes), then tokenizer0 records.
 * Both tables are checked at open in one pass (each offset against the
 * record walk, the sorted order pair by pair), so a hostile file cannot
 * send a lookup out of bounds.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

/* ---- scanning and validation ------------------------------------------- */

typedef struct {
    pl_status status;
    int parsed;          /* records read before the status */
    size_t max_piece;
    size_t end;          /* offset after the last record read */
} scan_result;

static size_t piece_strlen(const uint8_t *s, size_t len) {
    const uint8_t *nul = memchr(s, 0, len);
    return nul ? (size_t)(nul - s) : len;
}

/* Walks vocab_size records; fills offsets when not NULL. */
static scan_result scan_records(const uint8_t *b, size_t size, size_t start,
                                int vocab_size, int max_len, int nul_terminated,
                                uint32_t *offsets, const uint8_t *expected,
                                pl_error *err) {
    scan_result r = {PL_OK, 0, 0, start};
    size_t off = start;
    for (int i = 0; i < vocab_size; i++) {
        int32_t len;
        if (off == size) {
            r.status = pl_fail(err, PL_ERR_TOKENIZER_VOCAB,
                               "tokenizer has %d entries; the model's vocabulary needs %d",
                               i, vocab_size);
            return r;
        }
        if (size - off < 8) {
            r.status = pl_fail(err, PL_ERR_TOKENIZER_TRUNCATED,
                               "tokenizer ends inside the header of token %d", i);
            return r;
        }
        len = pl_read_i32(b + off + 4);
        if (len < 0 || len > max_len) {
            r.status = pl_fail(err, PL_ERR_TOKENIZER_FORMAT,
                               "token %d is %ld bytes long; max_token_length is %d",
                               i, (long)len, max_len);
            return r;
        }
        off += 8;
        if (size - off < (size_t)len + (size_t)nul_terminated) {
            r.status = pl_fail(err, PL_ERR_TOKENIZER_TRUNCATED,
                               "tokenizer ends inside the text of token %d", i);
            return r;
        }
        if (nul_terminated && b[off + (size_t)len] != 0) {
            r.status = pl_fail(err, PL_ERR_TOKENIZER_FORMAT,
                               "token %d is not followed by a NUL byte", i);
            return r;
        }
        if (offsets) offsets[i] = (uint32_t)off;
        if (expected && (uint32_t)pl_read_i32(expected + 4 * (size_t)i) != (uint32_t)off) {
            r.status = pl_fail(err, PL_ERR_TOKENIZER_FORMAT,
                               "the index's offset of token %d does not match its record", i);
            return r;
        }
        size_t plen = piece_strlen(b + off, (size_t)len);
        if (plen > r.max_piece) r.max_piece = plen;
        off += (size_t)len + (size_t)nul_terminated;
        r.parsed = i + 1;
        r.end = off;
    }
    return r;
}



static int id_before(const pl_tokenizer *t, uint16_t x, uint16_t y);

/* The indexed variant: header, offsets checked against the record walk,
 * sorted ids checked to be in strictly increasing (piece, id) order (which
 * also makes them a permutation). */
static pl_status scan_indexed(pl_tokenizer *t, const uint8_t *b, size_t size,
                              int vocab_size, pl_error *err) {
    int32_t entries, max_len;
    uint32_t records;
    scan_result r;
    if (size < 16)
        return pl_fail(err, PL_ERR_TOKENIZER_TRUNCATED, "indexed tokenizer shorter than its header");
    entries = pl_read_i32(b + 4);
    max_len = pl_read_i32(b + 8);
    records = (uint32_t)pl_read_i32(b + 12);
    if (entries < vocab_size)
        return pl_fail(err, PL_ERR_TOKENIZER_VOCAB,
                       "tokenizer has %ld entries; the model's vocabulary needs %d",
                       (long)entries, vocab_size);
    if (max_len <= 0)
        return pl_fail(err, PL_ERR_TOKENIZER_FORMAT,
                       "tokenizer max_token_length is %ld; it must be positive", (long)max_len);
    if (entries > 65536 || records != 16u + 4u * (uint32_t)entries + (((uint32_t)entries * 2u + 3u) & ~3u))
        return pl_fail(err, PL_ERR_TOKENIZER_FORMAT, "indexed tokenizer header is inconsistent");
    if (size < records)
        return pl_fail(err, PL_ERR_TOKENIZER_TRUNCATED, "indexed tokenizer ends inside its index");
    t->max_token_length = max_len;
    t->nul_terminated = 1;
    r = scan_records(b, size, records, entries, max_len, 1, NULL, b + 16, err);
    if (r.status != PL_OK) return r.status;
    t->max_piece_len = r.max_piece;
    t->used_size = r.end;
    t->blob = b;
    t->size = size;
    t->vocab_size = entries;
    /* The tables are used in place only when they describe exactly the
     * model's vocabulary and can be read as aligned words; otherwise the
     * records are indexed in RAM like any tokenizer0 file. */
    if (entries == vocab_size && ((uintptr_t)b & 3u) == 0) {
        const uint16_t *sorted = (const uint16_t *)(b + 16 + 4 * (size_t)entries);
        t->offsets = (uint32_t *)(uintptr_t)(b + 16);
        for (int i = 0; i < entries; i++) {
            if (sorted[i] >= entries || (i > 0 && !id_before(t, sorted[i - 1], sorted[i]))) {
                t->offsets = NULL;
                return pl_fail(err, PL_ERR_TOKENIZER_FORMAT,
                               "the index's sorted order is wrong at entry %d", i);
            }
        }
        t->sorted = (uint16_t *)(uintptr_t)sorted;
        t->index_in_place = 1;
    }
    t->records_offset = records;
    t->vocab_size = vocab_size;
    return PL_OK;
}

pl_status pl_tokenizer_scan(pl_tokenizer *t, const void *blob, size_t size,
                            int vocab_size, pl_error *err) {
    const uint8_t *b = (const uint8_t *)blob;
    scan_result nul, plain;
    pl_error nul_err;

    memset(t, 0, sizeof *t);
    if (!blob) return pl_fail(err, PL_ERR_ARGUMENT, "tokenizer must not be NULL");
    if (size > UINT32_MAX)
        return pl_fail(err, PL_ERR_TOKENIZER_FORMAT, "tokenizer is larger than 4 GB");
    if (size < 4)
        return pl_fail(err, PL_ERR_TOKENIZER_TRUNCATED,
                       "tokenizer is %u bytes, shorter than its header", (unsigned)size);
    if ((uint32_t)pl_read_i32(b) == PLT_MAGIC)
        return scan_indexed(t, b, size, vocab_size, err);
    t->max_token_length = pl_read_i32(b);
    t->records_offset = 4;
    if (t->max_token_length <= 0)
        return pl_fail(err, PL_ERR_TOKENIZER_FORMAT,
                       "tokenizer max_token_length is %d; it must be positive",
                       t->max_token_length);
    /* The two variants differ only in the NUL after each piece. A file read
     * as the wrong variant goes astray within a record or two, so the reading
     * that gets further is the file's; the NUL-terminated one is tried first
     * because its check is the stricter. */
    nul = scan_records(b, size, 4, vocab_size, t->max_token_length, 1, NULL, NULL, &nul_err);
    if (nul.status == PL_OK) {
        t->nul_terminated = 1;
        t->max_piece_len = nul.max_piece;
        t->used_size = nul.end;
    } else {
        plain = scan_records(b, size, 4, vocab_size, t->max_token_length, 0, NULL, NULL, err);
        if (plain.status != PL_OK) {
            if (nul.parsed > plain.parsed) {
                if (err) *err = nul_err;
                return nul.status;
            }
            return plain.status;
        }
        t->max_piece_len = plain.max_piece;
        t->used_size = plain.end;
    }
    t->blob = b;
    t->size = size;
    t->vocab_size = vocab_size;
    return PL_OK;
}

void pl_tokenizer_layout(pl_tokenizer *t, pl_arena *fast, pl_arena *large) {
    uint64_t vocab = (uint64_t)t->vocab_size;
    /* +2: room for a decoded <0xXX> byte and its NUL even in a vocabulary of
     * empty pieces. */
    t->piece_buf = pl_arena_take(fast, t->max_piece_len + 2u);
    if (t->index_in_place) return; /* offsets and sorted ids are in the file */
    t->offsets = pl_arena_take(large, vocab * sizeof(uint32_t));
    t->sorted = pl_arena_take(large, vocab * sizeof(uint16_t));
}

void pl_tokenizer_layout_prompt(pl_tokenizer *t, size_t max_prompt_bytes,
                                pl_arena *large) {
    /* run.c's bound: a byte becomes at most one token, plus BOS, the dummy
     * prefix and one spare. */
    uint64_t cap = (uint64_t)max_prompt_bytes + 3u;
    t->scratch_tokens = pl_arena_take(large, cap * sizeof(int32_t));
    t->scratch_pair_id = pl_arena_take(large, cap * sizeof(int32_t));
    t->scratch_pair_score = pl_arena_take(large, cap * sizeof(float));
    t->scratch_next = pl_arena_take(large, cap * sizeof(int32_t));
    t->scratch_prev = pl_arena_take(large, cap * sizeof(int32_t));
    t->scratch_heap = pl_arena_take(large, cap * sizeof(int32_t));
    t->scratch_heap_at = pl_arena_take(large, cap * sizeof(int32_t));
    t->scratch_capacity = (size_t)cap;
}

const char *pl_tokenizer_piece(const pl_tokenizer *t, int id, size_t *len) {
    const uint8_t *p = t->blob + t->offsets[id];
    *len = piece_strlen(p, (size_t)pl_read_i32(p - 4));
    return (const char *)p;
}

float pl_tokenizer_score(const pl_tokenizer *t, int id) {
    return pl_read_f32(t->blob + t->offsets[id] - 8);
}

/* ---- sorted index ------------------------------------------------------ */

/* strcmp order of the concatenation a+b against piece p. */
static int compare_concat(const uint8_t *a, size_t alen, const uint8_t *b,
                          size_t blen, const uint8_t *p, size_t plen) {
    size_t n = alen + blen;
    for (size_t i = 0; i < n; i++) {
        int c = i < alen ? a[i] : b[i - alen];
        if (i == plen) return 1;
        if (c != p[i]) return c - (int)p[i];
    }
    return n == plen ? 0 : -1;
}

/* (piece, id) order: strcmp order, and ids ascending among equal pieces,
 * which is the order run.c's stable qsort leaves them in. */
static int id_before(const pl_tokenizer *t, uint16_t x, uint16_t y) {
    size_t lx, ly;
    const uint8_t *px = (const uint8_t *)pl_tokenizer_piece(t, x, &lx);
    const uint8_t *py = (const uint8_t *)pl_tokenizer_piece(t, y, &ly);
    int c = compare_concat(px, lx, NULL, 0, py, ly);
    return c < 0 || (c == 0 && x < y);
}

static void sift_down(const pl_tokenizer *t, uint16_t *a, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && id_before(t, a[child], a[child + 1])) child++;
        if (!id_before(t, a[root], a[child])) return;
        uint16_t tmp = a[root];
        a[root] = a[child];
        a[child] = tmp;
        root = child;
    }
}

void pl_tokenizer_index(pl_tokenizer *t) {
    size_t n = (size_t)t->vocab_size;
    if (t->index_in_place) return;
    scan_records(t->blob, t->size, t->records_offset, t->vocab_size,
                 t->max_token_length, t->nul_terminated, t->offsets, NULL, NULL);
    /* Heapsort: in place, no recursion, no allocation. */
    for (size_t i = 0; i < n; i++) t->sorted[i] = (uint16_t)i;
    for (size_t i = n / 2; i-- > 0;) sift_down(t, t->sorted, i, n);
    for (size_t end = n; end-- > 1;) {
        uint16_t tmp = t->sorted[0];
        t->sorted[0] = t->sorted[end];
        t->sorted[end] = tmp;
        sift_down(t, t->sorted, 0, end);
    }
}

/* Id of the piece equal to a+b, or -1. The probe sequence is glibc's
 * bsearch, so among duplicate pieces the same id is found as in run.c. */
static int lookup(const pl_tokenizer *t, const uint8_t *a, size_t alen,
                  const uint8_t *b, size_t blen) {
    size_t lo = 0, hi = (size_t)t->vocab_size;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2, plen;
        const uint8_t *p = (const uint8_t *)pl_tokenizer_piece(t, t->sorted[mid], &plen);
        int c = compare_concat(a, alen, b, blen, p, plen);
        if (c < 0) hi = mid;
        else if (c > 0) lo = mid + 1;
        else return t->sorted[mid];
    }
    return -1;
}

/* ---- encoding ----------------------------------------------------------- */

/*
 * The merges. run.c rescans every pair for the best score after each merge
 * (the first of equal scores wins; only scores above -1e10 count): O(n^2),
 * 15 s for a 100 KB prompt. Here the tokens are a linked list whose nodes
 * keep their first position, and the mergeable pairs sit in a binary heap
 * ordered by score, then by position: its top is the pair run.c's scan
 * finds, so the merges are run.c's, in O(n log n).
 */

/* The pair starting at node i (with the node after it), scored: the id of
 * the joined piece, or -1. */
static void score_pair(pl_tokenizer *t, int32_t i) {
    size_t la, lb;
    const uint8_t *a = (const uint8_t *)pl_tokenizer_piece(t, t->scratch_tokens[i], &la);
    const uint8_t *b = (const uint8_t *)pl_tokenizer_piece(t, t->scratch_tokens[t->scratch_next[i]], &lb);
    int id = lookup(t, a, la, b, lb);
    t->scratch_pair_id[i] = id;
    t->scratch_pair_score[i] = id >= 0 ? pl_tokenizer_score(t, id) : 0.0f;
}

/* run.c merges a pair only when its score beats -1e10 (NaN never does). */
static int mergeable(const pl_tokenizer *t, int32_t i) {
    return t->scratch_next[i] >= 0 && t->scratch_pair_id[i] != -1 && t->scratch_pair_score[i] > -1e10f;
}

/* Pair x goes before pair y: a higher score, or the same score earlier. */
static int merges_first(const pl_tokenizer *t, int32_t x, int32_t y) {
    float sx = t->scratch_pair_score[x], sy = t->scratch_pair_score[y];
    return sx > sy || (sx == sy && x < y);
}

static void heap_place(pl_tokenizer *t, size_t at, int32_t node) {
    t->scratch_heap[at] = node;
    t->scratch_heap_at[node] = (int32_t)at;
}

/* Moves the heap entry at `at` up or down to where it belongs. */
static void heap_fix(pl_tokenizer *t, size_t n, size_t at) {
    int32_t node = t->scratch_heap[at];
    while (at > 0 && merges_first(t, node, t->scratch_heap[(at - 1) / 2])) {
        heap_place(t, at, t->scratch_heap[(at - 1) / 2]);
        at = (at - 1) / 2;
    }
    for (;;) {
        size_t child = 2 * at + 1;
        if (child >= n) break;
        if (child + 1 < n && merges_first(t, t->scratch_heap[child + 1], t->scratch_heap[child])) child++;
        if (!merges_first(t, t->scratch_heap[child], node)) break;
        heap_place(t, at, t->scratch_heap[child]);
        at = child;
    }
    heap_place(t, at, node);
}

static void heap_remove(pl_tokenizer *t, size_t *n, int32_t node) {
    int32_t at = t->scratch_heap_at[node];
    if (at < 0) return;
    t->scratch_heap_at[node] = -1;
    if ((size_t)at == --*n) return;
    heap_place(t, (size_t)at, t->scratch_heap[*n]);
    heap_fix(t, *n, (size_t)at);
}

/* Node i's pair changed (or its right neighbour did): rescored, and in the
 * heap exactly when it can merge. */
static void heap_rescore(pl_tokenizer *t, size_t *n, int32_t i) {
    if (t->scratch_next[i] >= 0) score_pair(t, i);
    if (!mergeable(t, i)) {
        heap_remove(t, n, i);
    } else if (t->scratch_heap_at[i] < 0) {
        size_t at = (*n)++;
        heap_place(t, at, i);
        heap_fix(t, *n, at);
    } else {
        heap_fix(t, *n, (size_t)t->scratch_heap_at[i]);
    }
}

/* Merges the n tokens in scratch_tokens as run.c does; returns the count. */
static size_t merge_pairs(pl_tokenizer *t, size_t n) {
    int32_t *next = t->scratch_next, *prev = t->scratch_prev;
    size_t heap_n = 0;
    for (size_t i = 0; i < n; i++) {
        next[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
        prev[i] = (int32_t)i - 1;
        t->scratch_heap_at[i] = -1;
    }
    for (size_t i = 0; i + 1 < n; i++) heap_rescore(t, &heap_n, (int32_t)i);
    size_t count = n;
    while (heap_n > 0) {
        int32_t a = t->scratch_heap[0], b = next[a];
        t->scratch_tokens[a] = t->scratch_pair_id[a];
        heap_remove(t, &heap_n, b);
        next[a] = next[b];
        if (next[b] >= 0) prev[next[b]] = a;
        count--;
        heap_rescore(t, &heap_n, a);
        if (prev[a] >= 0) heap_rescore(t, &heap_n, prev[a]);
    }
    /* back to an array, in order (each token moves down, never up) */
    size_t k = 0;
    for (int32_t i = n ? 0 : -1; i >= 0; i = next[i]) t->scratch_tokens[k++] = t->scratch_tokens[i];
    return count;
}

pl_status pl_tokenizer_encode(pl_tokenizer *t, const char *text, int add_bos,
                              int *n_tokens, pl_error *err) {
    int32_t *tokens = t->scratch_tokens;
    size_t n = 0, text_len = strlen(text);
    const uint8_t *c = (const uint8_t *)text;
    uint8_t buf[4];
    size_t buf_len = 0;

    *n_tokens = 0;
    if (text_len + 3u > t->scratch_capacity)
        return pl_fail(err, PL_ERR_PROMPT_TOO_LONG,
                       "prompt is %lu bytes; the engine was opened for at most %lu",
                       (unsigned long)text_len, (unsigned long)(t->scratch_capacity - 3u));
    if (add_bos) tokens[n++] = 1;
    if (text_len > 0) {
        int space = lookup(t, (const uint8_t *)" ", 1, NULL, 0);
        if (space < 0)
            return pl_fail(err, PL_ERR_PROMPT_ENCODING,
                           "the tokenizer has no \" \" piece for the dummy prefix "
                           "(every llama2.c tokenizer has one: is it this model's?)");
        tokens[n++] = space;
    }
    /* One token per UTF-8 code point (at most 4 bytes), else one per byte. */
    for (size_t i = 0; i < text_len; i++) {
        if ((c[i] & 0xC0) != 0x80) buf_len = 0;
        buf[buf_len++] = c[i];
        if ((c[i + 1] & 0xC0) == 0x80 && buf_len < 4) continue;
        int id = lookup(t, buf, buf_len, NULL, 0);
        if (id >= 0) {
            tokens[n++] = id;
        } else {
            for (size_t k = 0; k < buf_len; k++) {
                int byte_id = (int)buf[k] + 3; /* <0x00> is token 3 */
                if (byte_id >= t->vocab_size)
                    return pl_fail(err, PL_ERR_PROMPT_ENCODING,
                                   "byte 0x%02X has no piece and no <0x%02X> token in a %d-token vocabulary",
                                   buf[k], buf[k], t->vocab_size);
                tokens[n++] = byte_id;
            }
        }
        buf_len = 0;
    }
    n = merge_pairs(t, n);
    *n_tokens = (int)n;
    return PL_OK;
}

/* ---- decoding ----------------------------------------------------------- */

static int hex_value(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* run.c's sscanf(piece, "<0x%02hhX>"): "<0x" and one or two hex digits. */
static int parse_byte_piece(const char *p, size_t len) {
    if (len < 4 || p[0] != '<' || p[1] != '0' || p[2] != 'x') return -1;
    int hi = hex_value((unsigned char)p[3]);
    if (hi < 0) return -1;
    int lo = len > 4 ? hex_value((unsigned char)p[4]) : -1;
    return lo < 0 ? hi : hi * 16 + lo;
}

/* isprint() || isspace() in the C locale. */
static int printable_or_space(unsigned char ch) {
    return (ch >= 0x20 && ch <= 0x7E) || (ch >= 0x09 && ch <= 0x0D);
}

const char *pl_tokenizer_decode(pl_tokenizer *t, int prev_token, int token) {
    size_t len;
    const char *piece = pl_tokenizer_piece(t, token, &len);
    int byte;
    if (prev_token == 1 && len > 0 && piece[0] == ' ') {
        piece++;
        len--;
    }
    byte = parse_byte_piece(piece, len);
    if (byte >= 0) {
        t->piece_buf[0] = (char)byte;
        t->piece_buf[1] = '\0';
        len = byte == 0 ? 0 : 1;
        piece = t->piece_buf;
    }
    /* safe_printf: nothing for an empty piece or a lone unprintable byte. */
    if (len == 0 || (len == 1 && !printable_or_space((unsigned char)piece[0])))
        return "";
    if (piece == t->piece_buf || (t->nul_terminated && piece[len] == '\0'))
        return piece;
    memcpy(t->piece_buf, piece, len);
    t->piece_buf[len] = '\0';
    return t->piece_buf;
}

size_t pl_tokenizer_size(const void *tokenizer, size_t max_size, int vocab_size) {
    pl_tokenizer t;
    if (pl_tokenizer_scan(&t, tokenizer, max_size, vocab_size, NULL) != PL_OK) return 0;
    return t.used_size;
}
