/*
 * The portable reference kernels. Every kernel performs, element for
 * element, the same single-precision operations in the same order as
 * llama2.c's run.c and runq.c, so logits are bit-identical to theirs.
 * Speed comes from doing more independent work per loaded value, never from
 * reordering a sum.
 */
#include "../pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_kernels.h"
#include "pl_expf_fast.h"

#include <math.h>

/* Softmax and SwiGLU take expf's fast path inline (pl_expf_fast.h); the
 * test-only libm build keeps the C library's expf (pl_kernels.h). */
#if defined(PL_LIBM_MATH)
#define kernel_expf(x) pl_expf(x)
#else
#define kernel_expf(x) plk_expf_inline(x)
#endif

PL_HOT void plk_rmsnorm(float *out, const float *x, const float *weight, int size) {
    float ss = 0.0f;
    for (int j = 0; j < size; j++) ss += x[j] * x[j];
    ss /= (float)size;
    ss += 1e-5f;
    ss = 1.0f / plk_sqrtf(ss); /* IEEE square root: correctly rounded everywhere */
    for (int j = 0; j < size; j++) out[j] = weight[j] * (ss * x[j]);
}

PL_HOT float plk_max_from(float max, const float *x, int size) {
    for (int i = 0; i < size; i++)
        if (x[i] > max) max = x[i];
    return max;
}

PL_HOT float plk_exp_sum_from(float sum, float *x, int size, float max) {
    for (int i = 0; i < size; i++) {
        x[i] = kernel_expf(x[i] - max);
        sum += x[i];
    }
    return sum;
}

PL_HOT float plk_sum_from(float sum, const float *x, int size) {
    for (int i = 0; i < size; i++) sum += x[i];
    return sum;
}

PL_HOT void plk_divide(float *x, int size, float d) {
    for (int i = 0; i < size; i++) x[i] /= d;
}

PL_HOT void plk_softmax(float *x, int size) {
    float max_val = plk_max_from(x[0], x + 1, size - 1);
    plk_divide(x, size, plk_exp_sum_from(0.0f, x, size, max_val));
}

PL_HOT void plk_swiglu(float *hb, const float *hb2, int size) {
    for (int i = 0; i < size; i++) {
        float val = hb[i];
        val *= (1.0f / (1.0f + kernel_expf(-val)));
        val *= hb2[i];
        hb[i] = val;
    }
}

/* ---- attention ------------------------------------------------------------- */

/* A head of HS values, unrolled: q (scores) or the sums (mix) stay in
 * registers for all n positions; each sum still runs in run.c's order. */
#define PLK_ATTENTION_FIXED(HS)                                                          \
    static void scores_##HS(float *att, const float *q, const float *k, size_t stride,   \
                            int n, float scale_div) {                                    \
        float qv[HS];                                                                    \
        _Pragma("GCC unroll 16") for (int i = 0; i < HS; i++) qv[i] = q[i];              \
        for (int t = 0; t < n; t++, k += stride) {                                       \
            float score = 0.0f;                                                          \
            _Pragma("GCC unroll 16") for (int i = 0; i < HS; i++) score += qv[i] * k[i]; \
            att[t] = score / scale_div;                                                  \
        }                                                                                \
    }                                                                                    \
    static void mix_##HS(float *out, const float *att, const float *v, size_t stride,    \
                         int n) {                                                        \
        float acc[HS];                                                                   \
        _Pragma("GCC unroll 16") for (int i = 0; i < HS; i++) acc[i] = out[i];           \
        for (int t = 0; t < n; t++, v += stride) {                                       \
            float a = att[t];                                                            \
            _Pragma("GCC unroll 16") for (int i = 0; i < HS; i++) acc[i] += a * v[i];    \
        }                                                                                \
        _Pragma("GCC unroll 16") for (int i = 0; i < HS; i++) out[i] = acc[i];           \
    }
PLK_ATTENTION_FIXED(8)
PLK_ATTENTION_FIXED(16)

PL_HOT void plk_ref_attention_scores(float *att, const float *q, const float *keys, size_t stride,
                                 int n, int head_size, float scale_div) {
    if (head_size == 8) {
        scores_8(att, q, keys, stride, n, scale_div);
    } else if (head_size == 16) {
        scores_16(att, q, keys, stride, n, scale_div);
    } else {
        for (int t = 0; t < n; t++) {
            const float *k = keys + (size_t)t * stride;
            float score = 0.0f;
            for (int i = 0; i < head_size; i++) score += q[i] * k[i];
            att[t] = score / scale_div;
        }
    }
}

PL_HOT void plk_ref_attention_mix(float *out, const float *att, const float *values, size_t stride,
                              int n, int head_size) {
    if (head_size == 8) {
        mix_8(out, att, values, stride, n);
    } else if (head_size == 16) {
        mix_16(out, att, values, stride, n);
    } else {
        for (int t = 0; t < n; t++) {
            const float *v = values + (size_t)t * stride;
            float a = att[t];
            for (int i = 0; i < head_size; i++) out[i] += a * v[i];
        }
    }
}

