/* The emulated board's platform port and measurements. */
#ifndef M33_PORT_H
#define M33_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "picollama.h"

#define M33_INSTRUCTIONS_PER_TICK 50u
#define M33_EXIT_FAULT 99

/* The pools: the fast pool is the SRAM the linker leaves (424 KB), the
 * large pool the PSRAM after the model files. Each hands out one block. */
pl_platform m33_platform(void);
/* The files take the first `bytes` of the 16 MB region (read-only from now
 * on); the PSRAM follows them: 8 MB, or what the region has left. */
void m33_use_blobs(size_t bytes);
/* startup.c: the MPU's map of the files and the PSRAM. */
void m33_map_blobs(const void *blobs_end, const void *psram_start, const void *psram_end);
size_t m33_fast_pool_capacity(void);
size_t m33_large_pool_capacity(void);

uint64_t m33_instructions(void);

/* Two cores, counted on one (see m33_port.c): the platform's run_on_both
 * runs both shares of each section here and counts them; its clock then
 * reports the two-core critical path. */
#define M33_SYNC_INSTRUCTIONS 100u /* assumed: a FIFO handshake each way */
typedef struct {
    uint64_t core1;      /* instructions of the second core's shares */
    uint64_t overlapped; /* of the shorter share of each section */
    uint64_t sections;
} m33_core_counts;
void m33_two_cores_counted(pl_platform *p);
m33_core_counts m33_core_counts_now(void);
#if defined(M33_TWO_CORES)
/* The two-core image (mps2-an521): the work really runs on core 1. */
void m33_two_cores(pl_platform *p);
__attribute__((noreturn)) void m33_core1_loop(void);
#endif
size_t m33_stack_used(void);      /* deepest the stack has been, in bytes */
int m33_kernel_test(void);        /* kernel_test.c */
int m33_kernel_bench(void);
size_t m33_static_sram(void);     /* .data + .bss */

#endif
