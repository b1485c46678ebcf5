/*
 * Checkpoint formats: llama2.c's export.py versions 0, 1 and 2.
 *
 * The header is validated completely, and the blob's length checked against
 * what the config implies, before any weight is touched. All size arithmetic
 * is 64-bit and every dimension is bounded first, so no hostile header can
 * overflow it on a 32-bit microcontroller.
 */
#include "pl_internal.h"

#define PL_MAGIC_AK42 0x616b3432u
#define PL_V1_HEADER_BYTES 256u
#define PL_V0_HEADER_BYTES 28u

/* Bounds far above anything a microcontroller (or llama2.c's run.c) runs,
 * low enough that products of three of them fit in 64 bits. The vocabulary
 * bound comes from the 16-bit token index the tokenizer and sampler keep. */
#define PL_MAX_DIM (1 << 16)
#define PL_MAX_HIDDEN (1 << 20)
#define PL_MAX_LAYERS (1 << 10)
#define PL_MAX_VOCAB (1 << 16)
#define PL_MAX_SEQ (1 << 20)

typedef struct {
    uint64_t embedding, norms, layer_matrices, classifier;
} pl_numel;

static pl_numel count_elements(const pl_model_info *m) {
    uint64_t dim = (uint64_t)m->dim, hidden = (uint64_t)m->hidden_dim;
    uint64_t kv_dim = dim * (uint64_t)m->n_kv_heads / (uint64_t)m->n_heads;
    uint64_t layers = (uint64_t)m->n_layers, vocab = (uint64_t)m->vocab_size;
    pl_numel n;
    n.embedding = vocab * dim;
    n.norms = layers * 2u * dim + dim;
    n.layer_matrices = layers * (2u * dim * dim + 2u * kv_dim * dim + 3u * dim * hidden);
    n.classifier = m->shared_classifier ? 0u : vocab * dim;
    return n;
}

/* The type of a format's matrices. */
static pl_wtype matrix_type(const pl_model_info *m) {
    return m->format == PL_FORMAT_LLAMA2C_V2 ? PL_WTYPE_Q8 : PL_WTYPE_F32;
}

/* Bytes of numel matrix values in the model's type (groups never straddle
 * tensors: every tensor has a factor dim, which the group size divides). */
static uint64_t matrix_bytes(const pl_model_info *m, uint64_t numel) {
    return pl_wtypes[matrix_type(m)].layer_bytes(numel, m->group_size);
}

static pl_status check_dimension(pl_error *err, const char *name, int value,
                                 int max) {
    if (value <= 0 || value > max)
        return pl_fail(err, PL_ERR_MODEL_DIMENSIONS,
                       "model %s is %d; it must be between 1 and %d", name,
                       value, max);
    return PL_OK;
}

static pl_status validate_config(pl_model_info *m, pl_error *err) {
    pl_status st;
    if ((st = check_dimension(err, "dim", m->dim, PL_MAX_DIM)) ||
        (st = check_dimension(err, "hidden_dim", m->hidden_dim, PL_MAX_HIDDEN)) ||
        (st = check_dimension(err, "n_layers", m->n_layers, PL_MAX_LAYERS)) ||
        (st = check_dimension(err, "n_heads", m->n_heads, m->dim)) ||
        (st = check_dimension(err, "n_kv_heads", m->n_kv_heads, m->n_heads)) ||
        (st = check_dimension(err, "vocab_size", m->vocab_size, PL_MAX_VOCAB)) ||
        (st = check_dimension(err, "seq_len", m->seq_len, PL_MAX_SEQ)))
        return st;
    if (m->vocab_size < 3)
        return pl_fail(err, PL_ERR_MODEL_DIMENSIONS,
                       "model vocab_size is %d; it needs at least <unk>, <s> and </s>",
                       m->vocab_size);
    if (m->dim % m->n_heads != 0)
        return pl_fail(err, PL_ERR_MODEL_HEADS,
                       "n_heads %d does not divide dim %d", m->n_heads, m->dim);
    if (m->n_heads % m->n_kv_heads != 0)
        return pl_fail(err, PL_ERR_MODEL_HEADS,
                       "n_kv_heads %d does not divide n_heads %d", m->n_kv_heads,
                       m->n_heads);
    if ((m->dim / m->n_heads) % 2 != 0)
        return pl_fail(err, PL_ERR_MODEL_HEADS,
                       "head size %d is odd; RoPE rotates pairs within a head",
                       m->dim / m->n_heads);
    if (m->format == PL_FORMAT_LLAMA2C_V2) {
        /* export.py's condition; every tensor has a dim factor, so each
         * splits into whole groups. hidden_dim need not divide: then w2's
         * groups straddle its rows, and the feed-forward activation ends
         * in a shorter group (runq.c mishandles both; the engine does not). */
        if (m->group_size <= 0 || m->dim % m->group_size != 0)
            return pl_fail(err, PL_ERR_MODEL_DIMENSIONS,
                           "int8 group size %d must be positive and divide dim %d",
                           m->group_size, m->dim);
    }
    return PL_OK;
}

