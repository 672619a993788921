/* bench_main.c — griffin-bench: Google Benchmark micro-benchmarks of every
 * kernel variant over paper-like shapes, through the C shim (gbench.h).
 *
 *   build/griffin-bench --benchmark_format=json --benchmark_repetitions=5 > bench.json
 *   build/griffin-bench --benchmark_filter='^rglru/' --max-T 4096
 *   build/griffin-bench --benchmark_list_tests
 *
 * Own flags (parsed and removed before Google Benchmark sees argv):
 *   --max-T N          largest T of the scan / attention sweeps (default 65536;
 *                      env GRIFFIN_BENCH_MAX_T)
 *   --ref-max-T N      largest T at which the scan "ref" variants are timed (2048)
 *   --attn-ref-max-T N largest T at which attention "ref" is timed (4096)
 *   --threads N        OpenMP / OpenBLAS threads (default: all)
 *   --roofline MODE    full | quick | off: the probe run at start-up whose limits
 *                      give frac_roofline (default full; env GRIFFIN_ROOFLINE=quick)
 *   --mem-gib X        memory budget for one benchmark's buffers (default 60% of
 *                      MemAvailable); larger shapes are not registered (listed on stderr)
 *
 * Names: family/variant/arg:value..., e.g. rglru/fused/B:8/C:1024/T:4096/real_time
 * (Google Benchmark appends "/real_time" because every benchmark measures
 * wall time: the kernels run OpenMP teams). Key results on (family, variant, args).
 * Repetitions only by --benchmark_repetitions; never baked into names.
 *
 * Every benchmark first validates the variant against its reference on the
 * same shape (or the same B, C with T truncated where the reference would be
 * too slow) and reports an error instead of a timing if it differs beyond
 * tolerance (design.md rule 8). Counters on every benchmark:
 *   GB/s          bytes that must move per call / time (formula at each kernel)
 *   GFLOP/s       flops per call / time (formula at each kernel)
 *   frac_roofline GB/s / measured copy (or read) bandwidth for memory-bound
 *                 kernels, GFLOP/s / measured sgemm peak for compute-bound
 *                 ones; the label says which ("roof=copy|read|sgemm"). Each
 *                 limit is the better of the 1-thread and all-threads probe.
 *   ns_per_token  wall time per (batch x time) position, where there is one
 * The context block carries the git commit, the machine fingerprint, the
 * measured limits and the thread count.
 */
#include "gbench.h"

#include "attention.h"
#include "machine.h"
#include "bf16.h"
#include "matmul.h"
#include "ops.h"
#include "roofline.h"
#include "scan.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- settings ----------------------------------------------------------- */
static int g_max_T = 65536;
static int g_ref_max_T = 2048;
static int g_attn_ref_max_T = 4096;
static double g_mem_budget = 0; /* bytes */
/* The limits frac_roofline divides by: per metric, the better of the
 * 1-thread and the all-threads probe (more threads can only be used, not
 * forced: on a loaded 2-core VM the 2-thread stream can come out lower). */
static roofline_result g_roof_best;
static const roofline_result *g_roof = NULL;
static int g_skipped_mem = 0;

/* Largest B*T*C the scan references run on to validate a variant; beyond
 * that T is truncated (same B and C). */
#define VAL_MAX_ELEMS ((size_t)1 << 22)
/* Attention is validated at min(T, ATTN_VAL_T) (> W so the window is active). */
#define ATTN_VAL_T 2048

typedef enum { ROOF_COPY, ROOF_READ, ROOF_SGEMM } roof_kind;

/* ---- deterministic parallel fill --------------------------------------- */
static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline float hash_uniform(uint64_t seed, size_t i) {
    return (float)(mix64(seed * 0x9e3779b97f4a7c15ULL + i + 1) >> 40) * (1.0f / 16777216.0f);
}
/* p[i] = lo + (hi - lo) * U(seed, i): the same values for the same seed and
 * index, whatever the thread count. */
static void fill_uniform(float *p, size_t n, uint64_t seed, float lo, float hi) {
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * hash_uniform(seed, i);
}
static void fill_zero(void *p, size_t bytes) {
    char *c = (char *)p;
    size_t chunk = (size_t)1 << 20, nch = (bytes + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
    for (size_t k = 0; k < nch; k++) {
        size_t off = k * chunk, len = off + chunk > bytes ? bytes - off : chunk;
        memset(c + off, 0, len);
    }
}
static void fill_pos(int32_t *pos, int B, int T) { /* one document per sequence */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) pos[(size_t)b * T + t] = t;
}
/* RG-LRU a_param such that a^c, c = 8, is uniform in [0.9, 0.999] (spec init):
 * log a = -8 softplus(a_param) r, so softplus(a_param) = -ln(u) / 8. */
static void fill_a_param(float *ap, int C, uint64_t seed) {
    for (int c = 0; c < C; c++) {
        double u = 0.9 + 0.099 * hash_uniform(seed, (size_t)c);
        double sp = -log(u) / 8.0;
        ap[c] = (float)log(expm1(sp));
    }
}

/* ---- buffers: one live fixture (the timing shape), reused across variants */
#define FX_MAX 12
static struct {
    char key[160];
    void *p[FX_MAX];
    size_t bytes[FX_MAX];
    int n;
} g_fx;

static void fx_release(void) {
    for (int i = 0; i < g_fx.n; i++) free(g_fx.p[i]);
    memset(&g_fx, 0, sizeof g_fx);
}
/* Returns 1 if a fresh fixture was allocated (caller fills it), 0 if the
 * fixture with this key is live, -1 on allocation failure. Output buffers
 * are zeroed (touched) so page faults stay out of the timed loop. */
static int fx_acquire(const char *key, int n, const size_t *bytes) {
    if (g_fx.n && !strcmp(g_fx.key, key)) return 0;
    fx_release();
    for (int i = 0; i < n; i++) {
        size_t b = bytes[i] ? (bytes[i] + 63) & ~(size_t)63 : 64;
        if (posix_memalign(&g_fx.p[i], 64, b) != 0) {
            g_fx.n = i;
            fx_release();
            return -1;
        }
        g_fx.bytes[i] = b;
        g_fx.n = i + 1;
        fill_zero(g_fx.p[i], b);
    }
    snprintf(g_fx.key, sizeof g_fx.key, "%s", key);
    return 1;
}

/* ---- validation results and the cached reference output --------------- */
typedef struct {
    char key[160];
    int ok;
    char msg[200];
} val_entry;
static val_entry *g_val = NULL;
static int g_nval = 0, g_capval = 0;

static const val_entry *val_find(const char *key) {
    for (int i = 0; i < g_nval; i++)
        if (!strcmp(g_val[i].key, key)) return &g_val[i];
    return NULL;
}
static const val_entry *val_store(const char *key, int ok, const char *msg) {
    if (g_nval == g_capval) {
        g_capval = g_capval ? 2 * g_capval : 64;
        g_val = (val_entry *)realloc(g_val, (size_t)g_capval * sizeof *g_val);
        CHECK_ALLOC(g_val);
    }
    val_entry *e = &g_val[g_nval++];
    snprintf(e->key, sizeof e->key, "%s", key);
    e->ok = ok;
    snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "");
    return e;
}

/* Reference outputs for the last validation shape (one entry: benchmarks
 * are registered shape-major, so all variants of a shape share it). */
static struct {
    char key[160];
    float *out[4];
    size_t n[4];
} g_refc;
static float **refc_get(const char *key) {
    return g_refc.out[0] && !strcmp(g_refc.key, key) ? g_refc.out : NULL;
}
static float **refc_put(const char *key, int n, const size_t *sizes) {
    for (int i = 0; i < 4; i++) free(g_refc.out[i]);
    memset(&g_refc, 0, sizeof g_refc);
    for (int i = 0; i < n; i++) {
        g_refc.out[i] = (float *)calloc(sizes[i] ? sizes[i] : 1, sizeof(float));
        CHECK_ALLOC(g_refc.out[i]);
        g_refc.n[i] = sizes[i];
    }
    snprintf(g_refc.key, sizeof g_refc.key, "%s", key);
    return g_refc.out;
}

/* Compare: worst |a-b| / (atol + rtol |b|) must be <= 1. */
static int close_enough(const char *what, const float *got, const float *want, size_t n,
                        double rtol, double atol, char *msg, size_t msgsz) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(got[i]) && isfinite(want[i])) {
            snprintf(msg, msgsz, "%s: non-finite value at %zu", what, i);
            return 0;
        }
    double r = util_close_ratio(got, want, n, rtol, atol);
    if (r > 1.0) {
        snprintf(msg, msgsz, "%s differs from ref: max err %.3g x tolerance (rtol %.0e, atol %.0e)",
                 what, r, rtol, atol);
        return 0;
    }
    return 1;
}

/* ---- counters ------------------------------------------------------------ */
/* bytes, flops, tokens: per call of the kernel. */
static void report(gb_state *st, double bytes, double flops, double tokens, roof_kind roof) {
    int64_t it = gb_iterations(st);
    gb_set_bytes_processed(st, (int64_t)(bytes * (double)it));
    gb_counter(st, "GB/s", bytes * 1e-9, GB_ITER_RATE);
    gb_counter(st, "GFLOP/s", flops * 1e-9, GB_ITER_RATE);
    if (tokens > 0) {
        gb_set_items_processed(st, (int64_t)(tokens * (double)it));
        /* inverted rate: seconds / (iterations * tokens * 1e-9) = ns per token */
        gb_counter(st, "ns_per_token", tokens * 1e-9, GB_ITER_RATE | GB_INVERT);
    }
    if (g_roof) {
        double limit = roof == ROOF_COPY ? g_roof->copy_gbs
                     : roof == ROOF_READ ? g_roof->read_gbs
                                         : g_roof->sgemm_peak_gflops;
        double per_call = roof == ROOF_SGEMM ? flops * 1e-9 : bytes * 1e-9;
        if (limit > 0) gb_counter(st, "frac_roofline", per_call / limit, GB_ITER_RATE);
    }
    gb_set_label(st, roof == ROOF_COPY ? "roof=copy" : roof == ROOF_READ ? "roof=read" : "roof=sgemm");
}

