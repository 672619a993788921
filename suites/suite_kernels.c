/* suite_kernels.c — the kernel variants side by side (§4.2, App. D), in the
 * main job: every variant of the tables in kernels/ (scan_variants,
 * rglru_variants, attn_variants, the gemm table), so a variant added there
 * appears here without a change.
 *
 *  (a) the linear scan h_t = a_t h_{t-1} + u_t and the RG-LRU layer over T at
 *      batch 8 and the paper's widths (Fig. 8a: width 1024; and the RG-LRU
 *      width of a preset), T from 128 by x4 up to the T where one array is
 *      s.elems floats (256 MiB at cpu: far beyond the caches);
 *  (b) local MQA attention (prefill forward) over T at a preset's heads,
 *      head dimension and window (1024, Appendix C);
 *  (c) the GEMM variants, fp32 and bf16 weights, on a preset's MLP input
 *      projection (K = D, N = 2 x 3D) at a few row counts M (decode to
 *      prefill);
 * each against the copy / read bandwidth and sgemm rate measured in the same
 * run (kernels/roofline.h) and drawn against them (plots/scan.gp,
 * attention.gp, roofline.gp). Every case is first validated against the
 * table's "ref" variant (the _ref twin) on the same B and width, at T (or
 * M) cut to a size the reference affords with a ragged tail and a document
 * reset; one that differs is stored as a case failure and never timed.
 * Timed: a warm-up call, then c->reps repetitions, each of as many calls as
 * make it last s.min_rep (short kernels), in one timed region; the raw
 * seconds per call of every repetition are stored.
 *
 * Claims (suites/claims_registry.c), per scan width at the longest T:
 * scan_linear_beats_assoc (seq vs assoc) and scan_memory_bound (seq).
 * GRIFFIN_KERNELS_SELFTEST=1 adds a deliberately wrong scan variant, to show
 * that a failed validation is recorded and never timed (tests/test_suites.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "bf16.h"
#include "matmul.h"
#include "roofline.h"
#include "scan.h"
#include "suite.h"
#include "util.h"

typedef struct {
    int B, C[2], nC;        /* scan: batch and widths (0 = the RG-LRU width of scan_size) */
    long elems;             /* scan: floats per array at the longest T */
    int T0;                 /* scan: shortest T, then x4 */
    const char *scan_size;  /* preset whose RG-LRU width is the second scan width */
    const char *attn_size;  /* preset whose heads, head dim and window attention uses */
    int attT[5], nattT;
    const char *gemm_size;  /* preset whose MLP input projection the GEMMs multiply */
    int gM[4], ngM;
    double min_rep;         /* seconds a repetition lasts at least */
    int quick;              /* quick roofline probe */
} kern_scale;

/* The scale table: the only place the sizes live. */
static void scale_of(const suite_ctx *c, kern_scale *s) {
    if (c->scale == SCALE_SMOKE)
        *s = (kern_scale){2, {64, 0}, 2, 2 * 64 * 256, 32, "tiny", "tiny", {16, 64}, 2, "tiny", {1, 5}, 2, 0.002, 1};
    else if (c->scale == SCALE_CPU)
        *s = (kern_scale){8, {1024, 0}, 2, 1L << 26, 128, "400m", "400m", {1024, 2048, 4096, 8192}, 4, "1b", {1, 16, 256}, 3, 0.05, 0};
    else
        *s = (kern_scale){8, {1024, 0}, 2, 1L << 27, 128, "1b", "1b", {1024, 2048, 4096, 8192, 16384}, 5, "1b", {1, 16, 256, 1024}, 4, 0.05, 0};
}

/* Validation: at most this many elements per (B,T,C) array (T cut, + 37). */
#define KERN_VAL_ELEMS (1L << 21)
#define KERN_MAX_REPS 1000

/* ---- shared helpers ------------------------------------------------------ */

static void fill(float *p, size_t n, uint64_t seed, float lo, float hi) {
    const size_t blk = 4096;
#pragma omp parallel for schedule(static)
    for (size_t k = 0; k < (n + blk - 1) / blk; k++) {
        rng_t r;
        rng_seed(&r, seed * 1000003ULL + k);
        size_t e = (k + 1) * blk < n ? (k + 1) * blk : n;
        for (size_t i = k * blk; i < e; i++) p[i] = lo + (hi - lo) * (float)rng_uniform(&r);
    }
}

/* pos (B,T): 0..T-1, restarting at T/2 when reset (a second document). */
static void fill_pos(int32_t *pos, int B, int T, int reset) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) pos[(size_t)b * T + t] = reset && t >= T / 2 ? t - T / 2 : t;
}

/* n float buffers of the given sizes (0 ok), all or none. */
static int alloc_all(float **p, const size_t *floats, int n) {
    for (int i = 0; i < n; i++) p[i] = NULL;
    for (int i = 0; i < n; i++)
        if (!(p[i] = util_try_alloc((floats[i] ? floats[i] : 1) * sizeof(float)))) {
            for (int j = 0; j < i; j++) free(p[j]);
            return -1;
        }
    return 0;
}
static void free_all(float **p, int n) {
    for (int i = 0; i < n; i++) free(p[i]);
}

typedef void (*kern_fn)(void *arg);

/* Seconds per call of each repetition in t[reps]: a warm-up call, then reps
 * repetitions of as many calls as make one last min_rep, as one timed region. */
