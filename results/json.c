/* json.c — see json.h. Recursive-descent parser over a NUL-terminated text. */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct {
    const char *s, *p;
    char *err;
    size_t errlen;
    int failed;
} parser;

static void perr(parser *ps, const char *msg) {
    if (ps->failed) return;
    ps->failed = 1;
    int line = 1, col = 1;
    for (const char *q = ps->s; q < ps->p; q++) {
        if (*q == '\n') { line++; col = 1; } else col++;
    }
    if (ps->err && ps->errlen) snprintf(ps->err, ps->errlen, "line %d col %d: %s", line, col, msg);
}

static void ws(parser *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static json *jnew(json_type t) {
    json *v = calloc(1, sizeof *v);
    CHECK_ALLOC(v);
    v->type = t;
    return v;
}

static void put_utf8(jbuf *b, uint32_t cp) {
    char u[5] = {0};
    if (cp < 0x80) u[0] = (char)cp;
    else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); }
    else { u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); }
    jbuf_puts(b, u);
}

static int hex4(const char *p, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static char *parse_string(parser *ps) {
    /* at the opening quote */
    ps->p++;
    jbuf b = {0};
    jbuf_puts(&b, "");
    for (;;) {
        char c = *ps->p;
        if (c == 0) { perr(ps, "unterminated string"); jbuf_free(&b); return NULL; }
        if (c == '"') { ps->p++; break; }
        if ((unsigned char)c < 0x20) { perr(ps, "control character in string"); jbuf_free(&b); return NULL; }
        if (c == '\\') {
            char e = ps->p[1];
            char one[2] = {0, 0};
            ps->p += 2;
            switch (e) {
            case '"': one[0] = '"'; break;
            case '\\': one[0] = '\\'; break;
            case '/': one[0] = '/'; break;
            case 'b': one[0] = '\b'; break;
            case 'f': one[0] = '\f'; break;
            case 'n': one[0] = '\n'; break;
            case 'r': one[0] = '\r'; break;
            case 't': one[0] = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (hex4(ps->p, &cp)) { perr(ps, "bad \\u escape"); jbuf_free(&b); return NULL; }
                ps->p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                    uint32_t lo;
                    if (!hex4(ps->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        ps->p += 6;
                    }
                }
                if (cp == 0) cp = '?'; /* no embedded NULs */
                put_utf8(&b, cp);
                continue;
            }
            default: perr(ps, "bad escape"); jbuf_free(&b); return NULL;
            }
            jbuf_puts(&b, one);
            continue;
        }
        /* copy a run of plain bytes */
        const char *q = ps->p;
        while (*q && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) q++;
        char tmp[256];
        while (ps->p < q) {
            size_t k = (size_t)(q - ps->p);
            if (k > sizeof tmp - 1) k = sizeof tmp - 1;
            memcpy(tmp, ps->p, k);
            tmp[k] = 0;
            jbuf_puts(&b, tmp);
            ps->p += k;
        }
    }
    return b.p;
}

static json *parse_value(parser *ps, int depth);

static int push(json *v, char *key, json *item) {
    if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
        int cap = v->n ? v->n * 2 : 4;
        v->items = realloc(v->items, (size_t)cap * sizeof *v->items);
        CHECK_ALLOC(v->items);
        if (v->type == JSON_OBJ) {
            v->keys = realloc(v->keys, (size_t)cap * sizeof *v->keys);
            CHECK_ALLOC(v->keys);
        }
    }
    if (v->type == JSON_OBJ) v->keys[v->n] = key;
    v->items[v->n++] = item;
    return 0;
}

static json *parse_value(parser *ps, int depth) {
    if (depth > 64) { perr(ps, "nesting too deep"); return NULL; }
    ws(ps);
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        json *v = jnew(obj ? JSON_OBJ : JSON_ARR);
        ps->p++;
        ws(ps);
        if (*ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
        for (;;) {
            char *key = NULL;
            if (obj) {
                ws(ps);
                if (*ps->p != '"') { perr(ps, "expected a key string"); json_free(v); return NULL; }
                key = parse_string(ps);
                if (!key) { json_free(v); return NULL; }
                ws(ps);
                if (*ps->p != ':') { perr(ps, "expected ':'"); free(key); json_free(v); return NULL; }
                ps->p++;
            }
            json *item = parse_value(ps, depth + 1);
            if (!item) { free(key); json_free(v); return NULL; }
            push(v, key, item);
            ws(ps);
            if (*ps->p == ',') { ps->p++; continue; }
            if (*ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
            perr(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            json_free(v);
            return NULL;
        }
    }
    if (c == '"') {
        char *s = parse_string(ps);
        if (!s) return NULL;
        json *v = jnew(JSON_STR);
        v->str = s;
        return v;
    }
    if (!strncmp(ps->p, "true", 4)) { ps->p += 4; json *v = jnew(JSON_BOOL); v->boolean = 1; return v; }
    if (!strncmp(ps->p, "false", 5)) { ps->p += 5; return jnew(JSON_BOOL); }
    if (!strncmp(ps->p, "null", 4)) { ps->p += 4; return jnew(JSON_NULL); }
    /* Google Benchmark may write NaN / Infinity for degenerate counters */
    if (!strncmp(ps->p, "NaN", 3)) { ps->p += 3; json *v = jnew(JSON_NUM); v->num = NAN; return v; }
    if (!strncmp(ps->p, "Infinity", 8)) { ps->p += 8; json *v = jnew(JSON_NUM); v->num = INFINITY; return v; }
    if (!strncmp(ps->p, "-Infinity", 9)) { ps->p += 9; json *v = jnew(JSON_NUM); v->num = -INFINITY; return v; }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end = NULL;
        double x = strtod(ps->p, &end);
        if (end == ps->p) { perr(ps, "bad number"); return NULL; }
        ps->p = end;
        json *v = jnew(JSON_NUM);
        v->num = x;
        return v;
    }
    perr(ps, c ? "unexpected character" : "unexpected end of input");
    return NULL;
}

json *json_parse(const char *text, char *err, size_t errlen) {
    parser ps = {text, text, err, errlen, 0};
    if (err && errlen) err[0] = 0;
    if (!text) { perr(&ps, "no input"); return NULL; }
    json *v = parse_value(&ps, 0);
    if (!v) return NULL;
    ws(&ps);
    if (*ps.p) { perr(&ps, "trailing characters after the JSON value"); json_free(v); return NULL; }
    return v;
}

void json_free(json *v) {
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

json *json_get(const json *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJ) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return obj->items[i];
    return NULL;
}

const char *json_get_str(const json *obj, const char *key, const char *def) {
    json *v = json_get(obj, key);
    return v && v->type == JSON_STR ? v->str : def;
}

double json_get_num(const json *obj, const char *key, double def) {
    json *v = json_get(obj, key);
    return v && v->type == JSON_NUM ? v->num : def;
}

/* ---- writer ------------------------------------------------------------ */

static void jbuf_reserve(jbuf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1) cap *= 2;
    b->p = realloc(b->p, cap);
    CHECK_ALLOC(b->p);
    b->cap = cap;
}

