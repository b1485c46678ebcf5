/* Stand-in for pico-sdk 2.2.0's hardware/xip_cache.h: the calls
 * PicoLlama's port makes, and the constants it uses (the SDK takes
 * XIP_BASE from hardware/regs/addressmap.h, which this header includes).
 * standin.cpp keeps what PSRAM holds behind the cache: DMA reads that, so
 * a write the port does not clean changes the story. */
#pragma once

#include <stdint.h>

#define XIP_BASE ((uintptr_t)0x10000000u)
#define XIP_CACHE_LINE_SIZE ((uintptr_t)8u)

#ifdef __cplusplus
extern "C" {
#endif
void xip_cache_clean_all(void);
/* start_offset: an address less XIP_BASE, on a line; size_bytes: whole lines */
void xip_cache_clean_range(uintptr_t start_offset, uintptr_t size_bytes);
#ifdef __cplusplus
}
#endif
