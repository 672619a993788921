/* cmd_results.c — the `griffin` subcommands over the results store:
 *
 *   griffin results list|show RUN|export RUN --csv|--json|--curves|id [RUN]
 *   griffin import-gbench FILE.json          Google Benchmark JSON -> a run
 *   griffin check [--baseline NAME|last:K] [--run RUN|--since RUN]
 *   griffin compare RUN_A RUN_B
 *   griffin baseline set NAME RUN | get NAME
 *   griffin plot FIGURE|all [--run RUN] [--out plots/out] [--term png,svg|dumb]
 *
 * Every command takes --db PATH (else $GRIFFIN_DB, else results/griffin.sqlite)
 * and --help. Exit codes: 0 ok, 1 failure (check: a regression), 2 usage or
 * setup error. Regression rule (experiments.md §6): direction-adjusted median
 * ratio beyond max(5%, 3 x 1.4826 x MAD/median of the baseline) AND a
 * two-sided Mann-Whitney p < 0.01; deterministic metrics use an absolute
 * tolerance instead.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "flags.h"
#include "json.h"
#include "machine.h"
#include "stats.h"
#include "store.h"
#include "util.h"

#ifndef HAVE_SQLITE
/* Built without SQLite: every results command says so. */
static int no_sqlite(int argc, char **argv) {
    (void)argc;
    fprintf(stderr, "griffin %s: built without SQLite: apt-get install libsqlite3-dev, then rebuild\n", argv[0]);
    return 2;
}
int cmd_results(int argc, char **argv) { return no_sqlite(argc, argv); }
int cmd_import_gbench(int argc, char **argv) { return no_sqlite(argc, argv); }
int cmd_check(int argc, char **argv) { return no_sqlite(argc, argv); }
int cmd_compare(int argc, char **argv) { return no_sqlite(argc, argv); }
int cmd_baseline(int argc, char **argv) { return no_sqlite(argc, argv); }
int cmd_plot(int argc, char **argv) { return no_sqlite(argc, argv); }
#else

/* Print the last store error; returns code (the exit status to give). */
static int fail_msg(int code) {
    fprintf(stderr, "error: %s\n", util_last_error());
    return code;
}

static int open_db(store **s, const char *db) { return store_open(s, db) != 0 ? fail_msg(2) : 0; }

static int resolve(store *s, const char *spec, store_id *run) {
    return store_run_resolve(s, spec, run) != 0 ? fail_msg(2) : 0;
}

/* Flags every command shares, and those of check and compare. */
#define DB_FLAG(var) {"db", FLAG_STR, &(var), NULL, "database (default $GRIFFIN_DB or " STORE_DEFAULT_PATH ")", 0}
#define CMP_FLAGS(o, det_tol_help)                                                                  \
    {"alpha", FLAG_FLOAT, &(o).alpha, "0.01", "Mann-Whitney two-sided significance level", 0},      \
    {"min-effect", FLAG_FLOAT, &(o).min_effect, "0.05", "smallest relative change that counts", 0}, \
    {"det-tol", FLAG_FLOAT, &(o).det_tol, "1e-4", det_tol_help, 0}

/* ---- griffin results ------------------------------------------------------ */

/* Export to a file (atomically: a full disk leaves the previous file) or to
 * stdout (a failed write is reported, not lost silently). 0 or -1. */
static int export_to(store *s, store_id run, int fmt, const char *path) {
    if (!path) return store_export_run(s, stdout, run, fmt) != 0 ? -1 : util_stream_check(stdout, "stdout");
    util_afile a;
    if (util_atomic_open(&a, path) != 0) return -1;
    if (store_export_run(s, a.f, run, fmt) != 0) { util_atomic_abort(&a); return -1; }
    return util_atomic_commit(&a);
}

int cmd_results(int argc, char **argv) {
    const char *db = NULL, *suite = NULL, *outp = NULL;
    int csv = 0, js = 0, curves = 0, limit = 30;
    flag_def defs[] = {
        DB_FLAG(db),
        {"o", FLAG_STR, &outp, NULL, "export: write this file (replaced atomically) instead of stdout", 0},
        {"csv", FLAG_BOOL, &csv, "0", "export: results as CSV (one row per case and metric)", 0},
        {"json", FLAG_BOOL, &js, "0", "export: everything as JSON (results, raw samples, curves, claims)", 0},
        {"curves", FLAG_BOOL, &curves, "0", "export: curves as CSV (name, series, x, y)", 0},
        {"limit", FLAG_INT, &limit, "30", "list: newest N runs (0 = all)", 0},
        {"suite", FLAG_STR, &suite, NULL, "list: only this suite", 0},
        {NULL}};
    char *pos[4];
    int npos = 0;
    const char *usage = "griffin results list | show RUN | export RUN --csv|--json|--curves | id [RUN]";
    int rc = flags_parse(defs, argc, argv, pos, 4, &npos, usage,
                         "Inspect the results database. RUN is an id, a uuid prefix or 'latest'.");
    if (rc >= 0) return rc;
    const char *sub = npos > 0 ? pos[0] : "list";
    store *s;
    if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "export") && strcmp(sub, "id")) {
        fprintf(stderr, "error: unknown 'results %s'\nusage: %s\n", sub, usage);
        return 2;
    }
    if ((rc = open_db(&s, db))) return rc;
    store_id run = 0;
    int ret = 0;
    if (!strcmp(sub, "list")) {
        if (store_list_runs(s, stdout, limit, suite) != 0) ret = fail_msg(1);
    } else if (!strcmp(sub, "id")) {
        const char *spec = npos > 1 ? pos[1] : "latest";
        if (!strcmp(spec, "latest")) {
            if (store_last_run_id(s, &run) != 0) ret = fail_msg(1);
            else printf("%lld\n", run);
        } else if ((ret = resolve(s, spec, &run)) == 0) printf("%lld\n", run);
    } else {
        const char *spec = npos > 1 ? pos[1] : "latest";
        if ((ret = resolve(s, spec, &run)) == 0) {
            int r;
            if (!strcmp(sub, "show")) r = store_show_run(s, stdout, run);
            else {
                if (csv + js + curves != 1) {
                    fprintf(stderr, "error: export needs exactly one of --csv, --json, --curves\n");
                    store_close(s);
                    return 2;
                }
                r = export_to(s, run, js ? 1 : curves ? 2 : 0, outp);
            }
            if (r != 0) ret = fail_msg(1);
        }
    }
    store_close(s);
    return ret;
}

