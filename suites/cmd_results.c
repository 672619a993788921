/* cmd_results.c — the `griffin` subcommands over the results store:
 *
 *   griffin results list|show RUN|export RUN --csv|--json|--curves|id [RUN]
 *   griffin results merge OTHER.sqlite...    import other databases' runs (results/merge.h)
 *   griffin import-gbench FILE.json          Google Benchmark JSON -> a run (with its interference)
 *   griffin check [--baseline last:K|NAME] [--run RUN|--since RUN]
 *   griffin compare RUN_A RUN_B
 *   griffin baseline set NAME RUN | get NAME | list | accept RUN [--metric M] [--case C]
 *   griffin history [--suite S] [--metric M]
 *   griffin plot FIGURE|all [--run RUN] [--out plots/out] [--term png,svg|dumb]
 *
 * Every command takes --db PATH (else $GRIFFIN_DB, else results/griffin.sqlite)
 * and --help. Exit codes: 0 ok, 1 failure (check: something regressed), 2
 * usage or setup error (check: also "nothing could be judged"). The judging
 * itself (which values are compared, the statistics, the verdicts) is the
 * library results/check.c; this file parses flags and prints.
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
#include "check.h"
#include "flags.h"
#include "json.h"
#include "machine.h"
#include "merge.h"
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
int cmd_history(int argc, char **argv) { return no_sqlite(argc, argv); }
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

/* Flags every command shares. */
#define XSTR_(x) #x
#define XSTR(x) XSTR_(x) /* a numeric default as flag text */
#define DB_FLAG(var) {"db", FLAG_STR, &(var), NULL, "database (default $GRIFFIN_DB or " STORE_DEFAULT_PATH ")", 0}

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

/* griffin results merge: argv[0] is "merge". */
static int cmd_results_merge(int argc, char **argv) {
    const char *db = NULL;
    int dry = 0;
    double wait_s = 30;
    flag_def defs[] = {
        DB_FLAG(db),
        {"dry-run", FLAG_BOOL, &dry, "0", "do the whole merge, then roll it back: report what would be added", 0},
        {"wait", FLAG_FLOAT, &wait_s, "30", "seconds to wait for another process's lock on the target", "[0,3600]"},
        {NULL}};
    enum { MAXSRC = 125 };
    char *pos[MAXSRC + 1];
    int npos = 0;
    const char *usage = "griffin results merge [--db TARGET] OTHER.sqlite...";
    int rc = flags_parse(defs, argc, argv, pos, MAXSRC + 1, &npos, usage,
                         "Import the runs of other griffin databases (other machines, other jobs) into the target, with\n"
                         "their machines, builds, cases, samples, curves, claims, checks, findings, acceptances and case\n"
                         "failures. Idempotent: a run already in the target (same uuid) is not added again (checks and\n"
                         "acceptances recorded since are), machines, builds and cases are matched by their keys, ids are\n"
                         "renumbered, uuids kept; a run still running there is skipped (merge again later). A source with\n"
                         "an older schema is migrated in a temporary copy in $TMPDIR (sources are never changed); a newer\n"
                         "one is refused. One transaction: on any failure the target is left as it was. A target that\n"
                         "does not exist is created. README: results from many machines.\n"
                         "Exit 0 merged, 1 writing the target failed (rolled back), 2 usage error or a source or the\n"
                         "target could not be read.");
    if (rc >= 0) return rc;
    if (npos < 1) { fprintf(stderr, "usage: %s\n", usage); return 2; }
    if (npos > MAXSRC) { fprintf(stderr, "error: at most %d databases in one merge\n", MAXSRC); return 2; }
    store_set_busy_timeout_ms((int)(wait_s * 1000));
    const char *path = store_resolve_path(db);
    struct stat sb;
    int created = stat(path, &sb) != 0;
    store *s;
    if ((rc = open_db(&s, path))) return rc;
    merge_stats *ms = calloc((size_t)npos, sizeof *ms);
    CHECK_ALLOC(ms);
    merge_opts o = {dry, stderr};
    int stage = 0, ret = 0;
    if (merge_databases(s, (const char *const *)pos, npos, &o, ms, &stage) != 0) {
        ret = fail_msg(stage == MERGE_STAGE_TARGET ? 1 : 2);
    } else {
        merge_stats tot = {0};
        for (int i = 0; i < npos; i++) {
            const merge_stats *m = &ms[i];
            printf("%s (schema v%d): %lld run%s %s, %lld already present, %lld still running (skipped); "
                   "new: %lld machine%s, %lld build%s, %lld case%s; %lld rows\n",
                   pos[i], m->version, m->runs_added, m->runs_added == 1 ? "" : "s", dry ? "to add" : "added", m->runs_present,
                   m->runs_running, m->machines_added, m->machines_added == 1 ? "" : "s", m->builds_added,
                   m->builds_added == 1 ? "" : "s", m->cases_added, m->cases_added == 1 ? "" : "s", m->rows_added);
            tot.runs_added += m->runs_added;
            tot.runs_present += m->runs_present;
            tot.rows_added += m->rows_added;
        }
        printf("%s %s: %lld run%s, %lld rows from %d database%s%s\n", dry ? "dry run, nothing written to" : "merged into", path,
               tot.runs_added, tot.runs_added == 1 ? "" : "s", tot.rows_added, npos, npos == 1 ? "" : "s",
               tot.runs_added == 0 && !dry ? " (nothing new)" : "");
        if (util_stream_check(stdout, "stdout") != 0) ret = fail_msg(1);
    }
    /* a target this merge created and did not fill (failed, dry run) goes away again */
    store_id last = 0;
    int empty = (ret != 0 || dry) && created && store_last_run_id(s, &last) == 0 && last == 0;
    store_close(s);
    if (empty) {
        char p2[4200];
        unlink(path);
        snprintf(p2, sizeof p2, "%s-wal", path);
        unlink(p2);
        snprintf(p2, sizeof p2, "%s-shm", path);
        unlink(p2);
    }
    free(ms);
    return ret;
}

int cmd_results(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "merge")) return cmd_results_merge(argc - 1, argv + 1);
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
    const char *usage = "griffin results list | show RUN | export RUN --csv|--json|--curves | id [RUN] | merge OTHER.sqlite...";
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

