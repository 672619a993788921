/* gpu_bench.c — GPU benchmarks at the paper's shapes, each validated
 * against the CPU reference before it is timed (design.md rule 8), each
 * reported against a limit measured in the same run:
 *   scan     RG-LRU forward and backward, every GPU variant, B=8,
 *            C in {1024, 2048}, T = 2^10 .. 2^16: GB/s and the fraction of
 *            the device-to-device copy bandwidth;
 *   decode   {hawk,griffin,mqa}-{400m,1b} (fp32; the 1b also bf16) at batch
 *            1, 16, 64, through the backend table (model_decode_step on
 *            backend_cuda): ms/step with the step replayed as a CUDA graph
 *            and eagerly (the graph's gain), vs (weight bytes + state bytes
 *            read) / copy bandwidth; each model validated first against
 *            the same weights on the cpu (prefill logits and a decode step);
 *   prefill  {hawk,griffin,mqa}-1b at B=1, T=4096: GFLOP/s vs the cuBLAS
 *            sgemm rate;
 *   dec-attn decode attention at long caches (S = 4K .. 128K, B = 1 and 16):
 *            split-K gpu_attn_decode vs the one-block-per-row
 *            gpu_attn_decode_ref, each as a fraction of the copy bandwidth
 *            (K and V bytes read), validated vs each other and the CPU;
 *   attn-bwd attention backward at T = 4096, local and global: naive,
 *            banded and tiled, validated tiled vs naive, GFLOP/s vs sgemm.
 * CUDA-event timing, L2 flushed before every repetition, median of reps.
 * The summary table is printed last, with the targets.
 *
 *   make build/tests/gpu_bench && build/tests/gpu_bench [--quick] [--only scan|attn|model]
 * (scripts/gpu-check.sh runs it.) Without a device it prints "SKIP: why"
 * and exits 0. Exit 1 if a validation fails (that kernel is not timed).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "backend.h"
#include "bf16.h"
#include "config.h"
#include "gpu.h"
#include "model.h"
#include "scan.h"
#include "util.h"

static int g_quick = 0, g_reps = 5, g_fail = 0;
static double g_bw = 0, g_sgemm = 0;
static gpu_timer *g_tm;

#define MAX_ROWS 256
static char g_rows[MAX_ROWS][200];
static int g_nrows = 0;
#define ROW(...) do { if (g_nrows < MAX_ROWS) snprintf(g_rows[g_nrows++], sizeof g_rows[0], __VA_ARGS__); } while (0)

static void die(const char *what) {
    fprintf(stderr, "gpu_bench: %s: %s\n", what, util_last_error());
    exit(1);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- scan --------------------------------------------------------------------------------- */

typedef struct {
    float *x, *gx, *ga, *y, *dy, *dx, *dgx, *dga, *ap, *dap;
    int32_t *pos;
} scan_bufs;

static void fill_scan_inputs(scan_bufs *s, size_t n, int B, int T, int C) {
    if (gpu_fill_uniform(s->x, n, -1, 1, 1) || gpu_fill_uniform(s->gx, n, -2, 2, 2) ||
        gpu_fill_uniform(s->ga, n, -2, 2, 3) || gpu_fill_uniform(s->dy, n, -1, 1, 4) ||
        gpu_fill_uniform(s->ap, (size_t)C, 0, 2, 5))
        die("fill");
    int32_t *pos = malloc(sizeof(int32_t) * (size_t)B * T);
    CHECK_ALLOC(pos);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) pos[(size_t)b * T + t] = t; /* one document per sequence */
    if (gpu_upload(s->pos, pos, sizeof(int32_t) * (size_t)B * T)) die("upload pos");
    free(pos);
}

