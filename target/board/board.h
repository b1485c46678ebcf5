/*
 * What an emulated RP2350 image needs from its board port (qemu-m33 for
 * the Cortex-M33s, qemu-rv32 for the Hazard3 cores): the pools, where the
 * model files are, an instruction counter, and a second core. main.c and
 * kernel_test.c are the same program on every board.
 */
#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "picollama.h"

/* The pools: the fast pool is the SRAM the linker leaves (424 KB), the
 * large pool the PSRAM after the model files (pools.c). */
pl_platform board_platform(void);
/* The files take the first `bytes` of the 16 MB region (read-only from now
 * on where the board can say so); the PSRAM follows them: 8 MB, or what
 * the region has left with the linker script's spill range beside it. */
void board_use_blobs(size_t bytes);
/* The board's part of board_use_blobs: the files read-only, the PSRAM
 * read-write, where it can say so (an MPU), or nothing. */
void board_map_blobs(const void *blobs_end, const void *psram_start, const void *psram_end);
size_t board_fast_pool_capacity(void);
size_t board_large_pool_capacity(void);
size_t board_static_sram(void);   /* .data + .bss */
size_t board_stack_used(void);    /* deepest the stack has been, in bytes */

/* Instructions executed so far (deterministic under QEMU's -icount). */
uint64_t board_instructions(void);

/* Two cores, counted on one: the platform's run_on_both runs both shares
 * of each section here and counts them; its clock then reports the
 * two-core critical path (everything but the shorter share of each
 * section, plus BOARD_SYNC_INSTRUCTIONS a section). */
#define BOARD_SYNC_INSTRUCTIONS 100u /* assumed: a FIFO handshake each way */
typedef struct {
    uint64_t core1;      /* instructions of the second core's shares */
    uint64_t overlapped; /* of the shorter share of each section */
    uint64_t sections;
} board_core_counts;
void board_two_cores_counted(pl_platform *p);
board_core_counts board_core_counts_now(void);
/* The clock a board port gives the engine: instructions, less what the
 * counted second core overlaps (cores_counted.c). */
uint64_t board_two_core_clock(void);
#if defined(BOARD_TWO_CORES)
/* A two-core image: the work really runs on core 1. */
void board_two_cores(pl_platform *p);
#endif

/* The background copy the board makes by DMA: on an emulated board, a
 * copy the board model charges as the DMA's stream (copy_marked.c). */
void board_background_copy(pl_platform *p);

/* main.c: the image's program; the board's startup calls it and exits
 * with its status. */
int board_main(void);
int board_kernel_test(void); /* kernel_test.c */
int board_kernel_bench(void);

#endif
