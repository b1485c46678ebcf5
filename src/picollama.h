/*
 * PicoLlama: Llama-2-architecture language models on an RP2350 (and on a PC).
 *
 * The whole C API. The engine reads a llama2.c checkpoint and tokenizer, or
 * a PicoLlama model file with its tokenizer inside, in place (a const array
 * in flash on the board, a mapped file on a PC), and allocates everything
 * it writes once, at open, through the platform's allocator hooks, three
 * blocks from two pools (one each, and the KV cache a block of its own from
 * the pool it goes in, so a platform may serve it from other memory):
 *   - PL_POOL_FAST:  per-token vectors, logits, sampler index (SRAM on the board)
 *   - PL_POOL_LARGE: KV cache, tokenizer index, prompt scratch (PSRAM on the board)
 * Weights stay in place unless the options copy some, once, at open, into
 * either pool, where they read faster (pl_options, pl_auto_place).
 * pl_plan_memory() tells how many bytes each pool needs and where each
 * tensor goes before anything is allocated. Nothing is allocated per token.
 *
 * For the same model, tokenizer, prompt and sampling settings, generation
 * produces exactly the text llama2.c's run.c prints.
 */
#ifndef PICOLLAMA_H
#define PICOLLAMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PL_VERSION_STRING "2.0.0"

/* Every function that can fail returns one of these. Values are stable: the
 * host CLI returns them as its exit status. */
typedef enum {
    PL_OK = 0,
    PL_ERR_ARGUMENT = 1,           /* NULL pointer or an out-of-range setting */
    PL_ERR_ALIGNMENT = 2,          /* a blob is not 4-byte aligned */
    PL_ERR_MODEL_FORMAT = 3,       /* unknown magic or checkpoint version */
    PL_ERR_MODEL_TRUNCATED = 4,    /* blob shorter than its header or weights */
    PL_ERR_MODEL_LENGTH = 5,       /* blob longer than the config says */
    PL_ERR_MODEL_DIMENSIONS = 6,   /* a zero, negative or oversized dimension */
    PL_ERR_MODEL_HEADS = 7,        /* heads do not divide dim, or kv heads do not divide heads */
    PL_ERR_TOKENIZER_FORMAT = 8,   /* bad header or token record */
    PL_ERR_TOKENIZER_TRUNCATED = 9,/* blob ends inside a token record */
    PL_ERR_TOKENIZER_VOCAB = 10,   /* fewer entries than the model's vocabulary */
    PL_ERR_PROMPT_TOO_LONG = 11,   /* more bytes than the engine reserved at open (a prompt of more
                                    * tokens than the story is cut, as run.c cuts it) */
    PL_ERR_PROMPT_ENCODING = 12,   /* the tokenizer cannot encode this prompt */
    PL_ERR_NO_MEMORY = 13,         /* an allocator hook returned NULL */
    PL_ERR_UNSUPPORTED = 14        /* a valid file this build does not run */
} pl_status;

/* A status with a sentence that says what was wrong. */
typedef struct {
    pl_status status;
    char message[160];
} pl_error;

/* Short, stable name of a status ("PL_ERR_MODEL_HEADS"). */
const char *pl_status_name(pl_status status);

/* ---- models ------------------------------------------------------------ */

typedef enum {
    PL_FORMAT_LLAMA2C_V0 = 0,  /* export.py legacy: 7 int32 fields, then fp32 */
    PL_FORMAT_LLAMA2C_V1 = 1,  /* "ak42" magic, 256-byte header, fp32 */
    PL_FORMAT_LLAMA2C_V2 = 2,  /* "ak42" magic, int8 groups (runq.c) */
    PL_FORMAT_PICOLLAMA = 3    /* "PLLM": a type per tensor, the tokenizer inside
                                  (docs/model-format.md) */
} pl_format;

/* How a tensor's values are stored (the engine's weight-type table). */
typedef enum {
    PL_WTYPE_F32 = 0,     /* fp32 */
    PL_WTYPE_Q8 = 1,      /* llama2.c version 2: int8, then one fp32 scale per group of
                             group_size values over the whole layer (groups may straddle rows) */
    PL_WTYPE_Q8_ROWS = 2, /* int8 in groups along each row (the last may be shorter),
                             rows padded to 4 bytes, then fp32 scales */
    PL_WTYPE_Q4 = 3,      /* int4 in groups along each row, rows padded to 8 values,
                             then fp16 scales */
    PL_WTYPE_COUNT
} pl_wtype;

