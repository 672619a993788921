/* attention.c — multi-query attention (H query heads sharing one K/V head),
 * prefill/training forward and backward as named variants, plus decode.
 *
 * Variants (attn_variants[], selected by name with attn_find):
 *   ref     the oracle: for every (b, h, t) a full row of T masked scores
 *           (mask value ATTN_MASK_VALUE), softmax, weighted sum. O(T^2).
 *   banded  per query only its visible keys [lo(t), t] (the window+1 band,
 *           cut at the document start); all H heads of a query share each
 *           key load (MQA). Linear in T for local attention; for window < 0
 *           it is causal-global attention (quadratic, but no masked work).
 *   tiled   FlashAttention-style: a block of queries (all heads) against key
 *           tiles with an online softmax (running max, running sum, rescaled
 *           accumulator); no score row is ever materialised, and only key
 *           tiles intersecting the queries' visible ranges are visited.
 *   flash   the same algorithm with register-tiled AVX-512 GEMMs over key
 *           tiles packed once per call, and a one-pass backward (see its
 *           section below); the default.
 * Backward for all: P = exp(S - lse) from the saved lse,
 *   dV = P^T dO,  dP = dO V^T,  dS = P o (dP - rowsum(dO o O)),
 *   dQ = scale dS K,  dK = scale dS^T Q  (dK, dV summed over the H heads).
 * banded and tiled run a query-centric pass (dq) and a key-centric pass
 * (dk, dv), so no two threads write the same row (no atomics, no scratch
 * beyond the rowsum D of size B*T*H); flash runs the key-centric pass only
 * and keeps a dQ partial per thread.
 *
 * Visibility (attention.h, Griffin spec §3): key s is visible to query t iff
 * s <= t, same document (segment id = number of pos == 0 up to the index),
 * and t - window <= s when window >= 0. Since documents are contiguous the
 * visible keys of t are the range [lo(t), t], lo(t) = max(docstart(t),
 * t - window); the queries that see key s are [s, hi(s)], hi(s) = min(s +
 * window, docend(s)). Both are nondecreasing, which the tiles rely on.
 *
 * Threads: OpenMP over (B, query rows or tiles) and over (B, key tiles).
 * Tests: tests/test_attention.c (every variant vs ref on odd shapes, finite
 * differences on ref's backward, decode vs the last prefill row).
 */
#include "attention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "util.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/* ---- shared helpers ----------------------------------------------------------- */

