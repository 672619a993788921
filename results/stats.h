/* stats.h — robust summaries and the Mann-Whitney U test for the regression
 * check (experiments.md §5, §6).
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

#endif
