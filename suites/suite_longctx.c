/* suite_longctx.c — Fig. 5: next-token loss by position beyond the
 * training length. Each family is trained at T_train on the byte corpus
 * (same tokens and steps), then evaluated on held-out long documents up to
 * 8 x T_train; Hawk and Griffin are also trained at 4 x T_train with the
 * same token budget (batch / 4). Curves: 'loss_by_position', series
 * '<Family> T=<T_train>', log-spaced position buckets.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "trainer.h"
#include "util.h"

typedef struct {
    int D, depth, W, T, B, steps, docs;
    double lr;
} lc_scale;

static void scale_of(const suite_ctx *c, lc_scale *s) {
    if (c->scale == SCALE_SMOKE) *s = (lc_scale){32, 3, 16, 32, 8, 16, 8, 3e-3};
    else if (c->scale == SCALE_CPU) *s = (lc_scale){128, 4, 128, 256, 16, 500, 48, 3e-3};
    else *s = (lc_scale){2048, 24, 1024, 2048, 16, 20000, 64, 1e-3};
}

/* mean of sum/cnt over positions [a, b) */
static double band(const double *sum, const int64_t *cnt, int a, int b) {
    double s = 0;
    int64_t n = 0;
    for (int t = a; t < b; t++) { s += sum[t]; n += cnt[t]; }
    return n ? s / (double)n : NAN;
}

