/*
 * Shared pieces of the host command line: run.c's flags, file opening with
 * messages, exit codes.
 */
#ifndef PL_CLI_H
#define PL_CLI_H

#include "picollama.h"
#include "pl_port.h"

#include <stdio.h>

/* Exit statuses besides the engine's pl_status values (1..14). */
#define PL_EXIT_USAGE 64   /* bad flag or value (sysexits' EX_USAGE) */
#define PL_EXIT_DATAERR 65 /* a text or checkpoint whose contents are wrong (EX_DATAERR) */
#define PL_EXIT_NOINPUT 66 /* a file that cannot be opened (EX_NOINPUT) */
#define PL_EXIT_IOERR 74   /* an output that cannot be written (EX_IOERR) */

typedef struct {
    const char *model_path;
    const char *tokenizer_path;
    const char *prompt;
    const char *mode;
    float temperature;
    int temperature_given; /* -t was on the command line */
    float topp;
    int steps;
    uint64_t seed; /* 0: from the clock, as run.c */
    const char *place; /* --place: flash, psram, sram, auto */
    const char *kv;    /* --kv: psram, sram */
    int kv_given;      /* --kv was on the command line */
    int cores;         /* --cores: 1 or 2 */
    int stream;        /* --stream: 1 (the default) or 0, pl_options.stream_weights */
} pl_run_args;

typedef enum { PL_PLACEMENT_FLASH, PL_PLACEMENT_PSRAM, PL_PLACEMENT_SRAM, PL_PLACEMENT_AUTO } pl_placement;

/* 0 and *out (may be NULL) for a --place name, else -1. */
int pl_placement_from_name(const char *name, pl_placement *out);

/* Parses `MODEL [-t f] [-p f] [-s n] [-n n] [-i s] [-z path] [-m generate]
 * [-y s]` from argv[first]. Returns 0, or an exit status after printing why
 * to stderr, and for a missing model or an unknown flag the command's usage
 * (command_usage; NULL: the story command's). */
int pl_parse_run_args(int argc, char **argv, int first, pl_run_args *a, void (*command_usage)(void));

/* Every command's numbers, strictly: the whole text a number in range
 * (min_open: more than min), else a sentence naming the flag and its range,
 * and PL_EXIT_USAGE. */
int pl_arg_long(const char *flag, const char *text, long min, long max, long *out);
int pl_arg_float(const char *flag, const char *text, double min, double max, int min_open,
                 float *out);

typedef struct {
    const void *model;
    size_t model_size;
    const void *tokenizer;
    size_t tokenizer_size;
} pl_story_blobs;

/* What each pool can give: the budget --place auto fills. */
typedef struct {
    size_t fast, large;
} pl_room;

/* The RP2350's room for the engine (pl_port.h's board budget). */
#define PL_BOARD_ROOM ((pl_room){PL_BOARD_SRAM_BYTES - PL_BOARD_SRAM_RESERVE, PL_BOARD_PSRAM_BYTES})

/* The engine options for parsed flags: prompt and KV sizes, and the
 * placement (auto within room). Returns 0 or an exit status. */
int pl_story_options(const pl_run_args *a, const pl_story_blobs *b, pl_room room,
                     pl_options *options);

/* Opens the engine on the blobs with pl_story_options, seeds it with
 * a->seed (already resolved: never 0), prints the story to stdout as run.c
 * does, closes. Returns 0 or the engine's status after printing it to
 * stderr. stats and memory may be NULL. around_generate (NULL: none) is
 * called with 0 just before the story is generated and with 1 just after
 * (the emulated boards mark the story there for their board model).
 * Portable: used by the host CLI and by the emulated boards' images. */
int pl_tell_story(const pl_run_args *a, const pl_story_blobs *b,
                  const pl_platform *platform, pl_room room, int flush_each_piece,
                  pl_stats *stats, pl_memory_plan *memory, void (*around_generate)(int end));

/* Prints an engine error as "picollama: PL_ERR_X: message" and returns the
 * status as the exit code. */
int pl_report(const pl_error *err);

/* Prints a command's help ("run", "inspect", ...; NULL or unknown: all of
 * them) to f; -1 for an unknown command. */
int pl_help(const char *command, FILE *f);
/* argv[1..) holds --help or -h. */
int pl_asks_help(int argc, char **argv);

int pl_cmd_run(int argc, char **argv);
int pl_cmd_inspect(int argc, char **argv);
int pl_cmd_header(int argc, char **argv);
int pl_cmd_train_tokenizer(int argc, char **argv);
/* Trains a vocab_size-token BPE tokenizer on the corpus file and writes it;
 * *corpus_tokens gets the number of tokens the corpus encodes to. */
int pl_bpe_train(const char *corpus_path, int vocab_size, const char *out, uint64_t *corpus_tokens);
int pl_cmd_train(int argc, char **argv);
int pl_cmd_eval(int argc, char **argv);
int pl_cmd_tokenizer(int argc, char **argv);
int pl_cmd_quantize(int argc, char **argv);
int pl_cmd_convert(int argc, char **argv);
int pl_cmd_generate(int argc, char **argv);

#endif
