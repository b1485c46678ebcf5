/*
 * Checkpoint formats: llama2.c's export.py versions 0, 1 and 2, and
 * PicoLlama's own (docs/model-format.md). Every format is read into one
 * table of tensors (pl_model_info.tensors): where each starts, its type,
 * group size and bytes; everything after the header works from the table.
 *
 * The header is validated completely, and the blob's length checked against
 * what the config implies, before any weight is touched. All size arithmetic
 * is 64-bit and every dimension is bounded first, so no hostile header can
 * overflow it on a 32-bit microcontroller.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"


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

static const char *const tensor_names[PL_TENSOR_COUNT] = {
    "rms_att", "rms_ffn", "rms_final", "embedding", "wq", "wk", "wv", "wo", "w1", "w2", "w3", "wcls"};

const char *pl_tensor_name(pl_tensor_id id) {
    return (unsigned)id < PL_TENSOR_COUNT ? tensor_names[id] : "unknown";
}

/* Each tensor's shape: layers, rows, cols. */
static void tensor_shapes(pl_model_info *m) {
    int kv_dim = m->dim / m->n_heads * m->n_kv_heads, L = m->n_layers;
    static const struct { pl_tensor_id id; int per_layer; } norms[3] = {
        {PL_TENSOR_RMS_ATT, 1}, {PL_TENSOR_RMS_FFN, 1}, {PL_TENSOR_RMS_FINAL, 0}};
    for (int i = 0; i < 3; i++) {
        pl_tensor_info *t = &m->tensors[norms[i].id];
        t->layers = norms[i].per_layer ? L : 1;
        t->rows = 1;
        t->cols = m->dim;
    }
#define SHAPE(id, l, r, c) (m->tensors[id].layers = (l), m->tensors[id].rows = (r), m->tensors[id].cols = (c))
    SHAPE(PL_TENSOR_EMBEDDING, 1, m->vocab_size, m->dim);
    SHAPE(PL_TENSOR_WQ, L, m->dim, m->dim);
    SHAPE(PL_TENSOR_WK, L, kv_dim, m->dim);
    SHAPE(PL_TENSOR_WV, L, kv_dim, m->dim);
    SHAPE(PL_TENSOR_WO, L, m->dim, m->dim);
    SHAPE(PL_TENSOR_W1, L, m->hidden_dim, m->dim);
    SHAPE(PL_TENSOR_W2, L, m->dim, m->hidden_dim);
    SHAPE(PL_TENSOR_W3, L, m->hidden_dim, m->dim);
    SHAPE(PL_TENSOR_WCLS, 1, m->vocab_size, m->dim);
#undef SHAPE
}

/* Bytes a tensor of its shape needs in a type. */
static uint64_t tensor_bytes(const pl_tensor_info *t, pl_wtype type, int group_size) {
    return (uint64_t)t->layers *
           pl_wtypes[type].layer_bytes((uint64_t)t->rows, (uint64_t)t->cols, group_size);
}

/* llama2.c's files: the tensors one after the other in the version's order,
 * fp32 norms, the matrices fp32 or int8; returns the end. Offsets are kept
 * 64-bit until the file's length has been checked against the end. */
static uint64_t llama2c_layout(pl_model_info *m, uint64_t offsets[PL_TENSOR_COUNT]) {
    static const pl_tensor_id v0_order[] = {
        PL_TENSOR_EMBEDDING, PL_TENSOR_RMS_ATT, PL_TENSOR_WQ, PL_TENSOR_WK, PL_TENSOR_WV,
        PL_TENSOR_WO, PL_TENSOR_RMS_FFN, PL_TENSOR_W1, PL_TENSOR_W2, PL_TENSOR_W3,
        PL_TENSOR_RMS_FINAL, PL_TENSOR_COUNT /* the old RoPE tables */, PL_TENSOR_WCLS};
    static const pl_tensor_id v1_order[] = {
        PL_TENSOR_RMS_ATT, PL_TENSOR_RMS_FFN, PL_TENSOR_RMS_FINAL, PL_TENSOR_EMBEDDING,
        PL_TENSOR_WQ, PL_TENSOR_WK, PL_TENSOR_WV, PL_TENSOR_WO, PL_TENSOR_W1, PL_TENSOR_W2,
        PL_TENSOR_W3, PL_TENSOR_WCLS};
    int v0 = m->format == PL_FORMAT_LLAMA2C_V0;
    const pl_tensor_id *order = v0 ? v0_order : v1_order;
    int n = v0 ? (int)(sizeof v0_order / sizeof v0_order[0]) : (int)(sizeof v1_order / sizeof v1_order[0]);
    pl_wtype matrices = m->format == PL_FORMAT_LLAMA2C_V2 ? PL_WTYPE_Q8 : PL_WTYPE_F32;
    uint64_t at = m->weights_offset;
    for (int i = 0; i < n; i++) {
        pl_tensor_id id = order[i];
        if (id == PL_TENSOR_COUNT) { /* seq_len * head_size floats, skipped */
            at += 4u * (uint64_t)m->seq_len * (uint64_t)(m->dim / m->n_heads);
            continue;
        }
        pl_tensor_info *t = &m->tensors[id];
        int norm = id <= PL_TENSOR_RMS_FINAL;
        t->type = norm ? PL_WTYPE_F32 : matrices;
        t->group_size = t->type == PL_WTYPE_Q8 ? m->group_size : 0;
        if (id == PL_TENSOR_WCLS && m->shared_classifier) continue;
        offsets[id] = at;
        at += tensor_bytes(t, t->type, t->group_size);
    }
    return at;
}

