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
#include "claims.h"
#include "comm.h"
#include "model.h"
#include "store.h"

typedef enum { SCALE_SMOKE = 0, SCALE_CPU = 1, SCALE_PAPER = 2 } suite_scale;

#define SUITE_MAX_CLAIMS 32

/* One judged claim, as the summary table prints it. */
typedef struct {
    char id[48], statement[400], measured[240], verdict[16], why[600];
} suite_claim_row;

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
    comm *comm;               /* `griffin run --ranks N`: the ranks the suites that train share (NULL: one process) */
    int nclaims;
    suite_claim_row claim[SUITE_MAX_CLAIMS]; /* judged in this run, for the summary */
    /* interference: the timed region bracketed by suite_time_begin/end */
    busy_mark busy_mark;
    busy_result busy;        /* of the last finished timed region */
    int store_errors;        /* writes the store refused (e.g. a full disk): the run fails */
    const backend *be;       /* --device: where the timed models run (NULL: the cpu) */
} suite_ctx;

/* ---- devices (--device cpu|cuda) -------------------------------------------
 * suite_device_open: the backend named `device` for suite `suite` in *be
 * (NULL for the cpu). 0, or 2 after printing why: an unknown device, one
 * this build or machine cannot run (with the backend's reason), or a suite
 * that runs on the cpu only (throughput and latency time models on a
 * device; longctx and copyret train and evaluate there: suite_parallel_jobs
 * then runs their jobs one after another, not side by side; kernels times
 * the cpu kernels).
 * suite_to_device moves a model to c->be (nothing on the cpu): 0 or -1
 * with util_last_error(). On a device, cases are recorded with
 * "device":"NAME" in their parameters (cpu cases are unchanged), so device
 * and cpu timings never share a baseline; and validation compares with the
 * cpu (see suite_validate). */
int suite_device_open(const char *device, const char *suite, const backend **be);
int suite_to_device(suite_ctx *c, model *m);
/* The suites that take --device cuda, comma-separated. */
const char *suite_device_suites(void);

typedef int (*suite_fn)(suite_ctx *);
int suite_throughput(suite_ctx *c);
int suite_latency(suite_ctx *c);
int suite_longctx(suite_ctx *c);
int suite_copyret(suite_ctx *c);
int suite_kernels(suite_ctx *c);

/* Recording (no-ops without a database). A refused write is printed and
 * counted in c->store_errors: the suite goes on, the run ends failed. */
store_id suite_case(suite_ctx *c, const char *name, const char *params_json);
void suite_samples(suite_ctx *c, store_id cs, const char *metric, const char *unit, int flags, const double *v, int n);
/* A counted accuracy: `correct` of `total` scored items (tokens, answers,
 * sequences). Stored so that the check can judge it with a two-proportion
 * test on the counts, not as a bare fraction. */
void suite_accuracy(suite_ctx *c, store_id cs, const char *metric, long correct, long total);
void suite_curve(suite_ctx *c, store_id cs, const char *name, const char *series, const double *x, const double *y, int n);
/* Judge claim `id` of the registry (suites/claims_registry.c) on `v`
 * through the evaluator and store the verdict with the rule it was judged
 * by, the inputs and why. `where` (may be NULL) qualifies the statement,
 * e.g. "d=128"; `measured` is the human summary. Returns the verdict. An id
 * not in the registry is a programming error: printed, inconclusive. */
claim_verdict suite_claim_judged(suite_ctx *c, const char *id, const char *where, const claim_values *v, const char *measured);

/* A case that failed: prints "[suite] NAME PARAMS: reason" (the case named)
 * and stores it as failed (never as a number). cs may be 0. */
