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
 * layer, in groups of group_size values, scale = max|w| / 127,
 * q = round(w / scale) with halves to even; norms stay fp32. The group size
 * must give every row whole groups (a multiple of 4 dividing dim and
 * hidden_dim); 0 picks pl_quantize_default_group_size(). Unlike export.py
 * (which only checks dim), no file it writes makes runq.c drop weights.
 * *out is malloc'd. */
/* The largest fitting group size up to 64; 0 if none fits. */
int pl_quantize_default_group_size(const pl_model_info *m);

pl_status pl_quantize_model(const void *model, size_t size, int group_size, uint8_t **out,
                            size_t *out_size, pl_error *err);

/* The writer alone, with export.py's own condition (group_size divides
 * dim): it can write the files runq.c mishandles, as karpathy's
 * stories260K_q80.bin is. For tests. */
pl_status pl_write_q8_model(const void *model, size_t size, int group_size, uint8_t **out,
                            size_t *out_size, pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
