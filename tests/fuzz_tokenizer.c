/*
 * libFuzzer target: the tools' tokenizer readers on any bytes (`picollama
 * tokenizer`, train, eval): counting the entries, opening the file for
 * that many, encoding a text, and writing it back in every format. The
 * first byte of the input picks the vocabulary asked for (the entries, or
 * fewer) and the text; the rest is the file. Seeds: the test tokenizer as
 * tokenizer.bin, tokenizer0 and the indexed form.
 */
#include "fuzz_support.h"
#include "tokenizer_writer.h"
#include "tool_tokenizer.h"

static const char *const texts[] = {"", "Once upon a time", "a  b\200\342\202 caf\303\251 <s>", "\n\n\t x"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t knob = data[0];
    const char *path = fz_write_scratch(data + 1, size - 1);
    int n;
    if (pl_tool_tokenizer_entries(path, &n) != 0) return 0;
    int vocab = (knob & 1) && n > 3 ? n - 1 - (knob >> 4) % (n - 3) : n; /* fewer than it has, or all */
    pl_tool_tokenizer t;
    if (pl_tool_tokenizer_open(&t, path, vocab, 64) != 0) return 0;
    const char *text = texts[(knob >> 1) & 3];
    int tokens[64 + 3];
    pl_error err;
    /* BOS is token 1, so a model's vocabulary has 3 entries at least (the
     * engine refuses fewer): only then must every id be in range */
    int count = vocab >= 3 ? pl_tool_encode(&t, text, tokens, &err) : 0;
    for (int i = 0; i < count; i++)
        if (tokens[i] < 0 || tokens[i] >= vocab) abort();
    static const char *const formats[] = {"indexed", "tokenizer0", "llama2c"};
    FILE *sink = fopen("/dev/null", "wb");
    if (sink) {
        pl_tokenizer_write(sink, &t.tok, vocab, formats[(knob >> 3) % 3]);
        fclose(sink);
    }
    pl_tool_tokenizer_close(&t);
    return 0;
}
