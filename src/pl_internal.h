/*
 * Internal structures shared by the engine's source files. Not part of the
 * public API: sketches and tools include picollama.h only.
 */
#ifndef PL_INTERNAL_H
#define PL_INTERNAL_H

#include "picollama.h"

#include <stdarg.h>
#include <string.h>

/* ---- placement --------------------------------------------------------- */

/* Hot kernels run from RAM on the RP2350: code fetched from flash competes
 * with the weights for the 16 KB XIP cache. pico-sdk's linker script copies
 * .time_critical.* sections to SRAM at boot (what __not_in_flash_func does);
 * elsewhere the attribute is left out. */
#if defined(ARDUINO_ARCH_RP2040) && !defined(PL_NO_RAM_FUNCS)
#define PL_HOT __attribute__((section(".time_critical.picollama"), noinline))
#else
#define PL_HOT
#endif

/* ---- errors (pl_status.c) ---------------------------------------------- */

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so a failure reads `return pl_fail(err, PL_ERR_X, "...")`. */
pl_status pl_fail(pl_error *err, pl_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void pl_clear_error(pl_error *err);

/* ---- unaligned little-endian reads (tokenizer records are unaligned) --- */

static inline int32_t pl_read_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline float pl_read_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* ---- bump arena: one allocation per pool, carved at open ---------------- */

/* With base == NULL the arena only measures: the same layout code computes
 * the memory plan and then carves the real pools, so they cannot disagree. */
typedef struct {
    uint8_t *base;
    uint64_t used; /* 64-bit: a hostile config cannot wrap it on a 32-bit MCU */
} pl_arena;

void *pl_arena_take(pl_arena *arena, uint64_t size);

/* ---- model (pl_model.c) ------------------------------------------------ */

/* One weight matrix per layer, read in place: layer l's starts at
 * base + l * stride. fp32 values (versions 0 and 1), or int8 values followed
 * by one fp32 scale per group of group_size values (version 2, runq.c's
 * layout). */
typedef struct {
    const uint8_t *base;
    size_t stride; /* bytes from one layer's matrix to the next */
    size_t numel;  /* values per layer */
} pl_matrices;

typedef struct {
    int quantized;  /* version 2 */
    int group_size;
    const float *rms_att;   /* [layers][dim] */
    const float *rms_ffn;   /* [layers][dim] */
    const float *rms_final; /* [dim] */
    pl_matrices embedding;  /* [vocab][dim], one "layer" */
    pl_matrices wq, wk, wv, wo; /* [dim][dim], [kv_dim][dim] x 2, [dim][dim] */
    pl_matrices w1, w2, w3;     /* [hidden][dim], [dim][hidden], [hidden][dim] */
    pl_matrices wcls;           /* [vocab][dim]: the embedding when shared */
} pl_weights;

static inline const float *pl_f32_of(const pl_matrices *m, int layer) {
    return (const float *)(const void *)(m->base + (size_t)layer * m->stride);
}
static inline const int8_t *pl_q8_of(const pl_matrices *m, int layer) {
    return (const int8_t *)(m->base + (size_t)layer * m->stride);
}
static inline const float *pl_q8_scales_of(const pl_matrices *m, int layer) {
    return (const float *)(const void *)(m->base + (size_t)layer * m->stride + m->numel);
}

/* Points w at the tensors of a validated checkpoint. */
pl_status pl_model_map_weights(const void *model, const pl_model_info *info,
                               pl_weights *w, pl_error *err);

/* ---- forward pass (pl_forward.c) --------------------------------------- */

typedef struct {
    float *x, *xb, *xb2;      /* [dim] residual stream and branch buffers */
    float *hb, *hb2;          /* [hidden] feed-forward */
    float *q;                 /* [dim] */
    float *att;               /* [seq_len] scores of one head */
    float *logits;            /* [vocab] */
    float *rope_freq;         /* [head_size/2] fixed at open */
    int8_t *xq, *hq;          /* [dim], [hidden] quantized inputs (version 2) */
    float *xq_scales, *hq_scales; /* one per group */
    float *rope_cos, *rope_sin; /* [head_size/2] for the current position */
    float *key_cache;         /* [layers][seq_len][kv_dim] (large pool) */
    float *value_cache;       /* [layers][seq_len][kv_dim] (large pool) */
} pl_state;

/* Carves the per-token vectors from fast and the KV cache from large (either
 * may be NULL to lay out only the other; measure-only without a base). */
void pl_state_layout(pl_state *s, const pl_model_info *info, pl_arena *fast,
                     pl_arena *large);
void pl_state_init(pl_state *s, const pl_model_info *info);
float *pl_transformer_forward(const pl_model_info *p, const pl_weights *w,
                              pl_state *s, int token, int pos);

/* ---- tokenizer (pl_tokenizer.c) ---------------------------------------- */

typedef struct {
    const uint8_t *blob;
    size_t size;
    int vocab_size;          /* entries used: the model's vocabulary */
    int max_token_length;
    int nul_terminated;      /* the "tokenizer0" variant (and the indexed one) */
    int index_in_place;      /* offsets and sorted point into the blob */
    size_t records_offset;   /* where the token records start */
    size_t used_size;        /* bytes up to the end of the last record used */
    size_t max_piece_len;    /* longest piece actually present */
    uint32_t *offsets;       /* [vocab] offset of each piece's bytes */
    uint16_t *sorted;        /* [vocab] ids in (piece, id) order */
    char *piece_buf;         /* [max_piece_len + 1] NUL-terminated copy */
    int32_t *scratch_tokens; /* prompt scratch: tokens, pair ids, pair scores */
    int32_t *scratch_pair_id;
    float *scratch_pair_score;
    size_t scratch_capacity; /* entries in each scratch array */
} pl_tokenizer;

/* Validates the blob for vocab_size entries; fills nul_terminated,
 * max_token_length and max_piece_len. Allocates nothing. */
pl_status pl_tokenizer_scan(pl_tokenizer *t, const void *blob, size_t size,
                            int vocab_size, pl_error *err);
void pl_tokenizer_layout(pl_tokenizer *t, pl_arena *fast, pl_arena *large);
void pl_tokenizer_layout_prompt(pl_tokenizer *t, size_t max_prompt_bytes,
                                pl_arena *large);
/* Fills offsets and sorts the index (after layout with real arenas). */
void pl_tokenizer_index(pl_tokenizer *t);
pl_status pl_tokenizer_encode(pl_tokenizer *t, const char *text, int add_bos,
                              int *n_tokens, pl_error *err);
const char *pl_tokenizer_decode(pl_tokenizer *t, int prev_token, int token);
/* Bytes of a piece as stored (up to its first NUL) and its score. */
const char *pl_tokenizer_piece(const pl_tokenizer *t, int id, size_t *len);
float pl_tokenizer_score(const pl_tokenizer *t, int id);

/* ---- sampler (pl_sampler.c) -------------------------------------------- */

typedef struct {
    int vocab_size;
    uint64_t rng_state;
    uint16_t *index;   /* [vocab] top-p candidates */
} pl_sampler;

void pl_sampler_layout(pl_sampler *s, int vocab_size, pl_arena *fast);
uint32_t pl_random_u32(uint64_t *state);
float pl_random_f32(uint64_t *state);
/* Picks the next token from logits (which it overwrites with probabilities
 * when temperature > 0). */
int pl_sample(pl_sampler *s, float *logits, float temperature, float topp);

/* ---- kernels (pl_kernels.c) -------------------------------------------- */

void pl_rmsnorm(float *out, const float *x, const float *weight, int size);
void pl_softmax(float *x, int size);
void pl_matmul(float *out, const float *x, const float *w, int n, int d);
void pl_swiglu(float *hb, const float *hb2, int size);
void pl_accumulate(float *a, const float *b, int size);
/* runq.c's symmetric int8 quantization of x[0..n) in groups (whole groups
 * only, as runq.c), and its grouped int8 matrix-vector product. */
void pl_quantize(int8_t *q, float *scales, const float *x, int n, int group_size);
void pl_matmul_q8(float *out, const int8_t *xq, const float *xs, const int8_t *wq,
                  const float *ws, int n, int d, int group_size);

/* ---- the engine (pl_engine.c) ------------------------------------------ */

struct pl_engine {
    pl_model_info info;
    pl_weights weights;
    pl_state state;
    pl_tokenizer tokenizer;
    pl_sampler sampler;
    pl_memory_plan plan;
    pl_platform platform;
    void *fast_pool;
    void *large_pool;
};

#endif /* PL_INTERNAL_H */
