/* gpu_scan.cu — the RG-LRU (Griffin paper eq. 1-4, spec §2.2, §5) on the
 * device, fused: gates, log-space a_t, normaliser and the linear scan
 * h_t = a_t h_{t-1} + u_t in one kernel family, as named variants (gpu.h):
 *
 *   seq      one thread per (b, c), sequential in time; fp32 state in a
 *            register; a warp reads 32 consecutive channels of one time
 *            step (coalesced); loads of SEQ_U time steps are issued before
 *            the dependent FMAs so several are in flight per thread.
 *   chunked  time split into chunks across blocks (parallelism when B*C is
 *            small): pass 1 scans every chunk from a zero state and keeps
 *            (prod a, end state); pass 2 folds the carries over the chunks
 *            per (b, c); pass 3 re-scans each chunk from its true incoming
 *            state and writes y. Backward is the mirror image in reverse.
 *   warp     a block owns 32 channels of one sequence and walks time in
 *            tiles of 32 steps: the tile goes through shared memory
 *            (coalesced loads), then each warp scans a channel with a lane
 *            per time step, composing (a, u) pairs with warp shuffles
 *            (Kogge-Stone); the carry between tiles stays in a register.
 *            Forward prefetches the next tile into registers while the
 *            current one is scanned.
 * gpu_rglru_step is the T = 1 decode kernel (h = a h + u directly).
 *
 * The math of every variant equals rglru_forward_ref / rglru_backward_ref
 * (scan.c): reset at pos == 0 (a_t = 0, normaliser 1), a_t and a_t^2 as two
 * exps of log a_t = -8 r softplus(a_param), bounded sqrt derivative,
 * da_param += deterministically: each (b, c) (seq, warp) or (b, chunk, c)
 * (chunked) writes its partial to a scratch, gpu_part_reduce adds them in
 * order (no float atomics: the same bits every run).
 * Tests: tests/test_gpu.c (every variant vs the CPU ref on odd shapes).
 */
#include <stdio.h>
#include <string.h>

#include "cuda_common.cuh"
#include "gpu.h"

/* ---- per-element math ------------------------------------------------------- */

/* a_t and u_t of eq. (3)-(4); at a reset a = 0 and u = i x. */
__device__ __forceinline__ void rg_gate(float xv, float gxv, float gav, float sp, int reset, float &a,
                                        float &u) {
    float i = gpu_sigmoidf(gxv);
    if (reset) {
        a = 0.0f;
        u = i * xv;
        return;
    }
    float r = gpu_sigmoidf(gav);
    float loga = -8.0f * r * sp;
    a = expf(loga);
    float a2 = expf(2.0f * loga);
    u = sqrtf(1.0f - a2) * i * xv;
}

__device__ __forceinline__ float rg_a(float gav, float sp, int reset) {
    return reset ? 0.0f : expf(-8.0f * gpu_sigmoidf(gav) * sp);
}

/* Backward of one element given g = dL/dh_t (already including the
 * recurrence) and h_{t-1}; returns a_t (the next-earlier step's coefficient)
 * and adds the da_param contribution to acc. */
__device__ __forceinline__ float rg_bwd_elem(float g, float hp, float xv, float gxv, float gav, float sp,
                                             float sa, int reset, float &dxo, float &dgxo, float &dgao,
                                             float &acc) {
    float i = gpu_sigmoidf(gxv);
    if (reset) {
        dxo = g * i;
        dgxo = g * xv * (i * (1.0f - i));
        dgao = 0.0f;
        return 0.0f;
    }
    float r = gpu_sigmoidf(gav);
    float loga = -8.0f * r * sp;
    float a = expf(loga), a2 = expf(2.0f * loga);
    float z = 1.0f - a2, nrm = sqrtf(z);
    dxo = g * nrm * i;
    dgxo = g * nrm * xv * (i * (1.0f - i));
    float dz = g * i * xv * (0.5f / sqrtf(z > GPU_SQRT_Z_MIN ? z : GPU_SQRT_Z_MIN));
    float dloga = g * hp * a - 2.0f * a2 * dz;
    dgao = dloga * (-8.0f * sp) * (r * (1.0f - r));
    acc += dloga * (-8.0f * r) * sa;
    return a;
}

/* ---- seq ------------------------------------------------------------------------ */

#define SEQ_U 8
#define SEQ_THREADS 128

