/* model_gpu.h — the three model families on the GPU: the weights of a CPU
 * `model` (model.h) uploaded once, device activations sized for (B,T),
 * prefill and batched decode that mirror model_forward and
 * model_decode_step step by step (same checkpoints, same results: fp32
 * throughout; CPU and GPU logits agree to ~1e-5 relative, tested at 1e-3).
 *
 * Plain C API (no CUDA headers); implemented in models/model_gpu.cu, and by
 * models/model_gpu_stub.c in builds without CUDA (every call fails with
 * util_last_error() = "built without CUDA ...").
 * Every int-returning function returns 0, or -1 with util_last_error().
 * Host arrays are marked (host); everything else lives on the device.
 * Not thread-safe: one host thread per process drives the device.
 */
#ifndef GRIFFIN_MODEL_GPU_H
#define GRIFFIN_MODEL_GPU_H
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gpu_model gpu_model;
typedef struct gpu_decode gpu_decode;

/* Upload m's parameters (m->params, laid out by model_layout) and take its
 * config and variant names (mapped to GPU variants: the RG-LRU uses
 * GPU_RGLRU_DEFAULT unless m->rglru names a GPU variant; attention uses
 * GPU_ATTN_DEFAULT likewise). NULL on failure (no device, out of memory). */
gpu_model *gpu_model_create(const model *m);
void gpu_model_free(gpu_model *g);
/* Re-upload the weights from a model of the same config (after training). */
int gpu_model_upload(gpu_model *g, const model *m);
/* Select GPU variants by name (gpu.h tables); NULL keeps the current one. */
int gpu_model_set_variants(gpu_model *g, const char *rglru, const char *attn);
size_t gpu_model_param_bytes(const gpu_model *g);

/* Prefill of B sequences of T tokens. tokens, pos (B,T) (host).
 * Activations are (re)allocated when (B,T) differs from the previous call
 * (an explicit reallocation, never a silent reuse). logits (B,T,V) (host)
 * receives the result, or NULL to leave it on the device
 * (gpu_model_logits). If st != NULL its decode state is set from this
 * prefill (every sequence one document, pos = 0..T-1; st->B == B).
 * -1 on a bad token, shape mismatch or CUDA error. */
int gpu_model_forward(gpu_model *g, const int32_t *tokens, const int32_t *pos, int B, int T,
                      float *logits, gpu_decode *st);
/* Device pointer to the last forward's logits (B,T,V), NULL before any. */
const float *gpu_model_logits(const gpu_model *g);

/* Decode state on the device for B sequences: RG-LRU h and conv state,
 * local-attention KV rings (W slots), global KV caches (capacity tokens). */
gpu_decode *gpu_decode_create(gpu_model *g, int B, int capacity);
void gpu_decode_free(gpu_decode *s);
/* Forget sequence b (b < 0: all). */
int gpu_decode_reset(gpu_decode *s, int b);
/* One step: tokens (B) (host) at positions n[b]; active (B) (host) or NULL;
 * logits (B,V) (host) or NULL (then left on the device: gpu_decode_logits).
 * -1 when a global cache is full (names the sequence) or on CUDA error. */
int gpu_decode_step(gpu_model *g, gpu_decode *s, const int32_t *tokens, const uint8_t *active,
                    float *logits);
const float *gpu_decode_logits(const gpu_decode *s);
int gpu_decode_tokens(const gpu_decode *s, int b);  /* n[b]: tokens seen */
size_t gpu_decode_bytes(const gpu_decode *s);        /* cache bytes (h, conv, KV) */

#ifdef __cplusplus
}
#endif
#endif
