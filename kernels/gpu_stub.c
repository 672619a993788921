/* gpu_stub.c — the CUDA backend's entry points for builds without CUDA
 * (nvcc not found, or NO_CUDA=1): gpu_available() returns 0 with the
 * reason, and every other gpu_* function fails (-1, NULL, 0.0) with
 * util_last_error() saying so. Compiled only when HAVE_CUDA is not defined
 * (the Makefile defines it when it compiles kernels/gpu_*.cu).
 */
#ifndef HAVE_CUDA
#include <stdio.h>

#include "gpu.h"
#include "util.h"

#define NO_CUDA_WHY "built without CUDA (nvcc not found or NO_CUDA=1)"
#define FAIL_INT                              \
    do {                                      \
        util_error("%s", NO_CUDA_WHY);        \
        return -1;                            \
    } while (0)

int gpu_available(char *why, size_t n) {
    if (why && n) snprintf(why, n, "%s", NO_CUDA_WHY);
    return 0;
}
int gpu_info_get(gpu_info *info) { (void)info; FAIL_INT; }
int gpu_describe(char *buf, size_t n) {
    if (buf && n) snprintf(buf, n, "none (%s)", NO_CUDA_WHY);
    FAIL_INT;
}

void *gpu_alloc(size_t bytes) { (void)bytes; util_error("%s", NO_CUDA_WHY); return NULL; }
void gpu_free(void *p) { (void)p; }
int gpu_upload(void *dst, const void *src, size_t bytes) { (void)dst; (void)src; (void)bytes; FAIL_INT; }
int gpu_download(void *dst, const void *src, size_t bytes) { (void)dst; (void)src; (void)bytes; FAIL_INT; }
int gpu_copy(void *dst, const void *src, size_t bytes) { (void)dst; (void)src; (void)bytes; FAIL_INT; }
int gpu_memset(void *dst, int value, size_t bytes) { (void)dst; (void)value; (void)bytes; FAIL_INT; }
int gpu_sync(void) { FAIL_INT; }
float *gpu_upload_floats(const float *src, size_t n) { (void)src; (void)n; util_error("%s", NO_CUDA_WHY); return NULL; }
int32_t *gpu_upload_ints(const int32_t *src, size_t n) { (void)src; (void)n; util_error("%s", NO_CUDA_WHY); return NULL; }

void *gpu_stream(void) { util_error("%s", NO_CUDA_WHY); return NULL; }
int gpu_graph_begin(void) { FAIL_INT; }
gpu_graph *gpu_graph_end(void) { util_error("%s", NO_CUDA_WHY); return NULL; }
int gpu_graph_launch(gpu_graph *g) { (void)g; FAIL_INT; }
void gpu_graph_free(gpu_graph *g) { (void)g; }
unsigned long gpu_graph_epoch(void) { return 0; }
void gpu_graph_invalidate(void) {}
void *gpu_host_alloc(size_t bytes) { (void)bytes; util_error("%s", NO_CUDA_WHY); return NULL; }
void gpu_host_free(void *p) { (void)p; }
int gpu_upload_async(void *dst, const void *src, size_t bytes) { (void)dst; (void)src; (void)bytes; FAIL_INT; }
int gpu_download_async(void *dst, const void *src, size_t bytes) { (void)dst; (void)src; (void)bytes; FAIL_INT; }

gpu_timer *gpu_timer_create(void) { util_error("%s", NO_CUDA_WHY); return NULL; }
void gpu_timer_free(gpu_timer *t) { (void)t; }
int gpu_timer_start(gpu_timer *t) { (void)t; FAIL_INT; }
double gpu_timer_stop(gpu_timer *t) { (void)t; util_error("%s", NO_CUDA_WHY); return -1.0; }
int gpu_l2_flush(void) { FAIL_INT; }
double gpu_copy_bandwidth(size_t bytes, int reps) { (void)bytes; (void)reps; util_error("%s", NO_CUDA_WHY); return 0.0; }
double gpu_sgemm_rate(int n, int reps) { (void)n; (void)reps; util_error("%s", NO_CUDA_WHY); return 0.0; }

int gpu_gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc) { FAIL_INT; }
int gpu_gemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc) { FAIL_INT; }
int gpu_gemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const uint16_t *B, int ldb, float beta, float *C, int ldc) { FAIL_INT; }
int gpu_gemm_bf16_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                      const uint16_t *B, int ldb, float beta, float *C, int ldc) { FAIL_INT; }
int gpu_bf16_from_f32(uint16_t *dst, const float *src, size_t n) { (void)dst; (void)src; (void)n; FAIL_INT; }
int gpu_gemm_strided_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                          long long strideA, const uint16_t *B, int ldb, long long strideB, float beta, float *C,
                          int ldc, long long strideC, int count) { FAIL_INT; }
int gpu_gemm_strided(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                     long long strideA, const float *B, int ldb, long long strideB, float beta, float *C,
                     int ldc, long long strideC, int count) { FAIL_INT; }

