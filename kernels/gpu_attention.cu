/* gpu_attention.cu — multi-query attention on the device, prefill forward
 * variants and the variant table (gpu.h; attention.h semantics).
 *
 * Visibility (Griffin spec §3): key s is visible to query t iff
 * lo(t) <= s <= t, lo(t) = max(docstart(t), t - window) (window < 0: no
 * window term); docstart(t) = last index <= t with pos == 0 (0 if none).
 * lo is computed once per call by k_lo (a block per sequence, max-scan).
 * Rows: with one shared K/V head, q for sequence b is a (T*H, dh) matrix
 * whose row r is query t = r / H, head h = r % H.
 *
 *   naive   a block per row: the full masked score row over all T keys in
 *           shared memory (T <= 12000), max, exp, sum, then P.V — the
 *           device oracle (mirrors the CPU "ref").
 *   banded  a warp per row over exactly its keys [lo(t), t] with an online
 *           softmax; lanes split the head dims; consecutive warps are the
 *           heads of one query, so they share K/V through L1. Linear in T
 *           for local attention.
 *   tiled   FlashAttention-style: a block holds a tile of rows (all heads of
 *           consecutive queries) and streams key/value tiles through shared
 *           memory with an online softmax (running max, sum, rescaled
 *           accumulator); only key tiles in [lo(first query), last query]
 *           are visited, so local attention costs O(T W). Head dims up to 256.
 * Decode lives in gpu_decode.cu, the backward in gpu_attention_bwd.cu.
 * Tests: tests/test_gpu.c (every variant vs the CPU ref, T < W and T > W,
 * resets).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cuda_common.cuh"
#include "gpu.h"

/* ---- lo(t) ------------------------------------------------------------------------ */

#define LO_THREADS 1024

__global__ void k_lo(int *lo, const int32_t *pos, int T, int window) {
    __shared__ int scan[LO_THREADS];
    const int b = blockIdx.x, tid = threadIdx.x;
    const int per = (T + LO_THREADS - 1) / LO_THREADS;
    const int t0 = tid * per, t1 = min(T, t0 + per);
    const int32_t *pb = pos ? pos + (size_t)b * T : NULL;
    int last = 0;
    for (int t = t0; t < t1; t++)
        if (pb && pb[t] == 0) last = t;
    scan[tid] = last;
    __syncthreads();
    for (int d = 1; d < LO_THREADS; d <<= 1) { /* inclusive max-scan */
        int v = tid >= d ? scan[tid - d] : 0;
        __syncthreads();
        scan[tid] = max(scan[tid], v);
        __syncthreads();
    }
    int ds = tid > 0 ? scan[tid - 1] : 0;
    for (int t = t0; t < t1; t++) {
        if (pb && pb[t] == 0) ds = t;
        lo[(size_t)b * T + t] = (window >= 0 && t - window > ds) ? t - window : ds;
    }
}

static int *g_lo = NULL;
static size_t g_lo_n = 0;

/* lo (B,T) into a scratch buffer grown on demand; 0 or -1. (Also used by
 * the backward, gpu_attention_bwd.cu.) */
int gpu_attn_lo(int **out, const int32_t *pos, int B, int T, int window) {
    size_t n = (size_t)B * T;
    if (n > g_lo_n) {
        gpu_free(g_lo);
        g_lo = (int *)gpu_alloc(n * sizeof(int));
        g_lo_n = g_lo ? n : 0;
        if (!g_lo) return -1;
    }
    k_lo<<<(unsigned)B, LO_THREADS, 0, gpu_s()>>>(g_lo, pos, T, window);
    KERNEL_CHECK();
    *out = g_lo;
    return 0;
}

int gpu_attn_check(const char *who, int B, int T, int H, int dh) {
    if (B <= 0 || T <= 0 || H <= 0 || dh <= 0) {
        util_error("%s: bad shape B=%d T=%d H=%d dh=%d", who, B, T, H, dh);
        return -1;
    }
    if (dh > 256) {
        util_error("%s: head dim %d > 256 is not supported", who, dh);
        return -1;
    }
    return 0;
}

/* ---- naive ----------------------------------------------------------------------------- */

#define NAIVE_THREADS 256
#define NAIVE_MAX_T 12000

