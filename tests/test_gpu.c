/* test_gpu.c — the CUDA backend against the CPU references: every GPU
 * kernel variant vs its CPU `_ref` on odd shapes (T prime, C not a multiple
 * of 32, document resets mid-sequence, T < W and T > W). The model on the
 * GPU (one model over the backend table) is tested in tests/test_backend.c;
 * here: graph decode == non-graph decode == cpu decode for every family,
 * and bf16 weights on cuda (cuBLAS bf16, fp32 accumulation) against the
 * cpu's bf16 path.
 *
 *   make build/tests/test_gpu && build/tests/test_gpu
 *   GRIFFIN_TEST_VERBOSE=1 build/tests/test_gpu     (every error figure)
 *
 * Without a device (or in a build without CUDA) it prints "SKIP: <why>"
 * and "0 passed, 0 failed, N skipped", exit 0: never a silent pass.
 * Plain C through kernels/gpu.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "config.h"
#include "bf16.h"
#include "gpu.h"
#include "matmul.h"
#include "model.h"
#include "ops.h"
#include "optim.h"
#include "scan.h"
#include "test.h"
#include "util.h"

#define N_GROUPS 11 /* test groups below, reported as skipped without a device */

static rng_t g_rng;

static float *rnd(size_t n, float scale) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    CHECK_ALLOC(p);
    for (size_t i = 0; i < n; i++) p[i] = (float)(scale * (2.0 * rng_uniform(&g_rng) - 1.0));
    return p;
}

static float *up(const float *h, size_t n) {
    float *d = gpu_upload_floats(h, n);
    if (!d) {
        fprintf(stderr, "gpu upload failed: %s\n", util_last_error());
        exit(1);
    }
    return d;
}

static int32_t *upi(const int32_t *h, size_t n) {
    int32_t *d = gpu_upload_ints(h, n);
    if (!d) {
        fprintf(stderr, "gpu upload failed: %s\n", util_last_error());
        exit(1);
    }
    return d;
}

static float *down(const float *d, size_t n) {
    float *h = malloc((n ? n : 1) * sizeof(float));
    CHECK_ALLOC(h);
    if (gpu_download(h, d, n * sizeof(float)) != 0) {
        fprintf(stderr, "gpu download failed: %s\n", util_last_error());
        exit(1);
    }
    return h;
}

static double err_dev(const float *d, const float *ref, size_t n) {
    float *h = down(d, n);
    double e = util_max_rel_err(h, ref, n);
    free(h);
    return e;
}

#define OK(call) TEST_CHECK((call) == 0, "%s: %s", #call, util_last_error())

/* Segment positions with document starts at t = 0 and, when reset, mid-sequence. */
static int32_t *make_pos(int B, int T, int resets) {
    int32_t *pos = malloc(sizeof(int32_t) * (size_t)B * (T ? T : 1));
    CHECK_ALLOC(pos);
    for (int b = 0; b < B; b++) {
        int p = 0, cut = resets ? 1 + (int)rng_below(&g_rng, (uint32_t)(T > 2 ? T - 1 : 1)) : -1;
        for (int t = 0; t < T; t++) {
            if (t == cut) p = 0;
            pos[(size_t)b * T + t] = p++;
        }
        if (resets && b == 1 && T > 8) pos[(size_t)b * T + 5] = 0; /* a second start */
    }
    return pos;
}

/* ---- GEMM ---------------------------------------------------------------------------- */

static void test_gemm(void) {
    const int M = 37, N = 29, K = 53;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int bi = 0; bi < 2; bi++) {
                float beta = bi ? 0.5f : 0.0f;
                int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
                size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
                float *A = rnd(na, 1), *B = rnd(nb, 1), *C = rnd(nc, 1), *want = malloc(nc * 4);
                memcpy(want, C, nc * 4);
                gemm_ref(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, want, ldc);
                float *dA = up(A, na), *dB = up(B, nb), *dC = up(C, nc), *dC2 = up(C, nc);
                OK(gpu_gemm(ta, tb, M, N, K, 0.75f, dA, lda, dB, ldb, beta, dC, ldc));
                OK(gpu_gemm_ref(ta, tb, M, N, K, 0.75f, dA, lda, dB, ldb, beta, dC2, ldc));
                char what[96];
                snprintf(what, sizeof what, "gemm cublas tA=%d tB=%d beta=%.1f", ta, tb, beta);
                TEST_CLOSE(err_dev(dC, want, nc), 1e-5, what);
                snprintf(what, sizeof what, "gemm ref tA=%d tB=%d beta=%.1f", ta, tb, beta);
                TEST_CLOSE(err_dev(dC2, want, nc), 1e-5, what);
                gpu_free(dA); gpu_free(dB); gpu_free(dC); gpu_free(dC2);
                free(A); free(B); free(C); free(want);
            }
    /* strided: the block-diagonal gate of the model */
    const int Nr = 19, nbk = 3, bw = 7, Cc = nbk * bw;
    float *in = rnd((size_t)Nr * Cc, 1), *w = rnd((size_t)nbk * bw * bw, 1), *want = calloc((size_t)Nr * Cc, 4);
    for (int j = 0; j < nbk; j++)
        gemm_ref(0, 0, Nr, bw, bw, 1.0f, in + j * bw, Cc, w + (size_t)j * bw * bw, bw, 0.0f, want + j * bw, Cc);
    float *din = up(in, (size_t)Nr * Cc), *dw = up(w, (size_t)nbk * bw * bw), *dout = gpu_alloc((size_t)Nr * Cc * 4);
    OK(gpu_gemm_strided(0, 0, Nr, bw, bw, 1.0f, din, Cc, bw, dw, bw, (long long)bw * bw, 0.0f, dout, Cc, bw, nbk));
    TEST_CLOSE(err_dev(dout, want, (size_t)Nr * Cc), 1e-5, "gemm strided (block-diagonal)");
    gpu_free(din); gpu_free(dw); gpu_free(dout);
    free(in); free(w); free(want);
}

/* bf16 weights: cuBLAS bf16 (A rounded, fp32 accumulation) and the naive
 * kernel against the CPU oracle gemm_bf16_ref on the same bf16 weights:
 * ref 1e-5; cuBLAS 2^-7 of max|C| (A rounded to bf16: u = 2^-8 per term). */
static void test_gemm_bf16(void) {
    const int M = 37, N = 29, K = 53;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            float beta = (ta ^ tb) ? 0.5f : 0.0f;
            int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
            size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
            float *A = rnd(na, 1), *Bf = rnd(nb, 1), *C = rnd(nc, 1), *want = malloc(nc * 4);
            uint16_t *B = malloc(nb * 2);
            CHECK_ALLOC(want);
            CHECK_ALLOC(B);
            bf16_from_f32(B, Bf, nb);
            memcpy(want, C, nc * 4);
            gemm_bf16_ref(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, beta, want, ldc);
            float *dA = up(A, na), *dC = up(C, nc), *dC2 = up(C, nc);
            uint16_t *dB = gpu_alloc(nb * 2);
            OK(gpu_upload(dB, B, nb * 2));
            OK(gpu_gemm_bf16(ta, tb, M, N, K, 0.75f, dA, lda, dB, ldb, beta, dC, ldc));
            OK(gpu_gemm_bf16_ref(ta, tb, M, N, K, 0.75f, dA, lda, dB, ldb, beta, dC2, ldc));
            char what[96];
            snprintf(what, sizeof what, "gemm bf16 cublas tA=%d tB=%d beta=%.1f", ta, tb, beta);
            TEST_CLOSE(err_dev(dC, want, nc), 1.0 / 128, what);
            snprintf(what, sizeof what, "gemm bf16 ref tA=%d tB=%d beta=%.1f", ta, tb, beta);
            TEST_CLOSE(err_dev(dC2, want, nc), 1e-5, what);
            gpu_free(dA); gpu_free(dB); gpu_free(dC); gpu_free(dC2);
            free(A); free(Bf); free(B); free(C); free(want);
        }
}

/* ---- RG-LRU ---------------------------------------------------------------------------- */

