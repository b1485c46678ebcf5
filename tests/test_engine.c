/*
 * The engine as a sketch uses it: the memory plan is exactly what open
 * allocates (three allocations, then none per token), allocation failures are
 * errors, generation follows run.c's loop (prompt forced, BOS stops, steps
 * clamp), the callback can stop a story, and bad settings are refused.
 */
#include "fixtures.h"
#include "pl_internal.h" /* the cores' copy counts */
#include "host_platform.h"
#include "pl_test.h"

#include <stdlib.h>

/* An allocator that records every call and can be told to fail. */
typedef struct {
    int calls, frees, fail_pool; /* fail_pool -1: never */
    int fail_call;               /* the call that fails (1: the first); 0: none */
    size_t sizes[2];
    int outstanding;
    void *block[4]; /* the first four blocks given, and their sizes */
    size_t block_size[4];
} counting;

static void *c_alloc(void *user, pl_pool pool, size_t size) {
    counting *c = (counting *)user;
    c->calls++;
    if ((int)pool == c->fail_pool || c->calls == c->fail_call) return NULL;
    c->sizes[pool] += size; /* what each pool gave, over its blocks */
    c->outstanding++;
    void *p = malloc(size);
    if (c->calls <= 4) {
        c->block[c->calls - 1] = p;
        c->block_size[c->calls - 1] = size;
    }
    return p;
}

static void c_release(void *user, pl_pool pool, void *p) {
    counting *c = (counting *)user;
    (void)pool;
    c->frees++;
    c->outstanding--;
    free(p);
}

static pl_platform counting_platform(counting *c) {
    pl_platform p = {c_alloc, c_release, NULL, c, NULL, NULL, NULL, NULL};
    memset(c, 0, sizeof *c);
    c->fail_pool = -1;
    return p;
}

typedef struct {
    char text[8192];
    size_t len;
    int pieces, ends, stop_after;
    int null_before_end; /* a NULL arrived and then more pieces */
} collector;

static int collect(void *user, const char *piece) {
    collector *c = (collector *)user;
    if (!piece) {
        c->ends++;
        return 0;
    }
    if (c->ends) c->null_before_end = 1;
    size_t n = strlen(piece);
    if (c->len + n < sizeof c->text) {
        memcpy(c->text + c->len, piece, n + 1);
        c->len += n;
    }
    c->pieces++;
    return c->stop_after && c->pieces >= c->stop_after;
}

typedef struct {
    uint8_t *model, *tok;
    size_t msize, tsize;
} blobs;

static blobs make_blobs(fx_model_spec s) {
    blobs b;
    b.model = fx_model(&s, &b.msize);
    b.tok = fx_tokenizer(s.vocab_size, 0, &b.tsize);
    return b;
}

static void free_blobs(blobs *b) {
    free(b->model);
    free(b->tok);
}

static void test_memory_plan(void) {
    blobs b = make_blobs(fx_small_spec());
    counting c;
    pl_platform platform = counting_platform(&c);
    pl_memory_plan plan;
    pl_options opt;
    memset(&opt, 0, sizeof opt);
    opt.max_prompt_bytes = 64;
    pl_engine *e;
    pl_error err;
    CHECK_STATUS(pl_plan_memory(b.model, b.msize, b.tok, b.tsize, &opt, &plan, &err), PL_OK, err);
    CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, &opt, &platform, &err), PL_OK, err);
    /* Exactly three allocations (a block from each pool, and the KV cache
     * its own from the large pool), of exactly the planned sizes. */
    CHECK_EQ_INT(c.calls, 3);
    CHECK_EQ_INT(c.sizes[PL_POOL_FAST], plan.fast_bytes);
    CHECK_EQ_INT(c.sizes[PL_POOL_LARGE], plan.large_bytes);
    CHECK_EQ_INT(pl_memory(e)->fast_bytes, plan.fast_bytes);
    /* KV cache: 2 x layers x seq x kv_dim floats = 2*2*32*8*4 bytes. */
    CHECK_EQ_INT(plan.kv_cache_bytes, 2 * 2 * 32 * 8 * 4);
    /* The parts add up to no more than the pools. */
    CHECK(plan.activations_bytes + plan.sampler_bytes <= plan.fast_bytes);
    CHECK(plan.kv_cache_bytes + plan.prompt_bytes <= plan.large_bytes);

    /* No allocation while telling stories. */
    collector col;
    memset(&col, 0, sizeof col);
    pl_sampling s = pl_default_sampling();
    pl_seed(e, 3);
    CHECK_STATUS(pl_generate(e, "Once upon a time", &s, collect, &col, NULL, &err), PL_OK, err);
    CHECK_STATUS(pl_generate(e, NULL, &s, collect, &col, NULL, &err), PL_OK, err);
    CHECK_EQ_INT(c.calls, 3);
    pl_close(e);
    CHECK_EQ_INT(c.frees, 3);
    CHECK_EQ_INT(c.outstanding, 0);

    /* A failing pool, or any one failing block, is an error that names
     * what could not be had, and nothing is left allocated. */
    for (int pool = 0; pool <= 1; pool++) {
        platform = counting_platform(&c);
        c.fail_pool = pool;
        e = (pl_engine *)&c; /* must be reset to NULL */
        CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, NULL, &platform, &err),
                     PL_ERR_NO_MEMORY, err);
        CHECK(e == NULL);
        CHECK_EQ_INT(c.outstanding, 0);
    }
    for (int call = 1; call <= 3; call++) {
        platform = counting_platform(&c);
        c.fail_call = call;
        CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, NULL, &platform, &err),
                     PL_ERR_NO_MEMORY, err);
        CHECK_EQ_INT(c.outstanding, 0);
        CHECK_EQ_INT(c.frees, call - 1);
        CHECK((strstr(err.message, "KV cache") != NULL) == (call == 3));
    }
    /* The KV cache in SRAM: its block comes from the fast pool, and moves
     * its bytes from one pool's count to the other's. */
    pl_memory_plan in_large = plan;
    platform = counting_platform(&c);
    opt.kv_cache_fast = 1;
    CHECK_STATUS(pl_plan_memory(b.model, b.msize, b.tok, b.tsize, &opt, &plan, &err), PL_OK, err);
    CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, &opt, &platform, &err), PL_OK, err);
    CHECK_EQ_INT(c.calls, 3);
    CHECK_EQ_INT(c.sizes[PL_POOL_FAST], plan.fast_bytes);
    CHECK_EQ_INT(c.sizes[PL_POOL_LARGE], plan.large_bytes);
    CHECK_EQ_INT(plan.fast_bytes, in_large.fast_bytes + in_large.kv_cache_bytes);
    CHECK_EQ_INT(plan.large_bytes, in_large.large_bytes - in_large.kv_cache_bytes);
    pl_close(e);
    CHECK_EQ_INT(c.outstanding, 0);
    /* Missing hooks and NULL arguments. */
    pl_platform none = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, NULL, &none, &err), PL_ERR_ARGUMENT, err);
    CHECK_STATUS(pl_open(NULL, b.model, b.msize, b.tok, b.tsize, NULL, &platform, &err), PL_ERR_ARGUMENT, err);
    CHECK_STATUS(pl_plan_memory(b.model, b.msize, b.tok, b.tsize, NULL, NULL, &err), PL_ERR_ARGUMENT, err);
    pl_close(NULL);
    free_blobs(&b);
}