__global__ void k_attn_naive(float *out, float *lse, const float *__restrict__ q, const float *__restrict__ k,
                             const float *__restrict__ v, const int *__restrict__ lo, int T, int H, int dh,
                             float scale) {
    extern __shared__ float srow[];
    const size_t row = blockIdx.x; /* over B*T*H */
    const int h = (int)(row % H);
    const size_t bt = row / H;
    const int t = (int)(bt % T), b = (int)(bt / T);
    const float *qr = q + row * dh;
    const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
    const int l0 = lo[bt];
    __shared__ float red[NAIVE_THREADS / 32];
    __shared__ float mx, sm;
    float m = -INFINITY;
    for (int s = threadIdx.x; s < T; s += blockDim.x) {
        float sc = GPU_ATTN_MASK;
        if (s >= l0 && s <= t) {
            float acc = 0.0f;
            for (int d = 0; d < dh; d++) acc += qr[d] * kb[(size_t)s * dh + d];
            sc = acc * scale;
        }
        srow[s] = sc;
        m = fmaxf(m, sc);
    }
    for (int d = 16; d > 0; d >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, d));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
    __syncthreads();
    if (threadIdx.x == 0) {
        float mm = red[0];
        for (int w = 1; w < (int)(blockDim.x >> 5); w++) mm = fmaxf(mm, red[w]);
        mx = mm;
    }
    __syncthreads();
    m = mx;
    float s_ = 0.0f;
    for (int s = threadIdx.x; s < T; s += blockDim.x) {
        float p = expf(srow[s] - m); /* masked: exp(-2.4e38 - m) = 0 */
        srow[s] = p;
        s_ += p;
    }
    for (int d = 16; d > 0; d >>= 1) s_ += __shfl_xor_sync(0xffffffffu, s_, d);
    __syncthreads();
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = s_;
    __syncthreads();
    if (threadIdx.x == 0) {
        float ss = 0.0f;
        for (int w = 0; w < (int)(blockDim.x >> 5); w++) ss += red[w];
        sm = ss;
    }
    __syncthreads();
    float sum = sm;
    for (int d = threadIdx.x; d < dh; d += blockDim.x) {
        float acc = 0.0f;
        for (int s = l0; s <= t; s++) acc += srow[s] * vb[(size_t)s * dh + d];
        out[row * dh + d] = acc / sum;
    }
    if (lse && threadIdx.x == 0) lse[((size_t)b * H + h) * T + t] = m + logf(sum);
}

static int attn_naive(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *pos,
                      int B, int T, int H, int dh, int window) {
    GPU_TRY(gpu_attn_check("attn naive", B, T, H, dh));
    if (T > NAIVE_MAX_T) {
        util_error("attn naive: T = %d > %d (the score row lives in shared memory)", T, NAIVE_MAX_T);
        return -1;
    }
    int *lo = NULL;
    GPU_TRY(gpu_attn_lo(&lo, pos, B, T, window));
    size_t rows = (size_t)B * T * H;
    if (rows > 2147483647u) {
        util_error("attn naive: too many rows");
        return -1;
    }
    k_attn_naive<<<(unsigned)rows, NAIVE_THREADS, (size_t)T * sizeof(float), gpu_s()>>>(out, lse, q, k, v, lo, T, H, dh,
                                                                             1.0f / sqrtf((float)dh));
    KERNEL_CHECK();
    return 0;
}

/* ---- banded ------------------------------------------------------------------------------ */

#define BAND_WARPS 4
#define MAXD_LANE 8 /* head dims per lane: dh <= 256 */

__global__ void __launch_bounds__(BAND_WARPS * 32)
k_attn_banded(float *out, float *lse, const float *__restrict__ q, const float *__restrict__ k,
              const float *__restrict__ v, const int *__restrict__ lo, int B, int T, int H, int dh, float scale) {
    const int lane = threadIdx.x & 31;
    const size_t row = (size_t)blockIdx.x * BAND_WARPS + (threadIdx.x >> 5);
    if (row >= (size_t)B * T * H) return;
    const int h = (int)(row % H);
    const size_t bt = row / H;
    const int t = (int)(bt % T), b = (int)(bt / T);
    const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
    float qv[MAXD_LANE], acc[MAXD_LANE];
    gpu_online_softmax_init(qv, acc, q + row * dh, scale, lane, dh);
    float m = -INFINITY, l = 0.0f;
    for (int s = lo[bt]; s <= t; s++)
        gpu_online_softmax_key(acc, m, l, qv, kb + (size_t)s * dh, vb + (size_t)s * dh, lane, dh);
#pragma unroll
    for (int i = 0; i < MAXD_LANE; i++) {
        int d = lane + 32 * i;
        if (d < dh) out[row * dh + d] = acc[i] / l;
    }
    if (lse && lane == 0) lse[((size_t)b * H + h) * T + t] = m + logf(l);
}