static void scan_case(const gpu_rglru_variant *v, int B, int T, int C, int resets, int with_h0, int chunk) {
    size_t n = (size_t)B * T * C;
    float *x = rnd(n, 1), *gx = rnd(n, 2), *ga = rnd(n, 2), *ap = rnd((size_t)C, 1), *h0 = rnd((size_t)B * C, 1);
    float *dy = rnd(n, 1), *dap0 = rnd((size_t)C, 1);
    for (int c = 0; c < C; c++) ap[c] = ap[c] * 2.0f + 0.5f;
    int32_t *pos = make_pos(B, T, resets);
    float *y = malloc(n * 4 + 4), *hl = malloc((size_t)B * C * 4 + 4);
    rglru_forward_ref(y, hl, x, gx, ga, ap, pos, with_h0 ? h0 : NULL, NULL, B, T, C);
    float *dx = malloc(n * 4 + 4), *dgx = malloc(n * 4 + 4), *dga = malloc(n * 4 + 4), *dap = malloc((size_t)C * 4);
    memcpy(dap, dap0, (size_t)C * 4);
    rglru_backward_ref(dx, dgx, dga, dap, dy, y, x, gx, ga, ap, pos, with_h0 ? h0 : NULL, NULL, B, T, C);

    float *d_x = up(x, n), *d_gx = up(gx, n), *d_ga = up(ga, n), *d_ap = up(ap, (size_t)C), *d_h0 = up(h0, (size_t)B * C);
    float *d_dy = up(dy, n), *d_dap = up(dap0, (size_t)C);
    int32_t *d_pos = upi(pos, (size_t)B * T);
    float *d_y = gpu_alloc(n * 4), *d_hl = gpu_alloc((size_t)B * C * 4);
    float *d_dx = gpu_alloc(n * 4), *d_dgx = gpu_alloc(n * 4), *d_dga = gpu_alloc(n * 4);
    gpu_scan_set_chunk(chunk);
    char what[128];
    snprintf(what, sizeof what, "rglru %s B=%d T=%d C=%d%s%s chunk=%d", v->name, B, T, C, resets ? " resets" : "",
             with_h0 ? " h0" : "", chunk);
    OK(v->forward(d_y, d_hl, d_x, d_gx, d_ga, d_ap, d_pos, with_h0 ? d_h0 : NULL, B, T, C));
    TEST_CLOSE(err_dev(d_y, y, n), 2e-5, what);
    TEST_CLOSE(err_dev(d_hl, hl, (size_t)B * C), 2e-5, "  ... h_last");
    OK(v->backward(d_dx, d_dgx, d_dga, d_dap, d_dy, d_y, d_x, d_gx, d_ga, d_ap, d_pos, with_h0 ? d_h0 : NULL, B, T, C));
    TEST_CLOSE(err_dev(d_dx, dx, n), 5e-5, "  ... dx");
    TEST_CLOSE(err_dev(d_dgx, dgx, n), 5e-5, "  ... dgx");
    TEST_CLOSE(err_dev(d_dga, dga, n), 5e-5, "  ... dga");
    TEST_CLOSE(err_dev(d_dap, dap, (size_t)C), 1e-4, "  ... da_param (+=)");
    /* in-place state update: h_last aliases h0 */
    if (with_h0) {
        OK(v->forward(d_y, d_h0, d_x, d_gx, d_ga, d_ap, d_pos, d_h0, B, T, C));
        TEST_CLOSE(err_dev(d_h0, hl, (size_t)B * C), 2e-5, "  ... h_last aliasing h0");
    }
    gpu_scan_set_chunk(0);
    gpu_free(d_x); gpu_free(d_gx); gpu_free(d_ga); gpu_free(d_ap); gpu_free(d_h0); gpu_free(d_dy); gpu_free(d_dap);
    gpu_free(d_pos); gpu_free(d_y); gpu_free(d_hl); gpu_free(d_dx); gpu_free(d_dgx); gpu_free(d_dga);
    free(x); free(gx); free(ga); free(ap); free(h0); free(dy); free(dap0); free(pos); free(y); free(hl);
    free(dx); free(dgx); free(dga); free(dap);
}

static void test_scan(void) {
    for (const gpu_rglru_variant *v = gpu_rglru_variants; v->name; v++) {
        scan_case(v, 3, 97, 45, 1, 0, 0);
        scan_case(v, 2, 1, 33, 0, 1, 0);
        scan_case(v, 2, 131, 70, 1, 1, 0);
        scan_case(v, 1, 257, 32, 0, 1, 7);   /* many chunks for `chunked` */
        scan_case(v, 4, 61, 129, 1, 1, 13);
    }
}

static void test_scan_step(void) {
    const int B = 5, C = 77;
    float *x = rnd((size_t)B * C, 1), *gx = rnd((size_t)B * C, 2), *ga = rnd((size_t)B * C, 2);
    float *ap = rnd((size_t)C, 1), *h = rnd((size_t)B * C, 1), *y = malloc((size_t)B * C * 4), *hr = malloc((size_t)B * C * 4);
    int32_t pos[5] = {3, 0, 7, 1, 0};
    uint8_t act[5] = {1, 1, 0, 1, 1};
    memcpy(hr, h, (size_t)B * C * 4);
    for (int b = 0; b < B; b++) {
        if (!act[b]) continue;
        size_t o = (size_t)b * C;
        rglru_forward_ref(y + o, hr + o, x + o, gx + o, ga + o, ap, pos + b, hr + o, NULL, 1, 1, C);
    }
    float *dx = up(x, (size_t)B * C), *dgx = up(gx, (size_t)B * C), *dga = up(ga, (size_t)B * C), *dap = up(ap, (size_t)C);
    float *dh = up(h, (size_t)B * C), *dyy = gpu_alloc((size_t)B * C * 4);
    int32_t *dpos = upi(pos, 5);
    uint8_t *dact = gpu_alloc(5);
    OK(gpu_upload(dact, act, 5));
    OK(gpu_rglru_step(dyy, dh, dx, dgx, dga, dap, dpos, dact, B, C));
    TEST_CLOSE(err_dev(dh, hr, (size_t)B * C), 2e-6, "rglru step: state (active mask, resets)");
    float *yh = down(dyy, (size_t)B * C);
    double e = 0;
    for (int b = 0; b < B; b++)
        if (act[b]) e = fmax(e, util_max_rel_err(yh + (size_t)b * C, y + (size_t)b * C, (size_t)C));
    TEST_CLOSE(e, 2e-6, "rglru step: y");
    free(yh);
    gpu_free(dx); gpu_free(dgx); gpu_free(dga); gpu_free(dap); gpu_free(dh); gpu_free(dyy); gpu_free(dpos); gpu_free(dact);
    free(x); free(gx); free(ga); free(ap); free(h); free(y); free(hr);
}

/* ---- ops ---------------------------------------------------------------------------------- */

static void test_conv(void) {
    const int B = 3, T = 41, C = 37, K = 4;
    size_t n = (size_t)B * T * C;
    float *x = rnd(n, 1), *w = rnd((size_t)K * C, 1), *b = rnd((size_t)C, 1), *dy = rnd(n, 1);
    int32_t *pos = make_pos(B, T, 1);
    float *y = malloc(n * 4), *dx = malloc(n * 4), *dw = rnd((size_t)K * C, 1), *db = rnd((size_t)C, 1);
    float *dw0 = malloc((size_t)K * C * 4), *db0 = malloc((size_t)C * 4);
    memcpy(dw0, dw, (size_t)K * C * 4);
    memcpy(db0, db, (size_t)C * 4);
    conv1d_forward_ref(y, x, w, b, pos, B, T, C, K);
    conv1d_backward_ref(dx, dw, db, dy, x, w, pos, B, T, C, K);
    float *d_x = up(x, n), *d_w = up(w, (size_t)K * C), *d_b = up(b, (size_t)C), *d_dy = up(dy, n);
    float *d_y = gpu_alloc(n * 4), *d_dx = gpu_alloc(n * 4), *d_dw = up(dw0, (size_t)K * C), *d_db = up(db0, (size_t)C);
    int32_t *d_pos = upi(pos, (size_t)B * T);
    OK(gpu_conv1d_forward(d_y, d_x, d_w, d_b, d_pos, B, T, C, K));
    TEST_CLOSE(err_dev(d_y, y, n), 1e-6, "conv1d forward (resets)");
    OK(gpu_conv1d_backward(d_dx, d_dw, d_db, d_dy, d_x, d_w, d_pos, B, T, C, K));
    TEST_CLOSE(err_dev(d_dx, dx, n), 1e-6, "conv1d backward dx");
    TEST_CLOSE(err_dev(d_dw, dw, (size_t)K * C), 1e-5, "conv1d backward dw (+=)");
    TEST_CLOSE(err_dev(d_db, db, (size_t)C), 1e-5, "conv1d backward db (+=)");
    /* decode step with an active mask */
    float *st = rnd((size_t)B * (K - 1) * C, 1), *str = malloc((size_t)B * (K - 1) * C * 4), *xs = rnd((size_t)B * C, 1);
    float *ys = malloc((size_t)B * C * 4);
    uint8_t act[3] = {1, 0, 1};
    memcpy(str, st, (size_t)B * (K - 1) * C * 4);
    for (int bb = 0; bb < B; bb++)
        if (act[bb])
            conv1d_step_ref(ys + (size_t)bb * C, str + (size_t)bb * (K - 1) * C, xs + (size_t)bb * C, w, b, 1, C, K);
    float *d_st = up(st, (size_t)B * (K - 1) * C), *d_xs = up(xs, (size_t)B * C), *d_ys = gpu_alloc((size_t)B * C * 4);
    uint8_t *d_act = gpu_alloc(3);
    OK(gpu_upload(d_act, act, 3));
    OK(gpu_conv1d_step(d_ys, d_st, d_xs, d_w, d_b, d_act, B, C, K));
    TEST_CLOSE(err_dev(d_st, str, (size_t)B * (K - 1) * C), 0, "conv1d step: state (inactive row kept)");
    float *yh = down(d_ys, (size_t)B * C);
    TEST_CLOSE(fmax(util_max_rel_err(yh, ys, (size_t)C), util_max_rel_err(yh + 2 * C, ys + 2 * C, (size_t)C)), 1e-6,
               "conv1d step: y");
    free(yh);
    gpu_free(d_x); gpu_free(d_w); gpu_free(d_b); gpu_free(d_dy); gpu_free(d_y); gpu_free(d_dx); gpu_free(d_dw);
    gpu_free(d_db); gpu_free(d_pos); gpu_free(d_st); gpu_free(d_xs); gpu_free(d_ys); gpu_free(d_act);
    free(x); free(w); free(b); free(dy); free(pos); free(y); free(dx); free(dw); free(db); free(dw0); free(db0);
    free(st); free(str); free(xs); free(ys);
}

