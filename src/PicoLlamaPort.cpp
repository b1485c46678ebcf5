/*
 * The arduino-pico port: where PicoLlama's two pools come from on an RP2350
 * board, and its clock and seed. Compiled by Arduino only (the host and
 * emulator builds compile only the engine's C files).
 */
#if defined(ARDUINO_ARCH_RP2040)

#include <Arduino.h>
#include <hardware/dma.h>
#include <hardware/structs/xip_ctrl.h>
#include <hardware/xip_cache.h>
#include <pico/multicore.h>
#include <stdlib.h>

#include "PicoLlama.h"
#include "pl_port.h"

#if !defined(RP2350_PSRAM_CS)
#error "PicoLlama keeps its KV cache in PSRAM, and this board has none: RP2350_PSRAM_CS is undefined. Choose a board whose variant has PSRAM (for example Pimoroni PGA2350, Pimoroni Pico Plus 2, SparkFun ProMicro RP2350, Adafruit Feather RP2350 HSTX), or on Generic RP2350 set Tools > PSRAM CS to the chip-select GPIO your PSRAM is wired to. (Tools > PSRAM Size only sizes the linker region; the heap is sized from the chip found at run time.)"
#endif

extern "C" {

/* The fast pool's blocks (per-token vectors, logits, sampler index,
 * weights placed in SRAM) from the SRAM heap; the large pool's (tokenizer
 * index, weights placed in PSRAM) from PSRAM; the KV cache, a block of its
 * own, from the pool the plan puts it in. free() recognises PSRAM
 * pointers, so all are released the same way. */
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
    p.run_on_both = NULL; /* one core unless the class asks for both */
    p.copy_start = NULL; /* no DMA channel: tensors are read where they are */
    p.copy_wait = NULL;
    p.copy_written = NULL;
    picollama_arduino_use_dma(&p);
    return p;
}

/* ---- streaming (pl_options.stream_weights) -----------------------------
 * A block of a tensor in flash or PSRAM reaches an SRAM stage by DMA from
 * the XIP stream FIFO (RP2350 datasheet 4.4.3): STREAM_ADDR and STREAM_CTR
 * make the XIP block read the block's words in the bus's idle time, at a
 * lower priority than the cores' cache misses and bypassing the cache;
 * one DMA channel, paced by DREQ_XIP_STREAM, moves each word from the
 * FIFO (XIP_AUX_BASE, the fast alias) to the stage. The cores compute on
 * the other stage meanwhile. The stream reads flash and PSRAM directly, so
 * the weights the engine copied to PSRAM through the cache are cleaned
 * out of it first (picollama_arduino_weights_written). In SRAM: called for
 * every block, beside the hot kernels. */
static int stream_channel = -1;

static void PL_HOT port_copy_start(void *user, void *dst, const void *src, size_t n) {
    (void)user;
    /* a stream left over (none: each copy is waited for) would feed this one */
    while (!(xip_ctrl_hw->stat & XIP_STAT_FIFO_EMPTY)) (void)xip_ctrl_hw->stream_fifo;
    xip_ctrl_hw->stream_addr = (uintptr_t)src;
    xip_ctrl_hw->stream_ctr = (uint32_t)(n / 4u);
    dma_channel_config c = dma_channel_get_default_config((uint)stream_channel);
    channel_config_set_transfer_data_size(&c, DMA_SIZE_32);
    channel_config_set_read_increment(&c, false); /* the FIFO: one address */
    channel_config_set_write_increment(&c, true);
    channel_config_set_dreq(&c, DREQ_XIP_STREAM);
    dma_channel_configure((uint)stream_channel, &c, dst, (const void *)XIP_AUX_BASE, (uint32_t)(n / 4u), true);
}

static void PL_HOT port_copy_wait(void *user) {
    (void)user;
    dma_channel_wait_for_finish_blocking((uint)stream_channel);
}

/* The KV cache's writes before the stream reads them: the cores write
 * PSRAM through the XIP cache, whose lines reach the chip only when
 * evicted or cleaned, and the stream reads the chip. Whole lines, as
 * offsets in the XIP space (pico-sdk's contract). */
static void PL_HOT port_copy_written(void *user, const void *p, size_t n) {
    const uintptr_t line = XIP_CACHE_LINE_SIZE;
    uintptr_t start = (uintptr_t)p & ~(line - 1u), end = ((uintptr_t)p + n + line - 1u) & ~(line - 1u);
    (void)user;
    xip_cache_clean_range(start - XIP_BASE, end - start);
}

/* One channel for the sketch's life, claimed at the first model; none
 * free (the sketch took all 16): no streaming. */
void picollama_arduino_use_dma(pl_platform *p) {
    if (stream_channel < 0) stream_channel = dma_claim_unused_channel(false);
    if (stream_channel < 0) return;
    p->copy_start = port_copy_start;
    p->copy_wait = port_copy_wait;
    p->copy_written = port_copy_written;
}

void picollama_arduino_weights_written(void) { xip_cache_clean_all(); }

uint32_t picollama_arduino_random_seed(void) { return rp2040.hwrand32(); }

/* ---- both cores (PicoLlama::useBothCores) ------------------------------
 * Core 1 runs a loop in RAM that waits on the inter-core FIFO; each piece
 * of work is a function and an argument left here, and a FIFO word as the
 * doorbell each way (pointers never travel through the FIFO). The sketch
 * must not use core 1 itself (setup1/loop1, or multicore_launch_core1). */
static void (*volatile job_fn)(void *arg, int core);
static void *volatile job_arg;
static bool core1_running;

/* A sketch that defines setup1/loop1 has core 1 already (arduino-pico's
 * main starts it); weak references tell, as arduino-pico's main does. */
extern void setup1() __attribute__((weak));
extern void loop1() __attribute__((weak));

static void PL_HOT core1_main(void) {
    for (;;) {
        (void)multicore_fifo_pop_blocking();
        job_fn(job_arg, 1);
        __sync_synchronize(); /* core 1's results before the doorbell */
        multicore_fifo_push_blocking(1);
    }
}

static void PL_HOT port_run_on_both(void *user, void (*fn)(void *arg, int core), void *arg) {
    (void)user;
    job_fn = fn;
    job_arg = arg;
    __sync_synchronize(); /* the job before the doorbell */
    multicore_fifo_push_blocking(1);
    fn(arg, 0);
    (void)multicore_fifo_pop_blocking();
    __sync_synchronize();
}

int picollama_arduino_start_core1(void) {
    if (core1_running) return 1;
    if (setup1 || loop1) return 0;
    multicore_launch_core1(core1_main);
    core1_running = true;
    return 1;
}

void picollama_arduino_use_both_cores(pl_platform *p) { p->run_on_both = port_run_on_both; }

uint32_t picollama_arduino_cycles_per_ms(void) { return (uint32_t)(PL_PORT_CPU_HZ / 1000u); }

size_t picollama_arduino_psram_size(void) { return rp2040.getPSRAMSize(); }

size_t picollama_arduino_sram_free(void) { return (size_t)rp2040.getFreeHeap(); }

size_t picollama_arduino_psram_free(void) { return (size_t)rp2040.getFreePSRAMHeap(); }

} /* extern "C" */

#endif /* ARDUINO_ARCH_RP2040 */
