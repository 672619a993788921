/* suite_latency.c — Fig. 4 and the decode-step model of §5.1.
 *
 * (a) Time to sample N tokens at a fixed batch after an empty prompt and
 *     after a long prompt, per family: cumulative decode time vs tokens
 *     sampled, and the per-step latency vs position.
 * (b) The paper's decode-step model: predicted step time = (parameter bytes
 *     + B x cache bytes per sequence) / read bandwidth (measured by the
 *     roofline probe in this run), beside the measured step time over
 *     batch size and cache length, with their ratio.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roofline.h"
#include "suite.h"
#include "util.h"

typedef struct {
    const char *size;
    int B, N, prompt;
    int mB[4], nmB, mlen[3], nmlen, msteps;
} lat_scale;

static void scale_of(const suite_ctx *c, lat_scale *s) {
    if (c->scale == SCALE_SMOKE) *s = (lat_scale){"tiny", 2, 32, 32, {1, 4}, 2, {16, 64}, 2, 4};
    else if (c->scale == SCALE_CPU) *s = (lat_scale){"small", 8, 512, 1024, {1, 4, 16, 64}, 4, {256, 1024, 4096}, 3, 8};
    else *s = (lat_scale){"1b", 16, 4096, 4096, {1, 16, 64, 128}, 4, {1024, 4096, 16384}, 3, 8};
}

static void preset_name(const suite_ctx *c, const lat_scale *s, model_family f, char *buf, size_t n) {
    if (c->scale == SCALE_PAPER) snprintf(buf, n, "%s-%s", family_name(f), s->size);
    else snprintf(buf, n, "%s-%s", s->size, family_name(f));
}

/* The family's model at this scale, seeded. 0, or 1 after printing why. */
static int family_model(const suite_ctx *c, const lat_scale *s, model_family f, char *preset, size_t n, model_config *cfg, model *m) {
    preset_name(c, s, f, preset, n);
    config_preset(preset, cfg);
    if (model_create(m, cfg) != 0) { fprintf(stderr, "%s\n", util_last_error()); return 1; }
    model_init_weights(m, c->seed);
    return 0;
}

/* Fill a decode state with a prompt of `len` random tokens (one prefill). */
static int fill_prompt(model *m, decode_state *st, int B, int len, uint64_t seed) {
    decode_state_reset(st, m, -1);
    if (len <= 0) return 0;
    model_acts a;
    if (model_acts_alloc(&a, m, B, len, 0) != 0) return -1;
    int32_t *tok = malloc((size_t)B * len * 4), *pos = malloc((size_t)B * len * 4);
    CHECK_ALLOC(tok); CHECK_ALLOC(pos);
    rng_t r;
    rng_seed(&r, seed);
    for (int i = 0; i < B * len; i++) { tok[i] = (int32_t)rng_below(&r, 256); pos[i] = i % len; }
    int rc = model_forward(m, &a, tok, pos, st);
    free(tok); free(pos);
    model_acts_free(&a);
    return rc;
}

