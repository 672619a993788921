/* gpu_decode.cu — one decode step of multi-query attention on the device
 * (attn_decode semantics, gpu.h) and the device-side bookkeeping that lets
 * a step run without host copies (KV write at n[b], positions, advance).
 *
 * A row (b, h) attends to keys j = 0 .. n (n = nvalid[b] clamped to
 * [0, S]); j < n is cache slot j, j == n the new token (knew, vnew).
 * decode_range() is the one piece of math: a block's online softmax over
 * keys [j0, j1) of a row, each warp striding over the keys with its lanes
 * splitting the head dims, the warps merged through shared memory into
 * (max, sum, unnormalised accumulator).
 *   gpu_attn_decode_ref  a block per (b, h) over all n + 1 keys, normalised
 *                        in place (the one-block-per-row form).
 *   gpu_attn_decode      split-K: a block per (b, h, split) over
 *                        [split * L, (split + 1) * L) writes its partial
 *                        (m, l, acc) to a scratch, then a combine pass per
 *                        (b, h) merges the splits: out = sum_s acc_s e^(m_s
 *                        - M) / sum_s l_s e^(m_s - M), M = max_s m_s
 *                        (empty splits have m = -inf and are skipped). The
 *                        grid depends on S, not on nvalid (graph capture).
 * Tests: tests/test_gpu.c (test_attn_decode: both vs attn_decode_ref on odd
 * S and nvalid including 0 and S; split vs ref at forced split sizes;
 * the bookkeeping kernels vs their host definitions).
 */
#include <math.h>
#include <stdio.h>

#include "cuda_common.cuh"
#include "gpu.h"

#define DEC_WARPS 4
#define DEC_MAXD 8 /* head dims per lane: dh <= 256 */

/* Block-wide online softmax of row (b, h) over keys [j0, j1). On return
 * (after a __syncthreads) *bm, *bl and bacc[0..dh) (shared) hold the
 * block's max, sum and unnormalised accumulator; m = -inf, l = 0, acc = 0
 * for an empty range. Every thread of the block must call it. */
__device__ void decode_range(float *bm, float *bl, float *bacc, const float *__restrict__ qr,
                             const float *__restrict__ kc, const float *__restrict__ vc,
                             const float *__restrict__ knew, const float *__restrict__ vnew, int b, int n, int j0,
                             int j1, int dh, int S, float scale) {
    __shared__ float sm[DEC_WARPS], sl[DEC_WARPS];
    __shared__ float so[DEC_WARPS][256];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    float qv[DEC_MAXD], acc[DEC_MAXD];
    gpu_online_softmax_init(qv, acc, qr, scale, lane, dh);
    float m = -INFINITY, l = 0.0f;
    for (int j = j0 + w; j < j1; j += DEC_WARPS) {
        const float *kr = j < n ? kc + ((size_t)b * S + j) * dh : knew + (size_t)b * dh;
        const float *vr = j < n ? vc + ((size_t)b * S + j) * dh : vnew + (size_t)b * dh;
        gpu_online_softmax_key(acc, m, l, qv, kr, vr, lane, dh);
    }
    if (lane == 0) {
        sm[w] = m;
        sl[w] = l;
    }
#pragma unroll
    for (int i = 0; i < DEC_MAXD; i++) {
        int d = lane + 32 * i;
        if (d < dh) so[w][d] = acc[i];
    }
    __syncthreads();
    float M = -INFINITY;
    for (int i = 0; i < DEC_WARPS; i++) M = fmaxf(M, sm[i]);
    float L = 0.0f;
    for (int i = 0; i < DEC_WARPS; i++) L += sm[i] == -INFINITY ? 0.0f : sl[i] * expf(sm[i] - M);
    for (int d = threadIdx.x; d < dh; d += blockDim.x) {
        float a = 0.0f;
        for (int i = 0; i < DEC_WARPS; i++)
            if (sm[i] != -INFINITY) a += so[i][d] * expf(sm[i] - M);
        bacc[d] = a;
    }
    if (threadIdx.x == 0) {
        *bm = M;
        *bl = L;
    }
    __syncthreads();
}

