/* st_diff A.safetensors B.safetensors [TOL] — compare two float32 checkpoints
 * of the same model (tests/test_dist.sh): prints the number of values, the
 * largest absolute difference and the largest relative one
 * (|a-b| / max(|a|, |b|, 1e-6)), and exits 1 when the largest absolute
 * difference is above TOL (default 0: bit-identical values), 2 when the two
 * files do not hold the same tensors (headers differ) or cannot be read. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *hdr;
    uint64_t hn;
    float *v;
    size_t n;
} stf;

static int load(const char *path, stf *s) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    unsigned char b[8];
    if (fread(b, 1, 8, f) != 8) { fprintf(stderr, "%s: truncated\n", path); fclose(f); return -1; }
    s->hn = 0;
    for (int i = 7; i >= 0; i--) s->hn = s->hn << 8 | b[i];
    if (s->hn > (1u << 26)) { fprintf(stderr, "%s: header of %llu bytes\n", path, (unsigned long long)s->hn); fclose(f); return -1; }
    s->hdr = malloc(s->hn + 1);
    if (!s->hdr || fread(s->hdr, 1, s->hn, f) != s->hn) { fprintf(stderr, "%s: truncated header\n", path); fclose(f); return -1; }
    s->hdr[s->hn] = 0;
    long start = ftell(f);
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    fseek(f, start, SEEK_SET);
    s->n = (size_t)(end - start) / sizeof(float);
    s->v = malloc(s->n * sizeof(float) + 1);
    if (!s->v || fread(s->v, sizeof(float), s->n, f) != s->n) { fprintf(stderr, "%s: truncated data\n", path); fclose(f); return -1; }
    fclose(f);
    return 0;
}

/* The header without its __metadata__ object (the step and run details may differ). */
static void strip_meta(char *h) {
    char *m = strstr(h, "\"__metadata__\"");
    if (!m) return;
    char *e = strchr(m, '}');
    if (!e) return;
    memset(m, ' ', (size_t)(e - m + 1));
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: st_diff A B [TOL]\n"); return 2; }
    double tol = argc > 3 ? atof(argv[3]) : 0;
    stf a, b;
    if (load(argv[1], &a) || load(argv[2], &b)) return 2;
    strip_meta(a.hdr);
    strip_meta(b.hdr);
    if (a.n != b.n || strcmp(a.hdr, b.hdr)) { fprintf(stderr, "st_diff: %s and %s hold different tensors\n", argv[1], argv[2]); return 2; }
    double ma = 0, mr = 0;
    for (size_t i = 0; i < a.n; i++) {
        double x = a.v[i], y = b.v[i], d = fabs(x - y);
        if (isnan(d)) d = INFINITY;
        double den = fmax(fmax(fabs(x), fabs(y)), 1e-6);
        if (d > ma) ma = d;
        if (d / den > mr) mr = d / den;
    }
    printf("values %zu max_abs %.3g max_rel %.3g\n", a.n, ma, mr);
    return ma > tol ? 1 : 0;
}
