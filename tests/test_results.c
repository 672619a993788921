/* test_results.c — the results store, JSON, the regression check and the
 * Google Benchmark importer (results/).
 *
 *   build/tests/test_results                 run the tests (temp files under $TMPDIR)
 *   build/tests/test_results --fill DB       write demo data for every figure (used by
 *                                            tests/test_results.sh and for trying `griffin plot`)
 *   build/tests/test_results --writer DB N   write N small runs (concurrency test)
 *   build/tests/test_results --hang DB       begin a run, write cases forever (SIGKILL test);
 *                                            prints "ready" after the third case
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "commands.h"
#include "json.h"
#include "machine.h"
#include "stats.h"
#include "store.h"
#include "test.h"
#include "util.h"

static char g_dir[256];

static const char *tmp_path(const char *name) {
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static int write_case(store *s, store_id run, int i, int reps, double center) {
    char params[64];
    snprintf(params, sizeof params, "{\"i\":%d}", i);
    store_id cs;
    double x[64];
    rng_t r;
    rng_seed(&r, (uint64_t)(i * 7919 + reps));
    for (int k = 0; k < reps; k++) x[k] = center * (1 + 0.002 * rng_normal(&r));
    if (store_tx_begin(s) || store_case(s, "unit", "case", params, &cs) ||
        store_result_samples(s, run, cs, "time", "s", STORE_LOWER, x, reps) || store_tx_commit(s))
        return -1;
    return 0;
}

/* ---- helper modes ------------------------------------------------------- */

static int mode_writer(const char *db, int n) {
    store *s;
    if (store_open(&s, db)) { fprintf(stderr, "%s\n", util_last_error()); return 1; }
    char *av[] = {"writer"};
    for (int i = 0; i < n; i++) {
        store_id run;
        if (store_run_begin(s, "conc", "smoke", 1, av, (unsigned long long)i, &run) || write_case(s, run, 0, 5, 1.0) ||
            write_case(s, run, 1, 5, 2.0) || store_run_end(s, run, "ok")) {
            fprintf(stderr, "writer: %s\n", util_last_error());
            store_close(s);
            return 1;
        }
    }
    store_close(s);
    return 0;
}

static int mode_hang(const char *db) {
    store *s;
    if (store_open(&s, db)) { fprintf(stderr, "%s\n", util_last_error()); return 1; }
    char *av[] = {"hang"};
    store_id run;
    if (store_run_begin(s, "hang", "smoke", 1, av, 1, &run)) return 1;
    for (int i = 0;; i++) {
        if (write_case(s, run, i, 5, 1.0)) { fprintf(stderr, "%s\n", util_last_error()); return 1; }
        if (i == 2) { printf("ready\n"); fflush(stdout); }
    }
}

static void curve_fn(store *s, store_id run, const char *name, const char *series, double x0, double mul, int n,
                     double (*f)(double, double), double p) {
    double xs[64], ys[64];
    for (int i = 0; i < n; i++) { xs[i] = x0 * pow(mul, i); ys[i] = f(xs[i], p); }
    store_curve(s, run, 0, name, series, xs, ys, n);
}
static double f_loss(double x, double t) { return 2.0 + 3.0 / sqrt(x) + (t > 0 && x > t ? 0.2 * log(x / t) : 0); }
static double f_lin(double x, double a) { return a * x; }
static double f_flat(double x, double a) { return a + 0 * x; }
static double f_acc(double x, double a) { return 1.0 - exp(-x / a); }
static double f_acclen(double x, double t) { return x <= t ? 1.0 : t / x; }

