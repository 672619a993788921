/* test_targets.c — issue 13's target rules and the verdict over rounds
 * (suites/targets.h): every verdict comes out both ways, busy / NaN /
 * unmeasured rounds are not judged, records round-trip and bad lines are
 * refused with the reason. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roofline.h"
#include "targets.h"
#include "test.h"
#include "util.h"

static target_row row(const char *preset, const char *kase, int batch, int tokens, double sec, double flops, double bytes,
                      double sgemm, double read, double busy) {
    target_row x;
    memset(&x, 0, sizeof x);
    x.when = 1.0e9;
    snprintf(x.commit, sizeof x.commit, "abc123");
    snprintf(x.preset, sizeof x.preset, "%s", preset);
    snprintf(x.weights, sizeof x.weights, "bf16");
    snprintf(x.kase, sizeof x.kase, "%s", kase);
    x.batch = batch, x.tokens = tokens, x.threads = 2;
    snprintf(x.omp, sizeof x.omp, "GOMP_SPINCOUNT=3000");
    x.seconds = sec, x.flops = flops, x.bytes = bytes, x.sgemm_gflops = sgemm, x.read_gbs = read, x.busy = busy;
    x.wread_gbs = NAN;
    return x;
}

static void rules(void) {
    const target_rule *r;
    r = target_rule_for("hawk-400m", "decode", 1, 48);
    TEST_CHECK(r && r->metric == TM_MEM_RATIO && r->bound == 1.15 && r->at_most, "B=1 at 400M: <= 1.15x memory");
    r = target_rule_for("griffin-1b", "decode", 16, 48);
    TEST_CHECK(r && r->metric == TM_MAX_RATIO && r->bound == 1.5 && r->at_most, "B=16 at 1B: <= 1.5x the larger");
    r = target_rule_for("mqa-1b", "decode", 64, 48);
    TEST_CHECK(r && r->metric == TM_CMP_FRAC && r->bound == 0.65 && !r->at_most, "B=64: >= 65%% of sgemm");
    r = target_rule_for("mqa-400m", "prefill", 1, 1024);
    TEST_CHECK(r && r->bound == 0.75 && !r->at_most, "prefill 400M at T=1024: >= 75%%");
    r = target_rule_for("small-mqa", "prefill", 4, 1024);
    TEST_CHECK(r && r->bound == 0.70, "small prefill: >= 70%%");
    r = target_rule_for("small-griffin", "train", 4, 2048);
    TEST_CHECK(r && r->bound == 0.55, "small train: >= 55%%");
    /* no target: what the issue does not name */
    TEST_CHECK(!target_rule_for("hawk-400m", "prefill", 1, 8), "prefill at T=8: none");
    TEST_CHECK(!target_rule_for("hawk-400m", "decode", 8, 48), "decode B=8: none");
    TEST_CHECK(!target_rule_for("small-hawk", "decode", 1, 48), "small decode: none");
    TEST_CHECK(!target_rule_for("hawk-400m", "train", 1, 1024), "400M train: none");
    TEST_CHECK(!target_rule_for("hawk-7b", "decode", 1, 48), "7B: none");
    TEST_CHECK(!target_rule_for("custom", "prefill", 4, 4096), "a custom model: none");
    TEST_CHECK(!target_rule_for("hawk-400m", "generate", 1, 48), "unknown case: none");
}

