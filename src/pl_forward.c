/*
 * The Llama-2 forward pass for one token at one position: RMSNorm, rotary
 * position embeddings, grouped-query attention over the KV cache, SwiGLU
 * feed-forward, classifier. Reads the weights in place; writes only the
 * buffers carved at open.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

#include <math.h> /* sqrtf: IEEE, correctly rounded everywhere */
#include <string.h>

void pl_state_layout(pl_state *s, const pl_model_info *p, int positions, const pl_memory_plan *plan,
                     pl_arena *fast, pl_arena *kv) {
    uint64_t dim = (uint64_t)p->dim, hidden = (uint64_t)p->hidden_dim;
    uint64_t kv_dim = dim * (uint64_t)p->n_kv_heads / (uint64_t)p->n_heads;
    uint64_t half_head = dim / (uint64_t)p->n_heads / 2u;
    uint64_t cache = (uint64_t)p->n_layers * (uint64_t)positions * kv_dim;
    const uint64_t f = sizeof(float);

    if (fast) { /* per-token vectors: SRAM on the board */
        s->x = pl_arena_take(fast, dim * f);
        s->xb = pl_arena_take(fast, dim * f);
        s->xb2 = pl_arena_take(fast, dim * f);
        s->q = pl_arena_take(fast, dim * f);
        s->hb = pl_arena_take(fast, hidden * f);
        s->hb2 = pl_arena_take(fast, hidden * f);
        /* scores of the query heads that share a KV head (attention_heads) */
        uint64_t scores = (uint64_t)positions * (uint64_t)(p->n_heads / p->n_kv_heads) * f;
        s->att = pl_arena_take(fast, scores);
        s->logits = pl_arena_take(fast, (uint64_t)p->vocab_size * f);
        s->rope_freq = pl_arena_take(fast, half_head * f);
        s->rope_cos = pl_arena_take(fast, half_head * f);
        s->rope_sin = pl_arena_take(fast, half_head * f);
        s->k_new = pl_arena_take(fast, kv_dim * f);
        s->v_new = pl_arena_take(fast, kv_dim * f);
        int stages = plan->stream_weights ? 2 : plan->cores == 2 ? 1 : 0;
        if (plan->cores == 2) /* the second core's attention scores */
            s->att1 = pl_arena_take(fast, scores);
        /* the stages for rows of tensors outside SRAM: one for two cores,
         * two when streaming (pl_cores.c) */
        s->cores.stage_bytes = stages ? plan->stage_bytes / (size_t)stages : 0;
        s->cores.stage[0] = stages > 0 ? pl_arena_take(fast, s->cores.stage_bytes) : NULL;
        s->cores.stage[1] = stages > 1 ? pl_arena_take(fast, s->cores.stage_bytes) : NULL;
        if (p->group_size > 0) { /* int8 inputs: one scratch serves every product */
            uint64_t n = dim > hidden ? dim : hidden, gs = (uint64_t)p->group_size;
            s->in.q8_values = pl_arena_take(fast, n);
            s->in.q8_scales = pl_arena_take(fast, (n + gs - 1u) / gs * f);
            s->in.q8_wide = pl_arena_take(fast, PLK_Q8_WIDE_BYTES(n));
        }
    }
    if (kv) { /* KV cache: PSRAM on the board, or SRAM when it fits */
        s->key_cache = pl_arena_take(kv, cache * f);
        s->value_cache = pl_arena_take(kv, cache * f);
        s->kv_positions = positions;
    }
}

void pl_state_init(pl_state *s, const pl_model_info *p) {
    int head_size = p->dim / p->n_heads;
    /* run.c recomputes this power for every pair of every layer of every
     * token; it depends only on the pair's place in the head. */
    for (int i = 0; i < head_size; i += 2)
        s->rope_freq[i / 2] = 1.0f / pl_pow10000f((float)i / (float)head_size);
}

/* Rotates pairs (v[i], v[i+1]) of each head by the position's angles. */
static void rope_rotate(float *v, int size, int head_size, const float *cos_t,
                        const float *sin_t) {
    for (int i = 0; i < size; i += 2) {
        int k = (i % head_size) / 2;
        float fcr = cos_t[k], fci = sin_t[k];
        float v0 = v[i], v1 = v[i + 1];
        v[i] = v0 * fcr - v1 * fci;
        v[i + 1] = v0 * fci + v1 * fcr;
    }
}

static void accumulate(float *a, const float *b, int size) {
    for (int i = 0; i < size; i++) a[i] += b[i];
}

