/* config.c — presets, validation and counts; see config.h. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *family_name(model_family f) {
    switch (f) {
    case FAMILY_MQA: return "mqa";
    case FAMILY_HAWK: return "hawk";
    case FAMILY_GRIFFIN: return "griffin";
    }
    return "?";
}

int family_parse(const char *s, model_family *out) {
    if (!strcmp(s, "mqa")) *out = FAMILY_MQA;
    else if (!strcmp(s, "hawk")) *out = FAMILY_HAWK;
    else if (!strcmp(s, "griffin")) *out = FAMILY_GRIFFIN;
    else return -1;
    return 0;
}

void config_defaults(model_config *c, model_family f) {
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "custom");
    c->family = f;
    c->width = 256;
    c->depth = 6;
    c->heads = 2;
    c->head_dim = 0;
    c->lru_width = 320;
    c->mlp_expansion = 3;
    c->window = 1024;
    c->vocab = 256;
    c->conv_width = 4;
    c->gate_blocks = 2;
    c->embed_scale = 0;
    c->softcap = 0;
    c->lambda_paper = 0;
    c->rope_base = 10000.0f;
    c->rope_fraction = 0.5f;
    c->eps = 1e-6f;
}

int config_head_dim(const model_config *c) {
    return c->head_dim > 0 ? c->head_dim : (c->heads > 0 ? c->width / c->heads : 0);
}

int config_rot_dims(const model_config *c) {
    int dh = config_head_dim(c);
    int r = (int)lrintf(c->rope_fraction * (float)dh);
    return r & ~1;
}

int config_finalize(model_config *c) {
    if (!c->pattern[0]) {
        if (c->depth < 1 || c->depth > CFG_MAX_DEPTH) {
            util_error("depth %d out of range [1, %d]", c->depth, CFG_MAX_DEPTH);
            return -1;
        }
        for (int i = 0; i < c->depth; i++)
            c->pattern[i] = c->family == FAMILY_MQA ? 'G' : c->family == FAMILY_HAWK ? 'R' : (i % 3 == 2 ? 'L' : 'R');
        c->pattern[c->depth] = 0;
    }
    int n = (int)strlen(c->pattern);
    if (n != c->depth) {
        util_error("pattern '%s' has %d blocks but depth is %d", c->pattern, n, c->depth);
        return -1;
    }
    int has_r = 0, has_att = 0;
    for (int i = 0; i < n; i++) {
        char t = c->pattern[i];
        if (t != 'R' && t != 'L' && t != 'G') {
            util_error("pattern '%s': block %d is '%c' (expected R, L or G)", c->pattern, i, t);
            return -1;
        }
        if (t == 'R') has_r = 1; else has_att = 1;
    }
    if (c->width < 1 || c->width > 65536) { util_error("width %d out of range", c->width); return -1; }
    if (c->vocab < 2 || c->vocab > 1 << 20) { util_error("vocab %d out of range", c->vocab); return -1; }
    if (c->mlp_expansion < 1 || c->mlp_expansion > 64) { util_error("mlp expansion %d out of range", c->mlp_expansion); return -1; }
    if (!(c->eps > 0)) { util_error("eps must be > 0"); return -1; }
    if (has_att) {
        if (c->heads < 1) { util_error("heads must be >= 1"); return -1; }
        int dh = config_head_dim(c);
        if (dh < 2 || (c->head_dim == 0 && c->width % c->heads)) {
            util_error("width %d not divisible by heads %d (set head_dim)", c->width, c->heads);
            return -1;
        }
        if (c->window < 0) { util_error("window must be >= 0"); return -1; }
        if (!(c->rope_fraction >= 0 && c->rope_fraction <= 1)) { util_error("rope fraction must be in [0,1]"); return -1; }
        if (!(c->rope_base > 1)) { util_error("rope base must be > 1"); return -1; }
    }
    if (has_r) {
        if (c->lru_width < 1) { util_error("lru_width must be >= 1"); return -1; }
        if (c->gate_blocks < 1 || c->lru_width % c->gate_blocks) {
            util_error("lru_width %d not divisible by gate_blocks %d", c->lru_width, c->gate_blocks);
            return -1;
        }
        if (c->conv_width < 1 || c->conv_width > 16) { util_error("conv width %d out of range", c->conv_width); return -1; }
    }
    if (c->softcap < 0) { util_error("softcap must be >= 0"); return -1; }
    return 0;
}

/* ---- presets -------------------------------------------------------------- */

