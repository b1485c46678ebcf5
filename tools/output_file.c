/* Outputs written whole and renamed into place (output_file.h says why). */
#define _XOPEN_SOURCE 700 /* realpath, fchmod (POSIX XSI) */
#include "output_file.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *copy_text(const char *s, size_t n) {
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

/* The file to replace: path itself, or where a symlink at path points. */
static char *destination_of(const char *path) {
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) return realpath(path, NULL);
    return copy_text(path, strlen(path));
}

/* The folder part of a path ("." for a bare name). */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return copy_text(".", 1);
    if (slash == path) return copy_text("/", 1);
    return copy_text(path, (size_t)(slash - path));
}

static int check_dest(const char *name, const char *dest, const char *const *inputs, int n) {
    struct stat out;
    if (stat(dest, &out) == 0) {
        if (S_ISDIR(out.st_mode)) {
            fprintf(stderr, "picollama: cannot write %s: it is a directory\n", name);
            return PL_EXIT_USAGE;
        }
        for (int i = 0; i < n; i++) {
            struct stat in;
            if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
                fprintf(stderr, "picollama: %s is the input %s itself (the same file): refusing to write over what is read; "
                        "give another output name\n", name, inputs[i]);
                return PL_EXIT_USAGE;
            }
        }
    }
    char *folder = folder_of(dest);
    int rc = 0;
    if (!folder) {
        fprintf(stderr, "picollama: cannot write %s: out of memory\n", name);
        rc = PL_EXIT_IOERR;
    } else if (access(folder, W_OK) != 0) {
        fprintf(stderr, "picollama: cannot write %s: folder %s: %s\n", name, folder, strerror(errno));
        rc = PL_EXIT_IOERR;
    }
    free(folder);
    return rc;
}

int pl_output_check(const char *path, const char *const *inputs, int n) {
    char *dest = destination_of(path);
    if (!dest) {
        fprintf(stderr, "picollama: cannot write %s: %s\n", path, strerror(errno));
        return PL_EXIT_IOERR;
    }
    int rc = check_dest(path, dest, inputs, n);
    free(dest);
    return rc;
}

static void release(pl_output *o) {
    free(o->dest);
    free(o->tmp);
    o->dest = o->tmp = NULL;
    o->f = NULL;
}

int pl_output_open(pl_output *o, const char *path, const char *const *inputs, int n) {
    memset(o, 0, sizeof *o);
    o->name = path;
    o->dest = destination_of(path);
    if (!o->dest) {
        fprintf(stderr, "picollama: cannot write %s: %s\n", path, strerror(errno));
        return PL_EXIT_IOERR;
    }
    int rc = check_dest(path, o->dest, inputs, n);
    if (rc) {
        release(o);
        return rc;
    }
    /* A device or a pipe (/dev/null, /dev/stdout) holds no file to keep: it is
     * written in place; renaming over it would replace the device. */
    struct stat existing;
    if (stat(o->dest, &existing) == 0 && !S_ISREG(existing.st_mode)) {
        if (!(o->f = fopen(o->dest, "wb"))) {
            fprintf(stderr, "picollama: cannot write %s: %s\n", path, strerror(errno));
            release(o);
            return PL_EXIT_IOERR;
        }
        return 0;
    }
    char *folder = folder_of(o->dest);
    const char *slash = strrchr(o->dest, '/');
    const char *base = slash ? slash + 1 : o->dest;
    size_t len = (folder ? strlen(folder) : 0) + strlen(base) + 16;
    o->tmp = folder ? malloc(len) : NULL;
    if (!o->tmp) {
        free(folder);
        release(o);
        fprintf(stderr, "picollama: cannot write %s: out of memory\n", path);
        return PL_EXIT_IOERR;
    }
    snprintf(o->tmp, len, "%s/.%s.XXXXXX", folder, base);
    free(folder);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        fprintf(stderr, "picollama: cannot write %s: %s\n", path, strerror(errno));
        release(o);
        return PL_EXIT_IOERR;
    }
    /* the permissions a plain fopen would give, or the replaced file's */
    struct stat st;
    mode_t mode;
    if (stat(o->dest, &st) == 0) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0 || !(o->f = fdopen(fd, "w+b"))) {
        fprintf(stderr, "picollama: cannot write %s: %s\n", path, strerror(errno));
        close(fd);
        unlink(o->tmp);
        release(o);
        return PL_EXIT_IOERR;
    }
    return 0;
}

int pl_output_commit(pl_output *o) {
    if (!o->f) {
        release(o);
        return PL_EXIT_IOERR;
    }
    /* a device cannot be synced: only a temporary file is */
    int ok = fflush(o->f) == 0 && !ferror(o->f) && (!o->tmp || fsync(fileno(o->f)) == 0);
    int e = errno;
    ok = (fclose(o->f) == 0) && ok;
    o->f = NULL;
    if (ok && o->tmp && rename(o->tmp, o->dest) != 0) {
        e = errno;
        ok = 0;
    }
    if (!ok) {
        fprintf(stderr, "picollama: cannot write %s: %s\n", o->name, strerror(e ? e : EIO));
        if (o->tmp) unlink(o->tmp);
    }
    release(o);
    return ok ? 0 : PL_EXIT_IOERR;
}

void pl_output_discard(pl_output *o) {
    if (o->f) {
        fclose(o->f);
        if (o->tmp) unlink(o->tmp);
    }
    release(o);
}

int pl_output_write_all(const char *path, const char *const *inputs, int n, const void *data,
                        size_t size) {
    pl_output o;
    int rc = pl_output_open(&o, path, inputs, n);
    if (rc) return rc;
    if (fwrite(data, 1, size, o.f) != size) {
        fprintf(stderr, "picollama: cannot write %s: %s\n", path, strerror(errno));
        pl_output_discard(&o);
        return PL_EXIT_IOERR;
    }
    return pl_output_commit(&o);
}
