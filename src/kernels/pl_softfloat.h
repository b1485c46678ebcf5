/*
 * IEEE 754 single precision in integer arithmetic: addition, multiplication
 * and conversion from int32 on bit patterns, correctly rounded to nearest
 * (ties to even), with subnormals, signed zeros, infinities and NaNs as the
 * standard says. So results are the same bits as any IEEE FPU's, which the
 * host test checks (tests/test_softfloat.c; make check-softfloat for the
 * long run).
 *
 * Why the engine has its own: on a core without an FPU (the RP2350's
 * Hazard3) every float operation is a library call. libgcc's are exact but
 * slow (about 100 instructions an addition), and the pico-sdk's Hazard3
 * versions, which arduino-pico's RISC-V core links by default (its libpico
 * build keeps the SDK's default float implementation), flush
 * subnormals to zero, so a board using them could tell a different story
 * from the PC. pl_softfloat.c puts these in place of both on such cores.
 *
 * The working form of a finite value: a significand m with its unit bit at
 * bit 30, seven more bits below the last one kept (the lowest "sticky":
 * set when anything nonzero was shifted out), and a biased exponent e >= 1;
 * e == 1 with the unit bit clear is a subnormal.
 */
#ifndef PL_SOFTFLOAT_H
#define PL_SOFTFLOAT_H

#include <stdint.h>
#include <string.h>

#define PLSF_SIGN 0x80000000u
#define PLSF_INF 0x7f800000u
#define PLSF_DEFAULT_NAN 0x7fc00000u /* what an invalid operation returns */
#define PLSF_QUIET 0x00400000u
#define PLSF_FRACTION 0x007fffffu
#define PLSF_UNIT 0x00800000u
#define PLSF_EXTRA_BITS 7

/* Inline even where the compiler would rather call: a kernel's float
 * operations are most of its instructions, and a call costs a tenth more. */
#if defined(__GNUC__)
#define PLSF_INLINE static inline __attribute__((always_inline))
#else
#define PLSF_INLINE static inline
#endif

/* A float's bits and back (memcpy: no aliasing questions, no code). */
PLSF_INLINE uint32_t plsf_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}
PLSF_INLINE float plsf_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

PLSF_INLINE int plsf_exponent(uint32_t a) { return (int)((a >> 23) & 0xffu); }
PLSF_INLINE int plsf_is_nan(uint32_t a) { return (a & ~PLSF_SIGN) > PLSF_INF; }

/* Leading zeros of a nonzero word: one instruction with Zbb or on Arm. */
PLSF_INLINE int plsf_clz(uint32_t x) {
#if defined(__GNUC__)
    return __builtin_clz(x);
#else
    int n = 0;
    while (!(x & PLSF_SIGN)) x <<= 1, n++;
    return n;
#endif
}

/* m >> d, with the bits shifted out ORed into the lowest bit. */
PLSF_INLINE uint32_t plsf_shift_right_jam(uint32_t m, uint32_t d) {
    if (d >= 31) return m != 0;
    return (m >> d) | ((m & ((1u << d) - 1u)) != 0);
}

/* Rounds the working form (see above) to nearest-even and packs it. A
 * carry out of the significand runs into the exponent field by itself
 * (and turns the largest subnormal into the smallest normal); a result past
 * the largest finite value is infinity. */
PLSF_INLINE uint32_t plsf_round_pack(uint32_t sign, int e, uint32_t m) {
    /* Adding just under half, plus the last kept bit, carries into the kept
     * bits exactly when the rest is over half, or half with that bit odd. */
    m += (1u << (PLSF_EXTRA_BITS - 1)) - 1u + ((m >> PLSF_EXTRA_BITS) & 1u);
    uint32_t bits = ((uint32_t)(e - 1) << 23) + (m >> PLSF_EXTRA_BITS);
    return bits >= PLSF_INF ? sign | PLSF_INF : sign | bits;
}

/* As plsf_round_pack, for an exponent that may be below 1: the significand
 * is first shifted down to exponent 1 (a subnormal or zero). */
PLSF_INLINE uint32_t plsf_round_pack_any(uint32_t sign, int e, uint32_t m) {
    if (e < 1) {
        m = plsf_shift_right_jam(m, (uint32_t)(1 - e));
        e = 1;
    }
    return plsf_round_pack(sign, e, m);
}

/* Inputs that are NaN or infinite (exponent field 255). */
static inline uint32_t plsf_add_special(uint32_t a, uint32_t b) {
    if (plsf_is_nan(a)) return a | PLSF_QUIET;
    if (plsf_is_nan(b)) return b | PLSF_QUIET;
    if (plsf_exponent(a) == 255) /* inf + inf of the other sign is invalid */
        return plsf_exponent(b) == 255 && ((a ^ b) & PLSF_SIGN) ? PLSF_DEFAULT_NAN : a;
    return b;
}

