/* model_gpu.cu — MQA / Hawk / Griffin prefill and batched decode on the GPU
 * (model_gpu.h). A line-by-line mirror of model_forward and
 * model_decode_step in model.c, with every kernel replaced by its gpu.h
 * twin and every GEMM by cuBLAS (gpu_gemm, row-major convention):
 *   linear:      out = bias rows, then out += in . W^T        (gpu_fill_rows + gpu_gemm)
 *   block_diag:  out = bias rows, then nb strided GEMMs       (gpu_gemm_strided)
 *   MLP:         up = b + n2 . W_up (two branches), gated = gelu(up0) up1,
 *                out = res + b_down + gated . W_down^T
 * Weights: one device allocation laid out exactly as m->params, viewed
 * through model_view() with the device base pointer (so the tensor names
 * and offsets are the CPU's). Activations: one allocation for (B,T).
 * Decode state: one allocation for the caches, one for the step scratch.
 *
 * Tests: tests/test_gpu.c (CPU vs GPU logits for the tiny presets of all
 * three families; GPU decode == GPU prefill).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "model.h"
}
#include "cuda_common.cuh"
#include "gpu.h"
#include "model_gpu.h"

#define A16(x) (((x) + 15) & ~(size_t)15)

struct gpu_model {
    model_config cfg;
    model shadow;          /* cfg + tensor table, for model_view (params unused) */
    size_t nparams;
    float *params;         /* device, laid out as the CPU block */
    param_view w;          /* device pointers */
    char rglru[24], attn[24];
    /* activations for (B,T) */
    int B, T;
    float *act;            /* the one allocation */
    float *x, *n1, *tout, *ybr, *xbr, *conv, *gx, *ga, *h, *q, *k, *v, *att, *up, *gated, *logits;
    int32_t *tok, *pos;
};

struct gpu_decode {
    int B, capacity, depth;
    size_t L, K1, dh;                 /* widths for per-sequence resets */
    int32_t *n;                       /* (B) host */
    float *cache;                     /* the cache allocation */
    size_t cache_floats;
    float **h, **conv, **k, **v;      /* per layer, device (NULL where absent) */
    int *slots;                       /* per layer S (0 for recurrent) */
    float *scratch;                   /* step scratch allocation */
    float *x, *n1, *tout, *ybr, *xbr, *cv, *gx, *ga, *hh, *q, *kk, *vv, *att, *up, *gated, *logits;
    int32_t *ints;                    /* device: tok, pos, nvalid_l, slot_l, nvalid_g, slot_g (6B) */
    int32_t *hints;                   /* host staging for ints */
    uint8_t *active;                  /* device (B) */
};

/* ---- helpers ------------------------------------------------------------------------ */

static int linear(float *out, const float *in, const float *W, const float *bias, int N, int I, int O) {
    if (bias) GPU_TRY(gpu_fill_rows(out, NULL, bias, N, O));
    return gpu_gemm(0, 1, N, O, I, 1.0f, in, I, W, I, bias ? 1.0f : 0.0f, out, O);
}

static int block_diag(float *out, const float *in, const float *w, const float *b, int N, int C, int nb) {
    int bw = C / nb;
    GPU_TRY(gpu_fill_rows(out, NULL, b, N, C));
    return gpu_gemm_strided(0, 0, N, bw, bw, 1.0f, in, C, bw, w, bw, (long long)bw * bw, 1.0f, out, C, bw, nb);
}

/* out (N,D) = res + down(gelu(up0) * up1) with biases (model.c mlp_forward). */
static int mlp_forward(float *out, const float *res, float *up, float *gated, const float *n2, const layer_view *w,
                       int N, int D, int MD) {
    size_t NM = (size_t)N * MD;
    for (int br = 0; br < 2; br++) {
        float *u = up + (size_t)br * NM;
        GPU_TRY(gpu_fill_rows(u, NULL, w->up_b + (size_t)br * MD, N, MD));
        GPU_TRY(gpu_gemm(0, 0, N, MD, D, 1.0f, n2, D, w->up_w + (size_t)br * D * MD, MD, 1.0f, u, MD));
    }
    GPU_TRY(gpu_geglu_forward(gated, up, up + NM, NM));
    GPU_TRY(gpu_fill_rows(out, res, w->down_b, N, D));
    return gpu_gemm(0, 1, N, D, MD, 1.0f, gated, MD, w->down_w, MD, 1.0f, out, D);
}

