/*
 * The Llama-2 forward and backward passes for training, in fp32.
 * Notation: T tokens, D = dim, KV = kv_dim, H = hidden_dim, V = vocab,
 * NH heads of size hs, L layers. Matrices are [out][in], as in llama2.c.
 */
#include "trainer.h"
#include "output_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tr_layout tr_layout_of(const tr_config *c) {
    size_t D = (size_t)c->dim, H = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    size_t KV = D / (size_t)c->n_heads * (size_t)c->n_kv_heads, V = (size_t)c->vocab_size;
    tr_layout l;
    size_t o = 0;
    l.emb = o; o += V * D;
    l.rms_att = o; o += L * D;
    l.wq = o; o += L * D * D;
    l.wk = o; o += L * KV * D;
    l.wv = o; o += L * KV * D;
    l.wo = o; o += L * D * D;
    l.rms_ffn = o; o += L * D;
    l.w1 = o; o += L * H * D;
    l.w2 = o; o += L * D * H;
    l.w3 = o; o += L * H * D;
    l.rms_final = o; o += D;
    l.wcls = c->shared_classifier ? l.emb : o;
    if (!c->shared_classifier) o += V * D;
    l.total = o;
    return l;
}

void tr_quantized_view(const tr_config *c, const pl_convert_type to[PL_CLASS_COUNT], const float *params,
                       float *out, int part, int parts) {
    tr_layout l = tr_layout_of(c);
    size_t D = (size_t)c->dim, H = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    size_t KV = D / (size_t)c->n_heads * (size_t)c->n_kv_heads, V = (size_t)c->vocab_size;
    const struct { size_t at, rows, cols; pl_tensor_class cls; } m[] = {
        {l.emb, V, D, PL_CLASS_EMBEDDING},      {l.wq, L * D, D, PL_CLASS_ATTENTION},
        {l.wk, L * KV, D, PL_CLASS_ATTENTION},  {l.wv, L * KV, D, PL_CLASS_ATTENTION},
        {l.wo, L * D, D, PL_CLASS_ATTENTION},   {l.w1, L * H, D, PL_CLASS_FFN},
        {l.w2, L * D, H, PL_CLASS_FFN},         {l.w3, L * H, D, PL_CLASS_FFN},
        {l.wcls, c->shared_classifier ? 0 : V, D, PL_CLASS_EMBEDDING}};
    if (part == 0) {
        memcpy(out + l.rms_att, params + l.rms_att, sizeof(float) * L * D);
        memcpy(out + l.rms_ffn, params + l.rms_ffn, sizeof(float) * L * D);
        memcpy(out + l.rms_final, params + l.rms_final, sizeof(float) * D);
    }
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++)
        for (size_t r = (size_t)part; r < m[k].rows; r += (size_t)parts) {
            float *row = out + m[k].at + r * m[k].cols;
            memcpy(row, params + m[k].at + r * m[k].cols, sizeof(float) * m[k].cols);
            pl_convert_round_trip_row(row, (int)m[k].cols, to[m[k].cls]);
        }
}

/* ---- allocation ------------------------------------------------------------ */

int tr_acts_alloc(tr_acts *a, const tr_config *c) {
    size_t T = (size_t)c->seq_len, D = (size_t)c->dim, H = (size_t)c->hidden_dim;
    size_t L = (size_t)c->n_layers, V = (size_t)c->vocab_size, NH = (size_t)c->n_heads;
    size_t KV = D / NH * (size_t)c->n_kv_heads, hs = D / NH;
    memset(a, 0, sizeof *a);
    a->c = *c;
#define TAKE(field, n) if (!(a->field = calloc((n), sizeof(float)))) return -1
    TAKE(x, (L + 1) * T * D);
    TAKE(xn1, L * T * D); TAKE(rstd1, L * T);
    TAKE(q, L * T * D); TAKE(k, L * T * KV); TAKE(v, L * T * KV);
    TAKE(att, L * NH * T * T);
    TAKE(ao, L * T * D); TAKE(xmid, L * T * D);
    TAKE(xn2, L * T * D); TAKE(rstd2, L * T);
    TAKE(h1, L * T * H); TAKE(h3, L * T * H); TAKE(hg, L * T * H);
    TAKE(xf, T * D); TAKE(rstdf, T);
    TAKE(probs, T * V);
    TAKE(rope_cos, T * hs / 2); TAKE(rope_sin, T * hs / 2);
    TAKE(dx, T * D); TAKE(dxn, T * D); TAKE(dq, T * D); TAKE(dk, T * KV); TAKE(dv, T * KV);
    TAKE(dao, T * D); TAKE(dh1, T * H); TAKE(dh3, T * H); TAKE(dhg, T * H);
    TAKE(datt, T * T); TAKE(kvt, hs * T);
    TAKE(wt, D * (V > H ? (V > D ? V : D) : (H > D ? H : D)));
#undef TAKE
    /* The engine's angles: pair k of a head turns by pos / 10000^(2k/hs). */
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < hs / 2; k++) {
            float freq = 1.0f / powf(10000.0f, (float)(2 * k) / (float)hs);
            float val = (float)t * freq;
            a->rope_cos[t * (hs / 2) + k] = cosf(val);
            a->rope_sin[t * (hs / 2) + k] = sinf(val);
        }
    return 0;
}