/* ---- the check report ---------------------------------------------------- */

/* Flags of check and compare: the rule (results/check.h). */
#define RULE_FLAGS(o)                                                                                             \
    {"alpha", FLAG_FLOAT, &(o).alpha, "0.01", "false-alarm level of the whole check (Holm over every tested metric)", 0}, \
    {"min-effect", FLAG_FLOAT, &(o).min_effect, "0.05", "smallest relative change of a timed metric that counts", 0},   \
    {"busy-max", FLAG_FLOAT, &(o).busy_max, XSTR(BUSY_JUDGE_MAX), "not judged when others took more than this fraction of the CPU", 0}, \
    {"drift", FLAG_FLOAT, &(o).drift, XSTR(CHECK_DEFAULT_DRIFT), "assumed run-to-run spread when fewer than 3 baseline runs measure it", 0}, \
    {"det-rtol", FLAG_FLOAT, &(o).det_rtol, "0.02", "relative tolerance of deterministic metrics (losses, sizes)", 0},  \
    {"min-reps", FLAG_INT, &(o).min_reps, "5", "repetitions a timed metric needs to be judged", 0},                   \
    {"level", FLAG_FLOAT, &(o).level, "0.95", "two-sided level of the reported intervals", 0}

/* A value with its unit, times in the most readable unit. */
static void fmt_value(char *out, size_t cap, double v, const char *unit) {
    static const struct { const char *u; double s; } tu[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}};
    if (!isfinite(v)) { snprintf(out, cap, "-"); return; }
    if (!strcmp(unit, "fraction")) { snprintf(out, cap, "%.2f%%", 100 * v); return; }
    for (int i = 0; i < 4; i++)
        if (!strcmp(unit, tu[i].u)) {
            double sec = v * tu[i].s, a = fabs(sec);
            const char *u = a >= 1 ? "s" : a >= 1e-3 ? "ms" : a >= 1e-6 ? "us" : "ns";
            double d = a >= 1 ? 1 : a >= 1e-3 ? 1e-3 : a >= 1e-6 ? 1e-6 : 1e-9;
            snprintf(out, cap, "%.4g %s", sec / d, u);
            return;
        }
    snprintf(out, cap, "%.4g%s%s", v, unit[0] ? " " : "", unit);
}

static int verdict_order(const check_finding *f) {
    switch (f->verdict) {
    case CHECK_REGRESSED: return 0;
    case CHECK_IMPROVED: return 1;
    case CHECK_NOT_JUDGED: return 2;
    default: return 3;
    }
}

static const check_finding *g_sort_f;
static int row_cmp(const void *a, const void *b) {
    const check_finding *x = &g_sort_f[*(const int *)a], *y = &g_sort_f[*(const int *)b];
    int ox = verdict_order(x), oy = verdict_order(y);
    if (ox != oy) return ox - oy;
    double ex = isnan(x->change) ? 0 : fabs(x->change), ey = isnan(y->change) ? 0 : fabs(y->change);
    if (ex != ey) return ex < ey ? 1 : -1;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->metric, y->metric);
}

/* The first words of a not-judged reason (for the summary's tally). */
static void reason_key(const char *r, char *out, size_t cap) {
    size_t n = strcspn(r, "(:;");
    while (n > 0 && r[n - 1] == ' ') n--;
    snprintf(out, cap, "%.*s", (int)n, r);
}

/* The test a judged finding went through, in words ("" when none). */
static void test_words(const check_finding *f, char *test, size_t cap) {
    test[0] = 0;
    if (f->kind == CHECK_KIND_COUNTED) snprintf(test, cap, "2-prop");
    else if (f->kind == CHECK_KIND_DETERMINISTIC) snprintf(test, cap, "rtol %g%%", 100 * f->threshold);
    else if (isinf(f->df)) snprintf(test, cap, "z drift");
    else if (!isnan(f->df)) snprintf(test, cap, "t(%g)", f->df);
}

static void print_row(const check_finding *f) {
    char what[120], b[24], nw[24], ch[16] = "", iv[32] = "", pv[12] = "", qv[12] = "", test[12] = "", busy[8] = "-";
    snprintf(what, sizeof what, "%s %s %s", f->name, f->params, f->metric);
    const char *v = f->verdict == CHECK_REGRESSED ? "REGRESSED" : check_verdict_name(f->verdict);
    if (!isnan(f->busy)) snprintf(busy, sizeof busy, "%.0f%%", 100 * f->busy);
    if (f->verdict == CHECK_NOT_JUDGED) {
        fmt_value(nw, sizeof nw, f->now, f->unit);
        printf("  %-10s  %-64.64s  %12s  %s\n", v, what, nw, f->reason);
        return;
    }
    fmt_value(b, sizeof b, f->base, f->unit);
    fmt_value(nw, sizeof nw, f->now, f->unit);
    int pts = f->kind == CHECK_KIND_COUNTED; /* accuracy points, not a ratio */
    if (!isnan(f->change)) snprintf(ch, sizeof ch, pts ? "%+.2fpt" : "%+.1f%%", 100 * f->change);
    if (!isnan(f->lo) && f->kind != CHECK_KIND_DETERMINISTIC)
        snprintf(iv, sizeof iv, pts ? "[%+.2f, %+.2f]" : "[%+.1f%%, %+.1f%%]", 100 * f->lo, 100 * f->hi);
    if (!isnan(f->p)) snprintf(pv, sizeof pv, "%.2g", f->p);
    if (!isnan(f->q)) snprintf(qv, sizeof qv, "%.2g", f->q);
    test_words(f, test, sizeof test);
    printf("  %-10s  %-64.64s  %12s  %12s  %8s  %-20s  %8s  %8s  %-8s %4d %4d %5s\n", v, what, b, nw, ch, iv, pv, qv, test,
           f->base_runs, f->reps, busy);
}

