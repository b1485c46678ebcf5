/*
 * The engine's tokenizer for the host tools (training, evaluation), without
 * a model: the same scan, index and run.c encoding the engine uses.
 */
#ifndef PL_TOOL_TOKENIZER_H
#define PL_TOOL_TOKENIZER_H

#include "host_platform.h"
#include "pl_internal.h"

typedef struct {
    pl_host_file file;
    pl_tokenizer tok;
    void *fast, *large;
} pl_tool_tokenizer;

/* *entries gets the number of entries in a tokenizer file (records until
 * its end). Returns 0, or after a message PL_EXIT_NOINPUT (cannot open it)
 * or PL_ERR_TOKENIZER_FORMAT (not a tokenizer file, or no entry in it). */
int pl_tool_tokenizer_entries(const char *path, int *entries);

/* Opens path for vocab_size entries, for texts up to max_text bytes. Prints
 * why and returns an exit status on failure. */
int pl_tool_tokenizer_open(pl_tool_tokenizer *t, const char *path, int vocab_size, size_t max_text);
void pl_tool_tokenizer_close(pl_tool_tokenizer *t);

/* BOS + run.c's encoding of text into out (capacity strlen(text) + 3);
 * returns the count, or -1 with err set. */
int pl_tool_encode(pl_tool_tokenizer *t, const char *text, int *out, pl_error *err);

#endif
