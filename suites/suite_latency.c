/* suite_latency.c — Fig. 4 and the decode-step model of §5.1.
 *
 * (a) Time to sample N tokens at a fixed batch after an empty prompt and
 *     after a long prompt, per family: cumulative decode time vs tokens
 *     sampled, and the per-step latency vs position.
 * (b) The paper's decode-step model: predicted step time = (weight bytes
 *     + B x cache bytes per sequence) / read bandwidth (measured by the
 *     roofline probe in this run), beside the measured step time over
 *     batch size and cache length, with their ratio; for fp32 and bf16
 *     weights (the bytes are what the weights take in their storage type).
 * With --device cuda the models run on the device and (b) is judged
 * against the device's copy bandwidth and L2 (device_limits).
 * From the cpu preset on, both parts run Appendix C sizes (400M: 0.75 GB of
 * weights in bf16, 1.5 GB in fp32; many times the machine's caches), so
 * the steps stream their weights from memory. Every timed step runs at a
 * held cache length (suite_step_at: a step's work depends on the length,
 * not on the cached values), so a 4096-token prompt costs no prefill and
 * N tokens are timed as steps at the midpoints of N/LAT_POINTS parts.
 * The curves of (a) have ':limit' twins (same series and x): each step at
 * the larger of its memory and compute time (suite_decode_limit_s) from the
 * limits measured in this run (stored as 'roofline_limits'), added up the
 * same way; (b)'s 'predicted' series is its memory limit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "roofline.h"
#include "suite.h"
#include "util.h"

typedef struct {
    const char *size;        /* preset size of the latency models: "tiny", "400m", "1b" */
    int B, N, prompt;        /* batch, tokens sampled, long-prompt length */
    const char *msize;       /* preset size for the decode-step model (large enough not to fit in the caches) */
    int mB[4], nmB, mlen[3], nmlen, msteps;
} lat_scale;

/* The scale tables: the only place the sizes live. At cpu (a) samples 4096
 * tokens after the paper's 4096-token prompt at batch 16: MQA's cache then
 * grows from 0.8 to 1.5 GB against 0.75 GB of bf16 weights (the KV cache
 * becomes the dominant cost), while Hawk and Griffin read a fixed state. */
static void scale_of(const suite_ctx *c, lat_scale *s) {
    if (c->scale == SCALE_SMOKE) *s = (lat_scale){"tiny", 2, 32, 32, "tiny", {1, 4}, 2, {16, 64}, 2, 6};
    else if (c->scale == SCALE_CPU) *s = (lat_scale){"400m", 16, 4096, 4096, "400m", {1, 4, 16}, 3, {256, 1024, 4096}, 3, 8};
    else *s = (lat_scale){"1b", 16, 4096, 4096, "1b", {1, 16, 64, 128}, 4, {1024, 4096, 16384}, 3, 8};
}

/* Weights of the latency models (a); the decode-step model (b) runs both. */
#define LAT_WEIGHTS WEIGHTS_BF16
/* Positions (a) times per repetition: the midpoints of N / LAT_POINTS parts. */
#define LAT_POINTS 8

/* The family's model at this size and storage, seeded. 0, or 1 after
 * recording the failed case. */
static int family_model(suite_ctx *c, const char *size, model_family f, weights_dtype w, const char *cname, char *preset, size_t n,
                        model_config *cfg, model *m) {
    int known = suite_preset_config(size, f, preset, n, cfg) == 0;
    char params[96];
    snprintf(params, sizeof params, "{\"model\":\"%s\",\"weights\":\"%s\"}", preset, weights_name(w));
    if (!known) { suite_case_failed(c, 0, cname, params, "unknown preset %s-%s", family_name(f), size); return 1; }
    suite_progress(c, "creating %s (%s weights)", preset, weights_name(w));
    if (model_create_dtype(m, cfg, w) != 0) { suite_case_failed(c, 0, cname, params, "%s", util_last_error()); return 1; }
    model_init_weights(m, c->seed);
    if (suite_to_device(c, m) != 0) {
        suite_case_failed(c, 0, cname, params, "%s", util_last_error());
        model_free(m);
        return 1;
    }
    return 0;
}

/* Time `reps` repetitions of LAT_POINTS steps at batch B, the j-th at
 * cache length P + (2j + 1) N / (2 LAT_POINTS); seconds in t[rep * LAT_POINTS + j].
 * 0 or -1 (util_last_error). */
