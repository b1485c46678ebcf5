/*
 * libFuzzer target: the trainer's checkpoint reader (tools/checkpoint.c,
 * `train --resume`) on any bytes: never a crash, an overread, a huge
 * allocation or a leak; a checkpoint it accepts has exactly the sizes its
 * header says. Seed: a real checkpoint of a tiny model.
 */
#include "checkpoint.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fz_write_scratch(data, size);
    pl_checkpoint_state s;
    float *p, *m, *v;
    size_t n;
    if (pl_checkpoint_load(path, &s, &p, &m, &v, &n) == 0) {
        if (n != tr_layout_of(&s.c).total) abort();
        /* touch every value: the sizes really are what was read */
        volatile float sink = 0.0f;
        for (size_t i = 0; i < n; i++) sink += p[i] + m[i] + v[i];
        (void)sink;
        free(p);
        free(m);
        free(v);
    }
    return 0;
}
