/* matmul.h — the GEMM every linear layer goes through, as named variants:
 * "fast" (our packed AVX-512/AVX2 SGEMM, gemm_fast.c), "blas" (OpenBLAS
 * cblas_sgemm), "ref" (naive triple loop, the oracle), and "auto" (the
 * default: currently "fast", because the distribution OpenBLAS may not
 * recognise the CPU and run its generic SSE3 kernels).
 * Row-major. C = alpha * op(A) * op(B) + beta * C, op = transpose when
 * transX != 0. Shapes: op(A) (M,K), op(B) (K,N), C (M,N). Any lda/ldb/ldc
 * >= the row length. beta == 0 means C is not read (it may hold NaN).
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
/* Packed, cache-blocked SGEMM with a small-M (decode, M <= 48) matrix-vector
 * path. Same contract as gemm(). Uses util_threads() OpenMP threads, one when
 * called inside a parallel region. Never fails: its per-thread packing
 * buffers grow on demand and abort on out-of-memory (CHECK_ALLOC). */
void gemm_fast(int transA, int transB, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Tuning knob for benches and tests: cache blocks (rounded to the register
 * tile); a value <= 0 restores that block's default. Global; do not call while
 * a GEMM runs. */
void gemm_fast_set_blocking(int mc, int kc, int nc);
/* The micro-kernel gemm_fast was compiled with: "avx512", "avx2" or "c". */
const char *gemm_fast_isa(void);

/* Select the variant by name: "auto", "fast", "blas", "ref". Returns 0, or -1
 * for an unknown name (the selection is then unchanged). */
int gemm_set_variant(const char *name);
/* The selected name ("auto" by default). */
const char *gemm_variant(void);
/* The variant that actually runs ("auto" resolved), for run records. */
const char *gemm_variant_resolved(void);
/* The selectable names for --help text: "auto|fast|blas|ref". */
const char *gemm_variants_list(void);

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
