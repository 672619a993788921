/* safetensors.c — see safetensors.h. A small strict JSON reader for the
 * header (objects, arrays, strings, integers), nothing more. */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define ST_HEADER_MAX (100u << 20) /* 100 MiB, as the reference format limits it */

typedef struct {
    const char *p, *end;
    const char *err;
} jp;

static void ws(jp *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

static int expect(jp *j, char c) {
    ws(j);
    if (j->p >= j->end || *j->p != c) return -1;
    j->p++;
    return 0;
}

/* Parse a JSON string. out == NULL: validate and skip it (any length).
 * Otherwise decode into out (cap bytes, NUL-terminated); a longer string is
 * still read to its end (so parsing can go on) and gives -2. *len (may be
 * NULL) receives the decoded length. A NUL byte (\u0000) is refused (-1 with
 * j->err set): names and metadata are C strings, and a NUL would silently
 * cut them. Malformed: -1. */
static int jstring(jp *j, char *out, size_t cap, size_t *len) {
    ws(j);
    if (j->p >= j->end || *j->p != '"') return -1;
    j->p++;
    size_t n = 0;
    int too_long = 0;
    while (j->p < j->end && *j->p != '"') {
        unsigned char ch = (unsigned char)*j->p++;
        unsigned char buf[3];
        int nb = 1;
        if (ch < 0x20) return -1;
        buf[0] = ch;
        if (ch == '\\') {
            if (j->p >= j->end) return -1;
            char e = *j->p++;
            switch (e) {
            case '"': buf[0] = '"'; break;
            case '\\': buf[0] = '\\'; break;
            case '/': buf[0] = '/'; break;
            case 'b': buf[0] = '\b'; break;
            case 'f': buf[0] = '\f'; break;
            case 'n': buf[0] = '\n'; break;
            case 'r': buf[0] = '\r'; break;
            case 't': buf[0] = '\t'; break;
            case 'u': {
                if (j->end - j->p < 4) return -1;
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    char h = *j->p++;
                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else return -1;
                }
                if (v == 0) { j->err = "a string holds a NUL byte (\\u0000)"; return -1; }
                /* encode as UTF-8 (surrogates kept as-is: metadata only) */
                if (v < 0x80) { buf[0] = (unsigned char)v; nb = 1; }
                else if (v < 0x800) { buf[0] = (unsigned char)(0xC0 | (v >> 6)); buf[1] = (unsigned char)(0x80 | (v & 0x3F)); nb = 2; }
                else { buf[0] = (unsigned char)(0xE0 | (v >> 12)); buf[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F)); buf[2] = (unsigned char)(0x80 | (v & 0x3F)); nb = 3; }
                break;
            }
            default: return -1;
            }
        }
        for (int k = 0; k < nb; k++, n++) {
            if (!out) continue;
            if (n + 1 >= cap) too_long = 1;
            else out[n] = (char)buf[k];
        }
    }
    if (j->p >= j->end) return -1;
    j->p++;
    if (out && cap) out[too_long ? cap - 1 : n] = 0;
    if (len) *len = n;
    return too_long ? -2 : 0;
}

/* A JSON string of any length into a new allocation (caller frees). */
static int jstring_dup(jp *j, char **out) {
    jp probe = *j;
    size_t n = 0;
    *out = NULL;
    if (jstring(&probe, NULL, 0, &n) != 0) { j->err = probe.err; return -1; }
    char *b = malloc(n + 1);
    CHECK_ALLOC(b);
    if (jstring(j, b, n + 1, NULL) != 0) { free(b); return -1; }
    *out = b;
    return 0;
}

static int juint(jp *j, uint64_t *v) {
    ws(j);
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return -1;
    uint64_t x = 0;
    int digits = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (x > (UINT64_MAX - 9) / 10) return -1;
        x = x * 10 + (uint64_t)(*j->p++ - '0');
        if (++digits > 19) return -1;
    }
    *v = x;
    return 0;
}

/* Skip any JSON value (for unknown keys), depth-limited. */
static int jskip(jp *j, int depth) {
    if (depth > 32) return -1;
    ws(j);
    if (j->p >= j->end) return -1;
    char c = *j->p;
    if (c == '"') return jstring(j, NULL, 0, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        ws(j);
        if (j->p < j->end && *j->p == close) { j->p++; return 0; }
        for (;;) {
            if (c == '{' && (jstring(j, NULL, 0, NULL) || expect(j, ':'))) return -1;
            if (jskip(j, depth + 1)) return -1;
            ws(j);
            if (j->p >= j->end) return -1;
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p == close) { j->p++; return 0; }
            return -1;
        }
    }
    /* number / true / false / null */
    const char *s = j->p;
    while (j->p < j->end && (strchr("+-.eE", *j->p) || (*j->p >= '0' && *j->p <= '9') || (*j->p >= 'a' && *j->p <= 'z'))) j->p++;
    return j->p > s ? 0 : -1;
}