static void test_norm_act(void) {
    const int N = 23, C = 300;
    size_t n = (size_t)N * C;
    float *x = rnd(n, 2), *s = rnd((size_t)C, 0.5f), *dy = rnd(n, 1), *y = malloc(n * 4), *rs = malloc((size_t)N * 4);
    float *dx = rnd(n, 1), *dx0 = malloc(n * 4), *ds = rnd((size_t)C, 1), *ds0 = malloc((size_t)C * 4);
    memcpy(dx0, dx, n * 4);
    memcpy(ds0, ds, (size_t)C * 4);
    rmsnorm_forward_ref(y, rs, x, s, N, C, 1e-6f);
    rmsnorm_backward_ref(dx, ds, dy, x, rs, s, N, C);
    float *d_x = up(x, n), *d_s = up(s, (size_t)C), *d_dy = up(dy, n), *d_y = gpu_alloc(n * 4), *d_rs = gpu_alloc((size_t)N * 4);
    float *d_dx = up(dx0, n), *d_ds = up(ds0, (size_t)C);
    OK(gpu_rmsnorm_forward(d_y, d_rs, d_x, d_s, N, C, 1e-6f));
    TEST_CLOSE(err_dev(d_y, y, n), 1e-6, "rmsnorm forward");
    TEST_CLOSE(err_dev(d_rs, rs, (size_t)N), 1e-6, "rmsnorm rstd");
    OK(gpu_rmsnorm_backward(d_dx, d_ds, d_dy, d_x, d_rs, d_s, N, C));
    TEST_CLOSE(err_dev(d_dx, dx, n), 1e-5, "rmsnorm backward dx (+=)");
    TEST_CLOSE(err_dev(d_ds, ds, (size_t)C), 1e-5, "rmsnorm backward dscale (+=)");
    /* gelu / geglu */
    float *a = rnd(n, 4), *bb = rnd(n, 1), *g = malloc(n * 4), *ga = malloc(n * 4), *gb = malloc(n * 4);
    float *d_a = up(a, n), *d_b = up(bb, n), *d_o = gpu_alloc(n * 4), *d_o2 = gpu_alloc(n * 4);
    gelu_forward_ref(g, a, n);
    OK(gpu_gelu_forward(d_o, d_a, n));
    TEST_CLOSE(err_dev(d_o, g, n), 1e-6, "gelu forward");
    gelu_backward_ref(g, dy, a, n);
    OK(gpu_gelu_backward(d_o, d_dy, d_a, n));
    TEST_CLOSE(err_dev(d_o, g, n), 1e-6, "gelu backward");
    geglu_forward_ref(g, a, bb, n);
    OK(gpu_geglu_forward(d_o, d_a, d_b, n));
    TEST_CLOSE(err_dev(d_o, g, n), 1e-6, "geglu forward");
    geglu_backward_ref(ga, gb, dy, a, bb, n);
    OK(gpu_geglu_backward(d_o, d_o2, d_dy, d_a, d_b, n));
    TEST_CLOSE(err_dev(d_o, ga, n), 1e-6, "geglu backward da");
    TEST_CLOSE(err_dev(d_o2, gb, n), 1e-6, "geglu backward db");
    /* soft-cap */
    float *l = rnd(n, 80), *lc = malloc(n * 4);
    memcpy(lc, l, n * 4);
    softcap_forward_ref(lc, n, 30.0f);
    float *d_l = up(l, n);
    OK(gpu_softcap_forward(d_l, n, 30.0f));
    TEST_CLOSE(err_dev(d_l, lc, n), 1e-6, "softcap forward");
    memcpy(g, dy, n * 4);
    softcap_backward_ref(g, lc, n, 30.0f);
    OK(gpu_softcap_backward(d_dy, d_l, n, 30.0f));
    TEST_CLOSE(err_dev(d_dy, g, n), 1e-6, "softcap backward");
    gpu_free(d_x); gpu_free(d_s); gpu_free(d_dy); gpu_free(d_y); gpu_free(d_rs); gpu_free(d_dx); gpu_free(d_ds);
    gpu_free(d_a); gpu_free(d_b); gpu_free(d_o); gpu_free(d_o2); gpu_free(d_l);
    free(x); free(s); free(dy); free(y); free(rs); free(dx); free(dx0); free(ds); free(ds0);
    free(a); free(bb); free(g); free(ga); free(gb); free(l); free(lc);
}

static void test_rope_xent_embed(void) {
    const int N = 31, H = 3, dh = 24, rot = 12;
    size_t n = (size_t)N * H * dh;
    float *x = rnd(n, 1), *xr = malloc(n * 4);
    int32_t *pos = malloc((size_t)N * 4);
    for (int i = 0; i < N; i++) pos[i] = i == 7 ? 65000 : (int32_t)rng_below(&g_rng, 5000);
    memcpy(xr, x, n * 4);
    rope_forward_ref(xr, pos, N, H, dh, rot, 10000.0f);
    float *d_x = up(x, n);
    int32_t *d_pos = upi(pos, (size_t)N);
    OK(gpu_rope_forward(d_x, d_pos, N, H, dh, rot, 10000.0f));
    TEST_CLOSE(err_dev(d_x, xr, n), 1e-6, "rope forward (pos up to 65000)");
    rope_backward_ref(xr, pos, N, H, dh, rot, 10000.0f);
    OK(gpu_rope_backward(d_x, d_pos, N, H, dh, rot, 10000.0f));
    TEST_CLOSE(err_dev(d_x, xr, n), 1e-6, "rope backward");
    /* cross-entropy */
    const int R = 17, V = 301;
    float *lg = rnd((size_t)R * V, 5), *loss = malloc((size_t)R * 4), *dl = rnd((size_t)R, 1), *dlg = malloc((size_t)R * V * 4);
    int32_t tg[17];
    for (int i = 0; i < R; i++) tg[i] = i == 4 ? -1 : (int32_t)rng_below(&g_rng, (uint32_t)V);
    xent_forward_ref(loss, lg, tg, R, V);
    xent_backward_ref(dlg, lg, tg, dl, R, V);
    float *d_lg = up(lg, (size_t)R * V), *d_loss = gpu_alloc((size_t)R * 4), *d_dl = up(dl, (size_t)R);
    float *d_dlg = gpu_alloc((size_t)R * V * 4);
    int32_t *d_tg = upi(tg, (size_t)R);
    OK(gpu_xent_forward(d_loss, d_lg, d_tg, R, V));
    TEST_CLOSE(err_dev(d_loss, loss, (size_t)R), 1e-6, "xent forward (a masked row)");
    OK(gpu_xent_backward(d_dlg, d_lg, d_tg, d_dl, R, V));
    TEST_CLOSE(err_dev(d_dlg, dlg, (size_t)R * V), 1e-6, "xent backward");
    /* embedding gather */
    const int D = 13, NT = 9, VV = 20;
    float *E = rnd((size_t)VV * D, 1), *want = malloc((size_t)NT * D * 4);
    int32_t tok[9];
    for (int i = 0; i < NT; i++) {
        tok[i] = (int32_t)rng_below(&g_rng, VV);
        for (int d = 0; d < D; d++) want[i * D + d] = E[tok[i] * D + d] * 1.5f;
    }
    float *d_E = up(E, (size_t)VV * D), *d_e = gpu_alloc((size_t)NT * D * 4);
    int32_t *d_tok = upi(tok, NT);
    OK(gpu_embed(d_e, d_E, d_tok, NT, D, 1.5f));
    TEST_CLOSE(err_dev(d_e, want, (size_t)NT * D), 0, "embedding gather");
    gpu_free(d_x); gpu_free(d_pos); gpu_free(d_lg); gpu_free(d_loss); gpu_free(d_dl); gpu_free(d_dlg); gpu_free(d_tg);
    gpu_free(d_E); gpu_free(d_e); gpu_free(d_tok);
    free(x); free(xr); free(pos); free(lg); free(loss); free(dl); free(dlg); free(E); free(want);
}

/* ---- attention ------------------------------------------------------------------------------- */

static void attn_case(int B, int T, int H, int dh, int window, int resets) {
    const attn_variant *ref = attn_find("ref");
    size_t nq = (size_t)B * T * H * dh, nk = (size_t)B * T * dh;
    float *q = rnd(nq, 1), *k = rnd(nk, 1), *v = rnd(nk, 1), *out = malloc(nq * 4), *lse = malloc((size_t)B * H * T * 4);
    int32_t *pos = make_pos(B, T, resets);
    ref->forward(out, lse, q, k, v, pos, B, T, H, dh, window);
    float *d_q = up(q, nq), *d_k = up(k, nk), *d_v = up(v, nk), *d_o = gpu_alloc(nq * 4), *d_l = gpu_alloc((size_t)B * H * T * 4);
    int32_t *d_pos = upi(pos, (size_t)B * T);
    for (const gpu_attn_variant *av = gpu_attn_variants; av->name; av++) {
        char what[128];
        snprintf(what, sizeof what, "attn %s B=%d T=%d H=%d dh=%d W=%d%s", av->name, B, T, H, dh, window,
                 resets ? " resets" : "");
        OK(gpu_memset(d_o, 0xff, nq * 4)); /* NaN: every output must be written */
        OK(av->forward(d_o, d_l, d_q, d_k, d_v, d_pos, B, T, H, dh, window));
        TEST_CLOSE(err_dev(d_o, out, nq), 2e-5, what);
        TEST_CLOSE(err_dev(d_l, lse, (size_t)B * H * T), 2e-5, "  ... lse");
    }
    gpu_free(d_q); gpu_free(d_k); gpu_free(d_v); gpu_free(d_o); gpu_free(d_l); gpu_free(d_pos);
    free(q); free(k); free(v); free(out); free(lse); free(pos);
}