static void test_int8_group_sizes(void) {
    /* Version 2 runs; a group size that is not a multiple of 4 would leave
     * the scales unaligned and is refused with its own status. */
    for (int gs = 2; gs <= 16; gs *= 2) {
        fx_model_spec spec = fx_small_spec();
        spec.version = 2;
        spec.group_size = gs;
        blobs b = make_blobs(spec);
        pl_platform platform = pl_host_platform(NULL);
        pl_engine *e = NULL;
        pl_error err;
        pl_status st = pl_open(&e, b.model, b.msize, b.tok, b.tsize, NULL, &platform, &err);
        if (gs % 4 == 0) {
            CHECK_STATUS(st, PL_OK, err);
        } else {
            CHECK_STATUS(st, PL_ERR_UNSUPPORTED, err);
        }
        pl_close(e);
        free_blobs(&b);
    }
}

static void test_alignment(void) {
    blobs b = make_blobs(fx_small_spec());
    pl_platform platform = pl_host_platform(NULL);
    pl_engine *e;
    pl_error err;
    uint8_t *shifted = malloc(b.msize + 1);
    memcpy(shifted + 1, b.model, b.msize);
    CHECK_STATUS(pl_open(&e, shifted + 1, b.msize, b.tok, b.tsize, NULL, &platform, &err),
                 PL_ERR_ALIGNMENT, err);
    free(shifted);
    free_blobs(&b);
}