static uint64_t expected_size(const pl_model_info *m) {
    pl_numel n = count_elements(m);
    int head_size = m->dim / m->n_heads;
    switch (m->format) {
    case PL_FORMAT_LLAMA2C_V0:
        /* seq_len * head_size floats: the old RoPE tables, skipped. */
        return PL_V0_HEADER_BYTES +
               4u * (n.embedding + n.norms + n.layer_matrices + n.classifier +
                     (uint64_t)m->seq_len * (uint64_t)head_size);
    case PL_FORMAT_LLAMA2C_V1:
        return PL_V1_HEADER_BYTES +
               4u * (n.embedding + n.norms + n.layer_matrices + n.classifier);
    case PL_FORMAT_LLAMA2C_V2:
        return PL_V1_HEADER_BYTES + 4u * n.norms +
               matrix_bytes(m, n.embedding + n.layer_matrices + n.classifier);
    }
    return 0;
}

pl_status pl_model_inspect(const void *model, size_t model_size,
                           pl_model_info *info, pl_error *err) {
    const uint8_t *b = (const uint8_t *)model;
    pl_model_info m;
    pl_status st;
    uint64_t want;

    pl_clear_error(err);
    if (!model || !info)
        return pl_fail(err, PL_ERR_ARGUMENT, "model and info must not be NULL");
    memset(&m, 0, sizeof m);
    if (model_size < 4)
        return pl_fail(err, PL_ERR_MODEL_TRUNCATED,
                       "model is %u bytes, shorter than any header",
                       (unsigned)model_size);
    if ((uint32_t)pl_read_i32(b) == PL_MAGIC_AK42) {
        int version;
        if (model_size < PL_V1_HEADER_BYTES)
            return pl_fail(err, PL_ERR_MODEL_TRUNCATED,
                           "model is %u bytes, shorter than its 256-byte header",
                           (unsigned)model_size);
        version = pl_read_i32(b + 4);
        if (version != 1 && version != 2)
            return pl_fail(err, PL_ERR_MODEL_FORMAT,
                           "checkpoint version %d is not one of 0, 1, 2", version);
        m.format = version == 1 ? PL_FORMAT_LLAMA2C_V1 : PL_FORMAT_LLAMA2C_V2;
        b += 8;
        m.shared_classifier = b[28] != 0; /* offset 36 of the file */
        if (version == 2) m.group_size = pl_read_i32(b + 29); /* offset 37, unaligned */
        m.weights_offset = PL_V1_HEADER_BYTES;
    } else {
        if (model_size < PL_V0_HEADER_BYTES)
            return pl_fail(err, PL_ERR_MODEL_TRUNCATED,
                           "model is %u bytes, shorter than its 28-byte header",
                           (unsigned)model_size);
        m.format = PL_FORMAT_LLAMA2C_V0;
        m.weights_offset = PL_V0_HEADER_BYTES;
    }
    m.dim = pl_read_i32(b);
    m.hidden_dim = pl_read_i32(b + 4);
    m.n_layers = pl_read_i32(b + 8);
    m.n_heads = pl_read_i32(b + 12);
    m.n_kv_heads = pl_read_i32(b + 16);
    m.vocab_size = pl_read_i32(b + 20);
    m.seq_len = pl_read_i32(b + 24);
    if (m.format == PL_FORMAT_LLAMA2C_V0) {
        /* Version 0 says "unshared classifier" with a negative vocab_size. */
        m.shared_classifier = m.vocab_size > 0;
        if (m.vocab_size < 0 && m.vocab_size != INT32_MIN) m.vocab_size = -m.vocab_size;
    }
    if ((st = validate_config(&m, err)) != PL_OK) return st;
    want = expected_size(&m);
    if ((uint64_t)model_size < want)
        return pl_fail(err, PL_ERR_MODEL_TRUNCATED,
                       "model is %lu bytes; its config needs %lu",
                       (unsigned long)model_size, (unsigned long)want);
    if ((uint64_t)model_size > want)
        return pl_fail(err, PL_ERR_MODEL_LENGTH,
                       "model is %lu bytes; its config says %lu (wrong file or wrong header)",
                       (unsigned long)model_size, (unsigned long)want);
    m.expected_size = (size_t)want;
    *info = m;
    return PL_OK;
}