/* Registration helper: family/variant with named args, wall-clock time. */
static gb_bench *reg(const char *family, const char *variant, gb_fn fn, void *ctx) {
    char name[128];
    snprintf(name, sizeof name, "%s/%s", family, variant);
    gb_bench *b = gb_register(name, fn, ctx);
    gb_use_real_time(b);
    return b;
}
static int fits(double bytes, const char *what) {
    if (g_mem_budget > 0 && bytes > g_mem_budget) {
        fprintf(stderr, "griffin-bench: not registering %s: needs %.1f GiB > budget %.1f GiB (--mem-gib)\n",
                what, bytes / (1 << 30), g_mem_budget / (1 << 30));
        g_skipped_mem++;
        return 0;
    }
    return 1;
}

/* ========================================================================
 * RG-LRU layer forward (scan.h level 2)
 *   bytes = 4 * (4*B*T*C + B*T + C + B*C * (h0 ? 2 : 1))
 *           read x, gx, ga (3 BTC), write y (BTC); pos (BT int32), a_param (C),
 *           h_last written (BC) and h0 read (BC, decode shapes only)
 *   flops = 16 * B*T*C  (two sigmoids 3 each, log a 2, exp 1, a^2 1,
 *           1-a^2 1, sqrt 1, *i *x 2, scan 2; transcendentals count 1)
 * ====================================================================== */
enum { RG_X, RG_GX, RG_GA, RG_AP, RG_POS, RG_H0, RG_Y, RG_HL, RG_WORK, RG_NBUF };

static void rglru_inputs(void **p, int B, int T, int C, int decode) {
    size_t n = (size_t)B * T * C;
    fill_uniform((float *)p[RG_X], n, 11, -1.f, 1.f);
    fill_uniform((float *)p[RG_GX], n, 12, -3.f, 3.f);
    fill_uniform((float *)p[RG_GA], n, 13, -3.f, 3.f);
    fill_a_param((float *)p[RG_AP], C, 14);
    fill_pos((int32_t *)p[RG_POS], B, T);
    if (decode) fill_uniform((float *)p[RG_H0], (size_t)B * C, 15, -1.f, 1.f);
}
static void rglru_sizes(size_t *sz, int B, int T, int C) {
    size_t n = (size_t)B * T * C;
    sz[RG_X] = sz[RG_GX] = sz[RG_GA] = sz[RG_Y] = n * 4;
    sz[RG_AP] = (size_t)C * 4;
    sz[RG_POS] = (size_t)B * T * 4;
    sz[RG_H0] = sz[RG_HL] = (size_t)B * C * 4;
    sz[RG_WORK] = rglru_work_floats(B, T, C) * 4;
}
static void rglru_call(const rglru_variant *v, void **p, int B, int T, int C, int decode) {
    v->forward((float *)p[RG_Y], (float *)p[RG_HL], (const float *)p[RG_X], (const float *)p[RG_GX],
               (const float *)p[RG_GA], (const float *)p[RG_AP], (const int32_t *)p[RG_POS],
               decode ? (const float *)p[RG_H0] : NULL, (float *)p[RG_WORK], B, T, C);
}
static int alloc_set(void **p, const size_t *sz, int n) {
    for (int i = 0; i < n; i++) {
        p[i] = calloc(sz[i] ? sz[i] : 1, 1);
        if (!p[i]) return -1;
    }
    return 0;
}
static void free_set(void **p, int n) {
    for (int i = 0; i < n; i++) free(p[i]);
}

/* ---- validation and timing scaffolding shared by the kernel families ----- */
/* T at which a (B, T, C) shape is validated: halved until B*T*C <= VAL_MAX_ELEMS. */
static int val_T(int B, int T, int C) {
    int Tv = T;
    while ((size_t)B * Tv * C > VAL_MAX_ELEMS && Tv > 1) Tv /= 2;
    return Tv;
}
/* key = "skey:variant"; returns the cached result for it, or NULL. */
static const val_entry *val_lookup(char *key, size_t keysz, const char *skey, const char *variant) {
    snprintf(key, keysz, "%s:%s", skey, variant);
    return val_find(key);
}
/* Allocates the n validation buffers: NULL on success, else (all freed)
 * the stored failure. */
static const val_entry *val_alloc(const char *key, void **p, const size_t *sz, int n) {
    if (!alloc_set(p, sz, n)) return NULL;
    free_set(p, n);
    return val_store(key, 0, "cannot allocate validation buffers");
}
/* Keeps outputs p[idx[i]] (cnt[i] floats each) as the reference for skey. */
static float **refc_save(const char *skey, void **p, int n, const int *idx, const size_t *cnt) {
    float **ref = refc_put(skey, n, cnt);
    for (int i = 0; i < n; i++) memcpy(ref[i], p[idx[i]], cnt[i] * 4);
    return ref;
}
static void zero_outputs(void **p, int n, const int *idx, const size_t *cnt) {
    for (int i = 0; i < n; i++) memset(p[idx[i]], 0, cnt[i] * 4);
}
/* Frees the n validation buffers and stores the verdict (msg holds the
 * failure); a pass at a truncated T (Tv < T) says so in its message. */
static const val_entry *val_finish(const char *key, void **p, int n, int ok, char *msg, size_t msgsz,
                                   int Tv, int T) {
    free_set(p, n);
    if (ok && Tv != T) snprintf(msg, msgsz, "validated at T=%d", Tv);
    return val_store(key, ok, ok ? (Tv != T ? msg : "") : msg);
}
/* Acquires the timing fixture (key, n buffers of sz bytes): 1 fresh (caller
 * fills it), 0 reused, -1 when the benchmark was skipped instead. */
static int fx_for(gb_state *st, const char *key, int n, const size_t *sz) {
    int fresh = fx_acquire(key, n, sz);
    if (fresh < 0) gb_skip_with_error(st, "cannot allocate the timing buffers");
    return fresh;
}
/* As fx_for, after skipping with e's message unless validation e passed. */
static int bm_setup(gb_state *st, const val_entry *e, const char *key, int n, const size_t *sz) {
    if (!e->ok) {
        gb_skip_with_error(st, e->msg);
        return -1;
    }
    return fx_for(st, key, n, sz);
}

/* Validate v against "ref" at (B, Tv, C); result cached per (variant, shape). */
static const val_entry *rglru_validate(const rglru_variant *v, int B, int T, int C) {
    int decode = T == 1;
    int Tv = val_T(B, T, C);
    char key[160], skey[96];
    snprintf(skey, sizeof skey, "rglru:%d:%d:%d", B, Tv, C);
    const val_entry *e = val_lookup(key, sizeof key, skey, v->name);
    if (e) return e;
    size_t sz[RG_NBUF];
    void *p[RG_NBUF] = {0};
    rglru_sizes(sz, B, Tv, C);
    if ((e = val_alloc(key, p, sz, RG_NBUF))) return e;
    rglru_inputs(p, B, Tv, C, decode);
    size_t n = (size_t)B * Tv * C;
    float **ref = refc_get(skey);
    if (!ref) {
        const rglru_variant *r = rglru_find("ref");
        if (!r) {
            free_set(p, RG_NBUF);
            return val_store(key, 0, "no ref variant");
        }
        rglru_call(r, p, B, Tv, C, decode);
        static const int outs[2] = {RG_Y, RG_HL};
        size_t rs[2] = {n, (size_t)B * C};
        ref = refc_save(skey, p, 2, outs, rs);
        zero_outputs(p, 2, outs, rs);
    }
    rglru_call(v, p, B, Tv, C, decode);
    char msg[200];
    int ok = close_enough("y", (float *)p[RG_Y], ref[0], n, 1e-3, 1e-4, msg, sizeof msg) &&
             close_enough("h_last", (float *)p[RG_HL], ref[1], (size_t)B * C, 1e-3, 1e-4, msg, sizeof msg);
    return val_finish(key, p, RG_NBUF, ok, msg, sizeof msg, Tv, T);
}

static void bm_rglru(gb_state *st, void *ctx) {
    const rglru_variant *v = (const rglru_variant *)ctx;
    int B = (int)gb_range(st, 0), C = (int)gb_range(st, 1), T = (int)gb_range(st, 2);
    int decode = T == 1;
    char key[96];
    snprintf(key, sizeof key, "rglru:%d:%d:%d", B, T, C);
    size_t sz[RG_NBUF];
    rglru_sizes(sz, B, T, C);
    int fresh = bm_setup(st, rglru_validate(v, B, T, C), key, RG_NBUF, sz);
    if (fresh < 0) return;
    if (fresh) rglru_inputs(g_fx.p, B, T, C, decode);
    while (gb_keep_running(st)) {
        rglru_call(v, g_fx.p, B, T, C, decode);
        gb_do_not_optimize(g_fx.p[RG_Y]);
    }
    double btc = (double)B * T * C;
    report(st, 4.0 * (4 * btc + (double)B * T + C + (double)B * C * (decode ? 2 : 1)), 16 * btc,
           (double)B * T, ROOF_COPY);
}