static void time_calls(suite_ctx *c, double min_rep, kern_fn fn, void *arg, double *t, int reps) {
    double t0 = util_now();
    fn(arg);
    double w = util_now() - t0;
    long inner = w > 0 ? (long)ceil(min_rep / w) : 1;
    if (inner < 1) inner = 1;
    if (inner > 100000) inner = 100000;
    suite_time_begin(c);
    for (int r = 0; r < reps; r++) {
        double a = util_now();
        for (long k = 0; k < inner; k++) fn(arg);
        t[r] = (util_now() - a) / (double)inner;
    }
    suite_time_end(c);
}

typedef struct {
    double med, lo, hi;  /* seconds per call: median, fastest, slowest repetition */
    double gbs, gflops;  /* at the median */
} kern_timing;

/* Store one timed case: the raw seconds per call, GB/s and GFLOP/s of every
 * repetition, and its roofline point (series "KERNEL VARIANT"). */
static void record(suite_ctx *c, const char *kernel, const char *variant, const char *params, const double *t, int reps,
                   double bytes, double flops, kern_timing *out) {
    double gb[KERN_MAX_REPS], gf[KERN_MAX_REPS];
    out->lo = INFINITY;
    out->hi = -INFINITY;
    for (int r = 0; r < reps; r++) {
        gb[r] = bytes / t[r] / 1e9;
        gf[r] = flops / t[r] / 1e9;
        out->lo = fmin(out->lo, t[r]);
        out->hi = fmax(out->hi, t[r]);
    }
    out->med = suite_median(t, reps);
    out->gbs = bytes / out->med / 1e9;
    out->gflops = flops / out->med / 1e9;
    store_id cs = suite_case(c, kernel, params);
    suite_samples(c, cs, "time", "s", STORE_LOWER, t, reps);
    suite_samples(c, cs, "gbps", "GB/s", STORE_HIGHER, gb, reps);
    suite_samples(c, cs, "gflops", "GFLOP/s", STORE_HIGHER, gf, reps);
    char series[96];
    snprintf(series, sizeof series, "%s %s", kernel, variant);
    double ai = flops / bytes;
    suite_curve(c, cs, "roofline", series, &ai, &out->gflops, 1);
}

/* A curve of the finite points of y (a variant that failed validation has none). */
static void curve_finite(suite_ctx *c, const char *name, const char *series, const double *x, const double *y, int n) {
    double xs[16], ys[16];
    int k = 0;
    for (int i = 0; i < n && k < 16; i++)
        if (isfinite(y[i])) { xs[k] = x[i]; ys[k++] = y[i]; }
    if (k) suite_curve(c, 0, name, series, xs, ys, k);
}

/* A validation verdict: 1 when got matches want within (rtol, atol). */
static int matches(const float *got, const float *want, size_t n, double rtol, double atol, double *worst) {
    double w = util_close_ratio(got, want, n, rtol, atol);
    if (w > *worst || isnan(w)) *worst = w;
    return w <= 1.0;
}

/* ---- (a) linear scan and RG-LRU layer ------------------------------------- */

/* A deliberately wrong scan (GRIFFIN_KERNELS_SELFTEST=1): h = u. */
static void broken_scan(float *h, float *h_last, const float *a, const float *u, const float *h0, int B, int T, int C) {
    (void)a;
    (void)h0;
    memcpy(h, u, sizeof(float) * (size_t)B * T * C);
    if (h_last)
        for (int b = 0; b < B; b++) memcpy(h_last + (size_t)b * C, u + ((size_t)b * T + T - 1) * C, sizeof(float) * C);
}
static const scan_variant k_broken = {"selftest-broken", broken_scan, NULL, "h = u (wrong on purpose)"};

#define KERN_MAX_VARIANTS 16

/* The linear-scan variants to time: the table's, less ref (the oracle). */
static int scan_list(const scan_variant **v) {
    int n = 0;
    for (const scan_variant *s = scan_variants; s->name && n < KERN_MAX_VARIANTS - 1; s++)
        if (strcmp(s->name, "ref")) v[n++] = s;
    const char *st = getenv("GRIFFIN_KERNELS_SELFTEST");
    if (st && !strcmp(st, "1")) v[n++] = &k_broken;
    return n;
}
static int rglru_list(const rglru_variant **v) {
    int n = 0;
    for (const rglru_variant *s = rglru_variants; s->name && n < KERN_MAX_VARIANTS; s++)
        if (strcmp(s->name, "ref")) v[n++] = s;
    return n;
}

typedef struct {
    const scan_variant *v;
    float *h, *hl;
    const float *a, *u;
    int B, T, C;
} scan_arg;
static void scan_call(void *p) {
    scan_arg *s = p;
    s->v->forward(s->h, s->hl, s->a, s->u, NULL, s->B, s->T, s->C);
}

typedef struct {
    const rglru_variant *v;
    float *y, *hl, *work;
    const float *x, *gx, *ga, *ap;
    const int32_t *pos;
    int B, T, C;
} rglru_arg;
static void rglru_call(void *p) {
    rglru_arg *r = p;
    r->v->forward(r->y, r->hl, r->x, r->gx, r->ga, r->ap, r->pos, NULL, r->work, r->B, r->T, r->C);
}

/* RG-LRU a_param such that a^8 is uniform in [0.9, 0.999] (the paper's init). */
static void fill_a_param(float *ap, int C) {
    rng_t r;
    rng_seed(&r, 77);
    for (int i = 0; i < C; i++) {
        double sp = -log(0.9 + 0.099 * rng_uniform(&r)) / 8.0;
        ap[i] = (float)log(expm1(sp));
    }
}

