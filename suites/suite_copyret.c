/* suite_copyret.c — Fig. 6: copy and retrieval with the paper's small
 * models (5 blocks, width 64; Griffin R,R,A,R,R).
 *  (a) Selective Copying: held-out token accuracy vs training steps.
 *  (b) Induction Heads: trained at one length, accuracy at longer lengths.
 *  (c) Phonebook lookup and MQAR: trained at a fixed size, accuracy vs the
 *      number of entries.
 * Every (task, family) is trained with `seeds` seeds (3 at cpu; smoke 1,
 * so its claims are inconclusive by rule); every seed is stored as its own
 * case (accuracies as counts), the figure draws the mean over seeds with
 * its spread (curve NAME and NAME:sd), and the claims are judged on the
 * mean with the seed spread through the registry (griffin claims).
 * The seeds of one task train side by side, one thread each
 * (suite_parallel_jobs). Learning rates: one per (task, family), chosen by
 * the same procedure for every family (scripts/lr-sweep.sh: a small grid on
 * a validation seed the suite never scores); the rate and where it came
 * from are recorded with each case.
 * Accuracy follows the task's source: selective copying and MQAR score each
 * target token, induction heads its single answer, phonebook the whole
 * number (exact match of the 10 digits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "trainer.h"
#include "util.h"

#define CR_MAXSEEDS 5
#define CR_MAXX 64

typedef struct {
    int sc_T, sc_M, sc_W, sc_steps, sc_every;
    int ih_T, ih_W, ih_steps, ih_len[8], ih_nlen;
    int mq_T, mq_V, mq_pairs, mq_steps, mq_eval[6], mq_neval;
    int pb_entries, pb_steps, pb_eval[6], pb_neval;
    int B, eval_n, seeds;
    double lr[TASK_COUNT][3]; /* peak learning rate per task and family (MQA, Hawk, Griffin) */
    const char *lr_source;
    int pb_seeds;             /* phonebook's seeds when not `seeds` (0 = seeds) */
} cr_scale;

/* The scale tables: the only place sizes and rates live.
 * cpu: sized for about 20 minutes on 2 cores with 3 seeds: selective copying
 * of 8 tokens at T=64 (Griffin window 32), induction heads trained at T=64
 * and evaluated to 64x that, MQAR with 4 pairs at T=32 over 64 tokens for
 * 3000 steps, phonebook with 6 entries for 200 steps; batch 16.
 * MQAR's 3000 steps: on the validation seed Griffin (lr 1e-3) sits at the
 * 0.25-0.30 of guessing among the 4 values in context until step ~1500 and
 * then learns it (0.48 at 1600, 0.75 at 3000); at the earlier 1200 steps no
 * family had left chance. MQA and Hawk stay at 0.25-0.29 at every rate.
 * Phonebook trains one seed per family: it is not learned at any budget that
 * fits (a step at T=235 costs about 7 MQAR steps; 200 steps give 0.00 exact
 * matches), so its verdict is inconclusive on two guards either way, and the
 * two seeds saved pay for part of MQAR's longer training.
 * Rates at cpu: scripts/lr-sweep.sh (grid 1e-3, 2e-3, 5e-3; validation seed
 * 1000; the suite's step budget for MQAR and phonebook, 1200 steps for the
 * other two; batch 16; highest final held-out token accuracy, ties to the
 * lower rate; results in scripts/lr-sweep-cpu.csv):
 *   selective copy  MQA 1e-3 (0.973; 0.923 at 2e-3, 0.897 at 5e-3), Hawk 1e-3
 *                   (0.451; 0.374, 0.385), Griffin 5e-3 (0.888; 0.790, 0.846)
 *   induction       MQA 1e-3 (0.434; 0.418, 0.066), Hawk 1e-3 (1.0; 1.0, 0.109),
 *                   Griffin 1e-3 (1.0 at every rate)
 *   MQAR            MQA 1e-3 (0.281; 0.273, 0.252), Hawk 5e-3 (0.272; 0.270 at
 *                   1e-3, 0.248 at 2e-3: all chance, the rule picks the top),
 *                   Griffin 1e-3 (0.747; 0.290, 0.281)
 *   phonebook       digit accuracy (exact matches 0 everywhere; chance 0.1):
 *                   MQA 1e-3 (0.138; 0.130, 0.116), Hawk 1e-3 (0.119; 0.116,
 *                   0.116), Griffin 1e-3 (0.117; 0.116, 0.116)
 * Induction trains 2000 steps (the sweep's 1200 left MQA at 0.43). */
