/* test_scan.c — the linear scan and RG-LRU variants (kernels/scan.h).
 *
 * - ref backward (scan and RG-LRU) against central finite differences of a
 *   small double-precision reimplementation of the loss sum(w * y);
 * - every variant, forward and backward, against ref on odd shapes: T prime
 *   (1, 2, 37, 101), C not a multiple of 16 (19, 45), B = 1 and 3, chunks
 *   that do not divide T, document resets mid-sequence, with and without h0,
 *   on 1 and 2 OpenMP threads (forward <= 1e-5, backward <= 1e-4 relative);
 * - decode: T = 1 steps with h_last aliasing h0 equal the full forward;
 * - da_param is accumulated (+=), work may be NULL for `fused`.
 *
 * Run: make && build/tests/test_scan   (GRIFFIN_TEST_VERBOSE=1 prints errors)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "scan.h"
#include "test.h"
#include "util.h"

#define TOL_FWD 1e-5
#define TOL_BWD 1e-4
#define TOL_FD 1e-4

static void set_threads(int n) {
#ifdef _OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static float *falloc(size_t n) { return util_alloc(sizeof(float) * (n ? n : 1)); }

static void fill_normal(rng_t *r, float *p, size_t n, double s) {
    for (size_t i = 0; i < n; i++) p[i] = (float)(s * rng_normal(r));
}
static void fill_uniform(rng_t *r, float *p, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) p[i] = (float)(lo + (hi - lo) * rng_uniform(r));
}
/* Segment positions: resets (pos == 0) at t == 0 unless continuing from h0,
 * and, when asked, at random rows mid-sequence. */
static void fill_pos(rng_t *r, int32_t *pos, int B, int T, int with_h0, int resets) {
    for (int b = 0; b < B; b++) {
        int p = with_h0 ? 5 + b : 0;
        for (int t = 0; t < T; t++) {
            if (resets && t > 0 && rng_uniform(r) < 0.12) p = 0;
            pos[(size_t)b * T + t] = p++;
        }
    }
}

/* ---- double-precision reimplementations for finite differences ---------- */

static double scan_loss_d(const double *a, const double *u, const double *h0, const double *w,
                          int B, int T, int C) {
    double L = 0;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            double h = h0 ? h0[b * C + c] : 0.0;
            for (int t = 0; t < T; t++) {
                size_t o = ((size_t)b * T + t) * C + c;
                h = a[o] * h + u[o];
                L += w[o] * h;
            }
        }
    return L;
}

static double sigm_d(double v) { return 1.0 / (1.0 + exp(-v)); }
static double softplus_d(double v) { return v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)); }

static double rglru_loss_d(const double *x, const double *gx, const double *ga, const double *ap,
                           const int32_t *pos, const double *h0, const double *w, int B, int T,
                           int C) {
    double L = 0;
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            double h = h0 ? h0[b * C + c] : 0.0;
            for (int t = 0; t < T; t++) {
                size_t o = ((size_t)b * T + t) * C + c;
                double i = sigm_d(gx[o]);
                if (pos[(size_t)b * T + t] == 0) {
                    h = i * x[o];
                } else {
                    double loga = -8.0 * sigm_d(ga[o]) * softplus_d(ap[c]);
                    h = exp(loga) * h + sqrt(1.0 - exp(2.0 * loga)) * i * x[o];
                }
                L += w[o] * h;
            }
        }
    return L;
}

static double *to_d(const float *p, size_t n) {
    double *d = malloc(sizeof(double) * (n ? n : 1));
    CHECK_ALLOC(d);
    for (size_t i = 0; i < n; i++) d[i] = p[i];
    return d;
}

/* Central difference of f with respect to v[k], relative step. */
#define FD_GRAD(out, v, k, expr)                         \
    do {                                                 \
        double v0_ = (v)[k], e_ = 1e-6 * fmax(1.0, fabs(v0_)); \
        (v)[k] = v0_ + e_;                               \
        double lp_ = (expr);                             \
        (v)[k] = v0_ - e_;                               \
        double lm_ = (expr);                             \
        (v)[k] = v0_;                                    \
        (out) = (lp_ - lm_) / (2 * e_);                  \
    } while (0)

