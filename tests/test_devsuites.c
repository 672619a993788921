/* test_devsuites.c — longctx and copyret on a device, checked without one:
 * the recording fake device (tests/fake_backend.h: the cpu's kernels
 * behind wrappers, host_memory = 0, its memory protected between calls so
 * that host code reading device memory as host memory is caught) against
 * the cpu with the same seeds.
 *  - The trainer and the evaluations the two suites use, at a tiny size:
 *    training losses step by step, a checkpoint at step 4 resumed (on the
 *    same backend: the same losses bit for bit; against the cpu within
 *    the tolerance), eval_task (sequence and token accuracy as counts:
 *    equal; loss within the tolerance) with a short last batch,
 *    eval_loss_by_position with prefill + decode (sums within the
 *    tolerance, counts equal), eval_source_loss; no host access to device
 *    memory; eval's traffic: one logits download per batch.
 *  - The oracle fails a broken device path: a table that claims its
 *    memory is host memory (so eval reads device logits as host memory:
 *    caught by the protection), and one whose download moves half the
 *    bytes (caught by the comparison).
 *  - The suites themselves at smoke scale (suite_longctx, suite_copyret)
 *    on the fake and on the cpu, into one results store: every stored
 *    result of the fake run matches the cpu's (losses within the
 *    tolerance, accuracy counts equal), the fake's cases carry
 *    "device":"fake", and the claims' verdicts and measurements are equal.
 * Tolerance: |a - b| <= 1e-4 max(1, |b|) for losses (the fake runs the
 * cpu's kernels, so it is in fact exact; a real device is held to 1e-2 by
 * scripts/gpu-check.sh). Smoke longctx needs /usr/share/common-licenses
 * (skipped with the reason without it).
 * Run: build/tests/test_devsuites
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "matmul.h"
#include "fake_backend.h"
#include "store.h"
#include "suite.h"
#include "test.h"
#include "trainer.h"
#include "util.h"

#ifdef HAVE_SQLITE
#include <sqlite3.h>
#endif

#define OK(call) TEST_CHECK((call) == 0, "%s: %s", #call, util_last_error())
#define LOSS_TOL 1e-4
#define LICENSES "/usr/share/common-licenses"

static int close_enough(double a, double b) { return fabs(a - b) <= LOSS_TOL * fmax(1.0, fabs(b)); }

enum { STEPS = 8, SAVE_AT = 4, TB = 4, TT = 32, NSEQ = 10, TEV = 48, CHUNK = 16, MAXDOCS = 3 };

/* What one path (cpu or a device) measured. */
typedef struct {
    int rc;                         /* 0, or -1 with err */
    char err[256];
    double loss[STEPS], resumed[STEPS];
    double seq, tok, eloss;
    long seqs_right, toks_right;
    double src_loss;
    double pos_sum[TEV];
    int64_t pos_cnt[TEV];
    int used;
    long eval_downloads;            /* during eval_task */
    size_t eval_down_bytes;
} path_out;

static int fail_at(path_out *o, const char *what) {
    snprintf(o->err, sizeof o->err, "%s: %s", what, util_last_error());
    o->rc = -1;
    return -1;
}

/* A model of preset (task vocabulary when task_vocab > 0) on be (NULL:
 * the cpu); with `from`, loaded from that checkpoint instead. */
static int make(model *m, const char *preset, int vocab, const backend *be, const char *from) {
    if (from) {
        ckpt_overrides ov;
        ckpt_overrides_none(&ov);
        if (ckpt_load(m, from, &ov) != 0) return -1;
    } else {
        model_config c;
        if (config_preset(preset, &c) != 0) return -1;
        if (vocab > 0) c.vocab = vocab;
        c.window = 16;
        if (config_finalize(&c) != 0 || model_create(m, &c) != 0) return -1;
        model_init_weights(m, 5);
    }
    if (be && model_set_device(m, be) != 0) { model_free(m); return -1; }
    return 0;
}

/* Train STEPS steps of selective copying (checkpoint at SAVE_AT), resume
 * that checkpoint for the rest, evaluate; then the text evaluations on a
 * second model. be NULL: the cpu. `bad` (may be NULL): the table the
 * model is switched to after its move to be (a broken device path). */