void tr_acts_free(tr_acts *a) {
    float **fields[] = {&a->x, &a->xn1, &a->rstd1, &a->q, &a->k, &a->v, &a->att, &a->ao,
                        &a->xmid, &a->xn2, &a->rstd2, &a->h1, &a->h3, &a->hg, &a->xf,
                        &a->rstdf, &a->probs, &a->rope_cos, &a->rope_sin, &a->dx, &a->dxn,
                        &a->dq, &a->dk, &a->dv, &a->dao, &a->dh1, &a->dh3, &a->dhg, &a->datt,
                        &a->kvt, &a->wt};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

/* ---- init ------------------------------------------------------------------ */

static uint32_t rng_u32(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545F4914F6CDD1Dull) >> 32);
}

static float rng_normal(uint64_t *s) {
    float u1 = ((float)(rng_u32(s) >> 8) + 0.5f) / 16777216.0f;
    float u2 = (float)(rng_u32(s) >> 8) / 16777216.0f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

void tr_init_params(const tr_config *c, float *p, uint64_t seed) {
    tr_layout l = tr_layout_of(c);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    float resid = 0.02f / sqrtf(2.0f * (float)c->n_layers);
    for (size_t i = 0; i < l.total; i++) p[i] = 0.02f * rng_normal(&s);
    size_t D = (size_t)c->dim, L = (size_t)c->n_layers, H = (size_t)c->hidden_dim;
    for (size_t i = 0; i < L * D; i++) p[l.rms_att + i] = p[l.rms_ffn + i] = 1.0f;
    for (size_t i = 0; i < D; i++) p[l.rms_final + i] = 1.0f;
    for (size_t i = 0; i < L * D * D; i++) p[l.wo + i] = resid * rng_normal(&s);
    for (size_t i = 0; i < L * D * H; i++) p[l.w2 + i] = resid * rng_normal(&s);
}

/* ---- kernels ----------------------------------------------------------------- */

/* On x86-64, a second build of the hot loops for CPUs with AVX2 and FMA,
 * chosen at run time (GCC's function multiversioning): 8-wide vectors and
 * fused multiply-adds where the baseline build has 4-wide SSE2. The sums
 * are reductions the compiler may reorder (-ffast-math), so a run is
 * repeatable for a binary, not across binaries. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define TR_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TR_HOT
#endif

/* Every matrix product of the two passes, the attention's included, is
 * one blocked product, gemm below: a tile of GEMM_MR rows by GEMM_NR
 * columns of C is summed in registers over the whole inner dimension and
 * written once, each B row segment loaded once for GEMM_MR rows. This
 * took the built-in model's training from about 5,400 to 9,300 tokens/s
 * on two cores (docs/builtin-model.md). GCC's and clang's vector
 * extensions say "8 floats" once; the compiler maps them to AVX (or to
 * two SSE2 halves in the baseline build). */
typedef float tr_v8 __attribute__((vector_size(32)));
#define GEMM_MR 4
#define GEMM_NR 16
#define V8_LOAD(v, p) memcpy(&(v), (p), sizeof(tr_v8))
#define V8_STORE(p, v) memcpy((p), &(v), sizeof(tr_v8))

/* Which part of the inner dimension k (or of the columns n) a row tile
 * m0..m0+GEMM_MR-1 needs, for the causal products of attention: entries
 * of A past the tile's last row (k <= m) or before its first (k >= m) are
 * zero there, and columns past the tile's last row are not read. */
enum { GEMM_ALL, GEMM_K_UPTO_M, GEMM_K_FROM_M, GEMM_N_UPTO_M };

/* C[m][n] (=, or += with accumulate) sum over k of A(m,k) * B[k][n], for m < M,
 * n < N, k < K; A(m,k) is A[m * a_row + k * a_col], so A may be read
 * transposed; B and C are row-major with row strides ldb and ldc. */
TR_HOT static void gemm(float *C, int ldc, const float *A, int a_row, int a_col, const float *B,
                        int ldb, int M, int N, int K, int span, int accumulate) {
    for (int m0 = 0; m0 < M; m0 += GEMM_MR) {
        int mr = M - m0 < GEMM_MR ? M - m0 : GEMM_MR;
        int k_lo = span == GEMM_K_FROM_M ? m0 : 0;
        int k_hi = span == GEMM_K_UPTO_M && m0 + GEMM_MR < K ? m0 + GEMM_MR : K;
        int n_hi = span == GEMM_N_UPTO_M && m0 + GEMM_MR < N ? m0 + GEMM_MR : N;
        const float *a = A + (size_t)m0 * a_row;
        /* whole vector tiles: up to n_hi, or for GEMM_N_UPTO_M past it to the
         * tile's end (the extra columns are not read) while they fit in N */
        int n_vec = span == GEMM_N_UPTO_M ? (n_hi + GEMM_NR - 1) / GEMM_NR * GEMM_NR : n_hi;
        if (n_vec > N / GEMM_NR * GEMM_NR) n_vec = N / GEMM_NR * GEMM_NR;
        if (mr < GEMM_MR) n_vec = 0;
        int n0 = 0;
        for (; n0 < n_vec; n0 += GEMM_NR) {
            tr_v8 acc[GEMM_MR][2];
            for (int r = 0; r < GEMM_MR; r++) {
                float *c = C + (size_t)(m0 + r) * ldc + n0;
                if (accumulate) {
                    V8_LOAD(acc[r][0], c);
                    V8_LOAD(acc[r][1], c + 8);
                } else {
                    acc[r][0] = acc[r][1] = (tr_v8){0};
                }
            }
            for (int k = k_lo; k < k_hi; k++) {
                const float *b = B + (size_t)k * ldb + n0, *ak = a + (size_t)k * a_col;
                tr_v8 b0, b1;
                V8_LOAD(b0, b);
                V8_LOAD(b1, b + 8);
                for (int r = 0; r < GEMM_MR; r++) {
                    float x = ak[(size_t)r * a_row];
                    acc[r][0] += x * b0;
                    acc[r][1] += x * b1;
                }
            }
            for (int r = 0; r < GEMM_MR; r++) {
                float *c = C + (size_t)(m0 + r) * ldc + n0;
                V8_STORE(c, acc[r][0]);
                V8_STORE(c + 8, acc[r][1]);
            }
        }
        /* the columns left over, and the rows of a last partial tile */
        for (int r = 0; r < mr; r++)
            for (int n = n0; n < n_hi; n++) {
                float s = accumulate ? C[(size_t)(m0 + r) * ldc + n] : 0.0f;
                for (int k = k_lo; k < k_hi; k++)
                    s += a[(size_t)r * a_row + (size_t)k * a_col] * B[(size_t)k * ldb + n];
                C[(size_t)(m0 + r) * ldc + n] = s;
            }
    }
}

/* dst[i][r] = src[r][i] for r < rows, i < cols (src rows ld apart): the
 * shape gemm's B needs, with the dimension of the sum along dst's rows. */
static void transpose(float *dst, const float *src, int rows, int cols, int ld) {
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < cols; i++) dst[(size_t)i * rows + r] = src[(size_t)r * ld + i];
}