__global__ void k_rglru_fwd_seq(float *__restrict__ y, float *h_last, const float *__restrict__ x,
                                const float *__restrict__ gx, const float *__restrict__ ga,
                                const float *__restrict__ a_param, const int32_t *__restrict__ pos,
                                const float *h0, int T, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y;
    if (c >= C) return;
    float sp = gpu_softplusf(a_param[c]);
    float h = h0 ? h0[(size_t)b * C + c] : 0.0f;
    const size_t base = (size_t)b * T * C + c;
    const int32_t *pb = pos + (size_t)b * T;
    int t = 0;
    for (; t + SEQ_U <= T; t += SEQ_U) {
        float xv[SEQ_U], gxv[SEQ_U], gav[SEQ_U];
        int rs[SEQ_U];
#pragma unroll
        for (int k = 0; k < SEQ_U; k++) {
            size_t o = base + (size_t)(t + k) * C;
            xv[k] = __ldg(x + o);
            gxv[k] = __ldg(gx + o);
            gav[k] = __ldg(ga + o);
            rs[k] = __ldg(pb + t + k) == 0;
        }
#pragma unroll
        for (int k = 0; k < SEQ_U; k++) {
            float a, u;
            rg_gate(xv[k], gxv[k], gav[k], sp, rs[k], a, u);
            h = rs[k] ? u : a * h + u;
            y[base + (size_t)(t + k) * C] = h;
        }
    }
    for (; t < T; t++) {
        size_t o = base + (size_t)t * C;
        int rs = pb[t] == 0;
        float a, u;
        rg_gate(x[o], gx[o], ga[o], sp, rs, a, u);
        h = rs ? u : a * h + u;
        y[o] = h;
    }
    if (h_last && T > 0) h_last[(size_t)b * C + c] = h;
}

__global__ void k_rglru_bwd_seq(float *__restrict__ dx, float *__restrict__ dgx, float *__restrict__ dga,
                                float *da_part, const float *__restrict__ dy, const float *__restrict__ y,
                                const float *__restrict__ x, const float *__restrict__ gx,
                                const float *__restrict__ ga, const float *__restrict__ a_param,
                                const int32_t *__restrict__ pos, const float *__restrict__ h0, int T, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y;
    if (c >= C) return;
    float sp = gpu_softplusf(a_param[c]), sa = gpu_sigmoidf(a_param[c]);
    float hinit = h0 ? h0[(size_t)b * C + c] : 0.0f;
    const size_t base = (size_t)b * T * C + c;
    const int32_t *pb = pos + (size_t)b * T;
    float g = 0.0f, an = 0.0f, acc = 0.0f;
    int t = T - 1;
    for (; t - SEQ_U + 1 >= 1; t -= SEQ_U) { /* every step here has t - k >= 1: hp = y[t-k-1] */
        float dyv[SEQ_U], hpv[SEQ_U], xv[SEQ_U], gxv[SEQ_U], gav[SEQ_U];
        int rs[SEQ_U];
#pragma unroll
        for (int k = 0; k < SEQ_U; k++) {
            size_t o = base + (size_t)(t - k) * C;
            dyv[k] = __ldg(dy + o);
            hpv[k] = __ldg(y + o - C);
            xv[k] = __ldg(x + o);
            gxv[k] = __ldg(gx + o);
            gav[k] = __ldg(ga + o);
            rs[k] = __ldg(pb + t - k) == 0;
        }
#pragma unroll
        for (int k = 0; k < SEQ_U; k++) {
            size_t o = base + (size_t)(t - k) * C;
            g = dyv[k] + an * g;
            float o1, o2, o3;
            an = rg_bwd_elem(g, hpv[k], xv[k], gxv[k], gav[k], sp, sa, rs[k], o1, o2, o3, acc);
            dx[o] = o1;
            dgx[o] = o2;
            dga[o] = o3;
        }
    }
    for (; t >= 0; t--) {
        size_t o = base + (size_t)t * C;
        g = dy[o] + an * g;
        float hp = t > 0 ? y[o - C] : hinit;
        float o1, o2, o3;
        an = rg_bwd_elem(g, hp, x[o], gx[o], ga[o], sp, sa, pb[t] == 0, o1, o2, o3, acc);
        dx[o] = o1;
        dgx[o] = o2;
        dga[o] = o3;
    }
    da_part[(size_t)b * C + c] = acc; /* (B, C) */
}

