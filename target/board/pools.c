/* The engine's two pools on an emulated board: the fast pool is the SRAM
 * the linker script leaves, the large pool the PSRAM after the model files
 * in the 16 MB region; each hands out one block. */
#include "board.h"

extern uint8_t __fast_pool_start, __fast_pool_end, __psram_size, __blobs_start, __blobs_end;
extern uint8_t __data_start, __bss_end;

typedef struct {
    uint8_t *start, *end, *next;
} region;

static region pools[2];

static void *pool_alloc(void *user, pl_pool pool, size_t size) {
    region *r = &pools[pool == PL_POOL_LARGE];
    (void)user;
    uint8_t *p = (uint8_t *)(((uintptr_t)r->next + 7u) & ~(uintptr_t)7u);
    if (p > r->end || size > (size_t)(r->end - p)) return NULL;
    r->next = p + size;
    return p;
}

static void pool_release(void *user, pl_pool pool, void *ptr) {
    region *r = &pools[pool == PL_POOL_LARGE];
    (void)user;
    if (ptr) r->next = r->start; /* one block per pool: releasing it empties the pool */
}

static uint64_t clock_instructions(void *user) {
    (void)user;
    return board_two_core_clock();
}

pl_platform board_platform(void) {
    pl_platform p;
    pools[0].start = pools[0].next = &__fast_pool_start;
    pools[0].end = &__fast_pool_end;
    if (!pools[1].start) board_use_blobs(0);
    p.alloc = pool_alloc;
    p.release = pool_release;
    p.clock = clock_instructions;
    p.user = NULL;
    p.run_on_both = NULL;
    return p;
}

size_t board_fast_pool_capacity(void) { return (size_t)(&__fast_pool_end - &__fast_pool_start); }
size_t board_large_pool_capacity(void) { return (size_t)(pools[1].end - pools[1].start); }
size_t board_static_sram(void) { return (size_t)(&__bss_end - &__data_start); }

void board_use_blobs(size_t bytes) {
    uint8_t *start = &__blobs_start + ((bytes + 31u) & ~(size_t)31u);
    size_t room = (size_t)(&__blobs_end - start), psram = (size_t)(uintptr_t)&__psram_size;
    pools[1].start = pools[1].next = start;
    pools[1].end = start + (room < psram ? room : psram);
    board_map_blobs(start, pools[1].start, pools[1].end);
}

