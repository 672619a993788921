/* gpu_train.cu — the device pieces a training step needs besides the
 * layer backwards: the embedding gradient (scatter by token, deterministic),
 * bias gradients (column sums), the global gradient norm (a deterministic
 * sum of squares in double), scaling, and the AdamW update of one tensor
 * (gpu.h; the CPU twins are the embedding loop and colsum_acc of
 * models/train.c and adamw_step of models/optim.c).
 *
 * Bit-for-bit rules: the embedding gather and the column sums add in the
 * CPU's order (rows ascending) with separately rounded multiply and add
 * (__fmul_rn / __fadd_rn: nvcc would otherwise fuse them into an FMA, the
 * CPU build does not: -std=c11 means -ffp-contract=off), so they equal the
 * CPU result exactly. AdamW uses the same operations in the same order;
 * its gradient scale comes from a norm summed in another order (double
 * accumulation: equal to the CPU's clip factor except in the last bits of
 * a double), so a step agrees to fp32 rounding.
 * Tests: tests/test_gpu.c (test_train_pieces).
 */
#include <math.h>
#include <stdio.h>

#include <cub/device/device_radix_sort.cuh>

#include "cuda_common.cuh"
#include "gpu.h"

#define EW 256

/* ---- scale --------------------------------------------------------------------- */

__global__ void k_scale(float *x, size_t n, float s) {
    GRID_STRIDE(i, n) x[i] *= s;
}

extern "C" int gpu_scale(float *x, size_t n, float s) {
    if (!n) return 0;
    k_scale<<<gpu_blocks(n, EW), EW, 0, gpu_s()>>>(x, n, s);
    KERNEL_CHECK();
    return 0;
}

/* ---- embedding backward ------------------------------------------------------------ */

/* The oracle: a thread per (v, k) scans all N tokens in order. */
__global__ void k_embed_bwd_ref(float *dE, const float *__restrict__ dx, const int32_t *__restrict__ tok, int N,
                                int D, int V, float scale) {
    GRID_STRIDE(i, (size_t)V * D) {
        int v = (int)(i / D), k = (int)(i % D);
        float e = dE[i];
        for (int n = 0; n < N; n++)
            if (tok[n] == v) e = __fadd_rn(e, __fmul_rn(dx[(size_t)n * D + k], scale));
        dE[i] = e;
    }
}

extern "C" int gpu_embed_backward_ref(float *dE, const float *dx, const int32_t *tok, int N, int D, int V,
                                      float scale) {
    if (N <= 0 || D <= 0 || V <= 0) return 0;
    size_t n = (size_t)V * D;
    k_embed_bwd_ref<<<gpu_blocks(n, EW), EW, 0, gpu_s()>>>(dE, dx, tok, N, D, V, scale);
    KERNEL_CHECK();
    return 0;
}

__global__ void k_iota(uint32_t *p, int n) {
    GRID_STRIDE(i, (size_t)n) p[i] = (uint32_t)i;
}

/* A block per sorted position i; only the first position of each run of
 * equal tokens works: it adds the run's rows (ascending n, the sort is
 * stable) into its dE row. */
__global__ void k_embed_runs(float *dE, const float *__restrict__ dx, const uint32_t *__restrict__ skey,
                             const uint32_t *__restrict__ sval, int N, int D, int V, float scale) {
    const int i = blockIdx.x;
    const uint32_t v = skey[i];
    if ((i > 0 && skey[i - 1] == v) || v >= (uint32_t)V) return;
    int end = i + 1;
    while (end < N && skey[end] == v) end++;
    float *row = dE + (size_t)v * D;
    for (int k = threadIdx.x; k < D; k += blockDim.x) {
        float e = row[k];
        for (int j = i; j < end; j++) e = __fadd_rn(e, __fmul_rn(dx[(size_t)sval[j] * D + k], scale));
        row[k] = e;
    }
}

/* Scratch of the sort: keys/values out, values in, CUB's temporary storage. */
static uint32_t *g_sort = NULL; /* 3 * cap */
static size_t g_sort_cap = 0;
static void *g_cub_tmp = NULL;
static size_t g_cub_bytes = 0;

extern "C" int gpu_embed_backward(float *dE, const float *dx, const int32_t *tok, int N, int D, int V,
                                  float scale) {
    if (N <= 0 || D <= 0 || V <= 0) return 0;
    if ((size_t)N > g_sort_cap) {
        gpu_free(g_sort);
        g_sort = (uint32_t *)gpu_alloc((size_t)N * 3 * sizeof(uint32_t));
        g_sort_cap = g_sort ? (size_t)N : 0;
        if (!g_sort) return -1;
    }
    uint32_t *skey = g_sort, *sval = g_sort + N, *vin = g_sort + 2 * (size_t)N;
    size_t need = 0;
    /* valid tokens are non-negative: as unsigned keys they sort the same.
     * All 32 bits are sorted, so an invalid token (>= V, or negative:
     * huge unsigned) forms runs of its own, which k_embed_runs skips,
     * and never splits a valid token's run into two blocks. */
    const uint32_t *kin = (const uint32_t *)tok;
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(NULL, need, kin, skey, vin, sval, N, 0, 32, gpu_s()));
    if (need > g_cub_bytes) {
        gpu_free(g_cub_tmp);
        g_cub_tmp = gpu_alloc(need);
        g_cub_bytes = g_cub_tmp ? need : 0;
        if (!g_cub_tmp) return -1;
    }
    k_iota<<<gpu_blocks((size_t)N, EW), EW, 0, gpu_s()>>>(vin, N);
    KERNEL_CHECK();
    size_t have = g_cub_bytes;
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(g_cub_tmp, have, kin, skey, vin, sval, N, 0, 32, gpu_s()));
    KERNEL_CHECK();
    k_embed_runs<<<(unsigned)N, 128, 0, gpu_s()>>>(dE, dx, skey, sval, N, D, V, scale);
    KERNEL_CHECK();
    return 0;
}

