/* gpu_attention_bwd.cu — the backward of multi-query attention on the
 * device (attn_bwd_fn semantics of attention.h: dq (B,T,H,dh), dk, dv
 * (B,T,dh) written (=); gpu.h).
 *
 * With scores s_rs = scale q_r . k_s, P_rs = exp(s_rs - lse_r) over the
 * visible keys (lo(t) <= s <= t, lo from gpu_attn_lo: nondecreasing in t)
 * and D_r = dout_r . out_r:
 *   dP_rs = dout_r . v_s,  dS_rs = P_rs (dP_rs - D_r),
 *   dq_r = scale sum_s dS_rs k_s,  dk_s = scale sum_r dS_rs q_r,
 *   dv_s = sum_r P_rs dout_r.
 * Rows r = (t, h) as in the forward (q of sequence b is (T*H, dh)).
 *
 *   naive   D by a warp per row; dq by a warp per query row over its
 *           visible keys; dk, dv by a block per key, its warps striding
 *           over every later row (t, h) and skipping the rows that do not
 *           see the key; merged through shared memory. No tiling, no
 *           ordering assumptions: the device oracle.
 *   banded  the same kernels, but the per-key loop stops at the first
 *           query whose lo passes the key (valid because lo is
 *           nondecreasing): O(T W) for local attention.
 *   tiled   FlashAttention-2 style, no atomics: a block per key tile holds
 *           K, V and its dk, dv accumulators and streams the row tiles
 *           that can see the tile (from row k0*H until the first row tile
 *           whose lo passes the tile); a block per row tile holds Q, dout
 *           and its dq accumulator and streams the key tiles in
 *           [lo(first row), last row]. Both recompute P and dS of a
 *           (row tile x key tile) block in shared memory (tile_ds).
 * Tests: tests/test_gpu.c (test_attention_backward: each variant vs the
 * CPU ref backward and tiled vs naive, odd B, T, H, dh, window, resets).
 */
#include <math.h>
#include <stdio.h>

#include "cuda_common.cuh"
#include "gpu.h"

#define AB_WARPS 4
#define AB_MAXD 8 /* head dims per lane: dh <= 256 */

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* One (query row, key) pair of a warp: p = exp(scale * (a . x) - L) and
 * ds = p * ((b . y) - D), where a, b are this lane's registers (element
 * lane + 32 i) and x, y rows of dh floats in memory; both dot products are
 * summed over the warp. The dq and the dk/dv kernels share it (a = q, b =
 * dout, x = k, y = v there; a = k, b = v, x = q, y = dout here). */
__device__ __forceinline__ void ab_p_ds(const float (&a)[AB_MAXD], const float *x, const float (&b)[AB_MAXD],
                                        const float *y, int lane, int dh, float scale, float L, float D, float *p,
                                        float *ds) {
    float sc = 0.0f, dp = 0.0f;
#pragma unroll
    for (int i = 0; i < AB_MAXD; i++) {
        int d = lane + 32 * i;
        if (d < dh) {
            sc += a[i] * x[d];
            dp += b[i] * y[d];
        }
    }
    sc = warp_sum(sc);
    dp = warp_sum(dp);
    *p = expf(sc * scale - L);
    *ds = *p * (dp - D);
}

/* ---- D = rowsum(dout * out) --------------------------------------------------------- */

__global__ void __launch_bounds__(AB_WARPS * 32)
k_attn_bwd_rowdot(float *Dd, const float *__restrict__ dout, const float *__restrict__ out, size_t rows, int dh) {
    const size_t row = (size_t)blockIdx.x * AB_WARPS + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int lane = threadIdx.x & 31;
    float s = 0.0f;
    for (int d = lane; d < dh; d += 32) s += dout[row * dh + d] * out[row * dh + d];
    s = warp_sum(s);
    if (lane == 0) Dd[row] = s;
}

static float *g_Dd = NULL;
static size_t g_Dd_n = 0;

