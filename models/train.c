/* train.c — backward pass and loss; see train.h. The backward mirrors
 * model_forward in model.c step by step (read the two side by side). */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matmul.h"
#include "ops.h"
#include "util.h"

int model_grads_alloc(model_grads *g, const model *m, int B, int T) {
    if (m->wdtype != WEIGHTS_F32) {
        util_error("training needs fp32 weights (this model holds %s weights for inference)", weights_name(m->wdtype));
        return -1;
    }
    const model_config *c = &m->cfg;
    memset(g, 0, sizeof *g);
    g->B = B;
    g->T = T;
    size_t N = (size_t)B * T, D = c->width, L = c->lru_width, MD = (size_t)c->mlp_expansion * c->width;
    size_t dh = config_head_dim(c), HD = (size_t)c->heads * dh, V = c->vocab;
#define A16(x) (((x) + 15) & ~(size_t)15)
    size_t total = A16(N * V) + 4 * A16(N * D) + 7 * A16(N * L) + 2 * A16(N * HD) + 2 * A16(N * dh) +
                   A16(N * MD) + A16(2 * N * MD) + 2 * A16(N);
    g->block = util_try_alloc(total * sizeof(float));
    if (!g->block) {
        util_error("gradient buffers for B=%d T=%d need %.1f GiB: too large for the memory available", B, T, total * 4.0 / (1 << 30));
        return -1;
    }
    float *p = g->block;
#define TAKE(dst, sz) do { dst = p; p += A16(sz); } while (0)
    TAKE(g->dlogits, N * V);
    TAKE(g->dx, N * D); TAKE(g->dres, N * D); TAKE(g->dn, N * D); TAKE(g->dtout, N * D);
    TAKE(g->dprod, N * L); TAKE(g->dybr, N * L); TAKE(g->dh, N * L); TAKE(g->dconv, N * L);
    TAKE(g->dgx, N * L); TAKE(g->dga, N * L); TAKE(g->dxbr, N * L);
    TAKE(g->dq, N * HD); TAKE(g->datt, N * HD); TAKE(g->dk, N * dh); TAKE(g->dv, N * dh);
    TAKE(g->dgated, N * MD); TAKE(g->dup, 2 * N * MD);
    TAKE(g->rowloss, N); TAKE(g->roww, N);
#undef TAKE
#undef A16
    g->grads = util_alloc(m->nparams * sizeof(float));
    model_view(m, g->grads, &g->gw);
    return 0;
}

void model_grads_free(model_grads *g) {
    util_free(g->block);
    util_free(g->grads);
    model_view_free(&g->gw);
    memset(g, 0, sizeof *g);
}

void model_zero_grad(model_grads *g, const model *m) { memset(g->grads, 0, m->nparams * sizeof(float)); }

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
    const int N = a->B * a->T, V = m->cfg.vocab;
    if (count) *count = 0;
    if (check_targets(targets, N, V)) return NAN;
    float *rl = rowloss ? rowloss : util_alloc((size_t)N * sizeof(float));
    xent_forward(rl, a->logits, targets, N, V);
    double sum = 0;
    int cnt = 0;
    for (int n = 0; n < N; n++)
        if (targets[n] >= 0) { sum += rl[n]; cnt++; }
    if (!rowloss) util_free(rl);
    if (count) *count = cnt;
    return cnt ? sum / cnt : 0.0;
}

/* db (C) += column sums of d (N,C). */
static void colsum_acc(float *db, const float *d, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *r = d + (size_t)n * C;
#pragma omp simd
        for (int c = 0; c < C; c++) db[c] += r[c];
    }
}

/* Linear y = x W^T + b with W (O,I): dW += dy^T x, db += colsum(dy),
 * dx = dy W (beta 0) or += (beta 1). */
static void linear_backward(float *dx, float beta, float *dW, float *db, const float *dy, const float *x, const float *W,
                            int N, int I, int O) {
    if (db) colsum_acc(db, dy, N, O);
    gemm(1, 0, O, I, N, 1.0f, dy, O, x, I, 1.0f, dW, I);
    if (dx) gemm(0, 0, N, I, O, 1.0f, dy, O, W, I, beta, dx, I);
}

