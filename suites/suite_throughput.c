/* suite_throughput.c — Fig. 3 and Fig. 1b.
 *
 * (a) Training step time (forward + backward + AdamW) vs sequence length T
 *     at a fixed number of tokens per batch (B = tokens / T), for each
 *     family at two widths; the figure divides by MQA at the shortest T.
 * (b) Decode throughput when sampling N tokens from an empty prompt with the
 *     largest batch whose caches fit the memory budget (--mem-budget):
 *     records the batch chosen, cache bytes per sequence and tokens/s. The
 *     decode models are Appendix C sizes with bf16 weights from the cpu
 *     preset on (400M: 0.75 GB of weights, 20x this machine's L2 + L3),
 *     so every step streams its weights from memory as in the paper. The
 *     time to sample N tokens is measured as steps at DEC_POINTS cache
 *     lengths (the midpoints of N equal parts; suite_step_at): N steps of a
 *     400M model at batch 64 would take minutes per case.
 * Each case's repetitions are one timed region (suite_time_begin/end: the
 * interference is stored with them); families run in a seeded random order
 * per group of cases; every model is validated against the reference (the
 * backward pass for training steps, decode at each cache length) before it
 * is timed. Claims are judged through the registry (griffin claims).
 * Each curve has a ':limit' twin (the same series and x) drawn as the line
 * the figure is judged against, from the limits measured in this run
 * (roofline probe, stored as 'roofline_limits'): a training step's FLOPs (3x
 * the forward) at the sgemm rate; a decode step's larger of (weights + B x
 * state) / read bandwidth and FLOPs / sgemm rate (suite_decode_limit_s).
 * The scale tables below are the only place sizes live (re-size there).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "roofline.h"
#include "suite.h"
#include "train.h"
#include "util.h"

typedef struct {
    int widths[2], nwidths, depth, W, tokens;
    int T[5], nT;
    const char *dec_size;   /* preset size of the decode models: "tiny", "400m", "1b" */
    int dec_len[4], ndec, dec_cap;
    weights_dtype dec_weights;
} tp_scale;

/* The decode lengths and the cpu memory budget (run.c: 768 MiB) are chosen
 * so that the budget binds for MQA only: its cache at 400M is 12 KiB per
 * token per sequence, so the feasible batch falls from the cap (64) at 1024
 * tokens to 16 at 4096, while Hawk's state (384 KiB) and Griffin's (4.3 MiB,
 * the window full) keep the cap at every length. */
static void scale_of(const suite_ctx *c, tp_scale *s) {
    memset(s, 0, sizeof *s);
    if (c->scale == SCALE_SMOKE) {
        *s = (tp_scale){{32, 64}, 2, 3, 32, 256, {32, 64, 128}, 3, "tiny", {16, 32}, 2, 8, WEIGHTS_BF16};
    } else if (c->scale == SCALE_CPU) {
        *s = (tp_scale){{128, 256}, 2, 4, 256, 4096, {256, 512, 1024, 2048}, 4, "400m", {512, 1024, 2048, 4096}, 4, 64, WEIGHTS_BF16};
    } else {
        *s = (tp_scale){{1536, 2048}, 2, 12, 1024, 8192, {2048, 4096, 8192}, 3, "1b", {512, 1024, 2048, 4096}, 4, 512, WEIGHTS_BF16};
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
        if (rep == 0) suite_time_begin(c);
        double t0 = util_now();
        model_zero_grad(&g, m);
        float loss;
        if (model_forward(m, &a, tok, pos, NULL) != 0 || model_loss_backward(m, &a, &g, tok, pos, tgt, &loss) != 0) { rc = -1; break; }
        if (adamw_step(&opt, m, g.grads) != 0 || m->be->sync() != 0) { rc = -1; break; } /* a device step ends when its work does */
        if (rep >= 0) out[rep] = util_now() - t0;
    }
    suite_time_end(c);
    free(tok); free(tgt); free(pos);
    adamw_free(&opt);
    model_grads_free(&g);
    model_acts_free(&a);
    return rc;
}