/* D (B*T*H) into a scratch grown on demand. */
static int attn_bwd_rowdot(float **Dd, const float *dout, const float *out, int B, int T, int H, int dh) {
    size_t rows = (size_t)B * T * H;
    if (rows > g_Dd_n) {
        gpu_free(g_Dd);
        g_Dd = (float *)gpu_alloc(rows * sizeof(float));
        g_Dd_n = g_Dd ? rows : 0;
        if (!g_Dd) return -1;
    }
    size_t blocks = (rows + AB_WARPS - 1) / AB_WARPS;
    if (blocks > 2147483647u) {
        util_error("attn backward: too many rows");
        return -1;
    }
    k_attn_bwd_rowdot<<<(unsigned)blocks, AB_WARPS * 32, 0, gpu_s()>>>(g_Dd, dout, out, rows, dh);
    KERNEL_CHECK();
    *Dd = g_Dd;
    return 0;
}

/* ---- naive / banded --------------------------------------------------------------------- */

/* A warp per query row r: dq_r = scale sum_{s = lo(t)}^{t} dS_rs k_s. */
__global__ void __launch_bounds__(AB_WARPS * 32)
k_attn_bwd_dq_rows(float *dq, const float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,
                   const float *__restrict__ dout, const float *__restrict__ lse, const float *__restrict__ Dd,
                   const int *__restrict__ lo, int B, int T, int H, int dh, float scale) {
    const int lane = threadIdx.x & 31;
    const size_t row = (size_t)blockIdx.x * AB_WARPS + (threadIdx.x >> 5);
    if (row >= (size_t)B * T * H) return;
    const int h = (int)(row % H);
    const size_t bt = row / H;
    const int t = (int)(bt % T), b = (int)(bt / T);
    const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
    const float L = lse[((size_t)b * H + h) * T + t], D = Dd[row];
    float qv[AB_MAXD], gv[AB_MAXD], acc[AB_MAXD];
#pragma unroll
    for (int i = 0; i < AB_MAXD; i++) {
        int d = lane + 32 * i;
        qv[i] = d < dh ? q[row * dh + d] : 0.0f;
        gv[i] = d < dh ? dout[row * dh + d] : 0.0f;
        acc[i] = 0.0f;
    }
    for (int s = lo[bt]; s <= t; s++) {
        const float *kr = kb + (size_t)s * dh, *vr = vb + (size_t)s * dh;
        float p, ds;
        ab_p_ds(qv, kr, gv, vr, lane, dh, scale, L, D, &p, &ds);
#pragma unroll
        for (int i = 0; i < AB_MAXD; i++) {
            int d = lane + 32 * i;
            if (d < dh) acc[i] += ds * kr[d];
        }
    }
#pragma unroll
    for (int i = 0; i < AB_MAXD; i++) {
        int d = lane + 32 * i;
        if (d < dh) dq[row * dh + d] = scale * acc[i];
    }
}

/* A block per key (b, s): its warps stride over the rows (t, h), t >= s,
 * that see s. band = 0: every such row is examined (rows with lo(t) > s
 * skipped); band = 1: a warp stops at the first t with lo(t) > s. */
__global__ void __launch_bounds__(AB_WARPS * 32)
k_attn_bwd_dkdv_keys(float *dk, float *dv, const float *__restrict__ q, const float *__restrict__ k,
                     const float *__restrict__ v, const float *__restrict__ dout, const float *__restrict__ lse,
                     const float *__restrict__ Dd, const int *__restrict__ lo, int T, int H, int dh, float scale,
                     int band) {
    __shared__ float sdk[AB_WARPS][256], sdv[AB_WARPS][256];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const size_t bs = blockIdx.x; /* b * T + s */
    const int s = (int)(bs % T), b = (int)(bs / T);
    const int *lob = lo + (size_t)b * T;
    float kv[AB_MAXD], vv[AB_MAXD], adk[AB_MAXD], adv[AB_MAXD];
#pragma unroll
    for (int i = 0; i < AB_MAXD; i++) {
        int d = lane + 32 * i;
        kv[i] = d < dh ? k[bs * dh + d] : 0.0f;
        vv[i] = d < dh ? v[bs * dh + d] : 0.0f;
        adk[i] = adv[i] = 0.0f;
    }
    const long nrows = (long)(T - s) * H;
    for (long i = w; i < nrows; i += AB_WARPS) {
        const int t = s + (int)(i / H), h = (int)(i % H);
        if (lob[t] > s) {
            if (band) break; /* lo nondecreasing: no later row sees s either */
            continue;
        }
        const size_t row = ((size_t)b * T + t) * H + h;
        const float L = lse[((size_t)b * H + h) * T + t], D = Dd[row];
        float p, ds;
        ab_p_ds(kv, q + row * dh, vv, dout + row * dh, lane, dh, scale, L, D, &p, &ds);
#pragma unroll
        for (int j = 0; j < AB_MAXD; j++) {
            int d = lane + 32 * j;
            if (d < dh) {
                adv[j] += p * dout[row * dh + d];
                adk[j] += ds * q[row * dh + d];
            }
        }
    }
#pragma unroll
    for (int j = 0; j < AB_MAXD; j++) {
        int d = lane + 32 * j;
        if (d < dh) {
            sdk[w][d] = adk[j];
            sdv[w][d] = adv[j];
        }
    }
    __syncthreads();
    for (int d = threadIdx.x; d < dh; d += blockDim.x) {
        float a = 0.0f, c = 0.0f;
        for (int i = 0; i < AB_WARPS; i++) {
            a += sdk[i][d];
            c += sdv[i][d];
        }
        dk[bs * dh + d] = scale * a;
        dv[bs * dh + d] = c;
    }
}

