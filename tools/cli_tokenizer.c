/*
 * `picollama tokenizer IN OUT [--format indexed|tokenizer0|plain]`: converts
 * any tokenizer the engine reads to the form the board reads best.
 *   indexed     (default) the records plus the offset table and the sorted
 *               ids the engine otherwise builds in RAM: no RAM at all for the
 *               vocabulary (6 bytes a token saved: 192 KB for 32000 tokens)
 *   tokenizer0  the original PicoLlama's NUL-terminated records
 *   plain       llama2.c's tokenizer.bin
 */
#include "cli.h"
#include "host_platform.h"
#include "tool_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put32(FILE *f, uint32_t v) { fwrite(&v, 4, 1, f); }

int pl_cmd_tokenizer(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *format = "indexed";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else {
            in = NULL; /* a third file name: say how to call it */
            break;
        }
    }
    if (!in || !out || (strcmp(format, "indexed") && strcmp(format, "tokenizer0") && strcmp(format, "plain"))) {
        fprintf(stderr, "usage: picollama tokenizer IN OUT [--format indexed|tokenizer0|plain]\n");
        return PL_EXIT_USAGE;
    }
    int n = pl_tool_tokenizer_entries(in);
    if (n < 1) return PL_EXIT_NOINPUT;
    pl_tool_tokenizer t;
    int rc = pl_tool_tokenizer_open(&t, in, n, 0);
    if (rc) return rc;
    FILE *f = fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "picollama: cannot write %s\n", out);
        pl_tool_tokenizer_close(&t);
        return PL_EXIT_NOINPUT;
    }
    int nul = strcmp(format, "plain") != 0;
    uint32_t records = 4;
    if (!strcmp(format, "indexed")) {
        records = 16u + 4u * (uint32_t)n + (((uint32_t)n * 2u + 3u) & ~3u);
        put32(f, 0x31544C50u);
        put32(f, (uint32_t)n);
        put32(f, (uint32_t)t.tok.max_token_length);
        put32(f, records);
        uint32_t off = records;
        for (int i = 0; i < n; i++) {
            size_t len;
            pl_tokenizer_piece(&t.tok, i, &len);
            int32_t stored = pl_read_i32(t.tok.blob + t.tok.offsets[i] - 4);
            put32(f, off + 8u);
            off += 8u + (uint32_t)stored + 1u;
        }
        fwrite(t.tok.sorted, sizeof(uint16_t), (size_t)n, f);
        if (n % 2) fwrite("\0\0", 1, 2, f);
    } else {
        put32(f, (uint32_t)t.tok.max_token_length);
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *p = t.tok.blob + t.tok.offsets[i];
        int32_t stored = pl_read_i32(p - 4);
        fwrite(p - 8, 1, 8 + (size_t)stored, f); /* score, length, bytes as stored */
        if (nul) fputc(0, f);
    }
    rc = fclose(f) == 0 ? 0 : PL_EXIT_NOINPUT;
    if (rc == 0) fprintf(stderr, "tokenizer: %d entries written to %s (%s)\n", n, out, format);
    pl_tool_tokenizer_close(&t);
    return rc;
}
