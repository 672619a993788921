/* backend_cuda.c — the `cuda` backend table (backend.h): binds the plain-C
 * gpu.h API (kernels/gpu_*.cu; kernels/gpu_stub.c in builds without CUDA,
 * where every entry fails with the reason and backend_cuda_available says
 * so). Backend memory is device memory (gpu_alloc); every call is queued on
 * gpu.h's process-wide stream. The variant names are gpu.h's tables
 * (gpu_rglru_variants, gpu_attn_variants) and, for GEMM, "cublas" (also
 * "auto"), "ref" (the naive device kernel); the bf16 names "bf16" and
 * "bf16-ref" pick the bf16-weight GEMM likewise: "bf16" is cuBLAS with bf16
 * inputs and fp32 accumulation (cublasGemmEx / cublasGemmStridedBatchedEx,
 * CUDA_R_16BF, CUBLAS_COMPUTE_32F; the activation rounded to bf16 on the
 * device, as the cpu's bf16-dp), "bf16-ref" the naive kernel (B widened, A
 * as is: the cpu's bf16-ref arithmetic).
 */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "util.h"

int backend_cuda_available(char *why, size_t n) { return gpu_available(why, n); }

/* ---- variants --------------------------------------------------------------- */

static int g_gemm_ref, g_gemm16_ref; /* 0: cuBLAS, 1: the naive device kernels */

static const char *cuda_variant_list(backend_kind kind) {
    static char rg[128], at[128];
    if (kind == BK_GEMM) return "auto, cublas, ref, bf16, bf16-ref";
    char *buf = kind == BK_RGLRU ? rg : at;
    if (!buf[0]) {
        size_t o = 0;
        if (kind == BK_RGLRU)
            for (const gpu_rglru_variant *v = gpu_rglru_variants; v->name; v++)
                o += (size_t)snprintf(buf + o, 128 - o, "%s%s", o ? ", " : "", v->name);
        else
            for (const gpu_attn_variant *v = gpu_attn_variants; v->name; v++)
                o += (size_t)snprintf(buf + o, 128 - o, "%s%s", o ? ", " : "", v->name);
        if (!o) snprintf(buf, 128, "none in this build");
    }
    return buf;
}

static const gpu_rglru_variant *cuda_rglru(const char *name) {
    const gpu_rglru_variant *v = name ? gpu_rglru_find(name) : NULL;
    if (!v) util_error("cuda backend: unknown RG-LRU variant '%s' (known: %s)", name ? name : "(null)", cuda_variant_list(BK_RGLRU));
    return v;
}

static const gpu_attn_variant *cuda_attn(const char *name) {
    const gpu_attn_variant *v = name ? gpu_attn_find(name) : NULL;
    if (!v) util_error("cuda backend: unknown attention variant '%s' (known: %s)", name ? name : "(null)", cuda_variant_list(BK_ATTN));
    return v;
}

/* GEMM names -> (which selection, naive?); -1 for an unknown name. */
static int gemm_name(const char *name, int *bf16, int *ref) {
    static const struct { const char *n; int bf16, ref; } names[] = {
        {"auto", 0, 0}, {"cublas", 0, 0}, {"ref", 0, 1}, {"bf16", 1, 0}, {"bf16-ref", 1, 1}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].n)) {
            *bf16 = names[i].bf16;
            *ref = names[i].ref;
            return 0;
        }
    util_error("cuda backend: unknown gemm variant '%s' (known: %s)", name ? name : "(null)", cuda_variant_list(BK_GEMM));
    return -1;
}

static int cuda_variant_check(backend_kind kind, const char *name) {
    int b, r;
    switch (kind) {
    case BK_RGLRU: return cuda_rglru(name) ? 0 : -1;
    case BK_ATTN: return cuda_attn(name) ? 0 : -1;
    case BK_GEMM: return gemm_name(name, &b, &r);
    }
    util_error("cuda backend: unknown variant kind %d", (int)kind);
    return -1;
}

static int cuda_gemm_select(const char *name) {
    int bf16, ref;
    if (gemm_name(name, &bf16, &ref) != 0) return -1;
    if (bf16) g_gemm16_ref = ref;
    else g_gemm_ref = g_gemm16_ref = ref; /* as on the cpu: an fp32 name sets both */
    gpu_graph_invalidate(); /* a captured graph has the old GEMM */
    return 0;
}

/* ---- graphs: CUDA graphs on gpu.h's stream, stale once gpu_graph_epoch moves ---- */

typedef struct {
    gpu_graph *g;
    unsigned long epoch;
} cuda_graph;

static int cuda_graph_begin(void) { return gpu_graph_begin(); }

