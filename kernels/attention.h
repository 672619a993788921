/* attention.h — multi-query attention (H query heads, one shared K/V head)
 * for prefill/training and for decode, as named variants.
 *
 * Prefill: q (B,T,H,dh) (RoPE applied), k, v (B,T,dh) (RoPE applied to k);
 * out (B,T,H,dh). Key s is visible to query t iff
 *   s <= t, same document (segment id = number of pos==0 at or before the
 *   index, per sequence), and, when window >= 0, t - window <= s
 *   (window+1 keys including the current one; Griffin spec §3).
 * window < 0 means global (causal, same document).
 * Scores scaled by dh^-1/2, masked logits at -2.3819763e38, softmax in fp32.
 * lse (B,H,T): log-sum-exp of each query row, saved for backward (may be
 * NULL in forward when no backward follows).
 *
 * Backward: dq, dk, dv are written (=) (activation gradients).
 *
 * Variants: "ref" (full T x T masked matrix per head), "banded" (only the
 * window+1 keys; linear in T for local attention), "tiled" (online softmax
 * over key tiles, never materialises a row), "flash" (the default: tiled
 * with register-tiled GEMMs and a one-pass backward whose per-thread dQ
 * partials are summed in thread order, so results depend on the thread
 * count only).
 */
#ifndef GRIFFIN_ATTENTION_H
#define GRIFFIN_ATTENTION_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTN_MASK_VALUE (-2.3819763e38f)

typedef void (*attn_fwd_fn)(float *out, float *lse, const float *q, const float *k,
                            const float *v, const int32_t *pos, int B, int T, int H,
                            int dh, int window);
typedef void (*attn_bwd_fn)(float *dq, float *dk, float *dv, const float *dout,
                            const float *out, const float *lse, const float *q,
                            const float *k, const float *v, const int32_t *pos, int B,
                            int T, int H, int dh, int window);

typedef struct {
    const char *name;
    attn_fwd_fn forward;
    attn_bwd_fn backward;
    const char *help;
} attn_variant;

extern const attn_variant attn_variants[]; /* terminated by {NULL} */
const attn_variant *attn_find(const char *name);
#define ATTN_DEFAULT "flash"

/* Decode: one new token per sequence.
 * out (B,H,dh); q (B,H,dh) roped; kc, vc (B,S,dh) cache slots of which the
 * first nvalid[b] are valid for sequence b (slot order is irrelevant to the
 * softmax: a ring buffer passes min(n, W), a growing cache passes n);
 * knew, vnew (B,dh) the current token's key/value, always attended.
 * The caller writes knew/vnew into the cache after this call. */
void attn_decode(float *out, const float *q, const float *kc, const float *vc,
                 const int32_t *nvalid, const float *knew, const float *vnew, int B,
                 int H, int dh, int S);
void attn_decode_ref(float *out, const float *q, const float *kc, const float *vc,
                     const int32_t *nvalid, const float *knew, const float *vnew, int B,
                     int H, int dh, int S);

#ifdef __cplusplus
}
#endif
#endif
