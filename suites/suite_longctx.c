/* suite_longctx.c — Fig. 5: next-token loss by position beyond the
 * training length, on held-out books.
 *
 * Data: the models train on books of the same kind as the ones they are
 * evaluated on, with whole books held out: at cpu the five other novels of
 * the corpus (Austen and Moby Dick, 4.3 MB, more than a run reads) and the
 * evaluation is on Persuasion and Northanger Abbey, never trained on. Every
 * family trains at T_train (same tokens and steps); Hawk and Griffin also at
 * 4 x T_train (batch / 4). Every model is evaluated to 8x its own training
 * length; the 4T models also on the T models' windows, so the two are
 * compared on the same text. The context-free control is a byte-bigram
 * model counted on the same training books and scored on the same windows:
 * how much the text alone changes with position.
 * Each configuration trains `seeds` times (3 at cpu; smoke 1), the seeds
 * side by side one thread each; every seed is its own case, the figure
 * draws mean and spread over seeds (curve loss_by_position and
 * loss_by_position:sd, series '<Family> T=<T_train>'; 'bigram control'),
 * and the claims are judged on the mean with the seed spread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "trainer.h"
#include "util.h"

#define LC_MAXSEEDS 5
#define LC_NB 48 /* log-spaced position buckets */

typedef struct {
    int D, depth, W, T, B, steps, docs, seeds;
    double lr;
    const char *split;              /* where the books are ("" = the whole folder) */
    const char *eval_books[4];      /* held out: evaluated on, never trained on */
    const char *drop[6];            /* dropped from training (the held-out books and their aliases) */
} lc_scale;

/* The scale table: the only place sizes live. cpu: D=128, 4 blocks, window
 * 128 (below T, so Griffin's attention cannot see the whole training
 * sequence), T=256, batch 8, 450 steps (about 0.9 M tokens per model:
 * 15 models in about 17 minutes on 2 cores). */
static void scale_of(const suite_ctx *c, lc_scale *s) {
    if (c->scale == SCALE_SMOKE)
        *s = (lc_scale){32, 3, 16, 32, 8, 16, 8, 1, 3e-3, "", {"GPL-3", "GFDL-1.3"}, {"GPL-3", "GPL", "GFDL-1.3", "GFDL"}};
    else if (c->scale == SCALE_CPU)
        *s = (lc_scale){128, 4, 128, 256, 8, 450, 32, 3, 3e-3, "heldout", {"persuasion", "northangerabbey"}, {"persuasion", "northangerabbey"}};
    else
        *s = (lc_scale){2048, 24, 1024, 2048, 16, 20000, 64, 3, 1e-3, "heldout", {"persuasion", "northangerabbey"}, {"persuasion", "northangerabbey"}};
}

static int count_names(const char *const *v, int max) {
    int n = 0;
    while (n < max && v[n]) n++;
    return n;
}

/* mean of sum/cnt over positions [a, b) */
static double band(const double *sum, const int64_t *cnt, int a, int b) {
    double s = 0;
    int64_t n = 0;
    for (int t = a; t < b; t++) { s += sum[t]; n += cnt[t]; }
    return n ? s / (double)n : NAN;
}

/* Log-spaced buckets of a loss-by-position curve: centres bx, means by. */
static int buckets(const double *sum, const int64_t *cnt, int Teval, double *bx, double *by) {
    int nb = 0, lo = 0;
    for (int k = 0; k < LC_NB; k++) {
        int hi = (int)lround(exp(log((double)Teval) * (k + 1) / LC_NB));
        if (hi <= lo) continue;
        double v = band(sum, cnt, lo, hi);
        if (!isnan(v)) { bx[nb] = 0.5 * (lo + 1 + hi); by[nb++] = v; }
        lo = hi;
    }
    return nb;
}

typedef struct {
    int f, mult, seed_i, T, B;
    double *sum;                /* on the 8 T_base windows (every model) */
    int64_t *cnt;
    double *sum_own;            /* on 8x its own length (4T models) */
    int64_t *cnt_own;
    int Tev, Tev_own, used;
    double final_loss, train_s;
    int rc;
    char err[256];
} lc_job;