static int time_points(suite_ctx *c, model *m, decode_state *st, int B, int P, int N, int reps, double *t) {
    float *lg = malloc((size_t)B * m->cfg.vocab * sizeof(float));
    int32_t *tok = malloc((size_t)B * sizeof(int32_t));
    CHECK_ALLOC(lg); CHECK_ALLOC(tok);
    decode_state_reset(st, m, -1);
    for (int b = 0; b < B; b++) tok[b] = 'a';
    int rc = suite_step_at(m, st, P + N / 2, tok, lg) < 0 ? -1 : 0; /* warm-up */
    suite_time_begin(c);
    for (int r = 0; r < reps && !rc && !*c->stop; r++)
        for (int j = 0; j < LAT_POINTS && !rc; j++) {
            double x = suite_step_at(m, st, P + (int)((2 * j + 1) * (int64_t)N / (2 * LAT_POINTS)), tok, lg);
            if (x < 0) rc = -1;
            t[r * LAT_POINTS + j] = x;
        }
    suite_time_end(c);
    free(lg);
    free(tok);
    return rc;
}

static int part_latency(suite_ctx *c, const lat_scale *s, const roofline_result *rr) {
    /* per family, per prompt: median over repetitions of the late/early step ratio and of the total time */
    double growth[3][2], total[3][2];
    suite_timing tm;
    suite_timing_init(&tm);
    model mods[3];
    model_config cfgs[3];
    char presets[3][64];
    int have[3] = {0, 0, 0}, rc = 0;
    const char *wname = weights_name(LAT_WEIGHTS);
    for (int f = 0; f < 3; f++) growth[f][0] = growth[f][1] = total[f][0] = total[f][1] = NAN;
    for (int f = 0; f < 3 && !rc; f++) {
        if (!c->fam[f]) continue;
        if (family_model(c, s->size, (model_family)f, LAT_WEIGHTS, "decode_latency", presets[f], sizeof presets[f], &cfgs[f], &mods[f])) {
            rc = 1;
            break;
        }
        have[f] = 1;
        /* decode up to the last length reached */
        if (suite_validate_decode_upto(c, &mods[f], s->B, s->prompt + s->N) != 0) {
            suite_case_failed(c, 0, "decode_latency", presets[f], "refused: decode differs from prefill");
            rc = 1;
        }
    }
    const int reps = c->reps, N = s->N, K = LAT_POINTS;
    double *t = malloc((size_t)reps * K * sizeof(double)), *col = malloc((size_t)reps * sizeof(double));
    double *gr = malloc((size_t)reps * sizeof(double)), *tot = malloc((size_t)reps * sizeof(double));
    CHECK_ALLOC(t); CHECK_ALLOC(col); CHECK_ALLOC(gr); CHECK_ALLOC(tot);
    for (int pi = 0; pi < 2 && !rc && !*c->stop; pi++) {
        int order[3];
        suite_family_order(c, 2000 + (uint64_t)pi, order);
        for (int oi = 0; oi < 3 && !rc && !*c->stop; oi++) {
            int f = order[oi];
            if (!have[f]) continue;
            model *m = &mods[f];
            int P = pi ? s->prompt : 0;
            char params[256];
            snprintf(params, sizeof params,
                     "{\"family\":\"%s\",\"model\":\"%s\",\"weights\":\"%s\",\"B\":%d,\"prompt\":%d,\"N\":%d,\"threads\":%d}",
                     family_name((model_family)f), presets[f], wname, s->B, P, N, c->threads);
            decode_state st;
            if (decode_state_alloc(&st, m, s->B, P + N + 1) != 0) { suite_case_failed(c, 0, "decode_latency", params, "%s", util_last_error()); rc = 1; break; }
            suite_progress(c, "%s prompt=%d: %d repetitions of %d steps at batch %d", family_title((model_family)f), P, reps, K, s->B);
            int bad = time_points(c, m, &st, s->B, P, N, reps, t);
            decode_state_free(&st);
            if (*c->stop) break;
            if (bad) { suite_case_failed(c, 0, "decode_latency", params, "%s", util_last_error()); rc = 1; break; }
            /* per repetition: the time to sample N tokens (midpoint rule) and the last / first point */
            for (int r = 0; r < reps; r++) {
                double sum = 0;
                for (int j = 0; j < K; j++) sum += t[r * K + j];
                tot[r] = sum * N / K;
                gr[r] = t[r * K + K - 1] / t[r * K];
            }
            double stepm[LAT_POINTS];
            for (int j = 0; j < K; j++) {
                for (int r = 0; r < reps; r++) col[r] = t[r * K + j];
                stepm[j] = suite_median(col, reps);
            }
            char series[64];
            snprintf(series, sizeof series, "%s prompt=%d", family_title((model_family)f), P);
            store_id cs = suite_case(c, "decode_latency", params);
            /* cumulative time to sample x tokens at the ends of the parts, and the step latency at their midpoints */
            double cx[LAT_POINTS + 1], cy[LAT_POINTS + 1], bx[LAT_POINTS], by[LAT_POINTS], ly[LAT_POINTS + 1], lb[LAT_POINTS];
            cx[0] = cy[0] = ly[0] = 0;
            for (int j = 0; j < K; j++) {
                cx[j + 1] = (double)(j + 1) * N / K;
                cy[j + 1] = cy[j] + stepm[j] * N / K;
                bx[j] = P + (int)((2 * j + 1) * (int64_t)N / (2 * K));
                by[j] = 1e3 * stepm[j];
                lb[j] = rr ? suite_decode_limit_s(m, s->B, (int)bx[j], rr->read_gbs, rr->sgemm_peak_gflops) : NAN;
                ly[j + 1] = ly[j] + lb[j] * N / K;
                lb[j] *= 1e3;
            }
            suite_curve(c, cs, "decode_latency", series, cx, cy, K + 1);
            suite_curve(c, cs, "decode_step_latency", series, bx, by, K);
            if (rr) {
                suite_curve(c, cs, "decode_latency:limit", series, cx, ly, K + 1);
                suite_curve(c, cs, "decode_step_latency:limit", series, bx, lb, K);
            }
            suite_samples(c, cs, "step_time", "s", STORE_LOWER, t, reps * K);
            suite_samples(c, cs, "total_time", "s", STORE_LOWER, tot, reps);
            suite_samples(c, cs, "late_over_early_step", "x", STORE_LOWER, gr, reps);
            /* the ratio of the two points' medians over repetitions: one step
             * per point per repetition jitters by 5-10%, so the median of the
             * per-repetition ratios (stored above) moves by as much */
            growth[f][pi] = stepm[K - 1] / stepm[0];
            total[f][pi] = suite_median(tot, reps);
            if (pi) suite_timing_add(&tm, c, tot, reps);
            if (!c->quiet) {
                suite_progress_done(c);
                fprintf(stderr, "[latency] %-7s prompt %5d: %d tokens at batch %d in %.2f s (%.2f ms/step, last/first eighth %.2fx, spread %.1f%%)\n",
                        family_title((model_family)f), P, N, s->B, total[f][pi], 1e3 * total[f][pi] / N, growth[f][pi], 100 * suite_rel_spread(tot, reps));
            }
        }
    }
    free(t); free(col); free(gr); free(tot);
    for (int f = 0; f < 3; f++) if (have[f]) model_free(&mods[f]);
    if (rc) return rc;
    if (*c->stop) return 130;
    claim_values v;
    claim_values_init(&v);
    claim_set(&v, "mqa_growth", growth[FAMILY_MQA][1]);
    claim_set(&v, "hawk_growth", growth[FAMILY_HAWK][1]);
    claim_set(&v, "griffin_growth", growth[FAMILY_GRIFFIN][1]);
    suite_timing_values(&tm, &v);
    char where[64], meas[200];
    snprintf(where, sizeof where, "prompt %d, %d tokens, batch %d", s->prompt, N, s->B);
    snprintf(meas, sizeof meas, "late/early step: MQA %.2fx, Hawk %.2fx, Griffin %.2fx", growth[0][1], growth[1][1], growth[2][1]);
    suite_claim_judged(c, "latency_flat_after_prompt", where, &v, meas);
    claim_values_init(&v);
    claim_set(&v, "mqa_time", total[FAMILY_MQA][1]);
    claim_set(&v, "hawk_time", total[FAMILY_HAWK][1]);
    claim_set(&v, "griffin_time", total[FAMILY_GRIFFIN][1]);
    suite_timing_values(&tm, &v);
    snprintf(meas, sizeof meas, "time to sample: MQA %.2f s, Hawk %.2f s, Griffin %.2f s", total[0][1], total[1][1], total[2][1]);
    suite_claim_judged(c, "latency_below_mqa", where, &v, meas);
    return 0;
}