/* The KV cache keeps each head's keys (and values) for successive positions
 * side by side: [layers][kv_heads][positions][head_size]. A head's attention
 * then reads its keys as one run in address order, which on the board is one
 * QSPI burst from PSRAM where run.c's [layers][positions][kv_dim] starts a
 * new burst every head_size floats. PL_RUNC_READ_ORDER keeps run.c's layout
 * (the board model's anchors). The same values either way, so the same sums. */
static size_t kv_offset(const pl_model_info *p, const pl_state *s, int layer, int kv_head,
                        int pos) {
    size_t head_size = (size_t)(p->dim / p->n_heads), kv_heads = (size_t)p->n_kv_heads;
    size_t positions = (size_t)s->kv_positions;
#if defined(PL_RUNC_READ_ORDER)
    return (((size_t)layer * positions + (size_t)pos) * kv_heads + (size_t)kv_head) * head_size;
#else
    return (((size_t)layer * kv_heads + (size_t)kv_head) * positions + (size_t)pos) * head_size;
#endif
}

/* Floats from one position's key of a head to the next one's. */
static size_t kv_position_stride(const pl_model_info *p) {
    size_t head_size = (size_t)(p->dim / p->n_heads);
#if defined(PL_RUNC_READ_ORDER)
    return head_size * (size_t)p->n_kv_heads;
#else
    return head_size;
#endif
}

/* Files this position's keys and values (k_new, v_new) head by head; a
 * cache the background copies read is told of each write (copy_written:
 * on the board the stream reads PSRAM around the XIP cache). */
static void kv_store(const pl_model_info *p, pl_state *s, int layer, int pos) {
    const pl_platform *platform = s->cores.platform;
    size_t head_size = (size_t)(p->dim / p->n_heads), bytes = head_size * sizeof(float);
    for (int h = 0; h < p->n_kv_heads; h++) {
        size_t at = kv_offset(p, s, layer, h, pos);
        memcpy(s->key_cache + at, s->k_new + (size_t)h * head_size, bytes);
        memcpy(s->value_cache + at, s->v_new + (size_t)h * head_size, bytes);
        if (s->kv_streaming && platform->copy_written) {
            platform->copy_written(platform->user, s->key_cache + at, bytes);
            platform->copy_written(platform->user, s->value_cache + at, bytes);
        }
    }
}

/* Positions a run of the KV cache holds: PL_KV_RUN_BYTES of one head's keys
 * (or values). The query heads that share a KV head read a run each before
 * the next run starts, so the run is read from PSRAM once and then from the
 * 16 KB XIP cache, where one query head after another over the whole cache
 * would read it from PSRAM kv_mul times once it outgrows the cache. */
#define PL_KV_RUN_BYTES 4096u

static int kv_run_positions(const pl_model_info *p) {
    unsigned head_bytes = (unsigned)(p->dim / p->n_heads) * (unsigned)sizeof(float);
    unsigned run = PL_KV_RUN_BYTES / head_bytes;
    return run > 0u ? (int)run : 1;
}

/* Heads [h0, h1) of one layer's attention at pos, a KV head's query heads
 * together, with att as scratch (kv_mul rows of kv_positions scores). Each
 * score depends on its own position only, softmax sees the whole row, and
 * mix adds the runs in position order: run.c's sums, to the bit. */
PL_HOT static void attention_heads(const pl_model_info *p, pl_state *s, int layer, int pos,
                                   int h0, int h1, float *att) {
    int head_size = p->dim / p->n_heads;
    int kv_mul = p->n_heads / p->n_kv_heads;
    int n = pos + 1, run = kv_run_positions(p);
    size_t stride = kv_position_stride(p), row = (size_t)s->kv_positions;
    float scale_div = plk_sqrtf((float)head_size);

    for (int first = h0; first < h1;) {
        int g = first / kv_mul, last = (g + 1) * kv_mul < h1 ? (g + 1) * kv_mul : h1;
        size_t head_start = kv_offset(p, s, layer, g, 0);
        const float *keys = s->key_cache + head_start, *values = s->value_cache + head_start;
        for (int t0 = 0; t0 < n; t0 += run) {
            int m = n - t0 < run ? n - t0 : run;
            for (int h = first; h < last; h++)
                plk_attention_scores(att + (size_t)(h - first) * row + t0, s->q + h * head_size,
                                     keys + (size_t)t0 * stride, stride, m, head_size, scale_div);
        }
        for (int h = first; h < last; h++) {
            float *out = s->xb + h * head_size;
            plk_softmax(att + (size_t)(h - first) * row, n);
            for (int i = 0; i < head_size; i++) out[i] = 0.0f;
        }
        for (int t0 = 0; t0 < n; t0 += run) {
            int m = n - t0 < run ? n - t0 : run;
            for (int h = first; h < last; h++)
                plk_attention_mix(s->xb + h * head_size, att + (size_t)(h - first) * row + t0,
                                  values + (size_t)t0 * stride, stride, m, head_size);
        }
        first = last;
    }
}

