/* suite.c — see suite.h. */
#include "suite.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

store_id suite_case(suite_ctx *c, const char *name, const char *params_json) {
    if (!c->db) return 0;
    store_id cs = 0;
    if (store_case(c->db, c->suite, name, params_json, &cs) != 0) {
        fprintf(stderr, "warning: results store: %s\n", util_last_error());
        return 0;
    }
    return cs;
}

void suite_samples(suite_ctx *c, store_id cs, const char *metric, const char *unit, int flags, const double *v, int n) {
    if (!c->db || !cs || n <= 0) return;
    /* a timed metric carries the interference of the last timed region */
    const busy_result *b = (flags & STORE_DETERMINISTIC) ? NULL : &c->busy;
    if (store_result_samples_busy(c->db, c->run, cs, metric, unit, flags, v, n, b) != 0)
        fprintf(stderr, "warning: results store: %s\n", util_last_error());
}

void suite_accuracy(suite_ctx *c, store_id cs, const char *metric, long correct, long total) {
    /* kept as counts (result.successes / trials) and as the fraction, so the
     * check can judge it with a two-proportion test on the counted items */
    if (!c->db || !cs) return;
    if (store_result_count(c->db, c->run, cs, metric, STORE_HIGHER, correct, total) != 0)
        fprintf(stderr, "warning: results store: %s\n", util_last_error());
}

void suite_curve(suite_ctx *c, store_id cs, const char *name, const char *series, const double *x, const double *y, int n) {
    if (!c->db || n <= 0) return;
    if (store_curve(c->db, c->run, cs, name, series, x, y, n) != 0)
        fprintf(stderr, "warning: results store: %s\n", util_last_error());
}

void suite_claim(suite_ctx *c, const char *claim, const char *measured, const char *verdict) {
    if (c->nclaims < SUITE_MAX_CLAIMS) {
        snprintf(c->claim[c->nclaims][0], 200, "%s", claim);
        snprintf(c->claim[c->nclaims][1], 200, "%s", measured);
        snprintf(c->claim[c->nclaims][2], 200, "%s", verdict);
        c->nclaims++;
    }
    if (c->db && store_claim(c->db, c->run, c->suite, claim, measured, verdict) != 0)
        fprintf(stderr, "warning: results store: %s\n", util_last_error());
}

void suite_time_begin(suite_ctx *c) {
    memset(&c->busy, 0, sizeof c->busy);
    busy_begin(&c->busy_mark);
}

void suite_time_end(suite_ctx *c) { c->busy = busy_end(&c->busy_mark); }

static int g_progress_open;

void suite_progress(suite_ctx *c, const char *fmt, ...) {
    if (c->quiet) return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (c->tty) {
        fprintf(stderr, "\r\033[K[%s] %s", c->suite, buf);
        g_progress_open = 1;
    } else {
        fprintf(stderr, "[%s] %s\n", c->suite, buf);
    }
    fflush(stderr);
}

void suite_progress_done(suite_ctx *c) {
    if (c->tty && g_progress_open && !c->quiet) fprintf(stderr, "\n");
    g_progress_open = 0;
}

int suite_validate(suite_ctx *c, model *m, int B, int T) {
    if (T > 192) T = 192;
    if (B > 2) B = 2;
    model_acts a, r;
    if (model_acts_alloc(&a, m, B, T, 0) != 0 || model_acts_alloc(&r, m, B, T, 0) != 0) return -1;
    int32_t *tok = malloc((size_t)B * T * 4), *pos = malloc((size_t)B * T * 4);
    CHECK_ALLOC(tok); CHECK_ALLOC(pos);
    rng_t rg;
    rng_seed(&rg, 1234);
    for (int i = 0; i < B * T; i++) {
        tok[i] = (int32_t)rng_below(&rg, (uint32_t)m->cfg.vocab);
        pos[i] = (i % T) == T / 2 ? 0 : (i % T); /* a document reset mid-sequence */
    }
    for (int i = 0; i < B * T; i++) if (i % T > T / 2) pos[i] = (i % T) - T / 2;
    char rv[24], av[24];
    memcpy(rv, m->rglru, sizeof rv);
    memcpy(av, m->attn, sizeof av);
    int rc = model_forward(m, &a, tok, pos, NULL);
    snprintf(m->rglru, sizeof m->rglru, "ref");
    snprintf(m->attn, sizeof m->attn, "ref");
    if (rc == 0) rc = model_forward(m, &r, tok, pos, NULL);
    memcpy(m->rglru, rv, sizeof rv);
    memcpy(m->attn, av, sizeof av);
    double e = rc == 0 ? util_max_rel_err(a.logits, r.logits, (size_t)B * T * m->cfg.vocab) : INFINITY;
    free(tok);
    free(pos);
    model_acts_free(&a);
    model_acts_free(&r);
    if (!(e <= 1e-4)) {
        fprintf(stderr, "[%s] refusing to time %s: rglru '%s' / attention '%s' differ from ref by %.3g on T=%d\n", c->suite,
                m->cfg.name, rv, av, e, T);
        return -1;
    }
    return 0;
}

const char *family_title(model_family f) {
    switch (f) {
    case FAMILY_MQA: return "MQA";
    case FAMILY_HAWK: return "Hawk";
    case FAMILY_GRIFFIN: return "Griffin";
    }
    return "?";
}

void suite_model_config(model_config *cfg, model_family f, int D, int depth, int W) {
    config_defaults(cfg, f);
    cfg->width = D;
    cfg->depth = depth;
    cfg->head_dim = D < 512 ? 64 : 128;
    if (cfg->head_dim > D) cfg->head_dim = D;
    cfg->heads = D / cfg->head_dim;
    cfg->gate_blocks = D >= 256 ? 4 : 2;
    int L = (4 * D / 3 + 15) / 16 * 16;
    cfg->lru_width = L;
    cfg->window = W;
    snprintf(cfg->name, sizeof cfg->name, "%s-d%d", family_name(f), D);
    config_finalize(cfg);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double suite_median(const double *v, int n) {
    if (n <= 0) return NAN;
    double *t = malloc((size_t)n * sizeof(double));
    CHECK_ALLOC(t);
    memcpy(t, v, (size_t)n * sizeof(double));
    qsort(t, (size_t)n, sizeof(double), cmp_d);
    double m = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    free(t);
    return m;
}
