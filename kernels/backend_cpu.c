/* backend_cpu.c — the `cpu` backend table (backend.h): binds the kernels of
 * the kernels/ C files (ops.h, scan.h, attention.h, matmul.h) and adds the few loops
 * the model needs between them (bias rows, column sums, embedding scatter,
 * decode counters, AdamW). Backend memory is host memory (util_alloc), so
 * upload/download/copy are memcpy. Also backend_find().
 */
#include "backend.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "attention.h"
#include "bf16.h"
#include "matmul.h"
#include "ops.h"
#include "scan.h"
#include "util.h"

/* The X list in backend.h names every function pointer of the table. */
#define BK_COUNT(f) +1
_Static_assert(sizeof(backend) == offsetof(backend, variant_check) + (0 BACKEND_ENTRIES(BK_COUNT)) * sizeof(void (*)(void)),
               "BACKEND_ENTRIES does not list every entry of struct backend");
#undef BK_COUNT

/* ---- variants --------------------------------------------------------------- */

static const char *cpu_variant_list(backend_kind kind) {
    static char rg[128], at[128];
    char *buf = kind == BK_RGLRU ? rg : at;
    if (kind == BK_GEMM) return gemm_variants_list();
    if (!buf[0]) {
        size_t o = 0;
        if (kind == BK_RGLRU)
            for (const rglru_variant *v = rglru_variants; v->name; v++)
                o += (size_t)snprintf(buf + o, 128 - o, "%s%s", o ? ", " : "", v->name);
        else
            for (const attn_variant *v = attn_variants; v->name; v++)
                o += (size_t)snprintf(buf + o, 128 - o, "%s%s", o ? ", " : "", v->name);
    }
    return buf;
}

static const rglru_variant *cpu_rglru(const char *name) {
    const rglru_variant *v = name ? rglru_find(name) : NULL;
    if (!v) util_error("cpu backend: unknown RG-LRU variant '%s' (known: %s)", name ? name : "(null)", cpu_variant_list(BK_RGLRU));
    return v;
}

static const attn_variant *cpu_attn(const char *name) {
    const attn_variant *v = name ? attn_find(name) : NULL;
    if (!v) util_error("cpu backend: unknown attention variant '%s' (known: %s)", name ? name : "(null)", cpu_variant_list(BK_ATTN));
    return v;
}

static int cpu_variant_check(backend_kind kind, const char *name) {
    switch (kind) {
    case BK_RGLRU: return cpu_rglru(name) ? 0 : -1;
    case BK_ATTN: return cpu_attn(name) ? 0 : -1;
    case BK_GEMM: {
        /* validate without changing the selection: set it, then restore */
        const char *f32 = gemm_variant(), *b16 = gemm_bf16_variant();
        if (gemm_set_variant(name) != 0) return -1;
        gemm_set_variant(f32);
        gemm_set_variant(b16);
        return 0;
    }
    }
    util_error("cpu backend: unknown variant kind %d", (int)kind);
    return -1;
}

static int cpu_gemm_select(const char *name) { return gemm_set_variant(name); }

/* ---- memory ----------------------------------------------------------------- */

static void *cpu_alloc(size_t bytes) { return util_try_alloc(bytes ? bytes : 1); }
static void cpu_free(void *p) { util_free(p); }
static int cpu_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) memmove(dst, src, bytes);
    return 0;
}
static int cpu_memset(void *dst, int value, size_t bytes) {
    if (bytes) memset(dst, value, bytes);
    return 0;
}
static int cpu_sync(void) { return 0; }

/* ---- fill / add / embedding ------------------------------------------------- */

/* Rows across threads above 64K elements (a prefill's fills are tens of MB:
 * one thread reached about 12 GB/s of writes). */
static int cpu_fill_rows(float *out, const float *res, const float *bias, int N, int O) {
#pragma omp parallel for schedule(static) if ((long)N * O > 65536)
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * O;
        if (res) {
            const float *r = res + (size_t)n * O;
            for (int d = 0; d < O; d++) o[d] = r[d] + bias[d];
        } else {
            memcpy(o, bias, (size_t)O * sizeof(float));
        }
    }
    return 0;
}

static int cpu_add(float *y, const float *x, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
    return 0;
}

