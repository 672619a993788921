/* test_train.c — training correctness:
 *  - loss and every gradient tensor against the independent Python/torch
 *    reference (tests/golden/tiny-*.golden.safetensors), all three families;
 *  - ten AdamW steps reproduce the reference losses (warm-up + cosine lr,
 *    clipping, decoupled decay);
 *  - whole-model finite differences (central, on the fp32 model with the
 *    loss summed in double) on a few entries of every tensor, reported as
 *    relative error per tensor (GRIFFIN_TEST_VERBOSE=1);
 *  - every RG-LRU / attention variant gives the same gradients.
 * Run from the repository root.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "optim.h"
#include "test.h"
#include "train.h"
#include "util.h"

typedef struct {
    int B, T;
    int32_t *tok, *pos, *tgt;
} batch;

static int load_golden(const char *fam, model *m, st_file *g, batch *b) {
    char ck[256], gp[256];
    snprintf(ck, sizeof ck, "tests/golden/tiny-%s.safetensors", fam);
    snprintf(gp, sizeof gp, "tests/golden/tiny-%s.golden.safetensors", fam);
    if (ckpt_load(m, ck, NULL) != 0) { TEST_CHECK(0, "load %s: %s", ck, util_last_error()); return -1; }
    if (st_open(g, gp) != 0) { TEST_CHECK(0, "open %s: %s", gp, util_last_error()); model_free(m); return -1; }
    const st_tensor *tt = st_find(g, "tokens");
    b->B = (int)tt->shape[0];
    b->T = (int)tt->shape[1];
    size_t n = (size_t)b->B * b->T;
    b->tok = malloc(n * 4); b->pos = malloc(n * 4); b->tgt = malloc(n * 4);
    st_read_i32(g, tt, b->tok, n);
    st_read_i32(g, st_find(g, "pos"), b->pos, n);
    st_read_i32(g, st_find(g, "targets"), b->tgt, n);
    return 0;
}

static void free_batch(batch *b) { free(b->tok); free(b->pos); free(b->tgt); }

/* Activations and gradients for b's shape. */
static void pass_alloc(model *m, const batch *b, model_acts *a, model_grads *gr) {
    model_acts_alloc(a, m, b->B, b->T, 1);
    model_grads_alloc(gr, m, b->B, b->T);
}

/* One training pass on b from zeroed gradients: forward, loss, backward
 * (model_loss_backward's return code). */
static int train_pass(model *m, model_acts *a, model_grads *gr, const batch *b, float *loss) {
    model_zero_grad(gr, m);
    model_forward(m, a, b->tok, b->pos, NULL);
    return model_loss_backward(m, a, gr, b->tok, b->pos, b->tgt, loss);
}

static float *golden_f32(const st_file *g, const char *name, size_t *n) {
    const st_tensor *t = st_find(g, name);
    if (!t) return NULL;
    *n = (size_t)st_numel(t);
    float *v = malloc(*n * 4);
    st_read_f32(g, t, v, *n);
    return v;
}

static double meta_num(const st_file *g, const char *k, double def) {
    const char *v = st_meta(g, k);
    return v ? atof(v) : def;
}