/* Four rows at a time, each still summed left to right: every x[j] is
 * loaded once for four rows, and four addition chains are in flight. For
 * weights in SRAM, where any read order costs the same. */
PL_HOT void plk_ref_matvec_f32(float *out, const float *x, const float *w, int n, int r0,
                               int r1) {
#if defined(PL_RUNC_READ_ORDER)
    /* run.c's read order everywhere (the board model's anchors) */
    plk_ref_matvec_f32_in_order(out, x, w, n, r0, r1);
#else
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
    plk_ref_matvec_f32_in_order(out, x, w, n, i, r1);
#endif
}

/* One row after another: the weights are read in address order, one
 * sequential stream, so on the board each XIP cache miss continues the
 * QSPI burst the one before it opened (four rows at once make every miss
 * jump between four addresses, each a new command). The same sums as
 * plk_ref_matvec_f32, bit for bit: each row is its own chain, left to
 * right, in both. For weights in flash or PSRAM. */
PL_HOT void plk_ref_matvec_f32_in_order(float *out, const float *x, const float *w, int n,
                                        int r0, int r1) {
    for (int i = r0; i < r1; i++) {
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
        /* runq.c's `if (val > wmax) wmax = val`: fmaxf keeps the same value
         * (|x| is never -0, and a NaN is skipped by both) in one instruction
         * where the FPU has VMAXNM. */
        float wmax = 0.0f;
        for (int i = 0; i < len; i++) wmax = fmaxf(wmax, fabsf(xg[i]));
        float scale = wmax / 127.0f;
        scales[g] = scale;
        /* runq.c converts round(x / 0) = NaN to int8, which is 0 on the
         * machines it runs on; here a zero group is zeros by definition. */
        if (scale == 0.0f) {
            for (int i = 0; i < len; i++) q[j0 + i] = 0;
        } else {
            for (int i = 0; i < len; i++) {
                /* |r| <= 127 for finite values, so the clamp changes
                 * nothing there; it turns a NaN (from a NaN or infinite
                 * activation of a hostile model) into -127 instead of an
                 * undefined conversion. Two VMAXNM/VMINNM on the M33. */
                float r = fminf(fmaxf(roundf(xg[i] / scale), -127.0f), 127.0f);
                q[j0 + i] = (int8_t)(int32_t)r;
            }
        }
    }
    plk_q8_widen(wide, q, n);
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

/* The integer dot product of the input's values [j, end) with a row's
 * weights, int8 or int4 (a word of eight values at a time: groups start
 * on whole words). */
static inline int32_t row_dot(const plk_q8_vector *x, const uint8_t *row, int j, int end, int q4) {
    int32_t ival = 0;
    if (!q4) {
        for (; j < end; j++) ival += (int32_t)x->q[j] * (int32_t)(int8_t)row[j];
        return ival;
    }
    while (j < end) {
        uint32_t word;
        int m = end - j < 8 ? end - j : 8;
        memcpy(&word, row + (size_t)(j / 8) * 4u, sizeof word);
        for (int k = 0; k < m; k++) ival += (int32_t)x->q[j + k] * (int32_t)plk_q4_value(word, k);
        j += m;
    }
    return ival;
}

/* Both row-grouped types: per row, per group in order, the group's integer
 * dot product times its weight scale (fp32, or fp16 for int4) times the
 * input group's scale. Specialized for each type by the constant q4. */
static inline void row_grouped(float *out, const plk_q8_vector *x, const uint8_t *w,
                               const void *ws, int r0, int r1, int q4) {
    int n = x->n, gs = x->group_size, groups = PLK_GROUPS(n, gs);
    size_t row_bytes = q4 ? PLK_Q4_ROW_BYTES(n) : PLK_Q8_ROW_BYTES(n);
    for (int i = r0; i < r1; i++) {
        const uint8_t *row = w + (size_t)i * row_bytes;
        size_t first = (size_t)i * (size_t)groups;
        float val = 0.0f;
        for (int g = 0, j = 0; g < groups; g++, j += gs) {
            int end = j + gs < n ? j + gs : n;
            float w_scale = q4 ? plk_f16_to_f32(((const uint16_t *)ws)[first + (size_t)g])
                               : ((const float *)ws)[first + (size_t)g];
            val += ((float)row_dot(x, row, j, end, q4)) * w_scale * x->scales[g];
        }
        out[i] = val;
    }
}

PL_HOT void plk_ref_matvec_q8_rows(float *out, const plk_q8_vector *x, const int8_t *w,
                                   const float *ws, int r0, int r1) {
    row_grouped(out, x, (const uint8_t *)w, ws, r0, r1, 0);
}

PL_HOT void plk_ref_matvec_q4(float *out, const plk_q8_vector *x, const uint8_t *w,
                              const uint16_t *ws, int r0, int r1) {
    row_grouped(out, x, w, ws, r0, r1, 1);
}

#if !defined(PLK_HAVE_DSP)
void plk_copy(void *dst, const void *src, size_t n) { memcpy(dst, src, n); }
#endif
