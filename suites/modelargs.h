/* modelargs.h — the flags every model-using command shares: shape flags to
 * build or override a config (--preset, --family, --width, ...), checkpoint
 * overrides for configs inferred from shapes, kernel variant choice and
 * threads. Commands append MODELARGS_FLAGS(&ma) to their flag table. */
#ifndef GRIFFIN_MODELARGS_H
#define GRIFFIN_MODELARGS_H
#include "checkpoint.h"
#include "flags.h"
#include "model.h"

typedef struct {
    const char *preset, *family, *pattern, *lambda_init;
    int width, depth, heads, head_dim, lru_width, mlp, window, vocab, gate_blocks, embed_scale;
    double softcap;
    int global_attn;
    const char *rglru, *attn, *gemm, *weights, *device;
    int threads;
} model_args;

/* A model_args with every override "not given" (-1: window, softcap, embed
 * scale, global attention), for commands that do not register
 * MODELARGS_CKPT_FLAGS: {0} would override the preset's window with 0. */
#define MODELARGS_NONE {.window = -1, .softcap = -1, .embed_scale = -1, .global_attn = -1}

#define MODELARGS_SHAPE_FLAGS(ma)                                                                     \
    {"preset", FLAG_STR, &(ma)->preset, NULL, "model preset (griffin models lists them)"},            \
    {"family", FLAG_STR, &(ma)->family, NULL, "mqa, hawk or griffin (custom shape)"},                 \
    {"width", FLAG_INT, &(ma)->width, "0", "model width D", "[0,65536]"},                                          \
    {"depth", FLAG_INT, &(ma)->depth, "0", "number of blocks N", "[0,128]"},                                     \
    {"heads", FLAG_INT, &(ma)->heads, "0", "query heads H", "[0,4096]"},                                          \
    {"head-dim", FLAG_INT, &(ma)->head_dim, "0", "head dim (0 = D/H)", "[0,4096]"},                               \
    {"lru-width", FLAG_INT, &(ma)->lru_width, "0", "RG-LRU width D_RNN", "[0,262144]"},                             \
    {"mlp", FLAG_INT, &(ma)->mlp, "0", "MLP expansion M", "[0,64]"},                                            \
    {"vocab", FLAG_INT, &(ma)->vocab, "0", "vocabulary size V", "[0,1048576]"},                                      \
    {"gate-blocks", FLAG_INT, &(ma)->gate_blocks, "0", "RG-LRU gate blocks", "[0,4096]"},                          \
    {"pattern", FLAG_STR, &(ma)->pattern, NULL, "block pattern, one of R/L/G per block (e.g. RRLRR)"}, \
    {"lambda-init", FLAG_STR, &(ma)->lambda_init, NULL, "RG-LRU Lambda init: code or paper"}

#define MODELARGS_CKPT_FLAGS(ma)                                                                       \
    {"window", FLAG_INT, &(ma)->window, "-1", "local attention window W (overrides the checkpoint)", "[-1,16777216]"}, \
    {"softcap", FLAG_FLOAT, &(ma)->softcap, "-1", "logit soft-cap (0 = off; overrides)", "[-1,1e6]"},              \
    {"embed-scale", FLAG_INT, &(ma)->embed_scale, "-1", "scale embeddings by sqrt(D): 1/0 (overrides)", "[-1,1]"}, \
    {"global-attn", FLAG_INT, &(ma)->global_attn, "-1", "inferred attention blocks are global: 1/0", "[-1,1]"}

#define MODELARGS_RUN_FLAGS(ma)                                                                        \
    {"threads", FLAG_INT, &(ma)->threads, "0", "threads (0 = all cores)", "[0,4096]"},                            \
    {"device", FLAG_STR, &(ma)->device, "cpu", "where the model runs: cpu, or cuda (weights uploaded once)"},     \
    {"rglru", FLAG_STR, &(ma)->rglru, NULL, "RG-LRU kernel variant (cpu: ref, seq, fused, chunked, assoc; cuda: seq, chunked, warp)"}, \
    {"attn", FLAG_STR, &(ma)->attn, NULL, "prefill attention variant (cpu: flash, ref, banded, tiled; cuda: naive, banded, tiled)"},          \
    {"gemm", FLAG_STR, &(ma)->gemm, NULL, "GEMM variant (cpu: auto, fast, fast-tiled, blas, ref; bf16 weights: bf16, bf16-widen, bf16-widen-tiled, bf16-dp, bf16-ref; cuda: auto, cublas, ref, bf16, bf16-ref)"}

/* --weights on the inference commands (forward, generate, bench-model). */
#define MODELARGS_WEIGHTS_FLAG(ma) \
    {"weights", FLAG_STR, &(ma)->weights, "f32", "weight storage: f32, or bf16 (GEMM weights in bfloat16, half the bytes)"}

/* --weights as a storage type (f32 when not given). 0, or -1 printed. */
int modelargs_weights(const model_args *ma, weights_dtype *w);

/* Build a config from --preset and/or --family plus shape overrides.
 * 0, or -1 after printing the problem (usage error). */
int modelargs_config(const model_args *ma, model_config *c);
/* Checkpoint overrides from the flags. */
void modelargs_overrides(const model_args *ma, ckpt_overrides *o);
/* Apply threads, --device (the model moves to it: weights uploaded, the
 * device's default variants) and kernel variants (checked by the model's
 * backend: an unknown name is an error listing the known ones) to a model
 * whose weights are loaded. 0 or -1 (printed). */
int modelargs_apply(const model_args *ma, model *m);
/* Set thread counts (OpenMP + BLAS) from --threads. */
void modelargs_threads(const model_args *ma);

#endif
