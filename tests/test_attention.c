/* test_attention.c — MQA attention (attention.h): every variant against
 * "ref" on odd shapes (T prime, dh not a multiple of the SIMD width, H = 3,
 * document resets mid-sequence, window 0 / small / larger than T / global),
 * forward and backward; ref's backward against central finite differences
 * of a double-precision forward written here; decode against the last row
 * of a prefill (growing cache, ring buffer, permuted slots).
 *
 * Run: make build/tests/test_attention && build/tests/test_attention
 * (GRIFFIN_TEST_VERBOSE=1 prints every error figure.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "test.h"
#include "util.h"
#include "fd.h"

static rng_t R;

static float *randf(size_t n, double sd) {
    float *p = util_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (float)(sd * rng_normal(&R));
    return p;
}
static double *tod(const float *a, size_t n) {
    double *p = util_alloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) p[i] = a[i];
    return p;
}

typedef struct {
    int B, T, H, dh, window;
    int resets[4]; /* document starts in the odd sequences (0 = unused) */
} shape;

static void make_pos(int32_t *pos, const shape *s) {
    for (int b = 0; b < s->B; b++) {
        int p = 0;
        for (int t = 0; t < s->T; t++) {
            int reset = t == 0;
            if (b % 2 == 1)
                for (int i = 0; i < 4; i++) reset |= s->resets[i] > 0 && s->resets[i] == t;
            p = reset ? 0 : p + 1;
            pos[(size_t)b * s->T + t] = p;
        }
    }
}

/* ---- double-precision forward, straight from the definition ------------------------ */

typedef struct {
    double *q, *k, *v, *wt;
    const int32_t *pos;
    int B, T, H, dh, window;
} attn_ctx;

static double attn_loss(void *vc) {
    attn_ctx *c = vc;
    int T = c->T, H = c->H, dh = c->dh;
    double L = 0, *sc = malloc(sizeof(double) * T);
    int *seg = malloc(sizeof(int) * T);
    for (int b = 0; b < c->B; b++) {
        int id = 0;
        for (int t = 0; t < T; t++) {
            id += c->pos[(size_t)b * T + t] == 0;
            seg[t] = id;
        }
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const double *qr = c->q + (((size_t)b * T + t) * H + h) * dh;
                double m = -INFINITY, sum = 0;
                for (int s = 0; s < T; s++) {
                    int vis = s <= t && seg[s] == seg[t] && (c->window < 0 || t - s <= c->window);
                    sc[s] = -INFINITY;
                    if (!vis) continue;
                    double d = 0;
                    for (int i = 0; i < dh; i++) d += qr[i] * c->k[((size_t)b * T + s) * dh + i];
                    sc[s] = d / sqrt((double)dh);
                    m = fmax(m, sc[s]);
                }
                for (int s = 0; s < T; s++) sum += exp(sc[s] - m);
                const double *w = c->wt + (((size_t)b * T + t) * H + h) * dh;
                for (int s = 0; s < T; s++) {
                    double p = exp(sc[s] - m) / sum;
                    if (p == 0) continue;
                    for (int i = 0; i < dh; i++) L += w[i] * p * c->v[((size_t)b * T + s) * dh + i];
                }
            }
    }
    free(sc);
    free(seg);
    return L;
}

/* Max over `probes` random entries of param: tests/fd.h. */
static double fd_err(attn_ctx *c, double *param, const float *grad, size_t n, int probes) {
    return fd_max_err(attn_loss, c, param, grad, n, probes, &R);
}

/* ---- prefill: variants vs ref, ref vs finite differences ------------------------------ */

/* Max abs error over max |ref|, the denominator floored at 1e-2: a gradient
 * that is exactly 0 in the reference (window 0: every dk row is
 * p (dP - D) with p = 1 and dP = D) comes out at rounding level (~1e-7 for
 * these O(1) inputs) from any kernel that forms dP and D in different orders. */
static double grad_err(const float *a, const float *b, size_t n) {
    double mb = 0;
    for (size_t i = 0; i < n; i++) mb = fmax(mb, fabs(b[i]));
    return util_max_rel_err(a, b, n) * fmax(mb, 1e-30) / fmax(mb, 1e-2);
}

