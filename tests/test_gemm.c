/* test_gemm.c — GEMM variants against the double-accumulating oracle gemm_ref.
 *
 * bf16-weight variants (B stored as bfloat16), elementwise against the scale
 * S = |alpha| |A| |B| + |beta C| (the sum of the absolute terms, so
 * cancellation cannot hide or fake an error): against gemm_ref on the widened
 * bf16 weights |C - R1| <= tol S (bf16-ref 1e-6, bf16-widen 1e-5: the same
 * fp32 arithmetic; bf16-dp 2^-7: it rounds A to bf16, at most u = 2^-8 per
 * term), and against gemm_ref on the unrounded fp32 weights |C - R0| <=
 * tol S (2^-7 with one rounded factor, 2^-6 for dp with two: 2u + u^2).
 * Each bound is twice the worst case of the rounding alone. Same odd shapes,
 * pads, transposes, alpha/beta, threads and tiny blocks as fp32.
 *
 * Correctness shapes are odd and misaligned: M, N, K drawn from
 * {1,2,3,5,7,13,17,31,33,64,97,130,257,300}, every transpose combination,
 * leading dimensions larger than the row (the gaps of A and B hold NaN, so
 * reading them poisons the result; the gaps and tail of C hold a sentinel that
 * must survive), beta in {0 over a NaN-filled C, 1, 0.5}, alpha in {1, -0.5},
 * 1 and 2 threads, default and deliberately tiny cache blocks (so every
 * block-edge path runs), and calls from inside an OpenMP parallel region.
 *
 *   make build/tests/test_gemm && build/tests/test_gemm
 *   GRIFFIN_TEST_VERBOSE=1 prints every error figure.
 */
#include "bf16.h"
#include "matmul.h"
#include "suite.h"
#include "test.h"
#include "util.h"

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define SENTINEL 12345.0f

typedef void (*gemm_fn)(int, int, int, int, int, float, const float *, int, const float *, int, float,
                        float *, int);

/* A (rows, cols) with leading dimension ld >= cols; gap and tail NaN. */
static float *make_mat(rng_t *r, int rows, int cols, int ld, float gap) {
    size_t n = (size_t)rows * ld + 16;
    float *p = (float *)util_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = gap;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) p[(size_t)i * ld + j] = (float)(2.0 * rng_uniform(r) - 1.0);
    return p;
}

/* max |c - ref| / max |ref| over the (M,N) region; NaN propagates to a failure. */
static double region_err(const float *c, const float *ref, int M, int N, int ldc) {
    double num = 0, den = 1e-30;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double d = fabs((double)c[(size_t)i * ldc + j] - ref[(size_t)i * ldc + j]);
            if (isnan(d)) return NAN;
            if (d > num) num = d;
            double a = fabs((double)ref[(size_t)i * ldc + j]);
            if (a > den) den = a;
        }
    return num / den;
}

static int gaps_intact(const float *c, int M, int N, int ldc) {
    size_t n = (size_t)M * ldc + 16;
    for (size_t i = 0; i < n; i++) {
        size_t row = i / (size_t)ldc, col = i % (size_t)ldc;
        if (row < (size_t)M && col < (size_t)N) continue;
        if (c[i] != SENTINEL) return 0;
    }
    return 1;
}