static double rel_err_d(const float *got, const double *want, size_t n) {
    double m = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        m = fmax(m, fabs(want[i]));
        d = fmax(d, fabs(got[i] - want[i]));
    }
    return d / (m > 1e-30 ? m : 1e-30);
}

static void test_scan_ref_fd(int B, int T, int C, int with_h0) {
    rng_t r;
    rng_seed(&r, 11 + T);
    size_t n = (size_t)B * T * C;
    float *a = falloc(n), *u = falloc(n), *w = falloc(n), *h0 = falloc((size_t)B * C);
    float *h = falloc(n), *du = falloc(n), *da = falloc(n);
    fill_uniform(&r, a, n, 0.0, 1.0);
    fill_normal(&r, u, n, 1.0);
    fill_normal(&r, w, n, 1.0);
    fill_normal(&r, h0, (size_t)B * C, 1.0);
    const scan_variant *ref = scan_find("ref");
    ref->forward(h, NULL, a, u, with_h0 ? h0 : NULL, B, T, C);
    ref->backward(du, da, w, a, h, with_h0 ? h0 : NULL, B, T, C);
    double *ad = to_d(a, n), *ud = to_d(u, n), *wd = to_d(w, n), *h0d = to_d(h0, (size_t)B * C);
    double *ga = malloc(sizeof(double) * n), *gu = malloc(sizeof(double) * n);
    CHECK_ALLOC(ga);
    CHECK_ALLOC(gu);
    const double *h0p = with_h0 ? h0d : NULL;
    for (size_t k = 0; k < n; k++) {
        FD_GRAD(ga[k], ad, k, scan_loss_d(ad, ud, h0p, wd, B, T, C));
        FD_GRAD(gu[k], ud, k, scan_loss_d(ad, ud, h0p, wd, B, T, C));
    }
    char what[96];
    snprintf(what, sizeof what, "scan ref FD da B=%d T=%d C=%d h0=%d", B, T, C, with_h0);
    TEST_CLOSE(rel_err_d(da, ga, n), TOL_FD, what);
    snprintf(what, sizeof what, "scan ref FD du B=%d T=%d C=%d h0=%d", B, T, C, with_h0);
    TEST_CLOSE(rel_err_d(du, gu, n), TOL_FD, what);
    free(ad), free(ud), free(wd), free(h0d), free(ga), free(gu);
    util_free(a), util_free(u), util_free(w), util_free(h0), util_free(h), util_free(du), util_free(da);
}

