/* test_ops.c — the kernels of ops.h: every fast kernel against its `_ref`
 * twin on odd shapes (T prime, C not a multiple of the SIMD width, document
 * resets mid-sequence), and every `_ref` backward against central finite
 * differences of a double-precision forward written here (loss = sum w_i y_i
 * with random w).
 *
 * Run: make build/tests/test_ops && build/tests/test_ops
 * (GRIFFIN_TEST_VERBOSE=1 prints every error figure.)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bf16.h"
#include "matmul.h"
#include "ops.h"
#include "scan.h"
#include "test.h"
#include "util.h"
#include "fd.h"

static rng_t R;

static float *randf(size_t n, double sd) {
    float *p = util_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (float)(sd * rng_normal(&R));
    return p;
}
static float *copyf(const float *a, size_t n) {
    float *p = util_alloc(n * sizeof(float));
    memcpy(p, a, n * sizeof(float));
    return p;
}
static double *tod(const float *a, size_t n) {
    double *p = util_alloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) p[i] = a[i];
    return p;
}

/* Segment positions with documents starting at t = 0 and at every `starts`. */
static void make_pos(int32_t *pos, int T, const int *starts, int ns) {
    int p = 0;
    for (int t = 0; t < T; t++) {
        int reset = (t == 0);
        for (int i = 0; i < ns; i++) reset |= (starts[i] == t);
        p = reset ? 0 : p + 1;
        pos[t] = p;
    }
}

/* ---- finite differences ------------------------------------------------------ */

typedef double (*loss_fn)(void *ctx);

/* Max over `probes` random entries of param: tests/fd.h. */
static double fd_err(loss_fn f, void *ctx, double *param, const float *grad, size_t n, int probes) {
    return fd_max_err(f, ctx, param, grad, n, probes, &R);
}

/* ---- conv1d ------------------------------------------------------------------------ */

typedef struct {
    double *x, *w, *b, *wt;
    const int32_t *pos;
    int B, T, C, K;
} conv_ctx;

/* Double forward, straight from the definition: x_{t-s} counts iff t-s >= 0
 * and no pos == 0 in (t-s, t]. */
static double conv_loss(void *vc) {
    conv_ctx *c = vc;
    double L = 0;
    for (int b = 0; b < c->B; b++)
        for (int t = 0; t < c->T; t++)
            for (int ch = 0; ch < c->C; ch++) {
                double y = c->b[ch];
                for (int k = 0; k < c->K; k++) {
                    int src = t - (c->K - 1) + k, ok = src >= 0;
                    for (int u = src + 1; ok && u <= t; u++) ok = c->pos[b * c->T + u] != 0;
                    if (ok) y += c->w[k * c->C + ch] * c->x[((size_t)b * c->T + src) * c->C + ch];
                }
                L += c->wt[((size_t)b * c->T + t) * c->C + ch] * y;
            }
    return L;
}

