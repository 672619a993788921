/* model.c — the model, written once over the backend table (backend.h):
 * parameter layout, initialisation, the buffer planner, prefill, batched
 * decode and the backward pass for MQA / Hawk / Griffin. See model.h and
 * griffin-spec.md; models/train.c adds the loss. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "matmul.h"
#include "ops.h"
#include "util.h"

/* ---- layout ------------------------------------------------------------------ */

typedef struct {
    tensor_desc *t;
    int n, cap;
    size_t off;
} layout_builder;

static void lb_add(layout_builder *b, int layer, const char *name, int ndim, const int64_t *shape,
                   init_kind init, float std, int decay) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->t = realloc(b->t, (size_t)b->cap * sizeof *b->t);
        CHECK_ALLOC(b->t);
    }
    tensor_desc *t = &b->t[b->n++];
    memset(t, 0, sizeof *t);
    if (layer >= 0) snprintf(t->name, sizeof t->name, "blocks.%d.%s", layer, name);
    else snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->numel = 1;
    for (int i = 0; i < ndim; i++) { t->shape[i] = shape[i]; t->numel *= (size_t)shape[i]; }
    t->offset = b->off;
    /* keep every tensor 16-float (64-byte) aligned */
    b->off += (t->numel + 15) & ~(size_t)15;
    t->init = init;
    t->std = std;
    t->decay = decay;
    t->layer = layer;
}

#define SHAPE(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define ADD(layer, name, init, std, decay, ...) \
    lb_add(&b, layer, name, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}, init, std, decay)

int model_layout(const model_config *c, tensor_desc **out, int *n, size_t *nparams) {
    layout_builder b = {0};
    const int64_t D = c->width, V = c->vocab, L = c->lru_width, MD = (int64_t)c->mlp_expansion * c->width;
    const int64_t dh = config_head_dim(c), H = c->heads, K = c->conv_width;
    const float s_in = sqrtf(1.0f / (float)D);
    const float s_out_scale = 2.0f / (float)c->depth; /* final_w_init_variance_scale = 2/N */
    ADD(-1, "embedder.input_embedding", INIT_NORMAL, s_in, 1, V, D);
    for (int i = 0; i < c->depth; i++) {
        char t = c->pattern[i];
        ADD(i, "temporal_pre_norm.scale", INIT_ZERO, 0, 0, D);
        if (t == 'R') {
            int64_t nb = c->gate_blocks, bw = L / nb;
            float s_gate = sqrtf(1.0f / (float)bw);
            ADD(i, "recurrent_block.linear_y.weight", INIT_NORMAL, s_in, 1, L, D);
            ADD(i, "recurrent_block.linear_y.bias", INIT_ZERO, 0, 0, L);
            ADD(i, "recurrent_block.linear_x.weight", INIT_NORMAL, s_in, 1, L, D);
            ADD(i, "recurrent_block.linear_x.bias", INIT_ZERO, 0, 0, L);
            ADD(i, "recurrent_block.linear_out.weight", INIT_NORMAL, sqrtf(s_out_scale / (float)L), 1, D, L);
            ADD(i, "recurrent_block.linear_out.bias", INIT_ZERO, 0, 0, D);
            ADD(i, "recurrent_block.conv_1d.w", INIT_NORMAL, sqrtf(0.01f / (float)K), 1, K, L);
            ADD(i, "recurrent_block.conv_1d.b", INIT_ZERO, 0, 0, L);
            ADD(i, "recurrent_block.rg_lru.a_param", INIT_APARAM, 0, 0, L);
            ADD(i, "recurrent_block.rg_lru.input_gate.w", INIT_NORMAL, s_gate, 1, nb, bw, bw);
            ADD(i, "recurrent_block.rg_lru.input_gate.b", INIT_ZERO, 0, 0, nb, bw);
            ADD(i, "recurrent_block.rg_lru.a_gate.w", INIT_NORMAL, s_gate, 1, nb, bw, bw);
            ADD(i, "recurrent_block.rg_lru.a_gate.b", INIT_ZERO, 0, 0, nb, bw);
        } else {
            ADD(i, "attention_block.proj_q.weight", INIT_NORMAL, s_in, 1, H * dh, D);
            ADD(i, "attention_block.proj_k.weight", INIT_NORMAL, s_in, 1, dh, D);
            ADD(i, "attention_block.proj_v.weight", INIT_NORMAL, s_in, 1, dh, D);
            /* spec: attention out fan_in = D (the reference uses width) */
            ADD(i, "attention_block.proj_final.weight", INIT_NORMAL, sqrtf(s_out_scale / (float)D), 1, D, H * dh);
            ADD(i, "attention_block.proj_final.bias", INIT_ZERO, 0, 0, D);
        }
        ADD(i, "channel_pre_norm.scale", INIT_ZERO, 0, 0, D);
        ADD(i, "mlp_block.ffw_up.w", INIT_NORMAL, s_in, 1, 2, D, MD);
        ADD(i, "mlp_block.ffw_up.b", INIT_ZERO, 0, 0, 2, 1, 1, MD);
        ADD(i, "mlp_block.ffw_down.weight", INIT_NORMAL, sqrtf(s_out_scale / (float)MD), 1, D, MD);
        ADD(i, "mlp_block.ffw_down.bias", INIT_ZERO, 0, 0, D);
    }
    ADD(-1, "final_norm.scale", INIT_ZERO, 0, 0, D);
    /* the GEMM operands: the embedding and every weight matrix (".weight",
     * ".w"), not the conv taps (a depthwise filter) nor any bias */
    for (int i = 0; i < b.n; i++) {
        const char *nm = b.t[i].name;
        size_t len = strlen(nm);
        int w = (len > 7 && !strcmp(nm + len - 7, ".weight")) || (len > 2 && !strcmp(nm + len - 2, ".w"));
        b.t[i].gemm = !strcmp(nm, "embedder.input_embedding") || (w && !strstr(nm, "conv_1d"));
    }
    *out = b.t;
    *n = b.n;
    *nparams = b.off;
    return 0;
}

static float *tptr(const model *m, float *base, const char *name) {
    const tensor_desc *t = model_find_tensor(m, name);
    return t && !t->bf16 ? base + t->offset : NULL;
}

static const uint16_t *tptr16(const model *m, const char *name) {
    const tensor_desc *t = model_find_tensor(m, name);
    return t && t->bf16 ? m->dparams16 + t->offset : NULL;
}

static void model_view16(model *m) {
    const model_config *c = &m->cfg;
    param_view16 *v = &m->w16;
    v->embed = tptr16(m, "embedder.input_embedding");
    v->layers = calloc((size_t)c->depth, sizeof *v->layers);
    CHECK_ALLOC(v->layers);
    char nm[TENSOR_NAME_MAX + 16];
    for (int i = 0; i < c->depth; i++) {
        layer_view16 *l = &v->layers[i];
#define P(field, suffix) \
    snprintf(nm, sizeof nm, "blocks.%d.%s", i, suffix); \
    l->field = tptr16(m, nm)
        P(wy, "recurrent_block.linear_y.weight");
        P(wx, "recurrent_block.linear_x.weight");
        P(wout, "recurrent_block.linear_out.weight");
        P(gi_w, "recurrent_block.rg_lru.input_gate.w");
        P(ga_w, "recurrent_block.rg_lru.a_gate.w");
        P(wq, "attention_block.proj_q.weight");
        P(wk, "attention_block.proj_k.weight");
        P(wv, "attention_block.proj_v.weight");
        P(wo, "attention_block.proj_final.weight");
        P(up_w, "mlp_block.ffw_up.w");
        P(down_w, "mlp_block.ffw_down.weight");
#undef P
    }
}