typedef struct {
    const char *size;
    int D, L, N;
} paper_size;

/* Appendix C, Table 2 (d_h = 128, heads = D/128, M = 3). */
static const paper_size k_paper[] = {
    {"100m", 768, 1024, 12}, {"200m", 1024, 1536, 12}, {"400m", 1536, 2048, 12},
    {"1b", 2048, 2560, 24},  {"3b", 3072, 4096, 24},   {"7b", 4096, 5632, 32},
    {"14b", 5120, 8192, 40},
};
#define N_PAPER (int)(sizeof k_paper / sizeof k_paper[0])

typedef struct {
    const char *name;
    int D, N, H, dh, L, nb, M, W, V, scale;
    float cap;
} small_preset;

static const small_preset k_small[] = {
    /* tests: tiny, T > W is cheap */
    {"tiny", 32, 3, 2, 16, 48, 2, 3, 8, 256, 0, 0},
    /* the peer shape: D=256, N=6, 2 heads of 128, lru 320, 2 gate blocks, MLP 768 */
    {"small", 256, 6, 2, 128, 320, 2, 3, 256, 256, 0, 0},
    {"base", 512, 8, 4, 128, 640, 8, 3, 512, 256, 0, 0},
    /* synthetic copy/retrieval models: 5 blocks, D=64 (~250K params) */
    {"synth", 64, 5, 2, 32, 96, 4, 3, 512, 256, 0, 0},
};
#define N_SMALL (int)(sizeof k_small / sizeof k_small[0])

static const char *k_fams[] = {"mqa", "hawk", "griffin"};

int config_npresets(void) { return 3 * N_PAPER + 3 * N_SMALL + 2; }

const char *config_preset_name(int i) {
    static char buf[64];
    if (i < 3 * N_SMALL) {
        snprintf(buf, sizeof buf, "%s-%s", k_small[i / 3].name, k_fams[i % 3]);
        return buf;
    }
    i -= 3 * N_SMALL;
    if (i < 3 * N_PAPER) {
        snprintf(buf, sizeof buf, "%s-%s", k_fams[i % 3], k_paper[i / 3].size);
        return buf;
    }
    i -= 3 * N_PAPER;
    if (i == 0) return "recurrentgemma-2b";
    if (i == 1) return "recurrentgemma-9b";
    return NULL;
}

int config_preset(const char *name, model_config *c) {
    char fam[16] = {0}, size[32] = {0};
    if (!strcmp(name, "recurrentgemma-2b") || !strcmp(name, "recurrentgemma-9b")) {
        int nine = name[15] == '9';
        config_defaults(c, FAMILY_GRIFFIN);
        c->vocab = 256000;
        c->width = nine ? 4096 : 2560;
        c->lru_width = c->width;
        c->depth = nine ? 38 : 26;
        c->heads = nine ? 16 : 10;
        c->head_dim = 256;
        c->gate_blocks = c->heads;
        c->mlp_expansion = 3;
        c->window = 2048;
        c->embed_scale = 1;
        c->softcap = 30.0f;
        snprintf(c->name, sizeof c->name, "%s", name);
        return config_finalize(c);
    }
    const char *dash = strchr(name, '-');
    if (!dash || dash - name >= (long)sizeof fam || strlen(dash + 1) >= sizeof size) return -1;
    memcpy(fam, name, (size_t)(dash - name));
    snprintf(size, sizeof size, "%s", dash + 1);
    model_family f;
    /* paper sizes: FAMILY-SIZE */
    if (family_parse(fam, &f) == 0) {
        for (int i = 0; i < N_PAPER; i++) {
            if (strcmp(size, k_paper[i].size)) continue;
            config_defaults(c, f);
            c->width = k_paper[i].D;
            c->lru_width = k_paper[i].L;
            c->depth = k_paper[i].N;
            c->heads = k_paper[i].D / 128;
            c->head_dim = 128;
            c->gate_blocks = 16;
            c->mlp_expansion = 3;
            c->window = 1024;
            snprintf(c->name, sizeof c->name, "%s", name);
            return config_finalize(c);
        }
        return -1;
    }
    /* small sizes: SIZE-FAMILY */
    if (family_parse(size, &f) == 0) {
        for (int i = 0; i < N_SMALL; i++) {
            const small_preset *p = &k_small[i];
            if (strcmp(fam, p->name)) continue;
            config_defaults(c, f);
            c->width = p->D;
            c->depth = p->N;
            c->heads = p->H;
            c->head_dim = p->dh;
            c->lru_width = p->L;
            c->gate_blocks = p->nb;
            c->mlp_expansion = p->M;
            c->window = p->W;
            c->vocab = p->V;
            c->embed_scale = p->scale;
            c->softcap = p->cap;
            if (!strcmp(p->name, "synth") && f == FAMILY_GRIFFIN) snprintf(c->pattern, sizeof c->pattern, "RRLRR");
            snprintf(c->name, sizeof c->name, "%s", name);
            return config_finalize(c);
        }
    }
    return -1;
}