static void values(void) {
    /* 1 GB at 10 GB/s = 0.1 s memory limit; 1e12 FLOPs at 100 GFLOP/s = 10 s compute */
    const target_rule *b1 = target_rule_for("hawk-400m", "decode", 1, 48);
    target_row x = row("hawk-400m", "decode", 1, 48, 0.11, 1e9, 1e9, 100, 10, 0);
    TEST_CHECK(fabs(target_value(b1, &x) - 1.1) < 1e-12, "memory ratio 1.1 (%g)", target_value(b1, &x));
    TEST_CHECK(target_meets(b1, 1.1) && target_meets(b1, 1.15) && !target_meets(b1, 1.151), "<= 1.15 boundary");
    /* the weights' own read rate, where recorded, is the memory limit's: the
     * same step meets the target at the probe's 10 GB/s and misses it at the
     * weights' 12.5 GB/s (0.08 s limit: 1.375x) */
    x.wread_gbs = 12.5;
    TEST_CHECK(target_uses_wread(&x) && fabs(target_value(b1, &x) - 1.375) < 1e-12 && !target_meets(b1, target_value(b1, &x)),
               "wread 12.5 GB/s: 1.375x, misses (%g)", target_value(b1, &x));
    x.wread_gbs = 8;
    TEST_CHECK(fabs(target_value(b1, &x) - 0.88) < 1e-12, "wread 8 GB/s: 0.88x (%g)", target_value(b1, &x));
    x.wread_gbs = NAN;
    TEST_CHECK(!target_uses_wread(&x) && fabs(target_value(b1, &x) - 1.1) < 1e-12, "no wread: the probe's rate (%g)",
               target_value(b1, &x));
    x.wread_gbs = 0;
    TEST_CHECK(!target_uses_wread(&x), "a zero wread is not used");
    const target_rule *b16 = target_rule_for("hawk-400m", "decode", 16, 48);
    x = row("hawk-400m", "decode", 16, 48, 15, 1e12, 1e9, 100, 10, 0); /* compute 10 s is the larger */
    TEST_CHECK(fabs(target_value(b16, &x) - 1.5) < 1e-12, "ratio over the larger limit 1.5 (%g)", target_value(b16, &x));
    x = row("hawk-400m", "decode", 16, 48, 0.3, 1e9, 1e9, 100, 10, 0); /* memory 0.1 s is the larger */
    TEST_CHECK(fabs(target_value(b16, &x) - 3.0) < 1e-12, "memory the larger: 3.0 (%g)", target_value(b16, &x));
    const target_rule *b64 = target_rule_for("hawk-400m", "decode", 64, 48);
    x = row("hawk-400m", "decode", 64, 48, 20, 1e12, 1e9, 100, 10, 0);
    TEST_CHECK(fabs(target_value(b64, &x) - 0.5) < 1e-12, "fraction of sgemm 0.5 (%g)", target_value(b64, &x));
    TEST_CHECK(!target_meets(b64, 0.5) && target_meets(b64, 0.65) && !target_meets(b64, NAN), ">= 0.65; NaN never meets");
    x.seconds = 0;
    TEST_CHECK(isnan(target_value(b64, &x)), "zero seconds: NaN");
    x.seconds = 1, x.read_gbs = NAN;
    TEST_CHECK(isnan(target_value(b64, &x)), "NaN probe: NaN");
    char buf[32];
    target_format(b1, 1.234, buf, sizeof buf);
    TEST_CHECK(!strcmp(buf, "1.23x"), "format ratio (%s)", buf);
    target_format(b64, 0.654, buf, sizeof buf);
    TEST_CHECK(!strcmp(buf, "65%"), "format fraction (%s)", buf);
}

static void judge(void) {
    const target_rule *b1 = target_rule_for("hawk-400m", "decode", 1, 48);
    const target_rule *b64 = target_rule_for("hawk-400m", "decode", 64, 48);
    char why[320];
    double q[4] = {0, 0.01, 0.02, 0.0};
    /* met: every judged round */
    double v1[3] = {1.02, 1.10, 1.14};
    TEST_CHECK(target_judge(b1, v1, q, 3, 3, 0.03, why, sizeof why) == TV_MET, "all meet: met (%s)", why);
    /* missed: none */
    double v2[3] = {1.16, 1.30, 1.20};
    TEST_CHECK(target_judge(b1, v2, q, 3, 3, 0.03, why, sizeof why) == TV_MISSED, "none meets: missed (%s)", why);
    /* straddles: inconclusive, says how many */
    double v3[3] = {1.10, 1.20, 1.12};
    TEST_CHECK(target_judge(b1, v3, q, 3, 3, 0.03, why, sizeof why) == TV_INCONCLUSIVE && strstr(why, "2 of 3"),
               "straddles: inconclusive with the count (%s)", why);
    /* too few rounds: inconclusive even when all meet */
    TEST_CHECK(target_judge(b1, v1, q, 2, 3, 0.03, why, sizeof why) == TV_INCONCLUSIVE && strstr(why, "need 3"),
               "2 rounds: inconclusive (%s)", why);
    /* a busy round is not judged: a missing round makes it too few; busy never turns a miss into a meet */
    double qb[3] = {0, 0.20, 0};
    TEST_CHECK(target_judge(b1, v1, qb, 3, 3, 0.03, why, sizeof why) == TV_INCONCLUSIVE && strstr(why, "1 busy"),
               "a busy round is left out (%s)", why);
    double v4[4] = {1.10, 1.50, 1.12, 1.11}, qb4[4] = {0, 0.5, 0, 0};
    TEST_CHECK(target_judge(b1, v4, qb4, 4, 3, 0.03, why, sizeof why) == TV_MET, "the one slow round was busy: met on the 3 quiet (%s)", why);
    /* unmeasured interference and NaN values are not judged either */
    double qn[3] = {NAN, 0, 0};
    TEST_CHECK(target_judge(b1, v1, qn, 3, 3, 0.03, why, sizeof why) == TV_INCONCLUSIVE && strstr(why, "1 interference not measured"),
               "unmeasured: left out (%s)", why);
    double v5[3] = {NAN, 1.0, 1.0};
    TEST_CHECK(target_judge(b1, v5, q, 3, 3, 0.03, why, sizeof why) == TV_INCONCLUSIVE && strstr(why, "1 not finite"),
               "NaN: left out, never met (%s)", why);
    /* the at-least direction */
    double f1[3] = {0.70, 0.66, 0.80}, f2[3] = {0.60, 0.64, 0.50};
    TEST_CHECK(target_judge(b64, f1, q, 3, 3, 0.03, why, sizeof why) == TV_MET, ">=: met");
    TEST_CHECK(target_judge(b64, f2, q, 3, 3, 0.03, why, sizeof why) == TV_MISSED, ">=: missed");
    TEST_CHECK(target_judge(b64, f1, q, 0, 3, 0.03, why, sizeof why) == TV_INCONCLUSIVE, "no rounds: inconclusive");
}

