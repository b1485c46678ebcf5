/* The emulated board's platform port and measurements. */
#ifndef M33_PORT_H
#define M33_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "picollama.h"

#define M33_INSTRUCTIONS_PER_TICK 50u
#define M33_EXIT_FAULT 99

/* The pools: the fast pool is what the linker leaves of the 512 KB SRAM,
 * the large pool the PSRAM region. Each hands out one block. */
pl_platform m33_platform(void);
size_t m33_fast_pool_capacity(void);
size_t m33_large_pool_capacity(void);

uint64_t m33_instructions(void);
size_t m33_stack_used(void);      /* deepest the stack has been, in bytes */
int m33_kernel_test(void);        /* kernel_test.c */
int m33_kernel_bench(void);
size_t m33_static_sram(void);     /* .data + .bss */

#endif
