/* optim.c — AdamW; see optim.h. */
#include "optim.h"

#include <math.h>
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
    o->m = util_alloc(mdl->nparams * sizeof(float));
    o->v = util_alloc(mdl->nparams * sizeof(float));
}

void adamw_free(adamw *o) {
    util_free(o->m);
    util_free(o->v);
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

void adamw_step(adamw *o, model *mdl, float *grads) {
    const adamw_config *c = &o->cfg;
    double norm = grad_norm(grads, mdl->nparams);
    o->last_norm = norm;
    float gscale = (c->clip > 0 && norm > c->clip) ? (float)(c->clip / norm) : 1.0f;
    double lr = adamw_lr(c, o->step);
    o->last_lr = lr;
    int64_t t = o->step + 1;
    float b1 = (float)c->beta1, b2 = (float)c->beta2;
    float bc1 = (float)(1.0 - pow(c->beta1, (double)t)), bc2 = (float)(1.0 - pow(c->beta2, (double)t));
    float flr = (float)lr, eps = (float)c->eps, decay = (float)(lr * c->wd);
    for (int k = 0; k < mdl->ntensors; k++) {
        const tensor_desc *td = &mdl->tensors[k];
        float *p = mdl->params + td->offset, *g = grads + td->offset, *m = o->m + td->offset, *v = o->v + td->offset;
        float dec = td->decay ? decay : 0.0f;
#pragma omp parallel for simd schedule(static) if (td->numel > 32768)
        for (size_t i = 0; i < td->numel; i++) {
            float gi = g[i] * gscale;
            p[i] -= dec * p[i];
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            float mh = m[i] / bc1, vh = v[i] / bc2;
            p[i] -= flr * mh / (sqrtf(vh) + eps);
        }
    }
    o->step = t;
}
