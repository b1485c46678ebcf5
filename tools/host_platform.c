#define _POSIX_C_SOURCE 200809L
#include "host_platform.h"
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int pl_host_file_open(pl_host_file *f, const char *path) {
    static const uint32_t empty = 0; /* a valid, aligned pointer for 0 bytes */
    struct stat st;
    int fd = open(path, O_RDONLY);
    f->data = NULL;
    f->size = 0;
    f->mapped = 0;
    if (fd < 0) return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (st.st_size == 0) {
        close(fd);
        f->data = &empty;
        return 0;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        errno = e;
        return -1;
    }
    f->data = p;
    f->size = (size_t)st.st_size;
    f->mapped = 1;
    return 0;
}

void pl_host_file_close(pl_host_file *f) {
    if (f->mapped) munmap((void *)f->data, f->size);
    f->data = NULL;
    f->size = 0;
    f->mapped = 0;
}

static void *host_alloc(void *user, pl_pool pool, size_t size) {
    pl_host_allocator_stats *s = (pl_host_allocator_stats *)user;
    void *p = malloc(size ? size : 1); /* malloc aligns to 16 on glibc */
    if (p && s) {
        s->allocations++;
        s->bytes[pool == PL_POOL_LARGE] += size;
    }
    return p;
}

static void host_release(void *user, pl_pool pool, void *ptr) {
    (void)user;
    (void)pool;
    free(ptr);
}

uint64_t pl_host_clock_us(void *user) {
    struct timespec ts;
    (void)user;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

typedef struct {
    void (*fn)(void *arg, int core);
    void *arg;
} core1_job;

static void *core1_main(void *p) {
    core1_job *j = (core1_job *)p;
    j->fn(j->arg, 1);
    return NULL;
}

/* The second core as a thread, one per section: simple, and only tests and
 * `--cores 2` on a PC use it (speed there is not the point). */
void pl_host_run_on_both(void *user, void (*fn)(void *arg, int core), void *arg) {
    core1_job j = {fn, arg};
    pthread_t t;
    (void)user;
    if (pthread_create(&t, NULL, core1_main, &j) != 0) {
        fn(arg, 1); /* no thread: the same work on this one */
        fn(arg, 0);
        return;
    }
    fn(arg, 0);
    pthread_join(t, NULL);
}

pl_platform pl_host_platform(pl_host_allocator_stats *stats) {
    pl_platform p;
    p.alloc = host_alloc;
    p.release = host_release;
    p.clock = pl_host_clock_us;
    p.user = stats;
    p.run_on_both = NULL;
    p.copy_start = NULL;
    p.copy_wait = NULL;
    p.copy_written = NULL;
    return p;
}

int pl_open_input(pl_host_file *f, const char *what, const char *path) {
    if (pl_host_file_open(f, path) != 0) {
        fprintf(stderr, "picollama: cannot open %s %s: %s\n", what, path, strerror(errno));
        return PL_EXIT_NOINPUT;
    }
    return 0;
}

int pl_open_model_files(const char *model_path, const char *tokenizer_path,
                        pl_host_file *model, pl_host_file *tokenizer,
                        const void **model_data, size_t *model_size,
                        const void **tokenizer_data, size_t *tokenizer_size) {
    int rc = pl_open_input(model, "model", model_path);
    pl_model_info info;
    if (rc) return rc;
    memset(tokenizer, 0, sizeof *tokenizer);
    *tokenizer_data = NULL;
    *tokenizer_size = 0;
    *model_data = model->data;
    *model_size = model->size;
    /* Without -z a model with a tokenizer inside uses its own; any other
     * model run.c's default. A damaged model is reported as what it is, not
     * as a missing tokenizer.bin. */
    if (!tokenizer_path) {
        pl_error err;
        if (pl_model_inspect(model->data, model->size, &info, &err) != PL_OK) {
            pl_host_file_close(model);
            return pl_report(&err);
        }
        if (info.tokenizer_size > 0) return 0;
        tokenizer_path = "tokenizer.bin";
    }
    if ((rc = pl_open_input(tokenizer, "tokenizer", tokenizer_path))) {
        pl_host_file_close(model);
        return rc;
    }
    *tokenizer_data = tokenizer->data;
    *tokenizer_size = tokenizer->size;
    return 0;
}