/* da_param += the nparts partials (nparts, C) in part, in order. */
static int da_reduce(float *da_param, const float *part, size_t nparts, int C) {
    return da_param ? gpu_part_reduce(da_param, part, nparts, (size_t)C) : 0;
}

static int check_dims(const char *who, int B, int T, int C) {
    if (B < 0 || T < 0 || C < 0 || B > 65535) {
        util_error("%s: unsupported shape B=%d T=%d C=%d (B <= 65535)", who, B, T, C);
        return -1;
    }
    return 0;
}

static int rglru_forward_seq(float *y, float *h_last, const float *x, const float *gx, const float *ga,
                             const float *a_param, const int32_t *pos, const float *h0, int B, int T,
                             int C) {
    GPU_TRY(check_dims("rglru seq", B, T, C));
    if (!B || !C) return 0;
    dim3 grd((unsigned)((C + SEQ_THREADS - 1) / SEQ_THREADS), (unsigned)B);
    k_rglru_fwd_seq<<<grd, SEQ_THREADS, 0, gpu_s()>>>(y, h_last, x, gx, ga, a_param, pos, h0, T, C);
    KERNEL_CHECK();
    return 0;
}

static int rglru_backward_seq(float *dx, float *dgx, float *dga, float *da_param, const float *dy,
                              const float *y, const float *x, const float *gx, const float *ga,
                              const float *a_param, const int32_t *pos, const float *h0, int B, int T,
                              int C) {
    GPU_TRY(check_dims("rglru seq", B, T, C));
    if (!B || !C || !T) return 0;
    float *part = gpu_part_buf((size_t)B * C);
    if (!part) return -1;
    dim3 grd((unsigned)((C + SEQ_THREADS - 1) / SEQ_THREADS), (unsigned)B);
    k_rglru_bwd_seq<<<grd, SEQ_THREADS, 0, gpu_s()>>>(dx, dgx, dga, part, dy, y, x, gx, ga, a_param, pos, h0, T, C);
    KERNEL_CHECK();
    return da_reduce(da_param, part, (size_t)B, C);
}

/* ---- chunked ---------------------------------------------------------------------- */

static int g_chunk_steps = 0;
extern "C" void gpu_scan_set_chunk(int steps) { g_chunk_steps = steps > 0 ? steps : 0; }

#define CH_THREADS 128

/* Chunk length: enough (b, chunk, c) threads to fill the device (~256K),
 * chunks of at least 16 steps. */
static int chunk_len(int B, int T, int C) {
    if (g_chunk_steps > 0) return g_chunk_steps < T ? g_chunk_steps : (T > 0 ? T : 1);
    long want = 262144L / ((long)B * C > 0 ? (long)B * C : 1);
    if (want < 1) want = 1;
    long L = (T + want - 1) / want;
    if (L < 16) L = 16;
    if (L > T) L = T > 0 ? T : 1;
    return (int)L;
}

/* Pass 1 forward: per chunk from h = 0: cA = prod a_t, cH = end state. */
__global__ void k_ch_fwd_local(float *cA, float *cH, const float *__restrict__ x, const float *__restrict__ gx,
                               const float *__restrict__ ga, const float *__restrict__ a_param,
                               const int32_t *__restrict__ pos, int T, int C, int L, int nch) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y, b = blockIdx.z;
    if (c >= C) return;
    float sp = gpu_softplusf(a_param[c]);
    int t0 = k * L, t1 = min(T, t0 + L);
    float P = 1.0f, h = 0.0f;
#pragma unroll 4
    for (int t = t0; t < t1; t++) {
        size_t o = ((size_t)b * T + t) * C + c;
        int rs = __ldg(pos + (size_t)b * T + t) == 0;
        float a, u;
        rg_gate(__ldg(x + o), __ldg(gx + o), __ldg(ga + o), sp, rs, a, u);
        h = rs ? u : a * h + u;
        P *= a;
    }
    size_t ci = ((size_t)b * nch + k) * C + c;
    cA[ci] = P;
    cH[ci] = h;
}

