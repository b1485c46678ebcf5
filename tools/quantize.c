#include "quantize.h"

#include "pl_internal.h"

#include <math.h>
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
        const float *wg = w + g * (size_t)gs;
        float wmax = 0.0f;
        for (int i = 0; i < gs; i++)
            if (fabsf(wg[i]) > wmax) wmax = fabsf(wg[i]);
        float scale = wmax / 127.0f;
        memcpy(scales + g * sizeof(float), &scale, sizeof scale);
        for (int i = 0; i < gs; i++)
            q[g * (size_t)gs + (size_t)i] = (int8_t)(scale > 0.0f ? nearbyintf(wg[i] / scale) : 0.0f);
    }
    return p + numel + numel / (size_t)gs * sizeof(float);
}

pl_status pl_quantize_model(const void *model, size_t size, int group_size, uint8_t **out,
                            size_t *out_size, pl_error *err) {
    pl_model_info m;
    pl_weights w;
    pl_status st = pl_model_inspect(model, size, &m, err);
    if (st != PL_OK) return st;
    if (m.format == PL_FORMAT_LLAMA2C_V2)
        return pl_fail(err, PL_ERR_ARGUMENT, "the model is already int8 (version 2)");
    if ((st = pl_model_map_weights(model, &m, &w, err)) != PL_OK) return st;
    int gs = group_size;
    if (gs <= 0)
        for (gs = 64; gs > 1 && m.dim % gs != 0; gs /= 2) {}
    /* any divisor of dim makes a valid runq.c file; the engine itself runs
     * group sizes that are multiples of 4 */
    if (gs <= 0 || m.dim % gs != 0)
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
    const pl_matrices *mats[] = {&w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.w2, &w.w3};
    total += w.embedding.numel + w.embedding.numel / (size_t)gs * 4;
    for (int k = 0; k < 7; k++)
        total += (size_t)m.n_layers * (mats[k]->numel + mats[k]->numel / (size_t)gs * 4);
    if (!m.shared_classifier) total += w.wcls.numel + w.wcls.numel / (size_t)gs * 4;
    uint8_t *buf = malloc(total), *p = buf;
    if (!buf) return pl_fail(err, PL_ERR_NO_MEMORY, "out of memory");
    p = put(p, header, sizeof header);
    p = put(p, w.rms_att, sizeof(float) * (size_t)m.n_layers * (size_t)m.dim);
    p = put(p, w.rms_ffn, sizeof(float) * (size_t)m.n_layers * (size_t)m.dim);
    p = put(p, w.rms_final, sizeof(float) * (size_t)m.dim);
    p = put_q8(p, pl_f32_of(&w.embedding, 0), w.embedding.numel, gs);
    for (int k = 0; k < 7; k++)
        for (int l = 0; l < m.n_layers; l++) p = put_q8(p, pl_f32_of(mats[k], l), mats[k]->numel, gs);
    if (!m.shared_classifier) p = put_q8(p, pl_f32_of(&w.wcls, 0), w.wcls.numel, gs);
    /* what was written must be what the engine expects of it */
    if ((size_t)(p - buf) != total || pl_model_inspect(buf, total, &check, err) != PL_OK) {
        free(buf);
        return pl_fail(err, PL_ERR_MODEL_LENGTH, "internal error: the int8 file has the wrong size");
    }
    *out = buf;
    *out_size = total;
    return PL_OK;
}
