/*
 * Kernels for a RISC-V core without an FPU or packed SIMD (the RP2350's
 * Hazard3: rv32imac with Zba, Zbb, Zbs, Zbkb). Bit for bit the reference
 * kernels' results (kernel_test.c checks it in the image).
 *
 * What costs here is not what costs on the M33. A byte load, a multiply and
 * an add per weight is the floor for an int8 dot product without SIMD, so
 * the integer part gains only from loading each input value once for four
 * rows. The float part is the expensive one: a group's
 *     val += (float)dot * w_scale * x_scale
 * is four software float operations, so they run inline on bit patterns
 * (pl_softfloat.h, IEEE-exact) instead of as four library calls.
 */
#include "../pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_kernels.h"

#if defined(PLK_HAVE_RV32)

#include "pl_softfloat.h"

/* val + (float)dot * w_scale * x_scale, rounded at each step in the
 * reference's order. */
static inline uint32_t add_group(uint32_t val, int32_t dot, uint32_t w_scale, uint32_t x_scale) {
    return plsf_add(val, plsf_mul(plsf_mul_int32(dot, w_scale), x_scale));
}

/* The int8 dot product of len values, four at a time. */
static inline int32_t dot_i8(const int8_t *x, const int8_t *w, int len) {
    int32_t d = 0;
    int k = 0;
    for (; k + 4 <= len; k += 4)
        d += x[k] * w[k] + x[k + 1] * w[k + 1] + x[k + 2] * w[k + 2] + x[k + 3] * w[k + 3];
    for (; k < len; k++) d += x[k] * w[k];
    return d;
}

/* Four rows' int8 dot products over [j, end), each input value loaded once. */
static inline void dot4_i8(int32_t dot[4], const int8_t *x, const int8_t *w0, size_t stride, int j,
                           int end) {
    const int8_t *p0 = w0 + j, *p1 = p0 + stride, *p2 = p1 + stride, *p3 = p2 + stride, *xp = x + j;
    int32_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    int k = j;
    /* four columns a turn: five pointer steps per sixteen products */
    for (; k + 4 <= end; k += 4, xp += 4, p0 += 4, p1 += 4, p2 += 4, p3 += 4) {
        int32_t x0 = xp[0], x1 = xp[1], x2 = xp[2], x3 = xp[3];
        d0 += x0 * p0[0] + x1 * p0[1] + x2 * p0[2] + x3 * p0[3];
        d1 += x0 * p1[0] + x1 * p1[1] + x2 * p1[2] + x3 * p1[3];
        d2 += x0 * p2[0] + x1 * p2[1] + x2 * p2[2] + x3 * p2[3];
        d3 += x0 * p3[0] + x1 * p3[1] + x2 * p3[2] + x3 * p3[3];
    }
    for (int m = 0; k < end; k++, m++) {
        int32_t xv = xp[m];
        d0 += xv * p0[m];
        d1 += xv * p1[m];
        d2 += xv * p2[m];
        d3 += xv * p3[m];
    }
    dot[0] = d0, dot[1] = d1, dot[2] = d2, dot[3] = d3;
}

/* llama2.c's flat layout. When the group size divides the width, a row's
 * segments are its groups, the same columns in every row: four rows at a
 * time. Otherwise row by row, in the reference's segments. */
PL_HOT void plk_rv32_matvec_q8(float *out, const plk_q8_vector *x, const int8_t *w,
                               const float *ws, int r0, int r1) {
    int n = x->n, gs = x->group_size, i = r0;
    if (n % gs == 0) {
        size_t groups = (size_t)(n / gs);
        for (; i + 4 <= r1; i += 4) {
            const int8_t *row = w + (size_t)i * (size_t)n;
            const float *s = ws + (size_t)i * groups;
            uint32_t val[4] = {0, 0, 0, 0};
            for (int g = 0, j = 0; j < n; g++, j += gs) {
                int32_t dot[4];
                dot4_i8(dot, x->q, row, (size_t)n, j, j + gs);
                uint32_t x_scale = plsf_bits(x->scales[g]);
                for (int r = 0; r < 4; r++)
                    val[r] = add_group(val[r], dot[r], plsf_bits(s[(size_t)r * groups + (size_t)g]), x_scale);
            }
            for (int r = 0; r < 4; r++) out[i + r] = plsf_float(val[r]);
        }
    }
    for (; i < r1; i++) {
        size_t base = (size_t)i * (size_t)n;
        uint32_t val = 0;
        for (int j = 0; j < n;) {
            size_t wg;
            int xg, end = plk_q8_segment(base, j, n, gs, &wg, &xg);
            int32_t dot = dot_i8(x->q + j, w + base + (size_t)j, end - j);
            val = add_group(val, dot, plsf_bits(ws[wg]), plsf_bits(x->scales[xg]));
            j = end;
        }
        out[i] = plsf_float(val);
    }
}

/* The int4 word holding value k of a row. Rows start on 4-byte boundaries
 * (the model checks it at open): said, so that this is one LW rather than
 * four byte loads. */
static inline uint32_t word_at(const uint8_t *row, int k) {
    uint32_t word;
    memcpy(&word, __builtin_assume_aligned(row + (size_t)(k / 8) * 4u, 4), sizeof word);
    return word;
}

/* The int4 value k of a word, sign-extended: two shifts. */
#define Q4(word, k) ((int32_t)((word) << (28 - PLK_Q4_SHIFT(k))) >> 28)

/* Rows [i, i + R) of a row-grouped tensor, R = 1 or 4: per group, the R
 * integer dot products with each input value loaded once, then the R float
 * sums in row order. The weight scale of row r, group g: fp32, or fp16 for
 * int4. */