static void print_report(const check_report *rep, const check_opts *o, int all, int brief) {
    for (int r = 0; r < rep->nruns; r++) {
        const check_run *cr = &rep->runs[r];
        printf("== check: run %lld (%s, %.8s, commit %s%s, %s)\n", cr->run, cr->suite, cr->uuid, cr->commit,
               cr->dirty ? "+dirty" : "", cr->started);
        if (cr->setup) { printf("   SETUP ERROR: %s\n\n", cr->error); continue; }
        printf("   against %s\n", cr->baseline);
        int *idx = malloc(sizeof(int) * (size_t)(cr->count + 1));
        CHECK_ALLOC(idx);
        int n = 0, nderived = 0, nsame = 0;
        for (int i = cr->first; i < cr->first + cr->count; i++) {
            const check_finding *f = &rep->f[i];
            int derived = f->primary >= 0 && f->verdict != CHECK_NOT_JUDGED;
            if (derived) nderived++;
            if (f->verdict == CHECK_SAME && !derived) nsame++;
            if ((derived && !all) || (brief && f->verdict == CHECK_SAME)) continue;
            idx[n++] = i;
        }
        g_sort_f = rep->f;
        qsort(idx, (size_t)n, sizeof(int), row_cmp);
        if (n) printf("  %-10s  %-64s  %12s  %12s  %8s  %-20s  %8s  %8s  %-8s %4s %4s %5s\n", "verdict", "case, params, metric",
                      "baseline", "this run", "change", "95% interval", "p", "q", "test", "runs", "reps", "busy");
        for (int k = 0; k < n; k++) print_row(&rep->f[idx[k]]);
        if (brief && nsame) printf("  (%d metric%s judged the same: not listed with --brief)\n", nsame, nsame == 1 ? "" : "s");
        if (nderived && !all)
            printf("  (%d derived metric%s, exact functions of another metric of their case, take its verdict: --all lists them)\n",
                   nderived, nderived == 1 ? "" : "s");
        if (cr->count == 0) printf("  (the run has no results)\n");
        free(idx);
        printf("\n");
    }
    /* tally of the reasons for not judging */
    char keys[16][80];
    int cnt[16] = {0}, nk = 0, judged = rep->n_regressed + rep->n_improved + rep->n_same;
    for (int i = 0; i < rep->nf; i++) {
        if (rep->f[i].verdict != CHECK_NOT_JUDGED) continue;
        char k[80];
        reason_key(rep->f[i].reason, k, sizeof k);
        int j;
        for (j = 0; j < nk; j++) if (!strcmp(keys[j], k)) break;
        if (j == nk && nk < 16) snprintf(keys[nk++], sizeof keys[0], "%s", k);
        if (j < 16) cnt[j]++;
    }
    printf("summary: %d metric%s judged (%d regressed, %d improved, %d same)", judged, judged == 1 ? "" : "s", rep->n_regressed,
           rep->n_improved, rep->n_same);
    printf("; %d not judged", rep->n_not_judged);
    for (int j = 0; j < nk; j++) printf("%s%d %s", j ? ", " : " (", cnt[j], keys[j]);
    if (nk) printf(")");
    if (rep->n_derived) printf("; %d derived", rep->n_derived);
    if (rep->n_setup) printf("; %d run%s could not be checked", rep->n_setup, rep->n_setup == 1 ? "" : "s");
    printf("\n         false alarms held to %g for the whole check: Holm over %d tested metric%s\n", o->alpha, rep->n_tested,
           rep->n_tested == 1 ? "" : "s");
}

/* The report as one JSON document (check --json, compare --json): every
 * verdict with its reason, interval, p and q and the baseline it was judged
 * against, per run; the rule; the summary; the exit code and result. */
static void jstr_or_null(jbuf *b, const char *t) {
    if (t && *t) jbuf_str(b, t);
    else jbuf_puts(b, "null");
}

static void print_report_json(const check_report *rep, const check_opts *o, int exit_code, const char *result) {
    static const char *const kinds[] = {"timed", "counted", "deterministic"};
    jbuf b = {0};
    char *rule = check_opts_json(o), test[16];
    int judged = rep->n_regressed + rep->n_improved + rep->n_same;
    jbuf_puts(&b, "{\"result\":");
    jbuf_str(&b, result);
    jbuf_printf(&b, ",\"exit_code\":%d,\"rule\":%s,", exit_code, rule ? rule : "null");
    jbuf_printf(&b, "\"summary\":{\"judged\":%d,\"regressed\":%d,\"improved\":%d,\"same\":%d,\"not_judged\":%d,"
                    "\"derived\":%d,\"tested\":%d,\"runs_not_checked\":%d},\"runs\":[",
                judged, rep->n_regressed, rep->n_improved, rep->n_same, rep->n_not_judged, rep->n_derived, rep->n_tested, rep->n_setup);
    free(rule);
    for (int r = 0; r < rep->nruns; r++) {
        const check_run *cr = &rep->runs[r];
        jbuf_printf(&b, "%s{\"run\":%lld,\"uuid\":", r ? "," : "", cr->run);
        jbuf_str(&b, cr->uuid);
        jbuf_puts(&b, ",\"suite\":");
        jbuf_str(&b, cr->suite);
        jbuf_puts(&b, ",\"commit\":");
        jbuf_str(&b, cr->commit);
        jbuf_printf(&b, ",\"dirty\":%s,\"started\":", cr->dirty ? "true" : "false");
        jbuf_str(&b, cr->started);
        if (cr->check_id > 0) jbuf_printf(&b, ",\"check_id\":%lld", cr->check_id);
        else jbuf_puts(&b, ",\"check_id\":null");
        jbuf_puts(&b, ",\"baseline\":");
        jstr_or_null(&b, cr->setup ? NULL : cr->baseline);
        jbuf_puts(&b, ",\"setup_error\":");
        jstr_or_null(&b, cr->setup ? cr->error : NULL);
        jbuf_printf(&b, ",\"regressed\":%d,\"findings\":[", cr->n_regressed);
        for (int i = cr->first; i < cr->first + cr->count; i++) {
            const check_finding *f = &rep->f[i];
            jbuf_puts(&b, i > cr->first ? ",{" : "{");
            const char *strs[][2] = {{"case_key", f->case_key}, {"suite", f->suite}, {"name", f->name}, {"params", f->params},
                                     {"metric", f->metric},     {"unit", f->unit},   {"kind", kinds[f->kind]},
                                     {"verdict", check_verdict_name(f->verdict)}, {"reason", f->reason}};
            for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++) {
                jbuf_printf(&b, "%s\"%s\":", k ? "," : "", strs[k][0]);
                jbuf_str(&b, strs[k][1]);
            }
            jbuf_puts(&b, ",\"derived_from\":");
            jstr_or_null(&b, f->primary >= 0 ? rep->f[f->primary].metric : NULL);
            test_words(f, test, sizeof test);
            jbuf_puts(&b, ",\"test\":");
            jstr_or_null(&b, test[0] ? test : NULL);
            jbuf_printf(&b, ",\"tested\":%s", f->tested ? "true" : "false");
            const struct { const char *k; double v; } nums[] = {
                {"baseline_value", f->base}, {"now", f->now}, {"ratio", f->ratio}, {"change", f->change}, {"p", f->p},
                {"q", f->q}, {"threshold", f->threshold}, {"df", f->df}, {"busy", f->busy}};
            for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
                jbuf_printf(&b, ",\"%s\":", nums[k].k);
                jbuf_num(&b, nums[k].v);
            }
            jbuf_puts(&b, ",\"interval\":{\"lo\":");
            jbuf_num(&b, f->lo);
            jbuf_puts(&b, ",\"hi\":");
            jbuf_num(&b, f->hi);
            jbuf_puts(&b, ",\"level\":");
            jbuf_num(&b, o->level);
            jbuf_printf(&b, "},\"baseline_runs\":%d,\"spread_runs\":%d,\"reps\":%d}", f->base_runs, f->spread_runs, f->reps);
        }
        jbuf_puts(&b, "]}");
    }
    jbuf_puts(&b, "]}\n");
    fputs(b.p, stdout);
    jbuf_free(&b);
}

