/* store.h — the results store: one SQLite file holding every run, case,
 * result, raw sample, curve, baseline, claim and regression verdict.
 *
 * The only SQL in the project lives in results/. Suites, the bench importer
 * and the CLI write and read through this API:
 *
 *   store *s;
 *   if (store_open(&s, NULL) != 0) { fprintf(stderr, "%s\n", util_last_error()); return 2; }
 *   store_id run, cs;
 *   store_run_begin(s, "latency", "cpu", argc, argv, seed, &run);
 *   store_case(s, "latency", "decode_step", "{\"model\":\"hawk\",\"B\":1}", &cs);
 *   store_result_samples(s, run, cs, "step_time", "s", STORE_LOWER, times, reps);
 *   store_curve(s, run, cs, "decode_latency", "Hawk prompt=0", xs, ys, n);
 *   store_claim(s, run, "latency", "Hawk step flat in T", "slope 0.3%/1K", "reproduced");
 *   store_run_end(s, run, "ok");
 *   store_close(s);
 *
 * Every connection: WAL, busy_timeout (30 s), foreign_keys on. Every write is
 * its own BEGIN IMMEDIATE transaction unless wrapped in store_tx_begin /
 * store_tx_commit (e.g. all metrics of one case): each case commits when it
 * finishes, so a crash loses at most the case in flight. Opening a database
 * marks `running` runs of this host whose process is gone as `interrupted`.
 *
 * Errors: functions returning int give 0 on success, -1 on failure with the
 * reason (file:line, the failing call, SQLite's message) in util_last_error().
 */
#ifndef GRIFFIN_STORE_H
#define GRIFFIN_STORE_H
#include <stdint.h>
#include <stdio.h>

#include "busy.h"
#include "machine.h"

#define STORE_SCHEMA_VERSION 4
#define STORE_DEFAULT_PATH "results/griffin.sqlite"

typedef struct store store;
typedef long long store_id;

/* Result flags: direction (exactly one) and optional determinism. */
enum {
    STORE_LOWER = 0,          /* lower is better (times) */
    STORE_HIGHER = 1,         /* higher is better (rates, accuracy) */
    STORE_DETERMINISTIC = 2,  /* same seed gives the same value (loss, accuracy, sizes): the check uses a relative
                                 tolerance, or a two-proportion test when the counts are stored (store_result_count) */
};

/* Path resolution: explicit path, else $GRIFFIN_DB, else STORE_DEFAULT_PATH. */
const char *store_resolve_path(const char *path);
/* Open (creating and migrating as needed). A file that is not an SQLite
 * database, or is corrupt, or has a newer schema, fails with a message
 * naming the file. */
int store_open(store **out, const char *path);
/* Open and migrate only up to `version` (tests of migrations). */
int store_open_version(store **out, const char *path, int version);
void store_close(store *s);
/* PRAGMA integrity_check and foreign_key_check; 0 when both are clean. */
int store_integrity_check(store *s);
const char *store_path(const store *s);
int store_schema_version(store *s);
/* How long a connection opened from now on waits for another process's
 * lock (default 30000 ms; `griffin results merge --wait`). */
void store_set_busy_timeout_ms(int ms);
/* For results/merge.c, which runs its own SQL: the connection (an sqlite3 *)
 * and the hint store errors add for an SQLite result code ("" when none). */
struct sqlite3 *store_sqlite(store *s);
const char *store_hint(int rc);
/* Number of stale runs marked interrupted by the last open. */
int store_interrupted_on_open(const store *s);

/* Explicit transactions (nestable; only the outermost one commits). */
int store_tx_begin(store *s);
int store_tx_commit(store *s);
int store_tx_rollback(store *s);

/* ---- writers ----------------------------------------------------------- */
/* Start a run: records this machine (machine_collect), this build, the argv
 * as a JSON array, the seed, the pid and host; status `running`. */
int store_run_begin(store *s, const char *suite, const char *preset, int argc, char **argv,
                    unsigned long long seed, store_id *run);
/* The same with an explicit machine (importers) and optional context JSON. */
int store_run_begin_with(store *s, const machine_info *m, const char *suite, const char *preset,
                         int argc, char **argv, unsigned long long seed, const char *context_json,
                         store_id *run);
