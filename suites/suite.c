/* suite.c — see suite.h. */
#include "suite.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "matmul.h"
#include "train.h"
#include "util.h"

store_id suite_case(suite_ctx *c, const char *name, const char *params_json) {
    if (!c->db) return 0;
    store_id cs = 0;
    char *dev = NULL; /* a device case: {"device":"NAME", then the parameters */
    if (c->be && c->be != &backend_cpu && params_json[0] == '{') {
        size_t n = strlen(params_json) + strlen(c->be->name) + 16;
        dev = malloc(n);
        CHECK_ALLOC(dev);
        snprintf(dev, n, "{\"device\":\"%s\"%s%s", c->be->name, params_json[1] == '}' ? "" : ",", params_json + 1);
        params_json = dev;
    }
    int bad = store_case(c->db, c->suite, name, params_json, &cs) != 0;
    free(dev);
    if (bad) {
        fprintf(stderr, "error: results store: %s\n", util_last_error());
        c->store_errors++;
        return 0;
    }
    return cs;
}

void suite_samples(suite_ctx *c, store_id cs, const char *metric, const char *unit, int flags, const double *v, int n) {
    if (!c->db || !cs || n <= 0) return;
    /* a timed metric carries the interference of the last timed region */
    const busy_result *b = (flags & STORE_DETERMINISTIC) ? NULL : &c->busy;
    if (store_result_samples_busy(c->db, c->run, cs, metric, unit, flags, v, n, b) != 0) {
        fprintf(stderr, "error: results store: %s\n", util_last_error());
        c->store_errors++;
    }
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
    if (store_curve(c->db, c->run, cs, name, series, x, y, n) != 0) {
        fprintf(stderr, "error: results store: %s\n", util_last_error());
        c->store_errors++;
    }
}

claim_verdict suite_claim_judged(suite_ctx *c, const char *id, const char *where, const claim_values *v, const char *measured) {
    const claim_def *d = claims_find(id);
    char why[600];
    claim_verdict vd = claims_evaluate(d, v, why, sizeof why);
    if (!d) fprintf(stderr, "[%s] internal error: claim '%s' is not in the registry\n", c->suite, id);
    char statement[400];
    snprintf(statement, sizeof statement, "%s%s%s%s", d ? d->statement : id, where ? " [" : "", where ? where : "", where ? "]" : "");
    if (c->nclaims < SUITE_MAX_CLAIMS) {
        suite_claim_row *r = &c->claim[c->nclaims++];
        snprintf(r->id, sizeof r->id, "%s", id);
        snprintf(r->statement, sizeof r->statement, "%s", statement);
        snprintf(r->measured, sizeof r->measured, "%s", measured ? measured : "");
        snprintf(r->verdict, sizeof r->verdict, "%s", claim_verdict_name(vd));
        snprintf(r->why, sizeof r->why, "%s", why);
    }
    if (c->db && d) {
        char *rule = claims_rule_json(d), *inputs = claims_inputs_json(d, v);
        if (store_claim_judged(c->db, c->run, c->suite, id, statement, measured ? measured : "", claim_verdict_name(vd), rule, inputs,
                               why) != 0) {
            fprintf(stderr, "error: results store: %s\n", util_last_error());
            c->store_errors++;
        }
        free(rule);
        free(inputs);
    }
    return vd;
}

void suite_case_failed(suite_ctx *c, store_id cs, const char *name, const char *params, const char *fmt, ...) {
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    suite_progress_done(c);
    fprintf(stderr, "[%s] case %s %s failed: %s\n", c->suite, name, params ? params : "", reason);
    if (!c->db) return;
    if (!cs) cs = suite_case(c, name, params);
    char full[800];
    snprintf(full, sizeof full, "%s %s: %s", name, params ? params : "", reason);
    if (store_case_failed(c->db, c->run, cs, full) != 0) {
        fprintf(stderr, "error: results store: %s\n", util_last_error());
        c->store_errors++;
    }
}

void suite_timing_init(suite_timing *t) {
    t->reps = 0;
    t->busy = 0;
    t->spread = 0;
    t->nadd = 0;
}