static int attn_bwd_rows(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                         const float *q, const float *k, const float *v, const int32_t *pos, int B, int T, int H,
                         int dh, int window, int band) {
    const char *who = band ? "attn banded backward" : "attn naive backward";
    GPU_TRY(gpu_attn_check(who, B, T, H, dh));
    if (!lse) {
        util_error("%s: lse is required (save it in the forward)", who);
        return -1;
    }
    size_t rows = (size_t)B * T * H, blocks = (rows + AB_WARPS - 1) / AB_WARPS;
    if (blocks > 2147483647u || (size_t)B * T > 2147483647u) {
        util_error("%s: too many rows", who);
        return -1;
    }
    int *lo = NULL;
    float *Dd = NULL;
    GPU_TRY(gpu_attn_lo(&lo, pos, B, T, window));
    GPU_TRY(attn_bwd_rowdot(&Dd, dout, out, B, T, H, dh));
    const float scale = 1.0f / sqrtf((float)dh);
    k_attn_bwd_dq_rows<<<(unsigned)blocks, AB_WARPS * 32, 0, gpu_s()>>>(dq, q, k, v, dout, lse, Dd, lo, B, T, H, dh,
                                                                      scale);
    KERNEL_CHECK();
    k_attn_bwd_dkdv_keys<<<(unsigned)((size_t)B * T), AB_WARPS * 32, 0, gpu_s()>>>(dk, dv, q, k, v, dout, lse, Dd,
                                                                                 lo, T, H, dh, scale, band);
    KERNEL_CHECK();
    return 0;
}

int gpu_attn_bwd_naive(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                          const float *q, const float *k, const float *v, const int32_t *pos, int B, int T, int H,
                          int dh, int window) {
    return attn_bwd_rows(dq, dk, dv, dout, out, lse, q, k, v, pos, B, T, H, dh, window, 0);
}

int gpu_attn_bwd_banded(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                           const float *q, const float *k, const float *v, const int32_t *pos, int B, int T, int H,
                           int dh, int window) {
    return attn_bwd_rows(dq, dk, dv, dout, out, lse, q, k, v, pos, B, T, H, dh, window, 1);
}

/* ---- tiled -------------------------------------------------------------------------------- */

#define BT_THREADS 256

/* Shared-memory row tile: Q and dout rows [r0, r0+BR) (zero-padded to DH
 * and past the end), and per row its query t (-1 past the end), lo(t),
 * lse and D. */