static void omp_setting(void) {
    char buf[64];
    char *w = getenv("OMP_WAIT_POLICY") ? strdup(getenv("OMP_WAIT_POLICY")) : NULL;
    char *c = getenv("GOMP_SPINCOUNT") ? strdup(getenv("GOMP_SPINCOUNT")) : NULL;
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("GOMP_SPINCOUNT");
    target_omp_setting(buf, sizeof buf);
    TEST_CHECK(!strcmp(buf, "-"), "no setting: '-' (%s)", buf);
    setenv("GOMP_SPINCOUNT", "300000", 1);
    target_omp_setting(buf, sizeof buf);
    TEST_CHECK(!strcmp(buf, "GOMP_SPINCOUNT=300000"), "spin count (%s)", buf);
    setenv("OMP_WAIT_POLICY", "active", 1);
    target_omp_setting(buf, sizeof buf);
    TEST_CHECK(!strcmp(buf, "OMP_WAIT_POLICY=active,GOMP_SPINCOUNT=300000"), "both (%s)", buf);
    unsetenv("OMP_WAIT_POLICY");
    unsetenv("GOMP_SPINCOUNT");
    if (w) setenv("OMP_WAIT_POLICY", w, 1);
    if (c) setenv("GOMP_SPINCOUNT", c, 1);
    free(w);
    free(c);
}