static int check_tokens(const int32_t *tok, size_t N, int V) {
    for (size_t i = 0; i < N; i++)
        if (tok[i] < 0 || tok[i] >= V) {
            util_error("token %d at index %zu is outside the vocabulary [0, %d)", tok[i], i, V);
            return -1;
        }
    return 0;
}

/* conv state (B,K1,L) <- the last K1 rows of xbr (B,T,L), zero-padded on the left. */
__global__ void k_conv_state(float *st, const float *xbr, int B, int T, int L, int K1) {
    GRID_STRIDE(i, (size_t)B * K1 * L) {
        int c = (int)(i % L);
        size_t br = i / L;
        int r = (int)(br % K1), b = (int)(br / K1);
        int t = T - K1 + r;
        st[i] = t >= 0 ? xbr[((size_t)b * T + t) * L + c] : 0.0f;
    }
}

/* KV cache (B,S,dh) <- prefill k/v (B,T,dh): local keeps the last min(S,T)
 * keys at slot t % S; global stores slot t. */
__global__ void k_kv_prefill(float *kc, float *vc, const float *k, const float *v, int B, int T, int dh, int S,
                             int local) {
    GRID_STRIDE(i, (size_t)B * T * dh) {
        int d = (int)(i % dh);
        size_t bt = i / dh;
        int t = (int)(bt % T), b = (int)(bt / T);
        int t0 = local ? (T > S ? T - S : 0) : 0;
        if (t < t0) continue;
        int slot = local ? t % S : t;
        size_t o = ((size_t)b * S + slot) * dh + d;
        kc[o] = k[i];
        vc[o] = v[i];
    }
}

static const char *pick(const char *name, const char *fallback, int is_rglru) {
    if (is_rglru ? gpu_rglru_find(name) != NULL : gpu_attn_find(name) != NULL) return name;
    return fallback;
}

/* ---- create / free ------------------------------------------------------------------- */

extern "C" gpu_model *gpu_model_create(const model *m) {
    char why[256];
    if (!gpu_available(why, sizeof why)) {
        util_error("%s", why);
        return NULL;
    }
    gpu_model *g = (gpu_model *)calloc(1, sizeof *g);
    CHECK_ALLOC(g);
    g->cfg = m->cfg;
    g->nparams = m->nparams;
    g->shadow.cfg = m->cfg;
    g->shadow.ntensors = m->ntensors;
    g->shadow.tensors = (tensor_desc *)malloc((size_t)m->ntensors * sizeof(tensor_desc));
    CHECK_ALLOC(g->shadow.tensors);
    memcpy(g->shadow.tensors, m->tensors, (size_t)m->ntensors * sizeof(tensor_desc));
    g->shadow.nparams = m->nparams;
    g->params = (float *)gpu_alloc(m->nparams * sizeof(float));
    if (!g->params || gpu_upload(g->params, m->params, m->nparams * sizeof(float)) != 0) {
        gpu_model_free(g);
        return NULL;
    }
    model_view(&g->shadow, g->params, &g->w);
    snprintf(g->rglru, sizeof g->rglru, "%s", pick(m->rglru, GPU_RGLRU_DEFAULT, 1));
    snprintf(g->attn, sizeof g->attn, "%s", pick(m->attn, GPU_ATTN_DEFAULT, 0));
    return g;
}

extern "C" void gpu_model_free(gpu_model *g) {
    if (!g) return;
    if (g->w.layers) model_view_free(&g->w);
    free(g->shadow.tensors);
    gpu_free(g->params);
    gpu_free(g->act);
    gpu_free(g->tok);
    free(g);
}

extern "C" int gpu_model_upload(gpu_model *g, const model *m) {
    if (m->nparams != g->nparams || m->cfg.width != g->cfg.width || m->cfg.depth != g->cfg.depth ||
        strcmp(m->cfg.pattern, g->cfg.pattern) != 0) {
        util_error("gpu_model_upload: the model's config differs from the uploaded one");
        return -1;
    }
    return gpu_upload(g->params, m->params, m->nparams * sizeof(float));
}

