/*
 * The Llama-2 forward and backward passes for training, in fp32.
 * Notation: T tokens, D = dim, KV = kv_dim, H = hidden_dim, V = vocab,
 * NH heads of size hs, L layers. Matrices are [out][in], as in llama2.c.
 */
#include "trainer.h"

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

void tr_quantized_view(const tr_config *c, pl_convert_type to, const float *params, float *out,
                       int part, int parts) {
    tr_layout l = tr_layout_of(c);
    size_t D = (size_t)c->dim, H = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    size_t KV = D / (size_t)c->n_heads * (size_t)c->n_kv_heads, V = (size_t)c->vocab_size;
    const struct { size_t at, rows, cols; } m[] = {
        {l.emb, V, D},      {l.wq, L * D, D},  {l.wk, L * KV, D}, {l.wv, L * KV, D}, {l.wo, L * D, D},
        {l.w1, L * H, D},   {l.w2, L * D, H},  {l.w3, L * H, D},
        {l.wcls, c->shared_classifier ? 0 : V, D}};
    if (part == 0) {
        memcpy(out + l.rms_att, params + l.rms_att, sizeof(float) * L * D);
        memcpy(out + l.rms_ffn, params + l.rms_ffn, sizeof(float) * L * D);
        memcpy(out + l.rms_final, params + l.rms_final, sizeof(float) * D);
    }
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++)
        for (size_t r = (size_t)part; r < m[k].rows; r += (size_t)parts) {
            float *row = out + m[k].at + r * m[k].cols;
            memcpy(row, params + m[k].at + r * m[k].cols, sizeof(float) * m[k].cols);
            pl_convert_round_trip_row(row, (int)m[k].cols, to);
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
    TAKE(datt, T); TAKE(dlogits, V);
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
                        &a->dlogits};
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

/* The products below take four positions at a time: each weight row is
 * read once for four input rows, and each gradient row updated once for
 * four, instead of once per position. Their sums are reductions the
 * compiler may reorder (-ffast-math), so a run is repeatable for a binary,
 * not across binaries. */
#define MM_ROWS 4

/* On x86-64, a second build of the hot loops for CPUs with AVX2 and FMA,
 * chosen at run time (GCC's function multiversioning): 8-wide vectors and
 * fused multiply-adds where the baseline build has 4-wide SSE2. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define TR_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TR_HOT
#endif

/* Y[T][O] = X[T][I] . W[O][I]^T */
TR_HOT static void mm_forward(float *Y, const float *X, const float *W, int T, int I, int O) {
    int t = 0;
    for (; t + MM_ROWS <= T; t += MM_ROWS) {
        const float *x0 = X + (size_t)t * I, *x1 = x0 + I, *x2 = x1 + I, *x3 = x2 + I;
        float *y = Y + (size_t)t * O;
        for (int o = 0; o < O; o++) {
            const float *w = W + (size_t)o * I;
            float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
            for (int i = 0; i < I; i++) {
                float wi = w[i];
                a0 += wi * x0[i];
                a1 += wi * x1[i];
                a2 += wi * x2[i];
                a3 += wi * x3[i];
            }
            y[o] = a0;
            y[O + o] = a1;
            y[2 * O + o] = a2;
            y[3 * O + o] = a3;
        }
    }
    for (; t < T; t++) {
        const float *x = X + (size_t)t * I;
        float *y = Y + (size_t)t * O;
        for (int o = 0; o < O; o++) {
            const float *w = W + (size_t)o * I;
            float acc = 0.0f;
            for (int i = 0; i < I; i++) acc += w[i] * x[i];
            y[o] = acc;
        }
    }
}

