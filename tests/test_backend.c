/* test_backend.c — the backend table (kernels/backend.h):
 *  - every entry point is implemented (non-NULL) by both backends;
 *  - backend_find: cpu found, an unknown device named with the known ones,
 *    cuda either found (a device) or refused with the reason;
 *  - unknown variant names fail on both backends, naming the name and the
 *    known ones, through variant_check and through the kernel entries
 *    themselves (no silent swap for a default), and through the model;
 *  - the cpu table's own loops (masked conv/RG-LRU steps, KV write by n,
 *    decode positions, embedding scatter, AdamW vs the scalar formula);
 *  - model_grads.ready: the ranges come final norm, blocks in reverse,
 *    embedding, and cover the gradient block exactly once;
 *  - graph decode on the cpu, through a recording fake device (graphs = 1,
 *    host_memory = 0): the first step runs eagerly, the second is captured
 *    and every later one replayed with no kernel run outside the graph; each
 *    step copies exactly tokens+mask in and logits out; a free makes the
 *    graph stale and a variant change re-keys it (both captured again);
 *    graph decode == non-graph decode == cpu decode bit for bit (fp32 and
 *    bf16 weights, an idle row, the caller's logits buffer changing); a copy
 *    inside a capture fails it;
 *  - the model on cuda (skipped with the reason without a device): logits
 *    vs the cpu for every device variant, decode == prefill on the device,
 *    device decode == cpu decode from a prefill (with an idle sequence), and
 *    one training step (gradients, AdamW update) vs the cpu.
 * Run: build/tests/test_backend
 */
#include <math.h>
#include <string.h>

#include "attention.h"
#include "backend.h"
#include "bf16.h"
#include "fake_backend.h"
#include "model_fixture.h"
#include "model.h"
#include "optim.h"
#include "scan.h"
#include "suite.h"
#include "test.h"
#include "train.h"
#include "util.h"

