/* gpu_ops.cu — the small kernels of ops.h on the device: causal depthwise
 * conv1d (forward, backward, decode step), RMSNorm (1 + scale), GeLU-tanh
 * and GeGLU, logit soft-cap, RoPE (rotate-half on the first `rot` dims),
 * softmax cross-entropy, plus the model's glue: embedding gather, add,
 * bias / residual row fills. Semantics and accumulation contracts are those
 * of ops.h (see gpu.h); the CPU `_ref` twins in ops_ref.c are the oracles
 * (tests/test_gpu.c).
 *
 * Element-wise kernels use grid-stride loops; row kernels (RMSNorm,
 * cross-entropy) a block per row with a shared-memory reduction. Parameter
 * gradient sums (conv dw/db, RMSNorm dscale) are deterministic: per-chunk
 * partials over fixed row chunks, then gpu_part_reduce in chunk order (the
 * order differs from the CPU's, so they agree to fp32 rounding).
 */
#include <math.h>
#include <stdio.h>

#include "cuda_common.cuh"
#include "gpu.h"

#define EW_THREADS 256
#define ROW_THREADS 256

/* Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread
 * gets the result. */
__device__ float block_sum(float v) {
    __shared__ float part[32];
    __shared__ float total;
    for (int d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0) part[w] = v;
    __syncthreads();
    if (w == 0) {
        int nw = (blockDim.x + 31) >> 5;
        float s = lane < nw ? part[lane] : 0.0f;
        for (int d = 16; d > 0; d >>= 1) s += __shfl_down_sync(0xffffffffu, s, d);
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads(); /* part/total reusable by the next call */
    return r;
}

__device__ float block_max(float v) {
    __shared__ float part[32];
    __shared__ float total;
    for (int d = 16; d > 0; d >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, d));
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0) part[w] = v;
    __syncthreads();
    if (w == 0) {
        int nw = (blockDim.x + 31) >> 5;
        float s = lane < nw ? part[lane] : -INFINITY;
        for (int d = 16; d > 0; d >>= 1) s = fmaxf(s, __shfl_down_sync(0xffffffffu, s, d));
        if (lane == 0) total = s;
    }
    __syncthreads();
    float r = total;
    __syncthreads();
    return r;
}

/* ---- deterministic partial sums (cuda_common.cuh) ------------------------------ */

static float *g_part = NULL;
static size_t g_part_n = 0;

float *gpu_part_buf(size_t n) {
    if (n > g_part_n) {
        gpu_free(g_part);
        g_part = (float *)gpu_alloc(n * sizeof(float));
        g_part_n = g_part ? n : 0;
    }
    return g_part;
}

__global__ void k_part_reduce(float *dst, const float *__restrict__ part, size_t nparts, size_t n) {
    GRID_STRIDE(i, n) {
        float s = 0.0f;
        for (size_t p = 0; p < nparts; p++) s += part[p * n + i];
        dst[i] += s;
    }
}

int gpu_part_reduce(float *dst, const float *part, size_t nparts, size_t n) {
    if (!n || !nparts) return 0;
    k_part_reduce<<<gpu_blocks(n, EW_THREADS), EW_THREADS, 0, gpu_s()>>>(dst, part, nparts, n);
    KERNEL_CHECK();
    return 0;
}

/* ---- conv1d (spec §2.1) ------------------------------------------------------- */

/* Largest look-back s <= K-1 such that x_{t-s} reaches y_t (as ops_ref.c). */
__device__ __forceinline__ int conv_reach(const int32_t *pb, int t, int K) {
    int s = 0;
    while (s < K - 1 && t - s - 1 >= 0 && !(pb && pb[t - s] == 0)) s++;
    return s;
}

__global__ void k_conv_fwd(float *__restrict__ y, const float *__restrict__ x, const float *__restrict__ w,
                           const float *__restrict__ bias, const int32_t *__restrict__ pos, int B, int T, int C,
                           int K) {
    GRID_STRIDE(i, (size_t)B * T * C) {
        int c = (int)(i % C);
        size_t bt = i / C;
        int t = (int)(bt % T), b = (int)(bt / T);
        int reach = conv_reach(pos ? pos + (size_t)b * T : NULL, t, K);
        float acc = bias ? bias[c] : 0.0f;
        for (int s = 0; s <= reach; s++) acc += w[(size_t)(K - 1 - s) * C + c] * x[i - (size_t)s * C];
        y[i] = acc;
    }
}

