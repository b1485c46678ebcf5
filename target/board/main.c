/*
 * The engine on an emulated RP2350 core (picollama-m33: a Cortex-M33;
 * picollama-rv32: a Hazard3), the same program on every board (board.h).
 *
 * The command line comes through semihosting as the image name and then
 * percent-encoded arguments (the launcher's encoding keeps spaces and any
 * byte in a prompt intact):
 *   [--blobs MODEL_BYTES TOKENIZER_BYTES] [--bench] MODEL [run.c flags]
 * With --blobs the model sits at the start of the BLOBS region and the
 * tokenizer after it (16-byte aligned; none for a PicoLlama file's own),
 * placed there by QEMU's loader device; without, the image tells a story
 * with the model linked into it as a const array (a PicoLlama file, its
 * tokenizer inside), as an Arduino sketch includes one. stdout is exactly
 * what the host's `picollama` prints for the same arguments: the same code
 * prints it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "board.h"
#include "board_marks.h"

/* The prefix of the measurement lines: "m33" or "rv32" (each board's Makefile). */
#ifndef BOARD_NAME
#define BOARD_NAME "board"
#endif
#include "semihosting.h"

#include "builtin_model.h"

extern uint8_t __blobs_start, __blobs_end, __sram_budget;

#define MAX_ARGS 64
static char cmdline[8192];
static char *args[MAX_ARGS];
static char stdout_buf[1024];

static int hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Splits at spaces and decodes %XX in place; returns the count. */
static int decode_args(char *s) {
    int n = 0;
    while (*s && n < MAX_ARGS) {
        while (*s == ' ') s++;
        if (!*s) break;
        char *out = s, *in = s;
        args[n++] = s;
        while (*in && *in != ' ') {
            int hi, lo;
            if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0) {
                *out++ = (char)(hi * 16 + lo);
                in += 3;
            } else {
                *out++ = *in++;
            }
        }
        s = *in ? in + 1 : in;
        *out = '\0';
    }
    return n;
}

/* Decimal text of v (newlib-nano's printf has no 64-bit or float formats). */
static const char *u64(uint64_t v) {
    static char buf[8][24];
    static unsigned which;
    char *b = buf[which++ & 7], tmp[24];
    int n = 0, i = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) b[i++] = tmp[--n];
    b[i] = '\0';
    return b;
}

/* Microseconds as milliseconds with one decimal. */
static void put_ms(uint64_t us) {
    fputs(u64(us / 1000), stderr);
    fputs(".", stderr);
    fputs(u64(us % 1000 / 100), stderr);
}

static void line(const char *a, const char *b, const char *c, const char *d) {
    fputs(a, stderr);
    if (b) fputs(b, stderr);
    if (c) fputs(c, stderr);
    if (d) fputs(d, stderr);
    fputs("\n", stderr);
}

/* One phase's figures per position: instructions and the bytes each memory
 * gave. Board time is the board model's (target/board-model, its
 * "board-model:" line); the instructions at one cycle each are only its
 * lower bound, printed as such. */
static void report_phase(const char *name, uint64_t tokens, uint64_t instructions,
                         const pl_traffic *t, pl_place kv_place) {
    if (tokens == 0) {
        line(BOARD_NAME ": ", name, ": no positions", NULL);
        return;
    }
    uint64_t instr = instructions / tokens, w[PL_PLACE_COUNT];
    for (int p = 0; p < PL_PLACE_COUNT; p++) w[p] = t->weight_bytes[p] / tokens;
    fprintf(stderr, BOARD_NAME ": %s: %s positions; per position: %s instructions; weights %s B from flash, %s B from PSRAM, %s B from SRAM; ",
            name, u64(tokens), u64(instr), u64(w[PL_PLACE_IN_PLACE]), u64(w[PL_PLACE_LARGE]), u64(w[PL_PLACE_FAST]));
    fprintf(stderr, "KV cache %s B read, %s B written in %s\n", u64(t->kv_read_bytes / tokens),
            u64(t->kv_write_bytes / tokens), kv_place == PL_PLACE_FAST ? "SRAM" : "PSRAM");
    fprintf(stderr, BOARD_NAME ": %s: lower bound (instructions at one cycle each, no bus): ", name);
    put_ms(instr / 150);
    fputs(" ms per position\n", stderr);
}

