/* suite_throughput.c — Fig. 3 and Fig. 1b.
 *
 * (a) Training step time (forward + backward + AdamW) vs sequence length T
 *     at a fixed number of tokens per batch (B = tokens / T), for each
 *     family at two widths; the figure divides by MQA at the shortest T.
 * (b) Decode throughput when sampling N tokens from an empty prompt with the
 *     largest batch whose caches fit the memory budget (--mem-budget):
 *     records the batch chosen, cache bytes per sequence and tokens/s.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "suite.h"
#include "train.h"
#include "util.h"

typedef struct {
    int widths[2], nwidths, depth, W, tokens;
    int T[5], nT;
    const char *dec_size;   /* preset size: "tiny", "small" (SIZE-FAMILY) or "1b" (FAMILY-SIZE) */
    int dec_len[4], ndec, dec_cap;
} tp_scale;

static void scale_of(const suite_ctx *c, tp_scale *s) {
    memset(s, 0, sizeof *s);
    if (c->scale == SCALE_SMOKE) {
        *s = (tp_scale){{32, 64}, 2, 3, 32, 256, {32, 64, 128}, 3, "tiny", {16, 32}, 2, 8};
    } else if (c->scale == SCALE_CPU) {
        *s = (tp_scale){{128, 256}, 2, 4, 256, 4096, {256, 512, 1024, 2048}, 4, "small", {128, 256, 512, 1024}, 4, 64};
    } else {
        *s = (tp_scale){{1536, 2048}, 2, 12, 1024, 8192, {2048, 4096, 8192}, 3, "1b", {512, 1024, 2048, 4096}, 4, 512};
    }
}

/* Median seconds per training step; samples in out[reps]. */
static int time_train_steps(suite_ctx *c, model *m, int B, int T, double *out) {
    model_acts a;
    model_grads g;
    if (model_acts_alloc(&a, m, B, T, 1) != 0) return -1;
    model_grads_alloc(&g, m, B, T);
    adamw_config oc;
    adamw_defaults(&oc);
    adamw opt;
    adamw_init(&opt, m, &oc);
    size_t n = (size_t)B * T;
    int32_t *tok = malloc(n * 4), *tgt = malloc(n * 4), *pos = malloc(n * 4);
    CHECK_ALLOC(tok); CHECK_ALLOC(tgt); CHECK_ALLOC(pos);
    rng_t r;
    rng_seed(&r, c->seed + 17);
    for (size_t i = 0; i < n; i++) {
        tok[i] = (int32_t)rng_below(&r, 256);
        pos[i] = (int32_t)(i % (size_t)T);
    }
    for (size_t i = 0; i < n; i++) tgt[i] = (i + 1) % (size_t)T ? tok[i + 1] : -1;
    int rc = 0;
    for (int rep = -1; rep < c->reps && !*c->stop; rep++) { /* rep -1: warm-up */
        double t0 = util_now();
        model_zero_grad(&g, m);
        float loss;
        if (model_forward(m, &a, tok, pos, NULL) != 0 || model_loss_backward(m, &a, &g, tok, pos, tgt, &loss) != 0) { rc = -1; break; }
        adamw_step(&opt, m, g.grads);
        if (rep >= 0) out[rep] = util_now() - t0;
    }
    free(tok); free(tgt); free(pos);
    adamw_free(&opt);
    model_grads_free(&g);
    model_acts_free(&a);
    return rc;
}