static void check_entries(const backend *be) {
    int n = 0;
#define CHECK_ENTRY(f)                                                         \
    TEST_CHECK(be->f != NULL, "%s backend: entry '%s' is NULL", be->name, #f); \
    n++;
    BACKEND_ENTRIES(CHECK_ENTRY)
#undef CHECK_ENTRY
    TEST_CHECK(n >= 40, "%s backend: only %d entries listed", be->name, n);
    TEST_CHECK(be->name && be->rglru_default && be->attn_default, "%s backend: names unset", be->name);
}

static int has(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

static void check_unknown(const backend *be) {
    const char *kinds[] = {"rglru", "attention", "gemm"};
    for (int k = 0; k < 3; k++) {
        int rc = be->variant_check((backend_kind)k, "no-such-variant");
        TEST_CHECK(rc == -1, "%s: unknown %s variant accepted", be->name, kinds[k]);
        TEST_CHECK(has(util_last_error(), "no-such-variant") && has(util_last_error(), "known"),
                   "%s: unknown %s variant error does not name it and the known ones: %s", be->name, kinds[k],
                   util_last_error());
        TEST_CHECK(be->variant_list((backend_kind)k)[0] != 0, "%s: empty %s variant list", be->name, kinds[k]);
    }
    /* the kernel entries resolve the name themselves and refuse before any work */
    TEST_CHECK(be->rglru_forward("no-such-variant", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 1) == -1 &&
                   has(util_last_error(), "no-such-variant"),
               "%s: rglru_forward ran an unknown variant", be->name);
    TEST_CHECK(be->rglru_step("no-such-variant", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1) == -1,
               "%s: rglru_step ran an unknown variant", be->name);
    TEST_CHECK(be->attn_forward("no-such-variant", NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 1, 1, -1) == -1 &&
                   has(util_last_error(), "no-such-variant"),
               "%s: attn_forward ran an unknown variant", be->name);
    TEST_CHECK(be->attn_backward("no-such-variant", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1, 1, 1,
                                 1, -1) == -1,
               "%s: attn_backward ran an unknown variant", be->name);
    TEST_CHECK(be->gemm_select("no-such-variant") == -1, "%s: gemm_select accepted an unknown name", be->name);
}

static void test_find(void) {
    const backend *be = NULL;
    TEST_CHECK(backend_find("cpu", &be) == 0 && be == &backend_cpu, "backend_find(cpu)");
    TEST_CHECK(backend_find("tpu", &be) == -1 && be == NULL && has(util_last_error(), "tpu") &&
                   has(util_last_error(), "cpu, cuda"),
               "backend_find(tpu) did not fail naming the known devices: %s", util_last_error());
    char why[256];
    if (backend_cuda_available(why, sizeof why)) {
        TEST_CHECK(backend_find("cuda", &be) == 0 && be == &backend_cuda, "backend_find(cuda) with a device");
    } else {
        TEST_CHECK(backend_find("cuda", &be) == -1 && be == NULL && util_last_error()[0],
                   "backend_find(cuda) without a device must fail with the reason");
        printf("cuda: %s (as expected here: %s)\n", util_last_error(), why);
    }
    /* every cpu variant of the kernel tables is known to the backend */
    for (const rglru_variant *v = rglru_variants; v->name; v++)
        TEST_CHECK(backend_cpu.variant_check(BK_RGLRU, v->name) == 0, "cpu: rglru '%s' rejected", v->name);
    for (const attn_variant *v = attn_variants; v->name; v++)
        TEST_CHECK(backend_cpu.variant_check(BK_ATTN, v->name) == 0, "cpu: attention '%s' rejected", v->name);
    TEST_CHECK(backend_cpu.variant_check(BK_GEMM, "ref") == 0, "cpu: gemm 'ref' rejected");
}

/* The cpu table's own loops against plain expectations. */
static void test_cpu_loops(void) {
    const backend *be = &backend_cpu;
    enum { B = 3, C = 5, K = 4, S = 4, DH = 2 };
    /* masked conv step: inactive rows keep their state */
    float st[B * (K - 1) * C], st0[B * (K - 1) * C], x[B * C], y[B * C], w[K * C], bias[C];
    for (int i = 0; i < B * (K - 1) * C; i++) st[i] = st0[i] = 0.1f * (float)i;
    for (int i = 0; i < B * C; i++) x[i] = 1.0f + (float)i;
    for (int i = 0; i < K * C; i++) w[i] = 0.01f * (float)(i + 1);
    for (int i = 0; i < C; i++) bias[i] = 0.5f;
    const uint8_t active[B] = {1, 0, 1};
    be->conv1d_step(y, st, x, w, bias, active, B, C, K);
    TEST_CHECK(!memcmp(st + (K - 1) * C, st0 + (K - 1) * C, (K - 1) * C * sizeof(float)), "conv1d_step: inactive row's state changed");
    TEST_CHECK(memcmp(st, st0, (K - 1) * C * sizeof(float)) != 0, "conv1d_step: active row's state unchanged");
    /* KV write by n: ring slot n % S; a growing cache skips n >= S; inactive rows skipped */
    float kc[B * S * DH], vc[B * S * DH], kn[B * DH], vn[B * DH];
    memset(kc, 0, sizeof kc);
    memset(vc, 0, sizeof vc);
    for (int i = 0; i < B * DH; i++) kn[i] = vn[i] = (float)(i + 1);
    int32_t n[B] = {5, 2, 4};
    be->kv_write(kc, vc, kn, vn, n, active, B, S, DH, 1);
    TEST_CHECK(kc[(0 * S + 1) * DH] == 1.0f && kc[(2 * S + 0) * DH + 1] == 6.0f, "kv_write ring slots");
    TEST_CHECK(kc[(1 * S + 2) * DH] == 0.0f, "kv_write wrote an inactive row");
    memset(kc, 0, sizeof kc);
    be->kv_write(kc, vc, kn, vn, n, NULL, B, S, DH, 0);
    TEST_CHECK(kc[(1 * S + 2) * DH] == 3.0f, "kv_write growing cache slot n");
    float sum = 0;
    for (int i = 0; i < B * S * DH; i++) sum += kc[i];
    TEST_CHECK(sum == 3.0f + 4.0f, "kv_write growing cache: rows with n >= S must be skipped (sum %g)", (double)sum);
    int32_t pos[B], nv[B];
    be->decode_positions(pos, nv, n, 3, B);
    TEST_CHECK(pos[0] == 5 && nv[0] == 3 && nv[1] == 2 && pos[2] == 4, "decode_positions");
    be->decode_positions(NULL, nv, n, -1, B);
    TEST_CHECK(nv[0] == 5, "decode_positions keep < 0");
    be->decode_advance(n, active, B);
    TEST_CHECK(n[0] == 6 && n[1] == 2 && n[2] == 5, "decode_advance");
    /* embedding scatter */
    float dE[3 * 2] = {0}, dx[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int32_t tok[4] = {2, 0, 2, 1};
    be->embed_backward(dE, dx, tok, 4, 2, 3, 0.5f);
    TEST_CHECK(dE[0] == 1.5f && dE[2] == 3.5f && dE[4] == 3.0f && dE[5] == 4.0f, "embed_backward");
    /* AdamW (one element, no clipping) against the scalar formula */
    float p = 1.0f, m = 0.0f, v = 0.0f, g = 0.5f;
    double ss = 0;
    be->sumsq(&ss, &g, 1);
    backend_adamw_args a = {.lr = 0.1, .wd = 0.1, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .clip = 1.0, .t = 1, .decay = 1};
    be->adamw(&p, &m, &v, &g, &ss, 1, &a);
    float pe = 1.0f - 0.01f;
    pe -= 0.1f * ((0.1f * 0.5f) / 0.1f) / (sqrtf((0.05f * 0.25f) / 0.05f) + 1e-8f);
    TEST_CHECK(fabsf(p - pe) < 1e-6f && ss == 0.25, "adamw: %g vs %g", (double)p, (double)pe);
}

typedef struct {
    size_t next_end; /* ranges arrive from the end of the block backwards */
    int calls, bad;
} ready_log;

static void on_ready(void *ctx, size_t off, size_t n) {
    ready_log *r = ctx;
    if (off + n != r->next_end || n == 0) r->bad++;
    r->next_end = off;
    r->calls++;
}

static void test_model(void) {
    model_config c;
    if (config_preset("tiny-griffin", &c) != 0) {
        TEST_SKIP("no tiny-griffin preset");
        return;
    }
    model m;
    TEST_CHECK(model_create(&m, &c) == 0, "model_create: %s", util_last_error());
    TEST_CHECK(m.be == &backend_cpu, "a new model runs on the cpu backend");
    model_init_weights(&m, 3);
    const int B = 2, T = 5, N = B * T;
    int32_t tok[N], pos[N], tgt[N];
    for (int i = 0; i < N; i++) {
        tok[i] = (i * 7) % c.vocab;
        pos[i] = i % T;
        tgt[i] = (i * 3 + 1) % c.vocab;
    }
    model_acts a;
    model_grads g;
    TEST_CHECK(model_acts_alloc(&a, &m, B, T, 1) == 0 && model_grads_alloc(&g, &m, B, T) == 0, "alloc");
    /* an unknown variant fails the forward, naming it */
    snprintf(m.rglru, sizeof m.rglru, "warp-drive");
    TEST_CHECK(model_forward(&m, &a, tok, pos, NULL) == -1 && has(util_last_error(), "warp-drive"),
               "model_forward with an unknown RG-LRU variant: %s", util_last_error());
    snprintf(m.rglru, sizeof m.rglru, "%s", RGLRU_DEFAULT);
    snprintf(m.attn, sizeof m.attn, "tilted");
    TEST_CHECK(model_forward(&m, &a, tok, pos, NULL) == -1 && has(util_last_error(), "tilted"),
               "model_forward with an unknown attention variant: %s", util_last_error());
    snprintf(m.attn, sizeof m.attn, "%s", ATTN_DEFAULT);
    /* the ready hook */
    ready_log r = {m.nparams, 0, 0};
    g.ready = on_ready;
    g.ready_ctx = &r;
    model_zero_grad(&g, &m);
    float loss = NAN;
    TEST_CHECK(model_forward(&m, &a, tok, pos, NULL) == 0 && model_loss_backward(&m, &a, &g, tok, pos, tgt, &loss) == 0,
               "forward/backward: %s", util_last_error());
    TEST_CHECK(isfinite(loss), "loss finite");
    TEST_CHECK(r.calls == c.depth + 2 && r.bad == 0 && r.next_end == 0,
               "ready: %d calls (want %d), %d out of order, ended at %zu (want 0)", r.calls, c.depth + 2, r.bad, r.next_end);
    model_grads_free(&g);
    model_acts_free(&a);
    model_free(&m);
}

/* ---- the model on cuda --------------------------------------------------------- */

/* A tiny model with non-zero biases and norm scales (tests/model_fixture.h). */
static int make_model(model *m, const char *preset, uint64_t seed) { return fixture_model(m, preset, seed, -1, WEIGHTS_F32); }

#define OK(call) TEST_CHECK((call) == 0, "%s: %s", #call, util_last_error())

/* ---- graph decode on the cpu: the recording fake device (tests/fake_backend.h) -- */

/* Decode `steps` steps of preset on the cpu and on the fake (graphs on, and
 * off), from the same weights; a mask idles row 1 at step 4; after step
 * `free_at` fake memory is freed (the graph goes stale); after step `var_at`
 * both models switch RG-LRU variant (a new capture). */
static void graph_case(const char *preset, weights_dtype wd) {
    static backend fake;
    fake = fake_backend();
    fake_reset();
    model_config c;
    model mc, mf, mn;
    if (config_preset(preset, &c) != 0 || model_create_dtype(&mc, &c, wd) != 0 || model_create_dtype(&mf, &c, wd) != 0 ||
        model_create_dtype(&mn, &c, wd) != 0) {
        TEST_CHECK(0, "%s: %s", preset, util_last_error());
        return;
    }
    model_init_weights(&mc, 9);
    model_init_weights(&mf, 9);
    model_init_weights(&mn, 9);
    OK(model_set_device(&mf, &fake));
    OK(model_set_device(&mn, &fake));
    snprintf(mf.rglru, sizeof mf.rglru, "%s", mc.rglru);
    snprintf(mn.rglru, sizeof mn.rglru, "%s", mc.rglru);
    snprintf(mf.attn, sizeof mf.attn, "%s", mc.attn);
    snprintf(mn.attn, sizeof mn.attn, "%s", mc.attn);
    enum { B = 3, STEPS = 14, FREE_AT = 7, VAR_AT = 10 };
    const int V = c.vocab;
    decode_state sc, sf, sn;
    OK(decode_state_alloc(&sc, &mc, B, STEPS + 1));
    OK(decode_state_alloc(&sf, &mf, B, STEPS + 1));
    OK(decode_state_alloc(&sn, &mn, B, STEPS + 1));
    TEST_CHECK(sf.graphs == 1 && sc.graphs == 0, "%s: graphs default to the backend's (fake %d, cpu %d)", preset, sf.graphs,
               sc.graphs);
    sn.graphs = 0;
    float *lc = malloc((size_t)B * V * 4), *ln = malloc((size_t)B * V * 4), *lf[2] = {malloc((size_t)B * V * 4), malloc((size_t)B * V * 4)};
    const uint8_t idle[B] = {1, 0, 1};
    const char *alt = NULL;
    for (const rglru_variant *v = rglru_variants; v->name; v++)
        if (strcmp(v->name, mc.rglru)) { alt = v->name; break; }
    int32_t tok[B];
    int same = 1, bad_copies = 0, eager_kernels = 0;
    long cap0 = 0;
    for (int s = 0; s < STEPS; s++) {
        const uint8_t *am = s == 4 ? idle : NULL;
        for (int b = 0; b < B; b++) tok[b] = (int32_t)((s * 5 + b * 11 + 1) % V);
        if (s == VAR_AT && alt) {
            snprintf(mc.rglru, sizeof mc.rglru, "%s", alt);
            snprintf(mf.rglru, sizeof mf.rglru, "%s", alt);
            snprintf(mn.rglru, sizeof mn.rglru, "%s", alt);
        }
        if (s == FREE_AT) fake.free(fake.alloc(64));
        OK(model_decode_step(&mc, &sc, tok, am, lc));
        OK(model_decode_step(&mn, &sn, tok, am, ln));
        fk.nlog = 0;
        long caps = sf.graph_captures, launches = fk.launches;
        float *out = lf[s & 1]; /* a different logits buffer each step: nothing of the caller's may be baked in */
        OK(model_decode_step(&mf, &sf, tok, am, out));
        /* one upload (tokens and mask), one download (logits), nothing else copied */
        int copies = fk_count(FK_UPLOAD) + fk_count(FK_DOWNLOAD) + fk_count(FK_COPY) + fk_count(FK_MEMSET) +
                     fk_count(FK_SYNC) + fk_count(FK_ALLOC) + fk_count(FK_FREE);
        if (copies != 2 || fk_count(FK_UPLOAD) != 1 || fk.up_bytes != (size_t)B * 5 || fk.down_bytes != (size_t)B * V * 4)
            bad_copies++;
        /* a step with a graph runs no kernel outside it */
        int replayed = fk.launches > launches;
        if (replayed && fk_count(FK_KERNEL) != 0) eager_kernels++;
        if (s == 0) TEST_CHECK(!replayed && fk_count(FK_KERNEL) > 0 && sf.graph_captures == 0,
                               "%s: the first step runs eagerly (warm-up)", preset);
        if (s == 1) {
            TEST_CHECK(sf.graph_captures == 1 && replayed, "%s: the second step is captured and launched", preset);
            cap0 = sf.graph_captures;
        }
        if (s > 1 && s != FREE_AT && s != FREE_AT + 1 && s != VAR_AT && s != VAR_AT + 1)
            TEST_CHECK(sf.graph_captures == caps && replayed, "%s step %d: the graph is replayed, not captured again", preset, s);
        if (memcmp(lc, out, (size_t)B * V * 4) || memcmp(lc, ln, (size_t)B * V * 4)) same = 0;
    }
    TEST_CHECK(same, "%s (%s): graph decode == non-graph decode == cpu decode, bit for bit", preset, weights_name(wd));
    TEST_CHECK(bad_copies == 0, "%s: %d steps copied more than tokens in / logits out", preset, bad_copies);
    TEST_CHECK(eager_kernels == 0, "%s: %d replayed steps also ran kernels outside the graph", preset, eager_kernels);
    TEST_CHECK(cap0 == 1 && sf.graph_captures == (alt ? 3 : 2) && fk.stale >= 1,
               "%s: captures %ld (want %d: first use, after a free made it stale, after a variant change), stale %ld", preset,
               sf.graph_captures, alt ? 3 : 2, fk.stale);
    TEST_CHECK(sf.n[0] == STEPS && sf.n[1] == STEPS - 1 && sf.n[2] == STEPS, "%s: host counters %d %d %d", preset, sf.n[0],
               sf.n[1], sf.n[2]);
    int32_t dn[B];
    memcpy(dn, sf.dn, sizeof dn); /* fake memory is host memory */
    TEST_CHECK(!memcmp(dn, sf.n, sizeof dn), "%s: device counters advanced on the device (%d %d %d)", preset, dn[0], dn[1], dn[2]);
    free(lc); free(ln); free(lf[0]); free(lf[1]);
    decode_state_free(&sc);
    decode_state_free(&sf);
    decode_state_free(&sn);
    model_free(&mc);
    model_free(&mf);
    model_free(&mn);
}

/* A capture that contains a copy fails, naming the call; the model says so. */
static void test_graph_refusal(void) {
    static backend fake;
    fake = fake_backend();
    TEST_CHECK(fake.graph_begin() == 0, "begin");
    float x[4] = {0}, y[4] = {0};
    TEST_CHECK(fake.copy(x, y, sizeof x) == -1 && has(util_last_error(), "copy inside a graph capture"),
               "a copy inside a capture is refused: %s", util_last_error());
    TEST_CHECK(fake.graph_end() == NULL && has(util_last_error(), "uncapturable"), "the capture fails: %s", util_last_error());
}

/* The suites' validation of a device model (which has no "ref" variants)
 * against a cpu model with the same weights, on the fake device: passes on
 * the same weights (prefill, gradients, decode), refuses once one device
 * weight differs from the host copy. */
static int bad_fill_rows(float *out, const float *res, const float *bias, int N, int O) {
    for (int n = 0; n < N; n++)
        for (int d = 0; d < O; d++) out[(size_t)n * O + d] = (res ? 1.001f * res[(size_t)n * O + d] : 0.0f) + bias[d];
    return 0;
}

static void test_suite_validate_device(void) {
    static backend fake;
    fake = fake_backend();
    fake_reset();
    model m;
    if (make_model(&m, "tiny-griffin", 8) != 0) {
        TEST_CHECK(0, "tiny-griffin: %s", util_last_error());
        return;
    }
    OK(model_set_device(&m, &fake));
    suite_ctx c;
    memset(&c, 0, sizeof c);
    c.suite = "test";
    TEST_CHECK(suite_validate(&c, &m, 2, 20) == 0, "device prefill validated against the cpu");
    TEST_CHECK(suite_validate_train(&c, &m, 2, 20) == 0, "device gradients validated against the cpu");
    TEST_CHECK(suite_validate_decode(&c, &m, 2, 11) == 0, "device decode validated (vs the cpu and vs prefill)");
    /* a device whose residual stream (fill_rows with res: the output
     * projections accumulate onto it) is off by 1e-3 (the same memory: the
     * model can switch to it) */
    static backend bad;
    bad = fake;
    bad.fill_rows = bad_fill_rows;
    m.be = &bad;
    printf("(a refusal is expected next)\n");
    TEST_CHECK(suite_validate(&c, &m, 2, 20) == -1, "a device that computes differently from the cpu is refused");
    m.be = &fake;
    model_free(&m);
}

static void test_graph_decode(void) {
    const char *fams[] = {"tiny-mqa", "tiny-hawk", "tiny-griffin"};
    for (int i = 0; i < 3; i++) graph_case(fams[i], WEIGHTS_F32);
    graph_case("tiny-griffin", WEIGHTS_BF16);
    test_graph_refusal();
}

static void cuda_model_case(const char *preset) {
    model mc, mg;
    if (make_model(&mc, preset, 5) != 0 || make_model(&mg, preset, 5) != 0) {
        TEST_CHECK(0, "preset %s: %s", preset, util_last_error());
        return;
    }
    OK(model_set_device(&mg, &backend_cuda));
    const int B = 3, T = 29, V = mc.cfg.vocab, N = B * T; /* W = 8 in the tiny presets: the ring wraps */
    int32_t *tok = malloc((size_t)N * 4), *pos = malloc((size_t)N * 4), *tgt = malloc((size_t)N * 4);
    rng_t r;
    rng_seed(&r, 11);
    for (int i = 0; i < N; i++) {
        tok[i] = (int32_t)rng_below(&r, (uint32_t)V);
        pos[i] = i % T;
        tgt[i] = i % 7 == 3 ? -1 : (int32_t)rng_below(&r, (uint32_t)V);
    }
    char what[160];
    /* prefill logits, every device variant, against the cpu */
    model_acts ac, ag;
    OK(model_acts_alloc(&ac, &mc, B, T, 1));
    OK(model_acts_alloc(&ag, &mg, B, T, 1));
    OK(model_forward(&mc, &ac, tok, pos, NULL));
    const char *rl = backend_cuda.variant_list(BK_RGLRU), *al = backend_cuda.variant_list(BK_ATTN);
    char rbuf[128], abuf[128];
    snprintf(rbuf, sizeof rbuf, "%s", rl);
    for (char *rs = NULL, *rn = strtok_r(rbuf, ", ", &rs); rn; rn = strtok_r(NULL, ", ", &rs)) {
        snprintf(abuf, sizeof abuf, "%s", al);
        for (char *as = NULL, *an = strtok_r(abuf, ", ", &as); an; an = strtok_r(NULL, ", ", &as)) {
            snprintf(mg.rglru, sizeof mg.rglru, "%s", rn);
            snprintf(mg.attn, sizeof mg.attn, "%s", an);
            const float *lg = NULL;
            OK(model_forward(&mg, &ag, tok, pos, NULL));
            TEST_CHECK((lg = model_acts_logits(&ag)) != NULL, "logits download: %s", util_last_error());
            snprintf(what, sizeof what, "%s: cuda vs cpu logits (rglru %s, attn %s)", preset, rn, an);
            if (lg) TEST_CLOSE(util_max_rel_err(lg, ac.logits, (size_t)N * V), 1e-3, what);
        }
    }
    snprintf(mg.rglru, sizeof mg.rglru, "%s", backend_cuda.rglru_default);
    snprintf(mg.attn, sizeof mg.attn, "%s", backend_cuda.attn_default);
    /* one training step: gradients and the AdamW update against the cpu */
    model_grads gc, gg;
    OK(model_grads_alloc(&gc, &mc, B, T));
    OK(model_grads_alloc(&gg, &mg, B, T));
    model_zero_grad(&gc, &mc);
    model_zero_grad(&gg, &mg);
    float lc = NAN, lgpu = NAN;
    OK(model_loss_backward(&mc, &ac, &gc, tok, pos, tgt, &lc));
    OK(model_forward(&mg, &ag, tok, pos, NULL));
    OK(model_loss_backward(&mg, &ag, &gg, tok, pos, tgt, &lgpu));
    snprintf(what, sizeof what, "%s: cuda vs cpu loss", preset);
    TEST_CLOSE(fabs((double)lc - lgpu) / fabs((double)lc), 1e-5, what);
    float *hg = malloc(mc.nparams * sizeof(float));
    OK(backend_cuda.download(hg, gg.grads, mc.nparams * sizeof(float)));
    snprintf(what, sizeof what, "%s: cuda vs cpu parameter gradients", preset);
    TEST_CLOSE(util_max_rel_err(hg, gc.grads, mc.nparams), 1e-3, what);
    adamw_config oc;
    adamw_defaults(&oc);
    adamw oa, ob;
    adamw_init(&oa, &mc, &oc);
    adamw_init(&ob, &mg, &oc);
    OK(adamw_step(&oa, &mc, gc.grads));
    OK(adamw_step(&ob, &mg, gg.grads));
    OK(model_sync_host(&mg));
    snprintf(what, sizeof what, "%s: cuda vs cpu weights after an AdamW step", preset);
    TEST_CLOSE(util_max_rel_err(mg.params, mc.params, mc.nparams), 1e-3, what);
    OK(adamw_pull(&ob, mc.nparams));
    snprintf(what, sizeof what, "%s: cuda vs cpu AdamW m after a step", preset);
    TEST_CLOSE(util_max_rel_err(ob.hm, oa.m, mc.nparams), 1e-3, what);
    adamw_free(&oa);
    adamw_free(&ob);
    model_grads_free(&gc);
    model_grads_free(&gg);
    free(hg);
    /* decode == prefill on the device; device decode == cpu decode */
    OK(model_forward(&mc, &ac, tok, pos, NULL)); /* the cpu model took an AdamW step: both did */
    decode_state sc, sg;
    OK(decode_state_alloc(&sc, &mc, B, T));
    OK(decode_state_alloc(&sg, &mg, B, T));
    float *lgc = malloc((size_t)B * V * 4), *lgg = malloc((size_t)B * V * 4);
    double wp = 0, wc = 0;
    const uint8_t act[3] = {1, 0, 1};
    int n[3] = {0, 0, 0};
    int32_t cur[3];
    for (int s = 0; s < T + 1 && n[0] < T; s++) {
        const uint8_t *am = s == 4 ? act : NULL;
        for (int b = 0; b < B; b++) cur[b] = tok[b * T + (n[b] < T ? n[b] : T - 1)];
        OK(model_decode_step(&mc, &sc, cur, am, lgc));
        OK(model_decode_step(&mg, &sg, cur, am, lgg));
        for (int b = 0; b < B; b++) {
            if (am && !am[b]) continue;
            if (n[b] < T) wp = fmax(wp, util_max_rel_err(lgg + (size_t)b * V, ac.logits + ((size_t)b * T + n[b]) * V, (size_t)V));
            wc = fmax(wc, util_max_rel_err(lgg + (size_t)b * V, lgc + (size_t)b * V, (size_t)V));
            n[b]++;
        }
    }
    snprintf(what, sizeof what, "%s: cuda decode == prefill (T=%d, W=%d, an idle step)", preset, T, mc.cfg.window);
    TEST_CLOSE(wp, 1e-3, what);
    snprintf(what, sizeof what, "%s: cuda decode == cpu decode", preset);
    TEST_CLOSE(wc, 1e-3, what);
    TEST_CHECK(sg.n[1] == T - 1 && sg.n[0] == T, "cuda token counts %d %d", sg.n[0], sg.n[1]);
    free(lgc);
    free(lgg);
    decode_state_free(&sc);
    decode_state_free(&sg);
    model_acts_free(&ac);
    model_acts_free(&ag);
    free(tok); free(pos); free(tgt);
    model_free(&mc);
    model_free(&mg);
}

static void test_cuda_model(void) {
    char why[256];
    if (!backend_cuda_available(why, sizeof why)) {
        TEST_SKIP("the model on cuda: %s", why);
        return;
    }
    const char *fams[] = {"tiny-mqa", "tiny-hawk", "tiny-griffin"};
    for (int i = 0; i < 3; i++) cuda_model_case(fams[i]);
}

int main(void) {
    unsetenv("GRIFFIN_NO_GRAPH"); /* the graph checks need the default: graphs where the backend has them */
    check_entries(&backend_cpu);
    check_entries(&backend_cuda);
    check_unknown(&backend_cpu);
    check_unknown(&backend_cuda);
    test_find();
    test_cpu_loops();
    test_model();
    test_graph_decode();
    test_suite_validate_device();
    test_cuda_model();
    return test_summary();
}
