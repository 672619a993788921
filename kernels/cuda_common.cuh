/* cuda_common.cuh — shared by the CUDA files of kernels/ and models/:
 * error-checking macros (design.md rule 7), launch checks, grid helpers.
 *
 * CUDA_CHECK(call) / CUBLAS_CHECK(call): on failure record
 * "file:line: call failed: reason" with util_error() and `return -1` from
 * the enclosing function (library code returns errors; the CLI decides).
 * CUDA_CHECK_NULL: the same for functions returning a pointer.
 * KERNEL_CHECK(): after a launch, cudaGetLastError(); with
 * GRIFFIN_CUDA_SYNC=1 also synchronise so asynchronous faults are reported
 * at the launch that caused them.
 */
#ifndef GRIFFIN_CUDA_COMMON_CUH
#define GRIFFIN_CUDA_COMMON_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define CUDA_CHECK(call)                                                                \
    do {                                                                                \
        cudaError_t e_ = (call);                                                        \
        if (e_ != cudaSuccess) {                                                        \
            util_error("%s:%d: %s failed: %s (%s)", __FILE__, __LINE__, #call,          \
                       cudaGetErrorString(e_), cudaGetErrorName(e_));                   \
            return -1;                                                                  \
        }                                                                               \
    } while (0)

#define CUDA_CHECK_NULL(call)                                                           \
    do {                                                                                \
        cudaError_t e_ = (call);                                                        \
        if (e_ != cudaSuccess) {                                                        \
            util_error("%s:%d: %s failed: %s (%s)", __FILE__, __LINE__, #call,          \
                       cudaGetErrorString(e_), cudaGetErrorName(e_));                   \
            return NULL;                                                                \
        }                                                                               \
    } while (0)

#define CUBLAS_CHECK(call)                                                              \
    do {                                                                                \
        cublasStatus_t s_ = (call);                                                     \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                              \
            util_error("%s:%d: %s failed: %s", __FILE__, __LINE__, #call,               \
                       cublasGetStatusString(s_));                                      \
            return -1;                                                                  \
        }                                                                               \
    } while (0)

/* Propagate a failing int-returning helper (its message is already set). */
#define GPU_TRY(call)                                                                   \
    do {                                                                                \
        if ((call) != 0) return -1;                                                     \
    } while (0)

/* Defined in gpu_runtime.cu: 1 when GRIFFIN_CUDA_SYNC is set (and no
 * graph capture is in progress). */
extern "C" int gpu_debug_sync(void);

/* The process-wide stream (gpu.h gpu_stream()) as a cudaStream_t: every
 * launch is `k<<<grid, block, smem, gpu_s()>>>`, every async copy and
 * memset names it, the cuBLAS handle is bound to it. If the stream cannot
 * be created this returns the legacy stream (0) with util_last_error()
 * set; the launch then still runs (only capture needs the real stream),
 * and gpu_graph_begin refuses. Defined in gpu_runtime.cu. */
cudaStream_t gpu_s(void);

#define KERNEL_CHECK()                                                                  \
    do {                                                                                \
        CUDA_CHECK(cudaGetLastError());                                                 \
        if (gpu_debug_sync()) CUDA_CHECK(cudaStreamSynchronize(gpu_s()));               \
    } while (0)

/* Blocks for n elements at `threads` per block, capped for grid-stride loops. */
static inline unsigned gpu_blocks(size_t n, int threads) {
    size_t b = (n + (size_t)threads - 1) / (size_t)threads;
    if (b < 1) b = 1;
    if (b > 65535u * 16u) b = 65535u * 16u;
    return (unsigned)b;
}

#define GRID_STRIDE(i, n)                                                               \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)(n);     \
         i += (size_t)gridDim.x * blockDim.x)

/* The process-wide cuBLAS handle (created on first use); NULL on failure
 * with util_last_error() set. Defined in gpu_gemm.cu. */
cublasHandle_t gpu_cublas(void);

/* Numerics shared by the scan kernels (same formulas as scan.c's _ref). */
__device__ __forceinline__ float gpu_sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }
__device__ __forceinline__ float gpu_softplusf(float v) {
    return v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v));
}

