/*
 * Reset and exceptions for the emulated RP2350 core: copy .data, clear .bss,
 * turn on the FPU, paint the stack (to measure how deep it gets), start the
 * instruction counter, run main, exit through semihosting with its status.
 */
#include <stdint.h>

#include "m33_port.h"
#include "semihosting.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack0_bottom, __stack0_top;
int main(void);

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SCB_CPACR REG(0xE000ED88u)
#define SCB_CFSR REG(0xE000ED28u)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define STACK_PAINT 0xA5A5A5A5u

static volatile uint32_t systick_wraps;

void SysTick_Handler(void) { systick_wraps++; }

/* SysTick on the CPU clock under `-icount shift=0` counts down once per 50
 * instructions, the same on every run: a deterministic instruction counter. */
uint64_t m33_instructions(void) {
    uint32_t wraps, value;
    do {
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    return ((uint64_t)wraps * 0x1000000u + (0xFFFFFFu - value)) * M33_INSTRUCTIONS_PER_TICK;
}

size_t m33_stack_used(void) {
    const uint32_t *p = &__stack0_bottom;
    while (p < &__stack0_top && *p == STACK_PAINT) p++;
    return (size_t)((const uint8_t *)&__stack0_top - (const uint8_t *)p);
}

static void fault(const char *what) {
    char hex[11];
    uint32_t v = SCB_CFSR;
    hex[0] = '0';
    hex[1] = 'x';
    for (int i = 0; i < 8; i++) hex[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    hex[10] = '\0';
    sh_puts(2, "picollama-m33: ");
    sh_puts(2, what);
    sh_puts(2, ", CFSR ");
    sh_puts(2, hex);
    sh_puts(2, "\n");
    sh_exit(M33_EXIT_FAULT);
}

void HardFault_Handler(void) { fault("HardFault"); }
void MemManage_Handler(void) { fault("MemManage fault"); }
void BusFault_Handler(void) { fault("BusFault"); }
void UsageFault_Handler(void) { fault("UsageFault"); }
void SecureFault_Handler(void) { fault("SecureFault"); }
void Default_Handler(void) { fault("unexpected exception"); }

__attribute__((noreturn)) void Reset_Handler(void) {
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
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    SYST_CSR = 0x7u; /* enable, interrupt on wrap, CPU clock */
    sh_exit(main());
}

__attribute__((section(".vectors"), used)) void (*const vector_table[])(void) = {
    (void (*)(void))(&__stack0_top),
    Reset_Handler,
    Default_Handler,    /* NMI */
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    SecureFault_Handler,
    0, 0, 0,
    Default_Handler,    /* SVCall */
    Default_Handler,    /* DebugMonitor */
    0,
    Default_Handler,    /* PendSV */
    SysTick_Handler,
};
