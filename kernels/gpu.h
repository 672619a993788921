/* gpu.h — the CUDA backend's plain C API: device query, memory, timing and
 * bandwidth / sgemm probes, and the GPU twins of the CPU kernels
 * (scan.h, ops.h, attention.h, matmul.h). No CUDA header is needed to use
 * it: every pointer documented "device" is a plain pointer into GPU memory
 * obtained from gpu_alloc().
 *
 * Built from kernels/gpu_*.cu when nvcc is found (the Makefile then defines
 * HAVE_CUDA); otherwise kernels/gpu_stub.c provides every symbol:
 * gpu_available() returns 0 with the reason and every other entry point
 * fails (-1 / NULL / 0.0) with util_last_error() saying the build has no CUDA.
 *
 * Conventions (design.md): outputs first, then saved-for-backward, then
 * inputs, weights, dims outermost first; shapes as in the CPU headers.
 * Every function returning int returns 0 on success, -1 on failure with
 * util_last_error() holding "file:line: call failed: reason". Every launch,
 * copy, memset and cuBLAS call is asynchronous on one process-wide stream,
 * gpu_stream() (never the legacy default stream, so a sequence of calls can
 * be captured into a CUDA graph); gpu_upload / gpu_download stay
 * synchronous for the host. Set GRIFFIN_CUDA_SYNC=1 to synchronise after
 * every launch (so an error names its kernel; not while capturing).
 * Not thread-safe: one host thread drives the device (a process-wide cuBLAS
 * handle and scratch buffers are created lazily).
 *
 * Tests: tests/test_gpu.c (skips with the reason when there is no device);
 * benchmarks: tests/gpu_bench.c via scripts/gpu-check.sh.
 */
#ifndef GRIFFIN_GPU_H
#define GRIFFIN_GPU_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- device query --------------------------------------------------------- */

/* 1 if a usable CUDA device is present (and selects device 0, or
 * $GRIFFIN_GPU), else 0 with a one-line reason in why (if non-NULL). */
int gpu_available(char *why, size_t n);

typedef struct {
    char name[160];
    char driver[32];       /* CUDA driver API version, e.g. "12.8" */
    char runtime[32];      /* CUDA runtime version the code was built with */
    char cc[16];           /* compute capability, e.g. "9.0" */
    int cc_major, cc_minor;
    int sm_count;
    size_t mem_bytes;      /* total global memory */
    size_t l2_bytes;
    double peak_bw_gbs;    /* theoretical DRAM GB/s from clock and bus width (0 if unknown) */
} gpu_info;

/* Fill *info for the current device. 0 or -1. */
int gpu_info_get(gpu_info *info);
/* One line for logs / fingerprints: "NAME, cc X.Y, driver A, runtime B, N SMs, M GiB". */
int gpu_describe(char *buf, size_t n);

/* ---- memory (device pointers) -------------------------------------------- */

void *gpu_alloc(size_t bytes);            /* zeroed; NULL with util_last_error() on failure */
void gpu_free(void *p);                   /* NULL is fine */
int gpu_upload(void *dst, const void *src, size_t bytes);   /* host -> device */
int gpu_download(void *dst, const void *src, size_t bytes); /* device -> host (synchronises) */
int gpu_copy(void *dst, const void *src, size_t bytes);     /* device -> device */
int gpu_memset(void *dst, int value, size_t bytes);
int gpu_sync(void);                       /* wait for the device; reports async errors */
/* Convenience: allocate and upload n floats / ints (NULL on failure). */
float *gpu_upload_floats(const float *src, size_t n);
int32_t *gpu_upload_ints(const int32_t *src, size_t n);

/* ---- the stream, CUDA graphs, pinned host memory --------------------------- */

/* The process-wide stream (a cudaStream_t, created on first use as a
 * blocking stream: it still orders with any legacy-default-stream work).
 * NULL with util_last_error() if it cannot be created. */
