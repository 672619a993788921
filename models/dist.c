/* dist.c — data-parallel gradient reduction; see dist.h. */
#include "dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "scan.h"
#include "util.h"

#define QCAP ((int)(sizeof ((dp_state *)0)->qoff / sizeof(size_t)))

void dp_shard(int B, int rank, int size, int *row0, int *rows) {
    int q = B / size, r = B % size;
    *row0 = rank * q + (rank < r ? rank : r);
    *rows = q + (rank < r);
}

static void *worker(void *arg) {
    dp_state *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (!d->quit && d->qtail == d->qhead) pthread_cond_wait(&d->cv, &d->mu);
        if (d->quit) break;
        size_t off = d->qoff[d->qtail], n = d->qn[d->qtail];
        float *g = d->grads;
        pthread_mutex_unlock(&d->mu);
        double t0 = util_now();
        comm_allreduce_f32(d->c, g + off, n);
        double dt = util_now() - t0;
        pthread_mutex_lock(&d->mu);
        d->th_busy += dt;
        d->qtail++;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int dp_init(dp_state *d, comm *c, size_t nparams, size_t bucket_bytes) {
    memset(d, 0, sizeof *d);
    d->c = c;
    d->rank = comm_rank(c);
    d->size = comm_size(c);
    d->nparams = nparams;
    d->bucket = bucket_bytes / sizeof(float);
    d->overlap = d->bucket > 0 && d->size > 1 && comm_threads_ok(c);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (d->overlap) {
        if (pthread_create(&d->th, NULL, worker, d) != 0) {
            util_error("cannot start the all-reduce thread");
            return -1;
        }
        d->th_started = 1;
    }
    return 0;
}

void dp_free(dp_state *d) {
    if (d->th_started) {
        pthread_mutex_lock(&d->mu);
        d->quit = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
    }
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    memset(d, 0, sizeof *d);
}

static void scale_range(float *g, size_t n, float s) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) g[i] *= s;
}