/* Validate variant v at (B, Tv, C) against rglru_*_ref on the CPU. */
static int validate_scan(const gpu_rglru_variant *v, scan_bufs *s, int B, int Tv, int C) {
    size_t n = (size_t)B * Tv * C;
    fill_scan_inputs(s, n, B, Tv, C);
    float *x = malloc(n * 4), *gx = malloc(n * 4), *ga = malloc(n * 4), *dy = malloc(n * 4), *ap = malloc((size_t)C * 4);
    float *y = malloc(n * 4), *dx = malloc(n * 4), *dgx = malloc(n * 4), *dga = malloc(n * 4), *dap = calloc((size_t)C, 4);
    float *gy = malloc(n * 4), *gdx = malloc(n * 4), *gdap = malloc((size_t)C * 4);
    int32_t *pos = malloc((size_t)B * Tv * 4);
    CHECK_ALLOC(gdap);
    if (gpu_download(x, s->x, n * 4) || gpu_download(gx, s->gx, n * 4) || gpu_download(ga, s->ga, n * 4) ||
        gpu_download(dy, s->dy, n * 4) || gpu_download(ap, s->ap, (size_t)C * 4) ||
        gpu_download(pos, s->pos, (size_t)B * Tv * 4))
        die("download");
    rglru_forward_ref(y, NULL, x, gx, ga, ap, pos, NULL, NULL, B, Tv, C);
    rglru_backward_ref(dx, dgx, dga, dap, dy, y, x, gx, ga, ap, pos, NULL, NULL, B, Tv, C);
    if (gpu_memset(s->dap, 0, (size_t)C * 4) ||
        v->forward(s->y, NULL, s->x, s->gx, s->ga, s->ap, s->pos, NULL, B, Tv, C) ||
        v->backward(s->dx, s->dgx, s->dga, s->dap, s->dy, s->y, s->x, s->gx, s->ga, s->ap, s->pos, NULL, B, Tv, C) ||
        gpu_download(gy, s->y, n * 4) || gpu_download(gdx, s->dx, n * 4) || gpu_download(gdap, s->dap, (size_t)C * 4))
        die(v->name);
    double e1 = util_max_rel_err(gy, y, n), e2 = util_max_rel_err(gdx, dx, n), e3 = util_max_rel_err(gdap, dap, (size_t)C);
    int ok = e1 < 1e-4 && e2 < 1e-4 && e3 < 1e-3;
    printf("validate rglru %-8s B=%d T=%d C=%d: y %.2g dx %.2g da_param %.2g  %s\n", v->name, B, Tv, C, e1, e2, e3,
           ok ? "ok" : "FAILED");
    if (!ok) g_fail = 1;
    free(x); free(gx); free(ga); free(dy); free(ap); free(y); free(dx); free(dgx); free(dga); free(dap);
    free(gy); free(gdx); free(gdap); free(pos);
    return ok;
}

static double time_scan(const gpu_rglru_variant *v, scan_bufs *s, int B, int T, int C, int bwd) {
    double t[16];
    int reps = g_reps < 16 ? g_reps : 16;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        if (gpu_l2_flush() || gpu_timer_start(g_tm)) die("timer");
        int rc = bwd ? v->backward(s->dx, s->dgx, s->dga, s->dap, s->dy, s->y, s->x, s->gx, s->ga, s->ap, s->pos,
                                   NULL, B, T, C)
                     : v->forward(s->y, NULL, s->x, s->gx, s->ga, s->ap, s->pos, NULL, B, T, C);
        if (rc) die(v->name);
        double ms = gpu_timer_stop(g_tm);
        if (ms < 0) die("timer");
        if (r >= 0) t[r] = ms;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_d);
    return t[reps / 2];
}

static void bench_scan(void) {
    const int B = 8, Cs[2] = {1024, 2048};
    const int Tmax = g_quick ? 1 << 12 : 1 << 16;
    size_t nmax = (size_t)B * Tmax * 2048;
    scan_bufs s;
    float **all[] = {&s.x, &s.gx, &s.ga, &s.y, &s.dy, &s.dx, &s.dgx, &s.dga};
    for (int i = 0; i < 8; i++)
        if (!(*all[i] = gpu_alloc(nmax * 4))) die("alloc scan buffers");
    if (!(s.ap = gpu_alloc(2048 * 4)) || !(s.dap = gpu_alloc(2048 * 4)) ||
        !(s.pos = gpu_alloc(sizeof(int32_t) * (size_t)B * Tmax)))
        die("alloc");
    double best_frac = 0;
    for (int ci = 0; ci < 2; ci++) {
        int C = Cs[ci];
        for (const gpu_rglru_variant *v = gpu_rglru_variants; v->name; v++) {
            if (!validate_scan(v, &s, B, 512, C)) continue;
            fill_scan_inputs(&s, (size_t)B * Tmax * C, B, Tmax, C);
            for (int T = 1 << 10; T <= Tmax; T <<= 1) {
                for (int bwd = 0; bwd < 2; bwd++) {
                    double ms = time_scan(v, &s, B, T, C, bwd);
                    double bytes = (bwd ? 8.0 : 4.0) * 4.0 * B * (double)T * C + 4.0 * B * T;
                    double gbs = bytes / (ms * 1e-3) / 1e9, frac = gbs / g_bw;
                    printf("scan %-8s %s B=%d C=%d T=%-6d %9.3f ms %8.1f GB/s %5.2f of copy\n", v->name,
                           bwd ? "bwd" : "fwd", B, C, T, ms, gbs, frac);
                    if (!bwd && C == 2048 && T >= 8192 && frac > best_frac) best_frac = frac;
                    if (T == (1 << 10) || T == (1 << 13) || T == Tmax)
                        ROW("scan     %-8s %s  B=8 C=%-4d T=%-6d %9.3f ms %8.1f GB/s  %5.2f of copy", v->name,
                            bwd ? "bwd" : "fwd", C, T, ms, gbs, frac);
                }
            }
        }
    }
    ROW("TARGET   best scan fwd at B=8 C=2048 T>=8192: %.2f of copy bandwidth (target >= 0.75): %s", best_frac,
        best_frac >= 0.75 ? "MET" : "NOT MET");
    for (int i = 0; i < 8; i++) gpu_free(*all[i]);
    gpu_free(s.ap);
    gpu_free(s.dap);
    gpu_free(s.pos);
}