/* The exit code of a check (only the CLI decides it): 1 something regressed,
 * 2 a run could not be checked or nothing at all was judged, 0 otherwise. */
static int report_exit(const check_report *rep) {
    int judged = rep->n_regressed + rep->n_improved + rep->n_same;
    if (rep->n_regressed) return 1;
    if (rep->n_setup || judged == 0) return 2;
    return 0;
}

/* ---- griffin check ---------------------------------------------------------- */

static int parse_rule_flags_sane(const check_opts *o) {
    if (!(o->alpha > 0 && o->alpha < 1) || !(o->min_effect >= 0) || !(o->busy_max >= 0 && o->busy_max <= 1) ||
        !(o->drift >= 0) || !(o->det_rtol >= 0) || o->min_reps < 1 || !(o->level > 0 && o->level < 1)) {
        fprintf(stderr, "error: need 0 < --alpha < 1, --min-effect >= 0, 0 <= --busy-max <= 1, --drift >= 0, "
                        "--det-rtol >= 0, --min-reps >= 1, 0 < --level < 1\n");
        return 2;
    }
    return 0;
}

int cmd_check(int argc, char **argv) {
    const char *db = NULL, *baseline = NULL, *runspec = NULL, *since = NULL;
    int all = 0, brief = 0, js = 0;
    check_opts o;
    check_opts_default(&o);
    flag_def defs[] = {
        DB_FLAG(db),
        {"baseline", FLAG_STR, &baseline, "last:10", "last:K (each metric's K newest eligible results on this machine: "
         "not busy, not flagged unless accepted) or a name set by `griffin baseline set`", 0},
        {"run", FLAG_STR, &runspec, "latest", "the run to check (id, uuid prefix, latest)", 0},
        {"since", FLAG_STR, &since, NULL, "check every ok run with id greater than this one (e.g. all runs a nightly made)", 0},
        {"allow-cross-machine", FLAG_BOOL, &o.allow_cross, "0", "compare across machine fingerprints", 0},
        RULE_FLAGS(o),
        {"all", FLAG_BOOL, &all, "0", "also list derived metrics", 0},
        {"brief", FLAG_BOOL, &brief, "0", "list only metrics that changed or were not judged", 0},
        {"json", FLAG_BOOL, &js, "0", "print the report as one JSON document (every verdict with its reason, interval, q and "
         "baseline; the same exit codes)", 0},
        {NULL}};
    char *pos[2];
    int npos = 0;
    int rc = flags_parse(defs, argc, argv, pos, 0, &npos, "griffin check [--baseline last:K|NAME] [--run RUN | --since RUN] [--json]",
                         "Regression check, one verdict per metric: regressed, improved, same, or not judged with the\n"
                         "reason. Timed metrics: run medians against the baseline's run-to-run spread (t-test on log\n"
                         "medians), Holm over every tested metric; counted accuracies: two-proportion test; other\n"
                         "deterministic metrics: --det-rtol. The verdicts are stored; a metric flagged 'regressed' stays\n"
                         "out of later rolling baselines until `griffin baseline accept`. README: reading a check report.\n"
                         "Exit 0 nothing regressed, 1 something regressed, 2 nothing could be judged or setup error\n"
                         "(no baseline, unreadable database, fingerprint mismatch).");
    if (rc >= 0) return rc;
    if ((rc = parse_rule_flags_sane(&o))) return rc;
    if (!strncmp(baseline, "last:", 5)) o.window = atoi(baseline + 5);
    store *s;
    if ((rc = open_db(&s, db))) return rc;
    store_id *runs = NULL;
    int n = 0, ret = 0;
    if (since) {
        store_id after = 0;
        runs = malloc(sizeof(store_id) * 4096);
        CHECK_ALLOC(runs);
        if (strcmp(since, "0") && (ret = resolve(s, since, &after)) != 0) goto out;
        if (store_runs_after(s, after, runs, 4096, &n) != 0) { ret = fail_msg(2); goto out; }
        if (n == 0) { fprintf(stderr, "error: no finished runs after run %lld to check\n", after); ret = 2; goto out; }
    } else {
        runs = malloc(sizeof(store_id));
        CHECK_ALLOC(runs);
        if ((ret = resolve(s, runspec, &runs[0])) != 0) goto out;
        n = 1;
        store_run_info ri;
        if (store_run_get(s, runs[0], &ri) != 0) { ret = fail_msg(2); goto out; }
        if (strcmp(ri.status, "ok"))
            fprintf(stderr, "warning: run %lld has status '%s'; checking what it stored\n", runs[0], ri.status);
    }
    check_report rep;
    if (check_runs(s, runs, n, baseline, &o, 1, &rep) != 0) {
        ret = fail_msg(2);
    } else {
        ret = report_exit(&rep);
        if (js) {
            print_report_json(&rep, &o, ret, ret == 1 ? "regression" : ret == 0 ? "clean" : rep.n_setup ? "setup error" : "nothing judged");
        } else {
            print_report(&rep, &o, all, brief);
            printf("result: %s\n", ret == 1 ? "REGRESSION" : ret == 0 ? "clean (nothing regressed)"
                                   : rep.n_setup ? "setup error (see above)" : "nothing could be judged");
        }
        if (util_stream_check(stdout, "stdout") != 0 && ret == 0) ret = fail_msg(2);
    }
    check_report_free(&rep);
out:
    free(runs);
    store_close(s);
    return ret;
}

