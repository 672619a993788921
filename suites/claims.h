/* claims.h — the registry of the paper's claims and its evaluator.
 *
 * The registry (suites/claims_registry.c) is one table of data: for each
 * claim its id, where the paper makes it, the statement, the inputs it is
 * judged on (name, unit, plausible range), guards (conditions without which
 * nothing can be concluded, each with its reason), the rule for
 * "reproduced" and the rule for "not reproduced", and why each threshold is
 * what it is. Everything that is neither is "inconclusive", with the reason.
 *
 * Rules are small expressions over the inputs:
 *   numbers, input names, + - * /, unary -, ( ), min(a,b), max(a,b), abs(a),
 *   < <= > >= == !=, && || !
 * e.g. "mqa_growth >= 1.25 && max(hawk_growth, griffin_growth) <= 1.15".
 *
 * Evaluation order (claims_evaluate):
 *   1. every input must be present, finite and inside its plausible range,
 *      else inconclusive ("input X is NaN", "input X missing", ...);
 *   2. every guard must hold, else inconclusive with the guard's reason;
 *   3. reproduced_if holds -> reproduced; not_reproduced_if holds -> not
 *      reproduced (both holding is a registry error, reported as
 *      inconclusive and caught by the tests); neither -> inconclusive,
 *      naming the first part of each rule that fails.
 *
 * The suites judge through this evaluator (suite_claim_judged), and so does
 * `griffin claims evaluate FILE.json`.
 */
#ifndef GRIFFIN_CLAIMS_H
#define GRIFFIN_CLAIMS_H
#include <stddef.h>

#define CLAIM_MAX_INPUTS 16
#define CLAIM_MAX_GUARDS 6

typedef struct {
    const char *name, *unit;
    double min, max;     /* plausible range (inclusive); outside it: inconclusive */
    const char *about;
} claim_input;

typedef struct {
    const char *rule;    /* must hold, else inconclusive */
    const char *reason;  /* printed when it does not hold */
} claim_guard;

typedef struct {
    const char *id;
    const char *suite;       /* the suite that judges it */
    const char *paper;       /* figure / section */
    const char *statement;   /* the claim in the paper's words */
    claim_input inputs[CLAIM_MAX_INPUTS];
    claim_guard guards[CLAIM_MAX_GUARDS];
    const char *reproduced_if;
    const char *not_reproduced_if;
    const char *thresholds;  /* why each threshold is what it is */
} claim_def;

typedef enum { CLAIM_REPRODUCED = 0, CLAIM_NOT_REPRODUCED = 1, CLAIM_INCONCLUSIVE = 2 } claim_verdict;

/* The registry: claims_registry[0 .. claims_count()-1]. */
extern const claim_def claims_registry[];
int claims_count(void);
const claim_def *claims_find(const char *id);
const char *claim_verdict_name(claim_verdict v); /* "reproduced", "not reproduced", "inconclusive" */

/* Input values by name. A name not set is "missing". */
typedef struct {
    int n;
    const char *names[CLAIM_MAX_INPUTS * 2];
    double values[CLAIM_MAX_INPUTS * 2];
} claim_values;
void claim_values_init(claim_values *v);
void claim_set(claim_values *v, const char *name, double value);

/* Judge one claim. why (always written, NUL-terminated) says what decided
 * the verdict, with the input values. */
claim_verdict claims_evaluate(const claim_def *c, const claim_values *v, char *why, size_t whylen);

/* Evaluate a rule expression against values: 1 true, 0 false, -1 error
 * (syntax error or an unknown name; message in err). */
int claims_rule_eval(const char *rule, const claim_values *v, char *err, size_t errlen);
/* Check every rule of the registry parses and names only declared inputs.
 * 0 ok, else -1 with the first problem in err. */
int claims_registry_check(char *err, size_t errlen);

/* JSON (malloc'd strings): the claim's rule record (what the database keeps
 * with each verdict: rules, guards, input ranges, thresholds) and the input
 * values. */
char *claims_rule_json(const claim_def *c);
char *claims_inputs_json(const claim_def *c, const claim_values *v);
/* The whole registry as a JSON array (griffin claims --json). */
char *claims_registry_json(void);

#endif