__device__ __forceinline__ int decode_n(const int32_t *nvalid, int b, int S) {
    int n = nvalid[b];
    return n < 0 ? 0 : (n > S ? S : n);
}

__global__ void __launch_bounds__(DEC_WARPS * 32)
k_attn_decode_ref(float *out, const float *__restrict__ q, const float *__restrict__ kc, const float *__restrict__ vc,
                  const int32_t *__restrict__ nvalid, const float *__restrict__ knew, const float *__restrict__ vnew,
                  int H, int dh, int S, float scale) {
    __shared__ float bm, bl, bacc[256];
    const int b = blockIdx.x / H, h = blockIdx.x % H;
    const int n = decode_n(nvalid, b, S);
    decode_range(&bm, &bl, bacc, q + ((size_t)b * H + h) * dh, kc, vc, knew, vnew, b, n, 0, n + 1, dh, S, scale);
    for (int d = threadIdx.x; d < dh; d += blockDim.x) out[((size_t)b * H + h) * dh + d] = bacc[d] / bl;
}

static int check_decode(const char *who, int B, int H, int dh, int S) {
    if (B < 0 || H < 0 || S < 0 || dh <= 0 || dh > 256) {
        util_error("%s: bad shape B=%d H=%d dh=%d S=%d (head dim in [1, 256])", who, B, H, dh, S);
        return -1;
    }
    if ((size_t)B * H > 2147483647u) {
        util_error("%s: B*H too large", who);
        return -1;
    }
    return 0;
}

extern "C" int gpu_attn_decode_ref(float *out, const float *q, const float *kc, const float *vc,
                                   const int32_t *nvalid, const float *knew, const float *vnew, int B, int H,
                                   int dh, int S) {
    GPU_TRY(check_decode("gpu_attn_decode_ref", B, H, dh, S));
    if (B == 0 || H == 0) return 0;
    k_attn_decode_ref<<<(unsigned)((size_t)B * H), DEC_WARPS * 32, 0, gpu_s()>>>(out, q, kc, vc, nvalid, knew, vnew,
                                                                               H, dh, S, 1.0f / sqrtf((float)dh));
    KERNEL_CHECK();
    return 0;
}

/* ---- split-K ----------------------------------------------------------------------------- */

/* grid (B*H, nsplit): the partial of row blockIdx.x, split blockIdx.y.
 * pm, pl (B*H, nsplit); pacc (B*H, nsplit, dh). */
__global__ void __launch_bounds__(DEC_WARPS * 32)
k_attn_decode_split(float *pm, float *pl, float *pacc, const float *__restrict__ q, const float *__restrict__ kc,
                    const float *__restrict__ vc, const int32_t *__restrict__ nvalid, const float *__restrict__ knew,
                    const float *__restrict__ vnew, int H, int dh, int S, int L, float scale) {
    __shared__ float bm, bl, bacc[256];
    const int sp = blockIdx.y, nsplit = gridDim.y;
    const int row = blockIdx.x, b = row / H;
    const int n = decode_n(nvalid, b, S);
    const int j0 = sp * L, j1 = min(j0 + L, n + 1); /* empty when j0 > n */
    decode_range(&bm, &bl, bacc, q + (size_t)row * dh, kc, vc, knew, vnew, b, n, j0, j1, dh, S, scale);
    const size_t o = (size_t)row * nsplit + sp;
    for (int d = threadIdx.x; d < dh; d += blockDim.x) pacc[o * dh + d] = bacc[d];
    if (threadIdx.x == 0) {
        pm[o] = bm;
        pl[o] = bl;
    }
}

/* A block per row (b, h): merge its nsplit partials. */
__global__ void k_attn_decode_combine(float *out, const float *__restrict__ pm, const float *__restrict__ pl,
                                      const float *__restrict__ pacc, int nsplit, int dh) {
    const size_t row = blockIdx.x;
    const float *m = pm + row * nsplit, *l = pl + row * nsplit;
    float M = -INFINITY;
    for (int s = 0; s < nsplit; s++) M = fmaxf(M, m[s]);
    float Lsum = 0.0f;
    for (int s = 0; s < nsplit; s++)
        if (m[s] != -INFINITY) Lsum += l[s] * expf(m[s] - M);
    for (int d = threadIdx.x; d < dh; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < nsplit; s++)
            if (m[s] != -INFINITY) a += pacc[(row * nsplit + s) * dh + d] * expf(m[s] - M);
        out[row * dh + d] = a / Lsum; /* split 0 always holds key 0: Lsum > 0 */
    }
}

