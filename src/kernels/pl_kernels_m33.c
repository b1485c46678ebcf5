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
 * two a turn when a row has an even number; other multiples of 16 sixteen
 * weights at a time). Rows of whole words whose groups straddle rows, or
 * whose groups are not a multiple of 16, go segment by segment a word at a
 * time; anything else (odd widths, unaligned weights) with byte loops at
 * the edges. The attention loops for head sizes 8 and 16 load a key or a
 * value with one VLDM (see below).
 */
#include "../pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_kernels.h"

#if defined(PLK_HAVE_DSP)

#include <arm_acle.h>
#include <string.h>

/* A word of four weights, from any address (LDR takes unaligned ones). */
PL_INLINE uint32_t load_word(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

PL_INLINE uint32_t rotate_right_8(uint32_t v) { return (v >> 8) | (v << 24); }

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
PL_HOT __attribute__((noinline)) static void matvec_segments(float *out, const plk_q8_vector *x,
                                                      const int8_t *w, const float *ws,
                                                      int r0, int r1) {
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

/* The dot product of a segment of nw words of four weights (4-byte
 * aligned) with the wide input, added to val as the reference does:
 * val += ((float)dot * w_scale) * x_scale. Two words per turn (LDRD, LDM of
 * four input words, four SXTB16, four SMLAD: 12 instructions for 8 weights
 * with the loop), then an odd word. Needs acc, k, t, w0, w1, x0..x3, pw, px,
 * nw, val, f, ws, xs. */
#define SEGMENT_ASM(nw, ws, label)                                  \
    "movs %[acc], #0\n\t"                                           \
    "lsrs %[k], %[" nw "], #1\n\t"                                  \
    "beq " label "2f\n\t"                                            \
    label "1:\n\t"                                                   \
    G32_WORDS("smlad %[acc], %[t], %[x0], %[acc]\n\t")               \
    "subs %[k], %[k], #1\n\t"                                       \
    "bne " label "1b\n\t"                                            \
    label "2:\n\t"                                                   \
    "tst %[" nw "], #1\n\t"                                         \
    "beq " label "3f\n\t"                                            \
    "ldr %[w0], [%[pw]], #4\n\t"                                    \
    "ldmia %[px]!, {%[x0], %[x1]}\n\t"                              \
    "sxtb16 %[t], %[w0]\n\t"                                        \
    "smlad %[acc], %[t], %[x0], %[acc]\n\t"                         \
    "sxtb16 %[t], %[w0], ror #8\n\t"                                \
    "smlad %[acc], %[t], %[x1], %[acc]\n\t"                         \
    label "3:\n\t"                                                   \
    "vmov %[f], %[acc]\n\t"                                         \
    "vcvt.f32.s32 %[f], %[f]\n\t"                                   \
    "vmul.f32 %[f], %[f], %[" ws "]\n\t"                            \
    "vmul.f32 %[f], %[f], %[xs]\n\t"                                \
    "vadd.f32 %[val], %[val], %[f]\n\t"

#define SEGMENT_REGS                                                             \
    register uint32_t w0 __asm__("r2"), w1 __asm__("r3");                        \
    register uint32_t x0 __asm__("r4"), x1 __asm__("r5"), x2 __asm__("r8"),       \
        x3 __asm__("r9");                                                        \
    uint32_t t, acc, k;                                                          \
    float f
#define SEGMENT_OUTPUTS                                                                 \
    [val] "+t"(val), [pw] "+r"(*pw), [px] "+r"(*px), [acc] "=&r"(acc), [k] "=&r"(k),   \
        [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), \
        [x3] "=&r"(x3), [t] "=&r"(t), [f] "=&t"(f)

/* One segment of nw >= 1 words; *pw and *px advance. */
PL_INLINE float segment_words(float val, const int8_t **pw, const uint32_t **px, int nw,
                                  float w_scale, float x_scale) {
    SEGMENT_REGS;
    __asm__(SEGMENT_ASM("nw", "ws", "")
            : SEGMENT_OUTPUTS
            : [nw] "r"(nw), [ws] "t"(w_scale), [xs] "t"(x_scale)
            : "memory", "cc");
    return val;
}

/* A whole input group split by a weight group's end: na >= 1 words with
 * the weight scale ws_a, then nb >= 1 words with ws_b, both with x_scale. */
PL_INLINE float segment_pair(float val, const int8_t **pw, const uint32_t **px, int na,
                                 int nb, float ws_a, float ws_b, float x_scale) {
    SEGMENT_REGS;
    __asm__(SEGMENT_ASM("na", "wsa", "")
            SEGMENT_ASM("nb", "wsb", "4")
            : SEGMENT_OUTPUTS
            : [na] "r"(na), [nb] "r"(nb), [wsa] "t"(ws_a), [wsb] "t"(ws_b), [xs] "t"(x_scale)
            : "memory", "cc");
    return val;
}

/* Rows whose segments all start and end on whole words (n and the group
 * size multiples of 4, weights 4-byte aligned): karpathy's stories260K_q80
 * (groups of 32 straddling rows of 172), groups of 4, 8, 12, ... The
 * reference's segments, in its order: a weight group of the row ends at
 * the same offset c in every input group, splitting it in two (c words,
 * then the next weight group); with c = 0 the groups coincide. */
PL_HOT __attribute__((noinline)) static void matvec_word_segments(float *out, const plk_q8_vector *x,
                                                           const int8_t *w, const float *ws,
                                                           int r0, int r1) {
    int n = x->n, gs = x->group_size, full = n / gs, rest = n - full * gs;
    for (int i = r0; i < r1; i++) {
        size_t base = (size_t)i * (size_t)n;
        const int8_t *pw = w + base;
        const uint32_t *px = x->wide;
        const float *sw = ws + base / (size_t)gs, *sx = x->scales;
        int c = (int)(((size_t)gs - base % (size_t)gs) % (size_t)gs);
        float val = 0.0f;
        if (c == 0) {
            for (int g = 0; g < full; g++) val = segment_words(val, &pw, &px, gs >> 2, *sw++, *sx++);
        } else {
            for (int g = 0; g < full; g++, sw++, sx++)
                val = segment_pair(val, &pw, &px, c >> 2, (gs - c) >> 2, sw[0], sw[1], *sx);
        }
        if (rest > 0) { /* the input's last, shorter group */
            if (c != 0 && c < rest) {
                val = segment_words(val, &pw, &px, c >> 2, *sw++, *sx);
                val = segment_words(val, &pw, &px, (rest - c) >> 2, *sw, *sx);
            } else {
                val = segment_words(val, &pw, &px, rest >> 2, *sw, *sx);
            }
        }
        out[i] = val;
    }
}

/* acc += 16 weights at *w times 16 wide input values at *x; both
 * pointers advance. 19 instructions: LDM of four weight words, LDM of four
 * input words twice, and per weight word SXTB16 (w0, w2), SMLAD, SXTB16 with
 * ROR #8 (w1, w3), SMLAD. Registers are pinned in ascending order because an
 * LDM fills its list in register order; w must be 4-byte aligned. */
PL_INLINE int32_t dot16(int32_t acc, const int8_t **w, const uint32_t **x) {
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
PL_INLINE int32_t dot_group(const int8_t **w, const uint32_t **x, int gs) {
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

/* The integer sum of a group in acc, then the reference's float step
 * val += ((float)acc * w_scale) * x_scale with the scales in ws and xs. */
#define G32_SUM(acc, ws, xs)                                    \
    G32_WORDS("smuad " acc ", %[t], %[x0]\n\t")                 \
    G32_WORDS("smlad " acc ", %[t], %[x0], " acc "\n\t")        \
    G32_WORDS("smlad " acc ", %[t], %[x0], " acc "\n\t")        \
    G32_WORDS("smlad " acc ", %[t], %[x0], " acc "\n\t")        \
    "vmov %[f1], " acc "\n\t"                                  \
    "vcvt.f32.s32 %[f1], %[f1]\n\t"                            \
    "vmul.f32 %[f1], %[f1], " ws "\n\t"                        \
    "vmul.f32 %[f1], %[f1], " xs "\n\t"                        \
    "vadd.f32 %[val], %[val], %[f1]\n\t"

#define G32_OUTPUTS                                                                       \
    [val] "+t"(val), [pw] "+r"(pw), [px] "+r"(px), [sw] "+r"(sw), [sx] "+r"(sx),            \
        [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2),    \
        [x3] "=&r"(x3), [t] "=&r"(t), [acc] "=&r"(acc), [f1] "=&t"(f1)

/* Rows of groups of 32: per group 4 LDRD, 4 LDM, 16 SXTB16, 16 SMLAD/SMUAD
 * and the reference's float step. With an odd number of groups, one group
 * a turn (49 instructions for 32 multiply-accumulates); with an even
 * number, two, their four scales loaded by two VLDMs (47 per group). */
PL_INLINE void rows_g32(float *out, const plk_q8_vector *x,
                                                           const int8_t *pw, const float *sw,
                                                           int r0, int r1, int even) {
    register uint32_t w0 __asm__("r2"), w1 __asm__("r3");
    register uint32_t x0 __asm__("r4"), x1 __asm__("r5"), x2 __asm__("r8"), x3 __asm__("r9");
    int groups = x->n / 32;
    /* Rows are contiguous: the weight and scale pointers run on from one
     * row into the next; the input's restart. */
    for (int i = r0; i < r1; i++) {
        const uint32_t *px = x->wide;
        const float *sx = x->scales, *send = sw + groups;
        uint32_t t, acc;
        float val = 0.0f, f1, f2, f3;
        if (even) {
            __asm__("1:\n\t"
                    "vldmia %[sw]!, {s12-s13}\n\t"
                    "vldmia %[sx]!, {s14-s15}\n\t"
                    G32_SUM("%[acc]", "s12", "s14")
                    G32_SUM("%[acc]", "s13", "s15")
                    "cmp %[sw], %[send]\n\t"
                    "bne 1b\n\t"
                    : G32_OUTPUTS
                    : [send] "r"(send)
                    : "memory", "cc", "s12", "s13", "s14", "s15");
        } else {
            __asm__("1:\n\t"
                    "vldmia %[sw]!, {%[f2]}\n\t"
                    "vldmia %[sx]!, {%[f3]}\n\t"
                    G32_SUM("%[acc]", "%[f2]", "%[f3]")
                    "cmp %[sw], %[send]\n\t"
                    "bne 1b\n\t"
                    : G32_OUTPUTS, [f2] "=&t"(f2), [f3] "=&t"(f3)
                    : [send] "r"(send)
                    : "memory", "cc");
        }
        out[i] = val;
    }
}

/* The loop above specialized for each parity of the group count. */
static void rows_groups_of_32(float *out, const plk_q8_vector *x, const int8_t *pw,
                              const float *sw, int r0, int r1) {
    if ((x->n / 32) % 2 == 0)
        rows_g32(out, x, pw, sw, r0, r1, 1);
    else
        rows_g32(out, x, pw, sw, r0, r1, 0);
}

PL_HOT void plk_dsp_matvec_q8(float *out, const plk_q8_vector *x, const int8_t *w,
                              const float *ws, int r0, int r1) {
    int n = x->n, gs = x->group_size;
    if (((uintptr_t)w & 3u) != 0 || n % 4 != 0 || gs % 4 != 0) {
        matvec_segments(out, x, w, ws, r0, r1);
        return;
    }
    if (n % gs != 0 || gs % 16 != 0) {
        matvec_word_segments(out, x, w, ws, r0, r1);
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

/* ---- row-grouped int8 (PicoLlama files) --------------------------------------- */

PL_HOT void plk_dsp_matvec_q8_rows(float *out, const plk_q8_vector *x, const int8_t *w,
                                   const float *ws, int r0, int r1) {
    int n = x->n, gs = x->group_size, full = n / gs, rest = n - full * gs;
    if (((uintptr_t)w & 3u) != 0 || gs % 4 != 0) {
        plk_ref_matvec_q8_rows(out, x, w, ws, r0, r1);
        return;
    }
    if (rest == 0) { /* whole groups: the same bytes as a version-2 tensor */
        plk_dsp_matvec_q8(out, x, w, ws, r0, r1);
        return;
    }
    /* The last group is shorter; its padding weights are zeros, as are the
     * input's wide values past n, so it is summed in whole words. */
    int groups = full + 1;
    for (int i = r0; i < r1; i++) {
        const int8_t *pw = w + (size_t)i * PLK_Q8_ROW_BYTES(n);
        const uint32_t *px = x->wide;
        const float *sw = ws + (size_t)i * (size_t)groups, *sx = x->scales;
        float val = 0.0f;
        for (int g = 0; g < full; g++) val = segment_words(val, &pw, &px, gs >> 2, *sw++, *sx++);
        out[i] = segment_words(val, &pw, &px, (rest + 3) >> 2, *sw, *sx);
    }
}

/* ---- int4 ------------------------------------------------------------------------
 * The nibbles sit so that AND with 0xF000F000 of the word shifted left by
 * 0, 4, 8 or 12 leaves two of them at the top of each 16-bit half: signed
 * halves of 4096 times the value, which SMLAD multiplies with the wide
 * input's words as they are (no SXTB16). Per eight weights: half an LDRD,
 * one LDM of four input words, four ANDs, four SMLADs. The group's sum is
 * 4096 times the reference's, exactly (|sum| < 2^31 for groups up to 512),
 * so ASR #12 returns it. */
#define Q4_WORD(w, first)                                       \
    "ldmia %[px]!, {%[x0], %[x1], %[x2], %[x3]}\n\t"           \
    "and %[t], %[mask], %[" w "]\n\t"                          \
    first                                                       \
    "and %[t], %[mask], %[" w "], lsl #4\n\t"                  \
    "smlad %[acc], %[t], %[x1], %[acc]\n\t"                    \
    "and %[t], %[mask], %[" w "], lsl #8\n\t"                  \
    "smlad %[acc], %[t], %[x2], %[acc]\n\t"                    \
    "and %[t], %[mask], %[" w "], lsl #12\n\t"                 \
    "smlad %[acc], %[t], %[x3], %[acc]\n\t"
#define Q4_ADD "smlad %[acc], %[t], %[x0], %[acc]\n\t"
#define Q4_START "smuad %[acc], %[t], %[x0]\n\t"

/* What both int4 sums take: the input words pinned in ascending registers
 * (LDM fills them in order), and the operands. */
#define Q4_REGS                                                                          \
    register uint32_t x0 __asm__("r4"), x1 __asm__("r5"), x2 __asm__("r8"), x3 __asm__("r9"); \
    uint32_t w0, w1, t, mask = 0xF000F000u;                                               \
    int32_t acc
#define Q4_OPERANDS(...)                                                                  \
    : [pw] "+r"(*pw), [px] "+r"(*px), [acc] "=&r"(acc), [w0] "=&r"(w0), [w1] "=&r"(w1),    \
      [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [t] "=&r"(t)         \
      __VA_ARGS__                                                                         \
    : [mask] "r"(mask)                                                                    \
    : "memory", "cc"

/* The integer sum of a group of nw >= 1 words: an odd word first (LSRS
 * puts the count's low bit in the carry), then two a turn. *pw and *px
 * advance. */
PL_INLINE int32_t q4_group_sum(const uint8_t **pw, const uint32_t **px, uint32_t nw) {
    Q4_REGS;
    __asm__("movs %[acc], #0\n\t"
            "lsrs %[nw], %[nw], #1\n\t"
            "bcc 1f\n\t"
            "ldr %[w0], [%[pw]], #4\n\t"
            Q4_WORD("w0", Q4_ADD)
            "1:\n\t"
            "cbz %[nw], 2f\n\t"
            "ldrd %[w0], %[w1], [%[pw]], #8\n\t"
            Q4_WORD("w0", Q4_ADD)
            Q4_WORD("w1", Q4_ADD)
            "subs %[nw], %[nw], #1\n\t"
            "b 1b\n\t"
            "2:\n\t"
            Q4_OPERANDS(, [nw] "+r"(nw)));
    return acc >> 12; /* exact: the sum is 4096 times the reference's */
}

/* A group of 32 (four words), unrolled. */
PL_INLINE int32_t q4_sum_32(const uint8_t **pw, const uint32_t **px) {
    Q4_REGS;
    __asm__("ldrd %[w0], %[w1], [%[pw]], #8\n\t"
            Q4_WORD("w0", Q4_START)
            Q4_WORD("w1", Q4_ADD)
            "ldrd %[w0], %[w1], [%[pw]], #8\n\t"
            Q4_WORD("w0", Q4_ADD)
            Q4_WORD("w1", Q4_ADD)
            Q4_OPERANDS());
    return acc >> 12;
}

/* Pairs of rows of whole groups of 32, the groups' float epilogue and the
 * rows' loop included: one function of hand-allocated registers (naked:
 * its body is the whole function, so it builds the same at every
 * optimization level; the compiler's version of this loop spilled a third
 * of its instructions, and a call per pair cost a fifth of a pair's time
 * in a short row). Each row's output is what q4_sum_32 and the one-row
 * epilogue give, bit for bit: per group, v += ((float)a * scale_w) *
 * scale_x, where VCVT's fixed-point form (#12) gives (float)(acc >> 12)
 * exactly, acc being 4096 times a.
 *   r0 the first row's weights, r1 a row's bytes, r2 the wide input, r3 the
 *   first row's scales; on the stack the input's scales, groups (>= 1),
 *   out and pairs (>= 1).
 * Registers: r5 the nibble mask, r6/r7 a word of rows a and b, r8/r9 the
 * input pair, r10 scratch, r11/r12 the rows' sums, r4 the input's scales,
 * lr their end; s12/s13 the rows' totals, s14 the bytes of a row's scales,
 * s8 the pairs left, s9 out, s11 and s15 the input's start and its
 * scales'. After a pair, r0 and r3 point at row b's weights and scales:
 * one row more is the next pair's. */
#define Q4R_PAIR_WORD(first_a, first_b)                        \
    "ldr r7, [r0, r1]\n\t"                                      \
    "ldr r6, [r0], #4\n\t"                                      \
    "ldrd r8, r9, [r2], #8\n\t"                                 \
    "and r10, r5, r6\n\t" first_a                               \
    "and r10, r5, r7\n\t" first_b                               \
    "and r10, r5, r6, lsl #4\n\t"                               \
    "smlad r11, r10, r9, r11\n\t"                               \
    "and r10, r5, r7, lsl #4\n\t"                               \
    "smlad r12, r10, r9, r12\n\t"                               \
    "ldrd r8, r9, [r2], #8\n\t"                                 \
    "and r10, r5, r6, lsl #8\n\t"                               \
    "smlad r11, r10, r8, r11\n\t"                               \
    "and r10, r5, r7, lsl #8\n\t"                               \
    "smlad r12, r10, r8, r12\n\t"                               \
    "and r10, r5, r6, lsl #12\n\t"                              \
    "smlad r11, r10, r9, r11\n\t"                               \
    "and r10, r5, r7, lsl #12\n\t"                              \
    "smlad r12, r10, r9, r12\n\t"
#define Q4R_ADD_A "smlad r11, r10, r8, r11\n\t"
#define Q4R_ADD_B "smlad r12, r10, r8, r12\n\t"

#define PLK_IN_ASM __attribute__((unused)) /* a naked function's argument: read by its asm */
PL_HOT __attribute__((naked)) static void q4_row_pairs_32(const uint8_t *w PLK_IN_ASM, uint32_t row_bytes PLK_IN_ASM,
                                                         const uint32_t *px PLK_IN_ASM,
                                                         const uint16_t *sw PLK_IN_ASM, const float *sx PLK_IN_ASM,
                                                         int groups PLK_IN_ASM, float *out PLK_IN_ASM,
                                                         int pairs PLK_IN_ASM) {
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r4, [sp, #36]\n\t"         /* the input's scales */
        "vmov s15, r4\n\t"
        "vmov s11, r2\n\t"
        "ldr lr, [sp, #40]\n\t"         /* groups */
        "lsl r10, lr, #1\n\t"
        "vmov s14, r10\n\t"             /* a row's scales: 2 * groups bytes */
        "add lr, r4, lr, lsl #2\n\t"    /* the input's scales' end */
        "ldr r10, [sp, #44]\n\t"
        "vmov s9, r10\n\t"              /* out */
        "ldr r10, [sp, #48]\n\t"
        "vmov s8, r10\n\t"              /* pairs */
        "movw r5, #0xf000\n\t"
        "movt r5, #0xf000\n\t"
        "2:\n\t"
        "movs r10, #0\n\t"
        "vmov s12, r10\n\t"
        "vmov s13, r10\n\t"
        "1:\n\t"
        Q4R_PAIR_WORD("smuad r11, r10, r8\n\t", "smuad r12, r10, r8\n\t")
        Q4R_PAIR_WORD(Q4R_ADD_A, Q4R_ADD_B)
        Q4R_PAIR_WORD(Q4R_ADD_A, Q4R_ADD_B)
        Q4R_PAIR_WORD(Q4R_ADD_A, Q4R_ADD_B)
        "vmov s0, r11\n\t"
        "vcvt.f32.s32 s0, s0, #12\n\t"  /* (float)(acc >> 12), exactly */
        "vmov s1, r12\n\t"
        "vcvt.f32.s32 s1, s1, #12\n\t"
        "vmov r10, s14\n\t"
        "ldrh r10, [r3, r10]\n\t"       /* row b's scale */
        "vmov s3, r10\n\t"
        "ldrh r10, [r3], #2\n\t"        /* row a's */
        "vmov s2, r10\n\t"
        "vcvtb.f32.f16 s2, s2\n\t"
        "vcvtb.f32.f16 s3, s3\n\t"
        "vldmia r4!, {s4}\n\t"          /* the input's */
        "vmul.f32 s0, s0, s2\n\t"
        "vmul.f32 s0, s0, s4\n\t"
        "vadd.f32 s12, s12, s0\n\t"
        "vmul.f32 s1, s1, s3\n\t"
        "vmul.f32 s1, s1, s4\n\t"
        "vadd.f32 s13, s13, s1\n\t"
        "cmp r4, lr\n\t"
        "bne 1b\n\t"
        "vmov r10, s9\n\t"
        "vstmia r10!, {s12-s13}\n\t"
        "vmov s9, r10\n\t"
        "add r0, r0, r1\n\t"            /* past row b */
        "vmov r10, s14\n\t"
        "add r3, r3, r10\n\t"
        "vmov r2, s11\n\t"
        "vmov r4, s15\n\t"
        "vmov r10, s8\n\t"
        "subs r10, r10, #1\n\t"
        "vmov s8, r10\n\t"
        "bne 2b\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* A half-precision scale as float, by VCVTB (exact, like plk_f16_to_f32). */
PL_INLINE float f16_scale(uint16_t h) {
    float f;
    __asm__("vmov %[f], %[h]\n\tvcvtb.f32.f16 %[f], %[f]" : [f] "=t"(f) : [h] "r"((uint32_t)h));
    return f;
}

PL_HOT void plk_dsp_matvec_q4(float *out, const plk_q8_vector *x, const uint8_t *w,
                              const uint16_t *ws, int r0, int r1) {
    int n = x->n, gs = x->group_size, full = n / gs, rest = n - full * gs;
    if (((uintptr_t)w & 3u) != 0 || gs % 8 != 0 || gs > 512) {
        plk_ref_matvec_q4(out, x, w, ws, r0, r1);
        return;
    }
    int groups = PLK_GROUPS(n, gs), i = r0;
    size_t row_bytes = PLK_Q4_ROW_BYTES(n);
    if (gs == 32 && rest == 0 && full > 0 && r1 - i >= 2) { /* two rows a turn, each summed as alone */
        int pairs = (r1 - i) / 2;
        q4_row_pairs_32(w + (size_t)i * row_bytes, (uint32_t)row_bytes, x->wide, ws + (size_t)i * (size_t)groups,
                        x->scales, full, out + i, pairs);
        i += 2 * pairs;
    }
    for (; i < r1; i++) {
        const uint8_t *pw = w + (size_t)i * row_bytes;
        const uint32_t *px = x->wide;
        const uint16_t *sw = ws + (size_t)i * (size_t)groups;
        const float *sx = x->scales;
        float val = 0.0f;
        if (gs == 32)
            for (int g = 0; g < full; g++)
                val += ((float)q4_sum_32(&pw, &px)) * f16_scale(*sw++) * *sx++;
        else
            for (int g = 0; g < full; g++)
                val += ((float)q4_group_sum(&pw, &px, (uint32_t)gs >> 3)) * f16_scale(*sw++) * *sx++;
        if (rest > 0)
            val += ((float)q4_group_sum(&pw, &px, (uint32_t)(rest + 7) >> 3)) * f16_scale(*sw) * *sx;
        out[i] = val;
    }
}

/* ---- copying ------------------------------------------------------------------ */

PL_HOT void plk_copy(void *dst, const void *src, size_t n) {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3u) == 0) {
        /* 32 bytes a turn: LDM and STM of eight registers */
        for (; n >= 32; n -= 32)
            __asm__ volatile("ldmia %[s]!, {r2, r3, r4, r5, r6, r8, r9, r12}\n\t"
                             "stmia %[d]!, {r2, r3, r4, r5, r6, r8, r9, r12}\n\t"
                             : [s] "+r"(s), [d] "+r"(d)
                             :
                             : "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r12", "memory");
        for (; n >= 4; n -= 4, d += 4, s += 4) *(uint32_t *)(void *)d = *(const uint32_t *)(const void *)s;
    }
    while (n--) *d++ = *s++;
}

/* ---- attention ---------------------------------------------------------------
 * A head's keys or values come in by VLDM, 8 floats an instruction, and q
 * (scores) or the sums (mix) stay in the FPU's registers for every
 * position. The operations and their order are the reference's: per
 * position score = ((0 + q0*k0) + q1*k1) + ..., then score / scale_div; per
 * value out = ((out + a0*v0) + a1*v1) + .... Head sizes 8 and 16; others go
 * to the reference. Registers: s0 the score or weight, s1 a product, s2
 * zero, s3 scale_div, s4-s11 half a head of 16, s16-s31 q or the sums (and
 * the key or value of a head of 8 in s24-s31). */

#define PLK_FP_CLOBBERS                                                                 \
    "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s16",     \
        "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27",     \
        "s28", "s29", "s30", "s31"
/* s0 += sQ * sK (the product in s1), sACC += s0 * sV */
#define DOT(q, k) "vmul.f32 s1, s" #q ", s" #k "\n\tvadd.f32 s0, s0, s1\n\t"
#define AXPY(acc, v) "vmul.f32 s1, s0, s" #v "\n\tvadd.f32 s" #acc ", s" #acc ", s1\n\t"
/* What every attention loop shares: the score's zero and divisor, the
 * score's division and store, the loop, and the operands. */
#define SCORES_SETUP "vmov s2, %[zero]\n\tvmov s3, %[div]\n\t1:\n\t"
#define SCORES_NEXT "vdiv.f32 s0, s0, s3\n\tvstmia %[att]!, {s0}\n\tsubs %[n], %[n], #1\n\tbne 1b\n\t"
#define SCORES_OPERANDS                                                                  \
    : [att] "+r"(att), [k] "+r"(keys), [n] "+r"(n)                                       \
    : [q] "r"(q), [step] "r"(step), [div] "r"(scale_div), [zero] "r"(zero)              \
    : "memory", "cc", PLK_FP_CLOBBERS
#define MIX_OPERANDS                                                                     \
    : [att] "+r"(att), [v] "+r"(values), [n] "+r"(n)                                    \
    : [out] "r"(out), [step] "r"(step)                                                   \
    : "memory", "cc", PLK_FP_CLOBBERS

PL_HOT void plk_m33_attention_scores(float *att, const float *q, const float *keys,
                                     size_t stride, int n, int head_size, float scale_div) {
    uint32_t step = (uint32_t)(stride * sizeof(float)), zero = 0;
    if (n <= 0 || (head_size != 8 && head_size != 16)) {
        plk_ref_attention_scores(att, q, keys, stride, n, head_size, scale_div);
        return;
    }
    if (head_size == 8) { /* q in s16-s23, the key in s24-s31 */
        __asm__ volatile("vldmia %[q], {s16-s23}\n\t"
                         SCORES_SETUP
                         "vldmia %[k], {s24-s31}\n\t"
                         "add %[k], %[k], %[step]\n\t"
                         "vmov.f32 s0, s2\n\t"
                         DOT(16, 24) DOT(17, 25) DOT(18, 26) DOT(19, 27)
                         DOT(20, 28) DOT(21, 29) DOT(22, 30) DOT(23, 31)
                         SCORES_NEXT
                         SCORES_OPERANDS);
    } else { /* q in s16-s31, each half of the key in s4-s11 in turn */
        step -= 32; /* the first half's VLDM advanced 32 bytes */
        __asm__ volatile("vldmia %[q], {s16-s31}\n\t"
                         SCORES_SETUP
                         "vldmia %[k]!, {s4-s11}\n\t"
                         "vmov.f32 s0, s2\n\t"
                         DOT(16, 4) DOT(17, 5) DOT(18, 6) DOT(19, 7)
                         DOT(20, 8) DOT(21, 9) DOT(22, 10) DOT(23, 11)
                         "vldmia %[k], {s4-s11}\n\t"
                         "add %[k], %[k], %[step]\n\t"
                         DOT(24, 4) DOT(25, 5) DOT(26, 6) DOT(27, 7)
                         DOT(28, 8) DOT(29, 9) DOT(30, 10) DOT(31, 11)
                         SCORES_NEXT
                         SCORES_OPERANDS);
    }
}

PL_HOT void plk_m33_attention_mix(float *out, const float *att, const float *values,
                                  size_t stride, int n, int head_size) {
    uint32_t step = (uint32_t)(stride * sizeof(float));
    if (n <= 0 || (head_size != 8 && head_size != 16)) {
        plk_ref_attention_mix(out, att, values, stride, n, head_size);
        return;
    }
    if (head_size == 8) { /* the sums in s16-s23, the value in s24-s31 */
        __asm__ volatile("vldmia %[out], {s16-s23}\n\t"
                         "1:\n\t"
                         "vldmia %[att]!, {s0}\n\t"
                         "vldmia %[v], {s24-s31}\n\t"
                         "add %[v], %[v], %[step]\n\t"
                         AXPY(16, 24) AXPY(17, 25) AXPY(18, 26) AXPY(19, 27)
                         AXPY(20, 28) AXPY(21, 29) AXPY(22, 30) AXPY(23, 31)
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         "vstmia %[out], {s16-s23}\n\t"
                         MIX_OPERANDS);
    } else { /* the sums in s16-s31, each half of the value in s4-s11 in turn */
        step -= 32;
        __asm__ volatile("vldmia %[out], {s16-s31}\n\t"
                         "1:\n\t"
                         "vldmia %[att]!, {s0}\n\t"
                         "vldmia %[v]!, {s4-s11}\n\t"
                         AXPY(16, 4) AXPY(17, 5) AXPY(18, 6) AXPY(19, 7)
                         AXPY(20, 8) AXPY(21, 9) AXPY(22, 10) AXPY(23, 11)
                         "vldmia %[v], {s4-s11}\n\t"
                         "add %[v], %[v], %[step]\n\t"
                         AXPY(24, 4) AXPY(25, 5) AXPY(26, 6) AXPY(27, 7)
                         AXPY(28, 8) AXPY(29, 9) AXPY(30, 10) AXPY(31, 11)
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         "vstmia %[out], {s16-s31}\n\t"
                         MIX_OPERANDS);
    }
}

#endif /* PLK_HAVE_DSP */
