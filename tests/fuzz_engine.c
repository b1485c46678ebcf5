/*
 * libFuzzer target: hostile models, tokenizers, prompts and settings must
 * never crash, hang or read out of bounds (run under ASan and UBSan).
 *
 * Input: uint32 model bytes, uint32 tokenizer bytes (0: the model's own),
 * one byte of settings, the model, the tokenizer, then the prompt (the
 * rest). The seed corpus (make_fixture fuzz-seed, fuzz-seed-picollama) is a
 * valid small llama2.c model with its tokenizer and a PicoLlama file with
 * int4 and int8 tensors and its tokenizer inside, so mutations explore
 * near-valid files: damaged headers, tensor tables, records, weights and
 * scales (NaN, Inf), and prompts of any bytes. The settings' top bit also
 * copies every weight into the pools and sizes the KV cache to the story.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picollama.h"

static void *fz_alloc(void *user, pl_pool pool, size_t size) {
    (void)user;
    (void)pool;
    return size > (64u << 20) ? NULL : malloc(size); /* a board-sized bound */
}
static void fz_release(void *user, pl_pool pool, void *p) {
    (void)user;
    (void)pool;
    free(p);
}
static int count_piece(void *user, const char *piece) {
    if (piece) *(size_t *)user += strlen(piece);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t msize, tsize;
    if (size < 9) return 0;
    memcpy(&msize, data, 4);
    memcpy(&tsize, data + 4, 4);
    uint8_t settings = data[8];
    data += 9;
    size -= 9;
    if (msize > size || tsize > size - msize) return 0;
    /* copies of exactly the declared sizes, so ASan sees any overread */
    uint8_t *model = malloc(msize ? msize : 1), *tok = malloc(tsize ? tsize : 1);
    size_t plen = size - msize - tsize;
    char *prompt = malloc(plen + 1);
    memcpy(model, data, msize);
    memcpy(tok, data + msize, tsize);
    memcpy(prompt, data + msize + tsize, plen);
    prompt[plen] = '\0';

    pl_platform platform = {fz_alloc, fz_release, NULL, NULL, NULL, NULL, NULL, NULL};
    pl_options options;
    memset(&options, 0, sizeof options);
    options.max_prompt_bytes = plen + 1;
    if (settings & 0x80) {
        options.fast_weight_budget = 4096; /* some tensors in each pool */
        options.large_weight_budget = SIZE_MAX;
        options.kv_cache_fast = 1;
        options.max_positions = 1 + ((settings >> 4) & 7);
    }
    const void *tokenizer = tsize ? tok : NULL; /* none: the model's own */
    pl_engine *e = NULL;
    pl_error err;
    pl_memory_plan plan;
    pl_plan_memory(model, msize, tokenizer, tsize, &options, &plan, &err);
    if (pl_open(&e, model, msize, tokenizer, tsize, &options, &platform, &err) == PL_OK) {
        pl_sampling s;
        size_t out = 0;
        s.temperature = (float)(settings & 3) * 0.5f;   /* 0, 0.5, 1, 1.5 */
        s.topp = (float)((settings >> 2) & 3) / 3.0f;    /* 0, 1/3, 2/3, 1 */
        s.steps = 1 + ((settings >> 4) & 7);            /* a few positions */
        pl_seed(e, settings);
        pl_generate(e, prompt, &s, count_piece, &out, NULL, &err);
        pl_close(e);
    }
    free(model);
    free(tok);
    free(prompt);
    return 0;
}
