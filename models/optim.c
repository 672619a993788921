/* optim.c — AdamW; see optim.h. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void adamw_defaults(adamw_config *c) {
    c->lr = 3e-3;
    c->lr_min_ratio = 0.1;
    c->wd = 0.1;
    c->beta1 = 0.9;
    c->beta2 = 0.95;
    c->eps = 1e-8;
    c->clip = 1.0;
    c->warmup = 100;
    c->total = 1000;
}

void adamw_init(adamw *o, const model *mdl, const adamw_config *c) {
    memset(o, 0, sizeof *o);
    o->cfg = *c;
    o->be = mdl->be;
    o->m = o->be->alloc(mdl->nparams * sizeof(float));
    o->v = o->be->alloc(mdl->nparams * sizeof(float));
    o->sumsq = o->be->alloc(sizeof(double));
    CHECK_ALLOC(o->m);
    CHECK_ALLOC(o->v);
    CHECK_ALLOC(o->sumsq);
    if (o->be->host_memory) {
        o->hm = o->m;
        o->hv = o->v;
    } else {
        o->hm = util_alloc(mdl->nparams * sizeof(float));
        o->hv = util_alloc(mdl->nparams * sizeof(float));
    }
}

void adamw_free(adamw *o) {
    if (o->hm != o->m) {
        util_free(o->hm);
        util_free(o->hv);
    }
    if (o->be) {
        o->be->free(o->m);
        o->be->free(o->v);
        o->be->free(o->sumsq);
    }
    memset(o, 0, sizeof *o);
}

double adamw_lr(const adamw_config *c, int64_t t) {
    if (c->warmup > 0 && t < c->warmup) return c->lr * (double)(t + 1) / c->warmup;
    double lr_min = c->lr * c->lr_min_ratio;
    int64_t span = c->total - c->warmup;
    if (span <= 0) return c->lr;
    double prog = (double)(t - c->warmup) / (double)span;
    if (prog > 1) prog = 1;
    return lr_min + 0.5 * (c->lr - lr_min) * (1.0 + cos(M_PI * prog));
}

double grad_norm(const float *g, size_t n) {
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

int adamw_pull(adamw *o, size_t n) {
    if (o->hm == o->m) return 0;
    if (o->be->download(o->hm, o->m, n * sizeof(float)) != 0) return -1;
    return o->be->download(o->hv, o->v, n * sizeof(float));
}

int adamw_push(adamw *o, size_t n) {
    if (o->hm == o->m) return 0;
    if (o->be->upload(o->m, o->hm, n * sizeof(float)) != 0) return -1;
    return o->be->upload(o->v, o->hv, n * sizeof(float));
}

/* The global norm over the whole gradient block (padding is zero), left in
 * o->sumsq (squared) for the update. */
static int norm_into(adamw *o, const model *mdl, const float *grads, double *norm) {
    const backend *be = mdl->be;
    double ss;
    if (be->memset(o->sumsq, 0, sizeof(double)) != 0 || be->sumsq(o->sumsq, grads, mdl->nparams) != 0 ||
        be->sumsq_get(&ss, o->sumsq) != 0)
        return -1;
    *norm = sqrt(ss);
    return 0;
}

double adamw_grad_norm(adamw *o, const model *mdl, const float *grads) {
    double norm;
    return norm_into(o, mdl, grads, &norm) == 0 ? norm : NAN;
}

int adamw_step(adamw *o, model *mdl, float *grads) {
    const adamw_config *c = &o->cfg;
    const backend *be = mdl->be;
    if (norm_into(o, mdl, grads, &o->last_norm) != 0) return -1;
    backend_adamw_args a = {.lr = adamw_lr(c, o->step), .wd = c->wd, .beta1 = c->beta1, .beta2 = c->beta2,
                            .eps = c->eps, .clip = c->clip, .t = o->step + 1};
    o->last_lr = a.lr;
    for (int k = 0; k < mdl->ntensors; k++) {
        const tensor_desc *td = &mdl->tensors[k];
        size_t off = td->offset;
        a.decay = td->decay;
        if (be->adamw(mdl->dparams + off, o->m + off, o->v + off, grads + off, o->sumsq, td->numel, &a) != 0) return -1;
    }
    o->step = a.t;
    return 0;
}
