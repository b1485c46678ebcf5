/*
 * Cortex-M33 kernels with the DSP extension (arduino-pico builds with
 * -march=armv8-m.main+fp+dsp): the int8 matrix-vector product with SXTB16
 * (two bytes widened to 16 bits in one instruction) and SMLAD (two 16-bit
 * multiply-accumulates in one).
 *
 * Exactness: each group's int32 dot product is exact in any order (a group
 * is at most 65536 values, |q| <= 128: no overflow), and the float
 * accumulation over groups is the reference kernel's, in the same order. So
 * every output is bit for bit plk_ref_matvec_q8's, which the tests check on
 * random shapes under QEMU.
 *
 * Speed: the input is widened once (plk_q8_vector.wide); per four weights a
 * row then costs one load, two SXTB16 and two SMLAD. Rows of whole, 4-byte
 * aligned groups take a hand-scheduled path (groups of 32 in one asm loop,
 * other multiples of 16 sixteen weights at a time); other layouts (groups
 * straddling rows, odd widths) go segment by segment with the same
 * instructions and byte loops at the edges.
 */
#include "pl_kernels.h"

#if defined(PLK_HAVE_DSP)

#include <arm_acle.h>
#include <string.h>

/* A word of four weights, from any address (LDR takes unaligned ones). */
static inline uint32_t load_word(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t rotate_right_8(uint32_t v) { return (v >> 8) | (v << 24); }

/* Four weights w0..w3 times the wide input block (x0 | x2 << 16, x1 | x3 << 16). */
#define MAC4(acc, word, xw)                                                  \
    do {                                                                     \
        (acc) = __smlad(__sxtb16(word), (xw)[0], (acc));                     \
        (acc) = __smlad(__sxtb16(rotate_right_8(word)), (xw)[1], (acc));         \
    } while (0)

/* sum of q[j] * row[j] for j in [j0, j1). */
static int32_t dot_span(const plk_q8_vector *x, const int8_t *row, int j0, int j1) {
    int32_t acc = 0;
    int j = j0;
    for (; j < j1 && (j & 3) != 0; j++) acc += (int32_t)x->q[j] * (int32_t)row[j];
    const uint32_t *xw = x->wide + (j >> 1);
    for (; j + 4 <= j1; j += 4, xw += 2) {
        uint32_t word = load_word(row + j);
        MAC4(acc, word, xw);
    }
    for (; j < j1; j++) acc += (int32_t)x->q[j] * (int32_t)row[j];
    return acc;
}

/* Any layout: segments as in the reference kernel. */
static void matvec_segments(float *out, const plk_q8_vector *x, const int8_t *w,
                            const float *ws, int r0, int r1) {
    int n = x->n, gs = x->group_size;
    for (int i = r0; i < r1; i++) {
        size_t base = (size_t)i * (size_t)n;
        float val = 0.0f;
        int j = 0;
        while (j < n) {
            size_t wg;
            int xg, end = plk_q8_segment(base, j, n, gs, &wg, &xg);
            val += ((float)dot_span(x, w + base, j, end)) * ws[wg] * x->scales[xg];
            j = end;
        }
        out[i] = val;
    }
}

/* acc += 16 weights at *w times 16 wide input values at *x; both
 * pointers advance. 19 instructions: LDM of four weight words, LDM of four
 * input words twice, and per weight word SXTB16 (w0, w2), SMLAD, SXTB16 with
 * ROR #8 (w1, w3), SMLAD. Registers are pinned in ascending order because an
 * LDM fills its list in register order; w must be 4-byte aligned. */
static inline int32_t dot16(int32_t acc, const int8_t **w, const uint32_t **x) {
    register uint32_t w0 __asm__("r2"), w1 __asm__("r3"), w2 __asm__("r4"), w3 __asm__("r5");
    register uint32_t x0 __asm__("r8"), x1 __asm__("r9"), x2 __asm__("r10"), x3 __asm__("r12");
    uint32_t t;
    __asm__("ldmia %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"
            "ldmia %[x]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"
            "sxtb16 %[t], %[w0]\n\t"
            "smlad %[acc], %[t], %[x0], %[acc]\n\t"
            "sxtb16 %[t], %[w0], ror #8\n\t"
            "smlad %[acc], %[t], %[x1], %[acc]\n\t"
            "sxtb16 %[t], %[w1]\n\t"
            "smlad %[acc], %[t], %[x2], %[acc]\n\t"
            "sxtb16 %[t], %[w1], ror #8\n\t"
            "smlad %[acc], %[t], %[x3], %[acc]\n\t"
            "ldmia %[x]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"
            "sxtb16 %[t], %[w2]\n\t"
            "smlad %[acc], %[t], %[x0], %[acc]\n\t"
            "sxtb16 %[t], %[w2], ror #8\n\t"
            "smlad %[acc], %[t], %[x1], %[acc]\n\t"
            "sxtb16 %[t], %[w3]\n\t"
            "smlad %[acc], %[t], %[x2], %[acc]\n\t"
            "sxtb16 %[t], %[w3], ror #8\n\t"
            "smlad %[acc], %[t], %[x3], %[acc]\n\t"
            : [acc] "+r"(acc), [w] "+r"(*w), [x] "+r"(*x), [w0] "=&r"(w0), [w1] "=&r"(w1),
              [w2] "=&r"(w2), [w3] "=&r"(w3), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
              [x3] "=&r"(x3), [t] "=&r"(t)
            :
            : "memory");
    return acc;
}

/* One whole group of gs weights (a multiple of 16), unrolled for the usual
 * sizes. */
static inline int32_t dot_group(const int8_t **w, const uint32_t **x, int gs) {
    int32_t acc = 0;
    switch (gs) {
    case 64:
        acc = dot16(acc, w, x);
        acc = dot16(acc, w, x);
        /* fall through */
    case 32:
        acc = dot16(acc, w, x);
        /* fall through */
    case 16:
        acc = dot16(acc, w, x);
        break;
    default:
        for (int k = 0; k < gs; k += 16) acc = dot16(acc, w, x);
    }
    return acc;
}

/* Eight weights (two words, loaded as one) times the next eight wide input
 * values; the first of a group starts the sum (SMUAD), the rest add. */
#define G32_WORDS(first)                                        \
    "ldrd %[w0], %[w1], [%[pw]], #8\n\t"                        \
    "ldmia %[px]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"            \
    "sxtb16 %[t], %[w0]\n\t"                                    \
    first                                                       \
    "sxtb16 %[t], %[w0], ror #8\n\t"                            \
    "smlad %[acc], %[t], %[x1], %[acc]\n\t"                     \
    "sxtb16 %[t], %[w1]\n\t"                                    \
    "smlad %[acc], %[t], %[x2], %[acc]\n\t"                     \
    "sxtb16 %[t], %[w1], ror #8\n\t"                            \
    "smlad %[acc], %[t], %[x3], %[acc]\n\t"

/* One row with groups of 32: per group 4 LDRD, 4 LDM, 16 SXTB16,
 * 16 SMLAD/SMUAD, then the reference's float step
 * val += ((float)acc * w_scale) * x_scale, and the loop: 49 instructions
 * for 32 multiply-accumulates. */
static void rows_groups_of_32(float *out, const plk_q8_vector *x, const int8_t *pw,
                              const float *sw, int r0, int r1) {
    register uint32_t w0 __asm__("r2"), w1 __asm__("r3");
    register uint32_t x0 __asm__("r4"), x1 __asm__("r5"), x2 __asm__("r8"), x3 __asm__("r9");
    int groups = x->n / 32;
    /* Rows are contiguous: the weight and scale pointers run on from one
     * row into the next; the input's restart. */
    for (int i = r0; i < r1; i++) {
        const uint32_t *px = x->wide;
        const float *sx = x->scales, *send = sw + groups;
        uint32_t t, acc;
        float val = 0.0f, f1, f2;
        __asm__("1:\n\t"
                G32_WORDS("smuad %[acc], %[t], %[x0]\n\t")
                G32_WORDS("smlad %[acc], %[t], %[x0], %[acc]\n\t")
                G32_WORDS("smlad %[acc], %[t], %[x0], %[acc]\n\t")
                G32_WORDS("smlad %[acc], %[t], %[x0], %[acc]\n\t")
                "vmov %[f1], %[acc]\n\t"
                "vcvt.f32.s32 %[f1], %[f1]\n\t"
                "vldmia %[sw]!, {%[f2]}\n\t"
                "vmul.f32 %[f1], %[f1], %[f2]\n\t"
                "vldmia %[sx]!, {%[f2]}\n\t"
                "vmul.f32 %[f1], %[f1], %[f2]\n\t"
                "vadd.f32 %[val], %[val], %[f1]\n\t"
                "cmp %[sw], %[send]\n\t"
                "bne 1b\n\t"
                : [val] "+t"(val), [pw] "+r"(pw), [px] "+r"(px), [sw] "+r"(sw), [sx] "+r"(sx),
                  [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),
                  [x3] "=&r"(x3), [t] "=&r"(t), [acc] "=&r"(acc), [f1] "=&t"(f1), [f2] "=&t"(f2)
                : [send] "r"(send)
                : "memory", "cc");
        out[i] = val;
    }
}

PL_HOT void plk_dsp_matvec_q8(float *out, const plk_q8_vector *x, const int8_t *w,
                              const float *ws, int r0, int r1) {
    int n = x->n, gs = x->group_size;
    if (n % gs != 0 || gs % 16 != 0 || ((uintptr_t)w & 3u) != 0) {
        matvec_segments(out, x, w, ws, r0, r1);
        return;
    }
    /* Whole, aligned groups of a multiple of 16 weights. */
    int groups = n / gs;
    const float *xs = x->scales;
    if (gs == 32) {
        rows_groups_of_32(out, x, w + (size_t)r0 * (size_t)n, ws + (size_t)r0 * (size_t)groups,
                          r0, r1);
        return;
    }
    for (int i = r0; i < r1; i++) {
        const int8_t *pw = w + (size_t)i * (size_t)n;
        const uint32_t *px = x->wide;
        const float *sw = ws + (size_t)i * (size_t)groups;
        float val = 0.0f;
        for (int g = 0; g < groups; g++) {
            int32_t acc = dot_group(&pw, &px, gs);
            val += ((float)acc) * sw[g] * xs[g];
        }
        out[i] = val;
    }
}

#endif /* PLK_HAVE_DSP */