static int dtype_size(st_dtype d) { return d == ST_BF16 ? 2 : 4; }

static int parse_tensor(jp *j, st_tensor *t) {
    if (expect(j, '{')) return -1;
    int have_dtype = 0, have_shape = 0, have_off = 0;
    ws(j);
    if (j->p < j->end && *j->p == '}') { util_error("tensor '%s': empty description", t->name); return -2; }
    for (;;) {
        char key[64];
        int kr = jstring(j, key, sizeof key, NULL);
        if (kr == -2) key[0] = 0; /* longer than any key we know: skipped below */
        else if (kr) return -1;
        if (expect(j, ':')) return -1;
        if (!strcmp(key, "dtype")) {
            char d[32];
            int dr = jstring(j, d, sizeof d, NULL);
            if (dr == -1) return -1;
            if (!strcmp(d, "F32")) t->dtype = ST_F32;
            else if (!strcmp(d, "BF16")) t->dtype = ST_BF16;
            else if (!strcmp(d, "I32")) t->dtype = ST_I32;
            else { util_error("tensor '%s': unsupported dtype '%s' (F32, BF16 or I32)", t->name, d); return -2; }
            have_dtype = 1;
        } else if (!strcmp(key, "shape")) {
            if (expect(j, '[')) return -1;
            t->ndim = 0;
            ws(j);
            if (j->p < j->end && *j->p == ']') j->p++;
            else
                for (;;) {
                    uint64_t v;
                    if (juint(j, &v)) return -1;
                    if (t->ndim >= ST_MAX_DIMS) { util_error("tensor '%s': more than %d dimensions", t->name, ST_MAX_DIMS); return -2; }
                    if (v > ((uint64_t)1 << 40)) { util_error("tensor '%s': dimension %llu is absurd", t->name, (unsigned long long)v); return -2; }
                    t->shape[t->ndim++] = (int64_t)v;
                    ws(j);
                    if (j->p < j->end && *j->p == ',') { j->p++; continue; }
                    if (expect(j, ']')) return -1;
                    break;
                }
            have_shape = 1;
        } else if (!strcmp(key, "data_offsets")) {
            if (expect(j, '[') || juint(j, &t->begin) || expect(j, ',') || juint(j, &t->end) || expect(j, ']')) return -1;
            have_off = 1;
        } else {
            if (jskip(j, 0)) return -1;
        }
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (expect(j, '}')) return -1;
        break;
    }
    if (!have_dtype || !have_shape || !have_off) {
        util_error("tensor '%s': missing %s", t->name, !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
        return -2;
    }
    return 0;
}

static int parse_meta(jp *j, st_file *f) {
    if (expect(j, '{')) return -1;
    ws(j);
    if (j->p < j->end && *j->p == '}') { j->p++; return 0; }
    for (;;) {
        char *k = NULL, *v = NULL;
        if (jstring_dup(j, &k) || expect(j, ':') || jstring_dup(j, &v)) {
            free(k); free(v);
            util_error("bad __metadata__: %s", j->err ? j->err : "it must map strings to strings");
            return -2;
        }
        f->meta_key = realloc(f->meta_key, (size_t)(f->nmeta + 1) * sizeof(char *));
        f->meta_val = realloc(f->meta_val, (size_t)(f->nmeta + 1) * sizeof(char *));
        CHECK_ALLOC(f->meta_key); CHECK_ALLOC(f->meta_val);
        f->meta_key[f->nmeta] = k;
        f->meta_val[f->nmeta] = v;
        f->nmeta++;
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (expect(j, '}')) return -1;
        return 0;
    }
}

static int cmp_begin(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

int st_parse(st_file *f, const uint8_t *buf, size_t len) {
    uint8_t *owned = f->owned;
    memset(f, 0, sizeof *f);
    f->owned = owned;
    if (len < 8) { util_error("file too short for a safetensors header (%zu bytes)", len); return -1; }
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | buf[i];
    if (hl > ST_HEADER_MAX) { util_error("declared header length %llu is larger than the 100 MiB limit", (unsigned long long)hl); return -1; }
    if (hl > len - 8) {
        util_error("truncated file: header declares %llu bytes but only %zu follow", (unsigned long long)hl, len - 8);
        return -1;
    }
    if (hl < 2) { util_error("header too short (%llu bytes)", (unsigned long long)hl); return -1; }
    jp j = {(const char *)buf + 8, (const char *)buf + 8 + hl, NULL};
    f->data = buf + 8 + hl;
    f->data_len = len - 8 - hl;
    int cap = 0;
    if (expect(&j, '{')) goto bad_json;
    ws(&j);
    if (j.p < j.end && *j.p == '}') { j.p++; goto done; }
    for (;;) {
        char name[ST_NAME_MAX];
        int rc = jstring(&j, name, sizeof name, NULL);
        if (rc == -2) { util_error("tensor name longer than %d bytes", ST_NAME_MAX - 1); goto fail; }
        if (rc || expect(&j, ':')) goto bad_json;
        if (!strcmp(name, "__metadata__")) {
            rc = parse_meta(&j, f);
            if (rc == -2) goto fail;
            if (rc) goto bad_json;
        } else {
            if (f->n == cap) {
                cap = cap ? 2 * cap : 64;
                if (cap > 1 << 20) { util_error("too many tensors"); goto fail; }
                f->t = realloc(f->t, (size_t)cap * sizeof *f->t);
                CHECK_ALLOC(f->t);
            }
            st_tensor *t = &f->t[f->n];
            memset(t, 0, sizeof *t);
            snprintf(t->name, sizeof t->name, "%s", name);
            rc = parse_tensor(&j, t);
            if (rc == -2) goto fail;
            if (rc) goto bad_json;
            for (int i = 0; i < f->n; i++)
                if (!strcmp(f->t[i].name, name)) { util_error("tensor '%s' appears twice", name); goto fail; }
            f->n++;
        }
        ws(&j);
        if (j.p < j.end && *j.p == ',') { j.p++; continue; }
        if (expect(&j, '}')) goto bad_json;
        break;
    }
done:
    ws(&j);
    if (j.p != j.end) goto bad_json;
    /* sizes and bounds */
    for (int i = 0; i < f->n; i++) {
        st_tensor *t = &f->t[i];
        if (t->begin > t->end) { util_error("tensor '%s': data_offsets [%llu, %llu] are reversed", t->name, (unsigned long long)t->begin, (unsigned long long)t->end); goto fail; }
        if (t->end > f->data_len) {
            util_error("tensor '%s': data_offsets end %llu is past the end of the data (%llu bytes)", t->name,
                       (unsigned long long)t->end, (unsigned long long)f->data_len);
            goto fail;
        }
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] != 0 && numel > UINT64_MAX / (uint64_t)t->shape[d]) { util_error("tensor '%s': shape overflows", t->name); goto fail; }
            numel *= (uint64_t)t->shape[d];
        }
        if (numel > UINT64_MAX / 4 || numel * (uint64_t)dtype_size(t->dtype) != t->end - t->begin) {
            util_error("tensor '%s': shape holds %llu elements but data_offsets span %llu bytes", t->name,
                       (unsigned long long)numel, (unsigned long long)(t->end - t->begin));
            goto fail;
        }
    }
    if (f->n > 1) {
        st_tensor **order = malloc((size_t)f->n * sizeof *order);
        CHECK_ALLOC(order);
        for (int i = 0; i < f->n; i++) order[i] = &f->t[i];
        qsort(order, (size_t)f->n, sizeof *order, cmp_begin);
        for (int i = 1; i < f->n; i++)
            if (order[i]->begin < order[i - 1]->end) {
                util_error("tensors '%s' and '%s' have overlapping data_offsets", order[i - 1]->name, order[i]->name);
                free(order);
                goto fail;
            }
        free(order);
    }
    return 0;