int weights_parse(const char *name, weights_dtype *out) {
    if (name && !strcmp(name, "f32")) *out = WEIGHTS_F32;
    else if (name && !strcmp(name, "bf16")) *out = WEIGHTS_BF16;
    else return -1;
    return 0;
}

const char *weights_name(weights_dtype w) { return w == WEIGHTS_BF16 ? "bf16" : "f32"; }

size_t model_param_count(const model *m) {
    size_t n = 0;
    for (int i = 0; i < m->ntensors; i++) n += m->tensors[i].numel;
    return n;
}

double model_weight_bytes(const model *m) {
    double b = 0;
    for (int i = 0; i < m->ntensors; i++) b += (double)m->tensors[i].numel * (m->tensors[i].bf16 ? 2 : 4);
    return b;
}

void model_view(const model *m, float *base, param_view *v) {
    const model_config *c = &m->cfg;
    v->embed = tptr(m, base, "embedder.input_embedding");
    v->final_norm = tptr(m, base, "final_norm.scale");
    v->layers = calloc((size_t)c->depth, sizeof *v->layers);
    CHECK_ALLOC(v->layers);
    char nm[TENSOR_NAME_MAX + 16];
    for (int i = 0; i < c->depth; i++) {
        layer_view *l = &v->layers[i];
        l->type = c->pattern[i];
#define P(field, suffix) \
    snprintf(nm, sizeof nm, "blocks.%d.%s", i, suffix); \
    l->field = tptr(m, base, nm)
        P(pre_norm, "temporal_pre_norm.scale");
        P(post_norm, "channel_pre_norm.scale");
        if (l->type == 'R') {
            P(wy, "recurrent_block.linear_y.weight");
            P(by, "recurrent_block.linear_y.bias");
            P(wx, "recurrent_block.linear_x.weight");
            P(bx, "recurrent_block.linear_x.bias");
            P(wout, "recurrent_block.linear_out.weight");
            P(bout, "recurrent_block.linear_out.bias");
            P(conv_w, "recurrent_block.conv_1d.w");
            P(conv_b, "recurrent_block.conv_1d.b");
            P(a_param, "recurrent_block.rg_lru.a_param");
            P(gi_w, "recurrent_block.rg_lru.input_gate.w");
            P(gi_b, "recurrent_block.rg_lru.input_gate.b");
            P(ga_w, "recurrent_block.rg_lru.a_gate.w");
            P(ga_b, "recurrent_block.rg_lru.a_gate.b");
        } else {
            P(wq, "attention_block.proj_q.weight");
            P(wk, "attention_block.proj_k.weight");
            P(wv, "attention_block.proj_v.weight");
            P(wo, "attention_block.proj_final.weight");
            P(bo, "attention_block.proj_final.bias");
        }
        P(up_w, "mlp_block.ffw_up.w");
        P(up_b, "mlp_block.ffw_up.b");
        P(down_w, "mlp_block.ffw_down.weight");
        P(down_b, "mlp_block.ffw_down.bias");
#undef P
    }
}

void model_view_free(param_view *v) {
    free(v->layers);
    v->layers = NULL;
}