static int part_train_step(suite_ctx *c, const tp_scale *s, const roofline_result *rr) {
    double step[2][3][5], lim[2][3][5]; /* median step time and its compute limit per width, family, T */
    suite_timing tm[2];
    int validated[2][3] = {{0}};
    for (int wi = 0; wi < 2; wi++) {
        suite_timing_init(&tm[wi]);
        for (int f = 0; f < 3; f++)
            for (int k = 0; k < 5; k++) step[wi][f][k] = lim[wi][f][k] = NAN;
    }
    double *samples = malloc((size_t)c->reps * sizeof(double));
    CHECK_ALLOC(samples);
    int rc = 0;
    for (int wi = 0; wi < s->nwidths && !rc; wi++) {
        for (int ti = 0; ti < s->nT && !rc && !*c->stop; ti++) {
            int order[3];
            suite_family_order(c, (uint64_t)(wi * 16 + ti), order);
            for (int oi = 0; oi < 3 && !rc && !*c->stop; oi++) {
                int f = order[oi];
                if (!c->fam[f]) continue;
                int T = s->T[ti], B = s->tokens / T;
                if (B < 1) B = 1;
                char params[256];
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"D\":%d,\"depth\":%d,\"W\":%d,\"T\":%d,\"B\":%d,\"threads\":%d}",
                         family_name((model_family)f), s->widths[wi], s->depth, s->W, T, B, c->threads);
                model_config cfg;
                suite_model_config(&cfg, (model_family)f, s->widths[wi], s->depth, s->W);
                model m;
                if (model_create(&m, &cfg) != 0) { suite_case_failed(c, 0, "train_step", params, "%s", util_last_error()); rc = 1; break; }
                model_init_weights(&m, c->seed);
                if (suite_to_device(c, &m) != 0) {
                    suite_case_failed(c, 0, "train_step", params, "%s", util_last_error());
                    model_free(&m);
                    rc = 1;
                    break;
                }
                /* validated once per model, at a T beyond the window (the longest T here) */
                if (!validated[wi][f]) {
                    if (suite_validate_train(c, &m, B, s->T[s->nT - 1]) != 0) {
                        suite_case_failed(c, 0, "train_step", params, "refused: differs from the reference");
                        model_free(&m);
                        rc = 1;
                        break;
                    }
                    validated[wi][f] = 1;
                }
                suite_progress(c, "train step %s d=%d T=%d B=%d", family_title((model_family)f), s->widths[wi], T, B);
                int trc = time_train_steps(c, &m, B, T, samples);
                if (rr) lim[wi][f][ti] = 3 * suite_prefill_flops(&m, B, T) / (rr->sgemm_peak_gflops * 1e9);
                model_free(&m);
                if (*c->stop) break;
                if (trc != 0) { suite_case_failed(c, 0, "train_step", params, "%s", util_last_error()); rc = 1; break; }
                store_id cs = suite_case(c, "train_step", params);
                suite_samples(c, cs, "step_time", "s", STORE_LOWER, samples, c->reps);
                double *tps = malloc((size_t)c->reps * sizeof(double));
                CHECK_ALLOC(tps);
                for (int r = 0; r < c->reps; r++) tps[r] = (double)B * T / samples[r];
                suite_samples(c, cs, "train_tokens_per_s", "tokens/s", STORE_HIGHER, tps, c->reps);
                free(tps);
                step[wi][f][ti] = suite_median(samples, c->reps);
                if (ti == 0 || ti == s->nT - 1) suite_timing_add(&tm[wi], c, samples, c->reps);
            }
        }
    }
    free(samples);
    if (rc) return rc;
    if (*c->stop) return 130;
    double growth[2][3];
    for (int wi = 0; wi < s->nwidths; wi++)
        for (int f = 0; f < 3; f++) {
            double xs[5], ys[5], yl[5];
            int nx = 0;
            for (int ti = 0; ti < s->nT; ti++)
                if (!isnan(step[wi][f][ti])) { xs[nx] = s->T[ti]; yl[nx] = lim[wi][f][ti]; ys[nx++] = step[wi][f][ti]; }
            char series[64];
            snprintf(series, sizeof series, "%s d=%d", family_title((model_family)f), s->widths[wi]);
            if (nx) suite_curve(c, 0, "train_step_time", series, xs, ys, nx);
            if (nx && rr) suite_curve(c, 0, "train_step_time:limit", series, xs, yl, nx);
            growth[wi][f] = step[wi][f][s->nT - 1] / step[wi][f][0];
        }
    for (int wi = 0; wi < s->nwidths; wi++) {
        claim_values v;
        claim_values_init(&v);
        claim_set(&v, "mqa_growth", growth[wi][FAMILY_MQA]);
        claim_set(&v, "hawk_growth", growth[wi][FAMILY_HAWK]);
        claim_set(&v, "griffin_growth", growth[wi][FAMILY_GRIFFIN]);
        suite_timing_values(&tm[wi], &v);
        char where[64], meas[200];
        snprintf(where, sizeof where, "d=%d, T %d..%d", s->widths[wi], s->T[0], s->T[s->nT - 1]);
        snprintf(meas, sizeof meas, "step growth MQA %.2fx, Hawk %.2fx, Griffin %.2fx", growth[wi][0], growth[wi][1], growth[wi][2]);
        suite_claim_judged(c, "train_step_vs_T", where, &v, meas);
    }
    if (s->nwidths == 2) {
        claim_values v;
        claim_values_init(&v);
        claim_set(&v, "mqa_growth_small", growth[0][FAMILY_MQA]);
        claim_set(&v, "mqa_growth_large", growth[1][FAMILY_MQA]);
        suite_timing t = tm[0];
        suite_timing_merge(&t, &tm[1]);
        suite_timing_values(&t, &v);
        char meas[200];
        snprintf(meas, sizeof meas, "MQA growth %.2fx at d=%d, %.2fx at d=%d", growth[0][0], s->widths[0], growth[1][0], s->widths[1]);
        suite_claim_judged(c, "train_step_width", NULL, &v, meas);
    }
    return 0;
}

