/* ops_ref.c — plain scalar reference twins of the kernels in ops.h: conv1d,
 * RMSNorm, GeLU-tanh / GeGLU, soft-cap, RoPE, softmax cross-entropy.
 *
 * These are the oracles the fast kernels (ops.c) are tested against
 * (tests/test_ops.c) and the fallback where a fast path does not apply.
 * Written for clarity: one element at a time, libm transcendental functions,
 * sums accumulated in double. No OpenMP, no allocation.
 */
#include "ops.h"

#include <math.h>

/* ---- conv1d (Griffin spec §2.1) ----------------------------------------- */

/* Largest look-back s (<= K-1) such that x_{t-s} may contribute to y_t:
 * t-s >= 0 and no index in (t-s, t] starts a document (pos == 0). */
static int conv_reach(const int32_t *pos_b, int t, int K) {
    int s = 0;
    while (s < K - 1 && t - s - 1 >= 0 && !(pos_b && pos_b[t - s] == 0)) s++;
    return s;
}

void conv1d_forward_ref(float *y, const float *x, const float *w, const float *b,
                        const int32_t *pos, int B, int T, int C, int K) {
    for (int bi = 0; bi < B; bi++) {
        const int32_t *pb = pos ? pos + (size_t)bi * T : NULL;
        for (int t = 0; t < T; t++) {
            int reach = conv_reach(pb, t, K);
            for (int c = 0; c < C; c++) {
                double acc = b ? b[c] : 0.0;
                for (int s = 0; s <= reach; s++)
                    acc += (double)w[(size_t)(K - 1 - s) * C + c] *
                           x[((size_t)bi * T + t - s) * C + c];
                y[((size_t)bi * T + t) * C + c] = (float)acc;
            }
        }
    }
}

void conv1d_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x,
                         const float *w, const int32_t *pos, int B, int T, int C, int K) {
    for (size_t i = 0; i < (size_t)B * T * C; i++) dx[i] = 0.0f;
    for (int bi = 0; bi < B; bi++) {
        const int32_t *pb = pos ? pos + (size_t)bi * T : NULL;
        for (int t = 0; t < T; t++) {
            int reach = conv_reach(pb, t, K);
            for (int c = 0; c < C; c++) {
                float g = dy[((size_t)bi * T + t) * C + c];
                if (db) db[c] += g;
                for (int s = 0; s <= reach; s++) {
                    size_t xi = ((size_t)bi * T + t - s) * C + c;
                    dx[xi] += w[(size_t)(K - 1 - s) * C + c] * g;
                    if (dw) dw[(size_t)(K - 1 - s) * C + c] += x[xi] * g;
                }
            }
        }
    }
}

void conv1d_step_ref(float *y, float *state, const float *x, const float *w,
                     const float *b, int B, int C, int K) {
    for (int bi = 0; bi < B; bi++) {
        float *st = state + (size_t)bi * (K - 1) * C;
        for (int c = 0; c < C; c++) {
            double acc = b ? b[c] : 0.0;
            for (int k = 0; k < K - 1; k++) acc += (double)w[(size_t)k * C + c] * st[(size_t)k * C + c];
            acc += (double)w[(size_t)(K - 1) * C + c] * x[(size_t)bi * C + c];
            y[(size_t)bi * C + c] = (float)acc;
            for (int k = 0; k + 1 < K - 1; k++) st[(size_t)k * C + c] = st[(size_t)(k + 1) * C + c];
            if (K > 1) st[(size_t)(K - 2) * C + c] = x[(size_t)bi * C + c];
        }
    }
}

/* ---- RMSNorm ------------------------------------------------------------ */

void rmsnorm_forward_ref(float *y, float *rstd, const float *x, const float *scale, int N,
                         int C, float eps) {
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C;
        double ss = 0;
        for (int c = 0; c < C; c++) ss += (double)xr[c] * xr[c];
        float r = (float)(1.0 / sqrt(ss / C + eps));
        if (rstd) rstd[n] = r;
        for (int c = 0; c < C; c++) y[(size_t)n * C + c] = xr[c] * r * (1.0f + scale[c]);
    }
}

/* y_i = x_i r g_i, r = (mean x^2 + eps)^-1/2, g = 1 + scale:
 * dx_i = r g_i dy_i - x_i r^3 / C * sum_j dy_j g_j x_j;  dscale_i = dy_i x_i r. */
void rmsnorm_backward_ref(float *dx, float *dscale, const float *dy, const float *x,
                          const float *rstd, const float *scale, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C, *gr = dy + (size_t)n * C;
        double r = rstd[n], dot = 0;
        for (int c = 0; c < C; c++) dot += (double)gr[c] * (1.0 + scale[c]) * xr[c];
        double k = r * r * r * dot / C;
        for (int c = 0; c < C; c++) {
            dx[(size_t)n * C + c] += (float)(r * (1.0 + scale[c]) * gr[c] - k * xr[c]);
            if (dscale) dscale[c] += (float)(gr[c] * xr[c] * r);
        }
    }
}

