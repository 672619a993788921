/* model.c — parameter layout, initialisation, prefill and batched decode
 * for MQA / Hawk / Griffin on the CPU. See model.h and griffin-spec.md.
 */
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
    return t && t->bf16 ? m->params16 + t->offset : NULL;
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
    model_view(m, m->params, &m->w);
    if (wd == WEIGHTS_BF16) model_view16(m);
    snprintf(m->rglru, sizeof m->rglru, "%s", RGLRU_DEFAULT);
    snprintf(m->attn, sizeof m->attn, "%s", ATTN_DEFAULT);
    return 0;
}

void model_free(model *m) {
    model_view_free(&m->w);
    free(m->w16.layers);
    util_free(m->params16);
    util_free(m->params);
    free(m->tensors);
    memset(m, 0, sizeof *m);
}

void model_init_weights(model *m, uint64_t seed) {
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

/* ---- activations ---------------------------------------------------------- */

int model_acts_alloc(model_acts *a, const model *m, int B, int T, int saved) {
    const model_config *c = &m->cfg;
    memset(a, 0, sizeof *a);
    a->B = B;
    a->T = T;
    a->saved = saved;
    size_t N = (size_t)B * T, D = c->width, L = c->lru_width, MD = (size_t)c->mlp_expansion * c->width;
    size_t HD = (size_t)c->heads * config_head_dim(c), dh = config_head_dim(c), H = c->heads;
    int has_r = strchr(c->pattern, 'R') != NULL, has_a = strchr(c->pattern, 'L') || strchr(c->pattern, 'G');
    size_t per_layer = 0;
#define A16(x) (((x) + 15) & ~(size_t)15)
    size_t sz_x = A16(N * D), sz_r = A16(N), sz_l = has_r ? A16(N * L) : 0;
    size_t sz_q = has_a ? A16(N * HD) : 0, sz_k = has_a ? A16(N * dh) : 0, sz_lse = has_a ? A16(N * H) : 0;
    size_t sz_up = A16(2 * N * MD), sz_g = A16(N * MD);
    per_layer = 4 * sz_x + 2 * sz_r + 7 * sz_l + 2 * sz_q + 2 * sz_k + sz_lse + sz_up + sz_g;
    int nsets = saved ? c->depth : 1;
    size_t work = has_r ? A16(rglru_work_floats(B, T, c->lru_width)) : 0;
    size_t total = per_layer * (size_t)nsets + 3 * sz_x + sz_r + A16(N * (size_t)c->vocab) + work;
    if (total > ((size_t)1 << 37) / sizeof(float) || !(a->block = util_try_alloc(total * sizeof(float)))) {
        util_error("activations for B=%d T=%d need %.1f GiB: too large for the memory available", B, T, total * 4.0 / (1 << 30));
        return -1;
    }
    a->nfloats = total;
    a->layers = calloc((size_t)c->depth, sizeof *a->layers);
    CHECK_ALLOC(a->layers);
    float *p = a->block;
#define TAKE(dst, sz) do { dst = (sz) ? p : NULL; p += (sz); } while (0)
    for (int s = 0; s < nsets; s++) {
        layer_acts *l = &a->layers[s];
        TAKE(l->x_in, sz_x); TAKE(l->n1, sz_x); TAKE(l->rstd1, sz_r);
        TAKE(l->ybr, sz_l); TAKE(l->xbr, sz_l); TAKE(l->conv, sz_l); TAKE(l->gx, sz_l);
        TAKE(l->ga, sz_l); TAKE(l->h, sz_l); TAKE(l->prod, sz_l);
        TAKE(l->q, sz_q); TAKE(l->k, sz_k); TAKE(l->v, sz_k); TAKE(l->att, sz_q); TAKE(l->lse, sz_lse);
        TAKE(l->res1, sz_x); TAKE(l->n2, sz_x); TAKE(l->rstd2, sz_r); TAKE(l->up, sz_up); TAKE(l->gated, sz_g);
    }
    for (int s = nsets; s < c->depth; s++) a->layers[s] = a->layers[0];
    TAKE(a->x_out, sz_x); TAKE(a->nf, sz_x); TAKE(a->rstdf, sz_r); TAKE(a->tout, sz_x);
    TAKE(a->logits, A16(N * (size_t)c->vocab));
    TAKE(a->work, work);
#undef TAKE
#undef A16
    return 0;
}

void model_acts_free(model_acts *a) {
    util_free(a->block);
    free(a->layers);
    memset(a, 0, sizeof *a);
}

/* ---- building blocks --------------------------------------------------------- */

/* A GEMM weight in either storage: exactly one of f (fp32) and h (bf16) is set. */
typedef struct {
    const float *f;
    const uint16_t *h;
} wmat;
#define WMAT(w, w16, field) ((wmat){(w)->field, (w16) ? (w16)->field : NULL})

/* C (M,N) = A (M,K) . op(W + woff) + beta C: gemm or gemm_bf16 by storage. */
static void wgemm(int transB, int M, int N, int K, const float *A, int lda, wmat W, size_t woff, int ldw, float beta,
                  float *C, int ldc) {
    if (W.h) gemm_bf16(0, transB, M, N, K, 1.0f, A, lda, W.h + woff, ldw, beta, C, ldc);
    else gemm(0, transB, M, N, K, 1.0f, A, lda, W.f + woff, ldw, beta, C, ldc);
}

/* out (N,O) = bias broadcast (or 0) + in (N,I) . W^T, W (O,I) ("nn.Linear"). */
static void linear(float *out, const float *in, wmat W, const float *bias, int N, int I, int O) {
    if (bias) {
        for (int n = 0; n < N; n++) memcpy(out + (size_t)n * O, bias, (size_t)O * sizeof(float));
    }
    wgemm(1, N, O, I, in, I, W, 0, I, bias ? 1.0f : 0.0f, out, O);
}

/* Block-diagonal gate: out[:, j*bw:(j+1)*bw] = in[:, block j] . w[j] + b[j]. */
static void block_diag(float *out, const float *in, wmat w, const float *b, int N, int C, int nb) {
    int bw = C / nb;
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * C, b, (size_t)C * sizeof(float));
    for (int j = 0; j < nb; j++)
        wgemm(0, N, bw, bw, in + (size_t)j * bw, C, w, (size_t)j * bw * bw, bw, 1.0f, out + (size_t)j * bw, C);
}

