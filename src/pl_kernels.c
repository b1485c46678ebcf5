/*
 * The arithmetic kernels of the forward pass.
 *
 * Every kernel performs, element for element, the same single-precision
 * operations in the same order as llama2.c's run.c, so the logits are
 * bit-identical to run.c's and greedy and sampled stories match token for
 * token. Speed comes from doing more independent work per loaded value, never
 * from reordering a sum: the matrix-vector product computes four rows at a
 * time (each row still summed left to right), which reuses every x[j] four
 * times and keeps four addition chains in flight instead of one.
 */
#include "pl_internal.h"

#include <math.h>

PL_HOT void pl_rmsnorm(float *out, const float *x, const float *weight, int size) {
    float ss = 0.0f;
    for (int j = 0; j < size; j++) ss += x[j] * x[j];
    ss /= (float)size;
    ss += 1e-5f;
    ss = 1.0f / sqrtf(ss);
    for (int j = 0; j < size; j++) out[j] = weight[j] * (ss * x[j]);
}

PL_HOT void pl_softmax(float *x, int size) {
    float max_val = x[0];
    for (int i = 1; i < size; i++)
        if (x[i] > max_val) max_val = x[i];
    float sum = 0.0f;
    for (int i = 0; i < size; i++) {
        x[i] = expf(x[i] - max_val);
        sum += x[i];
    }
    for (int i = 0; i < size; i++) x[i] /= sum;
}

/* out[d] = W[d][n] . x[n] */
PL_HOT void pl_matmul(float *out, const float *x, const float *w, int n, int d) {
    int i = 0;
    for (; i + 4 <= d; i += 4) {
        const float *r0 = w + (size_t)i * (size_t)n;
        const float *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
        float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        for (int j = 0; j < n; j++) {
            float xj = x[j];
            a0 += r0[j] * xj;
            a1 += r1[j] * xj;
            a2 += r2[j] * xj;
            a3 += r3[j] * xj;
        }
        out[i] = a0;
        out[i + 1] = a1;
        out[i + 2] = a2;
        out[i + 3] = a3;
    }
    for (; i < d; i++) {
        const float *r = w + (size_t)i * (size_t)n;
        float a = 0.0f;
        for (int j = 0; j < n; j++) a += r[j] * x[j];
        out[i] = a;
    }
}

/* hb = silu(hb) * hb2, the gated feed-forward's non-linearity. */
PL_HOT void pl_swiglu(float *hb, const float *hb2, int size) {
    for (int i = 0; i < size; i++) {
        float val = hb[i];
        val *= (1.0f / (1.0f + expf(-val)));
        val *= hb2[i];
        hb[i] = val;
    }
}

void pl_accumulate(float *a, const float *b, int size) {
    for (int i = 0; i < size; i++) a[i] += b[i];
}

/* runq.c's quantize(): per group, scale = max|x| / 127 and q = round(x /
 * scale), rounding halves away from zero (roundf is round() on a float,
 * without a double). Only whole groups are written, as in runq.c. A group of
 * zeros has scale 0; runq.c then converts NaN to int8, which on the PCs it
 * runs on yields 0, and so does this. */
PL_HOT void pl_quantize(int8_t *q, float *scales, const float *x, int n, int group_size) {
    int groups = n / group_size;
    for (int g = 0; g < groups; g++) {
        const float *xg = x + g * group_size;
        float wmax = 0.0f;
        for (int i = 0; i < group_size; i++) {
            float v = fabsf(xg[i]);
            if (v > wmax) wmax = v;
        }
        float scale = wmax / 127.0f;
        scales[g] = scale;
        for (int i = 0; i < group_size; i++)
            q[g * group_size + i] = scale == 0.0f ? 0 : (int8_t)roundf(xg[i] / scale);
    }
}

/* runq.c's matmul(): out[i] = sum over whole groups of
 * (float)(int32 dot of the group) * w_scale * x_scale, groups in order. The
 * weight scale is the one of the group holding the chunk's first value
 * (runq.c's indexing, which matters when n is not a multiple of the group
 * size); a tail shorter than a group is skipped, as runq.c does. */
PL_HOT void pl_matmul_q8(float *out, const int8_t *xq, const float *xs, const int8_t *wq,
                         const float *ws, int n, int d, int group_size) {
    for (int i = 0; i < d; i++) {
        size_t in = (size_t)i * (size_t)n;
        const int8_t *w = wq + in;
        float val = 0.0f;
        for (int j = 0; j + group_size <= n; j += group_size) {
            int32_t ival = 0;
            for (int k = 0; k < group_size; k++) ival += (int32_t)xq[j + k] * (int32_t)w[j + k];
            val += ((float)ival) * ws[(in + (size_t)j) / (size_t)group_size] * xs[j / group_size];
        }
        out[i] = val;
    }
}