/* Upper bound on the timed decode steps of one decode-model case. */
#define MODEL_MAX_STEPS 256

/* One storage type of the decode-step model: every family over the cache
 * lengths and batch sizes, then the memory-bound claim for this storage. */
static int model_weights(suite_ctx *c, const lat_scale *s, weights_dtype w, double bw, double caches) {
    double rmin = INFINITY, rmax = -INFINITY, min_bytes = INFINITY;
    suite_timing tm;
    suite_timing_init(&tm);
    int have = 0, rc = 0;
    const char *wname = weights_name(w);
    int order[3];
    suite_family_order(c, 3000 + (uint64_t)w, order);
    for (int oi = 0; oi < 3 && !rc && !*c->stop; oi++) {
        int f = order[oi];
        if (!c->fam[f]) continue;
        char preset[64];
        model_config cfg;
        model m;
        if (family_model(c, s->msize, (model_family)f, w, "decode_step", preset, sizeof preset, &cfg, &m)) { rc = 1; break; }
        if (suite_validate_decode_upto(c, &m, 1, s->mlen[s->nmlen - 1]) != 0) {
            suite_case_failed(c, 0, "decode_step", preset, "refused: decode differs from prefill");
            model_free(&m);
            rc = 1;
            break;
        }
        double wbytes = model_weight_bytes(&m); /* in the storage type: what a step streams */
        float *lg = malloc((size_t)s->mB[s->nmB - 1] * cfg.vocab * sizeof(float));
        int32_t *tok = malloc((size_t)s->mB[s->nmB - 1] * sizeof(int32_t));
        double *t = malloc((size_t)MODEL_MAX_STEPS * sizeof(double));
        CHECK_ALLOC(lg); CHECK_ALLOC(tok); CHECK_ALLOC(t);
        for (int li = 0; li < s->nmlen && !rc && !*c->stop; li++) {
            int len = s->mlen[li];
            double xs[4], ym[4], yp[4];
            int nx = 0;
            for (int bi = 0; bi < s->nmB && !rc && !*c->stop; bi++) {
                int B = s->mB[bi];
                char params[256];
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"model\":\"%s\",\"weights\":\"%s\",\"B\":%d,\"len\":%d,\"threads\":%d}",
                         family_name((model_family)f), preset, wname, B, len, c->threads);
                decode_state st;
                if (decode_state_alloc(&st, &m, B, len + 2) != 0) { suite_case_failed(c, 0, "decode_step", params, "%s", util_last_error()); rc = 1; break; }
                suite_progress(c, "decode model %s %s len=%d B=%d", family_title((model_family)f), wname, len, B);
                decode_state_reset(&st, &m, -1);
                for (int b = 0; b < B; b++) tok[b] = 'a';
                /* every timed step runs at cache length len, and there are
                 * enough of them for the timed region to last past what the
                 * interference probe can judge */
                double t0 = suite_step_at(&m, &st, len, tok, lg); /* warm-up */
                int bad = t0 < 0, nsteps = s->msteps;
                if (!bad && t0 > 0) nsteps = (int)fmax(s->msteps, fmin(MODEL_MAX_STEPS, ceil(1.5 * BUSY_MIN_SECONDS / t0)));
                suite_time_begin(c);
                for (int k = 0; k < nsteps && !bad && !*c->stop; k++) bad = (t[k] = suite_step_at(&m, &st, len, tok, lg)) < 0;
                suite_time_end(c);
                decode_state_free(&st);
                if (bad) { suite_case_failed(c, 0, "decode_step", params, "%s", util_last_error()); rc = 1; break; }
                if (*c->stop) break;
                double cache = (double)config_state_bytes(&cfg, len + 1, NULL, NULL, NULL);
                double bytes = wbytes + B * cache, pred = bytes / bw, meas = suite_median(t, nsteps);
                store_id cs = suite_case(c, "decode_step", params);
                suite_samples(c, cs, "step_time", "s", STORE_LOWER, t, nsteps);
                double ratio = meas / pred;
                suite_samples(c, cs, "ratio_to_memory_model", "x", STORE_LOWER | STORE_DETERMINISTIC, &ratio, 1);
                xs[nx] = B;
                ym[nx] = 1e3 * meas;
                yp[nx++] = 1e3 * pred;
                if (B == 1) {
                    rmin = fmin(rmin, ratio);
                    rmax = fmax(rmax, ratio);
                    min_bytes = fmin(min_bytes, bytes);
                    suite_timing_add(&tm, c, t, nsteps);
                    have = 1;
                }
                if (!c->quiet) {
                    suite_progress_done(c);
                    fprintf(stderr, "[latency] decode model %-7s %s len %5d B %3d: %.3f ms/step, %.2fx the memory model (%.0f MB at %.1f GB/s)\n",
                            family_title((model_family)f), wname, len, B, 1e3 * meas, ratio, bytes / 1e6, bw / 1e9);
                }
            }
            char series[80];
            snprintf(series, sizeof series, "%s %s len=%d measured", family_title((model_family)f), wname, len);
            suite_curve(c, 0, "decode_model", series, xs, ym, nx);
            snprintf(series, sizeof series, "%s %s len=%d predicted", family_title((model_family)f), wname, len);
            suite_curve(c, 0, "decode_model", series, xs, yp, nx);
        }
        free(lg); free(tok); free(t);
        model_free(&m);
    }
    if (rc) return rc;
    if (*c->stop) return 130;
    claim_values v;
    claim_values_init(&v);
    claim_set(&v, "ratio_min", have ? rmin : NAN);
    claim_set(&v, "ratio_max", have ? rmax : NAN);
    claim_set(&v, "bytes_over_cache", caches > 0 && have ? min_bytes / caches : NAN);
    claim_set(&v, "bandwidth_gbs", bw / 1e9);
    suite_timing_values(&tm, &v);
    char where[96], meas[240];
    snprintf(where, sizeof where, "%s models, %s weights, batch 1", s->msize, wname);
    snprintf(meas, sizeof meas, "batch-1 step / ((weights + cache) / %.1f GB/s): %.2fx .. %.2fx; bytes %.0f MB vs caches %.0f MB", bw / 1e9,
             rmin, rmax, min_bytes / 1e6, caches / 1e6);
    suite_claim_judged(c, "decode_memory_bound", where, &v, meas);
    return 0;
}