/* Per scan width, what the claims need from the longest T. */
typedef struct {
    int B, C, T;
    double bytes, flops;
    int seq_ok, assoc_ok;          /* passed validation at every T of this width */
    double seq_t[KERN_MAX_REPS], assoc_t[KERN_MAX_REPS];
    int have_seq, have_assoc;
    busy_result seq_busy, assoc_busy;
} scan_claim_in;

/* A variant's outputs (y: B*Tv*C, h_last: B*C) against the reference's: 1
 * when both match (rtol 1e-4, atol 1e-5), else 0 and the case failure is
 * recorded under `kind`, naming the reference (`ref_what`). */
static int variant_matches(suite_ctx *c, const char *kind, const char *ref_what, const char *variant, int B, int Tv, int C,
                           const float *y, const float *ry, const float *hl, const float *rhl) {
    size_t n = (size_t)B * Tv * C, bc = (size_t)B * C;
    double worst = 0;
    int ok = matches(y, ry, n, 1e-4, 1e-5, &worst) && matches(hl, rhl, bc, 1e-4, 1e-5, &worst);
    if (!ok) {
        char params[160];
        snprintf(params, sizeof params, "{\"variant\":\"%s\",\"B\":%d,\"C\":%d,\"T\":%d}", variant, B, C, Tv);
        suite_case_failed(c, 0, kind, params, "differs from the ref %s by %.3g x the tolerance (rtol 1e-4, atol 1e-5)", ref_what,
                          worst);
    }
    return ok;
}

enum { SV_A, SV_U, SV_H, SV_HL, SV_RH, SV_RHL, SV_N };

/* Validate the linear-scan variants at (B, Tv, C): ok[i] = 1 when v[i] matches ref. */
static void scan_validate(suite_ctx *c, const scan_variant **v, int nv, int B, int Tv, int C, int *ok) {
    size_t n = (size_t)B * Tv * C, bc = (size_t)B * C;
    size_t sz[SV_N] = {n, n, n, bc, n, bc};
    float *p[SV_N];
    if (alloc_all(p, sz, SV_N)) {
        for (int i = 0; i < nv; i++) ok[i] = 0;
        return;
    }
    fill(p[SV_A], n, 31, 0.5f, 0.999f);
    fill(p[SV_U], n, 32, -1.f, 1.f);
    scan_find("ref")->forward(p[SV_RH], p[SV_RHL], p[SV_A], p[SV_U], NULL, B, Tv, C);
    for (int i = 0; i < nv; i++) {
        memset(p[SV_H], 0, n * sizeof(float));
        v[i]->forward(p[SV_H], p[SV_HL], p[SV_A], p[SV_U], NULL, B, Tv, C);
        ok[i] = variant_matches(c, "scan", "scan", v[i]->name, B, Tv, C, p[SV_H], p[SV_RH], p[SV_HL], p[SV_RHL]);
    }
    free_all(p, SV_N);
}

enum { RV_X, RV_GX, RV_GA, RV_AP, RV_Y, RV_HL, RV_RY, RV_RHL, RV_W, RV_N };

static void rglru_validate(suite_ctx *c, const rglru_variant **v, int nv, int B, int Tv, int C, int *ok) {
    size_t n = (size_t)B * Tv * C, bc = (size_t)B * C;
    size_t sz[RV_N] = {n, n, n, (size_t)C, n, bc, n, bc, rglru_work_floats(B, Tv, C)};
    float *p[RV_N];
    int32_t *pos = util_try_alloc((size_t)B * Tv * sizeof(int32_t));
    if (!pos || alloc_all(p, sz, RV_N)) {
        free(pos);
        for (int i = 0; i < nv; i++) ok[i] = 0;
        return;
    }
    fill(p[RV_X], n, 11, -1.f, 1.f);
    fill(p[RV_GX], n, 12, -3.f, 3.f);
    fill(p[RV_GA], n, 13, -3.f, 3.f);
    fill_a_param(p[RV_AP], C);
    fill_pos(pos, B, Tv, 1);
    rglru_forward_ref(p[RV_RY], p[RV_RHL], p[RV_X], p[RV_GX], p[RV_GA], p[RV_AP], pos, NULL, p[RV_W], B, Tv, C);
    for (int i = 0; i < nv; i++) {
        memset(p[RV_Y], 0, n * sizeof(float));
        v[i]->forward(p[RV_Y], p[RV_HL], p[RV_X], p[RV_GX], p[RV_GA], p[RV_AP], pos, NULL, p[RV_W], B, Tv, C);
        ok[i] = variant_matches(c, "rglru", "layer", v[i]->name, B, Tv, C, p[RV_Y], p[RV_RY], p[RV_HL], p[RV_RHL]);
    }
    free_all(p, RV_N);
    free(pos);
}

/* The validation T for a timed T: all of it when B*T*C is small enough,
 * else cut to KERN_VAL_ELEMS plus a ragged 37. */
static int val_T(int B, int T, int C) {
    long cut = KERN_VAL_ELEMS / ((long)B * C) + 37;
    return (long)T <= cut ? T : (int)cut;
}

/* One (B, T, C) shape: validate, then time every linear-scan and RG-LRU
 * variant that passed. Curves gain a point per variant. 0, 1 failed, 130. */
