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
 *
 * bf16 weights: gemm_bf16() is the same product with B stored as bfloat16
 * (bf16.h) and A, C fp32, for inference with --weights bf16. Its variants sit
 * in the same table, selected by the same names (see gemm_set_variant):
 *   bf16-ref    naive loop, double accumulation over the widened B (oracle)
 *   bf16-widen  gemm_fast's kernels with B widened to fp32 as it is loaded:
 *               fp32 products and accumulation (AVX-512F, AVX2 or plain C)
 *   bf16-widen-tiled  the same with the small-M path as it was before row
 *               streaming and prefetch (for comparison; "fast-tiled" in fp32)
 *   bf16-dp     AVX512-BF16 vdpbf16ps: A is rounded to bf16 as well, pairs of
 *               exact products accumulated in fp32; only where the build
 *               targets avx512_bf16 (gemm_bf16_dp_available()); at M <= 4,
 *               transB = 0 it runs the row-streaming form on A rounded to
 *               bf16 (the same products, exact in fp32)
 *   bf16        "auto": bf16-dp where available, else bf16-widen
 * Accuracy against the fp32 product with the unrounded weights: relative
 * error of order 2^-9 (one bf16 rounding per weight, and per activation for
 * dp); tests/test_gemm.c bounds it by 2^-7 of max|C|.
 */
#ifndef GRIFFIN_MATMUL_H
#define GRIFFIN_MATMUL_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

void gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
          int lda, const float *B, int ldb, float beta, float *C, int ldc);
void gemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);
void gemm_blas(int transA, int transB, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Packed, cache-blocked SGEMM with a small-M (decode, M <= 48; fp32 weights
 * up to M = 128: the "lanes" form) matrix-vector path. Same contract as gemm(). Uses util_threads() OpenMP threads, one when
 * called inside a parallel region. Never fails: its per-thread packing
 * buffers grow on demand and abort on out-of-memory (CHECK_ALLOC). */
void gemm_fast(int transA, int transB, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* gemm_fast with its small-M path as before the decode work (transB=0 in
 * 64-row tiles at every M, no prefetch of the next W rows, the 4 x 4 tiles at
 * M = 8..48 where "fast" runs the lanes form, the packed path above 48):
 * variant "fast-tiled", kept so that the bench can compare the two. */
void gemm_fast_tiled(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);
/* Tuning knob for benches and tests: cache blocks (rounded to the register
 * tile); a value <= 0 restores that block's default. Global; do not call while
 * a GEMM runs. */
void gemm_fast_set_blocking(int mc, int kc, int nc);
/* The micro-kernel gemm_fast was compiled with: "avx512", "avx2" or "c". */
const char *gemm_fast_isa(void);

/* bf16-weight GEMMs (B bf16; see above). Same contract as gemm(). */
void gemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
               const uint16_t *B, int ldb, float beta, float *C, int ldc);
void gemm_bf16_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                   const uint16_t *B, int ldb, float beta, float *C, int ldc);
void gemm_bf16_fast(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                    const uint16_t *B, int ldb, float beta, float *C, int ldc);
/* gemm_bf16_fast's small-M path as before the decode work ("bf16-widen-tiled"). */
void gemm_bf16_fast_tiled(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                          const uint16_t *B, int ldb, float beta, float *C, int ldc);
/* Runs the widening kernel where dp is not available. At M <= 4 with
 * transB = 0 (memory bound) it widens and multiplies in fp32, A rounded to
 * bf16 as in dp. */
void gemm_bf16_dp(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const uint16_t *B, int ldb, float beta, float *C, int ldc);
/* 1 when this build has the AVX512-BF16 kernels (compiled for a CPU with
 * avx512_bf16), else 0. */
int gemm_bf16_dp_available(void);

/* Groups: several independent products with the same M (transA = 0, alpha
 * = 1), C (M,N) = A (M,K) . op(B) + beta C each, B fp32 (B) or bf16 (B16):
 * exactly one of them set. gemm_group runs them as gemm / gemm_bf16 would one
 * after another, with the selected variants; where those are "fast",
 * "bf16-widen" or "bf16-dp" and M is in the small-M range, the work items of
 * every product are handed out from one queue in one parallel region (a
 * decode step's projections of one input: one fork/join instead of one per
 * product, and no thread waits at the end of each). Products of a group must
 * not write what another reads. Same results as the calls one by one. */
typedef struct gemm_op {
    int transB, N, K;
    const float *A;
    int lda;
    const float *B;
    const uint16_t *B16;
    int ldb;
    float beta;
    float *C;
    int ldc;
} gemm_op;
void gemm_group(int M, int count, const gemm_op *ops);
/* gemm_fast's group form (bf16 products: dp != 0 the bf16-dp kernels, else
 * widening). */
void gemm_fast_group(int M, int count, const gemm_op *ops, int dp);

/* Select variants by name. fp32 names: "auto", "fast", "fast-tiled", "blas",
 * "ref"; "auto", "fast", "fast-tiled" and "ref" also set the bf16 kernel (auto,
 * widen, widen-tiled, ref); "blas" leaves it (OpenBLAS has no fp32 x bf16
 * GEMM). bf16 names: "bf16", "bf16-widen", "bf16-widen-tiled", "bf16-dp",
 * "bf16-ref" set the bf16 kernel only. Returns 0, or -1 for an
 * unknown name or bf16-dp where unavailable (util_last_error() says which;
 * the selection is then unchanged). */
int gemm_set_variant(const char *name);
/* The selected fp32 name ("auto" by default). */
const char *gemm_variant(void);
/* The fp32 variant that actually runs ("auto" resolved), for run records. */
const char *gemm_variant_resolved(void);
/* The selected bf16 name ("bf16" by default) and the one that runs. */
const char *gemm_bf16_variant(void);
const char *gemm_bf16_variant_resolved(void);
/* The selectable names for --help text. */
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
