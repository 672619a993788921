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
    return trainer_init_dp(t, m, src, B, T, oc, NULL);
}

int trainer_init_dp(trainer *t, model *m, batch_source *src, int B, int T, const adamw_config *oc, dp_state *dp) {
    memset(t, 0, sizeof *t);
    t->m = m;
    t->src = src;
    t->B = B;
    t->T = T;
    t->dp = dp;
    t->rows = B;
    if (dp && dp->size > 1 && m->be && strcmp(m->be->name, "cpu") != 0) {
        util_error("data-parallel training over %d ranks runs on the cpu backend only (the gradients are reduced in host memory); "
                   "--device %s needs one process", dp->size, m->be->name);
        return -1;
    }
    if (dp) dp_shard(B, dp->rank, dp->size, &t->row0, &t->rows);
    if (t->rows < 1) { util_error("--batch %d is smaller than the %d ranks: every rank needs at least one row", B, dp ? dp->size : 1); return -1; }
    if (model_acts_alloc(&t->a, m, t->rows, T, 1) != 0) return -1;
    if (model_grads_alloc(&t->g, m, t->rows, T) != 0) { model_acts_free(&t->a); return -1; }
    adamw_init(&t->opt, m, oc);
    size_t n = (size_t)B * T;
    t->tok = malloc(n * sizeof(int32_t));
    t->tgt = malloc(n * sizeof(int32_t));
    t->pos = malloc(n * sizeof(int32_t));
    CHECK_ALLOC(t->tok); CHECK_ALLOC(t->tgt); CHECK_ALLOC(t->pos);
    return 0;
}

void trainer_sync(trainer *t) {
    if (!t->dp || t->dp->size == 1) return;
    comm *c = t->dp->c;
    /* the same model and batch everywhere, or the broadcasts below would not pair up */
    int64_t me[3] = {(int64_t)t->m->nparams, t->B, t->T}, *all = malloc((size_t)t->dp->size * sizeof me);
    CHECK_ALLOC(all);
    comm_allgather(c, me, all, sizeof me);
    for (int r = 1; r < t->dp->size; r++)
        if (memcmp(all, all + 3 * r, sizeof me))
            comm_abort(c, 2, "rank %d has %lld parameters, batch %lld, seq %lld; rank 0 %lld, %lld, %lld: every rank must train the same model",
                       r, (long long)all[3 * r], (long long)all[3 * r + 1], (long long)all[3 * r + 2], (long long)all[0],
                       (long long)all[1], (long long)all[2]);
    free(all);
    size_t n = t->m->nparams * sizeof(float);
    comm_bcast(c, t->m->params, n, 0);
    comm_bcast(c, t->opt.m, n, 0);
    comm_bcast(c, t->opt.v, n, 0);
    int64_t st[SOURCE_STATE_N + 2];
    source_get_state(t->src, st);
    st[SOURCE_STATE_N] = t->step;
    st[SOURCE_STATE_N + 1] = t->opt.step;
    comm_bcast(c, st, sizeof st, 0);
    if (source_set_state(t->src, st) != 0) comm_abort(c, 1, "cannot take rank 0's data position: %s", util_last_error());
    t->step = st[SOURCE_STATE_N];
    t->opt.step = st[SOURCE_STATE_N + 1];
    comm_bcast(c, &t->opt.cfg, sizeof t->opt.cfg, 0);
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
    const size_t o = (size_t)t->row0 * t->T, nm = (size_t)t->rows * t->T;
    model_zero_grad(&t->g, t->m);
    if (t->dp) dp_begin(t->dp, &t->g, t->tgt, (size_t)t->B * t->T, t->tgt + o, nm);
    if (model_forward(t->m, &t->a, t->tok + o, t->pos + o, NULL) != 0) return -1;
    float loss;
    if (model_loss_backward(t->m, &t->a, &t->g, t->tok + o, t->pos + o, t->tgt + o, &loss) != 0) return -1;
    if (t->dp) dp_end(t->dp, &t->g, &loss);
    double gn = t->dp ? dp_grad_norm(t->g.grads, t->m->nparams) : adamw_grad_norm(&t->opt, t->m, t->g.grads);
    if (!isfinite(loss) || !isfinite(gn)) {
        util_error("step %lld: %s is %s; parameters left at step %lld", (long long)t->step + 1,
                   !isfinite(loss) ? "loss" : "gradient norm", isnan(!isfinite(loss) ? loss : gn) ? "NaN" : "infinite",
                   (long long)t->step);
        return -1;
    }
    if (t->dp) {
        if (dp_adamw_step(&t->opt, t->m, t->g.grads, gn) != 0) return -1;
    } else if (adamw_step(&t->opt, t->m, t->g.grads) != 0) return -1;
    t->step++;
    t->last_loss = loss;
    t->step_seconds = util_now() - t0;
    return 0;
}

