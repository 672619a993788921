/* test_tasks.c — layout rules of the synthetic task generators (suites/tasks.h) on many
 * generated samples: counts, positions, markers, answers, determinism, infeasible params.
 *   build/tests/test_tasks */
#include <stdlib.h>
#include <string.h>

#include "tasks.h"
#include "test.h"

typedef struct { int32_t *x, *y; float *m; } batch;

static batch batch_new(int B, int T) {
    batch b;
    b.x = malloc(sizeof(int32_t) * (size_t)B * T);
    b.y = malloc(sizeof(int32_t) * (size_t)B * T);
    b.m = malloc(sizeof(float) * (size_t)B * T);
    return b;
}
static void batch_free(batch *b) { free(b->x); free(b->y); free(b->m); }

/* A batch of B sequences of T tokens of task k drawn from seed (its
 * generation checked; `what` names it in the message). */
static batch generated(task_kind k, const task_params *p, uint64_t seed, int B, int T, const char *what) {
    batch b = batch_new(B, T);
    rng_t r;
    rng_seed(&r, seed);
    TEST_CHECK(task_generate(k, p, &r, B, T, b.x, b.y, b.m) == 0, "%s generate: %s", what, util_last_error());
    return b;
}

static int mask_ok(const batch *b, int B, int T) {
    for (size_t i = 0; i < (size_t)B * T; i++)
        if (b->m[i] != (b->y[i] >= 0 ? 1.0f : 0.0f)) return 0;
    return 1;
}

/* Same seed -> same batch; B at once == B draws of 1; another seed differs. */
static void check_determinism(task_kind k, const task_params *p, int B, int T) {
    batch a = batch_new(B, T), c = batch_new(B, T);
    rng_t r1, r2;
    rng_seed(&r1, 42);
    rng_seed(&r2, 42);
    TEST_CHECK(task_generate(k, p, &r1, B, T, a.x, a.y, NULL) == 0, "%s: generate", task_name(k));
    for (int b = 0; b < B; b++)
        TEST_CHECK(task_generate(k, p, &r2, 1, T, c.x + (size_t)b * T, c.y + (size_t)b * T, c.m) == 0, "gen1");
    TEST_CHECK(memcmp(a.x, c.x, sizeof(int32_t) * (size_t)B * T) == 0 && memcmp(a.y, c.y, sizeof(int32_t) * (size_t)B * T) == 0,
               "%s: batch of %d != %d batches of 1 from the same seed", task_name(k), B, B);
    rng_seed(&r1, 43);
    TEST_CHECK(task_generate(k, p, &r1, B, T, c.x, c.y, NULL) == 0, "gen");
    TEST_CHECK(memcmp(a.x, c.x, sizeof(int32_t) * (size_t)B * T) != 0, "%s: seeds 42 and 43 give the same batch", task_name(k));
    batch_free(&a);
    batch_free(&c);
}

static void test_names(void) {
    for (int k = 0; k < TASK_COUNT; k++)
        TEST_CHECK(task_from_name(task_name((task_kind)k)) == k, "name round trip %d", k);
    TEST_CHECK(task_from_name("selective-copy") == TASK_SELECTIVE_COPY, "selective-copy");
    TEST_CHECK(task_from_name("induction") == TASK_INDUCTION, "induction");
    TEST_CHECK(task_from_name("mqar") == TASK_MQAR, "mqar");
    TEST_CHECK(task_from_name("phonebook") == TASK_PHONEBOOK, "phonebook");
    TEST_CHECK(task_from_name("text") == TASK_UNKNOWN && task_from_name(NULL) == TASK_UNKNOWN, "unknown");
    task_params p;
    task_params_default(TASK_PHONEBOOK, &p);
    TEST_CHECK(task_vocab(TASK_PHONEBOOK, &p) == 256, "phonebook vocab");
    task_params_default(TASK_SELECTIVE_COPY, &p);
    TEST_CHECK(task_vocab(TASK_SELECTIVE_COPY, &p) == 16 && p.n_tokens == 16, "selective-copy defaults (paper)");
    TEST_CHECK(task_check(TASK_UNKNOWN, &p, 100) == -1, "unknown kind rejected");
}