static int run_path(const backend *be, const backend *bad, const char *ckpt, const corpus_t *text, path_out *o) {
    memset(o, 0, sizeof *o);
    task_params tp;
    task_params_default(TASK_SELECTIVE_COPY, &tp);
    tp.n_tokens = 4;
    const int V = task_vocab(TASK_SELECTIVE_COPY, &tp);
    adamw_config oc;
    adamw_defaults(&oc);
    oc.lr = 3e-3;
    oc.total = STEPS;
    oc.warmup = 1;
    model m;
    if (make(&m, "synth-griffin", V, be, NULL) != 0) return fail_at(o, "model");
    if (bad) m.be = bad;
    batch_source src;
    source_init_task(&src, TASK_SELECTIVE_COPY, &tp, 11);
    trainer tr;
    if (trainer_init(&tr, &m, &src, TB, TT, &oc) != 0) { model_free(&m); return fail_at(o, "trainer_init"); }
    int rc = 0;
    for (int s = 0; s < STEPS && !rc; s++) {
        if (trainer_step(&tr) != 0) { rc = fail_at(o, "trainer_step"); break; }
        o->loss[s] = tr.last_loss;
        if (s + 1 == SAVE_AT && trainer_save(&tr, ckpt) != 0) rc = fail_at(o, "trainer_save");
    }
    trainer_free(&tr);
    if (!rc) {
        fk.n_down = 0;
        fk.down_total = 0;
        if (eval_task(&m, TASK_SELECTIVE_COPY, &tp, TT, NSEQ, TB, 99, &o->seq, &o->tok, &o->eloss) != 0) rc = fail_at(o, "eval_task");
        o->eval_downloads = fk.n_down;
        o->eval_down_bytes = fk.down_total;
        o->seqs_right = lround(o->seq * NSEQ);
        o->toks_right = lround(o->tok * NSEQ * tp.n_tokens);
    }
    source_free(&src);
    if (bad) m.be = be;
    model_free(&m);
    /* resume the step-SAVE_AT checkpoint on the same backend */
    if (!rc) {
        model r;
        batch_source s2;
        source_init_task(&s2, TASK_SELECTIVE_COPY, &tp, 11);
        if (make(&r, NULL, 0, be, ckpt) != 0) { source_free(&s2); return fail_at(o, "resume: load"); }
        if (bad) r.be = bad;
        trainer t2;
        if (trainer_init(&t2, &r, &s2, TB, TT, &oc) != 0) rc = fail_at(o, "resume: trainer_init");
        else {
            if (trainer_resume(&t2, ckpt) != 0) rc = fail_at(o, "trainer_resume");
            for (int s = SAVE_AT; s < STEPS && !rc; s++) {
                if (trainer_step(&t2) != 0) rc = fail_at(o, "resumed trainer_step");
                o->resumed[s] = t2.last_loss;
            }
            trainer_free(&t2);
        }
        source_free(&s2);
        if (bad) r.be = be;
        model_free(&r);
    }
    if (rc || !text) return rc;
    /* text: loss by position through prefill (CHUNK) + decode, and a source's loss */
    model h;
    if (make(&h, "tiny-griffin", 256, be, NULL) != 0) return fail_at(o, "text model");
    if (bad) h.be = bad;
    o->used = eval_loss_by_position(&h, text, TEV, MAXDOCS, CHUNK, o->pos_sum, o->pos_cnt);
    if (o->used <= 0) rc = fail_at(o, "eval_loss_by_position");
    batch_source ts;
    if (!rc && source_init_text(&ts, LICENSES, "", 21) == 0) {
        o->src_loss = eval_source_loss(&h, &ts, 2, TT, 2);
        source_free(&ts);
        if (!isfinite(o->src_loss)) rc = fail_at(o, "eval_source_loss");
    } else if (!rc) rc = fail_at(o, "text source");
    if (bad) h.be = be;
    model_free(&h);
    return rc;
}

