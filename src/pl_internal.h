/*
 * Internal structures shared by the engine's source files. Not part of the
 * public API: sketches and tools include picollama.h only.
 */
#ifndef PL_INTERNAL_H
#define PL_INTERNAL_H

#include "picollama.h"
#include "pl_port.h"
#include "pl_format.h"
#include "kernels/pl_kernels.h"

#include <stdarg.h>
#include <string.h>

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

/* ---- bump arena: one per allocation, carved at open ---------------------- */

/* With base == NULL the arena only measures: the same layout code computes
 * the memory plan and then carves the real pools, so they cannot disagree. */
typedef struct {
    uint8_t *base;
    uint64_t used; /* 64-bit: a hostile config cannot wrap it on a 32-bit MCU */
} pl_arena;

void *pl_arena_take(pl_arena *arena, uint64_t size);

/* ---- weight types (pl_weights.c) ------------------------------------- */

/* How a tensor's values are stored: pl_wtype (picollama.h). Adding a type
 * is one entry in the table below, one kernel in kernels/, and its code in
 * the PicoLlama format's reader and writer. */

/* One weight tensor of `layers` equal matrices, each rows x cols (out x
 * in), read in place: layer l starts at base + l * stride. */
typedef struct {
    pl_wtype type;
    int group_size;      /* quantized types */
    int rows, cols;
    const uint8_t *base;
    size_t stride;       /* bytes from one layer to the next */
    pl_place place;      /* where base is: in place, or a copy in a pool */
} pl_tensor;

/* A matrix-vector product's input: fp32, and its int8 form once a type
 * that multiplies in int8 has asked for it (then reused by every product
 * that reads the same input with the same group size, as runq.c does). */
typedef struct {
    const float *f;
    int n;
    plk_q8_vector q8;  /* q8.group_size == 0: not quantized yet */
    int8_t *q8_values; /* scratch carved at open, [max(dim, hidden)] */
    float *q8_scales;
    uint32_t *q8_wide;
} pl_input;

/* A run of a tensor's bytes copied into a stage: `bytes` from src to
 * stage + at. */
#define PL_ROW_SPANS 2
typedef struct {
    const uint8_t *src;
    size_t at, bytes;
} pl_span;

typedef struct {
    const char *name;
    int quantized;       /* 1: groups with scales, an int8 input */
    int group_multiple;  /* a group size must be a multiple of this */
    int max_group_size;
    /* Bytes of one layer of rows x cols values (a multiple of 4). */
    uint64_t (*layer_bytes)(uint64_t rows, uint64_t cols, int group_size);
    /* Bytes read_row reads for one row. */
    uint64_t (*row_bytes)(uint64_t cols, int group_size);
    /* out[0..cols) = row `row` of layer 0, as fp32 (the embedding). */
    void (*read_row)(float *out, const pl_tensor *t, int row);
    /* The group size the kernel wants the input quantized with; 0: fp32. */
    int (*input_group_size)(const pl_tensor *t);
    /* out[r0..r1) = rows r0..r1 of layer `layer` times the input. */
    void (*matvec)(float *out, const pl_input *in, const pl_tensor *t, int layer, int r0,
                   int r1);
    /* Where rows r0..r1 of layer `layer` come from when they are copied
     * into a stage as a layer of r1 - r0 rows of the same type: at most
     * PL_ROW_SPANS runs of bytes (values, then scales), each one sequential
     * read; returns how many, or 0 if this tensor's layout cannot be cut at
     * rows (groups that straddle rows). */
    int (*row_spans)(const pl_tensor *t, int layer, int r0, int r1, pl_span *spans);
} pl_wtype_traits;

extern const pl_wtype_traits pl_wtypes[PL_WTYPE_COUNT];

/* 1 when a layer of this type can be cut at any row into layers of the
 * same type (row_spans), 0 when groups straddle rows. */
int pl_wtype_cuts_at_rows(pl_wtype type, int cols, int group_size);

static inline const uint8_t *pl_tensor_layer(const pl_tensor *t, int layer) {
    return t->base + (size_t)layer * t->stride;
}

/* Makes x (n values) the input of the next products. */
void pl_input_set(pl_input *in, const float *x, int n);
/* Quantizes the input as t's type wants it (once per input and group size). */
void pl_input_prepare(pl_input *in, const pl_tensor *t);
/* The same in parts, for cores that share it: the group size t wants the
 * input in when it is not quantized so yet (0: ready); values [j0, j1),
 * j0 on a group's start and a multiple of 8 (a block of the wide form),
 * j1 on a group's end or n; then the input marked quantized. */
