/*
 * PicoLlama's kernel layer: the arithmetic of the forward pass on plain
 * arrays. It knows no engine structure, so it can be tested, benchmarked and
 * ported alone.
 *
 * Each operation has a portable reference kernel (plk_ref_*), always built
 * and always tested. A target may provide faster kernels of its own
 * (kernels/pl_kernels_m33.c on a Cortex-M33 with the DSP extension,
 * kernels/pl_kernels_rv32.c on a RISC-V core without an FPU); the
 * unprefixed plk_* names resolve at compile time to the fastest kernel the
 * build has. Every optimized kernel returns bit for bit what its reference
 * returns: integer sums are exact in any order, and float sums keep the
 * reference's order.
 *
 * Matrix-vector kernels take a row range [r0, r1), so the rows of one
 * product can be split between cores without changing any result.
 */
#ifndef PL_KERNELS_H
#define PL_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../pl_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementary functions (pl_math.c) -------------------------------------
 * Correctly rounded (to nearest, ties to even) for every float input, with
 * integer arithmetic only: the same bits on every platform. */
float pl_expf(float x);
/* sin(x) and cos(x). */
void pl_sincosf(float x, float *sin_out, float *cos_out);
/* 10000^e for e in [-1, 1] (the rotary embedding's base); NaN outside. */
float pl_pow10000f(float e);
/* The IEEE square root (the C library's sqrtf), out of line: called once
 * a vector, it stays in flash on the board (PL_COLD). */
PL_COLD float plk_sqrtf(float x);

#if defined(PL_LIBM_MATH) && !defined(PL_MATH_IMPLEMENTATION)
/* Tests only: the C library's functions instead, to show that the C
 * library's rounding is the only difference from llama2.c's stories
 * (tests/golden_tests.sh). Never in a product build. */
#include <math.h>
#define pl_expf(x) expf(x)
#define pl_sincosf(x, s, c) (*(s) = sinf(x), *(c) = cosf(x))
#define pl_pow10000f(e) powf(10000.0f, (e))
#endif

/* ---- fp32 ------------------------------------------------------------------ */

/* out[i] = sum over j of w[i*n + j] * x[j], for rows i in [r0, r1), each
 * row summed left to right (run.c's order). */
void plk_ref_matvec_f32(float *out, const float *x, const float *w, int n, int r0, int r1);
/* The same, bit for bit, reading one row after another: one sequential
 * stream, for weights outside SRAM (their bus reads in bursts). */
void plk_ref_matvec_f32_in_order(float *out, const float *x, const float *w, int n, int r0,
                                 int r1);

void plk_rmsnorm(float *out, const float *x, const float *weight, int size);
void plk_softmax(float *x, int size);
/* Softmax's steps over part of a row, for a row shared between cores; each
 * continues a running value, so parts done in order give plk_softmax's:
 *   max_from: the maximum of max and x[0, size), run.c's comparisons;
 *   exp_sum_from: x[i] = e^(x[i] - max), returns sum plus them in order;
 *   sum_from: sum plus x[0, size) in order;
 *   divide: x[i] /= d. */
float plk_max_from(float max, const float *x, int size);
float plk_exp_sum_from(float sum, float *x, int size, float max);
float plk_sum_from(float sum, const float *x, int size);
void plk_divide(float *x, int size, float d);
/* hb[i] = silu(hb[i]) * hb2[i] */
void plk_swiglu(float *hb, const float *hb2, int size);

/* One attention head over positions [0, n). Keys and values of position t
 * start at keys + t * stride and values + t * stride.
 *   scores: att[t] = (q . k_t) / scale_div, the dot product summed i = 0..
 *   mix:    out[i] += att[t] * v_t[i] for t = 0..n-1, from out's own values
 *           (a caller zeroes out, then may mix one run of positions after
 *           another: the sums run in the same order, so to the same bits)
 * in run.c's order. Head sizes 8 and 16 (every model here) keep q and the
 * output in registers across positions; other sizes take the plain loops. */
