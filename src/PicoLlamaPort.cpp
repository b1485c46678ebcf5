/*
 * The arduino-pico port: where PicoLlama's two pools come from on an RP2350
 * board, and its clock and seed. Compiled by Arduino only (the host and
 * emulator builds compile only the engine's C files).
 */
#if defined(ARDUINO_ARCH_RP2040)

#include <Arduino.h>
#include <stdlib.h>

#include "PicoLlama.h"
#include "pl_port.h"

#if !defined(RP2350_PSRAM_CS)
#error "PicoLlama keeps its KV cache in PSRAM, and this board has none configured. Choose an RP2350 board with PSRAM (for example the Pimoroni PGA2350) and set Tools > PSRAM Size in the Arduino IDE (board_build.psram_length in PlatformIO)."
#endif

extern "C" {

/* The fast pool (per-token vectors, logits, sampler index, weights placed
 * in SRAM) from the SRAM heap; the large pool (KV cache, tokenizer index,
 * weights placed in PSRAM) from PSRAM. free()
 * recognises PSRAM pointers, so both are released the same way. */
static void *port_alloc(void *user, pl_pool pool, size_t size) {
    (void)user;
    return pool == PL_POOL_LARGE ? pmalloc(size) : malloc(size);
}

static void port_release(void *user, pl_pool pool, void *ptr) {
    (void)user;
    (void)pool;
    free(ptr);
}

static uint64_t port_cycles(void *user) {
    (void)user;
    return rp2040.getCycleCount64();
}

pl_platform picollama_arduino_platform(void) {
    pl_platform p;
    p.alloc = port_alloc;
    p.release = port_release;
    p.clock = port_cycles;
    p.user = NULL;
    return p;
}

uint32_t picollama_arduino_random_seed(void) { return rp2040.hwrand32(); }

uint32_t picollama_arduino_cycles_per_ms(void) { return (uint32_t)(PL_PORT_CPU_HZ / 1000u); }

size_t picollama_arduino_psram_size(void) { return rp2040.getPSRAMSize(); }

size_t picollama_arduino_sram_free(void) { return (size_t)rp2040.getFreeHeap(); }

size_t picollama_arduino_psram_free(void) { return (size_t)rp2040.getFreePSRAMHeap(); }

} /* extern "C" */

#endif /* ARDUINO_ARCH_RP2040 */
