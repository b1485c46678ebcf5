/*
 * One core or two. With two (pl_options.cores = 2 and the platform's
 * run_on_both), every matrix-vector product is split by rows and attention
 * by heads: each output is computed whole by one core, in the reference's
 * order, so the bits do not depend on the number of cores.
 *
 * The bus is shared. When two cores miss the XIP cache at different
 * addresses, bursts break and flash falls from 24.8 to about 11 MB/s
 * (rp2350-facts.md). So the rows of a tensor that is not in SRAM reach the
 * cores through a stage: core 0 copies a block of rows into SRAM, one
 * sequential stream, and both cores compute on the copy. Tensors in SRAM
 * are split in place.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

/* The stage: 16 KB, or a whole layer of the largest matrix if smaller. */
#define PL_STAGE_MAX_BYTES 16384u

size_t pl_cores_stage_bytes(const pl_model_info *info) {
    size_t most = 0;
    for (int id = PL_TENSOR_WQ; id < PL_TENSOR_COUNT; id++) {
        size_t layer = info->tensors[id].bytes / (size_t)info->tensors[id].layers;
        if (layer > most) most = layer;
    }
    return most < PL_STAGE_MAX_BYTES ? most : PL_STAGE_MAX_BYTES;
}

static int two_cores(const pl_cores *c) {
    return c->platform && c->platform->run_on_both && c->stage;
}

void pl_cores_run(pl_cores *c, void (*fn)(void *arg, int core), void *arg) {
    if (two_cores(c)) {
        c->sections++;
        c->platform->run_on_both(c->platform->user, fn, arg);
    } else {
        fn(arg, 0);
        fn(arg, 1);
    }
}

/* Rows [r0, mid) on core 0, [mid, r1) on core 1. */
typedef struct {
    float *out;
    const pl_input *in;
    const pl_tensor *t;
    int layer, r0, mid, r1;
} matvec_job;

static void matvec_half(void *arg, int core) {
    const matvec_job *j = (const matvec_job *)arg;
    int r0 = core ? j->mid : j->r0, r1 = core ? j->r1 : j->mid;
    if (r0 < r1) pl_wtypes[j->t->type].matvec(j->out, j->in, j->t, j->layer, r0, r1);
}

/* Both cores on rows [0, rows) of layer `layer` of t: halves, the first
 * rounded to 4 rows (the fp32 kernel's blocks; any split gives the same
 * bits, this one the same speed). */
static void split_rows(pl_cores *c, float *out, const pl_input *in, const pl_tensor *t, int layer) {
    matvec_job j;
    j.out = out;
    j.in = in;
    j.t = t;
    j.layer = layer;
    j.r0 = 0;
    j.r1 = t->rows;
    j.mid = (t->rows / 2 + 3) & ~3;
    if (j.mid > t->rows) j.mid = t->rows;
    pl_cores_run(c, matvec_half, &j);
}

/* Rows that fit the stage as a layer of their own. */
static int stage_rows(const pl_cores *c, const pl_tensor *t) {
    const pl_wtype_traits *type = &pl_wtypes[t->type];
    uint64_t one = type->layer_bytes(1, (uint64_t)t->cols, t->group_size);
    int rows = (int)(c->stage_bytes / (size_t)one);
    if (rows > t->rows) rows = t->rows;
    while (rows > 0 && type->layer_bytes((uint64_t)rows, (uint64_t)t->cols, t->group_size) > c->stage_bytes)
        rows--;
    return rows;
}

void pl_linear(pl_cores *c, float *out, pl_input *in, const pl_tensor *t, int layer) {
    const pl_wtype_traits *type = &pl_wtypes[t->type];
    pl_input_prepare(in, t);
    if (!two_cores(c) || t->rows < 2) {
        type->matvec(out, in, t, layer, 0, t->rows);
        return;
    }
    if (t->place == PL_PLACE_FAST) {
        split_rows(c, out, in, t, layer);
        return;
    }
    int block = stage_rows(c, t);
    if (block < 2 || !type->copy_rows(c->stage, t, layer, 0, 0)) {
        /* rows that cannot be cut (groups straddling them), or a stage too
         * small: one core, one stream */
        type->matvec(out, in, t, layer, 0, t->rows);
        return;
    }
    for (int r = 0; r < t->rows; r += block) {
        pl_tensor rows = *t;
        rows.rows = t->rows - r < block ? t->rows - r : block;
        rows.base = c->stage;
        rows.stride = (size_t)type->layer_bytes((uint64_t)rows.rows, (uint64_t)t->cols, t->group_size);
        rows.place = PL_PLACE_FAST;
        type->copy_rows(c->stage, t, layer, r, r + rows.rows);
        split_rows(c, out + r, in, &rows, 0);
    }
}
