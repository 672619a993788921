/* check.h — the nightly regression gate as a library: per-metric verdicts
 * against a baseline of accepted runs, false alarms controlled over every
 * metric checked together, interference and missing data reported as "not
 * judged" with the reason, and the history view with change points.
 * suites/cmd_results.c (`griffin check`, `compare`, `baseline accept`,
 * `history`, `plot history`) only parses flags and prints what this returns.
 *
 * The rule (fixed before any run it judges; README "Reading a check report"):
 *
 * Timed metrics (not STORE_DETERMINISTIC) are judged on RUN MEDIANS, on a log
 * scale (a change is a ratio). The rolling baseline of run R for one metric
 * is the median of that metric in each of the last K (--baseline last:K,
 * default 10) earlier ok runs of the same suite on the same machine whose
 * result is eligible: finite, measured while others took at most --busy-max
 * of the machine, and not flagged 'regressed' by the newest rolling check of
 * its run unless `griffin baseline accept` covered it. So a slowdown never
 * becomes its own baseline, and a named baseline (`baseline set`) is one
 * fixed run.
 *   With >= min_runs (3) baseline medians: d = log(now) - mean(log base),
 *   s = max(SD of the log base medians, within-run standard error of one
 *   run's log median), t = d / (s sqrt(1 + 1/K)), two-sided p from Student t
 *   with K - 1 degrees of freedom: a prediction test of one new run against
 *   the run-to-run spread. A named baseline is one run (K = 1 in the sqrt)
 *   whose spread comes from the metric's rolling history on this machine.
 *   With fewer runs to measure the spread: a z-test with
 *   var(d) = drift^2 (1 + 1/K) + se_now^2 + se_base^2 / K, where drift is the
 *   assumed run-to-run spread (--drift) and se_* the within-run standard
 *   errors of the log medians (1.2533 x 1.4826 x MAD / sqrt(n)).
 *   Interval: d -/+ t_q s sqrt(1 + 1/K) at --level (95%), as a ratio - 1.
 *   Verdict: Holm over every tested metric of the check (all runs checked
 *   together); regressed when q <= alpha and the direction-adjusted ratio
 *   exceeds 1 + min_effect; improved when q <= alpha and it is below
 *   1 / (1 + min_effect); same otherwise.
 * Counted accuracies (store_result_count): two-sided pooled two-proportion
 *   z-test of this run's counts against the newest eligible baseline run's,
 *   Newcombe interval on the difference (in accuracy points), in the Holm
 *   family; regressed when q <= alpha and accuracy fell.
 * Other deterministic metrics (losses, sizes at a fixed seed): relative
 *   change against the newest eligible baseline value; regressed beyond
 *   --det-rtol (2%) in the bad direction (no p-value: not in the family).
 * A metric whose repetitions are an exact function of another metric's in
 *   the same case (Google Benchmark's GB/s, items_per_second, ns_per_token
 *   are all real_time) is "derived": it takes that metric's verdict and is
 *   not tested twice.
 * Not judged, with the reason: non-finite or non-positive value; machine
 *   busy; too few repetitions (< min_reps); new metric; absent from the
 *   baseline (and why: flagged, busy); no baseline run yet.
 *
 * Errors: functions returning int give 0 on success, -1 on a store error
 * (util_last_error()). A run that cannot be checked for a setup reason
 * (fingerprint mismatch, unknown named baseline) is reported in its
 * check_run (setup = 1, error) and the others are still checked.
 */
#ifndef GRIFFIN_CHECK_H
#define GRIFFIN_CHECK_H
#include <stdio.h>

#include "store.h"

typedef struct {
    double alpha;      /* false-alarm level of one check, all its metrics together (Holm) */
    double min_effect; /* smallest relative change of a timed metric that counts */
    double busy_max;   /* interference above which a timing is not judged */
    double drift;      /* assumed run-to-run SD of log run medians when it cannot be measured */
    double det_rtol;   /* relative tolerance of deterministic metrics without counts */
    double level;      /* two-sided level of the reported intervals */
    int min_reps;      /* repetitions a timed metric needs */
    int min_runs;      /* baseline runs needed to measure the run-to-run spread */
    int window;        /* K: baseline runs per metric (last:K) */
    int lookback;      /* earlier runs searched for eligible results */
    int allow_cross;   /* compare across machine fingerprints */
} check_opts;

/* The defaults: alpha 0.01, min_effect 0.05, busy_max BUSY_JUDGE_MAX, drift
 * CHECK_DEFAULT_DRIFT, det_rtol 0.02, level 0.95, min_reps 5, min_runs 3,
 * window 10, lookback 200. */
#define CHECK_DEFAULT_DRIFT 0.10
void check_opts_default(check_opts *o);
/* The options as JSON (stored with each check as its rule); caller frees. */
char *check_opts_json(const check_opts *o);

typedef enum { CHECK_SAME = 0, CHECK_IMPROVED, CHECK_REGRESSED, CHECK_NOT_JUDGED } check_verdict;
const char *check_verdict_name(check_verdict v); /* "same", "improved", "regressed", "not judged" */

typedef enum { CHECK_KIND_TIMED = 0, CHECK_KIND_COUNTED, CHECK_KIND_DETERMINISTIC } check_kind;