static void scale_of(const suite_ctx *c, cr_scale *s) {
    if (c->scale == SCALE_SMOKE)
        *s = (cr_scale){64, 4, 32, 12, 6, 32, 16, 10, {32, 64, 128}, 3, 32, 64, 4, 10, {2, 4, 8}, 3, 4, 6, {3, 4, 6}, 3, 8, 32, 1,
                        {{3e-3, 3e-3, 3e-3}, {3e-3, 3e-3, 3e-3}, {3e-3, 3e-3, 3e-3}, {3e-3, 3e-3, 3e-3}}, "smoke default"};
    else if (c->scale == SCALE_CPU)
        *s = (cr_scale){64, 8, 32, 1200, 100, 64, 32, 2000, {64, 128, 256, 512, 1024, 2048, 4096}, 7,
                        32, 64, 4, 3000, {2, 4, 6, 8}, 4, 6, 200, {4, 6, 8, 12}, 4, 16, 256, 3,
                        {{1e-3, 1e-3, 5e-3}, {1e-3, 1e-3, 1e-3}, {1e-3, 5e-3, 1e-3}, {1e-3, 1e-3, 1e-3}},
                        "scripts/lr-sweep.sh validation seed 1000 (scripts/lr-sweep-cpu.csv)", 1};
    else
        *s = (cr_scale){1024, 16, 512, 4000, 250, 256, 128, 4000, {256, 512, 1024, 2048, 4096, 8192, 16384}, 7,
                        256, 8192, 16, 4000, {4, 8, 16, 32, 48, 64}, 6, 16, 4000, {8, 16, 32, 64, 96}, 5, 32, 256, 3,
                        {{1e-3, 1e-3, 1e-3}, {1e-3, 1e-3, 1e-3}, {1e-3, 1e-3, 1e-3}, {1e-3, 1e-3, 1e-3}}, "paper-scale default"};
}

/* One training run: a (task, family, seed) and what it measured. */
typedef struct {
    task_kind k;
    int f, seed_i, T, W, steps, every;
    task_params tp;
    double lr;
    double xs[CR_MAXX], ys[CR_MAXX];   /* accuracy vs steps / length / entries */
    long correct[CR_MAXX], total[CR_MAXX];
    int nx;
    dp_state *dp;                      /* under --ranks (NULL: one process) */
    double final_loss, wall;
    int rc;                            /* 0, 1 failed (err), 130 stopped */
    char err[256];
} cr_job;

typedef struct {
    const cr_scale *s;
    cr_job *jobs;
    uint64_t eval_seed;
} cr_run;

static const char *curve_of(task_kind k) {
    return k == TASK_SELECTIVE_COPY ? "selcopy_acc_by_step"
           : k == TASK_INDUCTION    ? "induction_acc_by_len"
           : k == TASK_MQAR         ? "mqar_acc_by_pairs"
                                    : "phonebook_acc_by_size";
}

/* Items one evaluation scores: tokens for selective copying and MQAR,
 * answers for induction heads and phonebook. */
static long scored(task_kind k, const task_params *tp, int n) {
    return k == TASK_SELECTIVE_COPY || k == TASK_MQAR ? (long)n * tp->n_tokens : (long)n;
}

/* Evaluate at one point; accuracy as the task's source scores it. */
static int eval_point(cr_job *j, model *m, const task_params *tp, int T, int n, uint64_t seed, double x) {
    double seq, tok;
    int B = T > 2048 ? 1 : 4;
    if (eval_task_dp(m, j->k, tp, T, n, B, seed, j->dp, &seq, &tok, NULL) != 0) return -1;
    double acc = (j->k == TASK_SELECTIVE_COPY || j->k == TASK_MQAR) ? tok : seq;
    if (j->nx < CR_MAXX) {
        j->xs[j->nx] = x;
        j->ys[j->nx] = acc;
        j->total[j->nx] = scored(j->k, tp, n);
        j->correct[j->nx] = lround(acc * (double)j->total[j->nx]);
        j->nx++;
    }
    return 0;
}