bad_json:
    util_error("malformed JSON header near byte %ld%s%s", (long)(j.p - (const char *)buf - 8), j.err ? ": " : "",
               j.err ? j.err : "");
fail:
    {
        uint8_t *keep = f->owned;
        f->owned = NULL;
        st_close(f);
        f->owned = keep;
    }
    return -1;
}

int st_open(st_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) { util_error("%s: %s", path, strerror(errno)); return -1; }
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        util_error("%s: not a regular file", path);
        fclose(fp);
        return -1;
    }
    size_t len = (size_t)sb.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) { util_error("%s: cannot allocate %zu bytes", path, len); fclose(fp); return -1; }
    if (len && fread(buf, 1, len, fp) != len) {
        util_error("%s: read error", path);
        free(buf);
        fclose(fp);
        return -1;
    }
    fclose(fp);
    f->owned = buf;
    if (st_parse(f, buf, len) != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", util_last_error());
        util_error("%s: %s", path, msg);
        free(buf);
        f->owned = NULL;
        return -1;
    }
    return 0;
}

void st_close(st_file *f) {
    for (int i = 0; i < f->nmeta; i++) { free(f->meta_key[i]); free(f->meta_val[i]); }
    free(f->meta_key);
    free(f->meta_val);
    free(f->t);
    free(f->owned);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key) {
    for (int i = 0; i < f->nmeta; i++)
        if (!strcmp(f->meta_key[i], key)) return f->meta_val[i];
    return NULL;
}