static inline void rows_grouped(float *out, const plk_q8_vector *x, const uint8_t *w,
                                const void *ws, int i, int R, int q4) {
    int n = x->n, gs = x->group_size, groups = PLK_GROUPS(n, gs);
    size_t row_bytes = q4 ? PLK_Q4_ROW_BYTES(n) : PLK_Q8_ROW_BYTES(n);
    const uint8_t *row = w + (size_t)i * row_bytes;
    size_t first = (size_t)i * (size_t)groups;
    uint32_t val[4] = {0, 0, 0, 0};
    for (int g = 0, j = 0; g < groups; g++, j += gs) {
        int end = j + gs < n ? j + gs : n;
        int32_t dot[4] = {0, 0, 0, 0};
        if (!q4) {
            if (R == 1) {
                dot[0] = dot_i8(x->q + j, (const int8_t *)row + j, end - j);
            } else {
                dot4_i8(dot, x->q, (const int8_t *)row, row_bytes, j, end);
            }
        } else {
            int k = j;
            for (; k + 8 <= end; k += 8) { /* whole words */
                const int8_t *xq = x->q + k;
                int32_t x0 = xq[0], x1 = xq[1], x2 = xq[2], x3 = xq[3], x4 = xq[4], x5 = xq[5],
                        x6 = xq[6], x7 = xq[7];
                for (int r = 0; r < R; r++) {
                    uint32_t word = word_at(row + (size_t)r * row_bytes, k);
                    dot[r] += x0 * Q4(word, 0) + x1 * Q4(word, 1) + x2 * Q4(word, 2) + x3 * Q4(word, 3) +
                              x4 * Q4(word, 4) + x5 * Q4(word, 5) + x6 * Q4(word, 6) + x7 * Q4(word, 7);
                }
            }
            if (k < end) /* the row's last, partial word */
                for (int r = 0; r < R; r++) {
                    uint32_t word = word_at(row + (size_t)r * row_bytes, k);
                    for (int m = 0; m < end - k; m++) dot[r] += x->q[k + m] * plk_q4_value(word, m);
                }
        }
        uint32_t x_scale = plsf_bits(x->scales[g]);
        for (int r = 0; r < R; r++) {
            size_t s = first + (size_t)r * (size_t)groups + (size_t)g;
            uint32_t w_scale = q4 ? plsf_bits(plk_f16_to_f32(((const uint16_t *)ws)[s]))
                                  : plsf_bits(((const float *)ws)[s]);
            val[r] = add_group(val[r], dot[r], w_scale, x_scale);
        }
    }
    for (int r = 0; r < R; r++) out[i + r] = plsf_float(val[r]);
}

PL_HOT void plk_rv32_matvec_q8_rows(float *out, const plk_q8_vector *x, const int8_t *w,
                                    const float *ws, int r0, int r1) {
    int i = r0;
    for (; i + 4 <= r1; i += 4) rows_grouped(out, x, (const uint8_t *)w, ws, i, 4, 0);
    for (; i < r1; i++) rows_grouped(out, x, (const uint8_t *)w, ws, i, 1, 0);
}

PL_HOT void plk_rv32_matvec_q4(float *out, const plk_q8_vector *x, const uint8_t *w,
                               const uint16_t *ws, int r0, int r1) {
    int i = r0;
    for (; i + 4 <= r1; i += 4) rows_grouped(out, x, w, ws, i, 4, 1);
    for (; i < r1; i++) rows_grouped(out, x, w, ws, i, 1, 1);
}

/* fminf(fmaxf(roundf(d), -127), 127) as an integer: NaN gives -127 (fmaxf
 * takes the number), halves round away from zero. */
static inline int round_clamp_127(uint32_t d) {
    uint32_t a = d & ~PLSF_SIGN;
    int e = (int)(a >> 23), r;
    if (a > PLSF_INF) return -127;
    if (a >= 0x42fe0000u) r = 127; /* |d| >= 127 */
    else if (e < 126) r = 0;        /* |d| < 0.5 */
    else {                          /* 0.5 <= |d| < 127: the significand's bits at 2^(e - 150) */
        uint32_t m = (a & PLSF_FRACTION) | PLSF_UNIT;
        r = (int)((m + (1u << (149 - e))) >> (150 - e));
    }
    return d & PLSF_SIGN ? -r : r;
}

PL_HOT void plk_rv32_quantize_q8(int8_t *q, float *scales, uint32_t *wide, const float *x, int n,
                                 int group_size) {
    for (int g = 0, j0 = 0; j0 < n; g++, j0 += group_size) {
        int len = n - j0 < group_size ? n - j0 : group_size;
        const float *xg = x + j0;
        /* the largest |x| that is not a NaN: magnitudes order as integers */
        uint32_t wmax = 0;
        for (int i = 0; i < len; i++) {
            uint32_t a = plsf_bits(xg[i]) & ~PLSF_SIGN;
            if (a <= PLSF_INF && a > wmax) wmax = a;
        }
        float scale = plsf_float(wmax) / 127.0f;
        scales[g] = scale;
        if (scale == 0.0f) {
            for (int i = 0; i < len; i++) q[j0 + i] = 0;
        } else {
            for (int i = 0; i < len; i++) q[j0 + i] = (int8_t)round_clamp_127(plsf_bits(xg[i] / scale));
        }
    }
    plk_q8_widen(wide, q, n);
}

#else
/* ISO C wants a translation unit to declare something. */
typedef int pl_kernels_rv32_unused;
#endif
