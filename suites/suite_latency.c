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
#include <unistd.h>

typedef struct {
    const char *size;        /* preset size of the latency models: "tiny", "small" (SIZE-FAMILY) or "1b" */
    int B, N, prompt;        /* batch, tokens sampled, long-prompt length */
    const char *msize;       /* preset size for the decode-step model (large enough not to fit in the caches) */
    int mB[4], nmB, mlen[3], nmlen, msteps;
} lat_scale;

/* The scale tables: the only place the sizes live. The decode-step model
 * uses `base` at cpu (about 108 MB of parameters, three times this
 * machine's L2 + L3) so the memory-bound claim is judged on a model that is
 * not cache-resident; `small` (about 20 MB) would be. */
static void scale_of(const suite_ctx *c, lat_scale *s) {
    if (c->scale == SCALE_SMOKE) *s = (lat_scale){"tiny", 2, 32, 32, "tiny", {1, 4}, 2, {16, 64}, 2, 6};
    else if (c->scale == SCALE_CPU) *s = (lat_scale){"small", 8, 512, 1024, "base", {1, 4, 16}, 3, {256, 1024, 4096}, 3, 8};
    else *s = (lat_scale){"1b", 16, 4096, 4096, "1b", {1, 16, 64, 128}, 4, {1024, 4096, 16384}, 3, 8};
}

static void preset_name(const suite_ctx *c, const char *size, model_family f, char *buf, size_t n) {
    if (c->scale == SCALE_PAPER) snprintf(buf, n, "%s-%s", family_name(f), size);
    else snprintf(buf, n, "%s-%s", size, family_name(f));
}

/* The family's model at this scale, seeded. 0, or 1 after recording the
 * failed case. */
static int family_model(suite_ctx *c, const char *size, model_family f, const char *cname, char *preset, size_t n, model_config *cfg,
                        model *m) {
    preset_name(c, size, f, preset, n);
    char params[96];
    snprintf(params, sizeof params, "{\"model\":\"%s\"}", preset);
    if (config_preset(preset, cfg) != 0) { suite_case_failed(c, 0, cname, params, "unknown preset %s", preset); return 1; }
    if (model_create(m, cfg) != 0) { suite_case_failed(c, 0, cname, params, "%s", util_last_error()); return 1; }
    model_init_weights(m, c->seed);
    return 0;
}

/* Bytes of L2 and L3 on this machine (each cache counted once), from
 * /sys; 0 when unknown. */