static int g_split_keys = 0; /* gpu_attn_decode_set_split; 0 = automatic */
static float *g_part = NULL;
static size_t g_part_n = 0;

extern "C" void gpu_attn_decode_set_split(int keys) {
    g_split_keys = keys > 0 ? (keys + 31) / 32 * 32 : 0;
    gpu_graph_invalidate(); /* a captured decode has the old grid */
}

/* Keys per split for a cache of S slots (S + 1 keys at most) and B*H rows. */
static int split_keys(int rows, int S) {
    int keys = S + 1;
    if (g_split_keys > 0) return g_split_keys;
    static int sms = 0;
    if (!sms) {
        int dev = 0;
        if (cudaGetDevice(&dev) != cudaSuccess ||
            cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || sms <= 0)
            sms = 108;
        (void)cudaGetLastError();
    }
    /* about two blocks per SM in all; a split never shorter than 64 keys */
    long want = (2L * sms + rows - 1) / rows;
    long most = (keys + 63) / 64;
    long nsplit = want < 1 ? 1 : (want > most ? most : want);
    int L = (int)((keys + nsplit - 1) / nsplit);
    return (L + 31) / 32 * 32;
}

extern "C" int gpu_attn_decode(float *out, const float *q, const float *kc, const float *vc, const int32_t *nvalid,
                               const float *knew, const float *vnew, int B, int H, int dh, int S) {
    GPU_TRY(check_decode("gpu_attn_decode", B, H, dh, S));
    if (B == 0 || H == 0) return 0;
    const int rows = B * H;
    const int L = split_keys(rows, S);
    const int nsplit = (S + 1 + L - 1) / L;
    if (nsplit > 65535) {
        util_error("gpu_attn_decode: %d splits of %d keys > 65535", nsplit, L);
        return -1;
    }
    size_t need = (size_t)rows * nsplit * (2 + (size_t)dh);
    if (need > g_part_n) {
        gpu_free(g_part);
        g_part = (float *)gpu_alloc(need * sizeof(float));
        g_part_n = g_part ? need : 0;
        if (!g_part) return -1;
    }
    float *pm = g_part, *pl = pm + (size_t)rows * nsplit, *pacc = pl + (size_t)rows * nsplit;
    const float scale = 1.0f / sqrtf((float)dh);
    k_attn_decode_split<<<dim3((unsigned)rows, (unsigned)nsplit), DEC_WARPS * 32, 0, gpu_s()>>>(
        pm, pl, pacc, q, kc, vc, nvalid, knew, vnew, H, dh, S, L, scale);
    KERNEL_CHECK();
    k_attn_decode_combine<<<(unsigned)rows, 128, 0, gpu_s()>>>(out, pm, pl, pacc, nsplit, dh);
    KERNEL_CHECK();
    return 0;
}

/* ---- KV write, positions, advance ------------------------------------------------------ */

__global__ void k_kv_write(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *n,
                           const int32_t *slot, const uint8_t *active, int B, int S, int dh, int ring) {
    GRID_STRIDE(i, (size_t)B * dh) {
        int b = (int)(i / dh), d = (int)(i % dh);
        if (active && !active[b]) continue;
        int s;
        if (slot) {
            s = slot[b];
        } else {
            int nb = n[b];
            if (nb < 0) continue;
            s = ring ? nb % S : nb;
        }
        if (s < 0 || s >= S) continue;
        size_t o = ((size_t)b * S + s) * dh + d;
        kc[o] = knew[i];
        vc[o] = vnew[i];
    }
}

