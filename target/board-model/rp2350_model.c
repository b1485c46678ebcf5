/*
 * The RP2350 board model: a QEMU TCG plugin that turns what an emulated core
 * executes into RP2350 cycles at 150 MHz. docs/board-model.md gives every
 * cost below with its source, and what is assumed.
 *
 *   CPU: each executed instruction is classed from its bytes (Thumb-2 for
 *   the Cortex-M33, RV32IMC for the Hazard3) and charged its class's
 *   cycles, twice: the main estimate and a pessimistic bound (the Cortex-M4
 *   TRM's costs; for the Hazard3, its datasheet's worst cases). A
 *   conditional branch pays its taken penalty when the next block executed
 *   does not start where it falls through.
 *
 *   Bus: every read and write of an address that is flash or PSRAM on the
 *   board, and every fetch of code that runs from flash, goes through the
 *   16 KB, 2-way, 8-byte-line XIP cache (pseudo-random replacement, a fixed
 *   seed). A miss stalls the core for one quad-SPI transfer: only the data
 *   clocks when it continues the open burst (the next line of the same
 *   chip select, within COOLDOWN of the last transfer, no PSRAM page break
 *   and MAX_SELECT not reached), else a new command first. Flash and PSRAM
 *   share the bus.
 *
 *   DMA: a background copy (pl_platform.copy_start: DMA from the XIP
 *   stream FIFO on the board) is marked by the image, which copies the
 *   bytes itself between two marks; the model counts nothing of that copy
 *   and instead streams its source over the bus in the cycles no core
 *   miss uses (the stream has lower priority than XIP misses and resumes
 *   with a new command STREAM_COOLDOWN after one), bypassing the cache,
 *   beside the compute. copy_wait stalls the core until the stream's
 *   modeled end. Because the stream bypasses the cache, the engine
 *   reports the KV cache's writes (pl_platform.copy_written: a clean of
 *   their lines on the board); the image reads a byte of each line
 *   between two marks, and the model writes back each dirty one.
 *
 * Arguments (-plugin build/rp2350-model.so,ARG=VALUE,...):
 *   isa=thumb|rv32         the decoder
 *   flash=START:END        an address range that is the board's flash
 *                          (repeatable): code, read-only data, model files
 *   psram=START:END        the range that is the board's PSRAM
 *   marks=ADDR             a 16-byte range the image stores to at the
 *                          story's start and end, around each two-core
 *                          section's shares and around each background
 *                          copy (target/board/board_marks.h)
 *   profile=FILE           each translated block's cycles in the story
 *                          (tools/profile_m33.sh sums them by function)
 * At exit it prints one line, "board-model: ..." (see report()).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

PL_QEMU_EXPORT int qemu_plugin_version = 1;

/* ---- instruction classes and their costs ----------------------------- */

enum flow { FLOW_NONE, FLOW_COND, FLOW_TAKEN };

typedef enum {
    C_ALU, C_MUL, C_MAC, C_MAC_DSP, C_DIV, C_LOAD, C_LOAD_DUAL, C_LOAD_MULTI, C_STORE, C_STORE_DUAL,
    C_STORE_MULTI, C_BRANCH, C_BRANCH_REG, C_BRANCH_COND, C_FP_LOAD, C_FP_LOAD_MULTI, C_FP_STORE,
    C_FP_STORE_MULTI, C_FP_ALU, C_FP_MAC, C_FP_DIV, C_FP_MOV, C_BARRIER, C_COUNT
} iclass;

typedef struct {
    const char *name;
    /* cycles: the first item; each further item (register of a multiple
     * transfer); the taken penalty of a conditional branch */
    unsigned first[2], each[2], taken[2]; /* [0] main estimate, [1] pessimistic bound */
} class_cost;

/* Cortex-M33 (docs/board-model.md, "CPU"). */
static const class_cost m33_costs[C_COUNT] = {
    [C_ALU] = {"alu", {1, 1}, {0, 0}, {0, 0}},
    [C_MUL] = {"mul", {1, 1}, {0, 0}, {0, 0}},
    [C_MAC] = {"mac", {2, 2}, {0, 0}, {0, 0}},
    [C_MAC_DSP] = {"mac-dsp", {1, 1}, {0, 0}, {0, 0}},
    [C_DIV] = {"div", {7, 12}, {0, 0}, {0, 0}},
    [C_LOAD] = {"load", {1, 2}, {0, 0}, {0, 0}},
    [C_LOAD_DUAL] = {"load-dual", {2, 3}, {0, 0}, {0, 0}},
    [C_LOAD_MULTI] = {"load-multiple", {1, 2}, {1, 1}, {0, 0}},
    [C_STORE] = {"store", {1, 2}, {0, 0}, {0, 0}},
    [C_STORE_DUAL] = {"store-dual", {2, 3}, {0, 0}, {0, 0}},
    [C_STORE_MULTI] = {"store-multiple", {1, 2}, {1, 1}, {0, 0}},
    [C_BRANCH] = {"branch", {2, 2}, {0, 0}, {0, 0}},
    [C_BRANCH_REG] = {"branch-register", {2, 3}, {0, 0}, {0, 0}},
    [C_BRANCH_COND] = {"branch-conditional", {1, 1}, {0, 0}, {1, 1}},
    [C_FP_LOAD] = {"fp-load", {1, 2}, {1, 1}, {0, 0}},
    [C_FP_LOAD_MULTI] = {"fp-load-multiple", {1, 2}, {1, 1}, {0, 0}},
    [C_FP_STORE] = {"fp-store", {1, 2}, {1, 1}, {0, 0}},
    [C_FP_STORE_MULTI] = {"fp-store-multiple", {1, 2}, {1, 1}, {0, 0}},
    [C_FP_ALU] = {"fp-alu", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_MAC] = {"fp-mac", {1, 3}, {0, 0}, {0, 0}},
    [C_FP_DIV] = {"fp-div-sqrt", {14, 14}, {0, 0}, {0, 0}},
    [C_FP_MOV] = {"fp-move", {1, 1}, {0, 0}, {0, 0}},
    [C_BARRIER] = {"barrier", {1, 4}, {0, 0}, {0, 0}},
};

