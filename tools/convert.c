/*
 * The PicoLlama model file writer (docs/model-format.md). The engine's own
 * reader checks every file it writes before it is kept.
 */
#include "convert.h"

#include "pl_internal.h"
#include "tokenizer_writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const pl_convert_class_names[PL_CLASS_COUNT] = {"embedding", "attention", "ffn"};

int pl_convert_parse_type(const char *text, pl_convert_type *out) {
    static const struct { const char *name; pl_wtype type; } names[] = {
        {"fp32", PL_WTYPE_F32}, {"int8", PL_WTYPE_Q8_ROWS}, {"int4", PL_WTYPE_Q4}};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(names[i].name);
        if (strncmp(text, names[i].name, len) != 0) continue;
        const pl_wtype_traits *tr = &pl_wtypes[names[i].type];
        out->type = names[i].type;
        out->group_size = tr->quantized ? 32 : 0;
        if (text[len] == '\0') return 0;
        if (text[len] != ':' || !tr->quantized) return -1;
        char *end;
        long gs = strtol(text + len + 1, &end, 10);
        if (*end != '\0' || gs <= 0 || gs % tr->group_multiple != 0 || gs > tr->max_group_size)
            return -1;
        out->group_size = (int)gs;
        return 0;
    }
    return -1;
}

uint16_t pl_f32_to_f16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    uint32_t sign = (bits >> 16) & 0x8000u, e = (bits >> 23) & 0xffu, m = bits & 0x7fffffu;
    if (e == 0xff) return (uint16_t)(sign | 0x7c00u | (m ? 0x200u : 0u));
    float a = fabsf(f);
    if (a >= 65520.0f) return (uint16_t)(sign | 0x7bffu); /* would round to infinity */
    if (a < 6.103515625e-05f) { /* a subnormal half: a multiple of 2^-24 */
        float units = nearbyintf(a * 16777216.0f); /* exact scaling; ties to even */
        return (uint16_t)(sign | (uint32_t)units);
    }
    /* normal: round the 23-bit mantissa to 10 bits, ties to even */
    uint32_t half = ((e - 112u) << 10) | (m >> 13), rest = m & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++; /* may carry into the exponent: right */
    return (uint16_t)(sign | half);
}

/* A quantized value: v rounded, clamped to lo..hi. A NaN (a weight that is
 * NaN or infinite; convert refuses those, but quantization-aware training's
 * view meets them in a diverging run) is 0, never an undefined conversion. */
static int8_t to_q(float v, float lo, float hi) {
    if (!(v == v)) return 0;
    if (v > hi) v = hi;
    if (v < lo) v = lo;
    return (int8_t)v;
}

/* Values for a scale: nearest, clamped to -8..7; and the squared error. */
static float q4_try(const float *w, int n, float scale, int8_t *q) {
    float err = 0.0f;
    for (int i = 0; i < n; i++) {
        float v = to_q(scale != 0.0f ? nearbyintf(w[i] / scale) : 0.0f, -8.0f, 7.0f);
        q[i] = (int8_t)v;
        float d = w[i] - v * scale;
        err += d * d;
    }
    return err;
}

uint16_t pl_quantize_q4_group(const float *w, int n, int8_t *q) {
    float m = 0.0f; /* the value of largest magnitude, with its sign */
    for (int i = 0; i < n; i++)
        if (fabsf(w[i]) > fabsf(m)) m = w[i];
    int8_t trial[512];
    uint16_t best = 0;
    float best_err = q4_try(w, n, 0.0f, q);
    if (m == 0.0f) return 0;
    /* m / -8 puts the largest value on -8 (ggml's choice); smaller divisors
     * trade clipping of the extreme for finer steps elsewhere. */
    for (int k = 0; k <= 16; k++) {
        float t = -8.0f + 0.125f * (float)k; /* -8 .. -6 */
        for (int sign = 0; sign < 2; sign++) {
            float divisor = sign ? -t - 1.0f : t; /* also 7 .. 5 on the positive side */
            uint16_t h = pl_f32_to_f16(m / divisor);
            float err = q4_try(w, n, plk_f16_to_f32(h), trial);
            if (err < best_err) {
                best_err = err;
                best = h;
                memcpy(q, trial, (size_t)n);
            }
        }
    }
    return best;
}

