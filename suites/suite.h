/* suite.h — what every experiment suite shares: the run context (preset
 * scale, families, threads, repetitions, the results store and the run
 * being written), recording helpers (cases, raw samples, curves, paper
 * claims with verdicts), progress output, kernel validation before timing
 * and the model configurations each scale uses.
 *
 * A suite is `int suite_NAME(suite_ctx *)` returning 0 (done), 1 (failed)
 * or 130 (stopped by Ctrl-C: finished cases are already committed).
 */
#ifndef GRIFFIN_SUITE_H
#define GRIFFIN_SUITE_H
#include <signal.h>
#include <stdint.h>

#include "busy.h"
#include "model.h"
#include "store.h"

typedef enum { SCALE_SMOKE = 0, SCALE_CPU = 1, SCALE_PAPER = 2 } suite_scale;

#define SUITE_MAX_CLAIMS 32

typedef struct {
    const char *suite;        /* "throughput", ... */
    suite_scale scale;
    const char *scale_name;   /* "smoke", "cpu", "paper" */
    int fam[3];               /* families to run: fam[FAMILY_MQA] ... */
    int threads;
    int reps;                 /* timed repetitions per case */
    uint64_t seed;
    double mem_budget;        /* bytes for decode caches (throughput) */
    const char *corpus;       /* corpus folder (longctx) */
    int quiet, tty;
    store *db;                /* may be NULL (no database) */
    store_id run;
    volatile sig_atomic_t *stop;
    int nclaims;
    char claim[SUITE_MAX_CLAIMS][3][200]; /* claim, measured, verdict */
    /* interference: the timed region bracketed by suite_time_begin/end */
    busy_mark busy_mark;
    busy_result busy;        /* of the last finished timed region */
    int store_errors;        /* writes the store refused (e.g. a full disk): the run fails */
} suite_ctx;

typedef int (*suite_fn)(suite_ctx *);
int suite_throughput(suite_ctx *c);
int suite_latency(suite_ctx *c);
int suite_longctx(suite_ctx *c);
int suite_copyret(suite_ctx *c);

/* Recording (no-ops without a database). A refused write is printed and
 * counted in c->store_errors: the suite goes on, the run ends failed. */
store_id suite_case(suite_ctx *c, const char *name, const char *params_json);
void suite_samples(suite_ctx *c, store_id cs, const char *metric, const char *unit, int flags, const double *v, int n);
/* A counted accuracy: `correct` of `total` scored items (tokens, answers,
 * sequences). Stored so that the check can judge it with a two-proportion
 * test on the counts, not as a bare fraction. */
void suite_accuracy(suite_ctx *c, store_id cs, const char *metric, long correct, long total);
void suite_curve(suite_ctx *c, store_id cs, const char *name, const char *series, const double *x, const double *y, int n);
void suite_claim(suite_ctx *c, const char *claim, const char *measured, const char *verdict);

/* Bracket every timed region (the repetitions of one case) with these:
 * suite_time_end() stores in c->busy how much of the machine other
 * processes took meanwhile, and the next suite_samples() of a timed
 * (non-deterministic) metric records it with the samples. */
void suite_time_begin(suite_ctx *c);
void suite_time_end(suite_ctx *c);

/* Progress: one rewritten line on a TTY, plain lines otherwise. */
void suite_progress(suite_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void suite_progress_done(suite_ctx *c);

/* Validate before timing: prefill logits with the model's chosen RG-LRU
 * and attention variants against the "ref" variants on a (B, T) batch of
 * the shapes about to be timed (T capped for cost). 0 ok, -1 refused. */
int suite_validate(suite_ctx *c, model *m, int B, int T);

const char *family_title(model_family f); /* "MQA", "Hawk", "Griffin" */
/* A model of width D for a family at this scale: depth, heads (head dim
 * 64 below D=512, else 128), lru_width ~ 4D/3, window W. */
void suite_model_config(model_config *cfg, model_family f, int D, int depth, int W);
double suite_median(const double *v, int n);

#endif
