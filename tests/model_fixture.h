/* model_fixture.h — the tests' tiny model with non-zero biases and norm
 * scales, so that every parameter matters (test_model.c, test_backend.c). */
#ifndef GRIFFIN_MODEL_FIXTURE_H
#define GRIFFIN_MODEL_FIXTURE_H
#include "model.h"
#include "util.h"

/* preset with window (< 0: the preset's) and weight storage wd, seeded;
 * every zero-initialised tensor drawn N(0, 0.1^2). 0 or -1. */
static inline int fixture_model(model *m, const char *preset, uint64_t seed, int window, weights_dtype wd) {
    model_config c;
    if (config_preset(preset, &c) != 0) return -1;
    if (window >= 0) {
        c.window = window;
        if (config_finalize(&c) != 0) return -1;
    }
    if (model_create_dtype(m, &c, wd) != 0) return -1;
    model_init_weights(m, seed);
    rng_t r;
    rng_seed(&r, seed + 77);
    for (int i = 0; i < m->ntensors; i++) {
        tensor_desc *t = &m->tensors[i];
        if (t->init == INIT_ZERO)
            for (size_t j = 0; j < t->numel; j++) m->params[t->offset + j] = (float)(0.1 * rng_normal(&r));
    }
    return 0;
}

#endif
