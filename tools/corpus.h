/*
 * Text corpora for the tools: a file of documents separated by
 * "<|endoftext|>" (TinyStories' format), each stripped of surrounding
 * whitespace; empty documents are dropped.
 */
#ifndef PL_CORPUS_H
#define PL_CORPUS_H

#include <stddef.h>

typedef struct {
    char *text;         /* the file, with each document NUL-terminated in place */
    char **docs;        /* start of each document */
    size_t *doc_bytes;  /* its length */
    size_t n_docs;
    size_t total_bytes; /* of all documents */
} pl_corpus;

/* Reads and splits path. On failure prints why and returns an exit status:
 * PL_EXIT_NOINPUT (cannot open or read it, or not a regular file) or
 * PL_EXIT_DATAERR (a NUL byte, whose offset it names: not text; or no
 * document at all). */
int pl_corpus_load(pl_corpus *c, const char *path);
void pl_corpus_free(pl_corpus *c);

#endif
