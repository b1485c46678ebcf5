/*
 * Models and tokenizers the tests make themselves: seeded random weights in
 * llama2.c's formats, and a small BPE vocabulary in both tokenizer variants.
 * The project's tests never need ../shared; these stand in for it.
 */
#ifndef PL_FIXTURES_H
#define PL_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier;
    int version;   /* 0, 1 or 2 (int8, export.py's layout) */
    int group_size; /* version 2: int8 group size (export.py's rule if 0) */
    uint32_t seed;
} fx_model_spec;

/* A small valid model: dim 16, hidden 40, 2 layers, 4 heads, 2 kv heads,
 * the fixture tokenizer's vocabulary, seq_len 32, shared classifier, v0. */
fx_model_spec fx_small_spec(void);

/* Writes the model into a malloc'd buffer (16-byte aligned); *size gets its
 * length. The same spec and seed give the same weights in every version. */
uint8_t *fx_model(const fx_model_spec *spec, size_t *size);

/* The model of spec (any version) converted by `picollama convert`'s code
 * to a PicoLlama file with the fixture tokenizer inside: the embedding and
 * classifier, attention and feed-forward tensors in the types given as
 * convert's flags take them ("int8:8", "int4:16", "fp32"). malloc'd,
 * 16-byte aligned; NULL if the conversion fails. */
uint8_t *fx_picollama(const fx_model_spec *spec, const char *embedding, const char *attention,
                      const char *ffn, size_t *size);

/* Number of pieces in the fixture vocabulary. */
int fx_tokenizer_vocab(void);

/* The fixture tokenizer padded to vocab_size entries (at least
 * fx_tokenizer_vocab()), plain (tokenizer.bin) or NUL-terminated
 * (tokenizer0). */
uint8_t *fx_tokenizer(int vocab_size, int nul_terminated, size_t *size);

/* A synthetic story corpus of about `bytes` bytes: simple sentences from a
 * small lexicon (a little UTF-8 among them), documents separated by
 * <|endoftext|>. Deterministic for a seed. malloc'd, NUL-terminated. */
char *fx_corpus(size_t bytes, uint32_t seed);

/* Reads a whole file into a malloc'd buffer; NULL if it cannot. */
uint8_t *fx_read_file(const char *path, size_t *size);
int fx_write_file(const char *path, const void *data, size_t size);

/* ../shared/data/models/<name> when ../shared is there, else NULL. The
 * directory comes from $PICOLLAMA_SHARED or defaults to ../shared. */
const char *fx_shared_model_path(const char *name, char *buf, size_t buflen);

#ifdef __cplusplus
}
#endif
#endif
