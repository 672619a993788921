/* train.c — the training objective on top of the model: mean softmax
 * cross-entropy over the counted targets, and its gradient handed to
 * model_backward (model.c). See train.h. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Targets: negative (masked) or a token id in [0, V). */
static int check_targets(const int32_t *targets, int N, int V) {
    for (int n = 0; n < N; n++)
        if (targets[n] >= V) {
            util_error("target %d at index %d is outside the vocabulary [0, %d)", targets[n], n, V);
            return -1;
        }
    return 0;
}

double model_loss(const model *m, const model_acts *a, const int32_t *targets, float *rowloss, int *count) {
    const backend *be = m->be;
    const int N = a->B * a->T, V = m->cfg.vocab;
    if (count) *count = 0;
    if (check_targets(targets, N, V)) return NAN;
    /* the targets stay in a->tgt for model_loss_backward */
    if (be->upload(a->tgt, targets, (size_t)N * sizeof(int32_t)) != 0 ||
        be->xent_forward(a->rowloss, a->logits, a->tgt, N, V) != 0)
        return NAN;
    float *rl = rowloss ? rowloss : util_alloc((size_t)N * sizeof(float));
    double sum = NAN;
    int cnt = 0;
    if (be->download(rl, a->rowloss, (size_t)N * sizeof(float)) == 0) {
        sum = 0;
        for (int n = 0; n < N; n++)
            if (targets[n] >= 0) { sum += rl[n]; cnt++; }
    }
    if (!rowloss) util_free(rl);
    if (count) *count = cnt;
    return isnan(sum) ? NAN : cnt ? sum / cnt : 0.0;
}

int model_loss_backward(model *m, const model_acts *a, model_grads *g, const int32_t *tokens, const int32_t *pos,
                        const int32_t *targets, float *loss) {
    const backend *be = m->be;
    const int N = a->B * a->T, V = m->cfg.vocab;
    (void)tokens; (void)pos; /* the forward's own copies (a->tok, a->pos) drive the backward */
    if (g->B != a->B || g->T != a->T) {
        util_error("gradient buffers are for B=%d T=%d, activations for B=%d T=%d", g->B, g->T, a->B, a->T);
        return -1;
    }
    if (check_targets(targets, N, V)) return -1;
    int cnt = 0;
    double l = model_loss(m, a, targets, g->rowloss, &cnt);
    if (loss) *loss = (float)l;
    float w = cnt ? 1.0f / (float)cnt : 0.0f;
    for (int n = 0; n < N; n++) g->roww[n] = targets[n] >= 0 ? w : 0.0f;
    if (be->upload(g->droww, g->roww, (size_t)N * sizeof(float)) != 0 ||
        be->xent_backward(g->dlogits, a->logits, a->tgt, g->droww, N, V) != 0)
        return -1;
    return model_backward(m, a, g);
}