static void test_attention(void) {
    attn_case(2, 37, 3, 16, 8, 1);    /* T > W */
    attn_case(2, 5, 2, 16, 8, 0);     /* T < W */
    attn_case(3, 53, 2, 40, -1, 1);   /* global, dh not a multiple of 32 */
    attn_case(1, 131, 4, 128, 17, 1); /* paper head dim, several key tiles */
    attn_case(2, 71, 1, 256, -1, 0);  /* RecurrentGemma head dim */
    attn_case(1, 200, 3, 64, 100, 1);
}

/* ==== the training and decode pieces (#14) =====================================================
 * Attention backward (every variant vs the CPU ref backward and vs the
 * device naive one), split-K decode vs the one-block form and the CPU, the
 * device-side decode bookkeeping and greedy choice, a captured CUDA graph
 * replayed vs the same calls run directly, pinned asynchronous copies, the
 * embedding / bias gradients bit for bit against the CPU loops, the
 * deterministic sum of squares, AdamW against the CPU update, and the
 * deterministic parameter gradients of the older backward kernels. */

#define N_TRAIN_GROUPS 7 /* the groups of this part, reported as skipped without a device */

/* Mismatching values between device array d and host array want (bit
 * patterns: for the kernels that promise the CPU's result exactly). */
static size_t bits_differ(const float *d, const float *want, size_t n) {
    float *h = down(d, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += memcmp(h + i, want + i, sizeof(float)) != 0;
    free(h);
    return bad;
}

/* ---- deterministic parameter gradients --------------------------------------------------------
 * Shapes with several row chunks / (b, chunk) partials: each backward run
 * twice from the same start gives the same bits, and matches the CPU ref. */

/* Run `call` twice into dev (n floats), each time from start; same = 1 if
 * the two results have the same bits. The second result stays in dev. */
#define TWICE_SAME(same, dev, start, n, call)                                                      \
    do {                                                                                           \
        OK(gpu_upload(dev, start, (n) * 4));                                                       \
        OK(call);                                                                                  \
        float *first_ = down(dev, n);                                                              \
        OK(gpu_upload(dev, start, (n) * 4));                                                       \
        OK(call);                                                                                  \
        (same) = bits_differ(dev, first_, n) == 0;                                                 \
        free(first_);                                                                              \
    } while (0)

static void test_determinism(void) {
    /* RG-LRU da_param, every variant, chunked with many chunks */
    const int B = 3, T = 300, C = 45;
    size_t n = (size_t)B * T * C;
    float *x = rnd(n, 1), *gx = rnd(n, 2), *ga = rnd(n, 2), *ap = rnd((size_t)C, 1), *dy = rnd(n, 1);
    float *dap0 = rnd((size_t)C, 1), *y = malloc(n * 4), *dx = malloc(n * 4), *dgx = malloc(n * 4), *dga = malloc(n * 4);
    float *dap = malloc((size_t)C * 4);
    CHECK_ALLOC(y); CHECK_ALLOC(dx); CHECK_ALLOC(dgx); CHECK_ALLOC(dga); CHECK_ALLOC(dap);
    int32_t *pos = make_pos(B, T, 1);
    rglru_forward_ref(y, NULL, x, gx, ga, ap, pos, NULL, NULL, B, T, C);
    memcpy(dap, dap0, (size_t)C * 4);
    rglru_backward_ref(dx, dgx, dga, dap, dy, y, x, gx, ga, ap, pos, NULL, NULL, B, T, C);
    float *d_x = up(x, n), *d_gx = up(gx, n), *d_ga = up(ga, n), *d_ap = up(ap, (size_t)C), *d_dy = up(dy, n);
    float *d_y = up(y, n), *d_dap = gpu_alloc((size_t)C * 4);
    float *d_dx = gpu_alloc(n * 4), *d_dgx = gpu_alloc(n * 4), *d_dga = gpu_alloc(n * 4);
    int32_t *d_pos = upi(pos, (size_t)B * T);
    for (const gpu_rglru_variant *v = gpu_rglru_variants; v->name; v++) {
        gpu_scan_set_chunk(17);
        int same = 0;
        TWICE_SAME(same, d_dap, dap0, (size_t)C,
                   v->backward(d_dx, d_dgx, d_dga, d_dap, d_dy, d_y, d_x, d_gx, d_ga, d_ap, d_pos, NULL, B, T, C));
        TEST_CHECK(same, "rglru %s backward: da_param has the same bits on a second run", v->name);
        TEST_CLOSE(err_dev(d_dap, dap, (size_t)C), 1e-4, "  ... da_param vs CPU ref (many partials)");
        gpu_scan_set_chunk(0);
    }
    gpu_free(d_x); gpu_free(d_gx); gpu_free(d_ga); gpu_free(d_ap); gpu_free(d_dy); gpu_free(d_y); gpu_free(d_dap);
    gpu_free(d_dx); gpu_free(d_dgx); gpu_free(d_dga); gpu_free(d_pos);
    free(x); free(gx); free(ga); free(ap); free(dy); free(dap0); free(y); free(dx); free(dgx); free(dga); free(dap);
    free(pos);

    /* conv1d dw, db over 4 row chunks (B*T = 900 rows, 256 per chunk) */
    const int K = 4, Cc = 37;
    size_t nc = (size_t)B * T * Cc;
    float *cx = rnd(nc, 1), *cw = rnd((size_t)K * Cc, 1), *cdy = rnd(nc, 1), *cdx = malloc(nc * 4);
    float *dw0 = rnd((size_t)K * Cc, 1), *db0 = rnd((size_t)Cc, 1), *dw = malloc((size_t)K * Cc * 4), *db = malloc((size_t)Cc * 4);
    CHECK_ALLOC(cdx); CHECK_ALLOC(dw); CHECK_ALLOC(db);
    int32_t *cpos = make_pos(B, T, 1);
    memcpy(dw, dw0, (size_t)K * Cc * 4);
    memcpy(db, db0, (size_t)Cc * 4);
    conv1d_backward_ref(cdx, dw, db, cdy, cx, cw, cpos, B, T, Cc, K);
    float *d_cx = up(cx, nc), *d_cw = up(cw, (size_t)K * Cc), *d_cdy = up(cdy, nc), *d_cdx = gpu_alloc(nc * 4);
    float *d_dw = gpu_alloc((size_t)K * Cc * 4), *d_db = up(db0, (size_t)Cc);
    int32_t *d_cpos = upi(cpos, (size_t)B * T);
    int same = 0;
    TWICE_SAME(same, d_dw, dw0, (size_t)K * Cc, gpu_conv1d_backward(d_cdx, d_dw, NULL, d_cdy, d_cx, d_cw, d_cpos, B, T, Cc, K));
    TEST_CHECK(same, "conv1d backward: dw has the same bits on a second run");
    TEST_CLOSE(err_dev(d_dw, dw, (size_t)K * Cc), 1e-5, "  ... dw vs CPU ref (4 row chunks)");
    TWICE_SAME(same, d_db, db0, (size_t)Cc, gpu_conv1d_backward(d_cdx, NULL, d_db, d_cdy, d_cx, d_cw, d_cpos, B, T, Cc, K));
    TEST_CHECK(same, "conv1d backward: db has the same bits on a second run");
    TEST_CLOSE(err_dev(d_db, db, (size_t)Cc), 1e-5, "  ... db vs CPU ref");
    TEST_CLOSE(err_dev(d_cdx, cdx, nc), 1e-6, "  ... dx vs CPU ref");
    gpu_free(d_cx); gpu_free(d_cw); gpu_free(d_cdy); gpu_free(d_cdx); gpu_free(d_dw); gpu_free(d_db); gpu_free(d_cpos);
    free(cx); free(cw); free(cdy); free(cdx); free(dw0); free(db0); free(dw); free(db); free(cpos);

    /* RMSNorm dscale over 4 row chunks (200 rows, 64 per chunk) */
    const int N = 200, Cn = 77;
    size_t nn = (size_t)N * Cn;
    float *nx = rnd(nn, 2), *ns = rnd((size_t)Cn, 0.5f), *ndy = rnd(nn, 1), *ny = malloc(nn * 4), *rs = malloc((size_t)N * 4);
    float *ndx0 = rnd(nn, 1), *ndx = malloc(nn * 4), *ds0 = rnd((size_t)Cn, 1), *ds = malloc((size_t)Cn * 4);
    CHECK_ALLOC(ny); CHECK_ALLOC(rs); CHECK_ALLOC(ndx); CHECK_ALLOC(ds);
    rmsnorm_forward_ref(ny, rs, nx, ns, N, Cn, 1e-6f);
    memcpy(ndx, ndx0, nn * 4);
    memcpy(ds, ds0, (size_t)Cn * 4);
    rmsnorm_backward_ref(ndx, ds, ndy, nx, rs, ns, N, Cn);
    float *d_nx = up(nx, nn), *d_ns = up(ns, (size_t)Cn), *d_ndy = up(ndy, nn), *d_rs = up(rs, (size_t)N);
    float *d_ndx = up(ndx0, nn), *d_ds = gpu_alloc((size_t)Cn * 4);
    TWICE_SAME(same, d_ds, ds0, (size_t)Cn, gpu_rmsnorm_backward(d_ndx, d_ds, d_ndy, d_nx, d_rs, d_ns, N, Cn));
    TEST_CHECK(same, "rmsnorm backward: dscale has the same bits on a second run");
    TEST_CLOSE(err_dev(d_ds, ds, (size_t)Cn), 1e-5, "  ... dscale vs CPU ref (4 row chunks)");
    OK(gpu_upload(d_ndx, ndx0, nn * 4));
    OK(gpu_rmsnorm_backward(d_ndx, NULL, d_ndy, d_nx, d_rs, d_ns, N, Cn));
    TEST_CLOSE(err_dev(d_ndx, ndx, nn), 1e-5, "  ... dx (+=) vs CPU ref, dscale NULL");
    gpu_free(d_nx); gpu_free(d_ns); gpu_free(d_ndy); gpu_free(d_rs); gpu_free(d_ndx); gpu_free(d_ds);
    free(nx); free(ns); free(ndy); free(ny); free(rs); free(ndx0); free(ndx); free(ds0); free(ds);
}

/* ---- attention backward ------------------------------------------------------------------- */

static void attn_bwd_case(int B, int T, int H, int dh, int window, int resets) {
    const attn_variant *ref = attn_find("ref");
    size_t nq = (size_t)B * T * H * dh, nk = (size_t)B * T * dh, nl = (size_t)B * H * T;
    float *q = rnd(nq, 1), *k = rnd(nk, 1), *v = rnd(nk, 1), *dout = rnd(nq, 1);
    float *out = malloc(nq * 4), *lse = malloc(nl * 4), *dq = malloc(nq * 4), *dk = malloc(nk * 4), *dv = malloc(nk * 4);
    CHECK_ALLOC(out); CHECK_ALLOC(lse); CHECK_ALLOC(dq); CHECK_ALLOC(dk); CHECK_ALLOC(dv);
    int32_t *pos = make_pos(B, T, resets);
    ref->forward(out, lse, q, k, v, pos, B, T, H, dh, window);
    ref->backward(dq, dk, dv, dout, out, lse, q, k, v, pos, B, T, H, dh, window);
    float *d_q = up(q, nq), *d_k = up(k, nk), *d_v = up(v, nk), *d_do = up(dout, nq), *d_o = up(out, nq);
    float *d_l = up(lse, nl), *d_dq = gpu_alloc(nq * 4), *d_dk = gpu_alloc(nk * 4), *d_dv = gpu_alloc(nk * 4);
    float *d_dq0 = gpu_alloc(nq * 4), *d_dk0 = gpu_alloc(nk * 4), *d_dv0 = gpu_alloc(nk * 4);
    int32_t *d_pos = upi(pos, (size_t)B * T);
    const gpu_attn_variant *naive = gpu_attn_find("naive");
    TEST_CHECK(naive && naive->backward, "naive attention backward exists");
    if (naive) OK(naive->backward(d_dq0, d_dk0, d_dv0, d_do, d_o, d_l, d_q, d_k, d_v, d_pos, B, T, H, dh, window));
    for (const gpu_attn_variant *av = gpu_attn_variants; av->name; av++) {
        char what[160];
        snprintf(what, sizeof what, "attn bwd %s B=%d T=%d H=%d dh=%d W=%d%s", av->name, B, T, H, dh, window,
                 resets ? " resets" : "");
        TEST_CHECK(av->backward != NULL, "%s: has a backward", what);
        if (!av->backward) continue;
        OK(gpu_memset(d_dq, 0xff, nq * 4)); /* NaN: every gradient must be written (=) */
        OK(gpu_memset(d_dk, 0xff, nk * 4));
        OK(gpu_memset(d_dv, 0xff, nk * 4));
        OK(av->backward(d_dq, d_dk, d_dv, d_do, d_o, d_l, d_q, d_k, d_v, d_pos, B, T, H, dh, window));
        TEST_CLOSE(err_dev(d_dq, dq, nq), 1e-4, what);
        TEST_CLOSE(err_dev(d_dk, dk, nk), 1e-4, "  ... dk vs CPU ref");
        TEST_CLOSE(err_dev(d_dv, dv, nk), 1e-4, "  ... dv vs CPU ref");
        if (naive && av != naive) { /* against the device oracle too */
            float *h0 = down(d_dq0, nq), *h1 = down(d_dk0, nk), *h2 = down(d_dv0, nk);
            TEST_CLOSE(err_dev(d_dq, h0, nq) + err_dev(d_dk, h1, nk) + err_dev(d_dv, h2, nk), 1e-4,
                       "  ... dq + dk + dv vs naive");
            free(h0); free(h1); free(h2);
        }
    }
    /* the lse the device forward saved works the same */
    const gpu_attn_variant *tiled = gpu_attn_find("tiled");
    if (tiled) {
        OK(tiled->forward(d_o, d_l, d_q, d_k, d_v, d_pos, B, T, H, dh, window));
        OK(tiled->backward(d_dq, d_dk, d_dv, d_do, d_o, d_l, d_q, d_k, d_v, d_pos, B, T, H, dh, window));
        TEST_CLOSE(err_dev(d_dq, dq, nq) + err_dev(d_dk, dk, nk) + err_dev(d_dv, dv, nk), 2e-4,
                   "  ... tiled forward then tiled backward");
    }
    TEST_CHECK(tiled && tiled->backward(d_dq, d_dk, d_dv, d_do, d_o, NULL, d_q, d_k, d_v, d_pos, B, T, H, dh, window) != 0,
               "backward without lse refused");
    gpu_free(d_q); gpu_free(d_k); gpu_free(d_v); gpu_free(d_do); gpu_free(d_o); gpu_free(d_l);
    gpu_free(d_dq); gpu_free(d_dk); gpu_free(d_dv); gpu_free(d_dq0); gpu_free(d_dk0); gpu_free(d_dv0); gpu_free(d_pos);
    free(q); free(k); free(v); free(dout); free(out); free(lse); free(dq); free(dk); free(dv); free(pos);
}

static void test_attention_backward(void) {
    attn_bwd_case(2, 37, 3, 16, 8, 1);    /* T > W, resets */
    attn_bwd_case(2, 5, 2, 16, 8, 0);     /* T < W */
    attn_bwd_case(2, 29, 2, 24, 0, 0);    /* window 0: only the key itself */
    attn_bwd_case(3, 53, 2, 40, -1, 1);   /* global, dh not a multiple of 32 */
    attn_bwd_case(1, 131, 4, 128, 17, 1); /* paper head dim, several key tiles */
    attn_bwd_case(2, 71, 1, 256, -1, 0);  /* RecurrentGemma head dim, H = 1 */
    attn_bwd_case(1, 97, 5, 7, 30, 1);    /* tiny odd head dim, H odd */
    attn_bwd_case(1, 200, 3, 64, 100, 1);
}

/* ---- decode: split-K vs one block per row, bookkeeping ----------------------------------- */

static void decode_case(int B, int H, int dh, int S, const int32_t *nv) {
    size_t nc = (size_t)B * S * dh, no = (size_t)B * H * dh;
    float *q = rnd(no, 1), *kc = rnd(nc, 1), *vc = rnd(nc, 1), *kn = rnd((size_t)B * dh, 1);
    float *vn = rnd((size_t)B * dh, 1), *out = malloc(no * 4);
    CHECK_ALLOC(out);
    attn_decode_ref(out, q, kc, vc, nv, kn, vn, B, H, dh, S);
    float *d_q = up(q, no), *d_kc = up(kc, nc), *d_vc = up(vc, nc), *d_kn = up(kn, (size_t)B * dh);
    float *d_vn = up(vn, (size_t)B * dh), *d_o = gpu_alloc(no * 4), *d_r = gpu_alloc(no * 4);
    int32_t *d_nv = upi(nv, (size_t)B);
    char what[128];
    snprintf(what, sizeof what, "attn decode ref B=%d H=%d dh=%d S=%d", B, H, dh, S);
    OK(gpu_memset(d_r, 0xff, no * 4));
    OK(gpu_attn_decode_ref(d_r, d_q, d_kc, d_vc, d_nv, d_kn, d_vn, B, H, dh, S));
    TEST_CLOSE(err_dev(d_r, out, no), 2e-6, what);
    float *ref_dev = down(d_r, no);
    const int splits[] = {0, 32, 64, 96}; /* automatic, then forced split lengths */
    for (int i = 0; i < 4; i++) {
        gpu_attn_decode_set_split(splits[i]);
        OK(gpu_memset(d_o, 0xff, no * 4));
        OK(gpu_attn_decode(d_o, d_q, d_kc, d_vc, d_nv, d_kn, d_vn, B, H, dh, S));
        snprintf(what, sizeof what, "attn decode split-K (split %d) S=%d vs CPU", splits[i], S);
        TEST_CLOSE(err_dev(d_o, out, no), 2e-6, what);
        TEST_CLOSE(err_dev(d_o, ref_dev, no), 2e-6, "  ... vs gpu_attn_decode_ref");
    }
    gpu_attn_decode_set_split(0);
    free(ref_dev);
    gpu_free(d_q); gpu_free(d_kc); gpu_free(d_vc); gpu_free(d_kn); gpu_free(d_vn); gpu_free(d_o); gpu_free(d_r);
    gpu_free(d_nv);
    free(q); free(kc); free(vc); free(kn); free(vn); free(out);
}

static void test_attn_decode_split(void) {
    const int32_t nv1[] = {0, 7, 19, 3, 18};
    decode_case(5, 3, 40, 19, nv1);              /* empty, partial, full, S - 1 */
    const int32_t nv2[] = {1237, 0, 1000, 613};
    decode_case(4, 2, 128, 1237, nv2);           /* odd long S, full and partial */
    const int32_t nv3[] = {4099, 2048};
    decode_case(2, 1, 256, 4099, nv3);           /* one head, dh 256 */
    const int32_t nv4[] = {33, 64, -3, 99};
    decode_case(4, 5, 33, 65, nv4);              /* odd dh; out-of-range nvalid clamps */
}

static void test_decode_bookkeeping(void) {
    const int B = 5, S = 7, dh = 9;
    size_t nc = (size_t)B * S * dh;
    int32_t n[5] = {0, 6, 7, 15, -1};
    uint8_t act[5] = {1, 1, 1, 1, 0};
    float *kn = rnd((size_t)B * dh, 1), *vn = rnd((size_t)B * dh, 1);
    float *d_kn = up(kn, (size_t)B * dh), *d_vn = up(vn, (size_t)B * dh);
    int32_t *d_n = upi(n, (size_t)B);
    uint8_t *d_act = gpu_alloc(B);
    OK(gpu_upload(d_act, act, B));
    for (int ring = 0; ring < 2; ring++) {
        float *kc = rnd(nc, 1), *vc = rnd(nc, 1);
        float *d_kc = up(kc, nc), *d_vc = up(vc, nc);
        for (int b = 0; b < B; b++) {
            if (!act[b] || n[b] < 0) continue;
            int s = ring ? n[b] % S : n[b];
            if (s >= S) continue; /* non-ring: full rows skipped */
            memcpy(kc + ((size_t)b * S + s) * dh, kn + (size_t)b * dh, (size_t)dh * 4);
            memcpy(vc + ((size_t)b * S + s) * dh, vn + (size_t)b * dh, (size_t)dh * 4);
        }
        OK(gpu_kv_write(d_kc, d_vc, d_kn, d_vn, d_n, d_act, B, S, dh, ring));
        TEST_CHECK(bits_differ(d_kc, kc, nc) == 0 && bits_differ(d_vc, vc, nc) == 0,
                   "gpu_kv_write ring=%d: slots n %% S / n (full and inactive rows untouched)", ring);
        gpu_free(d_kc); gpu_free(d_vc);
        free(kc); free(vc);
    }
    int32_t *d_pos = gpu_alloc(B * 4), *d_nv = gpu_alloc(B * 4), hp[5], hv[5];
    const int keeps[] = {4, -1};
    for (int i = 0; i < 2; i++) {
        OK(gpu_decode_positions(d_pos, d_nv, d_n, keeps[i], B));
        OK(gpu_download(hp, d_pos, sizeof hp));
        OK(gpu_download(hv, d_nv, sizeof hv));
        int ok = 1;
        for (int b = 0; b < B; b++) {
            int want = keeps[i] >= 0 && n[b] > keeps[i] ? keeps[i] : n[b];
            ok &= hp[b] == n[b] && hv[b] == want;
        }
        TEST_CHECK(ok, "gpu_decode_positions keep=%d: pos = n, nvalid = min(n, keep)", keeps[i]);
    }
    OK(gpu_decode_advance(d_n, d_act, B));
    OK(gpu_decode_advance(d_n, NULL, B));
    OK(gpu_download(hp, d_n, sizeof hp));
    int ok = 1;
    for (int b = 0; b < B; b++) ok &= hp[b] == n[b] + 1 + act[b];
    TEST_CHECK(ok, "gpu_decode_advance: +1 for active rows (and all rows with active NULL)");
    /* greedy choice vs the CPU scan: ties (first index wins), NaNs, -inf, a long row */
    {
        const int R = 6, V = 1001;
        float *lg = rnd((size_t)R * V, 1);
        lg[0 * V + 500] = 5.0f; lg[0 * V + 700] = 5.0f;           /* tie: 500 */
        lg[1 * V + 0] = NAN;                                       /* l[0] NaN: 0 */
        lg[2 * V + 3] = NAN; lg[2 * V + 999] = 9.0f;               /* NaN skipped: 999 */
        for (int v = 0; v < V; v++) lg[3 * V + v] = -INFINITY;    /* all -inf: 0 */
        lg[4 * V + 1000] = 3.0f;                                   /* the last index */
        for (int v = 0; v < V; v++) lg[5 * V + v] = 1.0f;         /* all equal: 0 */
        int32_t want[6], got[6];
        for (int r = 0; r < R; r++) {
            const float *l = lg + (size_t)r * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (l[v] > l[best]) best = v;
            want[r] = best;
        }
        float *d_lg = up(lg, (size_t)R * V);
        int32_t *d_tok = gpu_alloc(sizeof got);
        OK(gpu_argmax_rows(d_tok, d_lg, R, V));
        OK(gpu_download(got, d_tok, sizeof got));
        TEST_CHECK(memcmp(got, want, sizeof got) == 0, "gpu_argmax_rows == the CPU greedy scan (%d %d %d %d %d %d)",
                   got[0], got[1], got[2], got[3], got[4], got[5]);
        gpu_free(d_lg); gpu_free(d_tok);
        free(lg);
    }
    gpu_free(d_kn); gpu_free(d_vn); gpu_free(d_n); gpu_free(d_act); gpu_free(d_pos); gpu_free(d_nv);
    free(kn); free(vn);
}

/* ---- the stream, graphs, pinned memory ------------------------------------------------------ */

/* One "decode-like" step on device state: x += y; x *= 0.5; n += 1 (active rows). */
static int graph_step(float *x, const float *y, size_t n, int32_t *cnt, const uint8_t *act, int B) {
    if (gpu_add(x, y, n) || gpu_scale(x, n, 0.5f) || gpu_decode_advance(cnt, act, B)) return -1;
    return 0;
}

static void test_graph(void) {
    TEST_CHECK(gpu_stream() != NULL, "gpu_stream: %s", util_last_error());
    const size_t n = 1001;
    const int B = 3;
    float *x = rnd(n, 1), *y = rnd(n, 1);
    float *d_x = up(x, n), *d_y = up(y, n), *d_x2 = up(x, n);
    int32_t zero[3] = {0, 0, 0}, cnt[3];
    uint8_t act[3] = {1, 0, 1};
    int32_t *d_c = upi(zero, 3), *d_c2 = upi(zero, 3);
    uint8_t *d_act = gpu_alloc(3);
    OK(gpu_upload(d_act, act, 3));
    /* direct: 3 steps */
    for (int i = 0; i < 3; i++) OK(graph_step(d_x2, d_y, n, d_c2, d_act, B));
    float *want = down(d_x2, n);
    /* captured once, replayed 3 times */
    OK(gpu_graph_begin());
    int rc = graph_step(d_x, d_y, n, d_c, d_act, B);
    gpu_graph *g = gpu_graph_end();
    TEST_CHECK(rc == 0 && g != NULL, "capture a step: %s", util_last_error());
    for (int i = 0; i < 3 && g; i++) OK(gpu_graph_launch(g));
    OK(gpu_sync());
    TEST_CHECK(bits_differ(d_x, want, n) == 0, "graph replayed 3x == 3 direct steps (bit for bit)");
    OK(gpu_download(cnt, d_c, sizeof cnt));
    TEST_CHECK(cnt[0] == 3 && cnt[1] == 0 && cnt[2] == 3, "graph replays advance n (active rows)");
    gpu_graph_free(g);
    /* misuse is refused with a reason */
    TEST_CHECK(gpu_graph_end() == NULL, "gpu_graph_end without begin refused");
    TEST_CHECK(gpu_graph_launch(NULL) != 0, "gpu_graph_launch(NULL) refused");
    OK(gpu_graph_begin());
    TEST_CHECK(gpu_graph_begin() != 0, "nested gpu_graph_begin refused");
    int bad = gpu_download(cnt, d_c, sizeof cnt); /* synchronising: not capturable */
    gpu_graph *g2 = gpu_graph_end();
    TEST_CHECK(bad != 0 || g2 == NULL, "a synchronous download inside a capture fails (rc %d)", bad);
    gpu_graph_free(g2);
    (void)gpu_sync();
    /* the stream still works after the failed capture */
    OK(gpu_add(d_x, d_y, n));
    OK(gpu_sync());
    /* pinned memory, asynchronous copies */
    float *h = gpu_host_alloc(n * 4), *h2 = gpu_host_alloc(n * 4);
    TEST_CHECK(h && h2, "gpu_host_alloc: %s", util_last_error());
    if (h && h2) {
        memcpy(h, y, n * 4);
        OK(gpu_upload_async(d_x, h, n * 4));
        OK(gpu_download_async(h2, d_x, n * 4));
        OK(gpu_sync());
        TEST_CHECK(memcmp(h2, y, n * 4) == 0, "upload_async + download_async round trip");
    }
    gpu_host_free(h); gpu_host_free(h2);
    gpu_free(d_x); gpu_free(d_y); gpu_free(d_x2); gpu_free(d_c); gpu_free(d_c2); gpu_free(d_act);
    free(x); free(y); free(want);
}

/* ---- training pieces ---------------------------------------------------------------------------- */

static void test_train_pieces(void) {
    /* embedding backward: odd N, D, V; repeated tokens; non-zero dE */
    const int N = 211, D = 37, V = 53;
    const float scale = 7.25f;
    float *dx = rnd((size_t)N * D, 1), *dE = rnd((size_t)V * D, 1), *want = malloc((size_t)V * D * 4);
    CHECK_ALLOC(want);
    int32_t tok[211];
    for (int i = 0; i < N; i++) tok[i] = i % 5 == 0 ? 3 : (int32_t)rng_below(&g_rng, V); /* token 3: a long run */
    memcpy(want, dE, (size_t)V * D * 4);
    for (int nn = 0; nn < N; nn++) { /* models/train.c, verbatim */
        float *row = want + (size_t)tok[nn] * D;
        const float *d = dx + (size_t)nn * D;
        for (int k = 0; k < D; k++) row[k] += d[k] * scale;
    }
    float *d_dx = up(dx, (size_t)N * D);
    int32_t *d_tok = upi(tok, N);
    for (int fast = 0; fast < 2; fast++) {
        float *d_dE = up(dE, (size_t)V * D);
        OK(fast ? gpu_embed_backward(d_dE, d_dx, d_tok, N, D, V, scale)
                : gpu_embed_backward_ref(d_dE, d_dx, d_tok, N, D, V, scale));
        size_t bad = bits_differ(d_dE, want, (size_t)V * D);
        TEST_CHECK(bad == 0, "gpu_embed_backward%s == the CPU loop bit for bit (%zu differ)", fast ? "" : "_ref", bad);
        gpu_free(d_dE);
    }
    /* column sums */
    const int R = 333, C = 71;
    float *d = rnd((size_t)R * C, 1), *db = rnd(C, 1), *dbw = malloc(C * 4);
    CHECK_ALLOC(dbw);
    memcpy(dbw, db, C * 4);
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) dbw[c] += d[(size_t)r * C + c];
    float *d_d = up(d, (size_t)R * C), *d_db = up(db, C);
    OK(gpu_colsum_acc(d_db, d_d, R, C));
    TEST_CHECK(bits_differ(d_db, dbw, C) == 0, "gpu_colsum_acc == CPU colsum_acc bit for bit");
    /* sum of squares over two tensors, deterministic */
    double want_ss = 0, got[2];
    for (size_t i = 0; i < (size_t)R * C; i++) want_ss += (double)d[i] * d[i];
    for (int i = 0; i < C; i++) want_ss += (double)db[i] * db[i];
    double *d_ss = gpu_alloc(sizeof(double));
    for (int rep = 0; rep < 2; rep++) {
        OK(gpu_memset(d_ss, 0, sizeof(double)));
        OK(gpu_sumsq(d_ss, d_d, (size_t)R * C));
        OK(gpu_sumsq(d_ss, d_db + 0, 0)); /* empty: no-op */
        float *d_db0 = up(db, C);
        OK(gpu_sumsq(d_ss, d_db0, C));
        gpu_free(d_db0);
        OK(gpu_sumsq_get(&got[rep], d_ss));
    }
    TEST_CLOSE(fabs(got[0] - want_ss) / want_ss, 1e-12, "gpu_sumsq vs double CPU sum");
    TEST_CHECK(memcmp(&got[0], &got[1], sizeof(double)) == 0, "gpu_sumsq: the same bits twice");
    /* scale */
    float *sw = malloc((size_t)R * C * 4);
    CHECK_ALLOC(sw);
    for (size_t i = 0; i < (size_t)R * C; i++) sw[i] = d[i] * -0.375f;
    OK(gpu_scale(d_d, (size_t)R * C, -0.375f));
    TEST_CHECK(bits_differ(d_d, sw, (size_t)R * C) == 0, "gpu_scale");
    /* bf16 embedding gather (the forward of a bf16-weight model) */
    {
        uint16_t *E16 = malloc((size_t)V * D * 2);
        float *xw = malloc((size_t)N * D * 4);
        CHECK_ALLOC(E16); CHECK_ALLOC(xw);
        for (size_t i = 0; i < (size_t)V * D; i++) E16[i] = f32_to_bf16(dE[i]);
        for (int nn = 0; nn < N; nn++)
            for (int k = 0; k < D; k++) xw[(size_t)nn * D + k] = bf16_to_f32(E16[(size_t)tok[nn] * D + k]) * scale;
        uint16_t *d_E16 = gpu_alloc((size_t)V * D * 2);
        float *d_xw = gpu_alloc((size_t)N * D * 4);
        OK(gpu_upload(d_E16, E16, (size_t)V * D * 2));
        OK(gpu_embed_bf16(d_xw, d_E16, d_tok, N, D, scale));
        TEST_CHECK(bits_differ(d_xw, xw, (size_t)N * D) == 0, "gpu_embed_bf16 == the CPU bf16 gather bit for bit");
        gpu_free(d_E16); gpu_free(d_xw);
        free(E16); free(xw);
    }
    gpu_free(d_dx); gpu_free(d_tok); gpu_free(d_d); gpu_free(d_db); gpu_free(d_ss);
    free(dx); free(dE); free(want); free(d); free(db); free(dbw); free(sw);
}