static inline float dotf(const float *a, const float *b, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static inline void axpyf(float *restrict y, float a, const float *restrict x, int n) {
#pragma omp simd
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* lo (B,T): first key visible to query t; hi (B,T): last query that sees key s. */
static void attn_ranges(int *lo, int *hi, const int32_t *pos, int B, int T, int window) {
    for (int b = 0; b < B; b++) {
        const int32_t *pb = pos ? pos + (size_t)b * T : NULL;
        int *lb = lo + (size_t)b * T, *hb = hi + (size_t)b * T;
        int ds = 0;
        for (int t = 0; t < T; t++) {
            if (pb && pb[t] == 0) ds = t;
            lb[t] = (window >= 0 && t - window > ds) ? t - window : ds;
        }
        int de = T - 1;
        for (int s = T - 1; s >= 0; s--) {
            hb[s] = (window >= 0 && s + window < de) ? s + window : de;
            if (pb && pb[s] == 0) de = s - 1;
        }
    }
}

/* D[b,t,h] = dot(dO, O) for every query row. */
static void attn_rowsum(float *D, const float *dout, const float *out, size_t rows, int dh) {
#pragma omp parallel for schedule(static) if (rows * dh > 65536)
    for (size_t r = 0; r < rows; r++) D[r] = dotf(dout + r * dh, out + r * dh, dh);
}

/* ---- ref ---------------------------------------------------------------------------- */

static void attn_segments(int *seg, const int32_t *pos, int B, int T) {
    for (int b = 0; b < B; b++) {
        int id = 0;
        for (int t = 0; t < T; t++) {
            if (pos && pos[(size_t)b * T + t] == 0) id++;
            seg[(size_t)b * T + t] = id;
        }
    }
}

static inline int ref_visible(const int *sg, int t, int s, int window) {
    return s <= t && sg[s] == sg[t] && (window < 0 || t - s <= window);
}

/* Row t of head h: masked scaled scores for all T keys into row[]. */
static void ref_scores(float *row, const float *qr, const float *kb, const int *sg, int t,
                       int T, int dh, int window, float scale) {
    for (int s = 0; s < T; s++) {
        double acc = 0;
        for (int d = 0; d < dh; d++) acc += (double)qr[d] * kb[(size_t)s * dh + d];
        row[s] = ref_visible(sg, t, s, window) ? (float)(acc * scale) : ATTN_MASK_VALUE;
    }
}

static void attn_forward_ref(float *out, float *lse, const float *q, const float *k,
                             const float *v, const int32_t *pos, int B, int T, int H,
                             int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    int *seg = malloc(sizeof(int) * (size_t)B * T);
    float *row = malloc(sizeof(float) * (size_t)T);
    double *prob = malloc(sizeof(double) * ((size_t)T + dh)), *acc = prob + T;
    CHECK_ALLOC(seg);
    CHECK_ALLOC(row);
    CHECK_ALLOC(prob);
    attn_segments(seg, pos, B, T);
    for (int b = 0; b < B; b++) {
        const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
        const int *sg = seg + (size_t)b * T;
        for (int h = 0; h < H; h++) {
            for (int t = 0; t < T; t++) {
                const float *qr = q + (((size_t)b * T + t) * H + h) * dh;
                float *orow = out + (((size_t)b * T + t) * H + h) * dh;
                ref_scores(row, qr, kb, sg, t, T, dh, window, scale);
                float m = row[0];
                for (int s = 1; s < T; s++) if (row[s] > m) m = row[s];
                double sum = 0;
                for (int s = 0; s < T; s++) sum += (prob[s] = exp((double)row[s] - m));
                for (int d = 0; d < dh; d++) acc[d] = 0;
                for (int s = 0; s < T; s++)
                    for (int d = 0; d < dh; d++) acc[d] += prob[s] * vb[(size_t)s * dh + d];
                for (int d = 0; d < dh; d++) orow[d] = (float)(acc[d] / sum);
                if (lse) lse[((size_t)b * H + h) * T + t] = (float)(m + log(sum));
            }
        }
    }
    free(prob);
    free(row);
    free(seg);
}

static void attn_backward_ref(float *dq, float *dk, float *dv, const float *dout,
                              const float *out, const float *lse, const float *q,
                              const float *k, const float *v, const int32_t *pos, int B,
                              int T, int H, int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    int *seg = malloc(sizeof(int) * (size_t)B * T);
    float *row = malloc(sizeof(float) * (size_t)T);
    CHECK_ALLOC(seg);
    CHECK_ALLOC(row);
    attn_segments(seg, pos, B, T);
    memset(dq, 0, sizeof(float) * (size_t)B * T * H * dh);
    memset(dk, 0, sizeof(float) * (size_t)B * T * dh);
    memset(dv, 0, sizeof(float) * (size_t)B * T * dh);
    for (int b = 0; b < B; b++) {
        const float *kb = k + (size_t)b * T * dh, *vb = v + (size_t)b * T * dh;
        float *dkb = dk + (size_t)b * T * dh, *dvb = dv + (size_t)b * T * dh;
        const int *sg = seg + (size_t)b * T;
        for (int h = 0; h < H; h++) {
            for (int t = 0; t < T; t++) {
                size_t ri = ((size_t)b * T + t) * H + h;
                const float *qr = q + ri * dh, *gr = dout + ri * dh, *orow = out + ri * dh;
                float *dqr = dq + ri * dh;
                double L = lse[((size_t)b * H + h) * T + t], D = 0;
                for (int d = 0; d < dh; d++) D += (double)gr[d] * orow[d];
                ref_scores(row, qr, kb, sg, t, T, dh, window, scale);
                for (int s = 0; s < T; s++) {
                    double p = exp((double)row[s] - L); /* masked: exactly 0 */
                    double dp = 0;
                    for (int d = 0; d < dh; d++) dp += (double)gr[d] * vb[(size_t)s * dh + d];
                    double ds = p * (dp - D);
                    for (int d = 0; d < dh; d++) {
                        dqr[d] += (float)(scale * ds * kb[(size_t)s * dh + d]);
                        dkb[(size_t)s * dh + d] += (float)(scale * ds * qr[d]);
                        dvb[(size_t)s * dh + d] += (float)(p * gr[d]);
                    }
                }
            }
        }
    }
    free(row);
    free(seg);
}

/* ---- banded ------------------------------------------------------------------------- */

static void attn_forward_banded(float *out, float *lse, const float *q, const float *k,
                                const float *v, const int32_t *pos, int B, int T, int H,
                                int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    int L = (window >= 0 && window + 1 < T) ? window + 1 : T; /* longest band */
    int *lo = malloc(sizeof(int) * 2 * (size_t)B * T);
    CHECK_ALLOC(lo);
    int *hi = lo + (size_t)B * T;
    attn_ranges(lo, hi, pos, B, T, window);
#pragma omp parallel
    {
        float *sc = malloc(sizeof(float) * (size_t)H * L); /* scores, once per thread */
        CHECK_ALLOC(sc);
#pragma omp for collapse(2) schedule(dynamic, 8)
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int l0 = lo[(size_t)b * T + t], n = t - l0 + 1;
                const float *qt = q + ((size_t)b * T + t) * H * dh;
                const float *kb = k + ((size_t)b * T + l0) * dh;
                const float *vb = v + ((size_t)b * T + l0) * dh;
                float *ot = out + ((size_t)b * T + t) * H * dh;
                for (int j = 0; j < n; j++) /* each key row loaded once for all heads */
                    for (int h = 0; h < H; h++)
                        sc[(size_t)h * n + j] = scale * dotf(qt + (size_t)h * dh, kb + (size_t)j * dh, dh);
                for (int h = 0; h < H; h++) {
                    float *sh = sc + (size_t)h * n, m = -INFINITY, sum = 0.0f;
                    for (int j = 0; j < n; j++) m = sh[j] > m ? sh[j] : m;
#pragma omp simd reduction(+ : sum)
                    for (int j = 0; j < n; j++) {
                        sh[j] = ops_expf(sh[j] - m);
                        sum += sh[j];
                    }
                    float inv = 1.0f / sum;
#pragma omp simd
                    for (int j = 0; j < n; j++) sh[j] *= inv;
                    if (lse) lse[((size_t)b * H + h) * T + t] = m + logf(sum);
                }
                memset(ot, 0, sizeof(float) * (size_t)H * dh);
                for (int j = 0; j < n; j++)
                    for (int h = 0; h < H; h++)
                        axpyf(ot + (size_t)h * dh, sc[(size_t)h * n + j], vb + (size_t)j * dh, dh);
            }
        }
        free(sc);
    }
    free(lo);
}

static void attn_backward_banded(float *dq, float *dk, float *dv, const float *dout,
                                 const float *out, const float *lse, const float *q,
                                 const float *k, const float *v, const int32_t *pos, int B,
                                 int T, int H, int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    size_t rows = (size_t)B * T * H;
    int *lo = malloc(sizeof(int) * 2 * (size_t)B * T);
    float *D = malloc(sizeof(float) * rows);
    CHECK_ALLOC(lo);
    CHECK_ALLOC(D);
    int *hi = lo + (size_t)B * T;
    attn_ranges(lo, hi, pos, B, T, window);
    attn_rowsum(D, dout, out, rows, dh);
#pragma omp parallel
    {
        /* pass 1, query-centric: dq_t = scale sum_s dS_ts k_s */
#pragma omp for collapse(2) schedule(dynamic, 8)
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int l0 = lo[(size_t)b * T + t];
                size_t r0 = ((size_t)b * T + t) * H;
                float *dqt = dq + r0 * dh;
                memset(dqt, 0, sizeof(float) * (size_t)H * dh);
                for (int s = l0; s <= t; s++) {
                    const float *ks = k + ((size_t)b * T + s) * dh, *vs = v + ((size_t)b * T + s) * dh;
                    for (int h = 0; h < H; h++) {
                        size_t r = r0 + h;
                        float p = expf(scale * dotf(q + r * dh, ks, dh) - lse[((size_t)b * H + h) * T + t]);
                        float ds = p * (dotf(dout + r * dh, vs, dh) - D[r]);
                        axpyf(dqt + (size_t)h * dh, scale * ds, ks, dh);
                    }
                }
            }
        }
        /* pass 2, key-centric: dk_s, dv_s over the queries [s, hi(s)] that see s */
#pragma omp for collapse(2) schedule(dynamic, 8)
        for (int b = 0; b < B; b++) {
            for (int s = 0; s < T; s++) {
                int h1 = hi[(size_t)b * T + s];
                const float *ks = k + ((size_t)b * T + s) * dh, *vs = v + ((size_t)b * T + s) * dh;
                float *dks = dk + ((size_t)b * T + s) * dh, *dvs = dv + ((size_t)b * T + s) * dh;
                memset(dks, 0, sizeof(float) * dh);
                memset(dvs, 0, sizeof(float) * dh);
                for (int t = s; t <= h1; t++) {
                    for (int h = 0; h < H; h++) {
                        size_t r = ((size_t)b * T + t) * H + h;
                        float p = expf(scale * dotf(q + r * dh, ks, dh) - lse[((size_t)b * H + h) * T + t]);
                        float ds = p * (dotf(dout + r * dh, vs, dh) - D[r]);
                        axpyf(dvs, p, dout + r * dh, dh);
                        axpyf(dks, scale * ds, q + r * dh, dh);
                    }
                }
            }
        }
    }
    free(D);
    free(lo);
}

