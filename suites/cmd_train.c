/* cmd_train.c — `griffin train` and `griffin eval`.
 *
 *   griffin train --preset small-hawk --task text --seq 256 --batch 8 --steps 500 --o hawk.safetensors
 *   griffin train --preset synth-griffin --task selective-copy --seq 256 --steps 2000 --o sc.safetensors
 *   griffin train --resume sc.safetensors --steps 3000 ...
 *   griffin eval --m sc.safetensors --task selective-copy --lengths 256,512
 *   griffin eval --m hawk.safetensors --task text --lengths 2048
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "comm.h"
#include "commands.h"
#include "modelargs.h"
#include "store.h"
#include "trainer.h"
#include "util.h"

static volatile sig_atomic_t g_stop;
static void on_sigint(int sig) { (void)sig; g_stop = 1; }

static int parse_lengths(const char *s, int *out, int max) {
    int n = 0;
    const char *p = s;
    while (*p && n < max) {
        char *e;
        long v = strtol(p, &e, 10);
        if (e == p || v < 1 || v > (1 << 24)) return -1;
        out[n++] = (int)v;
        p = e;
        if (*p == ',') p++;
        else if (*p) return -1;
    }
    return n;
}

static void fmt_eta(char *b, size_t n, double s) {
    if (s < 0 || !isfinite(s)) snprintf(b, n, "?");
    else if (s < 90) snprintf(b, n, "%.0fs", s);
    else if (s < 5400) snprintf(b, n, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
    else snprintf(b, n, "%.0fh%02.0fm", floor(s / 3600), fmod(s / 60, 60));
}

/* On resume: keep the CSV's header and its rows up to the resumed step (a
 * killed run may have logged steps past its last checkpoint, and a last line
 * cut in the middle), rewritten atomically. 0, or -1 with the error. */
static int csv_keep_until(const char *path, long long step) {
    FILE *f = fopen(path, "r");
    if (!f) return 0; /* none yet: a new one is started */
    char *out = NULL, line[1024];
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    CHECK_ALLOC(m);
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        if (n == 0 || line[n - 1] != '\n') break; /* a cut (or absurdly long) line ends the log */
        if (first || atoll(line) <= step) fputs(line, m);
        first = 0;
    }
    fclose(f);
    fclose(m);
    int rc = util_write_file_atomic(path, out, len);
    free(out);
    return rc;
}

/* Optional results store: opened only when SQLite is built and the path is usable. */
static store *open_store(const char *db, int disabled) {
    if (disabled) return NULL;
    store *s = NULL;
    if (store_open(&s, db) != 0) {
        fprintf(stderr, "warning: results store not used (%s); writing CSV only\n", util_last_error());
        return NULL;
    }
    return s;
}

/* ---- data parallel (mpirun -np N griffin train ...) --------------------------- */

/* Per-step times of a data-parallel run (rank 0's view), for the store. */
typedef struct {
    double *v[5];
    int n, cap;
} dp_log;
static const char *const DP_METRICS[5] = {"step_s", "compute_s", "allreduce_s", "wait_s", "exposed_s"};

static void dp_log_add(dp_log *l, const trainer *t) {
    if (l->n >= l->cap) return;
    const dp_times *d = t->dp ? &t->dp->last : NULL;
    /* one process (--comm local): the step time only */
    double x[5] = {t->step_seconds, d ? d->compute_s : NAN, d ? d->reduce_s : NAN, d ? d->wait_s : NAN, d ? d->exposed_s : NAN};
    for (int k = 0; k < 5; k++) l->v[k][l->n] = x[k];
    l->n++;
}

/* The time split (first step left out: warm-up), gradient bytes and the
 * measured all-reduce cost per byte moved (ring: 2(N-1)/N of the bytes). */
static int dp_log_store(const dp_log *l, const trainer *t, store *db, store_id run, store_id cs) {
    if (l->n < 2) return 0;
    for (int k = 0; k < (t->dp ? 5 : 1); k++)
        if (store_result_samples(db, run, cs, DP_METRICS[k], "s", STORE_LOWER, l->v[k] + 1, l->n - 1) != 0) return -1;
    int N = t->dp ? t->dp->size : 1;
    double bytes = (double)t->m->nparams * sizeof(float), moved = N > 1 ? 2.0 * (N - 1) / N * bytes : 0;
    if (store_result_samples(db, run, cs, "grad_bytes", "bytes", STORE_DETERMINISTIC, &bytes, 1) != 0) return -1;
    if (!t->dp || t->dp->overlap || moved <= 0) return 0;
    double *per = malloc((size_t)l->n * sizeof(double));
    CHECK_ALLOC(per);
    for (int i = 1; i < l->n; i++) per[i - 1] = l->v[2][i] / moved;
    int rc = store_result_samples(db, run, cs, "allreduce_s_per_byte", "s/byte", STORE_LOWER, per, l->n - 1);
    free(per);
    return rc;
}