static void test_generation(void) {
    fx_model_spec spec = fx_small_spec();
    blobs b = make_blobs(spec);
    pl_platform platform = pl_host_platform(NULL);
    pl_engine *e;
    pl_error err;
    pl_stats st;
    collector a, c;
    pl_sampling s = pl_default_sampling();
    CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, NULL, &platform, &err), PL_OK, err);
    if (!e) return;

    /* A seed tells the same story twice; the prompt comes first. */
    s.steps = 24;
    memset(&a, 0, sizeof a);
    memset(&c, 0, sizeof c);
    pl_seed(e, 42);
    CHECK_STATUS(pl_generate(e, "Lily saw", &s, collect, &a, &st, &err), PL_OK, err);
    pl_seed(e, 42);
    CHECK_STATUS(pl_generate(e, "Lily saw", &s, collect, &c, NULL, &err), PL_OK, err);
    CHECK_STR(a.text, c.text);
    CHECK(strncmp(a.text, "Lily saw", 8) == 0);
    CHECK_EQ_INT(a.ends, 1);
    CHECK_EQ_INT(a.null_before_end, 0);
    CHECK_EQ_INT(st.prompt_tokens, 5); /* <s> " L" "il" "y" " saw" */
    CHECK(st.positions <= 24);
    CHECK_EQ_INT(st.generated_tokens, st.positions - (st.prompt_tokens - 1));
    /* Traffic: every position reads all weights once; the prompt's forced
     * positions are counted apart from the sampled ones. */
    {
        pl_model_info info = *pl_info(e);
        uint64_t per_token = pl_model_bytes_per_token(&info), r, w, r_sum = 0;
        /* nothing placed: every weight byte is read in place */
        CHECK_EQ_INT(st.prompt_traffic.weight_bytes[PL_PLACE_IN_PLACE], (uint64_t)(st.prompt_tokens - 1) * per_token);
        CHECK_EQ_INT(st.generate_traffic.weight_bytes[PL_PLACE_IN_PLACE], (uint64_t)st.generated_tokens * per_token);
        CHECK_EQ_INT(st.generate_traffic.weight_bytes[PL_PLACE_LARGE] + st.generate_traffic.weight_bytes[PL_PLACE_FAST], 0);
        for (int pos = 0; pos < st.prompt_tokens - 1; pos++) {
            pl_model_kv_traffic(&info, pos, &r, &w);
            r_sum += r;
        }
        CHECK_EQ_INT(st.prompt_traffic.kv_read_bytes, r_sum);
        /* pos 0 reads one position's keys and values in every layer: 2
         * layers x (keys + values) x dim 16 floats. */
        pl_model_kv_traffic(&info, 0, &r, &w);
        CHECK_EQ_INT(r, 2 * 2 * 16 * 4);
        CHECK_EQ_INT(w, 2 * 2 * 8 * 4); /* kv_dim 8 */
    }
    /* Without re-seeding the generator continues: another story. */
    memset(&c, 0, sizeof c);
    CHECK_STATUS(pl_generate(e, "Lily saw", &s, collect, &c, NULL, &err), PL_OK, err);
    CHECK(strcmp(a.text, c.text) != 0);

    /* Greedy ignores the seed. */
    s.temperature = 0.0f;
    memset(&a, 0, sizeof a);
    memset(&c, 0, sizeof c);
    pl_seed(e, 1);
    pl_generate(e, "", &s, collect, &a, NULL, &err);
    pl_seed(e, 2);
    pl_generate(e, "", &s, collect, &c, NULL, &err);
    CHECK_STR(a.text, c.text);

    /* Steps: 0 and anything past seq_len mean seq_len. */
    s.steps = 0;
    pl_generate(e, "", &s, collect, &a, &st, &err);
    int full = st.positions;
    s.steps = 1000;
    pl_generate(e, "", &s, collect, &a, &st, &err);
    CHECK_EQ_INT(st.positions, full);
    CHECK(full <= spec.seq_len);

    /* The callback stops a story; the end call still comes, once. */
    memset(&a, 0, sizeof a);
    a.stop_after = 3;
    s.steps = 0;
    CHECK_STATUS(pl_generate(e, "Once upon a time", &s, collect, &a, &st, &err), PL_OK, err);
    CHECK_EQ_INT(a.pieces, 3);
    CHECK_EQ_INT(a.ends, 1);
    CHECK_EQ_INT(st.stopped_early, 1);

    /* Bad settings. */
    s = pl_default_sampling();
    s.temperature = -0.1f;
    CHECK_STATUS(pl_generate(e, "", &s, collect, &a, NULL, &err), PL_ERR_ARGUMENT, err);
    s = pl_default_sampling();
    s.topp = 1.01f;
    CHECK_STATUS(pl_generate(e, "", &s, collect, &a, NULL, &err), PL_ERR_ARGUMENT, err);
    s.topp = -0.01f;
    CHECK_STATUS(pl_generate(e, "", &s, collect, &a, NULL, &err), PL_ERR_ARGUMENT, err);
    s.topp = 0.0f / 0.0f;
    CHECK_STATUS(pl_generate(e, "", &s, collect, &a, NULL, &err), PL_ERR_ARGUMENT, err);
    s = pl_default_sampling();
    s.steps = -1;
    CHECK_STATUS(pl_generate(e, "", &s, collect, &a, NULL, &err), PL_ERR_ARGUMENT, err);
    s = pl_default_sampling();
    CHECK_STATUS(pl_generate(e, "", &s, NULL, &a, NULL, &err), PL_ERR_ARGUMENT, err);
    CHECK_STATUS(pl_generate(e, "", NULL, collect, &a, NULL, &err), PL_ERR_ARGUMENT, err);

    /* A prompt of more tokens than the context (32): 40 spaced letters are
     * 41 tokens or more after the merges. As run.c: the first 32 positions
     * are the prompt's, printed; nothing is sampled; no error. */
    char prompt[200];
    int n = 0;
    for (int i = 0; i < 40; i++) {
        prompt[n++] = (char)('a' + i % 26);
        prompt[n++] = ' ';
    }
    prompt[n] = '\0';
    collector cut;
    pl_stats cut_stats;
    memset(&cut, 0, sizeof cut);
    CHECK_STATUS(pl_generate(e, prompt, &s, collect, &cut, &cut_stats, &err), PL_OK, err);
    CHECK_EQ_INT(cut_stats.positions, 32);
    CHECK_EQ_INT(cut_stats.prompt_tokens > 32, 1);
    CHECK_EQ_INT(cut_stats.generated_tokens, 0);
    CHECK(cut.len > 0 && cut.len < (size_t)n && strncmp(cut.text, prompt, cut.len) == 0);
    /* -n below the prompt: its first 5 positions print its next 5 pieces */
    s.steps = 5;
    memset(&cut, 0, sizeof cut);
    CHECK_STATUS(pl_generate(e, prompt, &s, collect, &cut, &cut_stats, &err), PL_OK, err);
    CHECK_EQ_INT(cut_stats.positions, 5);
    CHECK_EQ_INT(cut_stats.generated_tokens, 0);
    CHECK_EQ_INT(cut.pieces, 5);
    CHECK(strncmp(cut.text, prompt, cut.len) == 0);
    s = pl_default_sampling();
    /* And more bytes than the engine reserved (1024 by default). */
    char *huge = malloc(2000);
    memset(huge, 'a', 1999);
    huge[1999] = '\0';
    CHECK_STATUS(pl_generate(e, huge, &s, collect, &a, NULL, &err), PL_ERR_PROMPT_TOO_LONG, err);
    free(huge);
    pl_close(e);
    free_blobs(&b);
}

static void test_stops_on_bos(void) {
    /* A model whose classifier row for BOS (token 1) dominates: greedy
     * generation samples BOS at once and the story ends, printing nothing. */
    fx_model_spec spec = fx_small_spec();
    spec.shared_classifier = 0;
    blobs b = make_blobs(spec);
    /* v0 unshared: wcls is the last vocab x dim floats of the file. */
    float *wcls = (float *)(b.model + b.msize) - (size_t)spec.vocab_size * spec.dim;
    pl_platform platform = pl_host_platform(NULL);
    pl_engine *e;
    pl_error err;
    pl_stats st;
    CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, NULL, &platform, &err), PL_OK, err);
    if (!e) return;
    /* Give BOS's classifier row 50 times the row that wins at position 0:
     * BOS then wins by far. */
    const float *logits = pl_forward(e, 1, 0);
    int best = 0;
    for (int i = 1; i < spec.vocab_size; i++)
        if (logits[i] > logits[best]) best = i;
    for (int i = 0; i < spec.dim; i++) wcls[1 * spec.dim + i] = wcls[(size_t)best * spec.dim + i] * 50.0f;
    collector c;
    memset(&c, 0, sizeof c);
    pl_sampling s = pl_default_sampling();
    s.temperature = 0.0f;
    CHECK_STATUS(pl_generate(e, "", &s, collect, &c, &st, &err), PL_OK, err);
    CHECK_EQ_INT(st.positions, 1);
    CHECK_EQ_INT(c.pieces, 0);
    CHECK_EQ_INT(c.ends, 1);
    pl_close(e);
    free_blobs(&b);
}

/* Logits of every position of a fixed token sequence, concatenated. */
static float *all_logits(pl_engine *e, int positions, int vocab) {
    float *out = malloc(sizeof(float) * (size_t)positions * (size_t)vocab);
    for (int pos = 0; pos < positions; pos++) {
        const float *l = pl_forward(e, (pos * 17 + 3) % vocab, pos);
        memcpy(out + (size_t)pos * (size_t)vocab, l, sizeof(float) * (size_t)vocab);
    }
    return out;
}

