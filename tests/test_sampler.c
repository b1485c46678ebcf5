/*
 * The sampler against run.c's definitions: the xorshift sequence, argmax,
 * multinomial, and top-p checked against a literal transcription of run.c's
 * sample_topp (stable sort of every candidate) on random distributions with
 * many tied probabilities, and on vocabularies large enough for every pass
 * of the radix rank (flat, peaked, all tied, few levels).
 */
#include "pl_internal.h"
#include "pl_test.h"

#include <stdlib.h>

/* A sampler laid out as the engine lays it out for two cores (it ranks on
 * one when pl_sample is given none), in a static pool. */
static pl_sampler sampler_for(int vocab_size, uint64_t seed) {
    static uint64_t pool[(65536 * 2 + 8 * 1024) / 8];
    pl_arena measure = {NULL, 0}, arena = {(uint8_t *)pool, 0};
    pl_sampler s;
    pl_sampler_layout(&s, vocab_size, 2, &measure);
    if (measure.used > sizeof pool) abort();
    pl_sampler_layout(&s, vocab_size, 2, &arena);
    s.rng_state = seed;
    return s;
}

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

/* Two cores as the engine sees them, run one after the other, core 1
 * first: a share that depends on core 0's having run gives another token. */
static void both_core1_first(void *user, void (*fn)(void *arg, int core), void *arg) {
    (void)user;
    fn(arg, 1);
    fn(arg, 0);
}

static pl_cores *two_cores(void) {
    static pl_platform platform;
    static pl_cores cores;
    platform.run_on_both = both_core1_first;
    cores.platform = &platform;
    cores.two_cores = 1;
    return &cores;
}

/* pl_sample (on one core, or on two when `cores`) and ref_topp on the same
 * logits, temperature and coin: the same probabilities bit for bit, the
 * same token, one draw. */
static int topp_agrees(int n, const float *logits, float temperature, float topp, uint64_t seed,
                       pl_cores *cores) {
    float *probs = malloc(sizeof(float) * (size_t)n), *want_probs = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) want_probs[i] = logits[i] / temperature;
    plk_softmax(want_probs, n);
    uint64_t st = seed;
    float coin = pl_random_f32(&st);
    int want = ref_topp(want_probs, n, topp, coin);

    pl_sampler s = sampler_for(n, seed);
    memcpy(probs, logits, sizeof(float) * (size_t)n);
    int got = pl_sample(&s, cores, probs, temperature, topp, NULL);
    int same = got == want && s.rng_state == st && memcmp(probs, want_probs, sizeof(float) * (size_t)n) == 0;
    free(probs);
    free(want_probs);
    return same;
}

static void test_topp_matches_reference(void) {
    enum { N = 300 };
    float logits[N];
    uint64_t rng = 7;
    int agree = 0, total = 0;
    for (int trial = 0; trial < 400; trial++) {
        /* Logits on a coarse grid: many exact ties among probabilities. */
        int levels = 2 + trial % 9;
        for (int i = 0; i < N; i++)
            logits[i] = (float)(pl_random_u32(&rng) % (uint32_t)levels) * (0.5f + (float)(trial % 5));
        float topp = (float)(trial % 19 + 1) / 20.0f; /* 0.05 .. 0.95 */
        float temperature = 0.5f + (float)(trial % 3) * 0.5f;
        agree += topp_agrees(N, logits, temperature, topp, 1000u + (uint64_t)trial,
                             trial % 2 ? two_cores() : NULL);
        total++;
    }
    CHECK_EQ_INT(agree, total);
}

/* A 32000-token vocabulary (the Llama 2 tokenizer's): a flat distribution
 * puts most tokens in the nucleus and through every radix pass; the others
 * are a peaked one, all logits equal (one bucket of ties, heapsorted), few
 * distinct levels, and logits that differ in their last bits only. */
