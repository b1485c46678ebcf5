/* The built-in story model: src/models/stories_model.h (a PicoLlama file,
 * its tokenizer inside), compiled into the CLI. */
#ifndef PL_BUILTIN_H
#define PL_BUILTIN_H

#include "cli.h"

pl_story_blobs pl_builtin_blobs(void);

/* Sampling the built-in model reads best with (see docs/builtin-model.md). */
#define PL_BUILTIN_TEMPERATURE 0.8f
#define PL_BUILTIN_TOPP 0.9f

#endif