static void test_conv1d(int B, int T, int C, int K) {
    char what[128];
    size_t n = (size_t)B * T * C;
    int32_t *pos = malloc(sizeof(int32_t) * B * T);
    int starts0[] = {T / 3, T / 3 + 1, T / 3 + 2, 2 * T / 3};
    for (int b = 0; b < B; b++) {
        if (b % 2 == 0) make_pos(pos + b * T, T, starts0, 4);
        else make_pos(pos + b * T, T, NULL, 0);
    }
    float *x = randf(n, 1), *w = randf((size_t)K * C, 0.5), *bias = randf(C, 0.5);
    float *y = randf(n, 1), *yr = randf(n, 1);
    conv1d_forward(y, x, w, bias, pos, B, T, C, K);
    conv1d_forward_ref(yr, x, w, bias, pos, B, T, C, K);
    snprintf(what, sizeof what, "conv1d fwd B%d T%d C%d K%d", B, T, C, K);
    TEST_CLOSE(util_max_rel_err(y, yr, n), 1e-6, what);

    float *dy = randf(n, 1), *dx = randf(n, 1), *dxr = randf(n, 1);
    float *dw = util_alloc(sizeof(float) * K * C), *dwr = util_alloc(sizeof(float) * K * C);
    float *db = util_alloc(sizeof(float) * C), *dbr = util_alloc(sizeof(float) * C);
    conv1d_backward(dx, dw, db, dy, x, w, pos, B, T, C, K);
    conv1d_backward_ref(dxr, dwr, dbr, dy, x, w, pos, B, T, C, K);
    snprintf(what, sizeof what, "conv1d bwd dx/dw/db B%d T%d C%d K%d", B, T, C, K);
    TEST_CLOSE(fmax(util_max_rel_err(dx, dxr, n), fmax(util_max_rel_err(dw, dwr, (size_t)K * C),
                                                       util_max_rel_err(db, dbr, C))), 1e-5, what);
    /* += contract on dw, db: a second call doubles them */
    conv1d_backward(dx, dw, db, dy, x, w, pos, B, T, C, K);
    for (int i = 0; i < K * C; i++) dwr[i] *= 2;
    for (int i = 0; i < C; i++) dbr[i] *= 2;
    TEST_CHECK(util_max_rel_err(dw, dwr, (size_t)K * C) < 1e-5 && util_max_rel_err(db, dbr, C) < 1e-5,
               "conv1d_backward accumulates dw, db");

    conv_ctx c = {tod(x, n), tod(w, (size_t)K * C), tod(bias, C), tod(dy, n), pos, B, T, C, K};
    for (int i = 0; i < K * C; i++) dwr[i] /= 2;
    for (int i = 0; i < C; i++) dbr[i] /= 2;
    snprintf(what, sizeof what, "conv1d ref bwd vs finite differences C%d", C);
    double e = fmax(fd_err(conv_loss, &c, c.x, dxr, n, 12),
                    fmax(fd_err(conv_loss, &c, c.w, dwr, (size_t)K * C, 8),
                         fd_err(conv_loss, &c, c.b, dbr, C, 4)));
    TEST_CLOSE(e, 1e-3, what);

    /* decode steps from a zero state == prefill of one document */
    if (B >= 2) {
        float *st = util_alloc(sizeof(float) * B * (K - 1) * C);
        float *st2 = util_alloc(sizeof(float) * B * (K - 1) * C);
        float *xs = util_alloc(sizeof(float) * B * C), *ys = util_alloc(sizeof(float) * B * C);
        float *ys2 = util_alloc(sizeof(float) * B * C);
        double worst = 0, worst2 = 0;
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) memcpy(xs + b * C, x + ((size_t)b * T + t) * C, sizeof(float) * C);
            conv1d_step(ys, st, xs, w, bias, B, C, K);
            conv1d_step_ref(ys2, st2, xs, w, bias, B, C, K);
            /* sequence 1 is one document: compare with the prefill */
            worst = fmax(worst, util_max_rel_err(ys + C, yr + ((size_t)T + t) * C, C));
            worst2 = fmax(worst2, util_max_rel_err(ys, ys2, (size_t)B * C));
        }
        snprintf(what, sizeof what, "conv1d_step vs prefill C%d K%d", C, K);
        TEST_CLOSE(worst, 1e-6, what);
        TEST_CLOSE(worst2, 1e-6, "conv1d_step vs conv1d_step_ref");
        util_free(st); util_free(st2); util_free(xs); util_free(ys); util_free(ys2);
    }
    util_free(c.x); util_free(c.w); util_free(c.b); util_free(c.wt);
    util_free(x); util_free(w); util_free(bias); util_free(y); util_free(yr);
    util_free(dy); util_free(dx); util_free(dxr); util_free(dw); util_free(dwr);
    util_free(db); util_free(dbr);
    free(pos);
}

/* ---- RMSNorm ------------------------------------------------------------------------------- */

typedef struct { double *x, *s, *wt; int N, C; double eps; } rms_ctx;

static double rms_loss(void *vc) {
    rms_ctx *c = vc;
    double L = 0;
    for (int n = 0; n < c->N; n++) {
        double ss = 0;
        for (int i = 0; i < c->C; i++) ss += c->x[n * c->C + i] * c->x[n * c->C + i];
        double r = 1.0 / sqrt(ss / c->C + c->eps);
        for (int i = 0; i < c->C; i++) L += c->wt[n * c->C + i] * c->x[n * c->C + i] * r * (1 + c->s[i]);
    }
    return L;
}

