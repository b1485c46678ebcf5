/* `picollama quantize IN.bin OUT.bin [--group-size N]`: fp32 to int8. */
#include "cli.h"
#include "host_platform.h"
#include "output_file.h"
#include "quantize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pl_cmd_quantize(int argc, char **argv) {
    const char *in = NULL, *out = NULL;
    int gs = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--group-size")) {
            long v;
            if (i + 1 >= argc) {
                fprintf(stderr, "picollama: flag --group-size needs a value\n");
                return PL_EXIT_USAGE;
            }
            int rc = pl_arg_long("--group-size", argv[++i], 4, 65532, &v);
            if (rc) return rc;
            gs = (int)v;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "picollama: unknown flag '%s'\n", argv[i]);
            pl_help("quantize", stderr);
            return PL_EXIT_USAGE;
        } else if (!in) in = argv[i];
        else if (!out) out = argv[i];
        else {
            in = NULL; /* a third file name: say how to call it */
            break;
        }
    }
    if (!in || !out) {
        pl_help("quantize", stderr);
        return PL_EXIT_USAGE;
    }
    const char *inputs[] = {in};
    int rc = pl_output_check(out, inputs, 1);
    if (rc) return rc;
    pl_host_file f;
    rc = pl_open_input(&f, "model", in);
    if (rc) return rc;
    uint8_t *q;
    size_t qsize;
    pl_error err;
    pl_status st = pl_quantize_model(f.data, f.size, gs, &q, &qsize, &err);
    if (st != PL_OK) {
        rc = pl_report(&err);
        /* a file the engine reads but this command does not take (already
         * quantized), or a group size that does not fit: the arguments */
        if (st == PL_ERR_ARGUMENT) rc = PL_EXIT_USAGE;
    } else {
        if ((rc = pl_output_write_all(out, inputs, 1, q, qsize)) == 0) {
            fprintf(stderr, "quantize: %s (%lu bytes) -> %s (%lu bytes, int8 version 2)\n", in,
                    (unsigned long)f.size, out, (unsigned long)qsize);
        }
        free(q);
    }
    pl_host_file_close(&f);
    return rc;
}
