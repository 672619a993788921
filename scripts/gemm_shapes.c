/* gemm_shapes.c — the small presets' GEMMs (D = 256, RG-LRU width 320 in two
 * gate blocks of 160, MLP width 768, B x T = 4096 rows) through gemm_fast on
 * the harness's threads, each against the sgemm probe measured in the same
 * run (the limit `griffin bench-model` judges prefill and training against).
 * Forward: the projections and the gate blocks (ld = 320) as one layer calls
 * them; backward: dW = X^T dY (K = 4096) and dX = dY W. Runs under the
 * harness's OpenMP wait policy (UTIL_OMP_POLICY), as griffin does.
 *
 *   build/tools/gemm_shapes [--reps N] [--cold] [--only SUBSTR]
 *
 * --cold writes 64 MB (past the L3) before every call and times one call per
 * repetition: the operands come from memory, as after a model's other ops.
 * Prints GFLOP/s and % of the probe per shape (median of the repetitions),
 * then the forward and backward sets weighted by their calls per layer.
 */
#include "matmul.h"
#include "roofline.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int tA, tB, M, N, K, calls, ld2; /* ld2: A and C at twice their width (a gate block of two) */
    const char *what;
} gshape;

static const gshape k_shapes[] = {
    {0, 1, 4096, 320, 256, 2, 0, "fwd in-proj"},   {0, 0, 4096, 160, 160, 4, 1, "fwd gate block"},
    {0, 1, 4096, 256, 320, 1, 0, "fwd out-proj"},  {0, 0, 4096, 768, 256, 2, 0, "fwd mlp up"},
    {0, 1, 4096, 256, 768, 1, 0, "fwd mlp down"},  {1, 0, 320, 256, 4096, 2, 0, "dW in-proj"},
    {1, 0, 256, 320, 4096, 1, 0, "dW out-proj"},   {1, 0, 256, 768, 4096, 3, 0, "dW mlp"},
    {1, 0, 160, 160, 4096, 4, 0, "dW gate block"}, {0, 0, 4096, 256, 320, 2, 0, "dX in-proj"},
    {0, 0, 4096, 320, 256, 1, 0, "dX out-proj"},   {0, 0, 4096, 768, 256, 1, 0, "dX mlp down"},
    {0, 1, 4096, 256, 768, 2, 0, "dX mlp up"},     {0, 1, 4096, 160, 160, 4, 1, "dX gate block"},
};
#define NSHAPES (int)(sizeof k_shapes / sizeof k_shapes[0])

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *f) {
    fprintf(f, "usage: gemm_shapes [--reps N] [--cold] [--only SUBSTR]\n"
               "The small presets' GEMM shapes through gemm_fast, each as %% of the sgemm probe measured now.\n"
               "  --reps N      repetitions per shape, median reported (1..64, default 7)\n"
               "  --cold        write 64 MB before every call (operands from memory), one call per repetition\n"
               "  --only SUBSTR only the shapes whose name contains SUBSTR (e.g. fwd, dW, gate)\n");
}

int main(int argc, char **argv) {
    util_omp_policy_apply(argv);
    int reps = 7, cold = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "--cold")) cold = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            char *e;
            long v = strtol(argv[++i], &e, 10);
            if (*e || v < 1 || v > 64) { fprintf(stderr, "error: --reps takes 1..64, got '%s'\n", argv[i]); return 2; }
            reps = (int)v;
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else {
            fprintf(stderr, "error: unknown or incomplete argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    const int nth = util_threads();
    const roofline_result *rr = roofline_get(nth);
    if (!rr || rr->sgemm_peak_gflops <= 0) { fprintf(stderr, "error: the sgemm probe failed\n"); return 1; }
    printf("sgemm probe %.1f GFLOP/s, %d threads, gemm_fast %s%s\n", rr->sgemm_peak_gflops, nth, gemm_fast_isa(),
           cold ? ", cold operands" : "");
    size_t big = (size_t)4096 * 768 * 2, flush_n = (size_t)16 << 20;
    float *A = util_try_alloc(big * sizeof(float)), *B = util_try_alloc(big * sizeof(float));
    float *C = util_try_alloc(big * sizeof(float)), *flush = cold ? util_try_alloc(flush_n * sizeof(float)) : NULL;
    if (!A || !B || !C || (cold && !flush)) { fprintf(stderr, "error: out of memory for the operands\n"); return 1; }
    for (size_t i = 0; i < big; i++) {
        A[i] = (float)((i * 7) % 13) * 0.1f - 0.6f;
        B[i] = (float)((i * 5) % 11) * 0.1f - 0.5f;
        C[i] = 0.0f;
    }
    double tsum[2] = {0, 0}, fsum[2] = {0, 0}, t[64];
    int ran = 0;
    for (int s = 0; s < NSHAPES; s++) {
        const gshape *p = &k_shapes[s];
        if (only && !strstr(p->what, only)) continue;
        int lda = (p->tA ? p->M : p->K) << p->ld2, ldb = p->tB ? p->K : p->N, ldc = p->N << p->ld2;
        float beta = p->tA ? 1.0f : 0.0f; /* dW accumulates */
        double flops = 2.0 * p->M * p->N * p->K;
        int inner = cold ? 1 : (int)(2e8 / flops) + 1;
        gemm_fast(p->tA, p->tB, p->M, p->N, p->K, 1.0f, A, lda, B, ldb, beta, C, ldc); /* warm-up */
        for (int r = 0; r < reps; r++) {
            if (cold) memset(flush, r & 0xff, flush_n * sizeof(float));
            double t0 = util_now();
            for (int i = 0; i < inner; i++) gemm_fast(p->tA, p->tB, p->M, p->N, p->K, 1.0f, A, lda, B, ldb, beta, C, ldc);
            t[r] = (util_now() - t0) / inner;
        }
        qsort(t, (size_t)reps, sizeof t[0], cmp_double);
        double med = t[reps / 2], g = flops / med / 1e9;
        int bwd = strncmp(p->what, "fwd", 3) != 0;
        tsum[bwd] += p->calls * med;
        fsum[bwd] += p->calls * flops;
        printf("%-14s tA=%d tB=%d %4d x %4d x %4d%s  %6.1f GFLOP/s  %4.0f%% of sgemm  (%.3f ms)\n", p->what, p->tA, p->tB,
               p->M, p->N, p->K, p->ld2 ? " ld x2" : "      ", g, 100 * g / rr->sgemm_peak_gflops, 1e3 * med);
        ran++;
    }
    if (!ran) { fprintf(stderr, "error: no shape matches '%s'\n", only); return 2; }
    for (int b = 0; b < 2; b++)
        if (fsum[b] > 0)
            printf("%s, weighted by calls per layer: %.1f GFLOP/s = %.0f%% of sgemm\n", b ? "backward" : "forward",
                   fsum[b] / tsum[b] / 1e9, 100 * fsum[b] / tsum[b] / 1e9 / rr->sgemm_peak_gflops);
    util_free(A);
    util_free(B);
    util_free(C);
    util_free(flush);
    return 0;
}