#if !defined(PL_RUNC_READ_ORDER)
/* Attention with the KV cache outside SRAM read by background copies
 * (pl_state.kv_streaming). For each KV head its key runs, then its value
 * runs, are copied into a ring of slots cut from the stage no product is
 * using, up to PL_KV_SLOTS - 1 runs ahead of the kernels, so the bus
 * streams the cache while the cores compute: the cheap scores of a run of
 * keys wait for the bus, and the copies queued meanwhile feed the softmax
 * and the mixing, which take longer than their bytes. A copy starts at
 * fixed points of the work (before each run, between heads' softmaxes),
 * so what runs does not depend on how fast copies land. The kernels see
 * the same values in the same order as attention_heads: the same bits. */
#define PL_KV_SLOTS 4

typedef struct {
    const pl_model_info *p;
    pl_state *s;
    int layer, n, run, runs, copies, issued, slots;
    int at; /* the run being computed */
    size_t head_bytes;
    float *slot[PL_KV_SLOTS];
} kv_stream;

/* Starts the next copy if its slot is free (runs before `free_before` are
 * done with); it first waits for the copy in flight. */
static void kv_issue(kv_stream *k, int free_before) {
    int i = k->issued, g, j, t0, m;
    if (i >= k->copies || i >= free_before + k->slots) return;
    g = i / (2 * k->runs);
    j = i % (2 * k->runs);
    t0 = (j % k->runs) * k->run;
    m = k->n - t0 < k->run ? k->n - t0 : k->run;
    pl_cores_copy_start(&k->s->cores, k->slot[i % k->slots],
                        (j < k->runs ? k->s->key_cache : k->s->value_cache) + kv_offset(k->p, k->s, k->layer, g, t0),
                        (size_t)m * k->head_bytes);
    k->issued++;
}

/* Run i's slot once its copy has landed. */
static const float *kv_landed(kv_stream *k, int i) {
    if (k->issued == i) kv_issue(k, i);
    if (k->issued == i + 1) pl_cores_copy_wait(&k->s->cores); /* a later start would have waited for it */
    kv_issue(k, i);
    return k->slot[i % k->slots];
}

/* One run's kernels, each core's share: query heads [h0, h1) of the run's
 * KV head, and of each, scores for positions [p0, p1) of a key run or the
 * mix of dimensions [d0, d1) of a value run, after the first value run's
 * softmax (`softmax`). Any cut computes each score, and each output's
 * sum, whole and in order. */
typedef struct {
    kv_stream *k;
    const float *data;
    int first, values, t0, m, softmax;
    int h0[2], h1[2], p0[2], p1[2], d0[2], d1[2];
} kv_run_job;

static void kv_run_share(void *arg, int core) {
    const kv_run_job *j = (const kv_run_job *)arg;
    const pl_model_info *p = j->k->p;
    pl_state *s = j->k->s;
    int head_size = p->dim / p->n_heads;
    int p0 = j->p0[core], p1 = j->p1[core], d0 = j->d0[core], d1 = j->d1[core];
    size_t row = (size_t)s->kv_positions, hs = (size_t)head_size;
    for (int h = j->h0[core]; h < j->h1[core]; h++) {
        float *att = s->att + (size_t)(h - j->first) * row, *out = s->xb + (size_t)h * hs;
        if (!j->values) {
            if (p1 > p0)
                plk_attention_scores(att + j->t0 + p0, s->q + (size_t)h * hs, j->data + (size_t)p0 * hs, hs,
                                     p1 - p0, head_size, plk_sqrtf((float)head_size));
            continue;
        }
        if (j->softmax) {
            plk_softmax(att, j->k->n);
            for (int d = 0; d < head_size; d++) out[d] = 0.0f;
            if (!s->cores.two_cores) kv_issue(j->k, j->k->at); /* the softmax is long: keep the bus busy */
        }
        if (d1 > d0) plk_attention_mix(out + d0, att + j->t0, j->data + d0, hs, j->m, d1 - d0);
    }
}

