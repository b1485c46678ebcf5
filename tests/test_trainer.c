/*
 * The trainer: every parameter tensor's gradient against central finite
 * differences, an exported model's next-token distribution against the
 * trainer's own forward pass, the quantization-aware view against what the
 * engine reads from the converted file, and AdamW bringing a tiny model's
 * loss down.
 */
#include "fixtures.h"
#include "host_platform.h"
#include "pl_internal.h"
#include "pl_test.h"
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tr_config tiny(int shared) {
    tr_config c = {8, 12, 2, 2, 1, 11, 6, shared};
    return c;
}

/* Loss of the fixed sequence, in double for the finite differences. */
static double loss_of(tr_acts *a, const float *p, const int *tok, int T) {
    return tr_forward(a, p, tok, tok + 1, T);
}

/* The tiny shape runs every product in gemm's scalar edges; the wide one
 * (heads of 16, 37 tokens, 19 positions) runs its vector tiles with
 * partial tiles at every edge, and the causal products across tiles. */
static tr_config wide(int shared) {
    tr_config c = {32, 48, 2, 2, 1, 37, 19, shared};
    return c;
}

static void test_gradients(tr_config c, const char *shape) {
    int shared = c.shared_classifier;
    tr_layout l = tr_layout_of(&c);
    size_t D = (size_t)c.dim, H = (size_t)c.hidden_dim, L = (size_t)c.n_layers;
    size_t KV = D / (size_t)c.n_heads * (size_t)c.n_kv_heads, V = (size_t)c.vocab_size;
    tr_acts a;
    CHECK(tr_acts_alloc(&a, &c) == 0);
    float *p = malloc(sizeof(float) * l.total), *g = calloc(l.total, sizeof(float));
    tr_init_params(&c, p, 3);
    /* larger weights than the init, so every path carries a visible gradient */
    for (size_t i = 0; i < l.total; i++) p[i] *= 3.0f;
    for (size_t i = 0; i < L * D; i++) p[l.rms_att + i] = 0.5f + 0.1f * (float)(i % 16);
    int T = c.seq_len, tok[64];
    for (int t = 0; t <= T; t++) tok[t] = (t * 5 + t / 3 + 1) % c.vocab_size;
    loss_of(&a, p, tok, T);
    tr_backward(&a, p, g, tok, tok + 1, 1.0f);

    /* Every tensor, as a whole: the derivative of the loss along a random
     * +-1 direction over all its entries, by central differences, against
     * the backward pass's gradient dotted with that direction. Summing over
     * the tensor makes the signal large next to fp32 rounding (single
     * entries are too noisy to check to better than a few percent). With
     * h = 1e-3 the differences agree with the backward pass to within 1e-2
     * relative (fp32 rounding of the loss over 2h; the wide shape with the
     * shared classifier is the worst); dropping a single term of the
     * backward pass (the SiLU derivative's second part, the RoPE rotation
     * back), one k of a gemm tile or the zeros past the attention diagonal
     * is off by 2.5e-2 to 1e-1 and more in some tensor. Bound: 2e-2. */
    struct { const char *name; size_t off, n; } tensors[] = {
        {"embedding", l.emb, V * D}, {"rms_att", l.rms_att, L * D}, {"wq", l.wq, L * D * D},
        {"wk", l.wk, L * KV * D}, {"wv", l.wv, L * KV * D}, {"wo", l.wo, L * D * D},
        {"rms_ffn", l.rms_ffn, L * D}, {"w1", l.w1, L * H * D}, {"w2", l.w2, L * D * H},
        {"w3", l.w3, L * H * D}, {"rms_final", l.rms_final, D}, {"wcls", l.wcls, V * D}};
    double worst_all = 0.0;
    uint64_t rng = 77;
    float *dir = malloc(sizeof(float) * l.total);
    for (size_t k = 0; k < sizeof tensors / sizeof tensors[0]; k++) {
        if (shared && k == 11) continue; /* the classifier is the embedding */
        size_t off = tensors[k].off, n = tensors[k].n;
        double analytic = 0.0;
        for (size_t j = 0; j < n; j++) {
            rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
            dir[j] = (rng >> 63) ? 1.0f : -1.0f;
            analytic += (double)dir[j] * (double)g[off + j];
        }
        const float h = 1e-3f;
        for (size_t j = 0; j < n; j++) p[off + j] += h * dir[j];
        double up = loss_of(&a, p, tok, T);
        for (size_t j = 0; j < n; j++) p[off + j] -= 2.0f * h * dir[j];
        double down = loss_of(&a, p, tok, T);
        for (size_t j = 0; j < n; j++) p[off + j] += h * dir[j];
        double fd = (up - down) / (2.0 * (double)h);
        double err = fabs(fd - analytic) / fmax(fabs(fd) + fabs(analytic), 1e-3);
        if (err >= 2e-2) fprintf(stderr, "  %s: directional derivative %.6g, backward %.6g\n", tensors[k].name, fd, analytic);
        CHECK(err < 2e-2);
        if (err > worst_all) worst_all = err;
    }
    free(dir);
    printf("test_trainer: worst relative error of directional derivatives %.2e (%s, %s classifier)\n",
           worst_all, shape, shared ? "shared" : "separate");
    tr_acts_free(&a);
    free(p);
    free(g);
}

