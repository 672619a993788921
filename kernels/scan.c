/* scan.c — the linear scan h_t = a_t h_{t-1} + u_t and the RG-LRU layer
 * (Griffin paper eq. 1-4, spec §2.2 and §5) on the CPU, as named variants.
 *
 * Linear scan variants (scan_variants[]):
 *   ref      scalar, sequential in time, row by row (the oracle)
 *   seq      sequential in time, SIMD across channels; work items are
 *            (batch, channel tile) split across OpenMP threads, fp32 state in
 *            a per-item local array (stays in L1)
 *   chunked  parallel in time: super-blocks of nthreads chunks of L rows; per
 *            chunk a local scan from zero state plus the chunk's product of a,
 *            a carry fold over the chunks, then a fix-up adding carry*cumprod
 *            (the structure of the Pallas / fla / accelerated-scan kernels).
 *            Super-blocks are sized so a chunk stays in L2 between its local
 *            pass and its fix-up, so DRAM sees each input once. Two
 *            barriers per super-block: on a machine shared with other
 *            busy processes each can cost a scheduler tick, and `seq` wins.
 *   assoc    work-efficient parallel prefix (Brent-Kung up-sweep/down-sweep)
 *            over (a, u) pairs with (a2*a1, a2*u1 + u2), each level an OpenMP
 *            loop over rows, SIMD across channels.
 * Backward of each mirrors its forward in reverse time.
 *
 * RG-LRU variants (rglru_variants[]): ref (scalar oracle), seq, chunked,
 * assoc (a gates pass writes a_t and u_t into `work`, then the named linear
 * scan) and fused (gates, log a_t, normaliser and scan in one pass over time;
 * a_t and u_t never touch memory; its backward is one reverse pass).
 *
 * Fast variants use a polynomial expf and a Newton sqrt written as plain
 * C so that gcc vectorises them without -ffast-math (libm calls would keep
 * the loops scalar); they agree with libm to a few ulp.
 *
 * Tests: tests/test_scan.c (make && build/tests/test_scan).
 */
#include "scan.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#ifdef _OPENMP
#include <omp.h>
#define SCAN_PRAGMA(x) _Pragma(#x)
#define OMP(x) SCAN_PRAGMA(omp x)
#else
#define OMP(x)
#endif

#define SCAN_MAX_TILE 1024  /* channels per work item (local state arrays) */
#define SCAN_MAX_CHUNKS 64  /* threads used by `chunked` at most */
#define SQRT_Z_MIN (1.0f / (4.0f * 1000.0f * 1000.0f)) /* bounded sqrt' (spec §2.2) */

/* ---- tuning -------------------------------------------------------------- */

static int g_chunk_rows = 0;          /* 0: automatic */
static long g_par_min = 1L << 15;     /* B*T*C below which we stay on one thread */

void scan_set_chunk_rows(int rows) { g_chunk_rows = rows > 0 ? rows : 0; }
void scan_set_parallel_min(long elems) { g_par_min = elems > 0 ? elems : 0; }

static int max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}
static int team_size(void) {
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}
static int use_par(int B, int T, int C) {
    return max_threads() > 1 && (long)B * T * C >= g_par_min;
}

static size_t al16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Scratch for the public chunked / assoc scans, whose signature has no
 * workspace: one buffer kept across calls (no page faults per call), grown
 * on demand and freed at exit. A call that finds it busy (another thread is
 * scanning) allocates its own. */
static float *g_scratch;
static size_t g_scratch_cap;
static atomic_flag g_scratch_busy = ATOMIC_FLAG_INIT;
static int g_scratch_atexit;

static void scratch_release_all(void) {
    util_free(g_scratch);
    g_scratch = NULL;
    g_scratch_cap = 0;
}

static float *scratch_get(size_t n) {
    if (atomic_flag_test_and_set(&g_scratch_busy)) return util_alloc(sizeof(float) * n);
    if (g_scratch_cap < n) {
        util_free(g_scratch);
        g_scratch = util_alloc(sizeof(float) * n);
        g_scratch_cap = n;
        if (!g_scratch_atexit) g_scratch_atexit = atexit(scratch_release_all) == 0;
    }
    return g_scratch;
}

static void scratch_put(float *p) {
    if (p == g_scratch)
        atomic_flag_clear(&g_scratch_busy);
    else
        util_free(p);
}

/* Work items for the sequential-in-time variants: (batch, channel tile).
 * Tiles are as wide as possible (contiguous streams), multiples of 16, at
 * most SCAN_MAX_TILE, and numerous enough to keep every thread busy. */
typedef struct { int per_b, width, items; } tile_plan;

static tile_plan plan_tiles(int B, int C, int nth) {
    int per_b = 1;
    while (per_b < C / 16) {
        int items = B * per_b;
        if (items >= nth && (items % nth == 0 || items >= 4 * nth)) break;
        per_b++;
    }
    int w = (C + per_b - 1) / per_b;
    w = (w + 15) & ~15;
    if (w > SCAN_MAX_TILE) w = SCAN_MAX_TILE;
    if (w < 1) w = 1;
    per_b = (C + w - 1) / w;
    tile_plan p = {per_b, w, B * per_b};
    return p;
}

/* Work item it of plan tp: its batch *b, first channel *c0; returns its width. */
static inline int tile_item(const tile_plan *tp, int it, int C, int *b, int *c0) {
    *b = it / tp->per_b;
    *c0 = (it % tp->per_b) * tp->width;
    return C - *c0 < tp->width ? C - *c0 : tp->width;
}

/* ---- vectorisable math ----------------------------------------------------- */

typedef union { float f; uint32_t u; } f32bits;

/* expf: Cody-Waite reduction by ln 2, degree-6 polynomial, scale by 2^n.
 * Inputs clamped to [-87, 88] (no overflow, no denormals). */
static inline float fast_exp(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(x/ln2) */
    float r = x - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    f32bits s;
    s.u = (uint32_t)((int32_t)k + 127) << 23;
    return p * s.f;
}

static inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

/* 1/sqrt(z) for normal z > 0: bit-trick estimate (relative error 3.4e-2)
 * and three Newton steps (1.8e-3, 4.6e-6, then float rounding). */