/* Hazard3 (RP2350 datasheet 3.8.7): the same classes, RV32IMC's few. */
static const class_cost hazard3_costs[C_COUNT] = {
    [C_ALU] = {"alu", {1, 1}, {0, 0}, {0, 0}},
    [C_MUL] = {"mul", {1, 1}, {0, 0}, {0, 0}},
    [C_MAC] = {"mac", {1, 1}, {0, 0}, {0, 0}},
    [C_MAC_DSP] = {"mac-dsp", {1, 1}, {0, 0}, {0, 0}},
    [C_DIV] = {"div", {18, 19}, {0, 0}, {0, 0}},
    [C_LOAD] = {"load", {1, 2}, {0, 0}, {0, 0}},
    [C_LOAD_DUAL] = {"load-dual", {2, 4}, {0, 0}, {0, 0}},
    [C_LOAD_MULTI] = {"load-multiple", {1, 2}, {1, 2}, {0, 0}},
    [C_STORE] = {"store", {1, 1}, {0, 0}, {0, 0}},
    [C_STORE_DUAL] = {"store-dual", {2, 2}, {0, 0}, {0, 0}},
    [C_STORE_MULTI] = {"store-multiple", {1, 1}, {1, 1}, {0, 0}},
    [C_BRANCH] = {"branch", {2, 2}, {0, 0}, {0, 0}},
    [C_BRANCH_REG] = {"branch-register", {2, 2}, {0, 0}, {0, 0}},
    [C_BRANCH_COND] = {"branch-conditional", {1, 1}, {1, 1}, {1, 1}},
    [C_FP_LOAD] = {"fp-load", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_LOAD_MULTI] = {"fp-load-multiple", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_STORE] = {"fp-store", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_STORE_MULTI] = {"fp-store-multiple", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_ALU] = {"fp-alu", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_MAC] = {"fp-mac", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_DIV] = {"fp-div-sqrt", {1, 1}, {0, 0}, {0, 0}},
    [C_FP_MOV] = {"fp-move", {1, 1}, {0, 0}, {0, 0}},
    [C_BARRIER] = {"barrier", {1, 2}, {0, 0}, {0, 0}},
};

static const class_cost *costs = m33_costs;

typedef struct {
    iclass cls;
    unsigned items; /* registers (words) of a multiple transfer; 1 otherwise */
    enum flow flow;
} decoded;

static decoded make(iclass cls, unsigned items, enum flow flow) {
    decoded d = {cls, items ? items : 1, flow};
    return d;
}

static unsigned popcount16(unsigned v) { return (unsigned)__builtin_popcount(v & 0xFFFFu); }

/* ---- Thumb-2 (ARMv8-M Mainline with FPv5 and DSP) ---------------------- */

/* The floating-point (cp10/cp11) coprocessor space. */
static decoded thumb_fp(unsigned hw1, unsigned hw2) {
    unsigned coproc = (hw2 >> 8) & 0xF;
    if (coproc != 10 && coproc != 11) return make(C_ALU, 1, FLOW_NONE);
    unsigned op1 = (hw1 >> 4) & 0x3F; /* bits 25:20 */
    if ((op1 & 0x20) == 0) {
        if ((op1 & 0x3A) == 0x00) return make(C_ALU, 1, FLOW_NONE); /* undefined */
        if ((op1 & 0x3E) == 0x04) return make(C_FP_MOV, 1, FLOW_NONE); /* 64-bit transfers */
        unsigned p = (hw1 >> 8) & 1, w = (hw1 >> 5) & 1, l = (hw1 >> 4) & 1;
        if (p && !w) /* VLDR / VSTR: one word, two for a double */
            return make(l ? C_FP_LOAD : C_FP_STORE, coproc == 11 ? 2 : 1, FLOW_NONE);
        return make(l ? C_FP_LOAD_MULTI : C_FP_STORE_MULTI, hw2 & 0xFF, FLOW_NONE); /* imm8 words */
    }
    if ((op1 & 0x30) == 0x20 && (hw2 & 0x10)) return make(C_FP_MOV, 1, FLOW_NONE); /* VMOV, VMRS */
    if ((op1 & 0x30) != 0x20) return make(C_FP_ALU, 1, FLOW_NONE);
    if (hw1 & 0x1000) return make(C_FP_ALU, 1, FLOW_NONE); /* VSEL, VMAXNM, VRINT... */
    unsigned o = ((hw1 >> 5) & 4) | ((hw1 >> 4) & 3); /* opc1 bits 23, 21, 20 */
    switch (o) {
    case 0: case 1: case 5: case 6: return make(C_FP_MAC, 1, FLOW_NONE); /* VMLA, VNMLA, VFNMA, VFMA */
    case 4: return make(C_FP_DIV, 1, FLOW_NONE);                         /* VDIV */
    case 7:
        if ((hw1 & 0xF) == 1 && ((hw2 >> 6) & 3) == 3) return make(C_FP_DIV, 1, FLOW_NONE); /* VSQRT */
        return make(C_FP_ALU, 1, FLOW_NONE);
    default: return make(C_FP_ALU, 1, FLOW_NONE); /* VMUL, VNMUL, VADD, VSUB */
    }
}

