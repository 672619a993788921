/* model_gpu_stub.c — model_gpu.h for builds without CUDA (nvcc not found
 * or NO_CUDA=1): every call fails with util_last_error() saying so.
 * Compiled only when HAVE_CUDA is not defined; the real implementation is
 * models/model_gpu.cu.
 */
#ifndef HAVE_CUDA
#include "model_gpu.h"
#include "util.h"

#define NO_CUDA_WHY "built without CUDA (nvcc not found or NO_CUDA=1)"

gpu_model *gpu_model_create(const model *m) { (void)m; util_error("%s", NO_CUDA_WHY); return NULL; }
void gpu_model_free(gpu_model *g) { (void)g; }
int gpu_model_upload(gpu_model *g, const model *m) { (void)g; (void)m; util_error("%s", NO_CUDA_WHY); return -1; }
int gpu_model_set_variants(gpu_model *g, const char *rglru, const char *attn) {
    (void)g; (void)rglru; (void)attn;
    util_error("%s", NO_CUDA_WHY);
    return -1;
}
size_t gpu_model_param_bytes(const gpu_model *g) { (void)g; return 0; }
int gpu_model_forward(gpu_model *g, const int32_t *tokens, const int32_t *pos, int B, int T, float *logits,
                      gpu_decode *st) {
    (void)g; (void)tokens; (void)pos; (void)B; (void)T; (void)logits; (void)st;
    util_error("%s", NO_CUDA_WHY);
    return -1;
}
const float *gpu_model_logits(const gpu_model *g) { (void)g; return NULL; }
gpu_decode *gpu_decode_create(gpu_model *g, int B, int capacity) {
    (void)g; (void)B; (void)capacity;
    util_error("%s", NO_CUDA_WHY);
    return NULL;
}
void gpu_decode_free(gpu_decode *s) { (void)s; }
int gpu_decode_reset(gpu_decode *s, int b) { (void)s; (void)b; util_error("%s", NO_CUDA_WHY); return -1; }
int gpu_decode_step(gpu_model *g, gpu_decode *s, const int32_t *tokens, const uint8_t *active, float *logits) {
    (void)g; (void)s; (void)tokens; (void)active; (void)logits;
    util_error("%s", NO_CUDA_WHY);
    return -1;
}
const float *gpu_decode_logits(const gpu_decode *s) { (void)s; return NULL; }
int gpu_decode_tokens(const gpu_decode *s, int b) { (void)s; (void)b; return -1; }
size_t gpu_decode_bytes(const gpu_decode *s) { (void)s; return 0; }
#else
typedef int model_gpu_stub_unused; /* ISO C forbids an empty translation unit */
#endif