static void cr_job_run(suite_ctx *c, int i, void *arg) {
    cr_run *run = arg;
    const cr_scale *s = run->s;
    cr_job *j = &run->jobs[i];
    double t0 = util_now();
    model_config cfg;
    config_preset(j->f == FAMILY_MQA ? "synth-mqa" : j->f == FAMILY_HAWK ? "synth-hawk" : "synth-griffin", &cfg);
    cfg.vocab = task_vocab(j->k, &j->tp);
    cfg.window = j->W;
    model m;
    if (config_finalize(&cfg) != 0 || model_create(&m, &cfg) != 0) {
        j->rc = 1;
        snprintf(j->err, sizeof j->err, "%s", util_last_error());
        return;
    }
    model_init_weights(&m, c->seed + 1 + 7919ULL * (uint64_t)j->seed_i + 31ULL * (uint64_t)j->k);
    if (suite_to_device(c, &m) != 0) { /* --device: the weights uploaded once; training and evaluation run there */
        j->rc = 1;
        snprintf(j->err, sizeof j->err, "%s", util_last_error());
        model_free(&m);
        return;
    }
    batch_source src;
    source_init_task(&src, j->k, &j->tp, c->seed + 101 + 1000ULL * (uint64_t)j->seed_i + 17ULL * (uint64_t)j->k);
    adamw_config oc;
    adamw_defaults(&oc);
    oc.lr = j->lr;
    oc.total = j->steps;
    oc.warmup = j->steps / 20;
    oc.wd = 0.1;
    trainer tr;
    dp_state dps; /* under --ranks: every rank trains its rows of the global batch, evaluates its share */
    j->dp = suite_ranks(c) > 1 && dp_init(&dps, c->comm, m.nparams, 0) == 0 ? &dps : NULL; /* no helper thread: cannot fail */
    if (trainer_init_dp(&tr, &m, &src, s->B, j->T, &oc, j->dp) != 0) {
        j->rc = 1;
        snprintf(j->err, sizeof j->err, "%s", util_last_error());
        if (j->dp) dp_free(j->dp);
        j->dp = NULL;
        source_free(&src);
        model_free(&m);
        return;
    }
    trainer_sync(&tr);
    if (j->k == TASK_SELECTIVE_COPY && eval_point(j, &m, &j->tp, j->T, s->eval_n, run->eval_seed, 0) != 0) j->rc = 1;
    int stopped = 0;
    while (!j->rc && tr.step < j->steps && !stopped) {
        if ((stopped = trainer_step_stoppable(&tr, c->stop)) < 0) { j->rc = 1; break; }
        if (suite_job_may_print())
            suite_progress(c, "%s %s seed %d: step %lld/%d loss %.3f", task_name(j->k), family_title((model_family)j->f), j->seed_i,
                           (long long)tr.step, j->steps, tr.last_loss);
        if (j->k == TASK_SELECTIVE_COPY && (tr.step % j->every == 0 || tr.step == j->steps))
            if (eval_point(j, &m, &j->tp, j->T, s->eval_n, run->eval_seed, (double)tr.step) != 0) j->rc = 1;
    }
    j->final_loss = tr.last_loss;
    trainer_free(&tr);
    source_free(&src);
    if (!j->rc && stopped) j->rc = 130; /* agreed by the ranks */
    /* after training: accuracy by length (induction) or by entries (MQAR,
     * phonebook); under --ranks a later Ctrl-C is seen when the task ends,
     * the same on every rank */
    if (!j->rc && j->k == TASK_INDUCTION)
        for (int li = 0; li < s->ih_nlen && !j->rc && (j->dp || !*c->stop); li++) {
            int L = s->ih_len[li];
            if (eval_point(j, &m, &j->tp, L, L > 1024 ? s->eval_n / 2 : s->eval_n, run->eval_seed, L) != 0) j->rc = 1;
        }
    if (!j->rc && (j->k == TASK_MQAR || j->k == TASK_PHONEBOOK)) {
        const int *ev = j->k == TASK_MQAR ? s->mq_eval : s->pb_eval;
        int nev = j->k == TASK_MQAR ? s->mq_neval : s->pb_neval;
        for (int e = 0; e < nev && !j->rc && (j->dp || !*c->stop); e++) {
            task_params ep = j->tp;
            ep.n_tokens = ev[e];
            int Te = j->k == TASK_MQAR ? (4 * ev[e] > j->T ? 4 * ev[e] : j->T) : task_min_seq(j->k, &ep);
            if (j->k == TASK_MQAR && Te >= ep.vocab) continue; /* MQAR needs V > T */
            if (eval_point(j, &m, &ep, Te, s->eval_n, run->eval_seed, ev[e]) != 0) j->rc = 1;
        }
    }
    if (j->rc == 1 && !j->err[0]) snprintf(j->err, sizeof j->err, "%s", util_last_error());
    if (j->dp) dp_free(j->dp);
    j->dp = NULL;
    model_free(&m);
    j->wall = util_now() - t0;
}