int64_t st_numel(const st_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

int st_read_f32(const st_file *f, const st_tensor *t, float *dst, size_t cap) {
    size_t n = (size_t)st_numel(t);
    if (n > cap) { util_error("tensor '%s': %zu elements do not fit in %zu", t->name, n, cap); return -1; }
    const uint8_t *src = f->data + t->begin;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        if (t->dtype == ST_BF16) {
            u = ((uint32_t)src[2 * i] | ((uint32_t)src[2 * i + 1] << 8)) << 16;
            memcpy(&dst[i], &u, 4);
        } else {
            u = (uint32_t)src[4 * i] | ((uint32_t)src[4 * i + 1] << 8) | ((uint32_t)src[4 * i + 2] << 16) | ((uint32_t)src[4 * i + 3] << 24);
            if (t->dtype == ST_I32) dst[i] = (float)(int32_t)u;
            else memcpy(&dst[i], &u, 4);
        }
    }
    return 0;
}

int st_read_i32(const st_file *f, const st_tensor *t, int32_t *dst, size_t cap) {
    size_t n = (size_t)st_numel(t);
    if (t->dtype != ST_I32) { util_error("tensor '%s' is not I32", t->name); return -1; }
    if (n > cap) { util_error("tensor '%s': %zu elements do not fit in %zu", t->name, n, cap); return -1; }
    memcpy(dst, f->data + t->begin, n * 4);
    return 0;
}

/* ---- writer ------------------------------------------------------------------ */

static void buf_puts(char **b, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap) *cap = *cap ? 2 * *cap : 4096;
        *b = realloc(*b, *cap);
        CHECK_ALLOC(*b);
    }
    memcpy(*b + *len, s, n + 1);
    *len += n;
}

static void buf_putjstr(char **b, size_t *len, size_t *cap, const char *s) {
    buf_puts(b, len, cap, "\"");
    char tmp[8];
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') { tmp[0] = '\\'; tmp[1] = (char)*p; tmp[2] = 0; }
        else if (*p < 0x20) snprintf(tmp, sizeof tmp, "\\u%04x", *p);
        else { tmp[0] = (char)*p; tmp[1] = 0; }
        buf_puts(b, len, cap, tmp);
    }
    buf_puts(b, len, cap, "\"");
}

int st_write(const char *path, const st_out *ts, int n, const char *const *meta_keys,
             const char *const *meta_vals, int nmeta) {
    char *h = NULL;
    size_t hl = 0, hc = 0;
    char num[128];
    buf_puts(&h, &hl, &hc, "{");
    if (nmeta > 0) {
        buf_puts(&h, &hl, &hc, "\"__metadata__\":{");
        for (int i = 0; i < nmeta; i++) {
            if (i) buf_puts(&h, &hl, &hc, ",");
            buf_putjstr(&h, &hl, &hc, meta_keys[i]);
            buf_puts(&h, &hl, &hc, ":");
            buf_putjstr(&h, &hl, &hc, meta_vals[i]);
        }
        buf_puts(&h, &hl, &hc, "}");
    }
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        if (i || nmeta > 0) buf_puts(&h, &hl, &hc, ",");
        buf_putjstr(&h, &hl, &hc, ts[i].name);
        buf_puts(&h, &hl, &hc, ":{\"dtype\":\"");
        buf_puts(&h, &hl, &hc, ts[i].dtype == ST_F32 ? "F32" : ts[i].dtype == ST_BF16 ? "BF16" : "I32");
        buf_puts(&h, &hl, &hc, "\",\"shape\":[");
        uint64_t numel = 1;
        for (int d = 0; d < ts[i].ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)ts[i].shape[d]);
            buf_puts(&h, &hl, &hc, num);
            numel *= (uint64_t)ts[i].shape[d];
        }
        uint64_t bytes = numel * (uint64_t)dtype_size(ts[i].dtype);
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + bytes));
        buf_puts(&h, &hl, &hc, num);
        off += bytes;
    }
    buf_puts(&h, &hl, &hc, "}");
    while (hl % 8) buf_puts(&h, &hl, &hc, " ");

    util_afile a;
    if (util_atomic_open(&a, path) != 0) { free(h); return -1; }
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    fwrite(le, 1, 8, a.f);
    fwrite(h, 1, hl, a.f);
    free(h);
    for (int i = 0; i < n; i++) {
        uint64_t numel = 1;
        for (int d = 0; d < ts[i].ndim; d++) numel *= (uint64_t)ts[i].shape[d];
        fwrite(ts[i].data, 1, (size_t)(numel * (uint64_t)dtype_size(ts[i].dtype)), a.f);
    }
    return util_atomic_commit(&a); /* names the path and the errno; the old file stays */
}
