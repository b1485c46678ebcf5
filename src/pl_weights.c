/*
 * The weight-type table: everything the engine needs to know about how a
 * tensor is stored, one entry per type, the way ggml's type traits work.
 * The forward pass goes through pl_linear() and the table, and never asks
 * which type a tensor has.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

/* ---- fp32 ------------------------------------------------------------------ */

static uint64_t f32_layer_bytes(uint64_t rows, uint64_t cols, int group_size) {
    (void)group_size;
    return rows * cols * sizeof(float);
}

static uint64_t f32_row_bytes(uint64_t cols, int group_size) {
    return f32_layer_bytes(1, cols, group_size);
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
    const float *w = (const float *)(const void *)pl_tensor_layer(t, layer);
#if defined(PL_WEIGHTS_BEHIND_BURST_BUS)
    /* In SRAM any read order costs the same, and four rows at once load
     * each input once for four; flash and PSRAM burst only for addresses
     * in order (pl_port.h). The same bits either way. */
    if (t->place != PL_PLACE_FAST) {
        plk_matvec_f32_in_order(out, in->f, w, t->cols, r0, r1);
        return;
    }
#endif
    plk_matvec_f32(out, in->f, w, t->cols, r0, r1);
}

static int quantized_input_group_size(const pl_tensor *t) { return t->group_size; }

/* A layer's rows r0..r1 as a layer of their own: each row's values (row
 * bytes apiece), then, when the type has them, each row's scales (scale
 * bytes apiece) after all the rows' values. */
static int row_span_pair(const pl_tensor *t, int layer, int r0, int r1, size_t row_bytes,
                         size_t scale_bytes, pl_span *spans) {
    const uint8_t *src = pl_tensor_layer(t, layer);
    size_t n = (size_t)(r1 - r0);
    spans[0].src = src + (size_t)r0 * row_bytes;
    spans[0].at = 0;
    spans[0].bytes = n * row_bytes;
    if (!scale_bytes) return 1;
    spans[1].src = src + (size_t)t->rows * row_bytes + (size_t)r0 * scale_bytes;
    spans[1].at = spans[0].bytes;
    spans[1].bytes = n * scale_bytes;
    return 2;
}

static int f32_row_spans(const pl_tensor *t, int layer, int r0, int r1, pl_span *spans) {
    return row_span_pair(t, layer, r0, r1, (size_t)t->cols * sizeof(float), 0, spans);
}

/* ---- int8, groups over the whole layer (llama2.c version 2) ---------------- */

static uint64_t q8_layer_bytes(uint64_t rows, uint64_t cols, int group_size) {
    uint64_t numel = rows * cols;
    return numel + (numel + (uint64_t)group_size - 1u) / (uint64_t)group_size * sizeof(float);
}

