/*
 * libFuzzer target: the input paths of `picollama convert` and `picollama
 * quantize` on any model and tokenizer bytes: every format they accept
 * read within its bounds, everything else refused with a status. What
 * convert writes must open in the engine.
 *
 * Input: one byte choosing the types and the group size, uint32 model
 * bytes, the model, then the tokenizer (the rest; none: the model's own).
 * Seeds: a llama2.c fp32 model, a version-2 int8 one and a PicoLlama file.
 */
#include "convert.h"
#include "fuzz_support.h"
#include "quantize.h"

static const char *const types[] = {"fp32", "int8:8", "int4:8", "int8", "int4:16", "int8:4", "int4", "int8:12"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint32_t msize;
    if (size < 5) return 0;
    uint8_t knob = data[0];
    memcpy(&msize, data + 1, 4);
    data += 5;
    size -= 5;
    if (msize > size) return 0;
    /* copies of exactly the declared sizes, 4-byte aligned as the engine
     * asks, so ASan sees any overread */
    size_t tsize = size - msize;
    uint8_t *model = malloc(msize ? msize : 1), *tok = malloc(tsize ? tsize : 1);
    memcpy(model, data, msize);
    memcpy(tok, data + msize, tsize);

    pl_convert_type t[PL_CLASS_COUNT];
    for (int c = 0; c < PL_CLASS_COUNT; c++)
        if (pl_convert_parse_type(types[(knob >> (c * 2)) & 7], &t[c]) != 0) abort();
    pl_error err;
    FILE *out = tmpfile();
    if (out && pl_convert_model(out, model, msize, tsize ? tok : NULL, tsize, t, &err) == PL_OK) {
        /* read back what was written: the engine must take it */
        fseek(out, 0, SEEK_END);
        long n = ftell(out);
        uint8_t *back = malloc(n > 0 ? (size_t)n : 1);
        rewind(out);
        if (!back || fread(back, 1, (size_t)n, out) != (size_t)n) abort();
        pl_memory_plan plan;
        if (pl_plan_memory(back, (size_t)n, NULL, 0, NULL, &plan, &err) != PL_OK) {
            dprintf(2, "convert wrote a file the engine refuses: %s: %s\n", pl_status_name(err.status), err.message);
            abort();
        }
        free(back);
    }
    if (out) fclose(out);

    uint8_t *q;
    size_t qsize;
    int gs = (knob & 0x80) ? 0 : 4 * (1 + (knob & 15));
    if (pl_quantize_model(model, msize, gs, &q, &qsize, &err) == PL_OK) {
        pl_model_info info;
        if (pl_model_inspect(q, qsize, &info, &err) != PL_OK) abort();
        free(q);
    }
    free(model);
    free(tok);
    return 0;
}
