/*
 * Any checkpoint the engine reads (llama2.c versions 0, 1, 2, or a
 * PicoLlama file) to a PicoLlama model file (docs/model-format.md), with a
 * weight type and group size per class of tensors and the tokenizer inside.
 */
#ifndef PL_CONVERT_H
#define PL_CONVERT_H

#include <stdio.h>

#include "picollama.h"

typedef struct {
    pl_wtype type; /* PL_WTYPE_F32, PL_WTYPE_Q8_ROWS or PL_WTYPE_Q4 */
    int group_size;
} pl_convert_type;

/* Classes of tensors that take one type (the norms are always fp32). */
typedef enum {
    PL_CLASS_EMBEDDING = 0, /* the embedding and the classifier */
    PL_CLASS_ATTENTION,     /* wq, wk, wv, wo */
    PL_CLASS_FFN,           /* w1, w2, w3 */
    PL_CLASS_COUNT
} pl_tensor_class;

/* Each class's name: "embedding", "attention", "ffn" (convert's flags are
 * "--" and the name; train's --quantize-aware lists them in this order). */
extern const char *const pl_convert_class_names[PL_CLASS_COUNT];

/* The defaults of `picollama convert` (README: chosen from the bits-per-byte
 * table). */
#define PL_CONVERT_DEFAULT_EMBEDDING "int8:32"
#define PL_CONVERT_DEFAULT_ATTENTION "int8:32"
#define PL_CONVERT_DEFAULT_FFN "int8:32"

/* "fp32", "int8", "int8:64", "int4:32" (group 32 when not given); 0 or -1. */
int pl_convert_parse_type(const char *text, pl_convert_type *out);

/* Writes the file to out (a seekable stream, positioned at its start):
 * every tensor from the model, re-quantized as types[class] says;
 * int8 (llama2.c) tensors whose group size divides their rows, asked for as
 * int8 in the same groups, are copied byte for byte (the same story). The
 * tokenizer blob (any form the engine reads; NULL and 0 for the model's
 * own) goes inside in the indexed form. */
pl_status pl_convert_model(FILE *out, const void *model, size_t model_size, const void *tokenizer,
                           size_t tokenizer_size, const pl_convert_type types[PL_CLASS_COUNT],
                           pl_error *err);

/* int8 quantization of n values (a group), export.py's rule: scale =
 * max|w| / 127, q = round(w / scale) with halves to even. Returns the
 * scale. */
float pl_quantize_q8_group(const float *w, int n, int8_t *q);

/* int4 quantization of n values (a row's group): scale and values q in
 * -8..7 with q * scale ~ w; the scale is the fp16 value (returned as its
 * bits) that minimises the squared error among candidates max|w| / t. */
uint16_t pl_quantize_q4_group(const float *w, int n, int8_t *q);

/* One row of a matrix replaced by what the engine reads back once it is
 * converted to `to` (each value its stored integer times its group's scale;
 * groups of to.group_size along the row, the last one shorter if need be):
 * what quantization-aware training trains through. fp32 leaves it as is. */
void pl_convert_round_trip_row(float *row, int cols, pl_convert_type to);

/* fp32 to IEEE half precision, rounded to nearest even (overflow to the
 * largest finite half). */
uint16_t pl_f32_to_f16(float f);

#endif