typedef struct {
    const lc_scale *s;
    const corpus_t *held;
    const char *corpus;
    lc_job *jobs;
} lc_run;

static void lc_job_run(suite_ctx *c, int i, void *arg) {
    lc_run *run = arg;
    const lc_scale *s = run->s;
    lc_job *j = &run->jobs[i];
    model_config cfg;
    suite_model_config(&cfg, (model_family)j->f, s->D, s->depth, s->W);
    model m;
    if (model_create(&m, &cfg) != 0) { j->rc = 1; snprintf(j->err, sizeof j->err, "%s", util_last_error()); return; }
    model_init_weights(&m, c->seed + 7919ULL * (uint64_t)j->seed_i);
    if (suite_to_device(c, &m) != 0) { /* --device: the weights uploaded once; training and evaluation run there */
        j->rc = 1;
        snprintf(j->err, sizeof j->err, "%s", util_last_error());
        model_free(&m);
        return;
    }
    batch_source src;
    if (source_init_text_filtered(&src, run->corpus, s->split, s->drop, count_names(s->drop, 6), 0,
                                  c->seed + 1000ULL * (uint64_t)j->seed_i) != 0) {
        j->rc = 1;
        snprintf(j->err, sizeof j->err, "%s (fetch the corpus with: bash scripts/get-corpus.sh)", util_last_error());
        model_free(&m);
        return;
    }
    adamw_config oc;
    adamw_defaults(&oc);
    oc.lr = s->lr;
    oc.total = s->steps;
    oc.warmup = s->steps / 20;
    trainer tr;
    dp_state dps, *dp = NULL; /* under --ranks: every rank trains its rows of the global batch */
    if (suite_ranks(c) > 1 && dp_init(&dps, c->comm, m.nparams, 0) == 0) dp = &dps; /* no helper thread: cannot fail */
    double t0 = util_now();
    if (trainer_init_dp(&tr, &m, &src, j->B, j->T, &oc, dp) != 0) {
        j->rc = 1;
        snprintf(j->err, sizeof j->err, "%s", util_last_error());
        if (dp) dp_free(dp);
        source_free(&src);
        model_free(&m);
        return;
    }
    trainer_sync(&tr);
    int stopped = 0;
    while (!j->rc && tr.step < s->steps && !stopped) {
        if ((stopped = trainer_step_stoppable(&tr, c->stop)) < 0) { j->rc = 1; break; }
        if (suite_job_may_print())
            suite_progress(c, "train %s T=%d seed %d: step %lld/%d loss %.3f", family_title((model_family)j->f), j->T, j->seed_i,
                           (long long)tr.step, s->steps, tr.last_loss);
    }
    j->train_s = util_now() - t0;
    j->final_loss = tr.last_loss;
    trainer_free(&tr);
    source_free(&src);
    if (!j->rc && stopped) j->rc = 130; /* agreed by the ranks */
    if (!j->rc) {
        j->used = eval_loss_by_position_dp(&m, run->held, j->Tev, s->docs, j->Tev, dp, j->sum, j->cnt);
        if (j->used <= 0) j->rc = 1;
    }
    if (!j->rc && j->sum_own &&
        eval_loss_by_position_dp(&m, run->held, j->Tev_own, s->docs / 2 > 0 ? s->docs / 2 : 1, j->Tev_own, dp, j->sum_own, j->cnt_own) <= 0)
        j->rc = 1;
    if (dp) dp_free(dp);
    if (j->rc == 1 && !j->err[0])
        snprintf(j->err, sizeof j->err, "%s", j->used == 0 ? "no held-out window long enough" : util_last_error());
    model_free(&m);
}

/* The bigram control: byte-pair counts over the training books (add-1/2
 * smoothing), scored on the same windows as eval_loss_by_position. */