/* ---- attention: split-K decode vs one block per row; backward naive vs tiled ------------ */

/* Median ms of reps calls of fn(arg) (one warm-up), L2 flushed before each. */
typedef int (*bench_fn)(void *arg);
static double time_call(bench_fn fn, void *arg, int reps, const char *what) {
    double t[16];
    if (reps > 16) reps = 16;
    for (int r = -1; r < reps; r++) {
        if (gpu_l2_flush() || gpu_timer_start(g_tm)) die("timer");
        if (fn(arg)) die(what);
        double ms = gpu_timer_stop(g_tm);
        if (ms < 0) die("timer");
        if (r >= 0) t[r] = ms;
    }
    qsort(t, (size_t)reps, sizeof(double), cmp_d);
    return t[reps / 2];
}

typedef struct {
    float *out, *q, *kc, *vc, *kn, *vn;
    int32_t *nv;
    int B, H, dh, S;
} dec_args;

static int run_dec_split(void *p) {
    dec_args *a = p;
    return gpu_attn_decode(a->out, a->q, a->kc, a->vc, a->nv, a->kn, a->vn, a->B, a->H, a->dh, a->S);
}
static int run_dec_ref(void *p) {
    dec_args *a = p;
    return gpu_attn_decode_ref(a->out, a->q, a->kc, a->vc, a->nv, a->kn, a->vn, a->B, a->H, a->dh, a->S);
}

static float *dev_download(const float *d, size_t n) {
    float *h = malloc(n * sizeof(float));
    CHECK_ALLOC(h);
    if (gpu_download(h, d, n * sizeof(float))) die("download");
    return h;
}

/* One decode-attention shape: validated (split vs ref on the device, and
 * vs attn_decode_ref on the CPU), then both timed at a full cache. */