static inline float fast_rsqrt(float z) {
    f32bits v;
    v.f = z;
    v.u = 0x5f375a86u - (v.u >> 1);
    float y = v.f, hz = 0.5f * z;
    y = y * (1.5f - hz * y * y);
    y = y * (1.5f - hz * y * y);
    y = y * (1.5f - hz * y * y);
    return y;
}

/* sqrt(z) for z == 0 or z >= 2^-24 (z = 1 - a^2 is one of these): two
 * Newton steps on 1/sqrt(z) (error e = 4.6e-6), s = z/sqrt(z), then one
 * correction of s (error e^2, i.e. float rounding); sqrt(0) = 0. */
static inline float fast_sqrt(float z) {
    f32bits v;
    v.f = z;
    v.u = 0x5f375a86u - (v.u >> 1);
    float y = v.f, hz = 0.5f * z;
    y = y * (1.5f - hz * y * y);
    y = y * (1.5f - hz * y * y);
    float s = z * y;
    return s + 0.5f * y * (z - s * s);
}

static float softplus_ref(float v) { return v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v)); }
static float sigmoid_ref(float v) { return 1.0f / (1.0f + expf(-v)); }

/* ======================================================================== */
/* Linear scan                                                               */
/* ======================================================================== */

/* ---- ref ------------------------------------------------------------------ */

static void scan_ref_forward(float *h, float *h_last, const float *a, const float *u,
                             const float *h0, int B, int T, int C) {
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            size_t o = ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++) {
                float hp = t > 0 ? h[o - C + c] : (h0 ? h0[(size_t)b * C + c] : 0.0f);
                h[o + c] = a[o + c] * hp + u[o + c];
            }
        }
        if (h_last && T > 0)
            for (int c = 0; c < C; c++) h_last[(size_t)b * C + c] = h[((size_t)b * T + T - 1) * C + c];
    }
}

static void scan_ref_backward(float *du, float *da, const float *dh, const float *a,
                              const float *h, const float *h0, int B, int T, int C) {
    for (int b = 0; b < B; b++)
        for (int t = T - 1; t >= 0; t--) {
            size_t o = ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++) {
                float g = dh[o + c];
                if (t + 1 < T) g += a[o + C + c] * du[o + C + c];
                du[o + c] = g;
                float hp = t > 0 ? h[o - C + c] : (h0 ? h0[(size_t)b * C + c] : 0.0f);
                da[o + c] = g * hp;
            }
        }
}

/* ---- seq ------------------------------------------------------------------ */

static void scan_seq_forward(float *h, float *h_last, const float *a, const float *u,
                             const float *h0, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    int par = use_par(B, T, C);
    tile_plan tp = plan_tiles(B, C, par ? max_threads() : 1);
    OMP(parallel for schedule(static) if (par))
    for (int it = 0; it < tp.items; it++) {
        int b, c0, n = tile_item(&tp, it, C, &b, &c0);
        float st[SCAN_MAX_TILE];
        for (int c = 0; c < n; c++) st[c] = h0 ? h0[(size_t)b * C + c0 + c] : 0.0f;
        for (int t = 0; t < T; t++) {
            size_t o = ((size_t)b * T + t) * C + c0;
            const float *at = a + o, *ut = u + o;
            float *ht = h + o;
            OMP(simd)
            for (int c = 0; c < n; c++) {
                st[c] = at[c] * st[c] + ut[c];
                ht[c] = st[c];
            }
        }
        if (h_last) memcpy(h_last + (size_t)b * C + c0, st, sizeof(float) * n);
    }
}

#if defined(GRIFFIN_TEST_SLOW_SCAN) && GRIFFIN_TEST_SLOW_SCAN > 1
/* Test only (tests/test_nightly_e2e.sh builds with -DGRIFFIN_TEST_SLOW_SCAN=N):
 * the seq forward scan does its whole work N times, a genuine slowdown of
 * one kernel with the same result, so the regression gate's end-to-end test
 * has a real regression to catch. Never defined in a normal build. */
static void scan_seq_forward_slow(float *h, float *h_last, const float *a, const float *u, const float *h0, int B, int T,
                                  int C) {
    for (int r = 0; r < GRIFFIN_TEST_SLOW_SCAN; r++) scan_seq_forward(h, h_last, a, u, h0, B, T, C);
}
#define SCAN_SEQ_FORWARD scan_seq_forward_slow
#else
#define SCAN_SEQ_FORWARD scan_seq_forward
#endif

static void scan_seq_backward(float *du, float *da, const float *dh, const float *a,
                              const float *h, const float *h0, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    int par = use_par(B, T, C);
    tile_plan tp = plan_tiles(B, C, par ? max_threads() : 1);
    OMP(parallel for schedule(static) if (par))
    for (int it = 0; it < tp.items; it++) {
        int b, c0, n = tile_item(&tp, it, C, &b, &c0);
        float g[SCAN_MAX_TILE], an[SCAN_MAX_TILE]; /* g_{t+1}, a_{t+1} */
        for (int c = 0; c < n; c++) g[c] = an[c] = 0.0f;
        for (int t = T - 1; t >= 0; t--) {
            size_t o = ((size_t)b * T + t) * C + c0;
            const float *dht = dh + o, *at = a + o;
            const float *hp = t > 0 ? h + o - C : (h0 ? h0 + (size_t)b * C + c0 : NULL);
            float *dut = du + o, *dat = da + o;
            if (hp) {
                OMP(simd)
                for (int c = 0; c < n; c++) {
                    g[c] = dht[c] + an[c] * g[c];
                    an[c] = at[c];
                    dut[c] = g[c];
                    dat[c] = g[c] * hp[c];
                }
            } else {
                OMP(simd)
                for (int c = 0; c < n; c++) {
                    g[c] = dht[c] + an[c] * g[c];
                    an[c] = at[c];
                    dut[c] = g[c];
                    dat[c] = 0.0f;
                }
            }
        }
    }
}

/* ---- chunked --------------------------------------------------------------- */

/* Rows per chunk: a chunk's a, u and h (C floats a row) together about
 * 1.5 MiB, so they are still in a 2 MiB L2 for the fix-up while keeping the
 * number of barriers (two per super-block) down; at most ceil(T/nt). */
static int chunk_rows(int T, int C, int nt) {
    if (g_chunk_rows > 0) return g_chunk_rows;
    int L = 131072 / (C > 0 ? C : 1);
    if (L < 8) L = 8;
    if (L > 4096) L = 4096;
    int fair = (T + nt - 1) / nt;
    if (fair < L) L = fair;
    return L < 1 ? 1 : L;
}