static void test_golden_grads(const char *fam) {
    model m;
    st_file g;
    batch b;
    if (load_golden(fam, &m, &g, &b)) return;
    const char *rv[] = {"ref", "seq", "fused", "chunked", "assoc"};
    const char *avn[] = {"ref", "banded", "tiled", "flash"};
    for (int combo = 0; combo < 8; combo++) {
        int vi = combo < 5 ? combo : 0, ai = combo < 5 ? 0 : combo - 4;
        snprintf(m.rglru, sizeof m.rglru, "%s", rv[vi]);
        snprintf(m.attn, sizeof m.attn, "%s", avn[ai]);
        model_acts a;
        model_grads gr;
        pass_alloc(&m, &b, &a, &gr);
        float loss;
        int rc = train_pass(&m, &a, &gr, &b, &loss);
        TEST_CHECK(rc == 0, "backward %s", fam);
        size_t n;
        float *l0 = golden_f32(&g, "loss0", &n);
        char what[200];
        snprintf(what, sizeof what, "%s loss0 (rglru %s, attn %s)", fam, rv[vi], avn[ai]);
        TEST_CLOSE(fabs(loss - l0[0]) / fabs(l0[0]), 1e-5, what);
        free(l0);
        double worst = 0;
        const char *worst_name = "";
        for (int k = 0; k < m.ntensors; k++) {
            char gn[200];
            snprintf(gn, sizeof gn, "grad.%s", m.tensors[k].name);
            float *want = golden_f32(&g, gn, &n);
            TEST_CHECK(want && n == m.tensors[k].numel, "golden %s present", gn);
            if (!want) continue;
            /* relative to the tensor's largest gradient (tiny entries are noise) */
            double e = util_max_rel_err(gr.grads + m.tensors[k].offset, want, n);
            if (combo == 0 && getenv("GRIFFIN_TEST_VERBOSE")) printf("    %-52s rel %.2e\n", m.tensors[k].name, e);
            if (e > worst) { worst = e; worst_name = m.tensors[k].name; }
            free(want);
        }
        snprintf(what, sizeof what, "%s grads vs torch, worst tensor %s (rglru %s, attn %s)", fam, worst_name, rv[vi], avn[ai]);
        TEST_CLOSE(worst, 1e-4, what);
        model_grads_free(&gr);
        model_acts_free(&a);
    }
    free_batch(&b);
    st_close(&g);
    model_free(&m);
}

static void test_golden_adamw(const char *fam) {
    model m;
    st_file g;
    batch b;
    if (load_golden(fam, &m, &g, &b)) return;
    adamw_config oc;
    adamw_defaults(&oc);
    oc.lr = meta_num(&g, "lr", 3e-3);
    oc.warmup = (int)meta_num(&g, "warmup", 3);
    oc.total = (int)meta_num(&g, "total", 10);
    oc.wd = meta_num(&g, "wd", 0.1);
    oc.clip = meta_num(&g, "clip", 1.0);
    oc.beta1 = meta_num(&g, "beta1", 0.9);
    oc.beta2 = meta_num(&g, "beta2", 0.95);
    oc.eps = meta_num(&g, "adam_eps", 1e-8);
    oc.lr_min_ratio = meta_num(&g, "lr_min_ratio", 0.1);
    int steps = (int)meta_num(&g, "steps", 10);
    adamw opt;
    adamw_init(&opt, &m, &oc);
    model_acts a;
    model_grads gr;
    pass_alloc(&m, &b, &a, &gr);
    size_t n;
    float *losses = golden_f32(&g, "losses", &n), *lrs = golden_f32(&g, "lrs", &n);
    double worst = 0, worst_lr = 0;
    for (int s = 0; s < steps; s++) {
        float loss;
        train_pass(&m, &a, &gr, &b, &loss);
        double e = fabs(loss - losses[s]) / fabs(losses[s]);
        if (e > worst) worst = e;
        double el = fabs(adamw_lr(&oc, s) - lrs[s]) / lrs[s];
        if (el > worst_lr) worst_lr = el;
        adamw_step(&opt, &m, gr.grads);
    }
    char what[160];
    snprintf(what, sizeof what, "%s: %d AdamW steps reproduce the reference losses", fam, steps);
    TEST_CLOSE(worst, 1e-4, what);
    snprintf(what, sizeof what, "%s: lr schedule equals the reference", fam);
    TEST_CLOSE(worst_lr, 1e-6, what);
    TEST_CHECK(losses[steps - 1] < losses[0], "reference loss decreases");
    free(losses); free(lrs);
    adamw_free(&opt);
    model_grads_free(&gr);
    model_acts_free(&a);
    free_batch(&b);
    st_close(&g);
    model_free(&m);
}

/* Whole-model central differences on a few entries per tensor. */
static double loss_at(model *m, model_acts *a, const batch *b) {
    model_forward(m, a, b->tok, b->pos, NULL);
    int cnt;
    return model_loss(m, a, b->tgt, NULL, &cnt);
}

