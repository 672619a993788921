/* matmul.c — GEMM variants "blas" (OpenBLAS) and "ref" (naive); see matmul.h. */
#include "matmul.h"

#include <string.h>
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

static int g_variant_ref = 0;

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
    if (g_variant_ref) gemm_ref(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else gemm_blas(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int gemm_set_variant(const char *name) {
    if (!strcmp(name, "blas")) g_variant_ref = 0;
    else if (!strcmp(name, "ref")) g_variant_ref = 1;
    else return -1;
    return 0;
}

const char *gemm_variant(void) { return g_variant_ref ? "ref" : "blas"; }

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