static size_t chunk_ws_floats(int C) { return (size_t)3 * SCAN_MAX_CHUNKS * C; }

/* Workspace regions, SCAN_MAX_CHUNKS rows of C floats each. */
enum { WS_P, WS_E, WS_CY };
static inline float *ws_row(float *ws, int region, int j, int C) {
    return ws + (size_t)(region * SCAN_MAX_CHUNKS + j) * C;
}

/* Threads for a chunked scan, or 0 where the seq scan should run instead
 * (one thread, or too few rows to be worth the barriers). */
static int chunked_team(int B, int T, int C) {
    int par = use_par(B, T, C);
    int nreq = par ? max_threads() : 1;
    if (nreq > SCAN_MAX_CHUNKS) nreq = SCAN_MAX_CHUNKS;
    return !par || (g_chunk_rows == 0 && T < 64 * nreq) ? 0 : nreq;
}

/* Carry into chunk k: cy (the state at the end of chunk 0) folded through
 * chunks 1..k-1, cy = P_j cy + E_j. */
static inline void carry_fold(float *cy, float *ws, int k, int C) {
    for (int j = 1; j < k; j++) {
        const float *Pj = ws_row(ws, WS_P, j, C);
        const float *Ej = ws_row(ws, WS_E, j, C);
        OMP(simd)
        for (int c = 0; c < C; c++) cy[c] = Pj[c] * cy[c] + Ej[c];
    }
}

/* ws: chunk_ws_floats(C) floats (per chunk: product of a, local end, carry). */
static void scan_chunked_forward_ws(float *h, float *h_last, const float *a, const float *u,
                                    const float *h0, int B, int T, int C, float *ws) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    int nreq = chunked_team(B, T, C);
    if (!nreq) {
        scan_seq_forward(h, h_last, a, u, h0, B, T, C);
        return;
    }
    OMP(parallel num_threads(nreq))
    {
        int nt = team_size(), k = thread_id();
        int L = chunk_rows(T, C, nt);
        float *P = ws_row(ws, WS_P, k, C), *E = ws_row(ws, WS_E, k, C), *cy = ws_row(ws, WS_CY, k, C);
        for (int b = 0; b < B; b++) {
            size_t bo = (size_t)b * T * C;
            const float *ab = a + bo, *ub = u + bo;
            float *hb = h + bo;
            for (long t0 = 0; t0 < T; t0 += (long)nt * L) {
                long s = t0 + (long)k * L, e = s + L;
                if (s > T) s = T;
                if (e > T) e = T;
                if (k == 0) {
                    /* first chunk of the super-block starts from the true state */
                    const float *hp = t0 > 0 ? hb + (size_t)(t0 - 1) * C : (h0 ? h0 + (size_t)b * C : NULL);
                    for (long t = s; t < e; t++) {
                        const float *at = ab + (size_t)t * C, *ut = ub + (size_t)t * C;
                        float *ht = hb + (size_t)t * C;
                        if (hp) {
                            OMP(simd)
                            for (int c = 0; c < C; c++) ht[c] = at[c] * hp[c] + ut[c];
                        } else {
                            memcpy(ht, ut, sizeof(float) * C);
                        }
                        hp = ht;
                    }
                } else if (s < e) {
                    /* local scan from zero state; P = prod of a over the chunk */
                    memcpy(hb + (size_t)s * C, ub + (size_t)s * C, sizeof(float) * C);
                    memcpy(P, ab + (size_t)s * C, sizeof(float) * C);
                    for (long t = s + 1; t < e; t++) {
                        const float *at = ab + (size_t)t * C, *ut = ub + (size_t)t * C;
                        float *ht = hb + (size_t)t * C;
                        const float *hp = ht - C;
                        OMP(simd)
                        for (int c = 0; c < C; c++) {
                            ht[c] = at[c] * hp[c] + ut[c];
                            P[c] *= at[c];
                        }
                    }
                    memcpy(E, hb + (size_t)(e - 1) * C, sizeof(float) * C);
                }
                OMP(barrier)
                if (k > 0 && s < e) {
                    /* carry into chunk k: fold the chunks before it */
                    long e0 = t0 + L < T ? t0 + L : T;
                    memcpy(cy, hb + (size_t)(e0 - 1) * C, sizeof(float) * C);
                    carry_fold(cy, ws, k, C);
                    /* fix-up: h_t += (prod_{s..t} a) * carry, product kept in cy */
                    for (long t = s; t < e; t++) {
                        const float *at = ab + (size_t)t * C;
                        float *ht = hb + (size_t)t * C;
                        OMP(simd)
                        for (int c = 0; c < C; c++) {
                            cy[c] *= at[c];
                            ht[c] += cy[c];
                        }
                    }
                }
                OMP(barrier)
            }
            if (k == 0 && h_last) memcpy(h_last + (size_t)b * C, hb + (size_t)(T - 1) * C, sizeof(float) * C);
        }
    }
}