/* ---- griffin baseline ------------------------------------------------------ */

int cmd_baseline(int argc, char **argv) {
    const char *db = NULL;
    flag_def defs[] = {DB_FLAG(db), {NULL}};
    char *pos[4];
    int npos = 0;
    const char *usage = "griffin baseline set NAME RUN | get NAME";
    int rc = flags_parse(defs, argc, argv, pos, 4, &npos, usage,
                         "Name a run as a baseline for `griffin check --baseline NAME`.");
    if (rc >= 0) return rc;
    if (npos < 2 || (!strcmp(pos[0], "set") && npos < 3) || (strcmp(pos[0], "set") && strcmp(pos[0], "get"))) {
        fprintf(stderr, "usage: %s\n", usage);
        return 2;
    }
    if (!strncmp(pos[1], "last:", 5)) {
        fprintf(stderr, "error: baseline names may not start with 'last:' (that form means the last K runs)\n");
        return 2;
    }
    store *s;
    if ((rc = open_db(&s, db))) return rc;
    store_id run;
    int ret = 0;
    if (!strcmp(pos[0], "set")) {
        if ((ret = resolve(s, pos[2], &run)) == 0) {
            if (store_baseline_set(s, pos[1], run) != 0) ret = fail_msg(1);
            else printf("baseline '%s' = run %lld\n", pos[1], run);
        }
    } else {
        int r = store_baseline_get(s, pos[1], &run);
        if (r == 0) printf("%lld\n", run);
        else { fprintf(stderr, "error: %s\n", r > 0 ? "no such baseline" : util_last_error()); ret = r > 0 ? 2 : 1; }
    }
    store_close(s);
    return ret;
}

/* ---- comparison table (check and compare) ---------------------------------- */

typedef struct {
    double alpha, min_effect, det_tol;
} cmp_opts;

typedef struct {
    const store_metric *m;     /* new side (or the baseline when missing) */
    double base, now, ratio, effect, thr, p;
    int nb, nn;
    const char *verdict;
} cmp_row;

static int row_cmp(const void *a, const void *b) {
    const cmp_row *x = a, *y = b;
    double ex = isnan(x->effect) ? -1e300 : x->effect, ey = isnan(y->effect) ? -1e300 : y->effect;
    return (ex < ey) - (ex > ey); /* largest (worst) effect first */
}

static const store_metric *find_metric(const store_metric *ms, int n, const store_metric *key) {
    for (int i = 0; i < n; i++)
        if (!strcmp(ms[i].case_key, key->case_key) && !strcmp(ms[i].metric, key->metric)) return &ms[i];
    return NULL;
}

/* Compare every metric of `now` with `base`. Fills counts; prints the table;
 * stores findings when check > 0. Returns -1 on a store error. */
static int compare_sets(store *s, const store_metric *base, int nbase, const store_metric *now, int nnow,
                        const cmp_opts *o, store_id check, int *n_reg, int *n_insufficient, int *n_compared) {
    cmp_row *rows = calloc((size_t)(nnow + nbase + 1), sizeof *rows);
    CHECK_ALLOC(rows);
    int nr = 0;
    *n_reg = *n_insufficient = *n_compared = 0;
    for (int i = 0; i < nnow; i++) {
        const store_metric *m = &now[i];
        const store_metric *b = find_metric(base, nbase, m);
        cmp_row *r = &rows[nr++];
        r->m = m;
        r->now = m->median;
        r->nn = m->ns ? m->ns : m->n;
        r->base = r->ratio = r->effect = r->thr = r->p = NAN;
        if (!b) { r->verdict = "new"; continue; }
        r->base = b->median;
        r->nb = b->ns ? b->ns : b->n;
        int higher = (m->flags & STORE_HIGHER) != 0;
        r->ratio = m->median / b->median;
        if ((m->flags & STORE_DETERMINISTIC) || (b->flags & STORE_DETERMINISTIC)) {
            double worse = higher ? b->median - m->median : m->median - b->median;
            r->effect = b->median != 0 ? worse / fabs(b->median) : worse;
            r->thr = o->det_tol;
            r->verdict = worse > o->det_tol ? "REGRESSION" : worse < -o->det_tol ? "improved" : "same";
            if (worse > o->det_tol) (*n_reg)++;
            (*n_compared)++;
            continue;
        }
        double adj = higher ? b->median / m->median : m->median / b->median; /* > 1: worse */
        r->effect = adj - 1.0;
        r->thr = fmax(o->min_effect, 3.0 * 1.4826 * b->mad / fabs(b->median));
        if (isnan(r->thr)) r->thr = o->min_effect;
        if (m->ns == 0 || b->ns == 0 || stats_mannwhitney_floor(m->ns, b->ns) >= o->alpha) {
            r->verdict = "too few reps";
            (*n_insufficient)++;
            continue;
        }
        r->p = stats_mannwhitney_p(m->samples, m->ns, b->samples, b->ns);
        (*n_compared)++;
        if (adj - 1.0 > r->thr && r->p < o->alpha) { r->verdict = "REGRESSION"; (*n_reg)++; }
        else if (1.0 / adj - 1.0 > r->thr && r->p < o->alpha) r->verdict = "improved";
        else r->verdict = "same";
    }
    for (int i = 0; i < nbase; i++) {
        if (find_metric(now, nnow, &base[i])) continue;
        cmp_row *r = &rows[nr++];
        r->m = &base[i];
        r->base = base[i].median;
        r->now = r->ratio = r->effect = r->thr = r->p = NAN;
        r->nb = base[i].ns ? base[i].ns : base[i].n;
        r->verdict = "missing";
    }
    qsort(rows, (size_t)nr, sizeof *rows, row_cmp);
    printf("%-12s %-26s %-26s %-16s %11s %11s %8s %6s %9s %7s\n", "verdict", "case", "params", "metric", "baseline",
           "new", "change", "thresh", "p", "n b/new");
    for (int i = 0; i < nr; i++) {
        cmp_row *r = &rows[i];
        char ch[16] = "", th[16] = "", pv[16] = "";
        if (!isnan(r->effect)) snprintf(ch, sizeof ch, "%+.1f%%", 100 * r->effect);
        if (!isnan(r->thr)) snprintf(th, sizeof th, (r->m->flags & STORE_DETERMINISTIC) ? "%.0g" : "%.1f%%",
                                     (r->m->flags & STORE_DETERMINISTIC) ? r->thr : 100 * r->thr);
        if (!isnan(r->p)) snprintf(pv, sizeof pv, "%.2g", r->p);
        printf("%-12s %-26.26s %-26.26s %-16.16s %11.4g %11.4g %8s %6s %9s %3d/%-3d %s\n", r->verdict, r->m->name,
               r->m->params, r->m->metric, r->base, r->now, ch, th, pv, r->nb, r->nn, r->m->unit);
        if (check > 0 && store_check_finding(s, check, r->m, r->base, r->now, r->ratio, r->thr, r->p, r->verdict) != 0) {
            free(rows);
            return -1;
        }
    }
    if (nr == 0) printf("(no results to compare)\n");
    free(rows);
    return 0;
}