static double cache_bytes(void) {
    double total = 0;
    for (int i = 0; i < 8; i++) {
        char path[128], buf[64];
        int level = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        if (fscanf(f, "%d", &level) != 1) level = 0;
        fclose(f);
        if (level < 2) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        double size = 0;
        if ((f = fopen(path, "r"))) {
            char unit = 0;
            if (fscanf(f, "%lf%c", &size, &unit) >= 1) size *= unit == 'K' ? 1024.0 : unit == 'M' ? 1048576.0 : 1.0;
            fclose(f);
        }
        /* cpus sharing it: count the shared_cpu_list ranges ("0-1", "0,2") */
        int sharing = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", i);
        if ((f = fopen(path, "r"))) {
            if (fgets(buf, sizeof buf, f)) {
                for (char *t = strtok(buf, ",\n"); t; t = strtok(NULL, ",\n")) {
                    int a, b;
                    if (sscanf(t, "%d-%d", &a, &b) == 2) sharing += b - a + 1;
                    else sharing++;
                }
            }
            fclose(f);
        }
        int ncpu = util_threads() > 0 ? (int)sysconf(_SC_NPROCESSORS_ONLN) : 1;
        total += size * (sharing > 0 ? (double)ncpu / sharing : 1);
    }
    return total;
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

/* A cache of `len` tokens without computing it: the decode-step model
 * times bytes read, which do not depend on the cached values, so the state
 * is zeroed and each sequence's position set to len (the step then reads
 * exactly the slots a prefill of len tokens would have filled). Decode at
 * this length is validated with a real prefill (suite_validate_decode). */
static void fill_positions(model *m, decode_state *st, int len) {
    decode_state_reset(st, m, -1);
    for (int b = 0; b < st->B; b++) st->n[b] = len;
}

/* Sample N tokens greedily at batch B; per-step seconds in step[N]. 0 or -1. */
static int sample_steps(model *m, decode_state *st, int B, int N, double *step, volatile sig_atomic_t *stop) {
    const int V = m->cfg.vocab;
    float *lg = malloc((size_t)B * V * sizeof(float));
    int32_t *tok = malloc((size_t)B * sizeof(int32_t));
    CHECK_ALLOC(lg); CHECK_ALLOC(tok);
    for (int b = 0; b < B; b++) tok[b] = 'a';
    int rc = 0;
    for (int i = 0; i < N && !*stop; i++) {
        double t1 = util_now();
        if (model_decode_step(m, st, tok, NULL, lg) != 0) { rc = -1; break; }
        for (int b = 0; b < B; b++) {
            const float *l = lg + (size_t)b * V;
            int best = 0;
            for (int v = 1; v < V; v++) if (l[v] > l[best]) best = v;
            tok[b] = best;
        }
        step[i] = util_now() - t1;
    }
    free(lg);
    free(tok);
    return rc;
}

static int part_latency(suite_ctx *c, const lat_scale *s) {
    /* per family, per prompt: median over repetitions of the late/early step ratio and of the total time */
    double growth[3][2], total[3][2];
    suite_timing tm;
    suite_timing_init(&tm);
    model mods[3];
    model_config cfgs[3];
    char presets[3][64];
    int have[3] = {0, 0, 0}, rc = 0;
    for (int f = 0; f < 3; f++) growth[f][0] = growth[f][1] = total[f][0] = total[f][1] = NAN;
    for (int f = 0; f < 3 && !rc; f++) {
        if (!c->fam[f]) continue;
        if (family_model(c, s->size, (model_family)f, "decode_latency", presets[f], sizeof presets[f], &cfgs[f], &mods[f])) { rc = 1; break; }
        have[f] = 1;
        /* decode from an empty cache and after the prompt, to the last length reached */
        int lens[3] = {1, s->prompt, s->prompt + s->N - 3};
        for (int k = 0; k < 3 && !rc; k++)
            if (suite_validate_decode(c, &mods[f], s->B, lens[k]) != 0) {
                suite_case_failed(c, 0, "decode_latency", presets[f], "refused: decode differs from prefill after %d tokens", lens[k]);
                rc = 1;
            }
    }
    const int reps = c->reps, N = s->N, e8 = N / 8 > 1 ? N / 8 : 1;
    double *step = malloc((size_t)reps * N * sizeof(double)), *stepm = malloc((size_t)N * sizeof(double));
    double *col = malloc((size_t)reps * sizeof(double)), *gr = malloc((size_t)reps * sizeof(double)), *tot = malloc((size_t)reps * sizeof(double));
    double *pre = malloc((size_t)reps * sizeof(double));
    CHECK_ALLOC(step); CHECK_ALLOC(stepm); CHECK_ALLOC(col); CHECK_ALLOC(gr); CHECK_ALLOC(tot); CHECK_ALLOC(pre);
    for (int pi = 0; pi < 2 && !rc && !*c->stop; pi++) {
        int order[3];
        suite_family_order(c, 2000 + (uint64_t)pi, order);
        for (int oi = 0; oi < 3 && !rc && !*c->stop; oi++) {
            int f = order[oi];
            if (!have[f]) continue;
            model *m = &mods[f];
            int P = pi ? s->prompt : 0;
            char params[256];
            snprintf(params, sizeof params, "{\"family\":\"%s\",\"model\":\"%s\",\"B\":%d,\"prompt\":%d,\"N\":%d,\"threads\":%d}",
                     family_name((model_family)f), presets[f], s->B, P, N, c->threads);
            decode_state st;
            if (decode_state_alloc(&st, m, s->B, P + N + 1) != 0) { suite_case_failed(c, 0, "decode_latency", params, "%s", util_last_error()); rc = 1; break; }
            int bad = 0;
            /* the repetitions: prefill (not timed), then N timed steps */
            double busy_others = 0;
            int busy_ok = 1;
            for (int r = 0; r < reps && !bad && !*c->stop; r++) {
                suite_progress(c, "%s prompt=%d: repetition %d/%d", family_title((model_family)f), P, r + 1, reps);
                double t0 = util_now();
                if (fill_prompt(m, &st, s->B, P, c->seed + 5) != 0) { bad = 1; break; }
                pre[r] = util_now() - t0;
                suite_time_begin(c);
                if (sample_steps(m, &st, s->B, N, step + (size_t)r * N, c->stop) != 0) bad = 1;
                suite_time_end(c);
                if (c->busy.ok) busy_others = fmax(busy_others, c->busy.others); else busy_ok = 0;
                double sum = 0;
                for (int i = 0; i < N; i++) sum += step[(size_t)r * N + i];
                tot[r] = sum;
                gr[r] = suite_median(step + (size_t)r * N + N - e8, e8) / suite_median(step + (size_t)r * N, e8);
            }
            decode_state_free(&st);
            if (*c->stop) break;
            if (bad) { suite_case_failed(c, 0, "decode_latency", params, "%s", util_last_error()); rc = 1; break; }
            /* the interference of the whole case: the worst repetition */
            c->busy.ok = busy_ok;
            c->busy.others = busy_others;
            for (int i = 0; i < N; i++) {
                for (int r = 0; r < reps; r++) col[r] = step[(size_t)r * N + i];
                stepm[i] = suite_median(col, reps);
            }
            char series[64];
            snprintf(series, sizeof series, "%s prompt=%d", family_title((model_family)f), P);
            store_id cs = suite_case(c, "decode_latency", params);
            /* cumulative time of the median steps, thinned to <= 64 log-spaced points */
            double cx[80], cy[80];
            int nc = 0;
            double *cum = malloc((size_t)N * sizeof(double));
            CHECK_ALLOC(cum);
            cum[0] = stepm[0];
            for (int i = 1; i < N; i++) cum[i] = cum[i - 1] + stepm[i];
            for (int k = 0; k < 64; k++) {
                int i = (int)lround(exp(log((double)N) * (k + 1) / 64.0)) - 1;
                if (i < 0) i = 0;
                if (nc && cx[nc - 1] == i + 1) continue;
                cx[nc] = i + 1;
                cy[nc++] = cum[i];
            }
            free(cum);
            suite_curve(c, cs, "decode_latency", series, cx, cy, nc);
            int nb = (N + 15) / 16;
            double *bx = malloc((size_t)nb * sizeof(double)), *by = malloc((size_t)nb * sizeof(double));
            CHECK_ALLOC(bx); CHECK_ALLOC(by);
            for (int k = 0; k < nb; k++) {
                double sm = 0;
                int n = 0;
                for (int i = 16 * k; i < 16 * (k + 1) && i < N; i++) { sm += stepm[i]; n++; }
                bx[k] = P + 16 * k + 8;
                by[k] = 1e3 * sm / n;
            }
            suite_curve(c, cs, "decode_step_latency", series, bx, by, nb);
            free(bx); free(by);
            suite_samples(c, cs, "total_time", "s", STORE_LOWER, tot, reps);
            suite_samples(c, cs, "late_over_early_step", "x", STORE_LOWER, gr, reps);
            suite_samples(c, cs, "prefill_time", "s", STORE_LOWER, pre, reps);
            growth[f][pi] = suite_median(gr, reps);
            total[f][pi] = suite_median(tot, reps);
            if (pi) suite_timing_add(&tm, c, tot, reps);
            if (!c->quiet) {
                suite_progress_done(c);
                fprintf(stderr, "[latency] %-7s prompt %5d: %d tokens at batch %d in %.2f s (%.2f ms/step, last/first eighth %.2fx, spread %.1f%%)\n",
                        family_title((model_family)f), P, N, s->B, total[f][pi], 1e3 * total[f][pi] / N, growth[f][pi], 100 * suite_rel_spread(tot, reps));
            }
        }
    }
    free(step); free(stepm); free(col); free(gr); free(tot); free(pre);
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

static int part_model(suite_ctx *c, const lat_scale *s) {
    const roofline_result *rr = roofline_get(c->threads);
    double bw = rr ? rr->read_gbs * 1e9 : NAN; /* NaN when the probe failed: the claim says so */
    double rmin = INFINITY, rmax = -INFINITY, min_bytes = INFINITY, caches = cache_bytes();
    suite_timing tm;
    suite_timing_init(&tm);
    int have = 0, rc = 0;
    if (c->db) {
        double zx = 0, lim = rr ? rr->read_gbs : NAN;
        suite_curve(c, 0, "roofline_limits", "GB/s", &zx, &lim, 1);
    }
    int order[3];
    suite_family_order(c, 3000, order);
    for (int oi = 0; oi < 3 && !rc && !*c->stop; oi++) {
        int f = order[oi];
        if (!c->fam[f]) continue;
        char preset[64];
        model_config cfg;
        model m;
        if (family_model(c, s->msize, (model_family)f, "decode_step", preset, sizeof preset, &cfg, &m)) { rc = 1; break; }
        if (suite_validate_decode(c, &m, 1, s->mlen[s->nmlen - 1]) != 0) {
            suite_case_failed(c, 0, "decode_step", preset, "refused: decode differs from prefill at length %d", s->mlen[s->nmlen - 1]);
            model_free(&m);
            rc = 1;
            break;
        }
        double pbytes = 4.0 * (double)m.nparams;
        for (int li = 0; li < s->nmlen && !rc && !*c->stop; li++) {
            int len = s->mlen[li];
            double xs[4], ym[4], yp[4];
            int nx = 0;
            for (int bi = 0; bi < s->nmB && !rc && !*c->stop; bi++) {
                int B = s->mB[bi];
                char params[256];
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"model\":\"%s\",\"B\":%d,\"len\":%d,\"threads\":%d}",
                         family_name((model_family)f), preset, B, len, c->threads);
                decode_state st;
                if (decode_state_alloc(&st, &m, B, len + s->msteps + 2) != 0) { suite_case_failed(c, 0, "decode_step", params, "%s", util_last_error()); rc = 1; break; }
                suite_progress(c, "decode model %s len=%d B=%d", family_title((model_family)f), len, B);
                fill_positions(&m, &st, len);
                /* every timed step runs at cache length len (the position is
                 * held), and there are enough of them for the timed region to
                 * last past what the interference probe can judge */
                double *t = malloc((size_t)(MODEL_MAX_STEPS + 1) * sizeof(double));
                CHECK_ALLOC(t);
                int bad = sample_steps(&m, &st, B, 1, t, c->stop); /* warm-up */
                int nsteps = s->msteps;
                if (!bad && t[0] > 0) {
                    double want = ceil(1.5 * BUSY_MIN_SECONDS / t[0]);
                    nsteps = (int)fmax(s->msteps, fmin(MODEL_MAX_STEPS, want));
                }
                suite_time_begin(c);
                for (int k = 0; k < nsteps && !bad && !*c->stop; k++) {
                    for (int b = 0; b < B; b++) st.n[b] = len;
                    bad = sample_steps(&m, &st, B, 1, t + k, c->stop);
                }
                suite_time_end(c);
                decode_state_free(&st);
                if (bad) { suite_case_failed(c, 0, "decode_step", params, "%s", util_last_error()); free(t); rc = 1; break; }
                double cache = (double)config_state_bytes(&cfg, len + 1, NULL, NULL, NULL);
                double bytes = pbytes + B * cache, pred = bytes / bw, meas = suite_median(t, nsteps);
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
                free(t);
            }
            char series[80];
            snprintf(series, sizeof series, "%s len=%d measured", family_title((model_family)f), len);
            suite_curve(c, 0, "decode_model", series, xs, ym, nx);
            snprintf(series, sizeof series, "%s len=%d predicted", family_title((model_family)f), len);
            suite_curve(c, 0, "decode_model", series, xs, yp, nx);
        }
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
    snprintf(where, sizeof where, "%s models, batch 1", s->msize);
    snprintf(meas, sizeof meas, "batch-1 step / ((params + cache) / %.1f GB/s): %.2fx .. %.2fx; bytes %.0f MB vs caches %.0f MB", bw / 1e9,
             rmin, rmax, min_bytes / 1e6, caches / 1e6);
    suite_claim_judged(c, "decode_memory_bound", where, &v, meas);
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