static decoded thumb32(unsigned hw1, unsigned hw2) {
    unsigned op1 = (hw1 >> 11) & 3, op2 = (hw1 >> 4) & 0x7F;
    if (op1 == 1) {
        if ((op2 & 0x64) == 0x00) { /* load/store multiple */
            unsigned n = popcount16(hw2);
            if (hw1 & 0x10) return make(C_LOAD_MULTI, n, (hw2 & 0x8000) ? FLOW_TAKEN : FLOW_NONE);
            return make(C_STORE_MULTI, n, FLOW_NONE);
        }
        if ((op2 & 0x64) == 0x04) { /* dual, exclusive, table branch */
            if ((hw1 & 0xFFF0) == 0xE8D0 && (hw2 & 0xFFE0) == 0xF000) return make(C_BRANCH_REG, 1, FLOW_TAKEN);
            if ((hw1 & 0xFFE0) == 0xE840 || (hw1 & 0xFFE0) == 0xE8C0)
                return make((hw1 & 0x10) ? C_LOAD : C_STORE, 1, FLOW_NONE);
            return make((hw1 & 0x10) ? C_LOAD_DUAL : C_STORE_DUAL, 1, FLOW_NONE);
        }
        if ((op2 & 0x60) == 0x20) return make(C_ALU, 1, FLOW_NONE);
        return thumb_fp(hw1, hw2);
    }
    if (op1 == 2) {
        if (!(hw2 & 0x8000)) return make(C_ALU, 1, FLOW_NONE); /* data processing, immediate */
        unsigned op = (hw2 >> 12) & 5;
        if (op == 0) {
            if (((hw1 >> 7) & 7) != 7) return make(C_BRANCH_COND, 1, FLOW_COND); /* B<c>.W */
            return make(C_BARRIER, 1, FLOW_NONE); /* MSR, MRS, hints, DMB/DSB/ISB */
        }
        return make(C_BRANCH, 1, FLOW_TAKEN); /* B.W, BL */
    }
    /* op1 == 3 */
    if ((op2 & 0x71) == 0x00) return make(C_STORE, 1, FLOW_NONE);
    if ((op2 & 0x67) == 0x01 || (op2 & 0x67) == 0x03) {
        if (((hw2 >> 12) & 0xF) == 0xF) return make(C_ALU, 1, FLOW_NONE); /* PLD, PLI hints */
        return make(C_LOAD, 1, FLOW_NONE);
    }
    if ((op2 & 0x67) == 0x05)
        return make(C_LOAD, 1, ((hw2 >> 12) & 0xF) == 0xF ? FLOW_TAKEN : FLOW_NONE); /* LDR pc */
    if ((op2 & 0x70) == 0x20) return make(C_ALU, 1, FLOW_NONE);
    if ((op2 & 0x78) == 0x30) {
        int accumulates = ((hw2 >> 12) & 0xF) != 0xF;
        if ((hw1 & 0xFFF0) == 0xFB00 && (hw2 & 0xF0) == 0x00) /* MUL, MLA, MLS */
            return make(accumulates ? C_MAC : C_MUL, 1, FLOW_NONE);
        return make(accumulates ? C_MAC_DSP : C_MUL, 1, FLOW_NONE); /* SMLAD, SMUAD, SMLABB... */
    }
    if ((op2 & 0x78) == 0x38) {
        unsigned k = hw1 & 0xFFF0;
        if (k == 0xFB90 || k == 0xFBB0) return make(C_DIV, 1, FLOW_NONE);
        if (k == 0xFB80 || k == 0xFBA0) return make(C_MUL, 1, FLOW_NONE); /* SMULL, UMULL */
        return make(C_MAC_DSP, 1, FLOW_NONE);                             /* SMLAL, UMLAL, SMLALD... */
    }
    if (op2 & 0x40) return thumb_fp(hw1, hw2);
    return make(C_ALU, 1, FLOW_NONE);
}

static decoded thumb16(unsigned hw) {
    if ((hw & 0xF800) == 0x4800) return make(C_LOAD, 1, FLOW_NONE); /* LDR literal */
    if ((hw & 0xF000) == 0x5000) return make(((hw >> 9) & 7) < 3 ? C_STORE : C_LOAD, 1, FLOW_NONE);
    if ((hw & 0xE000) == 0x6000 || (hw & 0xF000) == 0x8000 || (hw & 0xF000) == 0x9000)
        return make((hw & 0x0800) ? C_LOAD : C_STORE, 1, FLOW_NONE);
    if ((hw & 0xFE00) == 0xB400) return make(C_STORE_MULTI, popcount16(hw & 0xFF) + ((hw >> 8) & 1), FLOW_NONE);
    if ((hw & 0xFE00) == 0xBC00)
        return make(C_LOAD_MULTI, popcount16(hw & 0xFF) + ((hw >> 8) & 1), (hw & 0x100) ? FLOW_TAKEN : FLOW_NONE);
    if ((hw & 0xF000) == 0xC000)
        return make((hw & 0x0800) ? C_LOAD_MULTI : C_STORE_MULTI, popcount16(hw & 0xFF), FLOW_NONE);
    if ((hw & 0xF000) == 0xD000)
        return ((hw >> 8) & 0xF) < 14 ? make(C_BRANCH_COND, 1, FLOW_COND) : make(C_ALU, 1, FLOW_NONE);
    if ((hw & 0xF800) == 0xE000) return make(C_BRANCH, 1, FLOW_TAKEN);
    if ((hw & 0xFF00) == 0x4700) return make(C_BRANCH_REG, 1, FLOW_TAKEN); /* BX, BLX */
    if ((hw & 0xF500) == 0xB100) return make(C_BRANCH_COND, 1, FLOW_COND); /* CBZ, CBNZ */
    if ((hw & 0xFF87) == 0x4687) return make(C_BRANCH_REG, 1, FLOW_TAKEN); /* MOV pc, Rm */
    if ((hw & 0xFFC0) == 0x4340) return make(C_MUL, 1, FLOW_NONE);         /* MULS */
    return make(C_ALU, 1, FLOW_NONE);
}