static void scan_chunked_backward_ws(float *du, float *da, const float *dh, const float *a,
                                     const float *h, const float *h0, int B, int T, int C, float *ws) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    int nreq = chunked_team(B, T, C);
    if (!nreq) {
        scan_seq_backward(du, da, dh, a, h, h0, B, T, C);
        return;
    }
    OMP(parallel num_threads(nreq))
    {
        int nt = team_size(), k = thread_id();
        int L = chunk_rows(T, C, nt);
        float *P = ws_row(ws, WS_P, k, C), *E = ws_row(ws, WS_E, k, C), *cy = ws_row(ws, WS_CY, k, C);
        for (int b = 0; b < B; b++) {
            size_t bo = (size_t)b * T * C;
            const float *ab = a + bo, *dhb = dh + bo, *hb = h + bo;
            const float *h0b = h0 ? h0 + (size_t)b * C : NULL;
            float *dub = du + bo, *dab = da + bo;
            /* super-blocks from the end; chunk 0 is the latest in time */
            for (long t1 = T; t1 > 0; t1 -= (long)nt * L) {
                long e = t1 - (long)k * L, s = e - L;
                if (e < 0) e = 0;
                if (s < 0) s = 0;
                if (k == 0) {
                    for (long t = e - 1; t >= s; t--) {
                        const float *dht = dhb + (size_t)t * C;
                        float *g = dub + (size_t)t * C, *dat = dab + (size_t)t * C;
                        if (t + 1 < T) {
                            const float *an = ab + (size_t)(t + 1) * C, *gn = g + C;
                            OMP(simd)
                            for (int c = 0; c < C; c++) g[c] = dht[c] + an[c] * gn[c];
                        } else {
                            memcpy(g, dht, sizeof(float) * C);
                        }
                        const float *hp = t > 0 ? hb + (size_t)(t - 1) * C : h0b;
                        if (hp) {
                            OMP(simd)
                            for (int c = 0; c < C; c++) dat[c] = g[c] * hp[c];
                        } else {
                            memset(dat, 0, sizeof(float) * C);
                        }
                    }
                } else if (s < e) {
                    /* local reverse scan from zero; P = prod_{s+1..e} a */
                    memcpy(dub + (size_t)(e - 1) * C, dhb + (size_t)(e - 1) * C, sizeof(float) * C);
                    memcpy(P, ab + (size_t)e * C, sizeof(float) * C); /* e < T for k > 0 */
                    for (long t = e - 2; t >= s; t--) {
                        const float *dht = dhb + (size_t)t * C, *an = ab + (size_t)(t + 1) * C;
                        float *g = dub + (size_t)t * C;
                        const float *gn = g + C;
                        OMP(simd)
                        for (int c = 0; c < C; c++) {
                            g[c] = dht[c] + an[c] * gn[c];
                            P[c] *= an[c];
                        }
                    }
                    memcpy(E, dub + (size_t)s * C, sizeof(float) * C);
                }
                OMP(barrier)
                if (k > 0 && s < e) {
                    long s0 = t1 - L > 0 ? t1 - L : 0;
                    memcpy(cy, dub + (size_t)s0 * C, sizeof(float) * C);
                    carry_fold(cy, ws, k, C);
                    for (long t = e - 1; t >= s; t--) {
                        const float *an = ab + (size_t)(t + 1) * C;
                        float *g = dub + (size_t)t * C, *dat = dab + (size_t)t * C;
                        const float *hp = t > 0 ? hb + (size_t)(t - 1) * C : h0b;
                        if (hp) {
                            OMP(simd)
                            for (int c = 0; c < C; c++) {
                                cy[c] *= an[c];
                                g[c] += cy[c];
                                dat[c] = g[c] * hp[c];
                            }
                        } else {
                            OMP(simd)
                            for (int c = 0; c < C; c++) {
                                cy[c] *= an[c];
                                g[c] += cy[c];
                                dat[c] = 0.0f;
                            }
                        }
                    }
                }
                OMP(barrier)
            }
        }
    }
}

static void scan_chunked_forward(float *h, float *h_last, const float *a, const float *u,
                                 const float *h0, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    float *ws = scratch_get(chunk_ws_floats(C));
    scan_chunked_forward_ws(h, h_last, a, u, h0, B, T, C, ws);
    scratch_put(ws);
}

static void scan_chunked_backward(float *du, float *da, const float *dh, const float *a,
                                  const float *h, const float *h0, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    float *ws = scratch_get(chunk_ws_floats(C));
    scan_chunked_backward_ws(du, da, dh, a, h, h0, B, T, C, ws);
    scratch_put(ws);
}

/* ---- assoc ----------------------------------------------------------------- */

/* Inclusive Brent-Kung scan of the pairs (A_t, H_t) under
 * (A1,H1) then (A2,H2) -> (A2*A1, A2*H1 + H2), for B sequences of T rows of C.
 * Row t of sequence b is at X + b*bstride + t*rstride (rstride < 0 scans
 * backwards in memory). On exit H holds the scan; A is clobbered. */
static void bk_scan(float *A, float *H, ptrdiff_t bstride, ptrdiff_t rstride, int B, int T, int C,
                    int par) {
    (void)par; /* used only by the OpenMP pragma */
    long top = 1;
    while (2 * top <= T) top *= 2;
    OMP(parallel if (par))
    {
        /* up-sweep: row i = (k+1)*2d - 1 absorbs row i - d */
        for (long d = 1; 2 * d <= T; d *= 2) {
            long n = (T - 2 * d) / (2 * d) + 1;
            OMP(for schedule(static))
            for (long w = 0; w < (long)B * n; w++) {
                long b = w / n, i = 2 * d - 1 + (w % n) * 2 * d;
                float *Ai = A + b * bstride + i * rstride, *Hi = H + b * bstride + i * rstride;
                const float *Al = Ai - d * rstride, *Hl = Hi - d * rstride;
                OMP(simd)
                for (int c = 0; c < C; c++) {
                    Hi[c] = Ai[c] * Hl[c] + Hi[c];
                    Ai[c] = Ai[c] * Al[c];
                }
            }
        }
        /* down-sweep: row i = (2k+3)d - 1 takes the finished prefix at i - d;
         * only H is needed from here on */
        for (long d = top / 2; d >= 1; d /= 2) {
            if (3 * d - 1 >= T) continue;
            long n = (T - 3 * d) / (2 * d) + 1;
            OMP(for schedule(static))
            for (long w = 0; w < (long)B * n; w++) {
                long b = w / n, i = 3 * d - 1 + (w % n) * 2 * d;
                const float *Ai = A + b * bstride + i * rstride;
                float *Hi = H + b * bstride + i * rstride;
                const float *Hl = Hi - d * rstride;
                OMP(simd)
                for (int c = 0; c < C; c++) Hi[c] = Ai[c] * Hl[c] + Hi[c];
            }
        }
    }
}

/* Forward on prepared buffers: A (B,T,C) holds a (clobbered), h holds u;
 * h0 is folded into row 0 and h_last written from row T-1 (h0 is read first,
 * so h_last may alias it). */
static void assoc_forward_inplace(float *h, float *h_last, float *A, const float *h0, int B, int T,
                                  int C) {
    if (h0)
        for (int b = 0; b < B; b++) {
            float *hb = h + (size_t)b * T * C;
            const float *Ab = A + (size_t)b * T * C, *h0b = h0 + (size_t)b * C;
            for (int c = 0; c < C; c++) hb[c] = Ab[c] * h0b[c] + hb[c];
        }
    bk_scan(A, h, (ptrdiff_t)T * C, C, B, T, C, use_par(B, T, C));
    if (h_last)
        for (int b = 0; b < B; b++)
            memcpy(h_last + (size_t)b * C, h + ((size_t)b * T + T - 1) * C, sizeof(float) * C);
}

