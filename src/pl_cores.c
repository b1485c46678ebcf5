/*
 * One core or two, and the stages. With two cores (pl_options.cores = 2 and
 * the platform's run_on_both), every matrix-vector product is split by rows
 * and attention by heads: each output is computed whole by one core, in the
 * reference's order, so the bits do not depend on the number of cores.
 *
 * The bus is shared. When two cores miss the XIP cache at different
 * addresses, bursts break and flash falls from 24.8 to about 11 MB/s
 * (rp2350-facts.md). So the rows of a tensor that is not in SRAM reach the
 * cores through a stage: core 0 copies a block of rows into SRAM, one
 * sequential stream, and both cores compute on the copy. Tensors in SRAM
 * are split in place.
 *
 * Streaming (pl_options.stream_weights) takes two stages, on one core or
 * two: while the cores compute on one block, the next is copied into the
 * other by the platform's copy_start (DMA from the XIP stream on the
 * board), so the bus and the cores work at once and a product bound by
 * the bus costs about the larger of the two times, not their sum. Every
 * copy starts at a fixed point of the work (a share of core 0's rows), so
 * what runs does not depend on how fast the copies land.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

#include <string.h>

size_t pl_cores_stage_bytes(const pl_model_info *info, size_t wanted) {
    size_t most = 0, bytes = wanted ? wanted : PL_DEFAULT_STAGE_BYTES;
    for (int id = PL_TENSOR_WQ; id < PL_TENSOR_COUNT; id++) {
        size_t layer = info->tensors[id].bytes / (size_t)info->tensors[id].layers;
        if (layer > most) most = layer;
    }
    if (bytes > most) bytes = most; /* no block is larger than a layer */
    return (bytes + 7u) & ~(size_t)7u; /* the arena's alignment */
}

size_t pl_cores_stages_bytes(const pl_model_info *info, size_t wanted, int cores, int streaming) {
    int stages = streaming ? 2 : cores == 2 ? 1 : 0;
    return (size_t)stages * pl_cores_stage_bytes(info, wanted);
}

void pl_cores_run(pl_cores *c, void (*fn)(void *arg, int core), void *arg) {
    if (c->two_cores) {
        c->sections++;
        c->platform->run_on_both(c->platform->user, fn, arg);
    } else {
        fn(arg, 0);
        fn(arg, 1);
    }
}

/* Rows [r0, r1) of layer `layer` of t on `core`, then the product's
 * rows_done on them. */
static void matvec_rows(const pl_cores *c, float *out, const pl_input *in, const pl_tensor *t, int layer,
                        int r0, int r1, int core) {
    pl_wtypes[t->type].matvec(out, in, t, layer, r0, r1);
    if (c->rows_done) c->rows_done->fn(c->rows_done->user, core, out + r0, r1 - r0);
}

/* Rows [r0, mid) on core 0, [mid, r1) on core 1. */
typedef struct {
    const pl_cores *c;
    float *out;
    const pl_input *in;
    const pl_tensor *t;
    int layer, r0, mid, r1;
} matvec_job;

static void matvec_half(void *arg, int core) {
    const matvec_job *j = (const matvec_job *)arg;
    int r0 = core ? j->mid : j->r0, r1 = core ? j->r1 : j->mid;
    if (r0 < r1) matvec_rows(j->c, j->out, j->in, j->t, j->layer, r0, r1, core);
}

/* Where two cores split `rows` rows: halves, the first rounded to 4 rows
 * (the fp32 kernel's blocks; any split gives the same bits, this one the
 * same speed). */
int pl_cores_split_point(int rows) {
    int mid = (rows / 2 + 3) & ~3;
    return mid > rows ? rows : mid;
}

/* Both cores on rows [first, rows) of layer `layer` of t, in place. */
static void split_rows(pl_cores *c, float *out, const pl_input *in, const pl_tensor *t, int layer, int first) {
    matvec_job j;
    j.c = c;
    j.out = out;
    j.in = in;
    j.t = t;
    j.layer = layer;
    j.r0 = first;
    j.r1 = t->rows;
    j.mid = first + pl_cores_split_point(t->rows - first);
    pl_cores_run(c, matvec_half, &j);
}