PLSF_INLINE uint32_t plsf_add(uint32_t a, uint32_t b) {
    if (plsf_exponent(a) == 255 || plsf_exponent(b) == 255) return plsf_add_special(a, b);
    if ((a & ~PLSF_SIGN) < (b & ~PLSF_SIGN)) { /* a the larger magnitude: the result's sign */
        uint32_t t = a;
        a = b;
        b = t;
    }
    uint32_t sign = a & PLSF_SIGN, ma = a & PLSF_FRACTION, mb = b & PLSF_FRACTION, m;
    int ea = plsf_exponent(a), eb = plsf_exponent(b);
    if (ea) ma |= PLSF_UNIT; else ea = 1;
    if (eb) mb |= PLSF_UNIT; else eb = 1;
    ma <<= PLSF_EXTRA_BITS;
    mb = plsf_shift_right_jam(mb << PLSF_EXTRA_BITS, (uint32_t)(ea - eb));
    if ((a ^ b) & PLSF_SIGN) {
        m = ma - mb;
        if (m == 0) return 0; /* x - x is +0 when rounding to nearest */
    } else {
        m = ma + mb;
        if (m == 0) return sign; /* (-0) + (-0) */
    }
    if (m & PLSF_SIGN) { /* the sum carried: one bit down */
        m = plsf_shift_right_jam(m, 1);
        ea++;
    } else { /* cancellation: up to the unit bit, or to exponent 1 */
        int s = plsf_clz(m) - 1;
        if (s > ea - 1) s = ea - 1;
        m <<= s;
        ea -= s;
    }
    return plsf_round_pack(sign, ea, m);
}

static inline uint32_t plsf_mul_special(uint32_t a, uint32_t b) {
    if (plsf_is_nan(a)) return a | PLSF_QUIET;
    if (plsf_is_nan(b)) return b | PLSF_QUIET;
    /* one is infinite: times zero is invalid, else a signed infinity */
    if (!(a & ~PLSF_SIGN) || !(b & ~PLSF_SIGN)) return PLSF_DEFAULT_NAN;
    return ((a ^ b) & PLSF_SIGN) | PLSF_INF;
}

/* A finite nonzero operand's significand with its unit bit at bit 23 and
 * its exponent (below 1 for a subnormal, normalized). */
PLSF_INLINE uint32_t plsf_unpack_normalized(uint32_t a, int *e) {
    uint32_t m = a & PLSF_FRACTION;
    *e = plsf_exponent(a);
    if (*e) return m | PLSF_UNIT;
    int s = plsf_clz(m) - 8;
    *e = 1 - s;
    return m << s;
}

/* The product of two significands with their unit bits at bit 31: its
 * unit bit at bit 62 or 63 of 64, so the high word is the working form or
 * one bit above it, and the low word only sticky. One MUL and one MULHU on
 * RISC-V. e: the biased exponent for a product below 2. */
PLSF_INLINE uint32_t plsf_mul_significands(uint32_t sign, uint32_t ma, uint32_t mb, int e) {
    uint64_t p = (uint64_t)ma * (uint64_t)mb;
    uint32_t m = (uint32_t)(p >> 32) | ((uint32_t)p != 0);
    if (m & PLSF_SIGN) {
        m = (m >> 1) | (m & 1u);
        e++;
    }
    return e >= 1 ? plsf_round_pack(sign, e, m) : plsf_round_pack_any(sign, e, m);
}

PLSF_INLINE uint32_t plsf_mul(uint32_t a, uint32_t b) {
    int ea = plsf_exponent(a), eb = plsf_exponent(b);
    uint32_t sign = (a ^ b) & PLSF_SIGN;
    if ((unsigned)(ea - 1) < 254u && (unsigned)(eb - 1) < 254u) /* both normal: every model's path */
        return plsf_mul_significands(sign, (a << 8) | PLSF_SIGN, (b << 8) | PLSF_SIGN, ea + eb - 127);
    if (plsf_exponent(a) == 255 || plsf_exponent(b) == 255) return plsf_mul_special(a, b);
    if (!(a & ~PLSF_SIGN) || !(b & ~PLSF_SIGN)) return sign;
    /* a subnormal operand: normalized, its exponent below 1 */
    uint32_t ma = plsf_unpack_normalized(a, &ea), mb = plsf_unpack_normalized(b, &eb);
    return plsf_mul_significands(sign, ma << 8, mb << 8, ea + eb - 127);
}

PLSF_INLINE uint32_t plsf_from_int32(int32_t v) {
    if (v == 0) return 0;
    uint32_t sign = v < 0 ? PLSF_SIGN : 0, u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    int lz = plsf_clz(u);
    /* unit bit at 31, then one down to the working form: nothing is lost,
     * as only 2^31 has 32 significant bits */
    return plsf_round_pack(sign, 127 + 31 - lz, (u << lz) >> 1);
}

/* plsf_mul(plsf_from_int32(v), b), with the conversion skipped when it is
 * exact (|v| < 2^24: every int8 dot product of a group up to 1032 wide). */
PLSF_INLINE uint32_t plsf_mul_int32(int32_t v, uint32_t b) {
    int eb = plsf_exponent(b);
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    if (u == 0 || u >= PLSF_UNIT * 2u || (unsigned)(eb - 1) >= 254u)
        return plsf_mul(plsf_from_int32(v), b);
    int lz = plsf_clz(u);
    uint32_t sign = (v < 0 ? PLSF_SIGN : 0) ^ (b & PLSF_SIGN);
    return plsf_mul_significands(sign, u << lz, (b << 8) | PLSF_SIGN, 127 + 31 - lz + eb - 127);
}

#endif /* PL_SOFTFLOAT_H */