/* ---- griffin check ---------------------------------------------------------- */

static int check_one(store *s, store_id run, const char *baseline, int allow_cross, const cmp_opts *o) {
    store_run_info ri, bi;
    if (store_run_get(s, run, &ri) != 0) return fail_msg(2);
    if (strcmp(ri.status, "ok"))
        fprintf(stderr, "warning: run %lld has status '%s'; checking what it stored\n", run, ri.status);
    store_id runs[256];
    int nruns = 0;
    char desc[160];
    if (!strncmp(baseline, "last:", 5)) {
        int k = atoi(baseline + 5);
        if (k < 1 || k > 256) { fprintf(stderr, "error: --baseline last:K needs 1 <= K <= 256\n"); return 2; }
        if (store_recent_runs(s, ri.suite, allow_cross ? NULL : ri.fingerprint, run, k, runs, &nruns) != 0)
            return fail_msg(2);
        if (nruns == 0) {
            int nother = 0;
            store_id other[1];
            if (!allow_cross) store_recent_runs(s, ri.suite, NULL, run, 1, other, &nother);
            if (nother)
                fprintf(stderr, "error: fingerprint mismatch: no earlier ok '%s' runs on machine %s (there are some on other "
                                "machines; --allow-cross-machine compares across them)\n", ri.suite, ri.fingerprint);
            else
                fprintf(stderr, "error: no baseline: no earlier ok '%s' runs before run %lld\n", ri.suite, run);
            return 2;
        }
        snprintf(desc, sizeof desc, "last:%d (%d runs, %lld..%lld)", k, nruns, runs[nruns - 1], runs[0]);
    } else {
        int r = store_baseline_get(s, baseline, &runs[0]);
        if (r != 0) {
            fprintf(stderr, "error: %s\n", r > 0 ? "no baseline by that name (set one with `griffin baseline set NAME RUN`)"
                                                  : util_last_error());
            return 2;
        }
        nruns = 1;
        if (store_run_get(s, runs[0], &bi) != 0) return fail_msg(2);
        if (strcmp(bi.fingerprint, ri.fingerprint) && !allow_cross) {
            fprintf(stderr, "error: fingerprint mismatch: baseline '%s' (run %lld) is machine %s, run %lld is machine %s "
                            "(--allow-cross-machine to compare anyway)\n", baseline, runs[0], bi.fingerprint, run, ri.fingerprint);
            return 2;
        }
        snprintf(desc, sizeof desc, "%s (run %lld)", baseline, runs[0]);
    }
    printf("check: run %lld (%s, %s, commit %s%s) against %s\n", run, ri.suite, ri.uuid, ri.commit, ri.dirty ? "+dirty" : "", desc);
    store_metric *bm = NULL, *nm = NULL;
    int nb = 0, nn = 0;
    if (store_load_metrics(s, runs, nruns, &bm, &nb) != 0 || store_load_metrics(s, &run, 1, &nm, &nn) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        store_metrics_free(bm, nb);
        return 2;
    }
    store_id check = 0;
    int nreg = 0, ninsuf = 0, ncmp = 0, ret;
    if (store_check_begin(s, run, desc, &check) != 0 ||
        compare_sets(s, bm, nb, nm, nn, o, check, &nreg, &ninsuf, &ncmp) != 0) {
        ret = fail_msg(2);
    } else {
        ret = nreg ? 1 : ninsuf ? 2 : 0;
        if (nreg) printf("%d regression(s)\n", nreg);
        else if (ninsuf)
            printf("setup error: %d metric(s) have too few repetitions for p < %g (need n with 2/C(n+m,n) < %g; use >= 5 per side)\n",
                   ninsuf, o->alpha, o->alpha);
        else printf("clean: %d metric(s) compared, no regression\n", ncmp);
        if (store_check_end(s, check, ret, nreg) != 0) ret = fail_msg(2);
    }
    store_metrics_free(bm, nb);
    store_metrics_free(nm, nn);
    return ret;
}