/* Returns 0 when a slot cannot take one position (the caller reads the
 * cache where it is). On two cores each run is split: a KV head's query
 * heads between the cores, or, with one query head a KV head, a key run's
 * positions and a value run's dimensions (its softmax on core 0 before);
 * core 0 starts the copies, outside the shares. Both cores' scores rows
 * are in att (a KV head's kv_mul rows). */
static int attention_streamed(const pl_model_info *p, pl_state *s, int layer, int pos) {
    int head_size = p->dim / p->n_heads, kv_mul = p->n_heads / p->n_kv_heads;
    size_t slot_bytes = 0;
    uint8_t *stage = pl_cores_free_stage(&s->cores);
    kv_stream k;
    k.p = p;
    k.s = s;
    k.layer = layer;
    k.n = pos + 1;
    k.head_bytes = (size_t)head_size * sizeof(float);
    for (k.slots = PL_KV_SLOTS; k.slots >= 2; k.slots /= 2) { /* fewer, larger slots in a small stage */
        slot_bytes = s->cores.stage_bytes / (size_t)k.slots & ~(size_t)7u;
        if (slot_bytes >= k.head_bytes) break;
    }
    if (k.slots < 2) return 0;
    for (int i = 0; i < k.slots; i++) k.slot[i] = (float *)(void *)(stage + (size_t)i * slot_bytes);
    k.run = (int)(slot_bytes / k.head_bytes);
    k.runs = (k.n + k.run - 1) / k.run;
    k.copies = p->n_kv_heads * 2 * k.runs;
    k.issued = 0;
    for (int i = 0; i < k.copies; i++) {
        kv_run_job j;
        int jj = i % (2 * k.runs), split_heads = kv_mul > 1;
        j.k = &k;
        j.first = i / (2 * k.runs) * kv_mul;
        j.values = jj >= k.runs;
        j.t0 = (jj % k.runs) * k.run;
        j.m = k.n - j.t0 < k.run ? k.n - j.t0 : k.run;
        j.softmax = j.values && j.t0 == 0;
        j.data = kv_landed(&k, i);
        k.at = i;
        /* one core: all of it in share 0 */
        j.h0[0] = j.first;
        j.h1[0] = j.first + kv_mul;
        j.p0[0] = j.d0[0] = 0;
        j.p1[0] = j.m;
        j.d1[0] = head_size;
        if (!s->cores.two_cores) {
            kv_run_share(&j, 0);
            continue;
        }
        j.h0[1] = j.h1[1] = j.h1[0];
        j.p0[1] = j.p1[1] = j.m;
        j.d0[1] = j.d1[1] = head_size;
        if (split_heads) { /* whole heads each */
            j.h1[0] = j.h0[1] = j.first + kv_mul / 2;
            j.h1[1] = j.first + kv_mul;
            j.p0[1] = j.d0[1] = 0;
            j.p1[1] = j.m;
        } else { /* the one head on both cores: halves of its positions or dimensions */
            j.h0[1] = j.h0[0];
            if (j.values) j.d1[0] = j.d0[1] = (head_size / 2 + 3) & ~3;
            else j.p1[0] = j.p0[1] = j.m / 2;
            if (j.softmax) { /* whole before either core mixes */
                plk_softmax(s->att, k.n);
                for (int d = 0; d < head_size; d++) s->xb[(size_t)j.first * (size_t)head_size + (size_t)d] = 0.0f;
                j.softmax = 0;
            }
        }
        pl_cores_run(&s->cores, kv_run_share, &j);
    }
    return 1;
}
#endif

typedef struct {
    const pl_model_info *p;
    pl_state *s;
    int layer;
    int pos;
} attention_job;

/* The first half of the heads on core 0, the rest on core 1, each with its
 * own scores buffer. */
static void attention_half(void *arg, int core) {
    const attention_job *j = (const attention_job *)arg;
    int half = j->p->n_heads / 2;
    if (core == 0) attention_heads(j->p, j->s, j->layer, j->pos, 0, half, j->s->att);
    else attention_heads(j->p, j->s, j->layer, j->pos, half, j->p->n_heads,
                         j->s->att1 ? j->s->att1 : j->s->att);
}

/* Attention on both cores only when the KV cache is in SRAM: from PSRAM,
 * two cores reading different heads' keys would break the bus's bursts,
 * so one core reads them, as one stream. */
