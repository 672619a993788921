/* test_gemm_blocked.c — the blocked (large-M) path of gemm_fast with one B
 * panel (K <= KC, N <= NC) and many row blocks: on 2 threads each thread
 * packs its own copy of the panel, items come from a counter, the next item's
 * rows of A are prefetched, and the last row blocks split into column parts.
 *
 * Every case against gemm_ref, elementwise in units of the scale
 * S = |alpha| |op(A)| |op(B)| + |beta C| (cancellation cannot hide an error):
 * fp32 and bf16-widen within 1e-5 S of gemm_ref on the (widened) weights,
 * bf16-dp within 2^-7 S (it rounds A to bf16), as tests/test_gemm.c does.
 * Shapes sit on the path's edges: row blocks exactly 2 x 8 per thread (the
 * path's threshold) and one fewer or more, M off the 14-row strips, N around
 * the 32-column strips and the 4 tail parts, K at and one past the K block
 * (past it: the shared-panel loop, checked the same way), under tiny blocks
 * (MC 28, KC 40, NC 64) so the edges are cheap, and two model shapes at the
 * default blocks (a gate block with ld = 2 N, an MLP up at odd N, K). Both
 * transposes of A and B, leading dimensions padded with NaN gaps (read: the
 * result is NaN), C's gaps hold a sentinel that must survive, beta 0 over a
 * NaN-filled C, 1 and 0.5, alpha 1 and -0.5, 1 and 2 threads; and the 2-thread
 * result must equal the 1-thread one (the shared loop) bit for bit: the same
 * packed operands and kernels, only the schedule differs.
 */
#include "bf16.h"
#include "matmul.h"
#include "test.h"
#include "util.h"

#include <math.h>
#include <string.h>

#define GAP_C 777.0f

enum { W_F32, W_WIDEN, W_DP };
static const char *const k_wname[] = {"fast", "bf16-widen", "bf16-dp"};

typedef struct {
    int tA, tB, M, N, K, pad;
    float alpha, beta;
} bcase;

/* rows x cols of uniform(-1, 1) at leading dimension ld, everything else `fill`. */
static float *mat(rng_t *r, int rows, int cols, int ld, float fill) {
    size_t n = (size_t)rows * ld + 8;
    float *p = (float *)util_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (i % (size_t)ld) < (size_t)cols && i < (size_t)rows * ld ? (float)(2.0 * rng_uniform(r) - 1.0) : fill;
    return p;
}

static void run(int kind, const bcase *c, const float *A, int lda, const float *B, const uint16_t *B16, int ldb, float *C,
                int ldc) {
    if (kind == W_F32) gemm_fast(c->tA, c->tB, c->M, c->N, c->K, c->alpha, A, lda, B, ldb, c->beta, C, ldc);
    else if (kind == W_WIDEN) gemm_bf16_fast(c->tA, c->tB, c->M, c->N, c->K, c->alpha, A, lda, B16, ldb, c->beta, C, ldc);
    else gemm_bf16_dp(c->tA, c->tB, c->M, c->N, c->K, c->alpha, A, lda, B16, ldb, c->beta, C, ldc);
}