static void test_selective_copy(int A, int M, int T, int B) {
    task_params p;
    task_params_default(TASK_SELECTIVE_COPY, &p);
    p.vocab = A;
    p.n_tokens = M;
    batch b = generated(TASK_SELECTIVE_COPY, &p, 7, B, T, "sc");
    int N = T - M, bad_count = 0, bad_range = 0, bad_marker = 0, bad_target = 0, bad_unscored = 0;
    double pos_sum = 0;
    int64_t hist[256] = {0};
    for (int s = 0; s < B; s++) {
        const int32_t *x = b.x + (size_t)s * T, *y = b.y + (size_t)s * T;
        int j = 0;
        for (int t = 0; t < N; t++) {
            if (y[t] != -1) bad_unscored++;
            if (x[t] == 0) continue;
            if (x[t] < 1 || x[t] > A - 2) { bad_range++; continue; }
            hist[x[t]]++;
            pos_sum += t;
            if (j < M && y[N + j] != x[t]) bad_target++;
            j++;
        }
        if (j != M) bad_count++;
        for (int t = N; t < T; t++)
            if (x[t] != A - 1) bad_marker++;
    }
    TEST_CHECK(bad_count == 0, "sc A=%d M=%d T=%d: %d sequences without exactly M data tokens", A, M, T, bad_count);
    TEST_CHECK(bad_range == 0, "sc: %d tokens outside [1, A-2]", bad_range);
    TEST_CHECK(bad_marker == 0, "sc: %d non-marker tokens in the last M", bad_marker);
    TEST_CHECK(bad_target == 0, "sc: %d targets at markers != data tokens in order", bad_target);
    TEST_CHECK(bad_unscored == 0, "sc: %d scored positions before the markers", bad_unscored);
    TEST_CHECK(mask_ok(&b, B, T), "sc: mask != (targets >= 0)");
    /* Positions uniform over [0, N): mean (N-1)/2; token values uniform over [1, A-2]. */
    double mean = pos_sum / ((double)B * M), expect = (N - 1) / 2.0;
    if (N > M) TEST_CHECK(mean > 0.9 * expect && mean < 1.1 * expect, "sc: mean data position %.1f, expected %.1f", mean, expect);
    else TEST_CHECK(mean == expect, "sc: L=0 must fill the first M slots");
    if (A - 2 <= 32) {
        double per = (double)B * M / (A - 2);
        int skew = 0;
        for (int v = 1; v <= A - 2; v++)
            if (hist[v] < 0.8 * per || hist[v] > 1.2 * per) skew++;
        TEST_CHECK(skew == 0, "sc: token histogram not uniform (%d values off by > 20%%)", skew);
    }
    task_accuracy(b.y, b.y, B, T, NULL, NULL);
    batch_free(&b);
    check_determinism(TASK_SELECTIVE_COPY, &p, 5, T);
}

static void test_induction(int V, int T, int B) {
    task_params p;
    task_params_default(TASK_INDUCTION, &p);
    p.vocab = V;
    batch b = generated(TASK_INDUCTION, &p, 11, B, T, "ih");
    int bad_trig = 0, bad_ans = 0, bad_range = 0, bad_scored = 0, pmin = T, pmax = -1;
    for (int s = 0; s < B; s++) {
        const int32_t *x = b.x + (size_t)s * T, *y = b.y + (size_t)s * T;
        int ntrig = 0, pos = -1, nscored = 0;
        for (int t = 0; t < T; t++) {
            if (x[t] < 0 || x[t] >= V) bad_range++;
            if (x[t] == V - 1) { ntrig++; if (t < T - 1) pos = t; }
            nscored += y[t] >= 0;
        }
        if (ntrig != 2 || x[T - 1] != V - 1 || pos < 0 || pos > T - 3) { bad_trig++; continue; }
        if (y[T - 1] != x[pos + 1] || x[pos + 1] == V - 1) bad_ans++;
        if (nscored != 1) bad_scored++;
        if (pos < pmin) pmin = pos;
        if (pos > pmax) pmax = pos;
    }
    TEST_CHECK(bad_trig == 0, "ih V=%d T=%d: %d sequences without exactly one early trigger + final trigger", V, T, bad_trig);
    TEST_CHECK(bad_ans == 0, "ih: %d wrong answers", bad_ans);
    TEST_CHECK(bad_range == 0, "ih: %d tokens outside [0, V)", bad_range);
    TEST_CHECK(bad_scored == 0, "ih: %d sequences with != 1 scored position", bad_scored);
    TEST_CHECK(mask_ok(&b, B, T), "ih: mask");
    if (T <= 64) TEST_CHECK(pmin == 0 && pmax == T - 3, "ih: trigger positions span [%d, %d], want [0, %d]", pmin, pmax, T - 3);
    batch_free(&b);
    check_determinism(TASK_INDUCTION, &p, 4, T);
}