/* Y[T][O] = X[T][I] . W[O][I]^T, through W transposed into wt ([I][O]) */
static void mm_forward(float *Y, const float *X, const float *W, float *wt, int T, int I, int O) {
    transpose(wt, W, O, I, I);
    gemm(Y, O, X, I, 1, wt, O, T, O, I, GEMM_ALL, 0);
}

/* dX[T][I] += dY[T][O] . W[O][I];  dW[O][I] += dY^T . X (dX may be NULL) */
static void mm_backward(float *dX, float *dW, const float *dY, const float *X, const float *W,
                        int T, int I, int O) {
    if (dX) gemm(dX, I, dY, O, 1, W, I, T, I, O, GEMM_ALL, 1);
    gemm(dW, I, dY, 1, O, X, I, O, I, T, GEMM_ALL, 1);
}

/* Attention probabilities (and their gradients) stored per row t of a
 * head: entries past t up to the end of t's row tile are zero, so the
 * causal products (GEMM_K_UPTO_M, GEMM_K_FROM_M) may run over whole tiles. */
static void zero_past_diagonal(float *row, int t, int T) {
    int end = (t | (GEMM_MR - 1)) + 1;
    for (int u = t + 1; u < end && u < T; u++) row[u] = 0.0f;
}

static void rms_forward(float *y, float *rstd, const float *x, const float *g, int T, int D) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * D;
        float ss = 0.0f;
        for (int i = 0; i < D; i++) ss += xt[i] * xt[i];
        float r = 1.0f / sqrtf(ss / (float)D + 1e-5f);
        rstd[t] = r;
        for (int i = 0; i < D; i++) y[(size_t)t * D + i] = g[i] * (xt[i] * r);
    }
}

