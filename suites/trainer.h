/* trainer.h — the training loop shared by `griffin train` and the suites:
 * a batch source (packed byte corpus or a synthetic task), AdamW steps with
 * saved activations, checkpoints with the optimizer state and the data
 * position (bit-for-bit resume), and evaluation (task accuracy, loss by
 * position on long documents).
 *
 * Checkpoint layout: PATH is a model checkpoint (loads anywhere a model
 * does); PATH.train holds AdamW m and v, the step, the batch-source
 * position and the training options. Both are written atomically; they
 * carry the same step number, checked on resume. A save writes
 * PATH.train.next, then PATH, then renames PATH.train.next over PATH.train,
 * so a kill -9 anywhere leaves a pair resume accepts (the old step or the
 * new one, never a mix).
 */
#ifndef GRIFFIN_TRAINER_H
#define GRIFFIN_TRAINER_H
#include <signal.h>

#include "data.h"
#include "dist.h"
#include "model.h"
#include "optim.h"
#include "tasks.h"
#include "train.h"

typedef struct {
    int is_text;
    task_kind task;
    task_params tp;
    corpus_t corpus;
    data_loader loader;
    rng_t rng;           /* task batches */
    uint64_t seed;
} batch_source;

/* 0 or -1 (util_last_error). */
int source_init_text(batch_source *s, const char *corpus_dir, const char *split, uint64_t seed);
/* The same over the documents of `split` kept (keep = 1) or dropped
 * (keep = 0) by name (corpus_filter), e.g. every document but two held-out
 * books. */
int source_init_text_filtered(batch_source *s, const char *corpus_dir, const char *split, const char *const *names, int n, int keep,
                              uint64_t seed);
int source_init_task(batch_source *s, task_kind k, const task_params *p, uint64_t seed);
void source_free(batch_source *s);
void source_next(batch_source *s, int B, int T, int32_t *tok, int32_t *tgt, int32_t *pos);
#define SOURCE_STATE_N 8
void source_get_state(const batch_source *s, int64_t st[SOURCE_STATE_N]);
int source_set_state(batch_source *s, const int64_t st[SOURCE_STATE_N]);

typedef struct {
    model *m;
    batch_source *src;
    int B, T;
    adamw opt;
    model_acts a;
    model_grads g;
    int32_t *tok, *tgt, *pos;  /* the whole global batch (B rows) */
    dp_state *dp;          /* data parallel: NULL in one process */
    int row0, rows;        /* this rank's rows of the batch (0, B in one process) */
    int64_t step;          /* steps done */
    double last_loss;
    double step_seconds;   /* wall time of the last step */
} trainer;

int trainer_init(trainer *t, model *m, batch_source *src, int B, int T, const adamw_config *oc);
/* The same as one rank of a data-parallel job (dp NULL: one process). B is
 * the global batch: every rank draws all B rows from the source (the data
 * stream does not depend on the rank count) and trains on its shard. */
int trainer_init_dp(trainer *t, model *m, batch_source *src, int B, int T, const adamw_config *oc, dp_state *dp);
/* Data parallel: every rank takes rank 0's parameters, optimizer state,
 * step and source position (after init or resume). */
void trainer_sync(trainer *t);
void trainer_free(trainer *t);
/* One optimizer step on the next batch. Returns 0, or -1 when the loss or
 * the gradient is not finite (the parameters are left as they were before
 * the step; the error names the step). */
int trainer_step(trainer *t);
/* trainer_step in a loop that polls a stop request (Ctrl-C): 1 when the
 * loop should stop after this step, 0 to go on, -1 on an error. With data
 * parallelism the answer is agreed by the ranks (a request raised on any
 * rank before the step stops every rank after it, and sets *stop there), so
 * that every rank leaves the loop at the same step; never test *stop itself
 * in such a loop (a signal reaches the ranks at different moments). */
int trainer_step_stoppable(trainer *t, volatile sig_atomic_t *stop);
/* Save PATH and PATH.train (see above). 0 or -1 (the error names the file
 * and the errno; PATH keeps the previous checkpoint when its write fails). */
int trainer_save(const trainer *t, const char *path);
/* Restore optimizer state, step and source position from PATH.train into an
 * initialised trainer whose model was loaded from PATH. 0 or -1. */
int trainer_resume(trainer *t, const char *path);

/* Evaluation ------------------------------------------------------------ */
/* Accuracy on nseq fresh sequences of length T from `seed` (a stream the
 * training batches never use). seq_acc: every scored token right; tok_acc:
 * per scored token; loss: mean CE. Any output pointer may be NULL. */
int eval_task(model *m, task_kind k, const task_params *p, int T, int nseq, int B, uint64_t seed,
              double *seq_acc, double *tok_acc, double *loss);
/* Mean next-token loss by position over up to max_docs windows of T_eval
 * bytes (offsets 0, T_eval, 2 T_eval, ... of each document long enough,
 * round-robin over documents; each window is evaluated as one sequence),
 * accumulated in float64: sum[t] and cnt[t] (T_eval each; added to).
 * Sequences up to `chunk` tokens run as one prefill; longer ones prefill
 * the first chunk and continue token by token with the decode state carried
 * (exact for every family). Returns the number of windows used, or -1. */
int eval_loss_by_position(model *m, const corpus_t *c, int T_eval, int max_docs, int chunk, double *sum,
                          int64_t *cnt);
/* Mean loss over nbatches fresh batches of a source. */
double eval_source_loss(model *m, batch_source *src, int B, int T, int nbatches);
/* The same two evaluations sharded over the ranks of dp (rows as in
 * training; sums reduced in rank order); dp NULL: one process. */
int eval_task_dp(model *m, task_kind k, const task_params *p, int T, int nseq, int B, uint64_t seed, dp_state *dp,
                 double *seq_acc, double *tok_acc, double *loss);
double eval_source_loss_dp(model *m, batch_source *src, int B, int T, int nbatches, dp_state *dp);
/* eval_loss_by_position with the windows dealt round-robin over the ranks
 * of dp (window k to rank k mod N); sum and cnt are reduced in rank order
 * and added on every rank; the return (windows used) is the global count. */
int eval_loss_by_position_dp(model *m, const corpus_t *c, int T_eval, int max_docs, int chunk, dp_state *dp, double *sum,
                             int64_t *cnt);

#endif