/* The CPU update of one tensor: models/optim.c adamw_step's loop (as of
 * 2ce24d9), verbatim; norm is the global gradient norm (grad_norm). Kept
 * here, not called through adamw_step, so this test needs no model. */
static void cpu_adamw_tensor(float *p, float *m, float *v, const float *g, size_t n, double norm,
                             const adamw_config *c, int64_t step, int decayed) {
    float gscale = (c->clip > 0 && norm > c->clip) ? (float)(c->clip / norm) : 1.0f;
    double lr = adamw_lr(c, step);
    int64_t t = step + 1;
    float b1 = (float)c->beta1, b2 = (float)c->beta2;
    float bc1 = (float)(1.0 - pow(c->beta1, (double)t)), bc2 = (float)(1.0 - pow(c->beta2, (double)t));
    float flr = (float)lr, eps = (float)c->eps, decay = (float)(lr * c->wd);
    float dec = decayed ? decay : 0.0f;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gscale;
        p[i] -= dec * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        float mh = m[i] / bc1, vh = v[i] / bc2;
        p[i] -= flr * mh / (sqrtf(vh) + eps);
    }
}

/* AdamW: two tensors (one decayed) in one parameter block, 4 steps
 * (clipping active in the first two: large gradients, then small ones),
 * gpu_sumsq + gpu_adamw_step per tensor vs the CPU update. */