static void test_rmsnorm(int N, int C) {
    char what[128];
    size_t n = (size_t)N * C;
    float eps = 1e-6f;
    float *x = randf(n, 1.5), *s = randf(C, 0.3), *y = randf(n, 1), *yr = randf(n, 1);
    float *rs = randf(N, 1), *rsr = randf(N, 1);
    rmsnorm_forward(y, rs, x, s, N, C, eps);
    rmsnorm_forward_ref(yr, rsr, x, s, N, C, eps);
    snprintf(what, sizeof what, "rmsnorm fwd N%d C%d", N, C);
    TEST_CLOSE(fmax(util_max_rel_err(y, yr, n), util_max_rel_err(rs, rsr, N)), 1e-5, what);
    float *dy = randf(n, 1), *dx0 = randf(n, 1);
    float *dx = copyf(dx0, n), *dxr = copyf(dx0, n); /* dx accumulates (+=) */
    float *ds = util_alloc(sizeof(float) * C), *dsr = util_alloc(sizeof(float) * C);
    rmsnorm_backward(dx, ds, dy, x, rs, s, N, C);
    rmsnorm_backward_ref(dxr, dsr, dy, x, rsr, s, N, C);
    snprintf(what, sizeof what, "rmsnorm bwd N%d C%d", N, C);
    TEST_CLOSE(fmax(util_max_rel_err(dx, dxr, n), util_max_rel_err(ds, dsr, C)), 1e-5, what);
    for (size_t i = 0; i < n; i++) dxr[i] -= dx0[i];
    rms_ctx c = {tod(x, n), tod(s, C), tod(dy, n), N, C, eps};
    snprintf(what, sizeof what, "rmsnorm ref bwd vs finite differences C%d", C);
    TEST_CLOSE(fmax(fd_err(rms_loss, &c, c.x, dxr, n, 12), fd_err(rms_loss, &c, c.s, dsr, C, 8)),
               1e-3, what);
    util_free(c.x); util_free(c.s); util_free(c.wt);
    util_free(x); util_free(s); util_free(y); util_free(yr); util_free(rs); util_free(rsr);
    util_free(dy); util_free(dx0); util_free(dx); util_free(dxr); util_free(ds); util_free(dsr);
}

/* ---- GeLU, GeGLU, soft-cap ----------------------------------------------------------------- */