int trainer_step_stoppable(trainer *t, volatile sig_atomic_t *stop) {
    if (t->dp) t->dp->stop_local = *stop;
    if (trainer_step(t) != 0) return -1;
    if (!t->dp) return *stop != 0;
    if (t->dp->stop_any) *stop = 1;
    return t->dp->stop_any;
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
    return eval_task_dp(m, k, p, T, nseq, B, seed, NULL, seq_acc, tok_acc, loss);
}

int eval_task_dp(model *m, task_kind k, const task_params *p, int T, int nseq, int B, uint64_t seed, dp_state *dp,
                 double *seq_acc, double *tok_acc, double *loss) {
    if (task_check(k, p, T) != 0) return -1;
    if (B > nseq) B = nseq;
    if (B < 1) B = 1;
    /* every rank generates the whole batch and scores its rows */
    int r0 = 0, nr = B;
    if (dp) dp_shard(B, dp->rank, dp->size, &r0, &nr);
    model_acts a;
    if (nr > 0 && model_acts_alloc(&a, m, nr, T, 0) != 0) return -1;
    size_t n = (size_t)B * T, o = (size_t)r0 * T;
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
        int mine = b - r0 < nr ? b - r0 : nr; /* of this rank's rows, those scored */
        if (mine <= 0) continue;
        for (size_t i = 0; i < n; i++) pos[i] = (int32_t)(i % (size_t)T);
        const float *lg;
        if (model_forward(m, &a, tok + o, pos + o, NULL) != 0 || !(lg = model_acts_logits(&a))) { rc = -1; break; }
        argmax_rows(pred, lg, nr * T, m->cfg.vocab);
        task_score_add(&sc, tgt + o, pred, mine, T);
        xent_forward(rl, lg, tgt + o, mine * T, m->cfg.vocab);
        for (size_t i = 0; i < (size_t)mine * T; i++)
            if (tgt[o + i] >= 0) { lsum += rl[i]; lcnt++; }
    }
    if (dp) {
        double v[6] = {(double)sc.seqs, (double)sc.seqs_right, (double)sc.toks, (double)sc.toks_right, lsum, (double)lcnt};
        v[0] += rc ? 1e300 : 0; /* a failure on any rank fails every rank */
        comm_allreduce_f64(dp->c, v, 6);
        if (v[0] >= 1e299) rc = -1;
        sc.seqs = (int64_t)v[0]; sc.seqs_right = (int64_t)v[1]; sc.toks = (int64_t)v[2]; sc.toks_right = (int64_t)v[3];
        lsum = v[4];
        lcnt = (int64_t)v[5];
    }
    if (!rc) {
        if (seq_acc) *seq_acc = sc.seqs ? (double)sc.seqs_right / (double)sc.seqs : 0;
        if (tok_acc) *tok_acc = sc.toks ? (double)sc.toks_right / (double)sc.toks : 0;
        if (loss) *loss = lcnt ? lsum / (double)lcnt : 0;
    }
    free(tok); free(tgt); free(pos); free(pred); free(rl);
    if (nr > 0) model_acts_free(&a);
    return rc;
}

int eval_loss_by_position(model *m, const corpus_t *c, int T_eval, int max_docs, int chunk, double *sum, int64_t *cnt) {
    return eval_loss_by_position_dp(m, c, T_eval, max_docs, chunk, NULL, sum, cnt);
}

