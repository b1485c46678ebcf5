/*
 * The engine's own elementary functions: expf, sine and cosine, and the
 * power the rotary embedding needs, correctly rounded (round to nearest,
 * ties to even) and computed with integer arithmetic only.
 *
 * Why: the C libraries disagree in the last bit (newlib's fdlibm on the
 * board, glibc on a PC), and int8 activation rounding turns one ulp into
 * another token. An integer computation gives the same bits on every
 * platform, and correct rounding makes it agree with glibc wherever glibc is
 * correctly rounded, which keeps llama2.c's own stories.
 *
 * Method: each function reduces its argument exactly in fixed point, sums a
 * Taylor series in 64-bit fixed point (error below 2^-60 of the result), and
 * rounds that once to a float. A result can only be misrounded when the
 * exact value lies within 2^-60 of a rounding boundary. expf first tries a
 * 32-bit fast path (pl_expf_fast.h) that returns only results its error
 * bound cannot misround. `make check-math` (tests/check_math.c) compares
 * every float input with the C library's long double functions.
 */
#define PL_MATH_IMPLEMENTATION
#include "../pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_kernels.h"
#include "pl_expf_fast.h"

#include <math.h> /* sqrtf, for plk_sqrtf alone */


/* ---- 64-bit fixed-point helpers ------------------------------------------ */