/* dx += d(rmsnorm)/dx . dy; dg += dy * x * rstd */
static void rms_backward(float *dx, float *dg, const float *dy, const float *x,
                         const float *rstd, const float *g, int T, int D) {
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * D, *dyt = dy + (size_t)t * D;
        float r = rstd[t], dot = 0.0f;
        for (int i = 0; i < D; i++) {
            dot += dyt[i] * g[i] * xt[i];
            dg[i] += dyt[i] * xt[i] * r;
        }
        float k = dot * r * r * r / (float)D;
        for (int i = 0; i < D; i++) dx[(size_t)t * D + i] += dyt[i] * g[i] * r - xt[i] * k;
    }
}

/* Rotates (or, with sign -1, rotates back) pairs within heads. */
static void rope(float *v, const tr_acts *a, int T, int width, float sign) {
    int hs = a->c.dim / a->c.n_heads, half = hs / 2;
    for (int t = 0; t < T; t++) {
        const float *cs = a->rope_cos + (size_t)t * half, *sn = a->rope_sin + (size_t)t * half;
        float *vt = v + (size_t)t * width;
        for (int i = 0; i < width; i += 2) {
            int k = (i % hs) / 2;
            float c = cs[k], s = sign * sn[k];
            float v0 = vt[i], v1 = vt[i + 1];
            vt[i] = v0 * c - v1 * s;
            vt[i + 1] = v0 * s + v1 * c;
        }
    }
}

/* ---- forward ----------------------------------------------------------------- */

