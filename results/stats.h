/* stats.h — the statistics of the regression gate (results/check.c):
 * robust summaries, the Mann-Whitney U test, Student t and normal tails and
 * quantiles, Holm's step-down adjustment, the two-proportion test with
 * Newcombe's interval, and E-Divisive change points (experiments.md §5, §6).
 *
 * Mann-Whitney two-sided p-value: exact for small samples (n + m <= 80,
 * by dynamic programming over the distribution of rank sums, with tied
 * values given mid-ranks, so ties are handled exactly: the permutation
 * distribution of the mid-rank sum), otherwise the normal approximation
 * with tie correction and a continuity correction of 0.5.
 * The exact test's floor with n per side and no ties is 2 / C(2n, n):
 * n = 3 gives 0.10, n = 5 gives 0.0079.
 */
#ifndef GRIFFIN_STATS_H
#define GRIFFIN_STATS_H

typedef struct {
    int n;
    double median, mean, stddev, mad, min, max; /* stddev: sample (n-1); mad: raw, unscaled */
} stats_summary;

/* Summarise x[0..n). n == 0 gives all NaN. Non-finite values are kept. */
stats_summary stats_summarize(const double *x, int n);
double stats_median(const double *x, int n);        /* NaN for n == 0 */
double stats_mad(const double *x, int n);           /* median |x - median| */

/* Two-sided Mann-Whitney p-value, dispatching to exact or normal. Returns
 * NaN when either side is empty. */
double stats_mannwhitney_p(const double *x, int n, const double *y, int m);
double stats_mannwhitney_exact_p(const double *x, int n, const double *y, int m);
double stats_mannwhitney_normal_p(const double *x, int n, const double *y, int m);
/* Smallest two-sided p the exact test can reach with n and m untied samples:
 * 2 / C(n + m, n) (capped at 1). */
double stats_mannwhitney_floor(int n, int m);
/* U statistic of x (count of pairs x > y, ties 1/2). */
double stats_mannwhitney_u(const double *x, int n, const double *y, int m);

/* ---- distributions ------------------------------------------------------ */
/* Regularized incomplete beta I_x(a, b) (continued fraction; |err| < 1e-12). */
double stats_betainc(double a, double b, double x);
/* Upper tail P(T > t) of Student's t with df > 0 degrees of freedom
 * (df = INFINITY: the standard normal). */
double stats_t_sf(double t, double df);
/* The t with P(T > t) = p, 0 < p < 1 (bisection on stats_t_sf; |err| < 1e-10). */
double stats_t_isf(double p, double df);
double stats_norm_sf(double z);                     /* P(Z > z) */
double stats_norm_isf(double p);                    /* z with P(Z > z) = p */
double stats_mean(const double *x, int n);          /* NaN for n == 0 */
double stats_sd(const double *x, int n);            /* sample SD (n - 1); NaN for n < 2 */

/* ---- multiple testing ----------------------------------------------------
 * Holm's step-down adjusted p-values: q[i] = max over j <= rank(i) of
 * min(1, (m - j + 1) p_(j)). Rejecting q <= alpha keeps the probability of
 * any false rejection among the m tests <= alpha under any dependence.
 * NaN entries are not tests (left NaN, not counted in m). */
void stats_holm(const double *p, int n, double *q);

/* ---- counted proportions --------------------------------------------------
 * Two-sided pooled two-proportion z-test of s1/n1 vs s2/n2 (1 when both
 * proportions are 0 or both 1; NaN when n1 or n2 <= 0). */
double stats_two_prop_p(long s1, long n1, long s2, long n2);
/* Wilson score interval for s/n at two-sided level `level`. */
void stats_wilson(long s, long n, double level, double *lo, double *hi);
/* Newcombe's hybrid score interval (his method 10) for p2 - p1. */
void stats_newcombe(long s1, long n1, long s2, long n2, double level, double *lo, double *hi);

/* ---- change points ---------------------------------------------------------
 * E-Divisive with the energy statistic (Matteson & James 2014, alpha = 1),
 * the method MongoDB's and Hunter's performance CI use: binary segmentation;
 * in each segment the split tau maximising over kappa
 *     Q = (a b / (a + b)) * (2/(ab) sum|x_i - y_j| - within-left - within-right)
 * for x = seg[0..tau), y = seg[tau..kappa) (within-* are the mean pairwise
 * distances inside each side) is kept when a
 * permutation test (perms shuffles, seeded: deterministic) gives
 * p <= sig. Segments are at least min_size long. Writes the sorted indices
 * at which a new segment begins into cps (at most max_cps); returns their count. */
int stats_edivisive(const double *x, int n, int min_size, double sig, int perms, unsigned long long seed, int *cps,
                    int max_cps);

#endif