/* ---- a block of rows into a stage ----------------------------------------- */

/* Rows that fit a stage as a layer of their own. */
static int stage_rows(const pl_cores *c, const pl_tensor *t) {
    const pl_wtype_traits *type = &pl_wtypes[t->type];
    uint64_t one = type->layer_bytes(1, (uint64_t)t->cols, t->group_size);
    int rows = (int)(c->stage_bytes / (size_t)one);
    if (rows > t->rows) rows = t->rows;
    while (rows > 0 && type->layer_bytes((uint64_t)rows, (uint64_t)t->cols, t->group_size) > c->stage_bytes)
        rows--;
    /* Blocks of a multiple of 4 rows start every span on a word, as the
     * background copy needs (a row's scales may take 6 or 18 bytes); a
     * block that is the whole tensor is never cut. */
    if (rows < t->rows && rows >= 4) rows &= ~3;
    return rows;
}

/* Bytes the platform's background copy moves for a span: whole words from
 * and to word addresses (the XIP stream reads words), a span's tail
 * rounded up to a word only where the bytes after it are still the
 * layer's (an int4 layer's padding); 0: the CPU copies it. */
static size_t background_bytes(const pl_cores *c, const uint8_t *dst, const pl_span *s,
                               const uint8_t *layer_end) {
    size_t n = (s->bytes + 3u) & ~(size_t)3u;
    if (!c->platform || !c->platform->copy_start) return 0;
    if ((uintptr_t)s->src % 4u || (uintptr_t)dst % 4u || (size_t)(layer_end - s->src) < n) return 0;
    return n;
}

/* Starts a span's copy (one at a time: call span_wait first). */
static void span_start(pl_cores *c, uint8_t *stage, const pl_span *s, const uint8_t *layer_end) {
    uint8_t *dst = stage + s->at;
    size_t n = background_bytes(c, dst, s, layer_end);
    if (n) {
        c->platform->copy_start(c->platform->user, dst, s->src, n);
        c->copying = 1;
        return;
    }
    if (c->platform && c->platform->copy_start) c->cpu_copied += s->bytes;
    plk_copy(dst, s->src, s->bytes);
    if (s->bytes % 4u) memset(dst + s->bytes, 0, 4u - s->bytes % 4u); /* the stage's padding */
}

/* Returns when the span started last has landed. */
static void span_wait(pl_cores *c) {
    if (c->copying) c->platform->copy_wait(c->platform->user);
    c->copying = 0;
}

/* One block of rows from a stage: core 0 computes rows [0, mid) and, as it
 * goes, starts the copies of the next block into the other stage (each
 * span when the rows done match the bytes already asked for, so the copy
 * runs beside the products); core 1 computes [mid, rows). */
typedef struct {
    pl_cores *c;
    float *out;
    const pl_input *in;
    pl_tensor block;
    int mid;
    const pl_span *next;
    int n_next;
    uint8_t *next_stage;
    const uint8_t *layer_end;
} block_job;

static void block_share(void *arg, int core) {
    const block_job *j = (const block_job *)arg;
    size_t total = 0, before = 0;
    int done = 0;
    if (core == 1) {
        if (j->mid < j->block.rows) matvec_rows(j->c, j->out, j->in, &j->block, 0, j->mid, j->block.rows, 1);
        return;
    }
    for (int i = 0; i < j->n_next; i++) total += j->next[i].bytes;
    for (int i = 0; i < j->n_next; i++) {
        int at = (int)((uint64_t)j->mid * before / total);
        if (at > done) {
            matvec_rows(j->c, j->out, j->in, &j->block, 0, done, at, 0);
            done = at;
        }
        span_wait(j->c);
        span_start(j->c, j->next_stage, &j->next[i], j->layer_end);
        before += j->next[i].bytes;
    }
    if (done < j->mid) matvec_rows(j->c, j->out, j->in, &j->block, 0, done, j->mid, 0);
}

/* Rows [r0, r1) of layer `layer` of t into a stage, span after span. */
static void copy_block(pl_cores *c, uint8_t *stage, const pl_tensor *t, int layer, int r0, int r1,
                       const uint8_t *layer_end) {
    pl_span spans[PL_ROW_SPANS];
    int n = pl_wtypes[t->type].row_spans(t, layer, r0, r1, spans);
    for (int i = 0; i < n; i++) {
        span_wait(c);
        span_start(c, stage, &spans[i], layer_end);
    }
    span_wait(c);
}

