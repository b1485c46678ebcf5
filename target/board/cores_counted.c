#include "board.h"
#include "board_marks.h"

/* Two cores on a one-core board: each section's two shares
 * run one after the other and each is counted; the clock then tells the
 * time two cores take, everything but the shorter share of each section
 * (it runs while the longer one does) plus BOARD_SYNC_INSTRUCTIONS for the
 * handshake. Counted: every instruction of both shares. Modeled: that they
 * overlap, and the handshake's cost. */
static board_core_counts counts;

static void run_on_both_counted(void *user, void (*fn)(void *arg, int core), void *arg) {
    (void)user;
    board_mark(BOARD_MARK_SHARE_CORE1);
    uint64_t t0 = board_instructions();
    fn(arg, 1);
    uint64_t t1 = board_instructions();
    board_mark(BOARD_MARK_SHARE_CORE0);
    fn(arg, 0);
    uint64_t t2 = board_instructions();
    board_mark(BOARD_MARK_SECTION_END);
    uint64_t a1 = t1 - t0, a0 = t2 - t1;
    counts.core1 += a1;
    counts.overlapped += a0 < a1 ? a0 : a1;
    counts.sections++;
}

uint64_t board_two_core_clock(void) {
    return board_instructions() - counts.overlapped + counts.sections * BOARD_SYNC_INSTRUCTIONS;
}

void board_two_cores_counted(pl_platform *p) { p->run_on_both = run_on_both_counted; }

board_core_counts board_core_counts_now(void) { return counts; }
