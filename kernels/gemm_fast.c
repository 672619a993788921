/* gemm_fast.c — the "fast" GEMM variant: our own packed, cache-blocked SGEMM.
 *
 * Why it exists: Debian's OpenBLAS 0.3.21 does not recognise newer Xeons
 * (e.g. Emerald Rapids, family 6 model 207) and falls back to its generic
 * SSE3 "Prescott" kernels, about 4.5x slower than its SkylakeX ones. We may
 * not set OPENBLAS_* in tests or CI, so the model's GEMMs come here by default
 * (see matmul.c, variant "auto").
 *
 * How (GotoBLAS-style loop nest, written from the textbook description):
 *   for jc over N by NC:                    B panel (KC x NC) packed once, shared
 *     for pc over K by KC:                  by all threads, in NR-wide column strips
 *       for ic over M by MC (OpenMP):       A block (MC x KC) packed per thread,
 *         for jr over NC by NR:             in MR-tall row strips
 *           for ir over MC by MR: micro-kernel, an MR x NR register tile
 * Packing zero-pads strips to full MR/NR so the micro-kernel never branches
 * inside its K loop; only the store at the tile edge is masked.
 * Micro-kernels: AVX-512 14x32 (28 zmm accumulators), AVX2+FMA 6x16, plain C
 * 4x16; chosen at compile time from the target flags.
 *
 * Small M (decode steps, short prompts: M <= GF_SMALL_M = 48): a
 * matrix-vector style path that streams the weight matrix once, unpacked:
 * transB=1 as dot products of contiguous W rows (the next rows prefetched into
 * L2), transB=0 as FMAs of W rows into register accumulators; at M <= 4
 * (decode at batch 1..4) transB=0 sweeps whole row segments instead
 * ("row streaming", smallm_ns). fp32 weights at 8 <= M <= 128 take the
 * "lanes" form instead (x in 16-row blocks as vector lanes, broadcast FMAs of
 * 16 W rows or columns, no packing, no horizontal sums: lanes_nt, lanes_nn).
 * gemm_fast_tiled / gemm_bf16_fast_tiled run the small-M path as it was
 * before those (no prefetch, no row streaming, no lanes).
 *
 * bf16 weights (gemm_bf16_fast, the "bf16-widen" variant): the same code with
 * the B operand read as bfloat16 and widened to fp32 as it is loaded (exact),
 * so A, C and the arithmetic stay fp32: packing widens the B panel once per
 * block, the small-M path widens W rows in registers (half the bytes streamed).
 *
 * Buffers: per-thread (thread-local) 64-byte aligned packing buffers, grown on
 * demand and kept for the life of the thread; no allocation per call once warm.
 * Threads: util_threads() OpenMP threads, or 1 when already inside a parallel
 * region (no nested teams) or when the problem is too small to pay for a team.
 */
#include "bf16.h"
#include "matmul.h"
#include "util.h"

#include <stdint.h>
#include <pthread.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define GF_MR 14
#define GF_NR 32
#define GF_ISA "avx512"
#elif defined(__AVX2__) && defined(__FMA__)
#define GF_MR 6
#define GF_NR 16
#define GF_ISA "avx2"
#else
#define GF_MR 4
#define GF_NR 16
#define GF_ISA "c"
#endif

/* M at or below which the matrix-vector path is used: measured on N = K =
 * 1024..4096, it beats packing B up to M ~ 64 (packing costs K*N per call). */
#define GF_SMALL_M 48
/* Below this many flops a call runs on one thread (team start-up ~ a few us). */
#define GF_PAR_MIN_FLOPS (1 << 21)

/* Cache blocking, tuned on a 2-core Emerald Rapids (48 KiB L1d, 2 MiB L2):
 * by measurement a long K block wins (fewer passes over C); the MC x KC A
 * block (250 KiB) and the current KC x NR B strip (96 KiB) live in L2. */
#define GF_MC 84
#define GF_KC 768
#define GF_NC 4096
static int g_mc = GF_MC, g_kc = GF_KC, g_nc = GF_NC;

void gemm_fast_set_blocking(int mc, int kc, int nc) {
    g_mc = mc > 0 ? (mc + GF_MR - 1) / GF_MR * GF_MR : GF_MC;
    g_kc = kc > 0 ? kc : GF_KC;
    g_nc = nc > 0 ? (nc + GF_NR - 1) / GF_NR * GF_NR : GF_NC;
}

const char *gemm_fast_isa(void) { return GF_ISA; }

/* ---- per-thread packing buffers --------------------------------------- */
typedef struct {
    float *p;
    size_t cap; /* floats */
} gf_buf;
static _Thread_local gf_buf tl_a, tl_b, tl_x;

/* A thread's buffers are freed when it exits (a pool that shrinks and grows
 * again, e.g. after a change of thread count, would otherwise leak them). */
static pthread_key_t g_buf_key;
static pthread_once_t g_buf_once = PTHREAD_ONCE_INIT;
static void buf_release(void *unused) {
    (void)unused;
    gf_buf *all[3] = {&tl_a, &tl_b, &tl_x};
    for (int i = 0; i < 3; i++) {
        util_free(all[i]->p);
        all[i]->p = NULL;
        all[i]->cap = 0;
    }
}
static void buf_key_init(void) { pthread_key_create(&g_buf_key, buf_release); }

static float *buf_get(gf_buf *b, size_t n) {
    if (n > b->cap) {
        pthread_once(&g_buf_once, buf_key_init);
        pthread_setspecific(g_buf_key, (void *)1);
        util_free(b->p);
        size_t cap = n + n / 8 + 64;
        b->p = (float *)util_alloc(cap * sizeof(float));
        b->cap = cap;
    }
    return b->p;
}

static int gf_imin(int a, int b) { return a < b ? a : b; }

/* C (M,N) = beta * C, with beta == 0 writing zeros without reading C. */
static void scale_c(int M, int N, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
}

/* ---- packing ------------------------------------------------------------
 * B strip: op(B)[k0 .. k0+kc, j0 .. j0+nr] -> dst[k * NR + jj], zero for jj >= nr.
 * A strip: op(A)[i0 .. i0+mr, k0 .. k0+kc] -> dst[k * MR + ii], zero for ii >= mr.
 * Where the source runs along k (A not transposed, B transposed) the strip is
 * a transpose: done 16 x 16 in registers on AVX-512, element-wise otherwise. */
#if defined(__AVX512F__)
/* In-register 16 x 16 transpose by recursive block swaps: at distance d, rows
 * i and i+d (bit d of i clear) exchange their off-diagonal d-wide halves. */
static const int32_t gf_tp_lo[4][16] __attribute__((aligned(64))) =
    {{0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
     {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
     {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
     {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30}};
static const int32_t gf_tp_hi[4][16] __attribute__((aligned(64))) =
    {{8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31},
     {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31},
     {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31},
     {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31}};
static inline __attribute__((always_inline)) void transpose16(__m512 r[16]) {
    /* lo[c] = c & d ? 16 + c - d : c;  hi[c] = c & d ? 16 + c : c + d  (d = 8, 4, 2, 1) */
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++) {
        int d = 8 >> s;
        __m512i ilo = _mm512_load_si512(gf_tp_lo[s]), ihi = _mm512_load_si512(gf_tp_hi[s]);
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            if (i & d) continue;
            __m512 x = r[i], y = r[i + d];
            r[i] = _mm512_permutex2var_ps(x, ilo, y);
            r[i + d] = _mm512_permutex2var_ps(x, ihi, y);
        }
    }
}

/* 16 values at p[i..] (fp32, or bf16 widened exactly); the _n form loads the
 * first n (1..16) and zeroes the rest without touching memory past them. */
static inline __attribute__((always_inline)) __m512 gf_widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
static inline __attribute__((always_inline)) __m512 gf_ld(const void *p, size_t i, int w16) {
    if (w16) return gf_widen(_mm256_loadu_si256((const __m256i *)((const uint16_t *)p + i)));
    return _mm512_loadu_ps((const float *)p + i);
}
static inline __attribute__((always_inline)) __m512 gf_ld_n(const void *p, size_t i, int n, int w16) {
    __mmask16 m = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    if (!w16) return _mm512_maskz_loadu_ps(m, (const float *)p + i);
#if defined(__AVX512BW__) && defined(__AVX512VL__)
    return gf_widen(_mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i));
#else
    uint16_t t[16] = {0};
    memcpy(t, (const uint16_t *)p + i, (size_t)(n < 16 ? n : 16) * 2);
    return gf_widen(_mm256_loadu_si256((const __m256i *)t));
#endif
}

/* rows (16 pointers, row q valid for q < nrows) x k in [k0, k0+kc): writes
 * dst[k * stride + q] for q < nrows, as whole-vector stores masked to nrows.
 * w16: the rows hold bf16 (widened as loaded). */
static void pack_transpose(const void *const *rows, int nrows, int kc, float *restrict dst, int stride, int w16) {
    __mmask16 rm = (__mmask16)((1u << nrows) - 1);
    for (int k = 0; k < kc; k += 16) {
        int kn = gf_imin(16, kc - k);
        __m512 r[16];
        for (int q = 0; q < 16; q++) r[q] = q < nrows ? gf_ld_n(rows[q], (size_t)k, kn, w16) : _mm512_setzero_ps();
        transpose16(r);
        for (int c = 0; c < kn; c++) _mm512_mask_storeu_ps(dst + (size_t)(k + c) * stride, rm, r[c]);
    }
}
#endif

/* B[i] as float: fp32, or bf16 widened. */
static inline float gf_elem(const void *B, size_t i, int w16) {
    return w16 ? bf16_to_f32(((const uint16_t *)B)[i]) : ((const float *)B)[i];
}