static void test_rglru_ref_fd(int B, int T, int C, int with_h0, int resets) {
    rng_t r;
    rng_seed(&r, 77 + T + resets);
    size_t n = (size_t)B * T * C;
    float *x = falloc(n), *gx = falloc(n), *ga = falloc(n), *w = falloc(n), *ap = falloc(C);
    float *h0 = falloc((size_t)B * C), *y = falloc(n), *dx = falloc(n), *dgx = falloc(n),
          *dga = falloc(n), *dap = falloc(C);
    int32_t *pos = malloc(sizeof(int32_t) * (size_t)B * T);
    CHECK_ALLOC(pos);
    fill_normal(&r, x, n, 1.0);
    fill_normal(&r, gx, n, 1.5);
    fill_normal(&r, ga, n, 1.5);
    fill_normal(&r, w, n, 1.0);
    fill_uniform(&r, ap, C, -7.0, 1.0);
    fill_normal(&r, h0, (size_t)B * C, 1.0);
    fill_pos(&r, pos, B, T, with_h0, resets);
    const float *h0p = with_h0 ? h0 : NULL;
    rglru_forward_ref(y, NULL, x, gx, ga, ap, pos, h0p, NULL, B, T, C);
    rglru_backward_ref(dx, dgx, dga, dap, w, y, x, gx, ga, ap, pos, h0p, NULL, B, T, C);
    double *xd = to_d(x, n), *gxd = to_d(gx, n), *gad = to_d(ga, n), *wd = to_d(w, n),
           *apd = to_d(ap, C), *h0d = to_d(h0, (size_t)B * C);
    const double *h0dp = with_h0 ? h0d : NULL;
    double *fx = malloc(sizeof(double) * n), *fgx = malloc(sizeof(double) * n),
           *fga = malloc(sizeof(double) * n), *fap = malloc(sizeof(double) * C);
    CHECK_ALLOC(fx);
    CHECK_ALLOC(fgx);
    CHECK_ALLOC(fga);
    CHECK_ALLOC(fap);
#define RL rglru_loss_d(xd, gxd, gad, apd, pos, h0dp, wd, B, T, C)
    for (size_t k = 0; k < n; k++) {
        FD_GRAD(fx[k], xd, k, RL);
        FD_GRAD(fgx[k], gxd, k, RL);
        FD_GRAD(fga[k], gad, k, RL);
    }
    for (int k = 0; k < C; k++) FD_GRAD(fap[k], apd, k, RL);
#undef RL
    char what[96];
    snprintf(what, sizeof what, "rglru ref FD dx B=%d T=%d C=%d", B, T, C);
    TEST_CLOSE(rel_err_d(dx, fx, n), TOL_FD, what);
    snprintf(what, sizeof what, "rglru ref FD dgx B=%d T=%d C=%d", B, T, C);
    TEST_CLOSE(rel_err_d(dgx, fgx, n), TOL_FD, what);
    snprintf(what, sizeof what, "rglru ref FD dga B=%d T=%d C=%d", B, T, C);
    TEST_CLOSE(rel_err_d(dga, fga, n), TOL_FD, what);
    snprintf(what, sizeof what, "rglru ref FD da_param B=%d T=%d C=%d", B, T, C);
    TEST_CLOSE(rel_err_d(dap, fap, C), TOL_FD, what);
    free(xd), free(gxd), free(gad), free(wd), free(apd), free(h0d);
    free(fx), free(fgx), free(fga), free(fap), free(pos);
    util_free(x), util_free(gx), util_free(ga), util_free(w), util_free(ap), util_free(h0);
    util_free(y), util_free(dx), util_free(dgx), util_free(dga), util_free(dap);
}

/* ---- variants against ref -------------------------------------------------- */

typedef struct { int B, T, C, h0, resets, chunk; } shape;
static const shape shapes[] = {
    {1, 1, 19, 0, 0, 0},  {1, 2, 45, 1, 0, 1},  {3, 2, 19, 0, 1, 0},  {3, 37, 19, 1, 1, 5},
    {1, 37, 45, 1, 1, 3}, {1, 101, 45, 0, 1, 7}, {3, 101, 45, 1, 1, 0}, {1, 101, 19, 1, 0, 13},
};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])

