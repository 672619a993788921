/* targets.c — issue 13's speed targets and their verdicts over rounds
 * (targets.h). */
#include "targets.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* The bounds are the ("batch-1 decode within 1.15x ...", "B=16
 * within 1.5x of the larger of the memory and compute limits", "B=64 >= 65%
 * of the measured sgemm rate", "prefill of the 400M/1B presets at T >= 1024
 * >= 75% of sgemm", "the small presets: prefill >= 70% and training >= 55%"). */
static const target_rule k_b1 = {TM_MEM_RATIO, 1.15, 1, "step <= 1.15x the memory limit"};
static const target_rule k_b16 = {TM_MAX_RATIO, 1.5, 1, "step <= 1.5x the larger limit"};
static const target_rule k_b64 = {TM_CMP_FRAC, 0.65, 0, ">= 65% of sgemm"};
static const target_rule k_pre_large = {TM_CMP_FRAC, 0.75, 0, ">= 75% of sgemm"};
static const target_rule k_pre_small = {TM_CMP_FRAC, 0.70, 0, ">= 70% of sgemm"};
static const target_rule k_train_small = {TM_CMP_FRAC, 0.55, 0, ">= 55% of sgemm"};

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

const target_rule *target_rule_for(const char *preset, const char *kase, int batch, int tokens) {
    if (!preset || !kase) return NULL;
    int large = ends_with(preset, "-400m") || ends_with(preset, "-1b");
    int small = !strncmp(preset, "small-", 6);
    if (large && !strcmp(kase, "decode")) return batch == 1 ? &k_b1 : batch == 16 ? &k_b16 : batch == 64 ? &k_b64 : NULL;
    if (tokens < 1024) return NULL;
    if (!strcmp(kase, "prefill")) return large ? &k_pre_large : small ? &k_pre_small : NULL;
    if (!strcmp(kase, "train")) return small ? &k_train_small : NULL;
    return NULL;
}

int target_uses_wread(const target_row *x) { return isfinite(x->wread_gbs) && x->wread_gbs > 0; }

double target_value(const target_rule *r, const target_row *x) {
    /* the memory limit is at the weights' own read rate where it was measured
     * (decode since format v2), else at the probe array's */
    double s = x->seconds, f = x->flops, b = x->bytes, g = x->sgemm_gflops * 1e9,
           w = (target_uses_wread(x) ? x->wread_gbs : x->read_gbs) * 1e9;
    if (!(s > 0) || !(f >= 0) || !(b >= 0) || !(g > 0) || !(w > 0) || !isfinite(s) || !isfinite(f) || !isfinite(b) ||
        !isfinite(g) || !isfinite(w))
        return NAN;
    double tm = b / w, tc = f / g;
    switch (r->metric) {
    case TM_MEM_RATIO: return tm > 0 ? s / tm : NAN;
    case TM_MAX_RATIO: return (tm > tc ? tm : tc) > 0 ? s / (tm > tc ? tm : tc) : NAN;
    case TM_CMP_FRAC: return tc > 0 ? tc / s : NAN;
    }
    return NAN;
}

int target_meets(const target_rule *r, double v) { return isfinite(v) && (r->at_most ? v <= r->bound : v >= r->bound); }

void target_format(const target_rule *r, double v, char *buf, size_t cap) {
    if (!isfinite(v)) snprintf(buf, cap, "NaN");
    else if (r->metric == TM_CMP_FRAC) snprintf(buf, cap, "%.0f%%", 100 * v);
    else snprintf(buf, cap, "%.2fx", v);
}

const char *target_verdict_name(target_verdict v) {
    return v == TV_MET ? "met" : v == TV_MISSED ? "missed" : "inconclusive";
}

target_verdict target_judge(const target_rule *r, const double *values, const double *busy, int n, int min_rounds,
                            double busy_max, char *reason, size_t cap) {
    int judged = 0, met = 0, nbusy = 0, nunmeasured = 0, nnan = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(values[i])) { nnan++; continue; }
        if (isnan(busy[i])) { nunmeasured++; continue; }
        if (busy[i] > busy_max) { nbusy++; continue; }
        judged++;
        met += target_meets(r, values[i]);
    }
    char left[160] = "";
    if (nbusy || nunmeasured || nnan)
        snprintf(left, sizeof left, " (not judged: %d busy > %.0f%%, %d interference not measured, %d not finite)", nbusy,
                 100 * busy_max, nunmeasured, nnan);
    if (judged < min_rounds) {
        snprintf(reason, cap, "%d judged round%s of %d, need %d%s", judged, judged == 1 ? "" : "s", n, min_rounds, left);
        return TV_INCONCLUSIVE;
    }
    if (met == judged) {
        snprintf(reason, cap, "all %d judged rounds meet it%s", judged, left);
        return TV_MET;
    }
    if (met == 0) {
        snprintf(reason, cap, "none of %d judged rounds meets it%s", judged, left);
        return TV_MISSED;
    }
    snprintf(reason, cap, "%d of %d judged rounds meet it: the noise is larger than the distance to the target%s", met, judged,
             left);
    return TV_INCONCLUSIVE;
}

void target_omp_setting(char *buf, size_t cap) {
    const char *w = getenv("OMP_WAIT_POLICY"), *c = getenv("GOMP_SPINCOUNT");
    if (w && c) snprintf(buf, cap, "OMP_WAIT_POLICY=%s,GOMP_SPINCOUNT=%s", w, c);
    else if (w) snprintf(buf, cap, "OMP_WAIT_POLICY=%s", w);
    else if (c) snprintf(buf, cap, "GOMP_SPINCOUNT=%s", c);
    else snprintf(buf, cap, "-");
}

