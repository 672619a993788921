/* test_check_replay.c — the regression gate on this machine's own noise:
 * 24 recorded nights of the nightly micro-benchmarks (tests/data/
 * nightly_gbench.tsv, 8 benchmarks x 5 repetitions, with the interference
 * measured while each was timed) replayed night by night through the
 * check's core (check_eval + check_finalize, the code `griffin check`
 * runs), with the rolling baseline built as the store builds it: the last
 * 10 eligible nights (not busy, not flagged regressed).
 *
 *   unchanged nights  -> false-alarm rate per night (any metric regressed)
 *   one benchmark slowed by 5%, 10%, 20% (its samples x 1.05 ...), every
 *   night and every benchmark in turn, the other seven unchanged in the
 *   same Holm family -> detection rate
 *
 * Bounds, fixed from the rule rather than from these numbers: at alpha 0.01
 * per night a false-alarm rate above 10% means the model does not fit; the
 * detection rate cannot fall as the slowdown grows; a 20% slowdown is more
 * than four run-to-run SDs of the compute-bound half of the benchmarks
 * (measured 4-5% here), so at least a quarter of the injections must be
 * caught. Run: build/tests/test_check_replay [tests/data/nightly_gbench.tsv] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stats.h"
#include "test.h"

#define MAXN 64
#define MAXB 16
#define REPS 5

typedef struct {
    char name[96];
    int have[MAXN];
    double busy[MAXN], x[MAXN][REPS];
} bench;

static bench g_b[MAXB];
static int g_nb, g_nn;

static int load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        int night;
        char name[96];
        double busy, v[REPS];
        if (sscanf(line, "%d %95s %lf %lf %lf %lf %lf %lf", &night, name, &busy, &v[0], &v[1], &v[2], &v[3], &v[4]) != 8 ||
            night < 1 || night > MAXN)
            continue;
        int k;
        for (k = 0; k < g_nb; k++) if (!strcmp(g_b[k].name, name)) break;
        if (k == g_nb) { if (g_nb == MAXB) continue; snprintf(g_b[g_nb++].name, 96, "%s", name); }
        g_b[k].have[night - 1] = 1;
        g_b[k].busy[night - 1] = busy;
        memcpy(g_b[k].x[night - 1], v, sizeof v);
        if (night > g_nn) g_nn = night;
    }
    fclose(f);
    return 0;
}

static int g_flag[MAXB][MAXN]; /* regressed in the unchanged replay: stays out of later baselines */

/* Judge night t with benchmark `slow` scaled by `factor` (slow < 0: none).
 * Fills verdicts v[b]; returns the number of benchmarks judged. */
