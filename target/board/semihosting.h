/* Semihosting (Arm and RISC-V): the emulated board's stdout, stderr, command line, clock
 * and exit status, through QEMU (-semihosting-config enable=on). */
#ifndef BOARD_SEMIHOSTING_H
#define BOARD_SEMIHOSTING_H

#include <stddef.h>

void sh_write(int fd, const void *buf, size_t len); /* fd 1 stdout, 2 stderr */
void sh_puts(int fd, const char *s);
/* The image name followed by what -append gave; returns its length or -1. */
int sh_cmdline(char *buf, int size);
long sh_time(void); /* seconds since the epoch, from the host */
void sh_exit(int code) __attribute__((noreturn));

#endif