/* Block-diagonal gate backward: out = in . w[j] + b per block. */
static void block_diag_backward(float *din, float *dw, float *db, const float *dout, const float *in, const float *w,
                                int N, int C, int nb) {
    int bw = C / nb;
    colsum_acc(db, dout, N, C);
    for (int j = 0; j < nb; j++) {
        gemm(1, 0, bw, bw, N, 1.0f, in + (size_t)j * bw, C, dout + (size_t)j * bw, C, 1.0f, dw + (size_t)j * bw * bw, bw);
        gemm(0, 1, N, bw, bw, 1.0f, dout + (size_t)j * bw, C, w + (size_t)j * bw * bw, bw, 1.0f, din + (size_t)j * bw, C);
    }
}

/* Tell g->ready that stage k's gradients are final: k = 0 the embedding,
 * 1..depth the layers, depth+1 the final norm; each range runs up to the
 * next stage's first tensor (the layout order). */
static void grads_ready(const model *m, model_grads *g, int k) {
    if (!g->ready) return;
    size_t lo = m->nparams, hi = m->nparams;
    for (int j = 0; j < m->ntensors; j++) {
        const tensor_desc *t = &m->tensors[j];
        int st = t->layer >= 0 ? t->layer + 1 : j == 0 ? 0 : m->cfg.depth + 1;
        if (st == k && t->offset < lo) lo = t->offset;
        if (st == k + 1 && t->offset < hi) hi = t->offset;
    }
    if (hi > lo) g->ready(g->ready_ctx, lo, hi - lo);
}

