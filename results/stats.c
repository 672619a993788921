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
