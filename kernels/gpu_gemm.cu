/* gpu_gemm.cu — GEMM on the device with matmul.h's row-major convention:
 * C (M,N) = alpha op(A) op(B) + beta C, op = transpose when transX != 0.
 *
 * gpu_gemm: cuBLAS. A row-major matrix seen by column-major cuBLAS is its
 * transpose, so C^T = op(B)^T op(A)^T is computed: cublasSgemm with the
 * operands swapped (B first), the same transpose flags, and dims (N, M, K).
 * gpu_gemm_ref: one thread per C element, accumulating in fp32 in K order
 * (the device oracle, and the "how much of this is GEMM" variant).
 * beta == 0 means C is not read (cuBLAS semantics, and matmul.h's).
 *
 * bf16 weights (gpu.h): gpu_gemm_bf16 rounds A to bf16 (k_f32_to_bf16, round
 * to nearest even as bf16.h) and calls cublasGemmEx(bf16, bf16 -> fp32,
 * CUBLAS_COMPUTE_32F) with the same operand swap; gpu_gemm_bf16_ref widens B
 * in the naive kernel. gpu_gemm_strided_bf16: every block's A rounded once,
 * then cublasGemmStridedBatchedEx with the same types.
 */
#include <stdio.h>

#include "cuda_common.cuh"
#include "gpu.h"

static cublasHandle_t g_cublas = NULL;

cublasHandle_t gpu_cublas(void) {
    if (!g_cublas) {
        cublasStatus_t s = cublasCreate(&g_cublas);
        if (s != CUBLAS_STATUS_SUCCESS) {
            util_error("%s:%d: cublasCreate failed: %s", __FILE__, __LINE__, cublasGetStatusString(s));
            g_cublas = NULL;
            return NULL;
        }
        /* bind to the process stream, with a workspace of our own so that a
         * GEMM inside a graph capture never allocates */
        static void *ws = NULL;
        const size_t ws_bytes = (size_t)32 << 20;
        if (!ws && cudaMalloc(&ws, ws_bytes) != cudaSuccess) ws = NULL;
        if ((s = cublasSetStream(g_cublas, gpu_s())) != CUBLAS_STATUS_SUCCESS ||
            (ws && (s = cublasSetWorkspace(g_cublas, ws, ws_bytes)) != CUBLAS_STATUS_SUCCESS)) {
            util_error("%s:%d: cublasSetStream/SetWorkspace failed: %s", __FILE__, __LINE__,
                       cublasGetStatusString(s));
            cublasDestroy(g_cublas);
            g_cublas = NULL;
            return NULL;
        }
    }
    return g_cublas;
}