/* Cache lengths a decode-throughput case times its steps at. */
#define DEC_POINTS 8

/* One decode-throughput case: `reps` timed repetitions; each times one
 * greedy step of the batch at each of DEC_POINTS cache lengths, the
 * midpoints of `len` equal parts of 0..len, and estimates the time to
 * sample len tokens as len / DEC_POINTS times their sum (the midpoint rule;
 * a step's time is affine in the cache length, capped at the window for
 * local attention). tokens/s of each repetition in tps. 0, or -1 on a
 * decode error (util_last_error). */
static int time_decode(suite_ctx *c, model *m, decode_state *st, int B, int len, int reps, double *tps) {
    float *lg = malloc((size_t)B * m->cfg.vocab * sizeof(float));
    int32_t *tok = malloc((size_t)B * sizeof(int32_t));
    CHECK_ALLOC(lg); CHECK_ALLOC(tok);
    decode_state_reset(st, m, -1);
    for (int b = 0; b < B; b++) tok[b] = '\n';
    int rc = suite_step_at(m, st, len / 2, tok, lg) < 0 ? -1 : 0; /* warm-up */
    suite_time_begin(c);
    for (int rep = 0; rep < reps && !rc && !*c->stop; rep++) {
        double sum = 0;
        for (int j = 0; j < DEC_POINTS && !rc; j++) {
            double t = suite_step_at(m, st, (int)((2 * j + 1) * (int64_t)len / (2 * DEC_POINTS)), tok, lg);
            if (t < 0) rc = -1;
            sum += t;
        }
        tps[rep] = (double)B * DEC_POINTS / sum;
    }
    suite_time_end(c);
    free(lg);
    free(tok);
    return rc;
}

