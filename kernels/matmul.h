/* matmul.h — the GEMM every linear layer goes through, as named variants:
 * "blas" (OpenBLAS cblas_sgemm) and "ref" (naive triple loop, the oracle).
 * Row-major. C = alpha * op(A) * op(B) + beta * C, op = transpose when
 * transX != 0. Shapes: op(A) (M,K), op(B) (K,N), C (M,N).
 *
 * gemm_set_variant("ref") switches every model GEMM to the naive kernel so a
 * suite can tell how much of its time is GEMM. The selection is global.
 */
#ifndef GRIFFIN_MATMUL_H
#define GRIFFIN_MATMUL_H
#ifdef __cplusplus
extern "C" {
#endif

void gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
          int lda, const float *B, int ldb, float beta, float *C, int ldc);
void gemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);
void gemm_blas(int transA, int transB, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Returns 0, or -1 for an unknown name. */
int gemm_set_variant(const char *name);
const char *gemm_variant(void);

/* BLAS threading: the number of threads OpenBLAS uses (1 inside OpenMP
 * regions that call BLAS), and the identification strings for the
 * machine fingerprint. */
void blas_set_threads(int n);
const char *blas_corename(void);
const char *blas_config(void);

#ifdef __cplusplus
}
#endif
#endif