static void test_scan_variants(const shape *s, int nth) {
    int B = s->B, T = s->T, C = s->C;
    size_t n = (size_t)B * T * C, bc = (size_t)B * C;
    rng_t r;
    rng_seed(&r, 1000 + T * 7 + C + B);
    float *a = falloc(n), *u = falloc(n), *dh = falloc(n), *h0 = falloc(bc);
    float *h = falloc(n), *hl = falloc(bc), *du = falloc(n), *da = falloc(n);
    float *h2 = falloc(n), *hl2 = falloc(bc), *du2 = falloc(n), *da2 = falloc(n), *st = falloc(bc);
    fill_uniform(&r, a, n, 0.0, 1.0);
    for (size_t i = 0; i < n; i++)
        if (rng_uniform(&r) < 0.05) a[i] = 0.0f; /* resets */
    fill_normal(&r, u, n, 1.0);
    fill_normal(&r, dh, n, 1.0);
    fill_normal(&r, h0, bc, 1.0);
    const float *h0p = s->h0 ? h0 : NULL;
    scan_set_chunk_rows(s->chunk);
    const scan_variant *ref = scan_find("ref");
    ref->forward(h, hl, a, u, h0p, B, T, C);
    ref->backward(du, da, dh, a, h, h0p, B, T, C);
    for (const scan_variant *v = scan_variants; v->name; v++) {
        if (v == ref) continue;
        char what[128];
        memset(h2, 0xff, sizeof(float) * n); /* NaN: every output must be written */
        memset(du2, 0xff, sizeof(float) * n);
        memset(da2, 0xff, sizeof(float) * n);
        v->forward(h2, hl2, a, u, h0p, B, T, C);
        v->backward(du2, da2, dh, a, h, h0p, B, T, C);
        snprintf(what, sizeof what, "scan %-7s fwd  B=%d T=%d C=%d h0=%d ch=%d th=%d", v->name, B,
                 T, C, s->h0, s->chunk, nth);
        TEST_CLOSE(util_max_rel_err(h2, h, n), TOL_FWD, what);
        snprintf(what, sizeof what, "scan %-7s last B=%d T=%d C=%d th=%d", v->name, B, T, C, nth);
        TEST_CLOSE(util_max_rel_err(hl2, hl, bc), TOL_FWD, what);
        snprintf(what, sizeof what, "scan %-7s du   B=%d T=%d C=%d th=%d", v->name, B, T, C, nth);
        TEST_CLOSE(util_max_rel_err(du2, du, n), TOL_BWD, what);
        snprintf(what, sizeof what, "scan %-7s da   B=%d T=%d C=%d th=%d", v->name, B, T, C, nth);
        TEST_CLOSE(util_max_rel_err(da2, da, n), TOL_BWD, what);
        /* h_last aliasing h0 (in-place state update) */
        if (s->h0) {
            memcpy(st, h0, sizeof(float) * bc);
            v->forward(h2, st, a, u, st, B, T, C);
            snprintf(what, sizeof what, "scan %-7s alias B=%d T=%d C=%d th=%d", v->name, B, T, C,
                     nth);
            TEST_CLOSE(util_max_rel_err(st, hl, bc) + util_max_rel_err(h2, h, n), TOL_FWD, what);
        }
    }
    scan_set_chunk_rows(0);
    util_free(a), util_free(u), util_free(dh), util_free(h0), util_free(h), util_free(hl);
    util_free(du), util_free(da), util_free(h2), util_free(hl2), util_free(du2), util_free(da2);
    util_free(st);
}

typedef struct {
    float *x, *gx, *ga, *ap, *h0, *dy, *y, *hl, *dx, *dgx, *dga, *dap;
    int32_t *pos;
} rg_data;

static void rg_data_init(rg_data *d, const shape *s, uint64_t seed) {
    size_t n = (size_t)s->B * s->T * s->C, bc = (size_t)s->B * s->C;
    rng_t r;
    rng_seed(&r, seed);
    d->x = falloc(n), d->gx = falloc(n), d->ga = falloc(n), d->dy = falloc(n);
    d->ap = falloc(s->C), d->h0 = falloc(bc), d->y = falloc(n), d->hl = falloc(bc);
    d->dx = falloc(n), d->dgx = falloc(n), d->dga = falloc(n), d->dap = falloc(s->C);
    d->pos = malloc(sizeof(int32_t) * (size_t)s->B * s->T);
    CHECK_ALLOC(d->pos);
    fill_normal(&r, d->x, n, 1.0);
    fill_normal(&r, d->gx, n, 1.5);
    fill_normal(&r, d->ga, n, 1.5);
    fill_normal(&r, d->dy, n, 1.0);
    fill_uniform(&r, d->ap, s->C, -7.0, 1.0);
    fill_normal(&r, d->h0, bc, 1.0);
    fill_pos(&r, d->pos, s->B, s->T, s->h0, s->resets);
}

static void rg_data_free(rg_data *d) {
    util_free(d->x), util_free(d->gx), util_free(d->ga), util_free(d->dy), util_free(d->ap);
    util_free(d->h0), util_free(d->y), util_free(d->hl), util_free(d->dx), util_free(d->dgx);
    util_free(d->dga), util_free(d->dap);
    free(d->pos);
}

