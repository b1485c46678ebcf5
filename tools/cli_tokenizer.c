/*
 * `picollama tokenizer IN OUT [--format indexed|tokenizer0|plain]`: converts
 * any tokenizer the engine reads to the form the board reads best.
 *   indexed     (default) the records plus the offset table and the sorted
 *               ids the engine otherwise builds in RAM: no RAM at all for the
 *               vocabulary (6 bytes a token saved: 192 KB for 32000 tokens)
 *   tokenizer0  the original PicoLlama's NUL-terminated records
 *   llama2c     llama2.c's tokenizer.bin ("plain", its earlier name, still works)
 */
#include "cli.h"
#include "host_platform.h"
#include "tokenizer_writer.h"
#include "tool_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (!strcmp(format, "plain")) format = "llama2c"; /* its earlier name */
    if (!in || !out || (strcmp(format, "indexed") && strcmp(format, "tokenizer0") && strcmp(format, "llama2c"))) {
        pl_help("tokenizer", stderr);
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
    rc = pl_tokenizer_write(f, &t.tok, n, format);
    if (fclose(f) != 0) rc = -1;
    if (rc != 0) {
        fprintf(stderr, "picollama: cannot write %s\n", out);
        rc = PL_EXIT_IOERR;
    }
    if (rc == 0) fprintf(stderr, "tokenizer: %d entries written to %s (%s)\n", n, out, format);
    pl_tool_tokenizer_close(&t);
    return rc;
}
