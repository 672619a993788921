/* claims.c — the evaluator over the claims registry (see claims.h): a small
 * expression language for the rules, the verdict with its reason, and the
 * registry and verdict records as JSON. */
#include "claims.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

const claim_def *claims_find(const char *id) {
    if (!id) return NULL;
    for (const claim_def *c = claims_registry; c->id; c++)
        if (!strcmp(c->id, id)) return c;
    return NULL;
}

const char *claim_verdict_name(claim_verdict v) {
    return v == CLAIM_REPRODUCED ? "reproduced" : v == CLAIM_NOT_REPRODUCED ? "not reproduced" : "inconclusive";
}

void claim_values_init(claim_values *v) { memset(v, 0, sizeof *v); }

void claim_set(claim_values *v, const char *name, double value) {
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->names[i], name)) { v->values[i] = value; return; }
    if (v->n < (int)(sizeof v->names / sizeof v->names[0])) {
        v->names[v->n] = name;
        v->values[v->n++] = value;
    }
}

static int value_of(const claim_values *v, const char *name, size_t len, double *out) {
    for (int i = 0; i < v->n; i++)
        if (strlen(v->names[i]) == len && !strncmp(v->names[i], name, len)) { *out = v->values[i]; return 1; }
    return 0;
}

/* ---- expressions ----------------------------------------------------------
 * Recursive descent, evaluating as it parses (rules are short):
 *   or   := and ('||' and)*        and := not ('&&' not)*
 *   not  := '!' not | cmp          cmp := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)?
 *   sum  := prod (('+'|'-') prod)* prod := unary (('*'|'/') unary)*
 *   unary:= '-' unary | atom       atom := NUMBER | NAME | NAME '(' or (',' or)* ')' | '(' or ')'
 */
typedef struct {
    const char *p;
    const claim_values *v;
    char *err;
    size_t errlen;
    int failed;
} parser;

static void perr(parser *ps, const char *fmt, ...) {
    if (ps->failed) return;
    ps->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    if (ps->err && ps->errlen) vsnprintf(ps->err, ps->errlen, fmt, ap);
    va_end(ap);
}

static void skip(parser *ps) { while (isspace((unsigned char)*ps->p)) ps->p++; }
static int eat(parser *ps, const char *tok) {
    skip(ps);
    size_t n = strlen(tok);
    if (!strncmp(ps->p, tok, n)) { ps->p += n; return 1; }
    return 0;
}

static double p_or(parser *ps);

static double p_atom(parser *ps) {
    skip(ps);
    if (eat(ps, "(")) {
        double x = p_or(ps);
        if (!eat(ps, ")")) perr(ps, "expected ')' at \"%.20s\"", ps->p);
        return x;
    }
    if (isdigit((unsigned char)*ps->p) || *ps->p == '.') {
        char *end;
        double x = strtod(ps->p, &end);
        if (end == ps->p) { perr(ps, "bad number at \"%.20s\"", ps->p); return NAN; }
        ps->p = end;
        return x;
    }
    if (isalpha((unsigned char)*ps->p) || *ps->p == '_') {
        const char *s = ps->p;
        while (isalnum((unsigned char)*ps->p) || *ps->p == '_') ps->p++;
        size_t len = (size_t)(ps->p - s);
        skip(ps);
        if (*ps->p == '(') {
            ps->p++;
            double a[2] = {NAN, NAN};
            int na = 0;
            do {
                double x = p_or(ps);
                if (na < 2) a[na] = x;
                na++;
            } while (eat(ps, ","));
            if (!eat(ps, ")")) perr(ps, "expected ')' after the arguments of %.*s", (int)len, s);
            if (len == 3 && !strncmp(s, "min", 3) && na == 2) return fmin(a[0], a[1]);
            if (len == 3 && !strncmp(s, "max", 3) && na == 2) return fmax(a[0], a[1]);
            if (len == 3 && !strncmp(s, "abs", 3) && na == 1) return fabs(a[0]);
            perr(ps, "unknown function %.*s/%d", (int)len, s, na);
            return NAN;
        }
        double x;
        if (!value_of(ps->v, s, len, &x)) { perr(ps, "unknown name '%.*s'", (int)len, s); return NAN; }
        return x;
    }
    perr(ps, "unexpected \"%.20s\"", *ps->p ? ps->p : "end of rule");
    return NAN;
}

