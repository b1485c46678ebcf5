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