/* On a device the limits are the device's: its copy bandwidth (read +
 * write bytes of a 256 MiB device-to-device copy, best of 5: the rate its
 * memory sustains; a decode step mostly reads) and its L2. */
static void device_limits(double *bw, double *caches) {
    gpu_info gi;
    double gbs = gpu_copy_bandwidth((size_t)256 << 20, 5);
    *bw = gbs > 0 ? gbs * 1e9 : NAN;
    *caches = gpu_info_get(&gi) == 0 ? (double)gi.l2_bytes : 0;
}

/* bw, caches: the read bandwidth (B/s; NaN when the probe failed) and the
 * cache bytes the decode model is judged against (the device's on a device). */
static int part_model(suite_ctx *c, const lat_scale *s, double bw, double caches) {
    int rc = model_weights(c, s, WEIGHTS_F32, bw, caches);
    return rc ? rc : model_weights(c, s, WEIGHTS_BF16, bw, caches);
}

int suite_latency(suite_ctx *c) {
    lat_scale s;
    scale_of(c, &s);
    if (c->scale == SCALE_SMOKE) roofline_set_quick(1);
    const int dev = c->be && !c->be->host_memory;
    suite_progress(c, "measuring read bandwidth (%s)", dev ? "device copy" : "roofline probe");
    const roofline_result *rr = dev ? NULL : roofline_get(c->threads); /* NULL when the probe failed */
    double bw = rr ? rr->read_gbs * 1e9 : NAN, caches = suite_cache_bytes(); /* NaN: the claim says so */
    if (dev) device_limits(&bw, &caches);
    suite_store_limits(c, bw / 1e9, rr ? rr->sgemm_peak_gflops : NAN);
    int rc = part_latency(c, &s, rr);
    if (rc) return rc;
    return part_model(c, &s, bw, caches);
}