static decoded decode_thumb(const uint8_t *b, size_t size) {
    unsigned hw1 = (unsigned)b[0] | (unsigned)b[1] << 8;
    if (size >= 4) return thumb32(hw1, (unsigned)b[2] | (unsigned)b[3] << 8);
    return thumb16(hw1);
}

/* ---- RV32IMC (the Hazard3 with Zba, Zbb, Zbkb: their ops are ALU) -------- */

static decoded decode_rv32(const uint8_t *b, size_t size) {
    if (size == 2) {
        unsigned c = (unsigned)b[0] | (unsigned)b[1] << 8, q = c & 3, f = c >> 13;
        if (q == 0) return make(f == 2 ? C_LOAD : f == 6 ? C_STORE : C_ALU, 1, FLOW_NONE); /* C.LW, C.SW */
        if (q == 1) {
            if (f == 1 || f == 5) return make(C_BRANCH, 1, FLOW_TAKEN);     /* C.JAL, C.J */
            if (f == 6 || f == 7) return make(C_BRANCH_COND, 1, FLOW_COND); /* C.BEQZ, C.BNEZ */
            return make(C_ALU, 1, FLOW_NONE);
        }
        if (f == 2) return make(C_LOAD, 1, FLOW_NONE);  /* C.LWSP */
        if (f == 6) return make(C_STORE, 1, FLOW_NONE); /* C.SWSP */
        if (f == 4 && ((c >> 2) & 0x1F) == 0 && ((c >> 7) & 0x1F) != 0)
            return make(C_BRANCH_REG, 1, FLOW_TAKEN); /* C.JR, C.JALR */
        return make(C_ALU, 1, FLOW_NONE);
    }
    uint32_t w = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    switch (w & 0x7F) {
    case 0x03: return make(C_LOAD, 1, FLOW_NONE);
    case 0x23: return make(C_STORE, 1, FLOW_NONE);
    case 0x63: return make(C_BRANCH_COND, 1, FLOW_COND);
    case 0x6F: return make(C_BRANCH, 1, FLOW_TAKEN);     /* JAL */
    case 0x67: return make(C_BRANCH_REG, 1, FLOW_TAKEN); /* JALR */
    case 0x2F: return make(C_LOAD, 1, FLOW_NONE);        /* atomics */
    case 0x0F: return make(C_BARRIER, 1, FLOW_NONE);     /* FENCE */
    case 0x33:
        if (((w >> 25) & 0x7F) == 1) return make(((w >> 12) & 7) >= 4 ? C_DIV : C_MUL, 1, FLOW_NONE);
        return make(C_ALU, 1, FLOW_NONE);
    default: return make(C_ALU, 1, FLOW_NONE);
    }
}

static decoded (*decode)(const uint8_t *b, size_t size) = decode_thumb;

/* ---- the memory map ----------------------------------------------------- */

enum { MEM_SRAM, MEM_FLASH, MEM_PSRAM };
#define MAX_RANGES 8
static struct {
    uint64_t start, end;
    int kind;
} ranges[MAX_RANGES];
static int n_ranges;
static uint64_t marks_addr = ~0ull;

static int kind_of(uint64_t a) {
    for (int i = 0; i < n_ranges; i++)
        if (a >= ranges[i].start && a < ranges[i].end) return ranges[i].kind;
    return MEM_SRAM;
}

/* ---- the XIP cache and the quad-SPI bus -------------------------------- */

/* RP2350 datasheet 4.4 (XIP cache), 12.14 (QMI); arduino-pico's QMI
 * settings (docs/board-model.md, "Bus"). In system clock cycles. */
#define LINE_BYTES 8u
#define CACHE_SETS 1024u                /* 16 KB / 8-byte lines / 2 ways */
#define COOLDOWN_CYCLES 64u             /* COOLDOWN = 1: 64 system clocks */
#define PSRAM_PAGE_BYTES 1024u          /* PAGEBREAK = 1024 */
#define PSRAM_MAX_SELECT_CYCLES (18u * 64u) /* MAX_SELECT = 18 (8 us at 150 MHz) */
static const unsigned sck_div[3] = {0, 3, 2};          /* flash CLKDIV 3, PSRAM CLKDIV 2 */
static const unsigned prefix_sck[3] = {0, 20, 14};     /* flash EBh: 8 + 6 + 2 + 4; PSRAM QPI EBh: 2 + 6 + 6 */
static const unsigned select_cycles[3] = {0, 0, 6};    /* PSRAM: SELECT_HOLD 3 + MIN_DESELECT 3 */
#define DATA_SCK_PER_LINE 16u           /* 8 bytes, 4 bits a clock */

typedef struct {
    uint64_t stall, misses, bursts, accesses;
} bus_counts;

static struct {
    uint32_t tag[CACHE_SETS][2]; /* line address + 1; 0: empty */
    uint8_t dirty[CACHE_SETS][2];
} cache;
static uint32_t rng_state = 0x2350u;

static struct {
    int open_kind;
    uint64_t next_line, last_end, started;
} burst;

/* the clock: class cycles (main estimate) and stalls so far (the bus's,
 * and waits for a background copy, which wait_cycles counts apart) */
static uint64_t cpu_cycles[2], stall_cycles, wait_cycles;
static uint64_t insns;
static bus_counts bus[3];
static uint64_t class_insns[C_COUNT];

