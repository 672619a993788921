/* fd.h — the finite-difference check the gradient tests share (header only;
 * include after util.h).
 *
 * fd_max_err(f, ctx, param, grad, n, probes, r): over `probes` entries of
 * the double array `param` drawn from r, the largest |fd - grad| / max(max
 * |grad|, |fd|), fd being the central difference (step 1e-4) of the loss
 * f(ctx) in that entry. Each entry is restored after its probe. */
#ifndef GRIFFIN_TEST_FD_H
#define GRIFFIN_TEST_FD_H
#include <math.h>
#include <stddef.h>

static double fd_max_err(double (*f)(void *ctx), void *ctx, double *param, const float *grad, size_t n, int probes,
                         rng_t *r) {
    double gmax = 1e-12, worst = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(grad[i]));
    const double h = 1e-4;
    for (int p = 0; p < probes; p++) {
        size_t i = rng_below(r, (uint32_t)n);
        double save = param[i];
        param[i] = save + h;
        double fp = f(ctx);
        param[i] = save - h;
        double fm = f(ctx);
        param[i] = save;
        double fd = (fp - fm) / (2 * h);
        worst = fmax(worst, fabs(fd - grad[i]) / fmax(gmax, fabs(fd)));
    }
    return worst;
}
#endif
