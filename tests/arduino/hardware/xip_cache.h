/* Stand-in for pico-sdk 2.2.0's hardware/xip_cache.h: the one call
 * PicoLlama's port makes. standin.cpp counts it: DMA must not read PSRAM
 * written since the last clean (standin_misuse). */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif
void xip_cache_clean_all(void);
#ifdef __cplusplus
}
#endif