int cmd_compare(int argc, char **argv) {
    const char *db = NULL;
    int all = 0, brief = 0, js = 0;
    check_opts o;
    check_opts_default(&o);
    flag_def defs[] = {
        DB_FLAG(db),
        RULE_FLAGS(o),
        {"all", FLAG_BOOL, &all, "0", "also list derived metrics", 0},
        {"brief", FLAG_BOOL, &brief, "0", "list only metrics that changed or were not judged", 0},
        {"json", FLAG_BOOL, &js, "0", "print the table as one JSON document (as check --json)", 0},
        {NULL}};
    char *pos[3];
    int npos = 0;
    int rc = flags_parse(defs, argc, argv, pos, 2, &npos, "griffin compare RUN_A RUN_B",
                         "The check's table between two runs (A = baseline, B = new), with the run-to-run drift\n"
                         "assumed (--drift): two runs cannot measure it. Nothing is stored. Exit 0 (1 on a store error).");
    if (rc >= 0) return rc;
    if (npos != 2) { fprintf(stderr, "usage: griffin compare RUN_A RUN_B\n"); return 2; }
    if ((rc = parse_rule_flags_sane(&o))) return rc;
    store *s;
    if ((rc = open_db(&s, db))) return rc;
    store_id a, b;
    if ((rc = resolve(s, pos[0], &a)) || (rc = resolve(s, pos[1], &b))) { store_close(s); return rc; }
    store_run_info ia, ib;
    if (store_run_get(s, a, &ia) || store_run_get(s, b, &ib)) { store_close(s); return fail_msg(2); }
    if (strcmp(ia.fingerprint, ib.fingerprint))
        fprintf(stderr, "warning: the runs are from different machines (%s vs %s)\n", ia.fingerprint, ib.fingerprint);
    o.allow_cross = 1;
    check_report rep;
    int ret = 0;
    if (check_compare(s, a, b, &o, &rep) != 0) ret = fail_msg(1);
    else if (js) print_report_json(&rep, &o, 0, "compared");
    else print_report(&rep, &o, all, brief);
    check_report_free(&rep);
    store_close(s);
    return ret;
}

/* ---- griffin baseline ------------------------------------------------------ */

int cmd_baseline(int argc, char **argv) {
    const char *db = NULL, *metric = NULL, *cs = NULL, *reason = NULL;
    flag_def defs[] = {
        DB_FLAG(db),
        {"metric", FLAG_STR, &metric, NULL, "accept: only this metric (e.g. real_time)", 0},
        {"case", FLAG_STR, &cs, NULL, "accept: only this case (its name, e.g. scan/seq, or its 16-digit case key)", 0},
        {"reason", FLAG_STR, &reason, NULL, "accept: why (kept with the acceptance)", 0},
        {NULL}};
    char *pos[4];
    int npos = 0;
    const char *usage = "griffin baseline set NAME RUN | get NAME | list | accept RUN [--metric M] [--case C] [--reason TEXT]";
    int rc = flags_parse(defs, argc, argv, pos, 4, &npos, usage,
                         "set/get: name a run as a fixed baseline for `griffin check --baseline NAME`.\n"
                         "accept: let a run's flagged results into the rolling baseline (an intended change, e.g. a\n"
                         "deliberate trade-off): until then a metric flagged 'regressed' in a run stays out of that\n"
                         "metric's rolling baseline, so a slowdown never becomes its own baseline.\n"
                         "list: the named baselines and every acceptance.");
    if (rc >= 0) return rc;
    const char *sub = npos > 0 ? pos[0] : "";
    int ok = (!strcmp(sub, "set") && npos == 3) || (!strcmp(sub, "get") && npos == 2) || (!strcmp(sub, "list") && npos == 1) ||
             (!strcmp(sub, "accept") && npos == 2);
    if (!ok) { fprintf(stderr, "usage: %s\n", usage); return 2; }
    if ((!strcmp(sub, "set") || !strcmp(sub, "get")) && !strncmp(pos[1], "last:", 5)) {
        fprintf(stderr, "error: baseline names may not start with 'last:' (that form means the last K runs)\n");
        return 2;
    }
    store *s;
    if ((rc = open_db(&s, db))) return rc;
    store_id run;
    int ret = 0;
    if (!strcmp(sub, "set")) {
        if ((ret = resolve(s, pos[2], &run)) == 0) {
            if (store_baseline_set(s, pos[1], run) != 0) ret = fail_msg(1);
            else printf("baseline '%s' = run %lld\n", pos[1], run);
        }
    } else if (!strcmp(sub, "get")) {
        int r = store_baseline_get(s, pos[1], &run);
        if (r == 0) printf("%lld\n", run);
        else { fprintf(stderr, "error: %s\n", r > 0 ? "no such baseline" : util_last_error()); ret = r > 0 ? 2 : 1; }
    } else if (!strcmp(sub, "list")) {
        if (store_list_baselines(s, stdout) != 0) ret = fail_msg(1);
    } else if ((ret = resolve(s, pos[1], &run)) == 0) {
        int nrules = 0, nflag = 0;
        if (store_accept(s, run, cs, metric, reason, &nrules, &nflag) != 0) ret = fail_msg(1);
        else if (nrules == 0) {
            fprintf(stderr, "error: run %lld has no case '%s'%s%s: nothing accepted\n", run, cs, metric ? " with metric " : "",
                    metric ? metric : "");
            ret = 2;
        } else
            printf("run %lld: accepted %s%s%s%s into the rolling baseline; %d flagged result%s now count%s\n", run,
                   cs ? "case " : "every case", cs ? cs : "", metric ? ", metric " : "", metric ? metric : "", nflag,
                   nflag == 1 ? "" : "s", nflag == 1 ? "s" : "");
    }
    store_close(s);
    return ret;
}