void plk_ref_attention_scores(float *att, const float *q, const float *keys, size_t stride,
                              int n, int head_size, float scale_div);
void plk_ref_attention_mix(float *out, const float *att, const float *values, size_t stride,
                           int n, int head_size);

/* ---- int8 groups -----------------------------------------------------------
 * A vector of n values quantized in groups of group_size along it (the last
 * group may be shorter): q[j] * scales[j / group_size] ~ x[j]. `wide` holds
 * the same values widened to 16 bits, two to a word, in the order a dual
 * 16-bit multiply-accumulate (SMLAD) meets them when a word of four int8
 * weights w0..w3 is split into (w0, w2) and (w1, w3): for each block of four
 * values b0..b3 the words (b0 | b2 << 16) and (b1 | b3 << 16), the last block
 * zero-padded. Widening once per input instead of once per row saves half
 * the unpacking. */
typedef struct {
    const int8_t *q;       /* [n] */
    const float *scales;   /* [ceil(n / group_size)] */
    const uint32_t *wide;  /* [2 * ceil(n / 4)] */
    int n;
    int group_size;
} plk_q8_vector;

/* Bytes of the wide form for n values: whole blocks of eight (an int4
 * weight word covers eight values), the padding zero. */
#define PLK_Q8_WIDE_BYTES(n) ((size_t)(((n) + 7) / 8) * 16u)

/* runq.c's symmetric quantization: per group, scale = max|x| / 127 and
 * q = round(x / scale), halves away from zero; a group of zeros has scale
 * 0 and zeros. Unlike runq.c, a last partial group is quantized too. */
void plk_ref_quantize_q8(int8_t *q, float *scales, uint32_t *wide, const float *x, int n,
                         int group_size);
/* The wide form of n quantized values (every quantize kernel's last step). */
static inline void plk_q8_widen(uint32_t *wide, const int8_t *q, int n) {
    /* The wide form: (b0 | b2 << 16, b1 | b3 << 16) per block of four, each
     * value sign-extended to 16 bits; the last block zero-padded. */
    int j = 0;
    for (; j + 4 <= n; j += 4, wide += 2) {
        wide[0] = (uint32_t)(uint16_t)q[j] | (uint32_t)(uint16_t)q[j + 2] << 16;
        wide[1] = (uint32_t)(uint16_t)q[j + 1] | (uint32_t)(uint16_t)q[j + 3] << 16;
    }
    if (j < n) {
        int8_t b[4] = {0, 0, 0, 0};
        for (int k = 0; j + k < n; k++) b[k] = q[j + k];
        wide[0] = (uint32_t)(uint16_t)b[0] | (uint32_t)(uint16_t)b[2] << 16;
        wide[1] = (uint32_t)(uint16_t)b[1] | (uint32_t)(uint16_t)b[3] << 16;
        wide += 2;
        j += 4;
    }
    /* Zeros up to a whole block of eight, where an int4 word's second half
     * meets them. */
    if (j % 8 != 0) wide[0] = wide[1] = 0;
}

/* The int8 matrix-vector product over a tensor laid out as llama2.c's
 * version 2 file: row i's weights are w[i*n .. i*n + n), and the weight at
 * flat index f has the scale ws[f / group_size] (groups run over the whole
 * tensor, so they straddle rows when group_size does not divide n). Each row
 * is summed in segments on which both the weight's and the input's group are
 * constant, in order:
 *     out[i] += (float)(int32 dot of the segment) * w_scale * x_scale
 * When group_size divides n the segments are the groups, and this is
 * runq.c's arithmetic, bit for bit. */
void plk_ref_matvec_q8(float *out, const plk_q8_vector *x, const int8_t *w, const float *ws,
                       int r0, int r1);

/* The segment of a row that starts at column j (the row's first weight has
 * flat index base): its end, where the weight's group, the input's group or
 * the row ends first, and the two groups. Shared by every int8 kernel, so
 * all of them sum the same segments. */
