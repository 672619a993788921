/* scan.h — the RG-LRU (Griffin paper eq. 1-4) and its linear scan, as named
 * variants side by side.
 *
 * Two levels:
 *  1. the linear scan  h_t = a_t * h_{t-1} + u_t  (variants: ref, seq,
 *     chunked, assoc), forward and reverse (backward);
 *  2. the RG-LRU layer: from the conv output x and the two gate
 *     pre-activations (the block-diagonal gate matmuls are done by the
 *     caller), compute
 *        i_t = sigmoid(gx_t), r_t = sigmoid(ga_t)
 *        log a_t = -8 * r_t * softplus(a_param)      (a_param = -Lambda)
 *        a_t = exp(log a_t), a_t^2 = exp(2 log a_t)
 *        u_t = sqrt(1 - a_t^2) * i_t * x_t
 *        at a document start (pos == 0): a_t = 0 and the normaliser is 1
 *        h_t = a_t h_{t-1} + u_t,  y_t = h_t
 *     Non-fused variants write a_t and u_t to `work` and then run the named
 *     linear scan; `fused` does gates, normaliser and scan in one pass.
 *
 * Layout: all activations (B,T,C) row-major, C innermost. State in fp32.
 * pos (B,T) are segment positions; pos == 0 marks a document start (this
 * includes t = 0 of every sequence that starts a document).
 *
 * Backward (reverse scan): g_t = dy_t + a_{t+1} g_{t+1};  du_t = g_t;
 * da_t = g_t * h_{t-1}. The sqrt' uses the bounded derivative
 * 1 / (2 sqrt(max(z, 1/(4*1000^2)))) with z = 1 - a_t^2 (spec §2.2).
 * Accumulation contract: activation gradients (dx, dgx, dga) are written
 * (=); the parameter gradient da_param is accumulated (+=). The gradient
 * with respect to h0 and h_last is not propagated (training starts from
 * h0 = NULL).
 */
#ifndef GRIFFIN_SCAN_H
#define GRIFFIN_SCAN_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- linear scan ------------------------------------------------------- */
/* h (B,T,C) out; h_last (B,C) out or NULL; a, u (B,T,C); h0 (B,C) or NULL (= 0). */
typedef void (*scan_fwd_fn)(float *h, float *h_last, const float *a, const float *u,
                            const float *h0, int B, int T, int C);
/* du (B,T,C) =; da (B,T,C) =; dh (B,T,C) gradient wrt every h_t;
 * a, h from the forward; h0 (B,C) or NULL. */
typedef void (*scan_bwd_fn)(float *du, float *da, const float *dh, const float *a,
                            const float *h, const float *h0, int B, int T, int C);

typedef struct {
    const char *name;
    scan_fwd_fn forward;
    scan_bwd_fn backward;
    const char *help;
} scan_variant;

extern const scan_variant scan_variants[]; /* terminated by {NULL} */
const scan_variant *scan_find(const char *name); /* NULL if unknown */

/* ---- RG-LRU layer ------------------------------------------------------ */
/* y (B,T,C) out; h_last (B,C) out or NULL (may alias h0: in-place state
 * update for decode); x, gx, ga (B,T,C); a_param (C); pos (B,T);
 * h0 (B,C) or NULL; work: rglru_work_floats(B,T,C) floats or NULL for
 * variants that need none. */
typedef void (*rglru_fwd_fn)(float *y, float *h_last, const float *x, const float *gx,
                             const float *ga, const float *a_param, const int32_t *pos,
                             const float *h0, float *work, int B, int T, int C);
/* dx, dgx, dga (B,T,C) =; da_param (C) +=; dy (B,T,C); y from forward
 * (the h sequence); other inputs as in forward. */
typedef void (*rglru_bwd_fn)(float *dx, float *dgx, float *dga, float *da_param,
                             const float *dy, const float *y, const float *x,
                             const float *gx, const float *ga, const float *a_param,
                             const int32_t *pos, const float *h0, float *work,
                             int B, int T, int C);

typedef struct {
    const char *name;
    rglru_fwd_fn forward;
    rglru_bwd_fn backward;
    const char *help;
} rglru_variant;

extern const rglru_variant rglru_variants[]; /* terminated by {NULL} */
const rglru_variant *rglru_find(const char *name); /* NULL if unknown */
size_t rglru_work_floats(int B, int T, int C);     /* enough for every variant */

/* The plain scalar oracle (also reachable as variant "ref"). */
void rglru_forward_ref(float *y, float *h_last, const float *x, const float *gx,
                       const float *ga, const float *a_param, const int32_t *pos,
                       const float *h0, float *work, int B, int T, int C);
void rglru_backward_ref(float *dx, float *dgx, float *dga, float *da_param,
                        const float *dy, const float *y, const float *x, const float *gx,
                        const float *ga, const float *a_param, const int32_t *pos,
                        const float *h0, float *work, int B, int T, int C);

/* ---- tuning (process-wide; not thread-safe against concurrent calls) ---- */
/* Rows per chunk for `chunked` (0 = automatic: about 512 KiB of each stream
 * per chunk, at most ceil(T/threads)). */
void scan_set_chunk_rows(int rows);
/* Problems with fewer than `elems` = B*T*C elements run on one thread
 * (default 32768; 0 = always use every OpenMP thread). */
void scan_set_parallel_min(long elems);

/* Default variant used by the model (best measured on CPU). */
#define RGLRU_DEFAULT "fused"

#ifdef __cplusplus
}
#endif
#endif