TR_HOT double tr_forward(tr_acts *a, const float *p, const int *tokens, const int *targets, int T) {
    const tr_config *c = &a->c;
    tr_layout lay = tr_layout_of(c);
    int D = c->dim, H = c->hidden_dim, NH = c->n_heads, hs = D / NH;
    int KV = hs * c->n_kv_heads, kv_mul = NH / c->n_kv_heads, V = c->vocab_size, S = c->seq_len;
    float scale = 1.0f / sqrtf((float)hs);
    a->T = T;
    for (int t = 0; t < T; t++)
        memcpy(a->x + (size_t)t * D, p + lay.emb + (size_t)tokens[t] * D, sizeof(float) * (size_t)D);
    for (int l = 0; l < c->n_layers; l++) {
        size_t lD = (size_t)l * S * D, lKV = (size_t)l * S * KV, lH = (size_t)l * S * H;
        float *x = a->x + lD, *xn1 = a->xn1 + lD, *q = a->q + lD, *k = a->k + lKV, *v = a->v + lKV;
        float *ao = a->ao + lD, *xmid = a->xmid + lD, *xn2 = a->xn2 + lD;
        float *h1 = a->h1 + lH, *h3 = a->h3 + lH, *hg = a->hg + lH;
        float *att = a->att + (size_t)l * NH * S * S;
        rms_forward(xn1, a->rstd1 + (size_t)l * S, x, p + lay.rms_att + (size_t)l * D, T, D);
        mm_forward(q, xn1, p + lay.wq + (size_t)l * D * D, a->wt, T, D, D);
        mm_forward(k, xn1, p + lay.wk + (size_t)l * KV * D, a->wt, T, D, KV);
        mm_forward(v, xn1, p + lay.wv + (size_t)l * KV * D, a->wt, T, D, KV);
        rope(q, a, T, D, 1.0f);
        rope(k, a, T, KV, 1.0f);
        for (int g = 0; g < c->n_kv_heads; g++) {
            transpose(a->kvt, k + g * hs, T, hs, KV);
            for (int h = g * kv_mul; h < (g + 1) * kv_mul; h++) {
                float *P = att + (size_t)h * S * S;
                /* scores q_t . k_u for u <= t, then each row's softmax */
                gemm(P, S, q + h * hs, D, 1, a->kvt, T, T, T, hs, GEMM_N_UPTO_M, 0);
                for (int t = 0; t < T; t++) {
                    float *row = P + (size_t)t * S, mx = -1e30f, sum = 0.0f;
                    for (int u = 0; u <= t; u++) {
                        row[u] *= scale;
                        if (row[u] > mx) mx = row[u];
                    }
                    for (int u = 0; u <= t; u++) sum += (row[u] = expf(row[u] - mx));
                    float inv = 1.0f / sum;
                    for (int u = 0; u <= t; u++) row[u] *= inv;
                    zero_past_diagonal(row, t, T);
                }
                /* the head's output: sum over u <= t of P[t][u] v_u */
                gemm(ao + h * hs, D, P, S, 1, v + g * hs, KV, T, hs, T, GEMM_K_UPTO_M, 0);
            }
        }
        mm_forward(xmid, ao, p + lay.wo + (size_t)l * D * D, a->wt, T, D, D);
        for (int i = 0; i < T * D; i++) xmid[i] += x[i];
        rms_forward(xn2, a->rstd2 + (size_t)l * S, xmid, p + lay.rms_ffn + (size_t)l * D, T, D);
        mm_forward(h1, xn2, p + lay.w1 + (size_t)l * H * D, a->wt, T, D, H);
        mm_forward(h3, xn2, p + lay.w3 + (size_t)l * H * D, a->wt, T, D, H);
        for (int i = 0; i < T * H; i++) hg[i] = h1[i] / (1.0f + expf(-h1[i])) * h3[i];
        float *xnext = a->x + lD + (size_t)S * D;
        mm_forward(xnext, hg, p + lay.w2 + (size_t)l * D * H, a->wt, T, H, D);
        for (int i = 0; i < T * D; i++) xnext[i] += xmid[i];
    }
    const float *xl = a->x + (size_t)c->n_layers * S * D;
    rms_forward(a->xf, a->rstdf, xl, p + lay.rms_final, T, D);
    mm_forward(a->probs, a->xf, p + lay.wcls, a->wt, T, D, V);
    double loss = 0.0;
    for (int t = 0; t < T; t++) {
        float *row = a->probs + (size_t)t * V, mx = row[0], sum = 0.0f;
        for (int i = 1; i < V; i++) if (row[i] > mx) mx = row[i];
        for (int i = 0; i < V; i++) sum += (row[i] = expf(row[i] - mx));
        float inv = 1.0f / sum;
        for (int i = 0; i < V; i++) row[i] *= inv;
        if (targets) loss -= log((double)row[targets[t]] + 1e-30);
    }
    return loss;
}

/* ---- backward ---------------------------------------------------------------- */

