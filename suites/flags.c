/* flags.c — see flags.h. */
#include "flags.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Parse d->range: "[lo,hi]" with '(' / ')' for open ends. 0 or -1. */
static int parse_range(const char *r, double *lo, double *hi, int *lo_open, int *hi_open) {
    char *e;
    if (r[0] != '[' && r[0] != '(') return -1;
    *lo_open = r[0] == '(';
    *lo = strtod(r + 1, &e);
    if (e == r + 1 || *e != ',') return -1;
    const char *h = e + 1;
    *hi = strtod(h, &e);
    if (e == h || (*e != ']' && *e != ')') || e[1]) return -1;
    *hi_open = *e == ')';
    return 0;
}

/* 0 when the number x lies in d's range (or d has none), 1 when outside,
 * -1 when the range text is malformed (a programming error). */
static int out_of_range(const flag_def *d, double x) {
    if (!d->range) return 0;
    double lo, hi;
    int lo_open, hi_open;
    if (parse_range(d->range, &lo, &hi, &lo_open, &hi_open)) return -1;
    return (lo_open ? !(x > lo) : !(x >= lo)) || (hi_open ? !(x < hi) : !(x <= hi));
}

static void range_error(const flag_def *d, const char *v) {
    fprintf(stderr, "error: --%s must be in %s (got %s)\n", d->name, d->range, v);
}

static int set_value(flag_def *d, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (d->type) {
    case FLAG_STR:
        if (!*v && !d->range) return -4; /* empty: only where the flag says so (range "") */
        *(const char **)d->dst = v;
        return 0;
    case FLAG_INT: {
        long x = strtol(v, &end, 10);
        if (errno || !end || *end || end == v || x < -2147483647L || x > 2147483647L) return -1;
        if (out_of_range(d, (double)x)) return -2;
        *(int *)d->dst = (int)x;
        return 0;
    }
    case FLAG_LONG: {
        long long x = strtoll(v, &end, 10);
        if (errno || !end || *end || end == v) return -1;
        if (out_of_range(d, (double)x)) return -2;
        *(long long *)d->dst = x;
        return 0;
    }
    case FLAG_FLOAT: {
        double x = strtod(v, &end);
        if (!end || *end || end == v) return -1;
        if (!isfinite(x)) return -3; /* nan, inf, and overflow (1e999) */
        if (errno && x != 0) return -1;
        if (out_of_range(d, x)) return -2;
        *(double *)d->dst = x;
        return 0;
    }
    case FLAG_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) *(int *)d->dst = 1;
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) *(int *)d->dst = 0;
        else return -1;
        return 0;
    }
    return -1;
}

static const char *type_word(flag_type t) {
    switch (t) {
    case FLAG_STR: return "TEXT";
    case FLAG_INT: case FLAG_LONG: return "N";
    case FLAG_FLOAT: return "X";
    default: return "";
    }
}