static void test_rglru_variants(const shape *s, int nth) {
    int B = s->B, T = s->T, C = s->C;
    size_t n = (size_t)B * T * C, bc = (size_t)B * C;
    rg_data d;
    rg_data_init(&d, s, 5000 + T * 3 + C + B);
    float *work = falloc(rglru_work_floats(B, T, C));
    const float *h0p = s->h0 ? d.h0 : NULL;
    scan_set_chunk_rows(s->chunk);
    for (int c = 0; c < C; c++) d.dap[c] = 0.25f; /* += contract */
    rglru_forward_ref(d.y, d.hl, d.x, d.gx, d.ga, d.ap, d.pos, h0p, work, B, T, C);
    rglru_backward_ref(d.dx, d.dgx, d.dga, d.dap, d.dy, d.y, d.x, d.gx, d.ga, d.ap, d.pos, h0p,
                       work, B, T, C);
    for (int c = 0; c < C; c++) d.dap[c] -= 0.25f;
    float *y = falloc(n), *hl = falloc(bc), *dx = falloc(n), *dgx = falloc(n), *dga = falloc(n),
          *dap = falloc(C), *st = falloc(bc);
    for (const rglru_variant *v = rglru_variants; v->name; v++) {
        if (strcmp(v->name, "ref") == 0) continue;
        for (int nowork = 0; nowork <= (strcmp(v->name, "fused") == 0); nowork++) {
            float *wk = nowork ? NULL : work;
            char what[128];
            memset(y, 0xff, sizeof(float) * n);
            memset(dx, 0xff, sizeof(float) * n);
            memset(dgx, 0xff, sizeof(float) * n);
            memset(dga, 0xff, sizeof(float) * n);
            for (int c = 0; c < C; c++) dap[c] = 0.25f;
            v->forward(y, hl, d.x, d.gx, d.ga, d.ap, d.pos, h0p, wk, B, T, C);
            v->backward(dx, dgx, dga, dap, d.dy, d.y, d.x, d.gx, d.ga, d.ap, d.pos, h0p, wk, B, T,
                        C);
            for (int c = 0; c < C; c++) dap[c] -= 0.25f;
            char tag[80];
            snprintf(tag, sizeof tag, "B=%d T=%d C=%d h0=%d rs=%d ch=%d th=%d%s", B, T, C, s->h0,
                     s->resets, s->chunk, nth, nowork ? " nowork" : "");
            snprintf(what, sizeof what, "rglru %-7s y   %s", v->name, tag);
            TEST_CLOSE(util_max_rel_err(y, d.y, n), TOL_FWD, what);
            snprintf(what, sizeof what, "rglru %-7s hl  %s", v->name, tag);
            TEST_CLOSE(util_max_rel_err(hl, d.hl, bc), TOL_FWD, what);
            snprintf(what, sizeof what, "rglru %-7s dx  %s", v->name, tag);
            TEST_CLOSE(util_max_rel_err(dx, d.dx, n), TOL_BWD, what);
            snprintf(what, sizeof what, "rglru %-7s dgx %s", v->name, tag);
            TEST_CLOSE(util_max_rel_err(dgx, d.dgx, n), TOL_BWD, what);
            snprintf(what, sizeof what, "rglru %-7s dga %s", v->name, tag);
            TEST_CLOSE(util_max_rel_err(dga, d.dga, n), TOL_BWD, what);
            snprintf(what, sizeof what, "rglru %-7s dap %s", v->name, tag);
            TEST_CLOSE(util_max_rel_err(dap, d.dap, C), TOL_BWD, what);
            if (s->h0) { /* h_last aliasing h0 over a whole sequence */
                memcpy(st, d.h0, sizeof(float) * bc);
                v->forward(y, st, d.x, d.gx, d.ga, d.ap, d.pos, st, wk, B, T, C);
                snprintf(what, sizeof what, "rglru %-7s alias %s", v->name, tag);
                TEST_CLOSE(util_max_rel_err(st, d.hl, bc) + util_max_rel_err(y, d.y, n), TOL_FWD,
                           what);
            }
        }
    }
    scan_set_chunk_rows(0);
    util_free(work), util_free(y), util_free(hl), util_free(dx), util_free(dgx), util_free(dga);
    util_free(dap), util_free(st);
    rg_data_free(&d);
}