static uint64_t q8_row_bytes(uint64_t cols, int group_size) {
    return q8_layer_bytes(1, cols, group_size);
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

static void q8_matvec(float *out, const pl_input *in, const pl_tensor *t, int layer, int r0,
                      int r1) {
    plk_matvec_q8(out, &in->q8, (const int8_t *)pl_tensor_layer(t, layer), q8_scales(t, layer), r0,
                  r1);
}

/* Rows cut cleanly only where every row holds whole groups. */
int pl_wtype_cuts_at_rows(pl_wtype type, int cols, int group_size) {
    /* llama2.c's int8 groups run over the whole layer: a row ends on a
     * group's end only when the groups divide it */
    return type != PL_WTYPE_Q8 || cols % group_size == 0;
}

static int q8_row_spans(const pl_tensor *t, int layer, int r0, int r1, pl_span *spans) {
    if (!pl_wtype_cuts_at_rows(t->type, t->cols, t->group_size)) return 0;
    return row_span_pair(t, layer, r0, r1, (size_t)t->cols,
                         (size_t)(t->cols / t->group_size) * sizeof(float), spans);
}

/* ---- groups along rows (PicoLlama files): values, then scales ------------- */

static uint64_t groups_of(uint64_t cols, int group_size) {
    return (cols + (uint64_t)group_size - 1u) / (uint64_t)group_size;
}

/* Where a layer's scales start: after every row's values. */
static const uint8_t *row_scales(const pl_tensor *t, int layer, size_t row_bytes) {
    return pl_tensor_layer(t, layer) + (size_t)t->rows * row_bytes;
}

static uint64_t q8r_layer_bytes(uint64_t rows, uint64_t cols, int group_size) {
    return rows * (PLK_Q8_ROW_BYTES(cols) + groups_of(cols, group_size) * sizeof(float));
}

static uint64_t q8r_row_bytes(uint64_t cols, int group_size) {
    return q8r_layer_bytes(1, cols, group_size);
}

static void q8r_read_row(float *out, const pl_tensor *t, int row) {
    size_t rb = PLK_Q8_ROW_BYTES(t->cols), groups = (size_t)groups_of((uint64_t)t->cols, t->group_size);
    const int8_t *q = (const int8_t *)(t->base + (size_t)row * rb);
    const float *s = (const float *)(const void *)row_scales(t, 0, rb) + (size_t)row * groups;
    for (int i = 0; i < t->cols; i++) out[i] = q[i] * s[i / t->group_size];
}

static int q8r_row_spans(const pl_tensor *t, int layer, int r0, int r1, pl_span *spans) {
    return row_span_pair(t, layer, r0, r1, PLK_Q8_ROW_BYTES(t->cols),
                         (size_t)groups_of((uint64_t)t->cols, t->group_size) * sizeof(float), spans);
}

static void q8r_matvec(float *out, const pl_input *in, const pl_tensor *t, int layer, int r0,
                       int r1) {
    const uint8_t *scales = row_scales(t, layer, PLK_Q8_ROW_BYTES(t->cols));
    plk_matvec_q8_rows(out, &in->q8, (const int8_t *)pl_tensor_layer(t, layer),
                       (const float *)(const void *)scales, r0, r1);
}

/* int4: each layer padded to 4 bytes after its fp16 scales. */
static uint64_t q4_layer_bytes(uint64_t rows, uint64_t cols, int group_size) {
    uint64_t bytes = rows * (PLK_Q4_ROW_BYTES(cols) + groups_of(cols, group_size) * 2u);
    return (bytes + 3u) & ~(uint64_t)3u;
}

static uint64_t q4_row_bytes(uint64_t cols, int group_size) {
    return PLK_Q4_ROW_BYTES(cols) + groups_of(cols, group_size) * 2u;
}

static void q4_read_row(float *out, const pl_tensor *t, int row) {
    size_t rb = PLK_Q4_ROW_BYTES(t->cols), groups = (size_t)groups_of((uint64_t)t->cols, t->group_size);
    const uint8_t *q = t->base + (size_t)row * rb;
    const uint16_t *s = (const uint16_t *)(const void *)row_scales(t, 0, rb) + (size_t)row * groups;
    for (int i = 0; i < t->cols; i++) {
        uint32_t word;
        memcpy(&word, q + (size_t)(i / 8) * 4u, sizeof word);
        out[i] = (float)plk_q4_value(word, i % 8) * plk_f16_to_f32(s[i / t->group_size]);
    }
}

static int q4_row_spans(const pl_tensor *t, int layer, int r0, int r1, pl_span *spans) {
    return row_span_pair(t, layer, r0, r1, PLK_Q4_ROW_BYTES(t->cols),
                         (size_t)groups_of((uint64_t)t->cols, t->group_size) * 2u, spans);
}

static void q4_matvec(float *out, const pl_input *in, const pl_tensor *t, int layer, int r0,
                      int r1) {
    const uint8_t *scales = row_scales(t, layer, PLK_Q4_ROW_BYTES(t->cols));
    plk_matvec_q4(out, &in->q8, pl_tensor_layer(t, layer), (const uint16_t *)(const void *)scales,
                  r0, r1);
}

/* Group sizes: int8 groups are whole words (scales stay aligned in version
 * 2; the kernels sum words); int4 groups whole words of eight, at most 512
 * (the DSP kernel's sums are 4096 times the values'). */
const pl_wtype_traits pl_wtypes[PL_WTYPE_COUNT] = {
    {"fp32", 0, 1, 0, f32_layer_bytes, f32_row_bytes, f32_read_row, f32_input_group_size,
     f32_matvec, f32_row_spans},
    {"int8 (llama2.c)", 1, 4, 65532, q8_layer_bytes, q8_row_bytes, q8_read_row,
     quantized_input_group_size, q8_matvec, q8_row_spans},
    {"int8", 1, 4, 65532, q8r_layer_bytes, q8r_row_bytes, q8r_read_row,
     quantized_input_group_size, q8r_matvec, q8r_row_spans},
    {"int4", 1, 8, 512, q4_layer_bytes, q4_row_bytes, q4_read_row, quantized_input_group_size,
     q4_matvec, q4_row_spans},
};

const char *pl_wtype_name(pl_wtype type) {
    return (unsigned)type < PL_WTYPE_COUNT ? pl_wtypes[type].name : "unknown";
}

/* ---- products through the table ------------------------------------------- */

void pl_input_set(pl_input *in, const float *x, int n) {
    in->f = x;
    in->n = n;
    in->q8.group_size = 0;
}

int pl_input_group_wanted(const pl_input *in, const pl_tensor *t) {
    int gs = pl_wtypes[t->type].input_group_size(t);
    return gs != 0 && in->q8.group_size != gs ? gs : 0;
}

void pl_input_quantize_part(pl_input *in, int gs, int j0, int j1) {
    plk_quantize_q8(in->q8_values + j0, in->q8_scales + j0 / gs, in->q8_wide + j0 / 2, in->f + j0,
                    j1 - j0, gs);
}

void pl_input_quantized(pl_input *in, int gs) {
    in->q8.q = in->q8_values;
    in->q8.scales = in->q8_scales;
    in->q8.wide = in->q8_wide;
    in->q8.n = in->n;
    in->q8.group_size = gs;
}

void pl_input_prepare(pl_input *in, const pl_tensor *t) {
    int gs = pl_input_group_wanted(in, t);
    if (gs) {
        pl_input_quantize_part(in, gs, 0, in->n);
        pl_input_quantized(in, gs);
    }
}