/* ---- tiled (online softmax) ------------------------------------------------------------ */

#define TILE_ROWS 64 /* query rows (queries x heads) per block */
#define TILE_KEYS 64 /* keys per tile; the micro-kernels below are written for 64 */

/* Bt (dh, 64) = B (nk, dh) transposed, columns nk..63 zero. */
static void tile_transpose(float *restrict Bt, const float *Bm, int nk, int dh) {
    for (int d = 0; d < dh; d++) {
        float *row = Bt + (size_t)d * TILE_KEYS;
        for (int j = 0; j < nk; j++) row[j] = Bm[(size_t)j * dh + d];
        for (int j = nk; j < TILE_KEYS; j++) row[j] = 0.0f;
    }
}

/* S (nr, 64) = scale * A (nr, dh) . Bt (dh, 64). Two rows at a time, the 2 x 64
 * accumulator lives in registers (8 zmm); per d: 4 loads, 2 broadcasts, 8 FMAs. */
static void mm_nt64(float *restrict S, const float *A, const float *restrict Bt, int nr,
                    int dh, float scale) {
    int r = 0;
    for (; r + 2 <= nr; r += 2) {
        const float *a0 = A + (size_t)r * dh, *a1 = a0 + dh;
        float c0[TILE_KEYS] = {0}, c1[TILE_KEYS] = {0};
        for (int d = 0; d < dh; d++) {
            const float *b = Bt + (size_t)d * TILE_KEYS;
            float x0 = a0[d], x1 = a1[d];
#pragma omp simd
            for (int j = 0; j < TILE_KEYS; j++) {
                c0[j] += x0 * b[j];
                c1[j] += x1 * b[j];
            }
        }
#pragma omp simd
        for (int j = 0; j < TILE_KEYS; j++) {
            S[(size_t)r * TILE_KEYS + j] = c0[j] * scale;
            S[(size_t)(r + 1) * TILE_KEYS + j] = c1[j] * scale;
        }
    }
    for (; r < nr; r++) {
        const float *a0 = A + (size_t)r * dh;
        float c0[TILE_KEYS] = {0};
        for (int d = 0; d < dh; d++) {
            const float *b = Bt + (size_t)d * TILE_KEYS;
            float x0 = a0[d];
#pragma omp simd
            for (int j = 0; j < TILE_KEYS; j++) c0[j] += x0 * b[j];
        }
#pragma omp simd
        for (int j = 0; j < TILE_KEYS; j++) S[(size_t)r * TILE_KEYS + j] = c0[j] * scale;
    }
}

/* C (m, dh) += alpha * A (m, nk; row stride lda) . Bm (nk, dh). Columns of C
 * in blocks of 64 held in registers across the k loop. */
static void mm_acc(float *C, const float *A, int lda, const float *Bm, int m, int nk, int dh,
                   float alpha) {
    for (int i = 0; i < m; i++) {
        const float *ai = A + (size_t)i * lda;
        float *ci = C + (size_t)i * dh;
        int d0 = 0;
        for (; d0 + 64 <= dh; d0 += 64) {
            float acc[64] = {0};
            for (int kk = 0; kk < nk; kk++) {
                float p = ai[kk];
                const float *b = Bm + (size_t)kk * dh + d0;
#pragma omp simd
                for (int d = 0; d < 64; d++) acc[d] += p * b[d];
            }
#pragma omp simd
            for (int d = 0; d < 64; d++) ci[d0 + d] += alpha * acc[d];
        }
        if (d0 < dh) {
            for (int kk = 0; kk < nk; kk++) {
                float p = alpha * ai[kk];
                if (p != 0.0f) axpyf(ci + d0, p, Bm + (size_t)kk * dh + d0, dh - d0);
            }
        }
    }
}

/* Queries per block: enough for TILE_ROWS rows of (query, head). */
static int tile_queries(int H) {
    int tq = TILE_ROWS / H;
    return tq < 1 ? 1 : tq;
}

/* Visible columns [*ja, *je] of row r's query t within the key tile at s0 of
 * width nk; returns 0 when none. */
static inline int tile_cols(const int *lb, int t, int s0, int nk, int *ja, int *je) {
    int a = lb[t] - s0, e = t - s0;
    if (a < 0) a = 0;
    if (e > nk - 1) e = nk - 1;
    *ja = a;
    *je = e;
    return a <= e;
}

/* The end of an online-softmax query block of nr rows (row r: position
 * t0 + r / H, head r % H): O /= l, and the log-sum-exp m + log l saved. */
static void finish_rows(float *O, float *lse, const float *m, const float *l, int nr, int dh, int b, int H, int T, int t0) {
    for (int r = 0; r < nr; r++) {
        float inv = 1.0f / l[r], *Or = O + (size_t)r * dh;
#pragma omp simd
        for (int d = 0; d < dh; d++) Or[d] *= inv;
        if (lse) lse[((size_t)b * H + r % H) * T + t0 + r / H] = m[r] + logf(l[r]);
    }
}


