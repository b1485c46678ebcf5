/*
 * `--kernel-test` (either board's image): every optimized kernel of this build
 * against its portable reference, bit for bit, on random shapes: widths
 * that are and are not multiples of 4 and of the group size, groups that
 * straddle rows, row ranges that start and end anywhere, weights at every
 * alignment. Prints "kernels: N passed, N failed".
 *
 * `--kernel-bench`: instructions per multiply-accumulate of
 * each matrix-vector kernel on one fixed shape (64 rows of 256, int8 groups
 * and int4 groups of 32), counted by QEMU.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernels/pl_kernels.h"
#include "board.h"

static uint32_t rng = 2463534242u;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

#define INPUT_N 256 /* inputs: the random shapes and the benchmark's */
#if defined(PLK_HAVE_TARGET_KERNELS)
#define MAX_N 200   /* widths of the random shapes */
#define MAX_ROWS 9
/* words, so that rows of int4 words start aligned as in a model file */
static uint32_t weight_words[(MAX_N * MAX_ROWS + 8) / 4 + 1];
#define weights ((int8_t *)weight_words)
static float wscales[MAX_N * MAX_ROWS / 4 + 2];
static uint16_t wscales16[MAX_N * MAX_ROWS / 4 + 2];
#define ATT_MAX_POS 40
#define ATT_MAX_KV 72 /* head size 24 times 3 kv heads */
static float out_ref[MAX_ROWS], out_fast[MAX_ROWS];
#endif
static float input[INPUT_N];
static int8_t q[INPUT_N];
static float xs[INPUT_N / 4 + 2];
static uint32_t wide[PLK_Q8_WIDE_BYTES(INPUT_N) / 4];

static int passed, failed;

/* Counts a case; a failure prints what it was (the first five). Unused in
 * a build of the reference kernels alone (the bench's anchor images). */
#if defined(__GNUC__)
__attribute__((unused))
#endif
static void record(int same, const char *what, ...) {
    if (same) {
        passed++;
        return;
    }
    if (++failed <= 5) {
        va_list ap;
        va_start(ap, what);
        printf("kernels: FAILED ");
        vprintf(what, ap);
        printf("\n");
        va_end(ap);
    }
}

