/* roofline.h — what this machine can do, measured in-process: read
 * bandwidth, copy bandwidth and sgemm rate, so that every timing can be
 * reported as a fraction of its limit (experiments.md §5).
 *
 *   read   sum-reduce over one float array far larger than the last-level
 *          cache (512 MiB; 128 MiB with quick). Bytes = array bytes.
 *   copy   STREAM-like b[i] = a[i] over two such arrays, plain stores
 *          (what our kernels use). Convention (STREAM's): bytes = bytes
 *          read + bytes written = 2 x array bytes; the write-allocate read
 *          of b is not counted.
 *   sgemm  square C = A*B through gemm_blas at n = 256, 512, 1024, 2048
 *          (quick: 256, 512, 1024); 2 n^3 flops per call.
 * Each figure is reported as best-of and median over repetitions (5 reps,
 * 3 with quick or for n = 2048). Threads: the bandwidth loops use an OpenMP team of
 * `threads`; OpenBLAS is set to `threads` for the sgemm part and restored
 * to util_threads() afterwards.
 *
 * Run: griffin roofline [--threads N] [--quick] [--json]
 */
#ifndef GRIFFIN_ROOFLINE_H
#define GRIFFIN_ROOFLINE_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROOFLINE_MAX_SIZES 4

typedef struct {
    int threads;
    int quick;
    size_t array_bytes;      /* bytes of each bandwidth array */
    int reps;
    double read_gbs;         /* best, 1e9 bytes/s */
    double read_gbs_median;
    double copy_gbs;         /* best, (read + written) 1e9 bytes/s */
    double copy_gbs_median;
    int n_sgemm;
    int sgemm_n[ROOFLINE_MAX_SIZES];
    double sgemm_gflops[ROOFLINE_MAX_SIZES];        /* best */
    double sgemm_gflops_median[ROOFLINE_MAX_SIZES];
    double sgemm_peak_gflops; /* max over sizes of the best (faster GEMM variant) */
    double sgemm_blas_peak_gflops; /* OpenBLAS alone */
    double sgemm_fast_peak_gflops; /* the project's own kernel alone */
    double seconds;           /* wall time of the probe */
} roofline_result;

/* Measure now (seconds: ~1-2 with quick, ~5-10 without on 2 cores).
 * threads <= 0 means util_threads(). Returns 0, or -1 when the arrays
 * cannot be allocated (reason in util_last_error()); *r is then zeroed. */
int roofline_measure(roofline_result *r, int threads, int quick);

/* Cached measurement for `threads` (<= 0: util_threads()), measured on
 * first use in this process. Quick mode for the cache is chosen by
 * roofline_set_quick() or the environment GRIFFIN_ROOFLINE=quick. Returns
 * NULL if the measurement failed. Not thread-safe: call from the main
 * thread (suites and the bench do, before timing). */
const roofline_result *roofline_get(int threads);
void roofline_set_quick(int quick);

/* Seconds for one read pass over `bytes` at p (any type: the words are
 * summed as 64-bit integers, so bf16 or float bit patterns cost the same),
 * split across a team of `threads` (<= 0: util_threads()). A case's memory
 * limit is best measured this way on the bytes it streams, where they live:
 * on a VM two buffers of one process can read at rates 2x apart. sum (may
 * be NULL): the 64-bit words' sum plus the trailing bytes' values, so a test
 * can check that every byte was read. */
double roofline_read_pass(const void *p, size_t bytes, int threads, uint64_t *sum);

/* One-line JSON object (caller frees). */
char *roofline_json(const roofline_result *r);

#ifdef __cplusplus
}
#endif
#endif
