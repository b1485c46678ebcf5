#include "builtin.h"

#include "models/stories_model.h"
#include "models/stories_tokenizer.h"

pl_story_blobs pl_builtin_blobs(void) {
    pl_story_blobs b;
    b.model = stories_model;
    b.model_size = stories_model_len;
    b.tokenizer = stories_tokenizer;
    b.tokenizer_size = stories_tokenizer_len;
    return b;
}