static int mode_fill(const char *db) {
    store *s;
    if (store_open(&s, db)) { fprintf(stderr, "%s\n", util_last_error()); return 1; }
    char *av[] = {"fill"};
    store_id run;
    /* three nightly-like runs for history */
    for (int r = 0; r < 3; r++) {
        store_run_begin(s, "gbench", "nightly", 1, av, 0, &run);
        for (int c = 0; c < 3; c++) {
            char params[64];
            store_id cs;
            double x[5];
            for (int T = 256; T <= 4096; T *= 2) {
                snprintf(params, sizeof params, "{\"T\":%d,\"threads\":1}", T);
                const char *names[] = {"scan_seq", "scan_chunked", "scan_assoc"};
                store_case(s, "gbench", names[c], params, &cs);
                for (int k = 0; k < 5; k++) x[k] = (c + 1) * 1e9 * (1 + 0.01 * k) * (1 + 0.1 * log2(T / 256.0)) * (1 + 0.02 * r);
                store_result_samples(s, run, cs, "bytes_per_second", "B/s", STORE_HIGHER, x, 5);
            }
        }
        store_run_end(s, run, "ok");
    }
    store_run_begin(s, "demo", "smoke", 1, av, 0, &run);
    curve_fn(s, run, "loss_by_position", "Hawk T=256", 1, 2, 12, f_loss, 0);
    curve_fn(s, run, "loss_by_position", "MQA T=256", 1, 2, 12, f_loss, 256);
    curve_fn(s, run, "loss_by_position", "Hawk T=1024", 1, 2, 12, f_loss, 0);
    curve_fn(s, run, "decode_throughput", "Hawk", 512, 2, 4, f_flat, 900);
    curve_fn(s, run, "decode_throughput", "MQA", 512, 2, 4, f_flat, 300);
    curve_fn(s, run, "decode_latency", "Hawk prompt=0", 128, 2, 6, f_lin, 0.001);
    curve_fn(s, run, "decode_latency", "MQA prompt=4096", 128, 2, 6, f_lin, 0.003);
    curve_fn(s, run, "train_step_time", "MQA d=256", 256, 2, 5, f_lin, 0.0001);
    curve_fn(s, run, "train_step_time", "Hawk d=256", 256, 2, 5, f_flat, 0.03);
    curve_fn(s, run, "selcopy_acc_by_step", "Hawk", 100, 2, 6, f_acc, 2000);
    curve_fn(s, run, "selcopy_acc_by_step", "MQA", 100, 2, 6, f_acc, 300);
    curve_fn(s, run, "induction_acc_by_len", "MQA", 64, 2, 6, f_acclen, 256);
    curve_fn(s, run, "phonebook_acc_by_size", "Griffin", 20, 2, 5, f_acclen, 80);
    curve_fn(s, run, "mqar_acc_by_pairs", "Hawk", 2, 2, 5, f_acclen, 16);
    curve_fn(s, run, "train_loss", "synth-mqa", 10, 2, 8, f_loss, 0);
    curve_fn(s, run, "heldout_accuracy", "synth-mqa", 100, 2, 5, f_acc, 300);
    curve_fn(s, run, "decode_model", "Hawk len=1024 measured", 1, 2, 5, f_lin, 0.5);
    curve_fn(s, run, "decode_model", "Hawk len=1024 predicted", 1, 2, 5, f_lin, 0.4);
    curve_fn(s, run, "scan_gbps", "seq", 256, 2, 5, f_flat, 10);
    curve_fn(s, run, "scan_gbps", "chunked", 256, 2, 5, f_flat, 14);
    curve_fn(s, run, "rglru_gbps", "fused C=1024", 256, 2, 5, f_flat, 9);
    curve_fn(s, run, "attn_gflops", "tiled W=1024", 1024, 2, 4, f_flat, 40);
    double zero = 0, bw = 20, pk = 100, ai[2] = {0.25, 30}, gf[2] = {4, 80};
    store_curve(s, run, 0, "roofline_limits", "GB/s", &zero, &bw, 1);
    store_curve(s, run, 0, "roofline_limits", "GFLOP/s", &zero, &pk, 1);
    store_curve(s, run, 0, "roofline", "scan_seq", ai, gf, 1);
    store_curve(s, run, 0, "roofline", "gemm", ai + 1, gf + 1, 1);
    store_claim(s, run, "demo", "Hawk decode is flat in length", "slope 0.1%", "reproduced");
    int rc = store_run_end(s, run, "ok");
    store_close(s);
    return rc ? 1 : 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_json(void) {
    char err[128];
    json *v = json_parse("{\"a\": [1, 2.5, \"x\\n\\u00e9\"], \"b\": {\"z\": true, \"y\": null}, \"c\": -3e2}", err, sizeof err);
    TEST_CHECK(v != NULL, "parse: %s", err);
    if (v) {
        json *a = json_get(v, "a");
        TEST_CHECK(a && a->type == JSON_ARR && a->n == 3 && a->items[1]->num == 2.5, "array");
        TEST_CHECK(a && !strcmp(a->items[2]->str, "x\n\xc3\xa9"), "escapes");
        TEST_CHECK(json_get_num(v, "c", 0) == -300, "number");
        json_free(v);
    }
    TEST_CHECK(json_parse("{\"a\":1,}", err, sizeof err) == NULL && strstr(err, "line 1"), "trailing comma rejected: %s", err);
    TEST_CHECK(json_parse("[1, 2", err, sizeof err) == NULL, "unterminated rejected");
    char *c1 = json_canonical("{ \"b\":2, \"a\" : {\"y\":1,\"x\":[3, \"s\"]}}", err, sizeof err);
    TEST_CHECK(c1 && !strcmp(c1, "{\"a\":{\"x\":[3,\"s\"],\"y\":1},\"b\":2}"), "canonical: %s", c1 ? c1 : err);
    free(c1);
    char k1[17], k2[17], k3[17];
    store_case_key("s", "n", "{\"B\":1,\"T\":256}", k1);
    store_case_key("s", "n", "{ \"T\": 256, \"B\": 1 }", k2);
    store_case_key("s", "n", "{\"B\":1,\"T\":512}", k3);
    TEST_CHECK(!strcmp(k1, k2) && strcmp(k1, k3), "case key: order-insensitive, value-sensitive");
    TEST_CHECK(store_case_key("s", "n", "{bad", k3) != 0, "bad params rejected");
}

static void test_migrations(void) {
    store *s;
    const char *p = tmp_path("mig_empty.sqlite");
    TEST_CHECK(store_open(&s, p) == 0, "open empty: %s", util_last_error());
    if (!s) return;
    TEST_CHECK(store_schema_version(s) == STORE_SCHEMA_VERSION, "empty -> v%d", STORE_SCHEMA_VERSION);
    store_close(s);
    /* from v1 with data */
    p = tmp_path("mig_v1.sqlite");
    TEST_CHECK(store_open_version(&s, p, 1) == 0, "open at v1: %s", util_last_error());
    if (!s) return;
    TEST_CHECK(store_schema_version(s) == 1, "is v1");
    char *av[] = {"x"};
    store_id run;
    TEST_CHECK(store_run_begin(s, "unit", NULL, 1, av, 1, &run) == 0, "v1 run: %s", util_last_error());
    TEST_CHECK(write_case(s, run, 0, 5, 1.0) == 0, "v1 case: %s", util_last_error());
    TEST_CHECK(store_claim(s, run, "unit", "c", "m", "reproduced") != 0, "v1 has no claim table");
    store_run_end(s, run, "ok");
    store_close(s);
    TEST_CHECK(store_open(&s, p) == 0, "migrate v1 -> v%d: %s", STORE_SCHEMA_VERSION, util_last_error());
    if (!s) return;
    TEST_CHECK(store_schema_version(s) == STORE_SCHEMA_VERSION, "now v%d", STORE_SCHEMA_VERSION);
    store_metric *m = NULL;
    int n = 0;
    TEST_CHECK(store_load_metrics(s, &run, 1, &m, &n) == 0 && n == 1 && m[0].ns == 5, "v1 data survives (n=%d)", n);
    store_id cid = n > 0 ? m[0].case_id : 0;
    store_metrics_free(m, n);
    TEST_CHECK(store_claim(s, run, "unit", "claim", "measured", "reproduced") == 0, "claim after migration: %s", util_last_error());
    TEST_CHECK(store_claim(s, run, "unit", "claim", "measured", "maybe") != 0, "verdict is checked");
    busy_result br = {1, 1.0, 0.25, 0.05, 0.7, 0.05};
    double xs[3] = {1, 2, 3};
    TEST_CHECK(store_result_samples_busy(s, run, cid, "timed", "s", STORE_LOWER, xs, 3, &br) == 0,
               "samples with interference after migration: %s", util_last_error());
    TEST_CHECK(store_claim_judged(s, run, "unit", "u1", "statement", "measured", "inconclusive", "{\"rule\":\"x\"}",
                                  "{\"a\":1}", "because") == 0, "judged claim after migration: %s", util_last_error());
    TEST_CHECK(store_case_failed(s, run, 0, "it broke") == 0, "failed case after migration: %s", util_last_error());
    TEST_CHECK(store_integrity_check(s) == 0, "integrity after migration");
    store_close(s);
    TEST_CHECK(store_open(&s, p) == 0 && store_schema_version(s) == STORE_SCHEMA_VERSION, "reopen is idempotent");
    store_close(s);
}

static void test_roundtrip(void) {
    store *s;
    const char *p = tmp_path("rt.sqlite");
    if (store_open(&s, p)) { TEST_CHECK(0, "open: %s", util_last_error()); return; }
    char *av[] = {"griffin", "run", "latency", "--seed", "7"};
    store_id run, cs;
    TEST_CHECK(store_run_begin(s, "latency", "cpu", 5, av, 7, &run) == 0, "run begin");
    TEST_CHECK(store_case(s, "latency", "decode_step", "{\"model\":\"hawk\",\"B\":1}", &cs) == 0, "case");
    double x[] = {3, 1, 2, 5, 4};
    TEST_CHECK(store_result_samples(s, run, cs, "step_time", "s", STORE_LOWER, x, 5) == 0, "samples");
    double loss[] = {2.5};
    TEST_CHECK(store_result_samples(s, run, cs, "loss", "nats", STORE_LOWER | STORE_DETERMINISTIC, loss, 1) == 0, "det");
    double xs[] = {1, 2, NAN, 4}, ys[] = {1, NAN, 3, 4};
    TEST_CHECK(store_curve(s, run, cs, "decode_latency", "Hawk prompt=0", xs, ys, 4) == 0, "curve");
    TEST_CHECK(store_run_end(s, run, "ok") == 0, "end");
    TEST_CHECK(store_run_end(s, run, "bogus") != 0, "bad status rejected");
    store_run_info ri;
    TEST_CHECK(store_run_get(s, run, &ri) == 0 && !strcmp(ri.status, "ok") && ri.n_results == 2 && ri.seed == 7, "run info");
    store_id r2 = 0;
    char pre[9];
    snprintf(pre, sizeof pre, "%.8s", ri.uuid);
    TEST_CHECK(store_run_resolve(s, pre, &r2) == 0 && r2 == run, "resolve uuid prefix");
    TEST_CHECK(store_run_resolve(s, "latest", &r2) == 0 && r2 == run, "resolve latest");
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", run);
    TEST_CHECK(store_run_resolve(s, idtxt, &r2) == 0 && r2 == run, "resolve id");
    TEST_CHECK(store_run_resolve(s, "zzzz", &r2) != 0, "bad spec");
    store_metric *m = NULL;
    int n = 0;
    TEST_CHECK(store_load_metrics(s, &run, 1, &m, &n) == 0 && n == 2, "load");
    for (int i = 0; i < n; i++)
        if (!strcmp(m[i].metric, "step_time"))
            TEST_CHECK(m[i].median == 3 && m[i].mad == 1 && m[i].ns == 5 && m[i].samples[0] == 3, "aggregates from samples");
    store_metrics_free(m, n);
    /* export JSON parses back */
    FILE *f = fopen(tmp_path("rt.json"), "w+");
    TEST_CHECK(f && store_export_run(s, f, run, 1) == 0, "export json");
    if (f) {
        rewind(f);
        char buf[16384];
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        buf[k] = 0;
        fclose(f);
        char err[128];
        json *v = json_parse(buf, err, sizeof err);
        TEST_CHECK(v != NULL, "export is JSON: %s", err);
        json *res = json_get(v, "results");
        TEST_CHECK(res && res->n == 2, "two results exported");
        json *cv = json_get(v, "curves");
        TEST_CHECK(cv && cv->n == 1 && json_get(cv->items[0], "x")->n == 3, "curve exported without the NaN x");
        json_free(v);
    }
    TEST_CHECK(store_baseline_set(s, "ref", run) == 0, "baseline set");
    TEST_CHECK(store_baseline_get(s, "ref", &r2) == 0 && r2 == run, "baseline get");
    TEST_CHECK(store_baseline_get(s, "nope", &r2) == 1, "missing baseline");
    TEST_CHECK(store_integrity_check(s) == 0, "integrity");
    store_close(s);
}

static void test_corrupt(void) {
    store *s = NULL;
    const char *p = tmp_path("notdb.sqlite");
    FILE *f = fopen(p, "w");
    fputs("this is a text file, not a database\n", f);
    fclose(f);
    TEST_CHECK(store_open(&s, p) != 0 && s == NULL, "text file rejected");
    TEST_CHECK(strstr(util_last_error(), p) && strstr(util_last_error(), "not an SQLite database"), "message names the file: %s", util_last_error());
    /* an SQLite header followed by garbage */
    p = tmp_path("corrupt.sqlite");
    f = fopen(p, "w");
    fwrite("SQLite format 3", 1, 16, f);
    for (int i = 0; i < 8000; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    TEST_CHECK(store_open(&s, p) != 0, "corrupt file rejected");
    TEST_CHECK(strstr(util_last_error(), p) != NULL, "message names the file: %s", util_last_error());
    /* a valid database truncated in the middle */
    const char *good = tmp_path("rt.sqlite");
    store *g;
    if (store_open(&g, good) == 0) store_close(g);
    TEST_CHECK(store_open(&s, tmp_path("")) != 0, "a directory is rejected");
}

static void test_concurrent(void) {
    const char *p = tmp_path("conc.sqlite");
    store *s;
    if (store_open(&s, p)) { TEST_CHECK(0, "open: %s", util_last_error()); return; }
    store_close(s);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) _exit(mode_writer(p, 25));
    }
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        int st;
        waitpid(kids[k], &st, 0);
        ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    TEST_CHECK(ok, "both writers succeeded");
    if (store_open(&s, p)) { TEST_CHECK(0, "reopen: %s", util_last_error()); return; }
    store_id last = 0;
    store_last_run_id(s, &last);
    TEST_CHECK(last == 50, "50 runs written (%lld)", last);
    int good = 0;
    for (store_id r = 1; r <= last; r++) {
        store_run_info ri;
        if (store_run_get(s, r, &ri) == 0 && !strcmp(ri.status, "ok") && ri.n_results == 2) good++;
    }
    TEST_CHECK(good == 50, "every run complete (%d)", good);
    TEST_CHECK(store_integrity_check(s) == 0, "integrity");
    store_close(s);
}