void suite_timing_add(suite_timing *t, const suite_ctx *c, const double *v, int n) {
    if (t->nadd == 0 || n < t->reps) t->reps = n;
    double b = c->busy.ok ? c->busy.others : NAN;
    t->busy = (isnan(b) || isnan(t->busy)) ? NAN : fmax(t->busy, b);
    double sp = suite_rel_spread(v, n);
    t->spread = (isnan(sp) || isnan(t->spread)) ? NAN : fmax(t->spread, sp);
    t->nadd++;
}

void suite_timing_merge(suite_timing *dst, const suite_timing *src) {
    if (!src->nadd) return;
    if (!dst->nadd || src->reps < dst->reps) dst->reps = src->reps;
    dst->busy = (isnan(dst->busy) || isnan(src->busy)) ? NAN : fmax(dst->busy, src->busy);
    dst->spread = (isnan(dst->spread) || isnan(src->spread)) ? NAN : fmax(dst->spread, src->spread);
    dst->nadd += src->nadd;
}

void suite_timing_values(const suite_timing *t, claim_values *v) {
    claim_set(v, "reps", t->nadd ? t->reps : NAN);
    claim_set(v, "busy", t->nadd ? t->busy : NAN);
    claim_set(v, "spread", t->nadd ? t->spread : NAN);
}

double suite_rel_spread(const double *v, int n) {
    if (n <= 0) return NAN;
    double med = suite_median(v, n);
    double *d = malloc((size_t)n * sizeof(double));
    CHECK_ALLOC(d);
    for (int i = 0; i < n; i++) d[i] = fabs(v[i] - med);
    double mad = suite_median(d, n);
    free(d);
    return med != 0 ? 1.4826 * mad / fabs(med) : NAN;
}