static void test_adamw(void) {
    const size_t n0 = 1031, n1 = 77, np = n0 + n1;
    const size_t off[2] = {0, n0}, num[2] = {n0, n1};
    const int decayed[2] = {1, 0};
    adamw_config cfg;
    adamw_defaults(&cfg);
    cfg.warmup = 2;
    cfg.total = 10;
    float *p = rnd(np, 1), *m = calloc(np, 4), *v = calloc(np, 4);
    CHECK_ALLOC(m); CHECK_ALLOC(v);
    float *d_p = up(p, np), *d_m = gpu_alloc(np * 4), *d_v = gpu_alloc(np * 4);
    double *d_ss = gpu_alloc(sizeof(double));
    int steps_ok = 1, clipped = 0;
    for (int step = 0; step < 4; step++) {
        float *g = rnd(np, step < 2 ? 1.0f : 1e-3f);
        float *d_g = up(g, np);
        double norm = grad_norm(g, np);
        clipped += norm > cfg.clip;
        for (int k = 0; k < 2; k++)
            cpu_adamw_tensor(p + off[k], m + off[k], v + off[k], g + off[k], num[k], norm, &cfg, step, decayed[k]);
        OK(gpu_memset(d_ss, 0, sizeof(double)));
        OK(gpu_sumsq(d_ss, d_g, np));
        for (int k = 0; k < 2; k++) {
            gpu_adamw_args a = {adamw_lr(&cfg, step), cfg.wd, cfg.beta1, cfg.beta2, cfg.eps, cfg.clip, step + 1,
                                decayed[k]};
            OK(gpu_adamw_step(d_p + off[k], d_m + off[k], d_v + off[k], d_g + off[k], d_ss, num[k], &a));
        }
        double ep = err_dev(d_p, p, np), em = err_dev(d_m, m, np), ev = err_dev(d_v, v, np);
        if (getenv("GRIFFIN_TEST_VERBOSE"))
            printf("  adamw step %d (norm %.3g): p %.3g m %.3g v %.3g\n", step, norm, ep, em, ev);
        steps_ok &= ep <= 1e-6 && em <= 1e-6 && ev <= 1e-6;
        gpu_free(d_g);
        free(g);
    }
    TEST_CHECK(clipped == 2, "the test clips in 2 of its 4 steps (%d)", clipped);
    TEST_CHECK(steps_ok, "gpu_adamw_step == the CPU AdamW update to fp32 rounding over 4 steps (clip on, then off)");
    gpu_adamw_args bad = {1e-3, 0.1, 0.9, 0.95, 1e-8, 1.0, 0, 1};
    TEST_CHECK(gpu_adamw_step(d_p, d_m, d_v, d_p, d_ss, 10, &bad) != 0, "step number 0 refused (1-based)");
    gpu_free(d_p); gpu_free(d_m); gpu_free(d_v); gpu_free(d_ss);
    free(p); free(m); free(v);
}

