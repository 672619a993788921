/* gpu_gemm.cu — GEMM on the device with matmul.h's row-major convention:
 * C (M,N) = alpha op(A) op(B) + beta C, op = transpose when transX != 0.
 *
 * gpu_gemm: cuBLAS. A row-major matrix seen by column-major cuBLAS is its
 * transpose, so C^T = op(B)^T op(A)^T is computed: cublasSgemm with the
 * operands swapped (B first), the same transpose flags, and dims (N, M, K).
 * gpu_gemm_ref: one thread per C element, accumulating in fp32 in K order
 * (the device oracle, and the "how much of this is GEMM" variant).
 * beta == 0 means C is not read (cuBLAS semantics, and matmul.h's).
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
    k_gemm_ref<<<grd, blk>>>(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    KERNEL_CHECK();
    return 0;
}