int cmd_check(int argc, char **argv) {
    const char *db = NULL, *baseline = NULL, *runspec = NULL, *since = NULL;
    int allow_cross = 0;
    cmp_opts o;
    flag_def defs[] = {
        DB_FLAG(db),
        {"baseline", FLAG_STR, &baseline, "last:5", "a name set by `griffin baseline set`, or last:K (pooled samples of the K previous ok runs of the same suite and machine)", 0},
        {"run", FLAG_STR, &runspec, "latest", "the run to check (id, uuid prefix, latest)", 0},
        {"since", FLAG_STR, &since, NULL, "check every ok run with id greater than this one (e.g. all runs a nightly job made)", 0},
        {"allow-cross-machine", FLAG_BOOL, &allow_cross, "0", "compare across machine fingerprints", 0},
        CMP_FLAGS(o, "absolute tolerance for deterministic metrics (loss, accuracy)"),
        {NULL}};
    char *pos[2];
    int npos = 0;
    int rc = flags_parse(defs, argc, argv, pos, 0, &npos, "griffin check [--baseline NAME|last:K] [--run RUN | --since RUN]",
                         "Regression check: a metric regresses when its direction-adjusted median ratio exceeds\n"
                         "max(min-effect, 3 x 1.4826 x MAD/median of the baseline) and the two-sided Mann-Whitney p < alpha;\n"
                         "deterministic metrics use --det-tol. Exit 0 clean, 1 regression, 2 setup error (no baseline,\n"
                         "fingerprint mismatch, too few repetitions).");
    if (rc >= 0) return rc;
    store *s;
    if ((rc = open_db(&s, db))) return rc;
    int ret = 0;
    if (since) {
        store_id after = 0, runs[512];
        int n = 0;
        if (strcmp(since, "0") && (ret = resolve(s, since, &after)) != 0) { store_close(s); return ret; }
        if (store_runs_after(s, after, runs, 512, &n) != 0) { store_close(s); return fail_msg(2); }
        if (n == 0) { fprintf(stderr, "error: no finished runs after run %lld to check\n", after); store_close(s); return 2; }
        for (int i = 0; i < n; i++) {
            int r = check_one(s, runs[i], baseline, allow_cross, &o);
            if (r == 1 || (r == 2 && ret == 0)) ret = r; /* a regression outranks a setup error */
            printf("\n");
        }
    } else {
        store_id run;
        if ((ret = resolve(s, runspec, &run)) == 0) ret = check_one(s, run, baseline, allow_cross, &o);
    }
    store_close(s);
    return ret;
}

int cmd_compare(int argc, char **argv) {
    const char *db = NULL;
    cmp_opts o;
    flag_def defs[] = {
        DB_FLAG(db),
        CMP_FLAGS(o, "absolute tolerance for deterministic metrics"),
        {NULL}};
    char *pos[3];
    int npos = 0;
    int rc = flags_parse(defs, argc, argv, pos, 2, &npos, "griffin compare RUN_A RUN_B",
                         "The regression table between two runs (A = baseline, B = new); nothing is stored. Exit 0.");
    if (rc >= 0) return rc;
    if (npos != 2) { fprintf(stderr, "usage: griffin compare RUN_A RUN_B\n"); return 2; }
    store *s;
    if ((rc = open_db(&s, db))) return rc;
    store_id a, b;
    if ((rc = resolve(s, pos[0], &a)) || (rc = resolve(s, pos[1], &b))) { store_close(s); return rc; }
    store_run_info ia, ib;
    if (store_run_get(s, a, &ia) || store_run_get(s, b, &ib)) { store_close(s); return fail_msg(2); }
    if (strcmp(ia.fingerprint, ib.fingerprint))
        fprintf(stderr, "warning: the runs are from different machines (%s vs %s)\n", ia.fingerprint, ib.fingerprint);
    printf("compare: run %lld (%s) -> run %lld (%s)\n", a, ia.commit, b, ib.commit);
    store_metric *ma = NULL, *mb = NULL;
    int na = 0, nb = 0, nreg, ninsuf, ncmp;
    int ret = 0;
    if (store_load_metrics(s, &a, 1, &ma, &na) || store_load_metrics(s, &b, 1, &mb, &nb) ||
        compare_sets(s, ma, na, mb, nb, &o, 0, &nreg, &ninsuf, &ncmp))
        ret = fail_msg(1);
    store_metrics_free(ma, na);
    store_metrics_free(mb, nb);
    store_close(s);
    return ret;
}

/* ---- griffin import-gbench -------------------------------------------------- */

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { util_error("%s: %s", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    CHECK_ALLOC(buf);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) { cap *= 2; buf = realloc(buf, cap); CHECK_ALLOC(buf); }
    }
    int err = ferror(f);
    fclose(f);
    if (err) { free(buf); util_error("%s: read error", path); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* Fields of a benchmark row that are not metrics. */
static int is_meta_field(const char *k) {
    static const char *const meta[] = {"name", "family_index", "per_family_instance_index", "run_name", "run_type",
                                       "repetitions", "repetition_index", "threads", "iterations", "time_unit",
                                       "aggregate_name", "aggregate_unit", "error_occurred", "error_message",
                                       "label", "skipped", "skip_message", NULL};
    for (int i = 0; meta[i]; i++) if (!strcmp(k, meta[i])) return 1;
    return 0;
}

static int is_number(const char *t) {
    char *end;
    if (!*t) return 0;
    strtod(t, &end);
    return *end == 0;
}

/* A component that is a measurement knob, not part of the case identity. */
static int is_knob(const char *c) {
    static const char *const knobs[] = {"repeats:", "min_time:", "min_warmup_time:", "iterations:", "threads:", NULL};
    for (int i = 0; knobs[i]; i++) if (!strncmp(c, knobs[i], strlen(knobs[i]))) return 1;
    return !strcmp(c, "real_time") || !strcmp(c, "manual_time") || !strcmp(c, "process_time");
}

/* run_name "scan_chunked/T:1024/16/threads:2" -> name "scan_chunked",
 * params {"T":1024,"args":[16],"threads":2}. */
static void split_run_name(const char *run_name, int threads, char *name, size_t cap, jbuf *params) {
    char *copy = strdup(run_name);
    CHECK_ALLOC(copy);
    name[0] = 0;
    jbuf args = {0}, named = {0};
    jbuf_puts(&args, "");
    jbuf_puts(&named, "");
    int in_args = 0, nargs = 0;
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        int arg = is_number(c) || strchr(c, ':');
        if (!in_args && (!arg || !name[0])) {
            size_t len = strlen(name);
            snprintf(name + len, cap - len, "%s%s", len ? "/" : "", c);
            continue;
        }
        in_args = 1;
        if (is_knob(c)) continue;
        char *colon = strchr(c, ':');
        if (colon) {
            *colon = 0;
            jbuf_puts(&named, ",");
            jbuf_str(&named, c);
            jbuf_puts(&named, ":");
            if (is_number(colon + 1)) jbuf_num(&named, strtod(colon + 1, NULL));
            else jbuf_str(&named, colon + 1);
        } else {
            if (nargs++) jbuf_puts(&args, ",");
            if (is_number(c)) jbuf_num(&args, strtod(c, NULL));
            else jbuf_str(&args, c);
        }
    }
    jbuf_printf(params, "{\"threads\":%d", threads);
    if (nargs) jbuf_printf(params, ",\"args\":[%s]", args.p);
    jbuf_puts(params, named.p);
    jbuf_puts(params, "}");
    jbuf_free(&args);
    jbuf_free(&named);
    free(copy);
}

