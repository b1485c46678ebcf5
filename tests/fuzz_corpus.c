/*
 * libFuzzer target: the corpus reader (tools/corpus.c: eval, train,
 * train-tokenizer) on any bytes. A text it accepts has no NUL byte, and its
 * documents are inside the file, trimmed, separator-free, NUL-terminated
 * and counted exactly.
 */
#include "corpus.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fz_write_scratch(data, size);
    pl_corpus c;
    if (pl_corpus_load(&c, path) == 0) {
        size_t total = 0;
        if (c.n_docs == 0 || memchr(data, 0, size)) abort();
        for (size_t i = 0; i < c.n_docs; i++) {
            const char *doc = c.docs[i];
            if (c.doc_bytes[i] == 0 || doc < c.text || doc + c.doc_bytes[i] > c.text + size) abort();
            if (doc[c.doc_bytes[i]] != '\0' || strlen(doc) != c.doc_bytes[i]) abort();
            if (strstr(doc, "<|endoftext|>")) abort();
            total += c.doc_bytes[i];
        }
        if (total != c.total_bytes) abort();
        pl_corpus_free(&c);
    }
    return 0;
}