int suite_longctx(suite_ctx *c) {
    lc_scale s;
    scale_of(c, &s);
    const int Teval = 8 * s.T;
    corpus_t held;
    if (corpus_load(&held, c->corpus, c->scale == SCALE_SMOKE ? "" : "heldout") != 0) {
        fprintf(stderr, "[longctx] %s\n  fetch the corpus with: bash scripts/get-corpus.sh\n", util_last_error());
        return 1;
    }
    /* results per (family, length multiplier) */
    double short_band[3][2], long_band[3][2], far_band[3][2];
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 2; k++) short_band[f][k] = long_band[f][k] = far_band[f][k] = NAN;
    int rc = 0;
    for (int mult = 1; mult <= 4 && !rc && !*c->stop; mult *= 4) {
        for (int f = 0; f < 3 && !rc && !*c->stop; f++) {
            if (!c->fam[f] || (mult == 4 && f == FAMILY_MQA)) continue;
            int T = s.T * mult, B = s.B / mult > 0 ? s.B / mult : 1;
            model_config cfg;
            suite_model_config(&cfg, (model_family)f, s.D, s.depth, s.W);
            model m;
            if (model_create(&m, &cfg) != 0) { rc = 1; break; }
            model_init_weights(&m, c->seed);
            batch_source src;
            if (source_init_text(&src, c->corpus, c->scale == SCALE_SMOKE ? "" : "train", c->seed) != 0) {
                fprintf(stderr, "[longctx] %s\n  fetch the corpus with: bash scripts/get-corpus.sh\n", util_last_error());
                model_free(&m);
                rc = 1;
                break;
            }
            adamw_config oc;
            adamw_defaults(&oc);
            oc.lr = s.lr;
            oc.total = s.steps;
            oc.warmup = s.steps / 20;
            trainer tr;
            trainer_init(&tr, &m, &src, B, T, &oc);
            double *lx = malloc((size_t)s.steps * sizeof(double)), *ly = malloc((size_t)s.steps * sizeof(double));
            double t0 = util_now();
            while (tr.step < s.steps && !*c->stop) {
                if (trainer_step(&tr) != 0) { fprintf(stderr, "[longctx] %s\n", util_last_error()); rc = 1; break; }
                lx[tr.step - 1] = (double)tr.step;
                ly[tr.step - 1] = tr.last_loss;
                double el = util_now() - t0;
                suite_progress(c, "train %s T=%d: step %lld/%d loss %.3f (%.0f tok/s, ETA %.0fs)", family_title((model_family)f), T,
                               (long long)tr.step, s.steps, tr.last_loss, (double)tr.step * B * T / el,
                               el / (double)tr.step * (double)(s.steps - tr.step));
            }
            double train_s = util_now() - t0;
            int64_t done = tr.step;
            trainer_free(&tr);
            source_free(&src);
            if (!rc && !*c->stop) {
                double *sum = calloc((size_t)Teval, sizeof(double));
                int64_t *cnt = calloc((size_t)Teval, sizeof(int64_t));
                suite_progress(c, "evaluate %s T=%d on %d held-out windows of %d tokens", family_title((model_family)f), T, s.docs, Teval);
                int used = eval_loss_by_position(&m, &held, Teval, s.docs, Teval, sum, cnt);
                if (used <= 0) {
                    fprintf(stderr, "[longctx] no held-out document of %d bytes in %s\n", Teval, c->corpus);
                    rc = 1;
                } else {
                    char series[64], params[256];
                    snprintf(series, sizeof series, "%s T=%d", family_title((model_family)f), T);
                    snprintf(params, sizeof params, "{\"family\":\"%s\",\"D\":%d,\"depth\":%d,\"W\":%d,\"T_train\":%d,\"B\":%d,\"steps\":%d,\"T_eval\":%d,\"docs\":%d}",
                             family_name((model_family)f), s.D, s.depth, s.W, T, B, s.steps, Teval, used);
                    store_id cs = suite_case(c, "longctx", params);
                    /* log-spaced buckets */
                    double bx[64], by[64];
                    int nb = 0, lo = 0;
                    for (int k = 0; k < 48; k++) {
                        int hi = (int)lround(exp(log((double)Teval) * (k + 1) / 48.0));
                        if (hi <= lo) continue;
                        double v = band(sum, cnt, lo, hi);
                        if (!isnan(v)) { bx[nb] = 0.5 * (lo + 1 + hi); by[nb++] = v; }
                        lo = hi;
                    }
                    suite_curve(c, cs, "loss_by_position", series, bx, by, nb);
                    suite_curve(c, cs, "train_loss", series, lx, ly, (int)done);
                    int ki = mult == 4;
                    short_band[f][ki] = band(sum, cnt, s.T / 2, s.T);
                    long_band[f][ki] = band(sum, cnt, 2 * s.T, Teval);
                    far_band[f][ki] = band(sum, cnt, 4 * s.T, Teval);
                    double fl = done ? ly[done - 1] : NAN, tps = (double)done * B * T / train_s;
                    suite_samples(c, cs, "final_train_loss", "nats", STORE_LOWER | STORE_DETERMINISTIC, &fl, 1);
                    suite_samples(c, cs, "eval_loss_within_T", "nats", STORE_LOWER | STORE_DETERMINISTIC, &short_band[f][ki], 1);
                    suite_samples(c, cs, "eval_loss_beyond_2T", "nats", STORE_LOWER | STORE_DETERMINISTIC, &long_band[f][ki], 1);
                    suite_samples(c, cs, "train_tokens_per_s", "tokens/s", STORE_HIGHER, &tps, 1);
                    if (!c->quiet) {
                        suite_progress_done(c);
                        fprintf(stderr, "[longctx] %-7s T=%-5d train loss %.3f; held-out loss [T/2,T) %.3f, [2T,8T) %.3f (%d windows)\n",
                                family_title((model_family)f), T, fl, short_band[f][ki], long_band[f][ki], used);
                    }
                }
                free(sum);
                free(cnt);
            }
            free(lx);
            free(ly);
            model_free(&m);
        }
    }
    corpus_free(&held);
    if (rc) return rc;
    if (*c->stop) return 130;
    char meas[200];
    double mq = long_band[FAMILY_MQA][0] / short_band[FAMILY_MQA][0];
    double hk = long_band[FAMILY_HAWK][0] / short_band[FAMILY_HAWK][0];
    double gr = long_band[FAMILY_GRIFFIN][0] / short_band[FAMILY_GRIFFIN][0];
    /* the same held-out windows for every family: compare the degradation
     * beyond T_train (loss [2T,8T) / loss [T/2,T)) with the recurrent models' */
    double rec = fmax(hk, gr);
    snprintf(meas, sizeof meas, "loss [2T,8T)/[T/2,T): MQA %.3f vs Hawk %.3f, Griffin %.3f", mq, hk, gr);
    suite_claim(c, "MQA (RoPE) degrades past its training length", meas,
                isnan(mq + hk + gr) ? "inconclusive" : mq > rec + 0.02 ? "reproduced" : mq <= fmin(hk, gr) ? "not reproduced" : "inconclusive");
    snprintf(meas, sizeof meas, "Hawk %.3f, Griffin %.3f (loss beyond 2T / within T)", hk, gr);
    suite_claim(c, "Hawk and Griffin keep their loss beyond the training length", meas,
                isnan(hk + gr) ? "inconclusive" : (hk <= 1.02 && gr <= 1.02) ? "reproduced" : (hk > 1.1 || gr > 1.1) ? "not reproduced" : "inconclusive");
    double h1 = far_band[FAMILY_HAWK][0], h4 = far_band[FAMILY_HAWK][1], g1 = far_band[FAMILY_GRIFFIN][0], g4 = far_band[FAMILY_GRIFFIN][1];
    snprintf(meas, sizeof meas, "loss at [4T,8T): Hawk %.3f vs %.3f, Griffin %.3f vs %.3f (4T vs T)", h4, h1, g4, g1);
    suite_claim(c, "training at 4x length helps at long positions", meas,
                isnan(h1 + h4 + g1 + g4) ? "inconclusive" : (h4 < h1 && g4 < g1) ? "reproduced" : (h4 > h1 && g4 > g1) ? "not reproduced" : "inconclusive");
    return 0;
}
