/* tasks.c — synthetic task generators; the rules are documented in tasks.h.
 * Tested by tests/test_tasks.c (layout rules on many samples, determinism, errors). */
#include "tasks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names and parameters ---------------------------------------------------------- */

static const char *const k_names[TASK_COUNT] = {"selective-copy", "induction", "mqar", "phonebook"};

const char *task_name(task_kind k) { return (k >= 0 && k < TASK_COUNT) ? k_names[k] : "unknown"; }

task_kind task_from_name(const char *name) {
    if (!name) return TASK_UNKNOWN;
    for (int k = 0; k < TASK_COUNT; k++)
        if (strcmp(name, k_names[k]) == 0) return (task_kind)k;
    if (!strcmp(name, "selective-copying") || !strcmp(name, "copy")) return TASK_SELECTIVE_COPY;
    if (!strcmp(name, "induction-heads")) return TASK_INDUCTION;
    return TASK_UNKNOWN;
}

void task_params_default(task_kind k, task_params *p) {
    memset(p, 0, sizeof *p);
    p->n_examples = 2;
    p->power_a = 0.01;
    switch (k) {
    case TASK_SELECTIVE_COPY: p->vocab = 16; p->n_tokens = 16; break;
    case TASK_INDUCTION: p->vocab = 16; break;
    case TASK_MQAR: p->vocab = 8192; p->n_tokens = 8; break;
    case TASK_PHONEBOOK: p->vocab = 256; p->n_tokens = 0; break;
    default: break;
    }
}

int task_vocab(task_kind k, const task_params *p) {
    switch (k) {
    case TASK_SELECTIVE_COPY: case TASK_INDUCTION: case TASK_MQAR: return p->vocab;
    case TASK_PHONEBOOK: return 256;
    default: return -1;
    }
}

/* Phonebook line: "First Last: DDDDDDDDDD\n"; names are 4-6 letters each. */
enum { PB_MAX_LINE = 6 + 1 + 6 + 2 + 10 + 1, PB_DIGITS = 10 };

int task_min_seq(task_kind k, const task_params *p) {
    switch (k) {
    case TASK_SELECTIVE_COPY: return 2 * p->n_tokens;
    case TASK_INDUCTION: return 3;
    case TASK_MQAR: { int t = 4 * p->n_tokens; if (t < 2) t = 2; return t + (t & 1); }
    case TASK_PHONEBOOK: {
        int n = p->n_tokens > 0 ? p->n_tokens : p->n_examples + 1;
        return n * PB_MAX_LINE + 1 + (p->n_examples + 1) * PB_MAX_LINE;
    }
    default: return -1;
    }
}

int task_check(task_kind k, const task_params *p, int T) {
    if (k < 0 || k >= TASK_COUNT) { util_error("task: unknown task kind %d", (int)k); return -1; }
    if (T < 1) { util_error("task %s: sequence length T=%d must be positive", task_name(k), T); return -1; }
    switch (k) {
    case TASK_SELECTIVE_COPY:
        if (p->vocab < 3) { util_error("selective-copy: vocab %d < 3 (needs noise 0, a data token, marker)", p->vocab); return -1; }
        if (p->n_tokens < 1) { util_error("selective-copy: n_tokens %d < 1", p->n_tokens); return -1; }
        if (T < 2 * p->n_tokens) { util_error("selective-copy: T=%d < 2 x %d data tokens", T, p->n_tokens); return -1; }
        return 0;
    case TASK_INDUCTION:
        if (p->vocab < 3) { util_error("induction: vocab %d < 3 (needs 2 ordinary tokens + trigger)", p->vocab); return -1; }
        if (T < 3) { util_error("induction: T=%d < 3 (trigger, answer, trigger)", T); return -1; }
        return 0;
    case TASK_MQAR:
        if (p->n_tokens < 1) { util_error("mqar: n_tokens (key-value pairs) %d < 1", p->n_tokens); return -1; }
        if (T % 2) { util_error("mqar: T=%d must be even", T); return -1; }
        if (p->vocab <= T) { util_error("mqar: vocab %d must exceed T=%d (zoology rule)", p->vocab, T); return -1; }
        if (4 * (int64_t)p->n_tokens > T) { util_error("mqar: 4 x %d pairs > T=%d", p->n_tokens, T); return -1; }
        if (p->n_tokens > p->vocab / 2 - 1) { util_error("mqar: %d pairs > %d distinct keys in [1, vocab/2)", p->n_tokens, p->vocab / 2 - 1); return -1; }
        if (!(p->power_a > 0 && p->power_a <= 1)) { util_error("mqar: power_a %g must be in (0, 1]", p->power_a); return -1; }
        return 0;
    case TASK_PHONEBOOK:
        if (p->n_examples < 0) { util_error("phonebook: n_examples %d < 0", p->n_examples); return -1; }
        if (p->n_tokens < 0 || (p->n_tokens > 0 && p->n_tokens < p->n_examples + 1)) {
            util_error("phonebook: %d entries; need >= n_examples + 1 = %d (or 0 = fill T)", p->n_tokens, p->n_examples + 1);
            return -1;
        }
        if (T < task_min_seq(k, p)) {
            util_error("phonebook: T=%d too short for %d entries + %d examples + query (needs >= %d)", T,
                       p->n_tokens > 0 ? p->n_tokens : p->n_examples + 1, p->n_examples, task_min_seq(k, p));
            return -1;
        }
        return 0;
    default: return -1;
    }
}