static int kv_write(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *n,
                    const int32_t *slot, const uint8_t *active, int B, int S, int dh, int ring) {
    size_t cnt = (size_t)(B > 0 ? B : 0) * (dh > 0 ? dh : 0);
    if (!cnt || S <= 0) return 0;
    k_kv_write<<<gpu_blocks(cnt, 256), 256, 0, gpu_s()>>>(kc, vc, knew, vnew, n, slot, active, B, S, dh, ring);
    KERNEL_CHECK();
    return 0;
}

extern "C" int gpu_kv_write(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *n,
                            const uint8_t *active, int B, int S, int dh, int ring) {
    return kv_write(kc, vc, knew, vnew, n, NULL, active, B, S, dh, ring);
}

extern "C" int gpu_kv_write_slot(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *slot,
                                 const uint8_t *active, int B, int dh, int S) {
    return kv_write(kc, vc, knew, vnew, NULL, slot, active, B, S, dh, 0);
}

__global__ void k_decode_positions(int32_t *pos, int32_t *nvalid, const int32_t *n, int keep, int B) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= B) return;
    int nb = n[b];
    if (pos) pos[b] = nb;
    if (nvalid) nvalid[b] = (keep >= 0 && nb > keep) ? keep : nb;
}

extern "C" int gpu_decode_positions(int32_t *pos, int32_t *nvalid, const int32_t *n, int keep, int B) {
    if (B <= 0) return 0;
    k_decode_positions<<<(unsigned)((B + 255) / 256), 256, 0, gpu_s()>>>(pos, nvalid, n, keep, B);
    KERNEL_CHECK();
    return 0;
}

__global__ void k_decode_advance(int32_t *n, const uint8_t *active, int B) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b < B && (!active || active[b])) n[b] += 1;
}

extern "C" int gpu_decode_advance(int32_t *n, const uint8_t *active, int B) {
    if (B <= 0) return 0;
    k_decode_advance<<<(unsigned)((B + 255) / 256), 256, 0, gpu_s()>>>(n, active, B);
    KERNEL_CHECK();
    return 0;
}

/* ---- greedy token choice ----------------------------------------------------------------- */

/* Candidate (value, index); idx < 0 = none. The CPU rule (a scan keeping
 * the first index v with l[v] > l[best], best starting at 0): the first
 * maximum of the non-NaN values, or 0 when l[0] is NaN. */
struct argmax_c {
    float v;
    int idx;
};

__device__ __forceinline__ argmax_c argmax_pick(argmax_c a, argmax_c b) {
    if (a.idx < 0) return b;
    if (b.idx < 0) return a;
    if (a.idx == 0 && isnan(a.v)) return a; /* l[0] NaN: nothing compares greater */
    if (b.idx == 0 && isnan(b.v)) return b;
    if (b.v > a.v || (b.v == a.v && b.idx < a.idx)) return b;
    return a;
}

__global__ void k_argmax_rows(int32_t *tok, const float *__restrict__ logits, int V) {
    __shared__ argmax_c red[32];
    const size_t row = blockIdx.x;
    const float *l = logits + row * V;
    argmax_c best = {0.0f, -1};
    for (int v = threadIdx.x; v < V; v += blockDim.x) {
        float x = l[v];
        if (v == 0 || !isnan(x)) best = argmax_pick(best, argmax_c{x, v});
    }
    for (int o = 16; o > 0; o >>= 1) {
        argmax_c other = {__shfl_xor_sync(0xffffffffu, best.v, o), __shfl_xor_sync(0xffffffffu, best.idx, o)};
        best = argmax_pick(best, other);
    }
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0) red[w] = best;
    __syncthreads();
    if (threadIdx.x == 0) {
        argmax_c r = red[0];
        for (int i = 1; i < (int)(blockDim.x >> 5); i++) r = argmax_pick(r, red[i]);
        tok[row] = r.idx < 0 ? 0 : r.idx;
    }
}

extern "C" int gpu_argmax_rows(int32_t *tok, const float *logits, int N, int V) {
    if (N <= 0) return 0;
    if (V <= 0) {
        util_error("gpu_argmax_rows: V = %d", V);
        return -1;
    }
    k_argmax_rows<<<(unsigned)N, 256, 0, gpu_s()>>>(tok, logits, V);
    KERNEL_CHECK();
    return 0;
}