/* Record a different build (commit, dirty, flags) for the next runs begun on
 * this connection, e.g. the build that produced an imported bench file.
 * commit NULL returns to this binary's build. */
void store_override_build(store *s, const char *commit, int dirty, const char *flags);
/* status: "ok", "failed" or "interrupted". */
int store_run_end(store *s, store_id run, const char *status);
/* The run's uuid (36 chars + NUL). */
int store_run_uuid(store *s, store_id run, char uuid[37]);

/* Find or create the case (suite, name, params). params is JSON (an object;
 * NULL = {}); it is canonicalised (sorted keys, compact) and the case key is
 * a hash of suite, name and the canonical params. */
int store_case(store *s, const char *suite, const char *name, const char *params_json, store_id *cs);
/* The 16-hex-digit case key for (suite, name, params) without touching a DB. */
int store_case_key(const char *suite, const char *name, const char *params_json, char key[17]);

/* Store raw repetitions and their aggregates (median, mean, stddev, MAD,
 * min, max). flags: STORE_LOWER/STORE_HIGHER | STORE_DETERMINISTIC.
 * Replaces an earlier result of the same (run, case, metric). */
int store_result_samples(store *s, store_id run, store_id cs, const char *metric, const char *unit,
                         int flags, const double *samples, int n);
/* The same, with how much of the machine other processes took while the
 * samples were timed (busy NULL or !busy->ok: not recorded). */
int store_result_samples_busy(store *s, store_id run, store_id cs, const char *metric, const char *unit,
                              int flags, const double *samples, int n, const busy_result *busy);
/* Aggregates only (no raw samples), e.g. a Google Benchmark file with
 * aggregate rows only. NaN for unknown fields; busy as above. */
int store_result_aggregate(store *s, store_id run, store_id cs, const char *metric, const char *unit,
                           int flags, int n, double median, double mean, double stddev, double mad,
                           double min, double max, const busy_result *busy);
/* A counted result: `successes` of `trials` scored items (an accuracy),
 * stored with its counts (schema v4) and as the fraction (unit "fraction",
 * one sample, STORE_DETERMINISTIC added), so the check can judge it with a
 * two-proportion test. Needs 0 <= successes <= trials. */
int store_result_count(store *s, store_id run, store_id cs, const char *metric, int flags, long successes, long trials);
/* An x/y series. cs may be 0 (no case). name: the figure's curve name (see
 * plots/README.md); series: the legend label. NaN y is stored as NULL. */
int store_curve(store *s, store_id run, store_id cs, const char *name, const char *series,
                const double *xs, const double *ys, int n);
/* Paper claim vs measured. verdict: "reproduced", "not reproduced" or "inconclusive". */
int store_claim(store *s, store_id run, const char *suite, const char *claim, const char *measured,
                const char *verdict);
/* A claim judged through the claims registry: its id, the statement, what
 * was measured, the verdict, the rule it was judged by (text and
 * thresholds, JSON), the input values (JSON) and why. */
int store_claim_judged(store *s, store_id run, const char *suite, const char *claim_id, const char *statement,
                       const char *measured, const char *verdict, const char *rule_json, const char *inputs_json,
                       const char *why);
/* A case that failed (cs may be 0 when the case never got an id): stored
 * as failed with the reason, never as a number. */
int store_case_failed(store *s, store_id run, store_id cs, const char *reason);
int store_baseline_set(store *s, const char *name, store_id run);

/* SIGINT/SIGTERM: store_catch_signals() installs handlers that only record
 * the signal; a suite polls store_signal_pending() between cases and, when it
 * is non-zero, calls store_run_end(s, run, "interrupted") and exits with
 * 128 + signal. A second signal kills the process at once (the next
 * store_open then marks the run interrupted). */
void store_catch_signals(void);
int store_signal_pending(void);

/* ---- queries ----------------------------------------------------------- */
/* RUN spec: integer id, uuid prefix (>= 4 hex chars), or "latest" (newest
 * run; "latest-ok": newest finished ok). Ambiguous prefixes are an error. */