static void pack_b_strip(int transB, const void *B, int w16, int ldb, int k0, int kc, int j0, int nr,
                         float *restrict dst) {
    if (!transB) {
        size_t src = (size_t)k0 * ldb + j0;
        if (nr == GF_NR && !w16) {
            const float *s = (const float *)B + src;
            for (int k = 0; k < kc; k++) memcpy(dst + (size_t)k * GF_NR, s + (size_t)k * ldb, GF_NR * sizeof(float));
#if defined(__AVX512F__)
        } else if (nr == GF_NR) {
            for (int k = 0; k < kc; k++) {
                size_t s = src + (size_t)k * ldb;
                _mm512_store_ps(dst + (size_t)k * GF_NR, gf_ld(B, s, 1));
                _mm512_store_ps(dst + (size_t)k * GF_NR + 16, gf_ld(B, s + 16, 1));
            }
#endif
        } else {
            for (int k = 0; k < kc; k++) {
                float *d = dst + (size_t)k * GF_NR;
                size_t s = src + (size_t)k * ldb;
                int jj = 0;
                for (; jj < nr; jj++) d[jj] = gf_elem(B, s + jj, w16);
                for (; jj < GF_NR; jj++) d[jj] = 0.0f;
            }
        }
    } else {
        /* op(B)(k, j) = B[j * ldb + k]: each column of the strip is a contiguous run. */
#if defined(__AVX512F__)
        size_t esz = w16 ? 2 : 4;
        for (int h = 0; h < GF_NR; h += 16) {
            int n = gf_imin(16, nr - h);
            if (n <= 0) {
                for (int k = 0; k < kc; k++) _mm512_store_ps(dst + (size_t)k * GF_NR + h, _mm512_setzero_ps());
                continue;
            }
            const void *rows[16];
            for (int q = 0; q < 16; q++)
                rows[q] = (const char *)B + ((size_t)(j0 + h + gf_imin(q, n - 1)) * ldb + k0) * esz;
            /* all 16 lanes stored: lanes >= n are zero rows */
            __m512 z = _mm512_setzero_ps();
            if (n < 16)
                for (int k = 0; k < kc; k++) _mm512_store_ps(dst + (size_t)k * GF_NR + h, z);
            pack_transpose(rows, n, kc, dst + h, GF_NR, w16);
        }
#else
        int jj = 0;
        for (; jj < nr; jj++) {
            size_t s = (size_t)(j0 + jj) * ldb + k0;
            for (int k = 0; k < kc; k++) dst[(size_t)k * GF_NR + jj] = gf_elem(B, s + k, w16);
        }
        for (; jj < GF_NR; jj++)
            for (int k = 0; k < kc; k++) dst[(size_t)k * GF_NR + jj] = 0.0f;
#endif
    }
}

static void pack_a_strip(int transA, const float *A, int lda, int i0, int mr, int k0, int kc,
                         float *restrict dst) {
    if (transA) {
        /* op(A)(i, k) = A[k * lda + i]: each k is a contiguous run of mr. */
        for (int k = 0; k < kc; k++) {
            const float *s = A + (size_t)(k0 + k) * lda + i0;
            float *d = dst + (size_t)k * GF_MR;
            int ii = 0;
            for (; ii < mr; ii++) d[ii] = s[ii];
            for (; ii < GF_MR; ii++) d[ii] = 0.0f;
        }
    } else {
#if defined(__AVX512F__)
        const void *rows[16];
        for (int q = 0; q < 16; q++) rows[q] = A + (size_t)(i0 + gf_imin(q, mr - 1)) * lda + k0;
        if (mr < GF_MR) /* zero rows mr .. MR-1 (the transpose writes rows < mr only) */
            for (int k = 0; k < kc; k++)
                for (int ii = mr; ii < GF_MR; ii++) dst[(size_t)k * GF_MR + ii] = 0.0f;
        pack_transpose(rows, mr, kc, dst, GF_MR, 0);
#else
        int ii = 0;
        for (; ii < mr; ii++) {
            const float *s = A + (size_t)(i0 + ii) * lda + k0;
            for (int k = 0; k < kc; k++) dst[(size_t)k * GF_MR + ii] = s[k];
        }
        for (; ii < GF_MR; ii++)
            for (int k = 0; k < kc; k++) dst[(size_t)k * GF_MR + ii] = 0.0f;
#endif
    }
}

/* ---- micro-kernels ------------------------------------------------------
 * c (mr, nr) = alpha * a_strip . b_strip + beta * c; beta == 0 never reads c.
 * a: kc x MR packed, b: kc x NR packed. */
#if defined(__AVX512F__)
/* c (mr, nr) = alpha * (c0 | c1) + beta * c for the first mr rows, masked to nr columns. */
static inline __attribute__((always_inline)) void ukernel_store(const __m512 *c0, const __m512 *c1, float *restrict c,
                                                                int ldc, int mr, int nr, float alpha, float beta) {
    __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 14
    for (int i = 0; i < GF_MR; i++) {
        if (i < mr) {
            float *row = c + (size_t)i * ldc;
            __m512 v0 = _mm512_mul_ps(va, c0[i]), v1 = _mm512_mul_ps(va, c1[i]);
            if (beta != 0.0f) {
                v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, row), v0);
                v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, row + 16), v1);
            }
            _mm512_mask_storeu_ps(row, m0, v0);
            _mm512_mask_storeu_ps(row + 16, m1, v1);
        }
    }
}

static void ukernel(int kc, const float *restrict a, const float *restrict b, float *restrict c, int ldc,
                    int mr, int nr, float alpha, float beta) {
    __m512 c0[GF_MR], c1[GF_MR];
#pragma GCC unroll 14
    for (int i = 0; i < GF_MR; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
    }
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
        for (int i = 0; i < GF_MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
        a += GF_MR;
        b += GF_NR;
    }
    ukernel_store(c0, c1, c, ldc, mr, nr, alpha, beta);
}
#else
/* Full tiles in registers (AVX2: 12 ymm accumulators; plain C: left to the
 * auto-vectoriser), edge tiles through a local tile. */
static void tile_store(const float *t, float *c, int ldc, int mr, int nr, float alpha, float beta) {
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float v = alpha * t[i * GF_NR + j];
            float *p = c + (size_t)i * ldc + j;
            *p = beta == 0.0f ? v : v + beta * *p;
        }
}
#if defined(__AVX2__) && defined(__FMA__)
static void ukernel(int kc, const float *restrict a, const float *restrict b, float *restrict c, int ldc,
                    int mr, int nr, float alpha, float beta) {
    __m256 c0[GF_MR], c1[GF_MR];
#pragma GCC unroll 6
    for (int i = 0; i < GF_MR; i++) {
        c0[i] = _mm256_setzero_ps();
        c1[i] = _mm256_setzero_ps();
    }
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < GF_MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
        a += GF_MR;
        b += GF_NR;
    }
    if (mr == GF_MR && nr == GF_NR) {
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
        for (int i = 0; i < GF_MR; i++) {
            float *row = c + (size_t)i * ldc;
            __m256 v0 = _mm256_mul_ps(va, c0[i]), v1 = _mm256_mul_ps(va, c1[i]);
            if (beta != 0.0f) {
                v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), v0);
                v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), v1);
            }
            _mm256_storeu_ps(row, v0);
            _mm256_storeu_ps(row + 8, v1);
        }
    } else {
        float t[GF_MR * GF_NR];
        for (int i = 0; i < GF_MR; i++) {
            _mm256_storeu_ps(t + i * GF_NR, c0[i]);
            _mm256_storeu_ps(t + i * GF_NR + 8, c1[i]);
        }
        tile_store(t, c, ldc, mr, nr, alpha, beta);
    }
}
#else
static void ukernel(int kc, const float *restrict a, const float *restrict b, float *restrict c, int ldc,
                    int mr, int nr, float alpha, float beta) {
    float t[GF_MR * GF_NR];
    for (int i = 0; i < GF_MR * GF_NR; i++) t[i] = 0.0f;
    for (int k = 0; k < kc; k++) {
        for (int i = 0; i < GF_MR; i++) {
            float ai = a[i];
            for (int j = 0; j < GF_NR; j++) t[i * GF_NR + j] += ai * b[j];
        }
        a += GF_MR;
        b += GF_NR;
    }
    tile_store(t, c, ldc, mr, nr, alpha, beta);
}
#endif
#endif

/* ---- AVX512-BF16 dot products (the "bf16-dp" variant) -------------------
 * vdpbf16ps multiplies pairs of bf16 and adds both products to one fp32 lane:
 * C += A B with A rounded to bf16 as it is packed, B the bf16 weights, fp32
 * accumulation. Packed layouts hold one k pair (two bf16, 32 bits) per
 * element: A strip [kk][MR], B strip [kk][NR] for kk = 0 .. ceil(kc/2)-1, an
 * odd k tail padded with a zero. transB = 1 (W rows along K) already holds
 * the pairs of a column contiguously: its packing is the 32-bit transpose
 * used for fp32; transB = 0 interleaves rows k and k+1. */
#if defined(__AVX512BF16__) && defined(__AVX512BW__) && defined(__AVX512VL__) && GF_MR == 14
#define GF_HAVE_DP 1
/* Row q (q < nrows) of 16 pointers to bf16 rows, pairs kk in [0, ceil(kc/2)):
 * dst[kk * stride + q] = the 32-bit pair at k = 2kk (zero past kc). The rows
 * are bf16 (w16) or fp32 rounded to bf16 on the way (A operand). */
static void pack_pairs_transpose(const void *const *rows, int nrows, int kc, int32_t *restrict dst, int stride,
                                 int w16) {
    __mmask16 rm = (__mmask16)((1u << nrows) - 1);
    int nkk = (kc + 1) / 2;
    for (int kk = 0; kk < nkk; kk += 16) {
        int k = 2 * kk, kn = gf_imin(32, kc - k), cn = gf_imin(16, nkk - kk);
        __mmask32 km = kn >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << kn) - 1);
        __m512 r[16];
        for (int q = 0; q < 16; q++) {
            if (q >= nrows) { r[q] = _mm512_setzero_ps(); continue; }
            if (w16) {
                r[q] = _mm512_castsi512_ps(_mm512_maskz_loadu_epi16(km, (const uint16_t *)rows[q] + k));
            } else {
                const float *f = (const float *)rows[q] + k;
                __m512 lo = gf_ld_n(f, 0, gf_imin(16, kn), 0);
                __m512 hi = kn > 16 ? gf_ld_n(f, 16, kn - 16, 0) : _mm512_setzero_ps();
                r[q] = _mm512_castsi512_ps((__m512i)_mm512_cvtne2ps_pbh(hi, lo));
            }
        }
        transpose16(r);
        for (int c = 0; c < cn; c++) _mm512_mask_storeu_ps((float *)(dst + (size_t)(kk + c) * stride), rm, r[c]);
    }
}

static void pack_a_dp(int transA, const float *A, int lda, int i0, int mr, int k0, int kc, int32_t *restrict dst) {
    int nkk = (kc + 1) / 2;
    if (transA) {
        for (int kk = 0; kk < nkk; kk++)
            for (int ii = 0; ii < GF_MR; ii++) {
                int k = k0 + 2 * kk;
                uint16_t lo = ii < mr ? f32_to_bf16(A[(size_t)k * lda + i0 + ii]) : 0;
                uint16_t hi = ii < mr && 2 * kk + 1 < kc ? f32_to_bf16(A[(size_t)(k + 1) * lda + i0 + ii]) : 0;
                dst[(size_t)kk * GF_MR + ii] = (int32_t)((uint32_t)lo | (uint32_t)hi << 16);
            }
        return;
    }
    const void *rows[16];
    for (int q = 0; q < 16; q++) rows[q] = A + (size_t)(i0 + gf_imin(q, mr - 1)) * lda + k0;
    if (mr < GF_MR)
        for (int kk = 0; kk < nkk; kk++)
            for (int ii = mr; ii < GF_MR; ii++) dst[(size_t)kk * GF_MR + ii] = 0;
    pack_pairs_transpose(rows, mr, kc, dst, GF_MR, 0);
}