__global__ void k_conv_bwd_dx(float *__restrict__ dx, const float *__restrict__ dy, const float *__restrict__ w,
                              const int32_t *__restrict__ pos, int B, int T, int C, int K) {
    GRID_STRIDE(i, (size_t)B * T * C) {
        int c = (int)(i % C);
        size_t bt = i / C;
        int tp = (int)(bt % T), b = (int)(bt / T);
        const int32_t *pb = pos ? pos + (size_t)b * T : NULL;
        float acc = 0.0f;
        for (int s = 0; s < K && tp + s < T; s++)
            if (conv_reach(pb, tp + s, K) >= s) acc += w[(size_t)(K - 1 - s) * C + c] * dy[i + (size_t)s * C];
        dx[i] = acc;
    }
}

#define CONV_ROWS 256 /* (b, t) rows per block of the dw/db reduction */
#define CONV_KMAX 16

/* Block (column block, row chunk): the chunk's partial dw (K, C) and db (C)
 * into pw[chunk] and pb[chunk] (either may be NULL). */
__global__ void k_conv_bwd_dw(float *pw, float *pbias, const float *__restrict__ dy, const float *__restrict__ x,
                              const int32_t *__restrict__ pos, int B, int T, int C, int K) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    size_t r0 = (size_t)blockIdx.y * CONV_ROWS, r1 = r0 + CONV_ROWS, N = (size_t)B * T;
    if (r1 > N) r1 = N;
    float aw[CONV_KMAX];
    for (int k = 0; k < K; k++) aw[k] = 0.0f;
    float ab = 0.0f;
    for (size_t r = r0; r < r1; r++) {
        int t = (int)(r % T), b = (int)(r / T);
        float g = dy[r * C + c];
        ab += g;
        int reach = conv_reach(pos ? pos + (size_t)b * T : NULL, t, K);
        for (int s = 0; s <= reach; s++) aw[K - 1 - s] += x[(r - s) * C + c] * g;
    }
    const size_t chunk = blockIdx.y;
    if (pw)
        for (int k = 0; k < K; k++) pw[(chunk * K + k) * C + c] = aw[k];
    if (pbias) pbias[chunk * C + c] = ab;
}

extern "C" int gpu_conv1d_forward(float *y, const float *x, const float *w, const float *b,
                                  const int32_t *pos, int B, int T, int C, int K) {
    size_t n = (size_t)B * T * C;
    if (!n) return 0;
    k_conv_fwd<<<gpu_blocks(n, EW_THREADS), EW_THREADS, 0, gpu_s()>>>(y, x, w, b, pos, B, T, C, K);
    KERNEL_CHECK();
    return 0;
}

extern "C" int gpu_conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                                   const float *w, const int32_t *pos, int B, int T, int C, int K) {
    size_t n = (size_t)B * T * C;
    if (!n) return 0;
    if (K > CONV_KMAX) {
        util_error("gpu_conv1d_backward: K = %d > %d", K, CONV_KMAX);
        return -1;
    }
    k_conv_bwd_dx<<<gpu_blocks(n, EW_THREADS), EW_THREADS, 0, gpu_s()>>>(dx, dy, w, pos, B, T, C, K);
    KERNEL_CHECK();
    if (dw || db) {
        size_t nrb = ((size_t)B * T + CONV_ROWS - 1) / CONV_ROWS;
        if (nrb > 65535) {
            util_error("gpu_conv1d_backward: B*T = %zu rows too many", (size_t)B * T);
            return -1;
        }
        size_t nw = dw ? nrb * (size_t)K * C : 0, nb = db ? nrb * (size_t)C : 0;
        float *pw = gpu_part_buf(nw + nb);
        if (!pw) return -1;
        float *pbias = db ? pw + nw : NULL;
        dim3 grd((unsigned)((C + 127) / 128), (unsigned)nrb);
        k_conv_bwd_dw<<<grd, 128, 0, gpu_s()>>>(dw ? pw : NULL, pbias, dy, x, pos, B, T, C, K);
        KERNEL_CHECK();
        if (dw) GPU_TRY(gpu_part_reduce(dw, pw, nrb, (size_t)K * C));
        if (db) GPU_TRY(gpu_part_reduce(db, pbias, nrb, (size_t)C));
    }
    return 0;
}

__global__ void k_conv_step(float *y, float *state, const float *x, const float *w, const float *bias,
                            const uint8_t *active, int B, int C, int K) {
    GRID_STRIDE(i, (size_t)B * C) {
        int b = (int)(i / C), c = (int)(i % C);
        if (active && !active[b]) continue;
        float *st = state + (size_t)b * (K - 1) * C;
        float xv = x[i];
        float acc = bias ? bias[c] : 0.0f;
        for (int k = 0; k < K - 1; k++) acc += w[(size_t)k * C + c] * st[(size_t)k * C + c];
        acc += w[(size_t)(K - 1) * C + c] * xv;
        y[i] = acc;
        for (int k = 0; k + 1 < K - 1; k++) st[(size_t)k * C + c] = st[(size_t)(k + 1) * C + c];
        if (K > 1) st[(size_t)(K - 2) * C + c] = xv;
    }
}