/* The tensors of a model, in one order for every format. */
typedef enum {
    PL_TENSOR_RMS_ATT = 0, /* [layers][dim] */
    PL_TENSOR_RMS_FFN,     /* [layers][dim] */
    PL_TENSOR_RMS_FINAL,   /* [dim] */
    PL_TENSOR_EMBEDDING,   /* [vocab][dim] */
    PL_TENSOR_WQ,          /* [layers][dim][dim] */
    PL_TENSOR_WK,          /* [layers][kv_dim][dim] */
    PL_TENSOR_WV,          /* [layers][kv_dim][dim] */
    PL_TENSOR_WO,          /* [layers][dim][dim] */
    PL_TENSOR_W1,          /* [layers][hidden][dim] */
    PL_TENSOR_W2,          /* [layers][dim][hidden] */
    PL_TENSOR_W3,          /* [layers][hidden][dim] */
    PL_TENSOR_WCLS,        /* [vocab][dim]: the embedding's bytes when shared */
    PL_TENSOR_COUNT
} pl_tensor_id;

/* One tensor of a checkpoint: `layers` matrices of rows x cols. */
typedef struct {
    pl_wtype type;
    int group_size;  /* quantized types, else 0 */
    int layers, rows, cols;
    size_t offset;   /* from the blob's start */
    size_t bytes;    /* all layers */
} pl_tensor_info;

typedef struct {
    int dim;              /* transformer width */
    int hidden_dim;       /* feed-forward width */
    int n_layers;
    int n_heads;          /* query heads */
    int n_kv_heads;       /* key/value heads (grouped-query attention) */
    int vocab_size;
    int seq_len;          /* context length */
    int shared_classifier;/* 1: the classifier is the token embedding table */
    int group_size;       /* the smallest group size of a quantized tensor, else 0 */
    pl_format format;
    size_t weights_offset;/* where the tensors start in the blob */
    size_t expected_size; /* bytes the blob must have for this config */
    size_t tokenizer_offset, tokenizer_size; /* a tokenizer inside the file (size 0: none) */
    pl_tensor_info tensors[PL_TENSOR_COUNT];
} pl_model_info;

/* Short names: "wq", "rms_att", ...; and a type's: "fp32", "int8", "int4". */
const char *pl_tensor_name(pl_tensor_id id);
const char *pl_wtype_name(pl_wtype type);

/* Bytes one token reads from a tensor: all of it, or one row of the
 * embedding (whose bytes also serve as the classifier when shared). */
uint64_t pl_tensor_bytes_per_token(const pl_model_info *info, pl_tensor_id id);

/* Reads and validates a checkpoint header against the blob's length. Reads no
 * weight. */
pl_status pl_model_inspect(const void *model, size_t model_size,
                           pl_model_info *info, pl_error *err);

/* Parameters in the checkpoint (the classifier counted once when shared). */
uint64_t pl_model_parameter_count(const pl_model_info *info);

/* Bytes of weights read to produce one token: every matrix, every norm, one
 * row of the embedding table and the whole classifier (the sum of
 * pl_tensor_bytes_per_token). */
uint64_t pl_model_bytes_per_token(const pl_model_info *info);

/* 1 when the file is a version-2 checkpoint whose group size does not
 * divide hidden_dim: llama2.c's runq.c then skips the tail of every w2 row
 * and misreads later scales. The engine computes such files correctly, so
 * their stories differ from runq.c's. */
int pl_model_runq_mishandles(const pl_model_info *info);

/* KV-cache bytes one forward pass at pos reads (every query head reads its
 * kv head's keys and values for positions 0..pos) and writes (this
 * position's keys and values). */
void pl_model_kv_traffic(const pl_model_info *info, int pos, uint64_t *read,
                         uint64_t *written);

/* ---- tokenizers -------------------------------------------------------- */

/* Bytes a tokenizer's first vocab_size entries take, read from its records
 * without looking past max_size; 0 if they are not a valid tokenizer. For
 * callers that have the array but not its length (the original PicoLlama's
 * setModel). */
size_t pl_tokenizer_size(const void *tokenizer, size_t max_size, int vocab_size);