/* floor(a * b / 2^64), exactly. */
static uint64_t mulhi(uint64_t a, uint64_t b) {
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t p0 = al * bl, p1 = al * bh, p2 = ah * bl, p3 = ah * bh;
    uint64_t mid = (p0 >> 32) + (uint32_t)p1 + (uint32_t)p2;
    return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

/* floor(a * b / 2^64) for signed a and b. */
static int64_t smulhi(int64_t a, int64_t b) {
    uint64_t hi = mulhi((uint64_t)a, (uint64_t)b);
    if (a < 0) hi -= (uint64_t)b;
    if (b < 0) hi -= (uint64_t)a;
    return (int64_t)hi;
}

static int clz64(uint64_t v) {
#if defined(__GNUC__)
    return __builtin_clzll(v);
#else
    int n = 0;
    while (!(v & (1ull << 63))) {
        v <<= 1;
        n++;
    }
    return n;
#endif
}

#define bits_of plk_bits_of
#define float_of plk_float_of

/* The float nearest to (-1)^neg * m * 2^e (ties to even), subnormals and
 * overflow included. m != 0. */
static float round_to_float(int neg, uint64_t m, int e) {
    uint32_t sign = neg ? 0x80000000u : 0u, mant;
    int z = clz64(m), E, shift;
    uint64_t rest, half;
    m <<= z;
    E = e - z + 63; /* value = (m / 2^63) * 2^E, m / 2^63 in [1, 2) */
    if (E > 127) return float_of(sign | 0x7f800000u);
    if (E >= -126) {
        shift = 40; /* keep 24 bits */
    } else {
        int bits = E + 150; /* precision left below the normal range */
        if (bits < 0) return float_of(sign);
        if (bits == 0) /* in [2^-150, 2^-149): above the midpoint unless exactly on it */
            return float_of(sign | (m == (1ull << 63) ? 0u : 1u));
        shift = 64 - bits;
    }
    mant = (uint32_t)(m >> shift);
    rest = m & ((1ull << shift) - 1u);
    half = 1ull << (shift - 1);
    if (rest > half || (rest == half && (mant & 1u))) mant++;
    if (E >= -126) { /* mant in [2^23, 2^24]; 2^24 carries into the exponent */
        if (mant == (1u << 24)) {
            mant = 1u << 23;
            E++;
            if (E > 127) return float_of(sign | 0x7f800000u);
        }
        return float_of(sign | ((uint32_t)(E + 127) << 23) | (mant & 0x7fffffu));
    }
    return float_of(sign | mant); /* a carry to 2^23 is the smallest normal */
}

/* ---- exp ----------------------------------------------------------------- */

/* 2^(j/64), j = 0..63, in Q63 (rounded). */
const uint64_t plk_exp2_q63[64] = {
    0x8000000000000000u, 0x8164d1f3bc030773u, 0x82cd8698ac2ba1d7u, 0x843a28c3acde4046u,
    0x85aac367cc487b15u, 0x871f61969e8d1010u, 0x88980e8092da8527u, 0x8a14d575496efd9au,
    0x8b95c1e3ea8bd6e7u, 0x8d1adf5b7e5ba9e6u, 0x8ea4398b45cd53c0u, 0x9031dc431466b1dcu,
    0x91c3d373ab11c336u, 0x935a2b2f13e6e92cu, 0x94f4efa8fef70961u, 0x96942d3720185a00u,
    0x9837f0518db8a96fu, 0x99e0459320b7fa65u, 0x9b8d39b9d54e5539u, 0x9d3ed9a72cffb751u,
    0x9ef5326091a111aeu, 0xa0b0510fb9714fc2u, 0xa27043030c496819u, 0xa43515ae09e6809eu,
    0xa5fed6a9b15138eau, 0xa7cd93b4e965356au, 0xa9a15ab4ea7c0ef8u, 0xab7a39b5a93ed337u,
    0xad583eea42a14ac6u, 0xaf3b78ad690a4375u, 0xb123f581d2ac2590u, 0xb311c412a9112489u,
    0xb504f333f9de6484u, 0xb6fd91e328d17791u, 0xb8fbaf4762fb9ee9u, 0xbaff5ab2133e45fbu,
    0xbd08a39f580c36bfu, 0xbf1799b67a731083u, 0xc12c4cca66709456u, 0xc346ccda24976407u,
    0xc5672a115506daddu, 0xc78d74c8abb9b15du, 0xc9b9bd866e2f27a3u, 0xcbec14fef2727c5du,
    0xce248c151f8480e4u, 0xd06333daef2b2595u, 0xd2a81d91f12ae45au, 0xd4f35aabcfedfa1fu,
    0xd744fccad69d6af4u, 0xd99d15c278afd7b6u, 0xdbfbb797daf23755u, 0xde60f4825e0e9124u,
    0xe0ccdeec2a94e111u, 0xe33f8972be8a5a51u, 0xe5b906e77c8348a8u, 0xe8396a503c4bdc68u,
    0xeac0c6e7dd24392fu, 0xed4f301ed9942b84u, 0xefe4b99bdcdaf5cbu, 0xf281773c59ffb13au,
    0xf5257d152486cc2cu, 0xf7d0df730ad13bb9u, 0xfa83b2db722a033au, 0xfd3e0c0cf486c175u,
};
/* ln2/64 in Q69 (floor), and its next 32 bits. */
#define LN2_64_Q69 0x58b90bfbe8e7bcd5u
#define LN2_64_Q69_LO32 0xe4f1d9ccu
/* 1/n! in Q64 (rounded). */
static const uint64_t inv_factorial[21] = {
    0, 0, 0x8000000000000000u, 0x2aaaaaaaaaaaaaabu, 0x0aaaaaaaaaaaaaabu,
    0x0222222222222222u, 0x005b05b05b05b05bu, 0x000d00d00d00d00du, 0x0001a01a01a01a02u,
    0x00002e3bc74aad8eu, 0x0000049f93edde28u, 0x0000006b99159fd5u, 0x00000008f76c77fcu,
    0x00000000b092309du, 0x000000000c9cba54u, 0x0000000000d73f9fu, 0x00000000000d73fau,
    0x000000000000ca96u, 0x0000000000000b41u, 0x0000000000000098u, 0x0000000000000008u,
};

/* 2^(n + j/64) * e^r for |r| <= 0.0055 given in Q70: the result as (m, e). */
static float exp_reduced(int n, int j, int64_t r_q70) {
    /* q = (e^r - 1) / r = sum of r^k / (k+1)!, k = 0..6, in Q62 (the
     * first term left out is below 2^-64 of the result). */
    int64_t q = (int64_t)(inv_factorial[7] >> 2);
    for (int k = 5; k >= 1; k--) /* Q62 * Q70 / 2^64 = Q68, >> 6: Q62 */
        q = (int64_t)(inv_factorial[k + 1] >> 2) + (smulhi(q, r_q70) >> 6);
    q = (int64_t)(1ull << 62) + (smulhi(q, r_q70) >> 6);
    /* e^r - 1 = r * q, in Q70: Q70 * Q62 / 2^64 = Q68 -> << 2 */
    int64_t em1 = smulhi(r_q70, q) * 4;
    uint64_t t = plk_exp2_q63[j];
    /* t * (1 + em1): t in Q63; t * em1 in Q(63 + 70 - 64) = Q69 -> Q63 */
    uint64_t m = t + (uint64_t)(smulhi((int64_t)(t >> 1), em1) >> 5);
    return round_to_float(0, m, n - 63);
}

/* The C library's square root (IEEE, correctly rounded everywhere), out of
 * line and in flash on the board: a norm calls it once per vector, never in
 * a loop. */
PL_COLD float plk_sqrtf(float x) { return sqrtf(x); }

/* The exact path of pl_expf (pl_expf_fast.h), for the inputs its fast
 * path leaves and the results it cannot round: the limits, then x reduced
 * with k = n * 64 + j, in Q69 modulo 2^64 (r = x - k*ln2/64 fits in 64
 * bits, so the wrapped difference is exact), and the 64-bit series. */
PL_COLD float plk_expf_exact(float x) {
    uint32_t u = bits_of(x), ax = u & 0x7fffffffu;
    int k, n, j;
    if (ax == 0) return 1.0f; /* softmax's maximum: x - max = 0 */
    if (ax >= 0x7f800000u) { /* inf or NaN */
        if (ax > 0x7f800000u) return x + x;
        return (u >> 31) ? 0.0f : x;
    }
    if (ax > ((u >> 31) ? 0x42d00000u : 0x42b20000u)) /* x < -104 or x > 89 */
        return (u >> 31) ? 0.0f : float_of(0x7f800000u);
    PLK_EXPF_REDUCE(x, k, n, j);
    int ex = (int)((ax >> 23) & 0xff), sh;
    uint64_t mx = ax & 0x7fffffu, xq;
    if (ex == 0) ex = 1; else mx |= 0x800000u;
    sh = ex - 150 + 69; /* x = mx * 2^(ex-150) */
    if (sh >= 64) xq = 0;
    else if (sh >= 0) xq = mx << sh;
    else if (sh > -64) xq = mx >> -sh; /* |x| < 2^-46: truncation far below any rounding boundary */
    else xq = 0;
    if (u >> 31) xq = (uint64_t)0 - xq;
    uint64_t kabs = (uint64_t)(k < 0 ? -k : k);
    uint64_t kl = kabs * LN2_64_Q69 + ((kabs * LN2_64_Q69_LO32) >> 32);
    if (k < 0) kl = (uint64_t)0 - kl;
    int64_t r = (int64_t)(xq - kl); /* Q69 */
    return exp_reduced(n, j, r * 2);
}

float pl_expf(float x) { return plk_expf_inline(x); }

/* ---- sine and cosine ------------------------------------------------------ */

/* 2/pi in binary, 32 bits a word, from the binary point: enough for
 * arguments up to 2^128 with 160 bits to spare. */
static const uint32_t two_over_pi[12] = {
    0xa2f9836eu, 0x4e441529u, 0xfc2757d1u, 0xf534ddc0u, 0xdb629599u, 0x3c439041u,
    0xfe5163abu, 0xdebbc561u, 0xb7246e3au, 0x424dd2e0u, 0x06492eeau, 0x09d1921cu,
};
#define PI_2_Q62 0x6487ed5110b4611au

/* h = c[first] - u*(c[first+2] - u*(... c[last])) in Q64, c[k] = 1/k!:
 * the alternating series of sine (odd k) and cosine (even k), u = r^2. */
static uint64_t alternating(uint64_t u, int first, int last) {
    uint64_t h = inv_factorial[last];
    for (int k = last - 2; k >= first; k -= 2) h = inv_factorial[k] - mulhi(u, h);
    return h;
}

/* A 192-bit number as six 32-bit words, least significant first. */
#define WIDE_WORDS 6

static uint32_t wide_word(const uint32_t *v, int i) {
    return i >= 0 && i < WIDE_WORDS ? v[i] : 0u;
}

/* The 64 bits of v from bit lo upwards (bits outside v read as 0). */
static uint64_t wide_bits64(const uint32_t *v, int lo) {
    int w = lo >= 0 ? lo / 32 : -((-lo + 31) / 32), sh = lo - 32 * w;
    uint64_t a = wide_word(v, w), b = wide_word(v, w + 1), c = wide_word(v, w + 2);
    uint64_t low = a | (b << 32);
    return sh == 0 ? low : (low >> sh) | (c << (64 - sh));
}

static int wide_top_bit(const uint32_t *v) { /* -1 for zero */
    for (int i = WIDE_WORDS - 1; i >= 0; i--)
        if (v[i]) return 32 * i + 31 - clz64((uint64_t)v[i]) + 32;
    return -1;
}

void pl_sincosf(float x, float *sin_out, float *cos_out) {
    uint32_t u = bits_of(x), ax = u & 0x7fffffffu;
    if (ax >= 0x7f800000u) { /* inf or NaN: NaN */
        *sin_out = *cos_out = x - x;
        return;
    }
    if (ax == 0) {
        *sin_out = x;
        *cos_out = 1.0f;
        return;
    }
    int ex = (int)(ax >> 23);
    uint32_t mx = ax & 0x7fffffu;
    if (ex == 0) ex = 1; else mx |= 0x800000u;
    ex -= 150; /* |x| = mx * 2^ex */

    /* |x| * 2/pi = mx * 2^ex * sum of w_i 2^(-32(i+1)). The words before i0
     * only add multiples of 4 (whole turns); the five from i0 leave an error
     * below 2^-100 in the fraction. P = mx * those words; |x| * 2/pi is
     * P * 2^-s (mod 4) */
    int i0 = ex >= 2 ? (ex - 2) / 32 : 0;
    int s = 32 * (i0 + 5) - ex;
    uint32_t P[WIDE_WORDS];
    uint64_t carry = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t t = (uint64_t)mx * two_over_pi[i0 + 4 - i] + carry;
        P[i] = (uint32_t)t;
        carry = t >> 32;
    }
    P[5] = (uint32_t)carry;
    unsigned quadrant = (unsigned)wide_bits64(P, s) & 3u;

    /* The fraction G = P mod 2^s; from one half up, take 1 - fraction
     * toward the next quadrant, so r = (fraction) * pi/2 is in [-pi/4, pi/4]. */
    for (int i = 0; i < WIDE_WORDS; i++) {
        int lo = 32 * i;
        if (lo >= s) P[i] = 0;
        else if (lo + 32 > s) P[i] &= (1u << (s - lo)) - 1u;
    }
    int r_negative = 0;
    if ((wide_bits64(P, s - 1) & 1u) != 0) {
        uint64_t c = 1;
        for (int i = 0; i < WIDE_WORDS; i++) { /* 2^192 - G, then mod 2^s */
            uint64_t t = (uint64_t)(uint32_t)~P[i] + c;
            P[i] = (uint32_t)t;
            c = t >> 32;
        }
        for (int i = 0; i < WIDE_WORDS; i++) {
            int lo = 32 * i;
            if (lo >= s) P[i] = 0;
            else if (lo + 32 > s) P[i] &= (1u << (s - lo)) - 1u;
        }
        quadrant = (quadrant + 1u) & 3u;
        r_negative = 1;
    }
    float sr, cr; /* sin |r| and cos r */
    int top = wide_top_bit(P);
    if (top < 0) { /* cannot happen for a float and 2/pi; keeps r = 0 safe */
        sr = 0.0f;
        cr = 1.0f;
    } else {
        /* |fraction| = F * 2^(top - 63 - s), F normalized to 64 bits;
         * |r| = F * pi/2 * ... = R * 2^er with R normalized. */
        uint64_t F = wide_bits64(P, top - 63);
        uint64_t R = mulhi(F, PI_2_Q62); /* F * pi/2 / 4 */
        int z = clz64(R);
        R <<= z;
        int er = top - 63 - s + 2 - z; /* |r| = R * 2^er, R in [2^63, 2^64) */
        int ush = -(128 + 2 * er);     /* u = r^2 in Q64 = R^2 * 2^(128 + 2 er) */
        uint64_t uq = ush >= 64 ? 0 : mulhi(R, R) >> ush;
        uint64_t S = (1ull << 63) - (mulhi(uq, alternating(uq, 3, 19)) >> 1); /* sin(r)/r, Q63 */
        uint64_t C = (1ull << 63) - (mulhi(uq, alternating(uq, 2, 20)) >> 1); /* cos r, Q63 */
        sr = round_to_float(0, mulhi(R, S), er + 1);
        cr = round_to_float(0, C, -63);
    }
    float s_r = r_negative ? -sr : sr;
    float sn, cs;
    switch (quadrant) {
    case 0: sn = s_r; cs = cr; break;
    case 1: sn = cr; cs = -s_r; break;
    case 2: sn = -s_r; cs = -cr; break;
    default: sn = -cr; cs = s_r; break;
    }
    *sin_out = (u >> 31) ? -sn : sn;
    *cos_out = cs;
}