static uint32_t next_random(void) { /* xorshift32: deterministic "random" eviction */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* One quad-SPI transfer of a line at `now`; returns its cycles. */
static uint64_t transfer(int kind, uint64_t line, uint64_t now, int is_write) {
    uint64_t data = (uint64_t)DATA_SCK_PER_LINE * sck_div[kind];
    int appended = !is_write && burst.open_kind == kind && line == burst.next_line &&
                   now <= burst.last_end + COOLDOWN_CYCLES &&
                   !(kind == MEM_PSRAM && line % PSRAM_PAGE_BYTES == 0) &&
                   !(kind == MEM_PSRAM && now + data - burst.started > PSRAM_MAX_SELECT_CYCLES);
    uint64_t cost = data;
    if (!appended) {
        cost += (uint64_t)prefix_sck[kind] * sck_div[kind] + select_cycles[kind];
        bus[kind].bursts++;
        burst.started = now;
    }
    burst.open_kind = is_write ? -1 : kind; /* a write burst is never continued by a read */
    burst.next_line = line + LINE_BYTES;
    burst.last_end = now + cost;
    return cost;
}

/* ---- DMA from the XIP stream FIFO ------------------------------------------ */

/* RP2350 datasheet 4.4.3: the stream reads words in the bus's idle time,
 * at lower priority than XIP accesses, and resumes "about 9 cycles" after
 * a cache miss; it bypasses the cache. A transfer in progress (a command,
 * a word) completes before a miss is served. Assumed: the DMA drains the
 * FIFO as fast as it fills (a word per cycle into SRAM, no bank conflicts),
 * and configuring it costs COPY_START_CYCLES of the core (pico-sdk's
 * dma_channel_configure and the stream's registers: about a dozen stores
 * to peripherals). A copy from SRAM (none today) moves a word in
 * SRAM_COPY_CYCLES_PER_WORD and never touches the bus. */
#define STREAM_COOLDOWN_CYCLES 9u
#define COPY_START_CYCLES 40u
#define SRAM_COPY_CYCLES_PER_WORD 2u

static struct {
    int recording;          /* between the marks: the image copying the bytes */
    int active;             /* a copy started and not yet waited for */
    int kind;               /* where its source is */
    uint64_t lo, hi;        /* recording: the source bytes the image read, in order */
    uint64_t sram_bytes;    /* recording: bytes read from SRAM */
    uint64_t next, end;     /* the stream: the next word to read, the source's end */
    uint64_t clock;         /* the stream has used the bus up to here */
    uint64_t resume;        /* and may not use it before here (cooldown) */
    uint64_t burst_started; /* its open burst's start (MAX_SELECT) */
    int need_command;       /* its next word opens a burst */
    int moved;              /* it used the bus since the last core miss */
    uint64_t bytes, commands, jobs, strays;
} dma;

static uint64_t cycles_per_word(int kind) {
    return kind == MEM_SRAM ? SRAM_COPY_CYCLES_PER_WORD : 4u * 2u * sck_div[kind]; /* 2 SCK a byte */
}

/* The stream runs in the bus's idle time up to `until`; a command or word
 * begun before `until` completes (dma.clock may pass it by one). */
static void dma_run(uint64_t until) {
    uint64_t at = dma.clock > dma.resume ? dma.clock : dma.resume, per_word = cycles_per_word(dma.kind);
    if (!dma.active || dma.next >= dma.end) return;
    while (dma.next < dma.end && at < until) {
        uint64_t left = dma.end - dma.next, words;
        if (dma.kind != MEM_SRAM && dma.need_command) {
            at += (uint64_t)prefix_sck[dma.kind] * sck_div[dma.kind] + select_cycles[dma.kind];
            dma.burst_started = at;
            dma.need_command = 0;
            dma.commands++;
            dma.moved = 1;
            continue;
        }
        if (dma.kind == MEM_PSRAM) {
            uint64_t page = PSRAM_PAGE_BYTES - dma.next % PSRAM_PAGE_BYTES;
            uint64_t selected = at - dma.burst_started;
            uint64_t room = selected < PSRAM_MAX_SELECT_CYCLES ? (PSRAM_MAX_SELECT_CYCLES - selected) / per_word * 4u : 0;
            if (page < left) left = page;
            if (room < left) left = room;
        }
        words = (until - at) / per_word + ((until - at) % per_word != 0);
        if (words > left / 4u) words = left / 4u;
        if (words == 0) { /* a page break or MAX_SELECT: a new burst */
            dma.need_command = 1;
            continue;
        }
        dma.next += words * 4u;
        at += words * per_word;
        dma.moved = 1;
    }
    dma.clock = at;
}

/* A core's miss at `now`: the stream yields after its transfer in
 * progress; returns the cycles the miss waits for it. */
static uint64_t dma_yield(uint64_t now) {
    if (!dma.active || dma.kind == MEM_SRAM) return 0;
    dma_run(now);
    if (dma.moved) burst.open_kind = -1; /* the stream closed the core's burst */
    dma.moved = 0;
    return dma.clock > now ? dma.clock - now : 0;
}

/* The miss's transfer ended at `end`: the stream resumes after the
 * cooldown, with a command of its own. */
static void dma_after_miss(uint64_t end) {
    if (!dma.active || dma.kind == MEM_SRAM) return;
    dma.clock = end;
    dma.resume = end + STREAM_COOLDOWN_CYCLES;
    dma.need_command = 1;
}

static void dma_start(uint64_t now) {
    dma.recording = 0;
    dma.active = 1;
    dma.kind = dma.hi > dma.lo ? kind_of(dma.lo) : MEM_SRAM;
    dma.next = dma.hi > dma.lo ? dma.lo : 0;
    dma.end = dma.hi > dma.lo ? dma.hi : dma.sram_bytes;
    dma.clock = dma.resume = now;
    dma.need_command = 1;
    dma.moved = 0;
    dma.bytes += dma.end - dma.next;
    dma.jobs++;
}

/* copy_wait at `now`: the cycles until the stream's end. */
static uint64_t dma_wait(uint64_t now) {
    if (!dma.active) return 0;
    dma_run(UINT64_MAX);
    dma.active = 0;
    return dma.clock > now ? dma.clock - now : 0;
}

/* A read or write of one line through the cache at `now`; returns the stall. */
static uint64_t touch_line(int kind, uint64_t addr, uint64_t now, int is_write) {
    uint64_t line = addr & ~(uint64_t)(LINE_BYTES - 1);
    uint32_t set = (uint32_t)(line / LINE_BYTES) % CACHE_SETS, tag = (uint32_t)(line + 1);
    bus[kind].accesses++;
    for (int w = 0; w < 2; w++)
        if (cache.tag[set][w] == tag) {
            if (is_write) cache.dirty[set][w] = 1;
            return 0;
        }
    bus[kind].misses++;
    int way = cache.tag[set][0] == 0 ? 0 : cache.tag[set][1] == 0 ? 1 : (int)(next_random() & 1);
    uint64_t cost = dma_yield(now);
    if (cache.dirty[set][way]) { /* write-back of the evicted line */
        uint64_t old = (uint64_t)cache.tag[set][way] - 1;
        cost += transfer(kind_of(old), old, now, 1);
    }
    cost += transfer(kind, line, now + cost, 0);
    dma_after_miss(now + cost);
    cache.tag[set][way] = tag;
    cache.dirty[set][way] = (uint8_t)is_write;
    bus[kind].stall += cost;
    return cost;
}

/* A clean of one line (pico-sdk's xip_cache_clean_range: a store to the
 * XIP maintenance alias a line) at `now`: a dirty line is written back, as
 * an eviction writes it, and stays cached, clean; returns the stall. */
static uint64_t clean_line(uint64_t addr, uint64_t now) {
    uint64_t line = addr & ~(uint64_t)(LINE_BYTES - 1), cost;
    uint32_t set = (uint32_t)(line / LINE_BYTES) % CACHE_SETS, tag = (uint32_t)(line + 1);
    int kind = kind_of(line);
    for (int w = 0; w < 2; w++)
        if (cache.tag[set][w] == tag && cache.dirty[set][w]) {
            cost = dma_yield(now);
            cost += transfer(kind, line, now + cost, 1);
            dma_after_miss(now + cost);
            cache.dirty[set][w] = 0;
            bus[kind].stall += cost;
            return cost;
        }
    return 0;
}

/* ---- translation and execution ----------------------------------------- */

typedef struct block {
    uint64_t cost[2];     /* the block's class cycles, untaken branches */
    uint64_t penalty[2];  /* its last instruction's taken penalty (conditional) */
    uint64_t fallthrough; /* where it falls through: no branch taken */
    uint64_t start, end;  /* code bytes */
    unsigned n;
    int cond_at_end, code_kind;
    uint32_t class_counts[C_COUNT];
    uint64_t profiled, runs; /* profile=: main-estimate cycles from its start to the next block's, in the story */
    struct block *next_translated;
} block;

typedef struct {
    const block *tb;
    uint64_t before; /* main-estimate cycles of the block before this instruction */
} insn_at;

static void on_mark(unsigned which); /* the marks, below */
static int cleaning; /* between the clean marks: the image's copy_written */

static const block *last_block;
static uint64_t block_clock; /* the clock when the current block began */
static uint64_t block_stall; /* stall_cycles then */

static uint64_t now_at(const insn_at *at) { return block_clock + at->before + (stall_cycles - block_stall); }

static void on_memory(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata) {
    (void)vcpu;
    const insn_at *at = udata;
    int is_write = qemu_plugin_mem_is_store(info);
    if (is_write && vaddr >= marks_addr && vaddr < marks_addr + 16) {
        on_mark((unsigned)(vaddr - marks_addr));
        return;
    }
    int kind = kind_of(vaddr);
    unsigned size = 1u << qemu_plugin_mem_size_shift(info);
    if (dma.recording) { /* the image's copy of a background copy's bytes: not the core's */
        if (is_write) return;
        if (kind == MEM_SRAM) dma.sram_bytes += size;
        else if (dma.hi == 0) dma.lo = vaddr, dma.hi = vaddr + size;
        else if (vaddr == dma.hi) dma.hi += size; /* the source: one ascending run */
        else dma.strays++; /* anything else (an interrupt handler's literal): reported */
        return;
    }
    if (kind == MEM_SRAM) return;
    if (cleaning) { /* the image reads a byte of each line it cleans */
        if (!is_write) stall_cycles += clean_line(vaddr, now_at(at));
        return;
    }
    uint64_t first = vaddr & ~(uint64_t)(LINE_BYTES - 1), last = (vaddr + size - 1) & ~(uint64_t)(LINE_BYTES - 1);
    for (uint64_t line = first; line <= last; line += LINE_BYTES)
        stall_cycles += touch_line(kind, line, now_at(at), is_write);
}

/* profile=FILE: each translated block's cycles in the story, for
 * tools/profile_m33.sh to sum by function (no effect on the figures) */
static const char *profile_path;
static block *translated, *profile_last;
static uint64_t profile_at;
static int in_story;

static void profile_block(block *b) {
    uint64_t now = cpu_cycles[0] + stall_cycles;
    if (profile_last) profile_last->profiled += now - profile_at;
    profile_last = in_story ? b : NULL;
    profile_at = now;
    if (in_story) b->runs++;
}

static void on_block(unsigned int vcpu, void *udata) {
    (void)vcpu;
    const block *b = udata;
    if (dma.recording) { /* the image's copy of a background copy: not counted */
        last_block = NULL;
        return;
    }
    if (profile_path) profile_block((block *)udata);
    /* the previous block's conditional branch was taken if this is not
     * where it falls through */
    if (last_block && last_block->cond_at_end && b->start != last_block->fallthrough) {
        cpu_cycles[0] += last_block->penalty[0];
        cpu_cycles[1] += last_block->penalty[1];
    }
    last_block = b;
    block_clock = cpu_cycles[0] + stall_cycles;
    block_stall = stall_cycles;
    /* code that runs from flash is fetched through the cache, line by line */
    if (b->code_kind != MEM_SRAM)
        for (uint64_t line = b->start & ~(uint64_t)(LINE_BYTES - 1); line < b->end; line += LINE_BYTES)
            stall_cycles += touch_line(b->code_kind, line, block_clock + (stall_cycles - block_stall), 0);
    cpu_cycles[0] += b->cost[0];
    cpu_cycles[1] += b->cost[1];
    insns += b->n;
    for (int c = 0; c < C_COUNT; c++) class_insns[c] += b->class_counts[c];
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    block *b = calloc(1, sizeof *b);
    insn_at *ats = calloc(n ? n : 1, sizeof *ats);
    if (!b || !ats) abort();
    b->n = (unsigned)n;
    b->start = qemu_plugin_tb_vaddr(tb);
    b->code_kind = kind_of(b->start);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        size_t size = qemu_plugin_insn_size(insn);
        uint64_t at = qemu_plugin_insn_vaddr(insn);
        decoded d = decode((const uint8_t *)qemu_plugin_insn_data(insn), size);
        const class_cost *c = &costs[d.cls];
        ats[i].tb = b;
        ats[i].before = b->cost[0];
        for (int k = 0; k < 2; k++) b->cost[k] += c->first[k] + (uint64_t)(d.items - 1) * c->each[k];
        b->class_counts[d.cls]++;
        b->end = at + size;
        b->fallthrough = at + size;
        b->cond_at_end = (i + 1 == n) && d.flow == FLOW_COND;
        for (int k = 0; k < 2; k++) b->penalty[k] = c->taken[k];
        qemu_plugin_register_vcpu_mem_cb(insn, on_memory, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, &ats[i]);
    }
    b->next_translated = translated;
    translated = b;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, b);
}