/* Direction of a Google Benchmark counter from its name: times and
 * per-item costs are lower-is-better, everything else (rates, fractions of
 * the roofline, accuracies) higher-is-better. */
static int metric_flags(const char *k) {
    static const char *const lower[] = {"time", "latency", "ns_per", "us_per", "ms_per", "s_per_", "_ns", "_us",
                                        "_ms", "seconds", "bytes_used", "memory", NULL};
    for (int i = 0; lower[i]; i++) if (strstr(k, lower[i])) return STORE_LOWER;
    return STORE_HIGHER;
}

/* A context value that Google Benchmark stores as a string ("6.270") or a number. */
static double ctx_num(const json *ctx, const char *key) {
    json *v = json_get(ctx, key);
    if (!v) return 0;
    if (v->type == JSON_NUM) return v->num;
    if (v->type == JSON_STR) return strtod(v->str, NULL);
    return 0;
}

static void machine_from_json(const json *v, machine_info *m) {
    memset(m, 0, sizeof *m);
#define MSTR(f) snprintf(m->f, sizeof m->f, "%s", json_get_str(v, #f, ""))
    MSTR(hostname); MSTR(cpu_model); MSTR(cpu_flags_hash); MSTR(simd); MSTR(blas_core); MSTR(blas_config);
    MSTR(openblas_env); MSTR(gpu); MSTR(gpu_driver); MSTR(cuda_version); MSTR(gpu_cc); MSTR(compiler); MSTR(os);
#undef MSTR
    m->cores = (int)json_get_num(v, "cores", 0);
    m->mem_bytes = (long long)json_get_num(v, "mem_bytes", 0);
    const char *fp = json_get_str(v, "fingerprint", NULL);
    if (fp) snprintf(m->fingerprint, sizeof m->fingerprint, "%s", fp);
    else machine_fingerprint(m);
}

static const char *metric_unit(const char *k, const json *row) {
    if (!strcmp(k, "real_time") || !strcmp(k, "cpu_time")) return json_get_str(row, "time_unit", "ns");
    if (!strcmp(k, "bytes_per_second")) return "B/s";
    if (!strcmp(k, "items_per_second")) return "items/s";
    return "";
}

typedef struct {
    const char *run_name;
    int threads;
    json **iters; int ni;
    json **aggs; int na;
} gb_group;