/* ---- memory ------------------------------------------------------------ */

typedef enum { PL_POOL_FAST = 0, PL_POOL_LARGE = 1 } pl_pool;

/* The platform: two allocator hooks and an optional clock. alloc must return
 * NULL or memory aligned to 8 bytes for the fast pool (the engine's own
 * structure, with 64-bit fields, starts it; malloc gives 8) and to 4 for
 * the large pool (floats and 32-bit words; arduino-pico's pmalloc gives 4);
 * pl_open refuses less with PL_ERR_ALIGNMENT. The clock is any monotonic counter in
 * the platform's own unit: microseconds on a PC, CPU cycles on the board,
 * instructions on the emulated M33. */
typedef struct {
    void *(*alloc)(void *user, pl_pool pool, size_t size);
    void (*release)(void *user, pl_pool pool, void *ptr);
    uint64_t (*clock)(void *user); /* may be NULL: no timing in the stats */
    void *user;
    /* Two cores (pl_options.cores = 2): runs fn(arg, 1) on the second core
     * while the caller runs fn(arg, 0), and returns when both have finished.
     * The engine splits each matrix-vector product by rows and attention by
     * heads; no sum changes order, so one core or two give the same bits.
     * NULL: one core. */
    void (*run_on_both)(void *user, void (*fn)(void *arg, int core), void *arg);
    /* Background copies (pl_options.stream_weights): copy_start begins
     * copying n bytes from src (a tensor in flash or PSRAM) to dst (an SRAM
     * stage) and returns at once; copy_wait returns when that copy has
     * landed. One copy at a time: the engine waits for each before it
     * starts the next, and never reads dst before waiting. src, dst and n
     * are multiples of 4 (the XIP stream's words). On the board DMA from
     * the XIP stream FIFO moves the bytes while the cores compute. NULL:
     * no streaming (a tensor outside SRAM is read where it is, or on two
     * cores copied by the CPU through one stage). A span the stream cannot
     * take (an end not on a word) the CPU copies. */
    void (*copy_start)(void *user, void *dst, const void *src, size_t n);
    void (*copy_wait)(void *user);
    /* The engine wrote n bytes at p (this position's keys and values in a
     * KV cache outside SRAM) that a later copy_start will read. On the
     * board the stream reads PSRAM around the XIP cache, whose write-back
     * lines still hold those bytes: this writes them back
     * (xip_cache_clean_range). NULL: copies see every write (a PC, QEMU). */
    void (*copy_written)(void *user, const void *p, size_t n);
} pl_platform;

/* Where a tensor is read from while generating. */
typedef enum {
    PL_PLACE_IN_PLACE = 0, /* the blob itself: flash on the board, a mapped file on a PC */
    PL_PLACE_LARGE = 1,    /* copied at open into the large pool (PSRAM) */
    PL_PLACE_FAST = 2,     /* copied at open into the fast pool (SRAM) */
    PL_PLACE_COUNT
} pl_place;

typedef struct {
    /* Longest prompt, in bytes, that generation will accept. 0 means
     * PL_DEFAULT_PROMPT_BYTES. The prompt scratch (12 bytes a byte) lives in
     * the large pool. */
    size_t max_prompt_bytes;
    /* Positions the KV cache holds (a story's steps, prompt included); 0 or
     * more than the model's context mean the whole context. */
    int max_positions;
    /* Weight placement: at open, norms and matrices are copied into the fast
     * pool, the set of whole tensors that fits fast_weight_budget bytes and
     * is read the most per token; then what is left into the large pool, the
     * same way within large_weight_budget. The rest stays in place. 0: none
     * (the default); SIZE_MAX: everything. The embedding is never copied
     * (one row a token) unless it is the shared classifier. A classifier
     * left in place takes what the large budget has left over: its first
     * rows are copied there (pl_memory_plan.classifier_rows_large). */
    size_t fast_weight_budget;
    size_t large_weight_budget;
    /* 1: the KV cache in the fast pool instead of the large one. */
    int kv_cache_fast;
    /* 2: split the work between two cores (the platform's run_on_both);
     * 0 or 1: one core. Two cores take a second attention buffer and an SRAM
     * stage through which rows of tensors outside SRAM reach both cores as
     * one sequential stream (both in the fast pool). */
    int cores;
    /* 1: tensors outside SRAM reach the kernels block by block through two
     * SRAM stages (stage_bytes in the plan): while the kernels compute on
     * one block, the platform's copy_start fills the other, so the bus and
     * the cores work at once; every block is read as one sequential stream
     * (values, then scales). A KV cache outside SRAM is read the same way,
     * in runs of a head's successive positions through slots cut from a
     * stage (the platform's copy_written reports its writes). The stages
     * are planned whenever a matrix or the KV cache is outside SRAM (none:
     * none), so the plan does not depend on the platform; one without
     * copy_start does not stream. The same bits either way. */
    int stream_weights;
    /* Bytes of each stage; 0: PL_DEFAULT_STAGE_BYTES. Never more than the
     * largest layer of a matrix; a tensor whose row does not fit one is
     * read where it is. Smaller stages cost less SRAM and more hand-overs. */
    size_t stage_bytes;
} pl_options;