/* One case: fn against gemm_ref; returns nothing, counts two checks. */
static void check_case(gemm_fn fn, const char *name, rng_t *r, int tA, int tB, int M, int N, int K, int pad,
                       float alpha, float beta) {
    int lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
    float *A = make_mat(r, tA ? K : M, tA ? M : K, lda, NAN);
    float *B = make_mat(r, tB ? N : K, tB ? K : N, ldb, NAN);
    float *C = make_mat(r, M, N, ldc, SENTINEL);
    float *R = (float *)util_alloc(((size_t)M * ldc + 16) * sizeof(float));
    if (beta == 0.0f) /* beta = 0: C must not be read */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = NAN;
    memcpy(R, C, ((size_t)M * ldc + 16) * sizeof(float));
    gemm_ref(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc);
    fn(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    char what[160];
    snprintf(what, sizeof what, "%s tA=%d tB=%d M=%d N=%d K=%d pad=%d a=%g b=%g t=%d", name, tA, tB, M, N, K, pad,
             alpha, beta, util_threads());
    TEST_CLOSE(region_err(C, R, M, N, ldc), 1e-5, what);
    TEST_CHECK(gaps_intact(C, M, N, ldc), "%s: C gap/tail sentinel overwritten", what);
    util_free(A);
    util_free(B);
    util_free(C);
    util_free(R);
}

typedef void (*gemm16_fn)(int, int, int, int, int, float, const float *, int, const uint16_t *, int, float,
                          float *, int);
#define BF16_TOL (1.0 / 128)   /* one factor rounded to bf16 (u = 2^-8): 2u */
#define BF16_TOL2 (1.0 / 64)   /* both factors rounded (dp against fp32 weights): 2 (2u + u^2) */

/* max over the (M,N) region of |c - ref| / S; NaN propagates to a failure. */
static double scaled_err(const float *c, const float *ref, const float *S, int M, int N, int ldc) {
    double w = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            size_t o = (size_t)i * ldc + j;
            double d = fabs((double)c[o] - ref[o]) / ((double)S[o] + 1e-30);
            if (isnan(d)) return NAN;
            if (d > w) w = d;
        }
    return w;
}

static float *abs_copy(const float *p, size_t n) {
    float *q = (float *)util_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) q[i] = fabsf(p[i]);
    return q;
}

/* One bf16 case: fn against gemm_ref on the widened weights (tol_exact) and on
 * the unrounded ones (BF16_TOL); C's gaps must survive. */
static void check_case16(gemm16_fn fn, const char *name, double tol_exact, double tol_f32, rng_t *r, int tA, int tB, int M, int N,
                         int K, int pad, float alpha, float beta) {
    int lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
    int brows = tB ? N : K;
    size_t nb = (size_t)brows * ldb + 16, nc = (size_t)M * ldc + 16;
    float *A = make_mat(r, tA ? K : M, tA ? M : K, lda, NAN);
    float *B = make_mat(r, brows, tB ? K : N, ldb, NAN);
    uint16_t *B16 = (uint16_t *)util_alloc(nb * sizeof(uint16_t));
    float *Bw = (float *)util_alloc(nb * sizeof(float));
    bf16_from_f32(B16, B, nb); /* gaps stay NaN */
    bf16_to_f32_array(Bw, B16, nb);
    float *C = make_mat(r, M, N, ldc, SENTINEL);
    if (beta == 0.0f)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = NAN;
    float *R1 = (float *)util_alloc(nc * sizeof(float)), *R0 = (float *)util_alloc(nc * sizeof(float));
    float *S = abs_copy(C, nc), *Aa = abs_copy(A, (size_t)(tA ? K : M) * lda + 16), *Ba = abs_copy(B, nb);
    memcpy(R1, C, nc * sizeof(float));
    memcpy(R0, C, nc * sizeof(float));
    gemm_ref(tA, tB, M, N, K, alpha, A, lda, Bw, ldb, beta, R1, ldc);
    gemm_ref(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, R0, ldc);
    gemm_ref(tA, tB, M, N, K, fabsf(alpha), Aa, lda, Ba, ldb, fabsf(beta), S, ldc);
    fn(tA, tB, M, N, K, alpha, A, lda, B16, ldb, beta, C, ldc);
    char what[160];
    snprintf(what, sizeof what, "%s tA=%d tB=%d M=%d N=%d K=%d pad=%d a=%g b=%g t=%d", name, tA, tB, M, N, K, pad,
             alpha, beta, util_threads());
    TEST_CLOSE(scaled_err(C, R1, S, M, N, ldc), tol_exact, what);
    TEST_CLOSE(scaled_err(C, R0, S, M, N, ldc), tol_f32, what);
    TEST_CHECK(gaps_intact(C, M, N, ldc), "%s: C gap/tail sentinel overwritten", what);
    util_free(S);
    util_free(Aa);
    util_free(Ba);
    util_free(A);
    util_free(B);
    util_free(B16);
    util_free(Bw);
    util_free(C);
    util_free(R1);
    util_free(R0);
}

static const int dims[] = {1, 2, 3, 5, 7, 13, 17, 31, 33, 64, 97, 130, 257, 300};
#define NDIMS ((int)(sizeof dims / sizeof dims[0]))