/* Pass 2 forward: cH[k] <- state entering chunk k; h_last <- final state. */
__global__ void k_ch_fwd_carry(float *cA, float *cH, float *h_last, const float *h0, int B, int C, int nch) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y;
    if (c >= C) return;
    float hin = h0 ? h0[(size_t)b * C + c] : 0.0f;
    for (int k = 0; k < nch; k++) {
        size_t ci = ((size_t)b * nch + k) * C + c;
        float A = cA[ci], H = cH[ci];
        cH[ci] = hin;
        hin = A * hin + H;
    }
    if (h_last) h_last[(size_t)b * C + c] = hin;
}

/* Pass 3 forward: re-scan each chunk from its incoming state. */
__global__ void k_ch_fwd_final(float *__restrict__ y, const float *cH, const float *__restrict__ x,
                               const float *__restrict__ gx, const float *__restrict__ ga,
                               const float *__restrict__ a_param, const int32_t *__restrict__ pos, int T,
                               int C, int L, int nch) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y, b = blockIdx.z;
    if (c >= C) return;
    float sp = gpu_softplusf(a_param[c]);
    int t0 = k * L, t1 = min(T, t0 + L);
    float h = cH[((size_t)b * nch + k) * C + c];
#pragma unroll 4
    for (int t = t0; t < t1; t++) {
        size_t o = ((size_t)b * T + t) * C + c;
        int rs = __ldg(pos + (size_t)b * T + t) == 0;
        float a, u;
        rg_gate(__ldg(x + o), __ldg(gx + o), __ldg(ga + o), sp, rs, a, u);
        h = rs ? u : a * h + u;
        y[o] = h;
    }
}

/* Pass 1 backward: per chunk, the local reverse scan from g = 0 at the
 * chunk end. With c_k = a_{s'} g_{s'} (s' = first step of chunk k+1) the
 * carry into chunk k: c_{k-1} = H'_k + P'_k c_k where
 * P'_k = prod_{s=start}^{end} a_s and H'_k = a_start * g_start(local). */
__global__ void k_ch_bwd_local(float *cA, float *cH, const float *__restrict__ dy, const float *__restrict__ ga,
                               const float *__restrict__ a_param, const int32_t *__restrict__ pos, int T,
                               int C, int L, int nch) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y, b = blockIdx.z;
    if (c >= C) return;
    float sp = gpu_softplusf(a_param[c]);
    int t0 = k * L, t1 = min(T, t0 + L);
    float g = 0.0f, an = 0.0f, P = 1.0f;
#pragma unroll 4
    for (int t = t1 - 1; t >= t0; t--) {
        size_t o = ((size_t)b * T + t) * C + c;
        g = __ldg(dy + o) + an * g;
        an = rg_a(__ldg(ga + o), sp, __ldg(pos + (size_t)b * T + t) == 0);
        P *= an;
    }
    size_t ci = ((size_t)b * nch + k) * C + c;
    cA[ci] = P;
    cH[ci] = an * g;
}

/* Pass 2 backward: cH[k] <- c_k, the carry entering chunk k from the later one. */
__global__ void k_ch_bwd_carry(float *cA, float *cH, int B, int C, int nch) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, b = blockIdx.y;
    if (c >= C) return;
    float cin = 0.0f;
    for (int k = nch - 1; k >= 0; k--) {
        size_t ci = ((size_t)b * nch + k) * C + c;
        float A = cA[ci], H = cH[ci];
        cH[ci] = cin;
        cin = H + A * cin;
    }
}

__global__ void k_ch_bwd_final(float *__restrict__ dx, float *__restrict__ dgx, float *__restrict__ dga,
                               float *da_part, const float *cH, const float *__restrict__ dy,
                               const float *__restrict__ y, const float *__restrict__ x,
                               const float *__restrict__ gx, const float *__restrict__ ga,
                               const float *__restrict__ a_param, const int32_t *__restrict__ pos,
                               const float *__restrict__ h0, int T, int C, int L, int nch) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y, b = blockIdx.z;
    if (c >= C) return;
    float sp = gpu_softplusf(a_param[c]), sa = gpu_sigmoidf(a_param[c]);
    int t0 = k * L, t1 = min(T, t0 + L);
    float hinit = h0 ? h0[(size_t)b * C + c] : 0.0f;
    /* g_end = dy_end + c_k: start the recurrence with an = 1, g = c_k. */
    float g = cH[((size_t)b * nch + k) * C + c], an = 1.0f, acc = 0.0f;
