/* checkpoint.c — see checkpoint.h. */
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "util.h"

void ckpt_overrides_none(ckpt_overrides *o) {
    o->window = -1;
    o->softcap = -1;
    o->embed_scale = -1;
    o->global_attn = -1;
}

int ckpt_save(const model *m, const char *path, const char *const *keys, const char *const *vals, int nextra) {
    /* a model on a device: refresh the host copy first (it is only a cache
     * of the device's weights, so the model stays logically const) */
    if (model_sync_host((model *)m) != 0) return -1;
    st_out *ts = calloc((size_t)m->ntensors, sizeof *ts);
    CHECK_ALLOC(ts);
    for (int i = 0; i < m->ntensors; i++) {
        const tensor_desc *t = &m->tensors[i];
        ts[i].name = t->name;
        ts[i].dtype = t->bf16 ? ST_BF16 : ST_F32;
        ts[i].ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) ts[i].shape[d] = t->shape[d];
        ts[i].data = t->bf16 ? (const void *)(m->params16 + t->offset) : (const void *)(m->params + t->offset);
    }
    char *cfg = config_to_json(&m->cfg);
    const char *mk[18], *mv[18];
    int nm = 0;
    mk[nm] = "griffin_config"; mv[nm++] = cfg;
    mk[nm] = "format"; mv[nm++] = "pt";
    for (int i = 0; i < nextra && nm < 18; i++) { mk[nm] = keys[i]; mv[nm++] = vals[i]; }
    int rc = st_write(path, ts, m->ntensors, mk, mv, nm);
    free(cfg);
    free(ts);
    return rc;
}

static int max_block_index(const st_file *f) {
    int mx = -1;
    for (int i = 0; i < f->n; i++) {
        int b;
        if (sscanf(f->t[i].name, "blocks.%d.", &b) == 1 && b > mx && b < CFG_MAX_DEPTH) mx = b;
    }
    return mx;
}

/* The tensor "blocks.{i}.{suffix}". */
static const st_tensor *find_fmt(const st_file *f, const char *suffix, int i) {
    char nm[ST_NAME_MAX];
    snprintf(nm, sizeof nm, "blocks.%d.%s", i, suffix);
    return st_find(f, nm);
}

int ckpt_infer_config(const st_file *f, model_config *c, const ckpt_overrides *ov) {
    const st_tensor *e = st_find(f, "embedder.input_embedding");
    if (!e || e->ndim != 2) { util_error("cannot infer the config: no 2-D 'embedder.input_embedding'"); return -1; }
    int depth = max_block_index(f) + 1;
    if (depth < 1) { util_error("cannot infer the config: no 'blocks.N.*' tensors"); return -1; }
    int nr = 0, na = 0;
    char pattern[CFG_MAX_DEPTH + 1] = {0};
    int L = 0, nb = 0, K = 4, heads = 0, dh = 0, MD = 0;
    for (int i = 0; i < depth; i++) {
        const st_tensor *lx = find_fmt(f, "recurrent_block.linear_x.weight", i);
        const st_tensor *pq = find_fmt(f, "attention_block.proj_q.weight", i);
        const st_tensor *pk = find_fmt(f, "attention_block.proj_k.weight", i);
        const st_tensor *up = find_fmt(f, "mlp_block.ffw_up.w", i);
        if (lx && lx->ndim == 2) {
            pattern[i] = 'R';
            nr++;
            L = (int)lx->shape[0];
            const st_tensor *g = find_fmt(f, "recurrent_block.rg_lru.input_gate.w", i);
            if (g && g->ndim == 3) nb = (int)g->shape[0];
            const st_tensor *cw = find_fmt(f, "recurrent_block.conv_1d.w", i);
            if (cw && cw->ndim == 2) K = (int)cw->shape[0];
        } else if (pq && pk && pq->ndim == 2 && pk->ndim == 2 && pk->shape[0] > 0) {
            pattern[i] = (ov && ov->global_attn == 1) ? 'G' : 'L';
            na++;
            dh = (int)pk->shape[0];
            heads = (int)(pq->shape[0] / pk->shape[0]);
        } else {
            util_error("cannot infer the config: block %d has neither recurrent_block.linear_x.weight nor attention_block.proj_q/proj_k", i);
            return -1;
        }
        if (up && up->ndim == 3) MD = (int)up->shape[2];
    }
    model_family fam = na == 0 ? FAMILY_HAWK : nr == 0 ? FAMILY_MQA : FAMILY_GRIFFIN;
    config_defaults(c, fam);
    snprintf(c->name, sizeof c->name, "inferred");
    c->vocab = (int)e->shape[0];
    c->width = (int)e->shape[1];
    c->depth = depth;
    if (L) c->lru_width = L;
    if (nb) c->gate_blocks = nb;
    c->conv_width = K;
    if (heads) c->heads = heads;
    if (dh) c->head_dim = dh;
    if (MD && c->width) c->mlp_expansion = MD / c->width;
    if (MD && c->width && MD % c->width) { util_error("cannot infer the config: MLP width %d is not a multiple of width %d", MD, c->width); return -1; }
    if (fam == FAMILY_MQA && !(ov && ov->global_attn == 0)) {
        /* an all-attention model is the MQA baseline (global) unless told otherwise */
        for (int i = 0; i < depth; i++) pattern[i] = 'G';
    }
    memcpy(c->pattern, pattern, sizeof pattern);
    if (ov) {
        if (ov->window >= 0) c->window = ov->window;
        if (ov->softcap >= 0) c->softcap = ov->softcap;
        if (ov->embed_scale >= 0) c->embed_scale = ov->embed_scale;
    }
    return config_finalize(c);
}