static void test_prefill(const shape *s, int do_fd) {
    char what[160], tag[96];
    int B = s->B, T = s->T, H = s->H, dh = s->dh, W = s->window;
    snprintf(tag, sizeof tag, "B%d T%d H%d dh%d W%d", B, T, H, dh, W);
    size_t nq = (size_t)B * T * H * dh, nk = (size_t)B * T * dh, nl = (size_t)B * H * T;
    int32_t *pos = malloc(sizeof(int32_t) * B * T);
    make_pos(pos, s);
    float *q = randf(nq, 1), *k = randf(nk, 1), *v = randf(nk, 1), *dout = randf(nq, 1);
    float *out_r = randf(nq, 1), *lse_r = randf(nl, 1);
    float *dq_r = randf(nq, 1), *dk_r = randf(nk, 1), *dv_r = randf(nk, 1);
    const attn_variant *ref = attn_find("ref");
    ref->forward(out_r, lse_r, q, k, v, pos, B, T, H, dh, W);
    ref->backward(dq_r, dk_r, dv_r, dout, out_r, lse_r, q, k, v, pos, B, T, H, dh, W);

    for (const attn_variant *a = attn_variants; a->name; a++) {
        if (strcmp(a->name, "ref") == 0) continue;
        float *out = randf(nq, 1), *lse = randf(nl, 1), *out2 = randf(nq, 1);
        float *dq = randf(nq, 1), *dk = randf(nk, 1), *dv = randf(nk, 1);
        a->forward(out, lse, q, k, v, pos, B, T, H, dh, W);
        a->forward(out2, NULL, q, k, v, pos, B, T, H, dh, W);
        snprintf(what, sizeof what, "%s fwd out, lse  %s", a->name, tag);
        TEST_CLOSE(fmax(util_max_rel_err(out, out_r, nq), util_max_rel_err(lse, lse_r, nl)), 1e-5, what);
        TEST_CHECK(memcmp(out, out2, nq * sizeof(float)) == 0, "%s fwd with lse == NULL", a->name);
        a->backward(dq, dk, dv, dout, out_r, lse_r, q, k, v, pos, B, T, H, dh, W);
        snprintf(what, sizeof what, "%s bwd dq, dk, dv  %s", a->name, tag);
        TEST_CLOSE(fmax(grad_err(dq, dq_r, nq), fmax(grad_err(dk, dk_r, nk), grad_err(dv, dv_r, nk))),
                   1e-4, what);
        util_free(out); util_free(lse); util_free(out2); util_free(dq); util_free(dk); util_free(dv);
    }

    if (do_fd) {
        attn_ctx c = {tod(q, nq), tod(k, nk), tod(v, nk), tod(dout, nq), pos, B, T, H, dh, W};
        /* the ref forward against the double one: loss = sum dout * out */
        double Lf = 0;
        for (size_t i = 0; i < nq; i++) Lf += (double)dout[i] * out_r[i];
        double Ld = attn_loss(&c);
        snprintf(what, sizeof what, "ref fwd vs double forward  %s", tag);
        TEST_CLOSE(fabs(Lf - Ld) / fmax(1.0, fabs(Ld)), 1e-5, what);
        snprintf(what, sizeof what, "ref bwd vs finite differences  %s", tag);
        double e = fmax(fd_err(&c, c.q, dq_r, nq, 10),
                        fmax(fd_err(&c, c.k, dk_r, nk, 10), fd_err(&c, c.v, dv_r, nk, 10)));
        TEST_CLOSE(e, 1e-3, what);
        util_free(c.q); util_free(c.k); util_free(c.v); util_free(c.wt);
    }
    util_free(q); util_free(k); util_free(v); util_free(dout); util_free(out_r); util_free(lse_r);
    util_free(dq_r); util_free(dk_r); util_free(dv_r);
    free(pos);
}

/* flash's backward sums per-thread dQ partials in thread order and deals the
 * key tiles to threads in a fixed order: two runs give identical bits. */
static void test_flash_deterministic(int B, int T, int H, int dh, int W) {
    const attn_variant *a = attn_find("flash");
    TEST_CHECK(a != NULL, "flash variant exists");
    if (!a) return;
    size_t nq = (size_t)B * T * H * dh, nk = (size_t)B * T * dh;
    float *q = randf(nq, 1), *k = randf(nk, 1), *v = randf(nk, 1), *g = randf(nq, 1);
    float *o = randf(nq, 1), *lse = randf((size_t)B * H * T, 1);
    float *d1 = randf(nq + 2 * nk, 1), *d2 = randf(nq + 2 * nk, 1);
    a->forward(o, lse, q, k, v, NULL, B, T, H, dh, W);
    a->backward(d1, d1 + nq, d1 + nq + nk, g, o, lse, q, k, v, NULL, B, T, H, dh, W);
    a->backward(d2, d2 + nq, d2 + nq + nk, g, o, lse, q, k, v, NULL, B, T, H, dh, W);
    TEST_CHECK(memcmp(d1, d2, sizeof(float) * (nq + 2 * nk)) == 0,
               "flash backward bitwise repeatable B%d T%d H%d dh%d W%d", B, T, H, dh, W);
    util_free(q); util_free(k); util_free(v); util_free(g); util_free(o); util_free(lse);
    util_free(d1); util_free(d2);
}

