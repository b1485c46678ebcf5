#include "quantize.h"
#include "convert.h"

#include "pl_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static uint8_t *put(uint8_t *p, const void *src, size_t n) {
    memcpy(p, src, n);
    return p + n;
}

/* One layer's matrix: int8 values, then the group scales. */
static uint8_t *put_q8(uint8_t *p, const float *w, size_t numel, int gs) {
    int8_t *q = (int8_t *)p;
    uint8_t *scales = p + numel; /* unaligned when the group size is not a multiple of 4 */
    for (size_t g = 0; g < numel / (size_t)gs; g++) {
        float scale = pl_quantize_q8_group(w + g * (size_t)gs, gs, q + g * (size_t)gs);
        memcpy(scales + g * sizeof(float), &scale, sizeof scale);
    }
    return p + numel + numel / (size_t)gs * sizeof(float);
}

/* The first NaN or infinite value of n, or -1. */
static long first_non_finite(const float *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(w[i])) return (long)i;
    return -1;
}

/* Group sizes the engine runs and that give every row whole groups:
 * multiples of 4 (the scales stay aligned) dividing dim and hidden_dim. */
static int group_size_fits(const pl_model_info *m, int gs) {
    return gs >= 4 && gs % 4 == 0 && m->dim % gs == 0 && m->hidden_dim % gs == 0;
}

int pl_quantize_default_group_size(const pl_model_info *m) {
    for (int gs = 64; gs >= 4; gs -= 4)
        if (group_size_fits(m, gs)) return gs;
    return 0;
}

/* "4, 8, 16" for the message: every fitting size up to the smaller row. */
static void list_group_sizes(const pl_model_info *m, char *buf, size_t len) {
    size_t used = 0;
    int limit = m->dim < m->hidden_dim ? m->dim : m->hidden_dim;
    buf[0] = '\0';
    for (int gs = 4; gs <= limit && used + 12 < len; gs += 4)
        if (group_size_fits(m, gs))
            used += (size_t)snprintf(buf + used, len - used, "%s%d", used ? ", " : "", gs);
}

pl_status pl_quantize_model(const void *model, size_t size, int group_size, uint8_t **out,
                            size_t *out_size, pl_error *err) {
    pl_model_info m;
    pl_status st = pl_model_inspect(model, size, &m, err);
    if (st != PL_OK) return st;
    int gs = group_size > 0 ? group_size : pl_quantize_default_group_size(&m);
    if (m.format != PL_FORMAT_LLAMA2C_V2 && !group_size_fits(&m, gs)) {
        char sizes[200];
        list_group_sizes(&m, sizes, sizeof sizes);
        if (sizes[0] == '\0')
            return pl_fail(err, PL_ERR_ARGUMENT,
                           "no group size fits dim %d and hidden_dim %d (it must be a multiple "
                           "of 4 dividing both)", m.dim, m.hidden_dim);
        return pl_fail(err, PL_ERR_ARGUMENT,
                       "group size %d does not give whole groups in rows of %d and %d; "
                       "sizes that do: %s", gs, m.dim, m.hidden_dim, sizes);
    }
    return pl_write_q8_model(model, size, gs, out, out_size, err);
}

