/* roofline.c — the roofline probe: read / copy bandwidth and sgemm rate on
 * this machine, for a given thread count. See roofline.h for the
 * conventions (bytes counted, sizes, repetitions).
 */
#include "roofline.h"

#include "matmul.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MiB ((size_t)1 << 20)

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double maxd(const double *v, int n) {
    double m = v[0];
    for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/* Inside a parallel region: the calling thread's share [*b0, *b1) of
 * `blocks` (contiguous, in thread order); 1 for the team's last thread. */
static int team_share(size_t blocks, size_t *b0, size_t *b1) {
    int nt = 1, id = 0;
#ifdef _OPENMP
    nt = omp_get_num_threads();
    id = omp_get_thread_num();
#endif
    size_t per = (blocks + (size_t)nt - 1) / (size_t)nt;
    *b0 = per * (size_t)id < blocks ? per * (size_t)id : blocks;
    *b1 = *b0 + per < blocks ? *b0 + per : blocks;
    return id == nt - 1;
}

/* Sum-reduce with 32 independent accumulators per thread so the loop is
 * limited by memory, not by the latency of one floating-point add chain
 * (the inner j-loop vectorises without -ffast-math). */
static double read_sum(const float *a, size_t n, int threads) {
    double total = 0;
    (void)threads;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        size_t b0, b1;
        team_share(n / 32, &b0, &b1);
        float acc[32] = {0};
        for (size_t b = b0; b < b1; b++) {
            const float *p = a + b * 32;
            for (int j = 0; j < 32; j++) acc[j] += p[j];
        }
        float s = 0;
        for (int j = 0; j < 32; j++) s += acc[j];
        total += s;
    }
    return total;
}

/* Plain-store copy. GCC would turn the loop into a memcpy call, whose
 * large-size path may switch to non-temporal stores; our kernels use plain
 * stores, so keep the loop a loop. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void copy_loop(float *restrict b, const float *restrict a, size_t n, int threads) {
    (void)threads;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) b[i] = a[i];
}

static void fill(float *a, size_t n, float v, int threads) {
    (void)threads;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = v + (float)(i & 1023) * 1e-3f;
}

static double sink; /* keeps the read results alive */

static volatile uint64_t isink;

/* Four streams per thread (the thread's range cut in four, read side by
 * side), as a GEMV reads several rows at once: on this VM one stream per
 * thread read about 15% slower than two or more, so a one-stream pass is not
 * the limit a decode step's GEMVs run against. */
#define READ_STREAMS 4
double roofline_read_pass(const void *p, size_t bytes, int threads, uint64_t *sum) {
    if (threads <= 0) threads = util_threads();
    const uint64_t *a = (const uint64_t *)p;
    size_t n = p ? bytes / 8 : 0;
    uint64_t total = 0;
    double t0 = util_now();
    (void)threads;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        size_t blocks = n / 8, b0, b1;
        int last = team_share(blocks, &b0, &b1);
        size_t len = (b1 - b0) / READ_STREAMS;
        uint64_t acc[8] = {0};
        for (size_t b = 0; b < len; b++)
            for (int s = 0; s < READ_STREAMS; s++) {
                const uint64_t *q = a + (b0 + (size_t)s * len + b) * 8;
                for (int j = 0; j < 8; j++) acc[j] += q[j];
            }
        for (size_t b = b0 + READ_STREAMS * len; b < b1; b++) /* the blocks past the four streams */
            for (int j = 0; j < 8; j++) acc[j] += a[b * 8 + j];
        uint64_t s = 0;
        for (int j = 0; j < 8; j++) s += acc[j];
        if (last) /* the words past the last block */
            for (size_t i = blocks * 8; i < n; i++) s += a[i];
        total += s;
    }
    if (p)
        for (size_t i = n * 8; i < bytes; i++) total += ((const unsigned char *)p)[i];
    double dt = util_now() - t0;
    isink += total;
    if (sum) *sum = total;
    return dt;
}