void *gpu_stream(void);
/* Capture every call issued from now on (on gpu_stream()) into a graph
 * instead of running it; gpu_graph_end stops the capture and instantiates
 * it (NULL with util_last_error() on failure, the capture is then
 * abandoned). gpu_graph_launch replays it on the stream (asynchronous).
 * Capturable: every kernel entry point of this header, gpu_copy,
 * gpu_memset, gpu_upload_async / gpu_download_async with gpu_host_alloc
 * memory (the graph copies from / to that same host address on every
 * replay), and the GEMMs (cuBLAS runs on the stream with a workspace of
 * its own). Not capturable: gpu_alloc / gpu_free, gpu_upload /
 * gpu_download / gpu_sync / gpu_sumsq_get (they synchronise), timers, and
 * any call whose scratch would have to grow (split-K decode partials,
 * attention lo, the sort of gpu_embed_backward, gradient partials, the
 * bf16 GEMM's rounded copy): run the sequence once at the same shapes
 * before capturing it so every scratch already has its size. A failed
 * call inside a capture makes gpu_graph_end return NULL. No capture is
 * in progress after gpu_graph_end, whatever it returns. */
typedef struct gpu_graph gpu_graph;
int gpu_graph_begin(void);
gpu_graph *gpu_graph_end(void);
int gpu_graph_launch(gpu_graph *g);
void gpu_graph_free(gpu_graph *g);         /* NULL is fine */
/* A graph bakes in pointers and the global selections: a counter that moves
 * whenever device memory is freed (gpu_free, and so whenever a kernel entry
 * regrows its scratch) or gpu_graph_invalidate() is called (a GEMM variant
 * or decode split changes). A graph captured at epoch e is stale once
 * gpu_graph_epoch() != e: replaying it could touch freed memory. */
unsigned long gpu_graph_epoch(void);
void gpu_graph_invalidate(void);
/* Page-locked host memory (zeroed; NULL with util_last_error() on
 * failure), for asynchronous copies and copies inside a graph. */
void *gpu_host_alloc(size_t bytes);
void gpu_host_free(void *p);               /* NULL is fine */
/* Asynchronous copies on the stream; the host side should be gpu_host_alloc
 * memory (pageable memory works but may synchronise) and must stay valid
 * and unchanged (upload) / unread (download) until a gpu_sync(). */
int gpu_upload_async(void *dst, const void *src, size_t bytes);
int gpu_download_async(void *dst, const void *src, size_t bytes);

/* ---- timing ---------------------------------------------------------------- */

/* CUDA event pair (recorded on gpu_stream()). gpu_timer_stop synchronises on the stop event and
 * returns the elapsed milliseconds (negative on error). */
typedef struct gpu_timer gpu_timer;
gpu_timer *gpu_timer_create(void);
void gpu_timer_free(gpu_timer *t);
int gpu_timer_start(gpu_timer *t);
double gpu_timer_stop(gpu_timer *t);

/* Evict the L2 cache (writes a buffer twice the L2 size). */
int gpu_l2_flush(void);

/* Device-to-device copy bandwidth (GB/s counting read + write bytes) of a
 * cudaMemcpy of `bytes`, best of `reps` (L2 flushed between). 0 on error. */
double gpu_copy_bandwidth(size_t bytes, int reps);
/* cuBLAS sgemm rate (GFLOP/s, 2*n^3 per call) for n x n x n, best of reps. */
double gpu_sgemm_rate(int n, int reps);

/* ---- GEMM (matmul.h convention: row-major, C = alpha op(A) op(B) + beta C) */

/* cuBLAS (fp32, CUBLAS_DEFAULT_MATH: no TF32 unless the environment forces it). */
int gpu_gemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Naive kernel (one thread per C element), the device reference. */
int gpu_gemm_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* bf16 weights (matmul.h gemm_bf16 on the device): B holds bfloat16 (device
 * memory, uint16_t), A and C fp32. gpu_gemm_bf16 rounds A to bf16 in a
 * device scratch (grown on demand) and runs cublasGemmEx with bf16 inputs,
 * fp32 output and CUBLAS_COMPUTE_32F (fp32 accumulation): the device twin of
 * the CPU "bf16-dp" variant. gpu_gemm_bf16_ref: one thread per C element,
 * B widened, A unrounded, fp32 accumulation (the twin of "bf16-ref"). */
