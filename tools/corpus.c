#include "corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEPARATOR "<|endoftext|>"

static int is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'; }

int pl_corpus_load(pl_corpus *c, const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    memset(c, 0, sizeof *c);
    if (!f) {
        fprintf(stderr, "picollama: cannot open corpus %s: %s\n", path, strerror(errno));
        return 66;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "picollama: cannot read corpus %s\n", path);
        fclose(f);
        return 66;
    }
    c->text = malloc((size_t)n + 1);
    if (!c->text || fread(c->text, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "picollama: cannot read corpus %s\n", path);
        fclose(f);
        pl_corpus_free(c);
        return 66;
    }
    fclose(f);
    c->text[n] = '\0';
    /* Count separators to size the index, then cut in place. */
    size_t cap = 1;
    for (char *p = c->text; (p = strstr(p, SEPARATOR)) != NULL; p += strlen(SEPARATOR)) cap++;
    c->docs = malloc(cap * sizeof *c->docs);
    c->doc_bytes = malloc(cap * sizeof *c->doc_bytes);
    if (!c->docs || !c->doc_bytes) {
        pl_corpus_free(c);
        return 1;
    }
    char *p = c->text;
    for (;;) {
        char *end = strstr(p, SEPARATOR);
        char *next = end ? end + strlen(SEPARATOR) : NULL;
        if (!end) end = p + strlen(p);
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
    return 0;
}

void pl_corpus_free(pl_corpus *c) {
    free(c->text);
    free(c->docs);
    free(c->doc_bytes);
    memset(c, 0, sizeof *c);
}