/* Tensor s of f into t's storage in m: fp32, or bf16 (a BF16 file tensor
 * copied as is, an F32 one rounded to nearest even). 0 or -1. */
static int read_tensor(model *m, const tensor_desc *t, const st_file *f, const st_tensor *s) {
    if (!t->bf16) return st_read_f32(f, s, m->params + t->offset, t->numel);
    uint16_t *dst = m->params16 + t->offset;
    if (s->dtype == ST_BF16) {
        const uint8_t *src = f->data + s->begin;
        for (size_t i = 0; i < t->numel; i++) dst[i] = (uint16_t)(src[2 * i] | (src[2 * i + 1] << 8));
        return 0;
    }
    float *tmp = util_alloc(t->numel * sizeof(float));
    int rc = st_read_f32(f, s, tmp, t->numel);
    if (rc == 0) bf16_from_f32(dst, tmp, t->numel);
    util_free(tmp);
    return rc;
}

int ckpt_load_parsed(model *m, const st_file *f, const ckpt_overrides *ov) {
    return ckpt_load_parsed_as(m, f, ov, WEIGHTS_F32);
}

int ckpt_load_parsed_as(model *m, const st_file *f, const ckpt_overrides *ov, weights_dtype wd) {
    model_config c;
    const char *js = st_meta(f, "griffin_config");
    if (js) {
        if (config_from_json(&c, js) != 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", util_last_error());
            util_error("bad griffin_config metadata: %s", msg);
            return -1;
        }
        if (ov) {
            if (ov->window >= 0) c.window = ov->window;
            if (ov->softcap >= 0) c.softcap = ov->softcap;
            if (ov->embed_scale >= 0) c.embed_scale = ov->embed_scale;
        }
    } else if (ckpt_infer_config(f, &c, ov) != 0) {
        return -1;
    }
    if (model_create_dtype(m, &c, wd) != 0) return -1;
    /* every expected tensor present with the right shape */
    for (int i = 0; i < m->ntensors; i++) {
        const tensor_desc *t = &m->tensors[i];
        const st_tensor *s = st_find(f, t->name);
        if (!s) { util_error("missing tensor '%s'", t->name); goto fail; }
        if (s->dtype != ST_F32 && s->dtype != ST_BF16) { util_error("tensor '%s': dtype must be F32 or BF16", t->name); goto fail; }
        int ok = s->ndim == t->ndim;
        for (int d = 0; ok && d < t->ndim; d++) ok = s->shape[d] == t->shape[d];
        if (!ok) {
            char want[96] = "", got[96] = "";
            for (int d = 0; d < t->ndim; d++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "," : "", (long long)t->shape[d]);
            for (int d = 0; d < s->ndim; d++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "", (long long)s->shape[d]);
            util_error("tensor '%s': shape (%s) does not match the config's (%s)", t->name, got, want);
            goto fail;
        }
        if (read_tensor(m, t, f, s) != 0) goto fail;
    }
    /* and nothing unexpected */
    for (int i = 0; i < f->n; i++)
        if (!model_find_tensor(m, f->t[i].name)) {
            util_error("unexpected tensor '%s' (not part of a %s model with pattern %s)", f->t[i].name,
                       family_name(m->cfg.family), m->cfg.pattern);
            goto fail;
        }
    return 0;
fail:
    model_free(m);
    return -1;
}

int ckpt_load(model *m, const char *path, const ckpt_overrides *ov) { return ckpt_load_as(m, path, ov, WEIGHTS_F32); }

int ckpt_load_as(model *m, const char *path, const ckpt_overrides *ov, weights_dtype wd) {
    st_file f;
    if (st_open(&f, path) != 0) return -1;
    int rc = ckpt_load_parsed_as(m, &f, ov, wd);
    if (rc != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", util_last_error());
        util_error("%s: %s", path, msg);
    }
    st_close(&f);
    return rc;
}
