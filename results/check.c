/* check.c — see check.h. The statistics live in stats.c, the SQL in
 * store.c; this file decides which values are compared with which, and
 * why a metric is or is not judged. */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "busy.h"
#include "json.h"
#include "stats.h"
#include "util.h"

void check_opts_default(check_opts *o) {
    memset(o, 0, sizeof *o);
    o->alpha = 0.01;
    o->min_effect = 0.05;
    o->busy_max = BUSY_JUDGE_MAX;
    o->drift = CHECK_DEFAULT_DRIFT;
    o->det_rtol = 0.02;
    o->level = 0.95;
    o->min_reps = 5;
    o->min_runs = 3;
    o->window = 10;
    o->lookback = 200;
}

char *check_opts_json(const check_opts *o) {
    jbuf b = {0};
    jbuf_printf(&b, "{\"alpha\":%g,\"multiplicity\":\"holm\",\"min_effect\":%g,\"busy_max\":%g,\"drift\":%g,"
                    "\"det_rtol\":%g,\"level\":%g,\"min_reps\":%d,\"min_runs\":%d,\"window\":%d,\"lookback\":%d,"
                    "\"timed\":\"t-test on log run medians vs run-to-run spread\",\"counted\":\"two-proportion z-test\","
                    "\"deterministic\":\"relative tolerance\"}",
                o->alpha, o->min_effect, o->busy_max, o->drift, o->det_rtol, o->level, o->min_reps, o->min_runs,
                o->window, o->lookback);
    return b.p;
}

const char *check_verdict_name(check_verdict v) {
    switch (v) {
    case CHECK_SAME: return "same";
    case CHECK_IMPROVED: return "improved";
    case CHECK_REGRESSED: return "regressed";
    case CHECK_NOT_JUDGED: return "not judged";
    }
    return "?";
}

/* ---- the pure core --------------------------------------------------------- */

double check_se_logmedian(const double *x, int n) {
    if (!x || n < 2) return 0;
    double *l = malloc(sizeof(double) * (size_t)n);
    CHECK_ALLOC(l);
    int k = 0;
    for (int i = 0; i < n; i++) if (x[i] > 0 && isfinite(x[i])) l[k++] = log(x[i]);
    /* the median's standard error is ~1.2533 sigma / sqrt(n) for normal data;
     * sigma from the MAD (1.4826 x MAD), robust to a stray repetition */
    double se = k >= 2 ? 1.2533 * 1.4826 * stats_mad(l, k) / sqrt((double)k) : 0;
    free(l);
    return se;
}