/* A story of `steps` positions from no prompt, run.c's sampling. */
static pl_status short_story(pl_engine *e, int steps, pl_stats *st, pl_error *err) {
    collector col;
    memset(&col, 0, sizeof col);
    pl_sampling sm = pl_default_sampling();
    sm.steps = steps;
    return pl_generate(e, "", &sm, collect, &col, st, err);
}

static void test_placement(void) {
    /* A PicoLlama file with every type; placed in place, all in the fast
     * pool, all in the large pool, within a budget, and by the board rule:
     * the same logits bit for bit, three allocations of the planned sizes,
     * each tensor's copy counted in its pool, traffic by place. */
    fx_model_spec s = fx_small_spec();
    s.shared_classifier = 0;
    size_t size;
    uint8_t *m = fx_picollama(&s, "int4:8", "int8:8", "int4:16", &size);
    CHECK(m != NULL);
    if (!m) return;
    counting c;
    pl_platform platform;
    pl_engine *e;
    pl_error err;
    pl_options opt;
    pl_memory_plan plan;
    memset(&opt, 0, sizeof opt);
    platform = counting_platform(&c);
    CHECK_STATUS(pl_open(&e, m, size, NULL, 0, &opt, &platform, &err), PL_OK, err);
    const pl_model_info info = *pl_info(e);
    float *want = all_logits(e, s.seq_len, s.vocab_size);
    size_t in_place_fast = pl_memory(e)->fast_bytes, in_place_large = pl_memory(e)->large_bytes;
    pl_close(e);
    uint64_t matrices = 0; /* every movable tensor: all but the separate embedding */
    for (int id = 0; id < PL_TENSOR_COUNT; id++)
        if (id != PL_TENSOR_EMBEDDING) matrices += (info.tensors[id].bytes + 7u) & ~(size_t)7u;

    for (int mode = 0; mode < 4; mode++) {
        memset(&opt, 0, sizeof opt);
        if (mode == 0) opt.fast_weight_budget = SIZE_MAX;
        if (mode == 1) opt.large_weight_budget = SIZE_MAX;
        if (mode == 2) { /* room for some tensors only, the rest to PSRAM */
            opt.fast_weight_budget = info.tensors[PL_TENSOR_W1].bytes + 200;
            opt.large_weight_budget = SIZE_MAX;
        }
        if (mode == 3)
            CHECK_STATUS(pl_auto_place(m, size, NULL, 0, in_place_fast + 6000, 1u << 20, &opt, &err),
                         PL_OK, err);
        CHECK_STATUS(pl_plan_memory(m, size, NULL, 0, &opt, &plan, &err), PL_OK, err);
        platform = counting_platform(&c);
        CHECK_STATUS(pl_open(&e, m, size, NULL, 0, &opt, &platform, &err), PL_OK, err);
        if (!e) continue;
        CHECK_EQ_INT(c.calls, 3);
        CHECK_EQ_INT(c.sizes[PL_POOL_FAST], plan.fast_bytes);
        CHECK_EQ_INT(c.sizes[PL_POOL_LARGE], plan.large_bytes);
        float *got = all_logits(e, s.seq_len, s.vocab_size);
        CHECK(memcmp(got, want, sizeof(float) * (size_t)s.seq_len * (size_t)s.vocab_size) == 0);
        free(got);
        CHECK_EQ_INT(plan.tensor_place[PL_TENSOR_EMBEDDING], PL_PLACE_IN_PLACE); /* one row a token */
        uint64_t per_token = 0, placed[PL_PLACE_COUNT] = {0, 0, 0};
        for (int p = 0; p < PL_PLACE_COUNT; p++) per_token += plan.weight_bytes_per_token[p];
        CHECK_EQ_INT(per_token, pl_model_bytes_per_token(&info));
        for (int id = 0; id < PL_TENSOR_COUNT; id++)
            placed[plan.tensor_place[id]] += (info.tensors[id].bytes + 7u) & ~(size_t)7u;
        if (mode == 0) {
            CHECK_EQ_INT(placed[PL_PLACE_FAST], matrices);
            /* each copy starts 8-aligned; the last one's end need not */
            CHECK(plan.fast_bytes + 7u >= in_place_fast + matrices);
        }
        if (mode == 1) {
            CHECK_EQ_INT(placed[PL_PLACE_LARGE], matrices);
            CHECK_EQ_INT(plan.fast_bytes, in_place_fast);
            CHECK(plan.large_bytes + 7u >= in_place_large + matrices);
        }
        if (mode == 2 || mode == 3) {
            /* within the budget, and no tensor left out that would still fit */
            size_t budget = mode == 2 ? opt.fast_weight_budget : opt.fast_weight_budget;
            CHECK(placed[PL_PLACE_FAST] <= budget);
            CHECK(placed[PL_PLACE_FAST] > 0);
            for (int id = 0; id < PL_TENSOR_COUNT; id++)
                if (id != PL_TENSOR_EMBEDDING && plan.tensor_place[id] != PL_PLACE_FAST)
                    CHECK(placed[PL_PLACE_FAST] + ((info.tensors[id].bytes + 7u) & ~(size_t)7u) > budget);
            CHECK_EQ_INT(placed[PL_PLACE_IN_PLACE], (info.tensors[PL_TENSOR_EMBEDDING].bytes + 7u) & ~(size_t)7u);
        }
        if (mode == 3) /* the rule's room: the fast pool within what it was given */
            CHECK(plan.fast_bytes <= in_place_fast + 6000);
        /* traffic by place: a story's weight bytes per position are the plan's */
        pl_stats st;
        CHECK_STATUS(short_story(e, 8, &st, &err), PL_OK, err);
        for (int p = 0; p < PL_PLACE_COUNT; p++)
            CHECK_EQ_INT(st.generate_traffic.weight_bytes[p],
                         (uint64_t)st.generated_tokens * plan.weight_bytes_per_token[p]);
        pl_close(e);
        CHECK_EQ_INT(c.outstanding, 0);
    }
    free(want);
    free(m);
}