static int part_latency(suite_ctx *c, const lat_scale *s) {
    double per_step_end[3][2];
    for (int f = 0; f < 3; f++) per_step_end[f][0] = per_step_end[f][1] = NAN;
    for (int f = 0; f < 3 && !*c->stop; f++) {
        if (!c->fam[f]) continue;
        char preset[64];
        model_config cfg;
        model m;
        if (family_model(c, s, (model_family)f, preset, sizeof preset, &cfg, &m)) return 1;
        if (suite_validate(c, &m, 1, 64) != 0) { model_free(&m); return 1; }
        for (int pi = 0; pi < 2 && !*c->stop; pi++) {
            int P = pi ? s->prompt : 0;
            decode_state st;
            if (decode_state_alloc(&st, &m, s->B, P + s->N + 1) != 0) { fprintf(stderr, "%s\n", util_last_error()); model_free(&m); return 1; }
            suite_progress(c, "%s: prefill %d x %d", family_title((model_family)f), s->B, P);
            double t0 = util_now();
            if (fill_prompt(&m, &st, s->B, P, c->seed + 5) != 0) { fprintf(stderr, "%s\n", util_last_error()); decode_state_free(&st); model_free(&m); return 1; }
            double prefill = util_now() - t0;
            float *lg = malloc((size_t)s->B * cfg.vocab * sizeof(float));
            int32_t *tok = malloc((size_t)s->B * sizeof(int32_t));
            double *cum = malloc((size_t)s->N * sizeof(double)), *xs = malloc((size_t)s->N * sizeof(double));
            double *step = malloc((size_t)s->N * sizeof(double));
            CHECK_ALLOC(lg); CHECK_ALLOC(tok); CHECK_ALLOC(cum); CHECK_ALLOC(xs); CHECK_ALLOC(step);
            for (int b = 0; b < s->B; b++) tok[b] = 'a';
            double tsum = 0;
            int done = 0;
            for (int i = 0; i < s->N && !*c->stop; i++) {
                double t1 = util_now();
                if (model_decode_step(&m, &st, tok, NULL, lg) != 0) { fprintf(stderr, "%s\n", util_last_error()); break; }
                for (int b = 0; b < s->B; b++) {
                    const float *l = lg + (size_t)b * cfg.vocab;
                    int best = 0;
                    for (int v = 1; v < cfg.vocab; v++) if (l[v] > l[best]) best = v;
                    tok[b] = best;
                }
                step[i] = util_now() - t1;
                tsum += step[i];
                cum[i] = tsum;
                xs[i] = i + 1;
                done = i + 1;
                if (i % 32 == 0) suite_progress(c, "%s prompt=%d: %d/%d tokens", family_title((model_family)f), P, i, s->N);
            }
            if (done == s->N) {
                char series[64], params[256];
                snprintf(series, sizeof series, "%s prompt=%d", family_title((model_family)f), P);
                /* thin the cumulative curve to <= 64 points, log-spaced */
                double cx[80], cy[80];
                int nc = 0;
                for (int k = 0; k < 64; k++) {
                    int i = (int)lround(exp(log((double)s->N) * (k + 1) / 64.0)) - 1;
                    if (i < 0) i = 0;
                    if (nc && cx[nc - 1] == xs[i]) continue;
                    cx[nc] = xs[i];
                    cy[nc++] = cum[i];
                }
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"model\":\"%s\",\"B\":%d,\"prompt\":%d,\"N\":%d,\"threads\":%d}",
                         family_name((model_family)f), preset, s->B, P, s->N, c->threads);
                store_id cs = suite_case(c, "decode_latency", params);
                suite_curve(c, cs, "decode_latency", series, cx, cy, nc);
                /* per-step latency by position, averaged over 16-step buckets */
                int nb = (s->N + 15) / 16;
                double *bx = malloc((size_t)nb * sizeof(double)), *by = malloc((size_t)nb * sizeof(double));
                for (int k = 0; k < nb; k++) {
                    double sm = 0;
                    int n = 0;
                    for (int i = 16 * k; i < 16 * (k + 1) && i < s->N; i++) { sm += step[i]; n++; }
                    bx[k] = P + 16 * k + 8;
                    by[k] = 1e3 * sm / n;
                }
                suite_curve(c, cs, "decode_step_latency", series, bx, by, nb);
                free(bx); free(by);
                suite_samples(c, cs, "total_time", "s", STORE_LOWER, &cum[s->N - 1], 1);
                suite_samples(c, cs, "step_time", "s", STORE_LOWER, step, s->N);
                suite_samples(c, cs, "prefill_time", "s", STORE_LOWER, &prefill, 1);
                /* late steps vs early steps (after the prompt) */
                double early = suite_median(step, s->N / 8 > 1 ? s->N / 8 : 1);
                double late = suite_median(step + s->N - s->N / 8, s->N / 8 > 1 ? s->N / 8 : 1);
                per_step_end[f][pi] = late / early;
                if (!c->quiet) {
                    suite_progress_done(c);
                    fprintf(stderr, "[latency] %-7s prompt %5d: %d tokens at batch %d in %.2f s (%.2f ms/step, last/first %.2fx)\n",
                            family_title((model_family)f), P, s->N, s->B, cum[s->N - 1], 1e3 * cum[s->N - 1] / s->N, late / early);
                }
            }
            free(lg); free(tok); free(cum); free(xs); free(step);
            decode_state_free(&st);
        }
        model_free(&m);
    }
    if (*c->stop) return 130;
    char meas[200];
    double mq = per_step_end[FAMILY_MQA][1], hk = per_step_end[FAMILY_HAWK][1], gr = per_step_end[FAMILY_GRIFFIN][1];
    snprintf(meas, sizeof meas, "late/early step: MQA %.2fx, Hawk %.2fx, Griffin %.2fx", mq, hk, gr);
    suite_claim(c, "with a long prompt, Hawk/Griffin decode steps stay flat; MQA's grow", meas,
                isnan(mq + hk + gr) ? "inconclusive" : (hk < 1.15 && gr < 1.15 && mq > 1.1) ? "reproduced" : (mq <= 1.02) ? "not reproduced" : "inconclusive");
    return 0;
}