int model_loss_backward(model *m, const model_acts *a, model_grads *g, const int32_t *tokens, const int32_t *pos,
                        const int32_t *targets, float *loss) {
    const model_config *c = &m->cfg;
    const int B = a->B, T = a->T, D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int N = B * T, rot = config_rot_dims(c);
    if (!a->saved) { util_error("backward needs saved activations (model_acts_alloc with saved=1)"); return -1; }
    if (g->B != B || g->T != T) { util_error("gradient buffers are for B=%d T=%d, activations for B=%d T=%d", g->B, g->T, B, T); return -1; }
    const rglru_variant *rv = rglru_find(m->rglru);
    const attn_variant *av = attn_find(m->attn);
    if (!rv || !av) { util_error("unknown kernel variant"); return -1; }
    if (check_targets(targets, N, V)) return -1;
    int cnt = 0;
    double l = model_loss(m, a, targets, g->rowloss, &cnt);
    if (loss) *loss = (float)l;
    float w = cnt ? 1.0f / (float)cnt : 0.0f;
    for (int n = 0; n < N; n++) g->roww[n] = targets[n] >= 0 ? w : 0.0f;
    xent_backward(g->dlogits, a->logits, targets, g->roww, N, V);
    if (c->softcap > 0) softcap_backward(g->dlogits, a->logits, (size_t)N * V, c->softcap);
    /* logits = nf . E^T */
    gemm(1, 0, V, D, N, 1.0f, g->dlogits, V, a->nf, D, 1.0f, g->gw.embed, D);
    gemm(0, 0, N, D, V, 1.0f, g->dlogits, V, m->w.embed, D, 0.0f, g->dn, D);
    memset(g->dx, 0, (size_t)N * D * sizeof(float));
    rmsnorm_backward(g->dx, g->gw.final_norm, g->dn, a->x_out, a->rstdf, m->w.final_norm, N, D);
    grads_ready(m, g, c->depth + 1);
    for (int i = c->depth - 1; i >= 0; i--) {
        const layer_acts *la = &a->layers[i];
        const layer_view *lw = &m->w.layers[i];
        layer_view *gw = &g->gw.layers[i];
        const size_t NM = (size_t)N * MD;
        /* out = res1 + down(gated): dres = dx */
        memcpy(g->dres, g->dx, (size_t)N * D * sizeof(float));
        linear_backward(g->dgated, 0.0f, gw->down_w, gw->down_b, g->dx, la->gated, lw->down_w, N, MD, D);
        geglu_backward(g->dup, g->dup + NM, g->dgated, la->up, la->up + NM, NM);
        for (int br = 0; br < 2; br++) {
            const float *du = g->dup + (size_t)br * NM;
            colsum_acc(gw->up_b + (size_t)br * MD, du, N, MD);
            /* up_br = n2 . W_br (W_br (D,MD)) */
            gemm(1, 0, D, MD, N, 1.0f, la->n2, D, du, MD, 1.0f, gw->up_w + (size_t)br * D * MD, MD);
            gemm(0, 1, N, D, MD, 1.0f, du, MD, lw->up_w + (size_t)br * D * MD, MD, br ? 1.0f : 0.0f, g->dn, D);
        }
        rmsnorm_backward(g->dres, gw->post_norm, g->dn, la->res1, la->rstd2, lw->post_norm, N, D);
        /* res1 = x_in + tout: dx_in starts as dres, dtout = dres */
        memcpy(g->dx, g->dres, (size_t)N * D * sizeof(float));
        const float *dtout = g->dres;
        if (lw->type == 'R') {
            linear_backward(g->dprod, 0.0f, gw->wout, gw->bout, dtout, la->prod, lw->wout, N, L, D);
            geglu_backward(g->dybr, g->dh, g->dprod, la->ybr, la->h, (size_t)N * L);
            rv->backward(g->dconv, g->dgx, g->dga, gw->a_param, g->dh, la->h, la->conv, la->gx, la->ga, lw->a_param, pos, NULL,
                         a->work, B, T, L);
            block_diag_backward(g->dconv, gw->gi_w, gw->gi_b, g->dgx, la->conv, lw->gi_w, N, L, c->gate_blocks);
            block_diag_backward(g->dconv, gw->ga_w, gw->ga_b, g->dga, la->conv, lw->ga_w, N, L, c->gate_blocks);
            conv1d_backward(g->dxbr, gw->conv_w, gw->conv_b, g->dconv, la->xbr, lw->conv_w, pos, B, T, L, c->conv_width);
            linear_backward(g->dn, 0.0f, gw->wx, gw->bx, g->dxbr, la->n1, lw->wx, N, D, L);
            linear_backward(g->dn, 1.0f, gw->wy, gw->by, g->dybr, la->n1, lw->wy, N, D, L);
        } else {
            int window = lw->type == 'L' ? c->window : -1;
            linear_backward(g->datt, 0.0f, gw->wo, gw->bo, dtout, la->att, lw->wo, N, HD, D);
            av->backward(g->dq, g->dk, g->dv, g->datt, la->att, la->lse, la->q, la->k, la->v, pos, B, T, H, dh, window);
            rope_backward(g->dq, pos, N, H, dh, rot, c->rope_base);
            rope_backward(g->dk, pos, N, 1, dh, rot, c->rope_base);
            linear_backward(g->dn, 0.0f, gw->wq, NULL, g->dq, la->n1, lw->wq, N, D, HD);
            linear_backward(g->dn, 1.0f, gw->wk, NULL, g->dk, la->n1, lw->wk, N, D, dh);
            linear_backward(g->dn, 1.0f, gw->wv, NULL, g->dv, la->n1, lw->wv, N, D, dh);
        }
        rmsnorm_backward(g->dx, gw->pre_norm, g->dn, la->x_in, la->rstd1, lw->pre_norm, N, D);
        grads_ready(m, g, i + 1);
    }
    /* embedding (tied): x0 = E[tok] * scale */
    float scale = model_embed_scale(c);
    for (int n = 0; n < N; n++) {
        float *dE = g->gw.embed + (size_t)tokens[n] * D;
        const float *d = g->dx + (size_t)n * D;
        for (int k = 0; k < D; k++) dE[k] += d[k] * scale;
    }
    grads_ready(m, g, 0);
    return 0;
}
