/* The trainer's checkpoints (checkpoint.h). */
#include "checkpoint.h"
#include "cli.h"
#include "output_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CKPT_MAGIC 0x31524c50u /* "PLR1" */

typedef struct {
    uint32_t magic;
    int32_t config[8];
    int32_t threads;
    int64_t step;
    uint64_t rng;
} ckpt_header;

int pl_checkpoint_save(const char *path, const pl_checkpoint_state *s, const float *p, const float *m,
                       const float *v, size_t n) {
    pl_output out;
    if (pl_output_open(&out, path, NULL, 0)) return -1;
    FILE *f = out.f;
    ckpt_header h = {CKPT_MAGIC,
                     {s->c.dim, s->c.hidden_dim, s->c.n_layers, s->c.n_heads, s->c.n_kv_heads,
                      s->c.vocab_size, s->c.seq_len, s->c.shared_classifier},
                     s->threads, s->step, s->rng};
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && fwrite(p, sizeof(float), n, f) == n &&
             fwrite(m, sizeof(float), n, f) == n && fwrite(v, sizeof(float), n, f) == n;
    if (!ok) {
        pl_output_discard(&out);
        return -1;
    }
    return pl_output_commit(&out) == 0 ? 0 : -1;
}

int pl_checkpoint_load(const char *path, pl_checkpoint_state *s, float **p, float **m, float **v, size_t *n) {
    FILE *f = fopen(path, "rb");
    ckpt_header h;
    if (!f) {
        fprintf(stderr, "picollama: cannot open checkpoint %s: %s\n", path, strerror(errno));
        return PL_EXIT_NOINPUT;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "picollama: cannot open checkpoint %s: not a regular file\n", path);
        fclose(f);
        return PL_EXIT_NOINPUT;
    }
    if (fread(&h, sizeof h, 1, f) != 1 || h.magic != CKPT_MAGIC) {
        fprintf(stderr, "picollama: %s is not a training checkpoint\n", path);
        fclose(f);
        return PL_EXIT_DATAERR;
    }
    /* a damaged or hostile header: every size bounded, and the file exactly
     * as long as the sizes say, before anything is allocated */
    tr_config c = {h.config[0], h.config[1], h.config[2], h.config[3], h.config[4],
                   h.config[5], h.config[6], h.config[7]};
    int sane = c.dim >= 1 && c.dim <= 65536 && c.hidden_dim >= 1 && c.hidden_dim <= 262144 &&
               c.n_layers >= 1 && c.n_layers <= 1024 && c.n_heads >= 1 && c.n_heads <= c.dim &&
               c.n_kv_heads >= 1 && c.n_kv_heads <= c.n_heads && c.dim % c.n_heads == 0 &&
               c.n_heads % c.n_kv_heads == 0 && c.vocab_size >= 3 && c.vocab_size <= 1 << 20 &&
               c.seq_len >= 1 && c.seq_len <= 1 << 20 && (c.shared_classifier == 0 || c.shared_classifier == 1) &&
               (c.dim / c.n_heads) % 2 == 0 && h.threads >= 1 && h.threads <= 256 && h.step >= 0;
    if (!sane || (uint64_t)st.st_size != sizeof h + 3 * sizeof(float) * (uint64_t)tr_layout_of(&c).total) {
        fprintf(stderr, "picollama: checkpoint %s is damaged (%s)\n", path,
                sane ? "its length is not what its sizes say" : "impossible sizes in its header");
        fclose(f);
        return PL_EXIT_DATAERR;
    }
    s->c = c;
    s->threads = h.threads;
    s->step = (long)h.step;
    s->rng = h.rng;
    *n = tr_layout_of(&c).total;
    *p = *m = *v = NULL;
    *p = malloc(sizeof(float) * *n);
    *m = malloc(sizeof(float) * *n);
    *v = malloc(sizeof(float) * *n);
    int ok = *p && *m && *v && fread(*p, sizeof(float), *n, f) == *n &&
             fread(*m, sizeof(float), *n, f) == *n && fread(*v, sizeof(float), *n, f) == *n;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "picollama: checkpoint %s: %s\n", path, *p && *m && *v ? "cannot read it" : "out of memory");
        free(*p);
        free(*m);
        free(*v);
        *p = *m = *v = NULL;
        return PL_EXIT_NOINPUT;
    }
    return 0;
}

