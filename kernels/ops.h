/* ops.h — the small element-wise and row-wise kernels: causal depthwise
 * conv1d, RMSNorm (1+scale), GeLU-tanh and the gated GeLU of the MLP, logit
 * soft-cap, RoPE (rotate-half on the first `rot` dims of each head), softmax
 * cross-entropy. Each fast kernel has a `_ref` scalar twin (the oracle).
 *
 * Accumulation contract (design.md): parameter gradients +=; activation
 * gradients = unless the comment says otherwise.
 * pos (B,T) are segment positions: pos == 0 starts a document.
 */
#ifndef GRIFFIN_OPS_H
#define GRIFFIN_OPS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- causal depthwise conv1d, width K (4) -----------------------------
 * y_t = b + sum_{k<K} w[k] * x_{t-(K-1)+k}  (w[K-1] multiplies the current
 * input); x_{t-s} contributes only if t-s >= 0 and no index in (t-s, t] has
 * pos == 0 (document masking). */
void conv1d_forward(float *y, const float *x, const float *w, const float *b,
                    const int32_t *pos, int B, int T, int C, int K);
void conv1d_forward_ref(float *y, const float *x, const float *w, const float *b,
                        const int32_t *pos, int B, int T, int C, int K);
/* dx (B,T,C) =; dw (K,C) +=; db (C) +=. */
void conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                     const float *w, const int32_t *pos, int B, int T, int C, int K);
void conv1d_backward_ref(float *dx, float *dw, float *db, const float *dy, const float *x,
                         const float *w, const int32_t *pos, int B, int T, int C, int K);
/* Decode step (no document masking, as the reference): state (B,K-1,C)
 * holds the last K-1 inputs oldest first, updated in place; x (B,C) -> y (B,C). */
void conv1d_step(float *y, float *state, const float *x, const float *w, const float *b,
                 int B, int C, int K);
void conv1d_step_ref(float *y, float *state, const float *x, const float *w,
                     const float *b, int B, int C, int K);

/* ---- RMSNorm: y = x * rsqrt(mean(x^2) + eps) * (1 + scale) ----------- */
/* x, y (N,C); rstd (N) saved for backward or NULL. */
void rmsnorm_forward(float *y, float *rstd, const float *x, const float *scale, int N,
                     int C, float eps);
void rmsnorm_forward_ref(float *y, float *rstd, const float *x, const float *scale, int N,
                         int C, float eps);
/* dx (N,C) += (accumulates into the residual-stream gradient);
 * dscale (C) +=; rstd from forward. */
void rmsnorm_backward(float *dx, float *dscale, const float *dy, const float *x,
                      const float *rstd, const float *scale, int N, int C);
void rmsnorm_backward_ref(float *dx, float *dscale, const float *dy, const float *x,
                          const float *rstd, const float *scale, int N, int C);

/* ---- GeLU (tanh approximation) and the gated MLP product -------------- */
void gelu_forward(float *y, const float *x, size_t n);
void gelu_forward_ref(float *y, const float *x, size_t n);
void gelu_backward(float *dx, const float *dy, const float *x, size_t n); /* dx = */
void gelu_backward_ref(float *dx, const float *dy, const float *x, size_t n);
/* out = gelu(a) * b */
void geglu_forward(float *out, const float *a, const float *b, size_t n);
void geglu_forward_ref(float *out, const float *a, const float *b, size_t n);
/* The gated MLP product with the branches' biases added in the same pass:
 * out (N,M) = gelu(a + ba) * (b + bb), ba and bb (M) broadcast over rows.
 * save != 0: a and b are replaced by a + ba and b + bb (the pre-activations
 * geglu_backward reads); save == 0: a and b are left as they are. out must
 * not alias a or b. */
void geglu_bias_forward(float *out, float *a, float *b, const float *ba, const float *bb, int N, int M, int save);
void geglu_bias_forward_ref(float *out, float *a, float *b, const float *ba, const float *bb, int N, int M,
                            int save);
/* da, db = */
void geglu_backward(float *da, float *db, const float *dout, const float *a,
                    const float *b, size_t n);
