/* safetensors.h — reading and writing safetensors files: an 8-byte
 * little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"k": "v", ...}, "NAME": {"dtype": "F32", "shape": [..],
 *    "data_offsets": [begin, end]}, ...}
 * then the data region (offsets relative to its start).
 *
 * The parser checks everything before any tensor is touched: header length
 * against the file size, JSON syntax, dtypes (F32, BF16, I32), shape product
 * against the byte range, offsets inside the data region and not
 * overlapping, duplicate names. Errors name the tensor and the problem
 * (util_last_error()); the parser never reads out of bounds (fuzzed by
 * tests/fuzz_safetensors.c).
 */
#ifndef GRIFFIN_SAFETENSORS_H
#define GRIFFIN_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8
#define ST_NAME_MAX 160

typedef enum { ST_F32 = 1, ST_BF16 = 2, ST_I32 = 3 } st_dtype;

typedef struct {
    char name[ST_NAME_MAX];
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end; /* into the data region */
} st_tensor;

typedef struct {
    int n;
    st_tensor *t;
    int nmeta;
    char **meta_key, **meta_val; /* unescaped strings */
    const uint8_t *data;         /* data region */
    uint64_t data_len;
    uint8_t *owned;              /* file contents when read from disk */
} st_file;

/* Parse an in-memory file image (not copied: buf must outlive f unless
 * st_open owns it). 0 or -1. */
int st_parse(st_file *f, const uint8_t *buf, size_t len);
/* Read and parse a file. 0 or -1 (the error names the path). */
int st_open(st_file *f, const char *path);
void st_close(st_file *f);
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);
int64_t st_numel(const st_tensor *t);
/* Copy a tensor out as float32 (F32 or BF16; I32 converted). 0 or -1. */
int st_read_f32(const st_file *f, const st_tensor *t, float *dst, size_t cap);
int st_read_i32(const st_file *f, const st_tensor *t, int32_t *dst, size_t cap);

typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    const void *data; /* little-endian */
} st_out;

/* Write atomically (temporary file in the same folder, fsync, rename).
 * meta: nmeta key/value string pairs. 0 or -1; on failure the previous
 * file at `path`, if any, is untouched. */
int st_write(const char *path, const st_out *ts, int n, const char *const *meta_keys,
             const char *const *meta_vals, int nmeta);

#endif