/* ---- the rotary embedding's power ------------------------------------------ */

/* log2(10000) in Q59 (floor), and its next 32 bits. */
#define LOG2_10000_Q59 0x6a4d3c25e68dc57fu
#define LOG2_10000_Q59_LO32 0x2495fb7fu
/* ln 2 in Q64 (rounded). */
#define LN2_Q64 0xb17217f7d1cf79acu

float pl_pow10000f(float e) {
    uint32_t u = bits_of(e), ae = u & 0x7fffffffu;
    if (!(e >= -1.0f && e <= 1.0f)) return float_of(0x7fc00000u); /* NaN: outside the domain */
    if (ae == 0) return 1.0f;
    /* t = e * log2(10000) in Q59 (|t| <= 13.3 fits): e = me * 2^xe exactly. */
    int xe = (int)(ae >> 23);
    uint64_t me = ae & 0x7fffffu;
    if (xe == 0) xe = 1; else me |= 0x800000u;
    xe -= 150;
    /* me * L (L = Q59 + 32 more bits) as me*hi + (me*lo >> 32), in Q59,
     * then scaled by 2^xe (xe <= -23 here). */
    uint64_t hi = mulhi(me << 40, LOG2_10000_Q59); /* me * L * 2^40 / 2^64 = me*L / 2^24 */
    uint64_t lo_part = ((me * LOG2_10000_Q59_LO32) >> 32) >> 24;
    uint64_t me_l = hi + lo_part;                   /* me * log2(10000) / 2^24, in Q59 */
    int sh = -(xe + 24);                             /* t = me_l * 2^(xe + 24) */
    uint64_t tq = sh >= 64 ? 0 : (sh >= 0 ? me_l >> sh : me_l << -sh); /* |t| in Q59 */
    /* 2^t = 2^(n + j/64) * e^(rem * ln2), rem in [-1/128, 1/128] */
    uint64_t k_units = (tq + (1ull << 52)) >> 53;   /* round(|t| * 64) */
    int64_t rem = (int64_t)(tq - (k_units << 53));  /* Q59, |rem| <= 2^-7 */
    int k = (int)k_units;
    if (u >> 31) {
        k = -k;
        rem = -rem;
    }
    int n = k >= 0 ? k / 64 : -((-k + 63) / 64);
    int j = k - n * 64;
    /* r = rem * ln2 in Q70: Q59 * Q64 / 2^64 = Q59, << 11 */
    int64_t r = smulhi(rem, (int64_t)(LN2_Q64 >> 1)) * 4096;
    return exp_reduced(n, j, r);
}
