/*
 * Sampling, as run.c does it: greedy argmax at temperature 0; otherwise
 * logits / temperature, softmax, one xorshift draw, then either plain
 * multinomial sampling or top-p (nucleus) sampling.
 *
 * run.c sorts every candidate above a cutoff with qsort (a stable merge sort
 * in glibc) and walks the sorted list until the cumulative probability
 * passes top-p. Here the candidates go into a heap ordered by (probability
 * descending, id ascending), which is exactly the stable sort's order, and
 * only as many are popped as the walk needs: the same token, without sorting
 * the long tail, and with a 2-byte index per token instead of 8.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

void pl_sampler_layout(pl_sampler *s, int vocab_size, pl_arena *fast) {
    s->vocab_size = vocab_size;
    s->index = pl_arena_take(fast, (uint64_t)vocab_size * sizeof(uint16_t));
}

/* xorshift* (Marsaglia / Vigna), run.c's generator. */
uint32_t pl_random_u32(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Uniform in [0, 1) with 24 bits, exactly representable in a float. */
float pl_random_f32(uint64_t *state) {
    return (float)(pl_random_u32(state) >> 8) / 16777216.0f;
}

static int argmax(const float *p, int n) {
    int best = 0;
    float max_p = p[0];
    for (int i = 1; i < n; i++) {
        if (p[i] > max_p) {
            best = i;
            max_p = p[i];
        }
    }
    return best;
}

static int sample_multinomial(const float *p, int n, float coin) {
    float cdf = 0.0f;
    for (int i = 0; i < n; i++) {
        cdf += p[i];
        if (coin < cdf) return i;
    }
    return n - 1; /* rounding */
}

static int ranks_before(const float *p, uint16_t a, uint16_t b) {
    return p[a] > p[b] || (p[a] == p[b] && a < b);
}

static void heap_sift(const float *p, uint16_t *h, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && ranks_before(p, h[child + 1], h[child])) child++;
        if (!ranks_before(p, h[child], h[root])) return;
        uint16_t tmp = h[root];
        h[root] = h[child];
        h[child] = tmp;
        root = child;
    }
}

static int sample_topp(const float *p, int n, float topp, uint16_t *heap,
                       float coin) {
    /* Tokens below the cutoff cannot be part of the nucleus (run.c's bound). */
    const float cutoff = (1.0f - topp) / (float)(n - 1);
    size_t count = 0;
    for (int i = 0; i < n; i++)
        if (p[i] >= cutoff) heap[count++] = (uint16_t)i;
    if (count == 0) return n - 1; /* only with NaN probabilities */
    for (size_t i = count / 2; i-- > 0;) heap_sift(p, heap, i, count);

    /* Pop in rank order; popped ids collect at the end of the array, the
     * first popped at heap[count - 1]. */
    float cumulative = 0.0f;
    size_t popped = 0, remaining = count;
    while (remaining > 0) {
        uint16_t top = heap[0];
        heap[0] = heap[remaining - 1];
        heap[remaining - 1] = top;
        remaining--;
        heap_sift(p, heap, 0, remaining);
        popped++;
        cumulative += p[top];
        if (cumulative > topp) break;
    }
    float r = coin * cumulative;
    float cdf = 0.0f;
    for (size_t k = 0; k < popped; k++) {
        uint16_t id = heap[count - 1 - k];
        cdf += p[id];
        if (r < cdf) return id;
    }
    return heap[count - popped];
}

int pl_sample(pl_sampler *s, float *logits, float temperature, float topp) {
    int n = s->vocab_size;
    if (temperature == 0.0f) return argmax(logits, n);
    for (int i = 0; i < n; i++) logits[i] /= temperature;
    plk_softmax(logits, n);
    float coin = pl_random_f32(&s->rng_state);
    if (topp <= 0.0f || topp >= 1.0f) return sample_multinomial(logits, n, coin);
    return sample_topp(logits, n, topp, s->index, coin);
}
