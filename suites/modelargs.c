/* modelargs.c — see modelargs.h. */
#include "modelargs.h"

#include <stdio.h>
#include <string.h>

#include "matmul.h"
#include "util.h"

int modelargs_config(const model_args *ma, model_config *c) {
    if (ma->preset) {
        if (config_preset(ma->preset, c) != 0) {
            fprintf(stderr, "error: unknown preset '%s' (griffin models lists them)\n", ma->preset);
            return -1;
        }
        if (ma->family) {
            model_family f;
            if (family_parse(ma->family, &f)) { fprintf(stderr, "error: unknown family '%s'\n", ma->family); return -1; }
            if (f != c->family) {
                c->family = f;
                c->pattern[0] = 0;
            }
        }
    } else if (ma->family) {
        model_family f;
        if (family_parse(ma->family, &f)) { fprintf(stderr, "error: unknown family '%s' (mqa, hawk, griffin)\n", ma->family); return -1; }
        config_defaults(c, f);
    } else {
        fprintf(stderr, "error: give --preset NAME or --family mqa|hawk|griffin\n");
        return -1;
    }
    int reshape = 0;
#define OV(field, val) if ((val) > 0) { c->field = (val); reshape = 1; }
    OV(width, ma->width);
    OV(depth, ma->depth);
    OV(heads, ma->heads);
    OV(head_dim, ma->head_dim);
    OV(lru_width, ma->lru_width);
    OV(mlp_expansion, ma->mlp);
    OV(vocab, ma->vocab);
    OV(gate_blocks, ma->gate_blocks);
#undef OV
    if (ma->window >= 0) c->window = ma->window;
    if (ma->softcap >= 0) c->softcap = (float)ma->softcap;
    if (ma->embed_scale >= 0) c->embed_scale = ma->embed_scale;
    if (ma->lambda_init) {
        if (!strcmp(ma->lambda_init, "paper")) c->lambda_paper = 1;
        else if (!strcmp(ma->lambda_init, "code")) c->lambda_paper = 0;
        else { fprintf(stderr, "error: --lambda-init must be code or paper\n"); return -1; }
    }
    if (reshape && ma->depth > 0 && !ma->pattern) c->pattern[0] = 0;
    if (ma->pattern) {
        if (strlen(ma->pattern) > CFG_MAX_DEPTH) { fprintf(stderr, "error: --pattern too long\n"); return -1; }
        snprintf(c->pattern, sizeof c->pattern, "%s", ma->pattern);
        if (ma->depth <= 0) c->depth = (int)strlen(ma->pattern);
    }
    if (reshape || ma->pattern) snprintf(c->name, sizeof c->name, "custom");
    if (config_finalize(c) != 0) {
        fprintf(stderr, "error: %s\n", util_last_error());
        return -1;
    }
    return 0;
}

void modelargs_overrides(const model_args *ma, ckpt_overrides *o) {
    ckpt_overrides_none(o);
    o->window = ma->window;
    o->softcap = (float)ma->softcap;
    o->embed_scale = ma->embed_scale;
    o->global_attn = ma->global_attn;
}

int modelargs_weights(const model_args *ma, weights_dtype *w) {
    *w = WEIGHTS_F32;
    if (ma->weights && weights_parse(ma->weights, w) != 0) {
        fprintf(stderr, "error: --weights must be f32 or bf16, not '%s'\n", ma->weights);
        return -1;
    }
    return 0;
}

void modelargs_threads(const model_args *ma) {
    int n = ma->threads > 0 ? ma->threads : 0;
    util_set_threads(n);
    blas_set_threads(util_threads());
}

int modelargs_apply(const model_args *ma, model *m) {
    modelargs_threads(ma);
    if (ma->device && strcmp(ma->device, m->be->name)) {
        const backend *be;
        if (backend_find(ma->device, &be) != 0 || model_set_device(m, be) != 0) {
            fprintf(stderr, "error: --device %s: %s\n", ma->device, util_last_error());
            return -1;
        }
    }
    const backend *be = m->be;
    if (ma->rglru) {
        if (be->variant_check(BK_RGLRU, ma->rglru) != 0) { fprintf(stderr, "error: --rglru: %s\n", util_last_error()); return -1; }
        snprintf(m->rglru, sizeof m->rglru, "%s", ma->rglru);
    }
    if (ma->attn) {
        if (be->variant_check(BK_ATTN, ma->attn) != 0) { fprintf(stderr, "error: --attn: %s\n", util_last_error()); return -1; }
        snprintf(m->attn, sizeof m->attn, "%s", ma->attn);
    }
    if (ma->gemm && be->gemm_select(ma->gemm) != 0) {
        fprintf(stderr, "error: --gemm: %s\n", util_last_error());
        return -1;
    }
    return 0;
}