static void test_sigkill(void) {
    const char *p = tmp_path("kill.sqlite");
    int fds[2];
    if (pipe(fds)) return;
    pid_t kid = fork();
    if (kid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        _exit(mode_hang(p));
    }
    close(fds[1]);
    char buf[8] = {0};
    ssize_t k = read(fds[0], buf, 6);
    TEST_CHECK(k > 0 && !strncmp(buf, "ready", 5), "writer got going");
    usleep(20000);
    kill(kid, SIGKILL);
    int st;
    waitpid(kid, &st, 0);
    close(fds[0]);
    TEST_CHECK(WIFSIGNALED(st), "writer was killed");
    store *s;
    if (store_open(&s, p)) { TEST_CHECK(0, "reopen after kill: %s", util_last_error()); return; }
    TEST_CHECK(store_interrupted_on_open(s) == 1, "stale run marked on open (%d)", store_interrupted_on_open(s));
    store_run_info ri;
    TEST_CHECK(store_run_get(s, 1, &ri) == 0 && !strcmp(ri.status, "interrupted"), "status interrupted (%s)", ri.status);
    TEST_CHECK(ri.n_results >= 3, "committed cases kept (%d)", ri.n_results);
    TEST_CHECK(store_integrity_check(s) == 0, "integrity after SIGKILL: %s", util_last_error());
    store_close(s);
}