static int part_decode(suite_ctx *c, const tp_scale *s, const roofline_result *rr) {
    double tput[3][4], tlim[3][4]; /* tokens/s measured and at the limit */
    suite_timing tm_long, tm_short;
    suite_timing_init(&tm_long);
    suite_timing_init(&tm_short);
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 4; k++) tput[f][k] = tlim[f][k] = NAN;
    model mods[3];
    model_config cfgs[3];
    char presets[3][64];
    int have[3] = {0, 0, 0}, rc = 0;
    const char *wname = weights_name(s->dec_weights);
    for (int f = 0; f < 3 && !rc; f++) {
        if (!c->fam[f]) continue;
        int known = suite_preset_config(s->dec_size, (model_family)f, presets[f], sizeof presets[f], &cfgs[f]) == 0;
        char params[128];
        snprintf(params, sizeof params, "{\"model\":\"%s\",\"weights\":\"%s\"}", presets[f], wname);
        if (!known) { suite_case_failed(c, 0, "decode_throughput", params, "unknown preset"); rc = 1; break; }
        suite_progress(c, "creating %s (%s weights) and validating its decode", presets[f], wname);
        if (model_create_dtype(&mods[f], &cfgs[f], s->dec_weights) != 0) { suite_case_failed(c, 0, "decode_throughput", params, "%s", util_last_error()); rc = 1; break; }
        have[f] = 1;
        model_init_weights(&mods[f], c->seed);
        if (suite_to_device(c, &mods[f]) != 0) { suite_case_failed(c, 0, "decode_throughput", params, "%s", util_last_error()); rc = 1; break; }
        /* decode up to the longest cache length it will reach */
        if (suite_validate_decode_upto(c, &mods[f], 2, s->dec_len[s->ndec - 1]) != 0) {
            suite_case_failed(c, 0, "decode_throughput", params, "refused: decode differs from prefill");
            rc = 1;
        }
    }
    /* lengths outer, families in a seeded random order inner */
    for (int li = 0; li < s->ndec && !rc && !*c->stop; li++) {
        int order[3];
        suite_family_order(c, 1000 + (uint64_t)li, order);
        for (int oi = 0; oi < 3 && !rc && !*c->stop; oi++) {
            int f = order[oi];
            if (!have[f]) continue;
            int len = s->dec_len[li];
            int64_t per_seq = config_state_bytes(&cfgs[f], len + 1, NULL, NULL, NULL);
            int64_t bmax = per_seq > 0 ? (int64_t)(c->mem_budget / (double)per_seq) : s->dec_cap;
            int B = (int)(bmax < 1 ? 1 : bmax > s->dec_cap ? s->dec_cap : bmax);
            char params[256];
            snprintf(params, sizeof params,
                     "{\"family\":\"%s\",\"model\":\"%s\",\"weights\":\"%s\",\"len\":%d,\"mem_budget\":%.0f,\"threads\":%d}",
                     family_name((model_family)f), presets[f], wname, len, c->mem_budget, c->threads);
            decode_state st;
            if (decode_state_alloc(&st, &mods[f], B, len + 1) != 0) { suite_case_failed(c, 0, "decode_throughput", params, "%s", util_last_error()); rc = 1; break; }
            int reps = c->reps;
            double *tps = malloc((size_t)reps * sizeof(double));
            CHECK_ALLOC(tps);
            suite_progress(c, "decode %s: %d tokens at batch %d, %d repetitions of %d steps", family_title((model_family)f), len, B, reps, DEC_POINTS);
            int drc = time_decode(c, &mods[f], &st, B, len, reps, tps);
            decode_state_free(&st);
            if (drc != 0) {
                /* a decode error is a failed case, never a number */
                suite_case_failed(c, 0, "decode_throughput", params, "%s", util_last_error());
                free(tps);
                rc = 1;
                break;
            }
            if (!*c->stop) {
                store_id cs = suite_case(c, "decode_throughput", params);
                suite_samples(c, cs, "tokens_per_s", "tokens/s", STORE_HIGHER, tps, reps);
                double bd = B, cb = (double)per_seq;
                suite_samples(c, cs, "batch", "sequences", STORE_HIGHER | STORE_DETERMINISTIC, &bd, 1);
                suite_samples(c, cs, "cache_bytes_per_seq", "bytes", STORE_LOWER | STORE_DETERMINISTIC, &cb, 1);
                tput[f][li] = suite_median(tps, reps);
                if (rr) { /* the same midpoint rule over the limit's step times */
                    double sum = 0;
                    for (int j = 0; j < DEC_POINTS; j++)
                        sum += suite_decode_limit_s(&mods[f], B, (int)((2 * j + 1) * (int64_t)len / (2 * DEC_POINTS)), rr->read_gbs,
                                                    rr->sgemm_peak_gflops);
                    tlim[f][li] = (double)B * DEC_POINTS / sum;
                }
                if (li == s->ndec - 1) suite_timing_add(&tm_long, c, tps, reps);
                if (li == 0) suite_timing_add(&tm_short, c, tps, reps);
                if (!c->quiet) {
                    suite_progress_done(c);
                    fprintf(stderr, "[throughput] %-7s len %5d: batch %4d, cache %.1f KiB/seq, %.0f tokens/s (spread %.1f%%)\n",
                            family_title((model_family)f), len, B, cb / 1024, tput[f][li], 100 * suite_rel_spread(tps, reps));
                }
            }
            free(tps);
        }
    }
    for (int f = 0; f < 3; f++) {
        if (!have[f]) continue;
        double xs[4], ys[4], yl[4];
        int nx = 0;
        for (int li = 0; li < s->ndec; li++)
            if (!isnan(tput[f][li])) { xs[nx] = s->dec_len[li]; yl[nx] = tlim[f][li]; ys[nx++] = tput[f][li]; }
        if (nx) suite_curve(c, 0, "decode_throughput", family_title((model_family)f), xs, ys, nx);
        if (nx && rr) suite_curve(c, 0, "decode_throughput:limit", family_title((model_family)f), xs, yl, nx);
        model_free(&mods[f]);
    }
    if (rc) return rc;
    if (*c->stop) return 130;
    int last = s->ndec - 1;
    double mq = tput[FAMILY_MQA][last], hk = tput[FAMILY_HAWK][last], gr = tput[FAMILY_GRIFFIN][last];
    claim_values v;
    claim_values_init(&v);
    claim_set(&v, "hawk_tps", hk);
    claim_set(&v, "griffin_tps", gr);
    claim_set(&v, "mqa_tps", mq);
    suite_timing_values(&tm_long, &v);
    char where[64], meas[200];
    snprintf(where, sizeof where, "%d tokens", s->dec_len[last]);
    snprintf(meas, sizeof meas, "Hawk %.0f, Griffin %.0f, MQA %.0f tokens/s", hk, gr, mq);
    suite_claim_judged(c, "decode_throughput_order", where, &v, meas);
    double g0 = tput[FAMILY_HAWK][0] / tput[FAMILY_MQA][0], g1 = hk / mq;
    claim_values_init(&v);
    claim_set(&v, "gap_short", g0);
    claim_set(&v, "gap_long", g1);
    suite_timing_merge(&tm_long, &tm_short);
    suite_timing_values(&tm_long, &v);
    snprintf(where, sizeof where, "%d vs %d tokens", s->dec_len[0], s->dec_len[last]);
    snprintf(meas, sizeof meas, "Hawk/MQA %.2fx at %d, %.2fx at %d tokens", g0, s->dec_len[0], g1, s->dec_len[last]);
    suite_claim_judged(c, "decode_gap_grows", where, &v, meas);
    return 0;
}

int suite_throughput(suite_ctx *c) {
    tp_scale s;
    scale_of(c, &s);
    if (c->scale == SCALE_SMOKE) roofline_set_quick(1);
    /* on a device the cpu's probe is not its limit: no limit curves there (yet) */
    const int dev = c->be && !c->be->host_memory;
    if (!dev) suite_progress(c, "measuring the limits (roofline probe)");
    const roofline_result *rr = dev ? NULL : roofline_get(c->threads); /* NULL when the probe failed: no limit curves */
    suite_store_limits(c, rr ? rr->read_gbs : NAN, rr ? rr->sgemm_peak_gflops : NAN);
    int rc = part_train_step(c, &s, rr);
    if (rc) return rc;
    return part_decode(c, &s, rr);
}