static int scan_shape(suite_ctx *c, const kern_scale *s, int C, int T, int last, scan_claim_in *cl, double *curx, double (*sy)[8],
                      double (*ry)[8], int ti) {
    const int B = s->B, reps = c->reps;
    const scan_variant *sv[KERN_MAX_VARIANTS];
    const rglru_variant *rv[KERN_MAX_VARIANTS];
    int ns = scan_list(sv), nr = rglru_list(rv), sok[KERN_MAX_VARIANTS], rok[KERN_MAX_VARIANTS];
    int Tv = val_T(B, T, C);
    suite_progress(c, "scan B=%d C=%d T=%d: validating at T=%d", B, C, T, Tv);
    scan_validate(c, sv, ns, B, Tv, C, sok);
    rglru_validate(c, rv, nr, B, Tv, C, rok);
    size_t n = (size_t)B * T * C, bc = (size_t)B * C;
    double t[KERN_MAX_REPS];
    curx[ti] = T;
    char params[200];
    /* linear scan: bytes = a, u read + h written (+ h_last), flops = 2 per element */
    {
        size_t sz[4] = {n, n, n, bc};
        float *p[4];
        if (alloc_all(p, sz, 4)) {
            suite_case_failed(c, 0, "scan", NULL, "cannot allocate 3 x %.0f MB at B=%d C=%d T=%d", n * 4 / 1e6, B, C, T);
            return 1;
        }
        fill(p[0], n, 31, 0.5f, 0.999f);
        fill(p[1], n, 32, -1.f, 1.f);
        double bytes = 4.0 * (3.0 * n + bc), flops = 2.0 * n;
        for (int i = 0; i < ns && !*c->stop; i++) {
            sy[i][ti] = NAN;
            if (!strcmp(sv[i]->name, "seq") && !sok[i]) cl->seq_ok = 0;
            if (!strcmp(sv[i]->name, "assoc") && !sok[i]) cl->assoc_ok = 0;
            if (!sok[i]) continue; /* recorded as a case failure, never timed */
            suite_progress(c, "scan %s B=%d C=%d T=%d", sv[i]->name, B, C, T);
            scan_arg a = {sv[i], p[2], p[3], p[0], p[1], B, T, C};
            time_calls(c, s->min_rep, scan_call, &a, t, reps);
            snprintf(params, sizeof params, "{\"variant\":\"%s\",\"B\":%d,\"C\":%d,\"T\":%d,\"threads\":%d}", sv[i]->name, B, C, T, c->threads);
            kern_timing k;
            record(c, "scan", sv[i]->name, params, t, reps, bytes, flops, &k);
            sy[i][ti] = k.gbs;
            if (last && !strcmp(sv[i]->name, "seq")) {
                memcpy(cl->seq_t, t, sizeof(double) * reps);
                cl->have_seq = 1;
                cl->seq_busy = c->busy;
            }
            if (last && !strcmp(sv[i]->name, "assoc")) {
                memcpy(cl->assoc_t, t, sizeof(double) * reps);
                cl->have_assoc = 1;
                cl->assoc_busy = c->busy;
            }
            if (last) { cl->bytes = bytes; cl->flops = flops; cl->B = B; cl->T = T; cl->C = C; }
        }
        free_all(p, 4);
    }
    /* RG-LRU layer: bytes = x, gx, ga read + y written, pos, a_param, h_last;
     * flops = 16 per element (two sigmoids, log a, exp, sqrt, products, scan) */
    {
        size_t sz[7] = {n, n, n, (size_t)C, n, bc, rglru_work_floats(B, T, C)};
        float *p[7];
        int32_t *pos = util_try_alloc(n / C * sizeof(int32_t));
        if (!pos || alloc_all(p, sz, 7)) {
            free(pos);
            suite_case_failed(c, 0, "rglru", NULL, "cannot allocate the buffers at B=%d C=%d T=%d", B, C, T);
            return 1;
        }
        fill(p[0], n, 11, -1.f, 1.f);
        fill(p[1], n, 12, -3.f, 3.f);
        fill(p[2], n, 13, -3.f, 3.f);
        fill_a_param(p[3], C);
        fill_pos(pos, B, T, 0);
        double bytes = 4.0 * (4.0 * n + (double)B * T + C + bc), flops = 16.0 * n;
        for (int i = 0; i < nr && !*c->stop; i++) {
            ry[i][ti] = NAN;
            if (!rok[i]) continue;
            suite_progress(c, "rglru %s B=%d C=%d T=%d", rv[i]->name, B, C, T);
            rglru_arg a = {rv[i], p[4], p[5], p[6], p[0], p[1], p[2], p[3], pos, B, T, C};
            time_calls(c, s->min_rep, rglru_call, &a, t, reps);
            snprintf(params, sizeof params, "{\"variant\":\"%s\",\"B\":%d,\"C\":%d,\"T\":%d,\"threads\":%d}", rv[i]->name, B, C, T, c->threads);
            kern_timing k;
            record(c, "rglru", rv[i]->name, params, t, reps, bytes, flops, &k);
            ry[i][ti] = k.gbs;
        }
        free_all(p, 7);
        free(pos);
    }
    return *c->stop ? 130 : 0;
}

