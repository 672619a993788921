/* ops.c — fast CPU versions of the kernels in ops.h (causal depthwise conv1d,
 * RMSNorm, GeLU-tanh / GeGLU, soft-cap, RoPE, softmax cross-entropy).
 *
 * How: OpenMP across rows (or channel blocks where a reduction over rows
 * would race), inner loops contiguous and marked `omp simd` so gcc -O3
 * -march=native vectorises them; transcendental functions through the
 * branch-free ops_expf / ops_tanhf of ops.h. No allocation anywhere.
 * The scalar oracles live in ops_ref.c; tests/test_ops.c checks each fast
 * kernel against its `_ref` twin on odd shapes.
 */
#include "ops.h"

#include <math.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Threading pays only above this much work (elements touched). */
#define OPS_PAR_MIN 32768
/* The GeGLU forward (one exp and a division per element) goes to the team
 * from this many elements: a decode step's (2048-6144 at B=1) took 20-60 us
 * on one thread, and in the team it also keeps the second thread spinning
 * between the step's GEMM regions instead of asleep. */
#define OPS_PAR_MIN_GELU 2048

static int ops_nthreads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* ---- conv1d (Griffin spec §2.1) ------------------------------------------
 * y_t = b + sum_s w[K-1-s] * x_{t-s}, s = 0 .. reach(t), where reach(t) is
 * the furthest look-back not crossing a document start (pos == 0) nor t = 0. */

static inline int conv_reach_back(const int32_t *pb, int t, int K) {
    int s = 0;
    while (s < K - 1 && t - s - 1 >= 0 && !(pb && pb[t - s] == 0)) s++;
    return s;
}

/* Furthest s such that x_t feeds y_{t+s}: t+s < T and no pos == 0 in (t, t+s]. */
static inline int conv_reach_fwd(const int32_t *pb, int t, int T, int K) {
    int s = 0;
    while (s < K - 1 && t + s + 1 < T && !(pb && pb[t + s + 1] == 0)) s++;
    return s;
}

void conv1d_forward(float *y, const float *x, const float *w, const float *b,
                    const int32_t *pos, int B, int T, int C, int K) {
    long rows = (long)B * T;
#pragma omp parallel for schedule(static) if (rows * C > OPS_PAR_MIN)
    for (long row = 0; row < rows; row++) {
        int bi = (int)(row / T), t = (int)(row % T);
        int reach = conv_reach_back(pos ? pos + (size_t)bi * T : NULL, t, K);
        float *restrict yr = y + (size_t)row * C;
        const float *wk = w + (size_t)(K - 1) * C, *xr = x + (size_t)row * C;
#pragma omp simd
        for (int c = 0; c < C; c++) yr[c] = (b ? b[c] : 0.0f) + wk[c] * xr[c];
        for (int s = 1; s <= reach; s++) {
            const float *ws = w + (size_t)(K - 1 - s) * C, *xs = x + (size_t)(row - s) * C;
#pragma omp simd
            for (int c = 0; c < C; c++) yr[c] += ws[c] * xs[c];
        }
    }
}

/* Channel blocks across threads: each thread owns dw/db for its channels,
 * so the reduction over (B,T) needs no atomics and no scratch. */
void conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                     const float *w, const int32_t *pos, int B, int T, int C, int K) {
    int nt = ops_nthreads();
    int cw = (C + nt - 1) / nt;
    cw = (cw + 15) / 16 * 16;
    if (cw < 16) cw = 16;
    int nchunks = (C + cw - 1) / cw;
#pragma omp parallel for schedule(static) if ((long)B * T * C > OPS_PAR_MIN)
    for (int ch = 0; ch < nchunks; ch++) {
        int c0 = ch * cw, c1 = c0 + cw < C ? c0 + cw : C;
        for (int bi = 0; bi < B; bi++) {
            const int32_t *pb = pos ? pos + (size_t)bi * T : NULL;
            for (int t = 0; t < T; t++) {
                size_t row = (size_t)bi * T + t;
                int reach = conv_reach_fwd(pb, t, T, K);
                float *restrict dxr = dx + row * C;
                const float *xr = x + row * C, *g0 = dy + row * C;
                const float *wk = w + (size_t)(K - 1) * C;
                float *dwk = dw ? dw + (size_t)(K - 1) * C : NULL;
#pragma omp simd
                for (int c = c0; c < c1; c++) dxr[c] = wk[c] * g0[c];
                if (db) {
#pragma omp simd
                    for (int c = c0; c < c1; c++) db[c] += g0[c];
                }
                if (dwk) {
#pragma omp simd
                    for (int c = c0; c < c1; c++) dwk[c] += g0[c] * xr[c];
                }
                for (int s = 1; s <= reach; s++) {
                    const float *gs = dy + (row + s) * C, *ws = w + (size_t)(K - 1 - s) * C;
#pragma omp simd
                    for (int c = c0; c < c1; c++) dxr[c] += ws[c] * gs[c];
                    if (dw) {
                        float *restrict dws = dw + (size_t)(K - 1 - s) * C;
#pragma omp simd
                        for (int c = c0; c < c1; c++) dws[c] += gs[c] * xr[c];
                    }
                }
            }
        }
    }
}