/* One group in a quantized type: values q and the scale's bytes as the file
 * stores them (int8: fp32, export.py's max|w| / 127 with halves to even;
 * int4: fp16, pl_quantize_q4_group's). Returns the scale as a float: the
 * engine reads each weight as (float)q * scale. */
float pl_quantize_q8_group(const float *w, int n, int8_t *q) {
    float wmax = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(w[i]) > wmax) wmax = fabsf(w[i]);
    float scale = wmax / 127.0f;
    /* |w / scale| <= 127 for finite weights: the clamp only guards NaN */
    for (int i = 0; i < n; i++) q[i] = to_q(scale > 0.0f ? nearbyintf(w[i] / scale) : 0.0f, -127.0f, 127.0f);
    return scale;
}

static float quantize_group(const float *w, int n, pl_wtype type, int8_t *q, uint8_t *scale_at) {
    if (type == PL_WTYPE_Q8_ROWS) {
        float scale = pl_quantize_q8_group(w, n, q);
        memcpy(scale_at, &scale, 4);
        return scale;
    }
    uint16_t h = pl_quantize_q4_group(w, n, q);
    memcpy(scale_at, &h, 2);
    return plk_f16_to_f32(h);
}

void pl_convert_round_trip_row(float *row, int cols, pl_convert_type to) {
    if (to.type == PL_WTYPE_F32) return;
    int8_t q[512];
    uint8_t scale_bytes[4];
    for (int j0 = 0; j0 < cols; j0 += to.group_size) {
        int n = cols - j0 < to.group_size ? cols - j0 : to.group_size;
        float scale = quantize_group(row + j0, n, to.type, q, scale_bytes);
        for (int i = 0; i < n; i++) row[j0 + i] = (float)q[i] * scale;
    }
}

/* ---- writing --------------------------------------------------------------- */

typedef struct {
    FILE *f;
    int failed;
} writer;

static void put(writer *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->f) != n) w->failed = 1;
}

static void pad_to(writer *w, long align) {
    static const uint8_t zeros[16];
    long at = ftell(w->f);
    if (at < 0) w->failed = 1;
    else if (at % align) put(w, zeros, (size_t)(align - at % align));
}

/* One layer of a matrix in a row-grouped type, from its fp32 rows. */
static pl_status put_layer(writer *w, const pl_tensor *src, pl_tensor_id id, int layer, pl_convert_type to,
                           pl_error *err) {
    int rows = src->rows, cols = src->cols, gs = to.group_size;
    int groups = to.type == PL_WTYPE_F32 ? 0 : PLK_GROUPS(cols, gs);
    size_t row_bytes = to.type == PL_WTYPE_Q4 ? PLK_Q4_ROW_BYTES(cols) : PLK_Q8_ROW_BYTES(cols);
    size_t scale_bytes = to.type == PL_WTYPE_Q4 ? 2u : 4u;
    pl_tensor layer_t = *src;
    layer_t.base = pl_tensor_layer(src, layer);
    float *row = malloc((size_t)cols * sizeof(float));
    uint8_t *values = calloc((size_t)rows, row_bytes);
    uint8_t *scales = calloc((size_t)rows * (size_t)(groups ? groups : 1), scale_bytes);
    int8_t q[512];
    if (!row || !values || !scales) {
        free(row);
        free(values);
        free(scales);
        return pl_fail(err, PL_ERR_NO_MEMORY, "out of memory");
    }
    for (int r = 0; r < rows; r++) {
        pl_wtypes[src->type].read_row(row, &layer_t, r);
        if (to.type == PL_WTYPE_F32) {
            put(w, row, (size_t)cols * sizeof(float));
            continue;
        }
        for (int j = 0; j < cols; j++)
            if (!isfinite(row[j])) {
                const char *what = row[j] != row[j] ? "NaN" : "an infinite value";
                free(row);
                free(values);
                free(scales);
                return pl_fail(err, PL_ERR_MODEL_FORMAT,
                               "%s layer %d row %d holds %s at column %d: it cannot be quantized "
                               "(keep its class fp32)", pl_tensor_name(id), layer, r, what, j);
            }
        for (int g = 0; g < groups; g++) {
            int j0 = g * gs, n = cols - j0 < gs ? cols - j0 : gs;
            uint8_t *scale_at = scales + ((size_t)r * (size_t)groups + (size_t)g) * scale_bytes;
            quantize_group(row + j0, n, to.type, q, scale_at);
            for (int i = 0; i < n; i++) {
                int j = j0 + i;
                if (to.type == PL_WTYPE_Q8_ROWS) {
                    values[(size_t)r * row_bytes + (size_t)j] = (uint8_t)q[i];
                    continue;
                }
                uint8_t *word = values + (size_t)r * row_bytes + (size_t)(j / 8) * 4u;
                uint32_t v;
                memcpy(&v, word, 4);
                v |= ((uint32_t)q[i] & 15u) << PLK_Q4_SHIFT(j % 8);
                memcpy(word, &v, 4);
            }
        }
    }
    if (to.type != PL_WTYPE_F32) {
        put(w, values, (size_t)rows * row_bytes);
        put(w, scales, (size_t)rows * (size_t)groups * scale_bytes);
        pad_to(w, 4); /* int4 layers end on a word */
    }
    free(row);
    free(values);
    free(scales);
    return PL_OK;
}