static void bench_decode_case(int B, int H, int dh, int S) {
    dec_args a = {0};
    a.B = B, a.H = H, a.dh = dh, a.S = S;
    size_t nc = (size_t)B * S * dh, no = (size_t)B * H * dh;
    if (!(a.kc = gpu_alloc(nc * 4)) || !(a.vc = gpu_alloc(nc * 4)) || !(a.q = gpu_alloc(no * 4)) ||
        !(a.out = gpu_alloc(no * 4)) || !(a.kn = gpu_alloc((size_t)B * dh * 4)) ||
        !(a.vn = gpu_alloc((size_t)B * dh * 4)) || !(a.nv = gpu_alloc((size_t)B * 4)))
        die("alloc decode buffers");
    if (gpu_fill_uniform(a.kc, nc, -1, 1, 11) || gpu_fill_uniform(a.vc, nc, -1, 1, 12) ||
        gpu_fill_uniform(a.q, no, -1, 1, 13) || gpu_fill_uniform(a.kn, (size_t)B * dh, -1, 1, 14) ||
        gpu_fill_uniform(a.vn, (size_t)B * dh, -1, 1, 15))
        die("fill");
    int32_t *nv = malloc((size_t)B * 4);
    CHECK_ALLOC(nv);
    for (int b = 0; b < B; b++) nv[b] = S; /* full cache: the long-context case */
    if (gpu_upload(a.nv, nv, (size_t)B * 4)) die("upload");
    /* validate */
    if (run_dec_ref(&a)) die("decode ref");
    float *gref = dev_download(a.out, no);
    if (run_dec_split(&a)) die("decode split");
    float *gsplit = dev_download(a.out, no);
    float *hq = dev_download(a.q, no), *hk = dev_download(a.kc, nc), *hv = dev_download(a.vc, nc);
    float *hkn = dev_download(a.kn, (size_t)B * dh), *hvn = dev_download(a.vn, (size_t)B * dh);
    float *cpu = malloc(no * 4);
    CHECK_ALLOC(cpu);
    attn_decode_ref(cpu, hq, hk, hv, nv, hkn, hvn, B, H, dh, S);
    double e1 = util_max_rel_err(gsplit, gref, no), e2 = util_max_rel_err(gsplit, cpu, no);
    int ok = e1 < 1e-5 && e2 < 1e-5;
    printf("validate decode attn B=%d H=%d dh=%d S=%d: split vs ref %.2g, vs CPU %.2g  %s\n", B, H, dh, S, e1, e2,
           ok ? "ok" : "FAILED");
    free(gref); free(gsplit); free(hq); free(hk); free(hv); free(hkn); free(hvn); free(cpu); free(nv);
    if (!ok) {
        g_fail = 1;
    } else {
        double ms_ref = time_call(run_dec_ref, &a, g_reps, "decode ref");
        double ms_split = time_call(run_dec_split, &a, g_reps, "decode split");
        double bytes = 2.0 * 4.0 * (double)B * S * dh; /* K and V of every valid slot */
        double f_ref = bytes / (ms_ref * 1e-3) / 1e9 / g_bw, f_split = bytes / (ms_split * 1e-3) / 1e9 / g_bw;
        printf("decode attn B=%-3d H=%d dh=%d S=%-7d one-block %9.3f ms (%.2f of copy)  split-K %9.3f ms (%.2f of "
               "copy)  speed-up %.2fx\n",
               B, H, dh, S, ms_ref, f_ref, ms_split, f_split, ms_ref / ms_split);
        ROW("dec-attn B=%-3d H=%-2d dh=%d S=%-7d one-block %8.3f ms %.2f of copy | split-K %8.3f ms %.2f of copy | %.2fx",
            B, H, dh, S, ms_ref, f_ref, ms_split, f_split, ms_ref / ms_split);
    }
    gpu_free(a.kc); gpu_free(a.vc); gpu_free(a.q); gpu_free(a.out); gpu_free(a.kn); gpu_free(a.vn); gpu_free(a.nv);
}

static void bench_decode_attn(void) {
    /* MQA-style decode at long caches: one sequence (split-K's case) and a batch */
    const int Ss[3] = {4096, 32768, 131072};
    int n = g_quick ? 2 : 3;
    for (int i = 0; i < n; i++) bench_decode_case(1, 8, 128, Ss[i]);
    for (int i = 0; i < n; i++) bench_decode_case(1, 10, 256, Ss[i]);
    bench_decode_case(16, 8, 128, g_quick ? 4096 : 32768);
}

typedef struct {
    const gpu_attn_variant *v;
    float *dq, *dk, *dv, *dout, *out, *lse, *q, *k, *vv;
    int32_t *pos;
    int B, T, H, dh, W;
} bwd_args;

static int run_bwd(void *p) {
    bwd_args *a = p;
    return a->v->backward(a->dq, a->dk, a->dv, a->dout, a->out, a->lse, a->q, a->k, a->vv, a->pos, a->B, a->T, a->H,
                          a->dh, a->W);
}