static void test_topp_large_vocabulary(void) {
    enum { N = 32000 };
    static float logits[N];
    uint64_t rng = 11;
    int agree = 0, total = 0;
    for (int trial = 0; trial < 30; trial++) {
        int shape = trial % 5;
        for (int i = 0; i < N; i++) {
            float u = (float)(pl_random_u32(&rng) >> 8) / 16777216.0f; /* [0, 1) */
            if (shape == 0) logits[i] = 4.0f * u;                       /* flat */
            else if (shape == 1) logits[i] = 30.0f * u * u * u * u;     /* peaked */
            else if (shape == 2) logits[i] = 1.5f;                      /* all tied */
            else if (shape == 3) logits[i] = (float)(pl_random_u32(&rng) % 4u);
            else logits[i] = 1.0f + (float)(pl_random_u32(&rng) % 64u) * 1e-6f;
        }
        float topp = trial % 2 ? 0.9f : 0.5f + 0.01f * (float)trial;
        agree += topp_agrees(N, logits, trial % 3 ? 0.8f : 1.0f, topp, 77u + (uint64_t)trial,
                             trial % 4 < 2 ? two_cores() : NULL);
        total++;
    }
    CHECK_EQ_INT(agree, total);
}

static void test_greedy_and_multinomial(void) {
    float p[6] = {0.1f, 0.3f, 0.3f, 0.05f, 0.2f, 0.05f};
    pl_sampler s = sampler_for(6, 5);
    float copy[6];
    memcpy(copy, p, sizeof p);
    CHECK_EQ_INT(pl_sample(&s, NULL, copy, 0.0f, 0.9f, NULL), 1); /* first of the tied maxima */
    CHECK_EQ_INT(s.rng_state, 5);                      /* greedy draws nothing */
    CHECK(memcmp(copy, p, sizeof p) == 0);             /* and leaves logits alone */
    /* top-p 1 and 0 both mean plain multinomial sampling: the token whose
     * cumulative probability first exceeds the coin. */
    float logits[3] = {0.0f, 0.0f, 0.0f}; /* uniform after softmax */
    int counts[3] = {0, 0, 0}, out_of_range = 0;
    pl_sampler s3 = sampler_for(3, 5);
    for (int i = 0; i < 3000; i++) {
        float l[3];
        memcpy(l, logits, sizeof l);
        int t = pl_sample(&s3, NULL, l, 1.0f, i % 2 ? 1.0f : 0.0f, NULL);
        if (t >= 0 && t < 3) counts[t]++;
        else out_of_range++;
    }
    CHECK_EQ_INT(out_of_range, 0);
    /* 1000 expected each; 5 standard deviations (sqrt(3000*1/3*2/3) = 26). */
    for (int i = 0; i < 3; i++) CHECK(counts[i] > 870 && counts[i] < 1130);
}

static void test_negative_logits(void) {
    /* Logits all below 0, one so low that e^logit is 0 unless the maximum
     * is subtracted: the maximum is theirs, on one core or two (and with a
     * single token, on whichever core holds it), as run.c's loop finds it. */
    float l[1] = {-200.0f}, m[5] = {-300.0f, -200.5f, -200.0f, -250.0f, -201.0f}, want[5];
    for (int cores = 1; cores <= 2; cores++) {
        pl_sampler s = sampler_for(1, 3);
        l[0] = -200.0f;
        CHECK_EQ_INT(pl_sample(&s, cores == 2 ? two_cores() : NULL, l, 1.0f, 0.9f, NULL), 0);
        CHECK(l[0] == 1.0f);
        memcpy(want, m, sizeof m);
        plk_softmax(want, 5);
        float got[5];
        memcpy(got, m, sizeof m);
        s = sampler_for(5, 3);
        pl_sample(&s, cores == 2 ? two_cores() : NULL, got, 1.0f, 0.9f, NULL);
        CHECK(memcmp(got, want, sizeof got) == 0);
    }
}