/* Mismatches of a device path against the cpu's, each printed. */
static int compare(const char *name, const path_out *c, const path_out *d, int text) {
    int bad = 0;
#define MISMATCH(...) do { bad++; printf("  %s: ", name); printf(__VA_ARGS__); printf("\n"); } while (0)
    if (c->rc || d->rc) { MISMATCH("a path failed: cpu '%s', device '%s'", c->err, d->err); return bad; }
    for (int s = 0; s < STEPS; s++) {
        if (!close_enough(d->loss[s], c->loss[s])) MISMATCH("step %d loss %.9g vs cpu %.9g", s + 1, d->loss[s], c->loss[s]);
        if (s >= SAVE_AT && !close_enough(d->resumed[s], c->resumed[s]))
            MISMATCH("resumed step %d loss %.9g vs cpu %.9g", s + 1, d->resumed[s], c->resumed[s]);
    }
    if (d->seqs_right != c->seqs_right || d->toks_right != c->toks_right)
        MISMATCH("eval_task counts: %ld sequences, %ld tokens right vs cpu %ld, %ld", d->seqs_right, d->toks_right, c->seqs_right,
                 c->toks_right);
    if (!close_enough(d->eloss, c->eloss)) MISMATCH("eval_task loss %.9g vs cpu %.9g", d->eloss, c->eloss);
    if (!text) return bad;
    if (d->used != c->used) MISMATCH("eval_loss_by_position used %d windows vs cpu %d", d->used, c->used);
    int pos_bad = 0;
    for (int t = 0; t < TEV; t++)
        if (d->pos_cnt[t] != c->pos_cnt[t] || !close_enough(d->pos_sum[t], c->pos_sum[t])) pos_bad++;
    if (pos_bad) MISMATCH("eval_loss_by_position: %d of %d positions differ (e.g. last: %.9g vs %.9g)", pos_bad, TEV,
                          d->pos_sum[TEV - 1], c->pos_sum[TEV - 1]);
    if (!close_enough(d->src_loss, c->src_loss)) MISMATCH("eval_source_loss %.9g vs cpu %.9g", d->src_loss, c->src_loss);
#undef MISMATCH
    return bad;
}

/* A device whose downloads move only half the bytes: results reach the
 * host stale. */
static int half_download(void *d, const void *s, size_t n) {
    backend f = fake_backend();
    return f.download(d, s, n > 64 ? n / 2 : n);
}

static void test_trainer_eval(const corpus_t *text) {
    static backend fake, host_claim, stale;
    fake = fake_backend();
    char ckpt[64];
    snprintf(ckpt, sizeof ckpt, "/tmp/griffin_devsuites_%d.safetensors", (int)getpid());
    path_out cpu, dev, again;
    OK(run_path(NULL, NULL, ckpt, text, &cpu));
    for (int s = SAVE_AT; s < STEPS; s++)
        TEST_CHECK(cpu.resumed[s] == cpu.loss[s], "cpu: resumed step %d loss %.9g, uninterrupted %.9g (bit for bit)", s + 1,
                   cpu.resumed[s], cpu.loss[s]);
    fake_reset();
    int rc = run_path(&fake, NULL, ckpt, text, &dev);
    TEST_CHECK(rc == 0, "the fake device path runs: %s", dev.err);
    TEST_CHECK(fk.violations == 0, "the device path touched device memory from the host %ld times (first at %p)", fk.violations,
               fk.violation_addr);
    int mism = compare("fake", &cpu, &dev, text != NULL);
    TEST_CHECK(mism == 0, "fake device vs cpu: %d mismatches (above)", mism);
    for (int s = SAVE_AT; s < STEPS; s++)
        TEST_CHECK(dev.resumed[s] == dev.loss[s], "fake: resumed step %d loss %.9g, uninterrupted %.9g (bit for bit)", s + 1,
                   dev.resumed[s], dev.loss[s]);
    /* eval_task's traffic: one logits download per batch (ceil(NSEQ / TB) batches of TB x TT x V floats) */
    const long batches = (NSEQ + TB - 1) / TB;
    task_params tp;
    task_params_default(TASK_SELECTIVE_COPY, &tp);
    tp.n_tokens = 4;
    const size_t want = (size_t)batches * TB * TT * task_vocab(TASK_SELECTIVE_COPY, &tp) * sizeof(float);
    TEST_CHECK(dev.eval_downloads == batches && dev.eval_down_bytes == want,
               "eval_task on the device: %ld downloads of %zu bytes in all (want %ld, %zu: the logits once per batch)",
               dev.eval_downloads, dev.eval_down_bytes, batches, want);
    printf("eval_task traffic on the device: %ld downloads, %zu bytes (%ld batches of %dx%d logits)\n", dev.eval_downloads,
           dev.eval_down_bytes, batches, TB, TT);
    /* the same oracle on broken device paths */
    host_claim = fake;
    host_claim.host_memory = 1; /* the host reads device memory as its own */
    fake_reset();
    printf("(broken device paths next: mismatches and violations are expected)\n");
    run_path(&fake, &host_claim, ckpt, text, &again);
    long viol = fk.violations;
    mism = compare("host-reads", &cpu, &again, text != NULL);
    TEST_CHECK(viol > 0, "a device path that reads device memory as host memory is caught (%ld host accesses, %d mismatches)", viol,
               mism);
    stale = fake;
    stale.download = half_download;
    fake_reset();
    run_path(&fake, &stale, ckpt, text, &again);
    mism = compare("half-download", &cpu, &again, text != NULL);
    TEST_CHECK(mism > 0 && fk.violations == 0, "a device path whose results reach the host stale is caught (%d mismatches)", mism);
    remove(ckpt);
    char tp2[80];
    snprintf(tp2, sizeof tp2, "%s.train", ckpt);
    remove(tp2);
}

