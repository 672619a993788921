/* cmd_bench.c — `griffin bench-model`: prefill, training and decode speed of
 * one model on this machine, as medians of repetitions and as fractions of
 * the limits measured in the same run. Every case has two limits: compute
 * (its FLOPs at the measured sgemm rate) and memory (the bytes it must
 * stream: weights in their storage type, plus the decode state, at the
 * measured read bandwidth: for decode, the weights' own, read between the
 * repetitions); the larger applies, and the line says which and
 * what fraction of it the case reached (limit time / measured time).
 *
 *   griffin bench-model --preset small-griffin --batch 4 --seq 1024 --decode-batch 1,16
 *   griffin bench-model hawk-400m --weights bf16 --batch 1 --decode-batch 1,16,64
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "busy.h"
#include "commands.h"
#include "gpu.h"
#include "machine.h"
#include "matmul.h"
#include "modelargs.h"
#include "optim.h"
#include "train.h"
#include "roofline.h"
#include "suite.h"
#include "targets.h"
#include "util.h"

/* The limit of a case taking `sec`: print which applies and the fraction
 * of it reached. */
static void print_limit(double sec, double flops, double bytes, const roofline_result *rr) {
    double tc = flops / (rr->sgemm_peak_gflops * 1e9), tm = bytes / (rr->read_gbs * 1e9);
    int mem = tm > tc;
    printf("    limit: %s %.3f ms (compute %.3f ms at %.0f GFLOP/s, memory %.3f ms at %.1f GB/s) -> %.0f%% of it\n",
           mem ? "memory" : "compute", 1e3 * (mem ? tm : tc), 1e3 * tc, rr->sgemm_peak_gflops, 1e3 * tm, rr->read_gbs,
           100 * (mem ? tm : tc) / sec);
}

/* After each case: the interference it was timed under, issue 13's target
 * for it (if any) in this one run, and the row for --record. */
typedef struct {
    const char *record, *preset, *weights;
    int failed;
} case_out;

static void report_case(case_out *o, const char *kase, int batch, int tokens, double sec, double flops, double bytes,
                        const roofline_result *rr, const busy_result *bz, double wread_gbs) {
    target_row x;
    memset(&x, 0, sizeof x);
    x.when = (double)time(NULL);
    snprintf(x.commit, sizeof x.commit, "%s%s", build_commit(), build_dirty() ? "+" : "");
    snprintf(x.preset, sizeof x.preset, "%s", o->preset);
    snprintf(x.weights, sizeof x.weights, "%s", o->weights);
    snprintf(x.kase, sizeof x.kase, "%s", kase);
    x.batch = batch, x.tokens = tokens, x.threads = rr->threads;
    target_omp_setting(x.omp, sizeof x.omp);
    x.seconds = sec, x.flops = flops, x.bytes = bytes, x.sgemm_gflops = rr->sgemm_peak_gflops, x.read_gbs = rr->read_gbs;
    x.busy = bz->ok ? bz->others : NAN;
    x.wread_gbs = wread_gbs;
    if (bz->ok) printf("    others took %.1f%% of the machine while it ran%s\n", 100 * bz->others,
                       bz->others > BUSY_JUDGE_MAX ? " (busy: above 3%, not a measurement of this code)" : "");
    else printf("    interference not measured (timed region under %.1f s)\n", BUSY_MIN_SECONDS);
    const target_rule *r = target_rule_for(x.preset, kase, batch, tokens);
    if (r) {
        char v[24];
        double val = target_value(r, &x);
        target_format(r, val, v, sizeof v);
        printf("    target (issue 13): %s: %s in this run, %s (one run is no verdict: griffin targets)\n", r->text, v,
               target_meets(r, val) ? "meets it" : "misses it");
    }
    if (o->record && !o->failed && target_record(o->record, &x) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        o->failed = 1;
    }
}

/* One read pass over every weight byte a decode step streams (the f32
 * block and, under bf16, the bf16 block), in seconds. */
static double weights_read_seconds(const model *m) {
    double s = roofline_read_pass(m->dparams, m->nparams * sizeof(float), 0, NULL);
    if (m->nparams16) s += roofline_read_pass(m->dparams16, m->nparams16 * sizeof(uint16_t), 0, NULL);
    return s;
}

