/* bf16.h — bfloat16 storage: the top 16 bits of an IEEE-754 binary32.
 *
 * Used for inference weights (models/ --weights bf16) and by the GEMM
 * kernels that read them (matmul.h gemm_bf16*). Widening is exact; narrowing
 * rounds to nearest, ties to even, and keeps NaN a (quiet) NaN. The array
 * converters are vectorised where the target allows (bf16.c).
 */
#ifndef GRIFFIN_BF16_H
#define GRIFFIN_BF16_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u); /* NaN stays NaN */
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* dst[i] = bf16(src[i]) (round to nearest even), n values. */
void bf16_from_f32(uint16_t *dst, const float *src, size_t n);
/* dst[i] = (float)src[i] (exact), n values. */
void bf16_to_f32_array(float *dst, const uint16_t *src, size_t n);

#ifdef __cplusplus
}
#endif
#endif