static double gelu_d(double x) {
    return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

typedef struct { double *a, *b, *wt; size_t n; int kind; double cap; } ew_ctx;

static double ew_loss(void *vc) {
    ew_ctx *c = vc;
    double L = 0;
    for (size_t i = 0; i < c->n; i++) {
        double y = c->kind == 0 ? gelu_d(c->a[i])
                 : c->kind == 1 ? gelu_d(c->a[i]) * c->b[i]
                                : c->cap * tanh(c->a[i] / c->cap);
        L += c->wt[i] * y;
    }
    return L;
}

static void test_elementwise(size_t n) {
    char what[128];
    float *a = randf(n, 2.5), *b = randf(n, 1), *g = randf(n, 1);
    a[0] = 0; a[1] = 1e-3f; a[2] = -12; a[3] = 15; a[4] = 0.06f; /* tails and the series branch */
    float *y = randf(n, 1), *yr = randf(n, 1), *da = randf(n, 1), *dar = randf(n, 1);
    float *db = randf(n, 1), *dbr = randf(n, 1);

    gelu_forward(y, a, n);
    gelu_forward_ref(yr, a, n);
    snprintf(what, sizeof what, "gelu fwd n%zu", n);
    TEST_CLOSE(util_close_ratio(y, yr, n, 1e-5, 1e-6), 1, what);
    gelu_backward(da, g, a, n);
    gelu_backward_ref(dar, g, a, n);
    snprintf(what, sizeof what, "gelu bwd n%zu", n);
    TEST_CLOSE(util_close_ratio(da, dar, n, 1e-5, 1e-6), 1, what);
    ew_ctx c = {tod(a, n), tod(b, n), tod(g, n), n, 0, 0};
    TEST_CLOSE(fd_err(ew_loss, &c, c.a, dar, n, 16), 1e-3, "gelu ref bwd vs finite differences");

    geglu_forward(y, a, b, n);
    geglu_forward_ref(yr, a, b, n);
    TEST_CLOSE(util_close_ratio(y, yr, n, 1e-5, 1e-6), 1, "geglu fwd");
    geglu_backward(da, db, g, a, b, n);
    geglu_backward_ref(dar, dbr, g, a, b, n);
    TEST_CLOSE(fmax(util_close_ratio(da, dar, n, 1e-5, 1e-6), util_close_ratio(db, dbr, n, 1e-5, 1e-6)),
               1, "geglu bwd");
    c.kind = 1;
    TEST_CLOSE(fmax(fd_err(ew_loss, &c, c.a, dar, n, 16), fd_err(ew_loss, &c, c.b, dbr, n, 16)), 1e-3,
               "geglu ref bwd vs finite differences");
    /* in place: da aliases dout */
    float *gi = copyf(g, n);
    geglu_backward(gi, db, gi, a, b, n);
    TEST_CLOSE(util_close_ratio(gi, dar, n, 1e-5, 1e-6), 1, "geglu bwd in place (da == dout)");

    float cap = 3.0f; /* small cap so the tanh saturates on part of the data */
    memcpy(y, a, n * sizeof(float));
    memcpy(yr, a, n * sizeof(float));
    softcap_forward(y, n, cap);
    softcap_forward_ref(yr, n, cap);
    TEST_CLOSE(util_close_ratio(y, yr, n, 1e-5, 1e-6), 1, "softcap fwd");
    memcpy(da, g, n * sizeof(float));
    memcpy(dar, g, n * sizeof(float));
    softcap_backward(da, y, n, cap);
    softcap_backward_ref(dar, yr, n, cap);
    TEST_CLOSE(util_close_ratio(da, dar, n, 1e-5, 1e-6), 1, "softcap bwd");
    c.kind = 2;
    c.cap = cap;
    TEST_CLOSE(fd_err(ew_loss, &c, c.a, dar, n, 16), 1e-3, "softcap ref bwd vs finite differences");

    /* ops_expf against libm over a wide range */
    double worst = 0;
    for (int i = 0; i <= 20000; i++) {
        float xv = -87.0f + 175.0f * i / 20000.0f;
        worst = fmax(worst, fabs(ops_expf(xv) - exp(xv)) / exp(xv));
    }
    TEST_CLOSE(worst, 5e-7, "ops_expf relative error on [-87, 88]");
    TEST_CHECK(ops_expf(-1e30f) == 0.0f && ops_expf(-INFINITY) == 0.0f && ops_expf(0) == 1.0f,
               "ops_expf: 0 far below, exp(0) == 1");
    worst = 0;
    for (int i = 0; i <= 20000; i++) {
        float xv = -10.0f + 20.0f * i / 20000.0f;
        worst = fmax(worst, fabs(ops_tanhf(xv) - tanh(xv)));
    }
    TEST_CLOSE(worst, 5e-7, "ops_tanhf absolute error on [-10, 10]");
    TEST_CHECK(fabs(ops_tanhf(1e-5f) - 1e-5) < 1e-11, "ops_tanhf keeps relative precision near 0");

    util_free(c.a); util_free(c.b); util_free(c.wt); util_free(gi);
    util_free(a); util_free(b); util_free(g); util_free(y); util_free(yr);
    util_free(da); util_free(dar); util_free(db); util_free(dbr);
}

/* ---- RoPE ------------------------------------------------------------------------------------- */

typedef struct { double *x, *wt; const int32_t *pos; int N, H, dh, rot; double base; } rope_ctx;

static double rope_loss(void *vc) {
    rope_ctx *c = vc;
    double L = 0;
    int half = c->rot / 2;
    for (int n = 0; n < c->N; n++)
        for (int h = 0; h < c->H; h++) {
            const double *x = c->x + ((size_t)n * c->H + h) * c->dh;
            const double *w = c->wt + ((size_t)n * c->H + h) * c->dh;
            for (int d = 0; d < c->dh; d++) {
                double y = x[d];
                if (d < c->rot) {
                    int j = d < half ? d : d - half;
                    double th = c->pos[n] * pow(c->base, -2.0 * j / c->rot);
                    y = d < half ? x[d] * cos(th) - x[d + half] * sin(th)
                                 : x[d] * cos(th) + x[d - half] * sin(th);
                }
                L += w[d] * y;
            }
        }
    return L;
}

static void test_rope(int N, int H, int dh, int rot) {
    char what[128];
    size_t n = (size_t)N * H * dh;
    int32_t *pos = malloc(sizeof(int32_t) * N);
    int starts[] = {N / 2};
    make_pos(pos, N, starts, 1);
    pos[N - 1] = 5000; /* a large angle too */
    float base = 10000.0f;
    float *x = randf(n, 1), *y = copyf(x, n), *yr = copyf(x, n);
    rope_forward(y, pos, N, H, dh, rot, base);
    rope_forward_ref(yr, pos, N, H, dh, rot, base);
    snprintf(what, sizeof what, "rope fwd N%d H%d dh%d rot%d", N, H, dh, rot);
    TEST_CLOSE(util_max_rel_err(y, yr, n), 1e-6, what);
    int pass = 1;
    for (int i = 0; i < N * H; i++)
        for (int d = rot; d < dh; d++) pass &= y[(size_t)i * dh + d] == x[(size_t)i * dh + d];
    TEST_CHECK(pass, "rope: dims >= rot pass through");
    float *g = randf(n, 1), *dx = copyf(g, n), *dxr = copyf(g, n);
    rope_backward(dx, pos, N, H, dh, rot, base);
    rope_backward_ref(dxr, pos, N, H, dh, rot, base);
    TEST_CLOSE(util_max_rel_err(dx, dxr, n), 1e-6, "rope bwd vs ref");
    rope_ctx c = {tod(x, n), tod(g, n), pos, N, H, dh, rot, base};
    TEST_CLOSE(fd_err(rope_loss, &c, c.x, dxr, n, 16), 1e-3, "rope ref bwd vs finite differences");
    rope_backward(y, pos, N, H, dh, rot, base); /* inverse rotation restores x */
    TEST_CLOSE(util_max_rel_err(y, x, n), 1e-5, "rope bwd(fwd(x)) == x");
    util_free(c.x); util_free(c.wt);
    util_free(x); util_free(y); util_free(yr); util_free(g); util_free(dx); util_free(dxr);
    free(pos);
}

/* ---- cross-entropy ------------------------------------------------------------------------------ */

typedef struct { double *l, *wt; const int32_t *tg; int N, V; } xent_ctx;

static double xent_loss(void *vc) {
    xent_ctx *c = vc;
    double L = 0;
    for (int n = 0; n < c->N; n++) {
        if (c->tg[n] < 0) continue;
        const double *l = c->l + (size_t)n * c->V;
        double m = l[0], s = 0;
        for (int v = 1; v < c->V; v++) m = fmax(m, l[v]);
        for (int v = 0; v < c->V; v++) s += exp(l[v] - m);
        L += c->wt[n] * (m + log(s) - l[c->tg[n]]);
    }
    return L;
}

/* A target >= V is never read (the logits buffer is exactly N*V: under ASan
 * a read past the last row is caught): its loss and gradient row are NaN and
 * the kernels count it. */
static void test_xent_range(void) {
    const int N = 4, V = 7;
    float *l = malloc(sizeof(float) * N * V), *loss = malloc(sizeof(float) * N), *d = malloc(sizeof(float) * N * V);
    float dl[4] = {1, 1, 1, 1};
    for (int i = 0; i < N * V; i++) l[i] = (float)(i % 5) * 0.5f;
    int32_t tg[4] = {2, V, -1, 2147483647};
    for (int fast = 0; fast < 2; fast++) {
        const char *k = fast ? "fast" : "ref";
        int bad = fast ? xent_forward(loss, l, tg, N, V) : xent_forward_ref(loss, l, tg, N, V);
        TEST_CHECK(bad == 2, "xent %s forward counts 2 out-of-range targets (got %d)", k, bad);
        TEST_CHECK(isfinite(loss[0]) && isnan(loss[1]) && loss[2] == 0.0f && isnan(loss[3]),
                   "xent %s: target >= V gives NaN loss (%g %g %g %g)", k, loss[0], loss[1], loss[2], loss[3]);
        bad = fast ? xent_backward(d, l, tg, dl, N, V) : xent_backward_ref(d, l, tg, dl, N, V);
        int rows = 1;
        for (int v = 0; v < V; v++) rows &= isnan(d[V + v]) && isnan(d[3 * V + v]) && d[2 * V + v] == 0.0f && isfinite(d[v]);
        TEST_CHECK(bad == 2 && rows, "xent %s backward: NaN rows for targets >= V, counted (%d)", k, bad);
    }
    free(l); free(loss); free(d);
}

static void test_xent(int N, int V) {
    char what[128];
    size_t n = (size_t)N * V;
    float *l = randf(n, 3);
    l[5] = 40.0f; /* a dominant logit */
    int32_t *tg = malloc(sizeof(int32_t) * N);
    for (int i = 0; i < N; i++) tg[i] = (i % 4 == 3) ? -1 : (int32_t)rng_below(&R, V);
    tg[0] = 5;
    float *loss = randf(N, 1), *lossr = randf(N, 1), *dl = randf(N, 1);
    for (int i = 0; i < N; i++) dl[i] = 0.5f + (float)rng_uniform(&R);
    xent_forward(loss, l, tg, N, V);
    xent_forward_ref(lossr, l, tg, N, V);
    snprintf(what, sizeof what, "xent fwd N%d V%d", N, V);
    TEST_CLOSE(util_close_ratio(loss, lossr, N, 1e-5, 1e-6), 1, what);
    int masked_ok = 1;
    for (int i = 0; i < N; i++) if (tg[i] < 0) masked_ok &= loss[i] == 0.0f && lossr[i] == 0.0f;
    TEST_CHECK(masked_ok, "xent: masked targets give loss 0");
    float *d = randf(n, 1), *dr = randf(n, 1);
    xent_backward(d, l, tg, dl, N, V);
    xent_backward_ref(dr, l, tg, dl, N, V);
    snprintf(what, sizeof what, "xent bwd N%d V%d", N, V);
    TEST_CLOSE(util_max_rel_err(d, dr, n), 1e-5, what);
    masked_ok = 1;
    for (int i = 0; i < N; i++)
        if (tg[i] < 0) for (int v = 0; v < V; v++) masked_ok &= d[(size_t)i * V + v] == 0.0f;
    TEST_CHECK(masked_ok, "xent: masked rows get zero gradient");
    float *li = copyf(l, n); /* in place */
    xent_backward(li, li, tg, dl, N, V);
    TEST_CLOSE(util_max_rel_err(li, dr, n), 1e-5, "xent bwd in place");
    xent_ctx c = {tod(l, n), tod(dl, N), tg, N, V};
    TEST_CLOSE(fd_err(xent_loss, &c, c.l, dr, n, 16), 1e-3, "xent ref bwd vs finite differences");
    util_free(c.l); util_free(c.wt);
    util_free(l); util_free(loss); util_free(lossr); util_free(dl); util_free(d); util_free(dr);
    util_free(li);
    free(tg);
}


/* ---- strided GEMM (the RG-LRU gates) through the cpu backend -------------------------
 * backend_cpu.gemm_strided / gemm_strided_bf16 against gemm_ref block by block
 * (bf16: the reference on the rounded weights), in each of its schedules: one
 * block at a time with the team inside (count odd and below 4 threads' worth),
 * one block per thread (blocks below 2^21 flops; blocks of 2^21 or more whose
 * count divides over the team: the decode gates at B=64), and serial for
 * tiny work. The forward form (in . w[j]) and both backward forms (in^T . dout,
 * dout . w[j]^T) on rows/blocks that are not multiples of the SIMD width. */
static void test_strided(int tA, int tB, int M, int bw, int count) {
    const int C = bw * count; /* A, C: (rows, C) with the block j at column j*bw */
    /* forward / din: op(A) (M,bw) from an (M,C) matrix; dW: op(A) = in^T (bw,M)
     * from an (M,C) matrix (M is then the number of rows summed over) */
    const int Mo = tA ? bw : M, No = bw, Ko = tA ? M : bw;
    const size_t na = (size_t)M * C, nw = (size_t)count * bw * bw;
    float *A = randf(na, 1), *W = randf(nw, 0.1), *Bt = randf(na, 1);
    const float *Bop = tA ? Bt : W; /* dW: B = dout (N,C); else the weights */
    const int ldb = tA ? C : bw;
    const long long sB = tA ? bw : (long long)bw * bw;
    const int ldc = tA ? bw : C;
    const long long sC = tA ? (long long)bw * bw : bw;
    const size_t nc = tA ? nw : (size_t)M * C;
    float *Cg = randf(nc, 1), *Cr = copyf(Cg, nc), *C16 = copyf(Cg, nc), *C16r = copyf(Cg, nc);
    TEST_CHECK(backend_cpu.gemm_strided(tA, tB, Mo, No, Ko, 1.0f, A, C, bw, Bop, ldb, sB, 1.0f, Cg, ldc, sC, count) == 0,
               "gemm_strided runs");
    for (int j = 0; j < count; j++)
        gemm_ref(tA, tB, Mo, No, Ko, 1.0f, A + (size_t)j * bw, C, Bop + j * sB, ldb, 1.0f, Cr + j * sC, ldc);
    char what[128];
    snprintf(what, sizeof what, "gemm_strided tA%d tB%d M%d bw%d x%d vs gemm_ref", tA, tB, M, bw, count);
    TEST_CLOSE(util_close_ratio(Cg, Cr, nc, 1e-4, 1e-4), 1, what);
    if (!tA) { /* bf16 weights: inference only (the forward form) */
        uint16_t *W16 = util_alloc(nw * sizeof(uint16_t));
        bf16_from_f32(W16, W, nw);
        TEST_CHECK(backend_cpu.gemm_strided_bf16(0, tB, Mo, No, Ko, 1.0f, A, C, bw, W16, bw, sB, 1.0f, C16, ldc, sC,
                                                 count) == 0, "gemm_strided_bf16 runs");
        for (int j = 0; j < count; j++)
            gemm_bf16_ref(0, tB, Mo, No, Ko, 1.0f, A + (size_t)j * bw, C, W16 + j * sB, bw, 1.0f, C16r + j * sC, ldc);
        snprintf(what, sizeof what, "gemm_strided_bf16 tB%d M%d bw%d x%d vs gemm_bf16_ref", tB, M, bw, count);
        /* dp rounds the activations to bf16 as well: 2^-7 of the scale */
        TEST_CLOSE(util_close_ratio(C16, C16r, nc, 4e-3, 4e-3 * sqrt((double)bw)), 1, what);
        util_free(W16);
    }
    util_free(A); util_free(W); util_free(Bt); util_free(Cg); util_free(Cr); util_free(C16); util_free(C16r);
}

/* ---- the fused RG-LRU at few steps (decode) ------------------------------------------
 * Below 8 steps per sequence the fused variant runs channel tiles over every
 * sequence (scan.c): against rglru_forward_ref at B=5, C=1030 (several tiles,
 * a partial last one), T = 1 with the state updated in place (h_last aliasing
 * h0, as the decode step calls it) and T = 3 with a reset at t = 1 in one
 * sequence; B = 1 over 2051 channels (a decode step at batch 1: tiles over the
 * team) and 1000 (one thread). */
static void test_rglru_few_steps(int B, int T, int C) {
    const size_t n = (size_t)B * T * C, bc = (size_t)B * C;
    float *x = randf(n, 1), *gx = randf(n, 1), *ga = randf(n, 1), *ap = randf(C, 1), *h0 = randf(bc, 1);
    float *y = randf(n, 1), *yr = randf(n, 1), *h = copyf(h0, bc), *hr = randf(bc, 1);
    int32_t *pos = util_alloc((size_t)B * T * sizeof(int32_t));
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) pos[(size_t)b * T + t] = (b == 2 && t >= 1) ? t - 1 : 7 + t;
    const rglru_variant *v = rglru_find("fused");
    TEST_CHECK(v != NULL, "rglru variant fused exists");
    if (!v) return;
    rglru_forward_ref(yr, hr, x, gx, ga, ap, pos, h0, NULL, B, T, C);
    v->forward(y, h, x, gx, ga, ap, pos, h, NULL, B, T, C);
    char what[96];
    snprintf(what, sizeof what, "rglru fused B=%d T=%d C=%d y vs ref", B, T, C);
    TEST_CLOSE(util_close_ratio(y, yr, n, 1e-5, 1e-6), 1, what);
    snprintf(what, sizeof what, "rglru fused B=%d T=%d C=%d state (in place) vs ref", B, T, C);
    TEST_CLOSE(util_close_ratio(h, hr, bc, 1e-5, 1e-6), 1, what);
    util_free(x); util_free(gx); util_free(ga); util_free(ap); util_free(h0);
    util_free(y); util_free(yr); util_free(h); util_free(hr); util_free(pos);
}

