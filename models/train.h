/* train.h — the training objective of the three families: mean softmax
 * cross-entropy over targets != -1 (targets (B,T), -1 = no loss), on the
 * soft-capped logits; its gradient runs model_backward (model.h, which holds
 * model_grads and the accumulation contract).
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

/* Loss only (forward must have run): mean CE over targets >= 0. Also fills
 * g->rowloss when g != NULL. Returns the number of counted tokens in *count.
 * A target >= V: NaN with util_last_error() naming it (and *count 0). */
double model_loss(const model *m, const model_acts *a, const int32_t *targets, float *rowloss, int *count);

/* Backward from the mean CE (tokens, pos: the forward's; the backward uses
 * the forward's own copies in a). Requires a forward with saved activations
 * (model_acts_alloc(..., saved=1)). Writes *loss. 0, or -1 (e.g. a target
 * >= V, named in util_last_error()). */
int model_loss_backward(model *m, const model_acts *a, model_grads *g, const int32_t *tokens,
                        const int32_t *pos, const int32_t *targets, float *loss);

#endif