static void attn_forward_tiled(float *out, float *lse, const float *q, const float *k,
                               const float *v, const int32_t *pos, int B, int T, int H,
                               int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    int TQ = tile_queries(H), nqt = (T + TQ - 1) / TQ, R = TQ * H;
    int *lo = malloc(sizeof(int) * 2 * (size_t)B * T);
    CHECK_ALLOC(lo);
    int *hi = lo + (size_t)B * T;
    attn_ranges(lo, hi, pos, B, T, window);
#pragma omp parallel
    {
        /* per-thread block state: scores/probabilities, K^T tile, running max and sum */
        float *S = malloc(sizeof(float) * ((size_t)R * TILE_KEYS + (size_t)dh * TILE_KEYS + 2 * (size_t)R));
        CHECK_ALLOC(S);
        float *Kt = S + (size_t)R * TILE_KEYS, *m = Kt + (size_t)dh * TILE_KEYS, *l = m + R;
#pragma omp for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < B; b++) {
            for (int qt = 0; qt < nqt; qt++) {
                int t0 = qt * TQ, t1 = t0 + TQ - 1 < T - 1 ? t0 + TQ - 1 : T - 1;
                int nr = (t1 - t0 + 1) * H;
                const int *lb = lo + (size_t)b * T;
                const float *Q = q + ((size_t)b * T + t0) * H * dh; /* nr contiguous rows */
                float *O = out + ((size_t)b * T + t0) * H * dh;      /* accumulator */
                memset(O, 0, sizeof(float) * (size_t)nr * dh);
                for (int r = 0; r < nr; r++) { m[r] = -INFINITY; l[r] = 0.0f; }
                /* visible keys of the block: [lo(t0), t1] (lo nondecreasing) */
                for (int s0 = lb[t0]; s0 <= t1; s0 += TILE_KEYS) {
                    int nk = t1 - s0 + 1 < TILE_KEYS ? t1 - s0 + 1 : TILE_KEYS;
                    const float *K = k + ((size_t)b * T + s0) * dh, *V = v + ((size_t)b * T + s0) * dh;
                    tile_transpose(Kt, K, nk, dh);
                    mm_nt64(S, Q, Kt, nr, dh, scale);
                    for (int r = 0; r < nr; r++) {
                        float *Sr = S + (size_t)r * TILE_KEYS;
                        int ja, je;
                        if (!tile_cols(lb, t0 + r / H, s0, nk, &ja, &je)) {
                            memset(Sr, 0, sizeof(float) * TILE_KEYS);
                            continue;
                        }
                        float mt = m[r];
                        for (int j = ja; j <= je; j++) mt = Sr[j] > mt ? Sr[j] : mt;
                        float corr = ops_expf(m[r] - mt), sum = 0.0f; /* exp(-inf) = 0 */
#pragma omp simd reduction(+ : sum)
                        for (int j = 0; j < TILE_KEYS; j++) {
                            float p = (j >= ja && j <= je) ? ops_expf(Sr[j] - mt) : 0.0f;
                            Sr[j] = p;
                            sum += p;
                        }
                        m[r] = mt;
                        l[r] = l[r] * corr + sum;
                        if (corr != 1.0f) {
                            float *Or = O + (size_t)r * dh;
#pragma omp simd
                            for (int d = 0; d < dh; d++) Or[d] *= corr;
                        }
                    }
                    mm_acc(O, S, TILE_KEYS, V, nr, nk, dh, 1.0f); /* O += P V */
                }
                finish_rows(O, lse, m, l, nr, dh, b, H, T, t0);
            }
        }
        free(S);
    }
    free(lo);
}

/* dS (in S) and, for the key-centric pass, P (in G) for one (query block,
 * key tile): S holds scores, G holds dP on entry. Invisible entries -> 0. */
static void tile_grad(float *S, float *G, int keep_p, const int *lb, int t0, int s0, int nk,
                      int nr, int H, const float *lse_bh, int T, const float *D, float scale) {
    for (int r = 0; r < nr; r++) {
        int t = t0 + r / H, ja, je;
        float *Sr = S + (size_t)r * TILE_KEYS, *Gr = G + (size_t)r * TILE_KEYS;
        if (!tile_cols(lb, t, s0, nk, &ja, &je)) ja = TILE_KEYS, je = -1;
        float L = lse_bh[(size_t)(r % H) * T + t], Dr = D[r];
#pragma omp simd
        for (int j = 0; j < TILE_KEYS; j++) {
            float p = (j >= ja && j <= je) ? ops_expf(Sr[j] - L) : 0.0f;
            Sr[j] = p * (Gr[j] - Dr) * scale; /* scale dS: ready for dq / dk */
            if (keep_p) Gr[j] = p;
        }
    }
}

static void attn_backward_tiled(float *dq, float *dk, float *dv, const float *dout,
                                const float *out, const float *lse, const float *q,
                                const float *k, const float *v, const int32_t *pos, int B,
                                int T, int H, int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    int TQ = tile_queries(H), nqt = (T + TQ - 1) / TQ, R = TQ * H;
    int nkt = (T + TILE_KEYS - 1) / TILE_KEYS;
    size_t rows = (size_t)B * T * H;
    int *lo = malloc(sizeof(int) * 2 * (size_t)B * T);
    float *D = malloc(sizeof(float) * rows);
    CHECK_ALLOC(lo);
    CHECK_ALLOC(D);
    int *hi = lo + (size_t)B * T;
    attn_ranges(lo, hi, pos, B, T, window);
    attn_rowsum(D, dout, out, rows, dh);
#pragma omp parallel
    {
        /* S: scores then dS; G: dP then P; Kt, Vt: transposed tiles; Xt: P^T or dS^T */
        size_t tile = (size_t)R * TILE_KEYS, kt = (size_t)dh * TILE_KEYS;
        float *S = malloc(sizeof(float) * (3 * tile + 2 * kt));
        CHECK_ALLOC(S);
        float *G = S + tile, *Xt = G + tile, *Kt = Xt + tile, *Vt = Kt + kt;
        /* pass 1: query blocks; dq = scale dS K over the block's key tiles */
#pragma omp for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < B; b++) {
            for (int qt = 0; qt < nqt; qt++) {
                int t0 = qt * TQ, t1 = t0 + TQ - 1 < T - 1 ? t0 + TQ - 1 : T - 1;
                int nr = (t1 - t0 + 1) * H;
                const int *lb = lo + (size_t)b * T;
                size_t r0 = ((size_t)b * T + t0) * H;
                const float *Q = q + r0 * dh, *dO = dout + r0 * dh;
                float *dQ = dq + r0 * dh;
                memset(dQ, 0, sizeof(float) * (size_t)nr * dh);
                for (int s0 = lb[t0]; s0 <= t1; s0 += TILE_KEYS) {
                    int nk = t1 - s0 + 1 < TILE_KEYS ? t1 - s0 + 1 : TILE_KEYS;
                    const float *K = k + ((size_t)b * T + s0) * dh, *V = v + ((size_t)b * T + s0) * dh;
                    tile_transpose(Kt, K, nk, dh);
                    tile_transpose(Vt, V, nk, dh);
                    mm_nt64(S, Q, Kt, nr, dh, scale);
                    mm_nt64(G, dO, Vt, nr, dh, 1.0f);
                    tile_grad(S, G, 0, lb, t0, s0, nk, nr, H, lse + (size_t)b * H * T, T, D + r0, scale);
                    mm_acc(dQ, S, TILE_KEYS, K, nr, nk, dh, 1.0f);
                }
            }
        }
        /* pass 2: key tiles; dk, dv over the queries [s0, hi(s_last)] that see them */
#pragma omp for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < B; b++) {
            for (int ktile = 0; ktile < nkt; ktile++) {
                int s0 = ktile * TILE_KEYS, s1 = s0 + TILE_KEYS - 1 < T - 1 ? s0 + TILE_KEYS - 1 : T - 1;
                int nk = s1 - s0 + 1;
                const int *lb = lo + (size_t)b * T;
                int tend = hi[(size_t)b * T + s1];
                const float *K = k + ((size_t)b * T + s0) * dh, *V = v + ((size_t)b * T + s0) * dh;
                float *dK = dk + ((size_t)b * T + s0) * dh, *dV = dv + ((size_t)b * T + s0) * dh;
                memset(dK, 0, sizeof(float) * (size_t)nk * dh);
                memset(dV, 0, sizeof(float) * (size_t)nk * dh);
                tile_transpose(Kt, K, nk, dh);
                tile_transpose(Vt, V, nk, dh);
                for (int t0 = s0; t0 <= tend; t0 += TQ) {
                    int t1 = t0 + TQ - 1 < tend ? t0 + TQ - 1 : tend;
                    int nr = (t1 - t0 + 1) * H;
                    size_t r0 = ((size_t)b * T + t0) * H;
                    const float *Q = q + r0 * dh, *dO = dout + r0 * dh;
                    mm_nt64(S, Q, Kt, nr, dh, scale);
                    mm_nt64(G, dO, Vt, nr, dh, 1.0f);
                    tile_grad(S, G, 1, lb, t0, s0, nk, nr, H, lse + (size_t)b * H * T, T, D + r0, scale);
                    for (int j = 0; j < nk; j++) /* Xt = P^T: dV += P^T dO */
                        for (int r = 0; r < nr; r++) Xt[(size_t)j * nr + r] = G[(size_t)r * TILE_KEYS + j];
                    mm_acc(dV, Xt, nr, dO, nk, nr, dh, 1.0f);
                    for (int j = 0; j < nk; j++) /* Xt = dS^T: dK += dS^T Q */
                        for (int r = 0; r < nr; r++) Xt[(size_t)j * nr + r] = S[(size_t)r * TILE_KEYS + j];
                    mm_acc(dK, Xt, nr, Q, nk, nr, dh, 1.0f);
                }
            }
        }
        free(S);
    }
    free(D);
    free(lo);
}