/* ---- GeGLU with the up-projection biases ---------------------------------------------------
 * geglu_bias_forward against geglu_bias_forward_ref, and the ref against
 * geglu_forward_ref on inputs biased here (the same float sums: equal); save
 * = 1 leaves a + ba, b + bb in a and b, save = 0 leaves a and b unchanged. */
static void test_geglu_bias(int N, int M) {
    const size_t n = (size_t)N * M;
    float *a = randf(n, 2.5), *b = randf(n, 1), *ba = randf(M, 1), *bb = randf(M, 1);
    float *a1 = copyf(a, n), *b1 = copyf(b, n), *a2 = copyf(a, n), *b2 = copyf(b, n);
    float *y = randf(n, 1), *yr = randf(n, 1), *yp = randf(n, 1);
    char what[96];
    for (int save = 0; save < 2; save++) {
        memcpy(a1, a, n * sizeof(float)); memcpy(b1, b, n * sizeof(float));
        memcpy(a2, a, n * sizeof(float)); memcpy(b2, b, n * sizeof(float));
        geglu_bias_forward(y, a1, b1, ba, bb, N, M, save);
        geglu_bias_forward_ref(yr, a2, b2, ba, bb, N, M, save);
        snprintf(what, sizeof what, "geglu_bias N=%d M=%d save=%d vs ref", N, M, save);
        TEST_CLOSE(util_close_ratio(y, yr, n, 1e-5, 1e-6), 1, what);
        int same = 1, ref_same = 1;
        for (size_t i = 0; i < n; i++) {
            float u = save ? a[i] + ba[i % M] : a[i], v = save ? b[i] + bb[i % M] : b[i];
            same &= a1[i] == u && b1[i] == v;
            ref_same &= a2[i] == u && b2[i] == v;
        }
        TEST_CHECK(same && ref_same, "geglu_bias N=%d M=%d save=%d: a, b %s", N, M, save,
                   save ? "hold the biased pre-activations" : "unchanged");
    }
    for (size_t i = 0; i < n; i++) { a1[i] = a[i] + ba[i % M]; b1[i] = b[i] + bb[i % M]; }
    geglu_forward_ref(yp, a1, b1, n);
    TEST_CHECK(!memcmp(yp, yr, n * sizeof(float)), "geglu_bias_ref N=%d M=%d == geglu_ref on biased inputs", N, M);
    geglu_forward(yp, a1, b1, n); /* whatever the work split, the fast kernel's own values */
    TEST_CHECK(!memcmp(yp, y, n * sizeof(float)), "geglu_bias N=%d M=%d == geglu_forward on biased inputs", N, M);
    util_free(a); util_free(b); util_free(ba); util_free(bb); util_free(a1); util_free(b1);
    util_free(a2); util_free(b2); util_free(y); util_free(yr); util_free(yp);
}