pl_status pl_write_q8_model(const void *model, size_t size, int gs, uint8_t **out,
                            size_t *out_size, pl_error *err) {
    pl_model_info m;
    pl_weights w;
    pl_status st = pl_model_inspect(model, size, &m, err);
    if (st != PL_OK) return st;
    if (m.format == PL_FORMAT_LLAMA2C_V2)
        return pl_fail(err, PL_ERR_ARGUMENT, "the model is already int8 (version 2)");
    if ((st = pl_model_map_weights(model, &m, &w, err)) != PL_OK) return st;
    /* the writer reads fp32 values: a quantized PicoLlama file's packed
     * values read as floats would be garbage, and past the tensor's end */
    const pl_tensor *all[] = {&w.embedding, &w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2, &w.w3, &w.wcls};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        if ((k < 8 || !m.shared_classifier) && all[k]->type != PL_WTYPE_F32)
            return pl_fail(err, PL_ERR_ARGUMENT,
                           "the model's weights are already quantized (%s): quantize takes fp32 "
                           "checkpoints; `picollama convert` re-quantizes any model to int8 or int4",
                           pl_wtype_name(all[k]->type));
    /* a NaN or infinite weight has no int8 value: said, not written as garbage */
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        int layers = (k == 0 || k == 8) ? 1 : m.n_layers; /* the embedding and classifier: one matrix */
        for (int l = 0; l < layers; l++) {
            long at = first_non_finite((const float *)(const void *)pl_tensor_layer(all[k], l),
                                       (size_t)all[k]->rows * (size_t)all[k]->cols);
            if (at >= 0)
                return pl_fail(err, PL_ERR_MODEL_FORMAT,
                               "value %ld of matrix %d (layer %d) is NaN or infinite: it cannot be quantized", at,
                               (int)k, l);
        }
    }
    if (gs <= 0 || m.dim % gs != 0) /* export.py's own condition */
        return pl_fail(err, PL_ERR_ARGUMENT, "group size %d must divide dim %d", gs, m.dim);

    uint8_t header[256];
    memset(header, 0, sizeof header);
    uint32_t magic = 0x616b3432u;
    int32_t version = 2, cfg[7] = {m.dim, m.hidden_dim, m.n_layers, m.n_heads, m.n_kv_heads,
                                   m.vocab_size, m.seq_len}, g32 = gs;
    memcpy(header, &magic, 4);
    memcpy(header + 4, &version, 4);
    memcpy(header + 8, cfg, sizeof cfg);
    header[36] = (uint8_t)(m.shared_classifier != 0);
    memcpy(header + 37, &g32, 4);
    pl_model_info check;
    size_t total = 256 + 4 * ((size_t)m.n_layers * 2 * (size_t)m.dim + (size_t)m.dim);
    const pl_tensor *mats[] = {&w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2, &w.w3};
    size_t numel_emb = (size_t)w.embedding.rows * (size_t)w.embedding.cols;
    total += numel_emb + numel_emb / (size_t)gs * 4;
    for (int k = 0; k < 7; k++) {
        size_t numel = (size_t)mats[k]->rows * (size_t)mats[k]->cols;
        total += (size_t)m.n_layers * (numel + numel / (size_t)gs * 4);
    }
    if (!m.shared_classifier) total += numel_emb + numel_emb / (size_t)gs * 4;
    uint8_t *buf = malloc(total), *p = buf;
    if (!buf) return pl_fail(err, PL_ERR_NO_MEMORY, "out of memory");
    p = put(p, header, sizeof header);
    p = put(p, w.rms_att, sizeof(float) * (size_t)m.n_layers * (size_t)m.dim);
    p = put(p, w.rms_ffn, sizeof(float) * (size_t)m.n_layers * (size_t)m.dim);
    p = put(p, w.rms_final, sizeof(float) * (size_t)m.dim);
    p = put_q8(p, (const float *)(const void *)pl_tensor_layer(&w.embedding, 0), numel_emb, gs);
    for (int k = 0; k < 7; k++)
        for (int l = 0; l < m.n_layers; l++)
            p = put_q8(p, (const float *)(const void *)pl_tensor_layer(mats[k], l),
                       (size_t)mats[k]->rows * (size_t)mats[k]->cols, gs);
    if (!m.shared_classifier)
        p = put_q8(p, (const float *)(const void *)pl_tensor_layer(&w.wcls, 0), numel_emb, gs);
    /* what was written must be what the engine expects of it */
    if ((size_t)(p - buf) != total || pl_model_inspect(buf, total, &check, err) != PL_OK) {
        free(buf);
        return pl_fail(err, PL_ERR_MODEL_LENGTH, "internal error: the int8 file has the wrong size");
    }
    *out = buf;
    *out_size = total;
    return PL_OK;
}