/* ---- selective copying ----------------------------------------------------------------- */

static void gen_selective_copy(const task_params *p, rng_t *r, int T, int32_t *x, int32_t *y) {
    int A = p->vocab, M = p->n_tokens, N = T - M; /* N = L + M slots before the markers */
    /* Knuth's selection sampling: each slot picked with probability needed/remaining;
     * gives a uniform M-subset already in increasing order. */
    int need = M, j = 0;
    for (int t = 0; t < N; t++) {
        y[t] = -1;
        if (need > 0 && rng_below(r, (uint32_t)(N - t)) < (uint32_t)need) {
            int32_t tok = 1 + (int32_t)rng_below(r, (uint32_t)(A - 2));
            x[t] = tok;
            y[N + j] = tok;  /* the j-th data token is the target at the j-th marker */
            j++;
            need--;
        } else {
            x[t] = 0;
        }
    }
    for (int t = N; t < T; t++) x[t] = A - 1;
}

/* ---- induction heads ------------------------------------------------------------------- */

static void gen_induction(const task_params *p, rng_t *r, int T, int32_t *x, int32_t *y) {
    int V = p->vocab, trig = V - 1;
    int pos = (int)rng_below(r, (uint32_t)(T - 2));  /* p in [0, T-3] */
    for (int t = 0; t < T - 1; t++) {
        x[t] = (int32_t)rng_below(r, (uint32_t)(V - 1));
        y[t] = -1;
    }
    x[pos] = trig;
    x[T - 1] = trig;
    y[T - 1] = x[pos + 1];
}

/* ---- MQAR -------------------------------------------------------------------------------- */

/* k distinct values from [lo, hi) in random order (partial Fisher-Yates over a scratch pool). */
static void draw_distinct(rng_t *r, int lo, int hi, int k, int32_t *out, int32_t *pool) {
    int n = hi - lo;
    for (int i = 0; i < n; i++) pool[i] = lo + i;
    for (int i = 0; i < k; i++) {
        int j = i + (int)rng_below(r, (uint32_t)(n - i));
        int32_t t = pool[i]; pool[i] = pool[j]; pool[j] = t;
        out[i] = pool[i];
    }
}