/* ==== end of the training and decode pieces ==== */

static void test_attn_decode(void) {
    const int B = 4, H = 3, dh = 40, S = 19;
    size_t nc = (size_t)B * S * dh;
    float *q = rnd((size_t)B * H * dh, 1), *kc = rnd(nc, 1), *vc = rnd(nc, 1), *kn = rnd((size_t)B * dh, 1);
    float *vn = rnd((size_t)B * dh, 1), *out = malloc((size_t)B * H * dh * 4);
    int32_t nv[4] = {0, 7, 19, 3};
    attn_decode_ref(out, q, kc, vc, nv, kn, vn, B, H, dh, S);
    float *d_q = up(q, (size_t)B * H * dh), *d_kc = up(kc, nc), *d_vc = up(vc, nc), *d_kn = up(kn, (size_t)B * dh);
    float *d_vn = up(vn, (size_t)B * dh), *d_o = gpu_alloc((size_t)B * H * dh * 4);
    int32_t *d_nv = upi(nv, 4);
    OK(gpu_attn_decode(d_o, d_q, d_kc, d_vc, d_nv, d_kn, d_vn, B, H, dh, S));
    TEST_CLOSE(err_dev(d_o, out, (size_t)B * H * dh), 2e-6, "attn decode (empty, partial, full cache)");
    /* cache write */
    int32_t slot[4] = {0, 7, 18, 3};
    uint8_t act[4] = {1, 1, 1, 0};
    for (int b = 0; b < B; b++)
        if (act[b]) {
            memcpy(kc + ((size_t)b * S + slot[b]) * dh, kn + (size_t)b * dh, (size_t)dh * 4);
            memcpy(vc + ((size_t)b * S + slot[b]) * dh, vn + (size_t)b * dh, (size_t)dh * 4);
        }
    int32_t *d_slot = upi(slot, 4);
    uint8_t *d_act = gpu_alloc(4);
    OK(gpu_upload(d_act, act, 4));
    OK(gpu_kv_write_slot(d_kc, d_vc, d_kn, d_vn, d_slot, d_act, B, dh, S));
    TEST_CLOSE(err_dev(d_kc, kc, nc) + err_dev(d_vc, vc, nc), 0, "kv cache write (active mask)");
    gpu_free(d_q); gpu_free(d_kc); gpu_free(d_vc); gpu_free(d_kn); gpu_free(d_vn); gpu_free(d_o); gpu_free(d_nv);
    gpu_free(d_slot); gpu_free(d_act);
    free(q); free(kc); free(vc); free(kn); free(vn); free(out);
}

