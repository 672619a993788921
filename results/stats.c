/* stats.c — see stats.h. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int dcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, int n) {
    double *s = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    CHECK_ALLOC(s);
    if (n > 0) memcpy(s, x, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), dcmp);
    return s;
}

static double median_sorted(const double *s, int n) {
    if (n <= 0) return NAN;
    return (n & 1) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

double stats_median(const double *x, int n) {
    if (n <= 0) return NAN;
    double *s = sorted_copy(x, n);
    double m = median_sorted(s, n);
    free(s);
    return m;
}

double stats_mad(const double *x, int n) {
    if (n <= 0) return NAN;
    double med = stats_median(x, n);
    double *d = malloc(sizeof(double) * (size_t)n);
    CHECK_ALLOC(d);
    for (int i = 0; i < n; i++) d[i] = fabs(x[i] - med);
    double m = stats_median(d, n);
    free(d);
    return m;
}

stats_summary stats_summarize(const double *x, int n) {
    stats_summary s = {n, NAN, NAN, NAN, NAN, NAN, NAN};
    if (n <= 0) return s;
    double *t = sorted_copy(x, n);
    s.median = median_sorted(t, n);
    s.min = t[0];
    s.max = t[n - 1];
    free(t);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += x[i];
    s.mean = sum / n;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.stddev = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    s.mad = stats_mad(x, n);
    return s;
}

/* Pooled mid-ranks, doubled so they are integers: returns r2[0..n+m) where
 * r2[i] is twice the rank of the i-th value (x first, then y), and the tie
 * term sum(t^3 - t) over groups of tied values. */
typedef struct { double v; int idx; } tagged;
static int tcmp(const void *a, const void *b) { return dcmp(&((const tagged *)a)->v, &((const tagged *)b)->v); }

static long *midranks2(const double *x, int n, const double *y, int m, double *tie_term) {
    int N = n + m;
    tagged *t = malloc(sizeof(tagged) * (size_t)N);
    long *r2 = malloc(sizeof(long) * (size_t)N);
    CHECK_ALLOC(t);
    CHECK_ALLOC(r2);
    for (int i = 0; i < n; i++) t[i] = (tagged){x[i], i};
    for (int j = 0; j < m; j++) t[n + j] = (tagged){y[j], n + j};
    qsort(t, (size_t)N, sizeof(tagged), tcmp);
    double tt = 0;
    for (int i = 0; i < N;) {
        int j = i;
        while (j + 1 < N && t[j + 1].v == t[i].v) j++;
        /* positions i..j (0-based) share rank (i+1 + j+1)/2; doubled: i + j + 2 */
        for (int k = i; k <= j; k++) r2[t[k].idx] = (long)(i + j + 2);
        double g = (double)(j - i + 1);
        tt += g * g * g - g;
        i = j + 1;
    }
    free(t);
    if (tie_term) *tie_term = tt;
    return r2;
}

double stats_mannwhitney_u(const double *x, int n, const double *y, int m) {
    double u = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) u += x[i] > y[j] ? 1.0 : (x[i] == y[j] ? 0.5 : 0.0);
    return u;
}

double stats_mannwhitney_exact_p(const double *x, int n, const double *y, int m) {
    if (n <= 0 || m <= 0) return NAN;
    int N = n + m;
    long *r2 = midranks2(x, n, y, m, NULL);
    long obs = 0, total = 0;
    for (int i = 0; i < n; i++) obs += r2[i];
    for (int i = 0; i < N; i++) total += r2[i];
    int k = n < m ? n : m; /* choose the smaller side to keep the table small */
    long S = 0;            /* max reachable doubled sum for k items */
    for (int i = 0; i < N; i++) S += r2[i];
    /* cnt[j][s]: number of j-subsets of the items seen so far with doubled sum s */
    size_t W = (size_t)S + 1;
    long double *cnt = calloc((size_t)(k + 1) * W, sizeof(long double));
    CHECK_ALLOC(cnt);
    cnt[0] = 1;
    for (int i = 0; i < N; i++) {
        long r = r2[i];
        int jmax = i + 1 < k ? i + 1 : k;
        for (int j = jmax; j >= 1; j--) {
            long double *dst = cnt + (size_t)j * W, *src = cnt + (size_t)(j - 1) * W;
            for (long s = S; s >= r; s--) dst[s] += src[s - r];
        }
    }
    /* Distance from the mean of the k-subset sum: mean doubled sum = k * total / N. */
    long obs_k = (k == n) ? obs : total - obs;
    double mean = (double)k * (double)total / (double)N;
    double dev = fabs((double)obs_k - mean);
    long double all = 0, tail = 0;
    const long double *row = cnt + (size_t)k * W;
    for (long s = 0; s <= S; s++) {
        if (row[s] == 0) continue;
        all += row[s];
        if (fabs((double)s - mean) >= dev - 1e-9) tail += row[s];
    }
    free(cnt);
    free(r2);
    double p = (double)(tail / all);
    return p > 1 ? 1 : p;
}

