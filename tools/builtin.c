#include "builtin.h"

#include "models/stories_model.h"

pl_story_blobs pl_builtin_blobs(void) {
    pl_story_blobs b;
    b.model = stories_model;
    b.model_size = stories_model_len;
    b.tokenizer = NULL; /* a PicoLlama file: the tokenizer is inside */
    b.tokenizer_size = 0;
    return b;
}