/* ---- griffin history -------------------------------------------------------- */

/* The run a history view ends at: --run, else the newest ok run (of --suite)
 * with results. 0 found, 1 none (message printed), 2 error. */
static int history_end(store *s, const char *runspec, const char *suite, store_id *run) {
    if (runspec && *runspec) return resolve(s, runspec, run) ? 2 : 0;
    int r = store_latest_with_results(s, suite, run);
    if (r < 0) return fail_msg(2);
    return r > 0 ? 1 : 0;
}

static const char *direction_words(int flags) { return (flags & STORE_HIGHER) ? "higher is better" : "lower is better"; }

/* Eight-level bars of the run medians (log scale), '.' for a missing run. */
static void sparkline(const check_series *se, char *out, size_t cap) {
    static const char *bars[8] = {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < se->npt; i++)
        if (se->pt[i].value > 0 && isfinite(se->pt[i].value)) {
            lo = fmin(lo, log(se->pt[i].value));
            hi = fmax(hi, log(se->pt[i].value));
        }
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < se->npt && len + 4 < cap; i++) {
        double v = se->pt[i].value;
        if (!(v > 0) || !isfinite(v)) { out[len++] = '.'; out[len] = 0; continue; }
        int k = hi > lo ? (int)floor(7.999 * (log(v) - lo) / (hi - lo)) : 3;
        len += (size_t)snprintf(out + len, cap - len, "%s", bars[k]);
    }
}

static void print_series(const check_series *se, const check_history *h) {
    char spark[512], marks[160], last[24], mid[24], blo[24], bhi[24];
    printf("%s %s \xc2\xb7 %s (%s%s%s)\n", se->name, se->params, se->metric, se->unit, se->unit[0] ? ", " : "",
           direction_words(se->flags));
    sparkline(se, spark, sizeof spark);
    int n = se->npt < (int)sizeof marks - 1 ? se->npt : (int)sizeof marks - 1;
    for (int i = 0; i < n; i++) {
        const check_hpoint *p = &se->pt[i];
        marks[i] = p->flagged ? 'F' : p->is_busy ? 'B' : p->accepted ? 'A' : ' ';
        for (int k = 0; k < se->ncp; k++) if (se->cp[k] == i && marks[i] == ' ') marks[i] = '|';
    }
    marks[n] = 0;
    printf("  %s\n  %s\n", spark, marks);
    const check_hpoint *lp = &se->pt[se->npt - 1];
    fmt_value(last, sizeof last, lp->value, se->unit);
    fmt_value(mid, sizeof mid, lp->band_mid, se->unit);
    fmt_value(blo, sizeof blo, lp->band_lo, se->unit);
    fmt_value(bhi, sizeof bhi, lp->band_hi, se->unit);
    printf("  newest run %lld: %s; its accepted baseline %s, a clean run falls in [%s, %s]\n", lp->run, last, mid, blo, bhi);
    for (int k = 0; k < se->ncp; k++) {
        const check_hpoint *p = &se->pt[se->cp[k]];
        printf("  change point: a new level from run %lld (commit %s, %s): %+.1f%%\n", p->run, p->commit, p->date,
               100 * se->cp_shift[k]);
    }
    if (se->ncp == 0) printf("  no change point (E-Divisive over %d runs)\n", se->npt);
    (void)h;
}

int cmd_history(int argc, char **argv) {
    const char *db = NULL, *runspec = NULL, *suite = NULL, *metric = NULL, *cname = NULL;
    int nruns = 30, all = 0;
    check_opts o;
    check_opts_default(&o);
    flag_def defs[] = {
        DB_FLAG(db),
        {"run", FLAG_STR, &runspec, NULL, "the newest run shown (default: the newest ok run with results)", 0},
        {"suite", FLAG_STR, &suite, NULL, "the newest run of this suite", 0},
        {"runs", FLAG_INT, &nruns, "30", "how many runs (of that suite, on that machine) to show", 0},
        {"metric", FLAG_STR, &metric, NULL, "only this metric (e.g. real_time)", 0},
        {"case", FLAG_STR, &cname, NULL, "only cases whose name contains this", 0},
        {"window", FLAG_INT, &o.window, "10", "K of the rolling baseline drawn as the band (last:K)", 0},
        {"busy-max", FLAG_FLOAT, &o.busy_max, XSTR(BUSY_JUDGE_MAX), "a run above this interference is marked busy", 0},
        {"all", FLAG_BOOL, &all, "0", "also show derived metrics", 0},
        {NULL}};
    char *pos[2];
    int npos = 0;
    int rc = flags_parse(defs, argc, argv, pos, 0, &npos, "griffin history [--suite S | --run RUN] [--metric M] [--runs 30]",
                         "Each metric's run medians over the last runs of one suite on one machine: bars (log scale),\n"
                         "marks (F flagged regressed, B busy: not judged, A accepted, | a change point), the newest\n"
                         "accepted baseline with the range a clean run falls in, and where a step change began\n"
                         "(E-Divisive means over the run medians, as MongoDB's and Hunter's performance CI use).");
    if (rc >= 0) return rc;
    if (nruns < 2 || o.window < 1) { fprintf(stderr, "error: --runs needs >= 2 and --window >= 1\n"); return 2; }
    store *s;
    if ((rc = open_db(&s, db))) return rc;
    store_id end;
    int r = history_end(s, runspec, suite, &end);
    if (r) {
        if (r == 1) fprintf(stderr, "error: no ok run with results%s%s yet\n", suite ? " of suite " : "", suite ? suite : "");
        store_close(s);
        return 2;
    }
    check_history h;
    if (check_history_load(s, end, nruns, metric, &o, &h) != 0) { store_close(s); return fail_msg(2); }
    printf("history: suite %s on machine %s, %d runs (%lld .. %lld)\n\n", h.suite, h.fingerprint, h.nruns, h.runs[0],
           h.runs[h.nruns - 1]);
    int shown = 0, hidden = 0;
    for (int i = 0; i < h.ns; i++) {
        if (cname && !strstr(h.s[i].name, cname)) continue;
        if (h.s[i].derived && !all) { hidden++; continue; }
        print_series(&h.s[i], &h);
        printf("\n");
        shown++;
    }
    if (hidden) printf("(%d derived metrics not shown: --all)\n", hidden);
    if (!shown) printf("(no metric matches)\n");
    check_history_free(&h);
    store_close(s);
    return 0;
}

