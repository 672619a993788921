/* npy.c — see npy.h. */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int npy_write_f32(const char *path, const float *data, const int64_t *shape, int ndim) {
    char hdr[256], shp[128] = "";
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        snprintf(shp + strlen(shp), sizeof shp - strlen(shp), "%lld,%s", (long long)shape[i], (ndim > 1 && i < ndim - 1) ? " " : "");
        n *= (size_t)shape[i];
    }
    if (ndim > 1) shp[strlen(shp) - 1] = 0; /* "(3, 4)" not "(3, 4,)" */
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shp);
    int total = 10 + hl + 1;
    int pad = (64 - total % 64) % 64;
    util_afile a;
    if (util_atomic_open(&a, path) != 0) return -1;
    unsigned short hlen = (unsigned short)(hl + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xFF), (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, 10, a.f);
    fwrite(hdr, 1, (size_t)hl, a.f);
    for (int i = 0; i < pad; i++) fputc(' ', a.f);
    fputc('\n', a.f);
    fwrite(data, sizeof(float), n, a.f);
    return util_atomic_commit(&a);
}

int npy_read_i32(const char *path, int32_t **out, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { util_error("%s: %s", path, strerror(errno)); return -1; }
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) {
        fclose(f);
        util_error("%s: not a .npy file", path);
        return -1;
    }
    size_t hl;
    if (pre[6] == 1) hl = (size_t)pre[8] | ((size_t)pre[9] << 8);
    else {
        unsigned char b2[2];
        if (fread(b2, 1, 2, f) != 2) { fclose(f); util_error("%s: truncated header", path); return -1; }
        hl = (size_t)pre[8] | ((size_t)pre[9] << 8) | ((size_t)b2[0] << 16) | ((size_t)b2[1] << 24);
    }
    if (hl > 65536) { fclose(f); util_error("%s: header too long", path); return -1; }
    char *h = calloc(1, hl + 1);
    CHECK_ALLOC(h);
    if (fread(h, 1, hl, f) != hl) { free(h); fclose(f); util_error("%s: truncated header", path); return -1; }
    int w = strstr(h, "'<i4'") ? 4 : strstr(h, "'<i8'") ? 8 : 0;
    if (!w || strstr(h, "'fortran_order': True")) {
        free(h); fclose(f);
        util_error("%s: expected little-endian int32 or int64 tokens in C order", path);
        return -1;
    }
    const char *s = strstr(h, "'shape':");
    size_t cnt = 1;
    if (s) {
        s = strchr(s, '(');
        if (s) {
            s++;
            while (*s && *s != ')') {
                while (*s == ' ' || *s == ',') s++;
                if (*s == ')') break;
                char *e;
                long long d = strtoll(s, &e, 10);
                if (e == s || d < 0) break;
                cnt *= (size_t)d;
                s = e;
            }
        }
    }
    free(h);
    if (cnt > ((size_t)1 << 32)) { fclose(f); util_error("%s: too many tokens", path); return -1; }
    int32_t *v = malloc((cnt ? cnt : 1) * sizeof(int32_t));
    CHECK_ALLOC(v);
    for (size_t i = 0; i < cnt; i++) {
        unsigned char b[8];
        if (fread(b, 1, (size_t)w, f) != (size_t)w) { free(v); fclose(f); util_error("%s: truncated data", path); return -1; }
        int64_t x = 0;
        for (int k = w - 1; k >= 0; k--) x = (x << 8) | b[k];
        if (w == 4) x = (int32_t)(uint32_t)x;
        v[i] = (int32_t)x;
    }
    fclose(f);
    *out = v;
    *n = cnt;
    return 0;
}
