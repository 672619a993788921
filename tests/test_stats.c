/* test_stats.c — robust summaries and the Mann-Whitney test against values
 * worked out by hand (results/stats.c). Run: build/tests/test_stats */
#include <math.h>
#include <stdio.h>

#include "stats.h"
#include "test.h"
#include "util.h"

static int close_to(double a, double b, double rel) { return fabs(a - b) <= rel * fabs(b) + 1e-15; }

int main(void) {
    /* summaries */
    double odd[] = {5, 1, 3, 2, 4};
    double even[] = {4, 1, 3, 2};
    TEST_CHECK(stats_median(odd, 5) == 3, "median odd");
    TEST_CHECK(stats_median(even, 4) == 2.5, "median even");
    double m1[] = {1, 1, 2, 2, 4, 6, 9}; /* median 2, |x-2| = 1 1 0 0 2 4 7 -> MAD 1 */
    TEST_CHECK(stats_mad(m1, 7) == 1, "MAD %g", stats_mad(m1, 7));
    stats_summary s = stats_summarize(odd, 5);
    TEST_CHECK(s.n == 5 && s.median == 3 && s.mean == 3 && s.min == 1 && s.max == 5, "summary");
    TEST_CHECK(close_to(s.stddev, sqrt(2.5), 1e-12), "sample stddev %g", s.stddev);
    TEST_CHECK(s.mad == 1, "summary MAD");
    stats_summary e = stats_summarize(NULL, 0);
    TEST_CHECK(e.n == 0 && isnan(e.median), "empty summary is NaN");

    /* exact test, no ties. n=m=3 fully separated: 2 of C(6,3)=20 arrangements are as extreme */
    double a3[] = {1, 2, 3}, b3[] = {4, 5, 6};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(a3, 3, b3, 3), 0.1, 1e-12), "n=m=3 separated: %g", stats_mannwhitney_exact_p(a3, 3, b3, 3));
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(b3, 3, a3, 3), 0.1, 1e-12), "n=m=3 separated, swapped");
    /* n=m=5 separated: 2/C(10,5) = 2/252 */
    double a5[] = {1.0, 1.1, 1.2, 1.3, 1.4}, b5[] = {2.0, 2.1, 2.2, 2.3, 2.4};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(a5, 5, b5, 5), 2.0 / 252, 1e-12), "n=m=5 separated: %g", stats_mannwhitney_exact_p(a5, 5, b5, 5));
    TEST_CHECK(close_to(stats_mannwhitney_p(a5, 5, b5, 5), 2.0 / 252, 1e-12), "dispatch uses exact for small n");
    /* x={1,2,4} y={3,5,6}: rank sum of x = 7, mean 10.5; subsets with sum <= 7 or >= 14:
     * {1,2,3},{1,2,4},{3,5,6},{4,5,6} -> 4/20 */
    double a[] = {1, 2, 4}, b[] = {3, 5, 6};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(a, 3, b, 3), 0.2, 1e-12), "overlap: %g", stats_mannwhitney_exact_p(a, 3, b, 3));
    /* n=m=2 separated: 2/C(4,2) = 1/3 */
    double a2[] = {1, 2}, b2[] = {3, 4};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(a2, 2, b2, 2), 1.0 / 3, 1e-12), "n=m=2");
    /* unequal sizes: n=2, m=4 separated: 2/C(6,2) = 2/15 */
    double b4[] = {3, 4, 5, 6};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(a2, 2, b4, 4), 2.0 / 15, 1e-12), "n=2 m=4: %g", stats_mannwhitney_exact_p(a2, 2, b4, 4));
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(b4, 4, a2, 2), 2.0 / 15, 1e-12), "n=4 m=2");

    /* ties, by hand: x={1,1,2}, y={2,3,3}. Mid-ranks 1.5 1.5 3.5 3.5 5.5 5.5; x sums to 6.5,
     * mean 10.5, deviation 4. Choosing (a,b,c) of the three tied pairs, a+b+c=3:
     * (2,1,0):2 ways sum 6.5 | (0,1,2):2 ways 14.5 | (2,0,1),(1,2,0):4 ways 8.5 |
     * (0,2,1),(1,0,2):4 ways 12.5 | (1,1,1):8 ways 10.5. |dev| >= 4: 4 of 20 -> p = 0.2 */
    double tx[] = {1, 1, 2}, ty[] = {2, 3, 3};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(tx, 3, ty, 3), 0.2, 1e-12), "ties: %g", stats_mannwhitney_exact_p(tx, 3, ty, 3));
    TEST_CHECK(stats_mannwhitney_u(tx, 3, ty, 3) == 0.5, "U with a tie = 0.5: %g", stats_mannwhitney_u(tx, 3, ty, 3));
    /* every value tied: no evidence at all */
    double c5[] = {7, 7, 7, 7, 7};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(c5, 5, c5, 5), 1.0, 1e-12), "all tied exact p = 1");
    TEST_CHECK(stats_mannwhitney_normal_p(c5, 5, c5, 5) == 1.0, "all tied normal p = 1");
    /* same distribution: p = 1 exactly when the rank sums equal the mean */
    double s1[] = {1, 4}, s2[] = {2, 3};
    TEST_CHECK(close_to(stats_mannwhitney_exact_p(s1, 2, s2, 2), 1.0, 1e-12), "centred p = 1");

    /* floor 2/C(2n,n) */
    TEST_CHECK(close_to(stats_mannwhitney_floor(3, 3), 0.1, 1e-12), "floor n=3");
    TEST_CHECK(close_to(stats_mannwhitney_floor(5, 5), 2.0 / 252, 1e-12), "floor n=5 = %g", stats_mannwhitney_floor(5, 5));
    TEST_CHECK(stats_mannwhitney_floor(4, 4) > 0.01 && stats_mannwhitney_floor(5, 5) < 0.01, "n=5 is the first n reaching p<0.01");

    /* normal approximation, by hand: n=m=20 separated: U=0, mu=200,
     * var = 400/12 * 41 = 1366.67, z = 199.5/36.968 = 5.3966, p = erfc(z/sqrt 2) ~ 6.8e-8 */
    double x20[20], y20[20];
    for (int i = 0; i < 20; i++) { x20[i] = i; y20[i] = 100 + i; }
    double pn = stats_mannwhitney_normal_p(x20, 20, y20, 20);
    double z = 199.5 / sqrt(400.0 / 12 * 41);
    TEST_CHECK(close_to(pn, erfc(z / sqrt(2.0)), 1e-9) && pn > 6e-8 && pn < 7.5e-8, "normal n=m=20: %g", pn);
    /* exact for separated 20/20 = 2/C(40,20) */
    double pe = stats_mannwhitney_exact_p(x20, 20, y20, 20);
    TEST_CHECK(close_to(pe, 2.0 / 137846528820.0, 1e-6), "exact n=m=20: %g", pe);
    /* with ties and overlap, exact and normal agree closely at moderate n */
    double xo[30], yo[30];
    for (int i = 0; i < 30; i++) { xo[i] = (double)(i / 2); yo[i] = (double)(i / 2 + 3); }
    double po_e = stats_mannwhitney_exact_p(xo, 30, yo, 30), po_n = stats_mannwhitney_normal_p(xo, 30, yo, 30);
    TEST_CHECK(fabs(po_e - po_n) < 0.01 && po_e > 0.01 && po_e < 0.5, "exact %g vs normal %g with ties", po_e, po_n);
    /* dispatch: large n goes to the normal approximation */
    double xl[60], yl[60];
    for (int i = 0; i < 60; i++) { xl[i] = i; yl[i] = i + 0.5; }
    TEST_CHECK(stats_mannwhitney_p(xl, 60, yl, 60) == stats_mannwhitney_normal_p(xl, 60, yl, 60), "large n uses normal");
    TEST_CHECK(isnan(stats_mannwhitney_p(xl, 0, yl, 60)), "empty side is NaN");

    /* Student t and normal, against table values */
    TEST_CHECK(close_to(2 * stats_t_sf(2.776445, 4), 0.05, 1e-5), "t(4): two-sided p at 2.776 = 0.05: %g", 2 * stats_t_sf(2.776445, 4));
    TEST_CHECK(close_to(2 * stats_t_sf(3.249836, 9), 0.01, 1e-5), "t(9): two-sided p at 3.250 = 0.01");
    TEST_CHECK(close_to(stats_t_sf(1.0, 1), 0.25, 1e-9), "t(1) is Cauchy: P(T > 1) = 1/4");
    TEST_CHECK(close_to(stats_t_sf(-1.0, 1), 0.75, 1e-9), "t(1): P(T > -1) = 3/4");
    TEST_CHECK(close_to(stats_t_isf(0.025, 4), 2.776445, 1e-6), "t(4) 97.5%% quantile %g", stats_t_isf(0.025, 4));
    TEST_CHECK(close_to(stats_norm_isf(0.025), 1.959964, 1e-6), "normal 97.5%% quantile");
    TEST_CHECK(close_to(stats_t_sf(1.959964, INFINITY), 0.025, 1e-6), "t(inf) is the normal");
    TEST_CHECK(close_to(stats_betainc(2, 3, 0.4), 0.5248, 1e-9), "I_0.4(2,3) = 0.5248: %g", stats_betainc(2, 3, 0.4));
    /* Holm by hand: p = .01 .04 .03 .005 -> sorted .005*4=.02, .01*3=.03, .03*2=.06, .04*1=.04 -> max-so-far .06 */
    double hp[5] = {0.01, 0.04, 0.03, 0.005, NAN}, hq[5];
    stats_holm(hp, 5, hq);
    TEST_CHECK(close_to(hq[3], 0.02, 1e-12) && close_to(hq[0], 0.03, 1e-12) && close_to(hq[2], 0.06, 1e-12) &&
                   close_to(hq[1], 0.06, 1e-12) && isnan(hq[4]),
               "Holm: %g %g %g %g %g", hq[0], hq[1], hq[2], hq[3], hq[4]);
    /* two proportions: 200/256 vs 199/256 is nothing; 200 vs 150 is a lot; by hand for 50/100 vs 60/100:
     * pooled .55, se = sqrt(.55*.45*.02) = .070356, z = 1.42134, p = .15523 */
    TEST_CHECK(stats_two_prop_p(200, 256, 199, 256) > 0.8, "one of 256 flipping is noise");
    TEST_CHECK(stats_two_prop_p(200, 256, 150, 256) < 1e-5, "50 of 256 is not");
    TEST_CHECK(close_to(stats_two_prop_p(50, 100, 60, 100), 0.15523, 1e-3), "two-proportion by hand: %g", stats_two_prop_p(50, 100, 60, 100));
    TEST_CHECK(stats_two_prop_p(256, 256, 256, 256) == 1.0, "both perfect: p = 1");
    double lo, hi;
    stats_wilson(0, 10, 0.95, &lo, &hi);
    TEST_CHECK(lo == 0 && close_to(hi, 0.2775, 1e-3), "Wilson 0/10: [0, %g]", hi);
    stats_newcombe(50, 100, 60, 100, 0.95, &lo, &hi);
    TEST_CHECK(lo < 0 && hi > 0 && lo > -0.05 && hi < 0.25, "Newcombe 50/100 -> 60/100: [%g, %g] holds 0.1 - ...", lo, hi);
    /* E-Divisive: a step, a bump, and pure noise */
    double st[24], bump[20], flat[24];
    rng_t r;
    rng_seed(&r, 3);
    for (int i = 0; i < 24; i++) st[i] = (i >= 14 ? 1.3 : 1.0) + 0.02 * rng_normal(&r);
    for (int i = 0; i < 20; i++) bump[i] = (i >= 8 && i < 12 ? 1.5 : 1.0) + 0.02 * rng_normal(&r);
    for (int i = 0; i < 24; i++) flat[i] = 1.0 + 0.02 * rng_normal(&r);
    int cps[8];
    int nc = stats_edivisive(st, 24, 3, 0.01, 199, 1, cps, 8);
    TEST_CHECK(nc == 1 && cps[0] == 14, "a step at 14: %d change point(s), first %d", nc, nc ? cps[0] : -1);
    nc = stats_edivisive(bump, 20, 3, 0.01, 199, 1, cps, 8);
    TEST_CHECK(nc == 2 && cps[0] == 8 && cps[1] == 12, "a bump 8..12: %d (%d %d)", nc, nc > 0 ? cps[0] : -1, nc > 1 ? cps[1] : -1);
    nc = stats_edivisive(flat, 24, 3, 0.01, 199, 1, cps, 8);
    TEST_CHECK(nc == 0, "noise: no change point (%d)", nc);
    return test_summary();
}
