/* trainer.c — see trainer.h. */
#include "trainer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ops.h"
#include "safetensors.h"
#include "util.h"

/* ---- batch sources --------------------------------------------------------- */

int source_init_text(batch_source *s, const char *dir, const char *split, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->is_text = 1;
    s->task = TASK_UNKNOWN;
    s->seed = seed;
    if (corpus_load(&s->corpus, dir, split) != 0) return -1;
    if (data_loader_init(&s->loader, &s->corpus, seed) != 0) {
        corpus_free(&s->corpus);
        return -1;
    }
    return 0;
}

int source_init_text_filtered(batch_source *s, const char *dir, const char *split, const char *const *names, int n, int keep,
                              uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->is_text = 1;
    s->task = TASK_UNKNOWN;
    s->seed = seed;
    if (corpus_load(&s->corpus, dir, split) != 0) return -1;
    if ((n > 0 && corpus_filter(&s->corpus, names, n, keep) < 0) || data_loader_init(&s->loader, &s->corpus, seed) != 0) {
        corpus_free(&s->corpus);
        return -1;
    }
    return 0;
}

int source_init_task(batch_source *s, task_kind k, const task_params *p, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->task = k;
    s->tp = *p;
    s->seed = seed;
    rng_seed(&s->rng, seed ^ 0x5EED5EEDULL);
    return 0;
}

void source_free(batch_source *s) {
    if (s->is_text) {
        data_loader_free(&s->loader);
        corpus_free(&s->corpus);
    }
    memset(s, 0, sizeof *s);
}

void source_next(batch_source *s, int B, int T, int32_t *tok, int32_t *tgt, int32_t *pos) {
    if (s->is_text) {
        data_next_batch(&s->loader, B, T, tok, tgt, pos);
        return;
    }
    task_generate(s->task, &s->tp, &s->rng, B, T, tok, tgt, NULL);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) pos[(size_t)b * T + t] = t;
}

void source_get_state(const batch_source *s, int64_t st[SOURCE_STATE_N]) {
    memset(st, 0, SOURCE_STATE_N * sizeof(int64_t));
    st[0] = s->is_text;
    if (s->is_text) data_get_cursor(&s->loader, st + 1);
    else for (int i = 0; i < 4; i++) st[1 + i] = (int64_t)s->rng.s[i];
}

int source_set_state(batch_source *s, const int64_t st[SOURCE_STATE_N]) {
    if (st[0] != s->is_text) { util_error("checkpoint was trained on %s data, this run uses %s", st[0] ? "text" : "task", s->is_text ? "text" : "task"); return -1; }
    if (s->is_text) return data_set_cursor(&s->loader, st + 1);
    for (int i = 0; i < 4; i++) s->rng.s[i] = (uint64_t)st[1 + i];
    return 0;
}

/* ---- trainer --------------------------------------------------------------- */

int trainer_init(trainer *t, model *m, batch_source *src, int B, int T, const adamw_config *oc) {
    memset(t, 0, sizeof *t);
    t->m = m;
    t->src = src;
    t->B = B;
    t->T = T;
    if (model_acts_alloc(&t->a, m, B, T, 1) != 0) return -1;
    if (model_grads_alloc(&t->g, m, B, T) != 0) { model_acts_free(&t->a); return -1; }
    adamw_init(&t->opt, m, oc);
    size_t n = (size_t)B * T;
    t->tok = malloc(n * sizeof(int32_t));
    t->tgt = malloc(n * sizeof(int32_t));
    t->pos = malloc(n * sizeof(int32_t));
    CHECK_ALLOC(t->tok); CHECK_ALLOC(t->tgt); CHECK_ALLOC(t->pos);
    return 0;
}

void trainer_free(trainer *t) {
    model_acts_free(&t->a);
    model_grads_free(&t->g);
    adamw_free(&t->opt);
    free(t->tok); free(t->tgt); free(t->pos);
    memset(t, 0, sizeof *t);
}

