/*
 * Status names, error messages and the bump arena the pools are carved from.
 */
#include "pl_strict_float.h" /* first: no fused multiply-add, any flags */
#include "pl_internal.h"

#include <stdio.h>

const char *pl_status_name(pl_status status) {
    switch (status) {
    case PL_OK: return "PL_OK";
    case PL_ERR_ARGUMENT: return "PL_ERR_ARGUMENT";
    case PL_ERR_ALIGNMENT: return "PL_ERR_ALIGNMENT";
    case PL_ERR_MODEL_FORMAT: return "PL_ERR_MODEL_FORMAT";
    case PL_ERR_MODEL_TRUNCATED: return "PL_ERR_MODEL_TRUNCATED";
    case PL_ERR_MODEL_LENGTH: return "PL_ERR_MODEL_LENGTH";
    case PL_ERR_MODEL_DIMENSIONS: return "PL_ERR_MODEL_DIMENSIONS";
    case PL_ERR_MODEL_HEADS: return "PL_ERR_MODEL_HEADS";
    case PL_ERR_TOKENIZER_FORMAT: return "PL_ERR_TOKENIZER_FORMAT";
    case PL_ERR_TOKENIZER_TRUNCATED: return "PL_ERR_TOKENIZER_TRUNCATED";
    case PL_ERR_TOKENIZER_VOCAB: return "PL_ERR_TOKENIZER_VOCAB";
    case PL_ERR_PROMPT_TOO_LONG: return "PL_ERR_PROMPT_TOO_LONG";
    case PL_ERR_PROMPT_ENCODING: return "PL_ERR_PROMPT_ENCODING";
    case PL_ERR_NO_MEMORY: return "PL_ERR_NO_MEMORY";
    case PL_ERR_UNSUPPORTED: return "PL_ERR_UNSUPPORTED";
    }
    return "PL_ERR_UNKNOWN";
}

pl_status pl_fail(pl_error *err, pl_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

void pl_clear_error(pl_error *err) {
    if (err) {
        err->status = PL_OK;
        err->message[0] = '\0';
    }
}

void *pl_arena_take(pl_arena *arena, uint64_t size) {
    /* 8-byte offsets in the pool (the fast pool's base 8-aligned, the
     * large pool's 4 at least): enough for the engine structure, float, and
     * the M33's LDRD/VLDM and LDM (words). */
    uint64_t start = (arena->used + 7u) & ~(uint64_t)7u;
    arena->used = start + size;
    return arena->base ? arena->base + (size_t)start : NULL;
}