/* Deterministic parameter-gradient sums (defined in gpu_ops.cu): a kernel
 * writes one partial per (part, column) into gpu_part_buf() (no float
 * atomics), then gpu_part_reduce adds dst[i] += part[0][i] + part[1][i] +
 * ... in ascending part order: the same bits on every run. The scratch is
 * grown on demand (not while capturing a graph) and serves one reduction
 * at a time (stream order keeps consecutive users apart). */
float *gpu_part_buf(size_t n);
int gpu_part_reduce(float *dst, const float *part, size_t nparts, size_t n);

/* Shared by gpu_attention.cu and gpu_attention_bwd.cu (defined in the
 * former): lo(t) = first visible key of query t (B,T) into a scratch grown
 * on demand (nondecreasing in t: max of the document start and t - window);
 * the shape check of every prefill attention entry point. */
int gpu_attn_lo(int **lo, const int32_t *pos, int B, int T, int window);
int gpu_attn_check(const char *who, int B, int T, int H, int dh);
/* The backward variants (gpu_attention_bwd.cu), bound in gpu_attn_variants. */
int gpu_attn_bwd_naive(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                       const float *q, const float *k, const float *v, const int32_t *pos, int B, int T, int H,
                       int dh, int window);
int gpu_attn_bwd_banded(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                        const float *q, const float *k, const float *v, const int32_t *pos, int B, int T, int H,
                        int dh, int window);
int gpu_attn_bwd_tiled(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                       const float *q, const float *k, const float *v, const int32_t *pos, int B, int T, int H,
                       int dh, int window);

/* A warp's online softmax over keys, one key at a time: the row-per-warp
 * loop of the banded prefill attention (gpu_attention.cu) and of the
 * split-K decode attention (gpu_decode.cu). Each lane holds MAXD of the
 * head dims (d = lane + 32 i < dh) of the scaled query qv and of the
 * unnormalised accumulator acc; every lane holds the running max m and sum
 * l (start: m = -inf, l = 0, acc = 0). gpu_online_softmax_init loads the
 * query row q (dh floats) times scale and clears acc;
 * gpu_online_softmax_key adds key row kr / value row vr: s = q.k reduced
 * over the warp, m' = max(m, s), l = l e^(m-m') + e^(s-m'), acc = acc
 * e^(m-m') + e^(s-m') v, m = m'. All 32 lanes must call it. */
template <int MAXD>
__device__ __forceinline__ void gpu_online_softmax_init(float (&qv)[MAXD], float (&acc)[MAXD], const float *__restrict__ q,
                                                        float scale, int lane, int dh) {
#pragma unroll
    for (int i = 0; i < MAXD; i++) {
        int d = lane + 32 * i;
        qv[i] = d < dh ? q[d] * scale : 0.0f;
        acc[i] = 0.0f;
    }
}

template <int MAXD>
__device__ __forceinline__ void gpu_online_softmax_key(float (&acc)[MAXD], float &m, float &l, const float (&qv)[MAXD],
                                                       const float *__restrict__ kr, const float *__restrict__ vr,
                                                       int lane, int dh) {
    float part = 0.0f;
#pragma unroll
    for (int i = 0; i < MAXD; i++) {
        int d = lane + 32 * i;
        if (d < dh) part += qv[i] * __ldg(kr + d);
    }
    for (int o = 16; o > 0; o >>= 1) part += __shfl_xor_sync(0xffffffffu, part, o);
    float mn = fmaxf(m, part);
    float corr = expf(m - mn), p = expf(part - mn);
    l = l * corr + p;
#pragma unroll
    for (int i = 0; i < MAXD; i++) {
        int d = lane + 32 * i;
        if (d < dh) acc[i] = acc[i] * corr + p * __ldg(vr + d);
    }
    m = mn;
}

#define GPU_SQRT_Z_MIN (1.0f / (4.0f * 1000.0f * 1000.0f)) /* bounded sqrt' (spec §2.2) */
#define GPU_ATTN_MASK (-2.3819763e38f)

#endif
