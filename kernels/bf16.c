/* bf16.c — array conversions between float and bfloat16 (see bf16.h). */
#include "bf16.h"

void bf16_from_f32(uint16_t *dst, const float *src, size_t n) {
    /* the scalar form vectorises (integer add, shift, blend for NaN) */
#pragma omp parallel for simd schedule(static) if (n > (1u << 20))
    for (size_t i = 0; i < n; i++) dst[i] = f32_to_bf16(src[i]);
}

void bf16_to_f32_array(float *dst, const uint16_t *src, size_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1u << 20))
    for (size_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}
