#include "tokenizer_writer.h"

#include <string.h>

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

int pl_tokenizer_write(FILE *f, const pl_tokenizer *t, int n, const char *format) {
    int nul = strcmp(format, "llama2c") != 0;
    if (!strcmp(format, "indexed")) {
        uint32_t records = 16u + 4u * (uint32_t)n + (((uint32_t)n * 2u + 3u) & ~3u);
        put32(f, PLT_MAGIC);
        put32(f, (uint32_t)n);
        put32(f, (uint32_t)t->max_token_length);
        put32(f, records);
        uint32_t off = records;
        for (int i = 0; i < n; i++) {
            int32_t stored = pl_read_i32(t->blob + t->offsets[i] - 4);
            put32(f, off + 8u);
            off += 8u + (uint32_t)stored + 1u;
        }
        fwrite(t->sorted, sizeof(uint16_t), (size_t)n, f);
        if (n % 2) fwrite("\0\0", 1, 2, f);
    } else {
        put32(f, (uint32_t)t->max_token_length);
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *p = t->blob + t->offsets[i];
        int32_t stored = pl_read_i32(p - 4);
        fwrite(p - 8, 1, 8 + (size_t)stored, f); /* score, length, bytes as stored */
        if (nul) fputc(0, f);
    }
    return ferror(f) ? -1 : 0;
}
