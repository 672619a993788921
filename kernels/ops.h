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
/* da, db = */
void geglu_backward(float *da, float *db, const float *dout, const float *a,
                    const float *b, size_t n);
void geglu_backward_ref(float *da, float *db, const float *dout, const float *a,
                        const float *b, size_t n);

/* ---- logit soft-cap: y = c * tanh(x / c) (c > 0), in place ------------ */
void softcap_forward(float *x, size_t n, float c);
/* dx = dy * (1 - (y/c)^2), given the capped output y; in place on dy. */
void softcap_backward(float *dy, const float *y, size_t n, float c);

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

/* ---- softmax cross-entropy -------------------------------------------
 * loss[n] = logsumexp(logits[n]) - logits[n][target[n]]; targets < 0 give
 * loss 0 (masked). Returns nothing; the caller weighs and sums. */
void xent_forward(float *loss, const float *logits, const int32_t *targets, int N, int V);
void xent_forward_ref(float *loss, const float *logits, const int32_t *targets, int N,
                      int V);
/* dlogits (N,V) = (softmax - onehot) * dloss[n]; rows with target < 0 get 0.
 * dlogits may alias logits (in place). */
void xent_backward(float *dlogits, const float *logits, const int32_t *targets,
                   const float *dloss, int N, int V);
void xent_backward_ref(float *dlogits, const float *logits, const int32_t *targets,
                       const float *dloss, int N, int V);

#ifdef __cplusplus
}
#endif
#endif