/* Reads and checks the PicoLlama file's table. */
static pl_status picollama_layout(pl_model_info *m, const uint8_t *b, size_t size,
                                  uint64_t offsets[PL_TENSOR_COUNT], pl_error *err) {
    static const pl_wtype types[PLM_TYPE_COUNT] = {PL_WTYPE_F32, PL_WTYPE_Q8_ROWS, PL_WTYPE_Q4};
    for (int id = 0; id < PL_TENSOR_COUNT; id++) {
        const uint8_t *e = b + PLM_HEADER_BYTES + PLM_ENTRY_BYTES * (unsigned)id;
        pl_tensor_info *t = &m->tensors[id];
        unsigned code = e[PLM_ENTRY_TYPE], gs = (unsigned)e[PLM_ENTRY_GROUP] |
                                                (unsigned)e[PLM_ENTRY_GROUP + 1] << 8;
        uint64_t off = (uint32_t)pl_read_i32(e + PLM_ENTRY_OFFSET);
        uint64_t bytes = (uint32_t)pl_read_i32(e + PLM_ENTRY_BYTES_AT), want;
        const char *name = tensor_names[id];
        if (id == PL_TENSOR_WCLS && m->shared_classifier) {
            if (code || gs || off || bytes)
                return pl_fail(err, PL_ERR_MODEL_FORMAT,
                               "the classifier is shared, but its table entry is not empty");
            continue;
        }
        if (code >= PLM_TYPE_COUNT || e[1] != 0 || pl_read_i32(e + 12) != 0)
            return pl_fail(err, PL_ERR_MODEL_FORMAT, "tensor %s has unknown type %u", name, code);
        t->type = types[code];
        if (id <= PL_TENSOR_RMS_FINAL && t->type != PL_WTYPE_F32)
            return pl_fail(err, PL_ERR_MODEL_FORMAT, "norm %s must be fp32", name);
        if (!pl_wtypes[t->type].quantized) {
            if (gs != 0)
                return pl_fail(err, PL_ERR_MODEL_FORMAT, "fp32 tensor %s has a group size", name);
        } else if (gs == 0 || gs % (unsigned)pl_wtypes[t->type].group_multiple != 0 ||
                   gs > (unsigned)pl_wtypes[t->type].max_group_size) {
            return pl_fail(err, PL_ERR_MODEL_FORMAT,
                           "%s tensor %s: group size %u is not a multiple of %d up to %d", 
                           pl_wtypes[t->type].name, name, gs, pl_wtypes[t->type].group_multiple,
                           pl_wtypes[t->type].max_group_size);
        }
        t->group_size = (int)gs;
        want = tensor_bytes(t, t->type, t->group_size);
        if (bytes != want)
            return pl_fail(err, PL_ERR_MODEL_FORMAT, "tensor %s is %lu bytes; %s%s needs %lu",
                           name, (unsigned long)bytes, pl_wtypes[t->type].name,
                           gs ? " in its groups" : "", (unsigned long)want);
        if (off % PLM_ALIGN != 0 || off < PLM_DATA_OFFSET)
            return pl_fail(err, PL_ERR_MODEL_FORMAT,
                           "tensor %s at offset %lu: not a multiple of %u after the table",
                           name, (unsigned long)off, PLM_ALIGN);
        if (off + bytes > size)
            return pl_fail(err, PL_ERR_MODEL_TRUNCATED, "tensor %s ends at %lu, past the %lu-byte model",
                           name, (unsigned long)(off + bytes), (unsigned long)size);
        offsets[id] = off;
        if (pl_wtypes[t->type].quantized && (m->group_size == 0 || t->group_size < m->group_size))
            m->group_size = t->group_size;
    }
    return PL_OK;
}