static int bigram_control(const lc_scale *s, const char *corpus, const corpus_t *held, int Tev, double *sum, int64_t *cnt) {
    corpus_t tr;
    if (corpus_load(&tr, corpus, s->split) != 0) return -1;
    if (corpus_filter(&tr, s->drop, count_names(s->drop, 6), 0) < 0) { corpus_free(&tr); return -1; }
    double *cnt2 = calloc(256 * 256, sizeof(double)), rows[256] = {0};
    CHECK_ALLOC(cnt2);
    for (int d = 0; d < tr.n_docs; d++)
        for (int64_t t = 0; t + 1 < tr.len[d]; t++) cnt2[tr.doc[d][t] * 256 + tr.doc[d][t + 1]] += 1;
    for (int a = 0; a < 256; a++) {
        for (int b = 0; b < 256; b++) rows[a] += cnt2[a * 256 + b] + 0.5;
    }
    corpus_free(&tr);
    int used = 0;
    for (int64_t w = 0; used < s->docs; w++) {
        int any = 0;
        for (int d = 0; d < held->n_docs && used < s->docs; d++) {
            int64_t off = w * (int64_t)Tev;
            if (held->len[d] < off + Tev) continue;
            any = 1;
            const uint8_t *x = held->doc[d] + off;
            for (int t = 0; t + 1 < Tev; t++) {
                sum[t] += -log((cnt2[x[t] * 256 + x[t + 1]] + 0.5) / rows[x[t]]);
                cnt[t]++;
            }
            if (off + Tev < held->len[d]) { /* the window's last target is the next byte */
                sum[Tev - 1] += -log((cnt2[x[Tev - 1] * 256 + held->doc[d][off + Tev]] + 0.5) / rows[x[Tev - 1]]);
                cnt[Tev - 1]++;
            }
            used++;
        }
        if (!any) break;
    }
    free(cnt2);
    return used;
}