int pl_input_group_wanted(const pl_input *in, const pl_tensor *t);
void pl_input_quantize_part(pl_input *in, int gs, int j0, int j1);
void pl_input_quantized(pl_input *in, int gs);

/* ---- one core or two (pl_cores.c) -------------------------------------- */

/* What a product does with rows of its output once they are computed, on
 * the core that computed them, while the bus streams the next block: the
 * sampler's first step beside the classifier (pl_logits_prep). Each row
 * comes once, in no promised order. */
typedef struct {
    void (*fn)(void *user, int core, float *rows, int n);
    void *user;
} pl_rows_done;

typedef struct {
    const pl_platform *platform; /* run_on_both, copy_start and copy_wait */
    int two_cores;               /* the platform's run_on_both, and a stage */
    int streaming;               /* pl_options.stream_weights */
    int copying;                 /* a background copy is in flight */
    uint8_t *stage[2];           /* [stage_bytes] SRAM rows of a streamed tensor; */
    size_t stage_bytes;          /* the second only when streaming */
    const pl_tensor *ahead;      /* streaming: its first block is in stage[ahead_stage] */
    int ahead_layer, ahead_stage;
    uint64_t sections;           /* work handed to both cores so far */
    uint64_t cpu_copied;         /* span bytes the CPU copied though the platform has a
                                  * background copy (a span not on words) */
    const pl_rows_done *rows_done; /* the next product's (NULL: none): set for one product */
} pl_cores;

/* Where two cores split n rows or values: halves, the first rounded to 4. */
int pl_cores_split_point(int n);
/* Bytes of one stage for a model's tensors (`wanted`: pl_options.stage_bytes),
 * and of all the stages `cores` and `streaming` take (0: none). */
size_t pl_cores_stage_bytes(const pl_model_info *info, size_t wanted);
size_t pl_cores_stages_bytes(const pl_model_info *info, size_t wanted, int cores, int streaming);
/* Runs fn(arg, 0) and fn(arg, 1): on two cores when there are two, else
 * one after the other on this one. */
void pl_cores_run(pl_cores *c, void (*fn)(void *arg, int core), void *arg);
/* out[0..rows) = layer `layer` of t times the input, whatever t's type, on
 * one core or split by rows between two. A tensor outside SRAM reaches the
 * kernels through the stages when streaming or on two cores, so the bus
 * sees one sequential stream a block (pl_cores.c). `next` (NULL: none) is
 * the product the caller does next, whose first block streaming fetches
 * during this one's last. */
void pl_linear(pl_cores *c, float *out, pl_input *in, const pl_tensor *t, int layer,
               const pl_tensor *next, int next_layer);
/* The same for rows [first, rows) of t into out[first..rows) (a classifier
 * whose first rows were read from a copy). */
void pl_linear_rows(pl_cores *c, float *out, pl_input *in, const pl_tensor *t, int layer, int first,
                    const pl_tensor *next, int next_layer);
/* Background copies outside the products (the KV cache's runs): start
 * copying n bytes from src to dst once the copy in flight has landed (the
 * CPU copies what the stream cannot take), and wait for the last. */
void pl_cores_copy_start(pl_cores *c, void *dst, const void *src, size_t n);
void pl_cores_copy_wait(pl_cores *c);
/* The stage no product's first block waits in: free for other copies
 * until the next product starts. */
uint8_t *pl_cores_free_stage(const pl_cores *c);

/* ---- model (pl_model.c) ------------------------------------------------ */

typedef struct {
    const float *rms_att;   /* [layers][dim] */
    const float *rms_ffn;   /* [layers][dim] */
    const float *rms_final; /* [dim] */
    pl_tensor embedding;    /* [vocab][dim], one layer */
    pl_tensor wq, wk, wv, wo; /* [dim][dim], [kv_dim][dim] x 2, [dim][dim] */
    pl_tensor w1, w2, w3;     /* [hidden][dim], [dim][hidden], [hidden][dim] */
    pl_tensor wcls;           /* [vocab][dim]: the embedding when shared */
    pl_tensor wcls_head;      /* wcls's first rows copied (pl_memory_plan.classifier_rows_large;
                               * rows 0: none): the forward pass reads them here, the rest in wcls */
} pl_weights;

/* Points w at the tensors of a validated checkpoint. */
pl_status pl_model_map_weights(const void *model, const pl_model_info *info,
                               pl_weights *w, pl_error *err);

/* ---- placement (pl_placement.c) ---------------------------------------- */

/* Fills plan->tensor_place, weight_bytes and weight_bytes_per_token for the
 * options' budgets (options may be NULL: everything in place). */
void pl_place_weights(const pl_model_info *info, const pl_options *options, pl_memory_plan *plan);