static int run_cmd_v(int (*fn)(int, char **), const char **args) {
    char *argv[16];
    int argc = 0;
    while (args[argc] && argc < 15) { argv[argc] = (char *)args[argc]; argc++; }
    argv[argc] = NULL;
    fflush(stdout);
    int rc = fn(argc, argv);
    fflush(stdout);
    return rc;
}
#define run_cmd(fn, ...) run_cmd_v(fn, (const char *[]){__VA_ARGS__, NULL})

/* A suite run: one timed metric (reps samples around center*(1+noise)),
 * its exact reciprocal (a derived rate), a deterministic loss and a counted
 * accuracy (acc of 256); busy: the interference recorded with the timing. */
typedef struct { double center, noise, loss, busy; int reps; long acc; } synth_spec;
static store_id synth_run2(store *s, const char *suite, const synth_spec *sp, uint64_t seed, const machine_info *m) {
    char *av[] = {"synth"};
    store_id run, cs;
    store_run_begin_with(s, m, suite, "smoke", 1, av, seed, NULL, &run);
    store_case(s, suite, "step", "{\"T\":256}", &cs);
    double x[32], r[32];
    rng_t g;
    rng_seed(&g, seed);
    for (int k = 0; k < sp->reps; k++) { x[k] = sp->center * (1 + sp->noise * rng_normal(&g)); r[k] = 256 / x[k]; }
    busy_result b = {1, 1.0, sp->busy, 0, 0.5, 0.5, 2.0, 2.0 * sp->busy, 0};
    store_result_samples_busy(s, run, cs, "time", "s", STORE_LOWER, x, sp->reps, &b);
    store_result_samples_busy(s, run, cs, "tokens_per_s", "tokens/s", STORE_HIGHER, r, sp->reps, &b);
    store_result_samples(s, run, cs, "loss", "nats", STORE_LOWER | STORE_DETERMINISTIC, &sp->loss, 1);
    store_result_count(s, run, cs, "accuracy", STORE_HIGHER, sp->acc, 256);
    store_run_end(s, run, "ok");
    return run;
}
static store_id synth_run(store *s, const char *suite, double center, double noise, int reps, double loss, uint64_t seed,
                          const machine_info *m) {
    synth_spec sp = {center, noise, loss, 0.0, reps, 200};
    return synth_run2(s, suite, &sp, seed, m);
}

