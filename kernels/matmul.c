/* matmul.c — GEMM variants "blas" (OpenBLAS) and "ref" (naive), and the name
 * table that selects between them, "fast" (gemm_fast.c) and "auto"; see matmul.h. */
#include "matmul.h"

#include <string.h>

#include "bf16.h"
#include "util.h"
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

typedef void (*gemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float,
                        float *, int);
typedef void (*gemm16_fn)(int, int, int, int, int, float, const float *, int, const uint16_t *, int, float,
                          float *, int);
/* One table maps names to kernels. An fp32 entry may also set the bf16
 * kernel (index into the table, -1 = leave it); a bf16 entry sets only that.
 * "auto" resolves to "fast" (OpenBLAS may run generic SSE3 kernels on CPUs it
 * does not know; ours are measured faster) and "bf16" to "bf16-dp" where the
 * build has AVX512-BF16 (measured faster than widening at every batch size
 * on such CPUs), else "bf16-widen". */
enum { V_AUTO, V_FAST, V_FAST_TILED, V_BLAS, V_REF, V_B_AUTO, V_B_WIDEN, V_B_WIDEN_TILED, V_B_DP, V_B_REF, V_N };
static const struct {
    const char *name;
    gemm_fn fn;     /* fp32 entries */
    gemm16_fn fn16; /* bf16 entries */
    int sets16;     /* fp32 entries: the bf16 entry they select too, -1 none */
} g_gemm_variants[V_N] = {
    [V_AUTO] = {"auto", gemm_fast, NULL, V_B_AUTO},     [V_FAST] = {"fast", gemm_fast, NULL, V_B_WIDEN},
    [V_FAST_TILED] = {"fast-tiled", gemm_fast_tiled, NULL, V_B_WIDEN_TILED},
    [V_BLAS] = {"blas", gemm_blas, NULL, -1},           [V_REF] = {"ref", gemm_ref, NULL, V_B_REF},
    [V_B_AUTO] = {"bf16", NULL, gemm_bf16_dp, -1},      [V_B_WIDEN] = {"bf16-widen", NULL, gemm_bf16_fast, -1},
    [V_B_WIDEN_TILED] = {"bf16-widen-tiled", NULL, gemm_bf16_fast_tiled, -1},
    [V_B_DP] = {"bf16-dp", NULL, gemm_bf16_dp, -1},     [V_B_REF] = {"bf16-ref", NULL, gemm_bf16_ref, -1},
};
static int g_variant = V_AUTO, g_variant16 = V_B_AUTO;

void gemm_bf16_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                   const uint16_t *B, int ldb, float beta, float *C, int ldc) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                float a = transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = bf16_to_f32(transB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
                s += (double)a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = (float)(alpha * s + (beta == 0.0f ? 0.0 : (double)beta * *c));
        }
    }
}

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

void gemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
               const uint16_t *B, int ldb, float beta, float *C, int ldc) {
    g_gemm_variants[g_variant16].fn16(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_group(int M, int count, const gemm_op *ops) {
    /* one region when every product runs a fast kernel with the same bf16 form */
    int fast = 1, dp = g_gemm_variants[g_variant16].fn16 == gemm_bf16_dp;
    for (int i = 0; i < count && fast; i++)
        fast = ops[i].B16 ? (dp || g_gemm_variants[g_variant16].fn16 == gemm_bf16_fast)
                          : g_gemm_variants[g_variant].fn == gemm_fast;
    if (fast) {
        gemm_fast_group(M, count, ops, dp);
        return;
    }
    for (int i = 0; i < count; i++) {
        const gemm_op *o = &ops[i];
        if (o->B16) gemm_bf16(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B16, o->ldb, o->beta, o->C, o->ldc);
        else gemm(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B, o->ldb, o->beta, o->C, o->ldc);
    }
}

int gemm_set_variant(const char *name) {
    for (int i = 0; name && i < V_N; i++) {
        if (strcmp(name, g_gemm_variants[i].name)) continue;
        if (i == V_B_DP && !gemm_bf16_dp_available()) {
            util_error("gemm variant bf16-dp needs a build for a CPU with avx512_bf16 (this one was not)");
            return -1;
        }
        if (g_gemm_variants[i].fn) {
            g_variant = i;
            if (g_gemm_variants[i].sets16 >= 0) g_variant16 = g_gemm_variants[i].sets16;
        } else {
            g_variant16 = i;
        }
        return 0;
    }
    util_error("unknown gemm variant '%s' (%s)", name ? name : "(null)", gemm_variants_list());
    return -1;
}

const char *gemm_variant(void) { return g_gemm_variants[g_variant].name; }
const char *gemm_variant_resolved(void) { return g_variant == V_AUTO ? "fast" : g_gemm_variants[g_variant].name; }
const char *gemm_bf16_variant(void) { return g_gemm_variants[g_variant16].name; }
const char *gemm_bf16_variant_resolved(void) {
    if (g_variant16 != V_B_AUTO) return g_gemm_variants[g_variant16].name;
    return gemm_bf16_dp_available() ? "bf16-dp" : "bf16-widen";
}
const char *gemm_variants_list(void) { return "auto|fast|fast-tiled|blas|ref|bf16|bf16-widen|bf16-widen-tiled|bf16-dp|bf16-ref"; }

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