TR_HOT void tr_backward(tr_acts *a, const float *p, float *gr, const int *tokens,
                 const int *targets, float scale) {
    const tr_config *c = &a->c;
    tr_layout lay = tr_layout_of(c);
    int T = a->T, D = c->dim, H = c->hidden_dim, NH = c->n_heads, hs = D / NH;
    int KV = hs * c->n_kv_heads, kv_mul = NH / c->n_kv_heads, V = c->vocab_size, S = c->seq_len;
    float att_scale = 1.0f / sqrtf((float)hs);
    float *dx = a->dx;

    /* classifier and final norm: the probabilities become the logits'
     * gradients in place (the forward pass is done with them) */
    for (int t = 0; t < T; t++) {
        float *row = a->probs + (size_t)t * V;
        for (int i = 0; i < V; i++) row[i] *= scale;
        row[targets[t]] -= scale;
    }
    memset(a->dxn, 0, sizeof(float) * (size_t)T * D);
    mm_backward(a->dxn, gr + lay.wcls, a->probs, a->xf, p + lay.wcls, T, D, V);
    memset(dx, 0, sizeof(float) * (size_t)T * D);
    rms_backward(dx, gr + lay.rms_final, a->dxn, a->x + (size_t)c->n_layers * S * D, a->rstdf,
                 p + lay.rms_final, T, D);

    for (int l = c->n_layers - 1; l >= 0; l--) {
        size_t lD = (size_t)l * S * D, lKV = (size_t)l * S * KV, lH = (size_t)l * S * H;
        const float *x = a->x + lD, *xn1 = a->xn1 + lD, *q = a->q + lD, *k = a->k + lKV;
        const float *v = a->v + lKV, *ao = a->ao + lD, *xmid = a->xmid + lD, *xn2 = a->xn2 + lD;
        const float *h1 = a->h1 + lH, *h3 = a->h3 + lH, *hg = a->hg + lH;
        const float *att = a->att + (size_t)l * NH * S * S;

        /* feed-forward: dx is the gradient at the layer's output */
        memset(a->dhg, 0, sizeof(float) * (size_t)T * H);
        mm_backward(a->dhg, gr + lay.w2 + (size_t)l * D * H, dx, hg, p + lay.w2 + (size_t)l * D * H, T, H, D);
        for (int i = 0; i < T * H; i++) {
            float sig = 1.0f / (1.0f + expf(-h1[i]));
            float silu = h1[i] * sig;
            a->dh3[i] = a->dhg[i] * silu;
            a->dh1[i] = a->dhg[i] * h3[i] * sig * (1.0f + h1[i] * (1.0f - sig));
        }
        memset(a->dxn, 0, sizeof(float) * (size_t)T * D);
        mm_backward(a->dxn, gr + lay.w1 + (size_t)l * H * D, a->dh1, xn2, p + lay.w1 + (size_t)l * H * D, T, D, H);
        mm_backward(a->dxn, gr + lay.w3 + (size_t)l * H * D, a->dh3, xn2, p + lay.w3 + (size_t)l * H * D, T, D, H);
        /* dx (into xmid) = dx (residual) + norm backward */
        rms_backward(dx, gr + lay.rms_ffn + (size_t)l * D, a->dxn, xmid, a->rstd2 + (size_t)l * S,
                     p + lay.rms_ffn + (size_t)l * D, T, D);

        /* attention output projection */
        memset(a->dao, 0, sizeof(float) * (size_t)T * D);
        mm_backward(a->dao, gr + lay.wo + (size_t)l * D * D, dx, ao, p + lay.wo + (size_t)l * D * D, T, D, D);
        memset(a->dk, 0, sizeof(float) * (size_t)T * KV);
        memset(a->dv, 0, sizeof(float) * (size_t)T * KV);
        for (int g = 0; g < c->n_kv_heads; g++) {
            transpose(a->kvt, v + g * hs, T, hs, KV);
            for (int h = g * kv_mul; h < (g + 1) * kv_mul; h++) {
                const float *P = att + (size_t)h * S * S, *dout = a->dao + h * hs;
                float *dS = a->datt;
                /* dP[t][u] = dout_t . v_u, then through the softmax: dS */
                gemm(dS, S, dout, D, 1, a->kvt, T, T, T, hs, GEMM_N_UPTO_M, 0);
                for (int t = 0; t < T; t++) {
                    const float *pr = P + (size_t)t * S;
                    float *row = dS + (size_t)t * S, sum = 0.0f;
                    for (int u = 0; u <= t; u++) sum += row[u] * pr[u];
                    for (int u = 0; u <= t; u++) row[u] = pr[u] * (row[u] - sum) * att_scale;
                    zero_past_diagonal(row, t, T);
                }
                /* dv_u += sum over t >= u of P[t][u] dout_t; dq_t = dS_t . k;
                 * dk_u += sum over t >= u of dS[t][u] q_t */
                gemm(a->dv + g * hs, KV, P, 1, S, dout, D, T, hs, T, GEMM_K_FROM_M, 1);
                gemm(a->dq + h * hs, D, dS, S, 1, k + g * hs, KV, T, hs, T, GEMM_K_UPTO_M, 0);
                gemm(a->dk + g * hs, KV, dS, 1, S, q + h * hs, D, T, hs, T, GEMM_K_FROM_M, 1);
            }
        }
        rope(a->dq, a, T, D, -1.0f);
        rope(a->dk, a, T, KV, -1.0f);
        memset(a->dxn, 0, sizeof(float) * (size_t)T * D);
        mm_backward(a->dxn, gr + lay.wq + (size_t)l * D * D, a->dq, xn1, p + lay.wq + (size_t)l * D * D, T, D, D);
        mm_backward(a->dxn, gr + lay.wk + (size_t)l * KV * D, a->dk, xn1, p + lay.wk + (size_t)l * KV * D, T, D, KV);
        mm_backward(a->dxn, gr + lay.wv + (size_t)l * KV * D, a->dv, xn1, p + lay.wv + (size_t)l * KV * D, T, D, KV);
        rms_backward(dx, gr + lay.rms_att + (size_t)l * D, a->dxn, x, a->rstd1 + (size_t)l * S,
                     p + lay.rms_att + (size_t)l * D, T, D);
    }
    for (int t = 0; t < T; t++) {
        float *ge = gr + lay.emb + (size_t)tokens[t] * D;
        for (int i = 0; i < D; i++) ge[i] += dx[(size_t)t * D + i];
    }
}