/* ========================================================================
 * RG-LRU backward
 *   bytes = 4 * (8*B*T*C + B*T + 2*C): read dy, y, x, gx, ga (5 BTC), write
 *           dx, dgx, dga (3 BTC); pos; a_param read, da_param +=
 *   flops ~ 40 * B*T*C (recomputes the gates: ~14; the reverse scan 3;
 *           the chain rule through sqrt, sigmoid, softplus: ~23)
 * ====================================================================== */
enum { RB_X, RB_GX, RB_GA, RB_AP, RB_POS, RB_DY, RB_Y, RB_DX, RB_DGX, RB_DGA, RB_DAP, RB_WORK, RB_NBUF };

static void rglru_bwd_sizes(size_t *sz, int B, int T, int C) {
    size_t n = (size_t)B * T * C * 4;
    sz[RB_X] = sz[RB_GX] = sz[RB_GA] = sz[RB_DY] = sz[RB_Y] = sz[RB_DX] = sz[RB_DGX] = sz[RB_DGA] = n;
    sz[RB_AP] = sz[RB_DAP] = (size_t)C * 4;
    sz[RB_POS] = (size_t)B * T * 4;
    sz[RB_WORK] = rglru_work_floats(B, T, C) * 4;
}
/* inputs: x, gx, ga, a_param, pos, dy; y from the reference forward */
static void rglru_bwd_inputs(void **p, int B, int T, int C) {
    size_t n = (size_t)B * T * C;
    fill_uniform((float *)p[RB_X], n, 21, -1.f, 1.f);
    fill_uniform((float *)p[RB_GX], n, 22, -3.f, 3.f);
    fill_uniform((float *)p[RB_GA], n, 23, -3.f, 3.f);
    fill_a_param((float *)p[RB_AP], C, 24);
    fill_pos((int32_t *)p[RB_POS], B, T);
    fill_uniform((float *)p[RB_DY], n, 25, -1.f, 1.f);
    const rglru_variant *f = rglru_find(RGLRU_DEFAULT);
    if (!f) f = rglru_find("ref");
    if (f)
        f->forward((float *)p[RB_Y], NULL, (const float *)p[RB_X], (const float *)p[RB_GX],
                   (const float *)p[RB_GA], (const float *)p[RB_AP], (const int32_t *)p[RB_POS], NULL,
                   (float *)p[RB_WORK], B, T, C);
}
static void rglru_bwd_call(const rglru_variant *v, void **p, int B, int T, int C) {
    v->backward((float *)p[RB_DX], (float *)p[RB_DGX], (float *)p[RB_DGA], (float *)p[RB_DAP],
                (const float *)p[RB_DY], (const float *)p[RB_Y], (const float *)p[RB_X],
                (const float *)p[RB_GX], (const float *)p[RB_GA], (const float *)p[RB_AP],
                (const int32_t *)p[RB_POS], NULL, (float *)p[RB_WORK], B, T, C);
}
static const val_entry *rglru_bwd_validate(const rglru_variant *v, int B, int T, int C) {
    int Tv = val_T(B, T, C);
    char key[160], skey[96];
    snprintf(skey, sizeof skey, "rglru_bwd:%d:%d:%d", B, Tv, C);
    const val_entry *e = val_lookup(key, sizeof key, skey, v->name);
    if (e) return e;
    size_t sz[RB_NBUF];
    void *p[RB_NBUF] = {0};
    rglru_bwd_sizes(sz, B, Tv, C);
    if ((e = val_alloc(key, p, sz, RB_NBUF))) return e;
    rglru_bwd_inputs(p, B, Tv, C);
    size_t n = (size_t)B * Tv * C;
    float **ref = refc_get(skey);
    if (!ref) {
        const rglru_variant *r = rglru_find("ref");
        if (!r || !r->backward) {
            free_set(p, RB_NBUF);
            return val_store(key, 0, "no ref backward");
        }
        rglru_bwd_call(r, p, B, Tv, C);
        static const int outs[4] = {RB_DX, RB_DGX, RB_DGA, RB_DAP};
        size_t rs[4] = {n, n, n, (size_t)C};
        ref = refc_save(skey, p, 4, outs, rs);
        zero_outputs(p, 1, outs + 3, rs + 3); /* da_param accumulates */
    }
    rglru_bwd_call(v, p, B, Tv, C);
    char msg[200];
    /* da_param sums over B*T terms: compare with a tolerance scaled by that */
    int ok = close_enough("dx", (float *)p[RB_DX], ref[0], n, 1e-3, 1e-4, msg, sizeof msg) &&
             close_enough("dgx", (float *)p[RB_DGX], ref[1], n, 1e-3, 1e-4, msg, sizeof msg) &&
             close_enough("dga", (float *)p[RB_DGA], ref[2], n, 1e-3, 1e-4, msg, sizeof msg) &&
             close_enough("da_param", (float *)p[RB_DAP], ref[3], (size_t)C, 1e-3,
                          1e-4 * sqrt((double)B * Tv), msg, sizeof msg);
    return val_finish(key, p, RB_NBUF, ok, msg, sizeof msg, Tv, T);
}
static void bm_rglru_bwd(gb_state *st, void *ctx) {
    const rglru_variant *v = (const rglru_variant *)ctx;
    int B = (int)gb_range(st, 0), C = (int)gb_range(st, 1), T = (int)gb_range(st, 2);
    char key[96];
    snprintf(key, sizeof key, "rglru_bwd:%d:%d:%d", B, T, C);
    size_t sz[RB_NBUF];
    rglru_bwd_sizes(sz, B, T, C);
    int fresh = bm_setup(st, rglru_bwd_validate(v, B, T, C), key, RB_NBUF, sz);
    if (fresh < 0) return;
    if (fresh) rglru_bwd_inputs(g_fx.p, B, T, C);
    while (gb_keep_running(st)) {
        rglru_bwd_call(v, g_fx.p, B, T, C);
        gb_do_not_optimize(g_fx.p[RB_DX]);
    }
    double btc = (double)B * T * C;
    report(st, 4.0 * (8 * btc + (double)B * T + 2.0 * C), 40 * btc, (double)B * T, ROOF_COPY);
}

/* ========================================================================
 * Linear scan h_t = a_t h_{t-1} + u_t (scan.h level 1)
 *   forward:  bytes = 4 * (3*B*T*C + B*C * (h0 ? 2 : 1))  read a, u; write h;
 *             h_last written, h0 read (decode); flops = 2 * B*T*C
 *   backward: bytes = 4 * 5*B*T*C  read dh, a, h; write du, da;
 *             flops = 3 * B*T*C  (g = dh + a g: 2; da = g h_prev: 1)
 * ====================================================================== */
enum { SC_A, SC_U, SC_H0, SC_H, SC_HL, SC_DH, SC_DU, SC_DA, SC_NBUF };

static void scan_sizes(size_t *sz, int B, int T, int C) {
    size_t n = (size_t)B * T * C * 4;
    sz[SC_A] = sz[SC_U] = sz[SC_H] = sz[SC_DH] = sz[SC_DU] = sz[SC_DA] = n;
    sz[SC_H0] = sz[SC_HL] = (size_t)B * C * 4;
}
static void scan_inputs(void **p, int B, int T, int C, int decode, int bwd) {
    size_t n = (size_t)B * T * C;
    fill_uniform((float *)p[SC_A], n, 31, 0.5f, 0.999f);
    fill_uniform((float *)p[SC_U], n, 32, -1.f, 1.f);
    if (decode) fill_uniform((float *)p[SC_H0], (size_t)B * C, 33, -1.f, 1.f);
    if (bwd) {
        fill_uniform((float *)p[SC_DH], n, 34, -1.f, 1.f);
        const scan_variant *r = scan_find("ref");
        if (r) r->forward((float *)p[SC_H], NULL, (const float *)p[SC_A], (const float *)p[SC_U], NULL, B, T, C);
    }
}
static void scan_call(const scan_variant *v, void **p, int B, int T, int C, int decode, int bwd) {
    if (bwd)
        v->backward((float *)p[SC_DU], (float *)p[SC_DA], (const float *)p[SC_DH], (const float *)p[SC_A],
                    (const float *)p[SC_H], NULL, B, T, C);
    else
        v->forward((float *)p[SC_H], (float *)p[SC_HL], (const float *)p[SC_A], (const float *)p[SC_U],
                   decode ? (const float *)p[SC_H0] : NULL, B, T, C);
}
static const val_entry *scan_validate(const scan_variant *v, int B, int T, int C, int bwd) {
    int decode = T == 1 && !bwd;
    int Tv = val_T(B, T, C);
    char key[160], skey[96];
    snprintf(skey, sizeof skey, "scan%s:%d:%d:%d", bwd ? "_bwd" : "", B, Tv, C);
    const val_entry *e = val_lookup(key, sizeof key, skey, v->name);
    if (e) return e;
    size_t sz[SC_NBUF];
    void *p[SC_NBUF] = {0};
    scan_sizes(sz, B, Tv, C);
    if ((e = val_alloc(key, p, sz, SC_NBUF))) return e;
    scan_inputs(p, B, Tv, C, decode, bwd);
    size_t n = (size_t)B * Tv * C, bc = (size_t)B * C;
    float **ref = refc_get(skey);
    const int outs[2] = {bwd ? SC_DU : SC_H, bwd ? SC_DA : SC_HL}, o1 = outs[0], o2 = outs[1];
    const size_t n2 = bwd ? n : bc;
    if (!ref) {
        const scan_variant *r = scan_find("ref");
        if (!r) {
            free_set(p, SC_NBUF);
            return val_store(key, 0, "no ref scan");
        }
        scan_call(r, p, B, Tv, C, decode, bwd);
        size_t rs[2] = {n, n2};
        ref = refc_save(skey, p, 2, outs, rs);
        zero_outputs(p, 2, outs, rs); /* h (bwd input, from scan_inputs) is kept */
    }
    scan_call(v, p, B, Tv, C, decode, bwd);
    char msg[200];
    int ok = close_enough(bwd ? "du" : "h", (float *)p[o1], ref[0], n, 1e-4, 1e-5, msg, sizeof msg) &&
             close_enough(bwd ? "da" : "h_last", (float *)p[o2], ref[1], n2, 1e-4, 1e-5, msg, sizeof msg);
    return val_finish(key, p, SC_NBUF, ok, msg, sizeof msg, Tv, T);
}
static void bm_scan_common(gb_state *st, const scan_variant *v, int bwd) {
    int B = (int)gb_range(st, 0), C = (int)gb_range(st, 1), T = (int)gb_range(st, 2);
    int decode = T == 1 && !bwd;
    char key[96];
    snprintf(key, sizeof key, "scan%s:%d:%d:%d", bwd ? "_bwd" : "", B, T, C);
    size_t sz[SC_NBUF];
    scan_sizes(sz, B, T, C);
    if (!bwd) sz[SC_DH] = sz[SC_DU] = sz[SC_DA] = 0; /* not needed forward */
    int fresh = bm_setup(st, scan_validate(v, B, T, C, bwd), key, SC_NBUF, sz);
    if (fresh < 0) return;
    if (fresh) scan_inputs(g_fx.p, B, T, C, decode, bwd);
    while (gb_keep_running(st)) {
        scan_call(v, g_fx.p, B, T, C, decode, bwd);
        gb_do_not_optimize(g_fx.p[bwd ? SC_DU : SC_H]);
    }
    double btc = (double)B * T * C, bc = (double)B * C;
    if (bwd) report(st, 4.0 * 5 * btc, 3 * btc, (double)B * T, ROOF_COPY);
    else report(st, 4.0 * (3 * btc + bc * (decode ? 2 : 1)), 2 * btc, (double)B * T, ROOF_COPY);
}
static void bm_scan(gb_state *st, void *ctx) { bm_scan_common(st, (const scan_variant *)ctx, 0); }
static void bm_scan_bwd(gb_state *st, void *ctx) { bm_scan_common(st, (const scan_variant *)ctx, 1); }