static void test_kv_positions(void) {
    /* The KV cache sized for fewer positions than the context: smaller,
     * the same logits, forward refused past it, stories clamped to it, a
     * prompt longer than it refused; and the cache in the fast pool. */
    blobs b = make_blobs(fx_small_spec());
    counting c;
    pl_platform platform = counting_platform(&c);
    pl_options opt;
    pl_engine *full, *e;
    pl_error err;
    memset(&opt, 0, sizeof opt);
    CHECK_STATUS(pl_open(&full, b.model, b.msize, b.tok, b.tsize, &opt, &platform, &err), PL_OK, err);
    opt.max_positions = 10;
    opt.kv_cache_fast = 1;
    CHECK_STATUS(pl_open(&e, b.model, b.msize, b.tok, b.tsize, &opt, &platform, &err), PL_OK, err);
    if (full && e) {
        const pl_memory_plan *p = pl_memory(e);
        CHECK_EQ_INT(p->kv_positions, 10);
        CHECK_EQ_INT(p->kv_place, PL_PLACE_FAST);
        CHECK_EQ_INT(p->kv_cache_bytes, 2 * 2 * 10 * 8 * 4); /* k and v, 2 layers, 10 positions, kv_dim 8 */
        CHECK_EQ_INT(pl_memory(full)->kv_cache_bytes, 2 * 2 * 32 * 8 * 4);
        /* the fast pool gains the cache and loses the scores of the 22
         * positions fewer: one row per query head of a KV head */
        size_t kv_mul = (size_t)(pl_info(e)->n_heads / pl_info(e)->n_kv_heads);
        CHECK(p->fast_bytes >= pl_memory(full)->fast_bytes + p->kv_cache_bytes - 32u * 4u * kv_mul);
        float *a = all_logits(full, 10, 64 < pl_info(e)->vocab_size ? 64 : pl_info(e)->vocab_size);
        float *bb = all_logits(e, 10, 64 < pl_info(e)->vocab_size ? 64 : pl_info(e)->vocab_size);
        CHECK(memcmp(a, bb, sizeof(float) * 10 * (size_t)(64 < pl_info(e)->vocab_size ? 64 : pl_info(e)->vocab_size)) == 0);
        free(a);
        free(bb);
        CHECK(pl_forward(e, 5, 9) != NULL);
        CHECK(pl_forward(e, 5, 10) == NULL);
        collector col;
        pl_stats st;
        memset(&col, 0, sizeof col);
        pl_sampling sm = pl_default_sampling();
        sm.steps = 0; /* the whole context: here the cache's 10 */
        sm.temperature = 0.0f;
        CHECK_STATUS(pl_generate(e, "", &sm, collect, &col, &st, &err), PL_OK, err);
        CHECK(st.positions <= 10);
        /* a prompt longer than the cache's 10 positions: cut there, as run.c */
        CHECK_STATUS(pl_generate(e, "Lily saw a big dog and a cat and the sun and", &sm, collect, &col,
                                 &st, &err),
                     PL_OK, err);
        CHECK_EQ_INT(st.positions, 10);
        CHECK_EQ_INT(st.generated_tokens, 0);
    }
    pl_close(full);
    pl_close(e);
    free_blobs(&b);
}

static void test_tokenizer_inside(void) {
    /* A PicoLlama file opens without a tokenizer argument; a llama2.c file
     * cannot; an explicit tokenizer still takes precedence. */
    fx_model_spec s = fx_small_spec();
    size_t size;
    uint8_t *m = fx_picollama(&s, "int8:8", "int8:8", "int8:8", &size);
    blobs b = make_blobs(s);
    counting c;
    pl_platform platform = counting_platform(&c);
    pl_engine *e;
    pl_error err;
    CHECK_STATUS(pl_open(&e, m, size, NULL, 0, NULL, &platform, &err), PL_OK, err);
    pl_close(e);
    CHECK_STATUS(pl_open(&e, m, size, b.tok, b.tsize, NULL, &platform, &err), PL_OK, err);
    pl_close(e);
    CHECK_STATUS(pl_open(&e, b.model, b.msize, NULL, 0, NULL, &platform, &err), PL_ERR_ARGUMENT, err);
    CHECK(strstr(err.message, "no tokenizer inside") != NULL);
    free(m);
    free_blobs(&b);
}

/* An allocator whose blocks for one pool start `skew` bytes past an 8-byte
 * boundary. */
static int skew;
static pl_pool skewed_pool;
static void *skewed_alloc(void *user, pl_pool pool, size_t size) {
    (void)user;
    uint8_t *base = malloc(size + 8);
    return base ? base + (pool == skewed_pool ? skew : 0) : NULL;
}
static void skewed_release(void *user, pl_pool pool, void *p) {
    (void)user;
    if (p) free((uint8_t *)p - (pool == skewed_pool ? skew : 0));
}

static void test_pool_alignment(void) {
    /* arduino-pico's pmalloc returns 4-byte-aligned blocks: the engine runs
     * on them as the large pool, bit for bit; a block aligned to less, or a
     * fast pool (the engine's own structure) aligned to less than 8, is
     * refused. */
    blobs b = make_blobs(fx_small_spec());
    pl_platform plain = pl_host_platform(NULL), skewed = {skewed_alloc, skewed_release, NULL, NULL, NULL, NULL, NULL, NULL};
    pl_engine *e1 = NULL, *e2 = NULL;
    pl_error err;
    CHECK_STATUS(pl_open(&e1, b.model, b.msize, b.tok, b.tsize, NULL, &plain, &err), PL_OK, err);
    skew = 4;
    skewed_pool = PL_POOL_LARGE;
    CHECK_STATUS(pl_open(&e2, b.model, b.msize, b.tok, b.tsize, NULL, &skewed, &err), PL_OK, err);
    if (e1 && e2) {
        float *a = all_logits(e1, 16, fx_small_spec().vocab_size), *c = all_logits(e2, 16, fx_small_spec().vocab_size);
        CHECK(memcmp(a, c, sizeof(float) * 16 * (size_t)fx_small_spec().vocab_size) == 0);
        free(a);
        free(c);
    }
    pl_close(e2);
    skew = 2;
    e2 = NULL;
    CHECK_STATUS(pl_open(&e2, b.model, b.msize, b.tok, b.tsize, NULL, &skewed, &err), PL_ERR_ALIGNMENT, err);
    CHECK(e2 == NULL);
    skew = 4;
    skewed_pool = PL_POOL_FAST;
    CHECK_STATUS(pl_open(&e2, b.model, b.msize, b.tok, b.tsize, NULL, &skewed, &err), PL_ERR_ALIGNMENT, err);
    CHECK(strstr(err.message, "fast pool") != NULL);
    pl_close(e1);
    free_blobs(&b);
}