/* util_try_alloc: every size 64-byte aligned and zeroed to its last byte,
 * a size over what is available refused naming it. */
static void test_alloc(void) {
    size_t sizes[] = {1, 63, 4097, ((size_t)32 << 20) + 12345};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *p = util_try_alloc(n);
        TEST_CHECK(p != NULL, "alloc %zu bytes", n);
        if (!p) continue;
        int zero = 1;
        for (size_t k = 0; k < n; k += n > 100000 ? 4093 : 1) zero &= p[k] == 0;
        zero &= p[n - 1] == 0;
        TEST_CHECK(((uintptr_t)p % 64) == 0 && zero, "alloc %zu: 64-byte aligned and zeroed", n);
        p[n - 1] = 1; /* writable to its last byte */
        util_free(p);
    }
    void *q = util_try_alloc((size_t)1 << 62);
    TEST_CHECK(q == NULL && strstr(util_last_error(), "GiB"), "an impossible size is refused naming it (%s)", util_last_error());
}

int main(void) {
    rng_seed(&R, 1234);
    test_alloc();
    test_conv1d(2, 37, 19, 4);
    test_conv1d(3, 61, 45, 4);
    test_conv1d(2, 13, 33, 2);
    test_conv1d(1, 5, 7, 4); /* T shorter than a chunk of channels, resets at 1,2,3 */
    test_conv1d(4, 97, 1030, 4); /* enough work for the threaded paths */
    test_rmsnorm(7, 19);
    test_rmsnorm(37, 45);
    test_rmsnorm(301, 1030);
    test_elementwise(1001);
    test_elementwise(100003);
    test_rope(37, 3, 10, 4); /* rot must be even (rotate-half) */
    test_rope(61, 3, 6, 2);
    test_rope(61, 3, 12, 6); /* rot = dh/2 */
    test_rope(29, 2, 12, 6);
    test_rope(300, 4, 128, 64);
    test_xent_range();
    test_xent(37, 19);
    test_xent(61, 1001);
    test_xent(257, 517);
    test_geglu_bias(37, 45);
    test_geglu_bias(301, 1030); /* threaded */
    test_geglu_bias(1, 4609);   /* decode at B=1: column runs of one row over the team */
    test_geglu_bias(3, 1030);   /* a few rows: column runs */
    test_geglu_bias(1, 300);    /* too short for column runs: one thread */
    test_rglru_few_steps(5, 1, 1030);
    test_rglru_few_steps(5, 3, 1030);
    test_rglru_few_steps(1, 1, 2051); /* decode at B=1: channel tiles over the team */
    test_rglru_few_steps(1, 1, 1000); /* below the channel count for a team: one thread */
    test_rglru_few_steps(2, 3, 1031);
    test_strided(0, 0, 64, 128, 16); /* the decode gates at B=64: 2^21 flops per block, one per thread */
    test_strided(0, 0, 67, 131, 3);  /* 2.3M flops per block, 3 blocks: one at a time, the team inside each */
    test_strided(0, 0, 7, 33, 5);    /* tiny: serial */
    test_strided(0, 0, 1, 128, 16);  /* the decode gates at B=1: memory bound (1 MB fp32, 0.5 MB bf16), one per thread */
    test_strided(0, 0, 3, 97, 7);    /* a few rows, odd blocks above the bytes threshold: one per thread */
    test_strided(0, 0, 1, 40, 3);    /* a few rows, below it: serial */
    test_strided(0, 0, 29, 96, 6);   /* below 2^21 per block, together above: one per thread */
    test_strided(0, 1, 70, 130, 4);  /* din = dout . w^T */
    test_strided(1, 0, 301, 130, 4); /* dW = in^T . dout over 301 rows */
    return test_summary();
}