/* ---- marks: the story and the two-core sections ------------------------- */

/* target/board/board_marks.h */
enum {
    MARK_STORY_BEGIN, MARK_STORY_END, MARK_SHARE_CORE1, MARK_SHARE_CORE0, MARK_SECTION_END,
    MARK_COPY_BEGIN, MARK_COPY_END, MARK_COPY_WAIT, MARK_CLEAN_BEGIN, MARK_CLEAN_END
};
#define SYNC_CYCLES 100u /* assumed: a FIFO handshake each way (board.h) */

typedef struct {
    uint64_t cpu[2], stall, wait, flash[4], psram[4], insns, dma_bytes, dma_commands, dma_jobs;
} snapshot;

static snapshot now_snapshot(void) {
    snapshot s;
    s.cpu[0] = cpu_cycles[0];
    s.cpu[1] = cpu_cycles[1];
    s.stall = stall_cycles;
    s.wait = wait_cycles;
    s.insns = insns;
    s.dma_bytes = dma.bytes, s.dma_commands = dma.commands, s.dma_jobs = dma.jobs;
    s.flash[0] = bus[MEM_FLASH].stall, s.flash[1] = bus[MEM_FLASH].misses;
    s.flash[2] = bus[MEM_FLASH].bursts, s.flash[3] = bus[MEM_FLASH].accesses;
    s.psram[0] = bus[MEM_PSRAM].stall, s.psram[1] = bus[MEM_PSRAM].misses;
    s.psram[2] = bus[MEM_PSRAM].bursts, s.psram[3] = bus[MEM_PSRAM].accesses;
    return s;
}