/* Sweep: nshapes random (M,N,K) triples (plus the fixed ones) x 4 transposes,
 * cycling beta, alpha, padding and thread count. Large triples are thinned so
 * the whole run stays within a few seconds (the oracle is O(MNK) in double). */
static void sweep_any(gemm_fn fn, gemm16_fn fn16, double tol16, const char *name, int nshapes, uint64_t seed) {
    rng_t r;
    rng_seed(&r, seed);
    static const int fixed[][3] = {{1, 300, 257},  {2, 257, 300}, {5, 130, 97},  {7, 33, 300},   {13, 64, 31},
                                   {300, 1, 1},    {1, 1, 300},   {17, 300, 2},  {257, 130, 33}, {300, 97, 300},
                                   {64, 64, 64},   {33, 31, 17},  {8, 300, 257}, {9, 257, 130},  {3, 7, 5}};
    const int nfixed = (int)(sizeof fixed / sizeof fixed[0]);
    const float betas[3] = {0.0f, 1.0f, 0.5f}, alphas[2] = {1.0f, -0.5f};
    const int pads[3] = {0, 3, 17};
    int c = 0;
    for (int s = 0; s < nfixed + nshapes; s++) {
        int M, N, K;
        if (s < nfixed) {
            M = fixed[s][0];
            N = fixed[s][1];
            K = fixed[s][2];
        } else {
            M = dims[rng_below(&r, NDIMS)];
            N = dims[rng_below(&r, NDIMS)];
            K = dims[rng_below(&r, NDIMS)];
            if ((double)M * N * K > 4e6) { /* keep the oracle cheap */
                s--;
                continue;
            }
        }
        for (int t = 0; t < 4; t++, c++) {
            util_set_threads(1 + (c & 1));
            if (fn16)
                check_case16(fn16, name, tol16, tol16 > 1e-3 ? BF16_TOL2 : BF16_TOL, &r, t >> 1, t & 1, M, N, K, pads[(c / 3) % 3], alphas[(c / 9) % 2],
                             betas[c % 3]);
            else
                check_case(fn, name, &r, t >> 1, t & 1, M, N, K, pads[(c / 3) % 3], alphas[(c / 9) % 2], betas[c % 3]);
        }
    }
}
static void sweep(gemm_fn fn, const char *name, int nshapes, uint64_t seed) { sweep_any(fn, NULL, 0, name, nshapes, seed); }
static void sweep16(gemm16_fn fn, double tol, const char *name, int nshapes, uint64_t seed) {
    sweep_any(NULL, fn, tol, name, nshapes, seed);
}

/* The model's bf16 shapes at decode and prefill sizes (M = 1, 16, 64, 130;
 * K and N of a small model, one odd), both transposes the model uses. */
static void model_shapes16(gemm16_fn fn, double tol, const char *name) {
    rng_t r;
    rng_seed(&r, 21);
    const int Ms[] = {1, 2, 16, 47, 49, 64, 130};
    for (int i = 0; i < (int)(sizeof Ms / sizeof Ms[0]); i++) {
        util_set_threads(1 + (i & 1));
        double t0 = tol > 1e-3 ? BF16_TOL2 : BF16_TOL;
        check_case16(fn, name, tol, t0, &r, 0, 1, Ms[i], 320, 257, 0, 1.0f, 0.0f); /* linear: x W^T */
        check_case16(fn, name, tol, t0, &r, 0, 0, Ms[i], 769, 256, 0, 1.0f, 1.0f); /* MLP up, bias in C */
        check_case16(fn, name, tol, t0, &r, 0, 0, Ms[i], 40, 40, 280, 1.0f, 1.0f); /* gate block, ld = L */
    }
}

/* The decode GEMVs (M <= 4; M = 5 takes the tiled form): transB = 0 runs the
 * row-streaming form (8 W rows per sweep, 64-column register tiles) and
 * transB = 1 the dot-product tiles with prefetch of the next rows, so N and K
 * straddle every tail (N mod 64, K mod 8, N mod 4, K mod 16) on 1 and 2
 * threads, with beta 0 over NaN, 1 and 0.5, padded leading dimensions.
 * bf16-dp at M <= 4, transB = 0 widens the weights and multiplies in fp32 on
 * A rounded to bf16: the dp tolerances, as in every other dp path. */