const gpu_rglru_variant gpu_rglru_variants[] = {{NULL, NULL, NULL, NULL}};
const gpu_rglru_variant *gpu_rglru_find(const char *name) { (void)name; return NULL; }
void gpu_scan_set_chunk(int steps) { (void)steps; }
int gpu_rglru_step(float *y, float *h, const float *x, const float *gx, const float *ga,
                   const float *a_param, const int32_t *pos, const uint8_t *active, int B, int C) { FAIL_INT; }

int gpu_conv1d_forward(float *y, const float *x, const float *w, const float *b, const int32_t *pos,
                       int B, int T, int C, int K) { FAIL_INT; }
int gpu_conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, const int32_t *pos, int B, int T, int C, int K) { FAIL_INT; }
int gpu_conv1d_step(float *y, float *state, const float *x, const float *w, const float *b,
                    const uint8_t *active, int B, int C, int K) { FAIL_INT; }
int gpu_rmsnorm_forward(float *y, float *rstd, const float *x, const float *scale, int N, int C,
                        float eps) { FAIL_INT; }
int gpu_rmsnorm_backward(float *dx, float *dscale, const float *dy, const float *x, const float *rstd,
                         const float *scale, int N, int C) { FAIL_INT; }
int gpu_gelu_forward(float *y, const float *x, size_t n) { FAIL_INT; }
int gpu_gelu_backward(float *dx, const float *dy, const float *x, size_t n) { FAIL_INT; }
int gpu_geglu_forward(float *out, const float *a, const float *b, size_t n) { FAIL_INT; }
int gpu_geglu_backward(float *da, float *db, const float *dout, const float *a, const float *b,
                       size_t n) { FAIL_INT; }
int gpu_softcap_forward(float *x, size_t n, float c) { FAIL_INT; }
int gpu_softcap_backward(float *dy, const float *y, size_t n, float c) { FAIL_INT; }
int gpu_rope_forward(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base) { FAIL_INT; }
int gpu_rope_backward(float *dx, const int32_t *pos, int N, int H, int dh, int rot, float base) { FAIL_INT; }
int gpu_xent_forward(float *loss, const float *logits, const int32_t *targets, int N, int V) { FAIL_INT; }
int gpu_xent_backward(float *dlogits, const float *logits, const int32_t *targets, const float *dloss,
                      int N, int V) { FAIL_INT; }
int gpu_embed(float *x, const float *E, const int32_t *tok, int N, int D, float scale) { FAIL_INT; }
int gpu_embed_bf16(float *x, const uint16_t *E, const int32_t *tok, int N, int D, float scale) { FAIL_INT; }
int gpu_fill_uniform(float *p, size_t n, float lo, float hi, uint64_t seed) { FAIL_INT; }
int gpu_add(float *y, const float *x, size_t n) { FAIL_INT; }
int gpu_fill_rows(float *out, const float *res, const float *bias, int N, int O) { FAIL_INT; }
int gpu_scale(float *x, size_t n, float s) { FAIL_INT; }

int gpu_embed_backward(float *dE, const float *dx, const int32_t *tok, int N, int D, int V, float scale) { FAIL_INT; }
int gpu_embed_backward_ref(float *dE, const float *dx, const int32_t *tok, int N, int D, int V,
                           float scale) { FAIL_INT; }
int gpu_colsum_acc(float *db, const float *d, int N, int C) { FAIL_INT; }
int gpu_sumsq(double *acc, const float *x, size_t n) { FAIL_INT; }
int gpu_sumsq_get(double *out, const double *acc) { FAIL_INT; }
int gpu_adamw_step(float *p, float *m, float *v, const float *g, const double *sumsq, size_t n,
                   const gpu_adamw_args *a) { FAIL_INT; }

const gpu_attn_variant gpu_attn_variants[] = {{NULL, NULL, NULL, NULL}};
const gpu_attn_variant *gpu_attn_find(const char *name) { (void)name; return NULL; }
int gpu_attn_decode(float *out, const float *q, const float *kc, const float *vc, const int32_t *nvalid,
                    const float *knew, const float *vnew, int B, int H, int dh, int S) { FAIL_INT; }
int gpu_attn_decode_ref(float *out, const float *q, const float *kc, const float *vc, const int32_t *nvalid,
                        const float *knew, const float *vnew, int B, int H, int dh, int S) { FAIL_INT; }
void gpu_attn_decode_set_split(int keys) { (void)keys; }
int gpu_kv_write(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *n,
                 const uint8_t *active, int B, int S, int dh, int ring) { FAIL_INT; }
int gpu_kv_write_slot(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *slot,
                      const uint8_t *active, int B, int dh, int S) { FAIL_INT; }
int gpu_decode_positions(int32_t *pos, int32_t *nvalid, const int32_t *n, int keep, int B) { FAIL_INT; }
int gpu_decode_advance(int32_t *n, const uint8_t *active, int B) { FAIL_INT; }
int gpu_argmax_rows(int32_t *tok, const float *logits, int N, int V) { FAIL_INT; }
#else
/* HAVE_CUDA: the real implementations are in kernels/gpu_*.cu. ISO C
 * forbids an empty translation unit. */
typedef int gpu_stub_unused;
#endif