static int attn_banded(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *pos,
                       int B, int T, int H, int dh, int window) {
    GPU_TRY(gpu_attn_check("attn banded", B, T, H, dh));
    int *lo = NULL;
    GPU_TRY(gpu_attn_lo(&lo, pos, B, T, window));
    size_t rows = (size_t)B * T * H, blocks = (rows + BAND_WARPS - 1) / BAND_WARPS;
    if (blocks > 2147483647u) {
        util_error("attn banded: too many rows");
        return -1;
    }
    k_attn_banded<<<(unsigned)blocks, BAND_WARPS * 32, 0, gpu_s()>>>(out, lse, q, k, v, lo, B, T, H, dh, 1.0f / sqrtf((float)dh));
    KERNEL_CHECK();
    return 0;
}

/* ---- tiled ------------------------------------------------------------------------------------ */

#define TILE_THREADS 256

/* DH: head dims padded to this (runtime dh <= DH, pads are zero);
 * BR rows per block, BK keys per tile, TPR = threads per row. */
template <int DH, int BR, int BK>
__global__ void __launch_bounds__(TILE_THREADS)
k_attn_tiled(float *out, float *lse, const float *__restrict__ q, const float *__restrict__ k,
             const float *__restrict__ v, const int *__restrict__ lo, int T, int H, int dh, float scale) {
    constexpr int TPR = TILE_THREADS / BR;  /* threads per row */
    constexpr int CPT = BK / TPR;           /* score columns per thread */
    constexpr int DPT = DH / TPR;           /* output dims per thread */
    static_assert(TILE_THREADS % BR == 0 && BK % TPR == 0 && DH % TPR == 0, "tile shape");
    extern __shared__ float smem[];
    float *sQ = smem;                     /* BR x (DH+1) */
    float *sK = sQ + BR * (DH + 1);       /* BK x (DH+1) */
    float *sV = sK + BK * (DH + 1);       /* BK x DH */
    float *sP = sV + BK * DH;             /* BR x (BK+1) */

    const int b = blockIdx.y;
    const int TH = T * H;
    const int r0 = blockIdx.x * BR;
    const int tid = threadIdx.x, myr = tid / TPR, part = tid % TPR;
    const float *qb = q + (size_t)b * TH * dh;
    const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
    const int *lob = lo + (size_t)b * T;

    /* this thread's row */
    const int rr = min(r0 + myr, TH - 1);
    const int t_row = rr / H, lo_row = lob[t_row];
    const int t_first = r0 / H, t_last = min(r0 + BR - 1, TH - 1) / H;
    const int kmin = lob[t_first], kmax = t_last;

    for (int i = tid; i < BR * DH; i += TILE_THREADS) {
        int r = i / DH, d = i % DH, gr = r0 + r;
        sQ[r * (DH + 1) + d] = (gr < TH && d < dh) ? qb[(size_t)gr * dh + d] * scale : 0.0f;
    }
    float o[DPT];
#pragma unroll
    for (int j = 0; j < DPT; j++) o[j] = 0.0f;
    float m = -INFINITY, l = 0.0f;

    for (int k0 = kmin; k0 <= kmax; k0 += BK) {
        __syncthreads(); /* previous tile's sK/sV/sP fully used (and sQ written) */
        for (int i = tid; i < BK * DH; i += TILE_THREADS) {
            int c = i / DH, d = i % DH, s = k0 + c;
            bool ok = s <= kmax && d < dh;
            sK[c * (DH + 1) + d] = ok ? kb[(size_t)s * dh + d] : 0.0f;
            sV[c * DH + d] = ok ? vb[(size_t)s * dh + d] : 0.0f;
        }
        __syncthreads();
        /* scores of my row for columns part + TPR*j */
        float sc[CPT];
#pragma unroll
        for (int j = 0; j < CPT; j++) sc[j] = 0.0f;
        const float *qrow = sQ + myr * (DH + 1);
        for (int d = 0; d < DH; d++) {
            float qd = qrow[d];
#pragma unroll
            for (int j = 0; j < CPT; j++) sc[j] += qd * sK[(part + TPR * j) * (DH + 1) + d];
        }
        float tmax = -INFINITY;
#pragma unroll
        for (int j = 0; j < CPT; j++) {
            int s = k0 + part + TPR * j;
            bool vis = s >= lo_row && s <= t_row;
            sc[j] = vis ? sc[j] : -INFINITY;
            tmax = fmaxf(tmax, sc[j]);
        }
#pragma unroll
        for (int o2 = 1; o2 < TPR; o2 <<= 1) tmax = fmaxf(tmax, __shfl_xor_sync(0xffffffffu, tmax, o2));
        float mn = fmaxf(m, tmax);
        float corr = (mn == -INFINITY) ? 1.0f : expf(m - mn);
        float psum = 0.0f;
#pragma unroll
        for (int j = 0; j < CPT; j++) {
            float p = (sc[j] == -INFINITY) ? 0.0f : expf(sc[j] - mn);
            sP[myr * (BK + 1) + part + TPR * j] = p;
            psum += p;
        }
#pragma unroll
        for (int o2 = 1; o2 < TPR; o2 <<= 1) psum += __shfl_xor_sync(0xffffffffu, psum, o2);
        l = l * corr + psum;
        m = mn;
#pragma unroll
        for (int j = 0; j < DPT; j++) o[j] *= corr;
        __syncwarp(); /* the TPR threads of a row are in one warp: their sP writes are visible */
        const float *prow = sP + myr * (BK + 1);
        for (int c = 0; c < BK; c++) {
            float p = prow[c];
#pragma unroll
            for (int j = 0; j < DPT; j++) o[j] += p * sV[c * DH + part + TPR * j];
        }
    }
    const int gr = r0 + myr;
    if (gr < TH) {
        float inv = 1.0f / l;
#pragma unroll
        for (int j = 0; j < DPT; j++) {
            int d = part + TPR * j;
            if (d < dh) out[((size_t)b * TH + gr) * dh + d] = o[j] * inv;
        }
        if (lse && part == 0) lse[((size_t)b * H + gr % H) * T + gr / H] = m + logf(l);
    }
}

