/* suite_copyret.c — Fig. 6: copy and retrieval with the paper's small
 * models (5 blocks, width 64; Griffin R,R,A,R,R).
 *  (a) Selective Copying: held-out accuracy vs training steps.
 *  (b) Induction Heads: trained at one length, accuracy at longer lengths.
 *  (c) Phonebook lookup and MQAR: models trained on the task at a fixed
 *      size, accuracy vs the number of entries (shorter and longer books).
 * Accuracy follows the task's source: selective copying and MQAR score each
 * target token (the fraction of copied tokens / answered queries that are
 * right), induction heads its single answer, phonebook the whole number
 * (exact match of the 10 digits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "trainer.h"
#include "util.h"

typedef struct {
    int sc_T, sc_M, sc_W, sc_steps, sc_every;
    int ih_T, ih_W, ih_steps, ih_len[8], ih_nlen;
    int mq_T, mq_V, mq_pairs, mq_steps, mq_eval[6], mq_neval;
    int pb_entries, pb_steps, pb_eval[6], pb_neval;
    int B, eval_n;
    double lr, lr_mqa; /* peak learning rate: recurrent families, and MQA */
} cr_scale;

/* MQA gets its own peak learning rate. Measured at T=64, 1,500 steps, batch
 * 32: on induction heads the 5-block MQA stays at chance at the recurrent
 * models' 5e-3, reaches 74% at 3e-3, 100% at 2e-3 and 97.7% at 1e-3; on
 * selective copying (8 tokens) it copies 98.1% of tokens at 2e-3. */
static double lr_of(const cr_scale *s, int f) { return f == FAMILY_MQA ? s->lr_mqa : s->lr; }

static void scale_of(const suite_ctx *c, cr_scale *s) {
    if (c->scale == SCALE_SMOKE)
        *s = (cr_scale){64, 4, 32, 12, 6, 32, 16, 10, {32, 64, 128}, 3, 64, 128, 4, 10, {2, 4, 8}, 3, 4, 6, {3, 4, 6}, 3, 8, 32, 3e-3, 3e-3};
    else if (c->scale == SCALE_CPU)
        /* scaled so that the tasks are learned within the hour: selective
         * copying of 8 tokens at T=64 (Griffin window 32), induction heads
         * trained at T=64 (window 32) and evaluated to 64x that, MQAR with
         * 8 pairs at T=64 over 128 tokens */
        *s = (cr_scale){64, 8, 32, 1500, 100, 64, 32, 1500, {64, 128, 256, 512, 1024, 2048, 4096}, 7,
                        64, 128, 8, 1500, {2, 4, 8, 12, 16}, 5, 8, 300, {4, 8, 12, 16, 24}, 5, 32, 256, 5e-3, 2e-3};
    else
        *s = (cr_scale){1024, 16, 512, 4000, 250, 256, 128, 4000, {256, 512, 1024, 2048, 4096, 8192, 16384}, 7,
                        256, 8192, 16, 4000, {4, 8, 16, 32, 48, 64}, 6, 16, 4000, {8, 16, 32, 64, 96}, 5, 32, 256, 1e-3, 1e-3};
}

static void synth_model(model *m, model_family f, int V, int W, uint64_t seed) {
    model_config cfg;
    config_preset(f == FAMILY_MQA ? "synth-mqa" : f == FAMILY_HAWK ? "synth-hawk" : "synth-griffin", &cfg);
    cfg.vocab = V;
    cfg.window = W;
    config_finalize(&cfg);
    model_create(m, &cfg);
    model_init_weights(m, seed);
}

/* Train a synth model on a task; every `every` steps (and at the end) call
 * back with the step so the caller can evaluate. Returns 0, 1 or 130. */
typedef void (*eval_cb)(suite_ctx *c, model *m, int64_t step, void *u);

