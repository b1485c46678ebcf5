/*
 * The PC port: files mapped read-only (weights used in place, as from flash
 * on the board), pools from malloc, a monotonic microsecond clock.
 */
#ifndef PL_HOST_PLATFORM_H
#define PL_HOST_PLATFORM_H

#include "picollama.h"

typedef struct {
    const void *data;
    size_t size;
    int mapped;
} pl_host_file;

/* Maps path read-only. Returns 0 on success; on failure prints nothing and
 * returns -1 with errno set. */
int pl_host_file_open(pl_host_file *f, const char *path);
void pl_host_file_close(pl_host_file *f);

/* Opens a file or prints "cannot open <what> <path>: <reason>" and returns
 * PL_EXIT_NOINPUT. */
int pl_open_input(pl_host_file *f, const char *what, const char *path);

/* Opens a model and its tokenizer (both, or neither: on failure nothing is
 * left open) and fills blobs. tokenizer_path NULL: the model's own when it
 * has one inside (the tokenizer is then left closed, its blob NULL and 0),
 * else "tokenizer.bin" as run.c. Returns 0 or the exit status after a
 * message. */
int pl_open_model_files(const char *model_path, const char *tokenizer_path,
                        pl_host_file *model, pl_host_file *tokenizer,
                        const void **model_data, size_t *model_size,
                        const void **tokenizer_data, size_t *tokenizer_size);

/* pl_platform.run_on_both with a thread as the second core. */
void pl_host_run_on_both(void *user, void (*fn)(void *arg, int core), void *arg);

/* Allocator hooks over malloc that also keep count of calls and bytes. */
typedef struct {
    size_t allocations;
    size_t bytes[2]; /* per pool */
} pl_host_allocator_stats;

pl_platform pl_host_platform(pl_host_allocator_stats *stats);
uint64_t pl_host_clock_us(void *user);

#endif