template <int DH, int BR>
__device__ void load_rows(float *sQ, float *sdO, float *sLse, float *sDd, int *sT, int *sLo,
                          const float *__restrict__ qb, const float *__restrict__ dob,
                          const float *__restrict__ lseb, const float *__restrict__ Ddb,
                          const int *__restrict__ lob, int r0, int TH, int T, int H, int dh) {
    for (int i = threadIdx.x; i < BR * DH; i += BT_THREADS) {
        int r = i / DH, d = i % DH, gr = r0 + r;
        bool ok = gr < TH && d < dh;
        sQ[r * (DH + 1) + d] = ok ? qb[(size_t)gr * dh + d] : 0.0f;
        sdO[r * (DH + 1) + d] = ok ? dob[(size_t)gr * dh + d] : 0.0f;
    }
    for (int r = threadIdx.x; r < BR; r += BT_THREADS) {
        int gr = r0 + r;
        if (gr < TH) {
            int t = gr / H, h = gr % H;
            sT[r] = t;
            sLo[r] = lob[t];
            sLse[r] = lseb[(size_t)h * T + t];
            sDd[r] = Ddb[gr];
        } else {
            sT[r] = -1;
            sLo[r] = 0;
            sLse[r] = 0.0f;
            sDd[r] = 0.0f;
        }
    }
}

/* Shared-memory key tile: K, V of keys [k0, kend) (zero past kend). */
template <int DH, int BK>
__device__ void load_keys(float *sK, float *sV, const float *__restrict__ kb, const float *__restrict__ vb, int k0,
                          int kend, int dh) {
    for (int i = threadIdx.x; i < BK * DH; i += BT_THREADS) {
        int c = i / DH, d = i % DH, s = k0 + c;
        bool ok = s < kend && d < dh;
        sK[c * (DH + 1) + d] = ok ? kb[(size_t)s * dh + d] : 0.0f;
        sV[c * (DH + 1) + d] = ok ? vb[(size_t)s * dh + d] : 0.0f;
    }
}

/* P (if sP) and dS of the row tile x key tile; 0 where key k0 + c is not
 * visible to row r (or either is past its end). */
template <int DH, int BR, int BK>
__device__ void tile_ds(float *sP, float *sdS, const float *sQ, const float *sdO, const float *sK, const float *sV,
                        const float *sLse, const float *sDd, const int *sT, const int *sLo, int k0, int kend,
                        float scale) {
    for (int e = threadIdx.x; e < BR * BK; e += BT_THREADS) {
        int r = e / BK, c = e % BK, s = k0 + c, t = sT[r];
        float p = 0.0f, ds = 0.0f;
        if (t >= 0 && s < kend && s <= t && s >= sLo[r]) {
            float sc = 0.0f, dp = 0.0f;
            const float *qr = sQ + r * (DH + 1), *gr = sdO + r * (DH + 1);
            const float *kr = sK + c * (DH + 1), *vr = sV + c * (DH + 1);
#pragma unroll 8
            for (int d = 0; d < DH; d++) {
                sc += qr[d] * kr[d];
                dp += gr[d] * vr[d];
            }
            p = expf(sc * scale - sLse[r]);
            ds = p * (dp - sDd[r]);
        }
        if (sP) sP[r * (BK + 1) + c] = p;
        sdS[r * (BK + 1) + c] = ds;
    }
}

template <int DH, int BR, int BK>
constexpr size_t tiled_smem_floats() {
    return 2 * (size_t)BK * (DH + 1) + 2 * (size_t)BR * (DH + 1) + 2 * (size_t)BR * (BK + 1) + 4 * (size_t)BR;
}