static int part_train_step(suite_ctx *c, const tp_scale *s) {
    double ratio[2][3] = {{NAN, NAN, NAN}, {NAN, NAN, NAN}};
    double *samples = malloc((size_t)c->reps * sizeof(double));
    CHECK_ALLOC(samples);
    for (int wi = 0; wi < s->nwidths; wi++) {
        for (int f = 0; f < 3; f++) {
            if (!c->fam[f]) continue;
            double xs[5], ys[5];
            int nx = 0;
            for (int ti = 0; ti < s->nT && !*c->stop; ti++) {
                int T = s->T[ti], B = s->tokens / T;
                if (B < 1) B = 1;
                model_config cfg;
                suite_model_config(&cfg, (model_family)f, s->widths[wi], s->depth, s->W);
                model m;
                if (model_create(&m, &cfg) != 0) { fprintf(stderr, "%s\n", util_last_error()); free(samples); return 1; }
                model_init_weights(&m, c->seed);
                if (suite_validate(c, &m, B, T) != 0) { model_free(&m); free(samples); return 1; }
                suite_progress(c, "train step %s d=%d T=%d B=%d", family_title((model_family)f), s->widths[wi], T, B);
                if (time_train_steps(c, &m, B, T, samples) != 0) { fprintf(stderr, "%s\n", util_last_error()); model_free(&m); free(samples); return 1; }
                model_free(&m);
                if (*c->stop) break;
                char params[256];
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"D\":%d,\"depth\":%d,\"W\":%d,\"T\":%d,\"B\":%d,\"threads\":%d}",
                         family_name((model_family)f), s->widths[wi], s->depth, s->W, T, B, c->threads);
                store_id cs = suite_case(c, "train_step", params);
                suite_samples(c, cs, "step_time", "s", STORE_LOWER, samples, c->reps);
                double tps = (double)B * T / suite_median(samples, c->reps);
                suite_samples(c, cs, "train_tokens_per_s", "tokens/s", STORE_HIGHER, &tps, 1);
                xs[nx] = T;
                ys[nx++] = suite_median(samples, c->reps);
            }
            char series[64];
            snprintf(series, sizeof series, "%s d=%d", family_title((model_family)f), s->widths[wi]);
            suite_curve(c, 0, "train_step_time", series, xs, ys, nx);
            if (nx >= 2) ratio[wi][f] = ys[nx - 1] / ys[0];
        }
    }
    free(samples);
    if (*c->stop) return 130;
    int span = s->T[s->nT - 1] / s->T[0];
    for (int wi = 0; wi < s->nwidths; wi++) {
        char claim[200], meas[200];
        double mq = ratio[wi][FAMILY_MQA], hk = ratio[wi][FAMILY_HAWK], gr = ratio[wi][FAMILY_GRIFFIN];
        snprintf(claim, sizeof claim, "train step at %dxT vs T (d=%d): MQA grows, Hawk/Griffin flat", span, s->widths[wi]);
        snprintf(meas, sizeof meas, "MQA %.2fx, Hawk %.2fx, Griffin %.2fx", mq, hk, gr);
        const char *v = (isnan(mq) || isnan(hk) || isnan(gr)) ? "inconclusive"
                        : (mq > 1.2 && hk < 1.2 && gr < 1.25 && mq > hk && mq > gr) ? "reproduced"
                        : (mq <= hk || mq <= gr) ? "not reproduced" : "inconclusive";
        suite_claim(c, claim, meas, v);
    }
    if (s->nwidths == 2) {
        double a = ratio[0][FAMILY_MQA], b = ratio[1][FAMILY_MQA];
        char meas[200];
        snprintf(meas, sizeof meas, "MQA slowdown %.2fx at d=%d, %.2fx at d=%d", a, s->widths[0], b, s->widths[1]);
        suite_claim(c, "MQA's slowdown with T is larger at smaller width", meas,
                    isnan(a) || isnan(b) ? "inconclusive" : a > b * 1.05 ? "reproduced" : a < b ? "not reproduced" : "inconclusive");
    }
    return 0;
}