static void bench_attn_bwd_case(int B, int T, int H, int dh, int W) {
    bwd_args a = {0};
    a.B = B, a.T = T, a.H = H, a.dh = dh, a.W = W;
    size_t nq = (size_t)B * T * H * dh, nk = (size_t)B * T * dh, nl = (size_t)B * H * T;
    float **qbufs[] = {&a.dq, &a.dout, &a.out, &a.q}, **kbufs[] = {&a.dk, &a.dv, &a.k, &a.vv};
    for (int i = 0; i < 4; i++)
        if (!(*qbufs[i] = gpu_alloc(nq * 4)) || !(*kbufs[i] = gpu_alloc(nk * 4))) die("alloc attention buffers");
    if (!(a.lse = gpu_alloc(nl * 4)) || !(a.pos = gpu_alloc((size_t)B * T * 4))) die("alloc");
    if (gpu_fill_uniform(a.q, nq, -1, 1, 21) || gpu_fill_uniform(a.k, nk, -1, 1, 22) ||
        gpu_fill_uniform(a.vv, nk, -1, 1, 23) || gpu_fill_uniform(a.dout, nq, -1, 1, 24))
        die("fill");
    int32_t *pos = malloc((size_t)B * T * 4);
    CHECK_ALLOC(pos);
    for (size_t i = 0; i < (size_t)B * T; i++) pos[i] = (int32_t)(i % T);
    if (gpu_upload(a.pos, pos, (size_t)B * T * 4)) die("upload");
    free(pos);
    const gpu_attn_variant *naive = gpu_attn_find("naive"), *tiled = gpu_attn_find("tiled");
    if (!naive || !tiled || tiled->forward(a.out, a.lse, a.q, a.k, a.vv, a.pos, B, T, H, dh, W)) die("attn forward");
    /* validate: tiled vs naive here (the CPU comparison is in test_gpu) */
    a.v = naive;
    if (run_bwd(&a)) die("naive backward");
    float *n_dq = dev_download(a.dq, nq), *n_dk = dev_download(a.dk, nk), *n_dv = dev_download(a.dv, nk);
    a.v = tiled;
    if (run_bwd(&a)) die("tiled backward");
    float *t_dq = dev_download(a.dq, nq), *t_dk = dev_download(a.dk, nk), *t_dv = dev_download(a.dv, nk);
    double e = util_max_rel_err(t_dq, n_dq, nq) + util_max_rel_err(t_dk, n_dk, nk) + util_max_rel_err(t_dv, n_dv, nk);
    int ok = e < 1e-4;
    printf("validate attn bwd B=%d T=%d H=%d dh=%d W=%d: tiled vs naive %.2g  %s\n", B, T, H, dh, W, e,
           ok ? "ok" : "FAILED");
    free(n_dq); free(n_dk); free(n_dv); free(t_dq); free(t_dk); free(t_dv);
    if (!ok) {
        g_fail = 1;
    } else {
        double ms[3];
        const char *names[3] = {"naive", "banded", "tiled"};
        for (int i = 0; i < 3; i++) {
            a.v = gpu_attn_find(names[i]);
            ms[i] = a.v ? time_call(run_bwd, &a, g_reps < 3 ? g_reps : 3, names[i]) : -1;
        }
        double keys = 0; /* visible (query, key) pairs of one head */
        for (int t = 0; t < T; t++) keys += (W >= 0 && t > W) ? W + 1 : t + 1;
        double flops = 2.0 * 5.0 * B * keys * H * dh; /* S, dP, dV, dK, dQ */
        double gf = flops / (ms[2] * 1e-3) / 1e9;
        printf("attn bwd B=%d T=%d H=%d dh=%d W=%-5d naive %9.3f ms  banded %9.3f ms  tiled %9.3f ms (%.1f GFLOP/s, "
               "%.2f of sgemm)  tiled speed-up %.1fx\n",
               B, T, H, dh, W, ms[0], ms[1], ms[2], gf, gf / g_sgemm, ms[0] / ms[2]);
        ROW("attn-bwd T=%-5d H=%d dh=%d W=%-5d naive %8.3f ms | banded %8.3f ms | tiled %8.3f ms %.2f of sgemm | %.1fx",
            T, H, dh, W, ms[0], ms[1], ms[2], gf / g_sgemm, ms[0] / ms[2]);
    }
    for (int i = 0; i < 4; i++) {
        gpu_free(*qbufs[i]);
        gpu_free(*kbufs[i]);
    }
    gpu_free(a.lse);
    gpu_free(a.pos);
}

static void bench_attn_bwd(void) {
    const int T = g_quick ? 1024 : 4096;
    bench_attn_bwd_case(1, T, 8, 128, 1024); /* local (Griffin) */
    bench_attn_bwd_case(1, T, 8, 128, -1);   /* global (MQA baseline) */
    bench_attn_bwd_case(1, T, 10, 256, 1024);
}

/* ---- models on the backend table: decode (graph and eager) and prefill ---------------- */