/* Decode: T = 1 steps with the state updated in place equal the full forward. */
static void test_decode(int nth) {
    shape s = {3, 37, 45, 1, 1, 0};
    int B = s.B, T = s.T, C = s.C;
    size_t n = (size_t)B * T * C, bc = (size_t)B * C;
    rg_data d;
    rg_data_init(&d, &s, 9001);
    rglru_forward_ref(d.y, d.hl, d.x, d.gx, d.ga, d.ap, d.pos, d.h0, NULL, B, T, C);
    float *xs = falloc(bc), *gxs = falloc(bc), *gas = falloc(bc), *ys = falloc(bc),
          *st = falloc(bc), *yall = falloc(n), *work = falloc(rglru_work_floats(B, 1, C));
    int32_t ps[3];
    for (const rglru_variant *v = rglru_variants; v->name; v++) {
        memcpy(st, d.h0, sizeof(float) * bc);
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) {
                size_t o = ((size_t)b * T + t) * C;
                memcpy(xs + (size_t)b * C, d.x + o, sizeof(float) * C);
                memcpy(gxs + (size_t)b * C, d.gx + o, sizeof(float) * C);
                memcpy(gas + (size_t)b * C, d.ga + o, sizeof(float) * C);
                ps[b] = d.pos[(size_t)b * T + t];
            }
            v->forward(ys, st, xs, gxs, gas, d.ap, ps, st, work, B, 1, C);
            for (int b = 0; b < B; b++)
                memcpy(yall + ((size_t)b * T + t) * C, ys + (size_t)b * C, sizeof(float) * C);
        }
        char what[96];
        snprintf(what, sizeof what, "decode rglru %-7s y th=%d", v->name, nth);
        TEST_CLOSE(util_max_rel_err(yall, d.y, n), TOL_FWD, what);
        snprintf(what, sizeof what, "decode rglru %-7s state th=%d", v->name, nth);
        TEST_CLOSE(util_max_rel_err(st, d.hl, bc), TOL_FWD, what);
    }
    /* the linear scan, T = 1 steps, h_last aliasing h0 */
    float *a = d.x, *u = d.gx; /* any data; make a a valid decay in [0,1) */
    for (size_t i = 0; i < n; i++) a[i] = 0.5f + 0.49f * tanhf(a[i]);
    float *h = falloc(n), *hl = falloc(bc);
    scan_find("ref")->forward(h, hl, a, u, d.h0, B, T, C);
    for (const scan_variant *v = scan_variants; v->name; v++) {
        memcpy(st, d.h0, sizeof(float) * bc);
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) {
                size_t o = ((size_t)b * T + t) * C;
                memcpy(xs + (size_t)b * C, a + o, sizeof(float) * C);
                memcpy(gxs + (size_t)b * C, u + o, sizeof(float) * C);
            }
            v->forward(ys, st, xs, gxs, st, B, 1, C);
            for (int b = 0; b < B; b++)
                memcpy(yall + ((size_t)b * T + t) * C, ys + (size_t)b * C, sizeof(float) * C);
        }
        char what[96];
        snprintf(what, sizeof what, "decode scan %-7s h th=%d", v->name, nth);
        TEST_CLOSE(util_max_rel_err(yall, h, n) + util_max_rel_err(st, hl, bc), TOL_FWD, what);
    }
    util_free(xs), util_free(gxs), util_free(gas), util_free(ys), util_free(st), util_free(yall);
    util_free(work), util_free(h), util_free(hl);
    rg_data_free(&d);
}

