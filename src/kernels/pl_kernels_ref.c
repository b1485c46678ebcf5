/*
 * The portable reference kernels. Every kernel performs, element for
 * element, the same single-precision operations in the same order as
 * llama2.c's run.c and runq.c, so logits are bit-identical to theirs.
 * Speed comes from doing more independent work per loaded value, never from
 * reordering a sum.
 */
#include "pl_kernels.h"

#include <math.h>

PL_HOT void plk_rmsnorm(float *out, const float *x, const float *weight, int size) {
    float ss = 0.0f;
    for (int j = 0; j < size; j++) ss += x[j] * x[j];
    ss /= (float)size;
    ss += 1e-5f;
    ss = 1.0f / sqrtf(ss); /* IEEE square root: correctly rounded everywhere */
    for (int j = 0; j < size; j++) out[j] = weight[j] * (ss * x[j]);
}

PL_HOT void plk_softmax(float *x, int size) {
    float max_val = x[0];
    for (int i = 1; i < size; i++)
        if (x[i] > max_val) max_val = x[i];
    float sum = 0.0f;
    for (int i = 0; i < size; i++) {
        x[i] = pl_expf(x[i] - max_val);
        sum += x[i];
    }
    for (int i = 0; i < size; i++) x[i] /= sum;
}

PL_HOT void plk_swiglu(float *hb, const float *hb2, int size) {
    for (int i = 0; i < size; i++) {
        float val = hb[i];
        val *= (1.0f / (1.0f + pl_expf(-val)));
        val *= hb2[i];
        hb[i] = val;
    }
}

/* Four rows at a time, each still summed left to right: every x[j] is
 * loaded once for four rows, and four addition chains are in flight. */
PL_HOT void plk_ref_matvec_f32(float *out, const float *x, const float *w, int n, int r0,
                               int r1) {
    int i = r0;
    for (; i + 4 <= r1; i += 4) {
        const float *w0 = w + (size_t)i * (size_t)n;
        const float *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (int j = 0; j < n; j++) {
            float xj = x[j];
            a0 += w0[j] * xj;
            a1 += w1[j] * xj;
            a2 += w2[j] * xj;
            a3 += w3[j] * xj;
        }
        out[i] = a0;
        out[i + 1] = a1;
        out[i + 2] = a2;
        out[i + 3] = a3;
    }
    for (; i < r1; i++) {
        const float *wr = w + (size_t)i * (size_t)n;
        float a = 0.0f;
        for (int j = 0; j < n; j++) a += wr[j] * x[j];
        out[i] = a;
    }
}

PL_HOT void plk_ref_quantize_q8(int8_t *q, float *scales, uint32_t *wide, const float *x, int n,
                                int group_size) {
    for (int g = 0, j0 = 0; j0 < n; g++, j0 += group_size) {
        int len = n - j0 < group_size ? n - j0 : group_size;
        const float *xg = x + j0;
        float wmax = 0.0f;
        for (int i = 0; i < len; i++) {
            float v = fabsf(xg[i]);
            if (v > wmax) wmax = v;
        }
        float scale = wmax / 127.0f;
        scales[g] = scale;
        /* runq.c converts round(x / 0) = NaN to int8, which is 0 on the
         * machines it runs on; here a zero group is zeros by definition. */
        for (int i = 0; i < len; i++)
            q[j0 + i] = scale == 0.0f ? 0 : (int8_t)roundf(xg[i] / scale);
    }
    for (int b = 0, j = 0; j < n; b++, j += 4) {
        uint32_t v[4];
        for (int k = 0; k < 4; k++) v[k] = (uint16_t)(int16_t)(j + k < n ? q[j + k] : 0);
        wide[2 * b] = v[0] | v[2] << 16;
        wide[2 * b + 1] = v[1] | v[3] << 16;
    }
}

PL_HOT void plk_ref_matvec_q8(float *out, const plk_q8_vector *x, const int8_t *w,
                              const float *ws, int r0, int r1) {
    int n = x->n, gs = x->group_size;
    const int8_t *xq = x->q;
    const float *xs = x->scales;
    for (int i = r0; i < r1; i++) {
        size_t base = (size_t)i * (size_t)n;
        const int8_t *row = w + base;
        float val = 0.0f;
        int j = 0;
        while (j < n) {
            size_t wg;
            int xg, end = plk_q8_segment(base, j, n, gs, &wg, &xg);
            int32_t ival = 0;
            for (int k = j; k < end; k++) ival += (int32_t)xq[k] * (int32_t)row[k];
            val += ((float)ival) * ws[wg] * xs[xg];
            j = end;
        }
        out[i] = val;
    }
}
