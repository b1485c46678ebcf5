/*
 * Sampling, as run.c does it: greedy argmax at temperature 0; otherwise
 * logits / temperature, softmax, one xorshift draw, then either plain
 * multinomial sampling or top-p (nucleus) sampling.
 *
 * run.c sorts every candidate above a cutoff with qsort (a stable merge sort
 * in glibc) and walks the sorted list until the cumulative probability
 * passes top-p. Here the candidates are ranked in place by (probability
 * descending, id ascending), which is exactly the stable sort's order, and
 * only as far as the walk needs: the same token, with a 2-byte index per
 * token instead of 8.
 *
 * The rank is a heap popped one candidate at a time, and with a large
 * vocabulary first a radix pass on the probabilities' bits (a positive
 * float's bits order as it does), each bucket then ranked in turn as the
 * walk reaches it. Without the radix pass a model whose distribution is
 * flat (random weights, a 32000-token vocabulary at top-p 0.9: tens of
 * thousands of candidates in the nucleus) spends more time in the heap
 * than in its forward pass. On two cores, when a bound shows the walk must
 * go past the first half of the candidates, the second core ranks that
 * half's successors meanwhile.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"
#include "kernels/pl_expf_fast.h" /* plk_bits_of */

#include <math.h>   /* INFINITY */
#include <stddef.h> /* ptrdiff_t */

enum {
    RANK_LEVELS = 3, /* radix passes at most; deeper groups are sorted */
    RANK_SMALL = 16, /* a group this small is sorted by insertion */
    RANK_RADIX_VOCAB = 4096
};

/* Buckets a radix pass: about one per 32 tokens, up to 256; none below
 * RANK_RADIX_VOCAB tokens, where the heap alone is as fast and the SRAM
 * is worth more. */
static unsigned rank_log2_buckets(int vocab_size) {
    unsigned b = 1;
    if (vocab_size < RANK_RADIX_VOCAB) return 0;
    while (b < 8 && ((uint32_t)vocab_size >> (b + 6)) != 0) b++;
    return b;
}

/* Words of one core's radix bounds: each pass's bucket bounds, and one set
 * of fill pointers. */
static uint64_t rank_bounds_words(unsigned log2_buckets) {
    uint32_t buckets = 1u << log2_buckets;
    return (uint64_t)(RANK_LEVELS * (buckets + 1) + buckets);
}

void pl_sampler_layout(pl_sampler *s, int vocab_size, int cores, pl_arena *fast) {
    s->vocab_size = vocab_size;
    s->index = pl_arena_take(fast, (uint64_t)vocab_size * sizeof(uint16_t));
    s->rank_log2_buckets = rank_log2_buckets(vocab_size);
    s->rank_bounds = s->rank_bounds1 = NULL;
    if (s->rank_log2_buckets) {
        uint64_t bytes = rank_bounds_words(s->rank_log2_buckets) * sizeof(uint32_t);
        s->rank_bounds = pl_arena_take(fast, bytes);
        if (cores == 2) s->rank_bounds1 = pl_arena_take(fast, bytes); /* the second core's deeper passes */
    }
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

static PLK_ALWAYS_INLINE int ranks_before(const float *p, uint16_t a, uint16_t b) {
    return p[a] > p[b] || (p[a] == p[b] && a < b);
}

static void insertion_rank(const float *p, uint16_t *ids, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint16_t id = ids[i];
        size_t j = i;
        for (; j > 0 && ranks_before(p, id, ids[j - 1]); j--) ids[j] = ids[j - 1];
        ids[j] = id;
    }
}

/* The walk down the ranked candidates: ids[0, ranked) are in rank order
 * and cumulative is their sum in that order, as run.c adds them. */
typedef struct {
    const float *p;
    float topp, cumulative;
    size_t ranked;
    uint32_t top_bits; /* the largest candidate's: a key is top_bits - bits */
    uint32_t *bounds;  /* [RANK_LEVELS][buckets + 1], then [buckets] */
    unsigned log2_buckets;
} rank_walk;

/* Walks a group in rank order; 1 once past top-p. */
static PLK_ALWAYS_INLINE int walk_ranked(rank_walk *w, const uint16_t *ids, size_t n) {
    float cumulative = w->cumulative;
    size_t k = 0;
    int past = 0;
    while (k < n && !past) {
        cumulative += w->p[ids[k++]];
        past = cumulative > w->topp;
    }
    w->cumulative = cumulative;
    w->ranked += k;
    return past;
}

/* A group ranked lazily by a heap whose root ranks first, any number of
 * equal probabilities in n log n: each pop ranks one more. The heap is
 * stored mirrored, its element k at ids[n - 1 - k], so that the popped
 * roots collect at the front of the group, in rank order. */