static int part_model(suite_ctx *c, const lat_scale *s) {
    const roofline_result *rr = roofline_get(c->threads);
    double bw = rr ? rr->read_gbs * 1e9 : NAN;
    double worst_b1 = 0;
    int have = 0;
    if (c->db) {
        double zx = 0, lim = rr ? rr->read_gbs : NAN;
        suite_curve(c, 0, "roofline_limits", "GB/s", &zx, &lim, 1);
    }
    for (int f = 0; f < 3 && !*c->stop; f++) {
        if (!c->fam[f]) continue;
        char preset[64];
        model_config cfg;
        model m;
        if (family_model(c, s, (model_family)f, preset, sizeof preset, &cfg, &m)) return 1;
        double pbytes = 4.0 * (double)m.nparams;
        for (int li = 0; li < s->nmlen && !*c->stop; li++) {
            int len = s->mlen[li];
            double xs[4], ym[4], yp[4];
            int nx = 0;
            for (int bi = 0; bi < s->nmB && !*c->stop; bi++) {
                int B = s->mB[bi];
                decode_state st;
                if (decode_state_alloc(&st, &m, B, len + s->msteps + 2) != 0) { fprintf(stderr, "%s\n", util_last_error()); continue; }
                suite_progress(c, "decode model %s len=%d B=%d", family_title((model_family)f), len, B);
                if (fill_prompt(&m, &st, B, len, c->seed + 9) != 0) { decode_state_free(&st); continue; }
                float *lg = malloc((size_t)B * cfg.vocab * sizeof(float));
                int32_t *tok = calloc((size_t)B, sizeof(int32_t));
                double *t = malloc((size_t)s->msteps * sizeof(double));
                CHECK_ALLOC(lg); CHECK_ALLOC(tok); CHECK_ALLOC(t);
                model_decode_step(&m, &st, tok, NULL, lg); /* warm-up */
                for (int k = 0; k < s->msteps; k++) {
                    double t0 = util_now();
                    model_decode_step(&m, &st, tok, NULL, lg);
                    t[k] = util_now() - t0;
                }
                double cache = (double)config_state_bytes(&cfg, len + 1, NULL, NULL, NULL);
                double pred = (pbytes + B * cache) / bw;
                double meas = suite_median(t, s->msteps);
                char params[256];
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"model\":\"%s\",\"B\":%d,\"len\":%d,\"threads\":%d}",
                         family_name((model_family)f), preset, B, len, c->threads);
                store_id cs = suite_case(c, "decode_step", params);
                suite_samples(c, cs, "step_time", "s", STORE_LOWER, t, s->msteps);
                double ratio = meas / pred;
                suite_samples(c, cs, "ratio_to_memory_model", "x", STORE_LOWER, &ratio, 1);
                xs[nx] = B;
                ym[nx] = 1e3 * meas;
                yp[nx++] = 1e3 * pred;
                if (B == 1) { worst_b1 = fmax(worst_b1, ratio); have = 1; }
                free(lg); free(tok); free(t);
                decode_state_free(&st);
            }
            char series[80];
            snprintf(series, sizeof series, "%s len=%d measured", family_title((model_family)f), len);
            suite_curve(c, 0, "decode_model", series, xs, ym, nx);
            snprintf(series, sizeof series, "%s len=%d predicted", family_title((model_family)f), len);
            suite_curve(c, 0, "decode_model", series, xs, yp, nx);
        }
        model_free(&m);
    }
    if (*c->stop) return 130;
    char meas[200];
    snprintf(meas, sizeof meas, "batch-1 step / ((params + cache) / %.1f GB/s) <= %.2fx", bw / 1e9, worst_b1);
    suite_claim(c, "decode at small batch is memory bound (§5.1 model)", meas,
                !have ? "inconclusive" : worst_b1 <= 2.0 ? "reproduced" : worst_b1 > 4 ? "not reproduced" : "inconclusive");
    return 0;
}

int suite_latency(suite_ctx *c) {
    lat_scale s;
    scale_of(c, &s);
    if (c->scale == SCALE_SMOKE) roofline_set_quick(1);
    suite_progress(c, "measuring read bandwidth (roofline probe)");
    int rc = part_latency(c, &s);
    if (rc) return rc;
    return part_model(c, &s);
}