/* ---- forward pass (pl_forward.c) --------------------------------------- */

typedef struct {
    float *x, *xb, *xb2;      /* [dim] residual stream and branch buffers */
    float *hb, *hb2;          /* [hidden] feed-forward */
    float *q;                 /* [dim] */
    float *att;               /* [kv_mul][kv_positions] scores of a KV head's query heads */
    float *att1;              /* the same for the second core */
    float *logits;            /* [vocab] */
    float *rope_freq;         /* [head_size/2] fixed at open */
    pl_input in;              /* the current product input and its int8 scratch */
    float *rope_cos, *rope_sin; /* [head_size/2] for the current position */
    float *k_new, *v_new;     /* [kv_dim] this position's key and value */
    float *key_cache;         /* [layers][kv_heads][kv_positions][head_size] */
    float *value_cache;       /* the same (pl_forward.c: kv_offset) */
    int kv_positions;         /* positions the cache holds (<= seq_len) */
    int kv_in_sram;           /* the cache is in the fast pool */
    int kv_streaming;         /* outside SRAM, read by background copies (pl_forward.c) */
    pl_cores cores;
} pl_state;

/* Carves the per-token vectors from `vectors` and a KV cache of `positions`
 * positions from `kv` (either may be NULL to lay out only the other;
 * measure-only without a base). */
void pl_state_layout(pl_state *s, const pl_model_info *info, int positions, const pl_memory_plan *plan,
                     pl_arena *vectors, pl_arena *kv);
void pl_state_init(pl_state *s, const pl_model_info *info);
/* The logits of token at pos; `logits_done` (NULL: none) is called on
 * them as the classifier computes them (pl_rows_done). */
float *pl_transformer_forward(const pl_model_info *p, const pl_weights *w,
                              pl_state *s, int token, int pos, const pl_rows_done *logits_done);

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
    int32_t *scratch_tokens; /* prompt scratch: tokens, pair ids, pair scores, */
    int32_t *scratch_pair_id;
    float *scratch_pair_score;
    int32_t *scratch_next, *scratch_prev;  /* the token list while merging, */
    int32_t *scratch_heap, *scratch_heap_at; /* the mergeable pairs' heap (pl_tokenizer.c) */
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
    /* the rank's radix passes: 2^rank_log2_buckets buckets each, their
     * bounds (NULL: the candidates are ranked by the heap alone) */
    unsigned rank_log2_buckets;
    uint32_t *rank_bounds;
    uint32_t *rank_bounds1; /* the second core's (NULL: one core ranks) */
} pl_sampler;

/* `cores`: 2 when the rank may share the first pass's buckets. */
void pl_sampler_layout(pl_sampler *s, int vocab_size, int cores, pl_arena *fast);
uint32_t pl_random_u32(uint64_t *state);
float pl_random_f32(uint64_t *state);
/* The sampler's first step, logits / temperature and their maximum, done
 * as the classifier computes the logits: while its weights stream from
 * PSRAM or flash the cores would otherwise wait for the bus. */
typedef struct {
    pl_rows_done done; /* pass to pl_transformer_forward */
    float temperature;
    float max[2];      /* each core's rows' */
} pl_logits_prep;

void pl_logits_prep_init(pl_logits_prep *prep, float temperature);
/* Picks the next token from logits (which it overwrites with probabilities
 * when temperature > 0), the softmax shared between the cores (NULL: one);
 * `prep`: the logits came through it (divided, their maximum found), or
 * NULL. */
int pl_sample(pl_sampler *s, pl_cores *cores, float *logits, float temperature, float topp,
              const pl_logits_prep *prep);

/* ---- the engine (pl_engine.c) ------------------------------------------ */

/* The engine's allocations: the fast pool's block (the engine first), the
 * large pool's, and the KV cache's, from the pool the plan puts it in. */
enum { PL_BLOCK_FAST, PL_BLOCK_LARGE, PL_BLOCK_KV, PL_BLOCK_COUNT };
typedef struct {
    pl_pool pool;
    size_t size;
    void *ptr;
} pool_block;

struct pl_engine {
    pl_model_info info;
    int positions;                          /* the KV cache's */
    uint8_t *copies[PL_TENSOR_COUNT];       /* placed tensors' copies (NULL: in place) */
    uint8_t *classifier_head;               /* the classifier's first rows' copy (NULL: none) */
    pl_weights weights;
    pl_state state;
    pl_tokenizer tokenizer;
    pl_sampler sampler;
    pl_memory_plan plan;
    pl_platform platform;
    pool_block blocks[PL_BLOCK_COUNT];      /* what pl_open took, in order */
};

#endif /* PL_INTERNAL_H */