/* ---- AdamW --------------------------------------------------------------------- */

void tr_adamw_step(const tr_config *c, const tr_adamw *o, float *p, const float *g,
                   float *m, float *v, long t) {
    tr_layout l = tr_layout_of(c);
    float b1c = 1.0f - powf(o->beta1, (float)t), b2c = 1.0f - powf(o->beta2, (float)t);
    for (size_t i = 0; i < l.total; i++) {
        int is_norm = (i >= l.rms_att && i < l.wq) || (i >= l.rms_ffn && i < l.w1) ||
                      (i >= l.rms_final && i < l.rms_final + (size_t)c->dim);
        m[i] = o->beta1 * m[i] + (1.0f - o->beta1) * g[i];
        v[i] = o->beta2 * v[i] + (1.0f - o->beta2) * g[i] * g[i];
        float update = (m[i] / b1c) / (sqrtf(v[i] / b2c) + o->eps);
        if (!is_norm) update += o->weight_decay * p[i];
        p[i] -= o->lr * update;
    }
}

/* ---- export -------------------------------------------------------------------- */

int tr_export_v0(const char *path, const tr_config *c, const float *p) {
    tr_layout l = tr_layout_of(c);
    pl_output out;
    if (pl_output_open(&out, path, NULL, 0)) return -1;
    FILE *f = out.f;
    int32_t hdr[7] = {c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
                      c->shared_classifier ? c->vocab_size : -c->vocab_size, c->seq_len};
    int ok = fwrite(hdr, sizeof hdr, 1, f) == 1;
    ok = ok && fwrite(p, sizeof(float), l.rms_final + (size_t)c->dim, f) == l.rms_final + (size_t)c->dim;
    /* the legacy format's RoPE tables: unused by every reader, written as zeros */
    size_t rope = (size_t)c->seq_len * (size_t)(c->dim / c->n_heads);
    float zero = 0.0f;
    for (size_t i = 0; ok && i < rope; i++) ok = fwrite(&zero, sizeof zero, 1, f) == 1;
    if (ok && !c->shared_classifier)
        ok = fwrite(p + l.wcls, sizeof(float), (size_t)c->vocab_size * (size_t)c->dim, f) ==
             (size_t)c->vocab_size * (size_t)c->dim;
    if (!ok) {
        pl_output_discard(&out);
        return -1;
    }
    return pl_output_commit(&out) == 0 ? 0 : -1;
}