static double p_unary(parser *ps) {
    if (eat(ps, "-")) return -p_unary(ps);
    return p_atom(ps);
}

static double p_prod(parser *ps) {
    double x = p_unary(ps);
    for (;;) {
        if (eat(ps, "*")) x *= p_unary(ps);
        else if (eat(ps, "/")) x /= p_unary(ps);
        else return x;
    }
}

static double p_sum(parser *ps) {
    double x = p_prod(ps);
    for (;;) {
        skip(ps);
        if (eat(ps, "+")) x += p_prod(ps);
        else if (*ps->p == '-' ) { ps->p++; x -= p_prod(ps); }
        else return x;
    }
}

static double p_cmp(parser *ps) {
    double x = p_sum(ps);
    if (eat(ps, "<=")) return x <= p_sum(ps);
    if (eat(ps, ">=")) return x >= p_sum(ps);
    if (eat(ps, "==")) return x == p_sum(ps);
    if (eat(ps, "!=")) return x != p_sum(ps);
    if (eat(ps, "<")) return x < p_sum(ps);
    if (eat(ps, ">")) return x > p_sum(ps);
    return x;
}

static double p_not(parser *ps) {
    skip(ps);
    if (ps->p[0] == '!' && ps->p[1] != '=') { ps->p++; return !(p_not(ps) != 0); }
    return p_cmp(ps);
}

static double p_and(parser *ps) {
    double x = p_not(ps);
    while (eat(ps, "&&")) {
        double y = p_not(ps); /* always parsed: a syntax error anywhere is found */
        x = (x != 0) && (y != 0);
    }
    return x;
}

static double p_or(parser *ps) {
    double x = p_and(ps);
    while (eat(ps, "||")) {
        double y = p_and(ps);
        x = (x != 0) || (y != 0);
    }
    return x;
}

int claims_rule_eval(const char *rule, const claim_values *v, char *err, size_t errlen) {
    parser ps = {rule, v, err, errlen, 0};
    if (err && errlen) err[0] = 0;
    double x = p_or(&ps);
    skip(&ps);
    if (!ps.failed && *ps.p) perr(&ps, "unexpected \"%.20s\"", ps.p);
    if (ps.failed) return -1;
    return x != 0;
}

/* ---- explanations --------------------------------------------------------- */