static void par_copy(float *dst, const float *src, size_t n, int par) {
    (void)par;
    long nb = (long)((n + 4095) / 4096);
    OMP(parallel for schedule(static) if (par))
    for (long i = 0; i < nb; i++) {
        size_t o = (size_t)i * 4096, m = n - o < 4096 ? n - o : 4096;
        memcpy(dst + o, src + o, sizeof(float) * m);
    }
}

static void scan_assoc_forward(float *h, float *h_last, const float *a, const float *u,
                               const float *h0, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    size_t n = (size_t)B * T * C;
    int par = use_par(B, T, C);
    float *A = scratch_get(n);
    par_copy(A, a, n, par);
    par_copy(h, u, n, par);
    assoc_forward_inplace(h, h_last, A, h0, B, T, C);
    scratch_put(A);
}

/* Reverse scan g_t = dh_t + a_{t+1} g_{t+1} as a prefix scan over reversed
 * time; `da` holds the shifted coefficients a_{t+1} meanwhile. */
static void scan_assoc_backward(float *du, float *da, const float *dh, const float *a,
                                const float *h, const float *h0, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    int par = use_par(B, T, C);
    long rows = (long)B * T;
    OMP(parallel for schedule(static) if (par))
    for (long r = 0; r < rows; r++) {
        long t = r % T;
        size_t o = (size_t)r * C;
        memcpy(du + o, dh + o, sizeof(float) * C);
        if (t + 1 < T)
            memcpy(da + o, a + o + C, sizeof(float) * C);
        else
            memset(da + o, 0, sizeof(float) * C);
    }
    size_t last = (size_t)(T - 1) * C;
    bk_scan(da + last, du + last, (ptrdiff_t)T * C, -(ptrdiff_t)C, B, T, C, par);
    OMP(parallel for schedule(static) if (par))
    for (long r = 0; r < rows; r++) {
        long b = r / T, t = r % T;
        size_t o = (size_t)r * C;
        const float *hp = t > 0 ? h + o - C : (h0 ? h0 + (size_t)b * C : NULL);
        float *dat = da + o;
        const float *g = du + o;
        if (hp) {
            OMP(simd)
            for (int c = 0; c < C; c++) dat[c] = g[c] * hp[c];
        } else {
            memset(dat, 0, sizeof(float) * C);
        }
    }
}

const scan_variant scan_variants[] = {
    {"ref", scan_ref_forward, scan_ref_backward, "scalar, sequential in time (oracle)"},
    {"seq", SCAN_SEQ_FORWARD, scan_seq_backward,
     "sequential in time, SIMD across channels, (batch, channel tile) across threads"},
    {"chunked", scan_chunked_forward, scan_chunked_backward,
     "parallel in time: chunk-local scans, carry fold, fix-up (keeps a small workspace)"},
    {"assoc", scan_assoc_forward, scan_assoc_backward,
     "Brent-Kung parallel prefix over time (forward keeps a (B,T,C) copy of a)"},
    {NULL, NULL, NULL, NULL},
};

const scan_variant *scan_find(const char *name) {
    if (!name) return NULL;
    for (const scan_variant *v = scan_variants; v->name; v++)
        if (strcmp(v->name, name) == 0) return v;
    return NULL;
}

/* ======================================================================== */
/* RG-LRU                                                                    */
/* ======================================================================== */

/* Workspace layout (floats, each region 16-aligned):
 *   A (B,T,C)  a_t          U (B,T,C)  u_t (forward)
 *   SP (C) softplus(a_param), SA (C) sigmoid(a_param)
 *   PART (B,C) per-batch da_param partial sums
 *   CWS chunk_ws_floats(C) for `chunked` */
typedef struct { float *A, *U, *sp, *sa, *part, *cws; } rg_work;

static rg_work rg_layout(float *work, int B, int T, int C) {
    size_t btc = al16((size_t)B * T * C), c = al16((size_t)C);
    rg_work w;
    w.A = work;
    w.U = w.A + btc;
    w.sp = w.U + btc;
    w.sa = w.sp + c;
    w.part = w.sa + c;
    w.cws = w.part + al16((size_t)B * C);
    return w;
}

size_t rglru_work_floats(int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return 0;
    return 2 * al16((size_t)B * T * C) + 2 * al16((size_t)C) + al16((size_t)B * C) +
           al16(chunk_ws_floats(C));
}

static void need_work(const float *work, const char *who) {
    if (!work) {
        fprintf(stderr, "%s: work is NULL; pass rglru_work_floats(B,T,C) floats\n", who);
        abort();
    }
}

/* ---- ref ------------------------------------------------------------------ */

void rglru_forward_ref(float *y, float *h_last, const float *x, const float *gx, const float *ga,
                       const float *a_param, const int32_t *pos, const float *h0, float *work,
                       int B, int T, int C) {
    (void)work;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            size_t o = ((size_t)b * T + t) * C;
            int reset = pos[(size_t)b * T + t] == 0;
            for (int c = 0; c < C; c++) {
                float i = sigmoid_ref(gx[o + c]);
                if (reset) {
                    y[o + c] = i * x[o + c]; /* a_t = 0, normaliser 1 */
                    continue;
                }
                float r = sigmoid_ref(ga[o + c]);
                float loga = -8.0f * r * softplus_ref(a_param[c]);
                float a = expf(loga), a2 = expf(2.0f * loga);
                float nrm = sqrtf(1.0f - a2);
                float hp = t > 0 ? y[o - C + c] : (h0 ? h0[(size_t)b * C + c] : 0.0f);
                y[o + c] = a * hp + nrm * i * x[o + c];
            }
        }
        if (h_last && T > 0)
            for (int c = 0; c < C; c++) h_last[(size_t)b * C + c] = y[((size_t)b * T + T - 1) * C + c];
    }
}