#pragma unroll 2
    for (int t = t1 - 1; t >= t0; t--) {
        size_t o = ((size_t)b * T + t) * C + c;
        g = __ldg(dy + o) + an * g;
        float hp = t > 0 ? __ldg(y + o - C) : hinit;
        float o1, o2, o3;
        an = rg_bwd_elem(g, hp, __ldg(x + o), __ldg(gx + o), __ldg(ga + o), sp, sa,
                         __ldg(pos + (size_t)b * T + t) == 0, o1, o2, o3, acc);
        dx[o] = o1;
        dgx[o] = o2;
        dga[o] = o3;
    }
    da_part[((size_t)b * nch + k) * C + c] = acc; /* (B, nch, C) */
}

/* Carry scratch: 2 * B * nch * C floats, grown on demand. */
static float *g_carry = NULL;
static size_t g_carry_n = 0;

static float *carry_buf(size_t n) {
    if (n > g_carry_n) {
        gpu_free(g_carry);
        g_carry = (float *)gpu_alloc(n * sizeof(float));
        g_carry_n = g_carry ? n : 0;
    }
    return g_carry;
}

static int rglru_forward_chunked(float *y, float *h_last, const float *x, const float *gx, const float *ga,
                                 const float *a_param, const int32_t *pos, const float *h0, int B, int T,
                                 int C) {
    GPU_TRY(check_dims("rglru chunked", B, T, C));
    if (!B || !C) return 0;
    if (!T) return 0;
    int L = chunk_len(B, T, C), nch = (T + L - 1) / L;
    if (nch > 65535) {
        util_error("rglru chunked: %d chunks > 65535 (chunk length %d)", nch, L);
        return -1;
    }
    float *cA = carry_buf(2 * (size_t)B * nch * C);
    if (!cA) return -1;
    float *cH = cA + (size_t)B * nch * C;
    unsigned cb = (unsigned)((C + CH_THREADS - 1) / CH_THREADS);
    k_ch_fwd_local<<<dim3(cb, (unsigned)nch, (unsigned)B), CH_THREADS, 0, gpu_s()>>>(cA, cH, x, gx, ga, a_param, pos, T, C, L, nch);
    KERNEL_CHECK();
    k_ch_fwd_carry<<<dim3(cb, (unsigned)B), CH_THREADS, 0, gpu_s()>>>(cA, cH, h_last, h0, B, C, nch);
    KERNEL_CHECK();
    k_ch_fwd_final<<<dim3(cb, (unsigned)nch, (unsigned)B), CH_THREADS, 0, gpu_s()>>>(y, cH, x, gx, ga, a_param, pos, T, C, L, nch);
    KERNEL_CHECK();
    return 0;
}

static int rglru_backward_chunked(float *dx, float *dgx, float *dga, float *da_param, const float *dy,
                                  const float *y, const float *x, const float *gx, const float *ga,
                                  const float *a_param, const int32_t *pos, const float *h0, int B, int T,
                                  int C) {
    GPU_TRY(check_dims("rglru chunked", B, T, C));
    if (!B || !C || !T) return 0;
    int L = chunk_len(B, T, C), nch = (T + L - 1) / L;
    if (nch > 65535) {
        util_error("rglru chunked: %d chunks > 65535 (chunk length %d)", nch, L);
        return -1;
    }
    float *cA = carry_buf(2 * (size_t)B * nch * C);
    if (!cA) return -1;
    float *cH = cA + (size_t)B * nch * C;
    unsigned cb = (unsigned)((C + CH_THREADS - 1) / CH_THREADS);
    k_ch_bwd_local<<<dim3(cb, (unsigned)nch, (unsigned)B), CH_THREADS, 0, gpu_s()>>>(cA, cH, dy, ga, a_param, pos, T, C, L, nch);
    KERNEL_CHECK();
    k_ch_bwd_carry<<<dim3(cb, (unsigned)B), CH_THREADS, 0, gpu_s()>>>(cA, cH, B, C, nch);
    KERNEL_CHECK();
    float *part = gpu_part_buf((size_t)B * nch * C);
    if (!part) return -1;
    k_ch_bwd_final<<<dim3(cb, (unsigned)nch, (unsigned)B), CH_THREADS, 0, gpu_s()>>>(dx, dgx, dga, part, cH, dy, y, x, gx,
                                                                       ga, a_param, pos, h0, T, C, L, nch);
    KERNEL_CHECK();
    return da_reduce(da_param, part, (size_t)B * nch, C);
}