static int cpu_embed(float *x, const float *E, const int32_t *tok, int N, int D, float scale) {
#pragma omp parallel for schedule(static) if (N > 256)
    for (int n = 0; n < N; n++) {
        float *o = x + (size_t)n * D;
        const float *e = E + (size_t)tok[n] * D;
        for (int d = 0; d < D; d++) o[d] = e[d] * scale;
    }
    return 0;
}

static int cpu_embed_bf16(float *x, const uint16_t *E, const int32_t *tok, int N, int D, float scale) {
#pragma omp parallel for schedule(static) if (N > 256)
    for (int n = 0; n < N; n++) {
        float *o = x + (size_t)n * D;
        const uint16_t *e = E + (size_t)tok[n] * D;
        for (int d = 0; d < D; d++) o[d] = bf16_to_f32(e[d]) * scale;
    }
    return 0;
}

static int cpu_embed_backward(float *dE, const float *dx, const int32_t *tok, int N, int D, int V, float scale) {
    (void)V;
    for (int n = 0; n < N; n++) {
        float *e = dE + (size_t)tok[n] * D;
        const float *d = dx + (size_t)n * D;
        for (int k = 0; k < D; k++) e[k] += d[k] * scale;
    }
    return 0;
}

/* Column blocks across threads (each thread sums its columns over every row,
 * in row order: the same sums as one thread) above 64K elements. */
static int cpu_colsum(float *db, const float *d, int N, int C) {
    const int cw = 64, nblk = (C + cw - 1) / cw;
#pragma omp parallel for schedule(static) if ((long)N * C > 65536 && nblk > 1)
    for (int k = 0; k < nblk; k++) {
        const int c0 = k * cw, c1 = c0 + cw < C ? c0 + cw : C;
        for (int n = 0; n < N; n++) {
            const float *r = d + (size_t)n * C;
#pragma omp simd
            for (int c = c0; c < c1; c++) db[c] += r[c];
        }
    }
    return 0;
}

/* ---- GEMM ---------------------------------------------------------------------- */

static int cpu_gemm(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc) {
    gemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return 0;
}

