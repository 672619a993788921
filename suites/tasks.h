/* tasks.h — exact, seeded synthetic task generators (experiments.md §2).
 *
 * Four tasks from the Griffin paper's §6.2 and its references, each writing a batch
 * of B sequences of exactly T tokens:
 *
 *   tokens[b*T+t]   int32 input id the model reads at position t
 *   targets[b*T+t]  int32 id the model must predict *at the same position t* (the
 *                   output read after consuming tokens[0..t]); -1 = no loss, not scored
 *   mask[b*T+t]     optional float: 1 where targets >= 0, else 0 (pass NULL to skip)
 *
 * Every sequence is a single document (segment position = t). The rng stream is
 * consumed sequence by sequence, so the same seed gives the same batch, and a batch of
 * B equals the concatenation of B batches of 1 drawn from the same stream.
 *
 * TASK_SELECTIVE_COPY  (state-spaces/s4 copying rule, variable=True)
 *   vocab A = p->vocab (paper: 16); M = p->n_tokens data tokens (paper: 16); L = T-2M.
 *   Data tokens ~ U[1, A-2]; 0 = noise/background; A-1 = marker.
 *   t in [0, L+M):    background 0 with the M data tokens at M sorted positions drawn
 *                     uniformly without replacement from the L+M slots.
 *   t in [L+M, T):    marker A-1; targets[L+M+j] = j-th data token; all else -1.
 *   Needs T >= 2M, A >= 3.
 * TASK_INDUCTION  (after HazyResearch/safari induction heads)
 *   vocab V = p->vocab (paper: 16); trigger = V-1; ordinary tokens ~ U[0, V-2].
 *   One trigger at p ~ U[0, T-3] followed by the answer tokens[p+1]; positions 0..T-2
 *   hold no other trigger; tokens[T-1] = trigger; targets[T-1] = tokens[p+1] (the only
 *   scored position). Needs T >= 3, V >= 3.
 * TASK_MQAR  (HazyResearch/zoology multiquery_ar)
 *   vocab V = p->vocab (default 8192); N = p->n_tokens key-value pairs (default 8);
 *   a = p->power_a (0.01). Keys: N distinct from [1, V/2); values: N distinct from
 *   [V/2, V), both in random order. t < 2N: k0 v0 k1 v1 ... Then S = (T-2N)/2 query
 *   slots; N distinct slots g_i drawn without replacement with weight (g+1)^(a-1)
 *   (sequential weighted draws, renormalised after each); key i is placed at
 *   t = 2N + 2 g_i with targets[t] = value i. Every other position after the context
 *   is filler ~ U[0, V) (may collide with a key; unscored, as in zoology).
 *   Needs T even, V > T, 4N <= T, N <= V/2 - 1.
 * TASK_PHONEBOOK  (after Jelassi et al. 2024), bytes, vocab 256.
 *   Names "First Last" from a built-in syllable scheme (16 onsets x 5 vowels, 2-3
 *   syllables each, capitalised: 4-6 letters), distinct within a book. Numbers: 10
 *   digits, the first in 6-9. Layout (all ASCII):
 *     n entries "First Last: DDDDDDDDDD\n", then "\n", then p->n_examples (default 2)
 *     solved examples (book entries repeated verbatim), then the query entry
 *     "First Last: DDDDDDDDDD\n" for a further book entry (query and examples distinct),
 *     then pad bytes 0 up to T.
 *   Scored: the 10 digits of the query's number, each predicted at the position of the
 *   byte before it (the space after ':' and digits 1-9). n = p->n_tokens entries, or
 *   0 = as many as fit in T (varies per sequence). Needs n >= n_examples + 1 and T >=
 *   task_min_seq() (worst-case name lengths: 26 bytes per line).
 *
 * Failures (infeasible parameters for T, unknown kind) return -1 with util_error().
 */
#ifndef GRIFFIN_TASKS_H
#define GRIFFIN_TASKS_H

#include <stdint.h>
#include "util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TASK_UNKNOWN = -1,
    TASK_SELECTIVE_COPY = 0,
    TASK_INDUCTION,
    TASK_MQAR,
    TASK_PHONEBOOK,
    TASK_COUNT
} task_kind;

typedef struct {
    int vocab;      /* SC: A; IH: V; MQAR: V; phonebook: always 256 (ignored) */
    int n_tokens;   /* SC: data tokens M; MQAR: key-value pairs; phonebook: entries (0 = fill) */
    int n_examples; /* phonebook: solved examples before the query */
    double power_a; /* MQAR: query gap exponent a, p(gap g) ~ (g+1)^(a-1) */
} task_params;

/* Paper / reference defaults: SC vocab 16, 16 tokens; IH vocab 16; MQAR vocab 8192,
 * 8 pairs, a 0.01; phonebook 0 entries (fill), 2 examples. */
void task_params_default(task_kind k, task_params *p);

/* "selective-copy" (also "selective-copying", "copy"), "induction" ("induction-heads"),
 * "mqar", "phonebook"; TASK_UNKNOWN otherwise. */
task_kind task_from_name(const char *name);
const char *task_name(task_kind k);

/* Vocabulary size the model needs (ids are in [0, vocab)); -1 on a bad kind. */
int task_vocab(task_kind k, const task_params *p);

/* Smallest T for which task_generate can succeed with these parameters (for MQAR also
 * the smallest even T; V > T may still fail); -1 on a bad kind. For phonebook with
 * n_tokens = 0 it is the T that fits n_examples + 1 entries. */
int task_min_seq(task_kind k, const task_params *p);

/* 0 when (k, p, T) is feasible; else -1 with the reason in util_error(). */
int task_check(task_kind k, const task_params *p, int T);

/* Fill a (B,T) batch as described above. tokens, targets: (B,T); mask: (B,T) or NULL.
 * Returns 0, or -1 (nothing promised written) when task_check fails. */
int task_generate(task_kind k, const task_params *p, rng_t *r, int B, int T,
                  int32_t *tokens, int32_t *targets, float *mask);

/* Accuracy accumulator. A sequence counts as right when every scored position
 * (targets >= 0) has pred == target; sequences without scored positions are ignored. */
typedef struct {
    int64_t seqs, seqs_right; /* sequences with >= 1 scored position, and exact matches */
    int64_t toks, toks_right; /* scored positions, and correct ones */
} task_score;

/* Add a batch: targets, pred (argmax ids): (B,T). */
void task_score_add(task_score *s, const int32_t *targets, const int32_t *pred, int B, int T);

/* One-shot: per-sequence exact-match and per-token accuracy of a batch (0 when the
 * batch has nothing scored). Either output may be NULL. */
void task_accuracy(const int32_t *targets, const int32_t *pred, int B, int T,
                   double *seq_acc, double *tok_acc);

#ifdef __cplusplus
}
#endif
#endif