/* Where layer `layer` of t ends: a span may be rounded up to a word only
 * within it. */
static const uint8_t *layer_end_of(const pl_tensor *t, int layer) {
    return pl_tensor_layer(t, layer) +
           pl_wtypes[t->type].layer_bytes((uint64_t)t->rows, (uint64_t)t->cols, t->group_size);
}

/* Rows of t a stage takes at a time, or 0 when t is read where it is: in
 * SRAM, no stage, rows that cannot be cut (groups straddling them), or a
 * stage too small (two cores need two rows a block to split). */
static int block_rows(const pl_cores *c, const pl_tensor *t, int layer) {
    pl_span probe[PL_ROW_SPANS];
    int block;
    if (t->place == PL_PLACE_FAST || !(c->streaming || c->two_cores)) return 0;
    block = stage_rows(c, t);
    if (block < 1 || (c->two_cores && !c->streaming && block < 2)) return 0;
    return pl_wtypes[t->type].row_spans(t, layer, 0, block, probe) ? block : 0;
}

/* A tensor outside SRAM through the stages, block by block. With two
 * stages (streaming) the next block is copied while this one is computed,
 * and while the last is, the first block of `next` (the product the
 * forward pass does after this one), so that one starts without waiting
 * for the bus either; with one stage (two cores only) each block is
 * copied and then computed. */
static void stream_blocks(pl_cores *c, float *out, const pl_input *in, const pl_tensor *t,
                          int layer, int first, int block, const pl_tensor *next_t, int next_layer) {
    const pl_wtype_traits *type = &pl_wtypes[t->type];
    const uint8_t *layer_end = layer_end_of(t, layer);
    int ahead = c->streaming, k = 0;
    int next_block = ahead && next_t ? block_rows(c, next_t, next_layer) : 0;
    pl_span next[PL_ROW_SPANS];
    if (ahead && c->ahead == t && c->ahead_layer == layer && first == 0) { /* its first block came with the last product */
        k = c->ahead_stage;
        span_wait(c);
    } else if (ahead) {
        copy_block(c, c->stage[0], t, layer, first, t->rows - first > block ? first + block : t->rows, layer_end);
    }
    c->ahead = NULL;
    for (int r = first; r < t->rows; r += block, k ^= ahead) {
        int rows = t->rows - r < block ? t->rows - r : block, r1 = r + rows;
        block_job j;
        j.c = c;
        j.out = out + r;
        j.in = in;
        j.block = *t;
        j.block.rows = rows;
        j.block.base = c->stage[k];
        j.block.stride = (size_t)type->layer_bytes((uint64_t)rows, (uint64_t)t->cols, t->group_size);
        j.block.place = PL_PLACE_FAST;
        j.n_next = 0;
        j.next = next;
        j.next_stage = c->stage[k ^ ahead];
        j.layer_end = layer_end;
        if (!ahead) {
            copy_block(c, c->stage[0], t, layer, r, r1, layer_end);
        } else if (r1 < t->rows) {
            j.n_next = type->row_spans(t, layer, r1, r1 + block < t->rows ? r1 + block : t->rows, next);
        } else if (next_block) { /* the last block: the next product's first */
            j.n_next = pl_wtypes[next_t->type].row_spans(next_t, next_layer, 0,
                                                         next_block < next_t->rows ? next_block : next_t->rows, next);
            j.layer_end = layer_end_of(next_t, next_layer);
            c->ahead = next_t;
            c->ahead_layer = next_layer;
            c->ahead_stage = k ^ 1;
        }
        j.mid = c->two_cores && rows >= 2 ? pl_cores_split_point(rows) : rows;
        if (j.mid < rows) pl_cores_run(c, block_share, &j);
        else block_share(&j, 0);
        if (!c->ahead) span_wait(c); /* the next block has landed (the next product's waits at its start) */
    }
}

/* A product in SRAM leaves the bus idle: the first block of `next`, when
 * that one is streamed, is copied beside it into a stage (block_share's
 * way, the spans started as the rows go), so that it starts without
 * waiting either. */