static void submit(dp_state *d, size_t off, size_t n) {
    pthread_mutex_lock(&d->mu);
    if (d->qhead >= QCAP) comm_abort(d->c, 1, "more than %d gradient buckets in one step", QCAP);
    d->qoff[d->qhead] = off;
    d->qn[d->qhead] = n;
    d->qhead++;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* g->ready: rescale the final range, merge it with the pending bucket (the
 * ranges arrive in descending, adjacent order) and hand full buckets on. */
static void on_ready(void *ctx, size_t off, size_t n) {
    dp_state *d = ctx;
    scale_range(d->grads + off, n, d->scale);
    d->covered += n;
    if (d->pend_n && off + n == d->pend_off) {
        d->pend_off = off;
        d->pend_n += n;
    } else {
        if (d->pend_n) submit(d, d->pend_off, d->pend_n);
        d->pend_off = off;
        d->pend_n = n;
    }
    if (d->pend_n >= d->bucket) {
        submit(d, d->pend_off, d->pend_n);
        d->pend_n = 0;
    }
}

static double count_targets(const int32_t *t, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += t[i] >= 0;
    return (double)c;
}

void dp_begin(dp_state *d, model_grads *g, const int32_t *tgt_all, size_t n_all, const int32_t *tgt_mine, size_t n_mine) {
    d->grads = g->grads;
    d->cnt_global = count_targets(tgt_all, n_all);
    d->cnt_local = count_targets(tgt_mine, n_mine);
    d->scale = d->cnt_global > 0 ? (float)(d->cnt_local / d->cnt_global) : 0.0f;
    d->pend_n = 0;
    d->tgt_mine = tgt_mine;
    d->n_mine = n_mine;
    d->covered = 0;
    pthread_mutex_lock(&d->mu);
    d->qhead = d->qtail = 0;
    d->th_busy = 0;
    pthread_mutex_unlock(&d->mu);
    if (d->overlap) {
        g->ready = on_ready;
        g->ready_ctx = d;
    }
    d->t_begin = util_now();
}

void dp_end(dp_state *d, model_grads *g, float *loss) {
    double t0 = util_now();
    memset(&d->last, 0, sizeof d->last);
    d->last.compute_s = t0 - d->t_begin;
    if (d->overlap) {
        if (d->pend_n) submit(d, d->pend_off, d->pend_n);
        d->pend_n = 0;
        pthread_mutex_lock(&d->mu);
        while (d->qtail < d->qhead) pthread_cond_wait(&d->cv, &d->mu);
        d->last.reduce_s = d->th_busy;
        pthread_mutex_unlock(&d->mu);
        g->ready = NULL;
        g->ready_ctx = NULL;
        if (d->covered != d->nparams)
            comm_abort(d->c, 1, "the backward reported %zu of %zu gradients final (model_grads.ready); the average would be wrong",
                       d->covered, d->nparams);
    } else {
        scale_range(g->grads, d->nparams, d->scale);
        double t1 = util_now();
        comm_barrier(d->c);
        double t2 = util_now();
        comm_allreduce_f32(d->c, g->grads, d->nparams);
        d->last.wait_s = t2 - t1;
        d->last.reduce_s = util_now() - t2;
    }
    /* the loss as one process sums it: per-token losses in float64 over the
     * counted targets (rowloss was filled by the backward), then / count */
    double v[2] = {0, d->stop_local ? 1.0 : 0.0};
    for (size_t i = 0; i < d->n_mine; i++)
        if (d->tgt_mine[i] >= 0) v[0] += g->rowloss[i];
    comm_allreduce_f64(d->c, v, 2);
    if (loss) *loss = d->cnt_global > 0 ? (float)(v[0] / d->cnt_global) : 0.0f;
    d->stop_any = v[1] > 0;
    d->last.exposed_s = util_now() - t0;
}

double dp_grad_norm(const float *g, size_t n) {
    const size_t BS = 4096, nb = (n + BS - 1) / BS;
    double *part = malloc((nb ? nb : 1) * sizeof(double));
    CHECK_ALLOC(part);
#pragma omp parallel for schedule(static)
    for (size_t b = 0; b < nb; b++) {
        size_t e = (b + 1) * BS < n ? (b + 1) * BS : n;
        double s = 0;
        for (size_t i = b * BS; i < e; i++) s += (double)g[i] * g[i];
        part[b] = s;
    }
    double s = 0;
    for (size_t b = 0; b < nb; b++) s += part[b];
    free(part);
    return sqrt(s);
}

int dp_adamw_step(adamw *o, model *m, float *grads, double norm) {
    double clip = o->cfg.clip;
    /* the clip as adamw_step applies it (g * (float)(clip / norm)), but from
     * a norm every rank computed with the same bits */
    if (clip > 0 && norm > clip) scale_range(grads, m->nparams, (float)(clip / norm));
    o->cfg.clip = 0;
    int rc = adamw_step(o, m, grads);
    o->cfg.clip = clip;
    o->last_norm = norm;
    return rc;
}

/* ---- tensor parallelism: one recurrent block, forward ------------------------- */

#define TP_TRY(call) do { if ((call) != 0) goto out; } while (0)

int tp_recurrent_block_forward(comm *cm, const model *m, int layer, const float *x, const int32_t *pos, int B, int T, float *out) {
    const model_config *c = &m->cfg;
    const backend *be = m->be;
    const int P = comm_size(cm), p = comm_rank(cm);
    const int D = c->width, L = c->lru_width, MD = c->mlp_expansion * c->width, nb = c->gate_blocks, K = c->conv_width;
    const int N = B * T;
    if (layer < 0 || layer >= c->depth || c->pattern[layer] != 'R') { util_error("tensor parallel: layer %d is not a recurrent block", layer); return -1; }
    if (!be || strcmp(be->name, "cpu") != 0 || m->wdtype != WEIGHTS_F32) {
        util_error("tensor parallel: an fp32 model on the cpu backend only (partial sums are reduced in host memory)");
        return -1;
    }
    if (nb % P || MD % P) {
        util_error("tensor parallel: %d ranks do not split the %d gate blocks and the MLP width %d into whole shares", P, nb, MD);
        return -1;
    }
    const layer_view *w = &m->w.layers[layer];
    const int Lp = L / P, c0 = p * Lp, nbp = nb / P, bw = L / nb, Mp = MD / P, m0 = p * Mp;
    const size_t ND = (size_t)N * D, NL = (size_t)N * Lp, NM = (size_t)N * Mp;
    float *n = malloc(ND * sizeof(float)), *rstd = malloc((size_t)N * sizeof(float)), *u = malloc(ND * sizeof(float));
    float *part = malloc(ND * sizeof(float)), *ybr = malloc(NL * sizeof(float)), *xbr = malloc(NL * sizeof(float));
    float *cv = malloc(NL * sizeof(float)), *gx = malloc(NL * sizeof(float)), *ga = malloc(NL * sizeof(float));
    float *h = malloc(NL * sizeof(float)), *cw = malloc((size_t)K * Lp * sizeof(float)), *up = malloc(2 * NM * sizeof(float));
    float *work = malloc((rglru_work_floats(B, T, Lp) + 1) * sizeof(float));
    CHECK_ALLOC(n); CHECK_ALLOC(rstd); CHECK_ALLOC(u); CHECK_ALLOC(part); CHECK_ALLOC(ybr); CHECK_ALLOC(xbr);
    CHECK_ALLOC(cv); CHECK_ALLOC(gx); CHECK_ALLOC(ga); CHECK_ALLOC(h); CHECK_ALLOC(cw); CHECK_ALLOC(up); CHECK_ALLOC(work);
    int rc = -1;
    /* temporal half: this rank's channels [c0, c0 + Lp), whole gate blocks */
    TP_TRY(be->rmsnorm_forward(n, rstd, x, w->pre_norm, N, D, c->eps));
    TP_TRY(be->fill_rows(ybr, NULL, w->by + c0, N, Lp));
    TP_TRY(be->gemm(0, 1, N, Lp, D, 1.0f, n, D, w->wy + (size_t)c0 * D, D, 1.0f, ybr, Lp));   /* rows of linear_y */
    TP_TRY(be->fill_rows(xbr, NULL, w->bx + c0, N, Lp));
    TP_TRY(be->gemm(0, 1, N, Lp, D, 1.0f, n, D, w->wx + (size_t)c0 * D, D, 1.0f, xbr, Lp));   /* rows of linear_x */
    for (int k = 0; k < K; k++) memcpy(cw + (size_t)k * Lp, w->conv_w + (size_t)k * L + c0, (size_t)Lp * sizeof(float));
    TP_TRY(be->conv1d_forward(cv, xbr, cw, w->conv_b + c0, pos, B, T, Lp, K));                   /* per channel */
    const size_t g0 = (size_t)p * nbp * bw * bw;                                                  /* first gate block of this rank */
    TP_TRY(be->fill_rows(gx, NULL, w->gi_b + c0, N, Lp));
    TP_TRY(be->gemm_strided(0, 0, N, bw, bw, 1.0f, cv, Lp, bw, w->gi_w + g0, bw, (long long)bw * bw, 1.0f, gx, Lp, bw, nbp));
    TP_TRY(be->fill_rows(ga, NULL, w->ga_b + c0, N, Lp));
    TP_TRY(be->gemm_strided(0, 0, N, bw, bw, 1.0f, cv, Lp, bw, w->ga_w + g0, bw, (long long)bw * bw, 1.0f, ga, Lp, bw, nbp));
    TP_TRY(be->rglru_forward(m->rglru, h, NULL, cv, gx, ga, w->a_param + c0, pos, NULL, work, B, T, Lp)); /* no communication */
    TP_TRY(be->geglu_forward(h, ybr, h, NL));
    TP_TRY(be->gemm(0, 1, N, D, Lp, 1.0f, h, Lp, w->wout + c0, L, 0.0f, part, D));             /* columns of linear_out */
    comm_allreduce_f32(cm, part, ND);                                                             /* all-reduce 1 */
    TP_TRY(be->fill_rows(u, part, w->bout, N, D));
    TP_TRY(be->add(u, x, ND));
    /* MLP half: this rank's hidden units [m0, m0 + Mp) of both branches */
    TP_TRY(be->rmsnorm_forward(n, rstd, u, w->post_norm, N, D, c->eps));
    for (int br = 0; br < 2; br++) {
        float *ub = up + (size_t)br * NM;
        TP_TRY(be->fill_rows(ub, NULL, w->up_b + (size_t)br * MD + m0, N, Mp));
        TP_TRY(be->gemm(0, 0, N, Mp, D, 1.0f, n, D, w->up_w + (size_t)br * D * MD + m0, MD, 1.0f, ub, Mp)); /* columns of ffw_up */
    }
    TP_TRY(be->geglu_forward(up + NM, up, up + NM, NM));
    TP_TRY(be->gemm(0, 1, N, D, Mp, 1.0f, up + NM, Mp, w->down_w + m0, MD, 0.0f, part, D));    /* columns of ffw_down */
    comm_allreduce_f32(cm, part, ND);                                                             /* all-reduce 2 */
    TP_TRY(be->fill_rows(out, part, w->down_b, N, D));
    TP_TRY(be->add(out, u, ND));
    rc = 0;
out:
    free(n); free(rstd); free(u); free(part); free(ybr); free(xbr); free(cv); free(gx); free(ga); free(h); free(cw); free(up); free(work);
    return rc;
}