/* Interleave bf16 rows r0 (k) and r1 (k+1): 32 columns -> 32 pairs in o[0], o[1]. */
static const int16_t gf_il_idx[2][32] __attribute__((aligned(64))) = {
    {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47},
    {16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, 23, 55,
     24, 56, 25, 57, 26, 58, 27, 59, 28, 60, 29, 61, 30, 62, 31, 63}};

static void pack_b_dp(int transB, const uint16_t *B, int ldb, int k0, int kc, int j0, int nr, int32_t *restrict dst) {
    int nkk = (kc + 1) / 2;
    if (transB) {
        for (int h = 0; h < GF_NR; h += 16) {
            int n = gf_imin(16, nr - h);
            if (n <= 0) {
                for (int kk = 0; kk < nkk; kk++) _mm512_store_si512(dst + (size_t)kk * GF_NR + h, _mm512_setzero_si512());
                continue;
            }
            const void *rows[16];
            for (int q = 0; q < 16; q++) rows[q] = B + (size_t)(j0 + h + gf_imin(q, n - 1)) * ldb + k0;
            if (n < 16)
                for (int kk = 0; kk < nkk; kk++) _mm512_store_si512(dst + (size_t)kk * GF_NR + h, _mm512_setzero_si512());
            pack_pairs_transpose(rows, n, kc, dst + h, GF_NR, 1);
        }
        return;
    }
    __mmask32 cm = nr >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << nr) - 1);
    __m512i i0 = _mm512_load_si512(gf_il_idx[0]), i1 = _mm512_load_si512(gf_il_idx[1]);
    for (int kk = 0; kk < nkk; kk++) {
        int k = k0 + 2 * kk;
        __m512i r0 = _mm512_maskz_loadu_epi16(cm, B + (size_t)k * ldb + j0);
        __m512i r1 = 2 * kk + 1 < kc ? _mm512_maskz_loadu_epi16(cm, B + (size_t)(k + 1) * ldb + j0) : _mm512_setzero_si512();
        _mm512_store_si512(dst + (size_t)kk * GF_NR, _mm512_permutex2var_epi16(r0, i0, r1));
        _mm512_store_si512(dst + (size_t)kk * GF_NR + 16, _mm512_permutex2var_epi16(r0, i1, r1));
    }
}

static void ukernel_dp(int nkk, const int32_t *restrict a, const int32_t *restrict b, float *restrict c, int ldc,
                       int mr, int nr, float alpha, float beta) {
    __m512 c0[GF_MR], c1[GF_MR];
#pragma GCC unroll 14
    for (int i = 0; i < GF_MR; i++) {
        c0[i] = _mm512_setzero_ps();
        c1[i] = _mm512_setzero_ps();
    }
    for (int kk = 0; kk < nkk; kk++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
#pragma GCC unroll 14
        for (int i = 0; i < GF_MR; i++) {
            __m512bh ai = (__m512bh)_mm512_set1_epi32(a[i]);
            c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
            c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
        }
        a += GF_MR;
        b += GF_NR;
    }
    ukernel_store(c0, c1, c, ldc, mr, nr, alpha, beta);
}
#else
#define GF_HAVE_DP 0
#endif

/* ---- blocked driver ---------------------------------------------------- */
/* What the B operand is and how the product is formed. */
enum { GF_F32 = 0, GF_W16 = 1, GF_DP = 2 };

/* Pack and multiply one kind: packed elements are 4 bytes (a float, or a bf16
 * pair for GF_DP), kst of them per strip row (kc, or ceil(kc/2) pairs). */
static inline void blk_pack_b(int mode, int transB, const void *B, int ldb, int pc, int kc, int j, int nr, void *dst) {
#if GF_HAVE_DP
    if (mode == GF_DP) { pack_b_dp(transB, (const uint16_t *)B, ldb, pc, kc, j, nr, (int32_t *)dst); return; }
#endif
    pack_b_strip(transB, B, mode != GF_F32, ldb, pc, kc, j, nr, (float *)dst);
}
static inline void blk_pack_a(int mode, int transA, const float *A, int lda, int i, int mr, int pc, int kc, void *dst) {
#if GF_HAVE_DP
    if (mode == GF_DP) { pack_a_dp(transA, A, lda, i, mr, pc, kc, (int32_t *)dst); return; }
#endif
    pack_a_strip(transA, A, lda, i, mr, pc, kc, (float *)dst);
}
static inline void blk_kernel(int mode, int kst, const void *a, const void *b, float *c, int ldc, int mr, int nr,
                              float alpha, float beta) {
#if GF_HAVE_DP
    if (mode == GF_DP) { ukernel_dp(kst, (const int32_t *)a, (const int32_t *)b, c, ldc, mr, nr, alpha, beta); return; }
#endif
    ukernel(kst, (const float *)a, (const float *)b, c, ldc, mr, nr, alpha, beta);
}

/* Part `part` of `nparts` of the cache lines of op(B)'s kc x nr block at (pc,
 * j) into L2: the next block's, while the kernels run on this one. */
static inline void prefetch_b_block(int transB, const void *B, size_t esz, int ldb, int pc, int kc, int j, int nr,
                                    int part, int nparts) {
    int r0 = transB ? j : pc, nrows = transB ? nr : kc, c0 = transB ? pc : j, len = transB ? kc : nr;
    int a = r0 + (int)((long)nrows * part / nparts), b = r0 + (int)((long)nrows * (part + 1) / nparts);
    size_t bytes = (size_t)len * esz;
    for (int r = a; r < b; r++) {
        const char *row = (const char *)B + ((size_t)r * ldb + c0) * esz;
        for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(row + o, 0, 2);
        __builtin_prefetch(row + bytes - 1, 0, 2);
    }
}

/* One work item: rows [ic, ic + mcur) of C against the packed strips [s0, s1)
 * of the B panel at (jc, pc): pack the rows' A block, then run the kernels. */
static void blk_item(int mode, int transA, const float *A, int lda, int ic, int mcur, int pc, int kc, int kst,
                     const float *bpack, int jc, int s0, int s1, int N, float alpha, float be, float *C, int ldc,
                     float *apack, int pf_ic, int pf_mc) {
    for (int is = 0; is < mcur; is += GF_MR)
        blk_pack_a(mode, transA, A, lda, ic + is, gf_imin(GF_MR, mcur - is), pc, kc, apack + (size_t)is * kst);
    for (int s = s0; s < s1; s++) {
        int j = jc + s * GF_NR, nr = gf_imin(GF_NR, N - j);
        if (pf_mc > 0) /* op(A)'s rows [pf_ic, pf_ic + pf_mc) into L2, a part per strip */
            prefetch_b_block(!transA, A, 4, lda, pc, kc, pf_ic, pf_mc, s - s0, s1 - s0);
        const float *bp = bpack + (size_t)s * kst * GF_NR;
        for (int is = 0; is < mcur; is += GF_MR)
            blk_kernel(mode, kst, apack + (size_t)is * kst, bp, C + (size_t)(ic + is) * ldc + j, ldc,
                       gf_imin(GF_MR, mcur - is), nr, alpha, be);
    }
}

/* Row blocks at or above which (per thread) a product with one B panel packs
 * B once per thread instead of once per team (see gemm_blocked). */
#define GF_PRIVATE_B_BLOCKS 8

/* Item w of the private-panel schedule: the first `head` items are whole row
 * blocks, the rest split each of the last row blocks into pt column parts. */
static inline void blk_tail_item(int w, int head, int pt, int *blk, int *np, int *wn) {
    *blk = w < head ? w : head + (w - head) / pt;
    *np = w < head ? 1 : pt;
    *wn = w < head ? 0 : (w - head) % pt;
}

static void gemm_blocked(int nth, int transA, int transB, int M, int N, int K, float alpha, const float *A,
                         int lda, const void *B, int mode, int ldb, float beta, float *C, int ldc) {
    /* K blocks of even size (no thin tail block; even K offsets keep the dp
     * pairs aligned). Work items are MC-row blocks (times pn column parts when
     * there are too few row blocks to keep every thread busy), handed out
     * dynamically: on a shared or oversubscribed machine a preempted thread
     * then delays the team by one item, not by half the product. */
    int nkb = (K + g_kc - 1) / g_kc;
    int KC = (K + nkb - 1) / nkb, NC = g_nc, MC = g_mc;
    if (mode == GF_DP) KC += KC & 1;
    int nmb = (M + MC - 1) / MC;
    int nc_max = gf_imin(NC, N);
    size_t bsz = (size_t)KC * (size_t)((nc_max + GF_NR - 1) / GF_NR * GF_NR);
    if (nth > 1 && nkb == 1 && N <= NC && nmb >= GF_PRIVATE_B_BLOCKS * nth) {
        /* One B panel (K <= KC, N <= NC: the small models' projections,
         * 4096 x 160..768 x 160..768) and many row blocks. Two changes to
         * the shared-panel loop below, both measured on those shapes:
         * - every thread packs its own copy of the panel (K x N, a few
         *   hundred KB, against M x N x K of work) when it takes its first
         *   item, so no thread waits at a barrier for another that is still
         *   waking up (under the harness's short OpenMP spin, UTIL_OMP_POLICY,
         *   a waiting thread sleeps and a wake-up takes tens of microseconds
         *   on a 2-vCPU VM, up to ~0.5 ms);
         * - op(A) is read once, by the packing, from L3 or memory (the
         *   previous op's output, not in this core's L2): packing was latency
         *   bound there. Items are handed out by a counter, a thread claims
         *   its next item as it starts one and prefetches that item's rows of
         *   A into L2 while the kernels run (a 4096 x 160 x 160 gate block
         *   after a cache flush: 127-173 -> 151-200 GFLOP/s, README).
         * The last 2 nth row blocks are split in up to 4 column parts so that
         * the threads reach the join together. */
        const int nstrips = (N + GF_NR - 1) / GF_NR, kst = mode == GF_DP ? (K + 1) / 2 : K;
        const int tail = gf_imin(nmb, 2 * nth), pt = gf_imin(4, nstrips), head = nmb - tail;
        const int nitems = head + tail * pt;
        int next = 0; /* the next item to hand out */
#pragma omp parallel num_threads(nth)
        {
            float *apack = buf_get(&tl_a, (size_t)MC * KC), *bpack = NULL;
            int w = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
            while (w < nitems) {
                int wnext = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
                if (!bpack) {
                    bpack = buf_get(&tl_b, bsz);
                    for (int s = 0; s < nstrips; s++)
                        blk_pack_b(mode, transB, B, ldb, 0, K, s * GF_NR, gf_imin(GF_NR, N - s * GF_NR),
                                   bpack + (size_t)s * kst * GF_NR);
                }
                int blk, np, wn, nblk = -1;
                blk_tail_item(w, head, pt, &blk, &np, &wn);
                if (wnext < nitems) {
                    int nnp, nwn;
                    blk_tail_item(wnext, head, pt, &nblk, &nnp, &nwn);
                    if (nblk == blk) nblk = -1; /* the same rows: already packed */
                }
                int ic = blk * MC;
                blk_item(mode, transA, A, lda, ic, gf_imin(MC, M - ic), 0, K, kst, bpack, 0,
                         (int)((long)nstrips * wn / np), (int)((long)nstrips * (wn + 1) / np), N, alpha, beta, C, ldc,
                         apack, nblk * MC, nblk < 0 ? 0 : gf_imin(MC, M - nblk * MC));
                w = wnext;
            }
        }
        return;
    }
    int pn = nth > 1 && nmb < 4 * nth ? (4 * nth + nmb - 1) / nmb : 1;
    float *bpack = buf_get(&tl_b, bsz); /* the caller's buffer, shared by the team */

#pragma omp parallel num_threads(nth) if (nth > 1)
    {
        float *apack = buf_get(&tl_a, (size_t)MC * KC);
        for (int jc = 0; jc < N; jc += NC) {
            int nc = gf_imin(NC, N - jc);
            int nstrips = (nc + GF_NR - 1) / GF_NR;
            for (int pc = 0; pc < K; pc += KC) {
                int kc = gf_imin(KC, K - pc), kst = mode == GF_DP ? (kc + 1) / 2 : kc;
#pragma omp for schedule(dynamic, 4)
                for (int s = 0; s < nstrips; s++)
                    blk_pack_b(mode, transB, B, ldb, pc, kc, jc + s * GF_NR, gf_imin(GF_NR, nc - s * GF_NR),
                               bpack + (size_t)s * kst * GF_NR);
                float be = pc == 0 ? beta : 1.0f;
#pragma omp for schedule(dynamic, 1)
                for (int w = 0; w < nmb * pn; w++) {
                    int ic = (w / pn) * MC, wn = w % pn;
                    int s0 = (int)((long)nstrips * wn / pn), s1 = (int)((long)nstrips * (wn + 1) / pn);
                    if (s0 < s1)
                        blk_item(mode, transA, A, lda, ic, gf_imin(MC, M - ic), pc, kc, kst, bpack, jc, s0, s1, N,
                                 alpha, be, C, ldc, apack, 0, 0);
                }
            }
        }
    }
}