void geglu_backward_ref(float *da, float *db, const float *dout, const float *a,
                        const float *b, size_t n);

/* ---- logit soft-cap: y = c * tanh(x / c) (c > 0), in place ------------ */
void softcap_forward(float *x, size_t n, float c);
/* dx = dy * (1 - (y/c)^2), given the capped output y; in place on dy. */
void softcap_backward(float *dy, const float *y, size_t n, float c);
void softcap_forward_ref(float *x, size_t n, float c);
void softcap_backward_ref(float *dy, const float *y, size_t n, float c);

/* ---- RoPE --------------------------------------------------------------
 * x (N, H, dh) in place, row n at position pos[n]. The first `rot` dims of
 * each head are rotated (rot = dh/2 in the spec), rotate-half layout:
 * x1 = [0, rot/2), x2 = [rot/2, rot); theta_j = pos / base^(2j/rot);
 * x1' = x1 cos - x2 sin; x2' = x2 cos + x1 sin. Dims >= rot pass through.
 * rope_backward applies the inverse rotation in place (dx from dy). */
void rope_forward(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base);
void rope_forward_ref(float *x, const int32_t *pos, int N, int H, int dh, int rot,
                      float base);
void rope_backward(float *dx, const int32_t *pos, int N, int H, int dh, int rot,
                   float base);
void rope_backward_ref(float *dx, const int32_t *pos, int N, int H, int dh, int rot,
                       float base);

/* ---- softmax cross-entropy -------------------------------------------
 * loss[n] = logsumexp(logits[n]) - logits[n][target[n]]; targets < 0 give
 * loss 0 (masked). A target >= V is never read: its row's loss is NaN.
 * Returns the number of such out-of-range targets (0 normally); the caller
 * weighs and sums. */
int xent_forward(float *loss, const float *logits, const int32_t *targets, int N, int V);
int xent_forward_ref(float *loss, const float *logits, const int32_t *targets, int N,
                     int V);
/* dlogits (N,V) = (softmax - onehot) * dloss[n]; rows with target < 0 get 0,
 * rows with a target >= V get NaN (counted in the return value, as above).
 * dlogits may alias logits (in place). */
int xent_backward(float *dlogits, const float *logits, const int32_t *targets,
                  const float *dloss, int N, int V);
int xent_backward_ref(float *dlogits, const float *logits, const int32_t *targets,
                      const float *dloss, int N, int V);

/* ---- vectorisable exp / tanh (helpers for the fast kernels) ----------
 * Branch-free, so gcc -O3 vectorises loops calling them (libm's expf/tanhf
 * vectorise only under -ffast-math). ops_expf: relative error ~2e-7 for
 * x in [-87, 88], 0 below -87.3 (so exp(mask - max) is exactly 0), clamps
 * at 88.3. ops_tanhf: absolute error ~2e-7, odd-series for |x| < 0.125 so
 * small arguments keep their relative precision. */
static inline float ops_expf(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adds round-to-nearest */
    float xc = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    xc = xc == xc ? xc : 0.0f; /* NaN: compute on 0, return NaN below */
    float t = xc * 1.44269504088896341f + magic;
    float n = t - magic;
    float r = xc - n * 0.693359375f;   /* Cody-Waite: ln2 = hi + lo */
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;        /* minimax for exp on [-ln2/2, ln2/2] */
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { float f; uint32_t u; } sc;
    sc.u = (uint32_t)((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] after clamping */
    float y = p * sc.f;
    return x != x ? x : (x < -87.3f ? 0.0f : y);
}

static inline float ops_tanhf(float x) {
    float ax = x < 0 ? -x : x;
    float e = ops_expf(-2.0f * ax);
    float big = (1.0f - e) / (1.0f + e);
    float x2 = ax * ax; /* tanh u = u - u^3/3 + 2u^5/15 - 17u^7/315 + ... */
    float small = ax * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.053968254f)));
    float t = ax < 0.125f ? small : big;
    return x < 0 ? -t : t;
}

#ifdef __cplusplus
}
#endif
#endif