/* The models both core tests run: fp32 with a shared and an own
 * classifier, llama2.c's int8 with groups that fit rows and that straddle
 * them, and a PicoLlama file of int4 and int8 (types: embedding, attention,
 * ffn; NULL: the spec's own). */
typedef struct { fx_model_spec s; const char *types[3]; } weight_case;
#define WEIGHT_CASES 5
static void weight_cases(weight_case *cases) {
    for (int i = 0; i < WEIGHT_CASES; i++) {
        cases[i].s = fx_small_spec();
        cases[i].types[0] = NULL;
    }
    cases[1].s.shared_classifier = 0;
    cases[2].s.version = 2; cases[2].s.group_size = 8; cases[2].s.hidden_dim = 48;
    cases[3].s.version = 2; cases[3].s.group_size = 8; cases[3].s.hidden_dim = 44; /* straddles */
    cases[4].types[0] = "int4:8"; cases[4].types[1] = "int8:4"; cases[4].types[2] = "int4:16";
}

static void test_two_cores(void) {
    /* Two cores (a thread as the second) give every logit of every
     * position bit for bit as one core does: fp32, llama2.c's int8 with
     * groups that fit and that straddle rows (which stay on one core), and
     * PicoLlama files read through the stage or placed in SRAM. */
    weight_case cases[WEIGHT_CASES + 1];
    weight_cases(cases);
    cases[5] = cases[4];
    cases[5].s.hidden_dim = 44;
    cases[5].s.shared_classifier = 0;
    for (int i = 0; i < WEIGHT_CASES + 1; i++) {
        size_t msize = 0, tsize = 0;
        uint8_t *m = cases[i].types[0] ? fx_picollama(&cases[i].s, cases[i].types[0], cases[i].types[1],
                                                      cases[i].types[2], &msize)
                                       : fx_model(&cases[i].s, &msize);
        uint8_t *tok = cases[i].types[0] ? NULL : fx_tokenizer(cases[i].s.vocab_size, 0, &tsize);
        for (int place = 0; place < 2; place++) {
            counting c1, c2;
            pl_platform one = counting_platform(&c1), two = counting_platform(&c2);
            pl_options opt;
            pl_engine *e1 = NULL, *e2 = NULL;
            pl_error err;
            memset(&opt, 0, sizeof opt);
            opt.fast_weight_budget = place ? SIZE_MAX : 0;
            CHECK_STATUS(pl_open(&e1, m, msize, tok, tsize, &opt, &one, &err), PL_OK, err);
            opt.cores = 2;
            CHECK_STATUS(pl_open(&e2, m, msize, tok, tsize, &opt, &one, &err), PL_ERR_ARGUMENT, err);
            two.run_on_both = pl_host_run_on_both;
            CHECK_STATUS(pl_open(&e2, m, msize, tok, tsize, &opt, &two, &err), PL_OK, err);
            if (e1 && e2) {
                int vocab = cases[i].s.vocab_size, n = cases[i].s.seq_len;
                float *a = all_logits(e1, n, vocab), *b = all_logits(e2, n, vocab);
                CHECK(memcmp(a, b, sizeof(float) * (size_t)n * (size_t)vocab) == 0);
                free(a);
                free(b);
                /* and the same sampled story: the sampler's first step runs
                 * on each core's classifier rows (pl_logits_prep) */
                collector s1, s2;
                memset(&s1, 0, sizeof s1);
                memset(&s2, 0, sizeof s2);
                pl_sampling sm = pl_default_sampling();
                sm.temperature = 0.8f;
                pl_seed(e1, 7);
                pl_seed(e2, 7);
                CHECK_STATUS(pl_generate(e1, "", &sm, collect, &s1, NULL, &err), PL_OK, err);
                CHECK_STATUS(pl_generate(e2, "", &sm, collect, &s2, NULL, &err), PL_OK, err);
                CHECK(s1.pieces > 8 && strcmp(s1.text, s2.text) == 0);
                /* the second core's scratch is planned: an attention buffer and the stage */
                CHECK_EQ_INT(pl_memory(e2)->cores, 2);
                CHECK(pl_memory(e2)->stage_bytes > 0);
                CHECK(pl_memory(e2)->fast_bytes >= pl_memory(e1)->fast_bytes + pl_memory(e2)->stage_bytes);
                CHECK_EQ_INT(c2.calls, 3);
                /* work was handed to both cores */
                pl_stats st;
                CHECK_STATUS(short_story(e2, 4, &st, &err), PL_OK, err);
                CHECK(st.generate_traffic.sections > 0);
            }
            pl_close(e1);
            pl_close(e2);
        }
        free(m);
        free(tok);
    }
}

/* A background copy that lands only when it is waited for, into a stage
 * first filled with 0xFF bytes (NaNs, and -1 in int8): a block read before
 * its copy was waited for, or a copy started while one is in flight,
 * changes the logits or is counted. Like the board's stream, it reads the
 * KV cache from a memory behind a write-back cache (`behind`, stale bytes
 * until copy_written writes a range back): a write the engine does not
 * report changes the logits too. */
typedef struct {
    counting alloc; /* first: the allocator hooks take the same user */
    uint8_t *dst;
    const uint8_t *src;
    size_t n;
    int in_flight, started, overlapping, misaligned;
    uint8_t *kv, *behind; /* the KV cache's block and what the stream sees of it */
    size_t kv_bytes;
    int written, stray_writes, kv_copies;
} lazy_copier;

static int in_kv(const lazy_copier *l, const void *p, size_t n) {
    const uint8_t *b = (const uint8_t *)p;
    return l->kv && b >= l->kv && n <= l->kv_bytes && (size_t)(b - l->kv) <= l->kv_bytes - n;
}

static void lazy_written(void *user, const void *p, size_t n) {
    lazy_copier *l = (lazy_copier *)user;
    if (!in_kv(l, p, n)) {
        l->stray_writes++;
        return;
    }
    memcpy(l->behind + ((const uint8_t *)p - l->kv), p, n);
    l->written++;
}

/* The stream reads the KV cache from behind the cache: after pl_open,
 * with the block the plan's kv_cache_bytes names (the third). */
