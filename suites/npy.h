/* npy.h — NumPy .npy files (format 1.0): write float32 arrays, read 1-D or
 * 2-D integer arrays (int32/int64, little-endian, C order) as token ids. */
#ifndef GRIFFIN_NPY_H
#define GRIFFIN_NPY_H
#include <stddef.h>
#include <stdint.h>

/* 0 or -1 (util_last_error). Written atomically (temp + rename). */
int npy_write_f32(const char *path, const float *data, const int64_t *shape, int ndim);
/* Reads an integer array; *out malloc'ed, *n elements. 0 or -1. */
int npy_read_i32(const char *path, int32_t **out, size_t *n);
#endif