/* ========================================================================
 * Attention prefill (MQA): q (B,T,H,dh), k, v (B,T,dh), out (B,T,H,dh), lse (B,H,T)
 *   bytes = 4 * (2*B*T*H*dh + 2*B*T*dh + B*H*T + B*T)  read q, k, v, pos;
 *           write out, lse
 *   flops = 4 * dh * H * B * sum_t n_t, n_t = visible keys of query t
 *           (min(t+1, W+1) local, t+1 global): QK^T and PV, 2 flops each.
 *           The useful work, the same for every variant ("ref" does more).
 *   compute-bound: frac_roofline against the sgemm peak.
 * args: B, T, H, dh, W (W = -1: global)
 * ====================================================================== */
enum { AT_Q, AT_K, AT_V, AT_POS, AT_OUT, AT_LSE, AT_NBUF };

static void attn_sizes(size_t *sz, int B, int T, int H, int dh) {
    sz[AT_Q] = sz[AT_OUT] = (size_t)B * T * H * dh * 4;
    sz[AT_K] = sz[AT_V] = (size_t)B * T * dh * 4;
    sz[AT_POS] = (size_t)B * T * 4;
    sz[AT_LSE] = (size_t)B * H * T * 4;
}
static void attn_inputs(void **p, int B, int T, int H, int dh) {
    fill_uniform((float *)p[AT_Q], (size_t)B * T * H * dh, 41, -1.f, 1.f);
    fill_uniform((float *)p[AT_K], (size_t)B * T * dh, 42, -1.f, 1.f);
    fill_uniform((float *)p[AT_V], (size_t)B * T * dh, 43, -1.f, 1.f);
    fill_pos((int32_t *)p[AT_POS], B, T);
}
static void attn_call(const attn_variant *v, void **p, int B, int T, int H, int dh, int W) {
    v->forward((float *)p[AT_OUT], (float *)p[AT_LSE], (const float *)p[AT_Q], (const float *)p[AT_K],
               (const float *)p[AT_V], (const int32_t *)p[AT_POS], B, T, H, dh, W);
}
static const val_entry *attn_validate(const attn_variant *v, int B, int T, int H, int dh, int W) {
    int Tv = T < ATTN_VAL_T ? T : ATTN_VAL_T;
    char key[160], skey[96];
    snprintf(skey, sizeof skey, "attn:%d:%d:%d:%d:%d", B, Tv, H, dh, W);
    const val_entry *e = val_lookup(key, sizeof key, skey, v->name);
    if (e) return e;
    size_t sz[AT_NBUF];
    void *p[AT_NBUF] = {0};
    attn_sizes(sz, B, Tv, H, dh);
    if ((e = val_alloc(key, p, sz, AT_NBUF))) return e;
    attn_inputs(p, B, Tv, H, dh);
    size_t no = (size_t)B * Tv * H * dh, nl = (size_t)B * H * Tv;
    float **ref = refc_get(skey);
    if (!ref) {
        const attn_variant *r = attn_find("ref");
        if (!r) {
            free_set(p, AT_NBUF);
            return val_store(key, 0, "no ref attention");
        }
        attn_call(r, p, B, Tv, H, dh, W);
        static const int outs[2] = {AT_OUT, AT_LSE};
        size_t rs[2] = {no, nl};
        ref = refc_save(skey, p, 2, outs, rs);
        zero_outputs(p, 2, outs, rs);
    }
    attn_call(v, p, B, Tv, H, dh, W);
    char msg[200];
    int ok = close_enough("out", (float *)p[AT_OUT], ref[0], no, 1e-3, 1e-4, msg, sizeof msg) &&
             close_enough("lse", (float *)p[AT_LSE], ref[1], nl, 1e-4, 1e-4, msg, sizeof msg);
    return val_finish(key, p, AT_NBUF, ok, msg, sizeof msg, Tv, T);
}
static void bm_attn(gb_state *st, void *ctx) {
    const attn_variant *v = (const attn_variant *)ctx;
    int B = (int)gb_range(st, 0), T = (int)gb_range(st, 1), H = (int)gb_range(st, 2);
    int dh = (int)gb_range(st, 3), W = (int)gb_range(st, 4);
    char key[96];
    snprintf(key, sizeof key, "attn:%d:%d:%d:%d", B, T, H, dh);
    size_t sz[AT_NBUF];
    attn_sizes(sz, B, T, H, dh);
    int fresh = bm_setup(st, attn_validate(v, B, T, H, dh, W), key, AT_NBUF, sz);
    if (fresh < 0) return;
    if (fresh) attn_inputs(g_fx.p, B, T, H, dh);
    while (gb_keep_running(st)) {
        attn_call(v, g_fx.p, B, T, H, dh, W);
        gb_do_not_optimize(g_fx.p[AT_OUT]);
    }
    double keys = 0; /* sum over t of visible keys */
    for (int t = 0; t < T; t++) keys += (W >= 0 && t > W) ? W + 1 : t + 1;
    double bthd = (double)B * T * H * dh, btd = (double)B * T * dh;
    report(st, 4.0 * (2 * bthd + 2 * btd + (double)B * H * T + (double)B * T), 4.0 * dh * H * B * keys,
           (double)B * T, ROOF_SGEMM);
}

/* ========================================================================
 * Decode attention: one new token per sequence over a cache of S slots, all
 * valid (n = S): q (B,H,dh), kc, vc (B,S,dh), knew, vnew (B,dh), out (B,H,dh)
 *   bytes = 4 * (2*B*H*dh + 2*B*S*dh + 2*B*dh + B)   read q, kc, vc, knew,
 *           vnew, nvalid; write out
 *   flops = 4 * dh * H * B * (S + 1)
 *   memory-bound (it streams the cache): frac_roofline against read bandwidth
 * args: B, S, H, dh
 * ====================================================================== */
enum { AD_Q, AD_KC, AD_VC, AD_NV, AD_KN, AD_VN, AD_OUT, AD_NBUF };
typedef void (*attn_decode_fn)(float *, const float *, const float *, const float *, const int32_t *,
                               const float *, const float *, int, int, int, int);
static const struct {
    const char *name;
    attn_decode_fn fn;
} decode_variants[] = {{"ref", attn_decode_ref}, {"fast", attn_decode}, {NULL, NULL}};

