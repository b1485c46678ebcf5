/*
 * make check-math: the engine's elementary functions (src/kernels/pl_math.c)
 * against the C library's long double ones (x87 extended precision, 64-bit
 * significand) over every float input in the range the engine uses:
 *   expf     every float (softmax and SwiGLU feed it anything)
 *   sin/cos  every float with |x| <= 2^20 (RoPE angles: position < 2^20
 *            times a frequency <= 1)
 *   10000^e  every float e in [-1, 1]
 * A result counts as correctly rounded when it equals the long double
 * result rounded to float. Where the long double result lies within 2^-56
 * of a rounding boundary, its own error could decide, and the input is
 * listed as unresolved instead. Two threads; about 24 minutes in all
 * (10000^e is the slowest: powl).
 */
#include "kernels/pl_kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int fn;
    uint32_t first, last; /* inclusive range of bit patterns */
    unsigned long long checked, wrong, unresolved;
} job;

static float of_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* 1 when v is so close to the midpoint between two floats that the long
 * double's own error could decide the rounding. */
static int near_midpoint(long double v) {
    float f = (float)v;
    if (isinf(f) || f == 0.0f) return 0;
    long double up = (long double)nextafterf(f, INFINITY), down = (long double)nextafterf(f, -INFINITY);
    long double mid = v > (long double)f ? ((long double)f + up) / 2 : ((long double)f + down) / 2;
    return fabsl(v - mid) <= fabsl(v) * 0x1p-56L;
}

static void check(job *j, float got, long double want) {
    j->checked++;
    if (near_midpoint(want)) {
        j->unresolved++;
        return;
    }
    float w = (float)want;
    if (memcmp(&got, &w, sizeof w) != 0 && !(isnan(got) && isnan(w))) {
        if (j->wrong < 5) fprintf(stderr, "check-math: function %d wrong\n", j->fn);
        j->wrong++;
    }
}

static void *run(void *arg) {
    job *j = arg;
    for (uint64_t u = j->first; u <= j->last; u++) {
        float x = of_bits((uint32_t)u);
        if (isnan(x)) continue;
        if (j->fn == 0) {
            check(j, pl_expf(x), expl((long double)x));
        } else if (j->fn == 1) {
            float s, c;
            pl_sincosf(x, &s, &c);
            check(j, s, sinl((long double)x));
            check(j, c, cosl((long double)x));
        } else {
            check(j, pl_pow10000f(x), powl(10000.0L, (long double)x));
        }
    }
    return NULL;
}

/* fn over [0, last] and the same magnitudes negative, on two threads. */
static int sweep(const char *name, int fn, uint32_t last) {
    job jobs[2] = {{fn, 0u, last, 0, 0, 0}, {fn, 0x80000000u, 0x80000000u | last, 0, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, run, &jobs[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    unsigned long long c = jobs[0].checked + jobs[1].checked, w = jobs[0].wrong + jobs[1].wrong;
    unsigned long long u = jobs[0].unresolved + jobs[1].unresolved;
    printf("check-math: %s: %llu results, %llu not correctly rounded, %llu too close to call\n",
           name, c, w, u);
    return w == 0;
}

int main(void) {
    int ok = 1;
    ok &= sweep("10000^e, |e| <= 1", 2, 0x3f800000u);
    ok &= sweep("sin and cos, |x| <= 2^20", 1, 0x49800000u);
    ok &= sweep("expf, every float", 0, 0x7f800000u);
    printf("check-math: %d passed, %d failed\n", ok, !ok);
    return ok ? 0 : 1;
}