static void test_finite_differences(const char *fam) {
    model m;
    st_file g;
    batch b;
    if (load_golden(fam, &m, &g, &b)) return;
    snprintf(m.rglru, sizeof m.rglru, "ref");
    snprintf(m.attn, sizeof m.attn, "ref");
    model_acts a;
    model_grads gr;
    pass_alloc(&m, &b, &a, &gr);
    float loss;
    train_pass(&m, &a, &gr, &b, &loss);
    rng_t r;
    rng_seed(&r, 99);
    double worst = 0;
    for (int k = 0; k < m.ntensors; k++) {
        const tensor_desc *t = &m.tensors[k];
        double gmax = 0;
        for (size_t i = 0; i < t->numel; i++) gmax = fmax(gmax, fabs(gr.grads[t->offset + i]));
        double terr = 0;
        for (int s = 0; s < 4; s++) {
            /* probe the largest-gradient entry first, then random ones */
            size_t idx = 0;
            if (s == 0) {
                for (size_t i = 0; i < t->numel; i++)
                    if (fabs(gr.grads[t->offset + i]) > fabs(gr.grads[t->offset + idx])) idx = i;
            } else idx = rng_below(&r, (uint32_t)t->numel);
            float *p = m.params + t->offset + idx;
            float old = *p, h = 1e-2f * fmaxf(1.0f, fabsf(old));
            *p = old + h;
            double lp = loss_at(&m, &a, &b);
            *p = old - h;
            double lm = loss_at(&m, &a, &b);
            *p = old;
            double fd = (lp - lm) / (2.0 * h);
            double an = gr.grads[t->offset + idx];
            /* error relative to the tensor's gradient scale; FD in fp32 with
             * step 1e-2 has truncation error O(h^2 * f''') */
            double e = fabs(fd - an) / fmax(gmax, 1e-3);
            terr = fmax(terr, e);
        }
        if (getenv("GRIFFIN_TEST_VERBOSE")) printf("    fd %-50s rel %.2e\n", t->name, terr);
        worst = fmax(worst, terr);
    }
    char what[128];
    snprintf(what, sizeof what, "%s: whole-model finite differences, worst tensor", fam);
    TEST_CLOSE(worst, 2e-2, what);
    model_grads_free(&gr);
    model_acts_free(&a);
    free_batch(&b);
    st_close(&g);
    model_free(&m);
}

/* A target outside the vocabulary is an error naming it, never a read past
 * the logits (xent_forward used to index logits[n][target] unchecked). */
static void test_bad_target(void) {
    model m;
    st_file g;
    batch b;
    if (load_golden("hawk", &m, &g, &b) != 0) return;
    model_acts a;
    model_grads gr;
    pass_alloc(&m, &b, &a, &gr);
    model_forward(&m, &a, b.tok, b.pos, NULL);
    b.tgt[b.B * b.T - 1] = m.cfg.vocab; /* the last row: past the buffer if read */
    float loss = 0;
    int rc = model_loss_backward(&m, &a, &gr, b.tok, b.pos, b.tgt, &loss);
    char want[64];
    snprintf(want, sizeof want, "target %d at index %d", m.cfg.vocab, b.B * b.T - 1);
    TEST_CHECK(rc != 0 && strstr(util_last_error(), want) && strstr(util_last_error(), "outside the vocabulary"),
               "target == V refused by backward: rc %d, %s", rc, rc ? util_last_error() : "accepted");
    int cnt = -1;
    double l = model_loss(&m, &a, b.tgt, NULL, &cnt);
    TEST_CHECK(isnan(l) && cnt == 0, "target == V: loss NaN (got %g, count %d)", l, cnt);
    model_grads_free(&gr);
    model_acts_free(&a);
    free_batch(&b);
    st_close(&g);
    model_free(&m);
}

int main(void) {
    const char *fams[] = {"mqa", "hawk", "griffin"};
    test_bad_target();
    for (int i = 0; i < 3; i++) {
        test_golden_grads(fams[i]);
        test_golden_adamw(fams[i]);
        test_finite_differences(fams[i]);
    }
    return test_summary();
}
