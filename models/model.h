/* model.h — the three model families, written once over a backend table
 * (kernels/backend.h): parameter layout (one allocation, named tensors in
 * the official recurrentgemma naming), seeded initialisation, prefill
 * (forward over B sequences of T tokens with segment positions), batched
 * decode with per-sequence caches, and the backward pass (models/model.c
 * holds all three; models/train.c adds the loss on top).
 *
 * Data flow: tokens (B,T) + pos (B,T) -> embedding -> N residual blocks
 * (pre-norm; temporal block = recurrent / local MQA / global MQA; gated MLP)
 * -> final RMSNorm -> tied logits (B,T,V) -> optional soft-cap.
 * Every operation goes through model->be (cpu by default); the RG-LRU and
 * attention variants are chosen by name (model->rglru, model->attn) and
 * resolved by the backend, which rejects an unknown name.
 *
 * Buffers: activations, gradients and decode state are each one backend
 * allocation, laid out by one planner in model.c (16-float aligned slots);
 * the per-block cache size comes from config_block_state (config.h).
 */
#ifndef GRIFFIN_MODEL_H
#define GRIFFIN_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "attention.h"
#include "backend.h"
#include "config.h"
#include "scan.h"

#define TENSOR_NAME_MAX 96

typedef enum { INIT_ZERO = 0, INIT_NORMAL, INIT_APARAM } init_kind;

/* Weight storage. F32: every tensor fp32 (training and inference). BF16
 * (inference only): the GEMM weights (tensor_desc.gemm: embedding, every
 * linear and gate matrix) stored once in bfloat16, half the bytes; norms,
 * biases, conv taps and a_param stay fp32, as do activations and state. The
 * model's GEMMs then run gemm_bf16 (matmul.h). */
typedef enum { WEIGHTS_F32 = 0, WEIGHTS_BF16 = 1 } weights_dtype;
/* "f32" | "bf16" -> *out; 0, or -1 for another name. */
int weights_parse(const char *name, weights_dtype *out);
const char *weights_name(weights_dtype w);

typedef struct {
    char name[TENSOR_NAME_MAX];
    int ndim;
    int64_t shape[4];
    size_t offset;    /* in floats, into the parameter block */
    size_t numel;
    init_kind init;
    float std;        /* for INIT_NORMAL */
    int decay;        /* AdamW weight decay applies */
    int layer;        /* block index or -1 */
    int gemm;         /* a GEMM operand (bf16 under WEIGHTS_BF16) */
    int bf16;         /* stored in bf16: offset is into model.params16 */
} tensor_desc;

/* Named pointers into a parameter-shaped block (weights or gradients). */
typedef struct {
    char type;                        /* 'R', 'L' or 'G' */
    float *pre_norm, *post_norm;      /* (D) temporal_pre_norm, channel_pre_norm */
    /* recurrent */
    float *wy, *by, *wx, *bx;         /* (L,D), (L) */
    float *wout, *bout;               /* (D,L), (D) */
    float *conv_w, *conv_b;           /* (K,L), (L) */
    float *a_param;                   /* (L) */
    float *gi_w, *gi_b, *ga_w, *ga_b; /* (nb,bw,bw), (nb,bw) */
    /* attention */
    float *wq, *wk, *wv;              /* (H*dh,D), (dh,D), (dh,D) */
    float *wo, *bo;                   /* (D,H*dh), (D) */
    /* MLP */
    float *up_w, *up_b;               /* (2,D,M*D), (2,1,1,M*D) */
    float *down_w, *down_b;           /* (D,M*D), (D) */
} layer_view;

typedef struct {
    float *embed;       /* (V,D) */
    float *final_norm;  /* (D) */
    layer_view *layers; /* depth */
} param_view;

/* The bf16-stored GEMM weights of a WEIGHTS_BF16 model (shapes as above);
 * the matching float pointers in param_view are then NULL. */
typedef struct {
    const uint16_t *wy, *wx, *wout, *gi_w, *ga_w, *wq, *wk, *wv, *wo, *up_w, *down_w;
} layer_view16;
typedef struct {
    const uint16_t *embed;
    layer_view16 *layers;
} param_view16;

/* Activations of one forward pass, sized for (B,T) at allocation.
 * When `saved` is set every layer keeps its own buffers (training);
 * otherwise all layers share one set (inference). */
typedef struct {
    float *x_in;             /* (B,T,D) residual stream entering the block */
    float *n1, *rstd1;       /* (B,T,D), (B,T) */
    float *ybr, *xbr, *conv; /* (B,T,L) */
    float *gx, *ga, *h;      /* (B,T,L) */
    float *prod;             /* (B,T,L) h * gelu(ybr) */
    float *q, *k, *v;        /* (B,T,H*dh), (B,T,dh), (B,T,dh) */
    float *att, *lse;        /* (B,T,H*dh), (B,H,T) */
    float *res1;             /* (B,T,D) after the temporal block */
    float *n2, *rstd2;       /* (B,T,D), (B,T) */
    float *up;               /* (2,B,T,M*D) pre-activations of both MLP branches */
    float *gated;            /* (B,T,M*D) */
} layer_acts;