static void adec_sizes(size_t *sz, int B, int S, int H, int dh) {
    sz[AD_Q] = sz[AD_OUT] = (size_t)B * H * dh * 4;
    sz[AD_KC] = sz[AD_VC] = (size_t)B * S * dh * 4;
    sz[AD_NV] = (size_t)B * 4;
    sz[AD_KN] = sz[AD_VN] = (size_t)B * dh * 4;
}
static void adec_inputs(void **p, int B, int S, int H, int dh) {
    fill_uniform((float *)p[AD_Q], (size_t)B * H * dh, 51, -1.f, 1.f);
    fill_uniform((float *)p[AD_KC], (size_t)B * S * dh, 52, -1.f, 1.f);
    fill_uniform((float *)p[AD_VC], (size_t)B * S * dh, 53, -1.f, 1.f);
    fill_uniform((float *)p[AD_KN], (size_t)B * dh, 54, -1.f, 1.f);
    fill_uniform((float *)p[AD_VN], (size_t)B * dh, 55, -1.f, 1.f);
    for (int b = 0; b < B; b++) ((int32_t *)p[AD_NV])[b] = S;
}
static void adec_call(attn_decode_fn fn, void **p, int B, int S, int H, int dh) {
    fn((float *)p[AD_OUT], (const float *)p[AD_Q], (const float *)p[AD_KC], (const float *)p[AD_VC],
       (const int32_t *)p[AD_NV], (const float *)p[AD_KN], (const float *)p[AD_VN], B, H, dh, S);
}
static void bm_attn_decode(gb_state *st, void *ctx) {
    attn_decode_fn fn = decode_variants[(intptr_t)ctx].fn;
    const char *vname = decode_variants[(intptr_t)ctx].name;
    int B = (int)gb_range(st, 0), S = (int)gb_range(st, 1), H = (int)gb_range(st, 2), dh = (int)gb_range(st, 3);
    char key[160];
    snprintf(key, sizeof key, "attn_decode:%d:%d:%d:%d:%s", B, S, H, dh, vname);
    const val_entry *e = val_find(key);
    if (!e) { /* same shape: decode is cheap */
        size_t sz[AD_NBUF];
        void *p[AD_NBUF] = {0};
        adec_sizes(sz, B, S, H, dh);
        if (alloc_set(p, sz, AD_NBUF)) e = val_store(key, 0, "cannot allocate validation buffers");
        else {
            adec_inputs(p, B, S, H, dh);
            size_t no = (size_t)B * H * dh;
            float *want = (float *)malloc(no * 4);
            CHECK_ALLOC(want);
            adec_call(attn_decode_ref, p, B, S, H, dh);
            memcpy(want, p[AD_OUT], no * 4);
            memset(p[AD_OUT], 0, no * 4);
            adec_call(fn, p, B, S, H, dh);
            char msg[200];
            int ok = close_enough("out", (float *)p[AD_OUT], want, no, 1e-3, 1e-4, msg, sizeof msg);
            e = val_store(key, ok, ok ? "" : msg);
            free(want);
        }
        free_set(p, AD_NBUF);
    }
    snprintf(key, sizeof key, "attn_decode:%d:%d:%d:%d", B, S, H, dh);
    size_t sz[AD_NBUF];
    adec_sizes(sz, B, S, H, dh);
    int fresh = bm_setup(st, e, key, AD_NBUF, sz);
    if (fresh < 0) return;
    if (fresh) adec_inputs(g_fx.p, B, S, H, dh);
    while (gb_keep_running(st)) {
        adec_call(fn, g_fx.p, B, S, H, dh);
        gb_do_not_optimize(g_fx.p[AD_OUT]);
    }
    double bhd = (double)B * H * dh;
    report(st, 4.0 * (2 * bhd + 2.0 * B * S * dh + 2.0 * B * dh + B), 4.0 * dh * H * B * (S + 1.0), B,
           ROOF_READ);
}

/* ========================================================================
 * ops.h kernels: ref and fast on the same shape (the refs are O(n), so the
 * validation always runs at the timing shape). args: see each family.
 * ====================================================================== */
typedef enum { OP_CONV1D, OP_RMSNORM, OP_GELU, OP_GEGLU, OP_ROPE, OP_XENT } op_kind;
typedef struct {
    op_kind kind;
    int fast; /* 0: the _ref twin, 1: the fast kernel */
} op_ctx;
static const op_ctx op_ctxs[][2] = {
    {{OP_CONV1D, 0}, {OP_CONV1D, 1}}, {{OP_RMSNORM, 0}, {OP_RMSNORM, 1}}, {{OP_GELU, 0}, {OP_GELU, 1}},
    {{OP_GEGLU, 0}, {OP_GEGLU, 1}},   {{OP_ROPE, 0}, {OP_ROPE, 1}},       {{OP_XENT, 0}, {OP_XENT, 1}},
};
enum { OPB_X, OPB_X2, OPB_W, OPB_B, OPB_POS, OPB_Y, OPB_AUX, OPB_NBUF };
#define ROPE_H 8
#define ROPE_BASE 10000.0f

/* Shapes: conv1d (B,T,C,K); rmsnorm (N,C); gelu/geglu (N,C) flattened;
 * rope (N,H,dh) with rot = dh/2; xent (N,V). Buffers: x, x2 (second input
 * or a pristine copy for in-place kernels), w, b, pos/targets, y, aux. */
static void op_shape(op_kind k, gb_state *st, int64_t *a) {
    for (int i = 0; i < 4; i++) a[i] = 0;
    int na = k == OP_CONV1D ? 4 : k == OP_ROPE ? 3 : 2;
    for (int i = 0; i < na; i++) a[i] = gb_range(st, i);
}
static void op_sizes(op_kind k, const int64_t *a, size_t *sz) {
    memset(sz, 0, sizeof(size_t) * OPB_NBUF);
    switch (k) {
    case OP_CONV1D: {
        size_t n = (size_t)(a[0] * a[1] * a[2]);
        sz[OPB_X] = sz[OPB_Y] = n * 4;
        sz[OPB_W] = (size_t)(a[3] * a[2]) * 4;
        sz[OPB_B] = (size_t)a[2] * 4;
        sz[OPB_POS] = (size_t)(a[0] * a[1]) * 4;
        break;
    }
    case OP_RMSNORM:
        sz[OPB_X] = sz[OPB_Y] = (size_t)(a[0] * a[1]) * 4;
        sz[OPB_W] = (size_t)a[1] * 4;
        sz[OPB_AUX] = (size_t)a[0] * 4;
        break;
    case OP_GELU:
    case OP_GEGLU:
        sz[OPB_X] = sz[OPB_X2] = sz[OPB_Y] = (size_t)(a[0] * a[1]) * 4;
        break;
    case OP_ROPE:
        sz[OPB_X] = sz[OPB_X2] = (size_t)(a[0] * a[1] * a[2]) * 4;
        sz[OPB_POS] = (size_t)a[0] * 4;
        break;
    case OP_XENT:
        sz[OPB_X] = (size_t)(a[0] * a[1]) * 4;
        sz[OPB_POS] = sz[OPB_Y] = (size_t)a[0] * 4;
        break;
    }
}
static void op_inputs(op_kind k, const int64_t *a, void **p) {
    switch (k) {
    case OP_CONV1D:
        fill_uniform((float *)p[OPB_X], (size_t)(a[0] * a[1] * a[2]), 61, -1.f, 1.f);
        fill_uniform((float *)p[OPB_W], (size_t)(a[3] * a[2]), 62, -0.5f, 0.5f);
        fill_uniform((float *)p[OPB_B], (size_t)a[2], 63, -0.1f, 0.1f);
        fill_pos((int32_t *)p[OPB_POS], (int)a[0], (int)a[1]);
        break;
    case OP_RMSNORM:
        fill_uniform((float *)p[OPB_X], (size_t)(a[0] * a[1]), 64, -2.f, 2.f);
        fill_uniform((float *)p[OPB_W], (size_t)a[1], 65, -0.5f, 0.5f);
        break;
    case OP_GELU:
    case OP_GEGLU:
        fill_uniform((float *)p[OPB_X], (size_t)(a[0] * a[1]), 66, -4.f, 4.f);
        fill_uniform((float *)p[OPB_X2], (size_t)(a[0] * a[1]), 67, -1.f, 1.f);
        break;
    case OP_ROPE:
        fill_uniform((float *)p[OPB_X2], (size_t)(a[0] * a[1] * a[2]), 68, -1.f, 1.f);
        memcpy(p[OPB_X], p[OPB_X2], (size_t)(a[0] * a[1] * a[2]) * 4);
        for (int64_t i = 0; i < a[0]; i++) ((int32_t *)p[OPB_POS])[i] = (int32_t)(i % 4096);
        break;
    case OP_XENT:
        fill_uniform((float *)p[OPB_X], (size_t)(a[0] * a[1]), 69, -8.f, 8.f);
        for (int64_t i = 0; i < a[0]; i++)
            ((int32_t *)p[OPB_POS])[i] = (int32_t)(mix64((uint64_t)i + 70) % (uint64_t)a[1]);
        break;
    }
}
static void op_call(op_kind k, int fast, const int64_t *a, void **p) {
    switch (k) {
    case OP_CONV1D:
        (fast ? conv1d_forward : conv1d_forward_ref)((float *)p[OPB_Y], (const float *)p[OPB_X],
                                                     (const float *)p[OPB_W], (const float *)p[OPB_B],
                                                     (const int32_t *)p[OPB_POS], (int)a[0], (int)a[1],
                                                     (int)a[2], (int)a[3]);
        break;
    case OP_RMSNORM:
        (fast ? rmsnorm_forward : rmsnorm_forward_ref)((float *)p[OPB_Y], (float *)p[OPB_AUX],
                                                       (const float *)p[OPB_X], (const float *)p[OPB_W],
                                                       (int)a[0], (int)a[1], 1e-6f);
        break;
    case OP_GELU:
        (fast ? gelu_forward : gelu_forward_ref)((float *)p[OPB_Y], (const float *)p[OPB_X],
                                                 (size_t)(a[0] * a[1]));
        break;
    case OP_GEGLU:
        (fast ? geglu_forward : geglu_forward_ref)((float *)p[OPB_Y], (const float *)p[OPB_X],
                                                   (const float *)p[OPB_X2], (size_t)(a[0] * a[1]));
        break;
    case OP_ROPE: /* in place; repeated calls keep rotating (norm-preserving) */
        (fast ? rope_forward : rope_forward_ref)((float *)p[OPB_X], (const int32_t *)p[OPB_POS], (int)a[0],
                                                 (int)a[1], (int)a[2], (int)a[2] / 2, ROPE_BASE);
        break;
    case OP_XENT:
        (fast ? xent_forward : xent_forward_ref)((float *)p[OPB_Y], (const float *)p[OPB_X],
                                                 (const int32_t *)p[OPB_POS], (int)a[0], (int)a[1]);
        break;
    }
}
/* Bytes and flops per call (inputs read once, outputs written once):
 *   conv1d  4*(2*BTC + BT + K*C + C)       flops 2*K*BTC
 *   rmsnorm 4*(2*N*C + C + N)              flops 4*N*C (square-add, scale, (1+s) mul)
 *   gelu    4*2*n                          flops 9*n (x^3 2, *k 1, +x 1, *c 1, tanh 1, +1 1, *x 1, *.5 1)
 *   geglu   4*3*n                          flops 10*n
 *   rope    4*(2*N*H*dh + N)  (in place)   flops 3*N*H*rot + 2*N*rot/2 (cos/sin per pair)
 *   xent    4*(N*V + 2*N)                  flops 4*N*V (max, sub, exp, add) */