static void decode_shapes(void) {
    rng_t r;
    rng_seed(&r, 31);
    static const int Ns[] = {1, 5, 63, 64, 65, 130, 1030}, Ks[] = {1, 7, 8, 9, 17, 300};
    const float betas[3] = {0.0f, 1.0f, 0.5f};
    int c = 0;
    for (int M = 1; M <= 5; M++)
        for (int ni = 0; ni < (int)(sizeof Ns / sizeof Ns[0]); ni++)
            for (int ki = 0; ki < (int)(sizeof Ks / sizeof Ks[0]); ki++)
                for (int tB = 0; tB < 2; tB++, c++) {
                int N = Ns[ni], K = Ks[ki], pad = c % 3 ? 0 : 5;
                float beta = betas[c % 3];
                util_set_threads(1 + ((c >> 1) & 1));
                check_case(gemm_fast, "fast-decode", &r, 0, tB, M, N, K, pad, 1.0f, beta);
                check_case(gemm_fast_tiled, "fast-tiled-decode", &r, 0, tB, M, N, K, pad, 1.0f, beta);
                check_case16(gemm_bf16_fast_tiled, "bf16-widen-tiled-decode", 1e-5, BF16_TOL, &r, 0, tB, M, N, K, pad, 1.0f, beta);
                check_case16(gemm_bf16_fast, "bf16-widen-decode", 1e-5, BF16_TOL, &r, 0, tB, M, N, K, pad, 1.0f, beta);
                if (gemm_bf16_dp_available())
                    check_case16(gemm_bf16_dp, "bf16-dp-decode", BF16_TOL, BF16_TOL2, &r, 0, tB, M, N, K, pad, -0.5f, beta);
            }
}

/* fp32 weights at 8 <= M <= 128 (decode at batch 8..128) take the lanes form
 * (x in blocks of 16 rows as vector lanes, 16 W rows or columns per tile,
 * broadcast FMAs, a register transpose at the store): M around the 16-row
 * blocks (7 below the form, 8 its first, 15, 16, 17, 31..33, 48, 49, 64, 65,
 * 128, and 129 past it: the blocked path), N around
 * the 16-wide tiles and the work items, K odd, one K block of the transB = 0
 * form and several with a tail (64-row blocks), and K = 1024 unpadded (a row
 * stride of 4 KiB: transB = 1 runs its tiles as two passes of 8 rows), both
 * transposes of A and B, alpha 1 and -0.5, beta 0 over NaN, 1 and 0.5, 1 and
 * 2 threads; fast-tiled (the dot-product tiles) on the same cases. */
static void lanes_shapes(void) {
    rng_t r;
    rng_seed(&r, 61);
    static const int Ms[] = {7, 8, 15, 16, 17, 31, 32, 33, 48, 49, 64, 65, 128, 129}, Ns[] = {1, 15, 16, 17, 130},
                     Ks[] = {1, 63, 65, 300, 1024};
    const float betas[3] = {0.0f, 1.0f, 0.5f};
    int c = 0;
    for (int mi = 0; mi < (int)(sizeof Ms / sizeof Ms[0]); mi++)
        for (int ni = 0; ni < (int)(sizeof Ns / sizeof Ns[0]); ni++)
            for (int ki = 0; ki < (int)(sizeof Ks / sizeof Ks[0]); ki++, c++) {
                int M = Ms[mi], N = Ns[ni], K = Ks[ki], tA = (c >> 1) & 1, tB = c & 1;
                int pad = K == 1024 ? 0 : c % 3 ? 0 : 3;
                float beta = betas[c % 3], alpha = c % 5 ? 1.0f : -0.5f;
                util_set_threads(1 + ((c >> 2) & 1));
                check_case(gemm_fast, "fast-lanes", &r, tA, tB, M, N, K, pad, alpha, beta);
                check_case(gemm_fast, "fast-lanes", &r, !tA, !tB, M, N, K, pad, alpha, betas[(c + 1) % 3]);
                if (c % 4 == 0) check_case(gemm_fast_tiled, "fast-tiled-lanes", &r, tA, tB, M, N, K, pad, alpha, beta);
            }
}