/* One run's value of one metric, as check_eval reads it. */
typedef struct {
    double median;
    const double *samples;
    int ns;
    int n;                        /* repetitions */
    long long successes, trials;  /* counted results; trials < 0 when not counted */
} check_obs;

typedef struct {
    store_id run, case_id;
    char case_key[17], suite[64], name[128], params[200], metric[64], unit[32];
    int flags;
    check_kind kind;
    check_verdict verdict;
    int tested;           /* has a p-value in the Holm family */
    int primary;          /* derived: index (in the same array) of the metric it follows; else -1 */
    char reason[240];     /* why not judged, or how it was judged */
    double base, now;     /* baseline level (geometric mean of the baseline medians) and this run's value */
    double ratio;         /* now / base */
    double change, lo, hi;/* relative change now/base - 1 and its interval (counted: difference of proportions) */
    double p, q;          /* raw two-sided p and Holm-adjusted p (NaN when not tested) */
    double threshold;     /* min_effect, det_rtol (0 for counted) */
    double df;            /* degrees of freedom of the t-test (INFINITY: z-test) */
    int base_runs, spread_runs, reps;
    double busy;          /* this run's interference (NaN: not measured) */
} check_finding;

typedef struct {
    store_id run, check_id;
    char suite[64], uuid[37], commit[48], started[32];
    int dirty;
    char baseline[240];   /* what it was judged against, in words */
    int setup;            /* 1: could not be checked (error says why) */
    int nothing_judged;   /* 1: every metric not judged */
    char error[400];
    int first, count;     /* its findings: report.f[first .. first + count) */
    int n_regressed;
} check_run;

typedef struct {
    check_run *runs;
    int nruns;
    check_finding *f;
    int nf, cap;
    int n_regressed, n_improved, n_same, n_not_judged, n_derived, n_tested, n_setup;
} check_report;

/* ---- the pure core (no database; the replay test drives it directly) ---- */
/* Judge one metric: now against `center` (the baseline runs, oldest first)
 * with the run-to-run spread measured from `spread` (may equal center; fewer
 * than o->min_runs: the drift allowance). Fills kind, tested, p, base, now,
 * ratio, change, lo, hi, threshold, df, base_runs, spread_runs, reps, reason,
 * and the verdict of untested (deterministic) metrics. */
void check_eval(const check_obs *now, const check_obs *center, int ncenter, const check_obs *spread, int nspread,
                int flags, const check_opts *o, check_finding *f);
/* Holm over the tested findings in f[0..n), then every verdict: tested ones
 * from q and the effect, derived ones from their primary. */
void check_finalize(check_finding *f, int n, const check_opts *o);
/* Within-run standard error of log(median) from raw samples (0 when ns < 2). */
double check_se_logmedian(const double *samples, int ns);

/* ---- over the store -------------------------------------------------------- */
/* Check runs[0..nruns) against `baseline` ("last:K" or a name set by
 * `griffin baseline set`). All runs form one Holm family, except that a run
 * whose suite repeats starts a new family (its baseline may contain the
 * earlier run, whose verdicts must be stored first). record: store the
 * checks and findings (griffin check) or not. */
int check_runs(store *s, const store_id *runs, int nruns, const char *baseline, const check_opts *o, int record,
               check_report *rep);
/* Run b against run a alone (griffin compare); nothing is stored. */
int check_compare(store *s, store_id a, store_id b, const check_opts *o, check_report *rep);
void check_report_free(check_report *rep);
/* Params JSON in words: {"B":8,"T":256,"args":[1,2]} -> "B=8 T=256 args=1,2". */
void check_params_words(const char *params_json, char *out, size_t cap);

/* ---- history ---------------------------------------------------------------- */
typedef struct {
    store_id run;
    char commit[16], date[12];   /* short commit, MM-DD */
    double value;                /* run median; NaN when the run lacks it */
    double busy;
    int is_busy, flagged, accepted;
    double band_mid, band_lo, band_hi; /* the rolling baseline this run was (or would be) judged against: level and
                                           the --level prediction range of a clean run; NaN when none */
} check_hpoint;

typedef struct {
    char case_key[17], name[128], params[200], metric[64], unit[32];
    int flags;
    int derived;                 /* an exact function of another metric of its case */
    check_hpoint *pt;            /* one per run of the window (npt = the window's runs) */
    int npt;
    int cp[16], ncp;             /* change points: index of the first run of each new level */
    double cp_shift[16];         /* relative change of the level at each change point */
} check_series;

typedef struct {
    store_id *runs;
    int nruns;
    char suite[64], fingerprint[17];
    check_series *s;
    int ns;
} check_history;

/* The last `nruns` ok runs of the suite and machine of run `newest`
 * (included), one series per (case, metric) that run has (metric_filter:
 * only that metric name; NULL all), with the band every run was judged
 * against and E-Divisive change points over the eligible run medians
 * (log scale, min segment 3, permutation p <= 0.05 with 199 seeded shuffles: a view that points at where to look, not a gate). */
int check_history_load(store *s, store_id newest, int nruns, const char *metric_filter, const check_opts *o,
                       check_history *h);
void check_history_free(check_history *h);

#endif