/* The claims of one scan width. */
static void scan_claims(suite_ctx *c, const scan_claim_in *cl, const roofline_result *rr, const busy_result *probe_busy, double caches) {
    const int reps = c->reps;
    char where[96], meas[240];
    snprintf(where, sizeof where, "B=%d C=%d T=%d, %d threads", cl->B, cl->C, cl->T, c->threads);
    suite_timing tm;
    suite_timing_init(&tm);
    claim_values v;
    claim_values_init(&v);
    double ls = cl->have_seq ? suite_median(cl->seq_t, reps) : NAN, as = cl->have_assoc ? suite_median(cl->assoc_t, reps) : NAN;
    double lmin = INFINITY, lmax = -INFINITY, amin = INFINITY, amax = -INFINITY;
    for (int r = 0; r < reps; r++) {
        if (cl->have_seq) { lmin = fmin(lmin, cl->seq_t[r]); lmax = fmax(lmax, cl->seq_t[r]); }
        if (cl->have_assoc) { amin = fmin(amin, cl->assoc_t[r]); amax = fmax(amax, cl->assoc_t[r]); }
    }
    /* suite_timing_add reads c->busy: the interference of the region the repetitions came from */
    busy_result keep = c->busy;
    if (cl->have_seq) { c->busy = cl->seq_busy; suite_timing_add(&tm, c, cl->seq_t, reps); }
    if (cl->have_assoc) { c->busy = cl->assoc_busy; suite_timing_add(&tm, c, cl->assoc_t, reps); }
    claim_set(&v, "linear_time", ls);
    claim_set(&v, "assoc_time", as);
    claim_set(&v, "linear_max", cl->have_seq ? lmax : NAN);
    claim_set(&v, "linear_min", cl->have_seq ? lmin : NAN);
    claim_set(&v, "assoc_max", cl->have_assoc ? amax : NAN);
    claim_set(&v, "assoc_min", cl->have_assoc ? amin : NAN);
    claim_set(&v, "validated", cl->seq_ok && cl->assoc_ok);
    suite_timing_values(&tm, &v);
    snprintf(meas, sizeof meas, "seq %.3f ms [%.3f..%.3f], assoc %.3f ms [%.3f..%.3f]: assoc/seq %.2fx%s", 1e3 * ls, 1e3 * lmin,
             1e3 * lmax, 1e3 * as, 1e3 * amin, 1e3 * amax, as / ls, cl->seq_ok && cl->assoc_ok ? "" : " (a variant failed validation)");
    suite_claim_judged(c, "scan_linear_beats_assoc", where, &v, meas);

    /* memory bound: the linear scan against the copy bandwidth of this run */
    suite_timing_init(&tm);
    if (cl->have_seq) { c->busy = cl->seq_busy; suite_timing_add(&tm, c, cl->seq_t, reps); }
    c->busy = keep;
    if (probe_busy->ok && tm.nadd && !isnan(tm.busy)) tm.busy = fmax(tm.busy, probe_busy->others);
    double copy = rr ? rr->copy_gbs : NAN, gbs = cl->bytes / ls / 1e9;
    double ridge = rr && copy > 0 ? rr->sgemm_peak_gflops / copy : NAN;
    claim_values_init(&v);
    claim_set(&v, "frac_copy", gbs / copy);
    claim_set(&v, "intensity", cl->flops / cl->bytes);
    claim_set(&v, "ridge", ridge);
    claim_set(&v, "bytes_over_cache", caches > 0 ? cl->bytes / caches : NAN);
    claim_set(&v, "validated", cl->seq_ok);
    suite_timing_values(&tm, &v);
    snprintf(meas, sizeof meas, "seq %.1f GB/s = %.2f x copy %.1f GB/s; %.3f FLOP/byte vs ridge %.1f; %.0f MB per call vs caches %.0f MB",
             gbs, gbs / copy, copy, cl->flops / cl->bytes, ridge, cl->bytes / 1e6, caches / 1e6);
    suite_claim_judged(c, "scan_memory_bound", where, &v, meas);
}

static int part_scan(suite_ctx *c, const kern_scale *s, const roofline_result *rr, const busy_result *probe_busy) {
    const scan_variant *sv[KERN_MAX_VARIANTS];
    const rglru_variant *rv[KERN_MAX_VARIANTS];
    int ns = scan_list(sv), nr = rglru_list(rv);
    double caches = suite_cache_bytes();
    for (int wi = 0; wi < s->nC && !*c->stop; wi++) {
        int C = s->C[wi];
        if (C == 0) { /* the RG-LRU width of a paper preset */
            char name[64];
            model_config cfg;
            if (suite_preset_config(s->scan_size, FAMILY_HAWK, name, sizeof name, &cfg)) {
                suite_case_failed(c, 0, "scan", NULL, "unknown preset hawk-%s", s->scan_size);
                return 1;
            }
            C = cfg.lru_width;
        }
        int Ts[8], nT = 0;
        long Tmax = s->elems / ((long)s->B * C);
        for (long T = s->T0; T < Tmax && nT < 7; T *= 4) Ts[nT++] = (int)T;
        if (Tmax >= s->T0) Ts[nT++] = (int)Tmax;
        scan_claim_in cl;
        memset(&cl, 0, sizeof cl);
        cl.seq_ok = cl.assoc_ok = 1;
        double x[8], sy[KERN_MAX_VARIANTS][8], ry[KERN_MAX_VARIANTS][8];
        for (int ti = 0; ti < nT && !*c->stop; ti++) {
            int rc = scan_shape(c, s, C, Ts[ti], ti == nT - 1, &cl, x, sy, ry, ti);
            if (rc) return rc;
        }
        if (*c->stop) return 130;
        char series[96];
        for (int i = 0; i < ns; i++) {
            snprintf(series, sizeof series, "%s C=%d", sv[i]->name, C);
            curve_finite(c, "scan_gbps", series, x, sy[i], nT);
        }
        for (int i = 0; i < nr; i++) {
            snprintf(series, sizeof series, "%s C=%d", rv[i]->name, C);
            curve_finite(c, "rglru_gbps", series, x, ry[i], nT);
        }
        if (!c->quiet) {
            suite_progress_done(c);
            fprintf(stderr, "[kernels] scan B=%d C=%d GB/s at T =", s->B, C);
            for (int ti = 0; ti < nT; ti++) fprintf(stderr, " %d", Ts[ti]);
            fprintf(stderr, " (copy %.1f GB/s)\n", rr ? rr->copy_gbs : NAN);
            for (int i = 0; i < ns; i++) {
                fprintf(stderr, "[kernels]   scan  %-16s", sv[i]->name);
                for (int ti = 0; ti < nT; ti++) fprintf(stderr, " %7.1f", sy[i][ti]);
                fprintf(stderr, "\n");
            }
            for (int i = 0; i < nr; i++) {
                fprintf(stderr, "[kernels]   rglru %-16s", rv[i]->name);
                for (int ti = 0; ti < nT; ti++) fprintf(stderr, " %7.1f", ry[i][ti]);
                fprintf(stderr, "\n");
            }
        }
        scan_claims(c, &cl, rr, probe_busy, caches);
    }
    return 0;
}

