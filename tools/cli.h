/*
 * Shared pieces of the host command line: run.c's flags, file opening with
 * messages, exit codes.
 */
#ifndef PL_CLI_H
#define PL_CLI_H

#include "host_platform.h"
#include "picollama.h"

/* Exit statuses besides the engine's pl_status values (1..14). */
#define PL_EXIT_USAGE 64   /* bad flag or value (sysexits' EX_USAGE) */
#define PL_EXIT_NOINPUT 66 /* a file that cannot be opened (EX_NOINPUT) */

typedef struct {
    const char *model_path;
    const char *tokenizer_path;
    const char *prompt;
    const char *mode;
    float temperature;
    float topp;
    int steps;
    uint64_t seed; /* 0: from the clock, as run.c */
} pl_run_args;

/* Parses `MODEL [-t f] [-p f] [-s n] [-n n] [-i s] [-z path] [-m generate]
 * [-y s]` from argv[first]. Returns 0, or an exit status after printing why
 * to stderr. */
int pl_parse_run_args(int argc, char **argv, int first, pl_run_args *a);

/* Opens a file or prints "cannot open ..." and returns PL_EXIT_NOINPUT. */
int pl_open_input(pl_host_file *f, const char *what, const char *path);

/* Prints an engine error as "picollama: PL_ERR_X: message" and returns the
 * status as the exit code. */
int pl_report(const pl_error *err);

int pl_cmd_run(int argc, char **argv);
int pl_cmd_inspect(int argc, char **argv);

#endif