/* grid (ceil(T / BK), B): dk, dv of key tile blockIdx.x. */
template <int DH, int BR, int BK>
__global__ void __launch_bounds__(BT_THREADS)
k_attn_bwd_dkdv_tiled(float *dk, float *dv, const float *__restrict__ q, const float *__restrict__ k,
                      const float *__restrict__ v, const float *__restrict__ dout, const float *__restrict__ lse,
                      const float *__restrict__ Dd, const int *__restrict__ lo, int T, int H, int dh, float scale) {
    constexpr int TPK = BT_THREADS / BK; /* threads per key */
    constexpr int DPT = DH / TPK;        /* dims per thread */
    static_assert(BT_THREADS % BK == 0 && DH % TPK == 0, "tile shape");
    extern __shared__ float smem[];
    float *sK = smem, *sV = sK + BK * (DH + 1);
    float *sQ = sV + BK * (DH + 1), *sdO = sQ + BR * (DH + 1);
    float *sP = sdO + BR * (DH + 1), *sdS = sP + BR * (BK + 1);
    float *sLse = sdS + BR * (BK + 1), *sDd = sLse + BR;
    int *sT = (int *)(sDd + BR), *sLo = sT + BR;

    const int b = blockIdx.y, TH = T * H;
    const int k0 = blockIdx.x * BK, kend = min(k0 + BK, T);
    const int myc = threadIdx.x / TPK, part = threadIdx.x % TPK;
    const float *qb = q + (size_t)b * TH * dh, *dob = dout + (size_t)b * TH * dh;
    const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
    const float *lseb = lse + (size_t)b * H * T, *Ddb = Dd + (size_t)b * TH;
    const int *lob = lo + (size_t)b * T;

    load_keys<DH, BK>(sK, sV, kb, vb, k0, kend, dh);
    float adk[DPT], adv[DPT];
#pragma unroll
    for (int j = 0; j < DPT; j++) adk[j] = adv[j] = 0.0f;
    /* rows before k0*H are queries t < k0: they see no key of the tile */
    for (int r0 = k0 * H; r0 < TH; r0 += BR) {
        if (lob[r0 / H] > kend - 1) break; /* lo nondecreasing: no later row tile sees the tile */
        __syncthreads(); /* the previous row tile is consumed (and the key tile is loaded) */
        load_rows<DH, BR>(sQ, sdO, sLse, sDd, sT, sLo, qb, dob, lseb, Ddb, lob, r0, TH, T, H, dh);
        __syncthreads();
        tile_ds<DH, BR, BK>(sP, sdS, sQ, sdO, sK, sV, sLse, sDd, sT, sLo, k0, kend, scale);
        __syncthreads();
        for (int r = 0; r < BR; r++) {
            const float p = sP[r * (BK + 1) + myc], ds = sdS[r * (BK + 1) + myc];
#pragma unroll
            for (int j = 0; j < DPT; j++) {
                int d = part + TPK * j;
                adv[j] += p * sdO[r * (DH + 1) + d];
                adk[j] += ds * sQ[r * (DH + 1) + d];
            }
        }
    }
    const int s = k0 + myc;
    if (s < T) {
#pragma unroll
        for (int j = 0; j < DPT; j++) {
            int d = part + TPK * j;
            if (d < dh) {
                dk[((size_t)b * T + s) * dh + d] = scale * adk[j];
                dv[((size_t)b * T + s) * dh + d] = adv[j];
            }
        }
    }
}

/* grid (ceil(T*H / BR), B): dq of row tile blockIdx.x. */
template <int DH, int BR, int BK>
__global__ void __launch_bounds__(BT_THREADS)
k_attn_bwd_dq_tiled(float *dq, const float *__restrict__ q, const float *__restrict__ k, const float *__restrict__ v,
                    const float *__restrict__ dout, const float *__restrict__ lse, const float *__restrict__ Dd,
                    const int *__restrict__ lo, int T, int H, int dh, float scale) {
    constexpr int TPR = BT_THREADS / BR; /* threads per row */
    constexpr int DPT = DH / TPR;
    static_assert(BT_THREADS % BR == 0 && DH % TPR == 0, "tile shape");
    extern __shared__ float smem[];
    float *sK = smem, *sV = sK + BK * (DH + 1);
    float *sQ = sV + BK * (DH + 1), *sdO = sQ + BR * (DH + 1);
    float *sdS = sdO + BR * (DH + 1); /* (the sP slot of the layout is unused here) */
    float *sLse = sdS + 2 * BR * (BK + 1), *sDd = sLse + BR;
    int *sT = (int *)(sDd + BR), *sLo = sT + BR;

    const int b = blockIdx.y, TH = T * H;
    const int r0 = blockIdx.x * BR;
    const int myr = threadIdx.x / TPR, part = threadIdx.x % TPR;
    const float *qb = q + (size_t)b * TH * dh, *dob = dout + (size_t)b * TH * dh;
    const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
    const float *lseb = lse + (size_t)b * H * T, *Ddb = Dd + (size_t)b * TH;
    const int *lob = lo + (size_t)b * T;

    load_rows<DH, BR>(sQ, sdO, sLse, sDd, sT, sLo, qb, dob, lseb, Ddb, lob, r0, TH, T, H, dh);
    const int t_first = r0 / H, t_last = min(r0 + BR - 1, TH - 1) / H;
    const int kmin = lob[t_first], kmax = t_last;
    float adq[DPT];
#pragma unroll
    for (int j = 0; j < DPT; j++) adq[j] = 0.0f;
    for (int k0 = kmin; k0 <= kmax; k0 += BK) {
        __syncthreads(); /* the previous key tile is consumed (and the row tile is loaded) */
        load_keys<DH, BK>(sK, sV, kb, vb, k0, min(k0 + BK, kmax + 1), dh);
        __syncthreads();
        tile_ds<DH, BR, BK>(NULL, sdS, sQ, sdO, sK, sV, sLse, sDd, sT, sLo, k0, min(k0 + BK, kmax + 1), scale);
        __syncthreads();
        const float *dsr = sdS + myr * (BK + 1);
        for (int c = 0; c < BK; c++) {
            const float ds = dsr[c];
#pragma unroll
            for (int j = 0; j < DPT; j++) adq[j] += ds * sK[c * (DH + 1) + part + TPR * j];
        }
    }
    const int gr = r0 + myr;
    if (gr < TH) {
#pragma unroll
        for (int j = 0; j < DPT; j++) {
            int d = part + TPR * j;
            if (d < dh) dq[((size_t)b * TH + gr) * dh + d] = scale * adq[j];
        }
    }
}