/* ---- (b) local attention --------------------------------------------------- */

typedef struct {
    const attn_variant *v;
    float *out, *lse;
    const float *q, *k, *vv;
    const int32_t *pos;
    int B, T, H, dh, W;
} attn_arg;
static void attn_call(void *p) {
    attn_arg *a = p;
    a->v->forward(a->out, a->lse, a->q, a->k, a->vv, a->pos, a->B, a->T, a->H, a->dh, a->W);
}

enum { AV_Q, AV_K, AV_V, AV_O, AV_L, AV_N };

/* q, k, v, out, lse at (B, T) with pos (document reset when reset). */
static int attn_buffers(float **p, int32_t **pos, int B, int T, int H, int dh, int reset) {
    size_t sz[AV_N] = {(size_t)B * T * H * dh, (size_t)B * T * dh, (size_t)B * T * dh, (size_t)B * T * H * dh, (size_t)B * H * T};
    *pos = util_try_alloc((size_t)B * T * sizeof(int32_t));
    if (!*pos || alloc_all(p, sz, AV_N)) { free(*pos); return -1; }
    fill(p[AV_Q], sz[AV_Q], 41, -1.f, 1.f);
    fill(p[AV_K], sz[AV_K], 42, -1.f, 1.f);
    fill(p[AV_V], sz[AV_V], 43, -1.f, 1.f);
    fill_pos(*pos, B, T, reset);
    return 0;
}

static int part_attention(suite_ctx *c, const kern_scale *s) {
    char name[64];
    model_config cfg;
    if (suite_preset_config(s->attn_size, FAMILY_GRIFFIN, name, sizeof name, &cfg)) {
        suite_case_failed(c, 0, "attn", NULL, "unknown preset griffin-%s", s->attn_size);
        return 1;
    }
    const int B = 1, H = cfg.heads, dh = cfg.head_dim, W = cfg.window, reps = c->reps;
    const attn_variant *v[KERN_MAX_VARIANTS];
    int nv = 0;
    for (const attn_variant *a = attn_variants; a->name && nv < KERN_MAX_VARIANTS; a++)
        if (strcmp(a->name, "ref")) v[nv++] = a;
    double x[5], y[KERN_MAX_VARIANTS][5], t[KERN_MAX_REPS];
    /* the reference at the validation length, kept while that length is the same */
    float *rp[AV_N] = {0}, *ro = NULL, *rl = NULL;
    int32_t *rpos = NULL;
    int rT = -1;
    for (int ti = 0; ti < s->nattT && !*c->stop; ti++) {
        int T = s->attT[ti], Tv = T > W + 37 ? W + 37 : T;
        x[ti] = T;
        if (Tv != rT) {
            if (rT > 0) { free_all(rp, AV_N); free(rpos); free(ro); free(rl); }
            rT = -1;
            if (attn_buffers(rp, &rpos, B, Tv, H, dh, 1)) break;
            size_t no = (size_t)B * Tv * H * dh, nl = (size_t)B * H * Tv;
            ro = util_try_alloc(no * sizeof(float));
            rl = util_try_alloc(nl * sizeof(float));
            if (!ro || !rl) { free_all(rp, AV_N); free(rpos); free(ro); free(rl); break; }
            suite_progress(c, "attention H=%d dh=%d W=%d: the ref at T=%d", H, dh, W, Tv);
            attn_find("ref")->forward(ro, rl, rp[AV_Q], rp[AV_K], rp[AV_V], rpos, B, Tv, H, dh, W);
            rT = Tv;
        }
        size_t no = (size_t)B * rT * H * dh, nl = (size_t)B * H * rT;
        float *p[AV_N];
        int32_t *pos;
        if (attn_buffers(p, &pos, B, T, H, dh, 0)) {
            suite_case_failed(c, 0, "attn", NULL, "cannot allocate the buffers at T=%d", T);
            break;
        }
        double keys = 0;
        for (int q = 0; q < T; q++) keys += q > W ? W + 1 : q + 1;
        double bytes = 4.0 * (2.0 * B * T * H * dh + 2.0 * B * T * dh + (double)B * H * T + (double)B * T);
        double flops = 4.0 * dh * H * B * keys;
        for (int i = 0; i < nv && !*c->stop; i++) {
            y[i][ti] = NAN;
            char params[200];
            snprintf(params, sizeof params, "{\"variant\":\"%s\",\"B\":%d,\"T\":%d,\"H\":%d,\"dh\":%d,\"W\":%d,\"threads\":%d}", v[i]->name, B, T,
                     H, dh, W, c->threads);
            /* validate on the reference's inputs */
            memset(rp[AV_O], 0, no * sizeof(float));
            v[i]->forward(rp[AV_O], rp[AV_L], rp[AV_Q], rp[AV_K], rp[AV_V], rpos, B, rT, H, dh, W);
            double worst = 0;
            if (!(matches(rp[AV_O], ro, no, 1e-3, 1e-4, &worst) && matches(rp[AV_L], rl, nl, 1e-4, 1e-4, &worst))) {
                suite_case_failed(c, 0, "attn", params, "differs from the ref at T=%d by %.3g x the tolerance (out rtol 1e-3, lse 1e-4)", rT, worst);
                continue;
            }
            suite_progress(c, "attention %s T=%d", v[i]->name, T);
            attn_arg a = {v[i], p[AV_O], p[AV_L], p[AV_Q], p[AV_K], p[AV_V], pos, B, T, H, dh, W};
            time_calls(c, s->min_rep, attn_call, &a, t, reps);
            kern_timing k;
            record(c, "attn", v[i]->name, params, t, reps, bytes, flops, &k);
            y[i][ti] = k.gflops;
        }
        free_all(p, AV_N);
        free(pos);
    }
    if (rT > 0) { free_all(rp, AV_N); free(rpos); free(ro); free(rl); }
    if (*c->stop) return 130;
    if (rT < 0 && s->nattT > 0) {
        suite_case_failed(c, 0, "attn", NULL, "cannot allocate the validation buffers");
        return 1;
    }
    for (int i = 0; i < nv; i++) {
        char series[64];
        snprintf(series, sizeof series, "%s W=%d", v[i]->name, W);
        curve_finite(c, "attn_gflops", series, x, y[i], s->nattT);
    }
    if (!c->quiet) {
        suite_progress_done(c);
        fprintf(stderr, "[kernels] attention (%s: H=%d dh=%d W=%d, B=1) GFLOP/s at T =", name, H, dh, W);
        for (int ti = 0; ti < s->nattT; ti++) fprintf(stderr, " %d", s->attT[ti]);
        fprintf(stderr, "\n");
        for (int i = 0; i < nv; i++) {
            fprintf(stderr, "[kernels]   %-16s", v[i]->name);
            for (int ti = 0; ti < s->nattT; ti++) fprintf(stderr, " %7.1f", y[i][ti]);
            fprintf(stderr, "\n");
        }
    }
    return 0;
}