template <int DH, int BR, int BK>
static int launch_tiled(float *out, float *lse, const float *q, const float *k, const float *v, const int *lo, int B,
                        int T, int H, int dh) {
    size_t smem = sizeof(float) * ((size_t)BR * (DH + 1) + (size_t)BK * (DH + 1) + (size_t)BK * DH +
                                   (size_t)BR * (BK + 1));
    static int configured = 0;
    if (!configured) {
        CUDA_CHECK(cudaFuncSetAttribute(k_attn_tiled<DH, BR, BK>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        (int)smem));
        configured = 1;
    }
    size_t nb = ((size_t)T * H + BR - 1) / BR;
    if (nb > 2147483647u || B > 65535) {
        util_error("attn tiled: shape too large (B=%d T=%d H=%d)", B, T, H);
        return -1;
    }
    k_attn_tiled<DH, BR, BK><<<dim3((unsigned)nb, (unsigned)B), TILE_THREADS, smem, gpu_s()>>>(out, lse, q, k, v, lo, T, H, dh,
                                                                                     1.0f / sqrtf((float)dh));
    KERNEL_CHECK();
    return 0;
}

static int attn_tiled(float *out, float *lse, const float *q, const float *k, const float *v, const int32_t *pos,
                      int B, int T, int H, int dh, int window) {
    GPU_TRY(gpu_attn_check("attn tiled", B, T, H, dh));
    if ((size_t)T * H > 2147483647u / 2) {
        util_error("attn tiled: T*H too large");
        return -1;
    }
    int *lo = NULL;
    GPU_TRY(gpu_attn_lo(&lo, pos, B, T, window));
    if (dh <= 32) return launch_tiled<32, 64, 64>(out, lse, q, k, v, lo, B, T, H, dh);
    if (dh <= 64) return launch_tiled<64, 64, 64>(out, lse, q, k, v, lo, B, T, H, dh);
    if (dh <= 128) return launch_tiled<128, 64, 64>(out, lse, q, k, v, lo, B, T, H, dh);
    return launch_tiled<256, 32, 32>(out, lse, q, k, v, lo, B, T, H, dh);
}

/* ---- the variant table --------------------------------------------------------------------------- */

extern "C" const gpu_attn_variant gpu_attn_variants[] = {
    {"naive", attn_naive, gpu_attn_bwd_naive,
     "a block per query row over all T keys (full masked row in shared memory); backward: a warp per query row "
     "(dq) and a block per key over every later row (dk, dv)"},
    {"banded", attn_banded, gpu_attn_bwd_banded,
     "a warp per query row over exactly its visible keys, online softmax; backward: as naive, per-key loops "
     "stop at the band's end"},
    {"tiled", attn_tiled, gpu_attn_bwd_tiled,
     "row x key tiles in shared memory, online softmax, visible tiles only; backward: FlashAttention-2 style "
     "key-tile (dk, dv) and row-tile (dq) passes"},
    {NULL, NULL, NULL, NULL},
};

extern "C" const gpu_attn_variant *gpu_attn_find(const char *name) {
    if (!name) return NULL;
    for (const gpu_attn_variant *v = gpu_attn_variants; v->name; v++)
        if (strcmp(v->name, name) == 0) return v;
    return NULL;
}