static inline float hash_unit(uint64_t seed, size_t i) { /* uniform in [-1, 1) */
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (float)((z >> 40) * (2.0 / 16777216.0) - 1.0);
}

/* Fast parallel stand-in for model_init_weights (same std per tensor,
 * uniform instead of normal; bf16 tensors drawn in fp32, then rounded):
 * the paper sizes have ~1.3e9 parameters. */
static void fill_model(model *m, uint64_t seed) {
    for (int i = 0; i < m->ntensors; i++) {
        const tensor_desc *t = &m->tensors[i];
        float *p = t->bf16 ? malloc(t->numel * sizeof(float)) : m->params + t->offset;
        CHECK_ALLOC(p);
        float s = t->init == INIT_NORMAL ? t->std * 1.7320508f : 0.0f;
        long n = (long)t->numel;
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++)
            p[j] = t->init == INIT_APARAM ? 1.0f + 0.5f * hash_unit(seed + (uint64_t)i, (size_t)j)
                                          : s * hash_unit(seed + (uint64_t)i, (size_t)j);
        if (t->bf16) {
            bf16_from_f32(m->params16 + t->offset, p, t->numel);
            free(p);
        }
    }
}

/* GEMM + attention FLOPs of a prefill of B x T tokens. */
static double prefill_flops(const model_config *c, int B, int T) {
    double N = (double)B * T, D = c->width, Lw = c->lru_width, MD = (double)c->mlp_expansion * c->width;
    double dh = config_head_dim(c), HD = c->heads * dh, f = 0;
    for (int i = 0; i < c->depth; i++) {
        char t = c->pattern[i];
        f += 2 * N * (3 * D * MD); /* MLP */
        if (t == 'R') {
            f += 2 * N * (3 * D * Lw + 2 * Lw * Lw / c->gate_blocks);
        } else {
            f += 2 * N * (2 * D * HD + 2 * D * dh);
            double keys = 0; /* visible keys summed over queries */
            for (int q = 0; q < T; q++) keys += (t == 'L' && q > c->window) ? c->window + 1 : q + 1;
            f += 4.0 * B * keys * HD;
        }
    }
    f += 2 * N * D * c->vocab; /* tied logits */
    return f;
}

/* Bytes of decode state a step reads at n tokens per sequence. */
static double decode_state_read(const model_config *c, int B, int n) {
    double dh = config_head_dim(c), s = 0;
    for (int i = 0; i < c->depth; i++) {
        char t = c->pattern[i];
        if (t == 'R') s += 4.0 * c->lru_width * c->conv_width; /* h + K-1 conv rows */
        else if (t == 'L') s += 8.0 * dh * (n < c->window ? n : c->window);
        else s += 8.0 * dh * n;
    }
    return s * B;
}

/* Validate the device model against the same weights on the cpu: a prefill
 * of Tv tokens (logits) and one decode step after it; 1 when both agree
 * within tol of max|logit|. m is on the cpu on entry, on cuda on return. */
static int validate_model(model *m, const char *what, double tol) {
    enum { Tv = 16 };
    const int V = m->cfg.vocab;
    int32_t tok[Tv], pos[Tv], nxt = 7;
    for (int t = 0; t < Tv; t++) {
        tok[t] = (int32_t)((t * 37 + 11) % V);
        pos[t] = t;
    }
    model_acts a;
    decode_state s;
    float *cl = malloc((size_t)Tv * V * 4), *cd = malloc((size_t)V * 4), *gd = malloc((size_t)V * 4);
    CHECK_ALLOC(cl); CHECK_ALLOC(cd); CHECK_ALLOC(gd);
    /* the cpu */
    if (model_acts_alloc(&a, m, 1, Tv, 0) || decode_state_alloc(&s, m, 1, 64) || model_forward(m, &a, tok, pos, &s) ||
        model_decode_step(m, &s, &nxt, NULL, cd))
        die("cpu validation run");
    memcpy(cl, a.logits, (size_t)Tv * V * 4);
    model_acts_free(&a);
    decode_state_free(&s);
    /* the device */
    if (model_set_device(m, &backend_cuda)) die("model to cuda");
    if (model_acts_alloc(&a, m, 1, Tv, 0) || decode_state_alloc(&s, m, 1, 64) || model_forward(m, &a, tok, pos, &s) ||
        model_decode_step(m, &s, &nxt, NULL, gd))
        die("cuda validation run");
    const float *gl = model_acts_logits(&a);
    if (!gl) die("logits");
    double e1 = util_max_rel_err(gl, cl, (size_t)Tv * V), e2 = util_max_rel_err(gd, cd, (size_t)V);
    int ok = e1 <= tol && e2 <= tol;
    printf("validate %-22s prefill(T=%d) %.2g, decode step %.2g (tol %.0e)  %s\n", what, Tv, e1, e2, tol, ok ? "ok" : "FAILED");
    if (!ok) g_fail = 1;
    model_acts_free(&a);
    decode_state_free(&s);
    free(cl); free(cd); free(gd);
    return ok;
}