/* The data of the history figure: `data` (one block per series, separated
 * by two blank lines: run, % of the series' newest accepted baseline, band
 * low, band high, flagged, busy, accepted, each NaN where it does not
 * apply) and `data`.gp (gnuplot arrays: panels, their series, change
 * points). One panel per (case name, metric), at most 12; at most 8 series
 * (params) per panel. Derived metrics are left out. */
static int write_history_data(const check_history *h, const char *data) {
    char gp[4200];
    snprintf(gp, sizeof gp, "%s.gp", data);
    FILE *fd = fopen(data, "w"), *fg = fopen(gp, "w");
    if (!fd || !fg) {
        fprintf(stderr, "error: cannot write %s: %s\n", fd ? gp : data, strerror(errno));
        if (fd) fclose(fd);
        if (fg) fclose(fg);
        return -1;
    }
    enum { MAXP = 12, MAXS = 8 };
    int pfirst[MAXP], plast[MAXP], np = 0, nblock = 0, more = 0;
    const check_series *pser[MAXP];
    char titles[MAXP * MAXS][240];
    int cpp[64], ncpp = 0;
    store_id cpx[64];
    int *done = calloc((size_t)(h->ns + 1), sizeof(int));
    CHECK_ALLOC(done);
    for (int i = 0; i < h->ns; i++) {
        const check_series *a = &h->s[i];
        if (done[i] || a->derived) continue;
        if (np == MAXP) { more++; continue; }
        pser[np] = a;
        pfirst[np] = nblock;
        int ns = 0;
        for (int j = i; j < h->ns; j++) {
            const check_series *b = &h->s[j];
            if (done[j] || b->derived || strcmp(a->name, b->name) || strcmp(a->metric, b->metric)) continue;
            done[j] = 1;
            if (ns == MAXS) continue;
            double ref = NAN;
            for (int t = b->npt - 1; t >= 0 && isnan(ref); t--) if (isfinite(b->pt[t].band_mid)) ref = b->pt[t].band_mid;
            for (int t = b->npt - 1; t >= 0 && isnan(ref); t--) if (isfinite(b->pt[t].value)) ref = b->pt[t].value;
            if (!(ref != 0) || !isfinite(ref)) ref = 1;
            fprintf(fd, "# %s %s %s\n", b->name, b->params, b->metric);
            for (int t = 0; t < b->npt; t++) {
                const check_hpoint *p = &b->pt[t];
                double y = 100 * p->value / ref;
                fprintf(fd, "%lld %.6g %.6g %.6g %.6g %.6g %.6g\n", p->run, y, 100 * p->band_lo / ref, 100 * p->band_hi / ref,
                        p->flagged ? y : NAN, p->is_busy ? y : NAN, p->accepted ? y : NAN);
            }
            fprintf(fd, "\n\n");
            snprintf(titles[nblock], sizeof titles[0], "%s", b->params[0] ? b->params : b->name);
            for (int k = 0; k < b->ncp && ncpp < 64; k++) {
                cpx[ncpp] = b->pt[b->cp[k]].run;
                cpp[ncpp++] = np + 1;
            }
            nblock++;
            ns++;
        }
        plast[np++] = nblock - 1;
    }
    free(done);
    fprintf(fg, "# written by griffin plot history from the results database\nNP = %d\nNB = %d\nMORE = %d\n", np, nblock, more);
    fprintf(fg, "XMIN = %lld\nXMAX = %lld\n", h->nruns ? h->runs[0] : 0, h->nruns ? h->runs[h->nruns - 1] : 1);
    fprintf(fg, "SUITE = '%s'\nMACHINE = '%s'\nNRUNS = %d\n", h->suite, h->fingerprint, h->nruns);
    fprintf(fg, "array PT[%d]\narray P0[%d]\narray P1[%d]\narray ST[%d]\narray CPX[%d]\narray CPP[%d]\nNCP = %d\n", np ? np : 1,
            np ? np : 1, np ? np : 1, nblock ? nblock : 1, ncpp ? ncpp : 1, ncpp ? ncpp : 1, ncpp);
    for (int p = 0; p < np; p++) {
        char t[300];
        snprintf(t, sizeof t, "%s: %s%s%s, %s", pser[p]->name, pser[p]->metric, pser[p]->unit[0] ? " in " : "", pser[p]->unit,
                 direction_words(pser[p]->flags));
        for (char *c = t; *c; c++) if (*c == '\'') *c = ' ';
        fprintf(fg, "PT[%d] = '%s'\nP0[%d] = %d\nP1[%d] = %d\n", p + 1, t, p + 1, pfirst[p], p + 1, plast[p]);
    }
    for (int b = 0; b < nblock; b++) {
        for (char *c = titles[b]; *c; c++) if (*c == '\'') *c = ' ';
        fprintf(fg, "ST[%d] = '%s'\n", b + 1, titles[b]);
    }
    for (int k = 0; k < ncpp; k++) fprintf(fg, "CPX[%d] = %lld\nCPP[%d] = %d\n", k + 1, cpx[k], k + 1, cpp[k]);
    int bad = ferror(fd) || ferror(fg);
    bad |= fclose(fd) != 0;
    bad |= fclose(fg) != 0;
    if (bad) { fprintf(stderr, "error: writing %s failed (disk full?)\n", data); return -1; }
    return 0;
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
                                       "label", "skipped", "skip_message",
                                       /* interference counters (bench/gbench_shim.cc): stored as result.busy */
                                       "busy_cpu_s", "busy_others_s", "busy_steal_s", NULL};
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
    /* rates first: "bytes_per_second" would otherwise match "s_per_" */
    if (strstr(k, "per_second") || strstr(k, "/s")) return STORE_HIGHER;
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

