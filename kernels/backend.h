/* backend.h — the operations the model needs, as one table of function
 * pointers per device. The model (models/model.c) is written once against
 * this table; `cpu` (kernels/backend_cpu.c) binds the kernels/ C files and `cuda`
 * (kernels/backend_cuda.c) binds the plain-C gpu.h API (kernels/gpu_*.cu, or
 * kernels/gpu_stub.c in builds without CUDA, where backend_find("cuda")
 * fails with the reason).
 *
 * Memory: every pointer marked "dev" is backend memory obtained from
 * be->alloc (host memory for cpu, device memory for cuda); "host" pointers
 * are ordinary host memory. Shapes and semantics are those of the kernel
 * headers (ops.h, scan.h, attention.h, matmul.h); outputs first, then
 * saved-for-backward, then inputs, weights, dims outermost first
 * (design.md). Accumulation: parameter gradients +=, activation gradients
 * = unless the entry says otherwise.
 *
 * Variants: the RG-LRU and attention entries take the variant's name and
 * resolve it inside the backend (cpu: scan.h / attention.h tables; cuda:
 * gpu.h tables); GEMM variants are selected with gemm_select. An unknown
 * name is an error (-1) whose util_last_error() names it and lists the
 * known ones; variant_check tells before any work is done.
 *
 * Every int-returning entry returns 0, or -1 with util_last_error(). The
 * cuda entries are asynchronous on the process-wide stream; download and
 * sync report errors of earlier launches.
 *
 * Tests: tests/test_backend.c (every entry non-NULL in both tables; unknown
 * variant names fail with the list).
 */
#ifndef GRIFFIN_BACKEND_H
#define GRIFFIN_BACKEND_H
#include <stddef.h>
#include <stdint.h>

#include "matmul.h" /* gemm_op */