int board_main(void) {
    pl_run_args a;
    pl_story_blobs blobs;
    pl_stats stats;
    pl_memory_plan plan;
    pl_platform platform = board_platform();
    int argc, first = 0, bench = 0, rc;

    setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);
    setvbuf(stderr, NULL, _IONBF, 0);
    if (sh_cmdline(cmdline, (int)sizeof cmdline) < 0) {
        sh_puts(2, "picollama-m33: no command line from semihosting\n");
        return PL_EXIT_USAGE;
    }
    argc = decode_args(cmdline);
    first = 1; /* args[0] is the image name */
    blobs.model = builtin_model;
    blobs.model_size = builtin_model_len;
    blobs.tokenizer = NULL; /* inside the model */
    blobs.tokenizer_size = 0;
    while (first < argc && args[first][0] == '-' && args[first][1] == '-') {
        if (!strcmp(args[first], "--kernel-test") || !strcmp(args[first], "--kernel-bench")) {
            rc = args[first][9] == 't' ? board_kernel_test() : board_kernel_bench();
            fflush(stdout);
            return rc;
        } else if (!strcmp(args[first], "--bench")) {
            bench = 1;
            first++;
        } else if (!strcmp(args[first], "--blobs") && first + 2 < argc) {
            unsigned long msize = strtoul(args[first + 1], NULL, 10);
            unsigned long tsize = strtoul(args[first + 2], NULL, 10);
            unsigned long room = (unsigned long)(&__blobs_end - &__blobs_start);
            unsigned long toff = (msize + 15u) & ~15ul;
            if (msize > room || tsize > room - toff) {
                fputs("picollama-m33: model and tokenizer do not fit the 16 MB region\n", stderr);
                return PL_EXIT_USAGE;
            }
            blobs.model = &__blobs_start;
            blobs.model_size = msize;
            blobs.tokenizer = tsize ? &__blobs_start + toff : NULL; /* 0: the model's own */
            blobs.tokenizer_size = tsize;
            board_use_blobs(tsize ? toff + tsize : msize);
            first += 3;
        } else {
            fprintf(stderr, "picollama-m33: unknown option %s\n", args[first]);
            return PL_EXIT_USAGE;
        }
    }
    if (first >= argc) { /* nothing else: the built-in model's story */
        args[argc++] = (char *)"builtin";
        first = argc - 1;
    }
    if ((rc = pl_parse_run_args(argc, args, first, &a, NULL)) != 0) return rc;
    if (a.seed == 0) a.seed = (uint64_t)(unsigned int)sh_time(); /* run.c's default */
    board_background_copy(&platform); /* the board's DMA */
#if defined(BOARD_TWO_CORES)
    if (a.cores == 2) board_two_cores(&platform);
#else
    if (a.cores == 2) board_two_cores_counted(&platform);
#endif
    uint64_t raw_start = board_instructions();
    pl_room room = {board_fast_pool_capacity(), board_large_pool_capacity()};
    rc = pl_tell_story(&a, &blobs, &platform, room, 0, &stats, &plan, board_mark_story);
    fflush(stdout);
    if (rc == 0 && bench) {
        uint64_t prompt_positions = (uint64_t)(stats.prompt_tokens - 1);
        if (prompt_positions > (uint64_t)stats.positions) prompt_positions = (uint64_t)stats.positions;
        report_phase("prompt", prompt_positions, stats.prompt_ticks, &stats.prompt_traffic,
                     plan.kv_place);
        report_phase("generate", (uint64_t)stats.generated_tokens, stats.generate_ticks,
                     &stats.generate_traffic, plan.kv_place);
        fprintf(stderr, BOARD_NAME ": story: %s positions (%s of them the prompt's)\n", u64((uint64_t)stats.positions),
                u64(prompt_positions));
        if (a.cores == 2 && board_core_counts_now().sections) {
            board_core_counts c = board_core_counts_now();
            uint64_t positions = (uint64_t)stats.positions ? (uint64_t)stats.positions : 1u;
            uint64_t raw = board_instructions() - raw_start;
            fprintf(stderr, BOARD_NAME ": two cores (counted one after the other, modeled side by side): per position %s instructions on core 0, %s on core 1, %s sections at %u instructions of handshake each\n",
                    u64((raw - c.core1) / positions), u64(c.core1 / positions),
                    u64(c.sections / positions), BOARD_SYNC_INSTRUCTIONS);
        }
        fprintf(stderr, BOARD_NAME ": weights: %s B in flash, %s B copied to PSRAM, %s B to SRAM at open in %s instructions\n",
                u64(plan.weight_bytes[PL_PLACE_IN_PLACE]), u64(plan.weight_bytes[PL_PLACE_LARGE]),
                u64(plan.weight_bytes[PL_PLACE_FAST]), u64(plan.copy_ticks));
        fprintf(stderr, BOARD_NAME ": SRAM: %s bytes static (.data+.bss) + %s fast pool (of %s) + 8192 stacks",
                u64(board_static_sram()), u64(plan.fast_bytes), u64(board_fast_pool_capacity()));
        fprintf(stderr, " = %s of %s; deepest stack %s of 4096\n",
                u64(board_static_sram() + plan.fast_bytes + 8192), u64((uintptr_t)&__sram_budget),
                u64(board_stack_used()));
        fprintf(stderr, BOARD_NAME ": PSRAM: %s bytes large pool (of %s; KV cache %s in %s, tokenizer index %s, prompt %s)\n",
                u64(plan.large_bytes), u64(board_large_pool_capacity()), u64(plan.kv_cache_bytes),
                plan.kv_place == PL_PLACE_FAST ? "SRAM" : "PSRAM", u64(plan.tokenizer_bytes),
                u64(plan.prompt_bytes));
    }
    return rc;
}