void rglru_backward_ref(float *dx, float *dgx, float *dga, float *da_param, const float *dy,
                        const float *y, const float *x, const float *gx, const float *ga,
                        const float *a_param, const int32_t *pos, const float *h0, float *work,
                        int B, int T, int C) {
    (void)work;
    for (int c = 0; c < C; c++) {
        float sp = softplus_ref(a_param[c]), sa = sigmoid_ref(a_param[c]);
        double acc = 0.0;
        for (int b = 0; b < B; b++) {
            float g = 0.0f, an = 0.0f; /* g_{t+1}, a_{t+1} */
            for (int t = T - 1; t >= 0; t--) {
                size_t o = ((size_t)b * T + t) * C + c;
                float i = sigmoid_ref(gx[o]), xv = x[o];
                g = dy[o] + an * g;
                if (pos[(size_t)b * T + t] == 0) {
                    dx[o] = g * i;
                    dgx[o] = g * xv * (i * (1.0f - i));
                    dga[o] = 0.0f;
                    an = 0.0f;
                    continue;
                }
                float r = sigmoid_ref(ga[o]);
                float loga = -8.0f * r * sp;
                float a = expf(loga), a2 = expf(2.0f * loga);
                float z = 1.0f - a2, nrm = sqrtf(z);
                float hp = t > 0 ? y[o - C] : (h0 ? h0[(size_t)b * C + c] : 0.0f);
                dx[o] = g * nrm * i;
                dgx[o] = g * nrm * xv * (i * (1.0f - i));
                float dz = g * i * xv * (0.5f / sqrtf(z > SQRT_Z_MIN ? z : SQRT_Z_MIN));
                float dloga = g * hp * a - 2.0f * a2 * dz;
                dga[o] = dloga * (-8.0f * sp) * (r * (1.0f - r));
                acc += (double)(dloga * (-8.0f * r) * sa);
                an = a;
            }
        }
        da_param[c] += (float)acc;
    }
}

/* ---- shared pieces of the fast variants -------------------------------------- */

static void rg_param_tables(float *sp, float *sa, const float *a_param, int C) {
    for (int c = 0; c < C; c++) {
        sp[c] = softplus_ref(a_param[c]);
        if (sa) sa[c] = sigmoid_ref(a_param[c]);
    }
}

/* Gates of one element away from a reset: returns a_t = exp(log a_t),
 * log a_t = -8 r_t softplus(a_param), and sets *u = sqrt(1 - a_t^2) i_t x_t. */
typedef struct { float a, u; } rg_au;
static inline rg_au rg_gate(float gav, float gxv, float xv, float spc) {
    float r = fast_sigmoid(gav), i = fast_sigmoid(gxv);
    float loga = -8.0f * r * spc;
    float a = fast_exp(loga), a2 = fast_exp(2.0f * loga);
    float nrm = fast_sqrt(1.0f - a2);
    rg_au g = {a, nrm * i * xv};
    return g;
}

/* Gradient of one element at a reset (a_t = 0, h_t = i_t x_t) given
 * g = dL/dh_t. */
static inline void rg_grad_reset(float g, float xv, float gxv, float *dx, float *dgx, float *dga) {
    float i = fast_sigmoid(gxv);
    *dx = g * i;
    *dgx = g * xv * (i * (1.0f - i));
    *dga = 0.0f;
}

/* Gradient of one element away from a reset given g = dL/dh_t and
 * ghp = g h_{t-1}: writes dx, dgx, dga, accumulates *dap; returns a_t. */
static inline float rg_grad(float g, float ghp, float xv, float gxv, float gav, float spc, float sac,
                            float *dx, float *dgx, float *dga, float *dap) {
    float i = fast_sigmoid(gxv), r = fast_sigmoid(gav);
    float loga = -8.0f * r * spc;
    float a = fast_exp(loga), a2 = fast_exp(2.0f * loga);
    float z = 1.0f - a2, nrm = fast_sqrt(z);
    *dx = g * nrm * i;
    *dgx = g * nrm * xv * (i * (1.0f - i));
    float dz = g * i * xv * (0.5f * fast_rsqrt(z > SQRT_Z_MIN ? z : SQRT_Z_MIN));
    float dloga = ghp * a - 2.0f * a2 * dz;
    *dga = dloga * (-8.0f * spc) * (r * (1.0f - r));
    *dap += dloga * (-8.0f * r) * sac;
    return a;
}

/* Gates pass: A = a_t and (if U) U = sqrt(1 - a_t^2) i_t x_t, row-parallel. */
static void rg_gates(float *A, float *U, const float *x, const float *gx, const float *ga,
                     const float *sp, const int32_t *pos, int B, int T, int C, int par) {
    (void)par;
    long rows = (long)B * T;
    OMP(parallel for schedule(static) if (par))
    for (long rw = 0; rw < rows; rw++) {
        size_t o = (size_t)rw * C;
        const float *xr = x + o, *gxr = gx + o, *gar = ga + o;
        float *Ar = A + o;
        if (pos[rw] == 0) {
            memset(Ar, 0, sizeof(float) * C);
            if (U) {
                float *Ur = U + o;
                OMP(simd)
                for (int c = 0; c < C; c++) Ur[c] = fast_sigmoid(gxr[c]) * xr[c];
            }
        } else if (U) {
            float *Ur = U + o;
            OMP(simd)
            for (int c = 0; c < C; c++) {
                rg_au g = rg_gate(gar[c], gxr[c], xr[c], sp[c]);
                Ar[c] = g.a;
                Ur[c] = g.u;
            }
        } else {
            OMP(simd)
            for (int c = 0; c < C; c++) Ar[c] = fast_exp(-8.0f * fast_sigmoid(gar[c]) * sp[c]);
        }
    }
}

/* Add per-batch partial sums part (B,C) into da_param in a fixed order. */
static void rg_reduce_dap(float *da_param, const float *part, int B, int C, int par) {
    (void)par;
    OMP(parallel for schedule(static) if (par))
    for (int c = 0; c < C; c++) {
        float s = 0.0f;
        for (int b = 0; b < B; b++) s += part[(size_t)b * C + c];
        da_param[c] += s;
    }
}

/* Store one item's da_param partial: direct when B == 1 (items own disjoint
 * channels), into part when there is a workspace, else under a lock. */
static void rg_store_dap(float *da_param, float *part, const float *dap, int b, int c0, int n,
                         int B, int C) {
    if (B == 1) {
        for (int c = 0; c < n; c++) da_param[c0 + c] += dap[c];
    } else if (part) {
        memcpy(part + (size_t)b * C + c0, dap, sizeof(float) * n);
    } else {
        OMP(critical(scan_dap))
        for (int c = 0; c < n; c++) da_param[c0 + c] += dap[c];
    }
}