/* ---- warp ----------------------------------------------------------------------------- */

#define WT 32          /* time steps per tile (= lanes) */
#define WC 32          /* channels per block */
#define WWARPS 8       /* warps per block; each scans WC / WWARPS channels */
#define WCPW (WC / WWARPS)
#define WROWS (WT / WWARPS) /* tile rows each thread loads */

/* Inclusive scan of h_l = alpha_l h_{l-1} + beta_l over the lanes. */
__device__ __forceinline__ float warp_scan_fwd(float alpha, float beta) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int d = 1; d < 32; d <<= 1) {
        float a2 = __shfl_up_sync(0xffffffffu, alpha, d), b2 = __shfl_up_sync(0xffffffffu, beta, d);
        if (lane >= d) {
            beta = alpha * b2 + beta;
            alpha = alpha * a2;
        }
    }
    return beta;
}

/* Reverse inclusive scan of g_l = alpha_l g_{l+1} + beta_l over the lanes. */
__device__ __forceinline__ float warp_scan_rev(float alpha, float beta) {
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int d = 1; d < 32; d <<= 1) {
        float a2 = __shfl_down_sync(0xffffffffu, alpha, d), b2 = __shfl_down_sync(0xffffffffu, beta, d);
        if (lane + d < 32) {
            beta = alpha * b2 + beta;
            alpha = alpha * a2;
        }
    }
    return beta;
}

__global__ void __launch_bounds__(WWARPS * 32)
k_rglru_fwd_warp(float *__restrict__ y, float *h_last, const float *__restrict__ x, const float *__restrict__ gx,
                 const float *__restrict__ ga, const float *__restrict__ a_param, const int32_t *__restrict__ pos,
                 const float *h0, int T, int C) {
    __shared__ float sx[WT][WC + 1], sgx[WT][WC + 1], sga[WT][WC + 1], sy[WT][WC + 1];
    __shared__ int spos[WT];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int c0 = blockIdx.x * WC, b = blockIdx.y;
    const int cl = c0 + lane; /* channel this thread loads / stores */
    float sp[WCPW], carry[WCPW];
#pragma unroll
    for (int j = 0; j < WCPW; j++) {
        int c = c0 + warp * WCPW + j;
        sp[j] = c < C ? gpu_softplusf(a_param[c]) : 0.0f;
        carry[j] = (c < C && h0) ? h0[(size_t)b * C + c] : 0.0f;
    }
    float nx[WROWS], ngx[WROWS], nga[WROWS];
    int npos = 1;
    auto load = [&](int t0) {
#pragma unroll
        for (int r = 0; r < WROWS; r++) {
            int t = t0 + warp + r * WWARPS;
            size_t o = ((size_t)b * T + t) * C + cl;
            bool ok = t < T && cl < C;
            nx[r] = ok ? __ldg(x + o) : 0.0f;
            ngx[r] = ok ? __ldg(gx + o) : 0.0f;
            nga[r] = ok ? __ldg(ga + o) : 0.0f;
        }
        if (threadIdx.x < WT) npos = (t0 + (int)threadIdx.x < T) ? __ldg(pos + (size_t)b * T + t0 + threadIdx.x) : 1;
    };
    load(0);
    for (int t0 = 0; t0 < T; t0 += WT) {
#pragma unroll
        for (int r = 0; r < WROWS; r++) {
            int row = warp + r * WWARPS;
            sx[row][lane] = nx[r];
            sgx[row][lane] = ngx[r];
            sga[row][lane] = nga[r];
        }
        if (threadIdx.x < WT) spos[threadIdx.x] = npos;
        __syncthreads();
        if (t0 + WT < T) load(t0 + WT); /* in flight while this tile is scanned */
        const int t = t0 + lane;
        const int reset = spos[lane] == 0;
#pragma unroll
        for (int j = 0; j < WCPW; j++) {
            int cc = warp * WCPW + j;
            float a, u;
            rg_gate(sx[lane][cc], sgx[lane][cc], sga[lane][cc], sp[j], reset, a, u);
            if (t >= T) { a = 1.0f; u = 0.0f; } /* identity past the end */
            float beta = lane == 0 ? (reset ? u : a * carry[j] + u) : u;
            float h = warp_scan_fwd(lane == 0 ? 0.0f : a, beta);
            sy[lane][cc] = h;
            carry[j] = __shfl_sync(0xffffffffu, h, 31);
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < WROWS; r++) {
            int row = warp + r * WWARPS, tt = t0 + row;
            if (tt < T && cl < C) y[((size_t)b * T + tt) * C + cl] = sy[row][lane];
        }
        /* the next iteration writes sx.. only after its loads; sy is rewritten
         * only after the next __syncthreads, which every thread reaches after
         * finishing these stores */
    }
    if (h_last && T > 0 && lane == 0) {
#pragma unroll
        for (int j = 0; j < WCPW; j++) {
            int c = c0 + warp * WCPW + j;
            if (c < C) h_last[(size_t)b * C + c] = carry[j];
        }
    }
}