/* A gradient that crosses a large T on all threads with automatic chunks. */
static void test_long(int nth) {
    shape s = {1, 1999, 35, 0, 1, 0};
    rg_data d;
    rg_data_init(&d, &s, 4242);
    size_t n = (size_t)s.T * s.C;
    float *work = falloc(rglru_work_floats(1, s.T, s.C));
    float *y = falloc(n), *dx = falloc(n), *dgx = falloc(n), *dga = falloc(n), *dap = falloc(s.C);
    rglru_forward_ref(d.y, d.hl, d.x, d.gx, d.ga, d.ap, d.pos, NULL, NULL, 1, s.T, s.C);
    rglru_backward_ref(d.dx, d.dgx, d.dga, d.dap, d.dy, d.y, d.x, d.gx, d.ga, d.ap, d.pos, NULL,
                       NULL, 1, s.T, s.C);
    for (const rglru_variant *v = rglru_variants; v->name; v++) {
        memset(dap, 0, sizeof(float) * s.C);
        v->forward(y, NULL, d.x, d.gx, d.ga, d.ap, d.pos, NULL, work, 1, s.T, s.C);
        v->backward(dx, dgx, dga, dap, d.dy, d.y, d.x, d.gx, d.ga, d.ap, d.pos, NULL, work, 1,
                    s.T, s.C);
        char what[96];
        snprintf(what, sizeof what, "long T=%d rglru %-7s fwd th=%d", s.T, v->name, nth);
        TEST_CLOSE(util_max_rel_err(y, d.y, n), TOL_FWD, what);
        snprintf(what, sizeof what, "long T=%d rglru %-7s bwd th=%d", s.T, v->name, nth);
        TEST_CLOSE(util_max_rel_err(dx, d.dx, n) + util_max_rel_err(dgx, d.dgx, n) +
                       util_max_rel_err(dga, d.dga, n) + util_max_rel_err(dap, d.dap, s.C),
                   TOL_BWD, what);
    }
    util_free(work), util_free(y), util_free(dx), util_free(dgx), util_free(dga), util_free(dap);
    rg_data_free(&d);
}

static void test_tables(void) {
    const char *sn[] = {"ref", "seq", "chunked", "assoc"};
    const char *rn[] = {"ref", "seq", "chunked", "assoc", "fused"};
    for (int i = 0; i < 4; i++) TEST_CHECK(scan_find(sn[i]) != NULL, "scan_find(%s)", sn[i]);
    for (int i = 0; i < 5; i++) TEST_CHECK(rglru_find(rn[i]) != NULL, "rglru_find(%s)", rn[i]);
    TEST_CHECK(scan_find("nope") == NULL && rglru_find("nope") == NULL && scan_find(NULL) == NULL,
               "unknown names give NULL");
    TEST_CHECK(rglru_find(RGLRU_DEFAULT) != NULL, "RGLRU_DEFAULT (%s) exists", RGLRU_DEFAULT);
    TEST_CHECK(rglru_work_floats(3, 37, 45) >= (size_t)2 * 3 * 37 * 45, "work size");
}

int main(void) {
    test_tables();
    scan_set_parallel_min(0); /* exercise the threaded paths on tiny shapes */
    test_scan_ref_fd(2, 13, 5, 1);
    test_scan_ref_fd(1, 7, 3, 0);
    test_rglru_ref_fd(2, 13, 5, 1, 1);
    test_rglru_ref_fd(1, 11, 4, 0, 0);
    for (int nth = 1; nth <= 2; nth++) {
        set_threads(nth);
        for (int i = 0; i < NSHAPES; i++) {
            test_scan_variants(&shapes[i], nth);
            test_rglru_variants(&shapes[i], nth);
        }
        test_decode(nth);
        test_long(nth);
    }
    /* 3 threads (more than some machines' cores; few shapes since oversubscribed
     * barriers are slow): chunked folds the carry over several chunks */
    set_threads(3);
    for (int i = 3; i <= 5; i += 2) {
        test_scan_variants(&shapes[i], 3);
        test_rglru_variants(&shapes[i], 3);
    }
    return test_summary();
}