int eval_loss_by_position_dp(model *m, const corpus_t *c, int T_eval, int max_docs, int chunk, dp_state *dp, double *sum_out,
                             int64_t *cnt_out) {
    if (chunk <= 0 || chunk > T_eval) chunk = T_eval;
    const int N = dp ? dp->size : 1, me = dp ? dp->rank : 0;
    /* ranks sum their windows apart and then in rank order; one process adds in place */
    double *sum = sum_out;
    int64_t *cnt = cnt_out;
    if (N > 1) {
        sum = calloc((size_t)T_eval, sizeof(double));
        cnt = calloc((size_t)T_eval, sizeof(int64_t));
        CHECK_ALLOC(sum); CHECK_ALLOC(cnt);
    }
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
            if (used % N != me) { used++; continue; } /* another rank's window */
            corpus_read(c, d, off, T_eval, tok, tgt, pos);
            for (int t = 0; t < T_eval; t++) pos[t] = t;
            decode_state_reset(&st, m, -1);
            const float *pl;
            if (model_forward(m, &a, tok, pos, chunk < T_eval ? &st : NULL) != 0 || !(pl = model_acts_logits(&a))) { rc = -1; break; }
            xent_forward(rl, pl, tgt, chunk, V);
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
    if (N > 1) {
        /* the counts travel as doubles (exact below 2^53); a failure on any rank fails every rank */
        double *v = malloc(((size_t)2 * T_eval + 1) * sizeof(double));
        CHECK_ALLOC(v);
        for (int t = 0; t < T_eval; t++) { v[t] = sum[t]; v[T_eval + t] = (double)cnt[t]; }
        v[2 * T_eval] = rc ? 1 : 0;
        comm_allreduce_f64(dp->c, v, (size_t)2 * T_eval + 1);
        for (int t = 0; t < T_eval; t++) { sum_out[t] += v[t]; cnt_out[t] += (int64_t)v[T_eval + t]; }
        rc = v[2 * T_eval] > 0;
        free(v); free(sum); free(cnt);
    }
    return rc ? -1 : used;
}

double eval_source_loss(model *m, batch_source *src, int B, int T, int nbatches) {
    return eval_source_loss_dp(m, src, B, T, nbatches, NULL);
}

double eval_source_loss_dp(model *m, batch_source *src, int B, int T, int nbatches, dp_state *dp) {
    int r0 = 0, nr = B;
    if (dp) dp_shard(B, dp->rank, dp->size, &r0, &nr);
    model_acts a;
    if (nr > 0 && model_acts_alloc(&a, m, nr, T, 0) != 0) return NAN;
    size_t n = (size_t)B * T, o = (size_t)r0 * T;
    int32_t *tok = malloc(n * 4), *tgt = malloc(n * 4), *pos = malloc(n * 4);
    float *rl = malloc(n * sizeof(float));
    CHECK_ALLOC(tok); CHECK_ALLOC(tgt); CHECK_ALLOC(pos); CHECK_ALLOC(rl);
    /* per-token losses summed in float64 (one process: in token order;
     * ranks: each its rows, then the ranks in order) */
    double v[2] = {0, 0};
    for (int i = 0; i < nbatches; i++) {
        source_next(src, B, T, tok, tgt, pos); /* drawn on every rank: the same stream */
        if (nr == 0) continue;
        if (model_forward(m, &a, tok + o, pos + o, NULL) != 0) { v[0] = NAN; break; }
        int c;
        model_loss(m, &a, tgt + o, rl, &c);
        for (size_t j = 0; j < (size_t)nr * T; j++)
            if (tgt[o + j] >= 0) v[0] += rl[j];
        v[1] += c;
    }
    if (dp) comm_allreduce_f64(dp->c, v, 2);
    free(tok); free(tgt); free(pos); free(rl);
    if (nr > 0) model_acts_free(&a);
    return v[1] > 0 ? v[0] / v[1] : NAN;
}