int gpu_gemm_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                  const uint16_t *B, int ldb, float beta, float *C, int ldc);
int gpu_gemm_bf16_ref(int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                      const uint16_t *B, int ldb, float beta, float *C, int ldc);
/* `count` bf16-weight GEMMs at A + i*strideA, B + i*strideB, C + i*strideC
 * (the block-diagonal RG-LRU gates with bf16 weights): every block's A
 * rounded to bf16 once, then cublasGemmStridedBatchedEx (bf16 inputs, fp32
 * output, CUBLAS_COMPUTE_32F). */
int gpu_gemm_strided_bf16(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                          int lda, long long strideA, const uint16_t *B, int ldb, long long strideB,
                          float beta, float *C, int ldc, long long strideC, int count);
/* dst (n bf16, device) = round-to-nearest-even of src (n floats, device). */
int gpu_bf16_from_f32(uint16_t *dst, const float *src, size_t n);

/* `count` independent GEMMs: A + i*strideA, B + i*strideB, C + i*strideC
 * (strides in floats; used for the block-diagonal RG-LRU gates). */
int gpu_gemm_strided(int transA, int transB, int M, int N, int K, float alpha,
                     const float *A, int lda, long long strideA, const float *B, int ldb,
                     long long strideB, float beta, float *C, int ldc, long long strideC,
                     int count);

/* ---- RG-LRU scan (scan.h semantics) ---------------------------------------
 * Same math as rglru_forward_ref / rglru_backward_ref: gates, log-space
 * a_t, reset at pos == 0 (a_t = 0, normaliser 1), fp32 state, bounded sqrt'
 * in backward, da_param += (per-(b, c) or per-chunk partials summed in a
 * fixed order: deterministic, the order differs from the CPU's), dx, dgx,
 * dga =. All pointers device; h0, h_last
 * may be NULL; h_last may alias h0.
 * Variants:
 *   seq      one thread per (b, c), sequential in time, loads coalesced
 *            along channels and unrolled over time steps
 *   chunked  time split into chunks across blocks: per-chunk scans from zero
 *            state (chunk's prod a, end state), a carry pass over chunks,
 *            then a re-scan of each chunk from its true carry
 *   warp     a 32x32 (time x channel) tile through shared memory, each warp
 *            a channel, each lane a step: warp-shuffle scan of (a, u) pairs,
 *            carry across tiles in registers */
typedef int (*gpu_rglru_fwd_fn)(float *y, float *h_last, const float *x, const float *gx,
                                const float *ga, const float *a_param, const int32_t *pos,
                                const float *h0, int B, int T, int C);
typedef int (*gpu_rglru_bwd_fn)(float *dx, float *dgx, float *dga, float *da_param,
                                const float *dy, const float *y, const float *x,
                                const float *gx, const float *ga, const float *a_param,
                                const int32_t *pos, const float *h0, int B, int T, int C);
typedef struct {
    const char *name;
    gpu_rglru_fwd_fn forward;
    gpu_rglru_bwd_fn backward;
    const char *help;
} gpu_rglru_variant;
extern const gpu_rglru_variant gpu_rglru_variants[]; /* terminated by {NULL} */
const gpu_rglru_variant *gpu_rglru_find(const char *name); /* NULL if unknown */
#define GPU_RGLRU_DEFAULT "seq"
/* Chunk length (time steps) of `chunked`; 0 = automatic. Global. */
void gpu_scan_set_chunk(int steps);

/* T = 1 decode step: y (B,C) out; h (B,C) state in/out; x, gx, ga (B,C);
 * pos (B) (0 resets); active (B) bytes or NULL (inactive rows keep h and
 * get y = 0). */
