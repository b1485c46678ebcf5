/*
 * Reset and exceptions for the emulated RP2350 core: copy .data, clear .bss,
 * turn on the FPU, paint the stack (to measure how deep it gets), start the
 * instruction counter, run main, exit through semihosting with its status.
 */
#include <stdint.h>

#include "m33_port.h"
#include "semihosting.h"
#include "board_marks.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack0_bottom, __stack0_top;
extern uint8_t __flash_start, __flash_end, __sram_start, __sram_end, __psram_size;
extern uint8_t __blobs_start, __blobs_end, __psram_spill_start, __psram_spill_end;
int board_main(void);

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_CPACR REG(0xE000ED88u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_SHCSR REG(0xE000ED24u)
#define SCB_MMFAR REG(0xE000ED34u)
#define SCB_BFAR REG(0xE000ED38u)
#define MPU_CTRL REG(0xE000ED94u)
#define MPU_RNR REG(0xE000ED98u)
#define MPU_RBAR REG(0xE000ED9Cu)
#define MPU_RLAR REG(0xE000EDA0u)
#define MPU_MAIR0 REG(0xE000EDC0u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define STACK_PAINT 0xA5A5A5A5u

static volatile uint32_t systick_wraps;

void SysTick_Handler(void) { systick_wraps++; }

/* SysTick on the CPU clock under `-icount shift=0` counts down once per 50
 * instructions, the same on every run: a deterministic instruction counter. */
uint64_t board_instructions(void) {
    uint32_t wraps, value;
    do {
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    return ((uint64_t)wraps * 0x1000000u + (0xFFFFFFu - value)) * M33_INSTRUCTIONS_PER_TICK;
}

size_t board_stack_used(void) {
    const uint32_t *p = &__stack0_bottom;
    while (p < &__stack0_top && *p == STACK_PAINT) p++;
    return (size_t)((const uint8_t *)&__stack0_top - (const uint8_t *)p);
}

static void put_hex(const char *label, uint32_t v) {
    char hex[11];
    hex[0] = '0';
    hex[1] = 'x';
    for (int i = 0; i < 8; i++) hex[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    hex[10] = '\0';
    sh_puts(2, label);
    sh_puts(2, hex);
}

/* Reports the fault with the faulting instruction's address (from the
 * exception frame) and exits: a wild access must never pass silently. */
void fault_report(const uint32_t *frame) {
    sh_puts(2, "picollama-m33: fault at pc ");
    put_hex("", frame[6]);
    put_hex(", CFSR ", SCB_CFSR);
    put_hex(", MMFAR ", SCB_MMFAR);
    put_hex(", BFAR ", SCB_BFAR);
    sh_puts(2, "\n");
    sh_exit(M33_EXIT_FAULT);
}

__attribute__((naked)) void Fault_Handler(void) {
    __asm__ volatile("mrs r0, msp\n\tb fault_report");
}

/* The MPU makes the emulated memories behave like the board's: code and
 * model blobs read-only (flash), SRAM and PSRAM read-write, everything else
 * (address 0 included) a fault. A stray write into "flash" or a NULL
 * dereference stops the run with the faulting address instead of quietly
 * corrupting code, as it could on QEMU's writable boot RAM. */
static void mpu_region(uint32_t n, const void *start, const void *end, uint32_t ap, uint32_t xn) {
    MPU_RNR = n;
    if (start == end) { /* empty: off */
        MPU_RLAR = 0;
        return;
    }
    MPU_RBAR = ((uint32_t)start & ~31u) | (ap << 1) | xn;
    MPU_RLAR = (((uint32_t)end - 1u) & ~31u) | 1u; /* attribute 0, enabled */
}

void m33_map_blobs(const void *blobs_end, const void *psram_start, const void *psram_end) {
    mpu_region(2, psram_start, psram_end, 0u, 1u);          /* read-write */
    mpu_region(3, &__blobs_start, blobs_end, 2u, 1u);       /* read-only */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

static void mpu_init(void) {
    MPU_MAIR0 = 0xFFu; /* attribute 0: normal memory, write-back */
    mpu_region(0, &__flash_start, &__flash_end, 2u, 0u); /* read-only, executable */
    /* read-write, and executable: the hot kernels run from SRAM, as on
     * the board (.time_critical, copied with .data) */
    mpu_region(1, &__sram_start, &__sram_end, 0u, 0u);
    /* the PSRAM's spill range at the code region's top (m33.ld) */
    mpu_region(5, &__psram_spill_start, &__psram_spill_end, 0u, 1u);
    /* the board model's marks (board_marks.h) */
    mpu_region(4, (const void *)BOARD_MARKS, (const void *)(BOARD_MARKS + 32u), 0u, 1u);
    /* no files yet: the PSRAM from the region's start (board_use_blobs) */
    mpu_region(2, &__blobs_start, &__blobs_start + (uintptr_t)&__psram_size, 0u, 1u);
    mpu_region(3, &__blobs_start, &__blobs_start, 2u, 1u);
    MPU_CTRL = 1u; /* on, no default map for the rest */
    SCB_SHCSR |= (1u << 16) | (1u << 17) | (1u << 18); /* MemManage, BusFault, UsageFault */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

#if defined(BOARD_TWO_CORES)
/* mps2-an521: both cores start here, with core 0's stack pointer, once
 * core 0 lets core 1 go (CPUWAIT). So before touching the stack: core 1
 * (CPU_IDENTITY reads 1) takes its own stack (the RP2350's second 4 KB
 * scratch bank) and goes to core1_reset. */
#define SYSCTL_CPUWAIT REG(0x50021118u)
void core1_reset(void);
__attribute__((naked, noreturn)) void Reset_Handler(void) {
    __asm__ volatile("ldr r0, =0x4001F000\n\t"
                     "ldr r0, [r0]\n\t"
                     "cbz r0, 1f\n\t"
                     "ldr r0, =__stack1_top\n\t"
                     "mov sp, r0\n\t"
                     "b core1_reset\n\t"
                     "1:\n\t"
                     "b core0_reset\n\t");
}

/* Core 1: its own FPU access (the SCB is per core), then the work loop.
 * Its MPU stays off: the default map, so only core 0's accesses are
 * checked against the board's memories. */
__attribute__((noreturn)) void core1_reset(void) {
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    m33_core1_loop();
}
#define RESET_CORE0 core0_reset
__attribute__((noreturn, used)) void core0_reset(void);
#else
#define RESET_CORE0 Reset_Handler
#endif

__attribute__((noreturn, used)) void RESET_CORE0(void) {
    uint32_t *src = &__data_load, *dst = &__data_start;
    while (dst < &__data_end) *dst++ = *src++;
    for (dst = &__bss_start; dst < &__bss_end; dst++) *dst = 0;
    /* CP10 and CP11 full access: without it the first VLDR faults. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    /* Paint the stack below the current frame. */
    {
        volatile uint32_t *p = &__stack0_bottom;
        uint32_t *sp;
        __asm__ volatile("mov %0, sp" : "=r"(sp));
        while (p < (volatile uint32_t *)sp - 16) *p++ = STACK_PAINT;
    }
#if defined(BOARD_TWO_CORES)
    /* .data and .bss are ready: core 1 may start (before the MPU closes
     * the system control block's address) */
    SYSCTL_CPUWAIT = 0;
    __asm__ volatile("dsb\n\tsev" ::: "memory");
#endif
    mpu_init();
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* enable, interrupt on wrap, CPU clock */
    sh_exit(board_main());
}

__attribute__((section(".vectors"), used)) void (*const vector_table[])(void) = {
    (void (*)(void))(&__stack0_top),
    Reset_Handler,
    Fault_Handler,      /* NMI */
    Fault_Handler,      /* HardFault */
    Fault_Handler,      /* MemManage */
    Fault_Handler,      /* BusFault */
    Fault_Handler,      /* UsageFault */
    Fault_Handler,      /* SecureFault */
    0, 0, 0,
    Fault_Handler,      /* SVCall */
    Fault_Handler,      /* DebugMonitor */
    0,
    Fault_Handler,      /* PendSV */
    SysTick_Handler,
};
