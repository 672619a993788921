/* cmd_claims.c — `griffin claims`: the registry of the paper's claims.
 *
 *   griffin claims                     the registry as a table
 *   griffin claims --json              the registry as a JSON array
 *   griffin claims evaluate FILE.json  judge {claim_id: {input: value, ...}, ...}
 *                                      (FILE "-" reads stdin); prints
 *                                      {claim_id: {"verdict": ..., "why": ...}}
 *
 * An input given as null counts as NaN (inconclusive, with the reason).
 * Exit codes: 0 ok, 2 usage or setup error (unreadable or invalid JSON, an
 * unknown claim id, an input that is not a number or null).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "commands.h"
#include "flags.h"
#include "json.h"

static char *read_all(const char *path) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) { if (f != stdin) fclose(f); return NULL; }
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); if (f != stdin) fclose(f); return NULL; }
            buf = nb;
        }
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (bad) { free(buf); return NULL; }
    buf[n] = 0;
    return buf;
}

static void print_wrapped(const char *label, const char *text) {
    const int width = 96;
    printf("  %-12s", label);
    int col = 0;
    const char *p = text;
    while (*p) {
        const char *w = p;
        while (*w && *w != ' ') w++;
        int len = (int)(w - p);
        if (col && col + 1 + len > width) { printf("\n  %-12s", ""); col = 0; }
        else if (col) { putchar(' '); col++; }
        printf("%.*s", len, p);
        col += len;
        p = *w ? w + 1 : w;
    }
    putchar('\n');
}

static void print_table(void) {
    for (const claim_def *c = claims_registry; c->id; c++) {
        printf("%s  [%s; suite %s]\n", c->id, c->paper, c->suite);
        print_wrapped("claim", c->statement);
        for (int i = 0; i < CLAIM_MAX_INPUTS && c->inputs[i].name; i++) {
            char lab[200];
            snprintf(lab, sizeof lab, "%s (%s, %g..%g): %s", c->inputs[i].name, c->inputs[i].unit, c->inputs[i].min,
                     c->inputs[i].max, c->inputs[i].about);
            print_wrapped(i ? "" : "inputs", lab);
        }
        for (int i = 0; i < CLAIM_MAX_GUARDS && c->guards[i].rule; i++) {
            char lab[400];
            snprintf(lab, sizeof lab, "%s  (else inconclusive: %s)", c->guards[i].rule, c->guards[i].reason);
            print_wrapped(i ? "" : "needs", lab);
        }
        print_wrapped("reproduced", c->reproduced_if);
        print_wrapped("not repr.", c->not_reproduced_if);
        print_wrapped("thresholds", c->thresholds);
        putchar('\n');
    }
    printf("%d claims. Anything that is neither reproduced nor not reproduced is inconclusive, with the reason;\n"
           "missing, NaN, infinite or implausible inputs are always inconclusive.\n", claims_count());
}

static int evaluate_file(const char *path) {
    char *text = read_all(path);
    if (!text) { fprintf(stderr, "griffin claims evaluate: cannot read %s\n", path); return 2; }
    char err[256];
    json *doc = json_parse(text, err, sizeof err);
    free(text);
    if (!doc) { fprintf(stderr, "griffin claims evaluate: %s is not valid JSON: %s\n", path, err); return 2; }
    if (doc->type != JSON_OBJ) {
        fprintf(stderr, "griffin claims evaluate: %s must hold an object {claim_id: {input: value, ...}}\n", path);
        json_free(doc);
        return 2;
    }
    /* check everything before printing anything */
    for (int i = 0; i < doc->n; i++) {
        if (!claims_find(doc->keys[i])) {
            fprintf(stderr, "griffin claims evaluate: unknown claim '%s' (griffin claims lists them)\n", doc->keys[i]);
            json_free(doc);
            return 2;
        }
        const json *o = doc->items[i];
        if (o->type != JSON_OBJ) {
            fprintf(stderr, "griffin claims evaluate: %s: the inputs must be an object {input: value}\n", doc->keys[i]);
            json_free(doc);
            return 2;
        }
        for (int k = 0; k < o->n; k++)
            if (o->items[k]->type != JSON_NUM && o->items[k]->type != JSON_NULL) {
                fprintf(stderr, "griffin claims evaluate: %s.%s must be a number or null\n", doc->keys[i], o->keys[k]);
                json_free(doc);
                return 2;
            }
    }
    jbuf b = {0};
    jbuf_puts(&b, "{");
    for (int i = 0; i < doc->n; i++) {
        const claim_def *c = claims_find(doc->keys[i]);
        const json *o = doc->items[i];
        claim_values v;
        claim_values_init(&v);
        for (int k = 0; k < o->n; k++)
            claim_set(&v, o->keys[k], o->items[k]->type == JSON_NUM ? o->items[k]->num : NAN);
        char why[2048];
        claim_verdict vd = claims_evaluate(c, &v, why, sizeof why);
        jbuf_puts(&b, i ? ",\n" : "\n");
        jbuf_str(&b, c->id);
        jbuf_puts(&b, ":{\"verdict\":");
        jbuf_str(&b, claim_verdict_name(vd));
        jbuf_puts(&b, ",\"why\":");
        jbuf_str(&b, why);
        jbuf_puts(&b, "}");
    }
    jbuf_puts(&b, "\n}\n");
    fputs(b.p, stdout);
    jbuf_free(&b);
    json_free(doc);
    return 0;
}

int cmd_claims(int argc, char **argv) {
    int as_json = 0;
    flag_def defs[] = {{"json", FLAG_BOOL, &as_json, "0", "print the registry as a JSON array"}, {NULL}};
    char *pos[4];
    int np, rc = flags_parse(defs, argc, argv, pos, 4, &np, "griffin claims [--json] | griffin claims evaluate FILE.json",
                             "The registry of the paper's claims the suites judge: statement, inputs (unit and\n"
                             "plausible range), guards, the rule for reproduced and the rule for not reproduced\n"
                             "(anything else is inconclusive) and why each threshold is what it is.\n"
                             "`evaluate FILE.json` (\"-\" = stdin) judges {claim_id: {input: value, ...}} with\n"
                             "the same evaluator the suites use and prints {claim_id: {verdict, why}}.");
    if (rc >= 0) return rc;
    char err[256];
    if (claims_registry_check(err, sizeof err) != 0) { fprintf(stderr, "griffin claims: registry error: %s\n", err); return 1; }
    if (np == 0) {
        if (as_json) {
            char *j = claims_registry_json();
            fputs(j, stdout);
            free(j);
        } else {
            print_table();
        }
        return 0;
    }
    if (!strcmp(pos[0], "evaluate")) {
        if (np != 2) { fprintf(stderr, "usage: griffin claims evaluate FILE.json\n"); return 2; }
        return evaluate_file(pos[1]);
    }
    fprintf(stderr, "griffin claims: unknown subcommand '%s' (evaluate, or none)\n", pos[0]);
    return 2;
}