extern "C" int gpu_model_set_variants(gpu_model *g, const char *rglru, const char *attn) {
    if (rglru) {
        if (!gpu_rglru_find(rglru)) {
            util_error("unknown GPU RG-LRU variant '%s'", rglru);
            return -1;
        }
        snprintf(g->rglru, sizeof g->rglru, "%s", rglru);
    }
    if (attn) {
        if (!gpu_attn_find(attn)) {
            util_error("unknown GPU attention variant '%s'", attn);
            return -1;
        }
        snprintf(g->attn, sizeof g->attn, "%s", attn);
    }
    return 0;
}

extern "C" size_t gpu_model_param_bytes(const gpu_model *g) { return g->nparams * sizeof(float); }
extern "C" const float *gpu_model_logits(const gpu_model *g) { return g->logits; }

/* ---- activations ---------------------------------------------------------------------- */

static int acts_alloc(gpu_model *g, int B, int T) {
    if (g->act && g->B == B && g->T == T) return 0;
    gpu_free(g->act);
    gpu_free(g->tok);
    g->act = NULL;
    g->tok = NULL;
    g->B = g->T = 0;
    const model_config *c = &g->cfg;
    size_t N = (size_t)B * T, D = c->width, L = c->lru_width, MD = (size_t)c->mlp_expansion * c->width;
    size_t dh = config_head_dim(c), HD = (size_t)c->heads * dh;
    int has_r = strchr(c->pattern, 'R') != NULL, has_a = strchr(c->pattern, 'L') || strchr(c->pattern, 'G');
    size_t sz_x = A16(N * D), sz_l = has_r ? A16(N * L) : 0, sz_q = has_a ? A16(N * HD) : 0;
    size_t sz_k = has_a ? A16(N * dh) : 0, sz_up = A16(2 * N * MD), sz_g = A16(N * MD);
    size_t sz_lg = A16(N * (size_t)c->vocab);
    size_t total = 3 * sz_x + 6 * sz_l + 2 * sz_q + 2 * sz_k + sz_up + sz_g + sz_lg;
    g->act = (float *)gpu_alloc(total * sizeof(float));
    if (!g->act) return -1;
    g->tok = (int32_t *)gpu_alloc(2 * A16(N) * sizeof(int32_t));
    if (!g->tok) {
        gpu_free(g->act);
        g->act = NULL;
        return -1;
    }
    g->pos = g->tok + A16(N);
    float *p = g->act;
#define TAKE(dst, sz) do { dst = (sz) ? p : NULL; p += (sz); } while (0)
    TAKE(g->x, sz_x); TAKE(g->n1, sz_x); TAKE(g->tout, sz_x);
    TAKE(g->ybr, sz_l); TAKE(g->xbr, sz_l); TAKE(g->conv, sz_l); TAKE(g->gx, sz_l); TAKE(g->ga, sz_l); TAKE(g->h, sz_l);
    TAKE(g->q, sz_q); TAKE(g->att, sz_q); TAKE(g->k, sz_k); TAKE(g->v, sz_k);
    TAKE(g->up, sz_up); TAKE(g->gated, sz_g); TAKE(g->logits, sz_lg);
#undef TAKE
    g->B = B;
    g->T = T;
    return 0;
}

/* ---- prefill --------------------------------------------------------------------------- */