static int part_decode(suite_ctx *c, const tp_scale *s) {
    double tput[3][4];
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 4; k++) tput[f][k] = NAN;
    for (int f = 0; f < 3; f++) {
        if (!c->fam[f]) continue;
        char preset[64];
        if (c->scale == SCALE_PAPER) snprintf(preset, sizeof preset, "%s-%s", family_name((model_family)f), s->dec_size);
        else snprintf(preset, sizeof preset, "%s-%s", s->dec_size, family_name((model_family)f));
        model_config cfg;
        if (config_preset(preset, &cfg) != 0) { fprintf(stderr, "unknown preset %s\n", preset); return 1; }
        model m;
        if (model_create(&m, &cfg) != 0) { fprintf(stderr, "%s\n", util_last_error()); return 1; }
        model_init_weights(&m, c->seed);
        if (suite_validate(c, &m, 1, 64) != 0) { model_free(&m); return 1; }
        double xs[4], ys[4];
        int nx = 0;
        for (int li = 0; li < s->ndec && !*c->stop; li++) {
            int len = s->dec_len[li];
            int64_t per_seq = config_state_bytes(&cfg, len + 1, NULL, NULL, NULL);
            int64_t bmax = per_seq > 0 ? (int64_t)(c->mem_budget / (double)per_seq) : s->dec_cap;
            int B = (int)(bmax < 1 ? 1 : bmax > s->dec_cap ? s->dec_cap : bmax);
            decode_state st;
            if (decode_state_alloc(&st, &m, B, len + 1) != 0) { fprintf(stderr, "%s\n", util_last_error()); model_free(&m); return 1; }
            float *lg = malloc((size_t)B * cfg.vocab * sizeof(float));
            int32_t *tok = malloc((size_t)B * sizeof(int32_t));
            CHECK_ALLOC(lg); CHECK_ALLOC(tok);
            int reps = c->scale == SCALE_SMOKE ? c->reps : 1 + (c->reps > 1);
            double *tps = malloc((size_t)reps * sizeof(double));
            CHECK_ALLOC(tps);
            for (int rep = 0; rep < reps && !*c->stop; rep++) {
                decode_state_reset(&st, &m, -1);
                for (int b = 0; b < B; b++) tok[b] = '\n';
                double t0 = util_now();
                for (int i = 0; i < len && !*c->stop; i++) {
                    if (model_decode_step(&m, &st, tok, NULL, lg) != 0) { fprintf(stderr, "%s\n", util_last_error()); break; }
                    for (int b = 0; b < B; b++) { /* greedy */
                        const float *l = lg + (size_t)b * cfg.vocab;
                        int best = 0;
                        for (int v = 1; v < cfg.vocab; v++) if (l[v] > l[best]) best = v;
                        tok[b] = best;
                    }
                    if (i % 64 == 0) suite_progress(c, "decode %s: %d/%d tokens at batch %d", family_title((model_family)f), i, len, B);
                }
                tps[rep] = (double)B * len / (util_now() - t0);
            }
            if (!*c->stop) {
                char params[256];
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"model\":\"%s\",\"len\":%d,\"mem_budget\":%.0f,\"threads\":%d}",
                         family_name((model_family)f), preset, len, c->mem_budget, c->threads);
                store_id cs = suite_case(c, "decode_throughput", params);
                suite_samples(c, cs, "tokens_per_s", "tokens/s", STORE_HIGHER, tps, reps);
                double bd = B, cb = (double)per_seq;
                suite_samples(c, cs, "batch", "sequences", STORE_HIGHER | STORE_DETERMINISTIC, &bd, 1);
                suite_samples(c, cs, "cache_bytes_per_seq", "bytes", STORE_LOWER | STORE_DETERMINISTIC, &cb, 1);
                xs[nx] = len;
                ys[nx] = suite_median(tps, reps);
                tput[f][li] = ys[nx++];
                if (!c->quiet) {
                    suite_progress_done(c);
                    fprintf(stderr, "[throughput] %-7s len %5d: batch %4d, cache %.1f KiB/seq, %.0f tokens/s\n", family_title((model_family)f), len, B,
                            cb / 1024, ys[nx - 1]);
                }
            }
            free(tps); free(lg); free(tok);
            decode_state_free(&st);
        }
        suite_curve(c, 0, "decode_throughput", family_title((model_family)f), xs, ys, nx);
        model_free(&m);
    }
    if (*c->stop) return 130;
    int last = s->ndec - 1;
    double mq = tput[FAMILY_MQA][last], hk = tput[FAMILY_HAWK][last], gr = tput[FAMILY_GRIFFIN][last];
    char claim[200], meas[200];
    snprintf(claim, sizeof claim, "decode throughput at %d tokens: Hawk > Griffin >> MQA", s->dec_len[last]);
    snprintf(meas, sizeof meas, "Hawk %.0f, Griffin %.0f, MQA %.0f tokens/s", hk, gr, mq);
    suite_claim(c, claim, meas, isnan(mq + hk + gr) ? "inconclusive" : (hk > gr * 0.95 && gr > 1.5 * mq) ? "reproduced" : (gr <= mq) ? "not reproduced" : "inconclusive");
    double g0 = tput[FAMILY_HAWK][0] / tput[FAMILY_MQA][0], g1 = hk / mq;
    snprintf(meas, sizeof meas, "Hawk/MQA %.2fx at %d, %.2fx at %d tokens", g0, s->dec_len[0], g1, s->dec_len[last]);
    suite_claim(c, "the decode throughput gap grows with sample length", meas,
                isnan(g0 + g1) ? "inconclusive" : g1 > g0 * 1.1 ? "reproduced" : g1 < g0 ? "not reproduced" : "inconclusive");
    return 0;
}

int suite_throughput(suite_ctx *c) {
    tp_scale s;
    scale_of(c, &s);
    int rc = part_train_step(c, &s);
    if (rc) return rc;
    return part_decode(c, &s);
}