/* ---- flash (FlashAttention-2 style, register-tiled) ---------------------------------------
 * Like "tiled", but every inner product is one register-tiled micro-kernel
 * (fl_mm: AVX-512 4 x 64 tile, 16 zmm accumulators; a plain C loop nest
 * elsewhere), K and V are packed once per call into transposed key tiles
 * (fl_pack_tiles), so no tile is copied per query block, and the backward is a single key-centric pass:
 * per (sequence, key tile) a thread owns dK, dV of those keys, recomputes
 * P = exp(S - lse) for the query blocks that see them and adds dS K into
 * its own dQ partial; the partials are summed in thread order at the end.
 * Five GEMMs per tile pair (S, dP, dV, dK, dQ) instead of the seven of the
 * two-pass "tiled" backward. Work goes to threads in a fixed serpentine
 * order over (sequence, key tile), so results depend only on the thread
 * count, never on timing. Tiles with no visible entry are skipped: for
 * local attention only the window's tiles are visited. */

#define FL_NK 64   /* keys per tile */
#define FL_ROWS 64 /* query rows (queries x heads) per block, at least H */
#ifndef FL_MR
#define FL_MR 6    /* micro-tile rows (AVX-512: FL_MR x 64, 4 FL_MR zmm accumulators) */
#endif

#if defined(__AVX512F__)
/* C[mr x 16nv] (=, or += when acc) alpha * A B over k, A(i, kk) at
 * A[i*ars + kk*acs], B rows of stride ldb; the last vector of a row masked. */
static inline __attribute__((always_inline)) void fl_ukr(int mr, int nv, __mmask16 tail,
                                                        float *C, int ldc, const float *A,
                                                        int ars, int acs, const float *B,
                                                        int ldb, int k, float alpha, int acc) {
    __m512 c[FL_MR][4];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++) c[i][v] = _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        const float *b = B + (size_t)kk * ldb;
        __m512 bv[4];
        for (int v = 0; v < nv; v++)
            bv[v] = v == nv - 1 ? _mm512_maskz_loadu_ps(tail, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
        for (int i = 0; i < mr; i++) {
            __m512 a = _mm512_set1_ps(A[(size_t)i * ars + (size_t)kk * acs]);
            for (int v = 0; v < nv; v++) c[i][v] = _mm512_fmadd_ps(a, bv[v], c[i][v]);
        }
    }
    __m512 al = _mm512_set1_ps(alpha);
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < nv; v++) {
            float *cp = C + (size_t)i * ldc + 16 * v;
            __mmask16 mk = v == nv - 1 ? tail : (__mmask16)0xffff;
            __m512 r = _mm512_mul_ps(c[i][v], al);
            if (acc) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mk, cp));
            _mm512_mask_storeu_ps(cp, mk, r);
        }
}

#define FL_UKR_CASE(MR, NV) \
    case (MR - 1) * 4 + NV - 1: fl_ukr(MR, NV, tail, Ci, ldc, Ai, ars, acs, Bj, ldb, k, alpha, acc); break;
#endif

/* C (m x n, row stride ldc) = alpha A B (acc == 0) or += alpha A B (acc == 1);
 * A (m x k) with element (i, kk) at A[i*ars + kk*acs]; B (k x n), row stride ldb. */
static void fl_mm(float *C, int ldc, const float *A, int ars, int acs, const float *B, int ldb,
                  int m, int n, int k, float alpha, int acc) {
#if defined(__AVX512F__)
    for (int j = 0; j < n; j += 64) {
        int w = n - j < 64 ? n - j : 64, nv = (w + 15) / 16;
        __mmask16 tail = (__mmask16)(w % 16 ? (1u << (w % 16)) - 1 : 0xffff);
        const float *Bj = B + j;
        for (int i = 0; i < m; i += FL_MR) {
            int mr = m - i < FL_MR ? m - i : FL_MR;
            float *Ci = C + (size_t)i * ldc + j;
            const float *Ai = A + (size_t)i * ars;
            switch ((mr - 1) * 4 + nv - 1) {
                FL_UKR_CASE(1, 1) FL_UKR_CASE(1, 2) FL_UKR_CASE(1, 3) FL_UKR_CASE(1, 4)
                FL_UKR_CASE(2, 1) FL_UKR_CASE(2, 2) FL_UKR_CASE(2, 3) FL_UKR_CASE(2, 4)
                FL_UKR_CASE(3, 1) FL_UKR_CASE(3, 2) FL_UKR_CASE(3, 3) FL_UKR_CASE(3, 4)
                FL_UKR_CASE(4, 1) FL_UKR_CASE(4, 2) FL_UKR_CASE(4, 3) FL_UKR_CASE(4, 4)
#if FL_MR == 6
                FL_UKR_CASE(5, 1) FL_UKR_CASE(5, 2) FL_UKR_CASE(5, 3) FL_UKR_CASE(5, 4)
                FL_UKR_CASE(6, 1) FL_UKR_CASE(6, 2) FL_UKR_CASE(6, 3) FL_UKR_CASE(6, 4)
#endif
            }
        }
    }
#else
    for (int i = 0; i < m; i++) {
        float *ci = C + (size_t)i * ldc;
        if (!acc) memset(ci, 0, sizeof(float) * (size_t)n);
        for (int kk = 0; kk < k; kk++) {
            float a = alpha * A[(size_t)i * ars + (size_t)kk * acs];
            if (a != 0.0f) axpyf(ci, a, B + (size_t)kk * ldb, n);
        }
    }
#endif
}