/* ---- counts ---------------------------------------------------------------- */

static int64_t block_params(const model_config *c, char t) {
    int64_t D = c->width, M = c->mlp_expansion, L = c->lru_width;
    int64_t p = 2 * D;                          /* two RMSNorm scales */
    p += 3 * M * D * D + 2 * M * D + D;         /* gated MLP: up (2 x D x MD), biases, down + bias */
    if (t == 'R') {
        int64_t nb = c->gate_blocks;
        p += 3 * D * L + 2 * L * L / nb;        /* linear_y, linear_x, linear_out; 2 gates */
        p += L + L + (int64_t)c->conv_width * L + L + L + 2 * L + D; /* biases, conv w+b, a_param, gate biases, out bias */
    } else {
        int64_t dh = config_head_dim(c), H = c->heads;
        p += D * H * dh + 2 * D * dh + H * dh * D + D; /* q, k, v, out + out bias */
    }
    return p;
}

int64_t config_params_embedding(const model_config *c) { return (int64_t)c->vocab * c->width; }

int64_t config_params_total(const model_config *c) {
    int64_t p = config_params_embedding(c) + c->width; /* + final norm */
    for (int i = 0; i < c->depth; i++) p += block_params(c, c->pattern[i]);
    return p;
}

void config_block_state(const model_config *c, char type, int64_t slots, int64_t *h, int64_t *conv, int64_t *kv) {
    int64_t L = c->lru_width;
    *h = type == 'R' ? L : 0;
    *conv = type == 'R' ? (int64_t)(c->conv_width - 1) * L : 0;
    *kv = type == 'R' ? 0 : 2 * slots * config_head_dim(c);
}

int64_t config_state_bytes(const model_config *c, int64_t len, int64_t *rec, int64_t *local,
                           int64_t *global) {
    int64_t r = 0, l = 0, g = 0;
    for (int i = 0; i < c->depth; i++) {
        char t = c->pattern[i];
        int64_t h, cv, kv;
        config_block_state(c, t, t == 'L' ? (len < c->window ? len : c->window) : len, &h, &cv, &kv);
        int64_t b = 4 * (h + cv + kv);
        if (t == 'R') r += b;
        else if (t == 'L') l += b;
        else g += b;
    }
    if (rec) *rec = r;
    if (local) *local = l;
    if (global) *global = g;
    return r + l + g;
}

/* ---- JSON ---------------------------------------------------------------- */

