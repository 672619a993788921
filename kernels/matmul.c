/* matmul.c — GEMM variants "blas" (OpenBLAS) and "ref" (naive), and the name
 * table that selects between them, "fast" (gemm_fast.c) and "auto"; see matmul.h. */
#include "matmul.h"

#include <string.h>
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

typedef void (*gemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float,
                        float *, int);
/* One table maps names to kernels; "auto" resolves to "fast" (OpenBLAS may
 * run generic SSE3 kernels on CPUs it does not know; ours are measured faster). */
static const struct {
    const char *name, *resolved;
    gemm_fn fn;
} g_gemm_variants[] = {
    {"auto", "fast", gemm_fast},
    {"fast", "fast", gemm_fast},
    {"blas", "blas", gemm_blas},
    {"ref", "ref", gemm_ref},
};
static int g_variant = 0;

void gemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                float a = transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = transB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                s += (double)a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
    }
}

void gemm_blas(int transA, int transB, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc) {
#ifdef HAVE_OPENBLAS
    if (M == 0 || N == 0) return;
    if (K == 0) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    gemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

void gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc) {
    g_gemm_variants[g_variant].fn(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int gemm_set_variant(const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < sizeof g_gemm_variants / sizeof g_gemm_variants[0]; i++)
        if (!strcmp(name, g_gemm_variants[i].name)) {
            g_variant = (int)i;
            return 0;
        }
    return -1;
}

const char *gemm_variant(void) { return g_gemm_variants[g_variant].name; }
const char *gemm_variant_resolved(void) { return g_gemm_variants[g_variant].resolved; }
const char *gemm_variants_list(void) { return "auto|fast|blas|ref"; }

void blas_set_threads(int n) {
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(n);
#else
    (void)n;
#endif
}

const char *blas_corename(void) {
#ifdef HAVE_OPENBLAS
    return openblas_get_corename();
#else
    return "none";
#endif
}

const char *blas_config(void) {
#ifdef HAVE_OPENBLAS
    return openblas_get_config();
#else
    return "none";
#endif
}