static void lazy_behind_cache(lazy_copier *l, const pl_engine *e) {
    const pl_memory_plan *plan = pl_memory(e);
    if (plan->kv_place != PL_PLACE_LARGE || l->alloc.block_size[2] != plan->kv_cache_bytes) return;
    l->kv = (uint8_t *)l->alloc.block[2];
    l->kv_bytes = plan->kv_cache_bytes;
    l->behind = (uint8_t *)malloc(l->kv_bytes);
    memset(l->behind, 0xEE, l->kv_bytes); /* stale */
}

static void lazy_start(void *user, void *dst, const void *src, size_t n) {
    lazy_copier *l = (lazy_copier *)user;
    if (l->in_flight) l->overlapping++;
    if ((uintptr_t)dst % 4u || (uintptr_t)src % 4u || n % 4u || n == 0) l->misaligned++;
    memset(dst, 0xFF, n);
    l->dst = (uint8_t *)dst;
    l->src = (const uint8_t *)src;
    if (in_kv(l, src, n)) {
        l->src = l->behind + ((const uint8_t *)src - l->kv);
        l->kv_copies++;
    }
    l->n = n;
    l->in_flight = 1;
    l->started++;
}

static void lazy_wait(void *user) {
    lazy_copier *l = (lazy_copier *)user;
    if (l->in_flight) memcpy(l->dst, l->src, l->n);
    l->in_flight = 0;
}

static void test_classifier_head(void) {
    /* A classifier that does not fit the large pool whole leaves its first
     * rows there (classifier_rows_large): read from the copy and the rest
     * in place, with the CPU or a background copy, on one core or two,
     * every logit of every position is the in-place engine's, for every
     * type, with a classifier of its own and the embedding's. The budgets:
     * up to all the weights in 64 steps, the first three that split (the
     * rule takes the classifier whole where that fills the pool better). */
    weight_case cases[WEIGHT_CASES];
    int splits = 0;
    weight_cases(cases);
    for (int i = 0; i < WEIGHT_CASES; i++) {
        size_t msize = 0, tsize = 0;
        cases[i].s.shared_classifier = i % 2; /* a classifier of its own, and the embedding's */
        uint8_t *m = cases[i].types[0] ? fx_picollama(&cases[i].s, cases[i].types[0], cases[i].types[1],
                                                      cases[i].types[2], &msize)
                                       : fx_model(&cases[i].s, &msize);
        uint8_t *tok = cases[i].types[0] ? NULL : fx_tokenizer(cases[i].s.vocab_size, 0, &tsize);
        int vocab = cases[i].s.vocab_size, n = cases[i].s.seq_len;
        counting c0;
        pl_platform plain = counting_platform(&c0);
        pl_engine *e0 = NULL;
        pl_model_info info;
        pl_error err;
        CHECK_STATUS(pl_model_inspect(m, msize, &info, &err), PL_OK, err);
        CHECK_STATUS(pl_open(&e0, m, msize, tok, tsize, NULL, &plain, &err), PL_OK, err);
        float *want = e0 ? all_logits(e0, n, vocab) : NULL;
        size_t others = 0; /* every other tensor the rule can move, as a pool holds it */
        for (int id = 0; id < PL_TENSOR_COUNT; id++)
            if (id != PL_TENSOR_WCLS && id != PL_TENSOR_EMBEDDING) others += (info.tensors[id].bytes + 7u) & ~(size_t)7u;
        for (int k = 1, here = 0; k <= 64 && want && here < 3; k++) {
            pl_options opt;
            pl_memory_plan plan;
            memset(&opt, 0, sizeof opt);
            opt.large_weight_budget = (others + info.tensors[PL_TENSOR_WCLS].bytes) * (size_t)k / 64u;
            CHECK_STATUS(pl_plan_memory(m, msize, tok, tsize, &opt, &plan, &err), PL_OK, err);
            int head = plan.classifier_rows_large;
            if (!head) continue;
            splits++;
            here++;
            CHECK(head % 4 == 0 && head < info.tensors[PL_TENSOR_WCLS].rows);
            CHECK_EQ_INT(plan.tensor_place[PL_TENSOR_WCLS], PL_PLACE_IN_PLACE);
            CHECK(plan.weight_bytes[PL_PLACE_LARGE] <= opt.large_weight_budget);
            for (int v = 0; v < 4; v++) {
                lazy_copier l;
                pl_platform p = counting_platform(&l.alloc);
                pl_engine *e = NULL;
                memset((uint8_t *)&l + sizeof l.alloc, 0, sizeof l - sizeof l.alloc);
                l.alloc.fail_pool = -1;
                if (v & 1) {
                    p.copy_start = lazy_start;
                    p.copy_wait = lazy_wait;
                    p.copy_written = lazy_written;
                }
                if (v & 2) p.run_on_both = pl_host_run_on_both;
                opt.cores = v & 2 ? 2 : 1;
                opt.stream_weights = v & 1;
                CHECK_STATUS(pl_open(&e, m, msize, tok, tsize, &opt, &p, &err), PL_OK, err);
                if (!e) continue;
                if (v & 1) lazy_behind_cache(&l, e);
                CHECK_EQ_INT(pl_memory(e)->classifier_rows_large, head);
                float *got = all_logits(e, n, vocab);
                CHECK(memcmp(want, got, sizeof(float) * (size_t)n * (size_t)vocab) == 0);
                CHECK_EQ_INT(e->state.cores.cpu_copied, 0);
                free(got);
                free(l.behind);
                pl_close(e);
            }
        }
        free(want);
        pl_close(e0);
        free(m);
        free(tok);
    }
    CHECK(splits >= 4);
}