static int parse_list(const char *s, int *out, int max) {
    int n = 0;
    while (*s && n < max) {
        char *e;
        long v = strtol(s, &e, 10);
        if (e == s || v < 1) return -1;
        out[n++] = (int)v;
        s = *e == ',' ? e + 1 : e;
        if (*e && *e != ',') return -1;
    }
    return n;
}

int cmd_bench_model(int argc, char **argv) {
    model_args ma = MODELARGS_NONE;
    int B = 4, T = 1024, reps = 5, steps = 32, ctx = 0, train = 0;
    const char *dbs = "1,16", *record = NULL;
    flag_def defs[] = {
        MODELARGS_SHAPE_FLAGS(&ma),
        MODELARGS_RUN_FLAGS(&ma),
        MODELARGS_WEIGHTS_FLAG(&ma),
        {"batch", FLAG_INT, &B, "4", "prefill batch", "[1,1048576]"},
        {"seq", FLAG_INT, &T, "1024", "prefill length", "[1,16777216]"},
        {"decode-batch", FLAG_STR, &dbs, "1,16", "decode batch sizes"},
        {"context", FLAG_INT, &ctx, "0", "tokens already in the decode cache (filled by a prefill)", "[0,16777216]"},
        {"steps", FLAG_INT, &steps, "32", "decode steps per repetition", "[1,16777216]"},
        {"reps", FLAG_INT, &reps, "5", "repetitions (median reported)", "[1,100000]"},
        {"train", FLAG_BOOL, &train, "0", "also time training steps (forward + backward + AdamW) at --batch x --seq"},
        {"record", FLAG_STR, &record, NULL, "append each case's measurement to this file (judged by griffin targets)"},
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 1, &np, "griffin bench-model PRESET|--family F [shape flags] [--batch B --seq T --decode-batch 1,16]",
                             "Prefill tokens/s, training tokens/s and decode ms/step, each against its limit measured\n"
                             "now: compute (FLOPs / sgemm rate) or memory (weight + state bytes / read bandwidth),\n"
                             "whichever is larger; the line says which applies and the fraction reached. For decode the\n"
                             "read bandwidth is the weights' own: a read pass over them before each repetition and after\n"
                             "the last (median), beside the roofline probe's array.");
    if (rc >= 0) return rc;
    if (np) ma.preset = pos[0];
    int dB[16];
    int ndb = parse_list(dbs, dB, 16);
    if (ndb < 1 || B < 1 || T < 1 || reps < 1 || steps < 1) { fprintf(stderr, "error: bad sizes\n"); return 2; }
    model_config cfg;
    weights_dtype wd;
    if (modelargs_config(&ma, &cfg) != 0 || modelargs_weights(&ma, &wd) != 0) return 2;
    if (train && wd != WEIGHTS_F32) { fprintf(stderr, "error: --train needs --weights f32\n"); return 2; }
    model m;
    if (model_create_dtype(&m, &cfg, wd) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
    model_init_weights(&m, 1);
    if (modelargs_apply(&ma, &m) != 0) return 2;
    suite_ctx sc = {0};
    sc.suite = "bench-model";
    /* The check is of the RG-LRU and attention variants against ref; with bf16
     * weights it runs on the widening GEMM: bf16-dp rounds activations to
     * bf16, which turns the variants' 1e-7 differences into rounding flips of
     * 2^-8 (the GEMM itself is checked by tests/test_gemm.c). */
    char g16[24];
    snprintf(g16, sizeof g16, "%s", gemm_bf16_variant());
    if (wd == WEIGHTS_BF16) gemm_set_variant("bf16-widen");
    int vrc = suite_validate(&sc, &m, 1, T);
    gemm_set_variant(g16);
    if (vrc != 0) return 1;
    const roofline_result *rr = roofline_get(util_threads());
    roofline_result drr; /* on a device the limits are the device's (its sgemm rate and copy bandwidth) */
    if (!m.be->host_memory) {
        drr = *rr;
        drr.sgemm_peak_gflops = gpu_sgemm_rate(4096, 3);
        drr.read_gbs = gpu_copy_bandwidth((size_t)256 << 20, 5);
        rr = &drr;
        printf("device %s: limits below are the device's (cuBLAS sgemm n=4096, device copy bandwidth)\n", m.be->name);
    }
    double wbytes = model_weight_bytes(&m);
    char win[32] = "";
    if (strchr(cfg.pattern, 'L')) snprintf(win, sizeof win, ", window %d", cfg.window);
    printf("model %s (%s, pattern %s%s): %.2fM parameters, %s weights (%.1f MB); threads %d; gemm %s; rglru %s; attention %s\n",
           cfg.name, family_name(cfg.family), cfg.pattern, win, model_param_count(&m) / 1e6, weights_name(wd), wbytes / 1e6,
           util_threads(), wd == WEIGHTS_BF16 ? gemm_bf16_variant_resolved() : gemm_variant_resolved(), m.rglru, m.attn);
    case_out co = {record, cfg.name, weights_name(wd), 0};
    printf("limits measured now: sgemm %.1f GFLOP/s, read %.1f GB/s (%d threads)\n", rr->sgemm_peak_gflops, rr->read_gbs, rr->threads);
    /* prefill */
    model_acts a;
    if (model_acts_alloc(&a, &m, B, T, 0) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
    int32_t *tok = malloc((size_t)B * T * 4), *ps = malloc((size_t)B * T * 4);
    rng_t r;
    rng_seed(&r, 5);
    for (int i = 0; i < B * T; i++) { tok[i] = (int32_t)rng_below(&r, (uint32_t)cfg.vocab); ps[i] = i % T; }
    double *t = malloc((size_t)(reps > 64 ? reps : 64) * sizeof(double));
    model_forward(&m, &a, tok, ps, NULL); /* warm-up */
    busy_mark bm;
    busy_result bz;
    busy_begin(&bm);
    for (int k = 0; k < reps; k++) {
        double t0 = util_now();
        model_forward(&m, &a, tok, ps, NULL);
        m.be->sync(); /* a device forward ends when its work does */
        t[k] = util_now() - t0;
    }
    bz = busy_end(&bm);
    double med = suite_median(t, reps), fl = suite_prefill_flops(&m, B, T);
    printf("prefill  B=%d T=%d: %.0f tokens/s, %.1f GFLOP/s = %.0f%% of sgemm (median of %d)\n", B, T, B * T / med, fl / med / 1e9,
           100 * fl / med / 1e9 / rr->sgemm_peak_gflops, reps);
    print_limit(med, fl, wbytes, rr);
    report_case(&co, "prefill", B, T, med, fl, wbytes, rr, &bz, NAN);
    model_acts_free(&a);
    if (train) {
        /* training FLOPs: 3x the forward (backward = 2x) */
        model_acts ta;
        model_grads g;
        if (model_acts_alloc(&ta, &m, B, T, 1) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
        if (model_grads_alloc(&g, &m, B, T) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); model_acts_free(&ta); return 1; }
        adamw_config oc;
        adamw_defaults(&oc);
        adamw opt;
        adamw_init(&opt, &m, &oc);
        int32_t *tg = malloc((size_t)B * T * 4);
        for (int i = 0; i < B * T; i++) tg[i] = (i + 1) % T ? tok[i + 1] : -1;
        for (int k = -1; k < reps; k++) {
            if (k == 0) busy_begin(&bm);
            double t0 = util_now();
            model_zero_grad(&g, &m);
            float loss;
            model_forward(&m, &ta, tok, ps, NULL);
            model_loss_backward(&m, &ta, &g, tok, ps, tg, &loss);
            adamw_step(&opt, &m, g.grads);
            m.be->sync();
            if (k >= 0) t[k] = util_now() - t0;
        }
        bz = busy_end(&bm);
        double tm = suite_median(t, reps);
        printf("train    B=%d T=%d: %.0f tokens/s, %.1f GFLOP/s = %.0f%% of sgemm (3x forward FLOPs; median of %d)\n", B, T, B * T / tm,
               3 * fl / tm / 1e9, 100 * 3 * fl / tm / 1e9 / rr->sgemm_peak_gflops, reps);
        print_limit(tm, 3 * fl, 3 * wbytes, rr);
        report_case(&co, "train", B, T, tm, 3 * fl, 3 * wbytes, rr, &bz, NAN);
        free(tg);
        adamw_free(&opt);
        model_grads_free(&g);
        model_acts_free(&ta);
    }
    /* decode */
    for (int k = 0; k < ndb; k++) {
        int b = dB[k];
        decode_state st;
        if (decode_state_alloc(&st, &m, b, ctx + steps * (reps + 1) + 2) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); continue; }
        if (ctx > 0) {
            model_acts pa;
            model_acts_alloc(&pa, &m, b, ctx, 0);
            int32_t *pt = malloc((size_t)b * ctx * 4), *pp = malloc((size_t)b * ctx * 4);
            for (int i = 0; i < b * ctx; i++) { pt[i] = (int32_t)rng_below(&r, (uint32_t)cfg.vocab); pp[i] = i % ctx; }
            model_forward(&m, &pa, pt, pp, &st);
            free(pt); free(pp);
            model_acts_free(&pa);
        }
        float *lg = malloc((size_t)b * cfg.vocab * sizeof(float));
        int32_t *cur = calloc((size_t)b, sizeof(int32_t));
        for (int i = 0; i < steps; i++) model_decode_step(&m, &st, cur, NULL, lg); /* warm-up */
        /* A read pass over the weights themselves before each repetition
         * and after the last: the memory limit is their read rate where they
         * live (the probe's array may sit in memory that reads at another
         * rate) and while the steps run (on this VM the rate of one buffer
         * moves by 2x from pass to pass). Not on a device (the weights are
         * not host memory). */
        double *tw = malloc((size_t)(reps + 1) * sizeof(double));
        busy_begin(&bm);
        for (int rep = 0; rep < reps; rep++) {
            tw[rep] = m.be->host_memory ? weights_read_seconds(&m) : NAN;
            double t0 = util_now();
            for (int i = 0; i < steps; i++) model_decode_step(&m, &st, cur, NULL, lg);
            t[rep] = (util_now() - t0) / steps;
        }
        tw[reps] = m.be->host_memory ? weights_read_seconds(&m) : NAN;
        bz = busy_end(&bm);
        double ms = suite_median(t, reps);
        double wgbs = m.be->host_memory ? wbytes / suite_median(tw, reps + 1) * 1e-9 : NAN, tlo = tw[0], thi = tw[0];
        for (int q = 1; q <= reps; q++) tlo = tw[q] < tlo ? tw[q] : tlo, thi = tw[q] > thi ? tw[q] : thi;
        free(tw);
        int len = st.n[0];
        /* the state at the middle of the timed steps; attention over the keys then */
        int mid = len - steps * reps / 2;
        double bytes = wbytes + (double)b * (double)config_state_bytes(&cfg, mid, NULL, NULL, NULL);
        double flops = (2.0 * suite_gemm_weights(&m) + suite_attn_flops(&m, mid, mid + 1)) * b;
        double limit = bytes / ((isfinite(wgbs) ? wgbs : rr->read_gbs) * 1e9);
        printf("decode   B=%-3d at %5d tokens: %.3f ms/step (%.0f tokens/s); memory-bound limit %.3f ms -> %.2fx\n", b, len, 1e3 * ms,
               b / ms, 1e3 * limit, ms / limit);
        if (isfinite(wgbs))
            printf("    the weights themselves read at %.1f GB/s (median of %d passes between the repetitions, %.1f-%.1f; the probe's array %.1f GB/s)\n",
                   wgbs, reps + 1, wbytes / thi * 1e-9, wbytes / tlo * 1e-9, rr->read_gbs);
        roofline_result wrr = *rr; /* the memory limit at the weights' own rate (the targets' rule) */
        if (isfinite(wgbs)) wrr.read_gbs = wgbs;
        print_limit(ms, flops, bytes, &wrr);
        report_case(&co, "decode", b, len, ms, flops, bytes, rr, &bz, wgbs);
        free(lg); free(cur);
        decode_state_free(&st);
    }
    free(t); free(tok); free(ps);
    model_free(&m);
    return co.failed ? 1 : 0;
}