/* Median ms of `steps` decode steps at batch B (after warm-up; the L2
 * flushed before each), graphs on or off; *sbytes: the state bytes read,
 * averaged. */
static double time_decode(model *m, int B, int graphs, int warm, int steps, double *sbytes) {
    decode_state st;
    if (decode_state_alloc(&st, m, B, warm + steps + 2)) die("decode state");
    st.graphs = graphs;
    int32_t *tk = malloc(sizeof(int32_t) * (size_t)B);
    float *lg = malloc((size_t)B * m->cfg.vocab * 4);
    CHECK_ALLOC(tk); CHECK_ALLOC(lg);
    double t[64];
    *sbytes = 0;
    for (int s = 0; s < warm + steps; s++) {
        for (int b = 0; b < B; b++) tk[b] = (int32_t)((s * 131 + b * 7) % m->cfg.vocab);
        int n = st.n[0];
        if (gpu_l2_flush() || gpu_timer_start(g_tm)) die("timer");
        if (model_decode_step(m, &st, tk, NULL, lg)) die("decode step");
        double ms = gpu_timer_stop(g_tm);
        if (ms < 0) die("timer");
        if (s >= warm) {
            t[s - warm] = ms;
            *sbytes += decode_state_read(&m->cfg, B, n + 1) / steps;
        }
    }
    if (graphs && st.graph_captures != 1)
        printf("note: %ld graph captures in one decode run (want 1)\n", st.graph_captures);
    free(tk); free(lg);
    decode_state_free(&st);
    qsort(t, (size_t)steps, sizeof(double), cmp_d);
    return t[steps / 2];
}

static void bench_model(const char *preset, weights_dtype wd, int do_prefill) {
    model_config c;
    if (config_preset(preset, &c) != 0) die(preset);
    model m;
    if (model_create_dtype(&m, &c, wd) != 0) die(preset);
    fill_model(&m, 42);
    char what[64];
    snprintf(what, sizeof what, "%s %s", preset, weights_name(wd));
    /* fp32: the device sums in other orders (1e-3); bf16: cuBLAS rounds the
     * activations to bf16 as well (3e-2, as tests/test_gpu.c) */
    if (!validate_model(&m, what, wd == WEIGHTS_BF16 ? 3e-2 : 1e-3)) {
        model_free(&m);
        return;
    }
    const double pbytes = model_weight_bytes(&m);
    const int batches[3] = {1, 16, 64};
    for (int bi = 0; bi < 3; bi++) {
        int B = batches[bi], warm = 3, steps = g_quick ? 4 : 10;
        double sb, sb2;
        double ms = time_decode(&m, B, 1, warm, steps, &sb), eager = time_decode(&m, B, 0, warm, steps, &sb2);
        double model_ms = (pbytes + sb) / (g_bw * 1e9) * 1e3;
        printf("decode %-22s B=%-3d %8.3f ms/step (graph; eager %.3f: %.2fx)  bound %.3f ms (%.0f MB weights + %.1f MB state)  ratio %.2f\n",
               what, B, ms, eager, eager / ms, model_ms, pbytes / 1e6, sb / 1e6, ms / model_ms);
        ROW("decode   %-22s B=%-3d %9.3f ms/step  eager %.3f  bound %.3f ms  ratio %.2f%s", what, B, ms, eager, model_ms,
            ms / model_ms,
            B == 1 && strstr(preset, "-1b") ? (ms / model_ms <= 1.5 ? "  (target <= 1.5: MET)" : "  (target <= 1.5: NOT MET)")
                                            : "");
    }
    if (do_prefill) {
        const int T = g_quick ? 1024 : 4096;
        int32_t *tk = malloc(sizeof(int32_t) * T), *ps = malloc(sizeof(int32_t) * T);
        CHECK_ALLOC(tk); CHECK_ALLOC(ps);
        for (int t = 0; t < T; t++) {
            tk[t] = (int32_t)((t * 131 + 3) % c.vocab);
            ps[t] = t;
        }
        model_acts a;
        if (model_acts_alloc(&a, &m, 1, T, 0)) die("prefill activations");
        double tt[8];
        int reps = g_quick ? 2 : 4;
        for (int r = -1; r < reps; r++) {
            if (gpu_l2_flush() || gpu_timer_start(g_tm)) die("timer");
            if (model_forward(&m, &a, tk, ps, NULL)) die("prefill");
            double ms = gpu_timer_stop(g_tm);
            if (ms < 0) die("timer");
            if (r >= 0) tt[r] = ms;
        }
        qsort(tt, (size_t)reps, sizeof(double), cmp_d);
        double ms = tt[reps / 2], gf = prefill_flops(&c, 1, T) / (ms * 1e-3) / 1e9, frac = gf / g_sgemm;
        printf("prefill %-22s B=1 T=%d %9.3f ms %9.1f GFLOP/s  %.2f of sgemm\n", what, T, ms, gf, frac);
        ROW("prefill  %-22s B=1 T=%-5d %9.3f ms %8.1f GFLOP/s  %.2f of sgemm (target >= 0.5: %s)", what, T, ms, gf, frac,
            frac >= 0.5 ? "MET" : "NOT MET");
        model_acts_free(&a);
        free(tk);
        free(ps);
    }
    model_free(&m);
}