static int cpu_gemm_bf16(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, const uint16_t *B,
                         int ldb, float beta, float *C, int ldc) {
    gemm_bf16(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return 0;
}

/* The blocks of a strided call (the RG-LRU gates, forward and backward) run
 * in parallel, one block per thread, each on one thread, when together they
 * are worth a team and either each is too small to thread (gemm_fast runs
 * below 2^21 flops on one thread) or they divide evenly over the team (a
 * multiple of the thread count, or many blocks). Measured on 2 threads: the
 * decode gates at B=64 (16 blocks of 64 x 128 x 128, 2^21 flops each) ran at
 * 15-20 GFLOP/s one by one with the team inside each (a fork/join and two
 * barriers per block) and at about 100 one per thread; prefill and training
 * shapes (4096 rows, 2 or 16 blocks) were as fast or faster (the weight
 * gradient of small-hawk's 2 blocks of 160 x 160 x 4096: 55 -> 158). Not
 * under "blas": OpenBLAS would start its own threads inside each.
 * At a few rows (decode at batch 1..4) the blocks are memory bound whatever
 * their flops: from STRIDED_PAR_BYTES of weights they run one per thread too
 * (the decode gates at B=1: 16 blocks of 128 x 128 or 160 x 160, 0.5-0.8 MB
 * in bf16, streamed at about 10 GB/s on one thread). Running them in the
 * team also keeps the second thread spinning between the step's GEMM
 * regions instead of asleep (a thread idle past its spin count sleeps, util.h): a region that
 * has to wake it starts tens of microseconds late. */
#define STRIDED_FEW_ROWS 4
#define STRIDED_PAR_BYTES (128.0 * 1024)
static int strided_par(int M, int N, int K, int count, int blas, size_t wsize) {
    double f = 2.0 * M * N * K;
    int nth = util_threads();
    if (count < 2 || nth < 2 || blas) return 0;
    if (M <= STRIDED_FEW_ROWS && count >= nth && (double)count * N * K * wsize >= STRIDED_PAR_BYTES) return 1;
    if (f * count < (1 << 21)) return 0;
    return f < (1 << 21) || count % nth == 0 || count >= 4 * nth;
}

static int cpu_gemm_strided(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda, long long sA,
                            const float *B, int ldb, long long sB, float beta, float *C, int ldc, long long sC,
                            int count) {
#pragma omp parallel for schedule(dynamic, 1) if (strided_par(M, N, K, count, !strcmp(gemm_variant_resolved(), "blas"), sizeof(float)))
    for (int i = 0; i < count; i++)
        gemm(tA, tB, M, N, K, alpha, A + i * sA, lda, B + i * sB, ldb, beta, C + i * sC, ldc);
    return 0;
}

static int cpu_gemm_strided_bf16(int tA, int tB, int M, int N, int K, float alpha, const float *A, int lda,
                                 long long sA, const uint16_t *B, int ldb, long long sB, float beta, float *C,
                                 int ldc, long long sC, int count) {
#pragma omp parallel for schedule(dynamic, 1) if (strided_par(M, N, K, count, 0, sizeof(uint16_t)))
    for (int i = 0; i < count; i++)
        gemm_bf16(tA, tB, M, N, K, alpha, A + i * sA, lda, B + i * sB, ldb, beta, C + i * sC, ldc);
    return 0;
}

static int cpu_gemm_group(int M, int count, const gemm_op *ops) {
    gemm_group(M, count, ops);
    return 0;
}

/* ---- element-wise / row-wise ops ------------------------------------------------ */

static int cpu_rmsnorm_forward(float *y, float *rstd, const float *x, const float *scale, int N, int C, float eps) {
    rmsnorm_forward(y, rstd, x, scale, N, C, eps);
    return 0;
}
static int cpu_rmsnorm_backward(float *dx, float *dscale, const float *dy, const float *x, const float *rstd,
                                const float *scale, int N, int C) {
    rmsnorm_backward(dx, dscale, dy, x, rstd, scale, N, C);
    return 0;
}
static int cpu_geglu_forward(float *out, const float *a, const float *b, size_t n) {
    geglu_forward(out, a, b, n);
    return 0;
}
static int cpu_geglu_bias(float *out, float *a, float *b, const float *ba, const float *bb, int N, int M, int save) {
    geglu_bias_forward(out, a, b, ba, bb, N, M, save);
    return 0;
}
static int cpu_geglu_backward(float *da, float *db, const float *dout, const float *a, const float *b, size_t n) {
    geglu_backward(da, db, dout, a, b, n);
    return 0;
}
static int cpu_softcap_forward(float *x, size_t n, float c) {
    softcap_forward(x, n, c);
    return 0;
}
static int cpu_softcap_backward(float *dy, const float *y, size_t n, float c) {
    softcap_backward(dy, y, n, c);
    return 0;
}
static int cpu_rope_forward(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base) {
    rope_forward(x, pos, N, H, dh, rot, base);
    return 0;
}
static int cpu_rope_backward(float *dx, const int32_t *pos, int N, int H, int dh, int rot, float base) {
    rope_backward(dx, pos, N, H, dh, rot, base);
    return 0;
}

static int cpu_conv1d_forward(float *y, const float *x, const float *w, const float *b, const int32_t *pos, int B,
                              int T, int C, int K) {
    conv1d_forward(y, x, w, b, pos, B, T, C, K);
    return 0;
}
static int cpu_conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                               const int32_t *pos, int B, int T, int C, int K) {
    conv1d_backward(dx, dw, db, dy, x, w, pos, B, T, C, K);
    return 0;
}
static int cpu_conv1d_step(float *y, float *state, const float *x, const float *w, const float *b,
                           const uint8_t *active, int B, int C, int K) {
    if (!active) {
        conv1d_step(y, state, x, w, b, B, C, K);
        return 0;
    }
    const size_t K1 = (size_t)K - 1;
    for (int i = 0; i < B; i++)
        if (active[i]) conv1d_step(y + (size_t)i * C, state + (size_t)i * K1 * C, x + (size_t)i * C, w, b, 1, C, K);
    return 0;
}

/* ---- RG-LRU ---------------------------------------------------------------------- */

static int cpu_rglru_forward(const char *variant, float *y, float *h_last, const float *x, const float *gx,
                             const float *ga, const float *a_param, const int32_t *pos, const float *h0, float *work,
                             int B, int T, int C) {
    const rglru_variant *v = cpu_rglru(variant);
    if (!v) return -1;
    v->forward(y, h_last, x, gx, ga, a_param, pos, h0, work, B, T, C);
    return 0;
}