/* ---- the model on the device: graph decode, bf16 weights ------------------------------- */

/* A model of `preset` with weights from `seed` and non-zero biases and norm
 * scales (so every parameter matters), in storage wd. */
static int model_of(model *m, const char *preset, weights_dtype wd, uint64_t seed) {
    model_config c;
    if (config_preset(preset, &c) != 0 || model_create_dtype(m, &c, wd) != 0) return -1;
    rng_t r;
    rng_seed(&r, seed + 77);
    for (int i = 0; i < m->ntensors; i++) {
        tensor_desc *t = &m->tensors[i];
        if (t->init == INIT_ZERO) t->init = INIT_NORMAL, t->std = 0.1f;
    }
    return model_init_weights(m, seed);
}

/* Decode STEPS steps (the local ring wraps: W = 8 in the tiny presets; row 1
 * idles at step 5) on the cpu, on cuda without graphs and on cuda with them:
 * graph == non-graph on the device to 1e-6 (the same kernels, a mask of
 * ones for NULL), device == cpu to tol. */
static void graph_decode_case(const char *preset, weights_dtype wd, double tol) {
    model mc, mg, mn;
    if (model_of(&mc, preset, wd, 4) || model_of(&mg, preset, wd, 4) || model_of(&mn, preset, wd, 4)) {
        TEST_CHECK(0, "%s: %s", preset, util_last_error());
        return;
    }
    OK(model_set_device(&mg, &backend_cuda));
    OK(model_set_device(&mn, &backend_cuda));
    enum { B = 4, STEPS = 21 };
    const int V = mc.cfg.vocab;
    decode_state sc, sg, sn;
    OK(decode_state_alloc(&sc, &mc, B, STEPS));
    OK(decode_state_alloc(&sg, &mg, B, STEPS));
    OK(decode_state_alloc(&sn, &mn, B, STEPS));
    sn.graphs = 0;
    TEST_CHECK(sg.graphs == 1, "%s: graph decode on by default on cuda (GRIFFIN_NO_GRAPH unset?)", preset);
    float *lc = malloc((size_t)B * V * 4), *lg = malloc((size_t)B * V * 4), *ln = malloc((size_t)B * V * 4);
    const uint8_t idle[B] = {1, 0, 1, 1};
    double egn = 0, egc = 0;
    int32_t tok[B];
    for (int s = 0; s < STEPS; s++) {
        const uint8_t *am = s == 5 ? idle : NULL;
        for (int b = 0; b < B; b++) tok[b] = (int32_t)((s * 7 + b * 13 + 2) % V);
        OK(model_decode_step(&mc, &sc, tok, am, lc));
        OK(model_decode_step(&mn, &sn, tok, am, ln));
        OK(model_decode_step(&mg, &sg, tok, am, lg));
        egn = fmax(egn, util_max_rel_err(lg, ln, (size_t)B * V));
        egc = fmax(egc, util_max_rel_err(lg, lc, (size_t)B * V));
    }
    char what[160];
    snprintf(what, sizeof what, "%s %s: cuda graph decode == cuda decode", preset, weights_name(wd));
    TEST_CLOSE(egn, 1e-6, what);
    snprintf(what, sizeof what, "%s %s: cuda graph decode == cpu decode", preset, weights_name(wd));
    TEST_CLOSE(egc, tol, what);
    TEST_CHECK(sg.graph_captures == 1 && sg.graph_replays == STEPS - 1,
               "%s: captured %ld times (want 1), replayed %ld (want %d)", preset, sg.graph_captures, sg.graph_replays, STEPS - 1);
    TEST_CHECK(!memcmp(sg.n, sc.n, B * sizeof(int32_t)), "%s: token counts", preset);
    free(lc); free(lg); free(ln);
    decode_state_free(&sc); decode_state_free(&sg); decode_state_free(&sn);
    model_free(&mc); model_free(&mg); model_free(&mn);
}

static void test_model_graph(void) {
    const char *fams[] = {"tiny-mqa", "tiny-hawk", "tiny-griffin"};
    for (int i = 0; i < 3; i++) graph_decode_case(fams[i], WEIGHTS_F32, 1e-3);
}

/* bf16 weights on cuda (cublasGemmEx, bf16 inputs, fp32 accumulation; the
 * activation rounded to bf16 as the CPU's bf16-dp does) against the cpu's
 * bf16 path on the same bf16 weights: prefill logits within 3e-2 of max|l|
 * (one more bf16 rounding per activation than bf16-widen: u = 2^-8 per
 * term), within 1e-3 with the device's bf16-ref GEMM (B widened, A not
 * rounded: the cpu's arithmetic); decode (graphs) likewise. */
static void test_model_bf16(void) {
    const char *fams[] = {"tiny-mqa", "tiny-hawk", "tiny-griffin"};
    for (int f = 0; f < 3; f++) {
        model mc, mg;
        if (model_of(&mc, fams[f], WEIGHTS_BF16, 6) || model_of(&mg, fams[f], WEIGHTS_BF16, 6)) {
            TEST_CHECK(0, "%s: %s", fams[f], util_last_error());
            continue;
        }
        OK(model_set_device(&mg, &backend_cuda));
        const int B = 2, T = 19, N = B * T, V = mc.cfg.vocab;
        int32_t *tok = malloc((size_t)N * 4), *pos = malloc((size_t)N * 4);
        for (int i = 0; i < N; i++) tok[i] = (i * 31 + 5) % V, pos[i] = i % T;
        model_acts ac, ag;
        OK(model_acts_alloc(&ac, &mc, B, T, 0));
        OK(model_acts_alloc(&ag, &mg, B, T, 0));
        OK(model_forward(&mc, &ac, tok, pos, NULL));
        const char *gemms[] = {"bf16", "bf16-ref"};
        const double tols[] = {3e-2, 1e-3};
        for (int k = 0; k < 2; k++) {
            OK(backend_cuda.gemm_select(gemms[k]));
            OK(model_forward(&mg, &ag, tok, pos, NULL));
            const float *l = model_acts_logits(&ag);
            char what[128];
            snprintf(what, sizeof what, "%s bf16 weights: cuda (%s) vs cpu prefill logits", fams[f], gemms[k]);
            TEST_CHECK(l != NULL, "logits: %s", util_last_error());
            if (l) TEST_CLOSE(util_max_rel_err(l, ac.logits, (size_t)N * V), tols[k], what);
        }
        OK(backend_cuda.gemm_select("bf16"));
        model_acts_free(&ac); model_acts_free(&ag);
        free(tok); free(pos);
        model_free(&mc); model_free(&mg);
        graph_decode_case(fams[f], WEIGHTS_BF16, 3e-2);
    }
}

int main(void) {
    unsetenv("GRIFFIN_NO_GRAPH"); /* the graph checks need the default: graphs where the backend has them */
    char why[256];
    if (!gpu_available(why, sizeof why)) return test_skip_all(why, N_GROUPS + N_TRAIN_GROUPS);
    char desc[512];
    gpu_describe(desc, sizeof desc);
    printf("device: %s\n", desc);
    rng_seed(&g_rng, 1234);
    test_gemm();
    test_gemm_bf16();
    test_scan();
    test_scan_step();
    test_conv();
    test_norm_act();
    test_rope_xent_embed();
    test_attention();
    test_attention_backward();
    test_attn_decode_split();
    test_decode_bookkeeping();
    test_graph();
    test_train_pieces();
    test_adamw();
    test_determinism();
    test_attn_decode();
    test_model_graph();
    test_model_bf16();
    return test_summary();
}