/* A field may not hold a tab or a newline; names are ours, but be safe. */
static void clean(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src && *src ? src : "-");
    for (char *p = dst; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r' || *p == ' ') *p = '_';
}

int target_record(const char *path, const target_row *x) {
    struct stat sb;
    int fresh = stat(path, &sb) != 0 || sb.st_size == 0;
    FILE *f = fopen(path, "a");
    if (!f) {
        util_error("cannot open %s for appending: %s", path, strerror(errno));
        return -1;
    }
    char c[48], p[48], w[8], k[16], o[64];
    clean(c, sizeof c, x->commit);
    clean(p, sizeof p, x->preset);
    clean(w, sizeof w, x->weights);
    clean(k, sizeof k, x->kase);
    clean(o, sizeof o, x->omp);
    /* the whole line in one write: a full disk leaves at most one short line, which the reader rejects */
    char line[512];
    int n = snprintf(line, sizeof line, "%s%s%.3f\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%.9g\t%.9g\t%.9g\t%.6g\t%.6g\t%.6g\t%.6g\n",
                     fresh ? TARGETS_HEADER : "", fresh ? "\n" : "", x->when, c, p, w, k, x->batch, x->tokens, x->threads, o,
                     x->seconds, x->flops, x->bytes, x->sgemm_gflops, x->read_gbs, x->busy, x->wread_gbs);
    size_t wr = fwrite(line, 1, (size_t)n, f);
    int bad = wr != (size_t)n || fflush(f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !bad) { bad = 1; e = errno; }
    if (bad) {
        util_error("writing %s: %s", path, strerror(e));
        return -1;
    }
    return 0;
}

static int num(const char *s, double *v) {
    char *e;
    errno = 0;
    *v = strtod(s, &e);
    if (e == s || *e) return -1;
    return 0; /* "nan" parses: a NaN busy is "not measured" */
}

static int inum(const char *s, int *v) {
    char *e;
    errno = 0;
    long x = strtol(s, &e, 10);
    if (e == s || *e || errno || x < 0 || x > 1 << 30) return -1;
    *v = (int)x;
    return 0;
}

int target_parse_line(const char *line, target_row *x, char *err, size_t cap) {
    char buf[1024];
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') {
        snprintf(err, cap, "truncated line (no newline at its end)");
        return -1;
    }
    if (n >= sizeof buf) {
        snprintf(err, cap, "line too long (%zu bytes)", n);
        return -1;
    }
    memcpy(buf, line, n - 1);
    buf[n - 1] = 0;
    char *f[TARGETS_FIELDS + 1];
    int nf = 0;
    for (char *p = buf;; ) {
        if (nf == TARGETS_FIELDS + 1) break;
        f[nf++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
    if (nf != TARGETS_FIELDS && nf != TARGETS_FIELDS_V1) {
        snprintf(err, cap, "%s%d fields, expected %d (or %d, a v1 line)", nf > TARGETS_FIELDS ? "more than " : "",
                 nf > TARGETS_FIELDS ? TARGETS_FIELDS : nf, TARGETS_FIELDS, TARGETS_FIELDS_V1);
        return -1;
    }
    memset(x, 0, sizeof *x);
    x->wread_gbs = NAN;
    const char *names[] = {"when", "commit", "preset", "weights", "case", "batch", "tokens", "threads", "omp",
                           "seconds", "flops", "bytes", "sgemm_gflops", "read_gbs", "busy", "wread_gbs"};
    struct { char *dst; size_t cap; } strs[] = {{x->commit, sizeof x->commit}, {x->preset, sizeof x->preset},
                                                {x->weights, sizeof x->weights}, {x->kase, sizeof x->kase},
                                                {x->omp, sizeof x->omp}};
    int at_s[] = {1, 2, 3, 4, 8};
    for (int i = 0; i < 5; i++) {
        const char *v = f[at_s[i]];
        if (!*v || strlen(v) >= strs[i].cap) {
            snprintf(err, cap, "field %s: empty or too long", names[at_s[i]]);
            return -1;
        }
        snprintf(strs[i].dst, strs[i].cap, "%s", v);
    }
    int *ints[] = {&x->batch, &x->tokens, &x->threads};
    for (int i = 0; i < 3; i++)
        if (inum(f[5 + i], ints[i]) != 0) {
            snprintf(err, cap, "field %s: not a count: '%s'", names[5 + i], f[5 + i]);
            return -1;
        }
    double *dbl[] = {&x->when, &x->seconds, &x->flops, &x->bytes, &x->sgemm_gflops, &x->read_gbs, &x->busy, &x->wread_gbs};
    int at[] = {0, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < (nf == TARGETS_FIELDS ? 8 : 7); i++)
        if (num(f[at[i]], dbl[i]) != 0) {
            snprintf(err, cap, "field %s: not a number: '%s'", names[at[i]], f[at[i]]);
            return -1;
        }
    if (strcmp(x->kase, "decode") && strcmp(x->kase, "prefill") && strcmp(x->kase, "train")) {
        snprintf(err, cap, "field case: unknown case '%s' (decode, prefill, train)", x->kase);
        return -1;
    }
    if (x->batch < 1 || x->threads < 1) {
        snprintf(err, cap, "field %s: must be at least 1", x->batch < 1 ? "batch" : "threads");
        return -1;
    }
    return 0;
}