static inline int plk_q8_segment(size_t base, int j, int n, int group_size, size_t *w_group,
                                 int *x_group) {
    size_t wg = (base + (size_t)j) / (size_t)group_size;
    int xg = j / group_size, end = (xg + 1) * group_size;
    size_t wend = (wg + 1) * (size_t)group_size - base;
    if ((size_t)end > wend) end = (int)wend;
    if (end > n) end = n;
    *w_group = wg;
    *x_group = xg;
    return end;
}

/* ---- row-grouped int8 and int4 (PicoLlama model files) ----------------------
 * Groups run along each row: a row of n weights has ceil(n / group_size)
 * groups, the last one shorter when group_size does not divide n, and the
 * input is quantized in the same groups, so a weight group and its input
 * group always coincide. Per group, in order:
 *     out[i] += (float)(int32 dot of the group) * w_scale * x_scale
 * which is plk_ref_matvec_q8's arithmetic whenever group_size divides n.
 * Rows are padded with zero weights to whole 32-bit words. */
#define PLK_GROUPS(n, group_size) (((n) + (group_size) - 1) / (group_size))
/* Bytes of one row of n int8 weights: padded to 4. */
#define PLK_Q8_ROW_BYTES(n) ((size_t)(((n) + 3) / 4) * 4u)
/* Bytes of one row of n int4 weights: padded to 8 values (a word). */
#define PLK_Q4_ROW_BYTES(n) ((size_t)(((n) + 7) / 8) * 4u)

/* int8 rows: row i's weights at w + i * PLK_Q8_ROW_BYTES(n), its scales at
 * ws + i * PLK_GROUPS(n, group_size). group_size a multiple of 4. */
void plk_ref_matvec_q8_rows(float *out, const plk_q8_vector *x, const int8_t *w,
                            const float *ws, int r0, int r1);

/* int4: signed values -8..7, eight to a little-endian 32-bit word, value k
 * at bit PLK_Q4_SHIFT(k): from the top of each 16-bit half down, values
 * 0, 1, 4, 5 in the low half and 2, 3, 6, 7 in the high half. So the word
 * shifted left by 0, 4, 8 or 12 and ANDed with 0xF000F000 holds values
 * (0, 2), (1, 3), (4, 6), (5, 7) at the top of its halves: the pairs of the
 * int8 input's wide form, ready for a dual 16-bit multiply-accumulate.
 * Row i's words at w + i * PLK_Q4_ROW_BYTES(n), its scales (IEEE half
 * precision) at ws + i * PLK_GROUPS(n, group_size). group_size a multiple
 * of 8. */
void plk_ref_matvec_q4(float *out, const plk_q8_vector *x, const uint8_t *w,
                       const uint16_t *ws, int r0, int r1);

#define PLK_Q4_SHIFT(k) (16 * (((k) >> 1) & 1) + 12 - 4 * ((k) & 1) - 8 * (((k) >> 2) & 1))

/* The value at index k (0..7) of an int4 word. */
static inline int plk_q4_value(uint32_t word, int k) {
    return (int)(((word >> PLK_Q4_SHIFT(k)) & 15u) ^ 8u) - 8;
}

/* An IEEE half-precision value as float (exact: every half is a float). */
static inline float plk_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 31u, m = h & 0x3ffu, bits;
    float f;
    if (e == 0) { /* zero or subnormal: m * 2^-24 */
        f = (float)m * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    bits = e == 31 ? sign | 0x7f800000u | (m << 13) : sign | ((e + 112u) << 23) | (m << 13);
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- copying -------------------------------------------------------------- */

/* memcpy for the two-core stage: rows of a tensor from flash or PSRAM into
 * SRAM, one sequential stream. The M33 copies words eight at a time (LDM
 * and STM) where both ends are 4-byte aligned; newlib-nano's memcpy goes a
 * byte at a time. */
void plk_copy(void *dst, const void *src, size_t n);

/* ---- the build's kernels ---------------------------------------------------- */

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FP) && !defined(PL_REFERENCE_KERNELS)
#define PLK_HAVE_DSP 1
void plk_dsp_matvec_q8(float *out, const plk_q8_vector *x, const int8_t *w, const float *ws,
                       int r0, int r1);