/* Gradient of one (b,t) row segment given g = dL/dh_t (in dx) and
 * dA = g h_{t-1} (in dga); overwrites dx, dgx, dga; accumulates dap. */
static void rg_gate_grad_row(float *dxr, float *dgxr, float *dgar, float *dap, const float *xr,
                             const float *gxr, const float *gar, const float *sp, const float *sa,
                             int reset, int n) {
    if (reset) {
        OMP(simd)
        for (int c = 0; c < n; c++) rg_grad_reset(dxr[c], xr[c], gxr[c], &dxr[c], &dgxr[c], &dgar[c]);
        return;
    }
    OMP(simd)
    for (int c = 0; c < n; c++)
        rg_grad(dxr[c], dgar[c], xr[c], gxr[c], gar[c], sp[c], sa[c], &dxr[c], &dgxr[c], &dgar[c], &dap[c]);
}

/* ---- seq / chunked / assoc: gates pass + the named linear scan -------------- */

enum { RG_SEQ, RG_CHUNKED, RG_ASSOC };

static void rg_forward_via(int kind, float *y, float *h_last, const float *x, const float *gx,
                           const float *ga, const float *a_param, const int32_t *pos,
                           const float *h0, float *work, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    need_work(work, "rglru_forward");
    rg_work w = rg_layout(work, B, T, C);
    int par = use_par(B, T, C);
    rg_param_tables(w.sp, NULL, a_param, C);
    switch (kind) {
    case RG_SEQ:
        rg_gates(w.A, w.U, x, gx, ga, w.sp, pos, B, T, C, par);
        scan_seq_forward(y, h_last, w.A, w.U, h0, B, T, C);
        break;
    case RG_CHUNKED:
        rg_gates(w.A, w.U, x, gx, ga, w.sp, pos, B, T, C, par);
        scan_chunked_forward_ws(y, h_last, w.A, w.U, h0, B, T, C, w.cws);
        break;
    default: /* assoc scans in place: u goes straight into y */
        rg_gates(w.A, y, x, gx, ga, w.sp, pos, B, T, C, par);
        assoc_forward_inplace(y, h_last, w.A, h0, B, T, C);
        break;
    }
}

static void rg_backward_via(int kind, float *dx, float *dgx, float *dga, float *da_param,
                            const float *dy, const float *y, const float *x, const float *gx,
                            const float *ga, const float *a_param, const int32_t *pos,
                            const float *h0, float *work, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    need_work(work, "rglru_backward");
    rg_work w = rg_layout(work, B, T, C);
    int par = use_par(B, T, C);
    rg_param_tables(w.sp, w.sa, a_param, C);
    rg_gates(w.A, NULL, x, gx, ga, w.sp, pos, B, T, C, par);
    /* reverse scan: g -> dx, g h_{t-1} -> dga */
    if (kind == RG_SEQ)
        scan_seq_backward(dx, dga, dy, w.A, y, h0, B, T, C);
    else if (kind == RG_CHUNKED)
        scan_chunked_backward_ws(dx, dga, dy, w.A, y, h0, B, T, C, w.cws);
    else
        scan_assoc_backward(dx, dga, dy, w.A, y, h0, B, T, C);
    tile_plan tp = plan_tiles(B, C, par ? max_threads() : 1);
    OMP(parallel for schedule(static) if (par))
    for (int it = 0; it < tp.items; it++) {
        int b, c0, n = tile_item(&tp, it, C, &b, &c0);
        float dap[SCAN_MAX_TILE];
        for (int c = 0; c < n; c++) dap[c] = 0.0f;
        for (int t = 0; t < T; t++) {
            size_t o = ((size_t)b * T + t) * C + c0;
            rg_gate_grad_row(dx + o, dgx + o, dga + o, dap, x + o, gx + o, ga + o, w.sp + c0,
                             w.sa + c0, pos[(size_t)b * T + t] == 0, n);
        }
        rg_store_dap(da_param, w.part, dap, b, c0, n, B, C);
    }
    if (B > 1) rg_reduce_dap(da_param, w.part, B, C, par);
}

#define RG_WRAP(name, kind)                                                                     \
    static void rglru_forward_##name(float *y, float *h_last, const float *x, const float *gx,  \
                                     const float *ga, const float *a_param, const int32_t *pos, \
                                     const float *h0, float *work, int B, int T, int C) {       \
        rg_forward_via(kind, y, h_last, x, gx, ga, a_param, pos, h0, work, B, T, C);            \
    }                                                                                           \
    static void rglru_backward_##name(float *dx, float *dgx, float *dga, float *da_param,       \
                                      const float *dy, const float *y, const float *x,          \
                                      const float *gx, const float *ga, const float *a_param,   \
                                      const int32_t *pos, const float *h0, float *work, int B,  \
                                      int T, int C) {                                           \
        rg_backward_via(kind, dx, dgx, dga, da_param, dy, y, x, gx, ga, a_param, pos, h0, work, \
                        B, T, C);                                                               \
    }
RG_WRAP(seq, RG_SEQ)
RG_WRAP(chunked, RG_CHUNKED)
RG_WRAP(assoc, RG_ASSOC)

/* ---- fused ------------------------------------------------------------------- */

/* One sequence b over channels [c0, c0+n) for every t: sp the channels'
 * softplus(a_param). */
static void fused_run(float *y, float *h_last, const float *x, const float *gx, const float *ga, const float *sp,
                      const int32_t *pos, const float *h0, int b, int c0, int n, int T, int C) {
    float st[SCAN_MAX_TILE];
    for (int c = 0; c < n; c++) st[c] = h0 ? h0[(size_t)b * C + c0 + c] : 0.0f;
    for (int t = 0; t < T; t++) {
        size_t o = ((size_t)b * T + t) * C + c0;
        const float *xr = x + o, *gxr = gx + o, *gar = ga + o;
        float *yr = y + o;
        if (pos[(size_t)b * T + t] == 0) {
            OMP(simd)
            for (int c = 0; c < n; c++) {
                st[c] = fast_sigmoid(gxr[c]) * xr[c];
                yr[c] = st[c];
            }
        } else {
            OMP(simd)
            for (int c = 0; c < n; c++) {
                rg_au g = rg_gate(gar[c], gxr[c], xr[c], sp[c]);
                st[c] = g.a * st[c] + g.u;
                yr[c] = st[c];
            }
        }
    }
    if (h_last) memcpy(h_last + (size_t)b * C + c0, st, sizeof(float) * n);
}

