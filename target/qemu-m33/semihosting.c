#include "semihosting.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define SYS_OPEN 0x01
#define SYS_WRITE 0x05
#define SYS_TIME 0x11
#define SYS_GET_CMDLINE 0x15
#define SYS_EXIT_EXTENDED 0x20
#define ADP_Stopped_ApplicationExit 0x20026

static int sh_call(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* ":tt" opened for writing is stdout, opened for appending is stderr. */
static int handles[3] = {-1, -1, -1};

static int handle(int fd) {
    if (fd < 1 || fd > 2) fd = 2;
    if (handles[fd] < 0) {
        int args[3] = {(int)":tt", fd == 1 ? 4 : 8, 3};
        handles[fd] = sh_call(SYS_OPEN, args);
    }
    return handles[fd];
}

void sh_write(int fd, const void *buf, size_t len) {
    int args[3] = {handle(fd), (int)buf, (int)len};
    if (len) sh_call(SYS_WRITE, args);
}

void sh_puts(int fd, const char *s) { sh_write(fd, s, strlen(s)); }

int sh_cmdline(char *buf, int size) {
    int args[2] = {(int)buf, size};
    if (sh_call(SYS_GET_CMDLINE, args) != 0) return -1;
    return args[1];
}

long sh_time(void) { return sh_call(SYS_TIME, NULL); }

void sh_exit(int code) {
    int args[2] = {ADP_Stopped_ApplicationExit, code};
    for (;;) sh_call(SYS_EXIT_EXTENDED, args);
}

/* ---- the newlib system calls stdio needs; there is no heap ------------- */

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