/* ---- column sums (bias gradients) ---------------------------------------------------- */

__global__ void k_colsum_acc(float *db, const float *__restrict__ d, int N, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float e = db[c];
    for (int n = 0; n < N; n++) e = __fadd_rn(e, d[(size_t)n * C + c]);
    db[c] = e;
}

extern "C" int gpu_colsum_acc(float *db, const float *d, int N, int C) {
    if (N <= 0 || C <= 0) return 0;
    k_colsum_acc<<<(unsigned)((C + 127) / 128), 128, 0, gpu_s()>>>(db, d, N, C);
    KERNEL_CHECK();
    return 0;
}

/* ---- sum of squares ---------------------------------------------------------------------- */

#define SS_BLOCKS 256 /* fixed grid: the summation order does not depend on the device */
#define SS_THREADS 256

/* Block tree sum of one double per thread (blockDim.x == SS_THREADS). */
__device__ double block_sum_d(double v, double *sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = SS_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    return sh[0];
}

__global__ void __launch_bounds__(SS_THREADS) k_sumsq_part(double *part, const float *__restrict__ x, size_t n) {
    __shared__ double sh[SS_THREADS];
    double s = 0.0;
    for (size_t i = (size_t)blockIdx.x * SS_THREADS + threadIdx.x; i < n; i += (size_t)SS_BLOCKS * SS_THREADS)
        s += (double)x[i] * (double)x[i];
    s = block_sum_d(s, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

__global__ void __launch_bounds__(SS_THREADS) k_sumsq_final(double *acc, const double *__restrict__ part) {
    __shared__ double sh[SS_THREADS];
    double s = 0.0;
    for (int i = threadIdx.x; i < SS_BLOCKS; i += SS_THREADS) s += part[i];
    s = block_sum_d(s, sh);
    if (threadIdx.x == 0) *acc += s;
}

static double *g_ss_part = NULL;

extern "C" int gpu_sumsq(double *acc, const float *x, size_t n) {
    if (!n) return 0;
    if (!g_ss_part && !(g_ss_part = (double *)gpu_alloc(SS_BLOCKS * sizeof(double)))) return -1;
    k_sumsq_part<<<SS_BLOCKS, SS_THREADS, 0, gpu_s()>>>(g_ss_part, x, n);
    KERNEL_CHECK();
    k_sumsq_final<<<1, SS_THREADS, 0, gpu_s()>>>(acc, g_ss_part);
    KERNEL_CHECK();
    return 0;
}

extern "C" int gpu_sumsq_get(double *out, const double *acc) { return gpu_download(out, acc, sizeof(double)); }

/* ---- AdamW ----------------------------------------------------------------------------------- */

/* models/optim.c adamw_step, one tensor, operation for operation. */
__global__ void k_adamw(float *p, float *m, float *v, const float *__restrict__ g, const double *__restrict__ sumsq,
                        size_t n, double clip, float b1, float b2, float bc1, float bc2, float flr, float eps,
                        float dec) {
    const double norm = sqrt(*sumsq);
    const float gscale = (clip > 0 && norm > clip) ? (float)(clip / norm) : 1.0f;
    const float omb1 = __fsub_rn(1.0f, b1), omb2 = __fsub_rn(1.0f, b2);
    GRID_STRIDE(i, n) {
        float gi = __fmul_rn(g[i], gscale);
        float pi = p[i];
        pi = __fsub_rn(pi, __fmul_rn(dec, pi));
        float mi = __fadd_rn(__fmul_rn(b1, m[i]), __fmul_rn(omb1, gi));
        float vi = __fadd_rn(__fmul_rn(b2, v[i]), __fmul_rn(__fmul_rn(omb2, gi), gi));
        float mh = __fdiv_rn(mi, bc1), vh = __fdiv_rn(vi, bc2);
        pi = __fsub_rn(pi, __fdiv_rn(__fmul_rn(flr, mh), __fadd_rn(__fsqrt_rn(vh), eps)));
        m[i] = mi;
        v[i] = vi;
        p[i] = pi;
    }
}

extern "C" int gpu_adamw_step(float *p, float *m, float *v, const float *g, const double *sumsq, size_t n,
                              const gpu_adamw_args *a) {
    if (!a || !sumsq) {
        util_error("gpu_adamw_step: NULL %s", a ? "sumsq" : "args");
        return -1;
    }
    if (a->t < 1) {
        util_error("gpu_adamw_step: step number t = %lld (1-based, must be >= 1)", (long long)a->t);
        return -1;
    }
    if (!n) return 0;
    /* the CPU's host-side roundings (optim.c), verbatim */
    float b1 = (float)a->beta1, b2 = (float)a->beta2;
    float bc1 = (float)(1.0 - pow(a->beta1, (double)a->t)), bc2 = (float)(1.0 - pow(a->beta2, (double)a->t));
    float flr = (float)a->lr, eps = (float)a->eps, decay = (float)(a->lr * a->wd);
    float dec = a->decay ? decay : 0.0f;
    k_adamw<<<gpu_blocks(n, EW), EW, 0, gpu_s()>>>(p, m, v, g, sumsq, n, a->clip, b1, b2, bc1, bc2, flr, eps, dec);
    KERNEL_CHECK();
    return 0;
}