extern "C" int gpu_gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return 0;
    cublasHandle_t h = gpu_cublas();
    if (!h) return -1;
    CUBLAS_CHECK(cublasSgemm(h, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                             N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
    return 0;
}

extern "C" int gpu_gemm_strided(int transA, int transB, int M, int N, int K, float alpha,
                                const float *A, int lda, long long strideA, const float *B, int ldb,
                                long long strideB, float beta, float *C, int ldc, long long strideC,
                                int count) {
    if (M <= 0 || N <= 0 || count <= 0) return 0;
    cublasHandle_t h = gpu_cublas();
    if (!h) return -1;
    CUBLAS_CHECK(cublasSgemmStridedBatched(h, transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           transA ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb,
                                           strideB, A, lda, strideA, &beta, C, ldc, strideC, count));
    return 0;
}

__global__ void k_gemm_ref(int transA, int transB, int M, int N, int K, float alpha,
                           const float *__restrict__ A, int lda, const float *__restrict__ B, int ldb,
                           float beta, float *__restrict__ C, int ldc) {
    int j = blockIdx.x * blockDim.x + threadIdx.x, i = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) {
        float a = transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
        float b = transB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
        acc += a * b;
    }
    float *c = C + (size_t)i * ldc + j;
    *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

extern "C" int gpu_gemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                            int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return 0;
    dim3 blk(32, 8), grd((unsigned)((N + 31) / 32), (unsigned)((M + 7) / 8));
    if (grd.y > 65535u) {
        util_error("gpu_gemm_ref: M = %d too large for the naive kernel", M);
        return -1;
    }
    k_gemm_ref<<<grd, blk, 0, gpu_s()>>>(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    KERNEL_CHECK();
    return 0;
}

/* ---- bf16 weights ---------------------------------------------------------------- */

__device__ __forceinline__ float bf16_widen(uint16_t h) { return __uint_as_float((unsigned)h << 16); }

__global__ void k_f32_to_bf16(uint16_t *__restrict__ dst, const float *__restrict__ src, size_t n) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned u = __float_as_uint(src[i]);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) dst[i] = (uint16_t)((u >> 16) | 0x40u); /* NaN stays NaN */
    else dst[i] = (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

extern "C" int gpu_bf16_from_f32(uint16_t *dst, const float *src, size_t n) {
    if (n == 0) return 0;
    unsigned blocks = (unsigned)((n + 255) / 256);
    k_f32_to_bf16<<<blocks, 256, 0, gpu_s()>>>(dst, src, n);
    KERNEL_CHECK();
    return 0;
}

static uint16_t *g_a16 = NULL; /* A rounded to bf16, grown on demand */
static size_t g_a16_cap = 0;

/* A's first na floats rounded to bf16 in the scratch; NULL on failure. */
static const uint16_t *a_bf16(const float *A, size_t na) {
    if (na > g_a16_cap) {
        gpu_free(g_a16);
        g_a16 = (uint16_t *)gpu_alloc(na * sizeof(uint16_t));
        g_a16_cap = g_a16 ? na : 0;
        if (!g_a16) return NULL;
    }
    return gpu_bf16_from_f32(g_a16, A, na) == 0 ? g_a16 : NULL;
}

extern "C" int gpu_gemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                             const uint16_t *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return 0;
    cublasHandle_t h = gpu_cublas();
    if (!h) return -1;
    const uint16_t *a16 = a_bf16(A, (size_t)(transA ? K : M) * lda); /* the rows A spans, with its stride */
    if (!a16) return -1;
    CUBLAS_CHECK(cublasGemmEx(h, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                              &alpha, B, CUDA_R_16BF, ldb, a16, CUDA_R_16BF, lda, &beta, C, CUDA_R_32F, ldc,
                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

extern "C" int gpu_gemm_strided_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                                     int lda, long long strideA, const uint16_t *B, int ldb, long long strideB,
                                     float beta, float *C, int ldc, long long strideC, int count) {
    if (M <= 0 || N <= 0 || count <= 0) return 0;
    cublasHandle_t h = gpu_cublas();
    if (!h) return -1;
    /* every block's A, rounded once: the last block's rows end the span */
    const size_t na = (size_t)(count - 1) * (size_t)strideA + (size_t)(transA ? K : M) * lda;
    const uint16_t *a16 = a_bf16(A, na);
    if (!a16) return -1;
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(h, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                                            N, M, K, &alpha, B, CUDA_R_16BF, ldb, strideB, a16, CUDA_R_16BF, lda,
                                            strideA, &beta, C, CUDA_R_32F, ldc, strideC, count, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT));
    return 0;
}

__global__ void k_gemm_bf16_ref(int transA, int transB, int M, int N, int K, float alpha,
                                const float *__restrict__ A, int lda, const uint16_t *__restrict__ B, int ldb,
                                float beta, float *__restrict__ C, int ldc) {
    int j = blockIdx.x * blockDim.x + threadIdx.x, i = blockIdx.y * blockDim.y + threadIdx.y;
    if (i >= M || j >= N) return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++) {
        float a = transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
        float b = bf16_widen(transB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
        acc += a * b;
    }
    float *c = C + (size_t)i * ldc + j;
    *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
}

extern "C" int gpu_gemm_bf16_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                                 const uint16_t *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return 0;
    dim3 blk(32, 8), grd((unsigned)((N + 31) / 32), (unsigned)((M + 7) / 8));
    if (grd.y > 65535u) {
        util_error("gpu_gemm_bf16_ref: M = %d too large for the naive kernel", M);
        return -1;
    }
    k_gemm_bf16_ref<<<grd, blk, 0, gpu_s()>>>(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    KERNEL_CHECK();
    return 0;
}
