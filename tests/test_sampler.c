/*
 * The sampler against run.c's definitions: the xorshift sequence, argmax,
 * multinomial, and top-p checked against a literal transcription of run.c's
 * sample_topp (stable sort of every candidate) on random distributions with
 * many tied probabilities.
 */
#include "pl_internal.h"
#include "pl_test.h"

#include <stdlib.h>

static void test_rng(void) {
    /* run.c's random_u32 from state 42, computed independently (Python). */
    static const uint32_t want[5] = {1456360119u, 3359763283u, 3393612768u, 4054632243u, 3283045847u};
    uint64_t st = 42;
    for (int i = 0; i < 5; i++) CHECK_EQ_INT(pl_random_u32(&st), want[i]);
    st = 42;
    CHECK(pl_random_f32(&st) == (float)(1456360119u >> 8) / 16777216.0f);
    int outside = 0;
    for (int i = 0; i < 100000; i++) {
        float f = pl_random_f32(&st);
        outside += !(f >= 0.0f && f < 1.0f);
    }
    CHECK_EQ_INT(outside, 0);
}

/* ---- run.c's sample_topp, with a stable insertion sort ------------------ */

typedef struct { float prob; int index; } ref_pi;

static int ref_topp(const float *p, int n, float topp, float coin) {
    ref_pi *pi = malloc(sizeof(ref_pi) * (size_t)n);
    int n0 = 0;
    const float cutoff = (1.0f - topp) / (float)(n - 1);
    for (int i = 0; i < n; i++)
        if (p[i] >= cutoff) { pi[n0].index = i; pi[n0].prob = p[i]; n0++; }
    for (int i = 1; i < n0; i++) { /* stable: equal probabilities keep index order */
        ref_pi x = pi[i];
        int j = i - 1;
        while (j >= 0 && pi[j].prob < x.prob) { pi[j + 1] = pi[j]; j--; }
        pi[j + 1] = x;
    }
    float cum = 0.0f;
    int last = n0 - 1;
    for (int i = 0; i < n0; i++) {
        cum += pi[i].prob;
        if (cum > topp) { last = i; break; }
    }
    float r = coin * cum, cdf = 0.0f;
    int result = pi[last].index;
    for (int i = 0; i <= last; i++) {
        cdf += pi[i].prob;
        if (r < cdf) { result = pi[i].index; break; }
    }
    free(pi);
    return result;
}

static void test_topp_matches_reference(void) {
    enum { N = 300 };
    float logits[N], probs[N];
    uint16_t index[N];
    pl_sampler s;
    uint64_t rng = 7;
    int agree = 0, total = 0, one_draw = 0;
    s.vocab_size = N;
    s.index = index;
    for (int trial = 0; trial < 400; trial++) {
        /* Logits on a coarse grid: many exact ties among probabilities. */
        int levels = 2 + trial % 9;
        for (int i = 0; i < N; i++)
            logits[i] = (float)(pl_random_u32(&rng) % (uint32_t)levels) * (0.5f + (float)(trial % 5));
        float topp = (float)(trial % 19 + 1) / 20.0f; /* 0.05 .. 0.95 */
        float temperature = 0.5f + (float)(trial % 3) * 0.5f;
        uint64_t st_a = 1000u + (uint64_t)trial, st_b = st_a;
        /* The engine's path... */
        memcpy(probs, logits, sizeof probs);
        s.rng_state = st_a;
        int got = pl_sample(&s, probs, temperature, topp);
        /* ...and run.c's, on the same probabilities and coin. */
        memcpy(probs, logits, sizeof probs);
        for (int i = 0; i < N; i++) probs[i] /= temperature;
        plk_softmax(probs, N);
        float coin = pl_random_f32(&st_b);
        int want = ref_topp(probs, N, topp, coin);
        agree += got == want;
        one_draw += s.rng_state == st_b;
        total++;
    }
    CHECK_EQ_INT(agree, total);
    CHECK_EQ_INT(one_draw, total); /* one draw per sample */
}

static void test_greedy_and_multinomial(void) {
    float p[6] = {0.1f, 0.3f, 0.3f, 0.05f, 0.2f, 0.05f};
    uint16_t index[6];
    pl_sampler s = {6, 5, index};
    float copy[6];
    memcpy(copy, p, sizeof p);
    CHECK_EQ_INT(pl_sample(&s, copy, 0.0f, 0.9f), 1); /* first of the tied maxima */
    CHECK_EQ_INT(s.rng_state, 5);                      /* greedy draws nothing */
    CHECK(memcmp(copy, p, sizeof p) == 0);             /* and leaves logits alone */
    /* top-p 1 and 0 both mean plain multinomial sampling: the token whose
     * cumulative probability first exceeds the coin. */
    float logits[3] = {0.0f, 0.0f, 0.0f}; /* uniform after softmax */
    int counts[3] = {0, 0, 0}, out_of_range = 0;
    pl_sampler s3 = {3, 5, index};
    for (int i = 0; i < 3000; i++) {
        float l[3];
        memcpy(l, logits, sizeof l);
        int t = pl_sample(&s3, l, 1.0f, i % 2 ? 1.0f : 0.0f);
        if (t >= 0 && t < 3) counts[t]++;
        else out_of_range++;
    }
    CHECK_EQ_INT(out_of_range, 0);
    /* 1000 expected each; 5 standard deviations (sqrt(3000*1/3*2/3) = 26). */
    for (int i = 0; i < 3; i++) CHECK(counts[i] > 870 && counts[i] < 1130);
}

static void test_nan_logits(void) {
    /* A model with NaN weights gives NaN logits: a token still comes out. */
    float l[4] = {(0.0f / 0.0f), (0.0f / 0.0f), (0.0f / 0.0f), (0.0f / 0.0f)};
    uint16_t index[4];
    pl_sampler s = {4, 9, index};
    int t = pl_sample(&s, l, 1.0f, 0.9f);
    CHECK(t >= 0 && t < 4);
}

int main(void) {
    test_rng();
    test_topp_matches_reference();
    test_greedy_and_multinomial();
    test_nan_logits();
    return pl_test_report("test_sampler");
}
