/*
 * What a port decides about code placement and clocks. The engine and its
 * kernels include this and never test a board macro themselves.
 *
 *   PL_HOT          placement of the kernels every token runs
 *   PL_PORT_CPU_HZ  the core clock the port's cycle counter runs at
 *   PL_WEIGHTS_BEHIND_BURST_BUS  weights outside SRAM are read in address order
 */
#ifndef PL_PORT_H
#define PL_PORT_H

#if defined(ARDUINO_ARCH_RP2040) || defined(PL_RAM_FUNCS)
/* arduino-pico (RP2040/RP2350): code fetched from flash competes with the
 * weights for the 16 KB XIP cache, so hot kernels run from SRAM. pico-sdk's
 * linker script copies .time_critical.* sections there at boot (what
 * __not_in_flash_func does); the emulated M33 image's (PL_RAM_FUNCS) does
 * the same. PL_NO_RAM_FUNCS keeps them in flash. */
#if !defined(PL_NO_RAM_FUNCS)
#define PL_HOT __attribute__((section(".time_critical.picollama"), noinline))
#endif
#endif
#if defined(ARDUINO_ARCH_RP2040)
/* F_CPU is the board menu's clock (150 MHz stock on the RP2350). */
#if defined(F_CPU)
#define PL_PORT_CPU_HZ ((unsigned long)(F_CPU))
#endif
#endif

#ifndef PL_HOT
#define PL_HOT
#endif
/* A helper a hot kernel calls in its loop: always inlined into it, so it
 * runs where the kernel runs (at -Os GCC would keep it out of line, in
 * flash). A rare path a hot kernel may call and that stays in flash says
 * so: PL_COLD. tests/hot_code_check.sh holds the emulated M33 image, at -Os
 * and -O2, to both. */
#if defined(__GNUC__)
#define PL_INLINE static inline __attribute__((always_inline))
#define PL_COLD __attribute__((cold, noinline))
#else
#define PL_INLINE static inline
#define PL_COLD
#endif
#ifndef PL_PORT_CPU_HZ
#define PL_PORT_CPU_HZ 150000000ul /* the RP2350's stock clock */
#endif
/* On the board (a Cortex-M33: ARMv8-M mainline; a Hazard3: 32-bit RISC-V
 * with no OS) weights outside SRAM sit behind the QSPI bus, which bursts
 * only for addresses in order (docs/board-model.md), so the kernels read
 * them as one stream even where that costs instructions. A PC reads its
 * mapped file as fast in any order and keeps the cheaper order. */
#if defined(ARDUINO_ARCH_RP2040) || defined(__ARM_ARCH_8M_MAIN__) || \
    (defined(__riscv) && !defined(__linux__))
#define PL_WEIGHTS_BEHIND_BURST_BUS 1
#endif

/* The board's memories (a Pimoroni PGA2350 class RP2350: 16 MB flash,
 * 8 MB PSRAM) and their read rates under arduino-pico
 * (../shared/docs/rp2350-facts.md): the budget `inspect` checks and the
 * emulated boards' memory maps.
 *   SRAM reserve: the core, USB stack, both 4 KB stacks and the sketch's
 *   globals, as a PC must assume them (the Arduino class measures the heap
 *   the sketch left instead); flash reserve: the sketch and core code.
 *   Budgeting assumptions, not measurements. */
#define PL_BOARD_FLASH_BYTES (16ul * 1024ul * 1024ul)
#define PL_BOARD_FLASH_RESERVE (1024ul * 1024ul)
#define PL_BOARD_SRAM_BYTES (520ul * 1024ul)
#define PL_BOARD_SRAM_RESERVE (96ul * 1024ul)
#define PL_BOARD_PSRAM_BYTES (8ul * 1024ul * 1024ul)
/* Streaming rates in bytes per millisecond, every burst long: quad-SPI
 * flash through XIP at 50 MHz (24.8 MB/s) and PSRAM at 75 MHz (36.6 MB/s).
 * Only `picollama inspect`'s bytes-only estimate (a floor) uses them; board
 * time is the board model's (docs/board-model.md). */
#define PL_BOARD_FLASH_BYTES_PER_MS 24800ul
#define PL_BOARD_PSRAM_BYTES_PER_MS 36600ul

#endif /* PL_PORT_H */
