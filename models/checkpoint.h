/* checkpoint.h — model checkpoints as safetensors files with the official
 * recurrentgemma tensor names and shapes, and the config as JSON in
 * __metadata__["griffin_config"].
 *
 * A checkpoint without that metadata (e.g. a state_dict saved from the
 * reference implementation) loads with the config inferred from the tensor
 * shapes; what shapes cannot tell (window, soft-cap, embedding scaling,
 * local vs global attention) comes from ckpt_overrides.
 * Loading verifies every tensor (presence, dtype, shape) before returning.
 */
#ifndef GRIFFIN_CHECKPOINT_H
#define GRIFFIN_CHECKPOINT_H
#include "model.h"
#include "safetensors.h"

typedef struct {
    int window;       /* -1: not given */
    float softcap;    /* <0: not given */
    int embed_scale;  /* -1: not given */
    int global_attn;  /* 1: attention blocks are global (MQA); -1: not given */
} ckpt_overrides;

void ckpt_overrides_none(ckpt_overrides *o);

/* Write the model's parameters atomically, each in its storage type (F32;
 * BF16 for the bf16 tensors of a WEIGHTS_BF16 model). extra metadata
 * key/value pairs may be added (nextra may be 0). 0 or -1. */
int ckpt_save(const model *m, const char *path, const char *const *keys, const char *const *vals,
              int nextra);
/* Create *m from a checkpoint file. ov may be NULL. 0 or -1 (the error
 * names the file, the tensor and the problem). */
int ckpt_load(model *m, const char *path, const ckpt_overrides *ov);
/* The same into a model with the given weight storage: F32 and BF16 file
 * tensors load into either (bf16 storage rounds F32 to nearest even, keeps
 * BF16 bit for bit). ckpt_load is WEIGHTS_F32. */
int ckpt_load_as(model *m, const char *path, const ckpt_overrides *ov, weights_dtype w);
int ckpt_load_parsed_as(model *m, const st_file *f, const ckpt_overrides *ov, weights_dtype w);
/* The same from an already parsed file (used by the fuzzer). */
int ckpt_load_parsed(model *m, const st_file *f, const ckpt_overrides *ov);
/* Infer a config from tensor names/shapes (no metadata). 0 or -1. */
int ckpt_infer_config(const st_file *f, model_config *c, const ckpt_overrides *ov);

#endif