#define PL_DEFAULT_PROMPT_BYTES 1024u
#define PL_DEFAULT_STAGE_BYTES 16384u

typedef struct {
    /* What each pool gives: one block each, and the KV cache
     * (kv_cache_bytes, counted in the pool kv_place names) a third block,
     * from that pool. Three allocations at open; none afterwards. */
    size_t fast_bytes;   /* PL_POOL_FAST */
    size_t large_bytes;  /* PL_POOL_LARGE */
    /* breakdown, for reports */
    size_t activations_bytes;  /* per-token vectors and logits */
    size_t sampler_bytes;      /* top-p index */
    size_t kv_cache_bytes;
    size_t tokenizer_bytes;    /* offsets and sorted index */
    size_t prompt_bytes;       /* prompt token scratch */
    int kv_positions;          /* positions the KV cache holds */
    int cores;                 /* 1 or 2 */
    int stream_weights;        /* pl_options.stream_weights */
    size_t stage_bytes;        /* SRAM stages for streamed rows (two cores: one; streaming: two) */
    pl_place kv_place;         /* PL_PLACE_LARGE or PL_PLACE_FAST */
    pl_place tensor_place[PL_TENSOR_COUNT];
    /* A classifier in place whose first rows are copied into the large pool
     * (too large for it whole): those rows (a multiple of 4; 0: none). */
    int classifier_rows_large;
    size_t weight_bytes[PL_PLACE_COUNT];  /* weights in each place (in place: the blob's) */
    uint64_t weight_bytes_per_token[PL_PLACE_COUNT]; /* weights one token reads from each */
    uint64_t copy_ticks;       /* pl_open: platform clock units spent copying weights */
} pl_memory_plan;

/* Validates the model and tokenizer and tells what each pool will need and
 * where each tensor will be placed (tokenizer NULL, 0: the model's own; for
 * a model without one inside, a plan that counts no tokenizer). */
pl_status pl_plan_memory(const void *model, size_t model_size,
                         const void *tokenizer, size_t tokenizer_size,
                         const pl_options *options, pl_memory_plan *plan,
                         pl_error *err);

/* The placement rule for a board, filling options' budgets and KV place
 * (its prompt and positions are kept): with fast_free and large_free the
 * bytes each pool can give,
 *   1. the buffers first (per-token vectors in SRAM, with the two
 *      streaming stages when options ask for streaming and they fit,
 *      else streaming off; KV cache, tokenizer index and prompt scratch in
 *      PSRAM);
 *   2. then into SRAM the set of whole tensors that is read the most per
 *      token and fits beside them;
 *   3. then the rest into PSRAM within what it has left (PSRAM's clock is
 *      faster than flash's on the RP2350: 75 against 50 MHz; pass 0 where
 *      it does not), and a classifier left in flash, too large for what
 *      remains whole, gives PSRAM as many of its first rows as fit (a
 *      32000-token model's: stories15M's 5 MB classifier beside its 3.5 MB
 *      KV cache);
 *   4. then the KV cache into SRAM if it fits in what is left there.
 * The Arduino class and `--place auto` use it. */
pl_status pl_auto_place(const void *model, size_t model_size, const void *tokenizer,
                        size_t tokenizer_size, size_t fast_free, size_t large_free,
                        pl_options *options, pl_error *err);

/* ---- the engine -------------------------------------------------------- */

typedef struct pl_engine pl_engine;

