#include "corpus.h"
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEPARATOR "<|endoftext|>"

static int is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'; }

/* The next separator in [p, end), or NULL: by length, not as C strings. */
static char *find_separator(char *p, const char *end) {
    size_t n = sizeof SEPARATOR - 1;
    for (; (size_t)(end - p) >= n; p++) {
        p = memchr(p, SEPARATOR[0], (size_t)(end - p) - n + 1);
        if (!p) return NULL;
        if (!memcmp(p, SEPARATOR, n)) return p;
    }
    return NULL;
}

int pl_corpus_load(pl_corpus *c, const char *path) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    memset(c, 0, sizeof *c);
    if (!f) {
        fprintf(stderr, "picollama: cannot open corpus %s: %s\n", path, strerror(errno));
        return PL_EXIT_NOINPUT;
    }
    /* a directory or a pipe has no size to read by: refused before any
     * allocation */
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "picollama: cannot open corpus %s: %s\n", path,
                S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
        fclose(f);
        return PL_EXIT_NOINPUT;
    }
    size_t n = (size_t)st.st_size;
    c->text = (uint64_t)st.st_size < (uint64_t)SIZE_MAX ? malloc(n + 1) : NULL;
    if (!c->text || fread(c->text, 1, n, f) != n) {
        fprintf(stderr, "picollama: cannot read corpus %s%s\n", path, c->text ? "" : ": out of memory");
        fclose(f);
        pl_corpus_free(c);
        return PL_EXIT_NOINPUT;
    }
    fclose(f);
    c->text[n] = '\0';
    const char *nul = memchr(c->text, '\0', n);
    if (nul) {
        fprintf(stderr, "picollama: corpus %s has a NUL byte at offset %zu: not text\n", path,
                (size_t)(nul - c->text));
        pl_corpus_free(c);
        return PL_EXIT_DATAERR;
    }
    /* Count separators to size the index, then cut in place. */
    char *text_end = c->text + n;
    size_t cap = 1;
    for (char *p = c->text; (p = find_separator(p, text_end)) != NULL; p += sizeof SEPARATOR - 1) cap++;
    c->docs = malloc(cap * sizeof *c->docs);
    c->doc_bytes = malloc(cap * sizeof *c->doc_bytes);
    if (!c->docs || !c->doc_bytes) {
        fprintf(stderr, "picollama: corpus %s: out of memory\n", path);
        pl_corpus_free(c);
        return PL_EXIT_NOINPUT;
    }
    char *p = c->text;
    for (;;) {
        char *end = find_separator(p, text_end);
        char *next = end ? end + sizeof SEPARATOR - 1 : NULL;
        if (!end) end = text_end;
        while (p < end && is_space(*p)) p++;
        while (end > p && is_space(end[-1])) end--;
        if (end > p) {
            *end = '\0';
            c->docs[c->n_docs] = p;
            c->doc_bytes[c->n_docs] = (size_t)(end - p);
            c->total_bytes += (size_t)(end - p);
            c->n_docs++;
        }
        if (!next) break;
        p = next;
    }
    if (c->n_docs == 0) {
        fprintf(stderr, "picollama: corpus %s has no text (documents are separated by %s)\n", path, SEPARATOR);
        pl_corpus_free(c);
        return PL_EXIT_DATAERR;
    }
    return 0;
}

void pl_corpus_free(pl_corpus *c) {
    free(c->text);
    free(c->docs);
    free(c->doc_bytes);
    memset(c, 0, sizeof *c);
}