static void in_sram_with_next(pl_cores *c, float *out, const pl_input *in, const pl_tensor *t,
                              int layer, const pl_tensor *next_t, int next_layer, int next_block) {
    pl_span next[PL_ROW_SPANS];
    block_job j;
    j.c = c;
    j.out = out;
    j.in = in;
    j.block = *t;
    j.block.base = pl_tensor_layer(t, layer);
    j.next = next;
    j.n_next = pl_wtypes[next_t->type].row_spans(next_t, next_layer, 0,
                                                 next_block < next_t->rows ? next_block : next_t->rows, next);
    j.next_stage = c->stage[0];
    j.layer_end = layer_end_of(next_t, next_layer);
    j.mid = c->two_cores && t->rows >= 2 ? pl_cores_split_point(t->rows) : t->rows;
    span_wait(c);
    c->ahead = next_t;
    c->ahead_layer = next_layer;
    c->ahead_stage = 0;
    if (j.mid < t->rows) pl_cores_run(c, block_share, &j);
    else block_share(&j, 0);
}

/* The input quantized on both cores: whole groups each, core 0's part
 * ending on a block of eight values (the wide form's), the same bits as
 * one call. Inputs under 32 values stay on one core (a section's handshake,
 * 2 x 100 instructions, would cost more than half of them saves). */
typedef struct {
    pl_input *in;
    int gs, mid;
} quantize_job;

static void quantize_half(void *arg, int core) {
    const quantize_job *j = (const quantize_job *)arg;
    int j0 = core ? j->mid : 0, j1 = core ? j->in->n : j->mid;
    if (j1 > j0) pl_input_quantize_part(j->in, j->gs, j0, j1);
}

static void prepare_input(pl_cores *c, pl_input *in, const pl_tensor *t) {
    quantize_job j;
    j.gs = pl_input_group_wanted(in, t);
    if (!j.gs) return;
    j.in = in;
    j.mid = (in->n + j.gs - 1) / j.gs / 2 * j.gs;
    while (j.mid > 0 && j.mid % 8) j.mid -= j.gs;
    if (c->two_cores && in->n >= 32 && j.mid > 0) pl_cores_run(c, quantize_half, &j);
    else pl_input_quantize_part(in, j.gs, 0, in->n);
    pl_input_quantized(in, j.gs);
}

void pl_linear_rows(pl_cores *c, float *out, pl_input *in, const pl_tensor *t, int layer, int first,
                    const pl_tensor *next, int next_layer) {
    int block = block_rows(c, t, layer), next_block = 0;
    prepare_input(c, in, t);
    if (!block && t->place == PL_PLACE_FAST && c->streaming && next && !c->ahead && first == 0)
        next_block = block_rows(c, next, next_layer);
    if (block) {
        stream_blocks(c, out, in, t, layer, first, block, next, next_layer);
    } else if (next_block) {
        in_sram_with_next(c, out, in, t, layer, next, next_layer, next_block);
    } else if (t->place == PL_PLACE_FAST && c->two_cores && t->rows - first >= 2) {
        split_rows(c, out, in, t, layer, first);
    } else { /* one core, where it is: in SRAM, or one stream from flash or PSRAM */
        span_wait(c); /* none in flight (the hint named another product): the same order */
        matvec_rows(c, out, in, t, layer, first, t->rows, 0);
    }
}

void pl_linear(pl_cores *c, float *out, pl_input *in, const pl_tensor *t, int layer,
               const pl_tensor *next, int next_layer) {
    pl_linear_rows(c, out, in, t, layer, 0, next, next_layer);
}

void pl_cores_copy_start(pl_cores *c, void *dst, const void *src, size_t n) {
    pl_span s;
    s.src = (const uint8_t *)src;
    s.at = 0;
    s.bytes = n;
    span_wait(c);
    span_start(c, (uint8_t *)dst, &s, s.src + n);
}

void pl_cores_copy_wait(pl_cores *c) { span_wait(c); }

uint8_t *pl_cores_free_stage(const pl_cores *c) {
    return c->stage[c->ahead ? c->ahead_stage ^ 1 : 0];
}