static int judge_night(int t, int slow, double factor, const check_opts *o, check_verdict *v) {
    check_finding f[MAXB];
    check_obs base[MAXB][MAXN];
    double xs[MAXB][REPS];
    int judged = 0;
    for (int b = 0; b < g_nb; b++) {
        memset(&f[b], 0, sizeof f[b]);
        f[b].primary = -1;
        f[b].verdict = CHECK_NOT_JUDGED;
        if (!g_b[b].have[t] || g_b[b].busy[t] > o->busy_max) continue;
        int nb = 0;
        for (int u = t - 1; u >= 0 && nb < o->window; u--) /* the 10 newest eligible nights, oldest first below */
            if (g_b[b].have[u] && g_b[b].busy[u] <= o->busy_max && !g_flag[b][u]) {
                base[b][nb] = (check_obs){stats_median(g_b[b].x[u], REPS), g_b[b].x[u], REPS, REPS, -1, -1};
                nb++;
            }
        if (nb < o->min_runs) continue; /* the replay measures the t-test, not the early nights' drift guess */
        for (int i = 0; i < nb / 2; i++) { check_obs tmp = base[b][i]; base[b][i] = base[b][nb - 1 - i]; base[b][nb - 1 - i] = tmp; }
        for (int r = 0; r < REPS; r++) xs[b][r] = g_b[b].x[t][r] * (b == slow ? factor : 1.0);
        check_obs now = {stats_median(xs[b], REPS), xs[b], REPS, REPS, -1, -1};
        check_eval(&now, base[b], nb, base[b], nb, STORE_LOWER, o, &f[b]);
        judged++;
    }
    check_finalize(f, g_nb, o);
    for (int b = 0; b < g_nb; b++) v[b] = f[b].verdict;
    return judged;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "tests/data/nightly_gbench.tsv";
    if (load(path) != 0 || g_nb == 0) {
        TEST_CHECK(0, "cannot read %s (run from the repository root)", path);
        return test_summary();
    }
    check_opts o;
    check_opts_default(&o);
    printf("replay: %d recorded nights x %d benchmarks from %s; last:%d, alpha %g per night (Holm), min effect %g%%, "
           "busy limit %g%%\n", g_nn, g_nb, path, o.window, o.alpha, 100 * o.min_effect, 100 * o.busy_max);
    /* unchanged: false alarms, and the flags that keep results out of later baselines */
    int nights = 0, false_nights = 0, busy_skips = 0, judged_metrics = 0, improved = 0;
    check_verdict v[MAXB];
    for (int t = 0; t < g_nn; t++) {
        int j = judge_night(t, -1, 1.0, &o, v);
        for (int b = 0; b < g_nb; b++) {
            g_flag[b][t] = v[b] == CHECK_REGRESSED;
            if (g_b[b].have[t] && g_b[b].busy[t] > o.busy_max) busy_skips++;
            improved += v[b] == CHECK_IMPROVED;
        }
        if (!j) continue;
        nights++;
        judged_metrics += j;
        int any = 0;
        for (int b = 0; b < g_nb; b++) any |= v[b] == CHECK_REGRESSED;
        false_nights += any;
    }
    double far = nights ? (double)false_nights / nights : NAN;
    printf("  unchanged: %d nights judged (%d metric-nights), %d metric-nights not judged: machine busy\n", nights,
           judged_metrics, busy_skips);
    printf("  %-10s %-34s %s\n", "slowdown", "detected (injected metric flagged)", "false alarms (nights with any other metric flagged)");
    printf("  %-10s %-34s %d of %d nights (%.1f%%)\n", "none", "-", false_nights, nights, 100 * far);
    const double lv[3] = {1.05, 1.10, 1.20};
    double rate[3];
    for (int k = 0; k < 3; k++) {
        int inj = 0, det = 0, other = 0, tested_nights = 0;
        int per[MAXB] = {0}, pern[MAXB] = {0};
        for (int t = 0; t < g_nn; t++) {
            int any_other = 0, tested = 0;
            for (int b = 0; b < g_nb; b++) {
                if (!judge_night(t, b, lv[k], &o, v) || v[b] == CHECK_NOT_JUDGED) continue;
                tested = 1;
                inj++;
                pern[b]++;
                if (v[b] == CHECK_REGRESSED) { det++; per[b]++; }
                for (int c = 0; c < g_nb; c++) if (c != b && v[c] == CHECK_REGRESSED) any_other = 1;
            }
            tested_nights += tested;
            other += any_other;
        }
        rate[k] = inj ? (double)det / inj : NAN;
        char d[64], sl[16];
        snprintf(d, sizeof d, "%d of %d (%.0f%%)", det, inj, 100 * rate[k]);
        snprintf(sl, sizeof sl, "+%.0f%%", 100 * (lv[k] - 1));
        printf("  %-10s %-34s %d of %d nights\n", sl, d, other, tested_nights);
        if (k == 2)
            for (int b = 0; b < g_nb; b++)
                printf("      %-34s detected %d of %d at +20%%\n", g_b[b].name, per[b], pern[b]);
    }
    TEST_CHECK(nights >= 10, "at least 10 nights could be judged (%d)", nights);
    TEST_CHECK(far <= 0.10, "false alarms per unchanged night <= 10%% (%.1f%%)", 100 * far);
    TEST_CHECK(rate[0] <= rate[1] && rate[1] <= rate[2], "detection grows with the slowdown (%.2f %.2f %.2f)", rate[0], rate[1],
               rate[2]);
    TEST_CHECK(rate[2] >= 0.25, "a 20%% slowdown is caught in at least a quarter of the injections (%.2f)", rate[2]);
    TEST_CHECK(rate[0] < 0.5, "a 5%% slowdown (under the run-to-run spread) is not called every time: the test can fail (%.2f)",
               rate[0]);
    return test_summary();
}
