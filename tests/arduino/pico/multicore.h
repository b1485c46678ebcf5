/* Stand-in for pico-sdk 2.2.0's pico/multicore.h: the calls PicoLlama's
 * port makes, with the SDK's signatures. Core 1 is a thread; each FIFO
 * direction is a queue (the RP2350's are 4 deep; the stand-in blocks the
 * same way when full). */
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
void multicore_launch_core1(void (*entry)(void));
void multicore_fifo_push_blocking(uint32_t data);
uint32_t multicore_fifo_pop_blocking(void);
#ifdef __cplusplus
}
#endif