/* ---- decode vs the last row of a prefill ------------------------------------------------------
 * Sequence b's cache holds the keys its last query sees, minus the query's
 * own (passed as knew/vnew). mode 0: growing cache in order; 1: ring buffer
 * of W slots, key p in slot p mod W; 2: ring buffer with slots permuted. */
static void test_decode_vs_prefill(int B, int T, int H, int dh, int W, int mode) {
    char what[160];
    size_t nq = (size_t)B * T * H * dh, nk = (size_t)B * T * dh;
    shape s = {B, T, H, dh, W, {T - 10, 0, 0, 0}}; /* odd sequences: last document of 9+1 keys */
    int32_t *pos = malloc(sizeof(int32_t) * B * T);
    make_pos(pos, &s);
    float *q = randf(nq, 1), *k = randf(nk, 1), *v = randf(nk, 1), *out = randf(nq, 1);
    attn_find("ref")->forward(out, NULL, q, k, v, pos, B, T, H, dh, W);
    int S = (mode == 0) ? T + 3 : W;
    float *kc = randf((size_t)B * S * dh, 1), *vc = randf((size_t)B * S * dh, 1); /* junk in unused slots */
    float *qd = randf((size_t)B * H * dh, 1), *kn = randf((size_t)B * dh, 1), *vn = randf((size_t)B * dh, 1);
    float *od = randf((size_t)B * H * dh, 1), *odr = randf((size_t)B * H * dh, 1);
    float *want = randf((size_t)B * H * dh, 1);
    int32_t *nvalid = malloc(sizeof(int32_t) * B);
    int *perm = malloc(sizeof(int) * S);
    for (int b = 0; b < B; b++) {
        int t = T - 1, start = t - pos[(size_t)b * T + t]; /* document start */
        if (W >= 0 && t - W > start) start = t - W;
        int n = t - start; /* cached keys: [start, t) */
        nvalid[b] = n;
        for (int i = 0; i < S; i++) perm[i] = i;
        if (mode == 2)
            for (int i = n - 1; i > 0; i--) {
                int j = (int)rng_below(&R, (uint32_t)(i + 1)), tmp = perm[i];
                perm[i] = perm[j];
                perm[j] = tmp;
            }
        for (int p = start; p < t; p++) {
            /* in order while fewer than S keys (the first n slots), else slot p mod S */
            int slot = (mode == 0 || n < S) ? perm[p - start] : perm[p % S];
            memcpy(kc + ((size_t)b * S + slot) * dh, k + ((size_t)b * T + p) * dh, sizeof(float) * dh);
            memcpy(vc + ((size_t)b * S + slot) * dh, v + ((size_t)b * T + p) * dh, sizeof(float) * dh);
        }
        memcpy(qd + (size_t)b * H * dh, q + ((size_t)b * T + t) * H * dh, sizeof(float) * H * dh);
        memcpy(kn + (size_t)b * dh, k + ((size_t)b * T + t) * dh, sizeof(float) * dh);
        memcpy(vn + (size_t)b * dh, v + ((size_t)b * T + t) * dh, sizeof(float) * dh);
        memcpy(want + (size_t)b * H * dh, out + ((size_t)b * T + t) * H * dh, sizeof(float) * H * dh);
    }
    attn_decode(od, qd, kc, vc, nvalid, kn, vn, B, H, dh, S);
    attn_decode_ref(odr, qd, kc, vc, nvalid, kn, vn, B, H, dh, S);
    static const char *mname[] = {"growing cache", "ring buffer", "ring buffer, permuted"};
    snprintf(what, sizeof what, "decode_ref vs prefill last row, %s T%d W%d", mname[mode], T, W);
    TEST_CLOSE(util_max_rel_err(odr, want, (size_t)B * H * dh), 1e-5, what);
    snprintf(what, sizeof what, "decode vs prefill last row, %s T%d W%d", mname[mode], T, W);
    TEST_CLOSE(util_max_rel_err(od, want, (size_t)B * H * dh), 1e-5, what);
    util_free(q); util_free(k); util_free(v); util_free(out); util_free(kc); util_free(vc);
    util_free(qd); util_free(kn); util_free(vn); util_free(od); util_free(odr); util_free(want);
    free(nvalid); free(perm); free(pos);
}

