/*
 * picollama: the host command line.
 *   picollama MODEL.bin [run.c flags]     tell a story, as llama2.c's run
 *   picollama inspect MODEL.bin [-z TOK]  config, sizes, RP2350 budget
 *   picollama header FILE OUT.h --name N  a blob as a C array for a sketch
 */
#include "cli.h"

#include <string.h>

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "inspect") == 0) return pl_cmd_inspect(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "header") == 0) return pl_cmd_header(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "train-tokenizer") == 0) return pl_cmd_train_tokenizer(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "train") == 0) return pl_cmd_train(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "eval") == 0) return pl_cmd_eval(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "tokenizer") == 0) return pl_cmd_tokenizer(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "quantize") == 0) return pl_cmd_quantize(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "convert") == 0) return pl_cmd_convert(argc - 1, argv + 1);
    return pl_cmd_run(argc, argv);
}