/* Medium M (48 < M <= 128: decode at batch 64, short prompts) takes the
 * strip path (B packed one kc x NR strip at a time, A packed once for every K
 * block): M around the row-strip and range edges, N around the 32-column
 * strips and the 4-strip work items, K one and two K blocks with an odd tail
 * (769: two blocks of 385), both transposes of A and B, beta 0 over NaN, 1
 * and 0.5, on 1 and 2 threads; fp32, bf16-widen and bf16-dp against gemm_ref. */
static void medium_shapes(void) {
    rng_t r;
    rng_seed(&r, 51);
    static const int Ms[] = {49, 64, 113, 128}, Ns[] = {33, 129, 300}, Ks[] = {17, 769};
    const float betas[3] = {0.0f, 1.0f, 0.5f};
    int c = 0;
    for (int mi = 0; mi < 4; mi++)
        for (int ni = 0; ni < 3; ni++)
            for (int ki = 0; ki < 2; ki++, c++) {
                int M = Ms[mi], N = Ns[ni], K = Ks[ki], tA = (c >> 1) & 1, tB = c & 1, pad = c % 3 ? 0 : 3;
                float beta = betas[c % 3];
                util_set_threads(1 + ((c >> 2) & 1));
                check_case(gemm_fast, "fast-medium", &r, tA, tB, M, N, K, pad, 1.0f, beta);
                check_case(gemm_fast, "fast-medium", &r, tA, !tB, M, N, K, pad, -0.5f, beta);
                check_case16(gemm_bf16_fast, "bf16-widen-medium", 1e-5, BF16_TOL, &r, tA, tB, M, N, K, pad, 1.0f, beta);
                if (gemm_bf16_dp_available())
                    check_case16(gemm_bf16_dp, "bf16-dp-medium", BF16_TOL, BF16_TOL2, &r, tA, !tB, M, N, K, pad, 1.0f, beta);
            }
}

/* gemm_group: products of one M (decode's projections of one input, the
 * MLP's two up branches, gate blocks of one input at column offsets) with
 * fp32 and bf16 weights mixed, both transposes, shared and separate inputs,
 * one product big enough to split into many work items and tiny ones that run
 * as one item, beta 0 over NaN and 1, padded C with sentinels. Each variant's
 * group must equal the same products called one by one bit for bit (the same
 * work items), and each product gemm_ref on its (widened) weights: 1e-5 of
 * max|C| for fp32 and bf16-widen, 2^-7 for bf16-dp (it rounds A). M = 49
 * takes the packed path, one product at a time; "ref" and "fast-tiled" run
 * the products one by one. */