/* ---- medium M: B packed strip by strip and used at once -----------------
 * For GF_SMALL_M < M <= GF_STRIP_M (decode at batch 64, short prompts) the
 * blocked path packs a KC x NC panel of B shared by the team (12 MB, beyond
 * L2) once per call, writes it out and reads it back, to use it for only a few
 * row strips of A. Here op(A) is packed once for every K block (shared by the
 * team: at most 128 x K), and a work item, a run of G column strips, packs one
 * kc x NR strip of B at a time into its thread's buffer (L1/L2) and runs every
 * row strip of A over it at once: B is read from memory once, as it is, and
 * never written back. transB = 1 (W rows contiguous): one strip per item, 32
 * whole rows of W; transB = 0: 4 strips per item, 512-byte runs of each row. */
#define GF_STRIP_M 128
#ifndef GF_STRIP_G
#define GF_STRIP_G 4 /* column strips per work item (at most) */
#endif

static void gemm_strips(int nth, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                        const void *B, int mode, int ldb, float beta, float *C, int ldc) {
    int nkb = (K + g_kc - 1) / g_kc;
    int KC = (K + nkb - 1) / nkb;
    if (mode == GF_DP) KC += KC & 1;
    nkb = (K + KC - 1) / KC;
    const int kstmax = mode == GF_DP ? KC / 2 : KC, nms = (M + GF_MR - 1) / GF_MR;
    const size_t ablk = (size_t)nms * GF_MR * kstmax, esz = mode == GF_F32 ? 4 : 2;
    float *apack = buf_get(&tl_a, ablk * nkb); /* the caller's buffer, read by the team */
    const int nstrips = (N + GF_NR - 1) / GF_NR;
    const int G = gf_imin(GF_STRIP_G, (nstrips + 4 * nth - 1) / (4 * nth));
    const int nitems = (nstrips + G - 1) / G;
#pragma omp parallel num_threads(nth) if (nth > 1)
    {
#pragma omp for schedule(static)
        for (int w = 0; w < nkb * nms; w++) {
            int kb = w / nms, is = w % nms, pc = kb * KC, kc = gf_imin(KC, K - pc);
            int kst = mode == GF_DP ? (kc + 1) / 2 : kc;
            blk_pack_a(mode, transA, A, lda, is * GF_MR, gf_imin(GF_MR, M - is * GF_MR), pc, kc,
                       apack + kb * ablk + (size_t)is * GF_MR * kst);
        }
        float *bstrip = buf_get(&tl_b, (size_t)kstmax * GF_NR);
#pragma omp for schedule(dynamic, 1)
        for (int it = 0; it < nitems; it++) {
            int s0 = it * G, s1 = gf_imin(nstrips, s0 + G);
            /* blocks in order: transB = 1 a strip's K blocks (its W rows
             * end to end), transB = 0 each K block's strips (along W rows) */
            int nblk = (s1 - s0) * nkb;
            for (int q = 0; q < nblk; q++) {
                int s = transB ? s0 + q / nkb : s0 + q % (s1 - s0), kb = transB ? q % nkb : q / (s1 - s0);
                int qn = q + 1, sn = transB ? s0 + qn / nkb : s0 + qn % (s1 - s0), kn = transB ? qn % nkb : qn / (s1 - s0);
                int pc = kb * KC, kc = gf_imin(KC, K - pc), kst = mode == GF_DP ? (kc + 1) / 2 : kc;
                int j = s * GF_NR, nr = gf_imin(GF_NR, N - j);
                blk_pack_b(mode, transB, B, ldb, pc, kc, j, nr, bstrip);
                float be = kb == 0 ? beta : 1.0f;
                for (int is = 0; is < nms; is++) {
                    if (qn < nblk)
                        prefetch_b_block(transB, B, esz, ldb, kn * KC, gf_imin(KC, K - kn * KC), sn * GF_NR,
                                         gf_imin(GF_NR, N - sn * GF_NR), is, nms);
                    blk_kernel(mode, kst, apack + kb * ablk + (size_t)is * GF_MR * kst, bstrip,
                               C + (size_t)is * GF_MR * ldc + j, ldc, gf_imin(GF_MR, M - is * GF_MR), nr, alpha, be);
                }
            }
        }
    }
}

/* ---- small-M path -------------------------------------------------------
 * xs (M,K) holds alpha * op(A), contiguous. B is fp32 or (w16) bf16. */

/* transB = 1: C[m][n] = sum_k xs[m][k] * B[n][k] + beta C[m][n], n in [n0, n1).
 * Tiles of up to 4 x-rows by 4 W-rows, K in chunks that keep the 4 W rows in L1. */