static void gen_mqar(const task_params *p, rng_t *r, int T, int32_t *x, int32_t *y, int32_t *scratch, double *w) {
    int V = p->vocab, N = p->n_tokens, ctx = 2 * N, S = (T - ctx) / 2;
    int32_t *keys = scratch, *vals = scratch + N, *pool = scratch + 2 * N;
    draw_distinct(r, 1, V / 2, N, keys, pool);
    draw_distinct(r, V / 2, V, N, vals, pool);
    for (int t = 0; t < T; t++) { x[t] = -1; y[t] = -1; }
    for (int i = 0; i < N; i++) { x[2 * i] = keys[i]; x[2 * i + 1] = vals[i]; }
    /* Query slots: sequential weighted draws without replacement, w(g) = (g+1)^(a-1). */
    double total = 0;
    for (int g = 0; g < S; g++) { w[g] = pow((double)(g + 1), p->power_a - 1.0); total += w[g]; }
    for (int i = 0; i < N; i++) {
        double u = rng_uniform(r) * total, acc = 0;
        int pick = -1;
        for (int g = 0; g < S; g++) {
            if (w[g] == 0) continue;
            pick = g;  /* last available slot: guards against rounding at the top end */
            acc += w[g];
            if (u < acc) break;
        }
        total -= w[pick];
        w[pick] = 0;
        int t = ctx + 2 * pick;
        x[t] = keys[i];
        y[t] = vals[i];
    }
    for (int t = ctx; t < T; t++)
        if (x[t] < 0) x[t] = (int32_t)rng_below(r, (uint32_t)V);
}

/* ---- phonebook ---------------------------------------------------------------------------- */

static const char k_onset[] = "bdfghklmnprstvwz"; /* 16 */
static const char k_vowel[] = "aeiou";            /* 5 */

/* A name of 2-3 syllables (4-6 letters), capitalised; returns its length. */
static int pb_word(rng_t *r, char *out) {
    int ns = 2 + (int)rng_below(r, 2), n = 0;
    for (int s = 0; s < ns; s++) {
        out[n++] = k_onset[rng_below(r, 16)];
        out[n++] = k_vowel[rng_below(r, 5)];
    }
    out[0] = (char)(out[0] - 'a' + 'A');
    return n;
}

typedef struct { char name[16]; uint8_t len; char num[PB_DIGITS]; } pb_entry;

static uint64_t pb_hash(const char *s, int n) {
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h;
}

/* Write "Name: DIGITS\n" at x[t]; returns the new t. */
static int pb_emit(int32_t *x, int t, const pb_entry *e) {
    for (int i = 0; i < e->len; i++) x[t++] = (uint8_t)e->name[i];
    x[t++] = ':';
    x[t++] = ' ';
    for (int i = 0; i < PB_DIGITS; i++) x[t++] = (uint8_t)e->num[i];
    x[t++] = '\n';
    return t;
}

static int pb_line_len(const pb_entry *e) { return e->len + 2 + PB_DIGITS + 1; }

/* scratch: entries for up to max_n, hash table of hcap slots (int32, -1 empty). */
static void gen_phonebook(const task_params *p, rng_t *r, int T, int32_t *x, int32_t *y,
                          pb_entry *book, int max_n, int32_t *table, int hcap) {
    int ex = p->n_examples, fixed = p->n_tokens;
    int reserve = 1 + (ex + 1) * PB_MAX_LINE; /* blank line + examples + query, worst case */
    for (int i = 0; i < hcap; i++) table[i] = -1;
    int n = 0, len = 0, full = 0;
    while (!full && n < (fixed > 0 ? fixed : max_n)) {
        pb_entry e;
        int slot, dup;
        do {  /* draw until the name is new in this book */
            int a = pb_word(r, e.name);
            e.name[a] = ' ';
            int b = pb_word(r, e.name + a + 1);
            e.len = (uint8_t)(a + 1 + b);
            slot = (int)(pb_hash(e.name, e.len) & (uint64_t)(hcap - 1));
            dup = 0;
            while (table[slot] >= 0) {
                const pb_entry *o = &book[table[slot]];
                if (o->len == e.len && memcmp(o->name, e.name, e.len) == 0) { dup = 1; break; }
                slot = (slot + 1) & (hcap - 1);
            }
        } while (dup);
        e.num[0] = (char)('6' + rng_below(r, 4));
        for (int i = 1; i < PB_DIGITS; i++) e.num[i] = (char)('0' + rng_below(r, 10));
        if (fixed == 0 && len + pb_line_len(&e) + reserve > T) { full = 1; break; }
        table[slot] = n;
        book[n++] = e;
        len += pb_line_len(&e);
    }
    /* Query and examples: distinct entries, chosen by partial Fisher-Yates over indices. */
    int32_t pick[64 + 1];
    int k = ex + 1;
    int32_t *idx = table; /* reuse: the hash table is no longer needed */
    for (int i = 0; i < n; i++) idx[i] = i;
    for (int i = 0; i < k; i++) {
        int j = i + (int)rng_below(r, (uint32_t)(n - i));
        int32_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
        pick[i] = idx[i];
    }
    int t = 0;
    for (int i = 0; i < n; i++) t = pb_emit(x, t, &book[i]);
    x[t++] = '\n';
    for (int i = 1; i < k; i++) t = pb_emit(x, t, &book[pick[i]]);
    int q = t;
    t = pb_emit(x, t, &book[pick[0]]);
    for (int i = 0; i < T; i++) y[i] = -1;
    int d0 = q + book[pick[0]].len + 2; /* first digit of the query's number */
    for (int i = 0; i < PB_DIGITS; i++) y[d0 - 1 + i] = x[d0 + i];
    for (; t < T; t++) x[t] = 0;
}