double stats_mannwhitney_normal_p(const double *x, int n, const double *y, int m) {
    if (n <= 0 || m <= 0) return NAN;
    int N = n + m;
    double tt;
    long *r2 = midranks2(x, n, y, m, &tt);
    double w = 0;
    for (int i = 0; i < n; i++) w += 0.5 * (double)r2[i];
    free(r2);
    double u = w - (double)n * (n + 1) / 2.0;
    double mu = (double)n * m / 2.0;
    double var = (double)n * m / 12.0 * ((N + 1) - tt / ((double)N * (N - 1)));
    if (var <= 0) return 1.0; /* every value tied */
    double z = (fabs(u - mu) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    double p = erfc(z / sqrt(2.0)); /* = 2 * (1 - Phi(z)) */
    return p > 1 ? 1 : p;
}

double stats_mannwhitney_p(const double *x, int n, const double *y, int m) {
    if (n <= 0 || m <= 0) return NAN;
    if (n + m <= 80) return stats_mannwhitney_exact_p(x, n, y, m);
    return stats_mannwhitney_normal_p(x, n, y, m);
}

double stats_mannwhitney_floor(int n, int m) {
    if (n <= 0 || m <= 0) return 1.0;
    /* C(n+m, n) in floating point */
    double c = 1;
    int k = n < m ? n : m;
    for (int i = 1; i <= k; i++) c = c * (double)(n + m - k + i) / i;
    double p = 2.0 / c;
    return p > 1 ? 1 : p;
}

/* ---- distributions ------------------------------------------------------ */

double stats_mean(const double *x, int n) {
    if (n <= 0) return NAN;
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

double stats_sd(const double *x, int n) {
    if (n < 2) return NAN;
    double m = stats_mean(x, n), ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (n - 1));
}

/* Continued fraction of the incomplete beta (modified Lentz). */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-15;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps) break;
    }
    return h;
}