static void op_cost(op_kind k, const int64_t *a, double *bytes, double *flops, double *tokens) {
    double n;
    switch (k) {
    case OP_CONV1D:
        n = (double)a[0] * a[1] * a[2];
        *bytes = 4 * (2 * n + (double)a[0] * a[1] + (double)a[3] * a[2] + a[2]);
        *flops = 2.0 * a[3] * n;
        *tokens = (double)a[0] * a[1];
        return;
    case OP_RMSNORM:
        n = (double)a[0] * a[1];
        *bytes = 4 * (2 * n + a[1] + a[0]);
        *flops = 4 * n;
        *tokens = (double)a[0];
        return;
    case OP_GELU:
    case OP_GEGLU:
        n = (double)a[0] * a[1];
        *bytes = 4 * (k == OP_GELU ? 2 : 3) * n;
        *flops = (k == OP_GELU ? 9 : 10) * n;
        *tokens = (double)a[0];
        return;
    case OP_ROPE:
        n = (double)a[0] * a[1] * a[2];
        *bytes = 4 * (2 * n + a[0]);
        *flops = 3.0 * a[0] * a[1] * (a[2] / 2) + (double)a[0] * (a[2] / 2);
        *tokens = (double)a[0];
        return;
    case OP_XENT:
        n = (double)a[0] * a[1];
        *bytes = 4 * (n + 2.0 * a[0]);
        *flops = 4 * n;
        *tokens = (double)a[0];
        return;
    }
}
static const char *op_family(op_kind k) {
    static const char *names[] = {"conv1d", "rmsnorm", "gelu", "geglu", "rope", "xent"};
    return names[k];
}
static const val_entry *op_validate(const op_ctx *c, const int64_t *a) {
    char key[160];
    snprintf(key, sizeof key, "%s:%lld:%lld:%lld:%lld:%d", op_family(c->kind), (long long)a[0],
             (long long)a[1], (long long)a[2], (long long)a[3], c->fast);
    const val_entry *e = val_find(key);
    if (e) return e;
    if (!c->fast) return val_store(key, 1, ""); /* the ref is the oracle */
    size_t sz[OPB_NBUF];
    void *p[OPB_NBUF] = {0};
    op_sizes(c->kind, a, sz);
    if ((e = val_alloc(key, p, sz, OPB_NBUF))) return e;
    op_inputs(c->kind, a, p);
    int out = c->kind == OP_ROPE ? OPB_X : OPB_Y;
    size_t nout = sz[out] / 4;
    float *want = (float *)malloc(nout * 4 + 4);
    CHECK_ALLOC(want);
    op_call(c->kind, 0, a, p);
    memcpy(want, p[out], nout * 4);
    if (c->kind == OP_ROPE) memcpy(p[OPB_X], p[OPB_X2], nout * 4);
    else memset(p[out], 0, nout * 4);
    op_call(c->kind, 1, a, p);
    char msg[200];
    int ok = close_enough(op_family(c->kind), (float *)p[out], want, nout, 1e-4, 1e-5, msg, sizeof msg);
    free(want);
    return val_finish(key, p, OPB_NBUF, ok, msg, sizeof msg, 0, 0);
}
static void bm_op(gb_state *st, void *ctx) {
    const op_ctx *c = (const op_ctx *)ctx;
    int64_t a[4];
    op_shape(c->kind, st, a);
    char key[160];
    snprintf(key, sizeof key, "op:%s:%lld:%lld:%lld:%lld", op_family(c->kind), (long long)a[0],
             (long long)a[1], (long long)a[2], (long long)a[3]);
    size_t sz[OPB_NBUF];
    op_sizes(c->kind, a, sz);
    int fresh = bm_setup(st, op_validate(c, a), key, OPB_NBUF, sz);
    if (fresh < 0) return;
    if (fresh) op_inputs(c->kind, a, g_fx.p);
    while (gb_keep_running(st)) {
        op_call(c->kind, c->fast, a, g_fx.p);
        gb_do_not_optimize(g_fx.p[OPB_Y]);
        gb_do_not_optimize(g_fx.p[OPB_X]);
    }
    double bytes = 0, flops = 0, tokens = 0;
    op_cost(c->kind, a, &bytes, &flops, &tokens);
    report(st, bytes, flops, tokens, ROOF_COPY);
}

/* ========================================================================
 * GEMM C (M,N) = A (M,K) B (K,N), row-major, beta = 0
 *   bytes = 4 * (M*K + K*N + M*N); flops = 2*M*N*K; frac against sgemm peak.
 * Validation: the first min(M, 64) rows of the variant's C against gemm_ref
 * (rows of C depend only on the same rows of A).
 * ====================================================================== */