typedef struct {
    int B, T, saved;
    float *block;            /* the one allocation */
    size_t nfloats;
    layer_acts *layers;      /* depth entries (aliases when !saved) */
    float *x_out;            /* (B,T,D) final residual stream */
    float *nf, *rstdf;       /* (B,T,D), (B,T) final norm */
    float *logits;           /* (B,T,V) */
    float *work;             /* RG-LRU workspace */
    int32_t *tok, *pos;      /* (B,T) the forward's inputs, in backend memory */
    int32_t *tgt;            /* (B,T) loss targets (model_loss) */
    float *rowloss;          /* (B,T) per-token loss (model_loss) */
    const backend *be;       /* the backend that owns block */
    int vocab;
    float *host_logits;      /* host copy for model_acts_logits (device backends) */
} model_acts;

typedef struct {
    model_config cfg;
    int ntensors;
    tensor_desc *tensors;
    size_t nparams;          /* floats in params (every tensor under F32) */
    float *params;           /* one allocation */
    param_view w;
    weights_dtype wdtype;
    size_t nparams16;        /* bf16 values in params16 (0 under F32) */
    uint16_t *params16;      /* the bf16 tensors (WEIGHTS_BF16), one allocation */
    param_view16 w16;
    char rglru[24];          /* RG-LRU variant name */
    char attn[24];           /* prefill attention variant name */
    const backend *be;       /* the device every operation runs on (cpu) */
    float *dparams;          /* the parameters the backend computes with: params */
    uint16_t *dparams16;     /*   itself on the cpu, a device copy on cuda (w, w16 point here) */
} model;

/* Build the tensor table for a config (caller frees *out with free()). */
int model_layout(const model_config *c, tensor_desc **out, int *n, size_t *nparams);
/* Point a view at a parameter-shaped block laid out by model_layout. */
void model_view(const model *m, float *base, param_view *v);
void model_view_free(param_view *v);

/* Allocate parameters for a (finalized) config. 0 or -1. */
int model_create(model *m, const model_config *c);
/* The same with a weight storage type (model_create is WEIGHTS_F32). A BF16
 * model serves prefill and decode; training needs F32. 0 or -1. */
int model_create_dtype(model *m, const model_config *c, weights_dtype w);
/* Parameters (sum of tensor sizes) and the bytes their storage takes: what a
 * decode step streams. */
size_t model_param_count(const model *m);
double model_weight_bytes(const model *m);
void model_free(model *m);
/* Seeded initialisation (spec §1 table; reproducible across thread counts).
 * A BF16 model gets the same values rounded to bf16. Drawn on the host and
 * uploaded to a device model. 0, or -1 (a device error). */
int model_init_weights(model *m, uint64_t seed);
const tensor_desc *model_find_tensor(const model *m, const char *name);

/* Move the model's weights to backend `be` (the cpu, or a device: uploaded
 * once; `params`/`params16` stay the host copy for initialisation and
 * checkpoints). The variant names become the device's defaults (set names
 * after this call). Buffers allocated before the move are refused by the
 * forward. 0, or -1 with util_last_error() (out of device memory, ...). */
int model_set_device(model *m, const backend *be);
/* Host copy <- device copy (after training on a device; before a checkpoint)
 * and the reverse (after loading weights into params). No-ops on the cpu. */
int model_sync_host(model *m);
int model_sync_device(model *m);

int model_acts_alloc(model_acts *a, const model *m, int B, int T, int saved);
void model_acts_free(model_acts *a);
/* The last forward's logits (B,T,V) readable on the host: a->logits itself
 * on the cpu, else downloaded into a host buffer. NULL on a backend error. */
const float *model_acts_logits(model_acts *a);

/* Prefill. tokens, pos (B,T); logits land in a->logits (B,T,V).
 * If st != NULL, the decode state for each sequence is set from this
 * prefill (every sequence must be one document: pos = 0..T-1).
 * Returns 0, or -1 with util_last_error() (bad token, shape mismatch). */
struct decode_state;
int model_forward(model *m, model_acts *a, const int32_t *tokens, const int32_t *pos,
                  struct decode_state *st);