/* The source's bytes serve unchanged: the same type and groups, or
 * llama2.c's int8 whose groups are the rows' (the same bytes exactly). */
static int same_bytes(const pl_tensor_info *t, pl_convert_type to) {
    if (t->type == to.type) return t->group_size == to.group_size;
    return t->type == PL_WTYPE_Q8 && to.type == PL_WTYPE_Q8_ROWS &&
           t->group_size == to.group_size && t->cols % t->group_size == 0;
}

static pl_tensor_class class_of(pl_tensor_id id) {
    if (id == PL_TENSOR_EMBEDDING || id == PL_TENSOR_WCLS) return PL_CLASS_EMBEDDING;
    if (id >= PL_TENSOR_W1) return PL_CLASS_FFN;
    return PL_CLASS_ATTENTION;
}

pl_status pl_convert_model(FILE *out, const void *model, size_t model_size, const void *tokenizer,
                           size_t tokenizer_size, const pl_convert_type types[PL_CLASS_COUNT],
                           pl_error *err) {
    pl_model_info m;
    pl_weights wts;
    pl_status st;
    writer w = {out, 0};
    uint8_t table[PLM_ENTRY_BYTES * PL_TENSOR_COUNT];
    const pl_tensor *mats[PL_TENSOR_COUNT] = {NULL};
    uint32_t tok_offset = 0, tok_bytes = 0;

    if ((st = pl_model_inspect(model, model_size, &m, err)) != PL_OK) return st;
    if ((st = pl_model_map_weights(model, &m, &wts, err)) != PL_OK) return st;
    if (!tokenizer && tokenizer_size == 0 && m.tokenizer_size == 0)
        return pl_fail(err, PL_ERR_ARGUMENT, "the model has no tokenizer inside: give one");
    mats[PL_TENSOR_EMBEDDING] = &wts.embedding;
    mats[PL_TENSOR_WQ] = &wts.wq;
    mats[PL_TENSOR_WK] = &wts.wk;
    mats[PL_TENSOR_WV] = &wts.wv;
    mats[PL_TENSOR_WO] = &wts.wo;
    mats[PL_TENSOR_W1] = &wts.w1;
    mats[PL_TENSOR_W2] = &wts.w2;
    mats[PL_TENSOR_W3] = &wts.w3;
    mats[PL_TENSOR_WCLS] = &wts.wcls;
    memset(table, 0, sizeof table);

    /* header and table last (their sizes are known now, the offsets later) */
    uint8_t zeros[PLM_DATA_OFFSET];
    memset(zeros, 0, sizeof zeros);
    put(&w, zeros, sizeof zeros);
    for (int id = 0; id < PL_TENSOR_COUNT; id++) {
        const pl_tensor_info *t = &m.tensors[id];
        uint8_t *e = table + PLM_ENTRY_BYTES * (unsigned)id;
        pl_convert_type to = {PL_WTYPE_F32, 0};
        if (id == PL_TENSOR_WCLS && m.shared_classifier) continue;
        if (id > PL_TENSOR_RMS_FINAL) to = types[class_of((pl_tensor_id)id)];
        pad_to(&w, PLM_ALIGN);
        long start = ftell(out);
        if (same_bytes(t, to)) {
            put(&w, (const uint8_t *)model + t->offset, t->bytes);
        } else {
            for (int l = 0; l < t->layers; l++)
                if ((st = put_layer(&w, mats[id], (pl_tensor_id)id, l, to, err)) != PL_OK) return st;
        }
        long end = ftell(out);
        e[PLM_ENTRY_TYPE] = to.type == PL_WTYPE_Q4 ? PLM_TYPE_Q4
                           : to.type == PL_WTYPE_Q8_ROWS ? PLM_TYPE_Q8 : PLM_TYPE_F32;
        e[PLM_ENTRY_GROUP] = (uint8_t)(to.group_size & 0xff);
        e[PLM_ENTRY_GROUP + 1] = (uint8_t)(to.group_size >> 8);
        uint32_t off32 = (uint32_t)start, bytes32 = (uint32_t)(end - start);
        memcpy(e + PLM_ENTRY_OFFSET, &off32, 4);
        memcpy(e + PLM_ENTRY_BYTES_AT, &bytes32, 4);
    }
    /* the tokenizer, indexed: the one given, or the model's own, read and
     * checked as the engine reads it (never copied unread: a damaged index
     * would pass into the new file) */
    pad_to(&w, PLM_ALIGN);
    tok_offset = (uint32_t)ftell(out);
    if (!tokenizer && tokenizer_size == 0) {
        tokenizer = (const uint8_t *)model + m.tokenizer_offset;
        tokenizer_size = m.tokenizer_size;
    }
    {
        pl_tokenizer t;
        pl_arena fast = {NULL, 0}, large = {NULL, 0};
        void *fast_mem, *large_mem;
        memset(&t, 0, sizeof t);
        if ((st = pl_tokenizer_scan(&t, tokenizer, tokenizer_size, m.vocab_size, err)) != PL_OK)
            return st;
        pl_tokenizer_layout(&t, &fast, &large);
        fast_mem = calloc(1, (size_t)fast.used + 8);
        large_mem = calloc(1, (size_t)large.used + 8);
        if (!fast_mem || !large_mem) {
            free(fast_mem);
            free(large_mem);
            return pl_fail(err, PL_ERR_NO_MEMORY, "out of memory");
        }
        fast.base = fast_mem;
        large.base = large_mem;
        fast.used = large.used = 0;
        pl_tokenizer_layout(&t, &fast, &large);
        pl_tokenizer_index(&t);
        if (pl_tokenizer_write(out, &t, t.vocab_size, "indexed") != 0) w.failed = 1;
        free(fast_mem);
        free(large_mem);
    }
    tok_bytes = (uint32_t)ftell(out) - tok_offset;
    long file_bytes = ftell(out);

    /* the header */
    uint8_t header[PLM_HEADER_BYTES];
    int32_t config[7] = {m.dim, m.hidden_dim, m.n_layers, m.n_heads, m.n_kv_heads, m.vocab_size,
                         m.seq_len};
    uint32_t u;
    memset(header, 0, sizeof header);
    u = PLM_MAGIC;
    memcpy(header, &u, 4);
    u = PLM_VERSION;
    memcpy(header + PLM_AT_VERSION, &u, 4);
    memcpy(header + PLM_AT_CONFIG, config, sizeof config);
    u = m.shared_classifier ? PLM_FLAG_SHARED_CLASSIFIER : 0u;
    memcpy(header + PLM_AT_FLAGS, &u, 4);
    memcpy(header + PLM_AT_TOKENIZER, &tok_offset, 4);
    memcpy(header + PLM_AT_TOKENIZER + 4, &tok_bytes, 4);
    u = PL_TENSOR_COUNT;
    memcpy(header + PLM_AT_TENSOR_COUNT, &u, 4);
    u = (uint32_t)file_bytes;
    memcpy(header + PLM_AT_FILE_BYTES, &u, 4);
    if (fseek(out, 0, SEEK_SET) != 0) w.failed = 1;
    put(&w, header, sizeof header);
    put(&w, table, sizeof table);
    if (fflush(out) != 0) w.failed = 1;
    if (w.failed || file_bytes > (long)UINT32_MAX)
        return pl_fail(err, PL_ERR_ARGUMENT, "could not write the model file (or it passed 4 GB)");
    return PL_OK;
}