static void test_mqar(int V, int N, int T, int B) {
    task_params p;
    task_params_default(TASK_MQAR, &p);
    p.vocab = V;
    p.n_tokens = N;
    batch b = generated(TASK_MQAR, &p, 5, B, T, "mqar");
    int bad_keys = 0, bad_vals = 0, bad_query = 0, bad_count = 0, bad_range = 0, ctx = 2 * N, S = (T - ctx) / 2;
    int64_t early = 0, total = 0;
    for (int s = 0; s < B; s++) {
        const int32_t *x = b.x + (size_t)s * T, *y = b.y + (size_t)s * T;
        for (int i = 0; i < N; i++) {
            int32_t k = x[2 * i], v = x[2 * i + 1];
            if (k < 1 || k >= V / 2) bad_keys++;
            if (v < V / 2 || v >= V) bad_vals++;
            for (int j = 0; j < i; j++) {
                if (x[2 * j] == k) bad_keys++;
                if (x[2 * j + 1] == v) bad_vals++;
            }
            if (y[2 * i] != -1 || y[2 * i + 1] != -1) bad_query++;
        }
        int nq = 0;
        for (int t = 0; t < T; t++) {
            if (x[t] < 0 || x[t] >= V) bad_range++;
            if (y[t] < 0) continue;
            nq++;
            if (t < ctx || (t - ctx) % 2) { bad_query++; continue; }
            int found = 0;
            for (int i = 0; i < N; i++)
                if (x[2 * i] == x[t]) { found = 1; if (y[t] != x[2 * i + 1]) bad_query++; }
            if (!found) bad_query++;
            early += (t - ctx) / 2 < S / 2;
            total++;
        }
        /* each key queried exactly once */
        for (int i = 0; i < N; i++) {
            int c = 0;
            for (int t = ctx; t < T; t++) c += y[t] >= 0 && x[t] == x[2 * i];
            if (c != 1) bad_count++;
        }
        if (nq != N) bad_count++;
    }
    TEST_CHECK(bad_keys == 0, "mqar V=%d N=%d T=%d: %d bad/duplicate keys", V, N, T, bad_keys);
    TEST_CHECK(bad_vals == 0, "mqar: %d bad/duplicate values", bad_vals);
    TEST_CHECK(bad_query == 0, "mqar: %d misplaced or wrong queries", bad_query);
    TEST_CHECK(bad_count == 0, "mqar: %d sequences without exactly one query per key", bad_count);
    TEST_CHECK(bad_range == 0, "mqar: %d tokens outside [0, V)", bad_range);
    TEST_CHECK(mask_ok(&b, B, T), "mqar: mask");
    /* p(g) ~ (g+1)^(a-1), a = 0.01: strongly biased to short gaps (uniform would be ~50%). */
    if (S >= 4 * N) TEST_CHECK(early > 0.6 * total, "mqar: only %lld of %lld queries in the first half of the gap range", (long long)early, (long long)total);
    batch_free(&b);
    check_determinism(TASK_MQAR, &p, 4, T);
}