const tensor_desc *model_find_tensor(const model *m, const char *name) {
    for (int i = 0; i < m->ntensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

int model_create(model *m, const model_config *c) { return model_create_dtype(m, c, WEIGHTS_F32); }

int model_create_dtype(model *m, const model_config *c, weights_dtype wd) {
    memset(m, 0, sizeof *m);
    m->be = &backend_cpu;
    m->cfg = *c;
    if (config_finalize(&m->cfg) != 0) return -1;
    model_layout(&m->cfg, &m->tensors, &m->ntensors, &m->nparams);
    if (m->nparams > ((size_t)1 << 36)) {
        util_error("model %s has %zu parameters: too large to allocate here", c->name, m->nparams);
        free(m->tensors);
        m->tensors = NULL;
        return -1;
    }
    m->wdtype = wd;
    if (wd == WEIGHTS_BF16) {
        /* two blocks: the GEMM weights in bf16, the rest fp32; each tensor
         * 64-byte aligned in its block */
        size_t o32 = 0, o16 = 0;
        for (int i = 0; i < m->ntensors; i++) {
            tensor_desc *t = &m->tensors[i];
            t->bf16 = t->gemm;
            if (t->bf16) { t->offset = o16; o16 += (t->numel + 31) & ~(size_t)31; }
            else { t->offset = o32; o32 += (t->numel + 15) & ~(size_t)15; }
        }
        m->nparams = o32;
        m->nparams16 = o16;
        if (!(m->params16 = util_try_alloc(o16 * sizeof(uint16_t)))) {
            util_error("model %s: %zu bf16 weights: too large to allocate here", c->name, o16);
            free(m->tensors);
            m->tensors = NULL;
            return -1;
        }
    }
    if (!(m->params = util_try_alloc(m->nparams * sizeof(float)))) {
        util_error("model %s has %zu parameters: too large to allocate here", c->name, m->nparams);
        util_free(m->params16);
        m->params16 = NULL;
        free(m->tensors);
        m->tensors = NULL;
        return -1;
    }
    m->dparams = m->params;
    m->dparams16 = m->params16;
    model_view(m, m->dparams, &m->w);
    if (wd == WEIGHTS_BF16) model_view16(m);
    snprintf(m->rglru, sizeof m->rglru, "%s", RGLRU_DEFAULT);
    snprintf(m->attn, sizeof m->attn, "%s", ATTN_DEFAULT);
    return 0;
}

void model_free(model *m) {
    if (m->be && m->dparams != m->params) {
        m->be->free(m->dparams);
        m->be->free(m->dparams16);
    }
    model_view_free(&m->w);
    free(m->w16.layers);
    util_free(m->params16);
    util_free(m->params);
    free(m->tensors);
    memset(m, 0, sizeof *m);
}

int model_init_weights(model *m, uint64_t seed) {
    /* One RNG stream per tensor (seed, tensor index): adding a tensor does
     * not shift the others, and the result is independent of threads. */
    for (int i = 0; i < m->ntensors; i++) {
        const tensor_desc *t = &m->tensors[i];
        /* a bf16 tensor is drawn in fp32, then rounded */
        float *p = t->bf16 ? util_alloc(t->numel * sizeof(float)) : m->params + t->offset;
        rng_t r;
        rng_seed(&r, seed * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 0xD1B54A32D192ED03ULL + 1);
        switch (t->init) {
        case INIT_ZERO: memset(p, 0, t->numel * sizeof(float)); break;
        case INIT_NORMAL:
            for (size_t j = 0; j < t->numel; j++) p[j] = (float)(t->std * rng_normal(&r));
            break;
        case INIT_APARAM:
            for (size_t j = 0; j < t->numel; j++) {
                double a;
                if (m->cfg.lambda_paper) {
                    /* paper: a^c ~ U[0.9, 0.999], c = 8 */
                    double ac = 0.9 + (0.999 - 0.9) * rng_uniform(&r);
                    a = pow(ac, 1.0 / 8.0);
                } else {
                    /* code: a^2 ~ U[0.9^2, 0.999^2] (+1e-8) */
                    double lo = 0.9 * 0.9 + 1e-8, hi = 0.999 * 0.999 + 1e-8;
                    a = sqrt(lo + (hi - lo) * rng_uniform(&r));
                }
                /* a_param = softplus^-1(-log a) = log(1/a - 1) */
                p[j] = (float)log(1.0 / a - 1.0);
            }
            break;
        }
        if (t->bf16) {
            bf16_from_f32(m->params16 + t->offset, p, t->numel);
            util_free(p);
        }
    }
    return model_sync_device(m);
}

/* ---- device ------------------------------------------------------------------ */

int model_set_device(model *m, const backend *be) {
    if (be == m->be) return 0;
    if (!be->host_memory && !m->be->host_memory) {
        util_error("model_set_device: move the model from %s to the cpu first", m->be->name);
        return -1;
    }
    if (be->host_memory) { /* back to host memory: the host copy becomes the one */
        if (model_sync_host(m) != 0) return -1;
        m->be->free(m->dparams);
        m->be->free(m->dparams16);
        m->dparams = m->params;
        m->dparams16 = m->params16;
    } else {
        float *d = be->alloc(m->nparams * sizeof(float));
        uint16_t *d16 = m->nparams16 ? be->alloc(m->nparams16 * sizeof(uint16_t)) : NULL;
        if (!d || (m->nparams16 && !d16) || be->upload(d, m->params, m->nparams * sizeof(float)) != 0 ||
            (d16 && be->upload(d16, m->params16, m->nparams16 * sizeof(uint16_t)) != 0)) {
            be->free(d);
            be->free(d16);
            return -1;
        }
        m->dparams = d;
        m->dparams16 = d16;
    }
    m->be = be;
    /* the views point into the backend's copy; variants: the device's defaults */
    model_view_free(&m->w);
    free(m->w16.layers);
    memset(&m->w16, 0, sizeof m->w16);
    model_view(m, m->dparams, &m->w);
    if (m->wdtype == WEIGHTS_BF16) model_view16(m);
    snprintf(m->rglru, sizeof m->rglru, "%s", be->rglru_default);
    snprintf(m->attn, sizeof m->attn, "%s", be->attn_default);
    return 0;
}

int model_sync_host(model *m) {
    if (m->dparams == m->params) return 0;
    if (m->be->download(m->params, m->dparams, m->nparams * sizeof(float)) != 0) return -1;
    return m->nparams16 ? m->be->download(m->params16, m->dparams16, m->nparams16 * sizeof(uint16_t)) : 0;
}

int model_sync_device(model *m) {
    if (m->dparams == m->params) return 0;
    if (m->be->upload(m->dparams, m->params, m->nparams * sizeof(float)) != 0) return -1;
    return m->nparams16 ? m->be->upload(m->dparams16, m->params16, m->nparams16 * sizeof(uint16_t)) : 0;
}

float model_embed_scale(const model_config *c) {
    if (!c->embed_scale) return 1.0f;
    float s = sqrtf((float)c->width);
    uint32_t u;
    memcpy(&u, &s, 4);
    u = (u + 0x7FFFu + ((u >> 16) & 1u)) & 0xFFFF0000u; /* round to nearest even bf16 */
    memcpy(&s, &u, 4);
    return s;
}

/* ---- buffer planner -----------------------------------------------------------
 * Activations, gradients and decode state are each one allocation. One
 * routine per allocation lists its buffers in order; it runs twice: with
 * base NULL to size the allocation, then with the allocation's base to bind
 * the pointers, so sizes and offsets cannot disagree. Every slot is 16-float
 * (64-byte) aligned; a slot of size 0 binds NULL. */

#define A16(x) (((x) + 15) & ~(size_t)15)

typedef struct {
    float *base; /* NULL while sizing */
    size_t off;  /* floats planned so far */
} plan;

static float *take(plan *p, size_t n) {
    float *q = n && p->base ? p->base + p->off : NULL;
    p->off += A16(n);
    return q;
}
#define TAKE_I32(p, n) ((int32_t *)take((p), (n)))

/* Allocate the planned block on `be`, or fail naming `what` and its size. */
static float *plan_alloc(const backend *be, size_t floats, const char *what, int B, int T) {
    float *b = floats > ((size_t)1 << 37) / sizeof(float) ? NULL : be->alloc(floats * sizeof(float));
    if (!b) util_error("%s for B=%d T=%d need %.1f GiB: too large for the memory available", what, B, T, floats * 4.0 / (1 << 30));
    return b;
}

static void acts_plan(plan *p, model_acts *a, const model_config *c) {
    const size_t N = (size_t)a->B * a->T, D = c->width, L = c->lru_width, MD = (size_t)c->mlp_expansion * c->width;
    const size_t dh = config_head_dim(c), HD = (size_t)c->heads * dh, H = c->heads;
    const int has_r = strchr(c->pattern, 'R') != NULL, has_a = strchr(c->pattern, 'L') || strchr(c->pattern, 'G');
    const size_t nl = has_r ? N * L : 0, nq = has_a ? N * HD : 0, nk = has_a ? N * dh : 0, nlse = has_a ? N * H : 0;
    const int nsets = a->saved ? c->depth : 1;
    for (int s = 0; s < nsets; s++) {
        layer_acts *l = &a->layers[s];
        l->x_in = take(p, N * D); l->n1 = take(p, N * D); l->rstd1 = take(p, N);
        l->ybr = take(p, nl); l->xbr = take(p, nl); l->conv = take(p, nl); l->gx = take(p, nl);
        l->ga = take(p, nl); l->h = take(p, nl); l->prod = take(p, nl);
        l->q = take(p, nq); l->k = take(p, nk); l->v = take(p, nk); l->att = take(p, nq); l->lse = take(p, nlse);
        l->res1 = take(p, N * D); l->n2 = take(p, N * D); l->rstd2 = take(p, N);
        l->up = take(p, 2 * N * MD); l->gated = take(p, N * MD);
    }
    for (int s = nsets; s < c->depth; s++) a->layers[s] = a->layers[0];
    a->x_out = take(p, N * D); a->nf = take(p, N * D); a->rstdf = take(p, N);
    a->logits = take(p, N * (size_t)c->vocab);
    a->work = take(p, has_r ? rglru_work_floats(a->B, a->T, c->lru_width) : 0);
    a->tok = TAKE_I32(p, N); a->pos = TAKE_I32(p, N); a->tgt = TAKE_I32(p, N); a->rowloss = take(p, N);
}

static void grads_plan(plan *p, model_grads *g, const model_config *c) {
    const size_t N = (size_t)g->B * g->T, D = c->width, L = c->lru_width, MD = (size_t)c->mlp_expansion * c->width;
    const size_t dh = config_head_dim(c), HD = (size_t)c->heads * dh, V = c->vocab;
    g->dlogits = take(p, N * V);
    g->dx = take(p, N * D); g->dres = take(p, N * D); g->dn = take(p, N * D); g->dtout = take(p, N * D);
    g->dprod = take(p, N * L); g->dybr = take(p, N * L); g->dh = take(p, N * L); g->dconv = take(p, N * L);
    g->dgx = take(p, N * L); g->dga = take(p, N * L); g->dxbr = take(p, N * L);
    g->dq = take(p, N * HD); g->datt = take(p, N * HD); g->dk = take(p, N * dh); g->dv = take(p, N * dh);
    g->dgated = take(p, N * MD); g->dup = take(p, 2 * N * MD);
    g->droww = take(p, N);
}

/* The caches first (their raw size is s->bytes), then the step scratch. */
static void state_plan(plan *p, decode_state *s, const model_config *c) {
    const size_t B = (size_t)s->B, D = c->width, dh = config_head_dim(c), HD = (size_t)c->heads * dh;
    const size_t MD = (size_t)c->mlp_expansion * c->width;
    const size_t Lm = c->lru_width > 0 ? (size_t)c->lru_width : 1;
    s->bytes = 0;
    for (int i = 0; i < c->depth; i++) {
        char t = c->pattern[i];
        int64_t h, cv, kv;
        if (t == 'R') {
            config_block_state(c, t, 0, &h, &cv, &kv);
            s->h[i] = take(p, B * (size_t)h);
            s->conv[i] = take(p, B * (size_t)cv);
        } else {
            int S = t == 'L' ? c->window : s->capacity;
            s->slots[i] = S < 1 ? 1 : S;
            config_block_state(c, t, s->slots[i], &h, &cv, &kv);
            s->k[i] = take(p, B * (size_t)kv / 2);
            s->v[i] = take(p, B * (size_t)kv / 2);
        }
        s->bytes += B * (size_t)(h + cv + kv) * sizeof(float);
    }
    s->x = take(p, B * D); s->n1 = take(p, B * D);
    s->ybr = take(p, B * Lm); s->xbr = take(p, B * Lm); s->cv = take(p, B * Lm);
    s->gx = take(p, B * Lm); s->ga = take(p, B * Lm); s->hh = take(p, B * Lm);
    s->q = take(p, B * (HD ? HD : 1)); s->kk = take(p, B * (dh ? dh : 1)); s->vv = take(p, B * (dh ? dh : 1));
    s->att = take(p, B * (HD ? HD : 1)); s->up = take(p, 2 * B * MD); s->gated = take(p, B * MD);
    s->logits = take(p, B * (size_t)c->vocab);
    s->dn = TAKE_I32(p, B); s->pos = TAKE_I32(p, B);
    s->nvalid_l = TAKE_I32(p, B); s->nvalid_g = TAKE_I32(p, B);
    /* tokens then the mask, contiguous: a graph step uploads both at once */
    s->tok = TAKE_I32(p, B + (B + 3) / 4);
    s->active = s->tok ? (uint8_t *)(s->tok + B) : NULL;
}

/* ---- activations ---------------------------------------------------------- */

int model_acts_alloc(model_acts *a, const model *m, int B, int T, int saved) {
    const model_config *c = &m->cfg;
    memset(a, 0, sizeof *a);
    a->B = B;
    a->T = T;
    a->saved = saved;
    a->vocab = c->vocab;
    a->be = m->be;
    a->layers = calloc((size_t)c->depth, sizeof *a->layers);
    CHECK_ALLOC(a->layers);
    plan p = {0};
    acts_plan(&p, a, c);
    if (!(a->block = plan_alloc(m->be, p.off, "activations", B, T))) {
        free(a->layers);
        memset(a, 0, sizeof *a);
        return -1;
    }
    a->nfloats = p.off;
    p = (plan){a->block, 0};
    acts_plan(&p, a, c);
    return 0;
}

const float *model_acts_logits(model_acts *a) {
    if (a->be->host_memory) return a->logits;
    size_t bytes = (size_t)a->B * a->T * a->vocab * sizeof(float);
    if (!a->host_logits) a->host_logits = util_alloc(bytes);
    return a->be->download(a->host_logits, a->logits, bytes) == 0 ? a->host_logits : NULL;
}

void model_acts_free(model_acts *a) {
    if (a->be) a->be->free(a->block);
    util_free(a->host_logits);
    free(a->layers);
    memset(a, 0, sizeof *a);
}

/* ---- building blocks ---------------------------------------------------------
 * Every call below returns the backend's status; TRY returns -1 from the
 * caller on the first failure (util_last_error() names it). */
#define TRY(call) do { if ((call) != 0) return -1; } while (0)

/* A GEMM weight in either storage: exactly one of f (fp32) and h (bf16) is set. */
typedef struct {
    const float *f;
    const uint16_t *h;
} wmat;
#define WMAT(w, w16, field) ((wmat){(w)->field, (w16) ? (w16)->field : NULL})

/* C (M,N) = A (M,K) . op(W + woff) + beta C: gemm or gemm_bf16 by storage. */
static int wgemm(const backend *be, int transB, int M, int N, int K, const float *A, int lda, wmat W, size_t woff,
                 int ldw, float beta, float *C, int ldc) {
    if (W.h) return be->gemm_bf16(0, transB, M, N, K, 1.0f, A, lda, W.h + woff, ldw, beta, C, ldc);
    return be->gemm(0, transB, M, N, K, 1.0f, A, lda, W.f + woff, ldw, beta, C, ldc);
}

/* A block's output projection ("nn.Linear", W (O,I)) added to the residual
 * stream in one GEMM: out (N,O) = res + bias + in (N,I) . W^T (res + bias
 * written first, the product accumulated onto it: no copy of the stream, no
 * separate add). out may alias res; bias is required (every output
 * projection has one). */
static int linear_res(const backend *be, float *out, const float *res, const float *in, wmat W, const float *bias,
                      int N, int I, int O) {
    TRY(be->fill_rows(out, res, bias, N, O));
    return wgemm(be, 1, N, O, I, in, I, W, 0, I, 1.0f, out, O);
}

/* Linear layers whose inputs have the same N rows (typically one input: a
 * block's two branches, or q, k and v), as one gemm_group call (the cpu runs
 * them in one parallel region). */
typedef struct {
    float *out;
    const float *in;
    wmat W;
    const float *bias;
    int I, O;
} lin;

/* C (M,N) = A (M,K) . op(W + woff) + beta C as one product of a group. */
static gemm_op wop(int transB, int N, int K, const float *A, int lda, wmat W, size_t woff, int ldw, float beta, float *C,
                   int ldc) {
    return (gemm_op){.transB = transB, .N = N, .K = K, .A = A, .lda = lda, .B = W.f ? W.f + woff : NULL,
                     .B16 = W.h ? W.h + woff : NULL, .ldb = ldw, .beta = beta, .C = C, .ldc = ldc};
}

static int linears(const backend *be, int N, int n, const lin *l) {
    gemm_op ops[3];
    if (n > 3) { util_error("linears: %d layers (at most 3)", n); return -1; }
    for (int i = 0; i < n; i++) {
        if (l[i].bias) TRY(be->fill_rows(l[i].out, NULL, l[i].bias, N, l[i].O));
        ops[i] = wop(1, l[i].O, l[i].I, l[i].in, l[i].I, l[i].W, 0, l[i].I, l[i].bias ? 1.0f : 0.0f, l[i].out, l[i].O);
    }
    return be->gemm_group(N, n, ops);
}

/* Block-diagonal gate: out[:, j*bw:(j+1)*bw] = in[:, block j] . w[j] + b[j]. */
static int block_diag(const backend *be, float *out, const float *in, wmat w, const float *b, int N, int C, int nb) {
    int bw = C / nb;
    TRY(be->fill_rows(out, NULL, b, N, C));
    if (w.h) return be->gemm_strided_bf16(0, 0, N, bw, bw, 1.0f, in, C, bw, w.h, bw, (long long)bw * bw, 1.0f, out, C, bw, nb);
    return be->gemm_strided(0, 0, N, bw, bw, 1.0f, in, C, bw, w.f, bw, (long long)bw * bw, 1.0f, out, C, bw, nb);
}

/* The gated MLP on normed input n2 (N,D): out (N,D) = res + down(gelu(up0) * up1),
 * up_br = n2 . W_br + b_br. The up GEMMs write their products alone (no bias
 * fill, nothing read back); geglu_bias adds the biases as it reads them, and
 * leaves the biased up in place when it is saved for the backward (save).
 * out may alias res. */
static int mlp_forward(const backend *be, float *out, const float *res, float *up, float *gated, const float *n2,
                       const layer_view *w, const layer_view16 *w16, int N, int D, int MD, int save) {
    size_t NM = (size_t)N * MD;
    gemm_op ops[2];
    for (int br = 0; br < 2; br++)
        ops[br] = wop(0, MD, D, n2, D, WMAT(w, w16, up_w), (size_t)br * D * MD, MD, 0.0f, up + (size_t)br * NM, MD);
    TRY(be->gemm_group(N, 2, ops));
    TRY(be->geglu_bias(gated, up, up + NM, w->up_b, w->up_b + MD, N, MD, save));
    return linear_res(be, out, res, gated, WMAT(w, w16, down_w), w->down_b, N, MD, D);
}

/* x (N,D) = E[tok] * scale from the tied embedding in either storage. */
static int embed(const model *m, float *x, const int32_t *tok, int N) {
    const model_config *c = &m->cfg;
    if (m->w16.embed) return m->be->embed_bf16(x, m->w16.embed, tok, N, c->width, model_embed_scale(c));
    return m->be->embed(x, m->w.embed, tok, N, c->width, model_embed_scale(c));
}

/* The tied embedding as a GEMM weight, and block i's bf16 view (or NULL). */
static wmat embed_w(const model *m) { return (wmat){m->w.embed, m->w16.embed}; }
static const layer_view16 *view16(const model *m, int i) { return m->w16.layers ? &m->w16.layers[i] : NULL; }

static int check_tokens(const int32_t *tok, size_t N, int V) {
    for (size_t i = 0; i < N; i++)
        if (tok[i] < 0 || tok[i] >= V) {
            util_error("token %d at index %zu is outside the vocabulary [0, %d)", tok[i], i, V);
            return -1;
        }
    return 0;
}

static int check_variants(const model *m) {
    TRY(m->be->variant_check(BK_RGLRU, m->rglru));
    return m->be->variant_check(BK_ATTN, m->attn);
}

/* Hand the prefill's last K-1 conv inputs and its keys/values to the decode
 * state of block i: conv state oldest first, zero-padded on the left; a local
 * ring keeps the last min(S,T) keys at slot t % S, a global cache slot t. */
static int state_from_prefill(const backend *be, decode_state *st, const layer_acts *l, const model_config *c, int i,
                              int B, int T) {
    const size_t L = c->lru_width, dh = config_head_dim(c);
    if (c->pattern[i] == 'R') {
        const int K1 = c->conv_width - 1;
        for (int b = 0; b < B; b++)
            for (int r = 0; r < K1; r++) {
                int t = T - K1 + r;
                float *dst = st->conv[i] + ((size_t)b * K1 + r) * L;
                if (t >= 0) TRY(be->copy(dst, l->xbr + ((size_t)b * T + t) * L, L * sizeof(float)));
                else TRY(be->memset(dst, 0, L * sizeof(float)));
            }
        return 0;
    }
    const int S = st->slots[i], ring = c->pattern[i] == 'L';
    for (int b = 0; b < B; b++) {
        int t = ring && T > S ? T - S : 0;
        while (t < T) { /* contiguous runs of slots: one for a global cache, at most two for a ring */
            int slot = ring ? t % S : t, run = T - t < S - slot ? T - t : S - slot;
            size_t dst = ((size_t)b * S + slot) * dh, src = ((size_t)b * T + t) * dh, n = (size_t)run * dh * sizeof(float);
            TRY(be->copy(st->k[i] + dst, l->k + src, n));
            TRY(be->copy(st->v[i] + dst, l->v + src, n));
            t += run;
        }
    }
    return 0;
}

/* Publish the host token counts s->n to the backend's copy. */
static int state_sync_n(decode_state *s) {
    return s->dn == s->n ? 0 : s->be->upload(s->dn, s->n, (size_t)s->B * sizeof(int32_t));
}

/* ---- prefill ------------------------------------------------------------------ */

int model_forward(model *m, model_acts *a, const int32_t *tokens, const int32_t *pos, decode_state *st) {
    const model_config *c = &m->cfg;
    const backend *be = m->be;
    const int B = a->B, T = a->T, D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int N = B * T, rot = config_rot_dims(c);
    if (check_tokens(tokens, (size_t)N, V)) return -1;
    if (check_variants(m)) return -1;
    if (a->be != be) { util_error("activations were allocated on the %s backend, the model runs on %s", a->be->name, be->name); return -1; }
    if (st) {
        if (st->B != B) { util_error("decode state is for B=%d, prefill has B=%d", st->B, B); return -1; }
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                if (pos[(size_t)b * T + t] != t) {
                    util_error("prefill handing state to decode needs one document per sequence (pos = 0..T-1)");
                    return -1;
                }
        for (int i = 0; i < c->depth; i++)
            if (c->pattern[i] == 'G' && T > st->capacity) {
                util_error("prompt of %d tokens exceeds the KV cache capacity %d", T, st->capacity);
                return -1;
            }
    }
    TRY(be->upload(a->tok, tokens, (size_t)N * sizeof(int32_t)));
    TRY(be->upload(a->pos, pos, (size_t)N * sizeof(int32_t)));
    const int32_t *dpos = a->pos;
    float *x = a->layers[0].x_in;
    TRY(embed(m, x, a->tok, N));
    for (int i = 0; i < c->depth; i++) {
        layer_acts *l = &a->layers[i];
        const layer_view *w = &m->w.layers[i];
        const layer_view16 *w16 = view16(m, i);
        if (l->x_in != x) TRY(be->copy(l->x_in, x, (size_t)N * D * sizeof(float)));
        TRY(be->rmsnorm_forward(l->n1, l->rstd1, l->x_in, w->pre_norm, N, D, c->eps));
        if (w->type == 'R') {
            const lin br[2] = {{l->ybr, l->n1, WMAT(w, w16, wy), w->by, D, L}, {l->xbr, l->n1, WMAT(w, w16, wx), w->bx, D, L}};
            TRY(linears(be, N, 2, br));
            TRY(be->conv1d_forward(l->conv, l->xbr, w->conv_w, w->conv_b, dpos, B, T, L, c->conv_width));
            TRY(block_diag(be, l->gx, l->conv, WMAT(w, w16, gi_w), w->gi_b, N, L, c->gate_blocks));
            TRY(block_diag(be, l->ga, l->conv, WMAT(w, w16, ga_w), w->ga_b, N, L, c->gate_blocks));
            TRY(be->rglru_forward(m->rglru, l->h, st ? st->h[i] : NULL, l->conv, l->gx, l->ga, w->a_param, dpos, NULL,
                                  a->work, B, T, L));
            TRY(be->geglu_forward(l->prod, l->ybr, l->h, (size_t)N * L));
            /* res1 = x + temporal(x) */
            TRY(linear_res(be, l->res1, l->x_in, l->prod, WMAT(w, w16, wout), w->bout, N, L, D));
        } else {
            const lin qkv[3] = {{l->q, l->n1, WMAT(w, w16, wq), NULL, D, HD}, {l->k, l->n1, WMAT(w, w16, wk), NULL, D, dh},
                                {l->v, l->n1, WMAT(w, w16, wv), NULL, D, dh}};
            TRY(linears(be, N, 3, qkv));
            TRY(be->rope_forward(l->q, dpos, N, H, dh, rot, c->rope_base));
            TRY(be->rope_forward(l->k, dpos, N, 1, dh, rot, c->rope_base));
            int window = w->type == 'L' ? c->window : -1;
            TRY(be->attn_forward(m->attn, l->att, a->saved ? l->lse : NULL, l->q, l->k, l->v, dpos, B, T, H, dh, window));
            TRY(linear_res(be, l->res1, l->x_in, l->att, WMAT(w, w16, wo), w->bo, N, HD, D));
        }
        if (st) TRY(state_from_prefill(be, st, l, c, i, B, T));
        TRY(be->rmsnorm_forward(l->n2, l->rstd2, l->res1, w->post_norm, N, D, c->eps));
        /* the next block's input (without saved activations every block's
         * buffers are block 0's: x_in is free again once res1 is formed) */
        float *next = i + 1 < c->depth ? a->layers[i + 1].x_in : a->x_out;
        TRY(mlp_forward(be, next, l->res1, l->up, l->gated, l->n2, w, w16, N, D, MD, a->saved));
        x = next;
    }
    if (x != a->x_out) TRY(be->copy(a->x_out, x, (size_t)N * D * sizeof(float)));
    TRY(be->rmsnorm_forward(a->nf, a->rstdf, a->x_out, m->w.final_norm, N, D, c->eps));
    TRY(wgemm(be, 1, N, V, D, a->nf, D, embed_w(m), 0, D, 0.0f, a->logits, V));
    if (c->softcap > 0) TRY(be->softcap_forward(a->logits, (size_t)N * V, c->softcap));
    if (st) {
        for (int b = 0; b < B; b++) st->n[b] = T;
        TRY(state_sync_n(st));
    }
    return 0;
}

/* ---- decode ----------------------------------------------------------------- */

int decode_state_alloc(decode_state *s, const model *m, int B, int capacity) {
    const model_config *c = &m->cfg;
    const backend *be = m->be;
    memset(s, 0, sizeof *s);
    s->B = B;
    s->depth = c->depth;
    s->capacity = capacity;
    s->be = be;
    int nl = c->depth;
    s->h = calloc((size_t)nl, sizeof(float *));
    s->conv = calloc((size_t)nl, sizeof(float *));
    s->k = calloc((size_t)nl, sizeof(float *));
    s->v = calloc((size_t)nl, sizeof(float *));
    s->slots = calloc((size_t)nl, sizeof(int));
    CHECK_ALLOC(s->h); CHECK_ALLOC(s->conv); CHECK_ALLOC(s->k); CHECK_ALLOC(s->v); CHECK_ALLOC(s->slots);
    plan p = {0};
    state_plan(&p, s, c);
    if ((double)s->bytes > 64.0 * (1 << 30) || !(s->block = be->alloc(p.off * sizeof(float)))) {
        util_error("decode cache for B=%d needs %.1f GiB", B, (double)s->bytes / (1 << 30));
        free(s->h); free(s->conv); free(s->k); free(s->v); free(s->slots);
        memset(s, 0, sizeof *s);
        return -1;
    }
    p = (plan){s->block, 0};
    state_plan(&p, s, c);
    s->n = be->host_memory ? s->dn : util_alloc((size_t)B * sizeof(int32_t));
    const char *ng = getenv("GRIFFIN_NO_GRAPH");
    s->graphs = be->graphs && !(ng && *ng && strcmp(ng, "0"));
    return 0;
}

static void state_drop_graph(decode_state *s) {
    s->be->graph_free(s->graph);
    s->graph = NULL;
    s->graph_warm = 0;
}

void decode_state_free(decode_state *s) {
    if (!s->h) return;
    state_drop_graph(s);
    util_free(s->hin);
    if (s->n != s->dn) util_free(s->n);
    s->be->free(s->block);
    free(s->h); free(s->conv); free(s->k); free(s->v); free(s->slots);
    memset(s, 0, sizeof *s);
}

void decode_state_reset(decode_state *s, const model *m, int b) {
    const model_config *c = &m->cfg;
    const backend *be = s->be;
    const size_t L = c->lru_width, K1 = (size_t)c->conv_width - 1, dh = config_head_dim(c);
    int b0 = b < 0 ? 0 : b, b1 = b < 0 ? s->B : b + 1;
    for (int j = b0; j < b1; j++) {
        s->n[j] = 0;
        for (int i = 0; i < s->depth; i++) {
            if (s->h[i]) be->memset(s->h[i] + (size_t)j * L, 0, L * sizeof(float));
            if (s->conv[i]) be->memset(s->conv[i] + (size_t)j * K1 * L, 0, K1 * L * sizeof(float));
            if (s->k[i]) {
                size_t S = (size_t)s->slots[i];
                be->memset(s->k[i] + (size_t)j * S * dh, 0, S * dh * sizeof(float));
                be->memset(s->v[i] + (size_t)j * S * dh, 0, S * dh * sizeof(float));
            }
        }
    }
    state_sync_n(s);
}

/* The step on the device, from the uploaded tokens (s->tok) to the logits in
 * `out` (backend memory) and the advanced counters: every call is a kernel
 * entry with arguments fixed for this state, so a graph can capture it. act:
 * s->active or NULL (every row steps). */
static int decode_compute(model *m, decode_state *s, const uint8_t *act, float *out) {
    const model_config *c = &m->cfg;
    const backend *be = m->be;
    const int B = s->B, D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int rot = config_rot_dims(c);
    /* a local layer sees its last W cached keys plus the new one (W+1, as in
     * prefill); W = 0 keeps one slot but sees none of it */
    const int S_l = c->window > 0 ? c->window : 1, keep_l = c->window < S_l ? c->window : S_l;
    const int has_l = strchr(c->pattern, 'L') != NULL, has_g = strchr(c->pattern, 'G') != NULL;
    TRY(be->decode_positions(s->pos, has_l ? s->nvalid_l : NULL, s->dn, keep_l, B));
    if (has_g) TRY(be->decode_positions(NULL, s->nvalid_g, s->dn, s->capacity, B));
    TRY(embed(m, s->x, s->tok, B));
    for (int i = 0; i < c->depth; i++) {
        const layer_view *w = &m->w.layers[i];
        const layer_view16 *w16 = view16(m, i);
        TRY(be->rmsnorm_forward(s->n1, NULL, s->x, w->pre_norm, B, D, c->eps));
        if (w->type == 'R') {
            const lin br[2] = {{s->ybr, s->n1, WMAT(w, w16, wy), w->by, D, L}, {s->xbr, s->n1, WMAT(w, w16, wx), w->bx, D, L}};
            TRY(linears(be, B, 2, br));
            /* inactive sequences keep their conv and RG-LRU state */
            TRY(be->conv1d_step(s->cv, s->conv[i], s->xbr, w->conv_w, w->conv_b, act, B, L, c->conv_width));
            TRY(block_diag(be, s->gx, s->cv, WMAT(w, w16, gi_w), w->gi_b, B, L, c->gate_blocks));
            TRY(block_diag(be, s->ga, s->cv, WMAT(w, w16, ga_w), w->ga_b, B, L, c->gate_blocks));
            TRY(be->rglru_step(m->rglru, s->hh, s->h[i], s->cv, s->gx, s->ga, w->a_param, s->pos, act, B, L));
            TRY(be->geglu_forward(s->hh, s->ybr, s->hh, (size_t)B * L));
            TRY(linear_res(be, s->x, s->x, s->hh, WMAT(w, w16, wout), w->bout, B, L, D));
        } else {
            const lin qkv[3] = {{s->q, s->n1, WMAT(w, w16, wq), NULL, D, HD}, {s->kk, s->n1, WMAT(w, w16, wk), NULL, D, dh},
                                {s->vv, s->n1, WMAT(w, w16, wv), NULL, D, dh}};
            TRY(linears(be, B, 3, qkv));
            TRY(be->rope_forward(s->q, s->pos, B, H, dh, rot, c->rope_base));
            TRY(be->rope_forward(s->kk, s->pos, B, 1, dh, rot, c->rope_base));
            const int local = w->type == 'L';
            TRY(be->attn_decode(s->att, s->q, s->k[i], s->v[i], local ? s->nvalid_l : s->nvalid_g, s->kk, s->vv, B, H, dh,
                                s->slots[i]));
            TRY(be->kv_write(s->k[i], s->v[i], s->kk, s->vv, s->dn, act, B, s->slots[i], dh, local));
            TRY(linear_res(be, s->x, s->x, s->att, WMAT(w, w16, wo), w->bo, B, HD, D));
        }
        TRY(be->rmsnorm_forward(s->n1, NULL, s->x, w->post_norm, B, D, c->eps));
        TRY(mlp_forward(be, s->x, s->x, s->up, s->gated, s->n1, w, w16, B, D, MD, 0));
    }
    TRY(be->rmsnorm_forward(s->n1, NULL, s->x, m->w.final_norm, B, D, c->eps));
    TRY(wgemm(be, 1, B, V, D, s->n1, D, embed_w(m), 0, D, 0.0f, out, V));
    if (c->softcap > 0) TRY(be->softcap_forward(out, (size_t)B * V, c->softcap));
    return be->decode_advance(s->dn, act, B);
}

/* The graph step: one upload (tokens and mask), the captured step (eager
 * on the first step of a key, captured on the second, replayed after), one
 * download (logits). */
static int decode_step_graph(model *m, decode_state *s, const int32_t *tokens, const uint8_t *active, float *logits) {
    const backend *be = m->be;
    const int B = s->B, V = m->cfg.vocab;
    const size_t nin = (size_t)B * sizeof(int32_t) + (size_t)B;
    if (!s->hin && !(s->hin = util_try_alloc(nin))) {
        util_error("decode: %zu bytes of host staging", nin);
        return -1;
    }
    memcpy(s->hin, tokens, (size_t)B * sizeof(int32_t));
    for (int b = 0; b < B; b++) s->hin[(size_t)B * sizeof(int32_t) + b] = !active || active[b];
    TRY(be->upload(s->tok, s->hin, nin));
    char vars[sizeof s->graph_variants];
    snprintf(vars, sizeof vars, "%s/%s", m->rglru, m->attn);
    if (s->graph_key[0] != m || s->graph_key[1] != m->dparams || s->graph_key[2] != m->dparams16 ||
        strcmp(s->graph_variants, vars)) {
        state_drop_graph(s);
        s->graph_key[0] = m;
        s->graph_key[1] = m->dparams;
        s->graph_key[2] = m->dparams16;
        snprintf(s->graph_variants, sizeof s->graph_variants, "%s", vars);
    }
    int r = s->graph ? be->graph_launch(s->graph) : 1;
    if (r < 0) return -1;
    if (r == 1) { /* no graph, or a stale one */
        if (s->graph) state_drop_graph(s);
        if (!s->graph_warm) {
            TRY(decode_compute(m, s, s->active, s->logits));
            s->graph_warm = 1;
        } else {
            TRY(be->graph_begin());
            int rc = decode_compute(m, s, s->active, s->logits);
            char why[512];
            snprintf(why, sizeof why, "%s", util_last_error());
            void *g = be->graph_end();
            if (rc != 0 || !g) {
                be->graph_free(g);
                util_error("decode: capturing the step as a %s graph failed: %s (GRIFFIN_NO_GRAPH=1 decodes without)",
                           be->name, rc != 0 ? why : util_last_error());
                return -1;
            }
            s->graph = g;
            s->graph_captures++;
            if ((r = be->graph_launch(g)) != 0) {
                if (r == 1) util_error("decode: the %s graph was stale right after its capture", be->name);
                return -1;
            }
        }
    }
    if (s->graph) s->graph_replays++;
    return be->download(logits, s->logits, (size_t)B * V * sizeof(float));
}

int decode_state_seek(decode_state *s, int len) {
    for (int b = 0; b < s->B; b++) s->n[b] = len;
    return state_sync_n(s);
}

int model_decode_step(model *m, decode_state *s, const int32_t *tokens, const uint8_t *active, float *logits) {
    const model_config *c = &m->cfg;
    const backend *be = m->be;
    const int B = s->B, V = c->vocab;
    if (check_variants(m)) return -1;
    if (check_tokens(tokens, (size_t)B, V)) return -1;
    if (s->be != be) { util_error("decode state was allocated on the %s backend, the model runs on %s", s->be->name, be->name); return -1; }
    for (int b = 0; b < B; b++) {
        if (active && !active[b]) continue;
        for (int i = 0; i < c->depth; i++)
            if (c->pattern[i] == 'G' && s->n[b] >= s->capacity) {
                util_error("sequence %d: global KV cache full (capacity %d tokens)", b, s->capacity);
                return -1;
            }
    }
    if (s->graphs && be->graphs) {
        TRY(decode_step_graph(m, s, tokens, active, logits));
    } else {
        /* the step's inputs; positions and cache counters from the backend's n */
        TRY(be->upload(s->tok, tokens, (size_t)B * sizeof(int32_t)));
        if (active) TRY(be->upload(s->active, active, (size_t)B));
        float *out = be->host_memory ? logits : s->logits;
        TRY(decode_compute(m, s, active ? s->active : NULL, out));
        if (out != logits) TRY(be->download(logits, out, (size_t)B * V * sizeof(float)));
    }
    if (s->dn != s->n)
        for (int b = 0; b < B; b++)
            if (!active || active[b]) s->n[b]++;
    return 0;
}

/* ---- backward ------------------------------------------------------------------
 * Mirrors model_forward in reverse (read the two side by side). */

int model_grads_alloc(model_grads *g, const model *m, int B, int T) {
    if (m->wdtype != WEIGHTS_F32) {
        util_error("training needs fp32 weights (this model holds %s weights for inference)", weights_name(m->wdtype));
        return -1;
    }
    memset(g, 0, sizeof *g);
    g->B = B;
    g->T = T;
    g->be = m->be;
    plan p = {0};
    grads_plan(&p, g, &m->cfg);
    if (!(g->block = plan_alloc(m->be, p.off, "gradient buffers", B, T))) return -1;
    p = (plan){g->block, 0};
    grads_plan(&p, g, &m->cfg);
    if (!(g->grads = m->be->alloc(m->nparams * sizeof(float)))) {
        m->be->free(g->block);
        memset(g, 0, sizeof *g);
        return -1;
    }
    g->rowloss = util_alloc((size_t)B * T * sizeof(float));
    g->roww = util_alloc((size_t)B * T * sizeof(float));
    model_view(m, g->grads, &g->gw);
    return 0;
}

void model_grads_free(model_grads *g) {
    if (g->be) {
        g->be->free(g->block);
        g->be->free(g->grads);
    }
    util_free(g->rowloss);
    util_free(g->roww);
    model_view_free(&g->gw);
    memset(g, 0, sizeof *g);
}

void model_zero_grad(model_grads *g, const model *m) { m->be->memset(g->grads, 0, m->nparams * sizeof(float)); }

/* Linear y = x W^T + b with W (O,I): dW += dy^T x, db += colsum(dy),
 * dx = dy W (beta 0) or += (beta 1). */
static int linear_backward(const backend *be, float *dx, float beta, float *dW, float *db, const float *dy,
                           const float *x, const float *W, int N, int I, int O) {
    if (db) TRY(be->colsum(db, dy, N, O));
    TRY(be->gemm(1, 0, O, I, N, 1.0f, dy, O, x, I, 1.0f, dW, I));
    return dx ? be->gemm(0, 0, N, I, O, 1.0f, dy, O, W, I, beta, dx, I) : 0;
}

/* Block-diagonal gate backward: out = in . w[j] + b per block; din +=. */
static int block_diag_backward(const backend *be, float *din, float *dw, float *db, const float *dout, const float *in,
                               const float *w, int N, int C, int nb) {
    int bw = C / nb;
    TRY(be->colsum(db, dout, N, C));
    TRY(be->gemm_strided(1, 0, bw, bw, N, 1.0f, in, C, bw, dout, C, bw, 1.0f, dw, bw, (long long)bw * bw, nb));
    return be->gemm_strided(0, 1, N, bw, bw, 1.0f, dout, C, bw, w, bw, (long long)bw * bw, 1.0f, din, C, bw, nb);
}

/* Parameter-gradient ranges for model_grads.ready: the embedding, each block,
 * the final norm; consecutive in the layout (model_layout adds them in this
 * order), so start[k+1] ends range k. start[0] = 0 (embedding), start[1+i]
 * block i, start[1+depth] the final norm, start[2+depth] = nparams. */
static void grad_ranges(const model *m, size_t *start) {
    const int depth = m->cfg.depth;
    for (int k = 1; k <= depth + 1; k++) start[k] = m->nparams;
    for (int k = m->ntensors - 1; k >= 0; k--) {
        const tensor_desc *t = &m->tensors[k];
        int slot = t->layer >= 0 ? 1 + t->layer : (t->offset ? 1 + depth : 0);
        if (slot) start[slot] = t->offset;
    }
    start[0] = 0;
    start[depth + 2] = m->nparams;
}

static void ready(const model_grads *g, const size_t *start, int k) {
    if (g->ready) g->ready(g->ready_ctx, start[k], start[k + 1] - start[k]);
}

int model_backward(model *m, const model_acts *a, model_grads *g) {
    const model_config *c = &m->cfg;
    const backend *be = m->be;
    const int B = a->B, T = a->T, D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int N = B * T, rot = config_rot_dims(c);
    if (!a->saved) { util_error("backward needs saved activations (model_acts_alloc with saved=1)"); return -1; }
    if (g->B != B || g->T != T) { util_error("gradient buffers are for B=%d T=%d, activations for B=%d T=%d", g->B, g->T, B, T); return -1; }
    if (check_variants(m)) return -1;
    size_t *start = malloc((size_t)(c->depth + 3) * sizeof *start);
    CHECK_ALLOC(start);
    grad_ranges(m, start);
    const int32_t *pos = a->pos;
    int rc = -1;
#undef TRY
#define TRY(call) do { if ((call) != 0) goto out; } while (0)
    if (c->softcap > 0) TRY(be->softcap_backward(g->dlogits, a->logits, (size_t)N * V, c->softcap));
    /* logits = nf . E^T */
    TRY(be->gemm(1, 0, V, D, N, 1.0f, g->dlogits, V, a->nf, D, 1.0f, g->gw.embed, D));
    TRY(be->gemm(0, 0, N, D, V, 1.0f, g->dlogits, V, m->w.embed, D, 0.0f, g->dn, D));
    TRY(be->memset(g->dx, 0, (size_t)N * D * sizeof(float)));
    TRY(be->rmsnorm_backward(g->dx, g->gw.final_norm, g->dn, a->x_out, a->rstdf, m->w.final_norm, N, D));
    ready(g, start, c->depth + 1);
    for (int i = c->depth - 1; i >= 0; i--) {
        const layer_acts *la = &a->layers[i];
        const layer_view *lw = &m->w.layers[i];
        layer_view *gw = &g->gw.layers[i];
        const size_t NM = (size_t)N * MD;
        /* out = res1 + down(gated): dres = dx */
        TRY(be->copy(g->dres, g->dx, (size_t)N * D * sizeof(float)));
        TRY(linear_backward(be, g->dgated, 0.0f, gw->down_w, gw->down_b, g->dx, la->gated, lw->down_w, N, MD, D));
        TRY(be->geglu_backward(g->dup, g->dup + NM, g->dgated, la->up, la->up + NM, NM));
        for (int br = 0; br < 2; br++) {
            const float *du = g->dup + (size_t)br * NM;
            TRY(be->colsum(gw->up_b + (size_t)br * MD, du, N, MD));
            /* up_br = n2 . W_br (W_br (D,MD)) */
            TRY(be->gemm(1, 0, D, MD, N, 1.0f, la->n2, D, du, MD, 1.0f, gw->up_w + (size_t)br * D * MD, MD));
            TRY(be->gemm(0, 1, N, D, MD, 1.0f, du, MD, lw->up_w + (size_t)br * D * MD, MD, br ? 1.0f : 0.0f, g->dn, D));
        }
        TRY(be->rmsnorm_backward(g->dres, gw->post_norm, g->dn, la->res1, la->rstd2, lw->post_norm, N, D));
        /* res1 = x_in + tout: dx_in starts as dres, dtout = dres */
        TRY(be->copy(g->dx, g->dres, (size_t)N * D * sizeof(float)));
        const float *dtout = g->dres;
        if (lw->type == 'R') {
            TRY(linear_backward(be, g->dprod, 0.0f, gw->wout, gw->bout, dtout, la->prod, lw->wout, N, L, D));
            TRY(be->geglu_backward(g->dybr, g->dh, g->dprod, la->ybr, la->h, (size_t)N * L));
            TRY(be->rglru_backward(m->rglru, g->dconv, g->dgx, g->dga, gw->a_param, g->dh, la->h, la->conv, la->gx, la->ga,
                                   lw->a_param, pos, NULL, a->work, B, T, L));
            TRY(block_diag_backward(be, g->dconv, gw->gi_w, gw->gi_b, g->dgx, la->conv, lw->gi_w, N, L, c->gate_blocks));
            TRY(block_diag_backward(be, g->dconv, gw->ga_w, gw->ga_b, g->dga, la->conv, lw->ga_w, N, L, c->gate_blocks));
            TRY(be->conv1d_backward(g->dxbr, gw->conv_w, gw->conv_b, g->dconv, la->xbr, lw->conv_w, pos, B, T, L, c->conv_width));
            TRY(linear_backward(be, g->dn, 0.0f, gw->wx, gw->bx, g->dxbr, la->n1, lw->wx, N, D, L));
            TRY(linear_backward(be, g->dn, 1.0f, gw->wy, gw->by, g->dybr, la->n1, lw->wy, N, D, L));
        } else {
            int window = lw->type == 'L' ? c->window : -1;
            TRY(linear_backward(be, g->datt, 0.0f, gw->wo, gw->bo, dtout, la->att, lw->wo, N, HD, D));
            TRY(be->attn_backward(m->attn, g->dq, g->dk, g->dv, g->datt, la->att, la->lse, la->q, la->k, la->v, pos, B, T,
                                  H, dh, window));
            TRY(be->rope_backward(g->dq, pos, N, H, dh, rot, c->rope_base));
            TRY(be->rope_backward(g->dk, pos, N, 1, dh, rot, c->rope_base));
            TRY(linear_backward(be, g->dn, 0.0f, gw->wq, NULL, g->dq, la->n1, lw->wq, N, D, HD));
            TRY(linear_backward(be, g->dn, 1.0f, gw->wk, NULL, g->dk, la->n1, lw->wk, N, D, dh));
            TRY(linear_backward(be, g->dn, 1.0f, gw->wv, NULL, g->dv, la->n1, lw->wv, N, D, dh));
        }
        TRY(be->rmsnorm_backward(g->dx, gw->pre_norm, g->dn, la->x_in, la->rstd1, lw->pre_norm, N, D));
        ready(g, start, 1 + i);
    }
    /* embedding (tied): x0 = E[tok] * scale */
    TRY(be->embed_backward(g->gw.embed, g->dx, a->tok, N, D, V, model_embed_scale(c)));
    ready(g, start, 0);
    rc = 0;
out:
    free(start);
    return rc;
}
#undef TRY
