/*
 * The Hazard3 (RISC-V) board port, on QEMU's `virt` machine: one core,
 * rv32imac with Zba, Zbb, Zbs and Zbkb, no FPU (floats in software, IEEE
 * exact). picolibc's crt0 copies .data, clears .bss, sets up TLS and calls
 * main(); stdout and stderr are picolibc streams over semihosting writes to
 * the host's stdout and stderr (board/semihosting.c), a line at a time.
 */
#include <stdio.h>

#include "board.h"
#include "semihosting.h"

extern uint32_t __stack0_bottom, __stack0_top;
#define STACK_PAINT 0xA5A5A5A5u

/* The instructions retired (minstret, counting every instruction under
 * QEMU's -icount: the same on every run). */
uint64_t board_instructions(void) {
    uint32_t hi, lo, hi2;
    do {
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi));
        __asm__ volatile("csrr %0, minstret" : "=r"(lo));
        __asm__ volatile("csrr %0, minstreth" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

/* No MPU or PMP set up here: the files and the PSRAM are plain RAM. */
void board_map_blobs(const void *blobs_end, const void *psram_start, const void *psram_end) {
    (void)blobs_end;
    (void)psram_start;
    (void)psram_end;
}

size_t board_stack_used(void) {
    const uint32_t *p = &__stack0_bottom;
    while (p < &__stack0_top && *p == STACK_PAINT) p++;
    return (size_t)((const uint8_t *)&__stack0_top - (const uint8_t *)p);
}

/* ---- stdout and stderr ---------------------------------------------------- */

typedef struct {
    FILE file; /* first: picolibc hands the put function this pointer */
    int fd;
    int len;
    char buf[256];
} sh_stream;

static int stream_flush(FILE *f) {
    sh_stream *s = (sh_stream *)f;
    sh_write(s->fd, s->buf, (size_t)s->len);
    s->len = 0;
    return 0;
}

static int stream_put(char c, FILE *f) {
    sh_stream *s = (sh_stream *)f;
    s->buf[s->len++] = c;
    if (c == '\n' || s->len == (int)sizeof s->buf) stream_flush(f);
    return (unsigned char)c;
}

static sh_stream out = {FDEV_SETUP_STREAM(stream_put, NULL, stream_flush, _FDEV_SETUP_WRITE), 1, 0, {0}};
static sh_stream err = {FDEV_SETUP_STREAM(stream_put, NULL, stream_flush, _FDEV_SETUP_WRITE), 2, 0, {0}};
FILE *const stdout = &out.file;
FILE *const stderr = &err.file;
FILE *const stdin = NULL;

/* QEMU virt's test finisher ends the run with a status (picolibc's exit()
 * through semihosting does not end QEMU there). */
static __attribute__((noreturn)) void finish(int code) {
    fflush(stdout);
    fflush(stderr);
    *(volatile uint32_t *)0x100000 = code == 0 ? 0x5555u : ((uint32_t)code << 16) | 0x3333u;
    for (;;) {
    }
}

void _exit(int code) { finish(code); }

int main(void) {
    /* Paint the stack below this frame, to measure how deep it gets. */
    volatile uint32_t *p = &__stack0_bottom;
    uint32_t *sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    while (p < (volatile uint32_t *)sp - 16) *p++ = STACK_PAINT;
    finish(board_main());
}
