/*
 * The engine's expf, inline: the kernels that call it thousands of times a
 * token (softmax, SwiGLU) take its fast path without a call. pl_expf() in
 * pl_math.c is the same function out of line.
 *
 * e^x = 2^(n + j/64) * e^r with k = n * 64 + j = round(x * 64/ln2) and
 * x = k * ln2/64 + r, |r| <= ln2/128. The fast path computes the result to
 * about 2^-35 with 32-bit multiplies (one instruction each on a Cortex-M33)
 * and returns it only when that error cannot change the rounding (Ziv's
 * test); otherwise, about twice in a thousand calls, plk_expf_exact()
 * evaluates a 64-bit series that is correctly rounded. So the answer is the
 * correctly rounded e^x whichever path ran: `make check-math` compares every
 * float input with a long double reference.
 */
#ifndef PL_EXPF_FAST_H
#define PL_EXPF_FAST_H

#include <stdint.h>
#include <string.h>

#include "../pl_port.h" /* PL_COLD */

/* The kernels' loops want the fast path in their body, not a call (and on
 * the board not a call into flash); compilers that cannot force it are
 * still correct. */
#if defined(__GNUC__)
#define PLK_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define PLK_ALWAYS_INLINE inline
#endif

static inline uint32_t plk_bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float plk_float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* 2^(j/64), j = 0..63, in Q63 (rounded); pl_math.c. */
extern const uint64_t plk_exp2_q63[64];
/* The correctly rounded e^x for every float x, from the 64-bit series:
 * the inputs the fast path leaves (pl_math.c). */
PL_COLD float plk_expf_exact(float x);

/* ln2/64 in Q38: its integer part and the next 31 bits of its fraction. */
#define PLK_LN2_64_Q38_INT 0xb17217f7u
#define PLK_LN2_64_Q38_FRAC31 0x68e7bcd6
/* The fast path's inputs: 2^-15 <= |x| <= 87 (the bits of both bounds).
 * Above 87, e^x may round into the top binade or overflow; below -87 it
 * may be subnormal; below 2^-15, x*2^38 is no longer an integer. Inside,
 * every result is a normal float, so no check of its exponent is needed. */
#define PLK_EXPF_FAST_LOW 0x38000000u
#define PLK_EXPF_FAST_HIGH 0x42ae0000u

/* e^x for x with bits u in the fast path's range, reduced with
 * k = n * 64 + j; 0 when the exact path must decide. */
static PLK_ALWAYS_INLINE int plk_expf_fast(uint32_t u, int k, int n, int j, float *out) {
    /* r in Q38, computed modulo 2^32: |r| <= 0.00544 < 2^-7, so the low 32
     * bits of x*2^38 - k*ln2/64*2^38 are r's, exactly up to two units
     * (ln2/64's fraction). x = mx * 2^(ex-150) with ex >= 112 in the
     * range, so x*2^38 = mx << (ex - 112), an integer (ex <= 133: a shift
     * of 21 at most). */
    uint32_t xq = ((u & 0x7fffffu) | 0x800000u) << (((u >> 23) & 0xffu) - 112u);
    if (u >> 31) xq = 0u - xq;
    uint32_t kl = (uint32_t)k * PLK_LN2_64_Q38_INT +
                  (uint32_t)(((int64_t)k * PLK_LN2_64_Q38_FRAC31) >> 31);
    int32_t r = (int32_t)(xq - kl);
    /* e^r - 1 = r + r^2 * b, b = 1/2 + r/6 + r^2/24 (r^5/120 is below
     * 2^-44). An error in b is multiplied by r^2 < 2^-15, so b needs only
     * 31 bits: its own errors reach em1 below 2^-45. */
    int32_t b = (int32_t)(((int64_t)r * 0x5555) >> 32);   /* r/24: Q38 * Q19 -> Q25 */
    b = (int32_t)(((int64_t)r * (0x555555 + b)) >> 32);    /* r * (1/6 + r/24): Q38 * Q25 -> Q31 */
    b += 0x40000000;                                       /* + 1/2, Q31 */
    int32_t r2 = (int32_t)(((int64_t)r * r) >> 32);       /* Q44, < 2^29 */
    int32_t em1 = r + (int32_t)(((int64_t)r2 * b) >> 37); /* Q44 * Q31 = Q75 -> Q38 */
    /* m = t * (1 + em1), Q63, with t's top 31 bits in the product (the bits
     * left out weigh below 2^-37 of the result). Errors: r's 2^-37, the
     * products' 2^-38 and 2^-37.5: |m - exact| < 2^-34.5 * 2^63. */
    uint64_t t = plk_exp2_q63[j];
    uint64_t m = t + (uint64_t)(((int64_t)(int32_t)(t >> 33) * em1) >> 5); /* Q30 * Q38 = Q68 -> Q63 */
    int e = n;
    if (!(m >> 63)) { /* t = 1 and r < 0: the value is just below 1 */
        m <<= 1;
        e--;
    }
    /* Round to 24 bits unless the error (below 2^30 units with the shift
     * above) may reach the midpoint 2^39 of the 40 bits that go: rest in
     * [511, 513) * 2^30 falls back. */
    uint32_t g = (uint32_t)(m >> 30) & 0x3ffu;
    if (g - 511u < 2u) return 0;
    uint32_t mant = (uint32_t)(m >> 40) + (g >> 9); /* in [2^23, 2^24] */
    /* The exponent field one below, plus a mantissa that includes its
     * leading bit: a carry to 2^24 steps the exponent by itself. The
     * range keeps e + 126 in [0, 251]. */
    *out = plk_float_of(((uint32_t)(e + 126) << 23) + mant);
    return 1;
}

/* k = x * 64/ln2 rounded to an integer (to nearest even: any k near it
 * keeps |r| within the series' range), by adding 1.5 * 2^23 + 2^14: the
 * float sum's last bit is a unit, so its low bits are k + 2^14 (>= 0 for
 * |k| < 9700), which gives n = floor(k / 64) and j = k mod 64 without a
 * branch. */
#define PLK_EXPF_REDUCE(x, k, n, j)                                         \
    do {                                                                    \
        float kf_ = (x) * 92.332482616893656f + 12599296.0f;                \
        int kb_ = (int)(plk_bits_of(kf_) - 0x4b400000u); /* k + 2^14 */    \
        (k) = kb_ - 16384;                                                  \
        (n) = (kb_ >> 6) - 256;                                             \
        (j) = kb_ & 63;                                                     \
    } while (0)

/* Correctly rounded e^x for every float x: one comparison sends the inputs
 * outside the fast path's range (0, tiny, huge, infinite, NaN) to the
 * exact path. */
static PLK_ALWAYS_INLINE float plk_expf_inline(float x) {
    uint32_t u = plk_bits_of(x);
    if ((u & 0x7fffffffu) - PLK_EXPF_FAST_LOW > PLK_EXPF_FAST_HIGH - PLK_EXPF_FAST_LOW)
        return plk_expf_exact(x);
    int k, n, j;
    PLK_EXPF_REDUCE(x, k, n, j);
    float y;
    if (plk_expf_fast(u, k, n, j, &y)) return y;
    return plk_expf_exact(x);
}

#endif /* PL_EXPF_FAST_H */