double stats_betainc(double a, double b, double x) {
    if (!(x > 0)) return 0;
    if (!(x < 1)) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double stats_norm_sf(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

double stats_t_sf(double t, double df) {
    if (isnan(t) || isnan(df) || df <= 0) return NAN;
    if (isinf(df)) return stats_norm_sf(t);
    if (isinf(t)) return t > 0 ? 0 : 1;
    double tail = 0.5 * stats_betainc(df / 2, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t >= 0 ? tail : 1 - tail;
}

/* x with sf(x) = p for a decreasing sf, by bisection (sf(-hi) ~ 1, sf(hi) ~ 0). */
static double isf_bisect(double (*sf)(double, double), double df, double p) {
    if (!(p > 0 && p < 1)) return p <= 0 ? INFINITY : -INFINITY;
    double lo = -1, hi = 1;
    while (sf(lo, df) < p) lo *= 2;
    while (sf(hi, df) > p) hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-12 * fmax(1, fabs(hi)); i++) {
        double mid = 0.5 * (lo + hi);
        if (sf(mid, df) > p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

double stats_t_isf(double p, double df) { return isf_bisect(stats_t_sf, df, p); }
static double norm_sf2(double z, double unused) { (void)unused; return stats_norm_sf(z); }
double stats_norm_isf(double p) { return isf_bisect(norm_sf2, 0, p); }

/* ---- multiple testing ---------------------------------------------------- */

typedef struct { double p; int i; } pidx;
static int pcmp(const void *a, const void *b) { return dcmp(&((const pidx *)a)->p, &((const pidx *)b)->p); }

void stats_holm(const double *p, int n, double *q) {
    pidx *t = malloc(sizeof(pidx) * (size_t)(n > 0 ? n : 1));
    CHECK_ALLOC(t);
    int m = 0;
    for (int i = 0; i < n; i++) {
        q[i] = NAN;
        if (!isnan(p[i])) t[m++] = (pidx){p[i], i};
    }
    qsort(t, (size_t)m, sizeof(pidx), pcmp);
    double run = 0;
    for (int j = 0; j < m; j++) {
        double a = fmin(1.0, (double)(m - j) * t[j].p);
        run = fmax(run, a); /* step-down: adjusted values never decrease */
        q[t[j].i] = run;
    }
    free(t);
}

/* ---- counted proportions ------------------------------------------------- */

double stats_two_prop_p(long s1, long n1, long s2, long n2) {
    if (n1 <= 0 || n2 <= 0) return NAN;
    double p1 = (double)s1 / n1, p2 = (double)s2 / n2, pp = (double)(s1 + s2) / (double)(n1 + n2);
    double var = pp * (1 - pp) * (1.0 / n1 + 1.0 / n2);
    if (var <= 0) return 1.0; /* both all-right or both all-wrong: no evidence of a difference */
    return 2 * stats_norm_sf(fabs(p2 - p1) / sqrt(var));
}

void stats_wilson(long s, long n, double level, double *lo, double *hi) {
    if (n <= 0) { *lo = *hi = NAN; return; }
    double z = stats_norm_isf((1 - level) / 2), p = (double)s / n, z2 = z * z;
    double c = (p + z2 / (2 * n)) / (1 + z2 / n);
    double h = z * sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
    *lo = fmax(0, c - h);
    *hi = fmin(1, c + h);
}

void stats_newcombe(long s1, long n1, long s2, long n2, double level, double *lo, double *hi) {
    double l1, u1, l2, u2;
    stats_wilson(s1, n1, level, &l1, &u1);
    stats_wilson(s2, n2, level, &l2, &u2);
    if (isnan(l1) || isnan(l2)) { *lo = *hi = NAN; return; }
    double p1 = (double)s1 / n1, p2 = (double)s2 / n2, d = p2 - p1;
    *lo = d - sqrt((p2 - l2) * (p2 - l2) + (u1 - p1) * (u1 - p1));
    *hi = d + sqrt((u2 - p2) * (u2 - p2) + (p1 - l1) * (p1 - l1));
}

/* ---- E-Divisive ------------------------------------------------------------ */

/* The best split of x[0..n) by Matteson & James's statistic: the left part
 * x[0..tau) against x[tau..kappa), maximised over tau and kappa (so a level
 * that returns, a "bump", is found as well as a step). Returns tau (the
 * first index of the new level) and *qbest; O(n^3) with running sums, fine
 * for the tens of nightly runs a history holds. */
static int ed_best(const double *x, int n, int min_size, double *qbest) {
    int best = -1;
    *qbest = -INFINITY;
    for (int tau = min_size; tau <= n - min_size; tau++) {
        double wl = 0; /* pairs inside x[0..tau) */
        for (int i = 0; i < tau; i++)
            for (int j = i + 1; j < tau; j++) wl += fabs(x[i] - x[j]);
        double between = 0, wr = 0;
        for (int k = tau; k < n; k++) { /* extend the right part by x[k] */
            for (int i = 0; i < tau; i++) between += fabs(x[i] - x[k]);
            for (int j = tau; j < k; j++) wr += fabs(x[j] - x[k]);
            double a = tau, b = k - tau + 1;
            if (b < min_size) continue;
            double e = 2 * between / (a * b) - wl / (a * (a - 1) / 2) - wr / (b * (b - 1) / 2);
            double q = a * b / (a + b) * e;
            if (q > *qbest) { *qbest = q; best = tau; }
        }
    }
    return best;
}

static int icmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int stats_edivisive(const double *x, int n, int min_size, double sig, int perms, unsigned long long seed, int *cps,
                    int max_cps) {
    if (min_size < 2) min_size = 2;
    if (n < 2 * min_size || max_cps <= 0) return 0;
    double *buf = malloc(sizeof(double) * (size_t)n);
    int *stack = malloc(sizeof(int) * (size_t)(2 * n + 2));
    CHECK_ALLOC(buf); CHECK_ALLOC(stack);
    rng_t r;
    rng_seed(&r, seed);
    int ncp = 0, top = 0;
    stack[top++] = 0;
    stack[top++] = n;
    while (top > 0 && ncp < max_cps) {
        int hi = stack[--top], lo = stack[--top], len = hi - lo;
        if (len < 2 * min_size) continue;
        double qobs;
        int tau = ed_best(x + lo, len, min_size, &qobs);
        if (tau < 0 || !(qobs > 0)) continue;
        int ge = 0;
        memcpy(buf, x + lo, sizeof(double) * (size_t)len);
        for (int k = 0; k < perms; k++) {
            for (int i = len - 1; i > 0; i--) { /* Fisher-Yates */
                int j = (int)rng_below(&r, (uint32_t)(i + 1));
                double t = buf[i]; buf[i] = buf[j]; buf[j] = t;
            }
            double qp;
            ed_best(buf, len, min_size, &qp);
            if (qp >= qobs) ge++;
        }
        double p = (1.0 + ge) / (1.0 + perms);
        if (p > sig) continue;
        cps[ncp++] = lo + tau;
        stack[top++] = lo; stack[top++] = lo + tau;
        stack[top++] = lo + tau; stack[top++] = hi;
    }
    qsort(cps, (size_t)ncp, sizeof(int), icmp);
    free(buf); free(stack);
    return ncp;
}
