/*
 * Shared by the libFuzzer targets of the tools' readers (tests/fuzz_*.c):
 * those readers take paths, so each input is written to one scratch file
 * first; and their messages (a sentence per bad input) go to /dev/null, so
 * a long run's log holds libFuzzer's and the sanitizers' lines only (those
 * write to file descriptor 2 directly).
 */
#ifndef PL_FUZZ_SUPPORT_H
#define PL_FUZZ_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The scratch file's path, made once per process (mkstemp in TMPDIR). */
static const char *fz_scratch_path(void) {
    static char path[4096];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/picollama-fuzz-XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0) abort();
        close(fd);
        stderr = fopen("/dev/null", "w"); /* the tools' sentences, not the sanitizers' reports */
        if (!stderr) abort();
    }
    return path;
}

/* Writes data to the scratch file and returns its path. */
static const char *fz_write_scratch(const uint8_t *data, size_t size) {
    const char *path = fz_scratch_path();
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) abort();
    return path;
}

#endif