/* The verdict of metric `metric` of run `run` when checked against last:10. */
static check_verdict verdict_of(store *s, store_id run, const char *metric, const char *baseline, char *reason, size_t cap) {
    check_opts o;
    check_opts_default(&o);
    check_report rep;
    check_verdict v = (check_verdict)-1;
    if (check_runs(s, &run, 1, baseline, &o, 1, &rep) == 0)
        for (int i = 0; i < rep.nf; i++)
            if (!strcmp(rep.f[i].metric, metric)) {
                v = rep.f[i].verdict;
                if (reason) snprintf(reason, cap, "%s", rep.f[i].reason);
            }
    check_report_free(&rep);
    return v;
}

static void test_check(void) {
    const char *p = tmp_path("check.sqlite");
    store *s;
    char id[24], why[240];
    if (store_open(&s, p)) { TEST_CHECK(0, "open: %s", util_last_error()); return; }
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p) == 2, "empty db: setup error");
    rng_t night;
    rng_seed(&night, 77);
    /* nights: the run median moves 2% from night to night, repetitions 1% */
    store_id first = synth_run(s, "synth", 1.0, 0.01, 5, 2.0, 1, NULL);
    snprintf(id, sizeof id, "%lld", first);
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id) == 2, "first run: nothing can be judged");
    TEST_CHECK(verdict_of(s, first, "time", "last:10", why, sizeof why) == CHECK_NOT_JUDGED && strstr(why, "no baseline yet"),
               "first run: 'no baseline yet' (%s)", why);
    for (int i = 2; i <= 8; i++) {
        store_id r = synth_run(s, "synth", 1.0 + 0.02 * rng_normal(&night), 0.01, 5, 2.0, (uint64_t)i, NULL);
        snprintf(id, sizeof id, "%lld", r);
        TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id) == 0, "unchanged night %d is clean", i);
    }
    /* a 30% slowdown, three nights running: flagged every night (the slowed
     * runs never enter the baseline), then clean again without acceptance */
    store_id slow[3];
    for (int k = 0; k < 3; k++) {
        slow[k] = synth_run(s, "synth", 1.3 + 0.02 * rng_normal(&night), 0.01, 5, 2.0, (uint64_t)(100 + k), NULL);
        snprintf(id, sizeof id, "%lld", slow[k]);
        TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id) == 1, "slowed night %d: exit 1", k + 1);
    }
    TEST_CHECK(verdict_of(s, slow[2], "time", "last:10", why, sizeof why) == CHECK_REGRESSED, "third slowed night: regressed (%s)", why);
    TEST_CHECK(verdict_of(s, slow[2], "tokens_per_s", "last:10", why, sizeof why) == CHECK_REGRESSED && strstr(why, "derived from time"),
               "the reciprocal rate is derived and follows it (%s)", why);
    store_id back = synth_run(s, "synth", 1.0, 0.01, 5, 2.0, 110, NULL);
    snprintf(id, sizeof id, "%lld", back);
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id) == 0, "normal build back: clean, no acceptance needed");
    store_id fast = synth_run(s, "synth", 0.7, 0.01, 5, 2.0, 111, NULL);
    TEST_CHECK(verdict_of(s, fast, "time", "last:10", NULL, 0) == CHECK_IMPROVED, "30%% faster: improved");
    store_id small = synth_run(s, "synth", 1.01, 0.01, 5, 2.0, 112, NULL);
    TEST_CHECK(verdict_of(s, small, "time", "last:10", NULL, 0) == CHECK_SAME, "1%% slower: same");
    /* deterministic: 1% on a loss is within the 2% tolerance, 5% is not */
    store_id l1 = synth_run(s, "synth", 1.0, 0.01, 5, 2.02, 113, NULL), l5 = synth_run(s, "synth", 1.0, 0.01, 5, 2.1, 114, NULL);
    TEST_CHECK(verdict_of(s, l1, "loss", "last:10", NULL, 0) == CHECK_SAME, "loss +1%%: same");
    TEST_CHECK(verdict_of(s, l5, "loss", "last:10", NULL, 0) == CHECK_REGRESSED, "loss +5%%: regressed");
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", "latest", "--det-rtol", "0.1") == 0, "within --det-rtol 10%%");
    /* counted accuracy: one sequence of 256 flipping is noise; 50 is not */
    synth_spec sp = {1.0, 0.01, 2.0, 0.0, 5, 199};
    store_id a1 = synth_run2(s, "synth", &sp, 115, NULL);
    TEST_CHECK(verdict_of(s, a1, "accuracy", "last:10", why, sizeof why) == CHECK_SAME, "accuracy 199/256 vs 200/256: same (%s)", why);
    sp.acc = 150;
    store_id a2 = synth_run2(s, "synth", &sp, 116, NULL);
    TEST_CHECK(verdict_of(s, a2, "accuracy", "last:10", why, sizeof why) == CHECK_REGRESSED && strstr(why, "two-proportion"),
               "accuracy 150/256: regressed (%s)", why);
    /* not judged, each with its reason; the rest of the run is still judged */
    sp.acc = 200;
    sp.reps = 3;
    store_id few = synth_run2(s, "synth", &sp, 117, NULL);
    TEST_CHECK(verdict_of(s, few, "time", "last:10", why, sizeof why) == CHECK_NOT_JUDGED && strstr(why, "too few repetitions"),
               "3 repetitions: not judged (%s)", why);
    snprintf(id, sizeof id, "%lld", few);
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id) == 0, "too few reps is no setup error: exit 0");
    sp.reps = 5;
    sp.busy = 0.25;
    sp.center = 3.0;
    store_id busy = synth_run2(s, "synth", &sp, 118, NULL);
    TEST_CHECK(verdict_of(s, busy, "time", "last:10", why, sizeof why) == CHECK_NOT_JUDGED && strstr(why, "machine busy (25%"),
               "busy run: not judged, machine busy (%s)", why);
    /* named baselines and machine fingerprints */
    char base[24];
    snprintf(base, sizeof base, "%lld", first);
    TEST_CHECK(run_cmd(cmd_baseline, "baseline", "set", "ref", base, "--db", p) == 0, "baseline set");
    TEST_CHECK(verdict_of(s, slow[1], "time", "ref", why, sizeof why) == CHECK_REGRESSED && strstr(why, "named run"),
               "vs named baseline (%s)", why);
    /* accept: a flagged run enters the rolling baseline only when accepted */
    snprintf(id, sizeof id, "%lld", slow[0]);
    TEST_CHECK(run_cmd(cmd_baseline, "baseline", "accept", id, "--metric", "time", "--db", p) == 0, "baseline accept");
    TEST_CHECK(run_cmd(cmd_baseline, "baseline", "accept", id, "--case", "nosuch", "--db", p) == 2, "accept an unknown case: 2");
    TEST_CHECK(run_cmd(cmd_baseline, "baseline", "list", "--db", p) == 0, "baseline list");
    {
        store_metric *m = NULL;
        int n = 0;
        store_load_metrics(s, &slow[0], 1, &m, &n);
        int acc = 0, other = 0;
        for (int i = 0; i < n; i++) {
            if (!strcmp(m[i].metric, "time")) acc = m[i].accepted && !strcmp(m[i].last_verdict, "regressed");
            if (!strcmp(m[i].metric, "tokens_per_s")) other = m[i].accepted;
        }
        TEST_CHECK(acc && !other, "the flag and the acceptance of one metric are in the database");
        store_metrics_free(m, n);
    }
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", "latest", "--baseline", "none") == 2, "unknown baseline name");
    machine_info other;
    machine_collect(&other);
    snprintf(other.cpu_model, sizeof other.cpu_model, "Another CPU");
    machine_fingerprint(&other);
    store_id far = synth_run(s, "synth", 1.0, 0.01, 5, 2.0, 105, &other);
    snprintf(id, sizeof id, "%lld", far);
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id, "--baseline", "ref") == 2, "fingerprint mismatch");
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id, "--baseline", "ref", "--allow-cross-machine") == 0,
               "--allow-cross-machine");
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--run", id) == 2, "last:K on a new machine: mismatch");
    TEST_CHECK(run_cmd(cmd_compare, "compare", "1", id, "--db", p) == 0, "compare");
    TEST_CHECK(run_cmd(cmd_check, "check", "--db", p, "--bogus") == 2, "unknown flag");
    {
        /* history: 8 nights, 4 slowed by 40%, 6 back to normal, each checked */
        rng_t g;
        rng_seed(&g, 5);
        store_id last = 0;
        for (int i = 0; i < 18; i++) {
            double c = (i >= 8 && i < 12 ? 1.4 : 1.0) * (1 + 0.02 * rng_normal(&g));
            last = synth_run(s, "hist", c, 0.01, 5, 2.0, (uint64_t)(300 + i), NULL);
            snprintf(id, sizeof id, "%lld", last);
            run_cmd(cmd_check, "check", "--db", p, "--run", id);
        }
        check_opts o;
        check_opts_default(&o);
        check_history h;
        TEST_CHECK(check_history_load(s, last, 30, "time", &o, &h) == 0 && h.ns == 1, "history loads");
        int flagged = 0;
        for (int i = 0; h.ns && i < h.s[0].npt; i++) flagged += h.s[0].pt[i].flagged;
        TEST_CHECK(h.ns && flagged == 4, "history: the 4 slowed runs are flagged (%d)", flagged);
        TEST_CHECK(h.ns && h.s[0].ncp == 2 && h.s[0].pt[h.s[0].cp[0]].run == last - 9 && h.s[0].cp_shift[0] > 0.3 &&
                       h.s[0].cp_shift[1] < -0.2,
                   "history: change points where the slowdown began (+40%%) and ended (%d found)", h.ns ? h.s[0].ncp : -1);
        check_history_free(&h);
        TEST_CHECK(run_cmd(cmd_history, "history", "--db", p, "--suite", "hist") == 0, "griffin history");
    }
    store_close(s);
}