char *config_to_json(const model_config *c) {
    char *s = malloc(2048);
    CHECK_ALLOC(s);
    snprintf(s, 2048,
             "{\"name\":\"%s\",\"family\":\"%s\",\"width\":%d,\"depth\":%d,\"heads\":%d,\"head_dim\":%d,"
             "\"lru_width\":%d,\"mlp_expansion\":%d,\"window\":%d,\"vocab\":%d,\"conv_width\":%d,"
             "\"gate_blocks\":%d,\"embed_scale\":%s,\"softcap\":%.9g,\"lambda_init\":\"%s\","
             "\"rope_base\":%.9g,\"rope_fraction\":%.9g,\"eps\":%.9g,\"pattern\":\"%s\"}",
             c->name, family_name(c->family), c->width, c->depth, c->heads, config_head_dim(c),
             c->lru_width, c->mlp_expansion, c->window, c->vocab, c->conv_width, c->gate_blocks,
             c->embed_scale ? "true" : "false", (double)c->softcap, c->lambda_paper ? "paper" : "code",
             (double)c->rope_base, (double)c->rope_fraction, (double)c->eps, c->pattern);
    return s;
}

/* Minimal flat-object reader: finds "key": value at the top level. */
static const char *json_find(const char *json, const char *key, char *val, size_t cap) {
    size_t kl = strlen(key);
    const char *p = json;
    int depth = 0;
    while (*p) {
        if (*p == '{') { depth++; p++; continue; }
        if (*p == '}') { depth--; p++; continue; }
        if (*p == '"') {
            const char *q = p + 1;
            while (*q && *q != '"') { if (*q == '\\' && q[1]) q++; q++; }
            if (!*q) return NULL;
            int match = depth == 1 && (size_t)(q - p - 1) == kl && !strncmp(p + 1, key, kl);
            p = q + 1;
            while (isspace((unsigned char)*p)) p++;
            if (*p != ':') continue;
            p++;
            while (isspace((unsigned char)*p)) p++;
            const char *v0 = p, *v1;
            if (*p == '"') {
                v0 = ++p;
                while (*p && *p != '"') { if (*p == '\\' && p[1]) p++; p++; }
                v1 = p;
                if (*p) p++;
            } else {
                while (*p && *p != ',' && *p != '}' && !isspace((unsigned char)*p)) p++;
                v1 = p;
            }
            if (match) {
                size_t n = (size_t)(v1 - v0);
                if (n >= cap) n = cap - 1;
                memcpy(val, v0, n);
                val[n] = 0;
                return val;
            }
            continue;
        }
        p++;
    }
    return NULL;
}

int config_from_json(model_config *c, const char *json) {
    char v[256];
    model_family f = FAMILY_GRIFFIN;
    if (!json_find(json, "family", v, sizeof v) || family_parse(v, &f)) {
        util_error("config: missing or unknown \"family\"");
        return -1;
    }
    config_defaults(c, f);
    if (json_find(json, "name", v, sizeof v)) snprintf(c->name, sizeof c->name, "%s", v);
#define GETI(k, dst) if (json_find(json, k, v, sizeof v)) dst = atoi(v)
#define GETF(k, dst) if (json_find(json, k, v, sizeof v)) dst = (float)atof(v)
    GETI("width", c->width);
    GETI("depth", c->depth);
    GETI("heads", c->heads);
    GETI("head_dim", c->head_dim);
    GETI("lru_width", c->lru_width);
    GETI("mlp_expansion", c->mlp_expansion);
    GETI("window", c->window);
    GETI("vocab", c->vocab);
    GETI("conv_width", c->conv_width);
    GETI("gate_blocks", c->gate_blocks);
    GETF("softcap", c->softcap);
    GETF("rope_base", c->rope_base);
    GETF("rope_fraction", c->rope_fraction);
    GETF("eps", c->eps);
#undef GETI
#undef GETF
    if (json_find(json, "embed_scale", v, sizeof v)) c->embed_scale = !strcmp(v, "true") || !strcmp(v, "1");
    if (json_find(json, "lambda_init", v, sizeof v)) c->lambda_paper = !strcmp(v, "paper");
    if (json_find(json, "pattern", v, sizeof v)) {
        if (strlen(v) > CFG_MAX_DEPTH) { util_error("config: pattern longer than %d blocks", CFG_MAX_DEPTH); return -1; }
        snprintf(c->pattern, sizeof c->pattern, "%s", v);
    }
    return config_finalize(c);
}