int suite_longctx(suite_ctx *c) {
    lc_scale s;
    scale_of(c, &s);
    const int T = s.T, Tev = 8 * T, S = s.seeds > LC_MAXSEEDS ? LC_MAXSEEDS : s.seeds;
    corpus_t held;
    if (corpus_load(&held, c->corpus, s.split) != 0 || corpus_filter(&held, s.eval_books, count_names(s.eval_books, 4), 1) < 0) {
        fprintf(stderr, "[longctx] %s\n  fetch the corpus with: bash scripts/get-corpus.sh\n", util_last_error());
        return 1;
    }
    lc_job jobs[5 * LC_MAXSEEDS];
    int nj = 0;
    for (int mult = 1; mult <= 4; mult *= 4)
        for (int f = 0; f < 3; f++) {
            if (!c->fam[f] || (mult == 4 && f == FAMILY_MQA)) continue;
            for (int si = 0; si < S; si++) {
                lc_job *j = &jobs[nj++];
                memset(j, 0, sizeof *j);
                j->f = f;
                j->mult = mult;
                j->seed_i = si;
                j->T = T * mult;
                j->B = s.B / mult > 0 ? s.B / mult : 1;
                j->Tev = Tev;
                j->sum = calloc((size_t)Tev, sizeof(double));
                j->cnt = calloc((size_t)Tev, sizeof(int64_t));
                CHECK_ALLOC(j->sum); CHECK_ALLOC(j->cnt);
                if (mult == 4) {
                    j->Tev_own = 8 * j->T;
                    j->sum_own = calloc((size_t)j->Tev_own, sizeof(double));
                    j->cnt_own = calloc((size_t)j->Tev_own, sizeof(int64_t));
                    CHECK_ALLOC(j->sum_own); CHECK_ALLOC(j->cnt_own);
                }
            }
        }
    lc_run run = {&s, &held, c->corpus, jobs};
    suite_parallel_jobs(c, nj, lc_job_run, &run);
    int rc = comm_any(c->comm, *c->stop) ? 130 : 0;
    /* the control */
    double *csum = calloc((size_t)Tev, sizeof(double));
    int64_t *ccnt = calloc((size_t)Tev, sizeof(int64_t));
    CHECK_ALLOC(csum); CHECK_ALLOC(ccnt);
    if (!rc && bigram_control(&s, c->corpus, &held, Tev, csum, ccnt) <= 0) {
        suite_case_failed(c, 0, "longctx_control", "{\"model\":\"bigram\"}", "%s", util_last_error());
        rc = 1;
    }
    /* per configuration: mean and spread over seeds of the bands and curves */
    double within[5][LC_MAXSEEDS], rise[5][LC_MAXSEEDS], gain[5][LC_MAXSEEDS], far[5][LC_MAXSEEDS];
    int cfg_f[5], cfg_mult[5], ncfg = 0, nseed[5] = {0};
    for (int i = 0; i < nj && rc != 130; i++) {
        lc_job *j = &jobs[i];
        char params[320];
        snprintf(params, sizeof params,
                 "{\"family\":\"%s\",\"D\":%d,\"depth\":%d,\"W\":%d,\"T_train\":%d,\"B\":%d,\"steps\":%d,\"T_eval\":%d,\"docs\":%d,\"seed\":%d,\"lr\":%g,\"data\":\"books without the held-out ones\"}",
                 family_name((model_family)j->f), s.D, s.depth, s.W, j->T, j->B, s.steps, j->Tev_own ? j->Tev_own : j->Tev, j->used, j->seed_i, s.lr);
        if (j->rc) {
            suite_case_failed(c, 0, "longctx", params, "%s", j->err[0] ? j->err : "failed");
            rc = rc ? rc : 1;
            continue;
        }
        int k = 0;
        while (k < ncfg && !(cfg_f[k] == j->f && cfg_mult[k] == j->mult)) k++;
        if (k == ncfg) { cfg_f[k] = j->f; cfg_mult[k] = j->mult; ncfg++; }
        int si = j->seed_i; /* seed i of every configuration shares its init and data seed */
        nseed[k]++;
        within[k][si] = band(j->sum, j->cnt, T / 2, T);
        rise[k][si] = band(j->sum, j->cnt, 2 * T, Tev) - within[k][si];
        gain[k][si] = band(j->sum, j->cnt, T, 2 * T) - band(j->sum, j->cnt, 4 * T, Tev);
        far[k][si] = band(j->sum, j->cnt, 4 * T, Tev);
        store_id cs = suite_case(c, "longctx", params);
        double bx[LC_NB], by[LC_NB];
        char series[64];
        snprintf(series, sizeof series, "%s T=%d seed=%d", family_title((model_family)j->f), j->T, j->seed_i);
        int nb = j->Tev_own ? buckets(j->sum_own, j->cnt_own, j->Tev_own, bx, by) : buckets(j->sum, j->cnt, j->Tev, bx, by);
        suite_curve(c, cs, "loss_by_position:seed", series, bx, by, nb);
        suite_samples(c, cs, "final_train_loss", "nats", STORE_LOWER | STORE_DETERMINISTIC, &j->final_loss, 1);
        suite_samples(c, cs, "eval_loss_within_T", "nats", STORE_LOWER | STORE_DETERMINISTIC, &within[k][si], 1);
        suite_samples(c, cs, "eval_loss_4T_8T", "nats", STORE_LOWER | STORE_DETERMINISTIC, &far[k][si], 1);
        double tps = (double)s.steps * j->B * j->T / j->train_s;
        suite_samples(c, cs, "train_tokens_per_s", "tokens/s", STORE_HIGHER | STORE_DETERMINISTIC, &tps, 1); /* shared cores: informative */
        if (!c->quiet) {
            suite_progress_done(c);
            fprintf(stderr, "[longctx] %-7s T=%-5d seed %d: train loss %.3f; held-out [T/2,T) %.3f, [T,2T)-[4T,8T) %+.3f, [2T,8T)-[T/2,T) %+.3f (%d windows)\n",
                    family_title((model_family)j->f), j->T, j->seed_i, j->final_loss, within[k][si], gain[k][si], rise[k][si], j->used);
        }
    }
    if (rc == 0) {
        /* figure: mean and spread over seeds per configuration, plus the control */
        for (int k = 0; k < ncfg; k++) {
            int Te = 0;
            for (int i = 0; i < nj; i++)
                if (jobs[i].f == cfg_f[k] && jobs[i].mult == cfg_mult[k]) Te = jobs[i].Tev_own ? jobs[i].Tev_own : jobs[i].Tev;
            double bys[LC_MAXSEEDS][LC_NB], bx[LC_NB], mean[LC_NB], sd[LC_NB];
            int nb = 0, n = 0;
            for (int i = 0; i < nj; i++) {
                lc_job *j = &jobs[i];
                if (j->f != cfg_f[k] || j->mult != cfg_mult[k] || j->rc) continue;
                nb = j->Tev_own ? buckets(j->sum_own, j->cnt_own, Te, bx, bys[n]) : buckets(j->sum, j->cnt, Te, bx, bys[n]);
                n++;
            }
            for (int b = 0; b < nb; b++) {
                double v[LC_MAXSEEDS];
                for (int q = 0; q < n; q++) v[q] = bys[q][b];
                suite_mean_sd(v, n, &mean[b], &sd[b]);
            }
            char series[64];
            snprintf(series, sizeof series, "%s T=%d", family_title((model_family)cfg_f[k]), T * cfg_mult[k]);
            suite_curve(c, 0, "loss_by_position", series, bx, mean, nb);
            suite_curve(c, 0, "loss_by_position:sd", series, bx, sd, nb);
        }
        double bx[LC_NB], by[LC_NB], zero[LC_NB] = {0};
        int nb = buckets(csum, ccnt, Tev, bx, by);
        suite_curve(c, 0, "loss_by_position", "bigram control", bx, by, nb);
        suite_curve(c, 0, "loss_by_position:sd", "bigram control", bx, zero, nb);
        store_id cs = suite_case(c, "longctx_control", "{\"model\":\"bigram\",\"data\":\"books without the held-out ones\"}");
        double cw = band(csum, ccnt, T / 2, T);
        suite_samples(c, cs, "eval_loss_within_T", "nats", STORE_LOWER | STORE_DETERMINISTIC, &cw, 1);
        /* the claims */
        double ctrl_rise = band(csum, ccnt, 2 * T, Tev) - cw;
        double ctrl_gain = band(csum, ccnt, T, 2 * T) - band(csum, ccnt, 4 * T, Tev);
        int seeds = S;
        double m[5][4], sdv[5][4]; /* within, rise, gain, far */
        for (int k = 0; k < ncfg; k++) {
            suite_mean_sd(within[k], nseed[k], &m[k][0], &sdv[k][0]);
            suite_mean_sd(rise[k], nseed[k], &m[k][1], &sdv[k][1]);
            suite_mean_sd(gain[k], nseed[k], &m[k][2], &sdv[k][2]);
            suite_mean_sd(far[k], nseed[k], &m[k][3], &sdv[k][3]);
            if (nseed[k] < seeds) seeds = nseed[k];
        }
        int idx[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
        for (int k = 0; k < ncfg; k++) idx[cfg_f[k]][cfg_mult[k] == 4] = k;
#define LCV(f, mu, q) (idx[f][mu] >= 0 ? m[idx[f][mu]][q] : NAN)
#define LCS(f, mu, q) (idx[f][mu] >= 0 ? sdv[idx[f][mu]][q] : NAN)
        claim_values v;
        char meas[320], where[64];
        snprintf(where, sizeof where, "T_train %d, evaluated to %d", T, Tev);
        claim_values_init(&v);
        claim_set(&v, "mqa_rise", LCV(FAMILY_MQA, 0, 1));
        claim_set(&v, "mqa_rise_sd", LCS(FAMILY_MQA, 0, 1));
        claim_set(&v, "control_rise", ctrl_rise);
        claim_set(&v, "seeds", seeds);
        snprintf(meas, sizeof meas, "loss [2T,8T) - [T/2,T): MQA %+.3f±%.3f, Hawk %+.3f, Griffin %+.3f, control %+.3f", LCV(0, 0, 1), LCS(0, 0, 1),
                 LCV(1, 0, 1), LCV(2, 0, 1), ctrl_rise);
        suite_claim_judged(c, "mqa_degrades_past_T", where, &v, meas);
        claim_values_init(&v);
        claim_set(&v, "hawk_gain", LCV(FAMILY_HAWK, 0, 2));
        claim_set(&v, "hawk_gain_sd", LCS(FAMILY_HAWK, 0, 2));
        claim_set(&v, "griffin_gain", LCV(FAMILY_GRIFFIN, 0, 2));
        claim_set(&v, "griffin_gain_sd", LCS(FAMILY_GRIFFIN, 0, 2));
        claim_set(&v, "control_gain", ctrl_gain);
        claim_set(&v, "excess_within", fmax(LCV(FAMILY_HAWK, 0, 0), LCV(FAMILY_GRIFFIN, 0, 0)) - cw);
        claim_set(&v, "seeds", seeds);
        snprintf(meas, sizeof meas,
                 "loss [T,2T) - [4T,8T): Hawk %+.3f±%.3f, Griffin %+.3f±%.3f, control %+.3f (gain over the control: Hawk %+.3f, Griffin "
                 "%+.3f; needs +0.010 beyond the sd); within T vs control %+.2f",
                 LCV(1, 0, 2), LCS(1, 0, 2), LCV(2, 0, 2), LCS(2, 0, 2), ctrl_gain, LCV(1, 0, 2) - ctrl_gain, LCV(2, 0, 2) - ctrl_gain,
                 fmax(LCV(1, 0, 0), LCV(2, 0, 0)) - cw);
        suite_claim_judged(c, "recurrent_keep_improving", where, &v, meas);
        /* 4T vs T at [4T, 8T) on the same windows. Seed i of both shares its
         * init and data seed, so the difference is taken per seed and its
         * spread is the sd over seeds of the per-seed differences (the
         * registry's "its spread over seeds"). */
        double hg = NAN, gg = NAN, hs = NAN, gs = NAN;
        for (int f = FAMILY_HAWK; f <= FAMILY_GRIFFIN; f++) {
            int a = idx[f][0], b = idx[f][1];
            if (a < 0 || b < 0 || nseed[a] != nseed[b]) continue;
            double d[LC_MAXSEEDS];
            for (int q = 0; q < nseed[a]; q++) d[q] = far[a][q] - far[b][q];
            suite_mean_sd(d, nseed[a], f == FAMILY_HAWK ? &hg : &gg, f == FAMILY_HAWK ? &hs : &gs);
        }
        claim_values_init(&v);
        claim_set(&v, "hawk_gain4", hg);
        claim_set(&v, "hawk_gain4_sd", hs);
        claim_set(&v, "griffin_gain4", gg);
        claim_set(&v, "griffin_gain4_sd", gs);
        claim_set(&v, "seeds", seeds);
        snprintf(where, sizeof where, "T %d vs %d at [%d,%d)", T, 4 * T, 4 * T, Tev);
        snprintf(meas, sizeof meas, "loss at [4T,8T), T-trained minus 4T-trained: Hawk %+.3f±%.3f, Griffin %+.3f±%.3f", hg, hs, gg, gs);
        suite_claim_judged(c, "longer_training_helps", where, &v, meas);
#undef LCV
#undef LCS
    }
    for (int i = 0; i < nj; i++) { free(jobs[i].sum); free(jobs[i].cnt); free(jobs[i].sum_own); free(jobs[i].cnt_own); }
    free(csum);
    free(ccnt);
    corpus_free(&held);
    return rc;
}