/* Max of x[ja..je] and init (x has FL_NK entries). */
static inline float fl_max_tile(const float *x, int ja, int je, float init) {
#if defined(__AVX512F__)
    __m512 mx = _mm512_set1_ps(init);
    __m512i a = _mm512_set1_epi32(ja), e = _mm512_set1_epi32(je);
    for (int v = 0; v < FL_NK / 16; v++) {
        __m512i j = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32(16 * v));
        __mmask16 mk = _mm512_cmpge_epi32_mask(j, a) & _mm512_cmple_epi32_mask(j, e);
        mx = _mm512_mask_max_ps(mx, mk, _mm512_loadu_ps(x + 16 * v), mx);
    }
    return _mm512_reduce_max_ps(mx);
#else
    float m = init;
    for (int j = ja; j <= je; j++) m = x[j] > m ? x[j] : m;
    return m;
#endif
}

/* x[j] = exp(x[j] - c) for j in [ja, je], 0 for the other j < FL_NK; returns
 * their sum. The AVX-512 exp is ops_expf's polynomial with the 2^n scaling
 * done by vscalefps (underflows to 0; NaN propagates). */
static inline float fl_exp_tile(float *x, int ja, int je, float c) {
#if defined(__AVX512F__)
    __m512 vc = _mm512_set1_ps(c), sum = _mm512_setzero_ps();
    __m512i a = _mm512_set1_epi32(ja), e = _mm512_set1_epi32(je);
    for (int v = 0; v < FL_NK / 16; v++) {
        __m512i j = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32(16 * v));
        __mmask16 mk = _mm512_cmpge_epi32_mask(j, a) & _mm512_cmple_epi32_mask(j, e);
        __m512 t = _mm512_max_ps(_mm512_set1_ps(-104.0f), _mm512_sub_ps(_mm512_loadu_ps(x + 16 * v), vc));
        __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), t);
        r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
        __m512 p = _mm512_set1_ps(1.9875691500e-4f);
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
        p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
        __m512 y = _mm512_maskz_mov_ps(mk, _mm512_scalef_ps(p, n));
        _mm512_storeu_ps(x + 16 * v, y);
        sum = _mm512_add_ps(sum, y);
    }
    return _mm512_reduce_add_ps(sum);
#else
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < FL_NK; j++) {
        float p = (j >= ja && j <= je) ? ops_expf(x[j] - c) : 0.0f;
        x[j] = p;
        sum += p;
    }
    return sum;
#endif
}

/* Key tiles transposed once per call: Xt (B, nkt, dh, FL_NK), tile i of
 * sequence b holding positions [i FL_NK, (i+1) FL_NK) as columns (zero past
 * T), so a tile is a contiguous dh x FL_NK matrix (a long row stride would
 * put its rows in the same cache sets). */
static void fl_pack_tiles(float *Xt, const float *X, int B, int T, int dh) {
    int nkt = (T + FL_NK - 1) / FL_NK;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)B * T * dh > 65536)
    for (int b = 0; b < B; b++)
        for (int it = 0; it < nkt; it++) {
            int s0 = it * FL_NK, n = T - s0 < FL_NK ? T - s0 : FL_NK;
            const float *xb = X + ((size_t)b * T + s0) * dh;
            float *tb = Xt + ((size_t)b * nkt + it) * dh * FL_NK;
            for (int d = 0; d < dh; d++) {
                float *row = tb + (size_t)d * FL_NK;
                for (int j = 0; j < n; j++) row[j] = xb[(size_t)j * dh + d];
                for (int j = n; j < FL_NK; j++) row[j] = 0.0f;
            }
        }
}

/* Queries per block and rows per block (all heads of a query in one block). */
static int fl_queries(int H) {
    int tq = FL_ROWS / H;
    return tq < 1 ? 1 : tq;
}

static void attn_forward_flash(float *out, float *lse, const float *q, const float *k,
                               const float *v, const int32_t *pos, int B, int T, int H,
                               int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    int TQ = fl_queries(H), nqt = (T + TQ - 1) / TQ, R = TQ * H;
    int *lo = malloc(sizeof(int) * 2 * (size_t)B * T);
    int nkt = (T + FL_NK - 1) / FL_NK;
    float *Kt = malloc(sizeof(float) * (size_t)B * nkt * FL_NK * dh);
    CHECK_ALLOC(lo);
    CHECK_ALLOC(Kt);
    int *hi = lo + (size_t)B * T;
    attn_ranges(lo, hi, pos, B, T, window);
    fl_pack_tiles(Kt, k, B, T, dh);
#pragma omp parallel
    {
        float *S = malloc(sizeof(float) * ((size_t)R * FL_NK + 2 * (size_t)R));
        CHECK_ALLOC(S);
        float *m = S + (size_t)R * FL_NK, *l = m + R;
        /* heaviest blocks (latest queries, causal) first */
#pragma omp for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < B; b++) {
            for (int qi = 0; qi < nqt; qi++) {
                int qt = nqt - 1 - qi;
                int t0 = qt * TQ, t1 = t0 + TQ - 1 < T - 1 ? t0 + TQ - 1 : T - 1;
                int nr = (t1 - t0 + 1) * H;
                const int *lb = lo + (size_t)b * T;
                const float *Q = q + ((size_t)b * T + t0) * H * dh;
                float *O = out + ((size_t)b * T + t0) * H * dh;
                memset(O, 0, sizeof(float) * (size_t)nr * dh);
                for (int r = 0; r < nr; r++) { m[r] = -INFINITY; l[r] = 0.0f; }
                /* the tiles holding the block's visible keys [lo(t0), t1] */
                for (int s0 = lb[t0] / FL_NK * FL_NK; s0 <= t1; s0 += FL_NK) {
                    int nk = t1 - s0 + 1 < FL_NK ? t1 - s0 + 1 : FL_NK;
                    const float *Ktile = Kt + ((size_t)b * nkt + s0 / FL_NK) * dh * FL_NK;
                    fl_mm(S, FL_NK, Q, dh, 1, Ktile, FL_NK, nr, nk, dh, scale, 0);
                    for (int r = 0; r < nr; r++) {
                        float *Sr = S + (size_t)r * FL_NK;
                        int ja, je;
                        if (!tile_cols(lb, t0 + r / H, s0, nk, &ja, &je)) {
                            memset(Sr, 0, sizeof(float) * FL_NK);
                            continue;
                        }
                        float mt = fl_max_tile(Sr, ja, je, m[r]);
                        float corr = ops_expf(m[r] - mt), sum = fl_exp_tile(Sr, ja, je, mt);
                        m[r] = mt;
                        l[r] = l[r] * corr + sum;
                        if (corr != 1.0f) {
                            float *Or = O + (size_t)r * dh;
#pragma omp simd
                            for (int d = 0; d < dh; d++) Or[d] *= corr;
                        }
                    }
                    /* O += P V */
                    fl_mm(O, dh, S, FL_NK, 1, v + ((size_t)b * T + s0) * dh, dh, nr, dh, nk, 1.0f, 1);
                }
                finish_rows(O, lse, m, l, nr, dh, b, H, T, t0);
            }
        }
        free(S);
    }
    free(Kt);
    free(lo);
}