/* ---- driver ------------------------------------------------------------------------------ */

int task_generate(task_kind k, const task_params *p, rng_t *r, int B, int T,
                  int32_t *tokens, int32_t *targets, float *mask) {
    if (task_check(k, p, T) != 0) return -1;
    if (B < 0) { util_error("task %s: batch %d < 0", task_name(k), B); return -1; }
    if (k == TASK_PHONEBOOK && p->n_examples > 64) { util_error("phonebook: n_examples %d > 64", p->n_examples); return -1; }
    void *s1 = NULL, *s2 = NULL;
    int max_n = 0, hcap = 0;
    if (k == TASK_MQAR) {
        s1 = util_alloc(sizeof(int32_t) * (size_t)(2 * p->n_tokens + p->vocab));
        s2 = util_alloc(sizeof(double) * (size_t)(T / 2 + 1));
    } else if (k == TASK_PHONEBOOK) {
        max_n = p->n_tokens > 0 ? p->n_tokens : T / 22 + 1; /* shortest line is 22 bytes */
        hcap = 16;
        while (hcap < 2 * max_n) hcap *= 2;
        s1 = util_alloc(sizeof(pb_entry) * (size_t)max_n);
        s2 = util_alloc(sizeof(int32_t) * (size_t)hcap);
    }
    for (int b = 0; b < B; b++) {
        int32_t *x = tokens + (size_t)b * T, *y = targets + (size_t)b * T;
        switch (k) {
        case TASK_SELECTIVE_COPY: gen_selective_copy(p, r, T, x, y); break;
        case TASK_INDUCTION: gen_induction(p, r, T, x, y); break;
        case TASK_MQAR: gen_mqar(p, r, T, x, y, s1, s2); break;
        case TASK_PHONEBOOK: gen_phonebook(p, r, T, x, y, s1, max_n, s2, hcap); break;
        default: break;
        }
        if (mask)
            for (int t = 0; t < T; t++) mask[(size_t)b * T + t] = y[t] >= 0 ? 1.0f : 0.0f;
    }
    util_free(s1);
    util_free(s2);
    return 0;
}

/* ---- scoring ------------------------------------------------------------------------------ */

void task_score_add(task_score *s, const int32_t *targets, const int32_t *pred, int B, int T) {
    for (int b = 0; b < B; b++) {
        int64_t n = 0, right = 0;
        for (int t = 0; t < T; t++) {
            int32_t y = targets[(size_t)b * T + t];
            if (y < 0) continue;
            n++;
            right += pred[(size_t)b * T + t] == y;
        }
        if (n == 0) continue;
        s->seqs++;
        s->seqs_right += right == n;
        s->toks += n;
        s->toks_right += right;
    }
}

void task_accuracy(const int32_t *targets, const int32_t *pred, int B, int T, double *seq_acc, double *tok_acc) {
    task_score s = {0, 0, 0, 0};
    task_score_add(&s, targets, pred, B, T);
    if (seq_acc) *seq_acc = s.seqs ? (double)s.seqs_right / (double)s.seqs : 0.0;
    if (tok_acc) *tok_acc = s.toks ? (double)s.toks_right / (double)s.toks : 0.0;
}