__global__ void __launch_bounds__(WWARPS * 32)
k_rglru_bwd_warp(float *__restrict__ dx, float *__restrict__ dgx, float *__restrict__ dga, float *da_part,
                 const float *__restrict__ dy, const float *__restrict__ y, const float *__restrict__ x,
                 const float *__restrict__ gx, const float *__restrict__ ga, const float *__restrict__ a_param,
                 const int32_t *__restrict__ pos, const float *__restrict__ h0, int T, int C) {
    __shared__ float sdy[WT][WC + 1], shp[WT][WC + 1], sx[WT][WC + 1], sgx[WT][WC + 1], sga[WT][WC + 1];
    __shared__ float o1[WT][WC + 1], o2[WT][WC + 1], o3[WT][WC + 1];
    __shared__ int spos[WT];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int c0 = blockIdx.x * WC, b = blockIdx.y;
    const int cl = c0 + lane;
    const float hinit = (cl < C && h0) ? h0[(size_t)b * C + cl] : 0.0f;
    float sp[WCPW], sa[WCPW], cg[WCPW], acc[WCPW];
#pragma unroll
    for (int j = 0; j < WCPW; j++) {
        int c = c0 + warp * WCPW + j;
        sp[j] = c < C ? gpu_softplusf(a_param[c]) : 0.0f;
        sa[j] = c < C ? gpu_sigmoidf(a_param[c]) : 0.0f;
        cg[j] = 0.0f; /* a_{s'} g_{s'} of the first step of the later tile */
        acc[j] = 0.0f;
    }
    const int ntiles = (T + WT - 1) / WT;
    for (int tile = ntiles - 1; tile >= 0; tile--) {
        const int t0 = tile * WT;
#pragma unroll
        for (int r = 0; r < WROWS; r++) {
            int row = warp + r * WWARPS, t = t0 + row;
            size_t o = ((size_t)b * T + t) * C + cl;
            bool ok = t < T && cl < C;
            sdy[row][lane] = ok ? dy[o] : 0.0f;
            shp[row][lane] = ok ? (t > 0 ? y[o - C] : hinit) : 0.0f;
            sx[row][lane] = ok ? x[o] : 0.0f;
            sgx[row][lane] = ok ? gx[o] : 0.0f;
            sga[row][lane] = ok ? ga[o] : 0.0f;
        }
        if (threadIdx.x < WT) spos[threadIdx.x] = (t0 + (int)threadIdx.x < T) ? pos[(size_t)b * T + t0 + threadIdx.x] : 1;
        __syncthreads();
        const int t = t0 + lane;
        const int reset = spos[lane] == 0;
#pragma unroll
        for (int j = 0; j < WCPW; j++) {
            int cc = warp * WCPW + j;
            float a = t < T ? rg_a(sga[lane][cc], sp[j], reset) : 0.0f;
            float anext = __shfl_down_sync(0xffffffffu, a, 1); /* a_{t+1} */
            float beta = sdy[lane][cc] + (lane == 31 ? cg[j] : 0.0f);
            float g = warp_scan_rev(lane == 31 ? 0.0f : anext, beta);
            float r1 = 0.0f, r2 = 0.0f, r3 = 0.0f, part = 0.0f;
            if (t < T) rg_bwd_elem(g, shp[lane][cc], sx[lane][cc], sgx[lane][cc], sga[lane][cc], sp[j], sa[j], reset, r1, r2, r3, part);
            o1[lane][cc] = r1;
            o2[lane][cc] = r2;
            o3[lane][cc] = r3;
            acc[j] += part;
            cg[j] = __shfl_sync(0xffffffffu, a * g, 0);
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < WROWS; r++) {
            int row = warp + r * WWARPS, tt = t0 + row;
            if (tt < T && cl < C) {
                size_t o = ((size_t)b * T + tt) * C + cl;
                dx[o] = o1[row][lane];
                dgx[o] = o2[row][lane];
                dga[o] = o3[row][lane];
            }
        }
        __syncthreads(); /* before the next tile overwrites the shared tiles */
    }
#pragma unroll
    for (int j = 0; j < WCPW; j++) {
        float v = acc[j];
        for (int d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
        int c = c0 + warp * WCPW + j;
        if (lane == 0 && c < C) da_part[(size_t)b * C + c] = v; /* (B, C) */
    }
}

static int rglru_forward_warp(float *y, float *h_last, const float *x, const float *gx, const float *ga,
                              const float *a_param, const int32_t *pos, const float *h0, int B, int T, int C) {
    GPU_TRY(check_dims("rglru warp", B, T, C));
    if (!B || !C || !T) return 0;
    dim3 grd((unsigned)((C + WC - 1) / WC), (unsigned)B);
    k_rglru_fwd_warp<<<grd, WWARPS * 32, 0, gpu_s()>>>(y, h_last, x, gx, ga, a_param, pos, h0, T, C);
    KERNEL_CHECK();
    return 0;
}

static int rglru_backward_warp(float *dx, float *dgx, float *dga, float *da_param, const float *dy,
                               const float *y, const float *x, const float *gx, const float *ga,
                               const float *a_param, const int32_t *pos, const float *h0, int B, int T,
                               int C) {
    GPU_TRY(check_dims("rglru warp", B, T, C));
    if (!B || !C || !T) return 0;
    float *part = gpu_part_buf((size_t)B * C);
    if (!part) return -1;
    dim3 grd((unsigned)((C + WC - 1) / WC), (unsigned)B);
    k_rglru_bwd_warp<<<grd, WWARPS * 32, 0, gpu_s()>>>(dx, dgx, dga, part, dy, y, x, gx, ga, a_param, pos, h0, T, C);
    KERNEL_CHECK();
    return da_reduce(da_param, part, (size_t)B, C);
}

/* ---- T = 1 decode ------------------------------------------------------------------ */

__global__ void k_rglru_step(float *y, float *h, const float *x, const float *gx, const float *ga,
                             const float *a_param, const int32_t *pos, const uint8_t *active, int B, int C) {
    GRID_STRIDE(i, (size_t)B * C) {
        int b = (int)(i / C), c = (int)(i % C);
        if (active && !active[b]) {
            y[i] = 0.0f;
            continue;
        }
        int rs = pos[b] == 0;
        float a, u;
        rg_gate(x[i], gx[i], ga[i], gpu_softplusf(a_param[c]), rs, a, u);
        float hn = rs ? u : a * h[i] + u;
        h[i] = hn;
        y[i] = hn;
    }
}

extern "C" int gpu_rglru_step(float *y, float *h, const float *x, const float *gx, const float *ga,
                              const float *a_param, const int32_t *pos, const uint8_t *active, int B, int C) {
    size_t n = (size_t)B * C;
    if (!n) return 0;
    k_rglru_step<<<gpu_blocks(n, 256), 256, 0, gpu_s()>>>(y, h, x, gx, ga, a_param, pos, active, B, C);
    KERNEL_CHECK();
    return 0;
}

/* ---- the variant table --------------------------------------------------------------- */

extern "C" const gpu_rglru_variant gpu_rglru_variants[] = {
    {"seq", rglru_forward_seq, rglru_backward_seq,
     "one thread per (b, c), sequential in time, loads of 8 steps in flight"},
    {"chunked", rglru_forward_chunked, rglru_backward_chunked,
     "time chunks across blocks: local scans, carry pass, re-scan from the carry"},
    {"warp", rglru_forward_warp, rglru_backward_warp,
     "32x32 tiles via shared memory, warp-shuffle scan per channel, carry across tiles"},
    {NULL, NULL, NULL, NULL},
};

extern "C" const gpu_rglru_variant *gpu_rglru_find(const char *name) {
    if (!name) return NULL;
    for (const gpu_rglru_variant *v = gpu_rglru_variants; v->name; v++)
        if (strcmp(v->name, name) == 0) return v;
    return NULL;
}