void conv1d_step(float *y, float *state, const float *x, const float *w, const float *b,
                 int B, int C, int K) {
#pragma omp parallel for schedule(static) if ((long)B * C * K > OPS_PAR_MIN)
    for (int bi = 0; bi < B; bi++) {
        float *st = state + (size_t)bi * (K - 1) * C;
        const float *xr = x + (size_t)bi * C;
        float *restrict yr = y + (size_t)bi * C;
        const float *wk = w + (size_t)(K - 1) * C;
#pragma omp simd
        for (int c = 0; c < C; c++) yr[c] = (b ? b[c] : 0.0f) + wk[c] * xr[c];
        for (int k = 0; k < K - 1; k++) {
            const float *wr = w + (size_t)k * C, *sr = st + (size_t)k * C;
#pragma omp simd
            for (int c = 0; c < C; c++) yr[c] += wr[c] * sr[c];
        }
        for (int k = 0; k + 1 < K - 1; k++) { /* shift: oldest row drops out */
            float *dst = st + (size_t)k * C;
            const float *src = st + (size_t)(k + 1) * C;
#pragma omp simd
            for (int c = 0; c < C; c++) dst[c] = src[c];
        }
        if (K > 1) {
            float *last = st + (size_t)(K - 2) * C;
#pragma omp simd
            for (int c = 0; c < C; c++) last[c] = xr[c];
        }
    }
}

/* ---- RMSNorm -------------------------------------------------------------- */

void rmsnorm_forward(float *y, float *rstd, const float *x, const float *scale, int N,
                     int C, float eps) {
#pragma omp parallel for schedule(static) if ((long)N * C > OPS_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C;
        float *restrict yr = y + (size_t)n * C;
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int c = 0; c < C; c++) ss += xr[c] * xr[c];
        float r = 1.0f / sqrtf(ss / (float)C + eps);
        if (rstd) rstd[n] = r;
#pragma omp simd
        for (int c = 0; c < C; c++) yr[c] = xr[c] * r * (1.0f + scale[c]);
    }
}

/* dx += r g dy - x r^3/C sum(dy g x); dscale += sum_rows dy x r.
 * Rows across threads for dx, then column blocks across threads for dscale. */
void rmsnorm_backward(float *dx, float *dscale, const float *dy, const float *x,
                      const float *rstd, const float *scale, int N, int C) {
    int nt = ops_nthreads();
    int cw = (C + nt - 1) / nt;
    cw = (cw + 15) / 16 * 16;
    if (cw < 16) cw = 16;
    int nchunks = (C + cw - 1) / cw;
#pragma omp parallel if ((long)N * C > OPS_PAR_MIN)
    {
#pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            const float *xr = x + (size_t)n * C, *gr = dy + (size_t)n * C;
            float *restrict dxr = dx + (size_t)n * C;
            float r = rstd[n], dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int c = 0; c < C; c++) dot += gr[c] * (1.0f + scale[c]) * xr[c];
            float k = r * r * r * dot / (float)C;
#pragma omp simd
            for (int c = 0; c < C; c++) dxr[c] += r * (1.0f + scale[c]) * gr[c] - k * xr[c];
        }
        if (dscale) {
#pragma omp for schedule(static)
            for (int ch = 0; ch < nchunks; ch++) {
                int c0 = ch * cw, c1 = c0 + cw < C ? c0 + cw : C;
                for (int n = 0; n < N; n++) {
                    const float *xr = x + (size_t)n * C, *gr = dy + (size_t)n * C;
                    float r = rstd[n];
#pragma omp simd
                    for (int c = c0; c < c1; c++) dscale[c] += gr[c] * xr[c] * r;
                }
            }
        }
    }
}