/* ---- the suites -------------------------------------------------------------- */
static volatile sig_atomic_t g_stop;

static void suite_run(suite_ctx *c, const char *suite, const backend *be, store *db, suite_fn fn) {
    memset(c, 0, sizeof *c);
    c->suite = suite;
    c->scale = SCALE_SMOKE;
    c->scale_name = "smoke";
    c->fam[0] = c->fam[1] = c->fam[2] = 1;
    c->threads = 1; /* jobs one after another on both: the same thread count in every job, so the same sums */
    c->reps = 1;
    c->seed = 1;
    c->corpus = LICENSES;
    c->quiet = 1;
    c->stop = &g_stop;
    c->be = be;
    c->db = db;
    if (db && store_run_begin(db, suite, "smoke", 0, NULL, 1, &c->run) != 0) {
        TEST_CHECK(0, "store_run_begin: %s", util_last_error());
        c->db = NULL;
    }
    double t0 = util_now();
    int rc = fn(c);
    printf("%s on %s: %.2f s\n", suite, be ? be->name : "cpu", util_now() - t0);
    TEST_CHECK(rc == 0, "%s on %s: exit %d", suite, be ? be->name : "cpu", rc);
    TEST_CHECK(c->store_errors == 0, "%s on %s: %d store errors", suite, be ? be->name : "cpu", c->store_errors);
    if (c->db) store_run_end(db, c->run, rc ? "failed" : "ok");
}

#ifdef HAVE_SQLITE
/* Every result of run d against run c: the same case (d's params with
 * "device":"fake" added), metric, value within the tolerance (counts
 * equal); timings (per_s) skipped. Returns the results compared. */
static int compare_store(store *db, store_id c, store_id d, const char *suite) {
    sqlite3 *q = store_sqlite(db);
    sqlite3_stmt *st;
    const char *sql =
        "SELECT bd.name, bd.params, rd.metric, rd.median, rd.successes, rd.trials, rc.median, rc.successes, rc.trials "
        "FROM result rd JOIN bench_case bd ON bd.id = rd.case_id "
        "LEFT JOIN bench_case bc ON bc.suite = bd.suite AND bc.name = bd.name AND bc.params = replace(bd.params, '\"device\":\"fake\",', '') "
        "LEFT JOIN result rc ON rc.case_id = bc.id AND rc.metric = rd.metric AND rc.run_id = ?2 "
        "WHERE rd.run_id = ?1 AND rd.metric NOT LIKE '%per_s'";
    if (sqlite3_prepare_v2(q, sql, -1, &st, NULL) != SQLITE_OK) {
        TEST_CHECK(0, "%s: %s", suite, sqlite3_errmsg(q));
        return 0;
    }
    sqlite3_bind_int64(st, 1, d);
    sqlite3_bind_int64(st, 2, c);
    int n = 0, bad = 0, tagged = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        n++;
        const char *name = (const char *)sqlite3_column_text(st, 0), *params = (const char *)sqlite3_column_text(st, 1),
                   *metric = (const char *)sqlite3_column_text(st, 2);
        tagged += params && strstr(params, "\"device\":\"fake\"") != NULL; /* the store sorts the keys */
        if (sqlite3_column_type(st, 6) == SQLITE_NULL && sqlite3_column_type(st, 7) == SQLITE_NULL) {
            bad++;
            printf("  %s %s %s: no cpu result to compare with\n", suite, name, metric);
            continue;
        }
        int counted = sqlite3_column_type(st, 5) != SQLITE_NULL;
        if (counted ? sqlite3_column_int64(st, 4) != sqlite3_column_int64(st, 7) || sqlite3_column_int64(st, 5) != sqlite3_column_int64(st, 8)
                    : !close_enough(sqlite3_column_double(st, 3), sqlite3_column_double(st, 6))) {
            bad++;
            printf("  %s %s %s %s: device %.9g (%lld/%lld) vs cpu %.9g (%lld/%lld)\n", suite, name, params, metric,
                   sqlite3_column_double(st, 3), (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
                   sqlite3_column_double(st, 6), (long long)sqlite3_column_int64(st, 7), (long long)sqlite3_column_int64(st, 8));
        }
    }
    sqlite3_finalize(st);
    TEST_CHECK(bad == 0, "%s: %d of %d stored results of the fake run differ from the cpu run's", suite, bad, n);
    TEST_CHECK(tagged == n, "%s: %d of %d fake results are stored under \"device\":\"fake\" params", suite, tagged, n);
    return n;
}
#endif