int trainer_step(trainer *t) {
    double t0 = util_now();
    source_next(t->src, t->B, t->T, t->tok, t->tgt, t->pos);
    for (size_t i = 0; i < (size_t)t->B * t->T; i++)
        if (t->tok[i] >= t->m->cfg.vocab || t->tgt[i] >= t->m->cfg.vocab) {
            util_error("step %lld: token %d is outside the model's vocabulary (%d)", (long long)t->step + 1,
                       t->tok[i] >= t->m->cfg.vocab ? t->tok[i] : t->tgt[i], t->m->cfg.vocab);
            return -1;
        }
    model_zero_grad(&t->g, t->m);
    if (model_forward(t->m, &t->a, t->tok, t->pos, NULL) != 0) return -1;
    float loss;
    if (model_loss_backward(t->m, &t->a, &t->g, t->tok, t->pos, t->tgt, &loss) != 0) return -1;
    double gn = adamw_grad_norm(&t->opt, t->m, t->g.grads);
    if (!isfinite(loss) || !isfinite(gn)) {
        util_error("step %lld: %s is %s; parameters left at step %lld", (long long)t->step + 1,
                   !isfinite(loss) ? "loss" : "gradient norm", isnan(!isfinite(loss) ? loss : gn) ? "NaN" : "infinite",
                   (long long)t->step);
        return -1;
    }
    if (adamw_step(&t->opt, t->m, t->g.grads) != 0) return -1;
    t->step++;
    t->last_loss = loss;
    t->step_seconds = util_now() - t0;
    return 0;
}

/* PATH.train, or PATH.train.next with next set. */
static char *train_path(const char *path, int next) {
    size_t n = strlen(path) + 16;
    char *p = malloc(n);
    CHECK_ALLOC(p);
    snprintf(p, n, "%s.train%s", path, next ? ".next" : "");
    return p;
}

/* Three atomic steps, so that a kill at any moment leaves a pair that
 * resumes: (1) the optimizer state for step N as PATH.train.next, (2) the
 * model as PATH (its metadata says step N), (3) PATH.train.next renamed
 * over PATH.train. Killed before (2): PATH and PATH.train are both the old
 * step; between (2) and (3): PATH.train.next carries PATH's step, and
 * resume takes it. */
int trainer_save(const trainer *t, const char *path) {
    char step[32], st[256], oc[512], bt[64];
    snprintf(step, sizeof step, "%lld", (long long)t->step);
    int64_t s[SOURCE_STATE_N];
    source_get_state(t->src, s);
    snprintf(st, sizeof st, "%lld %lld %lld %lld %lld %lld %lld %lld", (long long)s[0], (long long)s[1], (long long)s[2],
             (long long)s[3], (long long)s[4], (long long)s[5], (long long)s[6], (long long)s[7]);
    const adamw_config *c = &t->opt.cfg;
    snprintf(oc, sizeof oc, "%.17g %.17g %.17g %.17g %.17g %.17g %.17g %d %d", c->lr, c->lr_min_ratio, c->wd, c->beta1,
             c->beta2, c->eps, c->clip, c->warmup, c->total);
    snprintf(bt, sizeof bt, "%d %d", t->B, t->T);
    if (adamw_pull((adamw *)&t->opt, t->m->nparams) != 0) return -1; /* the device's m, v (the host mirrors are a cache) */
    st_out ts[2] = {{"adam.m", ST_F32, 1, {(int64_t)t->m->nparams}, t->opt.hm},
                    {"adam.v", ST_F32, 1, {(int64_t)t->m->nparams}, t->opt.hv}};
    const char *k[] = {"train_step", "source_state", "adamw", "batch"};
    const char *v[] = {step, st, oc, bt};
    char *next = train_path(path, 1), *cur = train_path(path, 0);
    int rc = st_write(next, ts, 2, k, v, 4);
    const char *mk[] = {"train_step"};
    const char *mv[] = {step};
    if (rc == 0) rc = ckpt_save(t->m, path, mk, mv, 1);
    if (rc == 0 && rename(next, cur) != 0) {
        util_error("%s: rename from %s: %s (the checkpoint %s is complete; resume uses %s)", cur, next, strerror(errno), path, next);
        rc = -1;
    }
    free(next);
    free(cur);
    return rc;
}

/* The step recorded in a checkpoint's metadata (-1: missing or unreadable). */
static long long file_step(const char *path) {
    st_file f;
    if (st_open(&f, path) != 0) return -1;
    const char *s = st_meta(&f, "train_step");
    long long v = s ? atoll(s) : -1;
    st_close(&f);
    return v;
}