extern "C" int gpu_model_forward(gpu_model *g, const int32_t *tokens, const int32_t *pos, int B, int T,
                                 float *logits, gpu_decode *st) {
    const model_config *c = &g->cfg;
    const int D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int N = B * T, rot = config_rot_dims(c), K = c->conv_width;
    if (B <= 0 || T <= 0) {
        util_error("gpu_model_forward: bad shape B=%d T=%d", B, T);
        return -1;
    }
    if (check_tokens(tokens, (size_t)N, V)) return -1;
    const gpu_rglru_variant *rv = gpu_rglru_find(g->rglru);
    const gpu_attn_variant *av = gpu_attn_find(g->attn);
    if (!rv || !av) {
        util_error("unknown GPU variant (rglru '%s', attn '%s')", g->rglru, g->attn);
        return -1;
    }
    if (st) {
        if (st->B != B) {
            util_error("decode state is for B=%d, prefill has B=%d", st->B, B);
            return -1;
        }
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
    GPU_TRY(acts_alloc(g, B, T));
    GPU_TRY(gpu_upload(g->tok, tokens, (size_t)N * sizeof(int32_t)));
    GPU_TRY(gpu_upload(g->pos, pos, (size_t)N * sizeof(int32_t)));
    float *x = g->x;
    GPU_TRY(gpu_embed(x, g->w.embed, g->tok, N, D, model_embed_scale(c)));
    for (int i = 0; i < c->depth; i++) {
        const layer_view *w = &g->w.layers[i];
        GPU_TRY(gpu_rmsnorm_forward(g->n1, NULL, x, w->pre_norm, N, D, c->eps));
        if (w->type == 'R') {
            GPU_TRY(linear(g->ybr, g->n1, w->wy, w->by, N, D, L));
            GPU_TRY(linear(g->xbr, g->n1, w->wx, w->bx, N, D, L));
            GPU_TRY(gpu_conv1d_forward(g->conv, g->xbr, w->conv_w, w->conv_b, g->pos, B, T, L, K));
            GPU_TRY(block_diag(g->gx, g->conv, w->gi_w, w->gi_b, N, L, c->gate_blocks));
            GPU_TRY(block_diag(g->ga, g->conv, w->ga_w, w->ga_b, N, L, c->gate_blocks));
            GPU_TRY(rv->forward(g->h, st ? st->h[i] : NULL, g->conv, g->gx, g->ga, w->a_param, g->pos, NULL, B, T, L));
            GPU_TRY(gpu_geglu_forward(g->ybr, g->ybr, g->h, (size_t)N * L)); /* prod, in place */
            GPU_TRY(linear(g->tout, g->ybr, w->wout, w->bout, N, L, D));
            if (st && K > 1) {
                size_t n = (size_t)B * (K - 1) * L;
                k_conv_state<<<gpu_blocks(n, 256), 256>>>(st->conv[i], g->xbr, B, T, L, K - 1);
                KERNEL_CHECK();
            }
        } else {
            GPU_TRY(linear(g->q, g->n1, w->wq, NULL, N, D, HD));
            GPU_TRY(linear(g->k, g->n1, w->wk, NULL, N, D, dh));
            GPU_TRY(linear(g->v, g->n1, w->wv, NULL, N, D, dh));
            GPU_TRY(gpu_rope_forward(g->q, g->pos, N, H, dh, rot, c->rope_base));
            GPU_TRY(gpu_rope_forward(g->k, g->pos, N, 1, dh, rot, c->rope_base));
            int window = w->type == 'L' ? c->window : -1;
            GPU_TRY(av->forward(g->att, NULL, g->q, g->k, g->v, g->pos, B, T, H, dh, window));
            GPU_TRY(linear(g->tout, g->att, w->wo, w->bo, N, HD, D));
            if (st) {
                size_t n = (size_t)B * T * dh;
                k_kv_prefill<<<gpu_blocks(n, 256), 256>>>(st->k[i], st->v[i], g->k, g->v, B, T, dh, st->slots[i],
                                                         w->type == 'L');
                KERNEL_CHECK();
            }
        }
        /* res1 = x + temporal(x), kept in tout */
        GPU_TRY(gpu_add(g->tout, x, (size_t)N * D));
        GPU_TRY(gpu_rmsnorm_forward(g->n1, NULL, g->tout, w->post_norm, N, D, c->eps));
        GPU_TRY(mlp_forward(x, g->tout, g->up, g->gated, g->n1, w, N, D, MD));
    }
    GPU_TRY(gpu_rmsnorm_forward(g->n1, NULL, x, g->w.final_norm, N, D, c->eps));
    GPU_TRY(gpu_gemm(0, 1, N, V, D, 1.0f, g->n1, D, g->w.embed, D, 0.0f, g->logits, V));
    if (c->softcap > 0) GPU_TRY(gpu_softcap_forward(g->logits, (size_t)N * V, c->softcap));
    if (logits) GPU_TRY(gpu_download(logits, g->logits, (size_t)N * V * sizeof(float)));
    if (st)
        for (int b = 0; b < B; b++) st->n[b] = T;
    return 0;
}

/* ---- decode ------------------------------------------------------------------------------- */

extern "C" gpu_decode *gpu_decode_create(gpu_model *g, int B, int capacity) {
    const model_config *c = &g->cfg;
    if (B <= 0) {
        util_error("gpu_decode_create: B = %d", B);
        return NULL;
    }
    const size_t D = c->width, L = c->lru_width, dh = config_head_dim(c), HD = (size_t)c->heads * dh;
    const size_t MD = (size_t)c->mlp_expansion * c->width, K1 = (size_t)c->conv_width - 1;
    gpu_decode *s = (gpu_decode *)calloc(1, sizeof *s);
    CHECK_ALLOC(s);
    int nl = c->depth;
    s->B = B;
    s->capacity = capacity;
    s->depth = nl;
    s->L = L;
    s->K1 = K1;
    s->dh = dh;
    s->n = (int32_t *)calloc((size_t)B, sizeof(int32_t));
    s->h = (float **)calloc((size_t)nl, sizeof(float *));
    s->conv = (float **)calloc((size_t)nl, sizeof(float *));
    s->k = (float **)calloc((size_t)nl, sizeof(float *));
    s->v = (float **)calloc((size_t)nl, sizeof(float *));
    s->slots = (int *)calloc((size_t)nl, sizeof(int));
    s->hints = (int32_t *)calloc(6 * (size_t)B, sizeof(int32_t));
    CHECK_ALLOC(s->n); CHECK_ALLOC(s->h); CHECK_ALLOC(s->conv); CHECK_ALLOC(s->k); CHECK_ALLOC(s->v);
    CHECK_ALLOC(s->slots); CHECK_ALLOC(s->hints);
    size_t total = 0;
    for (int i = 0; i < nl; i++) {
        char t = c->pattern[i];
        if (t == 'R') {
            total += A16((size_t)B * L) + A16((size_t)B * K1 * L);
        } else {
            int S = t == 'L' ? (c->window > 0 ? c->window : 1) : capacity;
            if (S < 1) S = 1;
            s->slots[i] = S;
            total += 2 * A16((size_t)B * S * dh);
        }
    }
    s->cache_floats = total;
    s->cache = (float *)gpu_alloc(total * sizeof(float));
    if (!s->cache) {
        gpu_decode_free(s);
        return NULL;
    }
    float *p = s->cache;
    for (int i = 0; i < nl; i++) {
        if (c->pattern[i] == 'R') {
            s->h[i] = p; p += A16((size_t)B * L);
            s->conv[i] = p; p += A16((size_t)B * K1 * L);
        } else {
            size_t n = A16((size_t)B * s->slots[i] * dh);
            s->k[i] = p; p += n;
            s->v[i] = p; p += n;
        }
    }
    size_t Lm = L > 0 ? L : 1, HDm = HD ? HD : 1, dhm = dh ? dh : 1, Bz = (size_t)B;
    size_t sc = 3 * A16(Bz * D) + 6 * A16(Bz * Lm) + 2 * A16(Bz * HDm) + 2 * A16(Bz * dhm) + A16(2 * Bz * MD) +
                A16(Bz * MD) + A16(Bz * (size_t)c->vocab) + A16(6 * Bz) + A16(Bz);
    s->scratch = (float *)gpu_alloc(sc * sizeof(float));
    if (!s->scratch) {
        gpu_decode_free(s);
        return NULL;
    }
    p = s->scratch;
#define TAKE(dst, sz) do { dst = p; p += (sz); } while (0)
    TAKE(s->x, A16(Bz * D)); TAKE(s->n1, A16(Bz * D)); TAKE(s->tout, A16(Bz * D));
    TAKE(s->ybr, A16(Bz * Lm)); TAKE(s->xbr, A16(Bz * Lm)); TAKE(s->cv, A16(Bz * Lm));
    TAKE(s->gx, A16(Bz * Lm)); TAKE(s->ga, A16(Bz * Lm)); TAKE(s->hh, A16(Bz * Lm));
    TAKE(s->q, A16(Bz * HDm)); TAKE(s->att, A16(Bz * HDm)); TAKE(s->kk, A16(Bz * dhm)); TAKE(s->vv, A16(Bz * dhm));
    TAKE(s->up, A16(2 * Bz * MD)); TAKE(s->gated, A16(Bz * MD)); TAKE(s->logits, A16(Bz * (size_t)c->vocab));
#undef TAKE
    s->ints = (int32_t *)p;
    p += A16(6 * Bz);
    s->active = (uint8_t *)p;
    return s;
}

extern "C" void gpu_decode_free(gpu_decode *s) {
    if (!s) return;
    gpu_free(s->cache);
    gpu_free(s->scratch);
    free(s->n); free(s->h); free(s->conv); free(s->k); free(s->v); free(s->slots); free(s->hints);
    free(s);
}

extern "C" int gpu_decode_reset(gpu_decode *s, int b) {
    if (b < 0) {
        memset(s->n, 0, (size_t)s->B * sizeof(int32_t));
        return gpu_memset(s->cache, 0, s->cache_floats * sizeof(float));
    }
    if (b >= s->B) {
        util_error("gpu_decode_reset: sequence %d of %d", b, s->B);
        return -1;
    }
    s->n[b] = 0;
    for (int i = 0; i < s->depth; i++) {
        if (s->h[i]) {
            GPU_TRY(gpu_memset(s->h[i] + (size_t)b * s->L, 0, s->L * sizeof(float)));
            GPU_TRY(gpu_memset(s->conv[i] + (size_t)b * s->K1 * s->L, 0, s->K1 * s->L * sizeof(float)));
        }
        if (s->k[i]) {
            size_t S = (size_t)s->slots[i];
            GPU_TRY(gpu_memset(s->k[i] + (size_t)b * S * s->dh, 0, S * s->dh * sizeof(float)));
            GPU_TRY(gpu_memset(s->v[i] + (size_t)b * S * s->dh, 0, S * s->dh * sizeof(float)));
        }
    }
    return 0;
}

extern "C" const float *gpu_decode_logits(const gpu_decode *s) { return s->logits; }
extern "C" int gpu_decode_tokens(const gpu_decode *s, int b) { return (b >= 0 && b < s->B) ? s->n[b] : -1; }
extern "C" size_t gpu_decode_bytes(const gpu_decode *s) { return s->cache_floats * sizeof(float); }

extern "C" int gpu_decode_step(gpu_model *g, gpu_decode *s, const int32_t *tokens, const uint8_t *active,
                               float *logits) {
    const model_config *c = &g->cfg;
    const int B = s->B, D = c->width, L = c->lru_width, V = c->vocab;
    const int MD = c->mlp_expansion * c->width, dh = config_head_dim(c), H = c->heads, HD = H * dh;
    const int rot = config_rot_dims(c), K = c->conv_width;
    if (s->depth != c->depth) {
        util_error("gpu_decode_step: decode state belongs to another model");
        return -1;
    }
    if (check_tokens(tokens, (size_t)B, V)) return -1;
    for (int b = 0; b < B; b++) {
        if (active && !active[b]) continue;
        for (int i = 0; i < c->depth; i++)
            if (c->pattern[i] == 'G' && s->n[b] >= s->capacity) {
                util_error("sequence %d: global KV cache full (capacity %d tokens)", b, s->capacity);
                return -1;
            }
    }
    /* host-side per-step integers, one upload: tok, pos, nvalid/slot for the
     * local ring (S = W) and for the global cache (S = capacity) */
    int SL = 1;
    for (int i = 0; i < c->depth; i++)
        if (c->pattern[i] == 'L') SL = s->slots[i];
    int KL = c->window < SL ? c->window : SL; /* keys kept visible: W (0 sees only the new one) */
    int32_t *hi = s->hints;
    for (int b = 0; b < B; b++) {
        int n = s->n[b];
        hi[b] = tokens[b];
        hi[B + b] = n;
        hi[2 * B + b] = n < KL ? n : KL;
        hi[3 * B + b] = n % SL;
        hi[4 * B + b] = n < s->capacity ? n : s->capacity;
        hi[5 * B + b] = n;
    }
    GPU_TRY(gpu_upload(s->ints, hi, 6 * (size_t)B * sizeof(int32_t)));
    const int32_t *d_tok = s->ints, *d_pos = s->ints + B;
    const uint8_t *d_act = NULL;
    if (active) {
        GPU_TRY(gpu_upload(s->active, active, (size_t)B));
        d_act = s->active;
    }
    float *x = s->x, *y = s->tout;
    GPU_TRY(gpu_embed(x, g->w.embed, d_tok, B, D, model_embed_scale(c)));
    for (int i = 0; i < c->depth; i++) {
        const layer_view *w = &g->w.layers[i];
        GPU_TRY(gpu_rmsnorm_forward(s->n1, NULL, x, w->pre_norm, B, D, c->eps));
        if (w->type == 'R') {
            GPU_TRY(linear(s->ybr, s->n1, w->wy, w->by, B, D, L));
            GPU_TRY(linear(s->xbr, s->n1, w->wx, w->bx, B, D, L));
            GPU_TRY(gpu_conv1d_step(s->cv, s->conv[i], s->xbr, w->conv_w, w->conv_b, d_act, B, L, K));
            GPU_TRY(block_diag(s->gx, s->cv, w->gi_w, w->gi_b, B, L, c->gate_blocks));
            GPU_TRY(block_diag(s->ga, s->cv, w->ga_w, w->ga_b, B, L, c->gate_blocks));
            GPU_TRY(gpu_rglru_step(s->hh, s->h[i], s->cv, s->gx, s->ga, w->a_param, d_pos, d_act, B, L));
            GPU_TRY(gpu_geglu_forward(s->hh, s->ybr, s->hh, (size_t)B * L));
            GPU_TRY(linear(y, s->hh, w->wout, w->bout, B, L, D));
        } else {
            GPU_TRY(linear(s->q, s->n1, w->wq, NULL, B, D, HD));
            GPU_TRY(linear(s->kk, s->n1, w->wk, NULL, B, D, dh));
            GPU_TRY(linear(s->vv, s->n1, w->wv, NULL, B, D, dh));
            GPU_TRY(gpu_rope_forward(s->q, d_pos, B, H, dh, rot, c->rope_base));
            GPU_TRY(gpu_rope_forward(s->kk, d_pos, B, 1, dh, rot, c->rope_base));
            int S = s->slots[i], local = w->type == 'L';
            const int32_t *nvalid = s->ints + (local ? 2 : 4) * B, *slot = s->ints + (local ? 3 : 5) * B;
            GPU_TRY(gpu_attn_decode(s->att, s->q, s->k[i], s->v[i], nvalid, s->kk, s->vv, B, H, dh, S));
            GPU_TRY(gpu_kv_write_slot(s->k[i], s->v[i], s->kk, s->vv, slot, d_act, B, dh, S));
            GPU_TRY(linear(y, s->att, w->wo, w->bo, B, HD, D));
        }
        GPU_TRY(gpu_add(x, y, (size_t)B * D));
        GPU_TRY(gpu_rmsnorm_forward(s->n1, NULL, x, w->post_norm, B, D, c->eps));
        GPU_TRY(mlp_forward(y, x, s->up, s->gated, s->n1, w, B, D, MD));
        float *tmp = x; /* the MLP output is the next block's input */
        x = y;
        y = tmp;
    }
    GPU_TRY(gpu_rmsnorm_forward(s->n1, NULL, x, g->w.final_norm, B, D, c->eps));
    GPU_TRY(gpu_gemm(0, 1, B, V, D, 1.0f, s->n1, D, g->w.embed, D, 0.0f, s->logits, V));
    if (c->softcap > 0) GPU_TRY(gpu_softcap_forward(s->logits, (size_t)B * V, c->softcap));
    if (logits) GPU_TRY(gpu_download(logits, s->logits, (size_t)B * V * sizeof(float)));
    for (int b = 0; b < B; b++)
        if (!active || active[b]) s->n[b]++;
    return 0;
}