void jbuf_puts(jbuf *b, const char *s) {
    size_t k = strlen(s);
    jbuf_reserve(b, k);
    memcpy(b->p + b->n, s, k + 1);
    b->n += k;
}

void jbuf_printf(jbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    jbuf_reserve(b, (size_t)k);
    if ((size_t)k < sizeof tmp) {
        memcpy(b->p + b->n, tmp, (size_t)k + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
        va_end(ap);
    }
    b->n += (size_t)k;
}

void jbuf_str(jbuf *b, const char *s) {
    jbuf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': jbuf_puts(b, "\\\""); break;
        case '\\': jbuf_puts(b, "\\\\"); break;
        case '\n': jbuf_puts(b, "\\n"); break;
        case '\r': jbuf_puts(b, "\\r"); break;
        case '\t': jbuf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20) jbuf_printf(b, "\\u%04x", *p);
            else { char c[2] = {(char)*p, 0}; jbuf_puts(b, c); }
        }
    }
    jbuf_puts(b, "\"");
}

void jbuf_num(jbuf *b, double x) {
    if (!isfinite(x)) { jbuf_puts(b, "null"); return; }
    if (x == floor(x) && fabs(x) < 9007199254740992.0) { jbuf_printf(b, "%.0f", x); return; }
    char t[40];
    for (int prec = 15; prec <= 17; prec++) { /* shortest that round-trips */
        snprintf(t, sizeof t, "%.*g", prec, x);
        if (strtod(t, NULL) == x) break;
    }
    jbuf_puts(b, t);
}

void jbuf_free(jbuf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static const json *g_sort_obj; /* qsort context (single-threaded use) */
static int key_cmp(const void *a, const void *b) {
    int i = *(const int *)a, j = *(const int *)b;
    return strcmp(g_sort_obj->keys[i], g_sort_obj->keys[j]);
}

void json_write(jbuf *b, const json *v, int canonical) {
    if (!v) { jbuf_puts(b, "null"); return; }
    switch (v->type) {
    case JSON_NULL: jbuf_puts(b, "null"); break;
    case JSON_BOOL: jbuf_puts(b, v->boolean ? "true" : "false"); break;
    case JSON_NUM: jbuf_num(b, v->num); break;
    case JSON_STR: jbuf_str(b, v->str); break;
    case JSON_ARR:
        jbuf_puts(b, "[");
        for (int i = 0; i < v->n; i++) {
            if (i) jbuf_puts(b, ",");
            json_write(b, v->items[i], canonical);
        }
        jbuf_puts(b, "]");
        break;
    case JSON_OBJ: {
        int *order = malloc(sizeof(int) * (size_t)(v->n ? v->n : 1));
        CHECK_ALLOC(order);
        for (int i = 0; i < v->n; i++) order[i] = i;
        if (canonical && v->n > 1) {
            g_sort_obj = v;
            qsort(order, (size_t)v->n, sizeof(int), key_cmp);
        }
        jbuf_puts(b, "{");
        for (int k = 0; k < v->n; k++) {
            int i = order[k];
            if (k) jbuf_puts(b, ",");
            jbuf_str(b, v->keys[i]);
            jbuf_puts(b, ":");
            json_write(b, v->items[i], canonical);
        }
        jbuf_puts(b, "}");
        free(order);
        break;
    }
    }
}

char *json_canonical(const char *text, char *err, size_t errlen) {
    if (!text || !*text) {
        char *s = malloc(3);
        CHECK_ALLOC(s);
        memcpy(s, "{}", 3);
        return s;
    }
    json *v = json_parse(text, err, errlen);
    if (!v) return NULL;
    jbuf b = {0};
    json_write(&b, v, 1);
    json_free(v);
    return b.p;
}
