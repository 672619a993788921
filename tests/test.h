/* test.h — the project's minimal test harness (header only).
 *
 * TEST_CHECK(cond, fmt, ...) counts one assertion; a failure prints file:line
 * and the message. test_summary() prints "N passed, N failed" as the last line
 * and returns the process exit code (0 only when nothing failed and at least
 * one check ran). test_skip_all(why, n) ends a program that cannot run here
 * ("SKIP: why", then "0 passed, 0 failed, n skipped"; exit code 0).
 * TEST_SKIP(why, ...) skips one group inside a program that runs: it prints
 * "SKIP: why" and the summary line then ends ", N skipped" (never a pass).
 */
#ifndef GRIFFIN_TEST_H
#define GRIFFIN_TEST_H
#include <stdio.h>
#include <stdlib.h>

static int t_passed, t_failed, t_skipped;

#define TEST_SKIP(...)                                                   \
    do {                                                                 \
        t_skipped++;                                                     \
        printf("SKIP: ");                                                \
        printf(__VA_ARGS__);                                             \
        printf("\n");                                                   \
    } while (0)

#define TEST_CHECK(cond, ...)                                            \
    do {                                                                 \
        if (cond) {                                                      \
            t_passed++;                                                  \
        } else {                                                         \
            t_failed++;                                                  \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                \
            fprintf(stderr, "\n");                                       \
        }                                                                \
    } while (0)

/* Check that a relative-error figure is within tol, printing it either way
 * when verbose (GRIFFIN_TEST_VERBOSE=1). */
#define TEST_CLOSE(err, tol, what)                                              \
    do {                                                                        \
        double e_ = (err);                                                      \
        if (getenv("GRIFFIN_TEST_VERBOSE")) printf("  %-48s err %.3g (tol %.1g)\n", (what), e_, (double)(tol)); \
        TEST_CHECK(e_ <= (tol), "%s: error %.3g > %.1g", (what), e_, (double)(tol)); \
    } while (0)

/* For a test program that cannot run here (e.g. no GPU): print the reason
 * and the summary line with n skipped groups, and return exit code 0. A
 * skip is never a silent pass: the line says "0 passed". */
static inline int test_skip_all(const char *why, int n) {
    printf("SKIP: %s\n", why);
    printf("0 passed, 0 failed, %d skipped\n", n);
    return 0;
}

static inline int test_summary(void) {
    if (t_skipped) printf("%d passed, %d failed, %d skipped\n", t_passed, t_failed, t_skipped);
    else printf("%d passed, %d failed\n", t_passed, t_failed);
    return (t_failed == 0 && t_passed > 0) ? 0 : 1;
}
#endif