extern "C" int gpu_conv1d_step(float *y, float *state, const float *x, const float *w, const float *b,
                               const uint8_t *active, int B, int C, int K) {
    size_t n = (size_t)B * C;
    if (!n) return 0;
    k_conv_step<<<gpu_blocks(n, EW_THREADS), EW_THREADS, 0, gpu_s()>>>(y, state, x, w, b, active, B, C, K);
    KERNEL_CHECK();
    return 0;
}

/* ---- RMSNorm ---------------------------------------------------------------------- */

__global__ void k_rmsnorm_fwd(float *y, float *rstd, const float *__restrict__ x, const float *__restrict__ scale,
                              int C, float eps) {
    size_t row = blockIdx.x;
    const float *xr = x + row * C;
    float ss = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) ss += xr[c] * xr[c];
    ss = block_sum(ss);
    float r = rsqrtf(ss / (float)C + eps);
    if (rstd && threadIdx.x == 0) rstd[row] = r;
    for (int c = threadIdx.x; c < C; c += blockDim.x) y[row * C + c] = xr[c] * r * (1.0f + scale[c]);
}

__global__ void k_rmsnorm_bwd(float *dx, const float *__restrict__ dy, const float *__restrict__ x,
                              const float *__restrict__ rstd, const float *__restrict__ scale, int C) {
    size_t row = blockIdx.x;
    const float *xr = x + row * C, *gr = dy + row * C;
    float r = rstd[row], dot = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dot += gr[c] * (1.0f + scale[c]) * xr[c];
    dot = block_sum(dot);
    float k = r * r * r * dot / (float)C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dx[row * C + c] += r * (1.0f + scale[c]) * gr[c] - k * xr[c];
}

#define RN_ROWS 64 /* rows per chunk of the dscale partial sums */

/* Block (column block, row chunk): part[chunk][c] = sum over the chunk's
 * rows of dy x rstd. */
__global__ void k_rmsnorm_dscale(float *part, const float *__restrict__ dy, const float *__restrict__ x,
                                 const float *__restrict__ rstd, int N, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    size_t n0 = (size_t)blockIdx.y * RN_ROWS, n1 = min(n0 + RN_ROWS, (size_t)N);
    float s = 0.0f;
    for (size_t n = n0; n < n1; n++) s += dy[n * C + c] * x[n * C + c] * rstd[n];
    part[(size_t)blockIdx.y * C + c] = s;
}

extern "C" int gpu_rmsnorm_forward(float *y, float *rstd, const float *x, const float *scale, int N, int C,
                                   float eps) {
    if (N <= 0) return 0;
    k_rmsnorm_fwd<<<(unsigned)N, ROW_THREADS, 0, gpu_s()>>>(y, rstd, x, scale, C, eps);
    KERNEL_CHECK();
    return 0;
}

extern "C" int gpu_rmsnorm_backward(float *dx, float *dscale, const float *dy, const float *x,
                                    const float *rstd, const float *scale, int N, int C) {
    if (N <= 0) return 0;
    k_rmsnorm_bwd<<<(unsigned)N, ROW_THREADS, 0, gpu_s()>>>(dx, dy, x, rstd, scale, C);
    KERNEL_CHECK();
    if (dscale) {
        size_t nch = ((size_t)N + RN_ROWS - 1) / RN_ROWS;
        if (nch > 65535) {
            util_error("gpu_rmsnorm_backward: N = %d rows too many (%d per chunk, 65535 chunks)", N, RN_ROWS);
            return -1;
        }
        float *part = gpu_part_buf(nch * (size_t)C);
        if (!part) return -1;
        k_rmsnorm_dscale<<<dim3((unsigned)((C + 127) / 128), (unsigned)nch), 128, 0, gpu_s()>>>(part, dy, x, rstd, N,
                                                                                              C);
        KERNEL_CHECK();
        GPU_TRY(gpu_part_reduce(dscale, part, nch, (size_t)C));
    }
    return 0;
}

/* ---- GeLU (tanh) / GeGLU --------------------------------------------------------- */

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_A 0.044715f

