/* test_tp.c — the tensor-parallel forward of one recurrent residual block
 * (models/dist.c: tp_recurrent_block_forward) against the model's own
 * forward: for every recurrent layer of tiny Hawk and Griffin models (all
 * parameters, biases and norms included, perturbed off their init so that
 * a wrong slice shows), the block's output from the layer's saved input
 * equals the next layer's saved input (or the final residual stream) within
 * TOL (max abs error over max abs value; fp32 rounding of the split GEMMs
 * and of the rank-order sum of the partial outputs), and every rank ends
 * with the same bits, having sent what two ring all-reduces of the (B*T, D)
 * partial outputs send and nothing more. A 1e-3 change of one input must exceed TOL (the check
 * can fail); a rank count that splits the gate blocks unevenly is refused.
 * Run alone it checks the code at one rank; tests/test_dist.sh runs it
 * under mpirun -np 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "dist.h"
#include "model.h"
#include "test.h"
#include "util.h"

#define TOL 1e-5

static double rel_err(const float *a, const float *b, size_t n) {
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return e / (s > 1e-6 ? s : 1e-6);
}

static uint64_t hash(const float *a, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *p = (const unsigned char *)a;
    for (size_t i = 0; i < n * sizeof(float); i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* every rank holds the same bits */
static int same_everywhere(comm *cm, const float *a, size_t n) {
    uint64_t h = hash(a, n), *all = malloc((size_t)comm_size(cm) * sizeof h);
    CHECK_ALLOC(all);
    comm_allgather(cm, &h, all, sizeof h);
    int ok = 1;
    for (int r = 0; r < comm_size(cm); r++) ok &= all[r] == h;
    free(all);
    return ok;
}

static void check_preset(comm *cm, const char *preset, int gate_blocks) {
    const int P = comm_size(cm), B = 2, T = 19;
    model_config cfg;
    model m;
    if (config_preset(preset, &cfg) != 0) { TEST_CHECK(0, "%s: %s", preset, util_last_error()); return; }
    if (gate_blocks) cfg.gate_blocks = gate_blocks;
    if (config_finalize(&cfg) != 0 || model_create(&m, &cfg) != 0) { TEST_CHECK(0, "%s: %s", preset, util_last_error()); return; }
    model_init_weights(&m, 11);
    rng_t r;
    rng_seed(&r, 5);
    for (size_t i = 0; i < m.nparams; i++) m.params[i] += 0.05f * (float)rng_normal(&r);
    const int N = B * T, D = cfg.width;
    int32_t tok[2 * 19], pos[2 * 19];
    for (int i = 0; i < N; i++) {
        tok[i] = (int32_t)rng_below(&r, (uint32_t)cfg.vocab);
        int t = i % T;
        pos[i] = i < T ? t : (t < 7 ? t : t - 7); /* the second row starts a new document at t = 7 */
    }
    model_acts a;
    if (model_acts_alloc(&a, &m, B, T, 1) != 0 || model_forward(&m, &a, tok, pos, NULL) != 0) {
        TEST_CHECK(0, "%s: forward: %s", preset, util_last_error());
        model_free(&m);
        return;
    }
    float *out = malloc((size_t)N * D * sizeof(float)), *x2 = malloc((size_t)N * D * sizeof(float));
    CHECK_ALLOC(out); CHECK_ALLOC(x2);
    int uneven = cfg.gate_blocks % P != 0 || (cfg.mlp_expansion * D) % P != 0, nrec = 0;
    for (int l = 0; l < cfg.depth; l++) {
        if (cfg.pattern[l] != 'R') continue;
        nrec++;
        const float *x = a.layers[l].x_in, *want = l + 1 < cfg.depth ? a.layers[l + 1].x_in : a.x_out;
        uint64_t sent0 = comm_bytes_sent(cm);
        int rc = tp_recurrent_block_forward(cm, &m, l, x, pos, B, T, out);
        double sent = (double)(comm_bytes_sent(cm) - sent0), ring = 2.0 * 2.0 * (P - 1) / P * (double)N * D * sizeof(float);
        char what[128];
        if (uneven) {
            TEST_CHECK(rc != 0 && strstr(util_last_error(), "whole shares"), "%s (%d gate blocks) layer %d on %d ranks: refused (rc %d: %s)",
                       preset, cfg.gate_blocks, l, P, rc, rc ? util_last_error() : "accepted");
            continue;
        }
        TEST_CHECK(rc == 0, "%s layer %d: %s", preset, l, rc ? util_last_error() : "");
        if (rc) continue;
        snprintf(what, sizeof what, "%s (%d gate blocks) layer %d, %d rank(s): block output", preset, cfg.gate_blocks, l, P);
        TEST_CLOSE(rel_err(out, want, (size_t)N * D), TOL, what);
        TEST_CHECK(same_everywhere(cm, out, (size_t)N * D), "%s layer %d: every rank holds the same output", preset, l);
        /* the communication is two ring all-reduces of the (B*T, D) partial outputs (chunks differ by one float at most) */
        TEST_CHECK(fabs(sent - ring) <= 4.0 * P * sizeof(float), "%s layer %d: %.0f bytes sent, two all-reduces of %d x %d floats move %.0f", preset, l,
                   sent, N, D, ring);
        /* the check can fail: one input changed by 1e-3 */
        memcpy(x2, x, (size_t)N * D * sizeof(float));
        x2[(size_t)(N / 2) * D + 3] += 1e-3f;
        rc = tp_recurrent_block_forward(cm, &m, l, x2, pos, B, T, out);
        TEST_CHECK(rc == 0 && rel_err(out, want, (size_t)N * D) > TOL, "%s layer %d: a 1e-3 change of one input is seen (err %.3g)", preset, l,
                   rel_err(out, want, (size_t)N * D));
    }
    TEST_CHECK(nrec > 0, "%s has recurrent layers", preset);
    /* an attention layer is not a recurrent block */
    for (int l = 0; l < cfg.depth; l++)
        if (cfg.pattern[l] != 'R') {
            TEST_CHECK(tp_recurrent_block_forward(cm, &m, l, a.layers[l].x_in, pos, B, T, out) != 0, "%s layer %d (%c): refused", preset, l,
                       cfg.pattern[l]);
            break;
        }
    free(out);
    free(x2);
    model_acts_free(&a);
    model_free(&m);
}

int main(void) {
    comm *cm = NULL;
    comm_options co = {"auto", 60, 0};
    if (comm_open(&cm, &co) != 0) {
        TEST_CHECK(0, "comm_open: %s", util_last_error());
        return test_summary();
    }
    util_set_threads(1);
    check_preset(cm, "tiny-hawk", 0);
    check_preset(cm, "tiny-griffin", 0);
    check_preset(cm, "tiny-hawk", 4);  /* more gate blocks than ranks */
    check_preset(cm, "tiny-hawk", 3);  /* uneven at 2 ranks: refused there */
    int rc = test_summary();
    comm_close(cm);
    return rc;
}