enum { GR_N = 6 };
static void group_case(rng_t *r, const char *variant, int M) {
    static const int Ns[GR_N] = {1031, 5, 65, 33, 130, 7}, Ks[GR_N] = {1029, 300, 17, 33, 33, 33};
    static const int tBs[GR_N] = {1, 0, 1, 0, 0, 1}, b16[GR_N] = {0, 1, 1, 0, 1, 0}, shareA[GR_N] = {0, 0, 0, 1, 1, 1};
    const int dp = !strcmp(variant, "bf16-dp");
    gemm_op ops[GR_N], one[GR_N];
    float *A[GR_N], *B[GR_N], *Bw[GR_N], *C[GR_N], *C1[GR_N], *R[GR_N];
    uint16_t *B16[GR_N];
    /* products 3..5 read one A (K = 33) */
    float *Ash = make_mat(r, M, 33, 33 + 3, NAN);
    for (int i = 0; i < GR_N; i++) {
        int N = Ns[i], K = Ks[i], tB = tBs[i], pad = i % 2 ? 3 : 0;
        int share = shareA[i], lda = share ? 33 + 3 : K + pad, ldb = (tB ? K : N) + pad, ldc = N + pad;
        size_t nb = (size_t)(tB ? N : K) * ldb + 16, nc = (size_t)M * ldc + 16;
        A[i] = share ? Ash : make_mat(r, M, K, lda, NAN);
        B[i] = make_mat(r, tB ? N : K, tB ? K : N, ldb, NAN);
        B16[i] = (uint16_t *)util_alloc(nb * sizeof(uint16_t));
        Bw[i] = (float *)util_alloc(nb * sizeof(float));
        bf16_from_f32(B16[i], B[i], nb);
        bf16_to_f32_array(Bw[i], B16[i], nb);
        C[i] = make_mat(r, M, N, ldc, SENTINEL);
        float beta = i % 3 == 1 ? 0.0f : 1.0f;
        if (beta == 0.0f)
            for (int m = 0; m < M; m++)
                for (int j = 0; j < N; j++) C[i][(size_t)m * ldc + j] = NAN;
        C1[i] = (float *)util_alloc(nc * sizeof(float));
        R[i] = (float *)util_alloc(nc * sizeof(float));
        memcpy(C1[i], C[i], nc * sizeof(float));
        memcpy(R[i], C[i], nc * sizeof(float));
        int w16 = b16[i];
        ops[i] = (gemm_op){.transB = tB, .N = N, .K = K, .A = A[i], .lda = lda, .B = w16 ? NULL : B[i],
                           .B16 = w16 ? B16[i] : NULL, .ldb = ldb, .beta = beta, .C = C[i], .ldc = ldc};
        one[i] = ops[i];
        one[i].C = C1[i];
        gemm_ref(0, tB, M, N, K, 1.0f, A[i], lda, w16 ? Bw[i] : B[i], ldb, beta, R[i], ldc);
    }
    gemm_group(M, GR_N, ops);
    for (int i = 0; i < GR_N; i++) {
        const gemm_op *o = &one[i];
        if (o->B16) gemm_bf16(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B16, o->ldb, o->beta, o->C, o->ldc);
        else gemm(0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B, o->ldb, o->beta, o->C, o->ldc);
    }
    for (int i = 0; i < GR_N; i++) {
        char what[160];
        snprintf(what, sizeof what, "group %s M=%d product %d (tB=%d N=%d K=%d %s) t=%d", variant, M, i, tBs[i], Ns[i],
                 Ks[i], ops[i].B16 ? "bf16" : "f32", util_threads());
        size_t bad = 0;
        for (int m = 0; m < M; m++)
            for (int j = 0; j < Ns[i]; j++) {
                size_t o = (size_t)m * ops[i].ldc + j;
                bad += memcmp(&C[i][o], &C1[i][o], sizeof(float)) != 0;
            }
        TEST_CHECK(bad == 0, "%s: %zu elements differ from the products one by one", what, bad);
        TEST_CLOSE(region_err(C[i], R[i], M, Ns[i], ops[i].ldc), ops[i].B16 && dp ? BF16_TOL : 1e-5, what);
        TEST_CHECK(gaps_intact(C[i], M, Ns[i], ops[i].ldc), "%s: C gap/tail sentinel overwritten", what);
        if (A[i] != Ash) util_free(A[i]);
        util_free(B[i]);
        util_free(B16[i]);
        util_free(Bw[i]);
        util_free(C[i]);
        util_free(C1[i]);
        util_free(R[i]);
    }
    util_free(Ash);
}

static void group_shapes(void) {
    rng_t r;
    rng_seed(&r, 41);
    const char *vars[] = {"fast", "bf16-widen", "bf16-dp", "ref", "fast-tiled"};
    const int Ms[] = {1, 2, 4, 5, 16, 17, 49};
    int c = 0;
    for (int v = 0; v < 5; v++) {
        if (!strcmp(vars[v], "bf16-dp") && !gemm_bf16_dp_available()) continue;
        TEST_CHECK(gemm_set_variant(vars[v]) == 0, "select %s", vars[v]);
        for (int i = 0; i < (int)(sizeof Ms / sizeof Ms[0]); i++, c++) {
            if (!strcmp(vars[v], "ref") && Ms[i] > 5) continue; /* the oracle's speed */
            util_set_threads(Ms[i] == 1 ? 2 : 1 + (c & 1)); /* M = 1 on 2 threads always */
            group_case(&r, vars[v], Ms[i]);
        }
    }
    gemm_set_variant("auto");
}

/* Called from inside a parallel region: each thread its own C, one team only. */
static void nested(void) {
    enum { M = 97, N = 130, K = 64, T = 2 };
    rng_t r;
    rng_seed(&r, 7);
    float *A = make_mat(&r, M, K, K, NAN), *B = make_mat(&r, N, K, K, NAN);
    float *R = (float *)util_alloc((size_t)M * N * sizeof(float));
    float *Cs[T];
    gemm_ref(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, R, N);
    for (int t = 0; t < T; t++) Cs[t] = (float *)util_alloc((size_t)M * N * sizeof(float));
    util_set_threads(2);
#pragma omp parallel for num_threads(T)
    for (int t = 0; t < T; t++) gemm_fast(0, 1, M, N, K, 1.0f, A, K, B, K, 0.0f, Cs[t], N);
    for (int t = 0; t < T; t++) {
        TEST_CLOSE(region_err(Cs[t], R, M, N, N), 1e-5, "gemm_fast inside omp parallel");
        util_free(Cs[t]);
    }
    util_free(A);
    util_free(B);
    util_free(R);
}