/* The PicoLlama header: the config, flags and the tokenizer's place. */
static pl_status picollama_header(pl_model_info *m, const uint8_t *b, size_t size, pl_error *err) {
    uint32_t version, flags, count, file_bytes;
    if (size < PLM_DATA_OFFSET)
        return pl_fail(err, PL_ERR_MODEL_TRUNCATED,
                       "model is %u bytes, shorter than its %u-byte header and table",
                       (unsigned)size, (unsigned)PLM_DATA_OFFSET);
    version = (uint32_t)pl_read_i32(b + PLM_AT_VERSION);
    if (version != PLM_VERSION)
        return pl_fail(err, PL_ERR_MODEL_FORMAT,
                       "PicoLlama model version %lu; this build reads version %u",
                       (unsigned long)version, PLM_VERSION);
    flags = (uint32_t)pl_read_i32(b + PLM_AT_FLAGS);
    count = (uint32_t)pl_read_i32(b + PLM_AT_TENSOR_COUNT);
    file_bytes = (uint32_t)pl_read_i32(b + PLM_AT_FILE_BYTES);
    if ((flags & ~PLM_FLAG_SHARED_CLASSIFIER) != 0 || count != PL_TENSOR_COUNT ||
        pl_read_i32(b + 56) != 0 || pl_read_i32(b + 60) != 0)
        return pl_fail(err, PL_ERR_MODEL_FORMAT,
                       "PicoLlama header: unknown flags, reserved bytes or a tensor count other than %d",
                       PL_TENSOR_COUNT);
    if (file_bytes != size)
        return pl_fail(err, file_bytes > size ? PL_ERR_MODEL_TRUNCATED : PL_ERR_MODEL_LENGTH,
                       "model is %lu bytes; its header says %lu", (unsigned long)size,
                       (unsigned long)file_bytes);
    m->format = PL_FORMAT_PICOLLAMA;
    m->shared_classifier = (flags & PLM_FLAG_SHARED_CLASSIFIER) != 0;
    m->weights_offset = PLM_DATA_OFFSET;
    m->tokenizer_offset = (uint32_t)pl_read_i32(b + PLM_AT_TOKENIZER);
    m->tokenizer_size = (uint32_t)pl_read_i32(b + PLM_AT_TOKENIZER + 4);
    if (m->tokenizer_size == 0 ? m->tokenizer_offset != 0
                               : (m->tokenizer_offset % PLM_ALIGN != 0 ||
                                  m->tokenizer_offset < PLM_DATA_OFFSET ||
                                  m->tokenizer_size > size - m->tokenizer_offset ||
                                  m->tokenizer_offset > size))
        return pl_fail(err, PL_ERR_MODEL_FORMAT,
                       "the tokenizer inside (offset %lu, %lu bytes) is not aligned inside the file",
                       (unsigned long)m->tokenizer_offset, (unsigned long)m->tokenizer_size);
    return PL_OK;
}