static void test_nan_logits(void) {
    /* A model with NaN weights gives NaN logits: a token still comes out. */
    float l[4] = {(0.0f / 0.0f), (0.0f / 0.0f), (0.0f / 0.0f), (0.0f / 0.0f)};
    pl_sampler s = sampler_for(4, 9);
    int t = pl_sample(&s, two_cores(), l, 1.0f, 0.9f, NULL);
    CHECK(t >= 0 && t < 4);
}

/* The first step done beside the classifier (pl_logits_prep), its rows fed
 * as pl_cores cuts a streamed product: blocks of `block` rows, core 1's
 * part of each first (as two_cores() runs them), core 0's in two pieces.
 * pl_sample then gives what it gives from the raw logits, bit for bit. */
static void feed_rows(pl_logits_prep *prep, float *x, int n, int block, int two) {
    for (int r = 0; r < n; r += block) {
        int rows = n - r < block ? n - r : block;
        int mid = two && rows >= 2 ? pl_cores_split_point(rows) : rows, cut = mid / 3;
        if (mid < rows) prep->done.fn(prep->done.user, 1, x + r + mid, rows - mid);
        prep->done.fn(prep->done.user, 0, x + r, cut);
        prep->done.fn(prep->done.user, 0, x + r + cut, mid - cut);
    }
}

static int prep_agrees(const float *logits, int n, float temperature, int block, int two) {
    static float want[4096], got[4096];
    pl_sampler a = sampler_for(n, 21), b = sampler_for(n, 21);
    pl_logits_prep prep;
    memcpy(want, logits, sizeof(float) * (size_t)n);
    memcpy(got, logits, sizeof(float) * (size_t)n);
    int t_want = pl_sample(&a, two ? two_cores() : NULL, want, temperature, 0.9f, NULL);
    pl_logits_prep_init(&prep, temperature);
    feed_rows(&prep, got, n, block, two);
    int t_got = pl_sample(&b, two ? two_cores() : NULL, got, temperature, 0.9f, &prep);
    return t_got == t_want && a.rng_state == b.rng_state &&
           memcmp(got, want, sizeof(float) * (size_t)n) == 0;
}

static void test_logits_prepared_beside_classifier(void) {
    static float l[4096];
    uint64_t rng = 5;
    int agree = 0, total = 0;
    for (int trial = 0; trial < 48; trial++) {
        int n = trial % 3 == 0 ? 4096 : 1 + (int)(pl_random_u32(&rng) % 700u);
        for (int i = 0; i < n; i++) l[i] = (float)(int)(pl_random_u32(&rng) % 200u) / 16.0f - 10.0f;
        if (trial % 4 == 1) l[n - 1] = 40.0f;        /* the maximum last: on core 1, in the last block */
        if (trial % 4 == 2) for (int i = 0; i < n; i++) l[i] = -l[i] - 20.0f; /* all negative */
        if (trial % 8 == 3) { l[0] = -0.0f; for (int i = 1; i < n; i++) l[i] = i % 2 ? 0.0f : -1.0f; }
        agree += prep_agrees(l, n, trial % 2 ? 0.8f : 1.25f, 1 + trial % 37, trial % 2);
        total++;
    }
    /* a NaN first logit is the maximum in run.c's loop (nothing beats it);
     * the prepared maximum skips it: every probability is NaN either way */
    for (int i = 0; i < 64; i++) l[i] = (float)i;
    l[0] = 0.0f / 0.0f;
    agree += prep_agrees(l, 64, 0.8f, 7, 1);
    agree += prep_agrees(l, 64, 0.8f, 64, 0);
    total += 2;
    CHECK_EQ_INT(agree, total);
}

int main(void) {
    test_rng();
    test_topp_matches_reference();
    test_topp_large_vocabulary();
    test_greedy_and_multinomial();
    test_negative_logits();
    test_nan_logits();
    test_logits_prepared_beside_classifier();
    return pl_test_report("test_sampler");
}