static void test_streaming(void) {
    /* Streamed through two stages, with the CPU copying or a background
     * copy, on one core or two, with blocks of a whole layer or of a few
     * rows: every logit of every position bit for bit as the tensors read
     * where they are, for every weight type (groups that straddle rows are
     * read in place), in place, in the large pool or some in SRAM; the KV cache, in the
     * large pool, through the stages too, each write reported (and one not
     * reported is caught). */
    int kv_streamed = 0;
    weight_case cases[WEIGHT_CASES];
    weight_cases(cases);
    cases[4].s.hidden_dim = 44; /* odd int4 groups a row: scales end mid-word */
    cases[4].s.shared_classifier = 0;
    cases[0].s.dim = 32; /* one query head a KV head, 8 wide: two cores split its positions and dimensions */
    cases[0].s.n_kv_heads = cases[0].s.n_heads;
    for (int i = 0; i < WEIGHT_CASES; i++) {
        size_t msize = 0, tsize = 0;
        uint8_t *m = cases[i].types[0] ? fx_picollama(&cases[i].s, cases[i].types[0], cases[i].types[1],
                                                      cases[i].types[2], &msize)
                                       : fx_model(&cases[i].s, &msize);
        uint8_t *tok = cases[i].types[0] ? NULL : fx_tokenizer(cases[i].s.vocab_size, 0, &tsize);
        int vocab = cases[i].s.vocab_size, n = cases[i].s.seq_len;
        for (int place = 0; place < 3; place++) {
            counting c0;
            pl_platform plain = counting_platform(&c0);
            pl_options opt;
            pl_engine *e0 = NULL;
            pl_error err;
            memset(&opt, 0, sizeof opt);
            opt.large_weight_budget = place == 1 ? SIZE_MAX : 0;
            /* some tensors in SRAM: a product there streams the next one's first block */
            opt.fast_weight_budget = place == 2 ? msize / 3 : 0;
            CHECK_STATUS(pl_open(&e0, m, msize, tok, tsize, &opt, &plain, &err), PL_OK, err);
            float *want = e0 ? all_logits(e0, n, vocab) : NULL;
            for (int v = 0; v < 16 && want; v++) {
                int background = v & 1, cores = v & 2 ? 2 : 1, reports = !(v & 8);
                lazy_copier l;
                pl_platform p = counting_platform(&l.alloc);
                pl_engine *e = NULL;
                memset((uint8_t *)&l + sizeof l.alloc, 0, sizeof l - sizeof l.alloc);
                l.alloc.fail_pool = -1;
                if (background) {
                    p.copy_start = lazy_start;
                    p.copy_wait = lazy_wait;
                    if (reports) p.copy_written = lazy_written;
                }
                if (cores == 2) p.run_on_both = pl_host_run_on_both;
                opt.cores = cores;
                opt.stream_weights = 1;
                opt.stage_bytes = v & 4 ? 224 : 0; /* a few rows a block (7 of w2's int4 rows, 6 bytes of scales each), or a layer */
                CHECK_STATUS(pl_open(&e, m, msize, tok, tsize, &opt, &p, &err), PL_OK, err);
                if (!e) continue;
                if (background) lazy_behind_cache(&l, e);
                CHECK_EQ_INT(pl_memory(e)->stream_weights, 1);
                CHECK(pl_memory(e)->stage_bytes >= 2 * (opt.stage_bytes ? 224 : 64));
                CHECK(pl_memory(e)->fast_bytes >= pl_memory(e0)->fast_bytes + pl_memory(e)->stage_bytes);
                float *got = all_logits(e, n, vocab);
                int same = memcmp(want, got, sizeof(float) * (size_t)n * (size_t)vocab) == 0;
                CHECK(l.kv_copies && !reports ? !same : same); /* stale keys: huge scores */
                free(got);
                free(l.behind);
                if (l.kv_copies && reports) CHECK(l.written > 0);
                kv_streamed += l.kv_copies > 0;
                CHECK_EQ_INT(l.stray_writes, 0);
                CHECK_EQ_INT(l.overlapping, 0);
                CHECK_EQ_INT(l.misaligned, 0);
                CHECK_EQ_INT(l.in_flight, 0);
                if (background) CHECK(l.started > 0); /* the copies went to the platform */
                CHECK_EQ_INT(e->state.cores.cpu_copied, 0); /* all of them: every span on words */
                pl_close(e);
            }
            free(want);
            pl_close(e0);
        }
        free(m);
        free(tok);
    }
    CHECK(kv_streamed > 0);
    /* the background copy comes as a pair */
    {
        fx_model_spec s = fx_small_spec();
        size_t msize = 0, tsize = 0;
        uint8_t *m = fx_model(&s, &msize), *tok = fx_tokenizer(s.vocab_size, 0, &tsize);
        lazy_copier l;
        pl_platform p = counting_platform(&l.alloc);
        pl_engine *e = NULL;
        pl_error err;
        p.copy_start = lazy_start;
        CHECK_STATUS(pl_open(&e, m, msize, tok, tsize, NULL, &p, &err), PL_ERR_ARGUMENT, err);
        CHECK(strstr(err.message, "copy_wait") != NULL);
        CHECK(e == NULL);
        /* every matrix in SRAM: nothing to stream, no stages */
        {
            pl_options opt;
            pl_memory_plan plan;
            memset(&opt, 0, sizeof opt);
            opt.stream_weights = 1;
            opt.fast_weight_budget = SIZE_MAX;
            opt.kv_cache_fast = 1;
            CHECK_STATUS(pl_plan_memory(m, msize, tok, tsize, &opt, &plan, &err), PL_OK, err);
            CHECK_EQ_INT(plan.stream_weights, 0);
            CHECK_EQ_INT((int)plan.stage_bytes, 0);
            /* the KV cache outside SRAM is streamed: stages */
            opt.kv_cache_fast = 0;
            CHECK_STATUS(pl_plan_memory(m, msize, tok, tsize, &opt, &plan, &err), PL_OK, err);
            CHECK_EQ_INT(plan.stream_weights, 1);
            CHECK(plan.stage_bytes > 0);
            opt.fast_weight_budget = 0;
            CHECK_STATUS(pl_plan_memory(m, msize, tok, tsize, &opt, &plan, &err), PL_OK, err);
            CHECK_EQ_INT(plan.stream_weights, 1);
            CHECK(plan.stage_bytes > 0);
        }
        free(m);
        free(tok);
    }
}

int main(void) {
    test_pool_alignment();
    test_two_cores();
    test_streaming();
    test_classifier_head();
    test_placement();
    test_kv_positions();
    test_tokenizer_inside();
    test_memory_plan();
    test_alignment();
    test_int8_group_sizes();
    test_generation();
    test_stops_on_bos();
    return pl_test_report("test_engine");
}