/* K = 0 and alpha = 0: C = beta * C (beta = 0 overwrites NaN); M = 0 touches nothing. */
static void degenerate(void) {
    float C[6] = {1, 2, 3, NAN, NAN, NAN}, A[1] = {NAN}, B[1] = {NAN};
    gemm_fast(0, 0, 1, 3, 0, 1.0f, A, 1, B, 3, 0.5f, C, 3);
    TEST_CHECK(C[0] == 0.5f && C[1] == 1.0f && C[2] == 1.5f, "K=0 must scale C by beta");
    gemm_fast(0, 0, 1, 3, 1, 0.0f, A, 1, B, 3, 0.0f, C + 3, 3);
    TEST_CHECK(C[3] == 0.0f && C[4] == 0.0f && C[5] == 0.0f, "alpha=0 beta=0 must zero C");
    gemm_fast(0, 0, 0, 3, 1, 1.0f, A, 1, B, 3, 0.0f, C, 3);
    TEST_CHECK(C[0] == 0.5f, "M=0 must not touch C");
}

static void variants16(void) {
    TEST_CHECK(gemm_set_variant("auto") == 0 && !strcmp(gemm_bf16_variant(), "bf16"), "auto selects bf16 auto");
    TEST_CHECK(!strcmp(gemm_bf16_variant_resolved(), gemm_bf16_dp_available() ? "bf16-dp" : "bf16-widen"),
               "bf16 auto resolves to %s", gemm_bf16_variant_resolved());
    TEST_CHECK(gemm_set_variant("bf16-widen") == 0 && !strcmp(gemm_variant(), "auto") &&
                   !strcmp(gemm_bf16_variant(), "bf16-widen"),
               "a bf16 name leaves the fp32 selection");
    TEST_CHECK(gemm_set_variant("ref") == 0 && !strcmp(gemm_bf16_variant(), "bf16-ref"), "ref sets both");
    TEST_CHECK(gemm_set_variant("blas") == 0 && !strcmp(gemm_bf16_variant(), "bf16-ref"), "blas leaves bf16");
    TEST_CHECK(gemm_set_variant("fast") == 0 && !strcmp(gemm_bf16_variant(), "bf16-widen"), "fast -> bf16-widen");
    TEST_CHECK(gemm_set_variant("fast-tiled") == 0 && !strcmp(gemm_bf16_variant(), "bf16-widen-tiled") &&
                   !strcmp(gemm_variant_resolved(), "fast-tiled"),
               "fast-tiled -> bf16-widen-tiled");
    TEST_CHECK(gemm_set_variant("bf16-widen-tiled") == 0 && !strcmp(gemm_bf16_variant_resolved(), "bf16-widen-tiled"),
               "bf16-widen-tiled selectable");
    int dp = gemm_set_variant("bf16-dp");
    TEST_CHECK(gemm_bf16_dp_available() ? dp == 0 : (dp == -1 && strstr(util_last_error(), "avx512_bf16")),
               "bf16-dp selectable exactly where available (%d)", dp);
    TEST_CHECK(gemm_set_variant("bf16-nope") == -1 && strstr(util_last_error(), "bf16-nope"), "unknown bf16 name");
    gemm_set_variant("auto");
}

static void variants(void) {
    const char *want[] = {"auto", "fast", "fast-tiled", "blas", "ref"};
    for (int i = 0; i < 5; i++) {
        TEST_CHECK(gemm_set_variant(want[i]) == 0, "gemm_set_variant(%s)", want[i]);
        TEST_CHECK(!strcmp(gemm_variant(), want[i]), "gemm_variant() = %s, want %s", gemm_variant(), want[i]);
    }
    TEST_CHECK(gemm_set_variant("nope") == -1 && !strcmp(gemm_variant(), "ref"), "unknown name rejected, kept");
    TEST_CHECK(gemm_set_variant("auto") == 0 && !strcmp(gemm_variant_resolved(), "fast"), "auto -> fast");
    TEST_CHECK(strstr(gemm_variants_list(), "fast") != NULL, "variants list");
}