static snapshot story_begin, story_end, share1_begin, share0_begin;
static int stories;
/* two cores, counted one after the other: cycles both shares took, less
 * what the two-core critical path takes (main, pessimistic) */
static uint64_t overlapped[2];
static uint64_t sections;

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c) { return a > b ? (a > c ? a : c) : (b > c ? b : c); }

static uint64_t clock_now(void) { return cpu_cycles[0] + stall_cycles; }

static void on_mark(unsigned which) {
    snapshot s = now_snapshot();
    switch (which) {
    case MARK_COPY_BEGIN:
        dma.recording = 1;
        dma.lo = dma.hi = 0;
        dma.sram_bytes = 0;
        return;
    case MARK_COPY_END:
        cpu_cycles[0] += COPY_START_CYCLES;
        cpu_cycles[1] += COPY_START_CYCLES;
        dma_start(clock_now());
        return;
    case MARK_CLEAN_BEGIN: cleaning = 1; return;
    case MARK_CLEAN_END: cleaning = 0; return;
    case MARK_COPY_WAIT: {
        uint64_t w = dma_wait(clock_now());
        stall_cycles += w;
        wait_cycles += w;
        return;
    }
    case MARK_STORY_BEGIN:
        story_begin = s;
        in_story = 1;
        overlapped[0] = overlapped[1] = 0;
        sections = 0;
        break;
    case MARK_STORY_END:
        story_end = s;
        in_story = 0;
        stories++;
        break;
    case MARK_SHARE_CORE1: share1_begin = s; break;
    case MARK_SHARE_CORE0: share0_begin = s; break;
    case MARK_SECTION_END:
        if (!in_story) break;
        sections++;
        for (int k = 0; k < 2; k++) {
            /* each share's core time (waits for a copy included); the bus
             * is one: its stalls add up */
            uint64_t w1 = share0_begin.wait - share1_begin.wait, w0 = s.wait - share0_begin.wait;
            uint64_t c1 = share0_begin.cpu[k] - share1_begin.cpu[k] + w1;
            uint64_t b1 = share0_begin.stall - share1_begin.stall - w1;
            uint64_t c0 = s.cpu[k] - share0_begin.cpu[k] + w0, b0 = s.stall - share0_begin.stall - w0;
            uint64_t both = max3(c1 + b1, c0 + b0, b1 + b0) + SYNC_CYCLES;
            uint64_t serial = c1 + b1 + c0 + b0;
            overlapped[k] += serial > both ? serial - both : 0;
            /* Core 0 starts the section's copies in its own share, which
             * runs second: a copy in flight has had core 0's share of time
             * so far, but on the board it also runs while core 0 waits
             * for core 1, less core 1's misses. */
            if (k == 0 && dma.active && both > c0 + b0 + b1) {
                uint64_t credit = both - c0 - b0 - b1;
                dma_run(clock_now() + credit);
                /* back on the serial clock: the credit ran before now */
                dma.clock -= credit;
                dma.burst_started -= dma.burst_started > credit ? credit : dma.burst_started;
                dma.resume -= dma.resume > credit ? credit : dma.resume;
            }
        }
        break;
    }
}