int cmd_import_gbench(int argc, char **argv) {
    const char *db = NULL, *suite = NULL, *preset = NULL;
    flag_def defs[] = {
        DB_FLAG(db),
        {"suite", FLAG_STR, &suite, "gbench", "suite name the cases are filed under", 0},
        {"preset", FLAG_STR, &preset, NULL, "preset recorded with the run (e.g. nightly)", 0},
        {NULL}};
    char *pos[2];
    int npos = 0;
    int rc = flags_parse(defs, argc, argv, pos, 1, &npos, "griffin import-gbench [--suite gbench] FILE.json",
                         "Import a Google Benchmark JSON file (--benchmark_format=json or --benchmark_out) as one run:\n"
                         "cases keyed by family name + args (not the printed name), every repetition as a raw sample;\n"
                         "aggregate rows (mean/median/stddev) are used only when a benchmark has no per-repetition rows.");
    if (rc >= 0) return rc;
    if (npos != 1) { fprintf(stderr, "usage: griffin import-gbench FILE.json\n"); return 2; }
    char err[256];
    char *text = read_file(pos[0], NULL);
    if (!text) return fail_msg(2);
    json *root = json_parse(text, err, sizeof err);
    free(text);
    if (!root) { fprintf(stderr, "error: %s: not valid JSON: %s\n", pos[0], err); return 2; }
    json *ctx = json_get(root, "context"), *benches = json_get(root, "benchmarks");
    if (!benches || benches->type != JSON_ARR) {
        fprintf(stderr, "error: %s: no \"benchmarks\" array (is it Google Benchmark JSON output?)\n", pos[0]);
        json_free(root);
        return 2;
    }
    /* group rows by run_name */
    gb_group *g = calloc((size_t)benches->n + 1, sizeof *g);
    CHECK_ALLOC(g);
    int ng = 0, nerr = 0;
    for (int i = 0; i < benches->n; i++) {
        json *row = benches->items[i];
        json *eo = json_get(row, "error_occurred");
        if ((eo && eo->type == JSON_BOOL && eo->boolean) || json_get(row, "skipped")) {
            json *sk = json_get(row, "skipped");
            if (!sk || (sk->type == JSON_BOOL && sk->boolean) || (sk->type == JSON_NUM && sk->num != 0)) {
                fprintf(stderr, "warning: skipping %s: %s\n", json_get_str(row, "name", "?"),
                        json_get_str(row, "error_message", json_get_str(row, "skip_message", "error")));
                nerr++;
                continue;
            }
        }
        const char *rn = json_get_str(row, "run_name", json_get_str(row, "name", NULL));
        if (!rn) continue;
        int th = (int)json_get_num(row, "threads", 1);
        int k;
        for (k = 0; k < ng; k++) if (!strcmp(g[k].run_name, rn) && g[k].threads == th) break;
        if (k == ng) { g[ng].run_name = rn; g[ng].threads = th; ng++; }
        int agg = !strcmp(json_get_str(row, "run_type", "iteration"), "aggregate");
        json ***list = agg ? &g[k].aggs : &g[k].iters;
        int *cnt = agg ? &g[k].na : &g[k].ni;
        *list = realloc(*list, sizeof(json *) * (size_t)(*cnt + 1));
        CHECK_ALLOC(*list);
        (*list)[(*cnt)++] = row;
    }
    /* the machine: the file's own record when the bench wrote one (context
     * machine_json / machine_fingerprint), else this machine */
    machine_info m;
    machine_collect(&m);
    const char *fp = json_get_str(ctx, "machine_fingerprint", json_get_str(ctx, "griffin_fingerprint", NULL));
    const char *mj = json_get_str(ctx, "machine_json", NULL);
    json *mv = mj ? json_parse(mj, err, sizeof err) : NULL;
    if (mv) {
        machine_from_json(mv, &m);
        json_free(mv);
    } else if (fp && strcmp(fp, m.fingerprint)) {
        machine_info o;
        memset(&o, 0, sizeof o);
        snprintf(o.hostname, sizeof o.hostname, "%s", json_get_str(ctx, "host_name", ""));
        snprintf(o.cpu_model, sizeof o.cpu_model, "%s", json_get_str(ctx, "machine_cpu", ""));
        o.cores = (int)json_get_num(ctx, "num_cpus", 0);
        snprintf(o.fingerprint, sizeof o.fingerprint, "%s", fp);
        m = o;
    }
    if (fp && strcmp(fp, m.fingerprint)) snprintf(m.fingerprint, sizeof m.fingerprint, "%s", fp);
    machine_info here;
    machine_collect(&here);
    if (strcmp(here.fingerprint, m.fingerprint))
        fprintf(stderr, "note: %s was produced on machine %s (this is %s); filed under its own fingerprint\n", pos[0],
                m.fingerprint, here.fingerprint);
    jbuf cj = {0};
    if (ctx) json_write(&cj, ctx, 1);
    store *s;
    if ((rc = open_db(&s, db))) { json_free(root); free(g); jbuf_free(&cj); return rc; }
    store_id run;
    int ncases = 0, nmetrics = 0, nsamples = 0, ret = 0;
    const char *gc = json_get_str(ctx, "griffin_commit", NULL);
    if (gc) {
        const char *gd = json_get_str(ctx, "griffin_dirty", "0");
        store_override_build(s, gc, atoi(gd), json_get_str(ctx, "griffin_build_flags", build_flags()));
    }
    if (store_run_begin_with(s, &m, suite, preset, argc, argv, 0, cj.p, &run) != 0) goto fail;
    /* roofline limits measured by the bench at start-up */
    {
        double bw = fmax(ctx_num(ctx, "roofline_read_gbs"), ctx_num(ctx, "roofline_copy_gbs"));
        double pk = ctx_num(ctx, "roofline_sgemm_gflops"), zero = 0;
        if (bw > 0 && store_curve(s, run, 0, "roofline_limits", "GB/s", &zero, &bw, 1) != 0) goto fail;
        if (pk > 0 && store_curve(s, run, 0, "roofline_limits", "GFLOP/s", &zero, &pk, 1) != 0) goto fail;
    }
    for (int k = 0; k < ng; k++) {
        char name[256];
        jbuf params = {0};
        split_run_name(g[k].run_name, g[k].threads, name, sizeof name, &params);
        store_id cs;
        if (store_tx_begin(s) != 0) { jbuf_free(&params); goto fail; } /* one case, one commit */
        int r = store_case(s, suite, name, params.p, &cs);
        jbuf_free(&params);
        if (r != 0) goto fail;
        ncases++;
        if (g[k].ni > 0) {
            json *first = g[k].iters[0];
            double *xs = malloc(sizeof(double) * (size_t)g[k].ni);
            CHECK_ALLOC(xs);
            for (int f = 0; f < first->n; f++) {
                const char *key = first->keys[f];
                if (is_meta_field(key) || first->items[f]->type != JSON_NUM) continue;
                int n = 0;
                for (int i = 0; i < g[k].ni; i++) {
                    json *v = json_get(g[k].iters[i], key);
                    if (v && v->type == JSON_NUM) xs[n++] = v->num;
                }
                if (store_result_samples(s, run, cs, key, metric_unit(key, first), metric_flags(key), xs, n) != 0) {
                    free(xs);
                    goto fail;
                }
                nmetrics++;
                nsamples += n;
            }
            free(xs);
            /* a roofline point when the bench reports both rates */
            double *gb = malloc(sizeof(double) * (size_t)g[k].ni), *gf = malloc(sizeof(double) * (size_t)g[k].ni);
            CHECK_ALLOC(gb);
            CHECK_ALLOC(gf);
            for (int i = 0; i < g[k].ni; i++) {
                gb[i] = json_get_num(g[k].iters[i], "GB/s", NAN);
                gf[i] = json_get_num(g[k].iters[i], "GFLOP/s", NAN);
            }
            double gbs = stats_median(gb, g[k].ni), gfs = stats_median(gf, g[k].ni);
            free(gb);
            free(gf);
            if (gbs > 0 && gfs > 0) {
                double ai = gfs / gbs;
                if (store_curve(s, run, cs, "roofline", name, &ai, &gfs, 1) != 0) goto fail;
            }
        } else {
            json *med = NULL, *mean = NULL, *sd = NULL;
            for (int i = 0; i < g[k].na; i++) {
                const char *an = json_get_str(g[k].aggs[i], "aggregate_name", "");
                if (!strcmp(an, "median")) med = g[k].aggs[i];
                else if (!strcmp(an, "mean")) mean = g[k].aggs[i];
                else if (!strcmp(an, "stddev")) sd = g[k].aggs[i];
            }
            json *ref = med ? med : mean;
            for (int f = 0; ref && f < ref->n; f++) {
                const char *key = ref->keys[f];
                if (is_meta_field(key) || ref->items[f]->type != JSON_NUM) continue;
                int reps = (int)json_get_num(ref, "repetitions", 0);
                if (store_result_aggregate(s, run, cs, key, metric_unit(key, ref), metric_flags(key), reps,
                                           json_get_num(med, key, NAN), json_get_num(mean, key, NAN),
                                           json_get_num(sd, key, NAN), NAN, NAN, NAN) != 0)
                    goto fail;
                nmetrics++;
            }
        }
        if (store_tx_commit(s) != 0) goto fail;
    }
    if (store_run_end(s, run, "ok") != 0) goto fail;
    char uuid[37] = "";
    store_run_uuid(s, run, uuid);
    printf("imported %d cases, %d metrics, %d raw samples from %s into run %lld (%s)%s\n", ncases, nmetrics, nsamples,
           pos[0], run, uuid, nerr ? " (some benchmarks reported errors)" : "");
    goto done;
fail:
    fprintf(stderr, "error: %s\n", util_last_error());
    store_tx_rollback(s);
    if (run > 0) store_run_end(s, run, "failed");
    ret = 1;
done:
    store_close(s);
    for (int k = 0; k < ng; k++) { free(g[k].iters); free(g[k].aggs); }
    free(g);
    json_free(root);
    jbuf_free(&cj);
    return ret;
}