int trainer_resume(trainer *t, const char *path) {
    long long want = file_step(path);
    if (want < 0) {
        if (access(path, F_OK) == 0) util_error("%s: no train_step in the checkpoint (not written by griffin train?)", path);
        else util_error("%s: %s", path, strerror(errno));
        return -1;
    }
    /* the optimizer state of the model's step: PATH.train, or PATH.train.next
     * when a save was cut between writing the model and renaming */
    char *tp = train_path(path, 0), *np = train_path(path, 1);
    long long have = file_step(tp);
    if (have != want && file_step(np) == want) {
        if (rename(np, tp) != 0) {
            util_error("%s: cannot take over %s: %s", tp, np, strerror(errno));
            free(tp); free(np);
            return -1;
        }
        have = want;
    }
    free(np);
    st_file f;
    int rc = st_open(&f, tp);
    free(tp);
    if (rc) return -1;
    rc = -1;
    const char *step = st_meta(&f, "train_step"), *st = st_meta(&f, "source_state"), *oc = st_meta(&f, "adamw");
    const st_tensor *m = st_find(&f, "adam.m"), *v = st_find(&f, "adam.v");
    if (!step || !st || !oc || !m || !v) { util_error("%s.train: missing optimizer state or metadata", path); goto out; }
    if ((size_t)st_numel(m) != t->m->nparams || (size_t)st_numel(v) != t->m->nparams) {
        util_error("%s.train: optimizer state has %lld values, the model %zu", path, (long long)st_numel(m), t->m->nparams);
        goto out;
    }
    if (have != want) { util_error("%s and %s.train are from different steps (%lld vs %s)", path, path, want, step); goto out; }
    int64_t s[SOURCE_STATE_N];
    long long ls[SOURCE_STATE_N];
    if (sscanf(st, "%lld %lld %lld %lld %lld %lld %lld %lld", &ls[0], &ls[1], &ls[2], &ls[3], &ls[4], &ls[5], &ls[6], &ls[7]) != 8) {
        util_error("%s.train: bad source_state", path);
        goto out;
    }
    for (int i = 0; i < SOURCE_STATE_N; i++) s[i] = ls[i];
    adamw_config c = t->opt.cfg;
    if (sscanf(oc, "%lg %lg %lg %lg %lg %lg %lg %d %d", &c.lr, &c.lr_min_ratio, &c.wd, &c.beta1, &c.beta2, &c.eps, &c.clip,
               &c.warmup, &c.total) != 9) {
        util_error("%s.train: bad adamw settings", path);
        goto out;
    }
    if (source_set_state(t->src, s) != 0) goto out;
    if (st_read_f32(&f, m, t->opt.hm, t->m->nparams) != 0 || st_read_f32(&f, v, t->opt.hv, t->m->nparams) != 0 ||
        adamw_push(&t->opt, t->m->nparams) != 0)
        goto out;
    t->opt.cfg = c;
    t->step = t->opt.step = atoll(step);
    rc = 0;
out:
    st_close(&f);
    return rc;
}

/* ---- evaluation ------------------------------------------------------------- */

static void argmax_rows(int32_t *pred, const float *logits, int N, int V) {
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * V;
        int best = 0;
        for (int v = 1; v < V; v++) if (l[v] > l[best]) best = v;
        pred[n] = best;
    }
}

int eval_task(model *m, task_kind k, const task_params *p, int T, int nseq, int B, uint64_t seed, double *seq_acc,
              double *tok_acc, double *loss) {
    if (task_check(k, p, T) != 0) return -1;
    if (B > nseq) B = nseq;
    if (B < 1) B = 1;
    model_acts a;
    if (model_acts_alloc(&a, m, B, T, 0) != 0) return -1;
    size_t n = (size_t)B * T;
    int32_t *tok = malloc(n * 4), *tgt = malloc(n * 4), *pos = malloc(n * 4), *pred = malloc(n * 4);
    float *rl = malloc(n * sizeof(float));
    CHECK_ALLOC(tok); CHECK_ALLOC(tgt); CHECK_ALLOC(pos); CHECK_ALLOC(pred); CHECK_ALLOC(rl);
    rng_t r;
    rng_seed(&r, seed ^ 0xE7A1E7A1ULL);
    task_score sc = {0};
    double lsum = 0;
    int64_t lcnt = 0;
    int rc = 0;
    for (int done = 0; done < nseq; done += B) {
        int b = nseq - done < B ? nseq - done : B;
        /* generate B and score the first b (keeps shapes fixed) */
        task_generate(k, p, &r, B, T, tok, tgt, NULL);
        for (size_t i = 0; i < n; i++) pos[i] = (int32_t)(i % (size_t)T);
        const float *lg;
        if (model_forward(m, &a, tok, pos, NULL) != 0 || !(lg = model_acts_logits(&a))) { rc = -1; break; }
        argmax_rows(pred, lg, B * T, m->cfg.vocab);
        task_score_add(&sc, tgt, pred, b, T);
        xent_forward(rl, lg, tgt, b * T, m->cfg.vocab);
        for (size_t i = 0; i < (size_t)b * T; i++)
            if (tgt[i] >= 0) { lsum += rl[i]; lcnt++; }
    }
    if (!rc) {
        if (seq_acc) *seq_acc = sc.seqs ? (double)sc.seqs_right / (double)sc.seqs : 0;
        if (tok_acc) *tok_acc = sc.toks ? (double)sc.toks_right / (double)sc.toks : 0;
        if (loss) *loss = lcnt ? lsum / (double)lcnt : 0;
    }
    free(tok); free(tgt); free(pos); free(pred); free(rl);
    model_acts_free(&a);
    return rc;
}