static void heap_sift(const float *p, uint16_t *top, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && ranks_before(p, top[-(ptrdiff_t)(child + 1)], top[-(ptrdiff_t)child])) child++;
        if (!ranks_before(p, top[-(ptrdiff_t)child], top[-(ptrdiff_t)root])) return;
        uint16_t tmp = top[-(ptrdiff_t)root];
        top[-(ptrdiff_t)root] = top[-(ptrdiff_t)child];
        top[-(ptrdiff_t)child] = tmp;
        root = child;
    }
}

static int heap_walk(rank_walk *w, uint16_t *ids, size_t n) {
    uint16_t *top = ids + n - 1;
    for (size_t i = n / 2; i-- > 0;) heap_sift(w->p, top, i, n);
    for (size_t left = n; left > 0; left--) {
        uint16_t best = top[0];
        top[0] = top[-(ptrdiff_t)(left - 1)];
        top[-(ptrdiff_t)(left - 1)] = best; /* ids[n - left]: the next in rank */
        heap_sift(w->p, top, 0, left - 1);
        if (walk_ranked(w, &best, 1)) return 1;
    }
    return 0;
}

/* A group is ranked as a whole (by insertion, or by the heap) when it is
 * small, its keys are equal, or the passes are used up. */
static PLK_ALWAYS_INLINE int rank_leaf(size_t n, unsigned top, int level) {
    return n <= RANK_SMALL || top == 0 || level == RANK_LEVELS;
}

static int rank_leaf_walk(rank_walk *w, uint16_t *ids, size_t n) {
    if (n > RANK_SMALL) return heap_walk(w, ids, n);
    insertion_rank(w->p, ids, n);
    return walk_ranked(w, ids, n);
}

/* One radix pass over a group whose keys agree above bit `top`, on the bits
 * just below it (in place, an American flag sort), with a bucket per four
 * candidates or more: returns the buckets' bounds (level's row of
 * w->bounds) and sets their count and the bits below the digit. */
static const uint32_t *radix_pass(const rank_walk *w, uint16_t *ids, size_t n, unsigned top, int level,
                                  uint32_t *buckets_out, unsigned *shift_out) {
    unsigned width = 1;
    while (width < w->log2_buckets && width < top && (n >> (width + 2)) != 0) width++;
    const unsigned shift = top - width;
    const uint32_t buckets = 1u << width, mask = buckets - 1u, high = w->top_bits;
    const float *p = w->p;
    uint32_t *bound = w->bounds + (size_t)level * ((1u << w->log2_buckets) + 1u);
    uint32_t *next = w->bounds + (size_t)RANK_LEVELS * ((1u << w->log2_buckets) + 1u);
#define RANK_DIGIT(id) (((high - plk_bits_of(p[id])) >> shift) & mask)
    for (uint32_t b = 0; b <= buckets; b++) bound[b] = 0;
    for (size_t i = 0; i < n; i++) bound[RANK_DIGIT(ids[i]) + 1]++;
    for (uint32_t b = 0; b < buckets; b++) {
        bound[b + 1] += bound[b];
        next[b] = bound[b];
    }
    for (uint32_t b = 0; b < buckets; b++) {
        uint32_t end = bound[b + 1];
        while (next[b] < end) {
            uint16_t id = ids[next[b]];
            uint32_t home = RANK_DIGIT(id);
            while (home != b) { /* carry it home, and take whatever was there */
                uint16_t displaced = ids[next[home]];
                ids[next[home]++] = id;
                id = displaced;
                home = RANK_DIGIT(id);
            }
            ids[next[b]++] = id;
        }
    }
#undef RANK_DIGIT
    *buckets_out = buckets;
    *shift_out = shift;
    return bound;
}

/* Ranks and walks a group: a radix pass, then each bucket in turn, best
 * first; 1 once past top-p. */
static int rank_group(rank_walk *w, uint16_t *ids, size_t n, unsigned top, int level) {
    if (rank_leaf(n, top, level)) return rank_leaf_walk(w, ids, n);
    uint32_t buckets;
    unsigned shift;
    const uint32_t *bound = radix_pass(w, ids, n, top, level, &buckets, &shift);
    for (uint32_t b = 0; b < buckets; b++) {
        size_t size = bound[b + 1] - bound[b];
        if (size > 0 && rank_group(w, ids + bound[b], size, shift, level + 1)) return 1;
    }
    return 0;
}

/* The first pass's buckets on two cores: core 0 ranks and walks buckets
 * [0, split), core 1 ranks [split, buckets) whole (its walk, top-p
 * infinite, never stops), each in its own region of ids, with its own
 * bounds for the deeper passes. */