/* Mean and spread over the seeds of family f at each x (the x grid of its
 * first seed; every seed evaluates at the same points). */
static int family_curve(const cr_job *jobs, int nj, int f, double *xs, double *mean, double *sd) {
    const cr_job *first = NULL;
    for (int i = 0; i < nj; i++)
        if (jobs[i].f == f && !jobs[i].rc) { first = &jobs[i]; break; }
    if (!first) return 0;
    for (int p = 0; p < first->nx; p++) {
        double v[CR_MAXSEEDS];
        int n = 0;
        for (int i = 0; i < nj; i++)
            if (jobs[i].f == f && !jobs[i].rc && jobs[i].nx > p && n < CR_MAXSEEDS) v[n++] = jobs[i].ys[p];
        xs[p] = first->xs[p];
        suite_mean_sd(v, n, &mean[p], &sd[p]);
    }
    return first->nx;
}

/* A per-seed statistic's mean and spread for family f. */
static void family_stat(const double *per_job, const cr_job *jobs, int nj, int f, double *mean, double *sd, int *nseeds) {
    double v[CR_MAXSEEDS];
    int n = 0;
    for (int i = 0; i < nj; i++)
        if (jobs[i].f == f && !jobs[i].rc && n < CR_MAXSEEDS) v[n++] = per_job[i];
    suite_mean_sd(v, n, mean, sd);
    if (n < *nseeds) *nseeds = n;
}

