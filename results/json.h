/* json.h — a small JSON reader (DOM) and writer for the results store.
 *
 * Used for: the Google Benchmark JSON the bench writes (import-gbench), case
 * params (canonicalised so equal params give equal case keys), argv records
 * and `griffin results export --json`. Not a general-purpose library: input
 * is trusted to be modest in size; depth is limited to 64.
 */
#ifndef GRIFFIN_JSON_H
#define GRIFFIN_JSON_H
#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } json_type;

typedef struct json {
    json_type type;
    int boolean;
    double num;
    char *str;            /* JSON_STR (NUL-terminated, unescaped) */
    int n;                /* items in an array / object */
    struct json **items;  /* array items or object values */
    char **keys;          /* object keys (NULL for arrays) */
} json;

/* Parse text. Returns NULL on error with a message ("line L col C: ...") in err. */
json *json_parse(const char *text, char *err, size_t errlen);
void json_free(json *v);
/* Object member by key (first match) or NULL; NULL-safe. */
json *json_get(const json *obj, const char *key);
const char *json_get_str(const json *obj, const char *key, const char *def);
double json_get_num(const json *obj, const char *key, double def);

/* A growable string buffer (NUL-terminated; aborts on OOM). */
typedef struct { char *p; size_t n, cap; } jbuf;
void jbuf_puts(jbuf *b, const char *s);
void jbuf_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jbuf_str(jbuf *b, const char *s);        /* s as a quoted, escaped JSON string */
void jbuf_num(jbuf *b, double x);             /* shortest round-trip; NaN/inf -> null */
void jbuf_free(jbuf *b);
/* Write v compactly; canonical != 0 sorts object keys (recursively). */
void json_write(jbuf *b, const json *v, int canonical);
/* Canonical compact form of a JSON text (sorted keys, no spaces). Returns a
 * malloc'd string, or NULL with err set when text is not valid JSON. NULL or
 * empty text gives "{}". */
char *json_canonical(const char *text, char *err, size_t errlen);

#endif
