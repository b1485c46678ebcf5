#include "tool_tokenizer.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static int count_entries(const char *path) {
    pl_host_file f;
    if (pl_open_input(&f, "tokenizer", path)) return -1;
    const uint8_t *b = (const uint8_t *)f.data;
    size_t off = 4;
    int n = 0;
    if (f.size >= 16 && (uint32_t)pl_read_i32(b) == PLT_MAGIC) { /* indexed */
        n = pl_read_i32(b + 4);
        pl_host_file_close(&f);
        return n;
    }
    /* plain records; a NUL-terminated file is counted the same way by
     * trying both and keeping the reading that ends exactly at the end */
    for (int nul = 0; nul <= 1; nul++) {
        off = 4;
        n = 0;
        while (off + 8 <= f.size) {
            int32_t len = pl_read_i32(b + off + 4);
            if (len < 0 || (size_t)len > f.size - off - 8 - (size_t)nul) break;
            off += 8 + (size_t)len + (size_t)nul;
            n++;
        }
        if (off == f.size && f.size >= 4) break;
    }
    int ok = off == f.size && f.size >= 4;
    pl_host_file_close(&f);
    return ok ? n : -2;
}

int pl_tool_tokenizer_entries(const char *path, int *entries) {
    int n = count_entries(path);
    *entries = n;
    if (n == -1) return PL_EXIT_NOINPUT;
    if (n < 1) {
        fprintf(stderr, "picollama: %s: %s is not a tokenizer file (%s)\n", pl_status_name(PL_ERR_TOKENIZER_FORMAT),
                path, n == -2 ? "its records do not end at its end" : "no entries");
        return PL_ERR_TOKENIZER_FORMAT;
    }
    return 0;
}

int pl_tool_tokenizer_open(pl_tool_tokenizer *t, const char *path, int vocab_size, size_t max_text) {
    pl_error err;
    pl_arena fast = {NULL, 0}, large = {NULL, 0};
    memset(t, 0, sizeof *t);
    int rc = pl_open_input(&t->file, "tokenizer", path);
    if (rc) return rc;
    if (pl_tokenizer_scan(&t->tok, t->file.data, t->file.size, vocab_size, &err) != PL_OK) {
        pl_host_file_close(&t->file);
        return pl_report(&err);
    }
    pl_tokenizer_layout(&t->tok, &fast, &large);
    pl_tokenizer_layout_prompt(&t->tok, max_text, &large);
    t->fast = calloc(1, (size_t)fast.used + 8);
    t->large = calloc(1, (size_t)large.used + 8);
    if (!t->fast || !t->large) {
        pl_tool_tokenizer_close(t);
        fprintf(stderr, "picollama: out of memory\n");
        return 1;
    }
    fast.base = t->fast;
    fast.used = 0;
    large.base = t->large;
    large.used = 0;
    pl_tokenizer_layout(&t->tok, &fast, &large);
    pl_tokenizer_layout_prompt(&t->tok, max_text, &large);
    pl_tokenizer_index(&t->tok);
    return 0;
}

void pl_tool_tokenizer_close(pl_tool_tokenizer *t) {
    free(t->fast);
    free(t->large);
    pl_host_file_close(&t->file);
    memset(t, 0, sizeof *t);
}

int pl_tool_encode(pl_tool_tokenizer *t, const char *text, int *out, pl_error *err) {
    int n;
    if (pl_tokenizer_encode(&t->tok, text, 1, &n, err) != PL_OK) return -1;
    for (int i = 0; i < n; i++) out[i] = t->tok.scratch_tokens[i];
    return n;
}