static void fset(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#include <stdarg.h>
static void fset(char *dst, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

static void eval_timed(const check_obs *now, const check_obs *c, int nc, const check_obs *sp, int nsp,
                       const check_opts *o, check_finding *f) {
    double *lc = malloc(sizeof(double) * (size_t)(nc + nsp + 1));
    CHECK_ALLOC(lc);
    double se2 = 0;
    for (int i = 0; i < nc; i++) {
        lc[i] = log(c[i].median);
        double se = check_se_logmedian(c[i].samples, c[i].ns);
        se2 += se * se;
    }
    double center = stats_mean(lc, nc), se_c2 = se2 / nc;
    double se_now = check_se_logmedian(now->samples, now->ns);
    double d = log(now->median) - center, sd, df;
    if (nsp >= o->min_runs) {
        /* run-to-run spread measured from the spread runs' medians */
        double w2 = se_now * se_now;
        for (int i = 0; i < nsp; i++) {
            lc[i] = log(sp[i].median);
            double se = check_se_logmedian(sp[i].samples, sp[i].ns);
            w2 += se * se;
        }
        double sb = stats_sd(lc, nsp), sw = sqrt(w2 / (nsp + 1));
        /* floor: never assume runs agree better than one run's own median is known */
        double s1 = fmax(sb, sw);
        sd = s1 * sqrt(1.0 + 1.0 / nc);
        df = nsp - 1;
        if (sp == c)
            fset(f->reason, sizeof f->reason, "t-test on log run medians: %d baseline runs, %g df", nc, df);
        else
            fset(f->reason, sizeof f->reason, "t-test vs the named run; run-to-run spread from %d accepted runs, %g df",
                 nsp, df);
    } else {
        sd = sqrt(o->drift * o->drift * (1.0 + 1.0 / nc) + se_now * se_now + se_c2 / nc);
        df = INFINITY;
        fset(f->reason, sizeof f->reason,
             "z-test: %d baseline run%s, run-to-run drift assumed %.0f%% (fewer than %d runs measure it)", nc,
             nc == 1 ? "" : "s", 100 * o->drift, o->min_runs);
    }
    free(lc);
    if (!(sd > 0)) sd = 1e-12;
    f->df = df;
    f->p = 2 * stats_t_sf(fabs(d) / sd, df);
    if (f->p > 1) f->p = 1;
    double tq = stats_t_isf((1 - o->level) / 2, df);
    f->base = exp(center);
    f->ratio = exp(d);
    f->change = f->ratio - 1;
    f->lo = exp(d - tq * sd) - 1;
    f->hi = exp(d + tq * sd) - 1;
    f->threshold = o->min_effect;
    f->tested = 1;
}

void check_eval(const check_obs *now, const check_obs *center, int nc, const check_obs *spread, int nsp, int flags,
                const check_opts *o, check_finding *f) {
    f->flags = flags;
    f->now = now->median;
    f->reps = now->n;
    f->base_runs = nc;
    f->spread_runs = nsp;
    f->p = f->q = f->lo = f->hi = f->change = f->ratio = f->base = NAN;
    f->df = NAN;
    f->tested = 0;
    f->verdict = CHECK_SAME;
    if (nc <= 0) {
        f->verdict = CHECK_NOT_JUDGED;
        fset(f->reason, sizeof f->reason, "absent from the baseline");
        return;
    }
    const check_obs *last = &center[nc - 1]; /* newest eligible baseline run */
    int higher = (flags & STORE_HIGHER) != 0;
    if (now->trials >= 0 && last->trials >= 0) {
        f->kind = CHECK_KIND_COUNTED;
        f->base = last->median;
        f->ratio = f->now / f->base;
        if (now->trials == 0 || last->trials == 0) {
            f->verdict = CHECK_NOT_JUDGED;
            fset(f->reason, sizeof f->reason, "no items were scored (%lld and %lld trials)", last->trials, now->trials);
            return;
        }
        f->p = stats_two_prop_p(last->successes, last->trials, now->successes, now->trials);
        f->change = (double)now->successes / now->trials - (double)last->successes / last->trials;
        stats_newcombe(last->successes, last->trials, now->successes, now->trials, o->level, &f->lo, &f->hi);
        f->threshold = 0;
        f->tested = 1;
        fset(f->reason, sizeof f->reason, "two-proportion z-test: %lld/%lld now vs %lld/%lld (change in accuracy points)",
             now->successes, now->trials, last->successes, last->trials);
        return;
    }
    if (flags & STORE_DETERMINISTIC) {
        f->kind = CHECK_KIND_DETERMINISTIC;
        f->base = last->median;
        f->ratio = f->now / f->base;
        double rel = f->base != 0 ? (f->now - f->base) / fabs(f->base) : (f->now == 0 ? 0 : copysign(INFINITY, f->now));
        f->change = f->lo = f->hi = rel;
        f->threshold = o->det_rtol;
        double worse = higher ? -rel : rel;
        f->verdict = worse > o->det_rtol ? CHECK_REGRESSED : worse < -o->det_rtol ? CHECK_IMPROVED : CHECK_SAME;
        fset(f->reason, sizeof f->reason, "deterministic: relative tolerance %g%% against the newest baseline run",
             100 * o->det_rtol);
        return;
    }
    f->kind = CHECK_KIND_TIMED;
    eval_timed(now, center, nc, spread, nsp, o, f);
}

void check_finalize(check_finding *f, int n, const check_opts *o) {
    double *p = calloc((size_t)(n > 0 ? n : 1), sizeof(double)), *q = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
    CHECK_ALLOC(p);
    CHECK_ALLOC(q);
    for (int i = 0; i < n; i++) p[i] = f[i].tested && f[i].verdict != CHECK_NOT_JUDGED && f[i].primary < 0 ? f[i].p : NAN;
    stats_holm(p, n, q);
    for (int i = 0; i < n; i++) {
        if (isnan(p[i])) continue;
        f[i].q = q[i];
        int higher = (f[i].flags & STORE_HIGHER) != 0;
        int sig = q[i] <= o->alpha;
        if (f[i].kind == CHECK_KIND_COUNTED) {
            double worse = higher ? -f[i].change : f[i].change;
            f[i].verdict = sig && worse > 0 ? CHECK_REGRESSED : sig && worse < 0 ? CHECK_IMPROVED : CHECK_SAME;
            continue;
        }
        double w = higher ? 1 / f[i].ratio : f[i].ratio; /* > 1: worse */
        double lim = 1 + o->min_effect;
        f[i].verdict = sig && w > lim ? CHECK_REGRESSED : sig && w < 1 / lim ? CHECK_IMPROVED : CHECK_SAME;
        if (sig && f[i].verdict == CHECK_SAME) {
            size_t k = strlen(f[i].reason);
            fset(f[i].reason + k, sizeof f[i].reason - k, "; significant but under the %g%% minimum effect",
                 100 * o->min_effect);
        }
    }
    for (int i = 0; i < n; i++) { /* derived metrics follow their primary (which is never derived) */
        int j = f[i].primary;
        if (j < 0 || j >= n || f[i].verdict == CHECK_NOT_JUDGED) continue;
        f[i].verdict = f[j].verdict;
        f[i].q = f[j].q;
        f[i].p = f[j].p;
        fset(f[i].reason, sizeof f[i].reason, "derived from %s (the same repetitions): its verdict", f[j].metric);
    }
    free(p);
    free(q);
}

/* ---- words ------------------------------------------------------------------- */

void check_params_words(const char *params_json, char *out, size_t cap) {
    char err[64];
    out[0] = 0;
    json *v = params_json ? json_parse(params_json, err, sizeof err) : NULL;
    if (!v || v->type != JSON_OBJ) {
        snprintf(out, cap, "%s", params_json ? params_json : "");
        json_free(v);
        return;
    }
    size_t len = 0;
    for (int i = 0; i < v->n && len + 1 < cap; i++) {
        const json *x = v->items[i];
        len += (size_t)snprintf(out + len, cap - len, "%s%s=", len ? " " : "", v->keys[i]);
        if (len >= cap) break;
        if (x->type == JSON_NUM) len += (size_t)snprintf(out + len, cap - len, "%g", x->num);
        else if (x->type == JSON_STR) len += (size_t)snprintf(out + len, cap - len, "%s", x->str);
        else if (x->type == JSON_ARR)
            for (int k = 0; k < x->n && len < cap; k++) {
                const json *e = x->items[k];
                if (e->type == JSON_NUM) len += (size_t)snprintf(out + len, cap - len, "%s%g", k ? "," : "", e->num);
                else if (e->type == JSON_STR) len += (size_t)snprintf(out + len, cap - len, "%s%s", k ? "," : "", e->str);
            }
        else if (x->type == JSON_BOOL) len += (size_t)snprintf(out + len, cap - len, "%s", x->boolean ? "true" : "false");
    }
    if (len >= cap && cap > 4) memcpy(out + cap - 4, "...", 4);
    json_free(v);
}

/* ---- over the store ----------------------------------------------------------- */

static int is_flagged(const store_metric *m) {
    return !m->accepted && (!strcmp(m->last_verdict, "regressed") || !strcmp(m->last_verdict, "REGRESSION"));
}
static int is_busy(const store_metric *m, const check_opts *o) { return !isnan(m->busy) && m->busy > o->busy_max; }

static check_obs obs_of(const store_metric *m) {
    check_obs x = {m->median, m->samples, m->ns, m->ns ? m->ns : m->n, m->successes, m->trials};
    return x;
}

static int key_cmp(const store_metric *a, const store_metric *b) {
    int c = strcmp(a->case_key, b->case_key);
    return c ? c : strcmp(a->metric, b->metric);
}

/* Rows of `all` (sorted by case key, metric, run id) for m's case and metric:
 * [*lo, *hi). */
static void find_rows(const store_metric *all, int n, const store_metric *m, int *lo, int *hi) {
    int a = 0, b = n;
    while (a < b) { /* first row >= key */
        int mid = (a + b) / 2;
        if (key_cmp(&all[mid], m) < 0) a = mid + 1; else b = mid;
    }
    *lo = a;
    while (a < n && key_cmp(&all[a], m) == 0) a++;
    *hi = a;
}

/* Why a candidate result cannot be in a baseline (NULL: it can). */
static const char *ineligible(const store_metric *r, const check_opts *o) {
    int det = (r->flags & STORE_DETERMINISTIC) != 0;
    if (!isfinite(r->median) || (!det && !(r->median > 0))) return "non-finite";
    if (!det && is_busy(r, o)) return "busy";
    if (is_flagged(r)) return "flagged";
    return NULL;
}

/* The newest <= K eligible rows among all[lo..hi) into obs (oldest first);
 * counts what was excluded. */
typedef struct { int flagged, busy, bad, seen; } excl;
static int pick_eligible(const store_metric *all, int lo, int hi, int K, const check_opts *o, check_obs *obs, excl *ex) {
    int n = 0;
    memset(ex, 0, sizeof *ex);
    for (int i = hi - 1; i >= lo && n < K; i--) {
        ex->seen++;
        const char *why = ineligible(&all[i], o);
        if (!why) { obs[n++] = obs_of(&all[i]); continue; }
        if (!strcmp(why, "flagged")) ex->flagged++;
        else if (!strcmp(why, "busy")) ex->busy++;
        else ex->bad++;
    }
    for (int i = 0; i < n / 2; i++) { check_obs t = obs[i]; obs[i] = obs[n - 1 - i]; obs[n - 1 - i] = t; }
    return n;
}

static check_finding *add_finding(check_report *rep) {
    if (rep->nf == rep->cap) {
        rep->cap = rep->cap ? 2 * rep->cap : 64;
        rep->f = realloc(rep->f, sizeof *rep->f * (size_t)rep->cap);
        CHECK_ALLOC(rep->f);
    }
    check_finding *f = &rep->f[rep->nf++];
    memset(f, 0, sizeof *f);
    f->primary = -1;
    f->p = f->q = f->lo = f->hi = f->change = f->ratio = f->base = f->now = f->busy = f->df = NAN;
    f->threshold = NAN;
    return f;
}

static void copy_identity(check_finding *f, const store_metric *m) {
    f->run = m->run_id;
    f->case_id = m->case_id;
    snprintf(f->case_key, sizeof f->case_key, "%s", m->case_key);
    snprintf(f->suite, sizeof f->suite, "%s", m->suite);
    snprintf(f->name, sizeof f->name, "%s", m->name);
    snprintf(f->metric, sizeof f->metric, "%s", m->metric);
    snprintf(f->unit, sizeof f->unit, "%s", m->unit);
    check_params_words(m->params, f->params, sizeof f->params);
    f->flags = m->flags;
    f->now = m->median;
    f->busy = m->busy;
    f->reps = m->ns ? m->ns : m->n;
    f->kind = (m->flags & STORE_DETERMINISTIC) ? (m->trials >= 0 ? CHECK_KIND_COUNTED : CHECK_KIND_DETERMINISTIC)
                                               : CHECK_KIND_TIMED;
}

/* b's samples are an exact function of a's: b_i = c / a_i or b_i = c a_i for
 * every repetition (to 1e-4), e.g. Google Benchmark's rates from real_time. */
static int derived_from(const store_metric *b, const store_metric *a) {
    if (a->ns < 3 || a->ns != b->ns) return 0;
    double pmin = INFINITY, pmax = -INFINITY, rmin = INFINITY, rmax = -INFINITY;
    for (int i = 0; i < a->ns; i++) {
        double x = a->samples[i], y = b->samples[i];
        if (!(x > 0) || !(y > 0) || !isfinite(x) || !isfinite(y)) return 0;
        pmin = fmin(pmin, x * y); pmax = fmax(pmax, x * y);
        rmin = fmin(rmin, y / x); rmax = fmax(rmax, y / x);
    }
    /* a constant metric is no evidence of derivation */
    double amin = INFINITY, amax = -INFINITY;
    for (int i = 0; i < a->ns; i++) { amin = fmin(amin, a->samples[i]); amax = fmax(amax, a->samples[i]); }
    if (amax <= amin * (1 + 1e-9)) return 0;
    /* 1e-4: Google Benchmark prints its rates with limited digits; repetitions
     * of a real measurement differ by far more */
    return pmax <= pmin * (1 + 1e-4) || rmax <= rmin * (1 + 1e-4);
}

/* Rank for choosing the primary of a group of identical measurements. */
static int primary_rank(const store_metric *m) {
    if (!strcmp(m->metric, "real_time")) return 0;
    if (!(m->flags & STORE_HIGHER)) return 1;
    return 2;
}

/* For every timed metric of now[] (sorted by case key, metric) that is
 * derived from another metric of its case, prim[i] = index of that metric. */
static void find_derived(const store_metric *now, int n, int *prim) {
    for (int i = 0; i < n; i++) prim[i] = -1;
    for (int a = 0; a < n;) {
        int b = a;
        while (b < n && !strcmp(now[b].case_key, now[a].case_key)) b++;
        for (int i = a; i < b; i++) {
            if (now[i].flags & STORE_DETERMINISTIC) continue;
            int best = -1;
            for (int j = a; j < b; j++) {
                if (j == i || (now[j].flags & STORE_DETERMINISTIC)) continue;
                int rj = primary_rank(&now[j]), ri = primary_rank(&now[i]);
                /* only a better-ranked metric (or an equal rank earlier by name) can be the primary */
                if (rj > ri || (rj == ri && strcmp(now[j].metric, now[i].metric) >= 0)) continue;
                if (!derived_from(&now[i], &now[j])) continue;
                if (best < 0 || primary_rank(&now[j]) < primary_rank(&now[best])) best = j;
            }
            prim[i] = best;
        }
        a = b;
    }
    for (int i = 0; i < n; i++) /* follow chains to a metric that is not itself derived */
        for (int k = 0; k < n && prim[i] >= 0 && prim[prim[i]] >= 0; k++) prim[i] = prim[prim[i]];
}

/* The baseline of one run: where its values come from. */
typedef struct {
    int rolling;               /* last:K */
    store_id named;            /* named baseline run (or compare's run a) */
    int use_history;           /* measure the spread from the rolling history */
    store_metric *named_m;     /* the named run's results */
    int nnamed;
    store_metric *hist;        /* rolling history: results of the candidate runs */
    int nhist, ncand;
} baseline_src;

static void src_free(baseline_src *b) {
    store_metrics_free(b->named_m, b->nnamed);
    store_metrics_free(b->hist, b->nhist);
    memset(b, 0, sizeof *b);
}

/* Load the candidate runs (same suite, same machine unless allow_cross)
 * before `run` and their results. */
static int load_history(store *s, const store_run_info *ri, const check_opts *o, baseline_src *b) {
    store_id *cand = malloc(sizeof(store_id) * (size_t)(o->lookback > 0 ? o->lookback : 1));
    CHECK_ALLOC(cand);
    int nc = 0, rc = store_recent_runs(s, ri->suite, o->allow_cross ? NULL : ri->fingerprint, ri->id, o->lookback, cand, &nc);
    if (rc == 0 && nc > 0) rc = store_load_metrics(s, cand, nc, &b->hist, &b->nhist);
    b->ncand = nc;
    free(cand);
    return rc;
}

/* Judge every result of run `run` into rep (findings appended; verdicts of
 * tested metrics are set later by check_finalize). -1: store error. */
static int gather_run(store *s, store_id run, const char *baseline, const check_opts *o, store_id compare_with,
                      check_report *rep) {
    rep->runs = realloc(rep->runs, sizeof *rep->runs * (size_t)(rep->nruns + 1));
    CHECK_ALLOC(rep->runs);
    check_run *cr = &rep->runs[rep->nruns++];
    memset(cr, 0, sizeof *cr);
    cr->run = run;
    cr->first = rep->nf;
    store_run_info ri, bi;
    if (store_run_get(s, run, &ri) != 0) return -1;
    snprintf(cr->suite, sizeof cr->suite, "%s", ri.suite);
    snprintf(cr->uuid, sizeof cr->uuid, "%s", ri.uuid);
    snprintf(cr->commit, sizeof cr->commit, "%s", ri.commit);
    snprintf(cr->started, sizeof cr->started, "%s", ri.started);
    cr->dirty = ri.dirty;
    baseline_src src;
    memset(&src, 0, sizeof src);
    int K = o->window > 0 ? o->window : 10;
    const char *no_base = NULL; /* every metric not judged for this reason */
    char nb[300];
    if (compare_with > 0) {
        src.named = compare_with;
        if (store_run_get(s, compare_with, &bi) != 0) return -1;
        snprintf(cr->baseline, sizeof cr->baseline, "run %lld (%s, commit %s)", bi.id, bi.suite, bi.commit);
    } else if (!strncmp(baseline, "last:", 5)) {
        src.rolling = 1;
        src.use_history = 1;
        char *end;
        long k = strtol(baseline + 5, &end, 10);
        if (*end || k < 1 || k > 1000) {
            cr->setup = 1;
            fset(cr->error, sizeof cr->error, "--baseline last:K needs an integer 1 <= K <= 1000 (got '%s')", baseline);
            goto done;
        }
        K = (int)k;
        if (load_history(s, &ri, o, &src) != 0) return -1;
        if (src.ncand == 0) {
            store_id other[1];
            int nother = 0;
            if (!o->allow_cross && store_recent_runs(s, ri.suite, NULL, run, 1, other, &nother) != 0) return -1;
            if (nother) {
                cr->setup = 1;
                fset(cr->error, sizeof cr->error,
                     "fingerprint mismatch: no earlier ok '%s' run on machine %s, but there are some on other machines "
                     "(--allow-cross-machine compares across them)", ri.suite, ri.fingerprint);
                goto done;
            }
            fset(nb, sizeof nb, "no baseline yet: no earlier ok '%s' run on machine %s", ri.suite, ri.fingerprint);
            no_base = nb;
        }
        fset(cr->baseline, sizeof cr->baseline, "last:%d (the %d newest eligible results of each metric among %d earlier "
             "ok '%s' runs on machine %s)", K, K, src.ncand, ri.suite, o->allow_cross ? "(any)" : ri.fingerprint);
    } else {
        int r = store_baseline_get(s, baseline, &src.named);
        if (r < 0) return -1;
        if (r > 0) {
            cr->setup = 1;
            fset(cr->error, sizeof cr->error, "no baseline named '%s' (set one with `griffin baseline set %s RUN`)",
                 baseline, baseline);
            goto done;
        }
        if (store_run_get(s, src.named, &bi) != 0) return -1;
        if (strcmp(bi.fingerprint, ri.fingerprint) && !o->allow_cross) {
            cr->setup = 1;
            fset(cr->error, sizeof cr->error, "fingerprint mismatch: baseline '%s' (run %lld) is machine %s, run %lld is "
                 "machine %s (--allow-cross-machine to compare anyway)", baseline, bi.id, bi.fingerprint, run, ri.fingerprint);
            goto done;
        }
        src.use_history = 1;
        if (load_history(s, &ri, o, &src) != 0) return -1;
        fset(cr->baseline, sizeof cr->baseline, "baseline '%s' = run %lld (commit %s); run-to-run spread from up to %d "
             "accepted earlier runs", baseline, bi.id, bi.commit, K);
    }
    if (src.named > 0 && store_load_metrics(s, &src.named, 1, &src.named_m, &src.nnamed) != 0) { src_free(&src); return -1; }
    {
        store_metric *now = NULL;
        int nn = 0;
        if (store_load_metrics(s, &run, 1, &now, &nn) != 0) { src_free(&src); return -1; }
        int *prim = malloc(sizeof(int) * (size_t)(nn > 0 ? nn : 1));
        check_obs *cobs = malloc(sizeof(check_obs) * (size_t)(K + 1)), *sobs = malloc(sizeof(check_obs) * (size_t)(K + 1));
        CHECK_ALLOC(prim); CHECK_ALLOC(cobs); CHECK_ALLOC(sobs);
        find_derived(now, nn, prim);
        int base_index = rep->nf;
        for (int i = 0; i < nn; i++) {
            const store_metric *m = &now[i];
            check_finding *f = add_finding(rep);
            copy_identity(f, m);
            int det = (m->flags & STORE_DETERMINISTIC) != 0;
            if (prim[i] >= 0) f->primary = base_index + prim[i];
            if (no_base) { f->verdict = CHECK_NOT_JUDGED; fset(f->reason, sizeof f->reason, "%s", no_base); continue; }
            if (!isfinite(m->median)) { f->verdict = CHECK_NOT_JUDGED; fset(f->reason, sizeof f->reason, "non-finite value"); continue; }
            if (!det && is_busy(m, o)) {
                f->verdict = CHECK_NOT_JUDGED;
                fset(f->reason, sizeof f->reason, "machine busy (%.0f%% of CPU taken by others; limit %.0f%%)", 100 * m->busy,
                     100 * o->busy_max);
                continue;
            }
            if (!det && !(m->median > 0)) {
                f->verdict = CHECK_NOT_JUDGED;
                fset(f->reason, sizeof f->reason, "non-positive value (a timing or rate must be > 0)");
                continue;
            }
            if (f->primary >= 0) continue; /* takes its primary's verdict in check_finalize */
            if (!det && f->reps < o->min_reps) {
                f->verdict = CHECK_NOT_JUDGED;
                fset(f->reason, sizeof f->reason, "too few repetitions (n=%d, need %d)", f->reps, o->min_reps);
                continue;
            }
            /* the rolling history of this metric */
            int lo = 0, hi = 0, ns = 0;
            excl ex = {0, 0, 0, 0};
            if (src.use_history && src.hist) {
                find_rows(src.hist, src.nhist, m, &lo, &hi);
                ns = pick_eligible(src.hist, lo, hi, K, o, sobs, &ex);
            }
            int ncb = 0;
            const check_obs *center = sobs, *spread = sobs;
            if (src.named > 0) {
                int a, b;
                find_rows(src.named_m, src.nnamed, m, &a, &b);
                if (a == b) {
                    f->verdict = CHECK_NOT_JUDGED;
                    fset(f->reason, sizeof f->reason, "absent from the baseline (run %lld has no such result)", src.named);
                    continue;
                }
                const char *why = ineligible(&src.named_m[a], o);
                if (why && strcmp(why, "flagged")) { /* a named run is the user's choice: flagged or not, it counts */
                    f->verdict = CHECK_NOT_JUDGED;
                    if (!strcmp(why, "busy"))
                        fset(f->reason, sizeof f->reason, "the baseline value was measured on a busy machine (%.0f%% of CPU "
                             "taken by others)", 100 * src.named_m[a].busy);
                    else fset(f->reason, sizeof f->reason, "the baseline value is not finite or not positive");
                    continue;
                }
                cobs[0] = obs_of(&src.named_m[a]);
                center = cobs;
                ncb = 1;
                if (compare_with > 0) ns = 0; /* compare: two runs and nothing else */
            } else {
                ncb = ns;
                if (hi == lo) {
                    f->verdict = CHECK_NOT_JUDGED;
                    fset(f->reason, sizeof f->reason, "new metric (none of the %d earlier runs on this machine has it)", src.ncand);
                    continue;
                }
                if (ns == 0) {
                    f->verdict = CHECK_NOT_JUDGED;
                    fset(f->reason, sizeof f->reason, "absent from the baseline: its %d earlier result%s excluded (%d flagged "
                         "and not accepted, %d busy, %d non-finite)", ex.seen, ex.seen == 1 ? " was" : "s were", ex.flagged,
                         ex.busy, ex.bad);
                    continue;
                }
            }
            check_obs x = obs_of(m);
            check_eval(&x, center, ncb, spread, ns, m->flags, o, f);
            f->busy = m->busy;
        }
        cr->count = rep->nf - cr->first;
        free(prim); free(cobs); free(sobs);
        store_metrics_free(now, nn);
    }
done:
    src_free(&src);
    if (!cr->setup) cr->count = rep->nf - cr->first;
    return 0;
}

static void tally(check_report *rep, int from_run) {
    for (int r = from_run; r < rep->nruns; r++) {
        check_run *cr = &rep->runs[r];
        int judged = 0;
        cr->n_regressed = 0;
        for (int i = cr->first; i < cr->first + cr->count; i++) {
            check_finding *f = &rep->f[i];
            if (f->primary >= 0 && f->verdict != CHECK_NOT_JUDGED) { rep->n_derived++; continue; }
            switch (f->verdict) {
            case CHECK_REGRESSED: rep->n_regressed++; cr->n_regressed++; judged++; break;
            case CHECK_IMPROVED: rep->n_improved++; judged++; break;
            case CHECK_SAME: rep->n_same++; judged++; break;
            case CHECK_NOT_JUDGED: rep->n_not_judged++; break;
            }
            if (f->q == f->q) rep->n_tested++;
        }
        if (cr->setup) rep->n_setup++;
        cr->nothing_judged = !cr->setup && judged == 0;
    }
}

static int store_run_findings(store *s, check_run *cr, const check_finding *f, const char *rule, int rolling) {
    if (store_check_begin(s, cr->run, cr->setup ? cr->error : cr->baseline, rolling, rule, &cr->check_id) != 0) return -1;
    for (int i = cr->first; i < cr->first + cr->count; i++) {
        store_finding sf = {f[i].case_id, f[i].metric, f[i].base, f[i].now, f[i].ratio, f[i].threshold, f[i].p, f[i].q,
                            f[i].lo, f[i].hi, check_verdict_name(f[i].verdict), f[i].reason};
        if (store_check_finding(s, cr->check_id, &sf) != 0) return -1;
    }
    int code = cr->n_regressed ? 1 : (cr->setup || cr->nothing_judged) ? 2 : 0;
    return store_check_end(s, cr->check_id, code, cr->n_regressed);
}

int check_runs(store *s, const store_id *runs, int nruns, const char *baseline, const check_opts *o, int record,
               check_report *rep) {
    memset(rep, 0, sizeof *rep);
    char *rule = check_opts_json(o);
    int rolling = !strncmp(baseline, "last:", 5), rc = 0;
    for (int i = 0; i < nruns && rc == 0;) {
        /* one family: consecutive runs of distinct suites */
        int first_run = rep->nruns, first_f = rep->nf, j = i;
        for (; j < nruns; j++) {
            store_run_info ri;
            if (store_run_get(s, runs[j], &ri) != 0) { rc = -1; break; }
            int repeat = 0;
            for (int k = first_run; k < rep->nruns; k++) if (!strcmp(rep->runs[k].suite, ri.suite)) repeat = 1;
            if (repeat) break;
            if (gather_run(s, runs[j], baseline, o, 0, rep) != 0) { rc = -1; break; }
        }
        if (rc) break;
        /* check_finalize reads primary as an index into the array it gets */
        for (int k = first_f; k < rep->nf; k++) if (rep->f[k].primary >= 0) rep->f[k].primary -= first_f;
        check_finalize(rep->f + first_f, rep->nf - first_f, o);
        for (int k = first_f; k < rep->nf; k++) if (rep->f[k].primary >= 0) rep->f[k].primary += first_f;
        tally(rep, first_run);
        if (record)
            for (int k = first_run; k < rep->nruns && rc == 0; k++)
                if (store_run_findings(s, &rep->runs[k], rep->f, rule, rolling) != 0) rc = -1;
        i = j;
    }
    free(rule);
    return rc;
}

int check_compare(store *s, store_id a, store_id b, const check_opts *o, check_report *rep) {
    memset(rep, 0, sizeof *rep);
    if (gather_run(s, b, "", o, a, rep) != 0) return -1;
    check_finalize(rep->f, rep->nf, o);
    tally(rep, 0);
    return 0;
}

void check_report_free(check_report *rep) {
    free(rep->runs);
    free(rep->f);
    memset(rep, 0, sizeof *rep);
}

/* ---- history ------------------------------------------------------------------- */

void check_history_free(check_history *h) {
    for (int i = 0; i < h->ns; i++) free(h->s[i].pt);
    free(h->s);
    free(h->runs);
    memset(h, 0, sizeof *h);
}

/* The band of a clean run judged against base (the metric's rolling
 * baseline before run index t): check_eval of a run at the baseline level,
 * whose interval is then the range a clean run falls in. */
static void history_band(const check_obs *base, int nb, int flags, const check_opts *o, check_hpoint *pt) {
    pt->band_mid = pt->band_lo = pt->band_hi = NAN;
    if (nb <= 0) return;
    check_finding f;
    memset(&f, 0, sizeof f);
    if (flags & STORE_DETERMINISTIC) {
        double b = base[nb - 1].median;
        pt->band_mid = b;
        pt->band_lo = b - o->det_rtol * fabs(b);
        pt->band_hi = b + o->det_rtol * fabs(b);
        return;
    }
    double lsum = 0;
    for (int i = 0; i < nb; i++) lsum += log(base[i].median);
    check_obs mid = {exp(lsum / nb), NULL, 0, o->min_reps, -1, -1};
    check_eval(&mid, base, nb, base, nb, flags, o, &f);
    if (f.kind != CHECK_KIND_TIMED || isnan(f.lo)) return;
    pt->band_mid = f.base;
    pt->band_lo = f.base * (1 + f.lo) / f.ratio;
    pt->band_hi = f.base * (1 + f.hi) / f.ratio;
}

int check_history_load(store *s, store_id newest, int nruns, const char *metric_filter, const check_opts *o,
                       check_history *h) {
    memset(h, 0, sizeof *h);
    store_run_info ri;
    if (store_run_get(s, newest, &ri) != 0) return -1;
    snprintf(h->suite, sizeof h->suite, "%s", ri.suite);
    snprintf(h->fingerprint, sizeof h->fingerprint, "%s", ri.fingerprint);
    int K = o->window > 0 ? o->window : 10, want = nruns + K + 1, n = 0;
    store_id *ids = malloc(sizeof(store_id) * (size_t)want);
    CHECK_ALLOC(ids);
    if (store_recent_runs(s, ri.suite, ri.fingerprint, newest + 1, want, ids, &n) != 0) { free(ids); return -1; }
    for (int i = 0; i < n / 2; i++) { store_id t = ids[i]; ids[i] = ids[n - 1 - i]; ids[n - 1 - i] = t; } /* oldest first */
    int first_shown = n > nruns ? n - nruns : 0;
    h->nruns = n - first_shown;
    h->runs = malloc(sizeof(store_id) * (size_t)(h->nruns + 1));
    CHECK_ALLOC(h->runs);
    memcpy(h->runs, ids + first_shown, sizeof(store_id) * (size_t)h->nruns);
    store_metric *all = NULL, *now = NULL;
    int na = 0, nn = 0;
    if (store_load_metrics(s, ids, n, &all, &na) != 0 || store_load_metrics(s, &newest, 1, &now, &nn) != 0) {
        store_metrics_free(all, na);
        free(ids);
        return -1;
    }
    int *prim = malloc(sizeof(int) * (size_t)(nn + 1));
    CHECK_ALLOC(prim);
    find_derived(now, nn, prim);
    h->s = calloc((size_t)(nn + 1), sizeof *h->s);
    CHECK_ALLOC(h->s);
    check_obs *elig = malloc(sizeof(check_obs) * (size_t)(n + 1));
    double *lv = malloc(sizeof(double) * (size_t)(n + 1));
    int *at = malloc(sizeof(int) * (size_t)(n + 1));
    CHECK_ALLOC(elig); CHECK_ALLOC(lv); CHECK_ALLOC(at);
    /* run metadata for the points */
    store_run_info *meta = malloc(sizeof *meta * (size_t)(n + 1));
    CHECK_ALLOC(meta);
    for (int i = 0; i < n; i++)
        if (store_run_get(s, ids[i], &meta[i]) != 0) { n = -1; break; }
    for (int i = 0; n >= 0 && i < nn; i++) {
        const store_metric *m = &now[i];
        if (metric_filter && *metric_filter && strcmp(m->metric, metric_filter)) continue;
        check_series *se = &h->s[h->ns++];
        snprintf(se->case_key, sizeof se->case_key, "%s", m->case_key);
        snprintf(se->name, sizeof se->name, "%s", m->name);
        snprintf(se->metric, sizeof se->metric, "%s", m->metric);
        snprintf(se->unit, sizeof se->unit, "%s", m->unit);
        check_params_words(m->params, se->params, sizeof se->params);
        se->flags = m->flags;
        se->derived = prim[i] >= 0;
        se->npt = h->nruns;
        se->pt = calloc((size_t)(se->npt + 1), sizeof *se->pt);
        CHECK_ALLOC(se->pt);
        int lo, hi;
        find_rows(all, na, m, &lo, &hi);
        int ne = 0, nl = 0, r = lo;
        for (int t = 0; t < n; t++) {
            const store_metric *row = NULL;
            while (r < hi && all[r].run_id < ids[t]) r++;
            if (r < hi && all[r].run_id == ids[t]) row = &all[r];
            if (t >= first_shown) {
                check_hpoint *p = &se->pt[t - first_shown];
                p->run = ids[t];
                snprintf(p->commit, sizeof p->commit, "%.7s", meta[t].commit);
                snprintf(p->date, sizeof p->date, "%.5s", meta[t].started + (strlen(meta[t].started) >= 10 ? 5 : 0));
                p->value = row ? row->median : NAN;
                p->busy = row ? row->busy : NAN;
                p->is_busy = row && !(m->flags & STORE_DETERMINISTIC) && is_busy(row, o);
                p->flagged = row && (!strcmp(row->last_verdict, "regressed") || !strcmp(row->last_verdict, "REGRESSION"));
                p->accepted = row && row->accepted;
                history_band(ne > K ? elig + ne - K : elig, ne > K ? K : ne, m->flags, o, p);
                /* every measurement (flagged ones too; not busy or non-finite ones) enters the change-point search */
                if (row && !p->is_busy && isfinite(row->median) && row->median > 0) {
                    lv[nl] = (m->flags & STORE_DETERMINISTIC) ? row->median : log(row->median);
                    at[nl++] = t - first_shown;
                }
            }
            if (row && !ineligible(row, o)) elig[ne++] = obs_of(row);
        }
        int cps[16];
        int nc = stats_edivisive(lv, nl, 3, 0.05, 199, 20240229ULL, cps, 16);
        for (int k = 0; k < nc; k++) {
            int b0 = k > 0 ? cps[k - 1] : 0, b1 = cps[k], b2 = k + 1 < nc ? cps[k + 1] : nl;
            double before = stats_mean(lv + b0, b1 - b0), after = stats_mean(lv + b1, b2 - b1);
            se->cp[se->ncp] = at[cps[k]];
            se->cp_shift[se->ncp++] = (m->flags & STORE_DETERMINISTIC) ? (before != 0 ? after / before - 1 : NAN)
                                                                       : exp(after - before) - 1;
        }
    }
    free(meta); free(elig); free(lv); free(at); free(prim); free(ids);
    store_metrics_free(all, na);
    store_metrics_free(now, nn);
    if (n < 0) { check_history_free(h); return -1; }
    return 0;
}
