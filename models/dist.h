/* dist.h — data-parallel training over the ranks of a comm (kernels/comm.h):
 * which rows of the global batch a rank takes, the averaged gradient
 * (bucketed all-reduce, overlapped with the backward through the
 * model_grads.ready hook), the global loss, and an AdamW step that every
 * rank takes with the same bits. At the end: the tensor-parallel forward of
 * one recurrent block (tp_recurrent_block_forward).
 *
 * Equal to one process: every rank draws the whole global batch from the
 * same data stream and keeps rows [row0, row0+rows); its backward averages
 * over its own counted tokens, so each range is rescaled by
 * cnt_local / cnt_global before the sum (the global mean, as one process
 * computes it). The loss is sum(loss_r * cnt_r) / cnt_global, reduced in
 * rank order. What differs from one process is only fp32 rounding (GEMMs
 * over fewer rows, the ring's summation order); the order is fixed by N
 * and the bucket layout, so a run repeats bit for bit at the same N.
 *
 * Usage (per step):
 *   dp_begin(&dp, &g, tgt_all, B*T, tgt_mine, rows*T);    // installs g.ready
 *   model_forward(...rows...); model_loss_backward(..., &loss);
 *   dp_end(&dp, &g, &loss);                                // grads summed, loss global
 *   dp_adamw_step(&opt, m, g.grads, dp_grad_norm(g.grads, n));
 */
#ifndef GRIFFIN_DIST_H
#define GRIFFIN_DIST_H
#include <pthread.h>

#include "comm.h"
#include "optim.h"
#include "train.h"

typedef struct {
    double compute_s;   /* forward + backward on this rank */
    double exposed_s;   /* after the backward until every bucket was reduced */
    double wait_s;      /* no overlap: in the barrier before the all-reduce (waiting for the slowest rank) */
    double reduce_s;    /* time inside all-reduces (overlap: on the helper thread) */
} dp_times;

typedef struct {
    comm *c;
    int rank, size;
    size_t nparams;
    size_t bucket;        /* floats per bucket; 0 = one all-reduce after the backward */
    int overlap;          /* buckets go to the helper thread while the backward runs */
    /* this step */
    float *grads;
    float scale;          /* cnt_local / cnt_global */
    double cnt_local, cnt_global;
    size_t pend_off, pend_n;
    size_t covered;       /* floats the hook reported final */
    const int32_t *tgt_mine;
    size_t n_mine;
    double t_begin;
    int stop_local, stop_any;   /* a stop request (SIGINT) on any rank */
    dp_times last;
    /* helper thread */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int th_started, quit;
    size_t qoff[1024], qn[1024];
    int qhead, qtail;     /* submitted, done */
    double th_busy;
} dp_state;

/* Rows of a global batch B for one rank: the first B % N ranks one more. */
void dp_shard(int B, int rank, int size, int *row0, int *rows);
/* bucket_bytes 0: no overlap (one all-reduce after the backward, with the
 * wait measured by a barrier). Overlap needs comm_threads_ok. */
int dp_init(dp_state *d, comm *c, size_t nparams, size_t bucket_bytes);
void dp_free(dp_state *d);
/* tgt_all: the global batch's targets (n_all); tgt_mine: this rank's rows. */
void dp_begin(dp_state *d, model_grads *g, const int32_t *tgt_all, size_t n_all, const int32_t *tgt_mine, size_t n_mine);
/* Reduce what is left, wait for every bucket; *loss (this rank's mean)
 * becomes the global mean. Also reduces the stop request. */
void dp_end(dp_state *d, model_grads *g, float *loss);
/* ||g||_2 summed in a fixed order (blocks of 4096, then the blocks in
 * order): the same bits for any thread count or timing. */
double dp_grad_norm(const float *g, size_t n);
/* adamw_step with the clip taken from `norm` (identical on every rank). */
int dp_adamw_step(adamw *o, model *m, float *grads, double norm);

/* Tensor parallelism (the design: README, "Model parallelism"). Implemented:
 * the forward of one recurrent residual block of an fp32 cpu model,
 *   out = u + MLP(RMSNorm(u)),  u = x + RecurrentBlock(RMSNorm(x)),
 * split over the ranks of c, Megatron-style. Rank p holds the p-th slice of
 * the RG-LRU width by whole gate blocks (linear_y / linear_x rows, the
 * conv1d channels, the block-diagonal gates, a_param, linear_out columns)
 * and the p-th slice of the MLP width (ffw_up columns of both branches,
 * ffw_down columns): the recurrence and the conv run on local channels with
 * no communication, and each of the two halves ends in one all-reduce of
 * the (B*T, D) partial output (bias added after it). x (B*T, D) and pos
 * (B*T) are the same on every rank; out (B*T, D, not x) ends with the same
 * bits on every rank. The ranks must divide the gate blocks and M*D. Not
 * implemented: the backward, attention blocks, the embedding, decode.
 * 0, or -1 (util_last_error). */
int tp_recurrent_block_forward(comm *c, const model *m, int layer, const float *x, const int32_t *pos, int B, int T, float *out);

#endif