/* ---- GeLU (tanh approximation) and GeGLU ----------------------------------- */

#define GELU_KF 0.7978845608f /* sqrt(2/pi) */
#define GELU_AF 0.044715f

/* tanh(u) and sech^2(u) = 1 - tanh^2(u) from one exp: with e = exp(-2|u|),
 * sech^2 = 4e / (1+e)^2, which keeps its relative precision where tanh is
 * near +-1 (1 - t*t in fp32 would not). */
static inline void tanh_sech2(float u, float *t, float *s2) {
    float au = u < 0 ? -u : u, e = ops_expf(-2.0f * au), den = 1.0f + e;
    float tb = (1.0f - e) / den, sb = 4.0f * e / (den * den);
    float x2 = au * au;
    float ts = au * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.053968254f)));
    float ta = au < 0.125f ? ts : tb;
    *s2 = au < 0.125f ? 1.0f - ts * ts : sb;
    *t = u < 0 ? -ta : ta;
}

static inline float gelu1(float x) {
    return 0.5f * x * (1.0f + ops_tanhf(GELU_KF * (x + GELU_AF * x * x * x)));
}
static inline float gelu_grad1(float x) {
    float t, s2;
    tanh_sech2(GELU_KF * (x + GELU_AF * x * x * x), &t, &s2);
    return 0.5f * (1.0f + t) + 0.5f * x * s2 * GELU_KF * (1.0f + 3.0f * GELU_AF * x * x);
}

void gelu_forward(float *y, const float *x, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > OPS_PAR_MIN)
    for (size_t i = 0; i < n; i++) y[i] = gelu1(x[i]);
}
void gelu_backward(float *dx, const float *dy, const float *x, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > OPS_PAR_MIN)
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * gelu_grad1(x[i]);
}
void geglu_forward(float *out, const float *a, const float *b, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= OPS_PAR_MIN_GELU)
    for (size_t i = 0; i < n; i++) out[i] = gelu1(a[i]) * b[i];
}
void geglu_bias_forward(float *out, float *a, float *b, const float *ba, const float *bb, int N, int M, int save) {
    /* work items: rows, or column runs of a row where there are too few rows
     * for the team (decode at batch 1: one row of 4608-6144) */
    const int nth = ops_nthreads();
    int per = N >= 4 * nth ? 1 : (4 * nth + N - 1) / N;
    if (per > M / 256) per = M / 256 > 1 ? M / 256 : 1;
    const int cw = per > 1 ? ((M + per - 1) / per + 15) & ~15 : M;
    per = (M + cw - 1) / cw;
    const long items = (long)N * per;
#pragma omp parallel for schedule(static) if ((long)N * M >= OPS_PAR_MIN_GELU && items > 1)
    for (long it = 0; it < items; it++) {
        const int n = (int)(it / per), m0 = (int)(it % per) * cw, m1 = m0 + cw < M ? m0 + cw : M;
        float *ar = a + (size_t)n * M, *br = b + (size_t)n * M, *restrict o = out + (size_t)n * M;
        if (save) {
#pragma omp simd
            for (int m = m0; m < m1; m++) {
                float u = ar[m] + ba[m], v = br[m] + bb[m];
                ar[m] = u;
                br[m] = v;
                o[m] = gelu1(u) * v;
            }
        } else {
#pragma omp simd
            for (int m = m0; m < m1; m++) o[m] = gelu1(ar[m] + ba[m]) * (br[m] + bb[m]);
        }
    }
}
void geglu_backward(float *da, float *db, const float *dout, const float *a,
                    const float *b, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > OPS_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float ai = a[i], g = dout[i];
        float t, s2;
        tanh_sech2(GELU_KF * (ai + GELU_AF * ai * ai * ai), &t, &s2);
        float ge = 0.5f * ai * (1.0f + t);
        float gd = 0.5f * (1.0f + t) + 0.5f * ai * s2 * GELU_KF * (1.0f + 3.0f * GELU_AF * ai * ai);
        float ga = g * b[i] * gd, gb = g * ge;
        da[i] = ga;
        db[i] = gb;
    }
}

