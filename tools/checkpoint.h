/*
 * The trainer's checkpoints: the parameters and both Adam moments, so a run
 * resumes bit for bit. A "PLR1" header (magic, the 8 config fields, the
 * thread count the gradient sums depend on, the step, the data sampler's
 * state), then params, m and v as fp32, each tr_layout_of(config).total
 * long. Written whole and renamed into place (output_file.h).
 */
#ifndef PL_CHECKPOINT_H
#define PL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "trainer.h"

typedef struct {
    tr_config c;
    int threads;
    long step;
    uint64_t rng;
} pl_checkpoint_state;

/* Returns 0, or -1 after a message. */
int pl_checkpoint_save(const char *path, const pl_checkpoint_state *s, const float *p, const float *m,
                       const float *v, size_t n);

/* Reads a checkpoint, its header checked (every size bounded, the file
 * exactly as long as they say) before anything is allocated. *p, *m, *v are
 * malloc'd, n floats each. Returns 0, or after a message PL_EXIT_NOINPUT
 * (cannot open or read it) or PL_EXIT_DATAERR (not a checkpoint, or
 * damaged); nothing is left allocated then. */
int pl_checkpoint_load(const char *path, pl_checkpoint_state *s, float **p, float **m, float **v,
                       size_t *n);

#endif