static void judge(suite_ctx *c, const cr_scale *s, task_kind k, const cr_job *jobs, int nj) {
    double stat[3 * CR_MAXSEEDS], mean[3], sd[3];
    int seeds = k == TASK_PHONEBOOK && s->pb_seeds > 0 ? s->pb_seeds : s->seeds;
    claim_values v;
    claim_values_init(&v);
    char meas[240];
    if (k == TASK_SELECTIVE_COPY) {
        /* steps to 90% token accuracy; a seed that never gets there counts as the budget */
        double fin[3], fsd[3];
        for (int i = 0; i < nj; i++) {
            stat[i] = s->sc_steps;
            for (int p = 0; p < jobs[i].nx; p++)
                if (jobs[i].ys[p] >= 0.9) { stat[i] = jobs[i].xs[p]; break; }
        }
        for (int f = 0; f < 3; f++) family_stat(stat, jobs, nj, f, &mean[f], &sd[f], &seeds);
        for (int i = 0; i < nj; i++) stat[i] = jobs[i].nx ? jobs[i].ys[jobs[i].nx - 1] : NAN;
        for (int f = 0; f < 3; f++) family_stat(stat, jobs, nj, f, &fin[f], &fsd[f], &seeds);
        claim_set(&v, "mqa_steps", mean[0]);
        claim_set(&v, "mqa_steps_sd", sd[0]);
        claim_set(&v, "hawk_steps", mean[1]);
        claim_set(&v, "hawk_steps_sd", sd[1]);
        claim_set(&v, "griffin_steps", mean[2]);
        claim_set(&v, "griffin_steps_sd", sd[2]);
        claim_set(&v, "best_final", fmax(fin[FAMILY_MQA], fin[FAMILY_GRIFFIN]));
        claim_set(&v, "seeds", seeds);
        snprintf(meas, sizeof meas, "steps to 90%%: MQA %.0f±%.0f, Hawk %.0f±%.0f, Griffin %.0f±%.0f (budget %d); final MQA %.2f, Hawk %.2f, Griffin %.2f",
                 mean[0], sd[0], mean[1], sd[1], mean[2], sd[2], s->sc_steps, fin[0], fin[1], fin[2]);
        suite_claim_judged(c, "selcopy_hawk_slower", NULL, &v, meas);
        suite_claim_judged(c, "selcopy_griffin_like_mqa", NULL, &v, meas);
        return;
    }
    if (k == TASK_INDUCTION) {
        double tr_m[3], tr_sd[3];
        for (int i = 0; i < nj; i++) {
            stat[i] = NAN;
            for (int p = 0; p < jobs[i].nx; p++) if ((int)jobs[i].xs[p] == s->ih_T) stat[i] = jobs[i].ys[p];
        }
        for (int f = 0; f < 3; f++) family_stat(stat, jobs, nj, f, &tr_m[f], &tr_sd[f], &seeds);
        for (int i = 0; i < nj; i++) stat[i] = jobs[i].nx ? jobs[i].ys[jobs[i].nx - 1] : NAN;
        for (int f = 0; f < 3; f++) family_stat(stat, jobs, nj, f, &mean[f], &sd[f], &seeds);
        claim_set(&v, "min_at_train", fmin(tr_m[0], fmin(tr_m[1], tr_m[2])));
        claim_set(&v, "mqa_far", mean[0]);
        claim_set(&v, "mqa_far_sd", sd[0]);
        claim_set(&v, "hawk_far", mean[1]);
        claim_set(&v, "hawk_far_sd", sd[1]);
        claim_set(&v, "griffin_far", mean[2]);
        claim_set(&v, "griffin_far_sd", sd[2]);
        claim_set(&v, "seeds", seeds);
        char where[64];
        snprintf(where, sizeof where, "trained at %d, evaluated to %d", s->ih_T, s->ih_len[s->ih_nlen - 1]);
        snprintf(meas, sizeof meas, "at train length MQA %.2f, Hawk %.2f, Griffin %.2f; at %dx: %.2f±%.2f, %.2f±%.2f, %.2f±%.2f", tr_m[0], tr_m[1],
                 tr_m[2], s->ih_len[s->ih_nlen - 1] / s->ih_T, mean[0], sd[0], mean[1], sd[1], mean[2], sd[2]);
        suite_claim_judged(c, "induction_extrapolation", where, &v, meas);
        return;
    }
    /* MQAR, phonebook: accuracy at the training size */
    int train_n = k == TASK_MQAR ? s->mq_pairs : s->pb_entries;
    for (int i = 0; i < nj; i++) {
        stat[i] = NAN;
        for (int p = 0; p < jobs[i].nx; p++) if ((int)jobs[i].xs[p] == train_n) stat[i] = jobs[i].ys[p];
    }
    for (int f = 0; f < 3; f++) family_stat(stat, jobs, nj, f, &mean[f], &sd[f], &seeds);
    claim_set(&v, "best", fmax(mean[0], fmax(mean[1], mean[2])));
    claim_set(&v, "mqa_acc", mean[0]);
    claim_set(&v, "mqa_acc_sd", sd[0]);
    claim_set(&v, "hawk_acc", mean[1]);
    claim_set(&v, "hawk_acc_sd", sd[1]);
    claim_set(&v, "griffin_acc", mean[2]);
    claim_set(&v, "griffin_acc_sd", sd[2]);
    claim_set(&v, "seeds", seeds);
    char where[64];
    snprintf(where, sizeof where, "%d %s", train_n, k == TASK_MQAR ? "pairs" : "entries");
    snprintf(meas, sizeof meas, "MQA %.2f±%.2f, Hawk %.2f±%.2f, Griffin %.2f±%.2f", mean[0], sd[0], mean[1], sd[1], mean[2], sd[2]);
    suite_claim_judged(c, k == TASK_MQAR ? "mqar_hawk_weakest" : "phonebook_hawk_weakest", where, &v, meas);
}