#define plk_matvec_q8 plk_dsp_matvec_q8
void plk_dsp_matvec_q8_rows(float *out, const plk_q8_vector *x, const int8_t *w,
                            const float *ws, int r0, int r1);
void plk_dsp_matvec_q4(float *out, const plk_q8_vector *x, const uint8_t *w,
                       const uint16_t *ws, int r0, int r1);
#define plk_matvec_q8_rows plk_dsp_matvec_q8_rows
#define plk_matvec_q4 plk_dsp_matvec_q4
#define PLK_KERNELS_NAME "Cortex-M33 DSP"
#define plk_quantize_q8 plk_ref_quantize_q8
/* The attention loops with VLDM: a head's 8 or 16 keys or values in one
 * load (the FPU's 32 single registers), the same operations in the same
 * order; other head sizes go to the reference. */
void plk_m33_attention_scores(float *att, const float *q, const float *keys, size_t stride,
                              int n, int head_size, float scale_div);
void plk_m33_attention_mix(float *out, const float *att, const float *values, size_t stride,
                           int n, int head_size);
#define plk_attention_scores plk_m33_attention_scores
#define plk_attention_mix plk_m33_attention_mix
#elif defined(__riscv) && !defined(__riscv_flen) && !defined(PL_REFERENCE_KERNELS)
/* A RISC-V core without an FPU (the Hazard3): pl_kernels_rv32.c. */
#define PLK_HAVE_RV32 1
void plk_rv32_matvec_q8(float *out, const plk_q8_vector *x, const int8_t *w, const float *ws,
                        int r0, int r1);
void plk_rv32_matvec_q8_rows(float *out, const plk_q8_vector *x, const int8_t *w,
                             const float *ws, int r0, int r1);
void plk_rv32_matvec_q4(float *out, const plk_q8_vector *x, const uint8_t *w,
                        const uint16_t *ws, int r0, int r1);
/* The same quantization with integer compares, rounding and clamping on
 * bit patterns (picolibc's fmaxf, fminf and roundf cost ~270 instructions
 * a value here); the division stays the C library's. */
void plk_rv32_quantize_q8(int8_t *q, float *scales, uint32_t *wide, const float *x, int n,
                          int group_size);
#define plk_matvec_q8 plk_rv32_matvec_q8
#define plk_matvec_q8_rows plk_rv32_matvec_q8_rows
#define plk_matvec_q4 plk_rv32_matvec_q4
#define plk_quantize_q8 plk_rv32_quantize_q8
#define plk_attention_scores plk_ref_attention_scores
#define plk_attention_mix plk_ref_attention_mix
#define PLK_KERNELS_NAME "RISC-V integer"
#else
#define plk_attention_scores plk_ref_attention_scores
#define plk_attention_mix plk_ref_attention_mix
#define plk_matvec_q8 plk_ref_matvec_q8
#define plk_matvec_q8_rows plk_ref_matvec_q8_rows
#define plk_matvec_q4 plk_ref_matvec_q4
#define PLK_KERNELS_NAME "portable reference"
#define plk_quantize_q8 plk_ref_quantize_q8
#endif
#if defined(PLK_HAVE_DSP) || defined(PLK_HAVE_RV32)
#define PLK_HAVE_TARGET_KERNELS 1 /* kernels beside the reference: tested against it */
#endif
#define plk_matvec_f32 plk_ref_matvec_f32
#define plk_matvec_f32_in_order plk_ref_matvec_f32_in_order

#ifdef __cplusplus
}
#endif
#endif /* PL_KERNELS_H */