void flags_help(FILE *f, const flag_def *defs, const char *usage, const char *about) {
    fprintf(f, "usage: %s\n", usage);
    if (about && *about) fprintf(f, "\n%s\n", about);
    fprintf(f, "\nflags:\n");
    for (const flag_def *d = defs; d && d->name; d++) {
        char left[64];
        if (d->name[0] && !d->name[1]) /* one letter: -x works too */
            snprintf(left, sizeof left, "-%s, --%s %s", d->name, d->name, type_word(d->type));
        else
            snprintf(left, sizeof left, "--%s %s", d->name, type_word(d->type));
        fprintf(f, "  %-26s %s", left, d->help ? d->help : "");
        int num = d->range && d->type != FLAG_STR && d->type != FLAG_BOOL;
        if (d->def && d->type != FLAG_BOOL) fprintf(f, " (default %s%s%s)", d->def, num ? "; in " : "", num ? d->range : "");
        else if (num) fprintf(f, " (in %s)", d->range);
        if (d->type == FLAG_BOOL && d->def && !strcmp(d->def, "1")) fprintf(f, " (default on; --no-%s to turn off)", d->name);
        fprintf(f, "\n");
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

int flags_parse(flag_def *defs, int argc, char **argv, char **pos, int max_pos, int *npos,
                const char *usage, const char *about) {
    for (flag_def *d = defs; d && d->name; d++) {
        d->seen = 0;
        if (d->def && d->type == FLAG_STR && !*d->def) *(const char **)d->dst = d->def;
        double lo, hi;
        int lo_open, hi_open;
        if ((d->def && !(d->type == FLAG_STR && !*d->def) && set_value(d, d->def) != 0) || (d->range && d->type != FLAG_STR && parse_range(d->range, &lo, &hi, &lo_open, &hi_open))) {
            fprintf(stderr, "internal: bad default or range for --%s\n", d->name);
            return 2;
        }
    }
    int n = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!only_pos && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            flags_help(stdout, defs, usage, about);
            return 0;
        }
        if (!only_pos && !strcmp(a, "--")) { only_pos = 1; continue; }
        /* a one-letter flag may also be spelled with one dash: -m CKPT, -o OUT */
        int short_form = 0;
        if (!only_pos && a[0] == '-' && a[1] && a[1] != '-' && (!a[2] || a[2] == '='))
            for (flag_def *e = defs; e && e->name; e++)
                if (e->name[0] == a[1] && !e->name[1]) { short_form = 1; break; }
        if (!only_pos && (short_form || (a[0] == '-' && a[1] == '-' && a[2]))) {
            const char *body = short_form ? a + 1 : a + 2;
            char name[128];
            const char *eq = strchr(body, '=');
            size_t len = eq ? (size_t)(eq - body) : strlen(body);
            if (len >= sizeof name) len = sizeof name - 1;
            memcpy(name, body, len);
            name[len] = 0;
            int neg = 0;
            flag_def *d = NULL;
            for (flag_def *e = defs; e && e->name; e++)
                if (!strcmp(e->name, name)) { d = e; break; }
            if (!d && !strncmp(name, "no-", 3)) {
                for (flag_def *e = defs; e && e->name; e++)
                    if (e->type == FLAG_BOOL && !strcmp(e->name, name + 3)) { d = e; neg = 1; break; }
            }
            if (!d) {
                fprintf(stderr, "error: unknown flag '--%s'\n", name);
                fprintf(stderr, "usage: %s  (--help for the flags)\n", usage);
                return 2;
            }
            const char *v;
            if (d->type == FLAG_BOOL && !eq) {
                *(int *)d->dst = neg ? 0 : 1;
                d->seen = 1;
                continue;
            }
            if (eq) v = eq + 1;
            else if (i + 1 < argc) v = argv[++i];
            else {
                fprintf(stderr, "error: flag '--%s' needs a value (%s)\n", name, type_word(d->type));
                return 2;
            }
            int sr = set_value(d, v);
            if (sr == -4) {
                fprintf(stderr, "error: --%s needs a non-empty value\n", name);
                return 2;
            }
            if (sr == -2) { range_error(d, v); return 2; }
            if (sr == -3) {
                fprintf(stderr, "error: --%s must be a finite number (got %s)\n", name, v);
                return 2;
            }
            if (sr != 0) {
                fprintf(stderr, "error: bad value '%s' for --%s (expected %s%s%s)\n", v, name,
                        d->type == FLAG_BOOL ? "on/off" : d->type == FLAG_INT ? "an integer" : d->type == FLAG_LONG ? "an integer" : d->type == FLAG_FLOAT ? "a number" : type_word(d->type),
                        d->range ? " in " : "", d->range ? d->range : "");
                return 2;
            }
            d->seen = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] && a[1] != '-' && !(a[1] >= '0' && a[1] <= '9')) {
            fprintf(stderr, "error: unknown flag '%s' (flags are spelled --name)\n", a);
            return 2;
        }
        if (n >= max_pos) {
            fprintf(stderr, "error: unexpected argument '%s'\n", a);
            fprintf(stderr, "usage: %s\n", usage);
            return 2;
        }
        pos[n++] = a;
    }
    if (npos) *npos = n;
    return -1;
}

int flags_seen(const flag_def *defs, const char *name) {
    for (const flag_def *d = defs; d && d->name; d++)
        if (!strcmp(d->name, name)) return d->seen;
    return 0;
}
