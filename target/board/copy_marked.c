/*
 * The background copy (pl_platform.copy_start, copy_wait) on an emulated
 * board. On the RP2350 it is DMA from the XIP stream FIFO (the Arduino
 * port, src/PicoLlamaPort.cpp): the bytes move over the bus while the
 * cores compute. QEMU has no such DMA, so the image copies the bytes at
 * once, between two marks (board_marks.h); the board model counts nothing
 * of that copy and charges the stream instead, as the board would run it,
 * beside the compute, and copy_wait as a wait until its modeled end;
 * copy_written marks the lines the board's cache clean writes back.
 * Without the model the marks are plain stores and the copy is a copy.
 */
#include "board.h"
#include "board_marks.h"
#include "pl_port.h"

/* In SRAM, as the board's: the loop's constants are then no flash reads
 * the board model could take for the source's. */
PL_HOT static void copy_start_marked(void *user, void *dst, const void *src, size_t n) {
    uint32_t *to = (uint32_t *)dst;
    const uint32_t *from = (const uint32_t *)src; /* words: the engine's contract */
    (void)user;
    board_mark(BOARD_MARK_COPY_BEGIN);
    for (size_t i = 0; i < n / 4u; i++) to[i] = from[i];
    board_mark(BOARD_MARK_COPY_END);
}

static void copy_wait_marked(void *user) {
    (void)user;
    board_mark(BOARD_MARK_COPY_WAIT);
}

/* The board cleans each 8-byte XIP cache line of the range (a store to
 * the maintenance alias a line); here a read of a byte a line, between
 * two marks, tells the model which lines to write back. */
static void copy_written_marked(void *user, const void *p, size_t n) {
    uintptr_t line = (uintptr_t)p & ~(uintptr_t)7u, end = (uintptr_t)p + n;
    (void)user;
    board_mark(BOARD_MARK_CLEAN_BEGIN);
    for (; line < end; line += 8u) (void)*(const volatile uint8_t *)line;
    board_mark(BOARD_MARK_CLEAN_END);
}

void board_background_copy(pl_platform *p) {
    p->copy_start = copy_start_marked;
    p->copy_wait = copy_wait_marked;
    p->copy_written = copy_written_marked;
}