template <int DH, int BR, int BK>
static int launch_bwd_tiled(float *dq, float *dk, float *dv, const float *dout, const float *lse, const float *q,
                            const float *k, const float *v, const float *Dd, const int *lo, int B, int T, int H,
                            int dh) {
    const size_t smem = sizeof(float) * tiled_smem_floats<DH, BR, BK>();
    static int configured = 0;
    if (!configured) {
        CUDA_CHECK(cudaFuncSetAttribute(k_attn_bwd_dkdv_tiled<DH, BR, BK>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        CUDA_CHECK(cudaFuncSetAttribute(k_attn_bwd_dq_tiled<DH, BR, BK>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        (int)smem));
        configured = 1;
    }
    const size_t nkt = ((size_t)T + BK - 1) / BK, nrt = ((size_t)T * H + BR - 1) / BR;
    if (nrt > 2147483647u || B > 65535) {
        util_error("attn tiled backward: shape too large (B=%d T=%d H=%d)", B, T, H);
        return -1;
    }
    const float scale = 1.0f / sqrtf((float)dh);
    k_attn_bwd_dkdv_tiled<DH, BR, BK><<<dim3((unsigned)nkt, (unsigned)B), BT_THREADS, smem, gpu_s()>>>(
        dk, dv, q, k, v, dout, lse, Dd, lo, T, H, dh, scale);
    KERNEL_CHECK();
    k_attn_bwd_dq_tiled<DH, BR, BK><<<dim3((unsigned)nrt, (unsigned)B), BT_THREADS, smem, gpu_s()>>>(
        dq, q, k, v, dout, lse, Dd, lo, T, H, dh, scale);
    KERNEL_CHECK();
    return 0;
}

int gpu_attn_bwd_tiled(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                          const float *q, const float *k, const float *v, const int32_t *pos, int B, int T, int H,
                          int dh, int window) {
    GPU_TRY(gpu_attn_check("attn tiled backward", B, T, H, dh));
    if (!lse) {
        util_error("attn tiled backward: lse is required (save it in the forward)");
        return -1;
    }
    if ((size_t)T * H > 2147483647u / 2) {
        util_error("attn tiled backward: T*H too large");
        return -1;
    }
    int *lo = NULL;
    float *Dd = NULL;
    GPU_TRY(gpu_attn_lo(&lo, pos, B, T, window));
    GPU_TRY(attn_bwd_rowdot(&Dd, dout, out, B, T, H, dh));
    if (dh <= 32) return launch_bwd_tiled<32, 32, 64>(dq, dk, dv, dout, lse, q, k, v, Dd, lo, B, T, H, dh);
    if (dh <= 64) return launch_bwd_tiled<64, 32, 64>(dq, dk, dv, dout, lse, q, k, v, Dd, lo, B, T, H, dh);
    if (dh <= 128) return launch_bwd_tiled<128, 32, 64>(dq, dk, dv, dout, lse, q, k, v, Dd, lo, B, T, H, dh);
    return launch_bwd_tiled<256, 32, 32>(dq, dk, dv, dout, lse, q, k, v, Dd, lo, B, T, H, dh);
}