/* ---- GeLU (tanh approximation) and GeGLU --------------------------------- */

#define GELU_K 0.7978845608028654 /* sqrt(2/pi) */
#define GELU_A 0.044715

static double gelu_d(double x) { return 0.5 * x * (1.0 + tanh(GELU_K * (x + GELU_A * x * x * x))); }
static double gelu_grad_d(double x) {
    double u = GELU_K * (x + GELU_A * x * x * x), t = tanh(u);
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_K * (1.0 + 3.0 * GELU_A * x * x);
}

void gelu_forward_ref(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (float)gelu_d(x[i]);
}
void gelu_backward_ref(float *dx, const float *dy, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = (float)(dy[i] * gelu_grad_d(x[i]));
}
void geglu_forward_ref(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)(gelu_d(a[i]) * b[i]);
}
void geglu_bias_forward_ref(float *out, float *a, float *b, const float *ba, const float *bb, int N, int M,
                            int save) {
    for (int n = 0; n < N; n++)
        for (int m = 0; m < M; m++) {
            size_t i = (size_t)n * M + m;
            float u = a[i] + ba[m], v = b[i] + bb[m];
            out[i] = (float)(gelu_d(u) * v);
            if (save) {
                a[i] = u;
                b[i] = v;
            }
        }
}
void geglu_backward_ref(float *da, float *db, const float *dout, const float *a,
                        const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double g = dout[i];
        float ga = (float)(g * b[i] * gelu_grad_d(a[i]));
        float gb = (float)(g * gelu_d(a[i]));
        da[i] = ga; /* written after reading: da/db may alias dout */
        db[i] = gb;
    }
}

/* ---- soft-cap ------------------------------------------------------------ */

void softcap_forward_ref(float *x, size_t n, float c) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(c * tanh((double)x[i] / c));
}
void softcap_backward_ref(float *dy, const float *y, size_t n, float c) {
    for (size_t i = 0; i < n; i++) {
        double u = (double)y[i] / c;
        dy[i] = (float)(dy[i] * (1.0 - u * u));
    }
}

/* ---- RoPE (Griffin spec §3, rotate-half on the first `rot` dims) --------- */

static void rope_apply_ref(float *x, const int32_t *pos, int N, int H, int dh, int rot,
                           float base, double sign) {
    int half = rot / 2;
    for (int n = 0; n < N; n++) {
        for (int h = 0; h < H; h++) {
            float *xh = x + ((size_t)n * H + h) * dh;
            for (int j = 0; j < half; j++) {
                double th = (double)pos[n] * pow((double)base, -2.0 * j / rot);
                float c = (float)cos(th), s = (float)(sign * sin(th));
                float x1 = xh[j], x2 = xh[j + half];
                xh[j] = x1 * c - x2 * s;
                xh[j + half] = x2 * c + x1 * s;
            }
        }
    }
}

void rope_forward_ref(float *x, const int32_t *pos, int N, int H, int dh, int rot,
                      float base) {
    rope_apply_ref(x, pos, N, H, dh, rot, base, 1.0);
}
void rope_backward_ref(float *dx, const int32_t *pos, int N, int H, int dh, int rot,
                       float base) {
    rope_apply_ref(dx, pos, N, H, dh, rot, base, -1.0);
}

/* ---- softmax cross-entropy ------------------------------------------------ */

static double row_lse(const float *l, int V) {
    double m = -INFINITY, s = 0;
    for (int v = 0; v < V; v++) if (l[v] > m) m = l[v];
    for (int v = 0; v < V; v++) s += exp(l[v] - m);
    return m + log(s);
}

int xent_forward_ref(float *loss, const float *logits, const int32_t *targets, int N,
                     int V) {
    int bad = 0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        if (targets[n] >= V) { loss[n] = NAN; bad++; continue; }
        loss[n] = targets[n] < 0 ? 0.0f : (float)(row_lse(l, V) - l[targets[n]]);
    }
    return bad;
}

int xent_backward_ref(float *dlogits, const float *logits, const int32_t *targets,
                      const float *dloss, int N, int V) {
    int bad = 0;
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        float *d = dlogits + (size_t)n * V;
        if (targets[n] < 0 || targets[n] >= V) {
            bad += targets[n] >= V;
            for (int v = 0; v < V; v++) d[v] = targets[n] < 0 ? 0.0f : NAN;
            continue;
        }
        double lse = row_lse(l, V), g = dloss[n];
        for (int v = 0; v < V; v++) /* read l[v] before writing d[v] (aliasing) */
            d[v] = (float)(g * (exp(l[v] - lse) - (v == targets[n])));
    }
    return bad;
}