enum { GM_A, GM_B, GM_C, GM_NBUF };
typedef void (*gemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static void bm_gemm(gb_state *st, void *ctx) {
    /* ctx: NULL = blas, 1 = ref, 2 = fast (the project's own kernel) */
    int variant = (int)(intptr_t)ctx, use_ref = variant == 1;
    static const char *vname[] = {"blas", "ref", "fast"};
    gemm_fn fn = variant == 1 ? gemm_ref : variant == 2 ? gemm_fast : gemm_blas;
    int M = (int)gb_range(st, 0), N = (int)gb_range(st, 1), K = (int)gb_range(st, 2);
    char key[96];
    snprintf(key, sizeof key, "gemm:%d:%d:%d", M, N, K);
    size_t sz[GM_NBUF] = {(size_t)M * K * 4, (size_t)K * N * 4, (size_t)M * N * 4};
    int fresh = fx_for(st, key, GM_NBUF, sz);
    if (fresh < 0) return;
    float *A = (float *)g_fx.p[GM_A], *Bm = (float *)g_fx.p[GM_B], *Cm = (float *)g_fx.p[GM_C];
    if (fresh) {
        fill_uniform(A, (size_t)M * K, 81, -1.f, 1.f);
        fill_uniform(Bm, (size_t)K * N, 82, -1.f, 1.f);
    }
    char vkey[128];
    snprintf(vkey, sizeof vkey, "%s:%s", key, vname[variant]);
    const val_entry *e = val_find(vkey);
    if (!e) {
        if (use_ref) e = val_store(vkey, 1, "");
        else {
            int Mv = M < 64 ? M : 64;
            float *want = (float *)calloc((size_t)Mv * N, 4);
            CHECK_ALLOC(want);
            gemm_ref(0, 0, Mv, N, K, 1.0f, A, K, Bm, N, 0.0f, want, N);
            fn(0, 0, M, N, K, 1.0f, A, K, Bm, N, 0.0f, Cm, N);
            char msg[200];
            /* K-term dot products of U(-1,1) values: scale atol with sqrt(K) */
            int ok = close_enough("C", Cm, want, (size_t)Mv * N, 1e-4, 1e-5 * sqrt((double)K), msg, sizeof msg);
            e = val_store(vkey, ok, ok ? "" : msg);
            free(want);
        }
    }
    if (!e->ok) {
        gb_skip_with_error(st, e->msg);
        return;
    }
    while (gb_keep_running(st)) {
        fn(0, 0, M, N, K, 1.0f, A, K, Bm, N, 0.0f, Cm, N);
        gb_do_not_optimize(Cm);
    }
    report(st, 4.0 * ((double)M * K + (double)K * N + (double)M * N), 2.0 * M * N * K, 0, ROOF_SGEMM);
}

/* ========================================================================
 * Weight GEMM C (M,N) = A (M,K) W^T, W (N,K) as the model's linear layers
 * call it, with W in fp32 (fast, blas) or bf16 (bf16-widen, bf16-dp):
 *   bytes = W bytes (4 or 2 per weight) + 4 * (M*K + M*N); flops = 2*M*N*K.
 * frac against whichever limit is larger for the shape: read bandwidth when
 * streaming W takes longer than the FLOPs at the sgemm rate (decode sizes),
 * else the sgemm rate (label roof=read or roof=sgemm).
 * Validation: the first min(M, 16) rows against gemm_ref on fp32 W or
 * gemm_bf16_ref on bf16 W (the same weights): rtol 1e-4 for fp32 products,
 * 2^-7 (plus 2^-7 sqrt(K) / 2 absolute) for bf16-dp, which rounds A to bf16.
 * ====================================================================== */
enum { GW_A, GW_W, GW_W16, GW_C, GW_NBUF };
static const char *const gw_names[] = {"fast", "blas", "bf16-widen", "bf16-dp"};
static void bm_gemmw(gb_state *st, void *ctx) {
    int variant = (int)(intptr_t)ctx, w16 = variant >= 2;
    int M = (int)gb_range(st, 0), N = (int)gb_range(st, 1), K = (int)gb_range(st, 2);
    char key[96];
    snprintf(key, sizeof key, "gemmw:%d:%d:%d", M, N, K);
    size_t sz[GW_NBUF] = {(size_t)M * K * 4, (size_t)N * K * 4, (size_t)N * K * 2, (size_t)M * N * 4};
    int fresh = fx_for(st, key, GW_NBUF, sz);
    if (fresh < 0) return;
    float *A = (float *)g_fx.p[GW_A], *W = (float *)g_fx.p[GW_W], *Cm = (float *)g_fx.p[GW_C];
    uint16_t *W16 = (uint16_t *)g_fx.p[GW_W16];
    if (fresh) {
        fill_uniform(A, (size_t)M * K, 91, -1.f, 1.f);
        fill_uniform(W, (size_t)N * K, 92, -1.f, 1.f);
        bf16_from_f32(W16, W, (size_t)N * K);
    }
#define GW_CALL(m_)                                                                         \
    (variant == 0   ? gemm_fast(0, 1, m_, N, K, 1.0f, A, K, W, K, 0.0f, Cm, N)              \
     : variant == 1 ? gemm_blas(0, 1, m_, N, K, 1.0f, A, K, W, K, 0.0f, Cm, N)              \
     : variant == 2 ? gemm_bf16_fast(0, 1, m_, N, K, 1.0f, A, K, W16, K, 0.0f, Cm, N)       \
                    : gemm_bf16_dp(0, 1, m_, N, K, 1.0f, A, K, W16, K, 0.0f, Cm, N))
    char vkey[128];
    snprintf(vkey, sizeof vkey, "%s:%s", key, gw_names[variant]);
    const val_entry *e = val_find(vkey);
    if (!e) {
        int Mv = M < 16 ? M : 16;
        float *want = (float *)calloc((size_t)Mv * N, 4);
        CHECK_ALLOC(want);
        if (w16) gemm_bf16_ref(0, 1, Mv, N, K, 1.0f, A, K, W16, K, 0.0f, want, N);
        else gemm_ref(0, 1, Mv, N, K, 1.0f, A, K, W, K, 0.0f, want, N);
        GW_CALL(M);
        char msg[200];
        int dp = variant == 3 && gemm_bf16_dp_available();
        int ok = close_enough("C", Cm, want, (size_t)Mv * N, dp ? 1.0 / 128 : 1e-4,
                              dp ? sqrt((double)K) / 256 : 1e-5 * sqrt((double)K), msg, sizeof msg);
        e = val_store(vkey, ok, ok ? "" : msg);
        free(want);
    }
    if (!e->ok) {
        gb_skip_with_error(st, e->msg);
        return;
    }
    while (gb_keep_running(st)) {
        GW_CALL(M);
        gb_do_not_optimize(Cm);
    }
#undef GW_CALL
    double bytes = (w16 ? 2.0 : 4.0) * N * K + 4.0 * ((double)M * K + (double)M * N), flops = 2.0 * M * N * K;
    roof_kind roof = ROOF_SGEMM;
    if (g_roof && bytes / (g_roof->read_gbs * 1e9) > flops / (g_roof->sgemm_peak_gflops * 1e9)) roof = ROOF_READ;
    report(st, bytes, flops, 0, roof);
}

/* ========================================================================
 * Self-test benchmarks (tiny; exercise the shim without any kernel):
 * "selftest/copy" always, "selftest/fail" (always refuses to time) only
 * with GRIFFIN_BENCH_SELFTEST=1.
 *   copy: bytes = 8*n (read n floats, write n floats); flops 0
 * ====================================================================== */
static void bm_selftest_copy(gb_state *st, void *ctx) {
    size_t n = (size_t)gb_range(st, 0);
    float *a = (float *)malloc(n * 4), *b = (float *)malloc(n * 4);
    CHECK_ALLOC(a);
    CHECK_ALLOC(b);
    fill_uniform(a, n, 1, 0.f, 1.f);
    memset(b, 0, n * 4);
    while (gb_keep_running(st)) {
        memcpy(b, a, n * 4);
        gb_do_not_optimize(b);
    }
    if (memcmp(a, b, n * 4)) gb_skip_with_error(st, "copy mismatch");
    free(a);
    free(b);
    report(st, 8.0 * n, 0, 0, ROOF_COPY);
}
static void bm_selftest_fail(gb_state *st, void *ctx) {
    gb_skip_with_error(st, "selftest: differs from ref (intentional)");
}

/* ========================================================================
 * Registration
 * ====================================================================== */
static void register_all(void) {
    gb_bench *b;
    b = reg("selftest", "copy", bm_selftest_copy, NULL);
    GB_ARG_NAMES(b, "n");
    GB_ARGS(b, 1 << 16);
    const char *st = getenv("GRIFFIN_BENCH_SELFTEST");
    if (st && !strcmp(st, "1")) {
        b = reg("selftest", "fail", bm_selftest_fail, NULL);
        GB_ARG_NAMES(b, "n");
        GB_ARGS(b, 1);
    }

    /* RG-LRU and linear scan: B=8, C in {1024, 2048}, T = 2^7..2^16 (prefill),
     * then decode (T=1, B=1..64), then one sequence B=1, C=1024, T=65536.
     * Shape-major so the variants of one shape share its buffers. */
    typedef struct { int B, C, T; } shp;
    shp shapes[64];
    int ns = 0;
    for (int ci = 0; ci < 2; ci++)
        for (int T = 128; T <= 65536 && T <= g_max_T; T *= 2) shapes[ns++] = (shp){8, ci ? 2048 : 1024, T};
    for (int ci = 0; ci < 2; ci++)
        for (int B = 1; B <= 64; B *= 2) shapes[ns++] = (shp){B, ci ? 2048 : 1024, 1};
    if (g_max_T >= 65536) shapes[ns++] = (shp){1, 1024, 65536};
    else shapes[ns++] = (shp){1, 1024, g_max_T};

    for (int s = 0; s < ns; s++) {
        int B = shapes[s].B, C = shapes[s].C, T = shapes[s].T;
        size_t btc = (size_t)B * T * C;
        char what[96];
        snprintf(what, sizeof what, "rglru B=%d C=%d T=%d", B, C, T);
        if (fits((double)btc * 16 + (double)rglru_work_floats(B, T, C) * 4, what))
            for (const rglru_variant *v = rglru_variants; v->name; v++) {
                if (!strcmp(v->name, "ref") && T > g_ref_max_T) continue;
                b = reg("rglru", v->name, bm_rglru, (void *)v);
                GB_ARG_NAMES(b, "B", "C", "T");
                GB_ARGS(b, B, C, T);
            }
        snprintf(what, sizeof what, "scan B=%d C=%d T=%d", B, C, T);
        if (fits((double)btc * 12, what))
            for (const scan_variant *v = scan_variants; v->name; v++) {
                if (!strcmp(v->name, "ref") && T > g_ref_max_T) continue;
                b = reg("scan", v->name, bm_scan, (void *)v);
                GB_ARG_NAMES(b, "B", "C", "T");
                GB_ARGS(b, B, C, T);
            }
    }
    /* backward at two training-like shapes */
    int bwdT[2] = {4096, 16384};
    for (int i = 0; i < 2; i++) {
        int T = bwdT[i] <= g_max_T ? bwdT[i] : g_max_T;
        if (i && T == bwdT[0]) break;
        size_t btc = (size_t)8 * T * 1024;
        if (fits((double)btc * 4 * 11 + (double)rglru_work_floats(8, T, 1024) * 4, "rglru_bwd"))
            for (const rglru_variant *v = rglru_variants; v->name; v++) {
                if (!v->backward || (!strcmp(v->name, "ref") && T > g_ref_max_T)) continue;
                b = reg("rglru_bwd", v->name, bm_rglru_bwd, (void *)v);
                GB_ARG_NAMES(b, "B", "C", "T");
                GB_ARGS(b, 8, 1024, T);
            }
        if (fits((double)btc * 4 * 6, "scan_bwd"))
            for (const scan_variant *v = scan_variants; v->name; v++) {
                if (!v->backward || (!strcmp(v->name, "ref") && T > g_ref_max_T)) continue;
                b = reg("scan_bwd", v->name, bm_scan_bwd, (void *)v);
                GB_ARG_NAMES(b, "B", "C", "T");
                GB_ARGS(b, 8, 1024, T);
            }
    }

    /* Local attention W=1024, H=8, dh=128, B=1, T = 1K..16K; global smaller. */
    for (int T = 1024; T <= 16384 && T <= g_max_T; T *= 2)
        for (const attn_variant *v = attn_variants; v->name; v++) {
            if (!strcmp(v->name, "ref") && T > g_attn_ref_max_T) continue;
            b = reg("attn_local", v->name, bm_attn, (void *)v);
            GB_ARG_NAMES(b, "B", "T", "H", "dh", "W");
            GB_ARGS(b, 1, T, 8, 128, 1024);
        }
    for (int T = 512; T <= 4096 && T <= g_max_T; T *= 2)
        for (const attn_variant *v = attn_variants; v->name; v++) {
            if (!strcmp(v->name, "ref") && T > g_attn_ref_max_T / 2) continue;
            b = reg("attn_global", v->name, bm_attn, (void *)v);
            GB_ARG_NAMES(b, "B", "T", "H", "dh", "W");
            GB_ARGS(b, 1, T, 8, 128, -1);
        }
    /* Decode attention: local ring buffer (S = W = 1024) and a global cache (S = 8192). */
    int decS[2] = {1024, 8192};
    for (int si = 0; si < 2; si++)
        for (int B = 1; B <= 64; B *= 8)
            for (intptr_t v = 0; decode_variants[v].name; v++) {
                b = reg("attn_decode", decode_variants[v].name, bm_attn_decode, (void *)v);
                GB_ARG_NAMES(b, "B", "S", "H", "dh");
                GB_ARGS(b, B, decS[si], 8, 128);
            }

    /* Element-wise / row-wise ops at B*T = 8*4096, C = 1024. */
    for (int k = 0; k <= OP_XENT; k++)
        for (int f = 0; f < 2; f++) {
            const op_ctx *c = &op_ctxs[k][f];
            b = reg(op_family(c->kind), f ? "fast" : "ref", bm_op, (void *)c);
            switch (c->kind) {
            case OP_CONV1D:
                GB_ARG_NAMES(b, "B", "T", "C", "K");
                GB_ARGS(b, 8, 4096, 1024, 4);
                break;
            case OP_ROPE:
                GB_ARG_NAMES(b, "N", "H", "dh");
                GB_ARGS(b, 8 * 4096, ROPE_H, 128);
                break;
            case OP_XENT:
                GB_ARG_NAMES(b, "N", "V");
                GB_ARGS(b, 8 * 4096, 1024);
                GB_ARGS(b, 2048, 32768);
                break;
            default:
                GB_ARG_NAMES(b, "N", "C");
                GB_ARGS(b, 8 * 4096, 1024);
                break;
            }
        }

    /* GEMM: square sizes and the MLP shapes of a width-1024 model over 4096 tokens. */
    static const int gm[][3] = {{256, 256, 256},    {512, 512, 512},    {1024, 1024, 1024},
                                {2048, 2048, 2048}, {4096, 3072, 1024}, {4096, 1024, 3072}};
    for (int i = 0; i < (int)(sizeof gm / sizeof gm[0]); i++)
        for (int r = 0; r < 3; r++) {
            if (r == 1 && (double)gm[i][0] * gm[i][1] * gm[i][2] > 512.0 * 512 * 512) continue;
            b = reg("gemm", r == 1 ? "ref" : r == 2 ? "fast" : "blas", bm_gemm, r ? (void *)(intptr_t)r : NULL);
            GB_ARG_NAMES(b, "M", "N", "K");
            GB_ARGS(b, gm[i][0], gm[i][1], gm[i][2]);
        }
    /* Weight GEMMs at decode and prefill batch sizes: W (12288, 2048) is
     * 100 MB in fp32, 50 MB in bf16, both beyond the last-level cache. */
    static const int gw_m[] = {1, 16, 64, 1024};
    for (int i = 0; i < (int)(sizeof gw_m / sizeof gw_m[0]); i++)
        for (int v = 0; v < 4; v++) {
            if (v == 3 && !gemm_bf16_dp_available()) continue;
            if (!fits(12288.0 * 2048 * 6 + 4.0 * gw_m[i] * (2048 + 12288), "gemmw")) continue;
            b = reg("gemmw", gw_names[v], bm_gemmw, (void *)(intptr_t)v);
            GB_ARG_NAMES(b, "M", "N", "K");
            GB_ARGS(b, gw_m[i], 12288, 2048);
        }
}

/* ---- own flags ----------------------------------------------------------- */
static long long mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

static void usage_own(void) {
    fprintf(stderr,
            "griffin-bench flags (besides Google Benchmark's --benchmark_*):\n"
            "  --max-T N           largest T in the scan / attention sweeps (default 65536)\n"
            "  --ref-max-T N       largest T at which scan refs are timed (default 2048)\n"
            "  --attn-ref-max-T N  largest T at which attention ref is timed (default 4096)\n"
            "  --threads N         OpenMP / OpenBLAS threads (default all)\n"
            "  --roofline MODE     full | quick | off (default full)\n"
            "  --mem-gib X         buffer budget per benchmark (default 60%% of MemAvailable)\n");
}

/* Remove our flags from argv; returns 0, or 2 on a usage error. */
static int parse_own(int *argc, char **argv, int *threads, const char **roof_mode) {
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        static const char *names[] = {"--max-T", "--ref-max-T", "--attn-ref-max-T", "--threads", "--roofline", "--mem-gib"};
        int which = -1;
        const char *val = NULL;
        for (int k = 0; k < 6; k++) {
            size_t l = strlen(names[k]);
            if (!strncmp(a, names[k], l) && (a[l] == 0 || a[l] == '=')) {
                which = k;
                if (a[l] == '=') val = a + l + 1;
                else if (i + 1 < *argc) val = argv[++i];
                else {
                    fprintf(stderr, "error: %s needs a value\n", names[k]);
                    return 2;
                }
                break;
            }
        }
        if (!strcmp(a, "--griffin-help")) {
            usage_own();
            exit(0);
        }
        if (which < 0) {
            argv[out++] = argv[i];
            continue;
        }
        char *end = NULL;
        if (which == 4) {
            if (strcmp(val, "full") && strcmp(val, "quick") && strcmp(val, "off")) {
                fprintf(stderr, "error: --roofline takes full, quick or off\n");
                return 2;
            }
            *roof_mode = val;
            continue;
        }
        double x = strtod(val, &end);
        if (!end || *end || x < 0 || (which < 4 && x < 1)) {
            fprintf(stderr, "error: bad value '%s' for %s\n", val, names[which]);
            return 2;
        }
        switch (which) {
        case 0: g_max_T = (int)x; break;
        case 1: g_ref_max_T = (int)x; break;
        case 2: g_attn_ref_max_T = (int)x; break;
        case 3: *threads = (int)x; break;
        case 5: g_mem_budget = x * (1 << 30); break;
        }
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int main(int argc, char **argv) {
    util_omp_policy_apply(argv); /* before anything starts an OpenMP team */
    int threads = 0;
    const char *roof_mode = getenv("GRIFFIN_ROOFLINE");
    if (!roof_mode || (strcmp(roof_mode, "quick") && strcmp(roof_mode, "off"))) roof_mode = "full";
    const char *e = getenv("GRIFFIN_BENCH_MAX_T");
    if (e && atoi(e) > 0) g_max_T = atoi(e);
    int help = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) help = 1;
    if (parse_own(&argc, argv, &threads, &roof_mode)) {
        usage_own();
        return 2;
    }
    if (help) usage_own();
    if (g_mem_budget <= 0) g_mem_budget = 0.6 * (double)mem_available();
    if (threads > 0) util_set_threads(threads);
    blas_set_threads(util_threads());

    register_all();
    if (g_skipped_mem)
        fprintf(stderr, "griffin-bench: %d shape(s) not registered: over the memory budget\n", g_skipped_mem);

    /* before gb_initialize, which removes the --benchmark_* flags from argv */
    int listing = 0;
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--benchmark_list_tests", 22) && strcmp(argv[i], "--benchmark_list_tests=false") &&
            strcmp(argv[i], "--benchmark_list_tests=0"))
            listing = 1;
    gb_initialize(&argc, argv);
    if (gb_report_unrecognized(argc, argv)) return 2;

    char buf[64];
    machine_info m;
    machine_collect(&m);
    gb_add_context("griffin_commit", build_commit());
    gb_add_context("griffin_dirty", build_dirty() ? "1" : "0");
    gb_add_context("griffin_build_flags", build_flags());
    gb_add_context("machine_fingerprint", m.fingerprint);
    gb_add_context("machine_cpu", m.cpu_model);
    gb_add_context("machine_simd", m.simd);
    gb_add_context("machine_blas_core", m.blas_core);
    gb_add_context("machine_openblas_env", m.openblas_env);
    char *mj = machine_json(&m);
    if (mj) gb_add_context("machine_json", mj);
    free(mj);
    snprintf(buf, sizeof buf, "%d", util_threads());
    gb_add_context("threads", buf);
    gb_add_context("library_build_type_note",
                   "Debian libbenchmark 1.7.1 reports library_build_type=debug; only the harness "
                   "loop is affected, the timed kernels are built with griffin's flags");
    gb_add_context("time", "real (wall clock); names end in /real_time");
    gb_add_context("bytes_convention", "inputs read once + outputs written once (formulas in bench/bench_main.c)");

    if (!listing && strcmp(roof_mode, "off")) {
        roofline_set_quick(!strcmp(roof_mode, "quick"));
        fprintf(stderr, "griffin-bench: measuring the roofline (%s, %d threads)...\n", roof_mode, util_threads());
        const roofline_result *r1 = roofline_get(1), *rn = roofline_get(util_threads());
        if (!r1 || !rn) fprintf(stderr, "griffin-bench: roofline failed: %s\n", util_last_error());
        else {
            g_roof_best = *rn;
            if (r1->read_gbs > g_roof_best.read_gbs) g_roof_best.read_gbs = r1->read_gbs;
            if (r1->copy_gbs > g_roof_best.copy_gbs) g_roof_best.copy_gbs = r1->copy_gbs;
            if (r1->sgemm_peak_gflops > g_roof_best.sgemm_peak_gflops)
                g_roof_best.sgemm_peak_gflops = r1->sgemm_peak_gflops;
            g_roof = &g_roof_best;
            char *j1 = roofline_json(r1);
            gb_add_context("roofline_json_1thread", j1);
            free(j1);
        }
    }
    gb_add_context("roofline_mode", roof_mode);
    if (g_roof) {
        snprintf(buf, sizeof buf, "%.3f", g_roof->copy_gbs);
        gb_add_context("roofline_copy_gbs", buf);
        snprintf(buf, sizeof buf, "%.3f", g_roof->read_gbs);
        gb_add_context("roofline_read_gbs", buf);
        snprintf(buf, sizeof buf, "%.2f", g_roof->sgemm_peak_gflops);
        gb_add_context("roofline_sgemm_gflops", buf);
        char *rj = roofline_json(roofline_get(util_threads()));
        gb_add_context("roofline_json", rj);
        gb_add_context("roofline_limits_note", "roofline_*_gbs/gflops = max(1 thread, all threads) per metric");
        free(rj);
    }

    gb_run_all();
    gb_shutdown();
    fx_release();
    return 0;
}