static int train_task(suite_ctx *c, model *m, task_kind k, const task_params *tp, int T, int B, int steps, double lr, int every,
                      eval_cb cb, void *u, double *final_loss) {
    batch_source src;
    source_init_task(&src, k, tp, c->seed + 101);
    adamw_config oc;
    adamw_defaults(&oc);
    oc.lr = lr;
    oc.total = steps;
    oc.warmup = steps / 20;
    oc.wd = 0.1;
    trainer tr;
    if (trainer_init(&tr, m, &src, B, T, &oc) != 0) { source_free(&src); return 1; }
    int rc = 0;
    double t0 = util_now();
    if (cb && every > 0) cb(c, m, 0, u);
    while (tr.step < steps && !*c->stop) {
        if (trainer_step(&tr) != 0) { fprintf(stderr, "[copyret] %s\n", util_last_error()); rc = 1; break; }
        double el = util_now() - t0;
        suite_progress(c, "%s %s T=%d: step %lld/%d loss %.3f (ETA %.0fs)", task_name(k), family_title(m->cfg.family), T,
                       (long long)tr.step, steps, tr.last_loss, el / (double)tr.step * (double)(steps - tr.step));
        if (cb && ((every > 0 && tr.step % every == 0) || tr.step == steps)) cb(c, m, tr.step, u);
    }
    if (final_loss) *final_loss = tr.last_loss;
    trainer_free(&tr);
    source_free(&src);
    return *c->stop ? 130 : rc;
}

typedef struct {
    task_kind k;
    task_params tp;
    int T, n, B;
    double xs[128], ys[128];
    int nx;
    uint64_t seed;
} sc_state;

static void sc_eval(suite_ctx *c, model *m, int64_t step, void *u) {
    sc_state *s = u;
    double acc = 0;
    if (eval_task(m, s->k, &s->tp, s->T, s->n, s->B, s->seed, NULL, &acc, NULL) != 0) return;
    if (s->nx < 128) { s->xs[s->nx] = (double)step; s->ys[s->nx++] = acc; }
}

static const char *verdict(int yes, int no) { return yes ? "reproduced" : no ? "not reproduced" : "inconclusive"; }