uint64_t pl_model_parameter_count(const pl_model_info *info) {
    pl_numel n = count_elements(info);
    return n.embedding + n.norms + n.layer_matrices + n.classifier;
}

uint64_t pl_model_bytes_per_token(const pl_model_info *info) {
    pl_numel n = count_elements(info);
    uint64_t row = (uint64_t)info->dim;
    uint64_t classifier = (uint64_t)info->vocab_size * (uint64_t)info->dim;
    return 4u * n.norms + matrix_bytes(info, row + n.layer_matrices + classifier);
}

int pl_model_runq_mishandles(const pl_model_info *info) {
    return info->format == PL_FORMAT_LLAMA2C_V2 && info->hidden_dim % info->group_size != 0;
}

/* The next tensor at *p: `layers` matrices of rows x cols. */
static pl_tensor take(const uint8_t **p, const pl_model_info *m, int layers, size_t rows,
                      size_t cols) {
    pl_tensor t;
    t.type = matrix_type(m);
    t.group_size = m->group_size;
    t.rows = (int)rows;
    t.cols = (int)cols;
    t.base = *p;
    t.stride = (size_t)pl_wtypes[t.type].layer_bytes((uint64_t)rows * cols, m->group_size);
    *p += t.stride * (size_t)layers;
    return t;
}

pl_status pl_model_map_weights(const void *model, const pl_model_info *m,
                               pl_weights *w, pl_error *err) {
    const uint8_t *p;
    size_t dim = (size_t)m->dim, hidden = (size_t)m->hidden_dim, vocab = (size_t)m->vocab_size;
    size_t kv_dim = dim * (size_t)m->n_kv_heads / (size_t)m->n_heads;
    int L = m->n_layers;

    if (((uintptr_t)model & 3u) != 0)
        return pl_fail(err, PL_ERR_ALIGNMENT,
                       "model must start on a 4-byte boundary (declare the array aligned(4))");
    /* Each int8 block is followed by its fp32 scales: a group size that is a
     * multiple of 4 keeps every scale aligned (export.py uses 64 or 32). */
    if (m->format == PL_FORMAT_LLAMA2C_V2 && m->group_size % 4 != 0)
        return pl_fail(err, PL_ERR_UNSUPPORTED,
                       "int8 group size %d is not a multiple of 4", m->group_size);
    memset(w, 0, sizeof *w);
    p = (const uint8_t *)model + m->weights_offset;
    if (m->format == PL_FORMAT_LLAMA2C_V0) {
        w->embedding = take(&p, m, 1, vocab, dim);
        w->rms_att = (const float *)(const void *)p; p += (size_t)L * dim * 4;
        w->wq = take(&p, m, L, dim, dim);
        w->wk = take(&p, m, L, kv_dim, dim);
        w->wv = take(&p, m, L, kv_dim, dim);
        w->wo = take(&p, m, L, dim, dim);
        w->rms_ffn = (const float *)(const void *)p; p += (size_t)L * dim * 4;
        w->w1 = take(&p, m, L, hidden, dim);
        w->w2 = take(&p, m, L, dim, hidden);
        w->w3 = take(&p, m, L, hidden, dim);
        w->rms_final = (const float *)(const void *)p; p += dim * 4;
        p += (size_t)m->seq_len * (dim / (size_t)m->n_heads) * 4; /* old RoPE tables */
    } else {
        /* Versions 1 and 2 write the norms first, then the matrices. */
        w->rms_att = (const float *)(const void *)p; p += (size_t)L * dim * 4;
        w->rms_ffn = (const float *)(const void *)p; p += (size_t)L * dim * 4;
        w->rms_final = (const float *)(const void *)p; p += dim * 4;
        w->embedding = take(&p, m, 1, vocab, dim);
        w->wq = take(&p, m, L, dim, dim);
        w->wk = take(&p, m, L, kv_dim, dim);
        w->wv = take(&p, m, L, kv_dim, dim);
        w->wo = take(&p, m, L, dim, dim);
        w->w1 = take(&p, m, L, hidden, dim);
        w->w2 = take(&p, m, L, dim, hidden);
        w->w3 = take(&p, m, L, hidden, dim);
    }
    w->wcls = m->shared_classifier ? w->embedding : take(&p, m, 1, vocab, dim);
    return PL_OK;
}

void pl_model_kv_traffic(const pl_model_info *m, int pos, uint64_t *read,
                         uint64_t *written) {
    uint64_t layers = (uint64_t)m->n_layers, dim = (uint64_t)m->dim;
    uint64_t kv_dim = dim / (uint64_t)m->n_heads * (uint64_t)m->n_kv_heads;
    *read = layers * 2u * ((uint64_t)pos + 1u) * dim * sizeof(float);
    *written = layers * 2u * kv_dim * sizeof(float);
}