static void add_inplace(float *y, const float *x, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

/* The gated MLP on normed input n2 (N,D): out (N,D) = res + down(gelu(up0) * up1). */
static void mlp_forward(float *out, const float *res, float *up, float *gated, const float *n2,
                        const layer_view *w, const layer_view16 *w16, int N, int D, int MD) {
    size_t NM = (size_t)N * MD;
    for (int br = 0; br < 2; br++) {
        float *u = up + (size_t)br * NM;
        const float *b = w->up_b + (size_t)br * MD;
        for (int n = 0; n < N; n++) memcpy(u + (size_t)n * MD, b, (size_t)MD * sizeof(float));
        wgemm(0, N, MD, D, n2, D, WMAT(w, w16, up_w), (size_t)br * D * MD, MD, 1.0f, u, MD);
    }
    geglu_forward(gated, up, up + NM, NM);
    for (int n = 0; n < N; n++) {
        float *o = out + (size_t)n * D;
        const float *r = res + (size_t)n * D;
        for (int d = 0; d < D; d++) o[d] = r[d] + w->down_b[d];
    }
    wgemm(1, N, D, MD, gated, MD, WMAT(w, w16, down_w), 0, MD, 1.0f, out, D);
}

static void embed_tokens(float *x, wmat E, const int32_t *tok, size_t N, int D, float scale) {
#pragma omp parallel for schedule(static) if (N > 256)
    for (size_t n = 0; n < N; n++) {
        float *o = x + n * D;
        if (E.h) {
            const uint16_t *e = E.h + (size_t)tok[n] * D;
            for (int d = 0; d < D; d++) o[d] = bf16_to_f32(e[d]) * scale;
        } else {
            const float *e = E.f + (size_t)tok[n] * D;
            for (int d = 0; d < D; d++) o[d] = e[d] * scale;
        }
    }
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

int model_forward(model *m, model_acts *a, const int32_t *tokens, const int32_t *pos, decode_state *st) {
    const model_config *c = &m->cfg;
    const int B = a->B, T = a->T, D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int N = B * T, rot = config_rot_dims(c);
    if (check_tokens(tokens, (size_t)N, V)) return -1;
    const rglru_variant *rv = rglru_find(m->rglru);
    const attn_variant *av = attn_find(m->attn);
    if (!rv) { util_error("unknown RG-LRU variant '%s'", m->rglru); return -1; }
    if (!av) { util_error("unknown attention variant '%s'", m->attn); return -1; }
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
    float *x = a->layers[0].x_in;
    embed_tokens(x, embed_w(m), tokens, (size_t)N, D, model_embed_scale(c));
    for (int i = 0; i < c->depth; i++) {
        layer_acts *l = &a->layers[i];
        const layer_view *w = &m->w.layers[i];
        const layer_view16 *w16 = view16(m, i);
        if (l->x_in != x) memcpy(l->x_in, x, (size_t)N * D * sizeof(float));
        rmsnorm_forward(l->n1, l->rstd1, l->x_in, w->pre_norm, N, D, c->eps);
        if (w->type == 'R') {
            linear(l->ybr, l->n1, WMAT(w, w16, wy), w->by, N, D, L);
            linear(l->xbr, l->n1, WMAT(w, w16, wx), w->bx, N, D, L);
            conv1d_forward(l->conv, l->xbr, w->conv_w, w->conv_b, pos, B, T, L, c->conv_width);
            block_diag(l->gx, l->conv, WMAT(w, w16, gi_w), w->gi_b, N, L, c->gate_blocks);
            block_diag(l->ga, l->conv, WMAT(w, w16, ga_w), w->ga_b, N, L, c->gate_blocks);
            rv->forward(l->h, st ? st->h[i] : NULL, l->conv, l->gx, l->ga, w->a_param, pos, NULL, a->work, B, T, L);
            geglu_forward(l->prod, l->ybr, l->h, (size_t)N * L);
            linear(a->tout, l->prod, WMAT(w, w16, wout), w->bout, N, L, D);
            if (st) {
                /* conv state: the last K-1 conv inputs, oldest first, zero-padded on the left */
                int K1 = c->conv_width - 1;
                for (int b = 0; b < B; b++)
                    for (int r = 0; r < K1; r++) {
                        int t = T - K1 + r;
                        float *dst = st->conv[i] + ((size_t)b * K1 + r) * L;
                        if (t >= 0) memcpy(dst, l->xbr + ((size_t)b * T + t) * L, (size_t)L * sizeof(float));
                        else memset(dst, 0, (size_t)L * sizeof(float));
                    }
            }
        } else {
            linear(l->q, l->n1, WMAT(w, w16, wq), NULL, N, D, HD);
            linear(l->k, l->n1, WMAT(w, w16, wk), NULL, N, D, dh);
            linear(l->v, l->n1, WMAT(w, w16, wv), NULL, N, D, dh);
            rope_forward(l->q, pos, N, H, dh, rot, c->rope_base);
            rope_forward(l->k, pos, N, 1, dh, rot, c->rope_base);
            int window = w->type == 'L' ? c->window : -1;
            av->forward(l->att, a->saved ? l->lse : NULL, l->q, l->k, l->v, pos, B, T, H, dh, window);
            linear(a->tout, l->att, WMAT(w, w16, wo), w->bo, N, HD, D);
            if (st) {
                int S = st->slots[i];
                for (int b = 0; b < B; b++) {
                    int t0 = w->type == 'L' ? (T > S ? T - S : 0) : 0;
                    for (int t = t0; t < T; t++) {
                        int slot = w->type == 'L' ? t % S : t;
                        memcpy(st->k[i] + ((size_t)b * S + slot) * dh, l->k + ((size_t)b * T + t) * dh, (size_t)dh * sizeof(float));
                        memcpy(st->v[i] + ((size_t)b * S + slot) * dh, l->v + ((size_t)b * T + t) * dh, (size_t)dh * sizeof(float));
                    }
                }
            }
        }
        /* res1 = x + temporal(x) */
        memcpy(l->res1, l->x_in, (size_t)N * D * sizeof(float));
        add_inplace(l->res1, a->tout, (size_t)N * D);
        rmsnorm_forward(l->n2, l->rstd2, l->res1, w->post_norm, N, D, c->eps);
        float *next = (i + 1 < c->depth && a->saved) ? a->layers[i + 1].x_in : a->x_out;
        mlp_forward(next, l->res1, l->up, l->gated, l->n2, w, w16, N, D, MD);
        x = next;
    }
    if (x != a->x_out) memcpy(a->x_out, x, (size_t)N * D * sizeof(float));
    rmsnorm_forward(a->nf, a->rstdf, a->x_out, m->w.final_norm, N, D, c->eps);
    wgemm(1, N, V, D, a->nf, D, embed_w(m), 0, D, 0.0f, a->logits, V);
    if (c->softcap > 0) softcap_forward(a->logits, (size_t)N * V, c->softcap);
    if (st)
        for (int b = 0; b < B; b++) st->n[b] = T;
    return 0;
}

/* ---- decode ----------------------------------------------------------------- */

int decode_state_alloc(decode_state *s, const model *m, int B, int capacity) {
    const model_config *c = &m->cfg;
    memset(s, 0, sizeof *s);
    const size_t D = c->width, L = c->lru_width, dh = config_head_dim(c), HD = (size_t)c->heads * dh;
    const size_t MD = (size_t)c->mlp_expansion * c->width, K1 = (size_t)c->conv_width - 1;
    s->B = B;
    s->depth = c->depth;
    s->capacity = capacity;
    int nl = c->depth;
    s->h = calloc((size_t)nl, sizeof(float *));
    s->conv = calloc((size_t)nl, sizeof(float *));
    s->k = calloc((size_t)nl, sizeof(float *));
    s->v = calloc((size_t)nl, sizeof(float *));
    s->slots = calloc((size_t)nl, sizeof(int));
    CHECK_ALLOC(s->h); CHECK_ALLOC(s->conv); CHECK_ALLOC(s->k); CHECK_ALLOC(s->v); CHECK_ALLOC(s->slots);
    double need = 0;
    for (int i = 0; i < nl; i++) {
        char t = c->pattern[i];
        if (t == 'R') need += (double)B * L * (1 + K1) * 4;
        else need += 2.0 * B * (t == 'L' ? (double)c->window : (double)capacity) * dh * 4;
    }
    if (need > 64.0 * (1 << 30)) {
        util_error("decode cache for B=%d needs %.1f GiB", B, need / (1 << 30));
        free(s->h); free(s->conv); free(s->k); free(s->v); free(s->slots);
        memset(s, 0, sizeof *s);
        return -1;
    }
    for (int i = 0; i < nl; i++) {
        char t = c->pattern[i];
        if (t == 'R') {
            s->h[i] = util_alloc((size_t)B * L * sizeof(float));
            s->conv[i] = util_alloc((size_t)B * K1 * L * sizeof(float));
            s->bytes += (size_t)B * L * (1 + K1) * sizeof(float);
        } else {
            int S = t == 'L' ? (c->window > 0 ? c->window : 1) : capacity;
            if (S < 1) S = 1;
            s->slots[i] = S;
            s->k[i] = util_alloc((size_t)B * S * dh * sizeof(float));
            s->v[i] = util_alloc((size_t)B * S * dh * sizeof(float));
            s->bytes += 2 * (size_t)B * S * dh * sizeof(float);
        }
    }
    s->n = util_alloc((size_t)B * sizeof(int32_t));
    s->pos = util_alloc((size_t)B * sizeof(int32_t));
    s->nvalid = util_alloc((size_t)B * sizeof(int32_t));
    size_t Lm = L > 0 ? L : 1;
    s->x = util_alloc((size_t)B * D * sizeof(float));
    s->n1 = util_alloc((size_t)B * D * sizeof(float));
    s->tout = util_alloc((size_t)B * D * sizeof(float));
    s->ybr = util_alloc((size_t)B * Lm * sizeof(float));
    s->xbr = util_alloc((size_t)B * Lm * sizeof(float));
    s->cv = util_alloc((size_t)B * Lm * sizeof(float));
    s->gx = util_alloc((size_t)B * Lm * sizeof(float));
    s->ga = util_alloc((size_t)B * Lm * sizeof(float));
    s->hh = util_alloc((size_t)B * Lm * sizeof(float));
    s->q = util_alloc((size_t)B * (HD ? HD : 1) * sizeof(float));
    s->kk = util_alloc((size_t)B * (dh ? dh : 1) * sizeof(float));
    s->vv = util_alloc((size_t)B * (dh ? dh : 1) * sizeof(float));
    s->att = util_alloc((size_t)B * (HD ? HD : 1) * sizeof(float));
    s->up = util_alloc(2 * (size_t)B * MD * sizeof(float));
    s->gated = util_alloc((size_t)B * MD * sizeof(float));
    return 0;
}

void decode_state_free(decode_state *s) {
    if (!s->h) return;
    for (int i = 0; i < s->depth; i++) {
        util_free(s->h[i]); util_free(s->conv[i]); util_free(s->k[i]); util_free(s->v[i]);
    }
    free(s->h); free(s->conv); free(s->k); free(s->v); free(s->slots);
    util_free(s->n); util_free(s->pos); util_free(s->nvalid);
    util_free(s->x); util_free(s->n1); util_free(s->tout); util_free(s->ybr); util_free(s->xbr);
    util_free(s->cv); util_free(s->gx); util_free(s->ga); util_free(s->hh); util_free(s->q);
    util_free(s->kk); util_free(s->vv); util_free(s->att); util_free(s->up); util_free(s->gated);
    memset(s, 0, sizeof *s);
}

void decode_state_reset(decode_state *s, const model *m, int b) {
    const model_config *c = &m->cfg;
    const size_t L = c->lru_width, K1 = (size_t)c->conv_width - 1, dh = config_head_dim(c);
    int b0 = b < 0 ? 0 : b, b1 = b < 0 ? s->B : b + 1;
    for (int j = b0; j < b1; j++) {
        s->n[j] = 0;
        for (int i = 0; i < s->depth; i++) {
            if (s->h[i]) memset(s->h[i] + (size_t)j * L, 0, L * sizeof(float));
            if (s->conv[i]) memset(s->conv[i] + (size_t)j * K1 * L, 0, K1 * L * sizeof(float));
            if (s->k[i]) {
                size_t S = (size_t)s->slots[i];
                memset(s->k[i] + (size_t)j * S * dh, 0, S * dh * sizeof(float));
                memset(s->v[i] + (size_t)j * S * dh, 0, S * dh * sizeof(float));
            }
        }
    }
}

int model_decode_step(model *m, decode_state *s, const int32_t *tokens, const uint8_t *active, float *logits) {
    const model_config *c = &m->cfg;
    const int B = s->B, D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int rot = config_rot_dims(c);
    const rglru_variant *rv = rglru_find(m->rglru);
    if (!rv) { util_error("unknown RG-LRU variant '%s'", m->rglru); return -1; }
    if (check_tokens(tokens, (size_t)B, V)) return -1;
    for (int b = 0; b < B; b++) {
        if (active && !active[b]) continue;
        for (int i = 0; i < c->depth; i++)
            if (c->pattern[i] == 'G' && s->n[b] >= s->capacity) {
                util_error("sequence %d: global KV cache full (capacity %d tokens)", b, s->capacity);
                return -1;
            }
    }
    for (int b = 0; b < B; b++) s->pos[b] = s->n[b];
    embed_tokens(s->x, embed_w(m), tokens, (size_t)B, D, model_embed_scale(c));
    for (int i = 0; i < c->depth; i++) {
        const layer_view *w = &m->w.layers[i];
        const layer_view16 *w16 = view16(m, i);
        rmsnorm_forward(s->n1, NULL, s->x, w->pre_norm, B, D, c->eps);
        if (w->type == 'R') {
            linear(s->ybr, s->n1, WMAT(w, w16, wy), w->by, B, D, L);
            linear(s->xbr, s->n1, WMAT(w, w16, wx), w->bx, B, D, L);
            if (active) {
                /* inactive sequences must keep their conv and RG-LRU state */
                const int K1 = c->conv_width - 1;
                for (int b = 0; b < B; b++) {
                    float *cs = s->conv[i] + (size_t)b * K1 * L;
                    if (active[b]) conv1d_step(s->cv + (size_t)b * L, cs, s->xbr + (size_t)b * L, w->conv_w, w->conv_b, 1, L, c->conv_width);
                }
            } else {
                conv1d_step(s->cv, s->conv[i], s->xbr, w->conv_w, w->conv_b, B, L, c->conv_width);
            }
            block_diag(s->gx, s->cv, WMAT(w, w16, gi_w), w->gi_b, B, L, c->gate_blocks);
            block_diag(s->ga, s->cv, WMAT(w, w16, ga_w), w->ga_b, B, L, c->gate_blocks);
            if (active) {
                for (int b = 0; b < B; b++) {
                    if (!active[b]) continue;
                    size_t o = (size_t)b * L;
                    rv->forward(s->hh + o, s->h[i] + o, s->cv + o, s->gx + o, s->ga + o, w->a_param, s->pos + b,
                                s->h[i] + o, NULL, 1, 1, L);
                }
            } else {
                rv->forward(s->hh, s->h[i], s->cv, s->gx, s->ga, w->a_param, s->pos, s->h[i], NULL, B, 1, L);
            }
            geglu_forward(s->hh, s->ybr, s->hh, (size_t)B * L);
            linear(s->tout, s->hh, WMAT(w, w16, wout), w->bout, B, L, D);
        } else {
            linear(s->q, s->n1, WMAT(w, w16, wq), NULL, B, D, HD);
            linear(s->kk, s->n1, WMAT(w, w16, wk), NULL, B, D, dh);
            linear(s->vv, s->n1, WMAT(w, w16, wv), NULL, B, D, dh);
            rope_forward(s->q, s->pos, B, H, dh, rot, c->rope_base);
            rope_forward(s->kk, s->pos, B, 1, dh, rot, c->rope_base);
            int S = s->slots[i];
            /* a local layer sees its last W cached keys plus the new one (W+1,
             * as in prefill); W = 0 keeps one slot but sees none of it */
            int keep = w->type == 'L' && c->window < S ? c->window : S;
            for (int b = 0; b < B; b++) s->nvalid[b] = s->n[b] < keep ? s->n[b] : keep;
            attn_decode(s->att, s->q, s->k[i], s->v[i], s->nvalid, s->kk, s->vv, B, H, dh, S);
            for (int b = 0; b < B; b++) {
                if (active && !active[b]) continue;
                int slot = w->type == 'L' ? s->n[b] % S : s->n[b];
                memcpy(s->k[i] + ((size_t)b * S + slot) * dh, s->kk + (size_t)b * dh, (size_t)dh * sizeof(float));
                memcpy(s->v[i] + ((size_t)b * S + slot) * dh, s->vv + (size_t)b * dh, (size_t)dh * sizeof(float));
            }
            linear(s->tout, s->att, WMAT(w, w16, wo), w->bo, B, HD, D);
        }
        add_inplace(s->x, s->tout, (size_t)B * D);
        rmsnorm_forward(s->n1, NULL, s->x, w->post_norm, B, D, c->eps);
        mlp_forward(s->tout, s->x, s->up, s->gated, s->n1, w, w16, B, D, MD);
        memcpy(s->x, s->tout, (size_t)B * D * sizeof(float));
    }
    rmsnorm_forward(s->n1, NULL, s->x, m->w.final_norm, B, D, c->eps);
    wgemm(1, B, V, D, s->n1, D, embed_w(m), 0, D, 0.0f, logits, V);
    if (c->softcap > 0) softcap_forward(logits, (size_t)B * V, c->softcap);
    for (int b = 0; b < B; b++)
        if (!active || active[b]) s->n[b]++;
    return 0;
}