int suite_copyret(suite_ctx *c) {
    cr_scale s;
    scale_of(c, &s);
    int rc = 0;
    /* (a) selective copying */
    double steps_to_99[3] = {NAN, NAN, NAN}, final_acc[3] = {NAN, NAN, NAN};
    for (int f = 0; f < 3 && !rc; f++) {
        if (!c->fam[f]) continue;
        sc_state st = {TASK_SELECTIVE_COPY, {0}, s.sc_T, s.eval_n, s.B, {0}, {0}, 0, c->seed + 7};
        task_params_default(TASK_SELECTIVE_COPY, &st.tp);
        st.tp.n_tokens = s.sc_M;
        model m;
        synth_model(&m, (model_family)f, task_vocab(TASK_SELECTIVE_COPY, &st.tp), s.sc_W, c->seed);
        double fl;
        double t0 = util_now();
        rc = train_task(c, &m, TASK_SELECTIVE_COPY, &st.tp, s.sc_T, s.B, s.sc_steps, lr_of(&s, f), s.sc_every, sc_eval, &st, &fl);
        if (st.nx) {
            char params[256];
            snprintf(params, sizeof params, "{\"family\":\"%s\",\"T\":%d,\"tokens\":%d,\"W\":%d,\"steps\":%d,\"B\":%d,\"lr\":%g}", family_name((model_family)f),
                     s.sc_T, s.sc_M, s.sc_W, s.sc_steps, s.B, lr_of(&s, f));
            store_id cs = suite_case(c, "selective_copy", params);
            suite_curve(c, cs, "selcopy_acc_by_step", family_title((model_family)f), st.xs, st.ys, st.nx);
            final_acc[f] = st.ys[st.nx - 1];
            for (int i = 0; i < st.nx; i++) if (st.ys[i] >= 0.99) { steps_to_99[f] = st.xs[i]; break; }
            suite_samples(c, cs, "final_accuracy", "fraction", STORE_HIGHER | STORE_DETERMINISTIC, &final_acc[f], 1);
            double wall = util_now() - t0;
            suite_samples(c, cs, "train_seconds", "s", STORE_LOWER, &wall, 1);
            if (!c->quiet) {
                suite_progress_done(c);
                fprintf(stderr, "[copyret] selective copy %-7s: accuracy %.3f after %d steps (99%% at step %s%.0f), %.0f s\n",
                        family_title((model_family)f), final_acc[f], s.sc_steps, isnan(steps_to_99[f]) ? "never " : "", isnan(steps_to_99[f]) ? 0.0 : steps_to_99[f], wall);
            }
        }
        model_free(&m);
    }
    if (rc) return rc;
    {
        char meas[200];
        snprintf(meas, sizeof meas, "final acc MQA %.2f, Hawk %.2f, Griffin %.2f", final_acc[0], final_acc[1], final_acc[2]);
        double hk = isnan(steps_to_99[1]) ? 1e9 : steps_to_99[1];
        double fast = fmax(isnan(steps_to_99[0]) ? 1e9 : steps_to_99[0], isnan(steps_to_99[2]) ? 1e9 : steps_to_99[2]);
        suite_claim(c, "selective copying: Hawk learns slower than MQA and Griffin", meas,
                    isnan(final_acc[0] + final_acc[1] + final_acc[2]) ? "inconclusive"
                    : verdict(fast < 1e9 && hk > fast, final_acc[1] > fmax(final_acc[0], final_acc[2]) + 0.05));
    }
    /* (b) induction heads */
    double ih_at_train[3] = {NAN, NAN, NAN}, ih_at_max[3] = {NAN, NAN, NAN};
    for (int f = 0; f < 3 && !rc; f++) {
        if (!c->fam[f]) continue;
        task_params tp;
        task_params_default(TASK_INDUCTION, &tp);
        model m;
        synth_model(&m, (model_family)f, task_vocab(TASK_INDUCTION, &tp), s.ih_W, c->seed + 1);
        double fl;
        rc = train_task(c, &m, TASK_INDUCTION, &tp, s.ih_T, s.B, s.ih_steps, lr_of(&s, f), 0, NULL, NULL, &fl);
        if (!rc) {
            double xs[8], ys[8];
            int nx = 0;
            for (int i = 0; i < s.ih_nlen && !*c->stop; i++) {
                double acc;
                suite_progress(c, "induction %s: eval at length %d", family_title((model_family)f), s.ih_len[i]);
                if (eval_task(&m, TASK_INDUCTION, &tp, s.ih_len[i], s.eval_n, s.ih_len[i] > 2048 ? 1 : 4, c->seed + 11, &acc, NULL, NULL) != 0) continue;
                xs[nx] = s.ih_len[i];
                ys[nx++] = acc;
                if (s.ih_len[i] == s.ih_T) ih_at_train[f] = acc;
            }
            if (nx) ih_at_max[f] = ys[nx - 1];
            char params[200];
            snprintf(params, sizeof params, "{\"family\":\"%s\",\"T_train\":%d,\"W\":%d,\"steps\":%d,\"lr\":%g}", family_name((model_family)f), s.ih_T, s.ih_W, s.ih_steps, lr_of(&s, f));
            store_id cs = suite_case(c, "induction", params);
            suite_curve(c, cs, "induction_acc_by_len", family_title((model_family)f), xs, ys, nx);
            suite_samples(c, cs, "accuracy_at_train_length", "fraction", STORE_HIGHER | STORE_DETERMINISTIC, &ih_at_train[f], 1);
            if (!c->quiet) {
                suite_progress_done(c);
                fprintf(stderr, "[copyret] induction %-7s: accuracy %.3f at %d (train), %.3f at %d\n", family_title((model_family)f), ih_at_train[f],
                        s.ih_T, ih_at_max[f], s.ih_len[s.ih_nlen - 1]);
            }
        }
        model_free(&m);
    }
    if (rc) return rc;
    {
        char meas[200];
        /* reproduced: every model learned the task (>= 0.8 at the training
         * length), MQA is near chance far beyond it (< 0.2) while both
         * recurrent models keep at least 0.3 more; not reproduced: MQA keeps
         * as much as the weaker recurrent model */
        double rec_min = fmin(ih_at_max[1], ih_at_max[2]);
        int learned = fmin(ih_at_train[0], fmin(ih_at_train[1], ih_at_train[2])) >= 0.8;
        snprintf(meas, sizeof meas, "acc at train length MQA %.2f, Hawk %.2f, Griffin %.2f; at %dx: %.2f, %.2f, %.2f", ih_at_train[0],
                 ih_at_train[1], ih_at_train[2], s.ih_len[s.ih_nlen - 1] / s.ih_T, ih_at_max[0], ih_at_max[1], ih_at_max[2]);
        suite_claim(c, "induction heads: MQA fails past its training length; Hawk/Griffin extrapolate better", meas,
                    isnan(ih_at_max[0] + ih_at_max[1] + ih_at_max[2]) || !learned
                        ? "inconclusive"
                        : verdict(ih_at_max[0] < 0.2 && rec_min > ih_at_max[0] + 0.3, ih_at_max[0] >= rec_min));
    }
    /* (c) MQAR and phonebook: accuracy vs number of entries */
    double acc_big[2][3];
    for (int t = 0; t < 2; t++)
        for (int f = 0; f < 3; f++) acc_big[t][f] = NAN;
    for (int t = 0; t < 2 && !rc; t++) {
        task_kind k = t == 0 ? TASK_MQAR : TASK_PHONEBOOK;
        for (int f = 0; f < 3 && !rc; f++) {
            if (!c->fam[f]) continue;
            task_params tp;
            task_params_default(k, &tp);
            int T;
            if (k == TASK_MQAR) { tp.vocab = s.mq_V; tp.n_tokens = s.mq_pairs; T = s.mq_T; }
            else { tp.n_tokens = s.pb_entries; T = task_min_seq(k, &tp); }
            model m;
            /* Griffin's window covers about half the training sequence */
            synth_model(&m, (model_family)f, task_vocab(k, &tp), T / 2, c->seed + 2 + (uint64_t)t);
            double fl;
            rc = train_task(c, &m, k, &tp, T, s.B, k == TASK_MQAR ? s.mq_steps : s.pb_steps, lr_of(&s, f), 0, NULL, NULL, &fl);
            if (!rc) {
                const int *ev = k == TASK_MQAR ? s.mq_eval : s.pb_eval;
                int nev = k == TASK_MQAR ? s.mq_neval : s.pb_neval;
                double xs[8], ys[8];
                int nx = 0;
                for (int i = 0; i < nev && !*c->stop; i++) {
                    task_params ep = tp;
                    ep.n_tokens = ev[i];
                    int Te = k == TASK_MQAR ? (4 * ev[i] > s.mq_T ? 4 * ev[i] : s.mq_T) : task_min_seq(k, &ep);
                    if (k == TASK_MQAR && Te >= ep.vocab) continue;
                    double acc, tok_acc;
                    suite_progress(c, "%s %s: eval with %d entries (T=%d)", task_name(k), family_title((model_family)f), ev[i], Te);
                    if (eval_task(&m, k, &ep, Te, s.eval_n, 4, c->seed + 13, &acc, &tok_acc, NULL) != 0) {
                        fprintf(stderr, "[copyret] %s\n", util_last_error());
                        continue;
                    }
                    xs[nx] = ev[i];
                    ys[nx++] = k == TASK_MQAR ? tok_acc : acc; /* per query for MQAR, whole number for phonebook */
                }
                if (nx) acc_big[t][f] = ys[nx - 1];
                char params[200];
                snprintf(params, sizeof params, "{\"family\":\"%s\",\"task\":\"%s\",\"train_entries\":%d,\"T\":%d,\"lr\":%g}", family_name((model_family)f),
                         task_name(k), tp.n_tokens, T, lr_of(&s, f));
                store_id cs = suite_case(c, task_name(k), params);
                suite_curve(c, cs, k == TASK_MQAR ? "mqar_acc_by_pairs" : "phonebook_acc_by_size", family_title((model_family)f), xs, ys, nx);
                suite_samples(c, cs, "final_train_loss", "nats", STORE_LOWER | STORE_DETERMINISTIC, &fl, 1);
                if (!c->quiet) {
                    suite_progress_done(c);
                    fprintf(stderr, "[copyret] %s %-7s: accuracy", task_name(k), family_title((model_family)f));
                    for (int i = 0; i < nx; i++) fprintf(stderr, " %.0f:%.2f", xs[i], ys[i]);
                    fprintf(stderr, " (entries:accuracy)\n");
                }
            }
            model_free(&m);
        }
    }
    if (rc) return rc;
    for (int t = 0; t < 2; t++) {
        char meas[200], claim[200];
        snprintf(claim, sizeof claim, "%s: Hawk's retrieval fails first as entries grow", t == 0 ? "MQAR" : "phonebook");
        snprintf(meas, sizeof meas, "largest book: MQA %.2f, Hawk %.2f, Griffin %.2f", acc_big[t][0], acc_big[t][1], acc_big[t][2]);
        double a = acc_big[t][0], h = acc_big[t][1], g = acc_big[t][2];
        int weak = fmax(a, fmax(h, g)) < 0.2; /* nothing learned: no evidence either way */
        suite_claim(c, claim, meas, isnan(a + h + g) || weak ? "inconclusive" : verdict(h < a && h < g, h > a && h > g));
    }
    return 0;
}