/* ---- the report ----------------------------------------------------------- */

static void report(qemu_plugin_id_t id, void *udata) {
    (void)id;
    (void)udata;
    char line[2048];
    /* the marked story, or (an image that marks none) the whole run */
    static const snapshot zero;
    snapshot whole = now_snapshot();
    const snapshot *a = stories ? &story_begin : &zero, *b = stories ? &story_end : &whole;
    uint64_t stall = b->stall - a->stall;
    uint64_t cycles = b->cpu[0] - a->cpu[0] + stall - overlapped[0];
    uint64_t slow = b->cpu[1] - a->cpu[1] + stall - overlapped[1];
    int n = snprintf(line, sizeof line,
                     "board-model: story %s insns=%" PRIu64 " cycles=%" PRIu64 " cycles_slow=%" PRIu64
                     " compute=%" PRIu64 " compute_slow=%" PRIu64 " flash_stall=%" PRIu64 " flash_misses=%" PRIu64
                     " flash_bursts=%" PRIu64 " flash_reads=%" PRIu64 " psram_stall=%" PRIu64 " psram_misses=%" PRIu64
                     " psram_bursts=%" PRIu64 " psram_accesses=%" PRIu64 " two_core_sections=%" PRIu64
                     " two_core_overlap=%" PRIu64 " dma_jobs=%" PRIu64 " dma_bytes=%" PRIu64
                     " dma_commands=%" PRIu64 " dma_wait=%" PRIu64 " dma_strays=%" PRIu64 "\n",
                     stories ? "marked" : "whole-run", b->insns - a->insns, cycles, slow, b->cpu[0] - a->cpu[0],
                     b->cpu[1] - a->cpu[1], b->flash[0] - a->flash[0], b->flash[1] - a->flash[1],
                     b->flash[2] - a->flash[2], b->flash[3] - a->flash[3], b->psram[0] - a->psram[0],
                     b->psram[1] - a->psram[1], b->psram[2] - a->psram[2], b->psram[3] - a->psram[3], sections,
                     overlapped[0], b->dma_jobs - a->dma_jobs, b->dma_bytes - a->dma_bytes,
                     b->dma_commands - a->dma_commands, b->wait - a->wait, dma.strays);
    if (n > 0) qemu_plugin_outs(line);
    /* the instruction mix, for docs/board-model.md's checks of the decoder */
    n = snprintf(line, sizeof line, "board-model: classes");
    for (int c = 0; c < C_COUNT && n > 0 && (size_t)n < sizeof line - 64; c++)
        if (class_insns[c]) n += snprintf(line + n, sizeof line - (size_t)n, " %s=%" PRIu64, costs[c].name, class_insns[c]);
    if (n > 0 && (size_t)n < sizeof line - 2) {
        line[n] = '\n';
        line[n + 1] = '\0';
        qemu_plugin_outs(line);
    }
    if (profile_path) {
        FILE *f = fopen(profile_path, "w");
        for (const block *t = translated; f && t; t = t->next_translated)
            if (t->runs)
                fprintf(f, "0x%08" PRIx64 " %" PRIu64 " %" PRIu64 "\n", t->start, t->profiled, t->runs * t->n);
        if (f) fclose(f);
    }
}

static int parse_range(const char *v, uint64_t *start, uint64_t *end) {
    char *colon;
    *start = strtoull(v, &colon, 0);
    if (*colon != ':') return -1;
    *end = strtoull(colon + 1, NULL, 0);
    return *end > *start ? 0 : -1;
}

PL_QEMU_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv);
PL_QEMU_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        uint64_t s, e;
        if (!strncmp(a, "isa=", 4)) {
            if (!strcmp(a + 4, "rv32")) decode = decode_rv32, costs = hazard3_costs;
            else if (strcmp(a + 4, "thumb")) return -1;
        } else if ((!strncmp(a, "flash=", 6) || !strncmp(a, "psram=", 6)) && n_ranges < MAX_RANGES &&
                   parse_range(a + 6, &s, &e) == 0) {
            ranges[n_ranges].start = s;
            ranges[n_ranges].end = e;
            ranges[n_ranges].kind = a[0] == 'f' ? MEM_FLASH : MEM_PSRAM;
            n_ranges++;
        } else if (!strncmp(a, "marks=", 6)) {
            marks_addr = strtoull(a + 6, NULL, 0);
        } else if (!strncmp(a, "profile=", 8) && a[8]) {
            profile_path = a + 8;
        } else {
            fprintf(stderr, "rp2350-model: unknown argument '%s'\n", a);
            return -1;
        }
    }
    burst.open_kind = -1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, report, NULL);
    return 0;
}