__device__ __forceinline__ float gelu_f(float x) {
    return 0.5f * x * (1.0f + tanhf(GELU_K * (x + GELU_A * x * x * x)));
}
__device__ __forceinline__ float gelu_grad_f(float x) {
    float t = tanhf(GELU_K * (x + GELU_A * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_A * x * x);
}

__global__ void k_gelu_fwd(float *y, const float *x, size_t n) {
    GRID_STRIDE(i, n) y[i] = gelu_f(x[i]);
}
__global__ void k_gelu_bwd(float *dx, const float *dy, const float *x, size_t n) {
    GRID_STRIDE(i, n) dx[i] = dy[i] * gelu_grad_f(x[i]);
}
__global__ void k_geglu_fwd(float *out, const float *a, const float *b, size_t n) {
    GRID_STRIDE(i, n) out[i] = gelu_f(a[i]) * b[i];
}
__global__ void k_geglu_bwd(float *da, float *db, const float *dout, const float *a, const float *b, size_t n) {
    GRID_STRIDE(i, n) {
        float g = dout[i], av = a[i], bv = b[i];
        float ga = g * bv * gelu_grad_f(av), gb = g * gelu_f(av);
        da[i] = ga; /* after reading: da/db may alias dout */
        db[i] = gb;
    }
}

#define EW_LAUNCH(kernel, n, ...)                                                            \
    do {                                                                                     \
        if (n) {                                                                             \
            kernel<<<gpu_blocks((n), EW_THREADS), EW_THREADS, 0, gpu_s()>>>(__VA_ARGS__);                \
            KERNEL_CHECK();                                                                  \
        }                                                                                    \
        return 0;                                                                            \
    } while (0)

extern "C" int gpu_gelu_forward(float *y, const float *x, size_t n) { EW_LAUNCH(k_gelu_fwd, n, y, x, n); }
extern "C" int gpu_gelu_backward(float *dx, const float *dy, const float *x, size_t n) {
    EW_LAUNCH(k_gelu_bwd, n, dx, dy, x, n);
}
extern "C" int gpu_geglu_forward(float *out, const float *a, const float *b, size_t n) {
    EW_LAUNCH(k_geglu_fwd, n, out, a, b, n);
}
extern "C" int gpu_geglu_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                                  size_t n) {
    EW_LAUNCH(k_geglu_bwd, n, da, db, dout, a, b, n);
}

/* ---- soft-cap ------------------------------------------------------------------------ */

__global__ void k_softcap_fwd(float *x, size_t n, float c) {
    GRID_STRIDE(i, n) x[i] = c * tanhf(x[i] / c);
}
__global__ void k_softcap_bwd(float *dy, const float *y, size_t n, float c) {
    GRID_STRIDE(i, n) {
        float u = y[i] / c;
        dy[i] = dy[i] * (1.0f - u * u);
    }
}
extern "C" int gpu_softcap_forward(float *x, size_t n, float c) { EW_LAUNCH(k_softcap_fwd, n, x, n, c); }
extern "C" int gpu_softcap_backward(float *dy, const float *y, size_t n, float c) {
    EW_LAUNCH(k_softcap_bwd, n, dy, y, n, c);
}

/* ---- RoPE ---------------------------------------------------------------------------------- */

/* Angles in double: pos reaches 2^16, where a float angle would lose ~1e-2 rad. */
__global__ void k_rope(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base, double sign) {
    int half = rot / 2;
    GRID_STRIDE(i, (size_t)N * H * half) {
        int j = (int)(i % half);
        size_t nh = i / half;
        int n = (int)(nh / H);
        float *xh = x + nh * dh;
        double th = (double)pos[n] * pow((double)base, -2.0 * j / rot);
        double sd, cd;
        sincos(th, &sd, &cd);
        float c = (float)cd, s = (float)(sign * sd);
        float x1 = xh[j], x2 = xh[j + half];
        xh[j] = x1 * c - x2 * s;
        xh[j + half] = x2 * c + x1 * s;
    }
}

extern "C" int gpu_rope_forward(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base) {
    size_t n = (size_t)N * H * (rot / 2);
    EW_LAUNCH(k_rope, n, x, pos, N, H, dh, rot, base, 1.0);
}
extern "C" int gpu_rope_backward(float *dx, const int32_t *pos, int N, int H, int dh, int rot, float base) {
    size_t n = (size_t)N * H * (rot / 2);
    EW_LAUNCH(k_rope, n, dx, pos, N, H, dh, rot, base, -1.0);
}

/* ---- softmax cross-entropy ------------------------------------------------------------------ */