/* ---- decode -------------------------------------------------------------- */
typedef struct decode_state {
    int B, depth;
    int capacity;            /* global-attention KV capacity (tokens) */
    int32_t *n;              /* (B) host: tokens seen by each sequence */
    float **h;               /* per layer (B,L) or NULL */
    float **conv;            /* per layer (B,K-1,L) or NULL */
    float **k, **v;          /* per layer (B,S,dh): S = W (local) or capacity (global) */
    int *slots;              /* per layer S (0 for recurrent) */
    /* scratch for one step (backend memory, like the caches) */
    float *x, *n1, *ybr, *xbr, *cv, *gx, *ga, *hh, *q, *kk, *vv, *att, *up, *gated, *logits;
    int32_t *dn;             /* (B) n in backend memory (== n on host-memory backends) */
    int32_t *tok, *pos;      /* (B) this step's tokens and positions */
    int32_t *nvalid_l, *nvalid_g; /* (B) valid slots of the local / global caches */
    uint8_t *active;         /* (B) this step's mask, right after tok (one upload for both) */
    size_t bytes;            /* cache bytes (h, conv, KV) */
    float *block;            /* the one allocation (caches, then scratch) */
    const backend *be;
    /* Graph decode (backends with `graphs`): a step uploads tokens and mask
     * in one copy, replays the captured step (positions advance on the
     * device) and downloads the logits: no other host<->device copy. The
     * step is captured after one eager warm-up step (which sizes every
     * scratch buffer) for this state's (B, caches) and this model's weights
     * and variants, and captured again when any of them changes or the
     * backend says the graph is stale. */
    int graphs;              /* 1: use graphs (default be->graphs; GRIFFIN_NO_GRAPH=1 or 0 here: eager) */
    void *graph;             /* the captured step, or NULL */
    int graph_warm;          /* an eager step ran for the current key */
    const void *graph_key[3];/* model, its fp32 and bf16 weights at capture */
    char graph_variants[64]; /* "rglru/attn" at capture */
    unsigned char *hin;      /* host staging: B int32 tokens then B mask bytes */
    long graph_captures, graph_replays;
} decode_state;

/* capacity: max tokens per sequence for global attention layers (ignored
 * when the model has none). 0 or -1 (allocation too large). */
int decode_state_alloc(decode_state *s, const model *m, int B, int capacity);
void decode_state_free(decode_state *s);
/* Forget sequence b (n = 0, zero state). b < 0: every sequence. */
void decode_state_reset(decode_state *s, const model *m, int b);
/* Set every sequence's token count to len (the caches keep their values:
 * a step's work depends on the count, not on them) and publish it to the
 * backend (one upload on a device). 0 or -1. */
int decode_state_seek(decode_state *s, int len);
/* One decode step: tokens (B) at positions s->n; logits (B,V) out.
 * active (B) may be NULL (all step) or mask which sequences advance.
 * Returns 0, or -1 when a global cache is full (names the sequence). */
int model_decode_step(model *m, decode_state *s, const int32_t *tokens, const uint8_t *active,
                      float *logits);

/* ---- backward ------------------------------------------------------------
 * Parameter gradients are accumulated (+=) into `grads` (laid out like the
 * parameters); call model_zero_grad() first. Activation gradients live in
 * model_grads and are overwritten on every call. */
typedef struct {
    int B, T;
    float *grads;        /* (nparams) parameter gradients, += (backend memory) */
    param_view gw;       /* named views into grads */
    float *block;        /* activation-gradient scratch (one allocation) */
    float *dlogits;      /* (B,T,V) */
    float *dx, *dres, *dn, *dtout;                       /* (B,T,D) */
    float *dprod, *dybr, *dh, *dconv, *dgx, *dga, *dxbr; /* (B,T,L) */
    float *dq, *datt, *dk, *dv;                          /* (B,T,H*dh), (B,T,dh) */
    float *dgated, *dup;                                 /* (B,T,MD), (2,B,T,MD) */
    float *rowloss;      /* (B,T) per-token loss (host) */
    float *roww;         /* (B,T) per-token weight of the mean (host) */
    float *droww;        /* (B,T) the same in backend memory */
    /* When non-NULL, model_backward calls ready(ready_ctx, off, n) each time
     * the parameter gradients grads[off, off+n) (floats) are final: the
     * final norm first, then each block as its backward completes (reverse
     * block order), the embedding last. The ranges cover grads exactly once
     * (padding between tensors included). On a device backend the range is
     * device memory, ready when the backend's stream reaches this point. */
    void (*ready)(void *ctx, size_t off, size_t n);
    void *ready_ctx;
    const backend *be;
} model_grads;

int model_grads_alloc(model_grads *g, const model *m, int B, int T);
void model_grads_free(model_grads *g);
void model_zero_grad(model_grads *g, const model *m);

/* Backward of the forward in `a` (saved activations) from g->dlogits, the
 * loss's gradient w.r.t. the model's output a->logits (after the soft-cap;
 * g->dlogits is overwritten on the way). Parameter gradients +=. 0, or -1
 * with util_last_error() (unsaved activations, shape mismatch). */
int model_backward(model *m, const model_acts *a, model_grads *g);

/* bf16 rounding of sqrt(D), as the reference scales embeddings. */
float model_embed_scale(const model_config *c);

#endif