int board_kernel_test(void) {
    passed = failed = 0;
#if defined(PLK_HAVE_TARGET_KERNELS)
    for (int trial = 0; trial < 400; trial++) {
        int gs = 4 * (1 + (int)(next() % 16)); /* 4..64 */
        if (trial % 3 == 0) gs = 16 * (1 + (int)(next() % 4)); /* the fast path's sizes */
        int n = 1 + (int)(next() % MAX_N);
        if (trial % 3 == 0) n = gs * (1 + (int)(next() % (MAX_N / gs)));
        if (trial % 3 == 1) n = 4 * (1 + (int)(next() % (MAX_N / 4))); /* whole words: straddling groups */
        int rows = 1 + (int)(next() % MAX_ROWS);
        int offset = trial % 5 == 4 ? 1 + (int)(next() % 3) : 0; /* misaligned weights */
        int8_t *w = weights + offset;
        for (int i = 0; i < n * rows; i++) w[i] = (int8_t)(next() >> 24); /* -128..127 */
        for (int g = 0; g < (n * rows + gs - 1) / gs; g++)
            wscales[g] = (float)(next() % 1000 + 1) * 1e-4f;
        for (int j = 0; j < n; j++) input[j] = ((float)(next() % 20001) - 10000.0f) * 1e-3f;
        if (trial % 7 == 0) /* a group of zeros */
            for (int j = 0; j < n && j < gs; j++) input[j] = 0.0f;
        plk_ref_quantize_q8(q, xs, wide, input, n, gs);
        plk_q8_vector x = {q, xs, wide, n, gs};
        int r0 = (int)(next() % (unsigned)rows), r1 = r0 + 1 + (int)(next() % (unsigned)(rows - r0));
        if (trial % 2 == 0) {
            r0 = 0;
            r1 = rows;
        }
        memset(out_ref, 0, sizeof out_ref);
        memset(out_fast, 0, sizeof out_fast);
        plk_ref_matvec_q8(out_ref, &x, w, wscales, r0, r1);
        plk_matvec_q8(out_fast, &x, w, wscales, r0, r1);
        record(memcmp(out_ref, out_fast, sizeof out_ref) == 0,
               "matvec_q8 n %d rows %d [%d, %d) group %d offset %d", n, rows, r0, r1, gs, offset);
    }
    /* row-grouped int8 and int4: any width, the last group of a row shorter
     * or whole, zero-padded rows, any row range */
    for (int trial = 0; trial < 400; trial++) {
        int q4 = trial % 2, gs = (q4 ? 8 : 4) * (1 + (int)(next() % 8)); /* 4..32, 8..64 */
        int n = 1 + (int)(next() % MAX_N), rows = 1 + (int)(next() % MAX_ROWS);
        if (trial % 4 < 2) n = gs * (1 + (int)(next() % (MAX_N / gs))); /* whole groups */
        int groups = PLK_GROUPS(n, gs);
        size_t row_bytes = q4 ? PLK_Q4_ROW_BYTES(n) : PLK_Q8_ROW_BYTES(n);
        int8_t *w = weights;
        memset(weight_words, 0, sizeof weight_words);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++) {
                uint32_t r = next();
                if (!q4)
                    w[(size_t)i * row_bytes + (size_t)j] = (int8_t)(r >> 24);
                else { /* value j of the row: a nibble of word j / 8 */
                    uint32_t *word = (uint32_t *)(void *)(w + (size_t)i * row_bytes + (size_t)(j / 8) * 4u);
                    *word |= (r >> 28) << PLK_Q4_SHIFT(j % 8);
                }
            }
        for (int g = 0; g < groups * rows; g++) {
            wscales[g] = (float)(next() % 1000 + 1) * 1e-4f;
            wscales16[g] = (uint16_t)(0x1000u + next() % 0x3000u); /* 2^-11 .. 2^1 */
        }
        for (int j = 0; j < n; j++) input[j] = ((float)(next() % 20001) - 10000.0f) * 1e-3f;
        plk_ref_quantize_q8(q, xs, wide, input, n, gs);
        plk_q8_vector x = {q, xs, wide, n, gs};
        int r0 = (int)(next() % (unsigned)rows), r1 = r0 + 1 + (int)(next() % (unsigned)(rows - r0));
        memset(out_ref, 0, sizeof out_ref);
        memset(out_fast, 0, sizeof out_fast);
        if (q4) {
            plk_ref_matvec_q4(out_ref, &x, (const uint8_t *)w, wscales16, r0, r1);
            plk_matvec_q4(out_fast, &x, (const uint8_t *)w, wscales16, r0, r1);
        } else {
            plk_ref_matvec_q8_rows(out_ref, &x, w, wscales, r0, r1);
            plk_matvec_q8_rows(out_fast, &x, w, wscales, r0, r1);
        }
        record(memcmp(out_ref, out_fast, sizeof out_ref) == 0, "matvec_%s n %d rows %d [%d, %d) group %d",
               q4 ? "q4" : "q8_rows", n, rows, r0, r1, gs);
    }
    /* quantization: any width and group, values at exact halves of the
     * scale and at the clamp, zeros, infinities and NaNs */
    for (int trial = 0; trial < 200; trial++) {
        int gs = 4 * (1 + (int)(next() % 16)), n = 1 + (int)(next() % INPUT_N);
        static int8_t q_fast[INPUT_N];
        static float xs_fast[INPUT_N / 4 + 2];
        static uint32_t wide_fast[PLK_Q8_WIDE_BYTES(INPUT_N) / 4];
        for (int j = 0; j < n; j++) {
            uint32_t r = next();
            input[j] = ((float)(r % 20001) - 10000.0f) * 1e-3f;
            if (r % 13 == 0) input[j] = (float)((int)(r % 255) - 127) * 0.5f; /* halves */
            if (trial % 10 == 9 && r % 17 == 0) { /* specials */
                static const uint32_t special[] = {0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x80000000u, 0x00000001u};
                uint32_t b = special[r % 6];
                memcpy(&input[j], &b, sizeof b);
            }
        }
        if (trial % 7 == 0)
            for (int j = 0; j < n && j < gs; j++) input[j] = 0.0f;
        memset(wide, 0, sizeof wide);
        memset(wide_fast, 0, sizeof wide_fast);
        plk_ref_quantize_q8(q, xs, wide, input, n, gs);
        plk_quantize_q8(q_fast, xs_fast, wide_fast, input, n, gs);
        record(memcmp(q, q_fast, (size_t)n) == 0 &&
                   memcmp(xs, xs_fast, (size_t)PLK_GROUPS(n, gs) * sizeof(float)) == 0 &&
                   memcmp(wide, wide_fast, sizeof wide) == 0,
               "quantize_q8 n %d group %d", n, gs);
    }
    /* attention: every head size the fast paths take and some they leave,
     * any number of positions, keys and values at a stride (from the PSRAM
     * region, so the image's static SRAM stays the engine's) */
    pl_platform platform = board_platform();
    float *att_keys = platform.alloc(NULL, PL_POOL_LARGE, ATT_MAX_POS * ATT_MAX_KV * sizeof(float));
    float *att_values = platform.alloc(NULL, PL_POOL_LARGE, ATT_MAX_POS * ATT_MAX_KV * sizeof(float));
    if (!att_keys || !att_values) {
        printf("kernels: no room in the PSRAM region\n");
        return 1;
    }
    for (int trial = 0; trial < 200; trial++) {
        static const int sizes[] = {8, 16, 4, 12, 24};
        int hs = sizes[trial % 5], n = 1 + (int)(next() % ATT_MAX_POS);
        int kv = hs * (1 + (int)(next() % 3));
        float *keys = att_keys, *values = att_values, qv[24];
        float att_ref[ATT_MAX_POS], att_fast[ATT_MAX_POS];
        for (int i = 0; i < n * kv; i++) {
            keys[i] = (float)((int)(next() % 2001) - 1000) * 1e-3f;
            values[i] = (float)((int)(next() % 2001) - 1000) * 1e-3f;
        }
        for (int i = 0; i < hs; i++) qv[i] = (float)((int)(next() % 2001) - 1000) * 1e-2f;
        plk_ref_attention_scores(att_ref, qv, keys, (size_t)kv, n, hs, 2.828427f);
        plk_attention_scores(att_fast, qv, keys, (size_t)kv, n, hs, 2.828427f);
        /* mix adds to what out holds: start both from the same values */
        float mix_ref[24], mix_fast[24];
        for (int i = 0; i < hs; i++) mix_ref[i] = mix_fast[i] = (float)(i - 7) * 0.25f;
        plk_ref_attention_mix(mix_ref, att_ref, values, (size_t)kv, n, hs);
        plk_attention_mix(mix_fast, att_ref, values, (size_t)kv, n, hs);
        record(memcmp(att_ref, att_fast, (size_t)n * sizeof(float)) == 0 &&
                   memcmp(mix_ref, mix_fast, (size_t)hs * sizeof(float)) == 0,
               "attention head %d positions %d", hs, n);
    }