void suite_case_failed(suite_ctx *c, store_id cs, const char *name, const char *params, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Timing behind a claim: fewest repetitions, worst interference, worst
 * robust relative spread (1.4826 MAD / median) over the inputs added. */
typedef struct {
    int reps;
    double busy, spread;
    int nadd;
} suite_timing;
void suite_timing_init(suite_timing *t);
/* Add one timed input: its repetitions v[n] and c->busy (the interference
 * of the last timed region; unknown when too short to tell: NaN). */
void suite_timing_add(suite_timing *t, const suite_ctx *c, const double *v, int n);
/* dst covers src too. */
void suite_timing_merge(suite_timing *dst, const suite_timing *src);
/* Set the claim inputs reps, busy, spread. */
void suite_timing_values(const suite_timing *t, claim_values *v);
double suite_rel_spread(const double *v, int n); /* 1.4826 MAD / |median| */
/* Mean and sample standard deviation (0 for n = 1; NaN for n = 0), NaN
 * entries included (they make the result NaN). */
void suite_mean_sd(const double *v, int n, double *mean, double *sd);

/* Bracket every timed region (the repetitions of one case) with these:
 * suite_time_end() stores in c->busy how much of the machine other
 * processes took meanwhile, and the next suite_samples() of a timed
 * (non-deterministic) metric records it with the samples. */
void suite_time_begin(suite_ctx *c);
void suite_time_end(suite_ctx *c);

/* Progress: one rewritten line on a TTY, plain lines otherwise. */
void suite_progress(suite_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void suite_progress_done(suite_ctx *c);

/* Validate before timing, at a reduced size that keeps every code path of
 * the shapes about to be timed: B capped at 2, T reduced but kept beyond the
 * local-attention window when the timed T is (W + 37: the ring wraps, the
 * chunked scan gets a ragged tail) and with a document reset mid-sequence.
 *  suite_validate:        prefill logits, chosen RG-LRU / attention
 *                         variants against the "ref" variants (on a device,
 *                         which has none: against a cpu model with the same
 *                         weights, within 1e-3 of max|logit| and of
 *                         max|gradient|: the device sums in other orders;
 *                         bf16 weights on the device's bf16-ref GEMM, B
 *                         widened as on the cpu);
 *  suite_validate_train:  the same, plus every parameter gradient of the
 *                         backward pass a training step times;
 *  suite_validate_decode: decode steps after a cache of `len` tokens (each
 *                         length used) against prefill logits at the same
 *                         positions (the decode == prefill oracle; on a
 *                         device also its prefill against the cpu's, as
 *                         suite_validate).
 * GEMM variants are checked by their own tests (tests/test_gemm.c).
 * 0 ok, -1 refused (the reason printed, naming the model and shape). */
int suite_validate(suite_ctx *c, model *m, int B, int T);
int suite_validate_train(suite_ctx *c, model *m, int B, int T);
int suite_validate_decode(suite_ctx *c, model *m, int B, int len);
/* suite_validate_decode at the reduced length that keeps the code paths of
 * decoding up to `len` (W + 37 when len passes the local window, so the
 * ring wraps; at most 229 otherwise): what a large model can afford. bf16
 * models are validated on the bf16-widen GEMM (see suite.c). */
int suite_validate_decode_upto(suite_ctx *c, model *m, int B, int len);

/* One greedy decode step of every sequence at cache length `len` (each
 * sequence's position set to len first, so repeated calls time the same
 * length): tok (B) in, the argmax tokens out, logits in lg (B,V). Seconds
 * the step and the argmax took, or -1 on a decode error. The step's work
 * depends on the cache length, not on the cached values, so the suites time
 * long caches without filling them (decode_state_reset zeroes them) and
 * validate decode at those lengths separately (suite_validate_decode). */
double suite_step_at(model *m, decode_state *st, int len, int32_t *tok, float *lg);

/* FLOPs of the model's work, as bench-model and the suites' limits count
 * them: 2 per GEMM weight (embedding, every linear and gate matrix, the tied
 * output projection) per token, plus attention's 4 x H x head_dim per
 * visible key (scores and values). suite_attn_flops: one sequence's queries
 * at positions t0 .. t1-1; suite_prefill_flops: a B x T prefill (a training
 * step is counted as 3x that: the backward is 2x the forward). */
double suite_gemm_weights(const model *m);
double suite_attn_flops(const model *m, int t0, int t1);
double suite_prefill_flops(const model *m, int B, int T);

/* The limit of one decode step of B sequences at cache length `len`: the
 * larger of its memory time (weights in their storage type + B x the decode
 * state at len, at `read_gbs`) and its compute time (2 x GEMM weights +
 * attention FLOPs per sequence, at `gflops`). Seconds. */
double suite_decode_limit_s(const model *m, int B, int len, double read_gbs, double gflops);
/* Store the limits measured in this run (the roofline probe) as curve
 * 'roofline_limits': series 'GB/s' (read bandwidth) and 'GFLOP/s' (sgemm
 * peak), x = 0, so a figure drawn against a limit reads it from the same run.
 * NaN values (the probe failed) are stored as missing. */
void suite_store_limits(suite_ctx *c, double read_gbs, double gflops);

const char *family_title(model_family f); /* "MQA", "Hawk", "Griffin" */
/* The preset of a family at a size ("400m", "1b": FAMILY-SIZE; "tiny",
 * "small", "base": SIZE-FAMILY); its name in name[n]. 0, or -1 unknown. */
int suite_preset_config(const char *size, model_family f, char *name, size_t n, model_config *cfg);
/* The three families in a random order drawn from the run's seed and
 * `salt` (each group of cases gets its own order), so that a transient
 * burst of interference does not always hit the same family. */
void suite_family_order(const suite_ctx *c, uint64_t salt, int order[3]);
/* A model of width D for a family at this scale: depth, heads (head dim
 * 64 below D=512, else 128), lru_width ~ 4D/3, window W. */
void suite_model_config(model_config *cfg, model_family f, int D, int depth, int W);
double suite_median(const double *v, int n);
/* Bytes of L2 and L3 on this machine, every cache counted once (a per-core
 * cache once per core), from /sys; 0 when unknown. */
double suite_cache_bytes(void);

/* Ranks of the run (1 without --ranks). */
static inline int suite_ranks(const suite_ctx *c) { return c->comm ? comm_size(c->comm) : 1; }

/* Run fn(c, i, arg) for i in [0, n): with 2 or more threads, as many jobs at
 * once as threads, each on one thread (small models train about twice as
 * fast per core this way as with both cores on one model); otherwise, and
 * always under --ranks (every rank runs the jobs in the same order, each
 * one data parallel over all ranks), one after the other. Jobs must not touch the database (record afterwards in
 * the calling thread) and must poll c->stop. Progress lines come from the
 * first worker only. */
typedef void (*suite_job_fn)(suite_ctx *c, int i, void *arg);
void suite_parallel_jobs(suite_ctx *c, int n, suite_job_fn fn, void *arg);
/* 1 in the worker that may print progress (or outside any job). */
int suite_job_may_print(void);

#endif