int gpu_rglru_step(float *y, float *h, const float *x, const float *gx, const float *ga,
                   const float *a_param, const int32_t *pos, const uint8_t *active, int B,
                   int C);

/* ---- element-wise / row-wise ops (ops.h semantics) -----------------------
 * Accumulation of the backward kernels, checked against ops.h / scan.h:
 *   rglru backward  dx, dgx, dga =; da_param +=    (CPU: the same)
 *   conv1d backward dx =; dw +=; db +=              (CPU: the same)
 *   rmsnorm backward dx +=; dscale +=               (CPU: the same)
 *   gelu / geglu / softcap / rope backward =        (CPU: the same)
 *   xent backward   dlogits =                       (CPU: the same)
 * The one difference: the GPU sums the parameter gradients (rglru
 * da_param, conv1d dw/db, rmsnorm dscale) as fixed partials (per row chunk
 * or per (b, chunk)) added in a fixed order, not row by row as the CPU
 * does, so they agree with the CPU to fp32 rounding, not bit for bit. No
 * float atomics anywhere in a backward: every GPU gradient has the same
 * bits on every run (a resumed run can equal an uninterrupted one). */
int gpu_conv1d_forward(float *y, const float *x, const float *w, const float *b,
                       const int32_t *pos, int B, int T, int C, int K);
/* dx =; dw (K,C) +=; db (C) += (either may be NULL). */
int gpu_conv1d_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, const int32_t *pos, int B, int T, int C, int K);
/* state (B,K-1,C) updated in place; active (B) or NULL (inactive rows keep state). */
int gpu_conv1d_step(float *y, float *state, const float *x, const float *w, const float *b,
                    const uint8_t *active, int B, int C, int K);
int gpu_rmsnorm_forward(float *y, float *rstd, const float *x, const float *scale, int N,
                        int C, float eps);
/* dx +=; dscale +=. */
int gpu_rmsnorm_backward(float *dx, float *dscale, const float *dy, const float *x,
                         const float *rstd, const float *scale, int N, int C);
int gpu_gelu_forward(float *y, const float *x, size_t n);
int gpu_gelu_backward(float *dx, const float *dy, const float *x, size_t n);
int gpu_geglu_forward(float *out, const float *a, const float *b, size_t n); /* out may alias b */
int gpu_geglu_backward(float *da, float *db, const float *dout, const float *a,
                       const float *b, size_t n);
int gpu_softcap_forward(float *x, size_t n, float c);
int gpu_softcap_backward(float *dy, const float *y, size_t n, float c);
int gpu_rope_forward(float *x, const int32_t *pos, int N, int H, int dh, int rot, float base);
int gpu_rope_backward(float *dx, const int32_t *pos, int N, int H, int dh, int rot,
                      float base);
int gpu_xent_forward(float *loss, const float *logits, const int32_t *targets, int N, int V);
int gpu_xent_backward(float *dlogits, const float *logits, const int32_t *targets,
                      const float *dloss, int N, int V);
/* x (N,D) = E[tok[n]] * scale; tokens must be valid (checked by the caller). */
int gpu_embed(float *x, const float *E, const int32_t *tok, int N, int D, float scale);
/* The same from a bfloat16 table E (V,D) (device uint16_t): x = widen(E[tok])
 * * scale, bit for bit the CPU's bf16 embed_tokens. */
int gpu_embed_bf16(float *x, const uint16_t *E, const int32_t *tok, int N, int D, float scale);
/* p[i] = uniform in [lo, hi) from a hash of (seed, i): deterministic fills
 * of benchmark inputs without a host round trip. */
int gpu_fill_uniform(float *p, size_t n, float lo, float hi, uint64_t seed);
/* y += x */
int gpu_add(float *y, const float *x, size_t n);
/* x *= s */
int gpu_scale(float *x, size_t n, float s);
/* out (N,O) = bias broadcast over rows (bias (O)); res (N,O) added if non-NULL. */
int gpu_fill_rows(float *out, const float *res, const float *bias, int N, int O);