#define GF_NT_KCHUNK 1024
#ifndef GF_NT_PF
#define GF_NT_PF 1
#endif
#if defined(__AVX512F__)
static inline __attribute__((always_inline)) void nt_tile(int MB, const float *xs, int K, const void *const w[4],
                                                          int w16, int kb, int ke, size_t pfd, float sums[4][4]) {
    __m512 acc[4][4];
    for (int i = 0; i < MB; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
    int k = kb;
    size_t esz = w16 ? 2 : 4;
    for (; k + 16 <= ke; k += 16) {
        __m512 wv[4];
        if (GF_NT_PF && pfd)
            for (int j = 0; j < 4; j++) _mm_prefetch((const char *)w[j] + (pfd + (size_t)k) * esz, _MM_HINT_T1);
        for (int j = 0; j < 4; j++) wv[j] = gf_ld(w[j], (size_t)k, w16);
        for (int i = 0; i < MB; i++) {
            __m512 xv = _mm512_loadu_ps(xs + (size_t)i * K + k);
            for (int j = 0; j < 4; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    if (k < ke) {
        __m512 wv[4];
        for (int j = 0; j < 4; j++) wv[j] = gf_ld_n(w[j], (size_t)k, ke - k, w16);
        for (int i = 0; i < MB; i++) {
            __m512 xv = gf_ld_n(xs + (size_t)i * K, (size_t)k, ke - k, 0);
            for (int j = 0; j < 4; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MB; i++)
        for (int j = 0; j < 4; j++) sums[i][j] += _mm512_reduce_add_ps(acc[i][j]);
}
#else
static inline void nt_tile(int MB, const float *xs, int K, const void *const w[4], int w16, int kb, int ke,
                           size_t pfd, float sums[4][4]) {
    (void)pfd;
    for (int i = 0; i < MB; i++)
        for (int j = 0; j < 4; j++) {
            const float *x = xs + (size_t)i * K;
            float s = 0.0f;
            if (w16) {
                const uint16_t *wj = (const uint16_t *)w[j];
#pragma omp simd reduction(+ : s)
                for (int k = kb; k < ke; k++) s += x[k] * bf16_to_f32(wj[k]);
            } else {
                const float *wj = (const float *)w[j];
#pragma omp simd reduction(+ : s)
                for (int k = kb; k < ke; k++) s += x[k] * wj[k];
            }
            sums[i][j] += s;
        }
}
#endif

#if GF_HAVE_DP
/* dp forms of the two small-M tiles: x rows are bf16 (xs16, row stride Kp =
 * K rounded up to even, zero-padded), products summed in pairs. */
static inline __attribute__((always_inline)) void nt_tile_dp(int MB, const uint16_t *xs, int Kp,
                                                             const void *const w[4], int kb, int ke,
                                                             size_t pfd, float sums[4][4]) {
    __m512 acc[4][4];
    for (int i = 0; i < MB; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
    for (int k = kb; k < ke; k += 32) {
        int n = gf_imin(32, ke - k);
        __mmask32 m = n >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << n) - 1);
        __m512bh wv[4];
        if (GF_NT_PF && pfd)
            for (int j = 0; j < 4; j++) _mm_prefetch((const char *)((const uint16_t *)w[j] + pfd + k), _MM_HINT_T1);
        for (int j = 0; j < 4; j++) wv[j] = (__m512bh)_mm512_maskz_loadu_epi16(m, (const uint16_t *)w[j] + k);
        for (int i = 0; i < MB; i++) {
            __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(m, xs + (size_t)i * Kp + k);
            for (int j = 0; j < 4; j++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, wv[j]);
        }
    }
    for (int i = 0; i < MB; i++)
        for (int j = 0; j < 4; j++) sums[i][j] += _mm512_reduce_add_ps(acc[i][j]);
}

#endif

static void smallm_nt(int M, int n0, int n1, int K, const void *xs_, const void *B, int mode, int pf, int ldb,
                      float beta, float *C, int ldc) {
    int w16 = mode != GF_F32;
    size_t esz = w16 ? 2 : 4;
    const float *xs = (const float *)xs_;
#if GF_HAVE_DP
    const uint16_t *xs16 = (const uint16_t *)xs_;
    int Kp = K + (K & 1);
#endif
    for (int n = n0; n < n1; n += 4) {
        int nb = gf_imin(4, n1 - n);
        const void *w[4];
        for (int j = 0; j < 4; j++) /* clamp: no branches */
            w[j] = (const char *)B + (size_t)(n + gf_imin(j, nb - 1)) * ldb * esz;
        size_t pfd = pf ? (size_t)4 * ldb : 0; /* the next 4 W rows, into L2 while these stream */
        for (int m = 0; m < M; m += 4) {
            int mb = gf_imin(4, M - m);
            float sums[4][4] = {{0}};
            const float *x = mode == GF_DP ? NULL : xs + (size_t)m * K;
            for (int kb = 0; kb < K; kb += GF_NT_KCHUNK) {
                int ke = gf_imin(K, kb + GF_NT_KCHUNK);
#if GF_HAVE_DP
#define GF_NT(mbv)                                                                                       \
    (mode == GF_DP ? nt_tile_dp(mbv, xs16 + (size_t)m * Kp, Kp, w, kb, ke, pfd, sums)                   \
     : w16         ? nt_tile(mbv, x, K, w, 1, kb, ke, pfd, sums)                                         \
                   : nt_tile(mbv, x, K, w, 0, kb, ke, pfd, sums))
#else
#define GF_NT(mbv) (w16 ? nt_tile(mbv, x, K, w, 1, kb, ke, pfd, sums) : nt_tile(mbv, x, K, w, 0, kb, ke, pfd, sums))
#endif
                switch (mb) {
                case 1: GF_NT(1); break;
                case 2: GF_NT(2); break;
                case 3: GF_NT(3); break;
                default: GF_NT(4); break;
                }
#undef GF_NT
            }
            for (int i = 0; i < mb; i++)
                for (int j = 0; j < nb; j++) {
                    float *c = C + (size_t)(m + i) * ldc + n + j;
                    *c = beta == 0.0f ? sums[i][j] : sums[i][j] + beta * *c;
                }
        }
    }
}

/* transB = 0: C[m][n0:n1] = xs[m] . B[:, n0:n1] + beta C. W rows are streamed
 * with FMAs into register accumulators (up to 4 x-rows by NV vectors of
 * columns). K runs in chunks of GF_NN_KB rows so the pages a column block
 * walks down stay in the TLB; partial sums go through C between chunks.
 * Software prefetch GF_NN_PD rows ahead: the walk is strided (ldb), which the
 * hardware streamers do not follow across pages. */
#define GF_NN_KB 64
#define GF_NN_PD 12
#define GF_NN_UNIT 128
#if defined(__AVX512F__)
/* Accumulators of an nn tile: zero on the first K chunk, else the partial
 * sums in C; mk/nv: the valid columns of each 16-column vector. */
static inline __attribute__((always_inline)) void nn_acc_init(int MB, int NV, int w, int first, const float *C,
                                                              int ldc, int j, __m512 acc[4][8], __mmask16 mk[8],
                                                              int nv[8]) {
    for (int v = 0; v < NV; v++) {
        int r = w - 16 * v;
        nv[v] = r >= 16 ? 16 : r > 0 ? r : 0;
        mk[v] = r >= 16 ? (__mmask16)0xFFFF : r > 0 ? (__mmask16)((1u << r) - 1) : 0;
    }
    for (int i = 0; i < MB; i++)
        for (int v = 0; v < NV; v++)
            acc[i][v] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mk[v], C + (size_t)i * ldc + j + 16 * v);
}
static inline __attribute__((always_inline)) void nn_acc_store(int MB, int NV, int first, float beta, float *C,
                                                               int ldc, int j, __m512 acc[4][8],
                                                               const __mmask16 mk[8]) {
    __m512 vb = _mm512_set1_ps(beta);
    for (int i = 0; i < MB; i++) {
        float *c = C + (size_t)i * ldc + j;
        for (int v = 0; v < NV; v++) {
            __m512 r = acc[i][v];
            if (first && beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk[v], c + 16 * v), r);
            _mm512_mask_storeu_ps(c + 16 * v, mk[v], r);
        }
    }
}

static inline __attribute__((always_inline)) void nn_tile(int MB, int NV, const float *xs, int K, int kb, int ke,
                                                          const void *B, int w16, int ldb, int j, int w, int first,
                                                          float beta, float *C, int ldc) {
    __m512 acc[4][8];
    __mmask16 mk[8];
    int nv[8];
    nn_acc_init(MB, NV, w, first, C, ldc, j, acc, mk, nv);
    size_t esz = w16 ? 2 : 4, bk = (size_t)kb * ldb + j;
    for (int k = kb; k < ke; k++, bk += ldb) {
        const char *pf = (const char *)B + (bk + (size_t)GF_NN_PD * ldb) * esz;
        for (size_t o = 0; o < (size_t)NV * 16 * esz; o += 64) _mm_prefetch(pf + o, _MM_HINT_T0);
        __m512 bv[8];
        for (int v = 0; v < NV; v++)
            bv[v] = nv[v] == 16 ? gf_ld(B, bk + 16 * v, w16) : nv[v] ? gf_ld_n(B, bk + 16 * v, nv[v], w16) : _mm512_setzero_ps();
        for (int i = 0; i < MB; i++) {
            __m512 xv = _mm512_set1_ps(xs[(size_t)i * K + k]);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(xv, bv[v], acc[i][v]);
        }
    }
    nn_acc_store(MB, NV, first, beta, C, ldc, j, acc, mk);
}
#else
static inline void nn_tile(int MB, int NV, const float *xs, int K, int kb, int ke, const void *B, int w16, int ldb,
                           int j, int w, int first, float beta, float *C, int ldc) {
    float acc[4][128];
    (void)NV;
    for (int i = 0; i < MB; i++)
        for (int v = 0; v < w; v++) acc[i][v] = first ? 0.0f : C[(size_t)i * ldc + j + v];
    for (int k = kb; k < ke; k++) {
        size_t bk = (size_t)k * ldb + j;
        for (int i = 0; i < MB; i++) {
            float x = xs[(size_t)i * K + k];
            if (w16) {
                const uint16_t *b = (const uint16_t *)B + bk;
#pragma omp simd
                for (int v = 0; v < w; v++) acc[i][v] += x * bf16_to_f32(b[v]);
            } else {
                const float *b = (const float *)B + bk;
#pragma omp simd
                for (int v = 0; v < w; v++) acc[i][v] += x * b[v];
            }
        }
    }
    for (int i = 0; i < MB; i++)
        for (int v = 0; v < w; v++) {
            float *c = C + (size_t)i * ldc + j + v;
            *c = (first && beta != 0.0f) ? acc[i][v] + beta * *c : acc[i][v];
        }
}
#endif

#if GF_HAVE_DP
static inline __attribute__((always_inline)) void nn_tile_dp(int MB, int NV, const uint16_t *xs, int Kp, int kb,
                                                             int ke, const uint16_t *B, int ldb, int j, int w,
                                                             int first, float beta, float *C, int ldc) {
    __m512 acc[4][8];
    __mmask16 mk[8];
    int nv[8];
    nn_acc_init(MB, NV, w, first, C, ldc, j, acc, mk, nv);
    __m512i il = _mm512_load_si512(gf_il_idx[0]);
    for (int k = kb; k < ke; k += 2) {
        const uint16_t *r0 = B + (size_t)k * ldb + j, *r1 = r0 + ldb;
        const char *pf = (const char *)(r0 + (size_t)GF_NN_PD * ldb);
        for (int o = 0; o < NV * 32; o += 64) {
            _mm_prefetch(pf + o, _MM_HINT_T0);
            _mm_prefetch(pf + (size_t)ldb * 2 + o, _MM_HINT_T0);
        }
        int two = k + 1 < ke;
        __m512bh bv[8];
        for (int v = 0; v < NV; v++) {
            __m512i a0 = _mm512_castsi256_si512(_mm256_maskz_loadu_epi16(mk[v], r0 + 16 * v));
            __m512i a1 = two ? _mm512_castsi256_si512(_mm256_maskz_loadu_epi16(mk[v], r1 + 16 * v)) : _mm512_setzero_si512();
            bv[v] = (__m512bh)_mm512_permutex2var_epi16(a0, il, a1);
        }
        for (int i = 0; i < MB; i++) {
            int32_t pair;
            memcpy(&pair, xs + (size_t)i * Kp + k, 4);
            __m512bh xv = (__m512bh)_mm512_set1_epi32(pair);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], xv, bv[v]);
        }
    }
    nn_acc_store(MB, NV, first, beta, C, ldc, j, acc, mk);
}
#endif

static void smallm_nn(int M, int n0, int n1, int K, const void *xs_, const void *B, int mode, int ldb, float beta,
                      float *C, int ldc) {
    int w16 = mode != GF_F32, Kp = mode == GF_DP ? K + (K & 1) : K;
    size_t xesz = mode == GF_DP ? 2 : 4; /* x rows: bf16 for dp */
#if GF_HAVE_DP
#define GF_NN(mbv, nvv, x_, c_, j_, w_)                                                                     \
    (mode == GF_DP ? nn_tile_dp(mbv, nvv, (const uint16_t *)(x_), Kp, kb, ke, (const uint16_t *)B, ldb, j_, w_, \
                                first, beta, c_, ldc)                                                       \
     : w16 ? nn_tile(mbv, nvv, (const float *)(x_), K, kb, ke, B, 1, ldb, j_, w_, first, beta, c_, ldc)      \
           : nn_tile(mbv, nvv, (const float *)(x_), K, kb, ke, B, 0, ldb, j_, w_, first, beta, c_, ldc))
#else
#define GF_NN(mbv, nvv, x_, c_, j_, w_)                                                                     \
    (w16 ? nn_tile(mbv, nvv, (const float *)(x_), K, kb, ke, B, 1, ldb, j_, w_, first, beta, c_, ldc)        \
         : nn_tile(mbv, nvv, (const float *)(x_), K, kb, ke, B, 0, ldb, j_, w_, first, beta, c_, ldc))
#endif
    for (int kb = 0; kb < K; kb += GF_NN_KB) {
        int ke = gf_imin(K, kb + GF_NN_KB), first = kb == 0;
        if (M <= 2) { /* 8 vectors of columns, 8 or 16 accumulators */
            for (int j = n0; j < n1; j += 128) {
                int w = gf_imin(128, n1 - j);
                if (M == 1) GF_NN(1, 8, xs_, C, j, w);
                else GF_NN(2, 8, xs_, C, j, w);
            }
            continue;
        }
        for (int j = n0; j < n1; j += 64) {
            int w = gf_imin(64, n1 - j);
            for (int m = 0; m < M; m += 4) {
                int mb = gf_imin(4, M - m);
                const void *x = (const char *)xs_ + (size_t)m * Kp * xesz;
                float *c = C + (size_t)m * ldc;
                switch (mb) {
                case 1: GF_NN(1, 4, x, c, j, w); break;
                case 2: GF_NN(2, 4, x, c, j, w); break;
                case 3: GF_NN(3, 4, x, c, j, w); break;
                default: GF_NN(4, 4, x, c, j, w); break;
                }
            }
        }
    }
#undef GF_NN
}

/* fp32 weights at 8 <= M <= GF_LN_MAX (decode at batch 8..128), "lanes": x is
 * laid out in blocks of 16 rows, k-major, xl[b][k][l] = x[16b + l][k] (zero
 * past M), so one vector holds one k of 16 rows. A tile takes 16 W rows
 * (transB = 1) or 16 columns (transB = 0) and, at every k, multiplies each of
 * their 16 elements, broadcast from memory inside the FMA, into that vector:
 * 16 accumulators hold C^T (16 outputs x 16 rows), transposed in registers at
 * the end. W is read as stored (no packing), no horizontal sums (the 4 x 4
 * dot-product tiles above spend a sum per accumulator), and each FMA needs
 * one scalar load, not a vector load: at M = 16 about twice their rate. */
#define GF_LN_M 8 /* smallest M that takes this form */
/* largest: by measurement (hawk-400m shapes, 2 threads) it beats the strip
 * path up to M = 128 too (M = 64: 186-191 against 147-150 GFLOP/s; M = 128:
 * 179 against 159), so fp32 products up to here take it (bf16: GF_SMALL_M) */
#define GF_LN_MAX 128
#define GF_LN_R 16 /* W rows or columns per tile */
#ifndef GF_LN_PF
#define GF_LN_PF 0 /* transB = 1: bytes ahead in each row prefetched (0: none, by measurement) */
#endif
#if defined(__AVX512F__)
#define GF_HAVE_LN 1
#define GF_LN_BC(p, off) _mm512_set1_ps(*(const float *)((const char *)(p) + (off)))
/* acc[r] += w_r[k] * xl[k] over k < K for 16 full W rows w_r = W + r * ldb
 * (transB = 1). Offsets of rows 0..7 from two base pointers through 3 strides
 * in registers, so that the loop holds no per-row pointers. */
static inline __attribute__((always_inline)) void ln_nt16(int R, const float *xl, int K, const float *W, size_t ldb,
                                                          __m512 *acc) {
    size_t L = ldb * 4, L3 = 3 * L, L5 = 5 * L, L7 = 7 * L;
    __asm__("" : "+r"(L3), "+r"(L5), "+r"(L7)); /* keep them as registers */
    const char *p0 = (const char *)W, *p8 = p0 + 8 * L;
    int k = 0;
#define GF_LN_STEP                                                                                          \
    do {                                                                                                    \
        __m512 xv = _mm512_loadu_ps(xl + (size_t)k * 16);                                                    \
        acc[0] = _mm512_fmadd_ps(GF_LN_BC(p0, 0), xv, acc[0]);                                              \
        acc[1] = _mm512_fmadd_ps(GF_LN_BC(p0, L), xv, acc[1]);                                              \
        acc[2] = _mm512_fmadd_ps(GF_LN_BC(p0, 2 * L), xv, acc[2]);                                          \
        acc[3] = _mm512_fmadd_ps(GF_LN_BC(p0, L3), xv, acc[3]);                                             \
        acc[4] = _mm512_fmadd_ps(GF_LN_BC(p0, 4 * L), xv, acc[4]);                                          \
        acc[5] = _mm512_fmadd_ps(GF_LN_BC(p0, L5), xv, acc[5]);                                             \
        acc[6] = _mm512_fmadd_ps(GF_LN_BC(p0, 2 * L3), xv, acc[6]);                                         \
        acc[7] = _mm512_fmadd_ps(GF_LN_BC(p0, L7), xv, acc[7]);                                             \
        if (R > 8) acc[8] = _mm512_fmadd_ps(GF_LN_BC(p8, 0), xv, acc[8]);                                              \
        if (R > 8) acc[9] = _mm512_fmadd_ps(GF_LN_BC(p8, L), xv, acc[9]);                                              \
        if (R > 8) acc[10] = _mm512_fmadd_ps(GF_LN_BC(p8, 2 * L), xv, acc[10]);                                        \
        if (R > 8) acc[11] = _mm512_fmadd_ps(GF_LN_BC(p8, L3), xv, acc[11]);                                           \
        if (R > 8) acc[12] = _mm512_fmadd_ps(GF_LN_BC(p8, 4 * L), xv, acc[12]);                                        \
        if (R > 8) acc[13] = _mm512_fmadd_ps(GF_LN_BC(p8, L5), xv, acc[13]);                                           \
        if (R > 8) acc[14] = _mm512_fmadd_ps(GF_LN_BC(p8, 2 * L3), xv, acc[14]);                                       \
        if (R > 8) acc[15] = _mm512_fmadd_ps(GF_LN_BC(p8, L7), xv, acc[15]);                                           \
        k++, p0 += 4, p8 += 4;                                                                              \
    } while (0)
    for (; k + 16 <= K;) {
        if (GF_LN_PF) {
            __builtin_prefetch(p0 + GF_LN_PF, 0, 3), __builtin_prefetch(p0 + L + GF_LN_PF, 0, 3);
            __builtin_prefetch(p0 + 2 * L + GF_LN_PF, 0, 3), __builtin_prefetch(p0 + L3 + GF_LN_PF, 0, 3);
            __builtin_prefetch(p0 + 4 * L + GF_LN_PF, 0, 3), __builtin_prefetch(p0 + L5 + GF_LN_PF, 0, 3);
            __builtin_prefetch(p0 + 2 * L3 + GF_LN_PF, 0, 3), __builtin_prefetch(p0 + L7 + GF_LN_PF, 0, 3);
            if (R > 8) {
                __builtin_prefetch(p8 + GF_LN_PF, 0, 3), __builtin_prefetch(p8 + L + GF_LN_PF, 0, 3);
                __builtin_prefetch(p8 + 2 * L + GF_LN_PF, 0, 3), __builtin_prefetch(p8 + L3 + GF_LN_PF, 0, 3);
                __builtin_prefetch(p8 + 4 * L + GF_LN_PF, 0, 3), __builtin_prefetch(p8 + L5 + GF_LN_PF, 0, 3);
                __builtin_prefetch(p8 + 2 * L3 + GF_LN_PF, 0, 3), __builtin_prefetch(p8 + L7 + GF_LN_PF, 0, 3);
            }
        }
        for (int u = 0; u < 16; u++) GF_LN_STEP;
    }
    while (k < K) GF_LN_STEP;
#undef GF_LN_STEP
}

/* The same for transB = 0 and 16 full columns (W + r, rows ldb apart), rows
 * [0, K); pf: a line to prefetch per row (the next K block's), or NULL. */
static inline __attribute__((always_inline)) void ln_nn16(const float *xl, int K, const float *W, size_t ldb,
                                                          const float *pf, __m512 acc[16]) {
    const float *p = W;
    for (int k = 0; k < K; k++, p += ldb) {
        if (pf) __builtin_prefetch(pf + (size_t)k * ldb, 0, 2);
        __m512 xv = _mm512_loadu_ps(xl + (size_t)k * 16);
#pragma GCC unroll 16
        for (int r = 0; r < 16; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[r]), xv, acc[r]);
    }
}