/* ---- griffin plot ------------------------------------------------------------ */

static const struct {
    const char *name, *suite, *about;
} FIGURES[] = {
    {"scan", "scan", "RG-LRU scan variants: GB/s vs T (App. D)"},
    {"roofline", "roofline", "each kernel's achieved rate against the measured limits"},
    {"history", "(nightly)", "metric medians with spread over runs (the nightly check)"},
    {"fig3_train_step", "throughput", "training step time vs T, relative to MQA at the shortest T (Fig. 3)"},
    {"fig1b_decode_throughput", "throughput", "decode tokens/s vs sample length (Fig. 1b)"},
    {"fig4_latency", "latency", "time to sample N tokens (Fig. 4)"},
    {"fig4b_decode_model", "latency", "decode step: measured vs (params + B x cache) / bandwidth (§5.1)"},
    {"fig5_longctx", "longctx", "loss by position, log x, T_train marked (Fig. 5)"},
    {"fig6_copyret", "copyret", "copy/retrieval accuracy (Fig. 6a-d)"},
    {"training", "train", "a griffin train run: training loss and held-out metric by step"},
};
#define NFIG ((int)(sizeof FIGURES / sizeof *FIGURES))

static int on_path(const char *exe) {
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n && n < sizeof buf - 64) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, exe);
            if (access(buf, X_OK) == 0) return 1;
        }
        path += n;
        if (*path == ':') path++;
    }
    return 0;
}

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

/* plots/ beside the working directory, or $GRIFFIN_PLOTS, or ../plots from
 * the executable (build/griffin). */
static int find_plots_dir(char *out, size_t cap) {
    const char *e = getenv("GRIFFIN_PLOTS");
    char probe[4200];
    if (e && *e) { snprintf(out, cap, "%s", e); return 0; }
    if (file_exists("plots/common.gp")) { snprintf(out, cap, "plots"); return 0; }
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(probe, sizeof probe, "%s/../plots/common.gp", exe);
            if (file_exists(probe) && (size_t)snprintf(out, cap, "%s/../plots", exe) < cap) return 0;
        }
    }
    return -1;
}

static int mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(tmp, 0775); *p = '/'; }
    if (mkdir(tmp, 0775) != 0 && errno != EEXIST) return -1;
    return 0;
}

/* gnuplot's output is complete: PNG ends with its IEND chunk, SVG with
 * </svg>; dumb text only needs to be non-empty. */
static int figure_complete(const char *fmt, const unsigned char *b, size_t n) {
    static const unsigned char iend[8] = {'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    if (!strcmp(fmt, "png")) return n >= 8 && !memcmp(b + n - 8, iend, 8);
    if (!strcmp(fmt, "svg")) return n >= 6 && memmem(b + (n > 64 ? n - 64 : 0), n > 64 ? 64 : n, "</svg>", 6) != NULL;
    return n > 0;
}

/* Read a whole file (malloc'd into *buf). 0 or -1. */
static int slurp(const char *path, unsigned char **buf, size_t *n) {
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    *n = 0;
    if (!f) return -1;
    size_t cap = 1 << 16;
    unsigned char *b = malloc(cap);
    CHECK_ALLOC(b);
    size_t k;
    while ((k = fread(b + *n, 1, cap - *n, f)) > 0) {
        *n += k;
        if (*n == cap) { b = realloc(b, cap *= 2); CHECK_ALLOC(b); }
    }
    fclose(f);
    *buf = b;
    return 0;
}

static int run_gnuplot(const char *dir, const char *fig, const char *db, const char *out, const char *fmt,
                       const char *run, const char *metric) {
    char script[4200], vars[12000], tmpdir[4096];
    const char *td = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/griffin-plot.XXXXXX", td && *td ? td : "/tmp");
    if (!mkdtemp(tmpdir) || strchr(tmpdir, '\'')) {
        fprintf(stderr, "error: %s: cannot create a temporary folder for gnuplot: %s\n", tmpdir, strerror(errno));
        return -1;
    }
    snprintf(script, sizeof script, "%s/%s.gp", dir, fig);
    snprintf(vars, sizeof vars, "db='%s'; out='%s/%s'; fmt='%s'; run='%s'; dir='%s'; metric='%s'", db, tmpdir, fig, fmt,
             run, dir, metric);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return -1; }
    if (pid == 0) {
        execlp("gnuplot", "gnuplot", "-e", vars, script, (char *)NULL);
        perror("gnuplot");
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    const char *ext = !strcmp(fmt, "dumb") ? "txt" : fmt;
    char outfile[4200], tmpfile[4200];
    snprintf(outfile, sizeof outfile, "%s/%s.%s", out, fig, ext);
    snprintf(tmpfile, sizeof tmpfile, "%s/%s.%s", tmpdir, fig, ext);
    unsigned char *img = NULL;
    size_t n = 0;
    int rc = -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "error: gnuplot failed (%s %d) drawing %s; %s is untouched\n", WIFEXITED(st) ? "exit" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), tmpfile, outfile);
        goto done;
    }
    if (slurp(tmpfile, &img, &n) != 0 || !figure_complete(fmt, img, n)) {
        fprintf(stderr, "error: gnuplot's %s is %s (is %s full?); %s is untouched\n", tmpfile, img ? "incomplete" : "missing",
                tmpdir, outfile);
        goto done;
    }
    /* the figure replaces the previous one atomically: a full disk keeps the old */
    if (util_write_file_atomic(outfile, img, n) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        goto done;
    }
    printf("wrote %s\n", outfile);
    rc = 0;