typedef struct {
    rank_walk *w[2];
    uint16_t *ids;
    const uint32_t *bound;
    uint32_t split, buckets;
    unsigned shift;
    int past;
} rank_job;

static void rank_share(void *arg, int core) {
    rank_job *j = (rank_job *)arg;
    uint32_t b0 = core ? j->split : 0, b1 = core ? j->buckets : j->split;
    for (uint32_t b = b0; b < b1; b++) {
        size_t size = j->bound[b + 1] - j->bound[b];
        if (size > 0 && rank_group(j->w[core], j->ids + j->bound[b], size, j->shift, 1)) {
            j->past = 1;
            return;
        }
    }
}

/* Where core 0's buckets end: after about half of the candidates, and only
 * when the walk cannot stop before, as a bound says: no probability in a
 * bucket exceeds its largest key's, and those add up to less than top-p
 * (with a margin for the bound's own rounding); else 0, and one core ranks
 * lazily (a peaked distribution: the walk ends in the first buckets, and
 * ranking the rest would be wasted). Only the speed depends on it. */
static uint32_t rank_split(const rank_walk *w, const uint32_t *bound, uint32_t buckets, unsigned shift) {
    uint32_t b = 0;
    float most = 0.0f;
    while (b + 1 < buckets && bound[b + 1] <= bound[buckets] / 2u) {
        most += (float)(bound[b + 1] - bound[b]) * plk_float_of(w->top_bits - (b << shift));
        b++;
    }
    return most < w->topp * 0.99f ? b : 0;
}

/* The whole rank: with a second core (w1 and cores), the first pass's
 * buckets shared (rank_share), core 0 then walking on into core 1's. */
static void rank_all(rank_walk *w, rank_walk *w1, pl_cores *cores, uint16_t *ids, size_t n, unsigned top) {
    if (!w1 || rank_leaf(n, top, 0)) {
        rank_group(w, ids, n, top, 0);
        return;
    }
    uint32_t buckets;
    unsigned shift;
    const uint32_t *bound = radix_pass(w, ids, n, top, 0, &buckets, &shift);
    rank_job j = {{w, w1}, ids, bound, rank_split(w, bound, buckets, shift), buckets, shift, 0};
    if (j.split == 0) {
        j.split = buckets; /* all on core 0 */
        rank_share(&j, 0);
        return;
    }
    pl_cores_run(cores, rank_share, &j);
    if (!j.past) walk_ranked(w, ids + bound[j.split], bound[buckets] - bound[j.split]);
}

/* Tokens [i0, i1) at or above the cutoff into ids, in id order, and the
 * range of their bits. */
typedef struct {
    const float *p;
    uint16_t *ids;
    float cutoff;
    int mid, n;
    size_t count[2];
    uint32_t low[2], high[2];
} filter_job;

static void filter_share(void *arg, int core) {
    filter_job *j = (filter_job *)arg;
    int i0 = core ? j->mid : 0, i1 = core ? j->n : j->mid;
    const float *p = j->p, cutoff = j->cutoff; /* locals: the stores to ids may alias j */
    uint16_t *ids = j->ids + i0;
    size_t count = 0;
    uint32_t low = UINT32_MAX, high = 0;
    for (int i = i0; i < i1; i++) {
        if (p[i] >= cutoff) {
            uint32_t bits = plk_bits_of(p[i]);
            low = bits < low ? bits : low;
            high = bits > high ? bits : high;
            ids[count++] = (uint16_t)i;
        }
    }
    j->count[core] = count;
    j->low[core] = low;
    j->high[core] = high;
}