static void test_export_matches_engine(void) {
    /* The fixture tokenizer's vocabulary, a model with the engine's
     * fixture shape, trained weights replaced by the init. */
    tr_config c = {16, 40, 2, 4, 2, fx_tokenizer_vocab(), 32, 0};
    tr_layout l = tr_layout_of(&c);
    float *p = malloc(sizeof(float) * l.total);
    tr_init_params(&c, p, 9);
    for (size_t i = 0; i < l.total; i++) p[i] *= 5.0f; /* sharper distributions */
    CHECK(tr_export_v0("build/test_trainer_export.bin", &c, p) == 0);
    size_t msize, tsize;
    uint8_t *model = fx_read_file("build/test_trainer_export.bin", &msize);
    uint8_t *tok = fx_tokenizer(c.vocab_size, 0, &tsize);
    pl_platform platform = pl_host_platform(NULL);
    pl_engine *e = NULL;
    pl_error err;
    CHECK_STATUS(pl_open(&e, model, msize, tok, tsize, NULL, &platform, &err), PL_OK, err);
    if (e) {
        tr_acts a;
        tr_acts_alloc(&a, &c);
        int seq[20];
        for (int t = 0; t < 20; t++) seq[t] = (t * 53 + 1) % c.vocab_size;
        tr_forward(&a, p, seq, NULL, 20);
        /* Both compute in fp32 with different summation orders (the trainer
         * is built with -ffast-math); probabilities agree to ~1e-6 absolute.
         * 1e-4 is far below what a wrong tensor order or transposition
         * gives (differences of 1e-2 and more). */
        double worst = 0.0;
        for (int t = 0; t < 20; t++) {
            float *logits = pl_forward(e, seq[t], t);
            float mx = logits[0], sum = 0.0f;
            for (int i = 1; i < c.vocab_size; i++) if (logits[i] > mx) mx = logits[i];
            for (int i = 0; i < c.vocab_size; i++) sum += expf(logits[i] - mx);
            for (int i = 0; i < c.vocab_size; i++) {
                double d = fabs((double)(expf(logits[i] - mx) / sum) - (double)a.probs[(size_t)t * c.vocab_size + i]);
                if (d > worst) worst = d;
            }
        }
        printf("test_trainer: engine vs trainer next-token probabilities differ by at most %.2e\n", worst);
        CHECK(worst < 1e-4);
        tr_acts_free(&a);
        pl_close(e);
    }
    free(model);
    free(tok);
    free(p);
}

/* --quantize-aware trains through tr_quantized_view: every matrix value must
 * be bit for bit what the engine reads from the model `convert` writes in
 * those types, one per tensor class (else training optimises a different
 * model from the one shipped). Groups of 16 leave a partial last group in
 * the hidden rows (40 = 16 + 16 + 8); the view is made in two parts, as two
 * threads do. */