/* Owner of work item i of a serpentine deal over nt threads (0,1,..,nt-1,
 * nt-1,..,0, ...): balances items whose cost falls along the order. */
static inline int fl_owner(long i, int nt) {
    long p = i % (2L * nt);
    return (int)(p < nt ? p : 2L * nt - 1 - p);
}

static void attn_backward_flash(float *dq, float *dk, float *dv, const float *dout,
                                const float *out, const float *lse, const float *q,
                                const float *k, const float *v, const int32_t *pos, int B,
                                int T, int H, int dh, int window) {
    float scale = 1.0f / sqrtf((float)dh);
    int TQ = fl_queries(H), R = TQ * H;
    int nkt = (T + FL_NK - 1) / FL_NK;
    size_t rows = (size_t)B * T * H, nq = rows * dh;
    int maxt = 1;
#ifdef _OPENMP
    maxt = omp_in_parallel() ? 1 : omp_get_max_threads();
#endif
    /* dQ partials of threads 1.. (thread 0 adds into dq itself) */
    float *part = maxt > 1 ? util_try_alloc(sizeof(float) * nq * (size_t)(maxt - 1)) : NULL;
    if (maxt > 1 && !part) { /* no room for the partials: the two-pass backward */
        attn_backward_tiled(dq, dk, dv, dout, out, lse, q, k, v, pos, B, T, H, dh, window);
        return;
    }
    int *lo = malloc(sizeof(int) * 2 * (size_t)B * T);
    float *D = malloc(sizeof(float) * rows);
    size_t nkv = (size_t)B * nkt * FL_NK * dh;
    float *Kt = malloc(sizeof(float) * 2 * nkv);
    CHECK_ALLOC(lo);
    CHECK_ALLOC(D);
    CHECK_ALLOC(Kt);
    int *hi = lo + (size_t)B * T;
    float *Vt = Kt + nkv;
    attn_ranges(lo, hi, pos, B, T, window);
    attn_rowsum(D, dout, out, rows, dh);
    fl_pack_tiles(Kt, k, B, T, dh);
    fl_pack_tiles(Vt, v, B, T, dh);
    int team = 1;
#pragma omp parallel num_threads(maxt)
    {
        int tid = 0, nt = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        nt = omp_get_num_threads();
#endif
#pragma omp single
        team = nt;
        float *dQ = tid == 0 ? dq : part + nq * (size_t)(tid - 1);
        memset(dQ, 0, sizeof(float) * nq);
        float *S = malloc(sizeof(float) * 2 * (size_t)R * FL_NK);
        CHECK_ALLOC(S);
        float *G = S + (size_t)R * FL_NK;
        for (long it = 0; it < (long)B * nkt; it++) {
            if (fl_owner(it, nt) != tid) continue;
            int b = (int)(it / nkt), s0 = (int)(it % nkt) * FL_NK;
            int s1 = s0 + FL_NK - 1 < T - 1 ? s0 + FL_NK - 1 : T - 1, nk = s1 - s0 + 1;
            const int *lb = lo + (size_t)b * T;
            const float *lse_b = lse + (size_t)b * H * T;
            size_t tofs = ((size_t)b * nkt + s0 / FL_NK) * dh * FL_NK;
            const float *Ktb = Kt + tofs, *Vtb = Vt + tofs;
            float *dK = dk + ((size_t)b * T + s0) * dh, *dV = dv + ((size_t)b * T + s0) * dh;
            memset(dK, 0, sizeof(float) * (size_t)nk * dh);
            memset(dV, 0, sizeof(float) * (size_t)nk * dh);
            int tend = hi[(size_t)b * T + s1]; /* the queries that see these keys: [s0, tend] */
            for (int t0 = s0; t0 <= tend; t0 += TQ) {
                int t1 = t0 + TQ - 1 < tend ? t0 + TQ - 1 : tend;
                if (lb[t0] > s1) break; /* lo nondecreasing: no later query sees the tile */
                int nr = (t1 - t0 + 1) * H;
                size_t r0 = ((size_t)b * T + t0) * H;
                const float *Q = q + r0 * dh, *dO = dout + r0 * dh;
                fl_mm(S, FL_NK, Q, dh, 1, Ktb, FL_NK, nr, nk, dh, scale, 0);  /* S = scale Q K^T */
                fl_mm(G, FL_NK, dO, dh, 1, Vtb, FL_NK, nr, nk, dh, 1.0f, 0); /* dP = dO V^T */
                for (int r = 0; r < nr; r++) { /* S <- P, G <- scale dS */
                    int t = t0 + r / H, ja, je;
                    float *Sr = S + (size_t)r * FL_NK, *Gr = G + (size_t)r * FL_NK;
                    if (!tile_cols(lb, t, s0, nk, &ja, &je)) ja = FL_NK, je = -1;
                    float L = lse_b[(size_t)(r % H) * T + t], Dr = D[r0 + r];
                    fl_exp_tile(Sr, ja, je, L);
#pragma omp simd
                    for (int j = 0; j < FL_NK; j++) Gr[j] = Sr[j] * (Gr[j] - Dr) * scale;
                }
                fl_mm(dV, dh, S, 1, FL_NK, dO, dh, nk, dh, nr, 1.0f, 1); /* dV += P^T dO */
                fl_mm(dK, dh, G, 1, FL_NK, Q, dh, nk, dh, nr, 1.0f, 1);  /* dK += dS^T Q */
                fl_mm(dQ + r0 * dh, dh, G, FL_NK, 1, k + ((size_t)b * T + s0) * dh, dh, nr, dh, nk,
                      1.0f, 1); /* dQ += dS K */
            }
        }
        free(S);
    }
    /* dq += the partials of threads 1.., in thread order */
    if (team > 1) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < nq; i++) {
            float s = dq[i];
            for (int p = 0; p < team - 1; p++) s += part[nq * (size_t)p + i];
            dq[i] = s;
        }
    }
    free(Kt);
    free(D);
    free(lo);
    free(part);
}

