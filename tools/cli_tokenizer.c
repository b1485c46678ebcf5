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
#include "output_file.h"
#include "tokenizer_writer.h"
#include "tool_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pl_cmd_tokenizer(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *format = "indexed";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "picollama: flag --format needs a value\n");
                return PL_EXIT_USAGE;
            }
            format = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "picollama: unknown flag '%s'\n", argv[i]);
            pl_help("tokenizer", stderr);
            return PL_EXIT_USAGE;
        } else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else {
            in = NULL; /* a third file name: say how to call it */
            break;
        }
    }
    if (!strcmp(format, "plain")) format = "llama2c"; /* its earlier name */
    if (strcmp(format, "indexed") && strcmp(format, "tokenizer0") && strcmp(format, "llama2c")) {
        fprintf(stderr, "picollama: --format %s: one of indexed, tokenizer0, llama2c\n", format);
        return PL_EXIT_USAGE;
    }
    if (!in || !out) {
        pl_help("tokenizer", stderr);
        return PL_EXIT_USAGE;
    }
    const char *inputs[] = {in};
    int rc = pl_output_check(out, inputs, 1);
    if (rc) return rc;
    int n;
    if ((rc = pl_tool_tokenizer_entries(in, &n))) return rc;
    pl_tool_tokenizer t;
    if ((rc = pl_tool_tokenizer_open(&t, in, n, 0))) return rc;
    pl_output o;
    if ((rc = pl_output_open(&o, out, inputs, 1))) {
        pl_tool_tokenizer_close(&t);
        return rc;
    }
    if (pl_tokenizer_write(o.f, &t.tok, n, format) != 0) {
        fprintf(stderr, "picollama: cannot write %s\n", out);
        pl_output_discard(&o);
        rc = PL_EXIT_IOERR;
    } else {
        rc = pl_output_commit(&o);
    }
    if (rc == 0) fprintf(stderr, "tokenizer: %d entries written to %s (%s)\n", n, out, format);
    pl_tool_tokenizer_close(&t);
    return rc;
}
