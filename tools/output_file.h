/*
 * Every file a tool writes goes through here, so that no command can destroy
 * or half-write a user's file:
 *   - an output that is one of the command's inputs (the same path, a
 *     symlink to it, a hard link: the same device and inode) is refused
 *     before anything is opened for writing;
 *   - the bytes go to a temporary file in the destination's folder, which is
 *     flushed to the disk and renamed over the destination only when it is
 *     complete. A failed or killed run leaves the old file as it was (a kill
 *     may leave the hidden temporary ".NAME.XXXXXX" beside it).
 * A destination that is a symlink is written where it points, as a plain
 * fopen would; an existing file keeps its permissions. An existing
 * destination that is no regular file (a device such as /dev/null, a pipe)
 * is written in place: it holds nothing to lose, and a rename would replace
 * the device itself.
 */
#ifndef PL_OUTPUT_FILE_H
#define PL_OUTPUT_FILE_H

#include <stdio.h>

typedef struct {
    FILE *f;    /* write here; NULL when not open */
    char *dest; /* the destination, symlinks resolved */
    char *tmp;  /* the temporary file beside it; NULL when written in place */
    const char *name; /* as the user gave it, for messages */
} pl_output;

/* Whether path may be written: not a directory, not the same file as any of
 * the n inputs (NULL entries are skipped), its folder exists and is
 * writable. Returns 0, or after a message naming the file PL_EXIT_USAGE (it
 * is an input, or a directory) or PL_EXIT_IOERR (its folder cannot be
 * written). Commands that work long before writing call it first. */
int pl_output_check(const char *path, const char *const *inputs, int n);

/* pl_output_check, then opens the temporary file for writing and reading
 * ("w+b"). Returns 0 or the check's or PL_EXIT_IOERR's status after a
 * message; on failure o->f is NULL and nothing needs closing. */
int pl_output_open(pl_output *o, const char *path, const char *const *inputs, int n);

/* Flushes, syncs and closes the temporary file, then renames it into place.
 * Returns 0, or PL_EXIT_IOERR after a message (the temporary is removed and
 * the destination left as it was). Frees o either way. */
int pl_output_commit(pl_output *o);

/* Closes and removes the temporary file; the destination is untouched.
 * Safe on an output that failed to open or was already committed. */
void pl_output_discard(pl_output *o);

/* pl_output_open, write size bytes, pl_output_commit. */
int pl_output_write_all(const char *path, const char *const *inputs, int n, const void *data,
                        size_t size);

#endif