/* Append to a bounded buffer. */
static void bput(char *buf, size_t len, const char *fmt, ...) {
    size_t used = strlen(buf);
    if (used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* The rule text with each input name followed by its value: "a (1.2) <= 1.15". */
static void render(char *out, size_t len, const char *rule, size_t rlen, const claim_values *v) {
    for (size_t i = 0; i < rlen && rule[i];) {
        if (isalpha((unsigned char)rule[i]) || rule[i] == '_') {
            size_t s = i;
            while (i < rlen && (isalnum((unsigned char)rule[i]) || rule[i] == '_')) i++;
            double x;
            bput(out, len, "%.*s", (int)(i - s), rule + s);
            if (value_of(v, rule + s, i - s, &x)) bput(out, len, " (%.4g)", x);
        } else {
            bput(out, len, "%c", rule[i++]);
        }
    }
}

/* Split a rule at its top-level `op` ("&&" or "||"): the parts' offsets. */
static int split_top(const char *rule, const char *op, size_t *start, size_t *end, int max) {
    int n = 0, depth = 0;
    size_t s = 0, L = strlen(rule);
    for (size_t i = 0; i < L; i++) {
        if (rule[i] == '(') depth++;
        else if (rule[i] == ')') depth--;
        else if (depth == 0 && !strncmp(rule + i, op, 2)) {
            if (n < max) { start[n] = s; end[n] = i; n++; }
            s = i + 2;
            i++;
        }
    }
    if (n < max) { start[n] = s; end[n] = L; n++; }
    return n;
}

/* Why a rule does not hold: its first failing top-level conjunct, or (for a
 * disjunction) that no alternative holds. */
static void explain_fail(char *out, size_t len, const char *what, const char *rule, const claim_values *v) {
    size_t st[16], en[16];
    int n = split_top(rule, "||", st, en, 16);
    if (n > 1) {
        bput(out, len, "%s: no alternative holds (", what);
        render(out, len, rule, strlen(rule), v);
        bput(out, len, ")");
        return;
    }
    n = split_top(rule, "&&", st, en, 16);
    for (int i = 0; i < n; i++) {
        char part[512];
        snprintf(part, sizeof part, "%.*s", (int)(en[i] - st[i]), rule + st[i]);
        if (claims_rule_eval(part, v, NULL, 0) == 0) {
            bput(out, len, "%s fails at: ", what);
            render(out, len, part, strlen(part), v);
            return;
        }
    }
    bput(out, len, "%s does not hold (", what);
    render(out, len, rule, strlen(rule), v);
    bput(out, len, ")");
}

/* ---- verdicts ------------------------------------------------------------- */

claim_verdict claims_evaluate(const claim_def *c, const claim_values *v, char *why, size_t whylen) {
    char tmp[2048];
    if (!why || !whylen) { why = tmp; whylen = sizeof tmp; }
    why[0] = 0;
    if (!c) { snprintf(why, whylen, "unknown claim"); return CLAIM_INCONCLUSIVE; }
    /* 1. inputs: present, finite, plausible */
    for (const claim_input *in = c->inputs; in->name && in < c->inputs + CLAIM_MAX_INPUTS; in++) {
        double x;
        if (!value_of(v, in->name, strlen(in->name), &x)) {
            snprintf(why, whylen, "input %s (%s) is missing", in->name, in->about);
            return CLAIM_INCONCLUSIVE;
        }
        if (isnan(x) || isinf(x)) {
            snprintf(why, whylen, "input %s (%s) is %s", in->name, in->about, isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf");
            return CLAIM_INCONCLUSIVE;
        }
        if (x < in->min || x > in->max) {
            snprintf(why, whylen, "input %s = %.4g %s is outside its plausible range [%g, %g]", in->name, x, in->unit, in->min,
                     in->max);
            return CLAIM_INCONCLUSIVE;
        }
    }
    char err[256];
    /* 2. guards */
    for (const claim_guard *g = c->guards; g->rule && g < c->guards + CLAIM_MAX_GUARDS; g++) {
        int r = claims_rule_eval(g->rule, v, err, sizeof err);
        if (r < 0) { snprintf(why, whylen, "registry error in guard '%s': %s", g->rule, err); return CLAIM_INCONCLUSIVE; }
        if (!r) {
            snprintf(why, whylen, "%s (", g->reason);
            render(why, whylen, g->rule, strlen(g->rule), v);
            bput(why, whylen, " fails)");
            return CLAIM_INCONCLUSIVE;
        }
    }
    /* 3. the two rules */
    int rp = claims_rule_eval(c->reproduced_if, v, err, sizeof err);
    if (rp < 0) { snprintf(why, whylen, "registry error in reproduced_if: %s", err); return CLAIM_INCONCLUSIVE; }
    int nr = claims_rule_eval(c->not_reproduced_if, v, err, sizeof err);
    if (nr < 0) { snprintf(why, whylen, "registry error in not_reproduced_if: %s", err); return CLAIM_INCONCLUSIVE; }
    if (rp && nr) {
        snprintf(why, whylen, "registry error: both rules hold for these inputs");
        return CLAIM_INCONCLUSIVE;
    }
    if (rp || nr) {
        const char *rule = rp ? c->reproduced_if : c->not_reproduced_if;
        snprintf(why, whylen, "%s holds: ", rp ? "reproduced_if" : "not_reproduced_if");
        render(why, whylen, rule, strlen(rule), v);
        return rp ? CLAIM_REPRODUCED : CLAIM_NOT_REPRODUCED;
    }
    snprintf(why, whylen, "between the rules: ");
    explain_fail(why, whylen, "reproduced_if", c->reproduced_if, v);
    bput(why, whylen, "; ");
    explain_fail(why, whylen, "not_reproduced_if", c->not_reproduced_if, v);
    return CLAIM_INCONCLUSIVE;
}

int claims_registry_check(char *err, size_t errlen) {
    for (const claim_def *c = claims_registry; c->id; c++) {
        if (!c->suite || !c->paper || !c->statement || !c->reproduced_if || !c->not_reproduced_if || !c->thresholds) {
            snprintf(err, errlen, "%s: a field is missing", c->id);
            return -1;
        }
        if (claims_find(c->id) != c) { snprintf(err, errlen, "%s: duplicate id", c->id); return -1; }
        claim_values v;
        claim_values_init(&v);
        for (const claim_input *in = c->inputs; in->name && in < c->inputs + CLAIM_MAX_INPUTS; in++) {
            if (!(in->min <= in->max)) { snprintf(err, errlen, "%s: input %s has an empty range", c->id, in->name); return -1; }
            claim_set(&v, in->name, 0.5 * (in->min + in->max));
        }
        const char *rules[2 + CLAIM_MAX_GUARDS] = {c->reproduced_if, c->not_reproduced_if};
        int nr = 2;
        for (const claim_guard *g = c->guards; g->rule && g < c->guards + CLAIM_MAX_GUARDS; g++) rules[nr++] = g->rule;
        for (int i = 0; i < nr; i++) {
            char e[256];
            if (claims_rule_eval(rules[i], &v, e, sizeof e) < 0) {
                snprintf(err, errlen, "%s: rule '%s': %s", c->id, rules[i], e);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- JSON ----------------------------------------------------------------- */

static void rule_fields(jbuf *b, const claim_def *c) {
    jbuf_puts(b, "\"id\":");
    jbuf_str(b, c->id);
    jbuf_puts(b, ",\"suite\":");
    jbuf_str(b, c->suite);
    jbuf_puts(b, ",\"paper\":");
    jbuf_str(b, c->paper);
    jbuf_puts(b, ",\"statement\":");
    jbuf_str(b, c->statement);
    jbuf_puts(b, ",\"inputs\":[");
    for (int i = 0; i < CLAIM_MAX_INPUTS && c->inputs[i].name; i++) {
        const claim_input *in = &c->inputs[i];
        jbuf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        jbuf_str(b, in->name);
        jbuf_puts(b, ",\"unit\":");
        jbuf_str(b, in->unit);
        jbuf_puts(b, ",\"min\":");
        jbuf_num(b, in->min);
        jbuf_puts(b, ",\"max\":");
        jbuf_num(b, in->max);
        jbuf_puts(b, ",\"about\":");
        jbuf_str(b, in->about);
        jbuf_puts(b, "}");
    }
    jbuf_puts(b, "],\"guards\":[");
    for (int i = 0; i < CLAIM_MAX_GUARDS && c->guards[i].rule; i++) {
        jbuf_puts(b, i ? ",{\"rule\":" : "{\"rule\":");
        jbuf_str(b, c->guards[i].rule);
        jbuf_puts(b, ",\"reason\":");
        jbuf_str(b, c->guards[i].reason);
        jbuf_puts(b, "}");
    }
    jbuf_puts(b, "],\"reproduced_if\":");
    jbuf_str(b, c->reproduced_if);
    jbuf_puts(b, ",\"not_reproduced_if\":");
    jbuf_str(b, c->not_reproduced_if);
    jbuf_puts(b, ",\"thresholds\":");
    jbuf_str(b, c->thresholds);
}

char *claims_rule_json(const claim_def *c) {
    jbuf b = {0};
    jbuf_puts(&b, "{");
    rule_fields(&b, c);
    jbuf_puts(&b, "}");
    return b.p;
}

char *claims_inputs_json(const claim_def *c, const claim_values *v) {
    jbuf b = {0};
    jbuf_puts(&b, "{");
    int first = 1;
    for (int i = 0; i < CLAIM_MAX_INPUTS && c->inputs[i].name; i++) {
        double x;
        if (!value_of(v, c->inputs[i].name, strlen(c->inputs[i].name), &x)) continue;
        if (!first) jbuf_puts(&b, ",");
        first = 0;
        jbuf_str(&b, c->inputs[i].name);
        jbuf_puts(&b, ":");
        jbuf_num(&b, x); /* NaN / inf as null */
    }
    jbuf_puts(&b, "}");
    return b.p;
}

char *claims_registry_json(void) {
    jbuf b = {0};
    jbuf_puts(&b, "[");
    for (const claim_def *c = claims_registry; c->id; c++) {
        jbuf_puts(&b, c == claims_registry ? "{" : ",\n{");
        rule_fields(&b, c);
        jbuf_puts(&b, "}");
    }
    jbuf_puts(&b, "]\n");
    return b.p;
}
