#include "m33_port.h"

/* The memory map of the files and the PSRAM: the MPU (startup.c). */
void board_map_blobs(const void *blobs_end, const void *psram_start, const void *psram_end) {
    m33_map_blobs(blobs_end, psram_start, psram_end);
}


#if defined(BOARD_TWO_CORES)
/* The real second core (mps2-an521): a mailbox in SRAM. Core 0 posts the
 * work and bumps `start`; core 1 runs its share and copies `start` to
 * `done`; each side orders its writes with a DMB, signals with SEV and
 * waits with WFE (which also lets QEMU run the other core). */
static volatile struct {
    void (*fn)(void *arg, int core);
    void *arg;
    uint32_t start, done;
} mailbox;

static void run_on_both_core1(void *user, void (*fn)(void *arg, int core), void *arg) {
    (void)user;
    mailbox.fn = fn;
    mailbox.arg = arg;
    __asm__ volatile("dmb" ::: "memory");
    mailbox.start++;
    __asm__ volatile("dsb\n\tsev" ::: "memory");
    fn(arg, 0);
    while (mailbox.done != mailbox.start) __asm__ volatile("wfe");
    __asm__ volatile("dmb" ::: "memory");
}

void m33_core1_loop(void) {
    uint32_t seen = 0;
    for (;;) {
        while (mailbox.start == seen) __asm__ volatile("wfe");
        __asm__ volatile("dmb" ::: "memory");
        seen = mailbox.start;
        mailbox.fn(mailbox.arg, 1);
        __asm__ volatile("dmb" ::: "memory");
        mailbox.done = seen;
        __asm__ volatile("dsb\n\tsev" ::: "memory");
    }
}

void board_two_cores(pl_platform *p) { p->run_on_both = run_on_both_core1; }
#endif

