/* Writing an indexed tokenizer (or its other forms) from the engine's. */
#ifndef PL_TOKENIZER_WRITER_H
#define PL_TOKENIZER_WRITER_H

#include <stdio.h>

#include "pl_internal.h"

/* Writes the first n entries of an indexed tokenizer t (pl_tokenizer_index
 * done) as "indexed" (PicoLlama's: the offsets and sorted ids with the
 * records), "tokenizer0" or "llama2c" (see `picollama tokenizer`); 0, or -1
 * on a write error. */
int pl_tokenizer_write(FILE *f, const pl_tokenizer *t, int n, const char *format);

#endif