void suite_mean_sd(const double *v, int n, double *mean, double *sd) {
    if (n <= 0) { *mean = *sd = NAN; return; }
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    double m = s / n, q = 0;
    for (int i = 0; i < n; i++) q += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
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

/* ---- devices ------------------------------------------------------------------- */

const char *suite_device_suites(void) { return "throughput, latency, longctx, copyret"; }

int suite_device_open(const char *device, const char *suite, const backend **be) {
    *be = NULL;
    if (!device || !strcmp(device, "cpu")) return 0;
    const backend *b;
    if (strcmp(device, "cuda") && backend_find(device, &b) != 0) { /* an unknown name */
        fprintf(stderr, "error: --device %s: %s\n", device, util_last_error());
        return 2;
    }
    char list[64];
    snprintf(list, sizeof list, "%s", suite_device_suites());
    int ok = 0;
    for (char *sp = NULL, *t = strtok_r(list, ", ", &sp); t && !ok; t = strtok_r(NULL, ", ", &sp)) ok = !strcmp(t, suite);
    if (!ok) {
        fprintf(stderr, "error: --device %s: the %s suite runs on the cpu only (on a device: %s)\n", device, suite,
                suite_device_suites());
        return 2;
    }
    if (backend_find(device, &b) != 0) { /* no device here, or a build without CUDA: the reason */
        fprintf(stderr, "error: --device %s: %s\n", device, util_last_error());
        return 2;
    }
    *be = b;
    return 0;
}

int suite_to_device(suite_ctx *c, model *m) {
    if (!c->be || c->be == m->be) return 0;
    return model_set_device(m, c->be);
}

/* A cpu model with m's weights (same configuration and storage): the
 * oracle of a device model. 0 or -1. */
static int cpu_twin(model *m, model *t) {
    if (model_sync_host(m) != 0 || model_create_dtype(t, &m->cfg, m->wdtype) != 0) return -1;
    memcpy(t->params, m->params, m->nparams * sizeof(float));
    if (m->nparams16) memcpy(t->params16, m->params16, m->nparams16 * sizeof(uint16_t));
    return 0;
}

/* Device bf16 weights are validated on the device's bf16-ref GEMM (B
 * widened, A as is: the cpu's arithmetic); cuBLAS bf16 also rounds A, a
 * 2^-8 difference no 1e-3 check can pass (tests/test_gpu.c checks it at
 * its own tolerance). */
static void device_bf16_validation(const model *m, int on) {
    if (m->wdtype == WEIGHTS_BF16 && !m->be->host_memory) m->be->gemm_select(on ? "bf16-ref" : "bf16");
}

static void validation_batch(int32_t *tok, int32_t *pos, int32_t *tgt, int B, int T, int V);

/* Prefill (and with grads, backward) on the device and on its cpu twin;
 * worst relative differences of logits and gradients. */
static int compare_device(model *m, int B, int T, int train, double *e_logits, double *e_grads) {
    model t;
    *e_logits = *e_grads = INFINITY;
    if (cpu_twin(m, &t) != 0) return -1;
    model_acts a, r;
    model_grads ga, gr;
    int rc = -1, ha = 0, hr = 0, hg = 0;
    size_t N = (size_t)B * T;
    int32_t *tok = malloc(N * 4), *pos = malloc(N * 4), *tgt = malloc(N * 4);
    float *hgrad = train ? malloc(m->nparams * sizeof(float)) : NULL;
    CHECK_ALLOC(tok); CHECK_ALLOC(pos); CHECK_ALLOC(tgt);
    validation_batch(tok, pos, tgt, B, T, m->cfg.vocab);
    device_bf16_validation(m, 1);
    if (!(ha = model_acts_alloc(&a, m, B, T, train) == 0) || !(hr = model_acts_alloc(&r, &t, B, T, train) == 0)) goto out;
    if (train && !(hg = model_grads_alloc(&ga, m, B, T) == 0 && model_grads_alloc(&gr, &t, B, T) == 0)) goto out;
    float la, lr;
    if (model_forward(m, &a, tok, pos, NULL) || model_forward(&t, &r, tok, pos, NULL)) goto out;
    const float *lg = model_acts_logits(&a);
    if (!lg) goto out;
    *e_logits = util_max_rel_err(lg, r.logits, N * m->cfg.vocab);
    if (train) {
        CHECK_ALLOC(hgrad);
        model_zero_grad(&ga, m);
        model_zero_grad(&gr, &t);
        if (model_loss_backward(m, &a, &ga, tok, pos, tgt, &la) || model_loss_backward(&t, &r, &gr, tok, pos, tgt, &lr) ||
            m->be->download(hgrad, ga.grads, m->nparams * sizeof(float)))
            goto out;
        *e_grads = util_max_rel_err(hgrad, gr.grads, m->nparams);
    } else {
        *e_grads = 0;
    }
    rc = 0;
out:
    device_bf16_validation(m, 0);
    if (hg) { model_grads_free(&ga); model_grads_free(&gr); }
    if (ha) model_acts_free(&a);
    if (hr) model_acts_free(&r);
    free(tok); free(pos); free(tgt); free(hgrad);
    model_free(&t);
    return rc;
}

/* The reduced T: beyond the window (W + 37) when the timed T is, else T,
 * capped at 192 + 37 for global attention (the ref kernel is T x T). */
static int reduced_T(const model *m, int T) {
    int W = 0;
    for (int i = 0; i < m->cfg.depth; i++)
        if (m->cfg.pattern[i] == 'L' && m->cfg.window > W) W = m->cfg.window;
    int Tv = W > 0 && T > W ? W + 37 : T;
    if (W == 0 && Tv > 229) Tv = 229;
    return Tv < 3 ? 3 : Tv;
}

static void validation_batch(int32_t *tok, int32_t *pos, int32_t *tgt, int B, int T, int V) {
    rng_t rg;
    rng_seed(&rg, 1234);
    for (int i = 0; i < B * T; i++) tok[i] = (int32_t)rng_below(&rg, (uint32_t)V);
    for (int i = 0; i < B * T; i++) { /* a document reset mid-sequence */
        int t = i % T;
        pos[i] = t < T / 2 ? t : t - T / 2;
        if (tgt) tgt[i] = t + 1 < T ? tok[i + 1] : -1;
    }
}

typedef struct { char rglru[24], attn[24]; } variants;
static variants use_ref(model *m) {
    variants v;
    memcpy(v.rglru, m->rglru, sizeof v.rglru);
    memcpy(v.attn, m->attn, sizeof v.attn);
    snprintf(m->rglru, sizeof m->rglru, "ref");
    snprintf(m->attn, sizeof m->attn, "ref");
    return v;
}
static void restore(model *m, const variants *v) {
    memcpy(m->rglru, v->rglru, sizeof m->rglru);
    memcpy(m->attn, v->attn, sizeof m->attn);
}

static int refuse(suite_ctx *c, const model *m, const char *what, double e, int B, int T) {
    if (e <= 1e-4 || ((strstr(what, "gradient") || strstr(what, "decode") || strstr(what, "the cpu")) && e <= 1e-3)) return 0;
    fprintf(stderr, "[%s] refusing to time %s on %s: %s (rglru '%s', attention '%s') differ from the reference by %.3g at B=%d T=%d\n",
            c->suite, m->cfg.name, m->be->name, what, m->rglru, m->attn, e, B, T);
    return -1;
}

/* Prefill (and with grads, backward) with the chosen variants and with ref;
 * worst relative differences of logits and gradients. */
static int compare_paths(model *m, int B, int T, int train, double *e_logits, double *e_grads) {
    model_acts a, r;
    model_grads ga, gr;
    *e_logits = *e_grads = INFINITY;
    if (model_acts_alloc(&a, m, B, T, train) != 0) return -1;
    if (model_acts_alloc(&r, m, B, T, train) != 0) { model_acts_free(&a); return -1; }
    if (train) { model_grads_alloc(&ga, m, B, T); model_grads_alloc(&gr, m, B, T); }
    int32_t *tok = malloc((size_t)B * T * 4), *pos = malloc((size_t)B * T * 4), *tgt = malloc((size_t)B * T * 4);
    CHECK_ALLOC(tok); CHECK_ALLOC(pos); CHECK_ALLOC(tgt);
    validation_batch(tok, pos, tgt, B, T, m->cfg.vocab);
    float la, lr;
    int rc = model_forward(m, &a, tok, pos, NULL);
    if (!rc && train) { model_zero_grad(&ga, m); rc = model_loss_backward(m, &a, &ga, tok, pos, tgt, &la); }
    variants keep = use_ref(m);
    if (!rc) rc = model_forward(m, &r, tok, pos, NULL);
    if (!rc && train) { model_zero_grad(&gr, m); rc = model_loss_backward(m, &r, &gr, tok, pos, tgt, &lr); }
    restore(m, &keep);
    if (!rc) {
        *e_logits = util_max_rel_err(a.logits, r.logits, (size_t)B * T * m->cfg.vocab);
        *e_grads = train ? util_max_rel_err(ga.grads, gr.grads, m->nparams) : 0;
    }
    free(tok); free(pos); free(tgt);
    if (train) { model_grads_free(&ga); model_grads_free(&gr); }
    model_acts_free(&a);
    model_acts_free(&r);
    return rc;
}

/* bf16 weights: the model paths are validated on the widening bf16 GEMM
 * (fp32 activations, only the summation order differs: the fp32
 * tolerances hold). bf16-dp also rounds every GEMM input to bf16, so two
 * correct paths differ by about 2^-8 and no 1e-4 check can pass; it is
 * checked against the fp32 product by tests/test_gemm.c (2^-7 of max|C|).
 * Returns the bf16 kernel name to restore, or NULL when nothing changed. */
static const char *bf16_validation_begin(const model *m) {
    if (m->wdtype != WEIGHTS_BF16 || strcmp(gemm_bf16_variant_resolved(), "bf16-dp")) return NULL;
    const char *keep = gemm_bf16_variant();
    return gemm_set_variant("bf16-widen") == 0 ? keep : NULL;
}
static void bf16_validation_end(const char *keep) {
    if (keep) gemm_set_variant(keep);
}

static int validate(suite_ctx *c, model *m, int B, int T, int train) {
    int Tv = reduced_T(m, T), Bv = B > 2 ? 2 : B < 1 ? 1 : B;
    double el, eg;
    const int dev = !m->be->host_memory;
    const char *keep = bf16_validation_begin(m);
    if ((dev ? compare_device : compare_paths)(m, Bv, Tv, train, &el, &eg) != 0)
        fprintf(stderr, "[%s] validation of %s failed: %s\n", c->suite, m->cfg.name, util_last_error());
    bf16_validation_end(keep);
    if (refuse(c, m, dev ? "prefill logits vs the cpu" : "prefill logits", el, Bv, Tv)) return -1;
    if (train && refuse(c, m, dev ? "training gradients vs the cpu" : "training gradients", eg, Bv, Tv)) return -1;
    return 0;
}

int suite_validate(suite_ctx *c, model *m, int B, int T) { return validate(c, m, B, T, 0); }
int suite_validate_train(suite_ctx *c, model *m, int B, int T) { return validate(c, m, B, T, 1); }

int suite_validate_decode(suite_ctx *c, model *m, int B, int len) {
    const int K = 3; /* decode steps compared */
    int Bv = B > 2 ? 2 : B < 1 ? 1 : B, T = len + K, V = m->cfg.vocab;
    if (!m->be->host_memory && validate(c, m, Bv, T, 0) != 0) return -1; /* the device against the cpu */
    model_acts a, p;
    decode_state st;
    if (model_acts_alloc(&a, m, Bv, T, 0) != 0) return -1;
    if (len > 0 && model_acts_alloc(&p, m, Bv, len, 0) != 0) { model_acts_free(&a); return -1; }
    if (decode_state_alloc(&st, m, Bv, T + 1) != 0) { model_acts_free(&a); if (len > 0) model_acts_free(&p); return -1; }
    int32_t *tok = malloc((size_t)Bv * T * 4), *pos = malloc((size_t)Bv * T * 4), *ptok = malloc((size_t)Bv * (len + 1) * 4);
    int32_t *ppos = malloc((size_t)Bv * (len + 1) * 4), *step = malloc((size_t)Bv * 4);
    float *lg = malloc((size_t)Bv * V * sizeof(float));
    CHECK_ALLOC(tok); CHECK_ALLOC(pos); CHECK_ALLOC(ptok); CHECK_ALLOC(ppos); CHECK_ALLOC(step); CHECK_ALLOC(lg);
    rng_t rg;
    rng_seed(&rg, 4321);
    for (int i = 0; i < Bv * T; i++) { tok[i] = (int32_t)rng_below(&rg, (uint32_t)V); pos[i] = i % T; }
    for (int b = 0; b < Bv; b++)
        for (int t = 0; t < len; t++) { ptok[b * len + t] = tok[b * T + t]; ppos[b * len + t] = t; }
    double e = INFINITY;
    const char *keep = bf16_validation_begin(m);
    int rc = model_forward(m, &a, tok, pos, NULL); /* prefill logits: the oracle */
    decode_state_reset(&st, m, -1);
    if (!rc && len > 0) rc = model_forward(m, &p, ptok, ppos, &st);
    const float *al = rc ? NULL : model_acts_logits(&a);
    if (!rc && !al) rc = -1;
    if (!rc) {
        e = 0;
        for (int k = 0; k < K && !rc; k++) {
            for (int b = 0; b < Bv; b++) step[b] = tok[b * T + len + k];
            rc = model_decode_step(m, &st, step, NULL, lg);
            for (int b = 0; b < Bv && !rc; b++) {
                double eb = util_max_rel_err(lg + (size_t)b * V, al + ((size_t)b * T + len + k) * V, (size_t)V);
                if (eb > e || isnan(eb)) e = eb;
            }
        }
    }
    bf16_validation_end(keep);
    if (rc) { fprintf(stderr, "[%s] decode validation of %s failed: %s\n", c->suite, m->cfg.name, util_last_error()); e = INFINITY; }
    free(tok); free(pos); free(ptok); free(ppos); free(step); free(lg);
    decode_state_free(&st);
    if (len > 0) model_acts_free(&p);
    model_acts_free(&a);
    return refuse(c, m, "decode steps vs prefill", e, Bv, len);
}

int suite_validate_decode_upto(suite_ctx *c, model *m, int B, int len) { return suite_validate_decode(c, m, B, reduced_T(m, len)); }

double suite_step_at(model *m, decode_state *st, int len, int32_t *tok, float *lg) {
    if (decode_state_seek(st, len) != 0) return -1;
    double t0 = util_now();
    if (model_decode_step(m, st, tok, NULL, lg) != 0) return -1;
    const int V = m->cfg.vocab;
    for (int b = 0; b < st->B; b++) { /* greedy: the next step's tokens */
        const float *l = lg + (size_t)b * V;
        int best = 0;
        for (int v = 1; v < V; v++) if (l[v] > l[best]) best = v;
        tok[b] = best;
    }
    return util_now() - t0; /* the argmax is part of sampling */
}

int suite_preset_config(const char *size, model_family f, char *name, size_t n, model_config *cfg) {
    snprintf(name, n, "%s-%s", family_name(f), size); /* Appendix C sizes: FAMILY-SIZE */
    if (config_preset(name, cfg) == 0) return 0;
    snprintf(name, n, "%s-%s", size, family_name(f)); /* the small sizes: SIZE-FAMILY */
    return config_preset(name, cfg);
}

double suite_gemm_weights(const model *m) {
    double w = 0;
    for (int i = 0; i < m->ntensors; i++)
        if (m->tensors[i].gemm) w += (double)m->tensors[i].numel;
    return w;
}

double suite_attn_flops(const model *m, int t0, int t1) {
    const model_config *c = &m->cfg;
    double f = 0;
    int dh = config_head_dim(c);
    for (int i = 0; i < c->depth; i++) {
        if (c->pattern[i] == 'R') continue;
        double keys = 0;
        for (int t = t0; t < t1; t++) keys += c->pattern[i] == 'L' ? fmin(t + 1, c->window + 1) : t + 1;
        f += 4.0 * c->heads * dh * keys;
    }
    return f;
}

double suite_prefill_flops(const model *m, int B, int T) { return 2.0 * suite_gemm_weights(m) * B * T + suite_attn_flops(m, 0, T) * B; }

double suite_decode_limit_s(const model *m, int B, int len, double read_gbs, double gflops) {
    double bytes = model_weight_bytes(m) + (double)B * (double)config_state_bytes(&m->cfg, len + 1, NULL, NULL, NULL);
    double flops = (2.0 * suite_gemm_weights(m) + suite_attn_flops(m, len, len + 1)) * B;
    return fmax(bytes / (read_gbs * 1e9), flops / (gflops * 1e9));
}

void suite_store_limits(suite_ctx *c, double read_gbs, double gflops) {
    double zx = 0;
    suite_curve(c, 0, "roofline_limits", "GB/s", &zx, &read_gbs, 1);
    suite_curve(c, 0, "roofline_limits", "GFLOP/s", &zx, &gflops, 1);
}

const char *family_title(model_family f) {
    switch (f) {
    case FAMILY_MQA: return "MQA";
    case FAMILY_HAWK: return "Hawk";
    case FAMILY_GRIFFIN: return "Griffin";
    }
    return "?";
}

void suite_family_order(const suite_ctx *c, uint64_t salt, int order[3]) {
    rng_t r;
    rng_seed(&r, c->seed * 1000003ULL + salt + 99);
    for (int i = 0; i < 3; i++) order[i] = i;
    for (int i = 2; i > 0; i--) {
        int j = (int)rng_below(&r, (uint32_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
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

/* See suite.h. */
double suite_cache_bytes(void) {
    double total = 0;
    for (int i = 0; i < 8; i++) {
        char path[128], buf[64];
        int level = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        if (fscanf(f, "%d", &level) != 1) level = 0;
        fclose(f);
        if (level < 2) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        double size = 0;
        if ((f = fopen(path, "r"))) {
            char unit = 0;
            if (fscanf(f, "%lf%c", &size, &unit) >= 1) size *= unit == 'K' ? 1024.0 : unit == 'M' ? 1048576.0 : 1.0;
            fclose(f);
        }
        /* cpus sharing it: count the shared_cpu_list ranges ("0-1", "0,2") */
        int sharing = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
        if ((f = fopen(path, "r"))) {
            if (fgets(buf, sizeof buf, f)) {
                for (char *t = strtok(buf, ",\n"); t; t = strtok(NULL, ",\n")) {
                    int a, b;
                    if (sscanf(t, "%d-%d", &a, &b) == 2) sharing += b - a + 1;
                    else sharing++;
                }
            }
            fclose(f);
        }
        int ncpu = util_threads() > 0 ? (int)sysconf(_SC_NPROCESSORS_ONLN) : 1;
        total += size * (sharing > 0 ? (double)ncpu / sharing : 1);
    }
    return total;
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

void suite_parallel_jobs(suite_ctx *c, int n, suite_job_fn fn, void *arg) {
#ifdef _OPENMP
    int nt = c->threads < n ? c->threads : n;
    /* on a device the jobs take turns: one stream, and its models share it */
    if (nt >= 2 && suite_ranks(c) == 1 && (!c->be || c->be->host_memory)) {
        /* nested regions inside a job run on that job's thread alone */
        omp_set_max_active_levels(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int i = 0; i < n; i++) fn(c, i, arg);
        return;
    }
#endif
    for (int i = 0; i < n; i++) fn(c, i, arg);
}

int suite_job_may_print(void) {
#ifdef _OPENMP
    return omp_get_thread_num() == 0;
#else
    return 1;
#endif
}