static void test_quantized_view(const char *embedding, const char *attention, const char *ffn) {
    tr_config c = {16, 40, 2, 4, 2, fx_tokenizer_vocab(), 32, 0};
    tr_layout l = tr_layout_of(&c);
    float *p = malloc(sizeof(float) * l.total), *view = malloc(sizeof(float) * l.total);
    tr_init_params(&c, p, 11);
    for (size_t i = 0; i < l.total; i += 37) p[i] *= 9.0f; /* outliers: clipping and scale choice matter */
    pl_convert_type to[PL_CLASS_COUNT];
    CHECK(pl_convert_parse_type(embedding, &to[PL_CLASS_EMBEDDING]) == 0);
    CHECK(pl_convert_parse_type(attention, &to[PL_CLASS_ATTENTION]) == 0);
    CHECK(pl_convert_parse_type(ffn, &to[PL_CLASS_FFN]) == 0);
    memset(view, 0xff, sizeof(float) * l.total); /* NaN: a value the view missed fails below */
    tr_quantized_view(&c, to, p, view, 1, 2);
    tr_quantized_view(&c, to, p, view, 0, 2);
    CHECK(tr_export_v0("build/test_trainer_qview.bin", &c, p) == 0);
    size_t msize, tsize;
    uint8_t *model = fx_read_file("build/test_trainer_qview.bin", &msize);
    uint8_t *tok = fx_tokenizer(c.vocab_size, 0, &tsize);
    FILE *f = tmpfile();
    pl_error err;
    CHECK(f != NULL);
    CHECK_STATUS(pl_convert_model(f, model, msize, tok, tsize, to, &err), PL_OK, err);
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    uint8_t *conv = n > 0 ? malloc((size_t)n) : NULL;
    CHECK(conv && fseek(f, 0, SEEK_SET) == 0 && fread(conv, 1, (size_t)n, f) == (size_t)n);
    pl_model_info info;
    pl_weights w;
    CHECK_STATUS(pl_model_inspect(conv, (size_t)n, &info, &err), PL_OK, err);
    CHECK_STATUS(pl_model_map_weights(conv, &info, &w, &err), PL_OK, err);
    size_t D = (size_t)c.dim, H = (size_t)c.hidden_dim, KV = D / (size_t)c.n_heads * (size_t)c.n_kv_heads;
    const pl_tensor_class E = PL_CLASS_EMBEDDING, A = PL_CLASS_ATTENTION, F = PL_CLASS_FFN;
    const struct { const pl_tensor *t; size_t at, layer_numel; pl_tensor_class cls; } m[] = {
        {&w.embedding, l.emb, 0, E}, {&w.wq, l.wq, D * D, A}, {&w.wk, l.wk, KV * D, A},
        {&w.wv, l.wv, KV * D, A}, {&w.wo, l.wo, D * D, A}, {&w.w1, l.w1, H * D, F},
        {&w.w2, l.w2, D * H, F}, {&w.w3, l.w3, H * D, F}, {&w.wcls, l.wcls, 0, E}};
    long differing = 0, checked = 0;
    float row[64];
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        CHECK(m[k].t->type == to[m[k].cls].type && m[k].t->cols <= 64);
        for (int layer = 0; layer < (m[k].layer_numel ? c.n_layers : 1); layer++) {
            pl_tensor one = *m[k].t;
            one.base = pl_tensor_layer(m[k].t, layer);
            for (int r = 0; r < one.rows; r++) {
                pl_wtypes[one.type].read_row(row, &one, r);
                const float *mine = view + m[k].at + (size_t)layer * m[k].layer_numel + (size_t)r * (size_t)one.cols;
                differing += memcmp(row, mine, sizeof(float) * (size_t)one.cols) != 0;
                checked++;
            }
        }
    }
    /* the norms pass through */
    differing += memcmp(view + l.rms_att, p + l.rms_att, sizeof(float) * (size_t)c.n_layers * D) != 0;
    differing += memcmp(view + l.rms_ffn, p + l.rms_ffn, sizeof(float) * (size_t)c.n_layers * D) != 0;
    differing += memcmp(view + l.rms_final, p + l.rms_final, sizeof(float) * D) != 0;
    printf("test_trainer: %s,%s,%s view: %ld of %ld rows differ from the converted file's\n", embedding,
           attention, ffn, differing, checked);
    CHECK(checked > 0 && differing == 0);
    if (f) fclose(f);
    free(conv);
    free(model);
    free(tok);
    free(view);
    free(p);
}

static void test_loss_goes_down(void) {
    /* 200 AdamW steps on one repeated sequence: the loss must fall from
     * ln(11) = 2.40 to below 0.5 (a memorised sequence). */
    tr_config c = tiny(1);
    tr_layout l = tr_layout_of(&c);
    tr_acts a;
    tr_acts_alloc(&a, &c);
    float *p = malloc(sizeof(float) * l.total), *g = malloc(sizeof(float) * l.total);
    float *m = calloc(l.total, sizeof(float)), *v = calloc(l.total, sizeof(float));
    tr_init_params(&c, p, 5);
    int tok[7] = {1, 4, 9, 2, 7, 7, 3};
    tr_adamw o = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.0f};
    double first = 0.0, last = 0.0;
    for (long s = 1; s <= 200; s++) {
        memset(g, 0, sizeof(float) * l.total);
        double loss = tr_forward(&a, p, tok, tok + 1, 6) / 6.0;
        tr_backward(&a, p, g, tok, tok + 1, 1.0f / 6.0f);
        tr_adamw_step(&c, &o, p, g, m, v, s);
        if (s == 1) first = loss;
        last = loss;
    }
    printf("test_trainer: loss %.3f -> %.3f in 200 steps\n", first, last);
    CHECK(first > 2.0 && last < 0.5);
    tr_acts_free(&a);
    free(p); free(g); free(m); free(v);
}

int main(void) {
    test_gradients(tiny(0), "tiny");
    test_gradients(tiny(1), "tiny");
    test_gradients(wide(0), "wide");
    test_gradients(wide(1), "wide");
    test_export_matches_engine();
    test_quantized_view("int4:16", "int4:16", "int4:16");
    test_quantized_view("int8:12", "int8:12", "int8:12");
    test_quantized_view("int8:8", "fp32", "int4:16"); /* a type per class, fp32 among them */
    test_loss_goes_down();
    return pl_test_report("test_trainer");
}