static int cpu_rglru_backward(const char *variant, float *dx, float *dgx, float *dga, float *da_param, const float *dy,
                              const float *y, const float *x, const float *gx, const float *ga, const float *a_param,
                              const int32_t *pos, const float *h0, float *work, int B, int T, int C) {
    const rglru_variant *v = cpu_rglru(variant);
    if (!v) return -1;
    v->backward(dx, dgx, dga, da_param, dy, y, x, gx, ga, a_param, pos, h0, work, B, T, C);
    return 0;
}

static int cpu_rglru_step(const char *variant, float *y, float *h, const float *x, const float *gx, const float *ga,
                          const float *a_param, const int32_t *pos, const uint8_t *active, int B, int C) {
    const rglru_variant *v = cpu_rglru(variant);
    if (!v) return -1;
    if (!active) {
        v->forward(y, h, x, gx, ga, a_param, pos, h, NULL, B, 1, C);
        return 0;
    }
    for (int b = 0; b < B; b++) {
        if (!active[b]) continue;
        size_t o = (size_t)b * C;
        v->forward(y + o, h + o, x + o, gx + o, ga + o, a_param, pos + b, h + o, NULL, 1, 1, C);
    }
    return 0;
}

/* ---- attention ---------------------------------------------------------------------- */

static int cpu_attn_forward(const char *variant, float *out, float *lse, const float *q, const float *k, const float *v,
                            const int32_t *pos, int B, int T, int H, int dh, int window) {
    const attn_variant *av = cpu_attn(variant);
    if (!av) return -1;
    av->forward(out, lse, q, k, v, pos, B, T, H, dh, window);
    return 0;
}

static int cpu_attn_backward(const char *variant, float *dq, float *dk, float *dv, const float *dout, const float *out,
                             const float *lse, const float *q, const float *k, const float *v, const int32_t *pos,
                             int B, int T, int H, int dh, int window) {
    const attn_variant *av = cpu_attn(variant);
    if (!av) return -1;
    av->backward(dq, dk, dv, dout, out, lse, q, k, v, pos, B, T, H, dh, window);
    return 0;
}

static int cpu_attn_decode(float *out, const float *q, const float *kc, const float *vc, const int32_t *nvalid,
                           const float *knew, const float *vnew, int B, int H, int dh, int S) {
    attn_decode(out, q, kc, vc, nvalid, knew, vnew, B, H, dh, S);
    return 0;
}

static int cpu_kv_write(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *n,
                        const uint8_t *active, int B, int S, int dh, int ring) {
    for (int b = 0; b < B; b++) {
        if ((active && !active[b]) || n[b] < 0 || (!ring && n[b] >= S)) continue;
        size_t o = ((size_t)b * S + (size_t)(ring ? n[b] % S : n[b])) * dh;
        memcpy(kc + o, knew + (size_t)b * dh, (size_t)dh * sizeof(float));
        memcpy(vc + o, vnew + (size_t)b * dh, (size_t)dh * sizeof(float));
    }
    return 0;
}

static int cpu_decode_positions(int32_t *pos, int32_t *nvalid, const int32_t *n, int keep, int B) {
    for (int b = 0; b < B; b++) {
        if (pos) pos[b] = n[b];
        if (nvalid) nvalid[b] = keep >= 0 && n[b] > keep ? keep : n[b];
    }
    return 0;
}

static int cpu_decode_advance(int32_t *n, const uint8_t *active, int B) {
    for (int b = 0; b < B; b++)
        if (!active || active[b]) n[b]++;
    return 0;
}

/* ---- loss / optimizer --------------------------------------------------------------- */

static int cpu_xent_forward(float *loss, const float *logits, const int32_t *targets, int N, int V) {
    xent_forward(loss, logits, targets, N, V);
    return 0;
}
static int cpu_xent_backward(float *dlogits, const float *logits, const int32_t *targets, const float *dloss, int N,
                             int V) {
    xent_backward(dlogits, logits, targets, dloss, N, V);
    return 0;
}

static int cpu_sumsq(double *acc, const float *x, size_t n) {
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    *acc += s;
    return 0;
}

static int cpu_sumsq_get(double *out, const double *acc) {
    *out = *acc;
    return 0;
}