/* The interference over a benchmark's repetitions from the shim's counters:
 * what others ran over all CPU time of every repetition, summed first and
 * divided once (each repetition alone is too short for the clock ticks). */
static busy_result rows_busy(json **rows, int n) {
    busy_result b;
    memset(&b, 0, sizeof b);
    double cpu = 0, others = 0, steal = 0;
    for (int i = 0; i < n; i++) {
        cpu += json_get_num(rows[i], "busy_cpu_s", 0);
        others += json_get_num(rows[i], "busy_others_s", 0);
        steal += json_get_num(rows[i], "busy_steal_s", 0);
    }
    if (cpu > 0) {
        b.ok = 1;
        b.cpu_s = cpu;
        b.others = busy_fraction(cpu, others, steal);
        b.steal = steal / cpu;
    }
    return b;
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
            busy_result br = rows_busy(g[k].iters, g[k].ni);
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
                if (store_result_samples_busy(s, run, cs, key, metric_unit(key, first), metric_flags(key), xs, n, &br) != 0) {
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
            busy_result br = rows_busy(mean ? &mean : &ref, ref ? 1 : 0); /* means of the counters: the same ratio */
            for (int f = 0; ref && f < ref->n; f++) {
                const char *key = ref->keys[f];
                if (is_meta_field(key) || ref->items[f]->type != JSON_NUM) continue;
                int reps = (int)json_get_num(ref, "repetitions", 0);
                if (store_result_aggregate(s, run, cs, key, metric_unit(key, ref), metric_flags(key), reps,
                                           json_get_num(med, key, NAN), json_get_num(mean, key, NAN),
                                           json_get_num(sd, key, NAN), NAN, NAN, NAN, &br) != 0)
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
    {"scan", "kernels", "RG-LRU scan variants: GB/s vs T against the copy bandwidth (App. D)"},
    {"attention", "kernels", "local attention variants: GFLOP/s vs T against the sgemm rate"},
    {"roofline", "kernels", "each kernel's achieved rate against the measured limits"},
    {"history", "(nightly)", "the nightly check's view: one panel per metric, accepted baseline band, flagged/busy runs, change points"},
    {"fig3_train_step", "throughput", "training step time vs T, relative to MQA at the shortest T (Fig. 3)"},
    {"fig1b_decode_throughput", "throughput", "decode tokens/s vs sample length (Fig. 1b)"},
    {"fig4_latency", "latency", "time to sample N tokens (Fig. 4)"},
    {"fig4b_decode_model", "latency", "decode step: measured vs (params + B x cache) / bandwidth (§5.1)"},
    {"fig5_longctx", "longctx", "loss by position, log x, T_train marked (Fig. 5)"},
    {"fig6_copyret", "copyret", "copy/retrieval accuracy (Fig. 6a-d)"},
    {"training", "train", "a griffin train run: training loss and held-out metric by step"},
    {"scaling", "train", "data-parallel training: tokens/s and scaling efficiency of ranks vs one process, ring model to 64 ranks"},
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
                       const char *run, const char *metric, const char *data) {
    char script[4200], vars[16400], tmpdir[4096];
    const char *td = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/griffin-plot.XXXXXX", td && *td ? td : "/tmp");
    if (!mkdtemp(tmpdir) || strchr(tmpdir, '\'')) {
        fprintf(stderr, "error: %s: cannot create a temporary folder for gnuplot: %s\n", tmpdir, strerror(errno));
        return -1;
    }
    snprintf(script, sizeof script, "%s/%s.gp", dir, fig);
    snprintf(vars, sizeof vars, "db='%s'; out='%s/%s'; fmt='%s'; run='%s'; dir='%s'; metric='%s'; data='%s'", db, tmpdir, fig, fmt,
             run, dir, metric, data);
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
    store_id r = 0;
    if (runspec) {
        if ((rc = resolve(s, runspec, &r))) { store_close(s); return rc; }
        snprintf(runid, sizeof runid, "%lld", r);
    }
    if (mkdir_p(out) != 0) { fprintf(stderr, "error: cannot create %s: %s\n", out, strerror(errno)); store_close(s); return 2; }
    /* history: the check's own view (bands, flags, change points) as data files */
    char hdata[4200] = "";
    for (int i = 0; i < NFIG; i++) {
        if (!want[i] || strcmp(FIGURES[i].name, "history")) continue;
        store_id end = r;
        int found = r > 0 ? 0 : store_latest_with_results(s, NULL, &end);
        if (found < 0) { store_close(s); return fail_msg(2); }
        if (found > 0) break; /* nothing yet: the script draws its placeholder */
        check_opts o;
        check_opts_default(&o);
        check_history h;
        if (check_history_load(s, end, 30, metric[0] ? metric : NULL, &o, &h) != 0) { store_close(s); return fail_msg(2); }
        snprintf(hdata, sizeof hdata, "%s/history.data", out);
        int wr = write_history_data(&h, hdata);
        check_history_free(&h);
        if (wr != 0) { store_close(s); return 1; }
    }
    store_close(s);
    int failed = 0;
    for (int i = 0; i < NFIG; i++) {
        if (!want[i]) continue;
        for (const char *t = term; *t;) {
            size_t n = strcspn(t, ",");
            char fmt[8];
            snprintf(fmt, sizeof fmt, "%.*s", (int)n, t);
            if (run_gnuplot(dir, FIGURES[i].name, path, out, fmt, runid, metric,
                            strcmp(FIGURES[i].name, "history") ? "" : hdata) != 0) {
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