done:
    free(img);
    unlink(tmpfile);
    rmdir(tmpdir);
    return rc;
}

int cmd_plot(int argc, char **argv) {
    const char *db = NULL, *runspec = NULL, *out = NULL, *term = NULL, *metric = NULL;
    int list = 0;
    flag_def defs[] = {
        DB_FLAG(db),
        {"run", FLAG_STR, &runspec, NULL, "draw this run (default: the newest run that has the figure's data)", 0},
        {"out", FLAG_STR, &out, "plots/out", "output folder", 0},
        {"term", FLAG_STR, &term, "png,svg", "comma list of png, svg, dumb (text, for tests and terminals)", 0},
        {"metric", FLAG_STR, &metric, "", "history: only this metric (default all)", 0},
        {"list", FLAG_BOOL, &list, "0", "list the figures", 0},
        {NULL}};
    char *pos[NFIG + 1];
    int npos = 0;
    int rc = flags_parse(defs, argc, argv, pos, NFIG + 1, &npos, "griffin plot FIGURE...|all [--run RUN] [--out plots/out] [--term png,svg|dumb]",
                         "Render figures from the database with gnuplot (plots/FIGURE.gp). Figures without data yet\n"
                         "render a placeholder. --list names them.");
    if (rc >= 0) return rc;
    if (list || npos == 0) {
        for (int i = 0; i < NFIG; i++) printf("  %-24s %-11s %s\n", FIGURES[i].name, FIGURES[i].suite, FIGURES[i].about);
        return npos == 0 && !list ? 2 : 0;
    }
    int want[NFIG] = {0};
    for (int k = 0; k < npos; k++) {
        int which = -1;
        for (int i = 0; i < NFIG; i++) if (!strcmp(pos[k], FIGURES[i].name) || !strcmp(pos[k], "all")) { want[i] = 1; which = i; }
        if (which < 0) {
            fprintf(stderr, "error: unknown figure '%s'; one of:", pos[k]);
            for (int i = 0; i < NFIG; i++) fprintf(stderr, " %s", FIGURES[i].name);
            fprintf(stderr, " all\n");
            return 2;
        }
    }
    for (const char *t = term; *t;) {
        size_t n = strcspn(t, ",");
        if (!((n == 3 && (!strncmp(t, "png", 3) || !strncmp(t, "svg", 3))) || (n == 4 && !strncmp(t, "dumb", 4)))) {
            fprintf(stderr, "error: --term takes png, svg, dumb (comma separated)\n");
            return 2;
        }
        t += n;
        if (*t == ',') t++;
    }
    if (!on_path("gnuplot")) {
        fprintf(stderr, "error: gnuplot not found: install it with `apt-get install gnuplot-nox` (figures need it).\n"
                        "The data stays available: `griffin results export RUN --csv|--json|--curves`.\n");
        return 2;
    }
    if (!on_path("sqlite3")) {
        fprintf(stderr, "error: the sqlite3 shell is not found (the figure scripts read the database with it): "
                        "`apt-get install sqlite3`.\n");
        return 2;
    }
    char dir[4096];
    if (find_plots_dir(dir, sizeof dir) != 0) {
        fprintf(stderr, "error: cannot find the plots/ folder with the figure scripts; run from the repository root or set GRIFFIN_PLOTS\n");
        return 2;
    }
    const char *path = store_resolve_path(db);
    if (strchr(path, '\'') || strchr(out, '\'') || strchr(dir, '\'') || strchr(metric, '\'')) {
        fprintf(stderr, "error: paths and names given to gnuplot may not contain a single quote\n");
        return 2;
    }
    store *s;
    if ((rc = open_db(&s, path))) return rc; /* validates and migrates the file */
    char runid[32] = "";
    if (runspec) {
        store_id r;
        if ((rc = resolve(s, runspec, &r))) { store_close(s); return rc; }
        snprintf(runid, sizeof runid, "%lld", r);
    }
    store_close(s);
    if (mkdir_p(out) != 0) { fprintf(stderr, "error: cannot create %s: %s\n", out, strerror(errno)); return 2; }
    int failed = 0;
    for (int i = 0; i < NFIG; i++) {
        if (!want[i]) continue;
        for (const char *t = term; *t;) {
            size_t n = strcspn(t, ",");
            char fmt[8];
            snprintf(fmt, sizeof fmt, "%.*s", (int)n, t);
            if (run_gnuplot(dir, FIGURES[i].name, path, out, fmt, runid, metric) != 0) {
                fprintf(stderr, "error: figure %s (%s) failed\n", FIGURES[i].name, fmt);
                failed++;
            }
            t += n;
            if (*t == ',') t++;
        }
    }
    return failed ? 1 : 0;
}
#endif /* HAVE_SQLITE */