/* ---- variant table ---------------------------------------------------------------------- */

const attn_variant attn_variants[] = {
    {"ref", attn_forward_ref, attn_backward_ref,
     "full T x T masked scores per head (oracle, O(T^2))"},
    {"banded", attn_forward_banded, attn_backward_banded,
     "only the visible window+1 keys per query; linear in T for local attention"},
    {"tiled", attn_forward_tiled, attn_backward_tiled,
     "online softmax over key tiles (FlashAttention-style), window-aware tile range"},
    {"flash", attn_forward_flash, attn_backward_flash,
     "FlashAttention-2 style: register-tiled GEMMs, one-pass backward with per-thread dQ partials"},
    {NULL, NULL, NULL, NULL},
};

const attn_variant *attn_find(const char *name) {
    if (!name) return NULL;
    for (const attn_variant *a = attn_variants; a->name; a++)
        if (strcmp(a->name, name) == 0) return a;
    return NULL;
}

/* ---- decode ---------------------------------------------------------------------------- */

void attn_decode_ref(float *out, const float *q, const float *kc, const float *vc,
                     const int32_t *nvalid, const float *knew, const float *vnew, int B,
                     int H, int dh, int S) {
    double scale = 1.0 / sqrt((double)dh);
    double *sc = malloc(sizeof(double) * ((size_t)S + 1));
    CHECK_ALLOC(sc);
    for (int b = 0; b < B; b++) {
        int n = nvalid[b] < S ? nvalid[b] : S;
        for (int h = 0; h < H; h++) {
            const float *qr = q + ((size_t)b * H + h) * dh;
            double m = -INFINITY, sum = 0;
            for (int j = 0; j <= n; j++) { /* j == n: the new token */
                const float *kj = j < n ? kc + ((size_t)b * S + j) * dh : knew + (size_t)b * dh;
                double acc = 0;
                for (int d = 0; d < dh; d++) acc += (double)qr[d] * kj[d];
                sc[j] = acc * scale;
                if (sc[j] > m) m = sc[j];
            }
            for (int j = 0; j <= n; j++) sum += exp(sc[j] - m);
            for (int d = 0; d < dh; d++) {
                double acc = 0;
                for (int j = 0; j <= n; j++) {
                    const float *vj = j < n ? vc + ((size_t)b * S + j) * dh : vnew + (size_t)b * dh;
                    acc += exp(sc[j] - m) * vj[d];
                }
                out[((size_t)b * H + h) * dh + d] = (float)(acc / sum);
            }
        }
    }
    free(sc);
}

#define DEC_KEYS 64

/* Fast decode: work items are (sequence, group of heads); a group streams
 * its sequence's cache once in blocks of DEC_KEYS keys with an online
 * softmax, accumulating straight into out. With B smaller than the thread
 * count the heads are split into groups so every thread has work. */
void attn_decode(float *out, const float *q, const float *kc, const float *vc,
                 const int32_t *nvalid, const float *knew, const float *vnew, int B,
                 int H, int dh, int S) {
    float scale = 1.0f / sqrtf((float)dh);
    int nt = 1;
#ifdef _OPENMP
    nt = omp_get_max_threads();
#endif
    int G = nt / (B > 0 ? B : 1); /* head groups per sequence */
    if (G < 1) G = 1;
    if (G > H) G = H;
    int hg = (H + G - 1) / G;
    G = (H + hg - 1) / hg;
    long work = (long)B * (S + 1) * dh * H;
    (void)work; /* used only by the OpenMP if clause */
#pragma omp parallel for collapse(2) schedule(static) if (work > 262144)
    for (int b = 0; b < B; b++) {
        for (int g = 0; g < G; g++) {
            int h0 = g * hg, h1 = h0 + hg < H ? h0 + hg : H, nh = h1 - h0;
            int n = nvalid[b] < S ? nvalid[b] : S;
            float sc[DEC_KEYS * nh], m[nh], l[nh];
            float *O = out + ((size_t)b * H + h0) * dh;
            const float *Q = q + ((size_t)b * H + h0) * dh;
            memset(O, 0, sizeof(float) * (size_t)nh * dh);
            for (int h = 0; h < nh; h++) { m[h] = -INFINITY; l[h] = 0.0f; }
            for (int j0 = 0; j0 <= n; j0 += DEC_KEYS) { /* key n is the new token */
                int nk = n + 1 - j0 < DEC_KEYS ? n + 1 - j0 : DEC_KEYS;
                for (int j = 0; j < nk; j++) {
                    const float *kj = j0 + j < n ? kc + ((size_t)b * S + j0 + j) * dh : knew + (size_t)b * dh;
                    for (int h = 0; h < nh; h++) sc[h * DEC_KEYS + j] = scale * dotf(Q + (size_t)h * dh, kj, dh);
                }
                for (int h = 0; h < nh; h++) {
                    float *sh = sc + h * DEC_KEYS, mt = m[h], sum = 0.0f;
                    for (int j = 0; j < nk; j++) mt = sh[j] > mt ? sh[j] : mt;
                    float corr = ops_expf(m[h] - mt);
#pragma omp simd reduction(+ : sum)
                    for (int j = 0; j < nk; j++) {
                        sh[j] = ops_expf(sh[j] - mt);
                        sum += sh[j];
                    }
                    m[h] = mt;
                    l[h] = l[h] * corr + sum;
                    float *Oh = O + (size_t)h * dh;
#pragma omp simd
                    for (int d = 0; d < dh; d++) Oh[d] *= corr;
                }
                for (int j = 0; j < nk; j++) {
                    const float *vj = j0 + j < n ? vc + ((size_t)b * S + j0 + j) * dh : vnew + (size_t)b * dh;
                    for (int h = 0; h < nh; h++) axpyf(O + (size_t)h * dh, sc[h * DEC_KEYS + j], vj, dh);
                }
            }
            for (int h = 0; h < nh; h++) {
                float inv = 1.0f / l[h], *Oh = O + (size_t)h * dh;
#pragma omp simd
                for (int d = 0; d < dh; d++) Oh[d] *= inv;
            }
        }
    }
}