#ifdef __cplusplus
extern "C" {
#endif

/* Variant kinds for variant_check / variant_list. */
typedef enum { BK_RGLRU = 0, BK_ATTN = 1, BK_GEMM = 2 } backend_kind;

/* The scalars of one AdamW step (backend.adamw). */
typedef struct backend_adamw_args {
    double lr;         /* lr_t of this step */
    double wd;         /* weight decay (applied where decay != 0) */
    double beta1, beta2, eps;
    double clip;       /* global-norm clip; <= 0: none */
    int64_t t;         /* 1-based step number */
    int decay;         /* this tensor is decayed */
} backend_adamw_args;

typedef struct backend {
    const char *name;            /* "cpu" | "cuda" */
    const char *rglru_default;   /* default variant names on this device */
    const char *attn_default;
    /* 1 when backend memory is host memory (cpu): the model then hands host
     * arrays (logits out, decode counters) straight to the kernels instead
     * of staging them through upload/download. */
    int host_memory;
    /* 1 when graph_begin/graph_end/graph_launch capture a sequence of calls
     * and replay it (cuda: CUDA graphs); 0: they fail and the model issues
     * every call itself (cpu). */
    int graphs;

    /* ---- variants -------------------------------------------------------- */
    /* 0 when `name` is a known variant of `kind`; else -1 naming it and
     * listing the known ones. */
    int (*variant_check)(backend_kind kind, const char *name);
    /* The known names of `kind`, comma-separated (static string). */
    const char *(*variant_list)(backend_kind kind);
    /* Select the GEMM variant for every later gemm* call (global). */
    int (*gemm_select)(const char *name);

    /* ---- memory ---------------------------------------------------------- */
    void *(*alloc)(size_t bytes);                                 /* zeroed; NULL + error */
    void (*free)(void *p);                                        /* NULL is fine */
    int (*upload)(void *dst, const void *src, size_t bytes);      /* host -> dev */
    int (*download)(void *dst, const void *src, size_t bytes);    /* dev -> host */
    int (*copy)(void *dst, const void *src, size_t bytes);        /* dev -> dev */
    int (*memset)(void *dst, int value, size_t bytes);            /* dev */
    int (*sync)(void);

    /* ---- graphs (when `graphs`) ------------------------------------------- */
    /* graph_begin: every later call on this backend is recorded, not run,
     * until graph_end, which returns the recorded sequence (NULL with the
     * reason when a call was not capturable; the capture is over either
     * way). Inside a capture only kernel entries run: no upload, download,
     * alloc, free or sync. The graph bakes in every argument, pointers and
     * scalars alike, as they were at capture. graph_launch replays it: 0;
     * 1 when it is stale (backend memory was freed or a global selection
     * changed since the capture: nothing ran, free it and capture again);
     * -1 on an error. graph_free: NULL is fine. */
    int (*graph_begin)(void);
    void *(*graph_end)(void);
    int (*graph_launch)(void *graph);
    void (*graph_free)(void *graph);

    /* ---- fill / add / embedding ------------------------------------------ */
    /* out (N,O) = bias (O) broadcast over rows, + res (N,O) when non-NULL. */
    int (*fill_rows)(float *out, const float *res, const float *bias, int N, int O);
    /* y (n) += x (n). */
    int (*add)(float *y, const float *x, size_t n);
    /* x (N,D) = E[tok[n]] * scale; E (V,D) fp32 or bf16; tok (N) dev,
     * valid (the model checks tokens on the host). */
    int (*embed)(float *x, const float *E, const int32_t *tok, int N, int D, float scale);
    int (*embed_bf16)(float *x, const uint16_t *E, const int32_t *tok, int N, int D, float scale);
    /* dE (V,D) += scale * dx (N,D) scattered to rows tok[n] (each row adds
     * its tokens in ascending n on both backends: bit for bit). */
    int (*embed_backward)(float *dE, const float *dx, const int32_t *tok, int N, int D, int V, float scale);
    /* db (C) += column sums of d (N,C). */
    int (*colsum)(float *db, const float *d, int N, int C);

    /* ---- GEMM (matmul.h: row-major, C = alpha op(A) op(B) + beta C) ------- */
    int (*gemm)(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);
    int (*gemm_bf16)(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                     const uint16_t *B, int ldb, float beta, float *C, int ldc);
    /* `count` independent GEMMs at A + i*sA, B + i*sB, C + i*sC (strides in
     * elements): the block-diagonal RG-LRU gates. */
    int (*gemm_strided)(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                        long long sA, const float *B, int ldb, long long sB, float beta, float *C, int ldc,
                        long long sC, int count);
    int (*gemm_strided_bf16)(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                             int lda, long long sA, const uint16_t *B, int ldb, long long sB, float beta,
                             float *C, int ldc, long long sC, int count);
    /* `count` independent GEMMs of the same M (gemm_op, matmul.h: C = A .
     * op(B) + beta C each, B fp32 or bf16, dev pointers), e.g. a decode
     * step's projections of one input: cpu runs their work in one parallel
     * region (gemm_group), cuda one after another. */
    int (*gemm_group)(int M, int count, const gemm_op *ops);

    /* ---- RMSNorm, GeGLU, soft-cap, RoPE (ops.h) -------------------------- */
    int (*rmsnorm_forward)(float *y, float *rstd, const float *x, const float *scale, int N, int C, float eps);
    int (*rmsnorm_backward)(float *dx, float *dscale, const float *dy, const float *x, const float *rstd,
                            const float *scale, int N, int C); /* dx +=, dscale += */
    int (*geglu_forward)(float *out, const float *a, const float *b, size_t n); /* out may alias b */
    /* out (N,M) = gelu(a + ba) * (b + bb), ba, bb (M) broadcast over rows (the
     * MLP's up-projection biases, so that its GEMMs need no bias fill).
     * save != 0: a and b hold a + ba and b + bb afterwards (for
     * geglu_backward); save == 0: their contents afterwards are unspecified
     * (cpu leaves them, cuda adds in place). out aliases neither. */
    int (*geglu_bias)(float *out, float *a, float *b, const float *ba, const float *bb, int N, int M, int save);
    int (*geglu_backward)(float *da, float *db, const float *dout, const float *a, const float *b, size_t n);
    int (*softcap_forward)(float *x, size_t n, float c);
    int (*softcap_backward)(float *dy, const float *y, size_t n, float c);
    int (*rope_forward)(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base);
    int (*rope_backward)(float *dx, const int32_t *pos, int N, int H, int dh, int rot, float base);

    /* ---- conv1d (ops.h) --------------------------------------------------- */
    int (*conv1d_forward)(float *y, const float *x, const float *w, const float *b, const int32_t *pos,
                          int B, int T, int C, int K);
    int (*conv1d_backward)(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                           const int32_t *pos, int B, int T, int C, int K);
    /* state (B,K-1,C) in place; active (B) dev or NULL: inactive rows keep
     * their state (their y is unspecified). */
    int (*conv1d_step)(float *y, float *state, const float *x, const float *w, const float *b,
                       const uint8_t *active, int B, int C, int K);

    /* ---- RG-LRU (scan.h), variant by name --------------------------------- */
    /* work: rglru_work_floats(B,T,C) floats of dev memory (cpu variants use
     * it; cuda ignores it). */
    int (*rglru_forward)(const char *variant, float *y, float *h_last, const float *x, const float *gx,
                         const float *ga, const float *a_param, const int32_t *pos, const float *h0,
                         float *work, int B, int T, int C);
    int (*rglru_backward)(const char *variant, float *dx, float *dgx, float *dga, float *da_param,
                          const float *dy, const float *y, const float *x, const float *gx, const float *ga,
                          const float *a_param, const int32_t *pos, const float *h0, float *work, int B,
                          int T, int C);
    /* One decode step: y (B,C); h (B,C) state in/out; pos (B); active (B)
     * or NULL (inactive rows keep h). */
    int (*rglru_step)(const char *variant, float *y, float *h, const float *x, const float *gx,
                      const float *ga, const float *a_param, const int32_t *pos, const uint8_t *active,
                      int B, int C);

    /* ---- attention (attention.h), variant by name ------------------------- */
    int (*attn_forward)(const char *variant, float *out, float *lse, const float *q, const float *k,
                        const float *v, const int32_t *pos, int B, int T, int H, int dh, int window);
    int (*attn_backward)(const char *variant, float *dq, float *dk, float *dv, const float *dout,
                         const float *out, const float *lse, const float *q, const float *k, const float *v,
                         const int32_t *pos, int B, int T, int H, int dh, int window);
    /* Decode: out (B,H,dh); q (B,H,dh); kc, vc (B,S,dh) of which nvalid[b]
     * slots are valid; knew, vnew (B,dh) always attended. */
    int (*attn_decode)(float *out, const float *q, const float *kc, const float *vc, const int32_t *nvalid,
                       const float *knew, const float *vnew, int B, int H, int dh, int S);
    /* kc/vc (B,S,dh) <- knew/vnew (B,dh) at slot n[b] % S (ring) or n[b]
     * (growing cache: rows with n[b] >= S skipped), for active rows (active
     * (B) or NULL = all); n (B) dev: tokens already cached. */
    int (*kv_write)(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *n,
                    const uint8_t *active, int B, int S, int dh, int ring);
    /* The step's counters from n (B) tokens seen: pos = n; nvalid =
     * keep >= 0 ? min(n, keep) : n. Either output may be NULL. All dev. */
    int (*decode_positions)(int32_t *pos, int32_t *nvalid, const int32_t *n, int keep, int B);
    /* n[b] += 1 for active rows (active NULL = all). dev. */
    int (*decode_advance)(int32_t *n, const uint8_t *active, int B);

    /* ---- loss --------------------------------------------------------------- */
    /* loss (N) = logsumexp - logit[target]; 0 where target < 0 (ops.h). */
    int (*xent_forward)(float *loss, const float *logits, const int32_t *targets, int N, int V);
    /* dlogits (N,V) = (softmax - onehot) * dloss[n]; may alias logits. */
    int (*xent_backward)(float *dlogits, const float *logits, const int32_t *targets, const float *dloss,
                         int N, int V);

    /* ---- optimizer ----------------------------------------------------------- */
    /* *acc (one dev double) += sum of x[i]^2 over n floats, in double;
     * sumsq_get copies it to the host (*out). */
    int (*sumsq)(double *acc, const float *x, size_t n);
    int (*sumsq_get)(double *out, const double *acc);
    /* One AdamW update of one tensor (optim.h): norm = sqrt(*sumsq) (dev,
     * from sumsq over every gradient); g' = g * (clip > 0 && norm > clip ?
     * clip/norm : 1); p -= (decay ? lr*wd : 0) * p; m = b1 m + (1-b1) g';
     * v = b2 v + (1-b2) g'^2; p -= lr * (m/bc1) / (sqrt(v/bc2) + eps),
     * bc = 1 - beta^t; fp32 arithmetic with optim.c's roundings. */
    int (*adamw)(float *p, float *m, float *v, const float *g, const double *sumsq, size_t n,
                 const struct backend_adamw_args *a);
} backend;

/* The backend named `name` ("cpu" or "cuda") in *out. NULL *out and -1 with
 * the reason when the name is unknown (the known ones listed) or, for
 * "cuda", when the build has no CUDA or there is no device. */
int backend_find(const char *name, const backend **out);
/* The tables themselves (cuda's entries fail at run time without a device). */
extern const backend backend_cpu;
extern const backend backend_cuda;
/* 1 when the cuda table can run here (a CUDA build and a device), else 0
 * with the reason in why. */
int backend_cuda_available(char *why, size_t n);
/* "cpu, cuda": the names backend_find knows. */
const char *backend_names(void);
/* Every function-pointer entry of the table, in declaration order (the
 * completeness test walks it; a static assertion in backend_cpu.c keeps it
 * in step with the struct). */
#define BACKEND_ENTRIES(X)                                                                              \
    X(variant_check) X(variant_list) X(gemm_select) X(alloc) X(free) X(upload) X(download) X(copy)       \
    X(memset) X(sync) X(graph_begin) X(graph_end) X(graph_launch) X(graph_free) X(fill_rows) X(add)      \
    X(embed) X(embed_bf16) X(embed_backward) X(colsum) X(gemm)                                           \
    X(gemm_bf16) X(gemm_strided) X(gemm_strided_bf16) X(gemm_group) X(rmsnorm_forward) X(rmsnorm_backward)             \
    X(geglu_forward) X(geglu_bias) X(geglu_backward) X(softcap_forward) X(softcap_backward) X(rope_forward)            \
    X(rope_backward) X(conv1d_forward) X(conv1d_backward) X(conv1d_step) X(rglru_forward)               \
    X(rglru_backward) X(rglru_step) X(attn_forward) X(attn_backward) X(attn_decode) X(kv_write)          \
    X(decode_positions) X(decode_advance) X(xent_forward) X(xent_backward) X(sumsq) X(sumsq_get) X(adamw)

#ifdef __cplusplus
}
#endif
#endif