/* Below this many steps per sequence (a decode step: T = 1) the work items
 * are channel tiles that run every sequence: softplus(a_param) (libm, scalar)
 * once per channel, not once per sequence and channel (at B=64 it cost 30
 * times the step itself). */
#define FUSED_FEW_T 8
/* A few steps over this many channels go to the team even below g_par_min:
 * the per-channel softplus (libm) dominates there (a decode step at B=1 over
 * 2048 channels took about 25 us on one thread), and a step that stays on
 * the team keeps its second thread spinning for the GEMMs around it. */
#define FUSED_PAR_MIN_C 1024

static void rglru_forward_fused(float *y, float *h_last, const float *x, const float *gx,
                                const float *ga, const float *a_param, const int32_t *pos,
                                const float *h0, float *work, int B, int T, int C) {
    (void)work;
    if (B <= 0 || T <= 0 || C <= 0) return;
    int par = use_par(B, T, C) || (max_threads() > 1 && T < FUSED_FEW_T && C >= FUSED_PAR_MIN_C);
    if (T < FUSED_FEW_T && B > 1) {
        int nth = par ? max_threads() : 1;
        int w = (C + 4 * nth - 1) / (4 * nth);
        w = (w + 15) & ~15;
        if (w < 64) w = 64;
        if (w > SCAN_MAX_TILE) w = SCAN_MAX_TILE;
        int items = (C + w - 1) / w;
        OMP(parallel for schedule(static) if (par && items > 1))
        for (int it = 0; it < items; it++) {
            int c0 = it * w, n = C - c0 < w ? C - c0 : w;
            float sp[SCAN_MAX_TILE];
            rg_param_tables(sp, NULL, a_param + c0, n);
            for (int b = 0; b < B; b++) fused_run(y, h_last, x, gx, ga, sp, pos, h0, b, c0, n, T, C);
        }
        return;
    }
    tile_plan tp = plan_tiles(B, C, par ? max_threads() : 1);
    OMP(parallel for schedule(static) if (par))
    for (int it = 0; it < tp.items; it++) {
        int b, c0, n = tile_item(&tp, it, C, &b, &c0);
        float sp[SCAN_MAX_TILE];
        rg_param_tables(sp, NULL, a_param + c0, n);
        fused_run(y, h_last, x, gx, ga, sp, pos, h0, b, c0, n, T, C);
    }
}

static void rglru_backward_fused(float *dx, float *dgx, float *dga, float *da_param,
                                 const float *dy, const float *y, const float *x, const float *gx,
                                 const float *ga, const float *a_param, const int32_t *pos,
                                 const float *h0, float *work, int B, int T, int C) {
    if (B <= 0 || T <= 0 || C <= 0) return;
    int par = use_par(B, T, C);
    float *part = work ? rg_layout(work, B, T, C).part : NULL;
    tile_plan tp = plan_tiles(B, C, par ? max_threads() : 1);
    OMP(parallel for schedule(static) if (par))
    for (int it = 0; it < tp.items; it++) {
        int b, c0, n = tile_item(&tp, it, C, &b, &c0);
        float sp[SCAN_MAX_TILE], sa[SCAN_MAX_TILE], g[SCAN_MAX_TILE], an[SCAN_MAX_TILE],
            dap[SCAN_MAX_TILE], zr[SCAN_MAX_TILE];
        rg_param_tables(sp, sa, a_param + c0, n);
        for (int c = 0; c < n; c++) g[c] = an[c] = dap[c] = 0.0f;
        const float *h0b = h0 ? h0 + (size_t)b * C + c0 : NULL;
        for (int t = T - 1; t >= 0; t--) {
            size_t o = ((size_t)b * T + t) * C + c0;
            const float *xr = x + o, *gxr = gx + o, *gar = ga + o, *dyr = dy + o;
            float *dxr = dx + o, *dgxr = dgx + o, *dgar = dga + o;
            if (pos[(size_t)b * T + t] == 0) {
                OMP(simd)
                for (int c = 0; c < n; c++) {
                    g[c] = dyr[c] + an[c] * g[c];
                    an[c] = 0.0f;
                    rg_grad_reset(g[c], xr[c], gxr[c], &dxr[c], &dgxr[c], &dgar[c]);
                }
                continue;
            }
            const float *hp = t > 0 ? y + o - C : h0b;
            if (!hp) { /* t == 0 without h0: h_{-1} = 0 */
                for (int c = 0; c < n; c++) zr[c] = 0.0f;
                hp = zr;
            }
            OMP(simd)
            for (int c = 0; c < n; c++) {
                float gc = dyr[c] + an[c] * g[c];
                g[c] = gc;
                an[c] = rg_grad(gc, gc * hp[c], xr[c], gxr[c], gar[c], sp[c], sa[c], &dxr[c], &dgxr[c],
                                &dgar[c], &dap[c]);
            }
        }
        rg_store_dap(da_param, part, dap, b, c0, n, B, C);
    }
    if (B > 1 && part) rg_reduce_dap(da_param, part, B, C, par);
}

const rglru_variant rglru_variants[] = {
    {"ref", rglru_forward_ref, rglru_backward_ref, "scalar oracle"},
    {"seq", rglru_forward_seq, rglru_backward_seq, "gates pass into work, then the seq scan"},
    {"chunked", rglru_forward_chunked, rglru_backward_chunked,
     "gates pass into work, then the chunked (parallel in time) scan"},
    {"assoc", rglru_forward_assoc, rglru_backward_assoc,
     "gates pass into work, then the Brent-Kung parallel prefix scan"},
    {"fused", rglru_forward_fused, rglru_backward_fused,
     "gates, normaliser and scan in one pass; a_t, u_t never stored (work optional)"},
    {NULL, NULL, NULL, NULL},
};

const rglru_variant *rglru_find(const char *name) {
    if (!name) return NULL;
    for (const rglru_variant *v = rglru_variants; v->name; v++)
        if (strcmp(v->name, name) == 0) return v;
    return NULL;
}
