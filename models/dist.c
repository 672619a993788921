/* dist.c — data-parallel gradient reduction; see dist.h. */
#include "dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
