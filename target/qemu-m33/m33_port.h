/* The Cortex-M33 board port (mps2-an505, and mps2-an521 for two cores):
 * board.h's interface and what startup.c and the port share. */
#ifndef M33_PORT_H
#define M33_PORT_H

#include "board.h"

#define M33_INSTRUCTIONS_PER_TICK 50u
#define M33_EXIT_FAULT 99

/* startup.c: the MPU's map of the files and the PSRAM. */
void m33_map_blobs(const void *blobs_end, const void *psram_start, const void *psram_end);
#if defined(BOARD_TWO_CORES)
__attribute__((noreturn)) void m33_core1_loop(void);
#endif

#endif