/* Either transpose with nb < 16 rows or columns (the last ones repeated). */
static void ln_edge(int transB, const float *xl, int K, const float *W, size_t ldb, int nb, __m512 acc[16]) {
    size_t off[16], ks = transB ? 1 : ldb;
    for (int r = 0; r < 16; r++) off[r] = (size_t)gf_imin(r, nb - 1) * (transB ? ldb : 1);
    for (int k = 0; k < K; k++) {
        __m512 xv = _mm512_loadu_ps(xl + (size_t)k * 16);
        const float *p = W + (size_t)k * ks;
        for (int r = 0; r < 16; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[off[r]]), xv, acc[r]);
    }
}

/* xl = alpha * op(A) in blocks of 16 lanes, zero past M: 16 x 16 register
 * transposes where A's rows run along k, vector copies where its columns do. */
static void lanes_fill(int transA, int M, int K, float alpha, const float *A, int lda, float *xl) {
    __m512 va = _mm512_set1_ps(alpha);
    for (int b = 0; b < M; b += 16) {
        int nr = gf_imin(16, M - b);
        float *x = xl + (size_t)b * K;
        if (transA) {
            __mmask16 m = (__mmask16)((1u << nr) - 1);
            for (int k = 0; k < K; k++)
                _mm512_storeu_ps(x + (size_t)k * 16, _mm512_mul_ps(va, _mm512_maskz_loadu_ps(m, A + (size_t)k * lda + b)));
            continue;
        }
        const void *rows[16];
        for (int q = 0; q < 16; q++) rows[q] = A + (size_t)(b + gf_imin(q, nr - 1)) * lda;
        if (nr < 16) memset(x, 0, (size_t)K * 16 * sizeof(float));
        pack_transpose(rows, nr, K, x, 16, 0);
        if (alpha != 1.0f)
            for (size_t k = 0; k < (size_t)K; k++) _mm512_storeu_ps(x + k * 16, _mm512_mul_ps(va, _mm512_loadu_ps(x + k * 16)));
    }
}

/* acc (C^T of a 16 x 16 tile) into C rows m0 .. m0+mr-1, columns n .. n+nb-1. */
static inline __attribute__((always_inline)) void ln_store(__m512 acc[16], int mr, int nb, float beta, float *C,
                                                           int ldc) {
    __m512 vb = _mm512_set1_ps(beta);
    __mmask16 cm = (__mmask16)((1u << nb) - 1);
    transpose16(acc); /* acc[i][r] = C[i][r] */
    for (int i = 0; i < mr; i++) {
        float *c = C + (size_t)i * ldc;
        __m512 v = acc[i];
        if (beta != 0.0f) v = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cm, c), v);
        _mm512_mask_storeu_ps(c, cm, v);
    }
}