static int is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(int c) { return c >= 'a' && c <= 'z'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* Parse one "First Last: DDDDDDDDDD\n" line at x[t]; returns its length or 0. */
static int pb_line(const int32_t *x, int t, int T) {
    int i = t, words = 0;
    for (; words < 2; words++) {
        if (i >= T || !is_upper(x[i])) return 0;
        int n = 1;
        i++;
        while (i < T && is_lower(x[i])) { i++; n++; }
        if (n < 4 || n > 6) return 0;
        if (words == 0) { if (i >= T || x[i] != ' ') return 0; i++; }
    }
    if (i + 13 > T || x[i] != ':' || x[i + 1] != ' ') return 0;
    i += 2;
    if (x[i] < '6' || x[i] > '9') return 0;
    for (int d = 0; d < 10; d++)
        if (!is_digit(x[i + d])) return 0;
    i += 10;
    if (x[i] != '\n') return 0;
    return i + 1 - t;
}

static int same_line(const int32_t *x, int a, int b, int len) {
    for (int i = 0; i < len; i++)
        if (x[a + i] != x[b + i]) return 0;
    return 1;
}
static int name_len(const int32_t *x, int t) { int n = 0; while (x[t + n] != ':') n++; return n; }

static void test_phonebook(int n_entries, int n_ex, int T, int B) {
    task_params p;
    task_params_default(TASK_PHONEBOOK, &p);
    p.n_tokens = n_entries;
    p.n_examples = n_ex;
    batch b = generated(TASK_PHONEBOOK, &p, 3, B, T, "pb");
    int bad_fmt = 0, bad_dup = 0, bad_n = 0, bad_ex = 0, bad_q = 0, bad_y = 0, bad_pad = 0, loose = 0;
    int starts[4096];
    for (int s = 0; s < B; s++) {
        const int32_t *x = b.x + (size_t)s * T, *y = b.y + (size_t)s * T;
        int t = 0, n = 0, len;
        while (t < T && x[t] != '\n' && (len = pb_line(x, t, T)) > 0) {
            if (n < 4096) starts[n] = t;
            n++;
            t += len;
        }
        if (t >= T || x[t] != '\n') { bad_fmt++; continue; }
        t++;
        if (n_entries > 0 ? n != n_entries : n < n_ex + 1) bad_n++;
        for (int i = 0; i < n && i < 4096; i++)  /* names distinct */
            for (int j = 0; j < i; j++) {
                int li = name_len(x, starts[i]), lj = name_len(x, starts[j]);
                if (li == lj && same_line(x, starts[i], starts[j], li)) bad_dup++;
            }
        int lines[65], nl = 0;
        for (int e = 0; e <= n_ex; e++) {
            len = pb_line(x, t, T);
            if (!len) { bad_fmt++; break; }
            int hit = -1;
            for (int i = 0; i < n && i < 4096; i++)
                if (pb_line(x, starts[i], T) == len && same_line(x, starts[i], t, len)) hit = i;
            if (hit < 0) (e < n_ex ? bad_ex++ : bad_q++);
            for (int j = 0; j < nl; j++)
                if (lines[j] == hit) (e < n_ex ? bad_ex++ : bad_q++);
            lines[nl++] = hit;
            if (e == n_ex) { /* the query: 10 digits scored, each at the byte before it */
                int d0 = t + name_len(x, t) + 2, ns = 0;
                for (int u = 0; u < T; u++) ns += y[u] >= 0;
                if (ns != 10) bad_y++;
                for (int d = 0; d < 10; d++)
                    if (y[d0 - 1 + d] != x[d0 + d]) bad_y++;
            }
            t += len;
        }
        for (int u = t; u < T; u++)
            if (x[u] != 0 || y[u] != -1) bad_pad++;
        if (n_entries == 0 && T - t > 26 + 1 + (n_ex + 1) * 26) loose++;
    }
    TEST_CHECK(bad_fmt == 0, "pb n=%d ex=%d T=%d: %d format errors", n_entries, n_ex, T, bad_fmt);
    TEST_CHECK(bad_n == 0, "pb: %d books with the wrong number of entries", bad_n);
    TEST_CHECK(bad_dup == 0, "pb: %d duplicate names", bad_dup);
    TEST_CHECK(bad_ex == 0, "pb: %d examples not in the book or repeated", bad_ex);
    TEST_CHECK(bad_q == 0, "pb: %d queries not in the book or equal to an example", bad_q);
    TEST_CHECK(bad_y == 0, "pb: %d target errors", bad_y);
    TEST_CHECK(bad_pad == 0, "pb: %d bad pad positions", bad_pad);
    TEST_CHECK(loose == 0, "pb: %d fill-mode books leave room for another entry", loose);
    TEST_CHECK(mask_ok(&b, B, T), "pb: mask");
    batch_free(&b);
    check_determinism(TASK_PHONEBOOK, &p, 3, T);
}

static void test_errors(void) {
    task_params p;
    int32_t x[64], y[64];
    rng_t r;
    rng_seed(&r, 1);
    task_params_default(TASK_SELECTIVE_COPY, &p);
    TEST_CHECK(task_generate(TASK_SELECTIVE_COPY, &p, &r, 1, 31, x, y, NULL) == -1, "sc T < 2M accepted");
    TEST_CHECK(task_min_seq(TASK_SELECTIVE_COPY, &p) == 32 && task_check(TASK_SELECTIVE_COPY, &p, 32) == 0, "sc min T");
    p.vocab = 2;
    TEST_CHECK(task_check(TASK_SELECTIVE_COPY, &p, 64) == -1, "sc vocab 2 accepted");
    task_params_default(TASK_INDUCTION, &p);
    TEST_CHECK(task_check(TASK_INDUCTION, &p, 2) == -1 && task_check(TASK_INDUCTION, &p, 3) == 0, "ih T bounds");
    task_params_default(TASK_MQAR, &p);
    p.vocab = 64;
    TEST_CHECK(task_check(TASK_MQAR, &p, 64) == -1, "mqar V == T accepted");
    TEST_CHECK(task_check(TASK_MQAR, &p, 63 - 1) == 0, "mqar V > T rejected: %s", util_last_error());
    TEST_CHECK(task_check(TASK_MQAR, &p, 33) == -1, "mqar odd T accepted");
    TEST_CHECK(task_check(TASK_MQAR, &p, 30) == -1, "mqar 4N > T accepted");
    p.vocab = 16; p.n_tokens = 8;
    TEST_CHECK(task_check(TASK_MQAR, &p, 14) == -1, "mqar N > V/2-1 accepted");
    task_params_default(TASK_PHONEBOOK, &p);
    p.n_tokens = 2;
    TEST_CHECK(task_check(TASK_PHONEBOOK, &p, 4096) == -1, "pb n < examples+1 accepted");
    p.n_tokens = 10;
    int mt = task_min_seq(TASK_PHONEBOOK, &p);
    TEST_CHECK(task_check(TASK_PHONEBOOK, &p, mt - 1) == -1 && task_check(TASK_PHONEBOOK, &p, mt) == 0, "pb min T %d", mt);
    TEST_CHECK(strlen(util_last_error()) > 0, "error message set");
}

static void test_accuracy(void) {
    enum { B = 4, T = 8 };
    int32_t y[B * T], pred[B * T];
    for (int i = 0; i < B * T; i++) { y[i] = -1; pred[i] = 99; }
    for (int b = 0; b < 3; b++)  /* sequence 3 has nothing scored */
        for (int t = 5; t < 8; t++) y[b * T + t] = pred[b * T + t] = b + t;
    double sa, ta;
    task_accuracy(y, pred, B, T, &sa, &ta);
    TEST_CHECK(sa == 1.0 && ta == 1.0, "perfect: %g %g", sa, ta);
    pred[1 * T + 6] = 0;
    task_accuracy(y, pred, B, T, &sa, &ta);
    TEST_CHECK(sa == 2.0 / 3 && ta == 8.0 / 9, "one wrong token: seq %g tok %g", sa, ta);
    task_score s = {0, 0, 0, 0};
    task_score_add(&s, y, pred, B, T);
    task_score_add(&s, y, y, B, T);
    TEST_CHECK(s.seqs == 6 && s.seqs_right == 5 && s.toks == 18 && s.toks_right == 17, "accumulated score");
}

int main(void) {
    test_names();
    test_selective_copy(16, 16, 1024, 400); /* the paper's setting */
    test_selective_copy(7, 5, 37, 2000);    /* small and odd */
    test_selective_copy(5, 6, 12, 200);     /* L = 0 */
    test_induction(16, 256, 500);
    test_induction(16, 11, 3000);
    test_induction(3, 3, 200);
    test_mqar(8192, 8, 512, 100);
    test_mqar(128, 16, 64, 300);
    test_mqar(512, 4, 256, 300);
    test_phonebook(20, 2, 1024, 200);
    test_phonebook(0, 2, 2000, 50);
    test_phonebook(3, 2, task_min_seq(TASK_PHONEBOOK, &(task_params){256, 3, 2, 0.01}), 200);
    test_phonebook(0, 0, 60, 100);
    test_errors();
    test_accuracy();
    return test_summary();
}