/* ---- training: embedding backward, bias gradients, norm, AdamW ------------ */

/* dE (V,D) += scale * dx[n] for every row n, into row tok[n] (tokens valid,
 * 0 <= tok < V, checked by the caller; rows of other tokens are skipped).
 * Deterministic and bit-for-bit the
 * CPU loop (models/train.c): each dE row adds its tokens' rows in
 * ascending n, dE[k] += dx[k] * scale, no float atomics. The fast version
 * sorts (token, n) pairs stably on the device and gathers per token run;
 * gpu_embed_backward_ref: a thread per (v, k) over all N (the oracle). */
int gpu_embed_backward(float *dE, const float *dx, const int32_t *tok, int N, int D, int V,
                       float scale);
int gpu_embed_backward_ref(float *dE, const float *dx, const int32_t *tok, int N, int D, int V,
                           float scale);
/* db (C) += column sums of d (N,C), rows in ascending order (the CPU's
 * colsum_acc order: bit-for-bit). */
int gpu_colsum_acc(float *db, const float *d, int N, int C);
/* *acc (one device double) += sum of x[i]^2 in double: per-block partials
 * over a fixed grid, then one ordered pass (deterministic: the same bits
 * every run; the order differs from the CPU's grad_norm). Zero *acc with
 * gpu_memset first; call once per tensor to sum over all of them.
 * gpu_sumsq_get downloads it (synchronises). */
int gpu_sumsq(double *acc, const float *x, size_t n);
int gpu_sumsq_get(double *out, const double *acc);
/* One AdamW update of one tensor, exactly models/optim.c adamw_step:
 * norm = sqrt(*sumsq) (device: the global sum of squares of every
 * gradient, from gpu_sumsq); gscale = clip > 0 && norm > clip ? clip/norm
 * : 1; p -= (decay ? lr*wd : 0) * p; m = b1 m + (1-b1) g; v = b2 v +
 * (1-b2) g^2; p -= lr * (m/bc1) / (sqrt(v/bc2) + eps), bc = 1 - beta^t,
 * with the CPU's float/double roundings and no fused multiply-adds, so a
 * GPU step equals the CPU step to fp32 rounding. p, m, v (n) in/out. */
typedef struct {
    double lr;                /* lr_t of this step (adamw_lr) */
    double wd;                /* weight decay (used when decay != 0) */
    double beta1, beta2, eps;
    double clip;              /* global-norm clip; <= 0: none */
    int64_t t;                /* 1-based step number (o->step + 1) */
    int decay;                /* this tensor is decayed (tensor_desc.decay) */
} gpu_adamw_args;
int gpu_adamw_step(float *p, float *m, float *v, const float *g, const double *sumsq, size_t n,
                   const gpu_adamw_args *a);

/* ---- attention (attention.h semantics) -------------------------------------
 * q (B,T,H,dh) roped, k, v (B,T,dh); out (B,T,H,dh); lse (B,H,T) or NULL.
 * window < 0 = global causal; same-document masking from pos.
 * Variants: "naive" (a block per query row, every key, two passes),
 * "banded" (a warp per (query, head) over exactly its visible keys, online
 * softmax), "tiled" (query-row x key tiles in shared memory, online softmax,
 * only the tiles intersecting the visible band; head dims up to 256).
 * Backward (attn_bwd_fn semantics): dq (B,T,H,dh), dk, dv (B,T,dh) written
 * (=) from dout, out and lse of the forward (lse must have been saved).
 * Every variant has one: "naive" a block per key row for dk/dv and per
 * query row for dq, over the visible band only (the device oracle);
 * "banded" the same as "naive" (its forward's row-per-warp shape has no
 * better backward; it binds the naive backward); "tiled" FlashAttention-2
 * style: D = rowsum(dout . out), then a block per key tile streams the
 * query tiles that see it (dk, dv in registers) and a block per query tile
 * streams the key tiles it sees (dq), no atomics. */
