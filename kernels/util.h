/* util.h — error-checking macros, aligned allocation, timers, seeded RNG.
 *
 * Shared by every layer of the project (kernels, models, suites, results,
 * bench, tests). Library code reports errors through return codes and
 * util_error(); only the CLI decides the exit code.
 */
#ifndef GRIFFIN_UTIL_H
#define GRIFFIN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Last error message, set by util_error(); library functions that return
 * non-zero leave a human-readable reason here. */
void util_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *util_last_error(void);

/* Fatal checks for programmer errors and allocation failure (print file:line
 * and abort the process). Used only where recovery is impossible. */
#define CHECK_ALLOC(p)                                                          \
    do {                                                                        \
        if (!(p)) {                                                             \
            fprintf(stderr, "%s:%d: out of memory (%s)\n", __FILE__, __LINE__, #p); \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* Recoverable I/O check: on failure record the reason and return -1 from the
 * enclosing function. */
#define CHECK_IO(cond, ...)                                                     \
    do {                                                                        \
        if (!(cond)) {                                                          \
            util_error(__VA_ARGS__);                                            \
            return -1;                                                          \
        }                                                                       \
    } while (0)

/* 64-byte aligned allocation (zeroed); free with util_free. Aborts on OOM. */
void *util_alloc(size_t bytes);
/* The same for sizes that come from user input: NULL (and util_error naming
 * the size) when the request is larger than the memory available now or the
 * allocation fails, instead of aborting (or touching pages until the OOM
 * killer ends the process). */
void *util_try_alloc(size_t bytes);

/* ---- atomic file replacement ------------------------------------------------
 * util_atomic_open writes into a temporary file beside PATH; util_atomic_commit
 * flushes, fsyncs, renames it over PATH and fsyncs the folder, so PATH is at
 * every moment either the previous file or the complete new one (kill -9, a
 * full disk, a file-size limit). Every failure leaves PATH untouched, removes
 * the temporary and records a message naming PATH, the failing step and the
 * errno text ("out.csv: write: No space left on device").
 *
 *   util_afile a;
 *   if (util_atomic_open(&a, path) != 0) return -1;
 *   fprintf(a.f, ...); fwrite(..., a.f);
 *   if (util_atomic_commit(&a) != 0) return -1;     // or util_atomic_abort(&a)
 */
typedef struct {
    FILE *f;        /* write through this */
    void *st;       /* private: temporary's fd, first write errno, names */
} util_afile;
int util_atomic_open(util_afile *a, const char *path);
int util_atomic_commit(util_afile *a);
void util_atomic_abort(util_afile *a);
/* Whole buffer to PATH atomically. 0 or -1. */
int util_write_file_atomic(const char *path, const void *data, size_t n);
/* Check a stream the caller did not open (stdout): flush it and report a
 * write error as "WHAT: write: <errno text>". 0 or -1. */
int util_stream_check(FILE *f, const char *what);
void util_free(void *p);

/* Monotonic wall clock in seconds. */
double util_now(void);

/* Deterministic RNG (xoshiro256**), seeded by splitmix64. */
typedef struct { uint64_t s[4]; } rng_t;
void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_u64(rng_t *r);
double rng_uniform(rng_t *r);            /* [0, 1) */
double rng_normal(rng_t *r);             /* N(0, 1), Box-Muller */
uint32_t rng_below(rng_t *r, uint32_t n); /* uniform in [0, n) */

/* Max relative error between two arrays: max|a-b| / max(max|b|, tiny). */
double util_max_rel_err(const float *a, const float *b, size_t n);
/* Max of |a-b| / (atol + rtol*|b|) elementwise; <= 1 means "close". */
double util_close_ratio(const float *a, const float *b, size_t n, double rtol, double atol);

/* The OpenMP wait policy of the harness binaries: GOMP_SPINCOUNT=300000 (a
 * thread waiting at a barrier spins ~300000 pause iterations, then sleeps;
 * libgomp's own default, stated so that every record says it). It was 3000
 * until this was measured at the paper's scale: a 400M model's batch-1
 * decode step leaves the second thread idle for 100-300 us between GEMM
 * regions, longer than 3000 spins, and waking it cost 10-30% of the step
 * (README, "OpenMP wait policy"). libgomp reads its
 * environment when it loads, before main, so util_omp_policy_apply (first
 * thing in main of griffin and griffin-bench) puts the setting in the
 * environment and re-executes the program once, unless OMP_WAIT_POLICY or
 * GOMP_SPINCOUNT is already set (a user's choice is kept). If the re-exec
 * fails the program runs on under libgomp's default; the machine record
 * (machine.h omp_env) always shows what was in force. */
#define UTIL_OMP_POLICY "GOMP_SPINCOUNT=300000"
void util_omp_policy_apply(char **argv);

/* Number of threads the kernels may use (OpenMP if built, else 1). */
int util_threads(void);
void util_set_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