static void records(void) {
    char path[] = "/tmp/griffin_targets_XXXXXX";
    int fd = mkstemp(path);
    TEST_CHECK(fd >= 0, "temp file");
    if (fd < 0) return;
    close(fd);
    unlink(path);
    target_row a = row("griffin-400m", "decode", 16, 48, 0.0812345678, 3.5e11, 8.1e8, 210.5, 31.25, 0.004);
    target_row b = row("small-hawk", "prefill", 4, 1024, 0.31, 2e11, 2e7, 200, 30, NAN);
    a.wread_gbs = 41.5;
    b.wread_gbs = NAN;
    snprintf(b.omp, sizeof b.omp, "%s", ""); /* empty: recorded as "-" */
    TEST_CHECK(target_record(path, &a) == 0 && target_record(path, &b) == 0, "two records appended");
    FILE *f = fopen(path, "r");
    char line[1024], err[256];
    int n = 0, hdr = 0, ok = 1;
    target_row got[2];
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] == '#') { hdr++; continue; }
        if (n < 2 && target_parse_line(line, &got[n], err, sizeof err) != 0) { ok = 0; printf("  %s\n", err); }
        n++;
    }
    if (f) fclose(f);
    TEST_CHECK(hdr == 1 && n == 2 && ok, "one header, two rows parsed (%d, %d)", hdr, n);
    if (n == 2 && ok) {
        TEST_CHECK(!strcmp(got[0].preset, "griffin-400m") && !strcmp(got[0].kase, "decode") && got[0].batch == 16 &&
                       got[0].tokens == 48 && got[0].threads == 2 && fabs(got[0].seconds - a.seconds) < 1e-9 &&
                       got[0].flops == a.flops && fabs(got[0].busy - 0.004) < 1e-9,
                   "round trip of a decode row");
        TEST_CHECK(isnan(got[1].busy) && got[1].tokens == 1024 && !strcmp(got[1].weights, "bf16"), "NaN busy round-trips");
        TEST_CHECK(fabs(got[0].wread_gbs - 41.5) < 1e-9 && isnan(got[1].wread_gbs), "the weights' read rate round-trips (%g, %g)",
                   got[0].wread_gbs, got[1].wread_gbs);
        TEST_CHECK(!strcmp(got[0].omp, "GOMP_SPINCOUNT=3000") && !strcmp(got[1].omp, "-"), "OpenMP setting round-trips (%s, %s)",
                   got[0].omp, got[1].omp);
    }
    /* bad lines: each refused with its reason */
    struct { const char *line, *want; } bad[] = {
        {"1\tc\tp\tbf16\tdecode\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\t0", "truncated"},
        {"1\tc\tp\tbf16\tdecode\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\n", "14 fields"},
        {"1\tc\tp\tbf16\tdecode\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\t0\textra\n", "wread_gbs"},
        {"1\tc\tp\tbf16\tdecode\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\t0\t40\textra\n", "more than 16"},
        {"1\tc\tp\tbf16\tdecode\tx\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\t0\n", "batch"},
        {"1\tc\tp\tbf16\tdecode\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1s\t1\t1\t1\t1\t0\n", "seconds"},
        {"1\tc\tp\tbf16\tgenerate\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\t0\n", "unknown case"},
        {"1\tc\tp\tbf16\tdecode\t0\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\t0\n", "batch"},
        {"1\tc\tp\tbf16\tdecode\t1\t48\t2\t\t0.1\t1\t1\t1\t1\t0\n", "omp"},
        {"1\t\tp\tbf16\tdecode\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t1\t0\n", "commit"},
    };
    {   /* a v1 line (15 fields, before the weights' read rate was recorded) still reads, with that rate unmeasured */
        target_row x;
        int rc = target_parse_line("1\tc\tp\tbf16\tdecode\t1\t48\t2\tGOMP_SPINCOUNT=3000\t0.1\t1\t1\t1\t30\t0\n", &x, err, sizeof err);
        TEST_CHECK(rc == 0 && x.read_gbs == 30 && isnan(x.wread_gbs), "a v1 line parses, wread_gbs NaN (%s)", rc ? err : "ok");
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        target_row x;
        int rc = target_parse_line(bad[i].line, &x, err, sizeof err);
        TEST_CHECK(rc != 0 && strstr(err, bad[i].want), "bad line %zu refused naming '%s' (%s)", i, bad[i].want, rc ? err : "accepted");
    }
    unlink(path);
    /* an unwritable path is an error naming it */
    TEST_CHECK(target_record("/nonexistent-dir/t.tsv", &a) != 0 && strstr(util_last_error(), "/nonexistent-dir/t.tsv"),
               "unwritable path: error names it");
}

/* the read pass behind wread_gbs reads every byte: its sum equals a plain
 * one on odd sizes, offsets and thread counts */
static void read_pass(void) {
    size_t cap = 1000003 + 64;
    unsigned char *buf = malloc(cap);
    TEST_CHECK(buf != NULL, "buffer");
    if (!buf) return;
    for (size_t i = 0; i < cap; i++) buf[i] = (unsigned char)(i * 131 + 7);
    size_t sizes[] = {0, 1, 7, 8, 9, 63, 64, 65, 255, 256, 257, 4099, 1000003};
    int bad = 0, n = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int threads = 1; threads <= 3; threads++) {
            const unsigned char *p = buf + 8 * (k % 3); /* 8-byte aligned, not 64 */
            size_t bytes = sizes[k];
            uint64_t want = 0, got = 1, w;
            for (size_t i = 0; i + 8 <= bytes; i += 8) { memcpy(&w, p + i, 8); want += w; }
            for (size_t i = bytes / 8 * 8; i < bytes; i++) want += p[i];
            double sec = roofline_read_pass(p, bytes, threads, &got);
            n++;
            if (got != want || !(sec >= 0)) {
                bad++;
                printf("  read pass: %zu bytes, %d threads: sum %llu, want %llu\n", bytes, threads, (unsigned long long)got,
                       (unsigned long long)want);
            }
        }
    TEST_CHECK(bad == 0, "read pass sums every byte (%d of %d sizes x threads wrong)", bad, n);
    uint64_t z = 5;
    TEST_CHECK(roofline_read_pass(NULL, 100, 2, &z) >= 0 && z == 0, "read pass over NULL: nothing read");
    free(buf);
}

int main(void) {
    read_pass();
    rules();
    values();
    judge();
    omp_setting();
    records();
    return test_summary();
}