static void test_import(void) {
    const char *jp = tmp_path("gb.json");
    FILE *f = fopen(jp, "w");
    fprintf(f, "{\n \"context\": {\"date\": \"2024-01-01\", \"host_name\": \"h\", \"num_cpus\": 2, \"library_build_type\": \"debug\"},\n"
               " \"benchmarks\": [\n");
    for (int r = 0; r < 5; r++)
        fprintf(f, "  {\"name\": \"scan_seq/T:1024/threads:1\", \"family_index\": 0, \"per_family_instance_index\": 0,"
                   " \"run_name\": \"scan_seq/T:1024/threads:1\", \"run_type\": \"iteration\", \"repetitions\": 5,"
                   " \"repetition_index\": %d, \"threads\": 1, \"iterations\": 100, \"real_time\": %g, \"cpu_time\": %g,"
                   " \"time_unit\": \"us\", \"bytes_per_second\": %g, \"GFLOPs\": 1.5},\n", r, 10.0 + r, 9.0 + r, 1e9 + r);
    fprintf(f, "  {\"name\": \"scan_seq/T:1024/threads:1_mean\", \"run_name\": \"scan_seq/T:1024/threads:1\", \"run_type\": \"aggregate\","
               " \"aggregate_name\": \"mean\", \"repetitions\": 5, \"threads\": 1, \"real_time\": 12, \"time_unit\": \"us\"},\n");
    fprintf(f, "  {\"name\": \"gemm/64/128_median\", \"run_name\": \"gemm/64/128\", \"run_type\": \"aggregate\", \"aggregate_name\": \"median\","
               " \"repetitions\": 7, \"threads\": 1, \"real_time\": 5.5, \"cpu_time\": 5.4, \"time_unit\": \"ns\"},\n");
    fprintf(f, "  {\"name\": \"gemm/64/128_mean\", \"run_name\": \"gemm/64/128\", \"run_type\": \"aggregate\", \"aggregate_name\": \"mean\","
               " \"repetitions\": 7, \"threads\": 1, \"real_time\": 5.7, \"cpu_time\": 5.6, \"time_unit\": \"ns\"},\n");
    fprintf(f, "  {\"name\": \"broken\", \"run_name\": \"broken\", \"run_type\": \"iteration\", \"error_occurred\": true,"
               " \"error_message\": \"wrong result\", \"threads\": 1}\n ]\n}\n");
    fclose(f);
    const char *p = tmp_path("import.sqlite");
    TEST_CHECK(run_cmd(cmd_import_gbench, "import-gbench", jp, "--db", p) == 0, "import");
    store *s;
    if (store_open(&s, p)) { TEST_CHECK(0, "open: %s", util_last_error()); return; }
    store_id run = 1;
    store_metric *m = NULL;
    int n = 0;
    TEST_CHECK(store_load_metrics(s, &run, 1, &m, &n) == 0, "load");
    int seen_rt = 0, seen_agg = 0, seen_counter = 0;
    char key[17];
    store_case_key("gbench", "scan_seq", "{\"T\":1024,\"threads\":1}", key);
    for (int i = 0; i < n; i++) {
        if (!strcmp(m[i].name, "scan_seq") && !strcmp(m[i].metric, "real_time")) {
            seen_rt = m[i].ns == 5 && m[i].median == 12 && !strcmp(m[i].unit, "us") && !strcmp(m[i].case_key, key);
        }
        if (!strcmp(m[i].name, "scan_seq") && !strcmp(m[i].metric, "GFLOPs")) seen_counter = (m[i].flags & STORE_HIGHER) != 0;
        if (!strcmp(m[i].name, "gemm") && !strcmp(m[i].metric, "real_time"))
            seen_agg = m[i].ns == 0 && m[i].n == 7 && m[i].median == 5.5 && !strcmp(m[i].params, "{\"args\":[64,128],\"threads\":1}");
    }
    TEST_CHECK(seen_rt, "raw repetitions keyed by family + args (T:1024 -> params.T)");
    TEST_CHECK(seen_counter, "user counter imported as higher-is-better");
    TEST_CHECK(seen_agg, "aggregate-only family imported from its median row");
    store_metrics_free(m, n);
    store_run_info ri;
    TEST_CHECK(store_run_get(s, run, &ri) == 0 && !strcmp(ri.suite, "gbench") && !strcmp(ri.status, "ok"), "import run ok");
    store_close(s);
    f = fopen(jp, "w");
    fputs("{\"benchmarks\": [", f);
    fclose(f);
    TEST_CHECK(run_cmd(cmd_import_gbench, "import-gbench", jp, "--db", p) == 2, "broken JSON is a setup error");
}

int main(int argc, char **argv) {
#ifndef HAVE_SQLITE
    (void)argc; (void)argv;
    printf("SKIP: built without SQLite (apt-get install libsqlite3-dev): every store test skipped\n0 passed, 0 failed, 1 skipped\n");
    return 0;
#endif
    if (argc == 3 && !strcmp(argv[1], "--fill")) return mode_fill(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "--writer")) return mode_writer(argv[2], atoi(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "--hang")) return mode_hang(argv[2]);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/griffin_test_results.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    test_json();
    test_migrations();
    test_roundtrip();
    test_corrupt();
    test_concurrent();
    test_sigkill();
    test_check();
    test_import();
    int rc = test_summary();
    if (rc == 0) { char cmd[400]; snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir); if (system(cmd)) {} }
    return rc;
}