/* dX[T][I] += dY[T][O] . W[O][I];  dW[O][I] += dY^T . X */
TR_HOT static void mm_backward(float *dX, float *dW, const float *dY, const float *X,
                        const float *W, int T, int I, int O) {
    int t = 0;
    for (; t + MM_ROWS <= T; t += MM_ROWS) {
        const float *dy = dY + (size_t)t * O, *x0 = X + (size_t)t * I, *x1 = x0 + I, *x2 = x1 + I,
                    *x3 = x2 + I;
        float *dx0 = dX ? dX + (size_t)t * I : NULL, *dx1 = dx0 ? dx0 + I : NULL,
              *dx2 = dx1 ? dx1 + I : NULL, *dx3 = dx2 ? dx2 + I : NULL;
        for (int o = 0; o < O; o++) {
            float g0 = dy[o], g1 = dy[O + o], g2 = dy[2 * O + o], g3 = dy[3 * O + o];
            const float *w = W + (size_t)o * I;
            float *dw = dW + (size_t)o * I;
            if (dx0)
                for (int i = 0; i < I; i++) {
                    float wi = w[i];
                    dx0[i] += g0 * wi;
                    dx1[i] += g1 * wi;
                    dx2[i] += g2 * wi;
                    dx3[i] += g3 * wi;
                }
            for (int i = 0; i < I; i++) dw[i] += g0 * x0[i] + g1 * x1[i] + g2 * x2[i] + g3 * x3[i];
        }
    }
    for (; t < T; t++) {
        const float *dy = dY + (size_t)t * O, *x = X + (size_t)t * I;
        float *dx = dX ? dX + (size_t)t * I : NULL;
        for (int o = 0; o < O; o++) {
            float g = dy[o];
            if (g == 0.0f) continue;
            const float *w = W + (size_t)o * I;
            float *dw = dW + (size_t)o * I;
            if (dx)
                for (int i = 0; i < I; i++) dx[i] += g * w[i];
            for (int i = 0; i < I; i++) dw[i] += g * x[i];
        }
    }
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
        mm_forward(q, xn1, p + lay.wq + (size_t)l * D * D, T, D, D);
        mm_forward(k, xn1, p + lay.wk + (size_t)l * KV * D, T, D, KV);
        mm_forward(v, xn1, p + lay.wv + (size_t)l * KV * D, T, D, KV);
        rope(q, a, T, D, 1.0f);
        rope(k, a, T, KV, 1.0f);
        for (int h = 0; h < NH; h++) {
            int g = h / kv_mul;
            for (int t = 0; t < T; t++) {
                float *row = att + ((size_t)h * S + t) * S;
                const float *qt = q + (size_t)t * D + h * hs;
                float mx = -1e30f;
                for (int u = 0; u <= t; u++) {
                    const float *ku = k + (size_t)u * KV + g * hs;
                    float s = 0.0f;
                    for (int i = 0; i < hs; i++) s += qt[i] * ku[i];
                    row[u] = s * scale;
                    if (row[u] > mx) mx = row[u];
                }
                float sum = 0.0f;
                for (int u = 0; u <= t; u++) sum += (row[u] = expf(row[u] - mx));
                float inv = 1.0f / sum;
                float *o = ao + (size_t)t * D + h * hs;
                memset(o, 0, sizeof(float) * (size_t)hs);
                for (int u = 0; u <= t; u++) {
                    row[u] *= inv;
                    const float *vu = v + (size_t)u * KV + g * hs;
                    for (int i = 0; i < hs; i++) o[i] += row[u] * vu[i];
                }
            }
        }
        mm_forward(xmid, ao, p + lay.wo + (size_t)l * D * D, T, D, D);
        for (int i = 0; i < T * D; i++) xmid[i] += x[i];
        rms_forward(xn2, a->rstd2 + (size_t)l * S, xmid, p + lay.rms_ffn + (size_t)l * D, T, D);
        mm_forward(h1, xn2, p + lay.w1 + (size_t)l * H * D, T, D, H);
        mm_forward(h3, xn2, p + lay.w3 + (size_t)l * H * D, T, D, H);
        for (int i = 0; i < T * H; i++) hg[i] = h1[i] / (1.0f + expf(-h1[i])) * h3[i];
        float *xnext = a->x + lD + (size_t)S * D;
        mm_forward(xnext, hg, p + lay.w2 + (size_t)l * D * H, T, H, D);
        for (int i = 0; i < T * D; i++) xnext[i] += xmid[i];
    }
    const float *xl = a->x + (size_t)c->n_layers * S * D;
    rms_forward(a->xf, a->rstdf, xl, p + lay.rms_final, T, D);
    mm_forward(a->probs, a->xf, p + lay.wcls, T, D, V);
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

    /* classifier and final norm */
    memset(a->dxn, 0, sizeof(float) * (size_t)T * D);
    for (int t = 0; t < T; t++) {
        const float *pr = a->probs + (size_t)t * V;
        for (int i = 0; i < V; i++) a->dlogits[i] = pr[i] * scale;
        a->dlogits[targets[t]] -= scale;
        mm_backward(a->dxn + (size_t)t * D, gr + lay.wcls, a->dlogits, a->xf + (size_t)t * D,
                    p + lay.wcls, 1, D, V);
    }
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
        memset(a->dq, 0, sizeof(float) * (size_t)T * D);
        memset(a->dk, 0, sizeof(float) * (size_t)T * KV);
        memset(a->dv, 0, sizeof(float) * (size_t)T * KV);
        for (int h = 0; h < NH; h++) {
            int g = h / kv_mul;
            for (int t = 0; t < T; t++) {
                const float *row = att + ((size_t)h * S + t) * S;
                const float *dot = a->dao + (size_t)t * D + h * hs;
                float sum = 0.0f;
                for (int u = 0; u <= t; u++) {
                    const float *vu = v + (size_t)u * KV + g * hs;
                    float *dvu = a->dv + (size_t)u * KV + g * hs;
                    float d = 0.0f;
                    for (int i = 0; i < hs; i++) {
                        d += dot[i] * vu[i];
                        dvu[i] += row[u] * dot[i];
                    }
                    a->datt[u] = d;
                    sum += d * row[u];
                }
                const float *qt = q + (size_t)t * D + h * hs;
                float *dqt = a->dq + (size_t)t * D + h * hs;
                for (int u = 0; u <= t; u++) {
                    float ds = row[u] * (a->datt[u] - sum) * att_scale;
                    const float *ku = k + (size_t)u * KV + g * hs;
                    float *dku = a->dk + (size_t)u * KV + g * hs;
                    for (int i = 0; i < hs; i++) {
                        dqt[i] += ds * ku[i];
                        dku[i] += ds * qt[i];
                    }
                }
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
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
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
    return (fclose(f) == 0 && ok) ? 0 : -1;
}
