/*
 * Marks for the RP2350 board model (target/board-model/rp2350_model.c): a
 * byte stored at BOARD_MARKS + k tells the plugin, which sees every store's
 * address, where the story begins and ends and where the two shares of a
 * two-core section run, so it can time exactly those, and where the image
 * makes a background copy (copy_marked.c), so it can charge it as DMA.
 * The range is RAM the image uses for nothing else (QEMU's SSRAM beyond
 * the board's 520 KB on mps2-an505; RAM between the image and the files
 * on virt); the stores cost a few instructions, the same with or without
 * the plugin.
 */
#ifndef BOARD_MARKS_H
#define BOARD_MARKS_H

#include <stdint.h>

#if defined(__riscv)
#define BOARD_MARKS 0x80F00000u
#else
#define BOARD_MARKS 0x28300000u
#endif

enum {
    BOARD_MARK_STORY_BEGIN = 0, /* the board model's numbering (rp2350_model.c) */
    BOARD_MARK_STORY_END = 1,
    BOARD_MARK_SHARE_CORE1 = 2,
    BOARD_MARK_SHARE_CORE0 = 3,
    BOARD_MARK_SECTION_END = 4,
    BOARD_MARK_COPY_BEGIN = 5, /* the image copies a copy_start's bytes: not counted */
    BOARD_MARK_COPY_END = 6,   /* the DMA starts streaming them */
    BOARD_MARK_COPY_WAIT = 7,  /* copy_wait: until the stream's end */
    BOARD_MARK_CLEAN_BEGIN = 8, /* copy_written: the image reads a byte a line, */
    BOARD_MARK_CLEAN_END = 9    /* the model writes each dirty line back */
};

static inline void board_mark(unsigned which) {
    *(volatile uint8_t *)(uintptr_t)(BOARD_MARKS + which) = 0;
}

/* pl_tell_story's around_generate: the story's begin and end */
static inline void board_mark_story(int end) {
    board_mark(end ? BOARD_MARK_STORY_END : BOARD_MARK_STORY_BEGIN);
}

#endif