__device__ float row_lse(const float *l, int V) {
    float m = -INFINITY;
    for (int v = threadIdx.x; v < V; v += blockDim.x) m = fmaxf(m, l[v]);
    m = block_max(m);
    float s = 0.0f;
    for (int v = threadIdx.x; v < V; v += blockDim.x) s += expf(l[v] - m);
    s = block_sum(s);
    return m + logf(s);
}

__global__ void k_xent_fwd(float *loss, const float *logits, const int32_t *targets, int V) {
    size_t n = blockIdx.x;
    int tg = targets[n];
    if (tg < 0) {
        if (threadIdx.x == 0) loss[n] = 0.0f;
        return;
    }
    const float *l = logits + n * V;
    float lse = row_lse(l, V);
    if (threadIdx.x == 0) loss[n] = lse - l[tg];
}

__global__ void k_xent_bwd(float *dlogits, const float *logits, const int32_t *targets, const float *dloss, int V) {
    size_t n = blockIdx.x;
    int tg = targets[n];
    float *d = dlogits + n * V;
    if (tg < 0) {
        for (int v = threadIdx.x; v < V; v += blockDim.x) d[v] = 0.0f;
        return;
    }
    const float *l = logits + n * V;
    float lse = row_lse(l, V), g = dloss[n];
    for (int v = threadIdx.x; v < V; v += blockDim.x) d[v] = g * (expf(l[v] - lse) - (v == tg ? 1.0f : 0.0f));
}

extern "C" int gpu_xent_forward(float *loss, const float *logits, const int32_t *targets, int N, int V) {
    if (N <= 0) return 0;
    k_xent_fwd<<<(unsigned)N, ROW_THREADS, 0, gpu_s()>>>(loss, logits, targets, V);
    KERNEL_CHECK();
    return 0;
}

extern "C" int gpu_xent_backward(float *dlogits, const float *logits, const int32_t *targets, const float *dloss,
                                 int N, int V) {
    if (N <= 0) return 0;
    k_xent_bwd<<<(unsigned)N, ROW_THREADS, 0, gpu_s()>>>(dlogits, logits, targets, dloss, V);
    KERNEL_CHECK();
    return 0;
}

/* ---- glue ---------------------------------------------------------------------------------- */

__global__ void k_embed(float *x, const float *E, const int32_t *tok, int N, int D, float scale) {
    GRID_STRIDE(i, (size_t)N * D) {
        size_t n = i / D;
        x[i] = E[(size_t)tok[n] * D + i % D] * scale;
    }
}
/* E (V,D) bfloat16: widened exactly (the bits shifted up), then scaled. */
__global__ void k_embed_bf16(float *x, const uint16_t *E, const int32_t *tok, int N, int D, float scale) {
    GRID_STRIDE(i, (size_t)N * D) {
        size_t n = i / D;
        x[i] = __uint_as_float((uint32_t)E[(size_t)tok[n] * D + i % D] << 16) * scale;
    }
}
__global__ void k_add(float *y, const float *x, size_t n) {
    GRID_STRIDE(i, n) y[i] += x[i];
}
__global__ void k_fill_rows(float *out, const float *res, const float *bias, int N, int O) {
    GRID_STRIDE(i, (size_t)N * O) {
        float v = bias ? bias[i % O] : 0.0f;
        out[i] = res ? res[i] + v : v;
    }
}

__global__ void k_fill_uniform(float *p, size_t n, float lo, float hi, uint64_t seed) {
    GRID_STRIDE(i, n) {
        uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (i + 1); /* splitmix64 of the index */
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        p[i] = lo + (hi - lo) * (float)((z >> 40) * (1.0 / 16777216.0));
    }
}

extern "C" int gpu_fill_uniform(float *p, size_t n, float lo, float hi, uint64_t seed) {
    EW_LAUNCH(k_fill_uniform, n, p, n, lo, hi, seed);
}

extern "C" int gpu_embed(float *x, const float *E, const int32_t *tok, int N, int D, float scale) {
    size_t n = (size_t)N * D;
    EW_LAUNCH(k_embed, n, x, E, tok, N, D, scale);
}
extern "C" int gpu_embed_bf16(float *x, const uint16_t *E, const int32_t *tok, int N, int D, float scale) {
    size_t n = (size_t)N * D;
    EW_LAUNCH(k_embed_bf16, n, x, E, tok, N, D, scale);
}
extern "C" int gpu_add(float *y, const float *x, size_t n) { EW_LAUNCH(k_add, n, y, x, n); }
extern "C" int gpu_fill_rows(float *out, const float *res, const float *bias, int N, int O) {
    size_t n = (size_t)N * O;
    EW_LAUNCH(k_fill_rows, n, out, res, bias, N, O);
}
