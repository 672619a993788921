/* config.h — one model configuration type for the three families (MQA
 * Transformer, Hawk, Griffin), the presets (paper Appendix C sizes,
 * RecurrentGemma, small CPU sizes) and the derived counts (parameters,
 * decode-state bytes) that `griffin models` prints.
 *
 * The block pattern is one character per block: 'R' recurrent (RG-LRU),
 * 'L' local MQA (window W), 'G' global MQA. It defaults from the family
 * (MQA all G, Hawk all R, Griffin R,R,L repeating) and may be overridden.
 */
#ifndef GRIFFIN_CONFIG_H
#define GRIFFIN_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_DEPTH 128

typedef enum { FAMILY_MQA = 0, FAMILY_HAWK = 1, FAMILY_GRIFFIN = 2 } model_family;

typedef struct {
    char name[64];          /* preset name or "custom" */
    model_family family;
    int width;              /* D */
    int depth;              /* N */
    int heads;              /* H query heads (one shared K/V head) */
    int head_dim;           /* d_h (0 = D/H) */
    int lru_width;          /* D_RNN */
    int mlp_expansion;      /* M: MLP hidden = M*D */
    int window;             /* local attention window W (W+1 keys) */
    int vocab;              /* V */
    int conv_width;         /* 4 */
    int gate_blocks;        /* nb: block-diagonal gate blocks */
    int embed_scale;        /* multiply embeddings by bf16(sqrt(D)) */
    float softcap;          /* logit soft-cap c (0 = off) */
    int lambda_paper;       /* 0: code init (a in ring), 1: paper init (a^c uniform) */
    float rope_base;        /* 10000 */
    float rope_fraction;    /* 0.5: fraction of head dims rotated */
    float eps;              /* RMSNorm epsilon */
    char pattern[CFG_MAX_DEPTH + 1];
} model_config;

/* Fill the pattern from the family if it is empty; validate every field.
 * Returns 0, or -1 with util_last_error() naming the problem. */
int config_finalize(model_config *c);
/* Family defaults for a shape; leaves pattern empty (finalize fills it). */
void config_defaults(model_config *c, model_family f);
const char *family_name(model_family f);
int family_parse(const char *s, model_family *out); /* 0 or -1 */

/* Presets. config_preset returns 0 and fills *c, or -1 for an unknown name. */
int config_preset(const char *name, model_config *c);
int config_npresets(void);
const char *config_preset_name(int i);

/* Counts. */
int64_t config_params_total(const model_config *c);
int64_t config_params_embedding(const model_config *c);  /* V*D (tied) */
int config_head_dim(const model_config *c);
int config_rot_dims(const model_config *c);   /* rotated dims per head (even) */
/* The decode state of one block of `type` for one sequence, in floats: the
 * RG-LRU h (D_RNN) and conv state ((K-1) x D_RNN) of a recurrent block, or
 * K and V of `slots` cached tokens (2 x slots x d_h) of an attention block.
 * The one cache-size formula: config_state_bytes and the decode-state
 * planner (model.c) both use it. */
void config_block_state(const model_config *c, char type, int64_t slots, int64_t *h, int64_t *conv,
                        int64_t *kv);
/* Decode-state bytes per sequence (fp32): recurrent h + conv state, local
 * KV ring (W slots), global KV at length `len`. */
int64_t config_state_bytes(const model_config *c, int64_t len, int64_t *rec, int64_t *local,
                           int64_t *global);

/* JSON (one flat object) for the checkpoint metadata; caller frees. */
char *config_to_json(const model_config *c);
/* Parse config_to_json output (unknown keys ignored). 0 or -1. */
int config_from_json(model_config *c, const char *json);

#endif
