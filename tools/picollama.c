/*
 * picollama: the host command line.
 *   picollama MODEL.bin [run.c flags]     tell a story, as llama2.c's run
 *   picollama inspect MODEL.bin [-z TOK]  config, sizes, RP2350 budget
 *   picollama header FILE OUT.h --name N  a blob as a C array for a sketch
 *   picollama help [COMMAND]              every command's flags (cli_help.c)
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"inspect", pl_cmd_inspect},       {"header", pl_cmd_header},
    {"train-tokenizer", pl_cmd_train_tokenizer}, {"train", pl_cmd_train},
    {"eval", pl_cmd_eval},             {"tokenizer", pl_cmd_tokenizer},
    {"quantize", pl_cmd_quantize},     {"convert", pl_cmd_convert},
    {"generate", pl_cmd_generate},
};

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        if (pl_help(argc >= 3 ? argv[2] : NULL, stdout) != 0) {
            fprintf(stderr, "picollama: no command '%s'\n", argv[2]);
            return PL_EXIT_USAGE;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (argc >= 2 && !strcmp(argv[1], commands[i].name)) {
            if (pl_asks_help(argc - 1, argv + 1)) return pl_help(commands[i].name, stdout);
            return commands[i].run(argc - 1, argv + 1);
        }
    if (pl_asks_help(argc, argv)) return pl_help("run", stdout);
    return pl_cmd_run(argc, argv);
}