int eval_loss_by_position(model *m, const corpus_t *c, int T_eval, int max_docs, int chunk, double *sum, int64_t *cnt) {
    if (chunk <= 0 || chunk > T_eval) chunk = T_eval;
    const int V = m->cfg.vocab;
    int32_t *tok = malloc((size_t)T_eval * 4), *tgt = malloc((size_t)T_eval * 4), *pos = malloc((size_t)T_eval * 4);
    float *rl = malloc((size_t)chunk * sizeof(float)), *lg = malloc((size_t)V * sizeof(float));
    CHECK_ALLOC(tok); CHECK_ALLOC(tgt); CHECK_ALLOC(pos); CHECK_ALLOC(rl); CHECK_ALLOC(lg);
    model_acts a;
    decode_state st;
    int used = 0, rc = 0;
    if (model_acts_alloc(&a, m, 1, chunk, 0) != 0) { rc = -1; goto out0; }
    if (decode_state_alloc(&st, m, 1, T_eval + 1) != 0) { rc = -1; goto out1; }
    /* windows of T_eval bytes at offsets 0, T_eval, 2 T_eval, ... taken
     * round-robin over the documents, so that no single opening page
     * dominates a position; each window is one sequence (pos = 0..T_eval-1) */
    for (int64_t w = 0; used < max_docs && !rc; w++) {
        int any = 0;
        for (int d = 0; d < c->n_docs && used < max_docs; d++) {
            int64_t off = w * (int64_t)T_eval;
            if (c->len[d] < off + T_eval) continue;
            any = 1;
            corpus_read(c, d, off, T_eval, tok, tgt, pos);
            for (int t = 0; t < T_eval; t++) pos[t] = t;
            decode_state_reset(&st, m, -1);
            const float *lg;
            if (model_forward(m, &a, tok, pos, chunk < T_eval ? &st : NULL) != 0 || !(lg = model_acts_logits(&a))) { rc = -1; break; }
            xent_forward(rl, lg, tgt, chunk, V);
            for (int t = 0; t < chunk; t++)
                if (tgt[t] >= 0) { sum[t] += rl[t]; cnt[t]++; }
            for (int t = chunk; t < T_eval; t++) {
                if (model_decode_step(m, &st, &tok[t], NULL, lg) != 0) { rc = -1; break; }
                float l;
                xent_forward(&l, lg, &tgt[t], 1, V);
                if (tgt[t] >= 0) { sum[t] += l; cnt[t]++; }
            }
            if (rc) break;
            used++;
        }
        if (!any) break;
    }
    decode_state_free(&st);
out1:
    model_acts_free(&a);
out0:
    free(tok); free(tgt); free(pos); free(rl); free(lg);
    return rc ? -1 : used;
}

double eval_source_loss(model *m, batch_source *src, int B, int T, int nbatches) {
    model_acts a;
    if (model_acts_alloc(&a, m, B, T, 0) != 0) return NAN;
    size_t n = (size_t)B * T;
    int32_t *tok = malloc(n * 4), *tgt = malloc(n * 4), *pos = malloc(n * 4);
    CHECK_ALLOC(tok); CHECK_ALLOC(tgt); CHECK_ALLOC(pos);
    double sum = 0;
    int64_t cnt = 0;
    for (int i = 0; i < nbatches; i++) {
        source_next(src, B, T, tok, tgt, pos);
        if (model_forward(m, &a, tok, pos, NULL) != 0) { sum = NAN; break; }
        int c;
        double l = model_loss(m, &a, tgt, NULL, &c);
        sum += l * c;
        cnt += c;
    }
    free(tok); free(tgt); free(pos);
    model_acts_free(&a);
    return cnt ? sum / (double)cnt : NAN;
}
