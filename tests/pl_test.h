/*
 * A minimal test harness: checks count and report with file:line; each test
 * program ends with "<name>: N passed, N failed" and exits nonzero on failure.
 */
#ifndef PL_TEST_H
#define PL_TEST_H

#include <stdio.h>
#include <string.h>

#include "picollama.h"

static int pl_test_passed, pl_test_failed;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            pl_test_passed++;                                                  \
        } else {                                                               \
            pl_test_failed++;                                                  \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                        \
    do {                                                                          \
        long long pl_a_ = (long long)(a), pl_b_ = (long long)(b);                 \
        if (pl_a_ == pl_b_) {                                                     \
            pl_test_passed++;                                                     \
        } else {                                                                  \
            pl_test_failed++;                                                     \
            fprintf(stderr, "%s:%d: FAILED: %s == %s (%lld != %lld)\n", __FILE__, \
                    __LINE__, #a, #b, pl_a_, pl_b_);                              \
        }                                                                         \
    } while (0)

#define CHECK_STR(a, b)                                                            \
    do {                                                                           \
        const char *pl_a_ = (a), *pl_b_ = (b);                                     \
        if (strcmp(pl_a_, pl_b_) == 0) {                                           \
            pl_test_passed++;                                                      \
        } else {                                                                   \
            pl_test_failed++;                                                      \
            fprintf(stderr, "%s:%d: FAILED: %s == \"%s\" (got \"%s\")\n", __FILE__, \
                    __LINE__, #a, pl_b_, pl_a_);                                   \
        }                                                                          \
    } while (0)

/* The status must be exactly `want`, and a failure must carry a message. */
#define CHECK_STATUS(expr, want, err)                                               \
    do {                                                                            \
        pl_status pl_got_ = (expr);                                                 \
        if (pl_got_ == (want) && ((want) == PL_OK || (err).message[0] != '\0')) {   \
            pl_test_passed++;                                                       \
        } else {                                                                    \
            pl_test_failed++;                                                       \
            fprintf(stderr, "%s:%d: FAILED: %s gave %s, want %s (%s)\n", __FILE__,  \
                    __LINE__, #expr, pl_status_name(pl_got_), pl_status_name(want), \
                    (err).message);                                                 \
        }                                                                           \
    } while (0)

static int pl_test_skipped;

/* A check that cannot run here, with why: counted in the report. */
static inline void pl_test_skip(const char *name, const char *why) {
    pl_test_skipped++;
    printf("%s: SKIPPED: %s\n", name, why);
}

static inline int pl_test_report(const char *name) {
    if (pl_test_skipped)
        printf("%s: %d passed, %d failed, %d skipped\n", name, pl_test_passed, pl_test_failed,
               pl_test_skipped);
    else
        printf("%s: %d passed, %d failed\n", name, pl_test_passed, pl_test_failed);
    return pl_test_failed ? 1 : 0;
}

#endif