int roofline_measure(roofline_result *r, int threads, int quick) {
    memset(r, 0, sizeof *r);
    if (threads <= 0) threads = util_threads();
    double t_start = util_now();
    r->threads = threads;
    r->quick = quick ? 1 : 0;
    r->reps = quick ? 3 : 5;
    r->array_bytes = (quick ? 128 : 512) * MiB;
    size_t n = r->array_bytes / sizeof(float);

    float *a = NULL, *b = NULL;
    if (posix_memalign((void **)&a, 64, r->array_bytes) != 0) a = NULL;
    if (a && posix_memalign((void **)&b, 64, r->array_bytes) != 0) b = NULL;
    if (!a || !b) {
        free(a);
        memset(r, 0, sizeof *r);
        util_error("roofline: cannot allocate 2 x %zu MiB", r->array_bytes / MiB);
        return -1;
    }
    /* first touch by the same thread team that reads later */
    fill(a, n, 1.0f, threads);
    fill(b, n, 2.0f, threads);

    double t[16];
    /* read: one warm-up pass, then reps */
    sink += read_sum(a, n, threads);
    for (int k = 0; k < r->reps; k++) {
        double t0 = util_now();
        sink += read_sum(a, n, threads);
        t[k] = (double)r->array_bytes / (util_now() - t0) * 1e-9;
    }
    r->read_gbs = maxd(t, r->reps);
    r->read_gbs_median = median(t, r->reps);

    copy_loop(b, a, n, threads);
    for (int k = 0; k < r->reps; k++) {
        double t0 = util_now();
        copy_loop(b, a, n, threads);
        __asm__ volatile("" : : "g"(b) : "memory");
        t[k] = 2.0 * (double)r->array_bytes / (util_now() - t0) * 1e-9;
    }
    r->copy_gbs = maxd(t, r->reps);
    r->copy_gbs_median = median(t, r->reps);
    sink += b[n / 3];
    free(a);
    free(b);

    /* sgemm through the project's BLAS variant */
    static const int sizes_full[] = {256, 512, 1024, 2048};
    static const int sizes_quick[] = {256, 512, 1024};
    const int *sizes = quick ? sizes_quick : sizes_full;
    r->n_sgemm = quick ? 3 : 4;
    blas_set_threads(threads);
    for (int s = 0; s < r->n_sgemm; s++) {
        int m = sizes[s];
        size_t mm = (size_t)m * m;
        float *A = (float *)util_alloc(mm * sizeof(float));
        float *B = (float *)util_alloc(mm * sizeof(float));
        float *C = (float *)util_alloc(mm * sizeof(float));
        for (size_t i = 0; i < mm; i++) {
            A[i] = (float)((i * 7) % 13) * 0.1f - 0.6f;
            B[i] = (float)((i * 5) % 11) * 0.1f - 0.5f;
        }
        double flops = 2.0 * (double)m * m * m;
        /* calls per rep: ~50 ms per rep at ~50 GFLOP/s; the largest size
         * gets fewer reps so the full probe stays within a few seconds */
        int inner = (int)(2.5e9 / flops);
        if (inner < 1) inner = 1;
        int reps = m >= 2048 && r->reps > 3 ? 3 : r->reps;
        /* both GEMM variants the model can use: OpenBLAS and the project's
         * own kernel; the limit is the faster one on each size */
        double best[2] = {0, 0}, med[2] = {0, 0};
        for (int v = 0; v < 2; v++) {
            void (*fn)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int) =
                v == 0 ? gemm_blas : gemm_fast;
            fn(0, 0, m, m, m, 1.0f, A, m, B, m, 0.0f, C, m); /* warm-up */
            for (int k = 0; k < reps; k++) {
                double t0 = util_now();
                for (int i = 0; i < inner; i++) fn(0, 0, m, m, m, 1.0f, A, m, B, m, 0.0f, C, m);
                t[k] = flops * inner / (util_now() - t0) * 1e-9;
            }
            best[v] = maxd(t, reps);
            med[v] = median(t, reps);
        }
        if (best[0] > r->sgemm_blas_peak_gflops) r->sgemm_blas_peak_gflops = best[0];
        if (best[1] > r->sgemm_fast_peak_gflops) r->sgemm_fast_peak_gflops = best[1];
        int w = best[1] > best[0];
        t[0] = best[w];
        t[1] = med[w];
        sink += C[mm / 2];
        r->sgemm_n[s] = m;
        r->sgemm_gflops[s] = t[0];
        r->sgemm_gflops_median[s] = t[1];
        if (r->sgemm_gflops[s] > r->sgemm_peak_gflops) r->sgemm_peak_gflops = r->sgemm_gflops[s];
        util_free(A);
        util_free(B);
        util_free(C);
    }
    blas_set_threads(util_threads());
    r->seconds = util_now() - t_start;
    return 0;
}

/* ---- in-process cache ------------------------------------------------- */
#define CACHE_SLOTS 8
static roofline_result g_cache[CACHE_SLOTS];
static int g_cache_n = 0;
static int g_quick = -1; /* -1: from the environment */

void roofline_set_quick(int quick) { g_quick = quick ? 1 : 0; }

const roofline_result *roofline_get(int threads) {
    if (threads <= 0) threads = util_threads();
    if (g_quick < 0) {
        const char *e = getenv("GRIFFIN_ROOFLINE");
        g_quick = (e && !strcmp(e, "quick")) ? 1 : 0;
    }
    for (int i = 0; i < g_cache_n; i++)
        if (g_cache[i].threads == threads && g_cache[i].quick == g_quick) return &g_cache[i];
    roofline_result r;
    if (roofline_measure(&r, threads, g_quick) != 0) return NULL;
    int slot = g_cache_n < CACHE_SLOTS ? g_cache_n++ : CACHE_SLOTS - 1;
    g_cache[slot] = r;
    return &g_cache[slot];
}

char *roofline_json(const roofline_result *r) {
    size_t cap = 1024;
    char *s = (char *)malloc(cap);
    CHECK_ALLOC(s);
    int n = snprintf(s, cap,
                     "{\"threads\":%d,\"quick\":%d,\"array_mib\":%zu,\"reps\":%d,"
                     "\"read_gbs\":%.3f,\"read_gbs_median\":%.3f,"
                     "\"copy_gbs\":%.3f,\"copy_gbs_median\":%.3f,"
                     "\"copy_bytes\":\"read+written\",\"sgemm\":[",
                     r->threads, r->quick, r->array_bytes / MiB, r->reps, r->read_gbs,
                     r->read_gbs_median, r->copy_gbs, r->copy_gbs_median);
    for (int i = 0; i < r->n_sgemm; i++)
        n += snprintf(s + n, cap - (size_t)n, "%s{\"n\":%d,\"gflops\":%.2f,\"gflops_median\":%.2f}",
                      i ? "," : "", r->sgemm_n[i], r->sgemm_gflops[i], r->sgemm_gflops_median[i]);
    snprintf(s + n, cap - (size_t)n, "],\"sgemm_peak_gflops\":%.2f,\"sgemm_blas_peak_gflops\":%.2f,\"sgemm_fast_peak_gflops\":%.2f,\"seconds\":%.2f}",
             r->sgemm_peak_gflops, r->sgemm_blas_peak_gflops, r->sgemm_fast_peak_gflops, r->seconds);
    return s;
}