/* transB = 1, one tile over the whole K. Where W's row stride is a multiple
 * of 4 KiB (K = 1024, 2048, 6144, ...) the 16 rows' current lines all fall in
 * one L1 set (8 ways) and evict each other before their 16 uses: such tiles
 * run as two passes of 8 rows (8 accumulators each, still enough to cover the
 * FMA latency). */
static void lanes_nt(int M, int n0, int n1, int K, const float *xl, const float *B, int ldb, float beta, float *C,
                     int ldc) {
    int halves = ((size_t)ldb * 4) % 4096 == 0;
    for (int n = n0; n < n1; n += GF_LN_R) {
        int nb = gf_imin(GF_LN_R, n1 - n);
        const float *w = B + (size_t)n * ldb;
        for (int m = 0; m < M; m += 16) {
            __m512 acc[16];
            for (int r = 0; r < 16; r++) acc[r] = _mm512_setzero_ps();
            const float *x = xl + (size_t)m * K;
            if (nb < GF_LN_R) ln_edge(1, x, K, w, (size_t)ldb, nb, acc);
            else if (halves) {
                ln_nt16(8, x, K, w, (size_t)ldb, acc);
                ln_nt16(8, x, K, w + (size_t)8 * ldb, (size_t)ldb, acc + 8);
            } else ln_nt16(16, x, K, w, (size_t)ldb, acc);
            ln_store(acc, gf_imin(16, M - m), nb, beta, C + (size_t)m * ldc + n, ldc);
        }
    }
}

/* transB = 0: K in blocks of GF_LN_KB rows, every 16-column tile of the item
 * over one block before the next (its rows then read as runs of the item's
 * width, a few pages at a time), partial sums kept in a scratch buffer; the
 * next block's lines prefetched into L2 while this one runs. */
#define GF_LN_KB 64
static void lanes_nn(int M, int n0, int n1, int K, const float *xl, const float *B, int ldb, float beta, float *C,
                     int ldc) {
    int ng = (n1 - n0 + GF_LN_R - 1) / GF_LN_R;
    __m512 *sc = (__m512 *)buf_get(&tl_a, (size_t)ng * 16 * 16);
    for (int m = 0; m < M; m += 16) {
        const float *x = xl + (size_t)m * K;
        for (int kb = 0; kb < K; kb += GF_LN_KB) {
            int kc = gf_imin(GF_LN_KB, K - kb), next = kb + kc < K;
            for (int g = 0; g < ng; g++) {
                int n = n0 + g * GF_LN_R, nb = gf_imin(GF_LN_R, n1 - n);
                __m512 acc[16];
                for (int r = 0; r < 16; r++) acc[r] = kb ? sc[g * 16 + r] : _mm512_setzero_ps();
                const float *w = B + (size_t)kb * ldb + n;
                if (nb < GF_LN_R) ln_edge(0, x + (size_t)kb * 16, kc, w, (size_t)ldb, nb, acc);
                else ln_nn16(x + (size_t)kb * 16, kc, w, (size_t)ldb, next && m == 0 ? w + (size_t)kc * ldb : NULL,
                             acc);
                if (kb + kc < K)
                    for (int r = 0; r < 16; r++) sc[g * 16 + r] = acc[r];
                else ln_store(acc, gf_imin(16, M - m), nb, beta, C + (size_t)m * ldc + n, ldc);
            }
        }
    }
}
#else
#define GF_HAVE_LN 0
#endif

/* transB = 0 for the smallest M (decode at batch 1..GF_NS_M), "row
 * streaming": the work item's columns [n0, n1) are swept G W rows at a time,
 * each sweep reading G long contiguous row segments (the whole item's width)
 * and adding their products into C, which stays in L1/L2 between sweeps. The
 * tiled form above walks 64 rows down a 64..128-column strip instead, a few
 * cache lines per row and page; the hardware prefetchers do not follow that,
 * and at M = 1 it reached about 60% of the read bandwidth (this form: ~90%).
 * Costs one load and store of C per G rows, which M <= 4 can afford. */
#define GF_NS_M 4
#ifndef GF_NS_G
#define GF_NS_G 8
#endif
#ifndef GF_NS_PF
#define GF_NS_PF 2
#endif
#define GF_NS_W 64 /* columns per register tile */
#ifndef GF_NS_ITEMS
#define GF_NS_ITEMS 1 /* work items per thread: long rows beat dynamic balance */
#endif
#if defined(__AVX512F__)
static inline __attribute__((always_inline)) void ns_tile(int MB, int G, int full, const float *xs, int K, int k,
                                                          const void *B, int w16, int ldb, int j, int w, float *C,
                                                          int ldc) {
    __m512 acc[GF_NS_M][4];
    __mmask16 mk[4];
    for (int v = 0; v < 4; v++) {
        int r = w - 16 * v;
        mk[v] = full || r >= 16 ? (__mmask16)0xFFFF : r > 0 ? (__mmask16)((1u << r) - 1) : 0;
    }
    for (int i = 0; i < MB; i++)
        for (int v = 0; v < 4; v++)
            acc[i][v] = full ? _mm512_loadu_ps(C + (size_t)i * ldc + j + 16 * v)
                             : _mm512_maskz_loadu_ps(mk[v], C + (size_t)i * ldc + j + 16 * v);
    for (int g = 0; g < G; g++) {
        size_t o = (size_t)(k + g) * ldb + j;
        if (GF_NS_PF && full) {
            const char *pf = (const char *)B + (o + (size_t)G * ldb) * (w16 ? 2 : 4);
            for (int q = 0; q < GF_NS_W * (w16 ? 2 : 4); q += 64) _mm_prefetch(pf + q, GF_NS_PF == 1 ? _MM_HINT_T0 : _MM_HINT_T1);
        }
        __m512 bv[4];
        for (int v = 0; v < 4; v++)
            bv[v] = full ? gf_ld(B, o + 16 * v, w16) : gf_ld_n(B, o + 16 * v, w - 16 * v > 0 ? w - 16 * v : 0, w16);
        for (int i = 0; i < MB; i++) {
            __m512 xv = _mm512_set1_ps(xs[(size_t)i * K + k + g]);
            for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(xv, bv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MB; i++)
        for (int v = 0; v < 4; v++) {
            float *c = C + (size_t)i * ldc + j + 16 * v;
            if (full) _mm512_storeu_ps(c, acc[i][v]);
            else _mm512_mask_storeu_ps(c, mk[v], acc[i][v]);
        }
}
#else
static inline void ns_tile(int MB, int G, int full, const float *xs, int K, int k, const void *B, int w16, int ldb,
                           int j, int w, float *C, int ldc) {
    (void)full;
    for (int i = 0; i < MB; i++) {
        float *c = C + (size_t)i * ldc + j;
        for (int g = 0; g < G; g++) {
            float x = xs[(size_t)i * K + k + g];
            size_t o = (size_t)(k + g) * ldb + j;
            if (w16) {
                const uint16_t *b = (const uint16_t *)B + o;
#pragma omp simd
                for (int v = 0; v < w; v++) c[v] += x * bf16_to_f32(b[v]);
            } else {
                const float *b = (const float *)B + o;
#pragma omp simd
                for (int v = 0; v < w; v++) c[v] += x * b[v];
            }
        }
    }
}
#endif

static void smallm_ns(int M, int n0, int n1, int K, const float *xs, const void *B, int w16, int ldb, float beta,
                      float *C, int ldc) {
    for (int i = 0; i < M; i++) { /* C = beta C, then every sweep adds to it */
        float *c = C + (size_t)i * ldc + n0;
        if (beta == 0.0f) memset(c, 0, (size_t)(n1 - n0) * sizeof(float));
        else if (beta != 1.0f)
            for (int j = 0; j < n1 - n0; j++) c[j] *= beta;
    }
    int nfull = n0 + (n1 - n0) / GF_NS_W * GF_NS_W;
#define GF_NS_SWEEP(mbv, gv)                                                                                   \
    do {                                                                                                      \
        for (int j = n0; j < nfull; j += GF_NS_W)                                                             \
            w16 ? ns_tile(mbv, gv, 1, xs, K, k, B, 1, ldb, j, GF_NS_W, C, ldc)                                 \
                : ns_tile(mbv, gv, 1, xs, K, k, B, 0, ldb, j, GF_NS_W, C, ldc);                                \
        if (nfull < n1)                                                                                       \
            w16 ? ns_tile(mbv, gv, 0, xs, K, k, B, 1, ldb, nfull, n1 - nfull, C, ldc)                         \
                : ns_tile(mbv, gv, 0, xs, K, k, B, 0, ldb, nfull, n1 - nfull, C, ldc);                        \
    } while (0)
    for (int k = 0; k < K;) {
        int g = K - k >= GF_NS_G ? GF_NS_G : 1;
        switch (M * 2 + (g == GF_NS_G)) {
        case 2: GF_NS_SWEEP(1, 1); break;
        case 3: GF_NS_SWEEP(1, GF_NS_G); break;
        case 4: GF_NS_SWEEP(2, 1); break;
        case 5: GF_NS_SWEEP(2, GF_NS_G); break;
        case 6: GF_NS_SWEEP(3, 1); break;
        case 7: GF_NS_SWEEP(3, GF_NS_G); break;
        case 8: GF_NS_SWEEP(4, 1); break;
        default: GF_NS_SWEEP(4, GF_NS_G); break;
        }
        k += g;
    }
#undef GF_NS_SWEEP
}

/* One small-M product laid out as work items: gemm_small_m runs one plan,
 * gemm_fast_group the items of several in one parallel region. */
typedef struct {
    int M, N, K, transB, mode, stream, lanes, tiled, ldb, ldc;
    const void *xs, *B;
    float beta, *C;
    int unit, nunits, nitems;
} sm_plan;

/* The form of x = alpha * op(A) a product needs: fp32 (0), fp32 rounded to
 * bf16 values (1: dp in the row-streaming form), bf16 pairs (2: dp tiles),
 * fp32 in blocks of 16 lanes (3: the lanes form, fp32 weights). */
static int sm_xform(int tiled, int transB, int M, int mode) {
    if (mode == GF_F32) return GF_HAVE_LN && !tiled && M >= GF_LN_M ? 3 : 0;
    if (mode != GF_DP) return 0;
    return !tiled && !transB && M <= GF_NS_M ? 1 : 2;
}
static size_t sm_xs_floats(int M, int K, int xform) {
    if (xform == 3) return (size_t)(M + 15) / 16 * 16 * K;
    return xform == 2 ? ((size_t)M * (size_t)(K + (K & 1)) + 1) / 2 : (size_t)M * K;
}

/* tiled: the form before row streaming and prefetch (variants fast-tiled,
 * bf16-widen-tiled), kept to compare against. nth: the team the items are
 * sized for (1: one item). */
static void sm_prepare(sm_plan *p, int nth, int tiled, int transA, int transB, int M, int N, int K, float alpha,
                       const float *A, int lda, const void *B, int mode, int ldb, float beta, float *C, int ldc,
                       float *xbuf, int fill_x) {
    /* the row-streaming form is memory bound at its M: for dp it widens the
     * weights and multiplies in fp32 too, with x rounded to bf16 as dp rounds
     * it (products of two bf16 are exact in fp32), so that decode (this form)
     * and prefill (dp tiles) round the same way */
    int xform = sm_xform(tiled, transB, M, mode), lanes = xform == 3;
    int stream = !tiled && !transB && M <= GF_NS_M && !lanes, round_x = xform == 1;
    if (round_x) mode = GF_W16;
    /* x = alpha * op(A), contiguous (M,K): folds alpha and transA away; for
     * dp rows of bf16 of even length (zero pad). fill_x = 0: xbuf already
     * holds it (a group's products of one input). */
    if (fill_x && mode == GF_DP) {
        int Kp = K + (K & 1);
        uint16_t *x16 = (uint16_t *)xbuf;
        for (int i = 0; i < M; i++) {
            for (int k = 0; k < K; k++)
                x16[(size_t)i * Kp + k] = f32_to_bf16(alpha * (transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]));
            if (Kp > K) x16[(size_t)i * Kp + K] = 0;
        }
    } else if (fill_x && lanes) {
#if GF_HAVE_LN
        lanes_fill(transA, M, K, alpha, A, lda, xbuf);
#endif
    } else if (fill_x) {
        for (int i = 0; i < M; i++)
            for (int k = 0; k < K; k++)
                xbuf[(size_t)i * K + k] = alpha * (transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]);
        if (round_x)
            for (size_t i = 0; i < (size_t)M * K; i++) xbuf[i] = bf16_to_f32(f32_to_bf16(xbuf[i]));
    }
    /* Work items: contiguous runs of W rows (transB) or columns, about 8 per
     * thread, handed out dynamically (robust to a preempted thread); each item
     * streams its own part of W. */
    *p = (sm_plan){.M = M, .N = N, .K = K, .transB = transB, .mode = mode, .stream = stream, .lanes = lanes,
                   .tiled = tiled,
                   .ldb = ldb, .ldc = ldc, .xs = xbuf, .B = B, .beta = beta, .C = C};
    p->unit = lanes ? GF_LN_R : transB ? 4 : stream ? GF_NS_W : GF_NN_UNIT;
    p->nunits = (N + p->unit - 1) / p->unit;
    p->nitems = nth > 1 ? gf_imin(p->nunits, (stream ? GF_NS_ITEMS : 8) * nth) : 1;
}