/* Validates both blobs, allocates the two pools, copies the weights the
 * options place and indexes the tokenizer. The blobs must stay valid (and
 * unchanged) until pl_close. options may be NULL. A tokenizer of NULL and
 * 0 bytes means the one inside the model file (PicoLlama files carry one). */
pl_status pl_open(pl_engine **engine, const void *model, size_t model_size,
                  const void *tokenizer, size_t tokenizer_size,
                  const pl_options *options, const pl_platform *platform,
                  pl_error *err);

/* Releases both pools. NULL is allowed. */
void pl_close(pl_engine *engine);

/* The config of the open model. */
const pl_model_info *pl_info(const pl_engine *engine);

/* The memory the open engine took. */
const pl_memory_plan *pl_memory(const pl_engine *engine);

typedef struct {
    float temperature;  /* 0: greedy; otherwise >= 0 (run.c default 1.0) */
    float topp;         /* in [0, 1]; 0 or 1 turn nucleus sampling off (run.c default 0.9) */
    int steps;          /* positions to run, prompt included; 0 or > seq_len: seq_len */
} pl_sampling;

/* run.c's defaults: temperature 1.0, top-p 0.9, 256 steps. */
pl_sampling pl_default_sampling(void);

/* Seeds the xorshift generator, as run.c does with -s. Generation continues
 * the sequence, so consecutive stories differ; seed again to repeat one. */
void pl_seed(pl_engine *engine, uint64_t seed);

/* Receives each piece of text as it is produced (NUL-terminated, never empty),
 * then once with NULL at the end of the story. Return nonzero to stop early
 * (the NULL call still follows). */
typedef int (*pl_piece_fn)(void *user, const char *piece);

/* Memory traffic of forward passes, counted from what the code reads and
 * writes: weights by where they are placed, and the KV cache (in the
 * plan's kv_place). */
typedef struct {
    uint64_t weight_bytes[PL_PLACE_COUNT];
    uint64_t kv_read_bytes;
    uint64_t kv_write_bytes;
    uint64_t sections;  /* two cores: work handed to both (each one synchronization) */
} pl_traffic;

typedef struct {
    int prompt_tokens;     /* tokens of the encoded prompt, BOS included */
    int positions;         /* forward passes run */
    int generated_tokens;  /* tokens sampled (not forced from the prompt) */
    int stopped_early;     /* the callback asked to stop */
    /* The prompt phase is the forward passes whose next token is forced (the
     * first n_prompt - 1 positions); the generate phase is the rest. */
    uint64_t prompt_ticks;   /* platform clock units (0 without a clock) */
    uint64_t generate_ticks;
    pl_traffic prompt_traffic;
    pl_traffic generate_traffic;
} pl_stats;

/* Tells one story: encodes prompt (NULL or "" for none) behind BOS, runs the
 * model for sampling->steps positions, stops early on BOS as run.c does, and
 * sends each piece to on_piece. stats may be NULL. */
pl_status pl_generate(pl_engine *engine, const char *prompt,
                      const pl_sampling *sampling, pl_piece_fn on_piece,
                      void *user, pl_stats *stats, pl_error *err);

/* ---- lower level, for tools and tests ---------------------------------- */

/* Encodes text as run.c does (optional BOS, dummy-prefix space, byte
 * fallback, best-score merges) into tokens[0..*n_tokens). The count never
 * exceeds strlen(text) + 3, so that capacity always suffices (a smaller one
 * that does not fit is PL_ERR_ARGUMENT); text longer than the prompt scratch
 * reserved at open is PL_ERR_PROMPT_TOO_LONG. */
pl_status pl_encode(pl_engine *engine, const char *text, int add_bos,
                    int *tokens, int capacity, int *n_tokens, pl_error *err);

/* The text run.c prints for token after prev_token ("" when it prints
 * nothing). The pointer is valid until the next call. */
const char *pl_decode(pl_engine *engine, int prev_token, int token);

/* One forward pass: the logits (vocab_size floats) for token at pos, valid
 * until the next call. It writes pos's keys and values into the KV cache and
 * attends to positions 0..pos, so positions go in order from 0 (as
 * pl_generate runs them). Returns NULL when token or pos is out of range
 * (pos beyond the KV cache's positions included). */
float *pl_forward(pl_engine *engine, int token, int pos);

#ifdef __cplusplus
}
#endif
#endif /* PICOLLAMA_H */