static const char *USAGE = "usage: gpu_bench [--quick] [--only scan|attn|model]\n"
                           "  --quick  reduced shapes (a smoke run)\n"
                           "  --only   one group: the RG-LRU scan, attention (decode split-K and backward), or the "
                           "models\n";

int main(int argc, char **argv) {
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            g_quick = 1;
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc &&
                   (!strcmp(argv[i + 1], "scan") || !strcmp(argv[i + 1], "attn") || !strcmp(argv[i + 1], "model"))) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else {
            fprintf(stderr, "gpu_bench: unknown or incomplete argument '%s'\n%s", argv[i], USAGE);
            return 2;
        }
    }
#define WANT(g) (!only || !strcmp(only, (g)))
    char why[256];
    if (!gpu_available(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        return 0;
    }
    char desc[512];
    gpu_describe(desc, sizeof desc);
    printf("device: %s\n", desc);
    if (!(g_tm = gpu_timer_create())) die("timer");
    g_bw = gpu_copy_bandwidth((size_t)1 << 30, 10);
    g_sgemm = gpu_sgemm_rate(8192, 5);
    if (g_bw <= 0 || g_sgemm <= 0) die("probes");
    printf("probe: device copy %.1f GB/s (read + write, 1 GiB), cuBLAS sgemm %.1f GFLOP/s (n = 8192)\n", g_bw, g_sgemm);
    double t0 = util_now();
    if (WANT("scan")) {
        bench_scan();
        printf("[scan done in %.1f s]\n", util_now() - t0);
    }
    if (WANT("attn")) {
        bench_decode_attn();
        bench_attn_bwd();
        printf("[attention done in %.1f s]\n", util_now() - t0);
    }
    if (WANT("model")) {
        const char *dec_only[] = {"hawk-400m", "griffin-400m", "mqa-400m"};
        const char *with_prefill[] = {"hawk-1b", "griffin-1b", "mqa-1b"};
        for (int i = 0; i < 3; i++) bench_model(dec_only[i], WEIGHTS_F32, 0);
        for (int i = 0; i < 3; i++) bench_model(with_prefill[i], WEIGHTS_F32, 1);
        for (int i = 0; i < 3; i++) bench_model(with_prefill[i], WEIGHTS_BF16, 0);
        printf("[models done in %.1f s]\n", util_now() - t0);
    }
    printf("[total %.1f s]\n\n", util_now() - t0);
    printf("== summary: %s\n== copy bandwidth %.1f GB/s, sgemm %.1f GFLOP/s (measured in this run)%s\n", desc, g_bw,
           g_sgemm, g_quick ? "  [--quick: reduced shapes]" : "");
    for (int i = 0; i < g_nrows; i++) printf("%s\n", g_rows[i]);
    if (g_fail) printf("VALIDATION FAILED for at least one kernel or model (not timed)\n");
    gpu_timer_free(g_tm);
    return g_fail ? 1 : 0;
}
