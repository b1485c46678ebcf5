/* fp32 checkpoints (versions 0 and 1) to llama2.c's int8 version 2. */
#ifndef PL_QUANTIZE_H
#define PL_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "picollama.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantizes as export.py's version2_export does: every matrix, layer by
 * layer, in groups of group_size values (0: 64, halved until it divides
 * dim), scale = max|w| / 127, q = round(w / scale) with halves to even;
 * norms stay fp32. *out is malloc'd. */
pl_status pl_quantize_model(const void *model, size_t size, int group_size, uint8_t **out,
                            size_t *out_size, pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