pl_status pl_model_inspect(const void *model, size_t model_size,
                           pl_model_info *info, pl_error *err) {
    const uint8_t *b = (const uint8_t *)model;
    pl_model_info m;
    pl_status st;
    uint64_t want, offsets[PL_TENSOR_COUNT];

    pl_clear_error(err);
    if (!model || !info)
        return pl_fail(err, PL_ERR_ARGUMENT, "model and info must not be NULL");
    memset(&m, 0, sizeof m);
    memset(offsets, 0, sizeof offsets);
    if (model_size < 4)
        return pl_fail(err, PL_ERR_MODEL_TRUNCATED,
                       "model is %u bytes, shorter than any header",
                       (unsigned)model_size);
    if ((uint32_t)pl_read_i32(b) == PLT_MAGIC)
        return pl_fail(err, PL_ERR_MODEL_FORMAT,
                       "this is a tokenizer (PicoLlama's indexed form), not a model");
    if ((uint32_t)pl_read_i32(b) == PLM_MAGIC) {
        if ((st = picollama_header(&m, b, model_size, err)) != PL_OK) return st;
        b += PLM_AT_CONFIG;
    } else if ((uint32_t)pl_read_i32(b) == PL_MAGIC_AK42) {
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
    if ((st = validate_config(&m, err)) != PL_OK) {
        /* A tokenizer.bin read as a version-0 model: its first int32 (the
         * longest piece) passes for dim, the first score's bits do not. */
        if (m.format == PL_FORMAT_LLAMA2C_V0 && err && strlen(err->message) + 40 < sizeof err->message)
            strcat(err->message, " (is this a tokenizer, not a model?)");
        return st;
    }
    tensor_shapes(&m);
    if (m.format == PL_FORMAT_PICOLLAMA) {
        st = picollama_layout(&m, (const uint8_t *)model, model_size, offsets, err);
        if (st != PL_OK) return st;
        want = model_size; /* the header's length, checked above */
    } else {
        want = llama2c_layout(&m, offsets);
        if ((uint64_t)model_size < want)
            return pl_fail(err, PL_ERR_MODEL_TRUNCATED,
                           "model is %lu bytes; its config needs %lu",
                           (unsigned long)model_size, (unsigned long)want);
        if ((uint64_t)model_size > want)
            return pl_fail(err, PL_ERR_MODEL_LENGTH,
                           "model is %lu bytes; its config says %lu (wrong file or wrong header)",
                           (unsigned long)model_size, (unsigned long)want);
    }
    /* Everything ends inside the blob: offsets and sizes fit size_t now. */
    for (int id = 0; id < PL_TENSOR_COUNT; id++) {
        pl_tensor_info *t = &m.tensors[id];
        t->offset = (size_t)offsets[id];
        t->bytes = (size_t)tensor_bytes(t, t->type, t->group_size);
    }
    if (m.shared_classifier) m.tensors[PL_TENSOR_WCLS] = m.tensors[PL_TENSOR_EMBEDDING];
    m.expected_size = (size_t)want;
    *info = m;
    return PL_OK;
}

uint64_t pl_model_parameter_count(const pl_model_info *info) {
    pl_numel n = count_elements(info);
    return n.embedding + n.norms + n.layer_matrices + n.classifier;
}

uint64_t pl_tensor_bytes_per_token(const pl_model_info *info, pl_tensor_id id) {
    if ((unsigned)id >= PL_TENSOR_COUNT) return 0;
    const pl_tensor_info *t = &info->tensors[id];
    if (id == PL_TENSOR_EMBEDDING)
        return pl_wtypes[t->type].row_bytes((uint64_t)t->cols, t->group_size);
    return (uint64_t)t->bytes;
}

uint64_t pl_model_bytes_per_token(const pl_model_info *info) {
    uint64_t sum = 0;
    for (int id = 0; id < PL_TENSOR_COUNT; id++) sum += pl_tensor_bytes_per_token(info, (pl_tensor_id)id);
    return sum;
}

int pl_model_runq_mishandles(const pl_model_info *info) {
    return info->format == PL_FORMAT_LLAMA2C_V2 && info->hidden_dim % info->group_size != 0;
}

static pl_tensor tensor_at(const uint8_t *blob, const pl_tensor_info *t) {
    pl_tensor m;
    m.type = t->type;
    m.group_size = t->group_size;
    m.rows = t->rows;
    m.cols = t->cols;
    m.base = blob + t->offset;
    m.stride = t->bytes / (size_t)t->layers;
    return m;
}

pl_status pl_model_map_weights(const void *model, const pl_model_info *m,
                               pl_weights *w, pl_error *err) {
    const uint8_t *blob = (const uint8_t *)model;
    if (((uintptr_t)model & 3u) != 0)
        return pl_fail(err, PL_ERR_ALIGNMENT,
                       "model must start on a 4-byte boundary (declare the array aligned(4))");
    /* Each int8 block is followed by its fp32 scales: a group size that is a
     * multiple of 4 keeps every scale aligned (export.py uses 64 or 32). */
    if (m->format == PL_FORMAT_LLAMA2C_V2 && m->group_size % 4 != 0)
        return pl_fail(err, PL_ERR_UNSUPPORTED,
                       "int8 group size %d is not a multiple of 4", m->group_size);
    memset(w, 0, sizeof *w);
    w->rms_att = (const float *)(const void *)(blob + m->tensors[PL_TENSOR_RMS_ATT].offset);
    w->rms_ffn = (const float *)(const void *)(blob + m->tensors[PL_TENSOR_RMS_FFN].offset);
    w->rms_final = (const float *)(const void *)(blob + m->tensors[PL_TENSOR_RMS_FINAL].offset);
    w->embedding = tensor_at(blob, &m->tensors[PL_TENSOR_EMBEDDING]);
    w->wq = tensor_at(blob, &m->tensors[PL_TENSOR_WQ]);
    w->wk = tensor_at(blob, &m->tensors[PL_TENSOR_WK]);
    w->wv = tensor_at(blob, &m->tensors[PL_TENSOR_WV]);
    w->wo = tensor_at(blob, &m->tensors[PL_TENSOR_WO]);
    w->w1 = tensor_at(blob, &m->tensors[PL_TENSOR_W1]);
    w->w2 = tensor_at(blob, &m->tensors[PL_TENSOR_W2]);
    w->w3 = tensor_at(blob, &m->tensors[PL_TENSOR_W3]);
    w->wcls = tensor_at(blob, &m->tensors[PL_TENSOR_WCLS]);
    return PL_OK;
}

void pl_model_kv_traffic(const pl_model_info *m, int pos, uint64_t *read,
                         uint64_t *written) {
    uint64_t layers = (uint64_t)m->n_layers, dim = (uint64_t)m->dim;
    uint64_t kv_dim = dim / (uint64_t)m->n_heads * (uint64_t)m->n_kv_heads;
    *read = layers * 2u * ((uint64_t)pos + 1u) * dim * sizeof(float);
    *written = layers * 2u * kv_dim * sizeof(float);
}