/* Fast decode vs decode_ref on a long cache (several key blocks), ragged nvalid. */
static void test_decode_random(int B, int H, int dh, int S) {
    char what[128];
    float *q = randf((size_t)B * H * dh, 1), *kc = randf((size_t)B * S * dh, 1);
    float *vc = randf((size_t)B * S * dh, 1), *kn = randf((size_t)B * dh, 1);
    float *vn = randf((size_t)B * dh, 1);
    float *o = randf((size_t)B * H * dh, 1), *orf = randf((size_t)B * H * dh, 1);
    int32_t *nvalid = malloc(sizeof(int32_t) * B);
    int be = B > 1 ? B - 1 : -1; /* the sequence with an empty cache */
    for (int b = 0; b < B; b++) nvalid[b] = b == be ? 0 : b == 0 ? S : (int32_t)rng_below(&R, S + 1);
    for (size_t i = 0; i < (size_t)B * H * dh; i++) q[i] *= 3; /* peaky softmax */
    attn_decode(o, q, kc, vc, nvalid, kn, vn, B, H, dh, S);
    attn_decode_ref(orf, q, kc, vc, nvalid, kn, vn, B, H, dh, S);
    snprintf(what, sizeof what, "decode vs decode_ref B%d H%d dh%d S%d", B, H, dh, S);
    TEST_CLOSE(util_max_rel_err(o, orf, (size_t)B * H * dh), 1e-5, what);
    /* nvalid == 0: the output is the new token's value */
    if (be >= 0) {
        int ok = 1;
        for (int h = 0; h < H; h++)
            for (int d = 0; d < dh; d++)
                ok &= fabsf(o[((size_t)be * H + h) * dh + d] - vn[(size_t)be * dh + d]) < 1e-6f;
        TEST_CHECK(ok, "decode with an empty cache returns vnew");
    }
    util_free(q); util_free(kc); util_free(vc); util_free(kn); util_free(vn); util_free(o);
    util_free(orf);
    free(nvalid);
}

int main(void) {
    rng_seed(&R, 4321);
    TEST_CHECK(attn_find("ref") && attn_find("banded") && attn_find("tiled") && attn_find("flash"),
               "variants by name");
    TEST_CHECK(attn_find(ATTN_DEFAULT) != NULL, "default variant exists");
    TEST_CHECK(attn_find("nope") == NULL && attn_find(NULL) == NULL, "unknown name gives NULL");

    static const shape small[] = {
        {2, 37, 3, 6, 5, {10, 11, 25, 0}},    /* small window, resets incl. a 1-token doc */
        {1, 61, 3, 10, 0, {0}},               /* window 0: each token sees itself */
        {2, 61, 3, 10, -1, {17, 40, 0, 0}},   /* global, resets */
        {2, 37, 3, 6, 100, {20, 0, 0, 0}},    /* T < window */
        {2, 23, 1, 5, 3, {1, 2, 3, 22}},      /* resets at the very start and end */
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) test_prefill(&small[i], 1);

    static const shape big[] = {
        {1, 211, 4, 19, 70, {0}},             /* T > window, several tiles */
        {2, 131, 1, 16, -1, {64, 100, 0, 0}}, /* global, H = 1: 64 queries per block */
        {1, 29, 33, 8, 7, {0}},               /* H > TILE_ROWS / 2: one query per block */
        {2, 300, 2, 64, 64, {130, 131, 0, 0}},/* window equal to the tile width */
        {1, 257, 3, 128, 100, {0}},           /* dh = 128 */
        /* flash's edges: T = 1; one key past a tile; dh > 64 and not a multiple of
         * 16 (masked vector tail); H with no common factor with the 6-row micro
         * tile; H > FL_ROWS; a window larger than T; the paper's dh with 12 heads */
        {1, 1, 3, 7, -1, {0}},
        {2, 1, 2, 16, 0, {0}},
        {2, 65, 5, 100, 64, {33, 0, 0, 0}},
        {1, 150, 7, 20, 1000, {70, 0, 0, 0}},
        {1, 20, 70, 8, -1, {0}},
        {2, 200, 12, 128, -1, {129, 0, 0, 0}},
        {1, 333, 2, 128, 97, {0}},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) test_prefill(&big[i], 0);
    test_flash_deterministic(3, 300, 2, 64, -1);
    test_flash_deterministic(1, 257, 12, 32, 100);

    test_decode_vs_prefill(2, 37, 3, 10, -1, 0);
    test_decode_vs_prefill(2, 37, 3, 10, 8, 1);
    test_decode_vs_prefill(2, 37, 3, 10, 8, 2);
    test_decode_vs_prefill(2, 61, 3, 6, 100, 1);  /* ring not yet full */
    test_decode_vs_prefill(2, 61, 3, 6, 100, 2);
    test_decode_vs_prefill(1, 97, 5, 19, 30, 2);
    test_decode_random(4, 3, 10, 300);
    test_decode_random(1, 8, 128, 1024);
    test_decode_random(2, 16, 64, 777);
    test_decode_random(1, 3, 7, 1);
    return test_summary();
}