static void test_suites(void) {
    static backend fake;
    fake = fake_backend();
    char path[80];
    snprintf(path, sizeof path, "/tmp/griffin_devsuites_%d.db", (int)getpid());
    store *db = NULL;
#ifdef HAVE_SQLITE
    if (store_open(&db, path) != 0) {
        TEST_CHECK(0, "store_open %s: %s", path, util_last_error());
        db = NULL;
    }
#else
    TEST_SKIP("no SQLite in this build: the suites' stored results are not compared (their claims are)");
#endif
    const struct { const char *name; suite_fn fn; } suites[] = {{"longctx", suite_longctx}, {"copyret", suite_copyret}};
    for (int i = 0; i < 2; i++) {
        static suite_ctx cc, cd;
        suite_run(&cc, suites[i].name, NULL, db, suites[i].fn);
        fake_reset();
        suite_run(&cd, suites[i].name, &fake, db, suites[i].fn);
        TEST_CHECK(fk.violations == 0, "%s on the fake: %ld host accesses to device memory", suites[i].name, fk.violations);
        TEST_CHECK(cc.nclaims > 0 && cc.nclaims == cd.nclaims, "%s: %d claims on the cpu, %d on the fake", suites[i].name, cc.nclaims,
                   cd.nclaims);
        int same = 1;
        for (int k = 0; k < cc.nclaims && k < cd.nclaims; k++)
            if (strcmp(cc.claim[k].id, cd.claim[k].id) || strcmp(cc.claim[k].verdict, cd.claim[k].verdict) ||
                strcmp(cc.claim[k].measured, cd.claim[k].measured)) {
                same = 0;
                printf("  %s: cpu %s %s (%s), fake %s %s (%s)\n", suites[i].name, cc.claim[k].id, cc.claim[k].verdict, cc.claim[k].measured,
                       cd.claim[k].id, cd.claim[k].verdict, cd.claim[k].measured);
            }
        TEST_CHECK(same, "%s: the same claims, verdicts and measurements on the fake device and the cpu", suites[i].name);
#ifdef HAVE_SQLITE
        if (db && cc.db && cd.db) {
            int n = compare_store(db, cc.run, cd.run, suites[i].name);
            TEST_CHECK(n > 0, "%s: the fake run stored results (%d)", suites[i].name, n);
            printf("%s: %d stored results and %d claims agree between the fake device and the cpu\n", suites[i].name, n, cc.nclaims);
        }
#endif
    }
    if (db) store_close(db);
    remove(path);
    char side[96];
    snprintf(side, sizeof side, "%s-wal", path);
    remove(side);
    snprintf(side, sizeof side, "%s-shm", path);
    remove(side);
}

int main(void) {
    if (access(LICENSES, R_OK) != 0) return test_skip_all("no " LICENSES " (the smoke corpus of longctx)", 2);
    if (fake_protect(1) != 0) {
        TEST_CHECK(0, "fake_protect: %s", util_last_error());
        return test_summary();
    }
    util_set_threads(1); /* no idle OpenMP workers spinning while the fake changes protections */
    blas_set_threads(1);
    corpus_t text;
    if (corpus_load(&text, LICENSES, "") != 0) {
        TEST_CHECK(0, "corpus: %s", util_last_error());
        return test_summary();
    }
    test_trainer_eval(&text);
    corpus_free(&text);
    test_suites();
    return test_summary();
}