/* gemm() through the table must match the oracle, too. */
static void dispatch(void) {
    rng_t r;
    rng_seed(&r, 11);
    const char *names[] = {"auto", "fast", "fast-tiled", "blas"};
    for (int i = 0; i < 4; i++) {
        gemm_set_variant(names[i]);
        check_case(gemm, names[i], &r, 0, 1, 33, 97, 130, 5, 1.0f, 0.0f);
    }
    gemm_set_variant("auto");
}

/* The suites validate a bf16 model's paths before timing it: with bf16-dp
 * selected (activations rounded to bf16 at every GEMM input, so prefill and
 * decode differ by ~2^-8 and a 1e-4 check refused every bf16 model) they
 * validate on bf16-widen and leave the selection as it was. small-griffin:
 * tiny-griffin's paths happen to agree within 1e-4 even on bf16-dp. */
static void suite_validation16(void) {
    model_config cfg;
    model m;
    if (!gemm_bf16_dp_available()) { TEST_SKIP("suite validation on bf16-dp: no avx512_bf16 in this build"); return; }
    if (config_preset("small-griffin", &cfg) != 0 || model_create_dtype(&m, &cfg, WEIGHTS_BF16) != 0) {
        TEST_CHECK(0, "small-griffin bf16: %s", util_last_error());
        return;
    }
    model_init_weights(&m, 3);
    suite_ctx c;
    memset(&c, 0, sizeof c);
    c.suite = "test";
    TEST_CHECK(gemm_set_variant("bf16-dp") == 0, "select bf16-dp");
    TEST_CHECK(suite_validate(&c, &m, 2, cfg.window + 40) == 0, "bf16 prefill paths accepted with bf16-dp selected");
    TEST_CHECK(suite_validate_decode_upto(&c, &m, 2, 4 * cfg.window) == 0, "bf16 decode == prefill accepted with bf16-dp selected");
    TEST_CHECK(!strcmp(gemm_bf16_variant(), "bf16-dp"), "selection restored: %s", gemm_bf16_variant());
    gemm_set_variant("bf16");
    model_free(&m);
}

int main(void) {
    printf("gemm_fast micro-kernel: %s\n", gemm_fast_isa());
    variants();
    degenerate();
    sweep(gemm_fast, "fast", 55, 1);
    /* Tiny blocks: several jc / pc / ic blocks with ragged edges in each. */
    gemm_fast_set_blocking(28, 40, 64);
    sweep(gemm_fast, "fast-tinyblk", 20, 2);
    gemm_fast_set_blocking(0, 0, 0); /* defaults */
    nested();
    decode_shapes();
    lanes_shapes();
    medium_shapes();
    group_shapes();
    sweep(gemm_blas, "blas", 12, 3);
    dispatch();
    /* bf16 weights */
    variants16();
    sweep16(gemm_bf16_ref, 1e-6, "bf16-ref", 6, 4);
    sweep16(gemm_bf16_fast, 1e-5, "bf16-widen", 40, 5);
    model_shapes16(gemm_bf16_fast, 1e-5, "bf16-widen");
    gemm_fast_set_blocking(28, 40, 64);
    sweep16(gemm_bf16_fast, 1e-5, "bf16-widen-tinyblk", 12, 6);
    gemm_fast_set_blocking(0, 0, 0);
    if (gemm_bf16_dp_available()) {
        sweep16(gemm_bf16_dp, BF16_TOL, "bf16-dp", 40, 7);
        model_shapes16(gemm_bf16_dp, BF16_TOL, "bf16-dp");
        gemm_fast_set_blocking(28, 41, 64); /* odd K block: rounded up to even for the pairs */
        sweep16(gemm_bf16_dp, BF16_TOL, "bf16-dp-tinyblk", 12, 8);
        gemm_fast_set_blocking(0, 0, 0);
    } else {
        printf("SKIP bf16-dp: this build does not target avx512_bf16 (gemm_bf16_dp runs the widening kernel)\n");
    }
    suite_validation16();
    util_set_threads(0);
    return test_summary();
}
