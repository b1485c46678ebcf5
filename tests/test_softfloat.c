/*
 * The engine's software floating point (src/kernels/pl_softfloat.h) against
 * the host's FPU, which rounds as IEEE 754 says: every result must be the
 * same bits (any NaN for a NaN: payloads are not part of the contract).
 * Operands are drawn to reach each path: any bits at all, exponents close
 * enough to cancel, subnormals, products at the edges of the exponent range,
 * and every pair of special values. make check-softfloat runs the same
 * classes far longer (`test_softfloat ROUNDS --every-int32`), and every
 * int32.
 */
#include "kernels/pl_softfloat.h"
#include "pl_test.h"

#include <stdlib.h>

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint32_t next(void) { /* xorshift64* */
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (uint32_t)((state * 0x2545f4914f6cdd1dull) >> 32);
}

#define of plsf_float
#define bits plsf_bits
static int same(uint32_t got, float want) {
    return got == bits(want) || (plsf_is_nan(got) && plsf_is_nan(bits(want)));
}

static long mismatches;
static void report(const char *what, uint32_t a, uint32_t b, uint32_t got, float want) {
    if (mismatches++ < 5)
        fprintf(stderr, "test_softfloat: %s %08x %08x: got %08x, want %08x\n", what, (unsigned)a,
                (unsigned)b, (unsigned)got, (unsigned)bits(want));
}
static void pair(uint32_t a, uint32_t b) {
    volatile float x = of(a), y = of(b); /* volatile: the FPU at run time, not folded */
    float sum = x + y, difference = x - y, product = x * y;
    uint32_t got;
    if (!same(got = plsf_add(a, b), sum)) report("add", a, b, got, sum);
    if (!same(got = plsf_add(a, b ^ PLSF_SIGN), difference)) report("sub", a, b, got, difference);
    if (!same(got = plsf_mul(a, b), product)) report("mul", a, b, got, product);
}
static void integer(int32_t v) {
    volatile int32_t w = v;
    float want = (float)w;
    uint32_t got = plsf_from_int32(v);
    if (!same(got, want)) report("int32", (uint32_t)v, 0, got, want);
}
static void integer_times(int32_t v, uint32_t b) {
    volatile int32_t w = v;
    volatile float y = of(b);
    float want = (float)w * y;
    uint32_t got = plsf_mul_int32(v, b);
    if (!same(got, want)) report("int32 times", (uint32_t)v, b, got, want);
}

/* A value with the given exponent field, a random fraction and sign. */
static uint32_t with_exponent(int e) {
    return (next() & (PLSF_SIGN | PLSF_FRACTION)) | ((uint32_t)e << 23);
}

static const uint32_t specials[] = {
    0x00000000, 0x00000001, 0x00000002, 0x007fffff, 0x00800000, 0x00800001, 0x00ffffff,
    0x3f800000, 0x3f800001, 0x3f7fffff, 0x40000000, 0x4b800000, 0x4b7fffff, 0x7f000000,
    0x7f7fffff, 0x7f7ffffe, 0x7f800000, 0x7f800001, 0x7fc00000, 0x7fffffff, 0x34000000,
    0x33800000, 0x33ffffff, 0x1f800000, 0x20000000, 0x5f800000, 0x5f000000};

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 1000000; /* per class */
    int n = (int)(sizeof specials / sizeof specials[0]);

    mismatches = 0;
    for (int i = 0; i < 2 * n; i++)
        for (int j = 0; j < 2 * n; j++)
            pair(specials[i % n] | (i >= n ? PLSF_SIGN : 0), specials[j % n] | (j >= n ? PLSF_SIGN : 0));
    CHECK_EQ_INT(mismatches, 0);

    mismatches = 0; /* any bits */
    for (long r = 0; r < rounds; r++) pair(next(), next());
    CHECK_EQ_INT(mismatches, 0);

    mismatches = 0; /* exponents within 3: sums that cancel, carries */
    for (long r = 0; r < rounds; r++) {
        int e = 1 + (int)(next() % 254);
        int f = e + (int)(next() % 7) - 3;
        pair(with_exponent(e), with_exponent(f < 0 ? 0 : f > 254 ? 254 : f));
    }
    CHECK_EQ_INT(mismatches, 0);

    mismatches = 0; /* subnormals and the smallest normals, with each other and with any value */
    for (long r = 0; r < rounds; r++) {
        uint32_t a = with_exponent((int)(next() % 3));
        pair(a, r & 1 ? with_exponent((int)(next() % 3)) : next());
    }
    CHECK_EQ_INT(mismatches, 0);

    mismatches = 0; /* products whose exponent lands near underflow or overflow */
    for (long r = 0; r < rounds; r++) {
        int target = r & 1 ? (int)(next() % 30) - 25 : 250 + (int)(next() % 8);
        int e = 1 + (int)(next() % 254), f = target + 127 - e;
        if (f < 0 || f > 254) continue;
        pair(with_exponent(e), with_exponent(f));
    }
    CHECK_EQ_INT(mismatches, 0);

    mismatches = 0; /* int32: edges, then every magnitude's neighbourhood, then any */
    static const int32_t edges[] = {0, 1, -1, 16777215, 16777216, 16777217, 16777218, 16777219,
                                    -16777217, 33554431, 33554435, 2147483647, -2147483647 - 1,
                                    -2147483647, 2147483520, 2147483583, 2147483584};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) integer(edges[i]);
    for (int s = 0; s < 31; s++)
        for (int d = -3; d <= 3; d++) {
            integer((int32_t)((1u << s) + (uint32_t)d));
            integer(-(int32_t)((1u << s) + (uint32_t)d));
        }
    for (long r = 0; r < rounds; r++) integer((int32_t)next() >> (next() % 32));
    if (argc > 2 && !strcmp(argv[2], "--every-int32"))
        for (uint64_t u = 0; u <= 0xffffffffu; u++) integer((int32_t)(uint32_t)u);
    CHECK_EQ_INT(mismatches, 0);

    mismatches = 0; /* an int32 times a float: the int8 kernels' first step */
    for (long r = 0; r < rounds; r++) {
        int32_t v = (int32_t)next() >> (next() % 32);
        integer_times(v, r % 4 ? with_exponent((int)(next() % 256)) : next());
    }
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (int j = 0; j < 2 * n; j++) integer_times(edges[i], specials[j % n] | (j >= n ? PLSF_SIGN : 0));
    CHECK_EQ_INT(mismatches, 0);

    printf("test_softfloat: %d passed, %d failed\n", pl_test_passed, pl_test_failed);
    return pl_test_failed ? 1 : 0;
}
