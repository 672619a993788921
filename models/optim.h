/* optim.h — AdamW with decoupled weight decay, linear warm-up + cosine
 * schedule, global-norm gradient clipping.
 *
 * Weight decay applies to the tensors whose tensor_desc.decay is set: the
 * embedding and every weight matrix (linear layers, RG-LRU gate blocks,
 * conv1d taps, MLP up/down). It does not apply to RMSNorm scales, biases
 * and the RG-LRU a_param (decaying a_param would pull every recurrence
 * towards a = sigmoid(0) = 0.5, i.e. shorten memory, which is not a
 * regulariser we want).
 *
 * One step t (0-based): norm = ||g||_2 over all tensors; if norm > clip,
 * g *= clip/norm; lr_t from the schedule; p -= lr_t * wd * p (decayed
 * tensors, before the Adam update); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr_t * mhat / (sqrt(vhat) + eps) with bias correction.
 */
#ifndef GRIFFIN_OPTIM_H
#define GRIFFIN_OPTIM_H
#include "model.h"

typedef struct {
    double lr, lr_min_ratio, wd, beta1, beta2, eps, clip;
    int warmup, total;
} adamw_config;

typedef struct {
    adamw_config cfg;
    float *m, *v;      /* (nparams) */
    int64_t step;      /* steps taken */
    double last_norm;  /* gradient norm before clipping, last step */
    double last_lr;
    float *hm, *hv;    /* host views of m, v: m, v themselves on the cpu, else mirrors */
    double *sumsq;     /* (1) the step's sum of squared gradients, backend memory */
    const backend *be; /* where m, v live (the model's backend at init) */
} adamw;

void adamw_defaults(adamw_config *c);
void adamw_init(adamw *o, const model *mdl, const adamw_config *c);
void adamw_free(adamw *o);
/* lr at step t (0-based). */
double adamw_lr(const adamw_config *c, int64_t t);
/* Global L2 norm of the gradient block. */
double grad_norm(const float *g, size_t n);
/* The global L2 norm of a gradient block on mdl's backend (NaN on a
 * backend error), as adamw_step computes it. */
double adamw_grad_norm(adamw *o, const model *mdl, const float *grads);
/* Host mirrors hm, hv <- the backend's m, v (pull, for a checkpoint) and
 * the reverse (push, after a resume wrote hm, hv); no-ops on the cpu. 0 or -1. */
int adamw_pull(adamw *o, size_t n);
int adamw_push(adamw *o, size_t n);
/* One update of mdl's parameters from grads, on mdl's backend (m, v and
 * grads in its memory). 0, or -1 with util_last_error() (a backend error). */
int adamw_step(adamw *o, model *mdl, float *grads);

#endif