static void attention(const pl_model_info *p, pl_state *s, int layer, int pos) {
    attention_job j;
#if !defined(PL_RUNC_READ_ORDER)
    if (s->kv_streaming && attention_streamed(p, s, layer, pos)) return;
#endif
    if (!s->kv_in_sram) {
        attention_heads(p, s, layer, pos, 0, p->n_heads, s->att);
        return;
    }
    j.p = p;
    j.s = s;
    j.layer = layer;
    j.pos = pos;
    pl_cores_run(&s->cores, attention_half, &j);
}

/* SwiGLU is elementwise: on two cores each takes half of the hidden
 * vector (pl_cores_split_point's), the same bits as one core. */
typedef struct {
    float *hb;
    const float *hb2;
    int n, mid;
} swiglu_job;

static void swiglu_half(void *arg, int core) {
    const swiglu_job *j = (const swiglu_job *)arg;
    int a = core ? j->mid : 0, b = core ? j->n : j->mid;
    if (b > a) plk_swiglu(j->hb + a, j->hb2 + a, b - a);
}

static void swiglu(pl_state *s, int hidden) {
    swiglu_job j;
    if (!s->cores.two_cores) {
        plk_swiglu(s->hb, s->hb2, hidden);
        return;
    }
    j.hb = s->hb;
    j.hb2 = s->hb2;
    j.n = hidden;
    j.mid = pl_cores_split_point(hidden);
    pl_cores_run(&s->cores, swiglu_half, &j);
}

float *pl_transformer_forward(const pl_model_info *p, const pl_weights *w,
                              pl_state *s, int token, int pos, const pl_rows_done *logits_done) {
    int dim = p->dim, hidden = p->hidden_dim, head_size = dim / p->n_heads;
    int kv_dim = dim / p->n_heads * p->n_kv_heads;
    float *x = s->x;
    pl_input *in = &s->in;

    /* runq.c dequantizes the whole table; one row is all a token needs */
    pl_wtypes[w->embedding.type].read_row(x, &w->embedding, token);

    /* The angles depend on the position and the pair only: once per token. */
    for (int k = 0; k < head_size / 2; k++)
        pl_sincosf((float)pos * s->rope_freq[k], &s->rope_sin[k], &s->rope_cos[k]);

    for (int l = 0; l < p->n_layers; l++) {
        plk_rmsnorm(s->xb, x, w->rms_att + (size_t)l * (size_t)dim, dim);
        pl_input_set(in, s->xb, dim);
        pl_linear(&s->cores, s->q, in, &w->wq, l, &w->wk, l);
        pl_linear(&s->cores, s->k_new, in, &w->wk, l, &w->wv, l);
        pl_linear(&s->cores, s->v_new, in, &w->wv, l, &w->wo, l); /* wo's first block beside attention */
        rope_rotate(s->q, dim, head_size, s->rope_cos, s->rope_sin);
        rope_rotate(s->k_new, kv_dim, head_size, s->rope_cos, s->rope_sin);
        kv_store(p, s, l, pos);

        attention(p, s, l, pos);
        pl_input_set(in, s->xb, dim);
        pl_linear(&s->cores, s->xb2, in, &w->wo, l, &w->w1, l);
        accumulate(x, s->xb2, dim);

        plk_rmsnorm(s->xb, x, w->rms_ffn + (size_t)l * (size_t)dim, dim);
        pl_input_set(in, s->xb, dim);
        pl_linear(&s->cores, s->hb, in, &w->w1, l, &w->w3, l);
        pl_linear(&s->cores, s->hb2, in, &w->w3, l, &w->w2, l);
        swiglu(s, hidden);
        pl_input_set(in, s->hb, hidden);
        pl_linear(&s->cores, s->xb, in, &w->w2, l,
                  l + 1 < p->n_layers ? &w->wq : w->wcls_head.rows ? &w->wcls_head : &w->wcls,
                  l + 1 < p->n_layers ? l + 1 : 0);
        accumulate(x, s->xb, dim);
    }

    plk_rmsnorm(x, x, w->rms_final, dim);
    pl_input_set(in, x, dim);
    s->cores.rows_done = logits_done;
    if (w->wcls_head.rows) { /* its first rows from their copy, the rest where they are */
        pl_linear(&s->cores, s->logits, in, &w->wcls_head, 0, NULL, 0);
        pl_linear_rows(&s->cores, s->logits, in, &w->wcls, 0, w->wcls_head.rows, NULL, 0);
    } else {
        pl_linear(&s->cores, s->logits, in, &w->wcls, 0, NULL, 0);
    }
    s->cores.rows_done = NULL;
    return s->logits;
}