/* Only rank 0 writes checkpoints; a failed save ends every rank. */
static int dp_save(const trainer *t, const char *out, comm *cm) {
    if (comm_rank(cm) != 0) return 0;
    if (trainer_save(t, out) == 0) return 0;
    if (comm_size(cm) > 1) comm_abort(cm, 1, "%s", util_last_error());
    return -1;
}

int cmd_train(int argc, char **argv) {
    model_args ma = {0};
    const char *task = "text", *corpus = "data/corpus", *out = NULL, *resume = NULL, *init = NULL, *db = NULL, *lengths = NULL;
    int T = 256, B = 8, ckpt_every = 0, eval_every = 0, eval_n = 256, log_every = 0, no_db = 0, quiet = 0;
    int task_tokens = 0, tvocab = 0;
    long long steps = 200, seed = 0, stop_at = 0;
    const char *comm_kind_s = "auto";
    double comm_timeout = 300, bucket_mb = 4;
    double lr = 3e-3, wd = 0.1, clip = 1.0, beta2 = 0.95, min_ratio = 0.1;
    int warmup = -1;
    flag_def defs[] = {
        MODELARGS_SHAPE_FLAGS(&ma),
        MODELARGS_CKPT_FLAGS(&ma),
        MODELARGS_RUN_FLAGS(&ma),
        {"init", FLAG_STR, &init, NULL, "start from this checkpoint instead of a fresh init"},
        {"resume", FLAG_STR, &resume, NULL, "continue a run: checkpoint + its .train state"},
        {"task", FLAG_STR, &task, "text", "text, selective-copy, induction, mqar or phonebook"},
        {"corpus", FLAG_STR, &corpus, "data/corpus", "corpus folder for --task text (scripts/get-corpus.sh)"},
        {"task-tokens", FLAG_INT, &task_tokens, "0", "task size: copy tokens / MQAR pairs / phonebook entries (0 = default)", "[0,1048576]"},
        {"task-vocab", FLAG_INT, &tvocab, "0", "task vocabulary (0 = the task's default)", "[0,1048576]"},
        {"seq", FLAG_INT, &T, "256", "sequence length T", "[2,16777216]"},
        {"batch", FLAG_INT, &B, "8", "batch size B", "[1,1048576]"},
        {"steps", FLAG_LONG, &steps, "200", "total optimizer steps", "[1,2147483647]"},
        {"lr", FLAG_FLOAT, &lr, "3e-3", "peak learning rate", "(0,1000]"},
        {"warmup", FLAG_INT, &warmup, "-1", "warm-up steps (-1 = 5% of steps)", "[-1,2147483647]"},
        {"min-lr-ratio", FLAG_FLOAT, &min_ratio, "0.1", "final lr as a fraction of the peak (cosine)", "[0,1]"},
        {"wd", FLAG_FLOAT, &wd, "0.1", "AdamW weight decay (weights and embedding only)", "[0,1000]"},
        {"beta2", FLAG_FLOAT, &beta2, "0.95", "AdamW beta2", "[0,1)"},
        {"clip", FLAG_FLOAT, &clip, "1.0", "global gradient-norm clip (0 = off)", "[0,1e12]"},
        {"seed", FLAG_LONG, &seed, "0", "seed for init and data"},
        {"o", FLAG_STR, &out, NULL, "output checkpoint (required; .train holds optimizer state)"},
        {"stop-at", FLAG_LONG, &stop_at, "0", "stop and save after this step, keeping the --steps schedule (0 = off)", "[0,2147483647]"},
        {"ckpt-every", FLAG_INT, &ckpt_every, "0", "also checkpoint every K steps (0 = only at the end)", "[0,2147483647]"},
        {"eval-every", FLAG_INT, &eval_every, "0", "evaluate every K steps (0 = only at the end)", "[0,2147483647]"},
        {"eval-n", FLAG_INT, &eval_n, "256", "held-out sequences per evaluation (tasks)", "[1,16777216]"},
        {"lengths", FLAG_STR, &lengths, NULL, "also evaluate at these lengths at the end (tasks)"},
        {"log-every", FLAG_INT, &log_every, "0", "plain progress line every K steps (0 = auto)", "[0,2147483647]"},
        {"db", FLAG_STR, &db, NULL, "results database (default results/griffin.sqlite or $GRIFFIN_DB)"},
        {"no-db", FLAG_BOOL, &no_db, "0", "do not record into the results database"},
        {"quiet", FLAG_BOOL, &quiet, "0", "no progress output"},
        {"comm", FLAG_STR, &comm_kind_s, "auto", "ranks: auto (mpi under mpirun/srun), local, mpi, nccl"},
        {"comm-timeout", FLAG_FLOAT, &comm_timeout, "300", "seconds a rank waits for another before the job is aborted", "(0,1e6]"},
        {"bucket-mb", FLAG_FLOAT, &bucket_mb, "4", "all-reduce bucket, MiB, overlapped with the backward (0 = one all-reduce after it)", "[0,65536]"},
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 0, &np,
                             "[mpirun -np N] griffin train --preset P | --family F [shape flags] --task T --seq T --batch B --steps N --o CKPT",
                             "Train a model with AdamW on the byte corpus or a synthetic task. Checkpoints are\n"
                             "safetensors (the model) plus CKPT.train (optimizer state, step, data position);\n"
                             "--resume continues bit for bit. Ctrl-C saves and stops. A NaN/inf loss stops with\n"
                             "an error naming the step and keeps the last good checkpoint. Records the loss curve,\n"
                             "evaluations and tokens/s in the results database and in CKPT.csv.\n"
                             "Under mpirun/srun each rank trains on its share of the global --batch and the\n"
                             "gradients are averaged (README: data-parallel training); rank 0 writes.");
    if (rc >= 0) return rc;
    if (!out) { fprintf(stderr, "error: --o CKPT is required\n"); return 2; }
    if (T < 2 || B < 1 || steps < 1) { fprintf(stderr, "error: need --seq >= 2, --batch >= 1, --steps >= 1\n"); return 2; }
    int is_text = !strcmp(task, "text");
    task_kind tk = is_text ? TASK_UNKNOWN : task_from_name(task);
    if (!is_text && tk == TASK_UNKNOWN) { fprintf(stderr, "error: unknown --task '%s' (text, selective-copy, induction, mqar, phonebook)\n", task); return 2; }
    task_params tp;
    if (!is_text) {
        task_params_default(tk, &tp);
        if (task_tokens > 0) tp.n_tokens = task_tokens;
        if (tvocab > 0) tp.vocab = tvocab;
        if (task_check(tk, &tp, T) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 2; }
    }
    /* ranks */
    comm *cm = NULL;
    comm_options co = {comm_kind_s, comm_timeout, bucket_mb > 0};
    if (comm_open(&cm, &co) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 2; }
    const int rank = comm_rank(cm), nranks = comm_size(cm), multi = comm_type(cm) != COMM_LOCAL;
    const int dp_record = multi || strcmp(comm_kind_s, "auto") != 0;
    if (rank != 0) { quiet = 1; no_db = 1; }
    if (B < nranks) {
        if (rank == 0) fprintf(stderr, "error: --batch %d is the global batch: it needs at least one row per rank (%d ranks)\n", B, nranks);
        comm_close(cm);
        return 2;
    }
    dp_state dps, *dp = NULL;
    if (multi) {
        if (!quiet) {
            fprintf(stderr, "data parallel: %d ranks over %s; global batch %d = %d rows per rank", nranks, comm_name(cm), B, B / nranks);
            if (B % nranks) fprintf(stderr, " (+1 on ranks 0..%d: uneven, each step waits for the larger shards)", B % nranks - 1);
            fprintf(stderr, "\n");
        }
    }
    /* the model */
    model m;
    if (resume || init) {
        ckpt_overrides ov;
        modelargs_overrides(&ma, &ov);
        if (ckpt_load(&m, resume ? resume : init, &ov) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
    } else {
        model_config c;
        if (!is_text && ma.vocab <= 0) ma.vocab = task_vocab(tk, &tp);
        if (modelargs_config(&ma, &c) != 0) return 2;
        if (model_create(&m, &c) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
        model_init_weights(&m, (uint64_t)seed);
    }
    if (modelargs_apply(&ma, &m) != 0) { model_free(&m); return 2; }
    int need_vocab = is_text ? 256 : task_vocab(tk, &tp);
    if (m.cfg.vocab < need_vocab) {
        fprintf(stderr, "error: the model's vocabulary (%d) is smaller than the task's (%d)\n", m.cfg.vocab, need_vocab);
        model_free(&m);
        return 2;
    }
    batch_source src, evsrc;
    if (is_text) {
        if (source_init_text(&src, corpus, "train", (uint64_t)seed) != 0) {
            fprintf(stderr, "error: %s\n  (fetch the corpus with: bash scripts/get-corpus.sh)\n", util_last_error());
            model_free(&m);
            return 1;
        }
        if (source_init_text(&evsrc, corpus, "heldout", (uint64_t)seed + 1) != 0) {
            fprintf(stderr, "warning: no held-out split (%s); evaluating on training text\n", util_last_error());
            source_init_text(&evsrc, corpus, "train", (uint64_t)seed + 1);
        }
    } else {
        source_init_task(&src, tk, &tp, (uint64_t)seed);
    }
    adamw_config oc;
    adamw_defaults(&oc);
    oc.lr = lr;
    oc.wd = wd;
    oc.clip = clip;
    oc.beta2 = beta2;
    oc.lr_min_ratio = min_ratio;
    oc.total = (int)steps;
    oc.warmup = warmup >= 0 ? warmup : (int)(steps / 20);
    if (multi) {
        if (dp_init(&dps, cm, m.nparams, (size_t)(bucket_mb * (1 << 20))) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
        dp = &dps;
        if (!quiet && bucket_mb > 0 && !dp->overlap)
            fprintf(stderr, "note: the MPI library gives no MPI_THREAD_SERIALIZED: all-reduce after the backward (no overlap)\n");
    }
    trainer tr;
    if (trainer_init_dp(&tr, &m, &src, B, T, &oc, dp) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
    if (resume && rank == 0) { /* the other ranks take rank 0's state in trainer_sync */
        if (trainer_resume(&tr, resume) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
        tr.opt.cfg.total = (int)steps > tr.opt.cfg.total ? (int)steps : tr.opt.cfg.total;
        if (!quiet) fprintf(stderr, "resumed %s at step %lld\n", resume, (long long)tr.step);
    }
    trainer_sync(&tr);
    /* records */
    store *db_ = open_store(db, no_db);
    store_id run = 0, cs = 0;
    if (db_) {
        char params[640], dpp[128] = "";
        if (dp_record) /* data-parallel runs: ranks, threads per rank, bucket */
            snprintf(dpp, sizeof dpp, ",\"ranks\":%d,\"threads\":%d,\"bucket_mb\":%g,\"comm\":\"%s\"", nranks, util_threads(), bucket_mb,
                     comm_type(cm) == COMM_NCCL ? "nccl" : multi ? "mpi" : "local");
        snprintf(params, sizeof params, "{\"model\":\"%s\",\"family\":\"%s\",\"pattern\":\"%s\",\"task\":\"%s\",\"T\":%d,\"B\":%d,\"steps\":%lld,\"lr\":%g,\"seed\":%lld%s}",
                 m.cfg.name, family_name(m.cfg.family), m.cfg.pattern, task, T, B, steps, lr, seed, dpp);
        if (store_run_begin(db_, "train", m.cfg.name, argc, argv, (unsigned long long)seed, &run) != 0 ||
            store_case(db_, "train", "train", params, &cs) != 0) {
            fprintf(stderr, "warning: results store: %s\n", util_last_error());
            store_close(db_);
            db_ = NULL;
        }
    }
    char csvp[4096];
    snprintf(csvp, sizeof csvp, "%s.csv", out);
    if (resume && rank == 0 && csv_keep_until(csvp, (long long)tr.step) != 0) fprintf(stderr, "warning: %s\n", util_last_error());
    FILE *csv = rank == 0 ? fopen(csvp, resume ? "a" : "w") : NULL;
    if (!csv && rank == 0) fprintf(stderr, "warning: %s: %s (no CSV log)\n", csvp, strerror(errno));
    if (csv && !resume) fprintf(csv, "step,loss,lr,grad_norm,tokens_per_s,eval_metric,eval_value\n");
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    int tty = isatty(2) && !quiet;
    if (log_every <= 0) log_every = steps >= 20 ? (int)(steps / 20) : 1;
    int64_t cap = steps - tr.step;
    if (cap < 0) cap = 0;
    double *xs = malloc((size_t)(cap + 1) * sizeof(double)), *ys = malloc((size_t)(cap + 1) * sizeof(double));
    double *ex = malloc(1024 * sizeof(double)), *ey = malloc(1024 * sizeof(double));
    dp_log dl = {.cap = dp_record ? (int)cap + 1 : 0};
    for (int k = 0; k < 5; k++) { dl.v[k] = malloc((size_t)(dl.cap + 1) * sizeof(double)); CHECK_ALLOC(dl.v[k]); }
    int nx = 0, ne = 0;
    double t_start = util_now(), tok_time = 0;
    int64_t tok_count = 0, first = tr.step;
    rc = 0;
    while (tr.step < steps) {
        if (dp) dp->stop_local = g_stop;
        if (trainer_step(&tr) != 0) {
            if (multi) comm_abort(cm, 1, "%s (the last good checkpoint is %s)", util_last_error(), out);
            fprintf(stderr, "%serror: %s\n", tty ? "\n" : "", util_last_error());
            fprintf(stderr, "the last good checkpoint is %s%s\n", out, access(out, F_OK) == 0 ? "" : " (none written yet)");
            rc = 1;
            break;
        }
        if (dp) g_stop = dp->stop_any; /* a stop on any rank stops all, at the same step */
        dp_log_add(&dl, &tr);
        tok_time += tr.step_seconds;
        tok_count += (int64_t)B * T;
        double tps = tok_count / (tok_time > 0 ? tok_time : 1e-9);
        xs[nx] = (double)tr.step;
        ys[nx++] = tr.last_loss;
        if (csv) fprintf(csv, "%lld,%.6f,%.6g,%.4f,%.1f,,\n", (long long)tr.step, tr.last_loss, tr.opt.last_lr, tr.opt.last_norm, tps);
        double eta = (double)(steps - tr.step) * (util_now() - t_start) / (double)(tr.step - first);
        char etas[32];
        fmt_eta(etas, sizeof etas, eta);
        if (tty) fprintf(stderr, "\rstep %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  ETA %s   ", (long long)tr.step, steps, tr.last_loss, tr.opt.last_lr, tps, etas);
        else if (!quiet && (tr.step % log_every == 0 || tr.step == steps))
            fprintf(stderr, "step %lld/%lld loss %.4f lr %.2e %.0f tok/s ETA %s\n", (long long)tr.step, steps, tr.last_loss, tr.opt.last_lr, tps, etas);
        int do_eval = (eval_every > 0 && tr.step % eval_every == 0) || tr.step == steps;
        if (do_eval && !g_stop) {
            double v, vt = NAN;
            const char *metric;
            if (is_text) { v = eval_source_loss_dp(&m, &evsrc, B, T, 4, dp); metric = "heldout_loss"; }
            else { eval_task_dp(&m, tk, &tp, T, eval_n, B, (uint64_t)seed + 1000003, dp, &v, &vt, NULL); metric = "heldout_accuracy"; }
            if (ne < 1024) { ex[ne] = (double)tr.step; ey[ne++] = v; }
            if (csv) fprintf(csv, "%lld,,,,,%s,%.6f\n", (long long)tr.step, metric, v);
            if (csv && !isnan(vt)) fprintf(csv, "%lld,,,,,heldout_token_accuracy,%.6f\n", (long long)tr.step, vt);
            if (!quiet) {
                /* sequence accuracy is exact match over all scored tokens of a sequence */
                if (isnan(vt)) fprintf(stderr, "%sstep %lld: %s %.4f\n", tty ? "\n" : "", (long long)tr.step, metric, v);
                else fprintf(stderr, "%sstep %lld: %s %.4f (sequences exact), %.4f (tokens)\n", tty ? "\n" : "", (long long)tr.step, metric, v, vt);
            }
        }
        if ((ckpt_every > 0 && tr.step % ckpt_every == 0) || g_stop) {
            if (dp_save(&tr, out, cm) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); rc = 1; break; }
        }
        if (stop_at > 0 && tr.step >= stop_at && tr.step < steps) {
            if (dp_save(&tr, out, cm) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); rc = 1; }
            else if (!quiet) fprintf(stderr, "stopped at step %lld as asked: saved %s\n", (long long)tr.step, out);
            break;
        }
        if (g_stop) {
            fprintf(stderr, "%sinterrupted at step %lld: saved %s (continue with --resume %s)\n", tty ? "\n" : "", (long long)tr.step, out, out);
            rc = 130;
            break;
        }
    }
    if (tty) fprintf(stderr, "\n");
    if (rc == 0) {
        if (dp_save(&tr, out, cm) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); rc = 1; }
        else if (!quiet) fprintf(stderr, "saved %s (step %lld, %.0f tokens/s)\n", out, (long long)tr.step, tok_count / (tok_time > 0 ? tok_time : 1));
    }
    if (rc == 0 && lengths && !is_text) {
        int L[64];
        int nl = parse_lengths(lengths, L, 64);
        double *la = malloc(64 * sizeof(double)), *lx = malloc(64 * sizeof(double));
        int nk = 0;
        for (int i = 0; i < nl; i++) {
            double acc;
            if (eval_task_dp(&m, tk, &tp, L[i], eval_n, B, (uint64_t)seed + 2000003, dp, &acc, NULL, NULL) != 0) {
                fprintf(stderr, "eval at %d: %s\n", L[i], util_last_error());
                continue;
            }
            if (rank == 0) printf("length %6d  accuracy %.4f\n", L[i], acc);
            lx[nk] = L[i];
            la[nk++] = acc;
        }
        if (db_ && nk) store_curve(db_, run, cs, "accuracy_by_length", m.cfg.name, lx, la, nk);
        free(la); free(lx);
    }
    if (db_) {
        double tps = tok_count / (tok_time > 0 ? tok_time : 1e-9);
        /* a refused write (full disk) fails the command; the checkpoint stays */
        int bad = (nx && store_curve(db_, run, cs, "train_loss", m.cfg.name, xs, ys, nx) != 0) ||
                  (ne && store_curve(db_, run, cs, is_text ? "heldout_loss" : "heldout_accuracy", m.cfg.name, ex, ey, ne) != 0) ||
                  store_result_samples(db_, run, cs, "tokens_per_s", "tokens/s", STORE_HIGHER, &tps, 1) != 0 ||
                  (nx && store_result_samples(db_, run, cs, "final_loss", "nats", STORE_LOWER | STORE_DETERMINISTIC, &ys[nx - 1], 1) != 0) ||
                  dp_log_store(&dl, &tr, db_, run, cs) != 0;
        if (bad) fprintf(stderr, "error: results store: %s\n", util_last_error());
        if (store_run_end(db_, run, rc == 0 && !bad ? "ok" : rc == 130 ? "interrupted" : "failed") != 0) {
            fprintf(stderr, "error: results store: %s\n", util_last_error());
            bad = 1;
        }
        if (bad && rc == 0) rc = 1;
        store_close(db_);
    }
    if (csv) {
        int bad = util_stream_check(csv, csvp) != 0; /* a full disk: say so, exit 1 */
        if (fclose(csv) != 0 && !bad) { util_error("%s: close: %s", csvp, strerror(errno)); bad = 1; }
        if (bad) {
            fprintf(stderr, "error: %s\n", util_last_error());
            if (rc == 0) rc = 1;
        }
    }
    free(xs); free(ys); free(ex); free(ey);
    for (int k = 0; k < 5; k++) free(dl.v[k]);
    trainer_free(&tr);
    if (dp) dp_free(dp);
    comm_close(cm);
    source_free(&src);
    if (is_text) source_free(&evsrc);
    model_free(&m);
    return rc;
}

int cmd_eval(int argc, char **argv) {
    model_args ma = {0};
    const char *path = NULL, *task = NULL, *lengths = NULL, *corpus = "data/corpus", *split = "heldout";
    int n = 256, B = 8, task_tokens = 0, tvocab = 0, chunk = 8192, docs = 16, buckets = 64;
    long long seed = 0;
    flag_def defs[] = {
        {"m", FLAG_STR, &path, NULL, "checkpoint"},
        {"task", FLAG_STR, &task, NULL, "text, selective-copy, induction, mqar or phonebook"},
        {"lengths", FLAG_STR, &lengths, NULL, "comma-separated evaluation lengths"},
        {"n", FLAG_INT, &n, "256", "sequences per length (tasks)", "[1,16777216]"},
        {"batch", FLAG_INT, &B, "8", "batch size", "[1,1048576]"},
        {"task-tokens", FLAG_INT, &task_tokens, "0", "task size (as in train)", "[0,1048576]"},
        {"task-vocab", FLAG_INT, &tvocab, "0", "task vocabulary (as in train)", "[0,1048576]"},
        {"corpus", FLAG_STR, &corpus, "data/corpus", "corpus folder (text)"},
        {"split", FLAG_STR, &split, "heldout", "corpus split (text; empty: every split)", ""},
        {"docs", FLAG_INT, &docs, "16", "windows of --lengths bytes from the documents (text)", "[1,16777216]"},
        {"chunk", FLAG_INT, &chunk, "8192", "longest single prefill; longer documents continue by decode (text)", "[1,16777216]"},
        {"buckets", FLAG_INT, &buckets, "64", "log-spaced position buckets printed (text)", "[1,65536]"},
        {"seed", FLAG_LONG, &seed, "0", "seed"},
        MODELARGS_CKPT_FLAGS(&ma),
        MODELARGS_RUN_FLAGS(&ma),
        {NULL}};
    char *pos[1];
    int np, rc = flags_parse(defs, argc, argv, pos, 0, &np, "griffin eval --m CKPT --task T [--lengths 256,512,...]",
                             "Synthetic tasks: exact-match accuracy per length. Text: next-token loss by position\n"
                             "(float64 sums, log-spaced buckets) on held-out documents at least that long.");
    if (rc >= 0) return rc;
    if (!path || !task || !lengths) { fprintf(stderr, "error: --m, --task and --lengths are required\n"); return 2; }
    rc = 0;
    int L[64];
    int nl = parse_lengths(lengths, L, 64);
    if (nl <= 0) { fprintf(stderr, "error: bad --lengths '%s'\n", lengths); return 2; }
    model m;
    ckpt_overrides ov;
    modelargs_overrides(&ma, &ov);
    if (ckpt_load(&m, path, &ov) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); return 1; }
    if (modelargs_apply(&ma, &m) != 0) { model_free(&m); return 2; }
    if (!strcmp(task, "text")) {
        corpus_t c;
        if (corpus_load(&c, corpus, split) != 0) { fprintf(stderr, "error: %s\n", util_last_error()); model_free(&m); return 1; }
        for (int i = 0; i < nl; i++) {
            double *sum = calloc((size_t)L[i], sizeof(double));
            int64_t *cnt = calloc((size_t)L[i], sizeof(int64_t));
            int used = eval_loss_by_position(&m, &c, L[i], docs, chunk, sum, cnt);
            if (used <= 0) { fprintf(stderr, "error: no %s document of %d bytes or more\n", split, L[i]); rc = 1; }
            else {
                printf("length %d: %d windows\n%10s %10s %8s\n", L[i], used, "from", "to", "loss");
                double lo = 1;
                for (int k = 0; k < buckets; k++) {
                    double hi = exp(log((double)L[i]) * (k + 1) / buckets);
                    if (hi <= lo && k + 1 < buckets) continue;
                    double s = 0;
                    int64_t n2 = 0;
                    for (int t = (int)lo - 1; t < (int)hi && t < L[i]; t++) { s += sum[t]; n2 += cnt[t]; }
                    if (n2) printf("%10d %10d %8.4f\n", (int)lo, (int)hi, s / n2);
                    lo = floor(hi) + 1;
                }
            }
            free(sum); free(cnt);
        }
        corpus_free(&c);
    } else {
        task_kind tk = task_from_name(task);
        if (tk == TASK_UNKNOWN) { fprintf(stderr, "error: unknown --task '%s'\n", task); model_free(&m); return 2; }
        task_params tp;
        task_params_default(tk, &tp);
        if (task_tokens > 0) tp.n_tokens = task_tokens;
        if (tvocab > 0) tp.vocab = tvocab;
        printf("%8s %10s %10s %8s\n", "length", "seq_acc", "tok_acc", "loss");
        for (int i = 0; i < nl; i++) {
            double sa, ta, lo;
            if (eval_task(&m, tk, &tp, L[i], n, B, (uint64_t)seed + 2000003, &sa, &ta, &lo) != 0) {
                fprintf(stderr, "error at length %d: %s\n", L[i], util_last_error());
                rc = 1;
                continue;
            }
            printf("%8d %10.4f %10.4f %8.4f\n", L[i], sa, ta, lo);
        }
    }
    model_free(&m);
    return rc;
}