#else
    printf("kernels: SKIPPED: this build has only the reference kernels\n");
#endif
    printf("kernels: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* ---- instructions per multiply-accumulate ----------------------------------- */

#define BENCH_ROWS 64
#define BENCH_N 256
#define BENCH_GS 32
static float bench_out[BENCH_ROWS];

/* "name: I instructions, X.XX per multiply-accumulate" (newlib-nano's
 * printf has no floats: hundredths by hand). */
static void report(const char *name, uint64_t instructions) {
    unsigned macs = BENCH_ROWS * BENCH_N;
    unsigned long per100 = (unsigned long)(instructions * 100u / macs);
    printf("kernel-bench: %s %dx%d: %lu instructions, %lu.%02lu per multiply-accumulate\n", name,
           BENCH_ROWS, BENCH_N, (unsigned long)instructions, per100 / 100, per100 % 100);
}

int board_kernel_bench(void) {
    /* From the PSRAM region, so the image's static SRAM stays the engine's:
     * the instruction counts do not depend on where the weights are. */
    pl_platform platform = board_platform();
    int8_t *bench_w8 = platform.alloc(NULL, PL_POOL_LARGE, BENCH_ROWS * BENCH_N);
    float *bench_w32 = platform.alloc(NULL, PL_POOL_LARGE, BENCH_ROWS * BENCH_N * sizeof(float));
    float *bench_ws = platform.alloc(NULL, PL_POOL_LARGE, BENCH_ROWS * BENCH_N / BENCH_GS * sizeof(float));
    uint16_t *bench_ws16 = platform.alloc(NULL, PL_POOL_LARGE, BENCH_ROWS * BENCH_N / BENCH_GS * 2);
    if (!bench_w8 || !bench_w32 || !bench_ws || !bench_ws16) {
        printf("kernel-bench: no room in the PSRAM region\n");
        return 1;
    }
    for (int i = 0; i < BENCH_ROWS * BENCH_N; i++) {
        bench_w8[i] = (int8_t)(next() >> 24);
        bench_w32[i] = (float)bench_w8[i] * 0.01f;
    }
    for (int g = 0; g < BENCH_ROWS * BENCH_N / BENCH_GS; g++) {
        bench_ws[g] = 0.01f;
        bench_ws16[g] = 0x2000u; /* 2^-7 */
    }
    for (int j = 0; j < BENCH_N; j++) input[j] = ((float)(next() % 2001) - 1000.0f) * 1e-3f;
    plk_q8_vector x = {q, xs, wide, BENCH_N, BENCH_GS};
    uint64_t t0 = board_instructions();
    plk_quantize_q8(q, xs, wide, input, BENCH_N, BENCH_GS);
    uint64_t t1 = board_instructions();
    plk_matvec_q8(bench_out, &x, bench_w8, bench_ws, 0, BENCH_ROWS);
    uint64_t t2 = board_instructions();
    plk_ref_matvec_q8(bench_out, &x, bench_w8, bench_ws, 0, BENCH_ROWS);
    uint64_t t3 = board_instructions();
    plk_matvec_f32(bench_out, input, bench_w32, BENCH_N, 0, BENCH_ROWS);
    uint64_t t4 = board_instructions();
    plk_matvec_q4(bench_out, &x, (const uint8_t *)bench_w8, bench_ws16, 0, BENCH_ROWS);
    uint64_t t5 = board_instructions();
    plk_ref_matvec_q4(bench_out, &x, (const uint8_t *)bench_w8, bench_ws16, 0, BENCH_ROWS);
    uint64_t t6 = board_instructions();
    printf("kernel-bench: quantize_q8 of %d values: %lu instructions\n", BENCH_N,
           (unsigned long)(t1 - t0));
    /* a build with only the reference kernels reports them once */
#if defined(PLK_HAVE_TARGET_KERNELS)
    report("matvec_q8 (" PLK_KERNELS_NAME ", group 32)", t2 - t1);
#endif
    report("matvec_q8 (portable reference, group 32)", t3 - t2);
    report("matvec_f32", t4 - t3);
#if defined(PLK_HAVE_TARGET_KERNELS)
    report("matvec_q4 (" PLK_KERNELS_NAME ", group 32)", t5 - t4);
#endif
    report("matvec_q4 (portable reference, group 32)", t6 - t5);
    return 0;
}
