/* The engine's pools on an emulated board. The fast pool is the SRAM the
 * linker script leaves. The large pool is the board's PSRAM, 8 MB, emulated
 * where QEMU has room: after the model files in the 16 MB region and, when
 * big files leave less than 8 MB there, in the spare top of the code
 * region too (the M33 linker script's PSRAM_SPILL; the Hazard3's image has
 * none, and takes only what the region leaves). The launcher tells
 * the board model both ranges are PSRAM. Each block comes whole from one
 * range (the first with room); together they never give more than 8 MB.
 * A pool empties when its last block is released. */
#include "board.h"

extern uint8_t __fast_pool_start, __fast_pool_end, __psram_size, __blobs_start, __blobs_end;
extern uint8_t __psram_spill_start, __psram_spill_end;
extern uint8_t __data_start, __bss_end;

typedef struct {
    uint8_t *start, *end, *next;
} range;

typedef struct {
    range ranges[2];
    int n_ranges;
    size_t capacity, used;
    int blocks; /* outstanding */
} pool;

static pool pools[2];

static void pool_empty(pool *p) {
    for (int i = 0; i < p->n_ranges; i++) p->ranges[i].next = p->ranges[i].start;
    p->used = 0;
    p->blocks = 0;
}

static void *pool_alloc(void *user, pl_pool which, size_t size) {
    pool *p = &pools[which == PL_POOL_LARGE];
    (void)user;
    if (size > p->capacity - p->used) return NULL;
    for (int i = 0; i < p->n_ranges; i++) {
        range *r = &p->ranges[i];
        uint8_t *at = (uint8_t *)(((uintptr_t)r->next + 7u) & ~(uintptr_t)7u);
        if (at > r->end || size > (size_t)(r->end - at)) continue;
        r->next = at + size;
        p->used += size;
        p->blocks++;
        return at;
    }
    return NULL;
}

static void pool_release(void *user, pl_pool which, void *ptr) {
    pool *p = &pools[which == PL_POOL_LARGE];
    (void)user;
    if (ptr && --p->blocks <= 0) pool_empty(p);
}

static uint64_t clock_instructions(void *user) {
    (void)user;
    return board_two_core_clock();
}

pl_platform board_platform(void) {
    pl_platform p;
    range fast = {&__fast_pool_start, &__fast_pool_end, &__fast_pool_start};
    pools[0].ranges[0] = fast;
    pools[0].n_ranges = 1;
    pools[0].capacity = (size_t)(&__fast_pool_end - &__fast_pool_start);
    pool_empty(&pools[0]);
    if (!pools[1].n_ranges) board_use_blobs(0);
    p.alloc = pool_alloc;
    p.release = pool_release;
    p.clock = clock_instructions;
    p.user = NULL;
    p.run_on_both = NULL;
    p.copy_start = NULL;
    p.copy_wait = NULL;
    p.copy_written = NULL;
    return p;
}

size_t board_fast_pool_capacity(void) { return pools[0].capacity; }
size_t board_large_pool_capacity(void) { return pools[1].capacity; }
size_t board_static_sram(void) { return (size_t)(&__bss_end - &__data_start); }

void board_use_blobs(size_t bytes) {
    uint8_t *start = &__blobs_start + ((bytes + 31u) & ~(size_t)31u);
    size_t psram = (size_t)(uintptr_t)&__psram_size, room = (size_t)(&__blobs_end - start);
    pool *p = &pools[1];
    range after_files = {start, start + (room < psram ? room : psram), start};
    range spill = {&__psram_spill_start, &__psram_spill_end, &__psram_spill_start};
    p->ranges[0] = after_files;
    p->n_ranges = 1;
    p->capacity = (size_t)(after_files.end - after_files.start);
    if (p->capacity < psram && spill.end > spill.start) {
        size_t more = (size_t)(spill.end - spill.start);
        p->ranges[p->n_ranges++] = spill;
        p->capacity = p->capacity + more < psram ? p->capacity + more : psram;
    }
    pool_empty(p);
    board_map_blobs(start, after_files.start, after_files.end);
}
