/* newlib's system calls for the Arm images: stdio through semihosting
 * (board/semihosting.c), and a small heap for the C library alone. */
#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>

#include "semihosting.h"

int _write(int fd, const char *buf, int len) {
    sh_write(fd, buf, (size_t)len);
    return len;
}
int _read(int fd, char *buf, int len) { (void)fd; (void)buf; (void)len; return 0; }
int _close(int fd) { (void)fd; return -1; }
int _lseek(int fd, int off, int whence) { (void)fd; (void)off; (void)whence; return -1; }
int _isatty(int fd) { (void)fd; return 1; }
int _fstat(int fd, struct stat *st) { (void)fd; st->st_mode = S_IFCHR; return 0; }
int _getpid(void) { return 1; }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = EINVAL; return -1; }
void _exit(int code) { sh_exit(code); }
/* newlib's stdio allocates its FILE structures on first use: a small fixed
 * heap for the C library alone (the engine allocates only from its pools).
 * Past its end _sbrk fails, and the linker map shows its size. */
#define LIBC_HEAP_BYTES 2048
static unsigned char libc_heap[LIBC_HEAP_BYTES] __attribute__((aligned(8)));
static size_t libc_heap_used;

void *_sbrk(int incr) {
    if (incr < 0 || (size_t)incr > LIBC_HEAP_BYTES - libc_heap_used) {
        errno = ENOMEM;
        return (void *)-1;
    }
    void *p = libc_heap + libc_heap_used;
    libc_heap_used += (size_t)incr;
    return p;
}