/* ---- soft-cap --------------------------------------------------------------- */

void softcap_forward(float *x, size_t n, float c) {
    float ic = 1.0f / c;
#pragma omp parallel for simd schedule(static) if (n > OPS_PAR_MIN)
    for (size_t i = 0; i < n; i++) x[i] = c * ops_tanhf(x[i] * ic);
}
void softcap_backward(float *dy, const float *y, size_t n, float c) {
    float ic = 1.0f / c;
#pragma omp parallel for simd schedule(static) if (n > OPS_PAR_MIN)
    for (size_t i = 0; i < n; i++) {
        float u = y[i] * ic;
        dy[i] = dy[i] * (1.0f - u * u);
    }
}

/* ---- RoPE (Griffin spec §3) ------------------------------------------------------
 * cos/sin computed once per row (in double, exactly as the ref does, so the
 * two agree bit for bit on the angles) and applied to all H heads. */

#define ROPE_MAX_HALF 512

static void rope_apply(float *x, const int32_t *pos, int N, int H, int dh, int rot,
                       float base, double sign) {
    int half = rot / 2;
    if (half > ROPE_MAX_HALF) { /* beyond any real head size: use the oracle */
        if (sign > 0) rope_forward_ref(x, pos, N, H, dh, rot, base);
        else rope_backward_ref(x, pos, N, H, dh, rot, base);
        return;
    }
    double invf[ROPE_MAX_HALF];
    for (int j = 0; j < half; j++) invf[j] = pow((double)base, -2.0 * j / rot);
#pragma omp parallel for schedule(static) if ((long)N * H * rot > OPS_PAR_MIN)
    for (int n = 0; n < N; n++) {
        float cs[ROPE_MAX_HALF], sn[ROPE_MAX_HALF];
        for (int j = 0; j < half; j++) {
            double th = (double)pos[n] * invf[j];
            cs[j] = (float)cos(th);
            sn[j] = (float)(sign * sin(th));
        }
        for (int h = 0; h < H; h++) {
            float *restrict x1 = x + ((size_t)n * H + h) * dh;
            float *restrict x2 = x1 + half;
#pragma omp simd
            for (int j = 0; j < half; j++) {
                float a = x1[j], b = x2[j];
                x1[j] = a * cs[j] - b * sn[j];
                x2[j] = b * cs[j] + a * sn[j];
            }
        }
    }
}

void rope_forward(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base) {
    rope_apply(x, pos, N, H, dh, rot, base, 1.0);
}
void rope_backward(float *dx, const int32_t *pos, int N, int H, int dh, int rot,
                   float base) {
    rope_apply(dx, pos, N, H, dh, rot, base, -1.0);
}

/* ---- softmax cross-entropy ---------------------------------------------------------- */

static inline float row_lse_fast(const float *l, int V) {
    float m = -INFINITY, s = 0.0f;
#pragma omp simd reduction(max : m)
    for (int v = 0; v < V; v++) m = l[v] > m ? l[v] : m;
#pragma omp simd reduction(+ : s)
    for (int v = 0; v < V; v++) s += ops_expf(l[v] - m);
    return m + logf(s);
}

int xent_forward(float *loss, const float *logits, const int32_t *targets, int N, int V) {
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if ((long)N * V > OPS_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        int tg = targets[n];
        if (tg >= V) { loss[n] = NAN; bad++; continue; } /* never read past the row */
        loss[n] = tg < 0 ? 0.0f : row_lse_fast(l, V) - l[tg];
    }
    return bad;
}

int xent_backward(float *dlogits, const float *logits, const int32_t *targets,
                  const float *dloss, int N, int V) {
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(+ : bad) if ((long)N * V > OPS_PAR_MIN)
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        float *d = dlogits + (size_t)n * V;
        int tg = targets[n];
        if (tg < 0 || tg >= V) {
            float fill = tg < 0 ? 0.0f : NAN;
            bad += tg >= V;
#pragma omp simd
            for (int v = 0; v < V; v++) d[v] = fill;
            continue;
        }
        float lse = row_lse_fast(l, V), g = dloss[n];
        /* same index read then written: safe when d aliases l */
#pragma omp simd
        for (int v = 0; v < V; v++) d[v] = g * ops_expf(l[v] - lse);
        d[tg] -= g;
    }
    return bad;
}
