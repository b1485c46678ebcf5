/* `picollama convert MODEL OUT [-z TOK] [--embedding T] [--attention T]
 * [--ffn T]`: any checkpoint to a PicoLlama model file. */
#include "cli.h"
#include "convert.h"
#include "host_platform.h"
#include "output_file.h"

#include <stdio.h>
#include <string.h>

static void usage(void) { pl_help("convert", stderr); }

int pl_cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *tok_path = NULL;
    pl_convert_type types[PL_CLASS_COUNT];
    pl_convert_parse_type(PL_CONVERT_DEFAULT_EMBEDDING, &types[PL_CLASS_EMBEDDING]);
    pl_convert_parse_type(PL_CONVERT_DEFAULT_ATTENTION, &types[PL_CLASS_ATTENTION]);
    pl_convert_parse_type(PL_CONVERT_DEFAULT_FFN, &types[PL_CLASS_FFN]);
    for (int i = 1; i < argc; i++) {
        int cls = -1;
        for (int c = 0; c < PL_CLASS_COUNT; c++)
            if (!strncmp(argv[i], "--", 2) && !strcmp(argv[i] + 2, pl_convert_class_names[c])) cls = c;
        if (cls >= 0 || !strcmp(argv[i], "-z")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "picollama: flag %s needs a value\n", argv[i]);
                return PL_EXIT_USAGE;
            }
            if (cls < 0) {
                tok_path = argv[++i];
            } else if (pl_convert_parse_type(argv[++i], &types[cls]) != 0) {
                fprintf(stderr, "picollama: --%s %s: a type is fp32, int8[:G] or int4[:G]\n",
                        pl_convert_class_names[cls], argv[i]);
                return PL_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "picollama: unknown flag '%s'\n", argv[i]);
            usage();
            return PL_EXIT_USAGE;
        } else if (!in) {
            in = argv[i];
        } else if (!out) {
            out = argv[i];
        } else {
            usage();
            return PL_EXIT_USAGE;
        }
    }
    int rc0;
    if (!in || !out) {
        usage();
        return PL_EXIT_USAGE;
    }
    /* before anything is read: an output that is an input is refused */
    const char *inputs[] = {in, tok_path};
    if ((rc0 = pl_output_check(out, inputs, 2))) return rc0;
    pl_host_file model, tok;
    const void *mdata, *tdata;
    size_t msize, tsize;
    int rc = pl_open_model_files(in, tok_path, &model, &tok, &mdata, &msize, &tdata, &tsize);
    if (rc) return rc;
    pl_output o;
    pl_error err;
    if ((rc = pl_output_open(&o, out, inputs, 2)) == 0 &&
        pl_convert_model(o.f, mdata, msize, tdata, tsize, types, &err) != PL_OK)
        rc = pl_report(&err);
    if (rc == 0 && fflush(o.f) != 0) {
        fprintf(stderr, "picollama: cannot write %s\n", out);
        rc = PL_EXIT_IOERR;
    }
    pl_host_file_close(&tok);
    pl_host_file_close(&model);
    /* The engine reads back what was written before it takes the
     * destination's place. */
    pl_host_file check = {NULL, 0, 0};
    pl_model_info info;
    if (rc == 0 && (rc = pl_open_input(&check, "the converted model", o.tmp ? o.tmp : out)) == 0 &&
        (pl_plan_memory(check.data, check.size, NULL, 0, NULL, &(pl_memory_plan){0}, &err) != PL_OK ||
         pl_model_inspect(check.data, check.size, &info, &err) != PL_OK))
        rc = pl_report(&err);
    size_t written = check.size;
    pl_host_file_close(&check);
    if (rc) {
        pl_output_discard(&o);
        return rc;
    }
    if ((rc = pl_output_commit(&o))) return rc;
    fprintf(stderr, "convert: %s -> %s: %lu bytes (embedding %s, attention %s, ffn %s; tokenizer inside, %lu bytes); %llu weight bytes read per token\n",
            in, out, (unsigned long)written, pl_wtype_name(info.tensors[PL_TENSOR_EMBEDDING].type),
            pl_wtype_name(info.tensors[PL_TENSOR_WQ].type), pl_wtype_name(info.tensors[PL_TENSOR_W1].type),
            (unsigned long)info.tokenizer_size, (unsigned long long)pl_model_bytes_per_token(&info));
    return 0;
}