typedef int (*gpu_attn_fwd_fn)(float *out, float *lse, const float *q, const float *k,
                               const float *v, const int32_t *pos, int B, int T, int H,
                               int dh, int window);
typedef int (*gpu_attn_bwd_fn)(float *dq, float *dk, float *dv, const float *dout,
                               const float *out, const float *lse, const float *q,
                               const float *k, const float *v, const int32_t *pos, int B,
                               int T, int H, int dh, int window);
typedef struct {
    const char *name;
    gpu_attn_fwd_fn forward;
    gpu_attn_bwd_fn backward;
    const char *help;
} gpu_attn_variant;
extern const gpu_attn_variant gpu_attn_variants[]; /* terminated by {NULL} */
const gpu_attn_variant *gpu_attn_find(const char *name);
#define GPU_ATTN_DEFAULT "tiled"

/* Decode attention (attn_decode semantics): out (B,H,dh); q (B,H,dh);
 * kc, vc (B,S,dh) with nvalid[b] valid slots (device ints); knew, vnew (B,dh).
 * gpu_attn_decode: split-K — the valid slots (plus the new token) are cut
 * into splits of gpu_attn_decode_split() keys, a block per (row, head,
 * split) writes its partial max, sum and unnormalised accumulator to a
 * scratch, and a combine pass merges the splits of each (row, head); the
 * grid is sized from S, not from nvalid, so it can be captured in a graph.
 * gpu_attn_decode_ref: a block per (row, head) over every slot. */
int gpu_attn_decode(float *out, const float *q, const float *kc, const float *vc,
                    const int32_t *nvalid, const float *knew, const float *vnew, int B,
                    int H, int dh, int S);
int gpu_attn_decode_ref(float *out, const float *q, const float *kc, const float *vc,
                        const int32_t *nvalid, const float *knew, const float *vnew, int B,
                        int H, int dh, int S);
/* Keys per split of gpu_attn_decode (rounded up to a multiple of 32);
 * 0 = automatic (enough splits to fill the device). Global. */
void gpu_attn_decode_set_split(int keys);

/* ---- device-side decode bookkeeping (no host copies per step) --------------
 * n (B) device ints: tokens already in each row's cache (the position of
 * the next token). */
/* Write knew/vnew (B,dh) into kc/vc (B,S,dh) at slot ring ? n[b] % S :
 * n[b] (non-ring: rows with n[b] >= S are skipped, as are n[b] < 0), for
 * active rows (active (B) bytes or NULL = all). */
int gpu_kv_write(float *kc, float *vc, const float *knew, const float *vnew, const int32_t *n,
                 const uint8_t *active, int B, int S, int dh, int ring);
/* The previous form: write into slot[b] (slot (B) device ints, rows with a
 * slot outside [0, S) skipped). */
int gpu_kv_write_slot(float *kc, float *vc, const float *knew, const float *vnew,
                      const int32_t *slot, const uint8_t *active, int B, int dh, int S);
/* pos[b] = n[b]; nvalid[b] = keep >= 0 ? min(n[b], keep) : n[b] (keep: the
 * ring length of a local layer, S of a global one). Either output may be NULL. */
int gpu_decode_positions(int32_t *pos, int32_t *nvalid, const int32_t *n, int keep, int B);
/* n[b] += 1 for active rows (active NULL = all). */
int gpu_decode_advance(int32_t *n, const uint8_t *active, int B);
/* Greedy choice: tok[r] = the first index of the maximum of logits row r
 * (N rows of V), NaNs ignored (0 if logits[r][0] is NaN): exactly the
 * CPU's `if (l[v] > l[best]) best = v` scan, so a decode step can hand
 * back B tokens instead of B x V logits. */
int gpu_argmax_rows(int32_t *tok, const float *logits, int N, int V);

#ifdef __cplusplus
}
#endif
#endif