static int cpu_adamw(float *p, float *m, float *v, const float *g, const double *sumsq, size_t n,
                     const backend_adamw_args *a) {
    const double norm = sqrt(*sumsq);
    const float gscale = (a->clip > 0 && norm > a->clip) ? (float)(a->clip / norm) : 1.0f;
    const float b1 = (float)a->beta1, b2 = (float)a->beta2, lr = (float)a->lr, eps = (float)a->eps;
    const float bc1 = (float)(1.0 - pow(a->beta1, (double)a->t)), bc2 = (float)(1.0 - pow(a->beta2, (double)a->t));
    const float decay = a->decay ? (float)(a->lr * a->wd) : 0.0f;
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gscale;
        p[i] -= decay * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        float mh = m[i] / bc1, vh = v[i] / bc2;
        p[i] -= lr * mh / (sqrtf(vh) + eps);
    }
    return 0;
}

/* ---- graphs: none on the cpu (the model issues every call itself) ----------------- */

static int cpu_graph_begin(void) {
    util_error("the cpu backend has no graphs");
    return -1;
}
static void *cpu_graph_end(void) {
    util_error("the cpu backend has no graphs");
    return NULL;
}
static int cpu_graph_launch(void *g) {
    (void)g;
    util_error("the cpu backend has no graphs");
    return -1;
}
static void cpu_graph_free(void *g) { (void)g; }

const backend backend_cpu = {
    .name = "cpu",
    .rglru_default = RGLRU_DEFAULT,
    .attn_default = ATTN_DEFAULT,
    .host_memory = 1,
    .graphs = 0,
    .variant_check = cpu_variant_check,
    .variant_list = cpu_variant_list,
    .gemm_select = cpu_gemm_select,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .memset = cpu_memset,
    .sync = cpu_sync,
    .graph_begin = cpu_graph_begin,
    .graph_end = cpu_graph_end,
    .graph_launch = cpu_graph_launch,
    .graph_free = cpu_graph_free,
    .fill_rows = cpu_fill_rows,
    .add = cpu_add,
    .embed = cpu_embed,
    .embed_bf16 = cpu_embed_bf16,
    .embed_backward = cpu_embed_backward,
    .colsum = cpu_colsum,
    .gemm = cpu_gemm,
    .gemm_bf16 = cpu_gemm_bf16,
    .gemm_strided = cpu_gemm_strided,
    .gemm_strided_bf16 = cpu_gemm_strided_bf16,
    .gemm_group = cpu_gemm_group,
    .rmsnorm_forward = cpu_rmsnorm_forward,
    .rmsnorm_backward = cpu_rmsnorm_backward,
    .geglu_forward = cpu_geglu_forward,
    .geglu_bias = cpu_geglu_bias,
    .geglu_backward = cpu_geglu_backward,
    .softcap_forward = cpu_softcap_forward,
    .softcap_backward = cpu_softcap_backward,
    .rope_forward = cpu_rope_forward,
    .rope_backward = cpu_rope_backward,
    .conv1d_forward = cpu_conv1d_forward,
    .conv1d_backward = cpu_conv1d_backward,
    .conv1d_step = cpu_conv1d_step,
    .rglru_forward = cpu_rglru_forward,
    .rglru_backward = cpu_rglru_backward,
    .rglru_step = cpu_rglru_step,
    .attn_forward = cpu_attn_forward,
    .attn_backward = cpu_attn_backward,
    .attn_decode = cpu_attn_decode,
    .kv_write = cpu_kv_write,
    .decode_positions = cpu_decode_positions,
    .decode_advance = cpu_decode_advance,
    .xent_forward = cpu_xent_forward,
    .xent_backward = cpu_xent_backward,
    .sumsq = cpu_sumsq,
    .sumsq_get = cpu_sumsq_get,
    .adamw = cpu_adamw,
};

/* ---- lookup -------------------------------------------------------------------------- */

const char *backend_names(void) { return "cpu, cuda"; }

int backend_find(const char *name, const backend **out) {
    *out = NULL;
    if (name && !strcmp(name, "cpu")) {
        *out = &backend_cpu;
        return 0;
    }
    if (name && !strcmp(name, "cuda")) {
        char why[256];
        if (!backend_cuda_available(why, sizeof why)) {
            util_error("the cuda backend cannot run here: %s", why);
            return -1;
        }
        *out = &backend_cuda;
        return 0;
    }
    util_error("unknown device '%s' (known: %s)", name ? name : "(null)", backend_names());
    return -1;
}