/* ---- (c) GEMM variants ------------------------------------------------------ */

typedef struct {
    int bf16, M, N, K;
    const float *A, *W;
    const uint16_t *W16;
    float *C;
} gemm_arg;
static void gemm_call(void *p) {
    gemm_arg *g = p;
    if (g->bf16) gemm_bf16(0, 1, g->M, g->N, g->K, 1.0f, g->A, g->K, g->W16, g->K, 0.0f, g->C, g->N);
    else gemm(0, 1, g->M, g->N, g->K, 1.0f, g->A, g->K, g->W, g->K, 0.0f, g->C, g->N);
}

/* The gemm table's variants to time (its names, from gemm_variants_list()):
 * not the references, not the aliases ("auto", "bf16": they resolve to one
 * of the others), not those this build lacks. bf16[i] = 1 for bf16-weight
 * kernels. */
static int gemm_list(char names[][24], int *bf16) {
    char all[256];
    snprintf(all, sizeof all, "%s", gemm_variants_list());
    int n = 0;
    for (char *save = NULL, *t = strtok_r(all, "|", &save); t && n < KERN_MAX_VARIANTS; t = strtok_r(NULL, "|", &save)) {
        size_t len = strlen(t);
        if (!strcmp(t, "ref") || (len > 4 && !strcmp(t + len - 4, "-ref"))) continue;
        if (gemm_set_variant(t) != 0) continue; /* e.g. bf16-dp without avx512_bf16 */
        int is32 = !strcmp(gemm_variant(), t);
        if (is32 ? strcmp(gemm_variant_resolved(), t) : strcmp(gemm_bf16_variant_resolved(), t)) continue;
        snprintf(names[n], sizeof names[n], "%s", t);
        bf16[n++] = !is32;
    }
    return n;
}

