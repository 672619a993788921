/* train.h — the backward pass of the three families and the training
 * objective: mean softmax cross-entropy over targets != -1 (targets (B,T),
 * -1 = no loss), with the optional logit soft-cap.
 *
 * Accumulation contract: parameter gradients are accumulated (+=) into the
 * gradient block `grads` (laid out like the parameters); call
 * model_zero_grad() first. Activation gradients live in model_grads and are
 * overwritten on every call.
 *
 * Usage:
 *   model_acts a;  model_acts_alloc(&a, &m, B, T, 1);   // saved activations
 *   model_grads g; model_grads_alloc(&g, &m, B, T);
 *   model_zero_grad(&g);
 *   float loss;
 *   model_forward(&m, &a, tokens, pos, NULL);
 *   model_loss_backward(&m, &a, &g, tokens, pos, targets, &loss);
 */
#ifndef GRIFFIN_TRAIN_H
#define GRIFFIN_TRAIN_H
#include "model.h"

typedef struct {
    int B, T;
    float *grads;        /* (nparams) parameter gradients, += */
    param_view gw;       /* named views into grads */
    float *block;        /* activation-gradient scratch (one allocation) */
    float *dlogits;      /* (B,T,V) */
    float *dx, *dres, *dn, *dtout;                       /* (B,T,D) */
    float *dprod, *dybr, *dh, *dconv, *dgx, *dga, *dxbr; /* (B,T,L) */
    float *dq, *datt, *dk, *dv;                          /* (B,T,H*dh), (B,T,dh) */
    float *dgated, *dup;                                 /* (B,T,MD), (2,B,T,MD) */
    float *rowloss;      /* (B,T) per-token loss */
    float *roww;         /* (B,T) per-token weight of the mean */
    /* Optional (NULL after alloc): when set, the backward calls
     * ready(ready_ctx, off, n) each time grads[off, off+n) are final: the
     * final norm first, then each layer in reverse order, the embedding
     * last. The ranges tile [0, nparams). Data-parallel training starts the
     * all-reduce of a range here while the backward goes on. */
    void (*ready)(void *ctx, size_t off, size_t n);
    void *ready_ctx;
} model_grads;

int model_grads_alloc(model_grads *g, const model *m, int B, int T);
void model_grads_free(model_grads *g);
void model_zero_grad(model_grads *g, const model *m);

/* Loss only (forward must have run): mean CE over targets >= 0. Also fills
 * g->rowloss when g != NULL. Returns the number of counted tokens in *count.
 * A target >= V: NaN with util_last_error() naming it (and *count 0). */
double model_loss(const model *m, const model_acts *a, const int32_t *targets, float *rowloss, int *count);

/* Backward from the mean CE. Requires a forward with saved activations
 * (model_acts_alloc(..., saved=1)). Writes *loss. 0, or -1 (e.g. a target
 * >= V, named in util_last_error()). */
int model_loss_backward(model *m, const model_acts *a, model_grads *g, const int32_t *tokens,
                        const int32_t *pos, const int32_t *targets, float *loss);

#endif