static int sample_topp(const pl_sampler *s, pl_cores *cores, const float *p, int n, float topp, float coin) {
    uint16_t *ids = s->index;
    /* Tokens below the cutoff cannot be part of the nucleus (run.c's bound).
     * On two cores, for a vocabulary the radix ranks (rank_bounds1), each
     * takes half of the tokens, core 1's candidates then moved down after
     * core 0's: the same list. */
    int two = cores && cores->two_cores && s->rank_bounds1;
    filter_job f = {p, ids, (1.0f - topp) / (float)(n - 1), two ? n / 2 : n, n, {0, 0}, {UINT32_MAX, UINT32_MAX}, {0, 0}};
    if (two) pl_cores_run(cores, filter_share, &f);
    else filter_share(&f, 0);
    for (size_t k = 0; k < f.count[1]; k++) ids[f.count[0] + k] = ids[(size_t)f.mid + k];
    size_t count = f.count[0] + f.count[1];
    uint32_t low = f.low[0] < f.low[1] ? f.low[0] : f.low[1], high = f.high[0] > f.high[1] ? f.high[0] : f.high[1];
    if (count == 0) return n - 1; /* only with NaN probabilities */

    /* The candidates are positive (cutoff > 0): their bits order as they
     * do. The first pass's buckets span low..high. */
    rank_walk w = {p, topp, 0.0f, 0, high, s->rank_bounds, s->rank_log2_buckets};
    rank_walk w1 = {p, INFINITY, 0.0f, 0, high, s->rank_bounds1, s->rank_log2_buckets};
    unsigned top = 0; /* the keys' bits: every key, high - bits, is below 2^top */
    while (top < 31 && ((high - low) >> top) != 0) top++;
    rank_all(&w, two ? &w1 : NULL, cores, ids, count, s->rank_bounds ? top : 0);

    float r = coin * w.cumulative;
    float cdf = 0.0f;
    for (size_t k = 0; k < w.ranked; k++) {
        cdf += p[ids[k]];
        if (r < cdf) return ids[k];
    }
    return ids[w.ranked - 1];
}

/* logits / temperature and their softmax, run.c's operations in its order,
 * the row shared between the cores: each core divides and exponentiates
 * its half, core 1's maximum is folded into core 0's as run.c's loop would
 * meet it, and core 0 alone adds the row in order. */
typedef struct {
    float *x;
    int n, mid;
    float temperature, max[2];
    float sum[2]; /* each core's half; only core 0's is used: the row is added in order */
    int step;
} softmax_job;

static void softmax_share(void *arg, int core) {
    softmax_job *j = arg;
    float *x = j->x + (core ? j->mid : 0);
    int n = core ? j->n - j->mid : j->mid;
    if (n == 0) return;
    if (j->step == 0) {
        plk_divide(x, n, j->temperature);
        j->max[core] = core ? plk_max_from(-INFINITY, x, n) : plk_max_from(x[0], x + 1, n - 1);
    } else if (j->step == 1) {
        float max = j->max[1] > j->max[0] ? j->max[1] : j->max[0];
        j->sum[core] = plk_exp_sum_from(0.0f, x, n, max);
    } else {
        plk_divide(x, n, j->sum[0]);
    }
}

/* Core 0 has a value at least (its maximum starts at x[0]); a share with
 * none leaves its maximum at -infinity, which never wins. Which core met
 * which logit does not matter: the maximum is the same value (a +0 or a
 * -0 only: x - max is the same bits then, or e^0 of either sign). With
 * `prep` the first step is done. */
static void temperature_softmax(pl_cores *cores, float *x, int n, float temperature,
                                const pl_logits_prep *prep) {
    softmax_job j = {x, n, cores && cores->two_cores && n >= 2 ? n / 2 : n, temperature, {-INFINITY, -INFINITY},
                     {0.0f, 0.0f}, 0};
    if (prep) {
        j.max[0] = prep->max[0];
        j.max[1] = prep->max[1];
    }
    for (j.step = prep ? 1 : 0; j.step < 3; j.step++) {
        if (j.step == 2) j.sum[0] = plk_sum_from(j.sum[0], x + j.mid, n - j.mid);
        if (cores) pl_cores_run(cores, softmax_share, &j);
        else {
            softmax_share(&j, 0);
            softmax_share(&j, 1);
        }
    }
}

/* The first step on rows of the logits (pl_rows_done), each core's maximum
 * from -infinity. run.c's starts at the first logit: that differs only when
 * the first logit is NaN, and then every probability is NaN either way
 * (the maximum's NaN, or the sum's), so the token is the same. */
static void prepare_rows(void *user, int core, float *rows, int n) {
    pl_logits_prep *prep = (pl_logits_prep *)user;
    plk_divide(rows, n, prep->temperature);
    prep->max[core] = plk_max_from(prep->max[core], rows, n);
}

void pl_logits_prep_init(pl_logits_prep *prep, float temperature) {
    prep->done.fn = prepare_rows;
    prep->done.user = prep;
    prep->temperature = temperature;
    prep->max[0] = prep->max[1] = -INFINITY;
}

int pl_sample(pl_sampler *s, pl_cores *cores, float *logits, float temperature, float topp,
              const pl_logits_prep *prep) {
    int n = s->vocab_size;
    if (temperature == 0.0f) return argmax(logits, n);
    temperature_softmax(cores, logits, n, temperature, prep);
    float coin = pl_random_f32(&s->rng_state);
    if (topp <= 0.0f || topp >= 1.0f) return sample_multinomial(logits, n, coin);
    return sample_topp(s, cores, logits, n, topp, coin);
}