static int part_gemm(suite_ctx *c, const kern_scale *s) {
    char pname[64];
    model_config cfg;
    if (suite_preset_config(s->gemm_size, FAMILY_HAWK, pname, sizeof pname, &cfg)) {
        suite_case_failed(c, 0, "gemm", NULL, "unknown preset hawk-%s", s->gemm_size);
        return 1;
    }
    const int K = cfg.width, N = 2 * cfg.mlp_expansion * cfg.width, reps = c->reps;
    int Mmax = 0;
    for (int i = 0; i < s->ngM; i++) Mmax = s->gM[i] > Mmax ? s->gM[i] : Mmax;
    char keep32[24], keep16[24];
    snprintf(keep32, sizeof keep32, "%s", gemm_variant());
    snprintf(keep16, sizeof keep16, "%s", gemm_bf16_variant());
    char names[KERN_MAX_VARIANTS][24];
    int bf16[KERN_MAX_VARIANTS], nv = gemm_list(names, bf16);
    size_t nw = (size_t)N * K;
    float *A = util_try_alloc((size_t)Mmax * K * sizeof(float)), *Wt = util_try_alloc(nw * sizeof(float));
    float *Cm = util_try_alloc((size_t)Mmax * N * sizeof(float)), *R32 = util_try_alloc((size_t)Mmax * N * sizeof(float));
    float *R16 = util_try_alloc((size_t)Mmax * N * sizeof(float));
    uint16_t *W16 = util_try_alloc(nw * sizeof(uint16_t));
    int rc = 0;
    if (!A || !Wt || !Cm || !R32 || !R16 || !W16) {
        suite_case_failed(c, 0, "gemm", NULL, "cannot allocate the buffers (M=%d N=%d K=%d)", Mmax, N, K);
        rc = 1;
        goto done;
    }
    fill(A, (size_t)Mmax * K, 61, -1.f, 1.f);
    fill(Wt, nw, 62, -1.f / sqrtf((float)K), 1.f / sqrtf((float)K));
    bf16_from_f32(W16, Wt, nw);
    double t[KERN_MAX_REPS];
    for (int mi = 0; mi < s->ngM && !*c->stop; mi++) {
        int M = s->gM[mi], Mv = M <= 16 ? M : 37 < M ? 37 : M;
        suite_progress(c, "gemm M=%d N=%d K=%d: the references at M=%d", M, N, K, Mv);
        gemm_ref(0, 1, Mv, N, K, 1.0f, A, K, Wt, K, 0.0f, R32, N);
        gemm_bf16_ref(0, 1, Mv, N, K, 1.0f, A, K, W16, K, 0.0f, R16, N);
        for (int i = 0; i < nv && !*c->stop; i++) {
            const char *dt = bf16[i] ? "bf16" : "f32";
            char params[200];
            snprintf(params, sizeof params, "{\"variant\":\"%s\",\"weights\":\"%s\",\"M\":%d,\"N\":%d,\"K\":%d,\"threads\":%d}", names[i], dt,
                     M, N, K, c->threads);
            gemm_set_variant(names[i]);
            gemm_arg g = {bf16[i], Mv, N, K, A, Wt, W16, Cm};
            gemm_call(&g);
            /* fp32 kernels: 1e-4 of max|C|; bf16 kernels: the 2^-7 matmul.h
             * states (bf16-dp rounds the activations to bf16 too) */
            double e = util_max_rel_err(Cm, bf16[i] ? R16 : R32, (size_t)Mv * N), tol = bf16[i] ? 1.0 / 128 : 1e-4;
            if (!(e <= tol)) {
                suite_case_failed(c, 0, "gemm", params, "differs from gemm%s_ref by %.3g of max|C| at M=%d (tolerance %.3g)", bf16[i] ? "_bf16" : "",
                                  e, Mv, tol);
                continue;
            }
            suite_progress(c, "gemm %s M=%d", names[i], M);
            g.M = M;
            time_calls(c, s->min_rep, gemm_call, &g, t, reps);
            double bytes = 4.0 * ((double)M * K + (double)M * N) + (bf16[i] ? 2.0 : 4.0) * nw, flops = 2.0 * M * N * K;
            kern_timing k;
            record(c, "gemm", names[i], params, t, reps, bytes, flops, &k);
            if (!c->quiet) {
                suite_progress_done(c);
                fprintf(stderr, "[kernels] gemm %-10s M %4d N %d K %d: %8.3f ms, %7.1f GFLOP/s, %6.1f GB/s\n", names[i], M, N, K, 1e3 * k.med,
                        k.gflops, k.gbs);
            }
        }
    }
    if (*c->stop) rc = 130;
done:
    gemm_set_variant(keep32);
    gemm_set_variant(keep16);
    free(A); free(Wt); free(Cm); free(R32); free(R16); free(W16);
    return rc;
}

/* ---- the suite ---------------------------------------------------------- */

int suite_kernels(suite_ctx *c) {
    kern_scale s;
    scale_of(c, &s);
    if (c->reps > KERN_MAX_REPS) {
        fprintf(stderr, "[kernels] at most %d repetitions (--reps %d)\n", KERN_MAX_REPS, c->reps);
        return 1;
    }
    /* the limits, measured now (not the cached probe of an earlier suite) */
    suite_progress(c, "measuring copy / read bandwidth and the sgemm rate (roofline probe)");
    roofline_result rr;
    suite_time_begin(c);
    int bad = roofline_measure(&rr, c->threads, s.quick);
    suite_time_end(c);
    busy_result probe_busy = c->busy;
    if (bad) fprintf(stderr, "[kernels] roofline probe failed: %s (the claims are inconclusive)\n", util_last_error());
    const roofline_result *r = bad ? NULL : &rr;
    if (r) {
        double zx = 0, lim[4] = {fmax(rr.read_gbs, rr.copy_gbs), rr.copy_gbs, rr.read_gbs, rr.sgemm_peak_gflops};
        const char *names[4] = {"GB/s", "copy GB/s", "read GB/s", "GFLOP/s"};
        for (int i = 0; i < 4; i++) suite_curve(c, 0, "roofline_limits", names[i], &zx, &lim[i], 1);
        if (!c->quiet) {
            suite_progress_done(c);
            fprintf(stderr, "[kernels] limits (%d threads): copy %.1f GB/s, read %.1f GB/s, sgemm %.1f GFLOP/s\n", c->threads, rr.copy_gbs,
                    rr.read_gbs, rr.sgemm_peak_gflops);
        }
    }
    int rc = part_scan(c, &s, r, &probe_busy);
    if (!rc) rc = part_attention(c, &s);
    if (!rc) rc = part_gemm(c, &s);
    return rc;
}