static void *cuda_graph_end(void) {
    unsigned long e = gpu_graph_epoch();
    gpu_graph *g = gpu_graph_end();
    if (!g) return NULL;
    if (gpu_graph_epoch() != e) { /* something was freed while capturing */
        gpu_graph_free(g);
        util_error("cuda backend: device memory was freed during a graph capture");
        return NULL;
    }
    cuda_graph *cg = calloc(1, sizeof *cg);
    if (!cg) {
        gpu_graph_free(g);
        util_error("cuda backend: out of memory");
        return NULL;
    }
    cg->g = g;
    cg->epoch = e;
    return cg;
}

static int cuda_graph_launch(void *graph) {
    cuda_graph *cg = graph;
    if (!cg) {
        util_error("cuda backend: NULL graph");
        return -1;
    }
    if (cg->epoch != gpu_graph_epoch()) return 1;
    return gpu_graph_launch(cg->g);
}

static void cuda_graph_free(void *graph) {
    cuda_graph *cg = graph;
    if (!cg) return;
    gpu_graph_free(cg->g);
    free(cg);
}

/* ---- GEMM ---------------------------------------------------------------------- */

static int cuda_gemm(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                     float beta, float *C, int ldc) {
    return (g_gemm_ref ? gpu_gemm_ref : gpu_gemm)(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static int cuda_gemm_bf16(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, const uint16_t *B,
                          int ldb, float beta, float *C, int ldc) {
    return (g_gemm16_ref ? gpu_gemm_bf16_ref : gpu_gemm_bf16)(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static int cuda_gemm_strided(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, long long sA,
                             const float *B, int ldb, long long sB, float beta, float *C, int ldc, long long sC,
                             int count) {
    if (!g_gemm_ref) return gpu_gemm_strided(tA, tB, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, count);
    for (int i = 0; i < count; i++)
        if (gpu_gemm_ref(tA, tB, M, N, K, alpha, A + i * sA, lda, B + i * sB, ldb, beta, C + i * sC, ldc) != 0) return -1;
    return 0;
}

static int cuda_gemm_strided_bf16(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda,
                                  long long sA, const uint16_t *B, int ldb, long long sB, float beta, float *C,
                                  int ldc, long long sC, int count) {
    if (!g_gemm16_ref)
        return gpu_gemm_strided_bf16(tA, tB, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC, count);
    for (int i = 0; i < count; i++)
        if (gpu_gemm_bf16_ref(tA, tB, M, N, K, alpha, A + i * sA, lda, B + i * sB, ldb, beta, C + i * sC, ldc) != 0)
            return -1;
    return 0;
}

/* A group is its GEMMs one after another on the stream (each one cuBLAS call). */
static int cuda_gemm_group(int M, int count, const gemm_op *ops) {
    for (int i = 0; i < count; i++) {
        const gemm_op *o = &ops[i];
        int rc = o->B16 ? cuda_gemm_bf16(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B16, o->ldb, o->beta, o->C, o->ldc)
                        : cuda_gemm(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B, o->ldb, o->beta, o->C, o->ldc);
        if (rc != 0) return -1;
    }
    return 0;
}

/* ---- embedding ------------------------------------------------------------------- */

/* GeGLU with the up-projection biases: the biases added in place (fill_rows
 * with res = out: element-wise), then the product (backend.h allows a and b
 * to change when save == 0). */
static int cuda_geglu_bias(float *out, float *a, float *b, const float *ba, const float *bb, int N, int M, int save) {
    (void)save;
    if (gpu_fill_rows(a, a, ba, N, M) != 0 || gpu_fill_rows(b, b, bb, N, M) != 0) return -1;
    return gpu_geglu_forward(out, a, b, (size_t)N * M);
}

static int cuda_embed_backward(float *dE, const float *dx, const int32_t *tok, int N, int D, int V, float scale) {
    return gpu_embed_backward(dE, dx, tok, N, D, V, scale);
}

/* ---- RG-LRU / attention ----------------------------------------------------------- */

static int cuda_rglru_forward(const char *variant, float *y, float *h_last, const float *x, const float *gx,
                              const float *ga, const float *a_param, const int32_t *pos, const float *h0, float *work,
                              int B, int T, int C) {
    const gpu_rglru_variant *v = cuda_rglru(variant);
    (void)work;
    return v ? v->forward(y, h_last, x, gx, ga, a_param, pos, h0, B, T, C) : -1;
}

static int cuda_rglru_backward(const char *variant, float *dx, float *dgx, float *dga, float *da_param,
                               const float *dy, const float *y, const float *x, const float *gx, const float *ga,
                               const float *a_param, const int32_t *pos, const float *h0, float *work, int B, int T,
                               int C) {
    const gpu_rglru_variant *v = cuda_rglru(variant);
    (void)work;
    return v ? v->backward(dx, dgx, dga, da_param, dy, y, x, gx, ga, a_param, pos, h0, B, T, C) : -1;
}

/* The device has one decode-step kernel for every variant; the name is
 * still checked, so a typo fails here as it does on the cpu. */
static int cuda_rglru_step(const char *variant, float *y, float *h, const float *x, const float *gx, const float *ga,
                           const float *a_param, const int32_t *pos, const uint8_t *active, int B, int C) {
    if (!cuda_rglru(variant)) return -1;
    return gpu_rglru_step(y, h, x, gx, ga, a_param, pos, active, B, C);
}

static int cuda_attn_forward(const char *variant, float *out, float *lse, const float *q, const float *k,
                             const float *v, const int32_t *pos, int B, int T, int H, int dh, int window) {
    const gpu_attn_variant *av = cuda_attn(variant);
    return av ? av->forward(out, lse, q, k, v, pos, B, T, H, dh, window) : -1;
}

static int cuda_attn_backward(const char *variant, float *dq, float *dk, float *dv, const float *dout,
                              const float *out, const float *lse, const float *q, const float *k, const float *v,
                              const int32_t *pos, int B, int T, int H, int dh, int window) {
    const gpu_attn_variant *av = cuda_attn(variant);
    if (!av) return -1;
    if (!av->backward) {
        util_error("cuda backend: attention variant '%s' has no backward", variant);
        return -1;
    }
    return av->backward(dq, dk, dv, dout, out, lse, q, k, v, pos, B, T, H, dh, window);
}

/* ---- optimizer ----------------------------------------------------------------------- */

static int cuda_adamw(float *p, float *m, float *v, const float *g, const double *sumsq, size_t n,
                      const backend_adamw_args *a) {
    gpu_adamw_args ga = {.lr = a->lr, .wd = a->wd, .beta1 = a->beta1, .beta2 = a->beta2, .eps = a->eps,
                         .clip = a->clip, .t = a->t, .decay = a->decay};
    return gpu_adamw_step(p, m, v, g, sumsq, n, &ga);
}

const backend backend_cuda = {
    .name = "cuda",
    .rglru_default = GPU_RGLRU_DEFAULT,
    .attn_default = GPU_ATTN_DEFAULT,
    .host_memory = 0,
    .graphs = 1,
    .variant_check = cuda_variant_check,
    .variant_list = cuda_variant_list,
    .gemm_select = cuda_gemm_select,
    .alloc = gpu_alloc,
    .free = gpu_free,
    .upload = gpu_upload,
    .download = gpu_download,
    .copy = gpu_copy,
    .memset = gpu_memset,
    .sync = gpu_sync,
    .graph_begin = cuda_graph_begin,
    .graph_end = cuda_graph_end,
    .graph_launch = cuda_graph_launch,
    .graph_free = cuda_graph_free,
    .fill_rows = gpu_fill_rows,
    .add = gpu_add,
    .embed = gpu_embed,
    .embed_bf16 = gpu_embed_bf16,
    .embed_backward = cuda_embed_backward,
    .colsum = gpu_colsum_acc,
    .gemm = cuda_gemm,
    .gemm_bf16 = cuda_gemm_bf16,
    .gemm_strided = cuda_gemm_strided,
    .gemm_strided_bf16 = cuda_gemm_strided_bf16,
    .gemm_group = cuda_gemm_group,
    .rmsnorm_forward = gpu_rmsnorm_forward,
    .rmsnorm_backward = gpu_rmsnorm_backward,
    .geglu_forward = gpu_geglu_forward,
    .geglu_bias = cuda_geglu_bias,
    .geglu_backward = gpu_geglu_backward,
    .softcap_forward = gpu_softcap_forward,
    .softcap_backward = gpu_softcap_backward,
    .rope_forward = gpu_rope_forward,
    .rope_backward = gpu_rope_backward,
    .conv1d_forward = gpu_conv1d_forward,
    .conv1d_backward = gpu_conv1d_backward,
    .conv1d_step = gpu_conv1d_step,
    .rglru_forward = cuda_rglru_forward,
    .rglru_backward = cuda_rglru_backward,
    .rglru_step = cuda_rglru_step,
    .attn_forward = cuda_attn_forward,
    .attn_backward = cuda_attn_backward,
    .attn_decode = gpu_attn_decode,
    .kv_write = gpu_kv_write,
    .decode_positions = gpu_decode_positions,
    .decode_advance = gpu_decode_advance,
    .xent_forward = gpu_xent_forward,
    .xent_backward = gpu_xent_backward,
    .sumsq = gpu_sumsq,
    .sumsq_get = gpu_sumsq_get,
    .adamw = cuda_adamw,
};