int store_run_resolve(store *s, const char *spec, store_id *run);
/* Baseline name -> run. Returns 1 when not found (no error set), 0 found, -1 error. */
int store_baseline_get(store *s, const char *name, store_id *run);
/* Highest run id (0 when empty). */
int store_last_run_id(store *s, store_id *run);

typedef struct {
    store_id id;
    char uuid[37];
    char suite[64], preset[32], status[16];
    char started[32], finished[32];
    char fingerprint[17], commit[48], host[128];
    int dirty;
    long long seed;
    int n_results, n_curves;
} store_run_info;
int store_run_get(store *s, store_id run, store_run_info *info);

/* Print helpers for the CLI. */
int store_list_runs(store *s, FILE *f, int limit, const char *suite);
int store_show_run(store *s, FILE *f, store_id run);
/* fmt: 0 CSV of results, 1 JSON of everything (samples, curves, claims), 2 CSV of curves. */
int store_export_run(store *s, FILE *f, store_id run, int fmt);

/* One result (one metric of one case in one run), with every raw sample and
 * what the regression gate needs to know about it. */
typedef struct {
    store_id result_id, run_id, case_id;
    char case_key[17];
    char suite[64], name[128];
    char *params;          /* canonical JSON (owned) */
    char metric[64], unit[32];
    int flags;
    int n;                 /* repetitions */
    double median, mad;    /* as stored */
    double *samples;       /* ns raw samples (owned), may be 0 when aggregates only */
    int ns;
    double busy, steal;    /* fraction of the machine others took while it was timed; NaN: not measured */
    long long successes, trials; /* counted results (store_result_count); -1 when not counted */
    char last_verdict[16]; /* verdict of the newest rolling check of its run ("" when never checked) */
    int accepted;          /* an acceptance (griffin baseline accept) covers it */
} store_metric;
/* Load every result of the given runs, one entry per (run, case, metric),
 * ordered by case key, metric, run id. Caller frees with store_metrics_free. */
int store_load_metrics(store *s, const store_id *runs, int nruns, store_metric **out, int *n);
void store_metrics_free(store_metric *m, int n);
/* Up to k most recent runs with status ok, id < before, the given suite
 * and (unless fingerprint is NULL) that machine fingerprint; newest first. */
int store_recent_runs(store *s, const char *suite, const char *fingerprint, store_id before, int k,
                      store_id *runs, int *n);
/* The newest ok run (of the suite, unless NULL) that has results: 0 found,
 * 1 none (no error set), -1 error. */
int store_latest_with_results(store *s, const char *suite, store_id *run);
/* Runs with id > after and status ok (for checking everything a nightly made). */
int store_runs_after(store *s, store_id after, store_id *runs, int max, int *n);

/* Regression check records. rolling: the check judged against the rolling
 * baseline (its 'regressed' findings keep those results out of later
 * rolling baselines until accepted). rule_json: the check's options. */
int store_check_begin(store *s, store_id run, const char *baseline_desc, int rolling, const char *rule_json,
                      store_id *check);
typedef struct {
    store_id case_id;
    const char *metric;
    double base, now, ratio;  /* baseline level, this run, now / base */
    double threshold, p, q;   /* smallest change that counts; raw and Holm-adjusted p */
    double lo, hi;            /* interval of the change (see results/check.h) */
    const char *verdict;      /* "regressed", "improved", "same", "not judged" */
    const char *reason;       /* why not judged, or how it was judged */
} store_finding;
int store_check_finding(store *s, store_id check, const store_finding *f);
int store_check_end(store *s, store_id check, int exit_code, int n_regressions);
/* Accept results of a run into the rolling baseline: every result
 * (case_spec NULL), or the cases named case_spec (a case name or case key),
 * optionally only one metric. Stores the acceptance even when nothing is
 * flagged; *n_rules: acceptance rows written, *n_flagged: flagged results of
 * the run now covered. */
int store_accept(store *s, store_id run, const char *case_spec, const char *metric, const char *reason, int *n_rules,
                 int *n_flagged);
/* Named baselines and acceptances, for `griffin baseline list`. */
int store_list_baselines(store *s, FILE *f);

#endif