static void sm_item(const sm_plan *p, int it) {
    int u0 = (int)((long)p->nunits * it / p->nitems), u1 = (int)((long)p->nunits * (it + 1) / p->nitems);
    int n0 = u0 * p->unit, n1 = gf_imin(p->N, u1 * p->unit);
    if (n0 >= n1) return;
#if GF_HAVE_LN
    if (p->lanes) {
        (p->transB ? lanes_nt : lanes_nn)(p->M, n0, n1, p->K, (const float *)p->xs, (const float *)p->B, p->ldb,
                                          p->beta, p->C, p->ldc);
        return;
    }
#endif
    if (p->transB) smallm_nt(p->M, n0, n1, p->K, p->xs, p->B, p->mode, !p->tiled, p->ldb, p->beta, p->C, p->ldc);
    else if (p->stream)
        smallm_ns(p->M, n0, n1, p->K, (const float *)p->xs, p->B, p->mode != GF_F32, p->ldb, p->beta, p->C, p->ldc);
    else smallm_nn(p->M, n0, n1, p->K, p->xs, p->B, p->mode, p->ldb, p->beta, p->C, p->ldc);
}

static void gemm_small_m(int nth, int tiled, int transA, int transB, int M, int N, int K, float alpha, const float *A,
                         int lda, const void *B, int mode, int ldb, float beta, float *C, int ldc) {
    sm_plan p;
    sm_prepare(&p, nth, tiled, transA, transB, M, N, K, alpha, A, lda, B, mode, ldb, beta, C, ldc,
               buf_get(&tl_x, sm_xs_floats(M, K, sm_xform(tiled, transB, M, mode))), 1);
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1) if (nth > 1)
    for (int it = 0; it < p.nitems; it++) sm_item(&p, it);
}

/* ---- entry points ------------------------------------------------------ */
/* Threads a top-level call may use: one inside a parallel region (or without
 * OpenMP), else the pool's size. */
static int gf_outer_threads(void) {
#ifdef _OPENMP
    int n = omp_in_parallel() ? 1 : util_threads();
    return n < 1 ? 1 : n;
#else
    return 1;
#endif
}

/* Whether a product takes the small-M path. */
static int gf_small(int tiled, int M, int mode) {
    return M <= GF_SMALL_M || (GF_HAVE_LN && !tiled && mode == GF_F32 && M <= GF_LN_MAX);
}

static void gemm_fast_any(int tiled, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                          const void *B, int mode, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    int nth = gf_outer_threads();
    if (2.0 * M * N * K < GF_PAR_MIN_FLOPS) nth = 1;
    if (gf_small(tiled, M, mode)) gemm_small_m(nth, tiled, transA, transB, M, N, K, alpha, A, lda, B, mode, ldb, beta, C, ldc);
    else if (M <= GF_STRIP_M && !tiled) gemm_strips(nth, transA, transB, M, N, K, alpha, A, lda, B, mode, ldb, beta, C, ldc);
    else gemm_blocked(nth, transA, transB, M, N, K, alpha, A, lda, B, mode, ldb, beta, C, ldc);
}

void gemm_fast(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc) {
    gemm_fast_any(0, transA, transB, M, N, K, alpha, A, lda, B, GF_F32, ldb, beta, C, ldc);
}

void gemm_fast_tiled(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc) {
    gemm_fast_any(1, transA, transB, M, N, K, alpha, A, lda, B, GF_F32, ldb, beta, C, ldc);
}

void gemm_bf16_fast(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                    const uint16_t *B, int ldb, float beta, float *C, int ldc) {
    gemm_fast_any(0, transA, transB, M, N, K, alpha, A, lda, B, GF_W16, ldb, beta, C, ldc);
}

void gemm_bf16_fast_tiled(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                          const uint16_t *B, int ldb, float beta, float *C, int ldc) {
    gemm_fast_any(1, transA, transB, M, N, K, alpha, A, lda, B, GF_W16, ldb, beta, C, ldc);
}

int gemm_bf16_dp_available(void) { return GF_HAVE_DP; }

void gemm_bf16_dp(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const uint16_t *B, int ldb, float beta, float *C, int ldc) {
    gemm_fast_any(0, transA, transB, M, N, K, alpha, A, lda, B, GF_HAVE_DP ? GF_DP : GF_W16, ldb, beta, C, ldc);
}

/* ---- groups: several small-M products in one parallel region ------------- */

/* How many products one group call plans at a time (larger groups run in
 * chunks of this many). */
#define GF_GROUP_MAX 64

void gemm_fast_group(int M, int count, const gemm_op *ops, int dp) {
    if (count <= 0 || M <= 0) return;
    int nth = gf_outer_threads();
    if (nth < 1) nth = 1;
    if (count > GF_GROUP_MAX) {
        for (int i = 0; i < count; i += GF_GROUP_MAX) gemm_fast_group(M, gf_imin(GF_GROUP_MAX, count - i), ops + i, dp);
        return;
    }
    /* Larger M takes the packed path, one product at a time (each already
     * one team); so does a group of one. */
    double flops = 0;
    int degenerate = 0;
    int large = 0;
    for (int i = 0; i < count; i++) {
        flops += 2.0 * M * ops[i].N * ops[i].K;
        degenerate |= ops[i].N <= 0 || ops[i].K <= 0;
        large |= !gf_small(0, M, ops[i].B16 ? GF_W16 : GF_F32);
    }
    if (large || count == 1 || nth == 1 || degenerate || flops < GF_PAR_MIN_FLOPS) {
        for (int i = 0; i < count; i++) {
            const gemm_op *o = &ops[i];
            int mode = o->B16 ? (dp && GF_HAVE_DP ? GF_DP : GF_W16) : GF_F32;
            gemm_fast_any(0, 0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda, o->B16 ? (const void *)o->B16 : o->B,
                          mode, o->ldb, o->beta, o->C, o->ldc);
        }
        return;
    }
    /* Plan every product (one too small for a team is one item, as it would
     * run alone), x prepared once for the products that share it (same A,
     * lda, K and x form), then every item of every product from one queue. */
    sm_plan plans[GF_GROUP_MAX];
    int modes[GF_GROUP_MAX], xf[GF_GROUP_MAX], share[GF_GROUP_MAX], first[GF_GROUP_MAX + 1];
    size_t off[GF_GROUP_MAX], total = 0;
    for (int i = 0; i < count; i++) {
        const gemm_op *o = &ops[i];
        modes[i] = o->B16 ? (dp && GF_HAVE_DP ? GF_DP : GF_W16) : GF_F32;
        xf[i] = sm_xform(0, o->transB, M, modes[i]);
        share[i] = -1;
        for (int j = 0; j < i && share[i] < 0; j++)
            if (ops[j].A == o->A && ops[j].lda == o->lda && ops[j].K == o->K && xf[j] == xf[i]) share[i] = j;
        off[i] = share[i] >= 0 ? off[share[i]] : total;
        if (share[i] < 0) total += sm_xs_floats(M, o->K, xf[i]) + 16;
    }
    float *xbuf = buf_get(&tl_x, total);
    first[0] = 0;
    for (int i = 0; i < count; i++) {
        const gemm_op *o = &ops[i];
        int pn = 2.0 * M * o->N * o->K < GF_PAR_MIN_FLOPS ? 1 : nth;
        sm_prepare(&plans[i], pn, 0, 0, o->transB, M, o->N, o->K, 1.0f, o->A, o->lda,
                   o->B16 ? (const void *)o->B16 : (const void *)o->B, modes[i], o->ldb, o->beta, o->C, o->ldc,
                   xbuf + off[i], share[i] < 0);
        first[i + 1] = first[i] + plans[i].nitems;
    }
    const int nitems = first[count];
#pragma omp parallel for num_threads(nth) schedule(dynamic, 1)
    for (int it = 0; it < nitems; it++) {
        int i = 0;
        while (first[i + 1] <= it) i++;
        sm_item(&plans[i], it - first[i]);
    }
}