/* One case of one kind on 2 threads against gemm_ref, and against itself on 1 thread. */
static void check(rng_t *r, int kind, const bcase *c, const char *tag) {
    int lda = (c->tA ? c->M : c->K) + c->pad, ldb = (c->tB ? c->K : c->N) + c->pad, ldc = c->N + c->pad;
    int arows = c->tA ? c->K : c->M, brows = c->tB ? c->N : c->K;
    size_t na = (size_t)arows * lda + 8, nb = (size_t)brows * ldb + 8, nc = (size_t)c->M * ldc + 8;
    float *A = mat(r, arows, c->tA ? c->M : c->K, lda, NAN), *B = mat(r, brows, c->tB ? c->K : c->N, ldb, NAN);
    float *C0 = mat(r, c->M, c->N, ldc, GAP_C);
    if (c->beta == 0.0f) /* beta 0: C is never read */
        for (int i = 0; i < c->M; i++)
            for (int j = 0; j < c->N; j++) C0[(size_t)i * ldc + j] = NAN;
    uint16_t *B16 = (uint16_t *)util_alloc(nb * sizeof(uint16_t));
    if (kind != W_F32) { /* the reference multiplies the weights as stored */
        bf16_from_f32(B16, B, nb);
        bf16_to_f32_array(B, B16, nb);
    }
    float *R = (float *)util_alloc(nc * sizeof(float)), *S = (float *)util_alloc(nc * sizeof(float));
    float *C2 = (float *)util_alloc(nc * sizeof(float)), *C1 = (float *)util_alloc(nc * sizeof(float));
    float *Aa = (float *)util_alloc(na * sizeof(float)), *Ba = (float *)util_alloc(nb * sizeof(float));
    for (size_t i = 0; i < na; i++) Aa[i] = fabsf(A[i]);
    for (size_t i = 0; i < nb; i++) Ba[i] = fabsf(B[i]);
    for (size_t i = 0; i < nc; i++) S[i] = fabsf(C0[i]);
    memcpy(R, C0, nc * sizeof(float));
    gemm_ref(c->tA, c->tB, c->M, c->N, c->K, c->alpha, A, lda, B, ldb, c->beta, R, ldc);
    gemm_ref(c->tA, c->tB, c->M, c->N, c->K, fabsf(c->alpha), Aa, lda, Ba, ldb, fabsf(c->beta), S, ldc);
    memcpy(C2, C0, nc * sizeof(float));
    memcpy(C1, C0, nc * sizeof(float));
    util_set_threads(2);
    run(kind, c, A, lda, B, B16, ldb, C2, ldc);
    util_set_threads(1);
    run(kind, c, A, lda, B, B16, ldb, C1, ldc);
    double err = 0;
    int gaps = 1, same = 1;
    for (size_t o = 0; o < nc; o++) {
        int in = o < (size_t)c->M * ldc && (int)(o % (size_t)ldc) < c->N;
        if (!in) {
            gaps &= C2[o] == GAP_C && C1[o] == GAP_C;
            continue;
        }
        double e = fabs((double)C2[o] - R[o]) / ((double)S[o] + 1e-30);
        if (!(e <= err)) err = e; /* NaN sticks */
        same &= memcmp(&C2[o], &C1[o], sizeof(float)) == 0;
    }
    char what[200];
    snprintf(what, sizeof what, "%s %s tA=%d tB=%d M=%d N=%d K=%d pad=%d a=%g b=%g", tag, k_wname[kind], c->tA, c->tB,
             c->M, c->N, c->K, c->pad, c->alpha, c->beta);
    TEST_CLOSE(err, kind == W_DP ? 1.0 / 128 : 1e-5, what);
    TEST_CHECK(gaps, "%s: C gap sentinel overwritten", what);
    TEST_CHECK(same, "%s: 2 threads differ from 1 thread", what);
    util_free(A);
    util_free(B);
    util_free(B16);
    util_free(C0);
    util_free(C1);
    util_free(C2);
    util_free(R);
    util_free(S);
    util_free(Aa);
    util_free(Ba);
}

/* The path's edges under tiny blocks: MC 28 (2 strips of 14), KC 40, NC 64,
 * so with 2 threads it takes M >= 16 x 28 = 448, K <= 40, N <= 64. */
static void edges(int nkinds) {
    static const int Ms[] = {420, 421, 448, 449, 503}, Ns[] = {1, 31, 33, 64, 65}, Ks[] = {1, 17, 40, 41};
    const float betas[3] = {0.0f, 1.0f, 0.5f}, alphas[2] = {1.0f, -0.5f};
    rng_t r;
    rng_seed(&r, 61);
    gemm_fast_set_blocking(28, 40, 64);
    int n = 0;
    for (int mi = 0; mi < 5; mi++)
        for (int ni = 0; ni < 5; ni++)
            for (int ki = 0; ki < 4; ki++, n++) {
                bcase c = {(n >> 1) & 1, n & 1, Ms[mi], Ns[ni], Ks[ki], n % 3 ? 0 : 3, alphas[(n / 3) % 2], betas[n % 3]};
                check(&r, W_F32, &c, "tinyblk");
                if (n % 2 == 0) check(&r, n % 4 == 0 || nkinds < 3 ? W_WIDEN : W_DP, &c, "tinyblk");
            }
    gemm_fast_set_blocking(0, 0, 0);
}

/* Default blocks (MC 84, KC 768): the model's gate block (ld = 2 N) and an
 * MLP up with odd N and K, both transposes of B. */
static void model_shapes(int nkinds) {
    rng_t r;
    rng_seed(&r, 62);
    const bcase cs[] = {{0, 0, 4096, 160, 160, 160, 1.0f, 0.0f}, {0, 1, 4096, 160, 160, 160, 1.0f, 1.0f},
                        {0, 0, 1427, 769, 257, 0, 1.0f, 0.5f},   {0, 1, 1345, 321, 255, 5, -0.5f, 0.0f},
                        {1, 0, 1500, 100, 77, 0, 1.0f, 1.0f}};
    for (int i = 0; i < (int)(sizeof cs / sizeof cs[0]); i++)
        for (int k = 0; k < nkinds; k++)
            if (k == W_F32 || i >= 2) check(&r, k, &cs[i], "default");
}

int main(void) {
    int nkinds = gemm_bf16_dp_available() ? 3 : 2;
    edges(nkinds);
    model_shapes(nkinds);
    util_set_threads(0);
    if (nkinds < 3) TEST_SKIP("bf16-dp: no avx512_bf16 in this build");
    return test_summary();
}