static int run_task(suite_ctx *c, const cr_scale *s, task_kind k) {
    cr_job jobs[3 * CR_MAXSEEDS];
    int S = k == TASK_PHONEBOOK && s->pb_seeds > 0 ? s->pb_seeds : s->seeds, nj = 0;
    if (S > CR_MAXSEEDS) S = CR_MAXSEEDS;
    for (int f = 0; f < 3; f++) {
        if (!c->fam[f]) continue;
        for (int si = 0; si < S; si++) {
            cr_job *j = &jobs[nj++];
            memset(j, 0, sizeof *j);
            j->k = k;
            j->f = f;
            j->seed_i = si;
            j->lr = s->lr[k][f];
            task_params_default(k, &j->tp);
            switch (k) {
            case TASK_SELECTIVE_COPY: j->tp.n_tokens = s->sc_M; j->T = s->sc_T; j->W = s->sc_W; j->steps = s->sc_steps; j->every = s->sc_every; break;
            case TASK_INDUCTION: j->T = s->ih_T; j->W = s->ih_W; j->steps = s->ih_steps; break;
            case TASK_MQAR: j->tp.vocab = s->mq_V; j->tp.n_tokens = s->mq_pairs; j->T = s->mq_T; j->W = s->mq_T / 2; j->steps = s->mq_steps; break;
            default: j->tp.n_tokens = s->pb_entries; j->T = task_min_seq(k, &j->tp); j->W = j->T / 2; j->steps = s->pb_steps; break;
            }
        }
    }
    cr_run run = {s, jobs, c->seed + 7 + 13ULL * (uint64_t)k};
    suite_parallel_jobs(c, nj, cr_job_run, &run);
    if (comm_any(c->comm, *c->stop)) return 130;
    int failed = 0;
    for (int i = 0; i < nj; i++) {
        cr_job *j = &jobs[i];
        char params[320];
        snprintf(params, sizeof params,
                 "{\"family\":\"%s\",\"task\":\"%s\",\"T\":%d,\"W\":%d,\"entries\":%d,\"vocab\":%d,\"steps\":%d,\"B\":%d,\"seed\":%d,\"lr\":%g,\"lr_source\":\"%s\"}",
                 family_name((model_family)j->f), task_name(k), j->T, j->W, j->tp.n_tokens, task_vocab(k, &j->tp), j->steps, s->B, j->seed_i,
                 j->lr, s->lr_source);
        const char *cname = k == TASK_SELECTIVE_COPY ? "selective_copy" : k == TASK_INDUCTION ? "induction" : task_name(k);
        if (j->rc) {
            suite_case_failed(c, 0, cname, params, "%s", j->err[0] ? j->err : "failed");
            failed = 1;
            continue;
        }
        store_id cs = suite_case(c, cname, params);
        char series[64], cn[64];
        snprintf(series, sizeof series, "%s seed=%d", family_title((model_family)j->f), j->seed_i);
        snprintf(cn, sizeof cn, "%s:seed", curve_of(k));
        suite_curve(c, cs, cn, series, j->xs, j->ys, j->nx);
        /* the accuracy the claims use, as counts: final (selective copy),
         * at the longest length (induction), at the training size (others) */
        int p = j->nx - 1;
        if (k == TASK_MQAR || k == TASK_PHONEBOOK)
            for (int q = 0; q < j->nx; q++) if ((int)j->xs[q] == j->tp.n_tokens) p = q;
        if (p >= 0) suite_accuracy(c, cs, k == TASK_SELECTIVE_COPY ? "final_accuracy" : k == TASK_INDUCTION ? "accuracy_at_longest" : "accuracy_at_train_size",
                                   j->correct[p], j->total[p]);
        if (k == TASK_INDUCTION)
            for (int q = 0; q < j->nx; q++) if ((int)j->xs[q] == j->T) suite_accuracy(c, cs, "accuracy_at_train_length", j->correct[q], j->total[q]);
        suite_samples(c, cs, "final_train_loss", "nats", STORE_LOWER | STORE_DETERMINISTIC, &j->final_loss, 1);
        if (!c->quiet) {
            suite_progress_done(c);
            fprintf(stderr, "[copyret] %s %-7s seed %d (lr %g): ", task_name(k), family_title((model_family)j->f), j->seed_i, j->lr);
            for (int q = 0; q < j->nx; q += (k == TASK_SELECTIVE_COPY ? 3 : 1)) fprintf(stderr, "%.0f:%.2f ", j->xs[q], j->ys[q]);
            fprintf(stderr, "(%.0f s)\n", j->wall);
        }
    }
    for (int f = 0; f < 3; f++) {
        double xs[CR_MAXX], mean[CR_MAXX], sd[CR_MAXX];
        int n = family_curve(jobs, nj, f, xs, mean, sd);
        if (!n) continue;
        char cn[64];
        suite_curve(c, 0, curve_of(k), family_title((model_family)f), xs, mean, n);
        snprintf(cn, sizeof cn, "%s:sd", curve_of(k));
        suite_curve(c, 0, cn, family_title((model_family)f), xs, sd, n);
    }
    if (failed) return 1;
    judge(c, s, k, jobs, nj);
    return 0;
}

int suite_copyret(suite_ctx *c) {
    cr_scale s;
    scale_of(c, &s);
    const task_kind tasks[4] = {TASK_SELECTIVE_COPY, TASK_INDUCTION, TASK_MQAR, TASK_PHONEBOOK};
    for (int t = 0; t < 4; t++) {
        int rc = run_task(c, &s, tasks[t]);
        if (rc) return rc;
    }
    return 0;
}
