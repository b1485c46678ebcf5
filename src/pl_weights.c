/*
 * The weight-type table: everything the engine needs to know about how a
 * tensor is stored, one entry per type, the way ggml's type traits work.
 * The forward pass goes through pl_linear() and the table, and never asks
 * which type a tensor has.
 */
#include "pl_internal.h"

/* ---- fp32 ------------------------------------------------------------------ */

static uint64_t f32_layer_bytes(uint64_t numel, int group_size) {
    (void)group_size;
    return numel * sizeof(float);
}

static void f32_read_row(float *out, const pl_tensor *t, int row) {
    memcpy(out, t->base + (size_t)row * (size_t)t->cols * sizeof(float),
           (size_t)t->cols * sizeof(float));
}

static int f32_input_group_size(const pl_tensor *t) {
    (void)t;
    return 0;
}

static void f32_matvec(float *out, const pl_input *in, const pl_tensor *t, int layer, int r0,
                       int r1) {
    plk_matvec_f32(out, in->f, (const float *)(const void *)pl_tensor_layer(t, layer), t->cols,
                   r0, r1);
}

/* ---- int8 groups (llama2.c version 2) ------------------------------------- */

static uint64_t q8_layer_bytes(uint64_t numel, int group_size) {
    return numel + (numel + (uint64_t)group_size - 1u) / (uint64_t)group_size * sizeof(float);
}

static const float *q8_scales(const pl_tensor *t, int layer) {
    return (const float *)(const void *)(pl_tensor_layer(t, layer) +
                                         (size_t)t->rows * (size_t)t->cols);
}

/* runq.c's dequantize(), one row: float(q) * scale of its group. */
static void q8_read_row(float *out, const pl_tensor *t, int row) {
    const int8_t *q = (const int8_t *)t->base;
    const float *s = q8_scales(t, 0);
    size_t first = (size_t)row * (size_t)t->cols, gs = (size_t)t->group_size;
    for (int i = 0; i < t->cols; i++) out[i] = q[first + (size_t)i] * s[(first + (size_t)i) / gs];
}

static int q8_input_group_size(const pl_tensor *t) { return t->group_size; }

static void q8_matvec(float *out, const pl_input *in, const pl_tensor *t, int layer, int r0,
                      int r1) {
    plk_matvec_q8(out, &in->q8, (const int8_t *)pl_tensor_layer(t, layer), q8_scales(t, layer), r0,
                  r1);
}

const pl_wtype_traits pl_wtypes[PL_WTYPE_COUNT] = {
    {"fp32", f32_layer_bytes, f32_read_row, f32_input_group_size, f32_matvec},
    {"int8", q8_layer_bytes, q8_read_row, q8_input_group_size, q8_matvec},
};

/* ---- products through the table ------------------------------------------- */

void pl_input_set(pl_input *in, const float *x, int n) {
    in->f = x;
    in->n = n;
    in->q8.group_size = 0;
}

void pl_linear(float *out, pl_input *in, const pl_tensor *t, int layer) {
    const pl_wtype_traits *type = &pl_wtypes[t->type];
    int gs = type->input_group_size(t);
    if (gs != 0 && in->q8.group_size != gs) {
        plk_quantize_q8(in->q8_values, in->q8_scales, in->q8_wide, in->f, in->n, gs);
        in->q8.q = in->q8_values;
        in->q8.scales = in->q8_scales;
        in->q8.wide = in->q8_wide;
        in->q8.n = in->n;
        in->q8.group_size = gs;
    }
    type->matvec(out, in, t, layer, 0, t->rows);
}
