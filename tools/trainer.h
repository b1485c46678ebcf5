/*
 * Training a Llama-2-architecture model on a CPU: parameters, the forward
 * pass with everything the backward pass needs kept, the backward pass, and
 * AdamW. One sequence at a time per call; cli_train.c runs sequences on all
 * cores and adds their gradients in a fixed order.
 *
 * The parameters are one array in llama2.c's version-0 tensor order, so the
 * export is a header and a copy.
 */
#ifndef PL_TRAINER_H
#define PL_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "convert.h"

typedef struct {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier;
} tr_config;

/* Offsets (in floats) of each tensor in the parameter array. */
typedef struct {
    size_t emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, wcls;
    size_t total;
} tr_layout;

tr_layout tr_layout_of(const tr_config *c);

/* Everything one sequence's forward pass keeps for its backward pass. */
typedef struct {
    tr_config c;
    int T; /* tokens in this sequence (<= seq_len) */
    float *x;      /* [L+1][T][D] residual stream entering each layer, and the last */
    float *xn1, *rstd1;   /* [L][T][D], [L][T] */
    float *q, *k, *v;     /* [L][T][D], [L][T][KV], [L][T][KV]; q, k after RoPE */
    float *att;           /* [L][NH][T][T] probabilities */
    float *ao;            /* [L][T][D] attention output before wo */
    float *xmid;          /* [L][T][D] after the attention residual */
    float *xn2, *rstd2;   /* [L][T][D], [L][T] */
    float *h1, *h3, *hg;  /* [L][T][H] */
    float *xf, *rstdf;    /* [T][D], [T] final norm */
    float *probs;         /* [T][V] */
    float *rope_cos, *rope_sin; /* [seq_len][hs/2] */
    /* backward scratch */
    float *dx, *dxn, *dq, *dk, *dv, *dao, *dh1, *dh3, *dhg;
    float *datt;          /* [T][T] one head's attention gradients */
    float *kvt;           /* [hs][T] one kv head's keys or values, transposed */
    float *wt;            /* [in][out] the largest matrix, transposed for a product */
} tr_acts;

int tr_acts_alloc(tr_acts *a, const tr_config *c);
void tr_acts_free(tr_acts *a);

/* Random init (normal, std 0.02; residual projections scaled by
 * 1/sqrt(2 * layers); norms 1). */
void tr_init_params(const tr_config *c, float *params, uint64_t seed);

/* Forward over tokens[0..T) predicting targets[0..T) (targets may be NULL
 * for logits only). Returns the summed cross-entropy in nats. */
double tr_forward(tr_acts *a, const float *params, const int *tokens,
                  const int *targets, int T);

/* Backward of tr_forward's loss times scale, added into grads. */
void tr_backward(tr_acts *a, const float *params, float *grads,
                 const int *tokens, const int *targets, float scale);

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
} tr_adamw;

/* One AdamW step at step number t (from 1). Decay applies to matrices
 * (embedding included), not to the norm weights. */
void tr_adamw_step(const tr_config *c, const tr_adamw *o, float *params,
                   const float *grads, float *m, float *v, long t);

/* Quantization-aware training: out = params with every matrix as the engine
 * reads it after `picollama convert` with `to` as its types, one per tensor
 * class (to[PL_CLASS_EMBEDDING] for the embedding and the classifier,
 * PL_CLASS_ATTENTION for wq wk wv wo, PL_CLASS_FFN for w1 w2 w3;
 * pl_convert_round_trip_row on each row, fp32 a plain copy); the norms as
 * they are. The passes run on out, and their gradient updates
 * params (the straight-through estimate). Rows are shared among `parts`
 * callers: this one takes rows part, part + parts, ... of each matrix, and
 * the norms when part is 0. */
void tr_quantized_view(const tr_config *c, const pl_convert_type to[PL_CLASS_COUNT], const float *params,
                       float *out, int part, int parts);

/* Writes a llama2.c version-0 checkpoint (run.c, the engine and the original
 * PicoLlama read it). Returns 0 on success. */
int tr_export_v0(const char *path, const tr_config *c, const float *params);

#endif
