/* test_merge.c — results/merge.c through the store API.
 *
 * The oracle of a merge's content is independent of merge.c's remapping: the
 * identity of a row is its columns with every foreign key replaced by the
 * identity of the row it references (recursively, so no id survives), and
 * a merge of A and B into an empty target must hold exactly the rows of A
 * plus the rows of B, machines, builds and cases once. Then: merging again
 * changes nothing (the file after close is byte-identical), the sources are
 * byte-identical, v1, v2 and v3 sources are migrated in a copy (a v3 check
 * on last:10 arrives as rolling, the v4 migration's rule), a newer schema
 * and a corrupt source are refused and a failure halfway (a trigger on the
 * target) rolls back, a still running run is skipped until it finishes,
 * --dry-run writes nothing, a taken baseline name is kept.
 *
 *   build/tests/test_merge            the unit checks
 *   build/tests/test_merge --old PATH V   write a schema-V database with one run (tests/test_merge.sh)
 *   build/tests/test_merge --dump PATH    print the identity of every row, sorted
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "merge.h"
#include "store.h"
#include "test.h"
#include "util.h"

#ifndef HAVE_SQLITE
int main(void) { return test_skip_all("built without SQLite", 1); }
#else
#include <sqlite3.h>

static char g_dir[256];

static void path_in(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", g_dir, name); }

/* ---- the identity oracle ---------------------------------------------------- */

static void ident(sqlite3 *db, const char *table, sqlite3_int64 rowid, jbuf *out, int depth);

static void value_text(sqlite3 *db, sqlite3_stmt *st, int c, const char *table, jbuf *out, int depth) {
    const char *col = sqlite3_column_name(st, c);
    int type = sqlite3_column_type(st, c);
    /* a foreign key column: the identity of the referenced row */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT \"table\" FROM pragma_foreign_key_list('%s') WHERE \"from\" = '%s'", table, col);
    sqlite3_stmt *fk = NULL;
    if (type != SQLITE_NULL && sqlite3_prepare_v2(db, sql, -1, &fk, NULL) == SQLITE_OK && sqlite3_step(fk) == SQLITE_ROW) {
        char parent[64];
        snprintf(parent, sizeof parent, "%s", (const char *)sqlite3_column_text(fk, 0));
        sqlite3_finalize(fk);
        jbuf_printf(out, "%s=(", col);
        ident(db, parent, sqlite3_column_int64(st, c), out, depth + 1);
        jbuf_puts(out, ")");
        return;
    }
    sqlite3_finalize(fk);
    switch (type) {
    case SQLITE_NULL: jbuf_printf(out, "%s=NULL", col); break;
    case SQLITE_INTEGER: jbuf_printf(out, "%s=%lld", col, (long long)sqlite3_column_int64(st, c)); break;
    case SQLITE_FLOAT: jbuf_printf(out, "%s=%.17g", col, sqlite3_column_double(st, c)); break;
    default: jbuf_printf(out, "%s='%s'", col, (const char *)sqlite3_column_text(st, c)); break;
    }
}

static void ident(sqlite3 *db, const char *table, sqlite3_int64 rowid, jbuf *out, int depth) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" WHERE rowid = ?", table);
    sqlite3_stmt *st = NULL;
    if (depth > 8 || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) { jbuf_puts(out, "?"); return; }
    sqlite3_bind_int64(st, 1, rowid);
    if (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0, k = 0; c < sqlite3_column_count(st); c++) {
            if (!strcmp(sqlite3_column_name(st, c), "id")) continue;
            if (k++) jbuf_puts(out, " ");
            value_text(db, st, c, table, out, depth);
        }
    } else
        jbuf_puts(out, "MISSING");
    sqlite3_finalize(st);
}

typedef struct { char **v; int n, cap; } lines;

static void lines_add(lines *l, char *s) {
    if (l->n == l->cap) { l->cap = l->cap ? 2 * l->cap : 256; l->v = realloc(l->v, sizeof(char *) * (size_t)l->cap); }
    l->v[l->n++] = s;
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static void lines_free(lines *l) { for (int i = 0; i < l->n; i++) free(l->v[i]); free(l->v); memset(l, 0, sizeof *l); }

/* Every row of every table as "table|identity", appended to l. */
static int dump(const char *path, lines *l) {
    sqlite3 *db = NULL;
    /* read-write (nothing is written): closing removes the -wal and -shm a read-only connection leaves */
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) { sqlite3_close(db); return -1; }
    sqlite3_stmt *tt = NULL;
    sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name", -1, &tt,
                       NULL);
    while (sqlite3_step(tt) == SQLITE_ROW) {
        char table[64], sql[160];
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(tt, 0));
        snprintf(sql, sizeof sql, "SELECT rowid FROM \"%s\"", table);
        sqlite3_stmt *rs = NULL;
        sqlite3_prepare_v2(db, sql, -1, &rs, NULL);
        while (sqlite3_step(rs) == SQLITE_ROW) {
            jbuf b = {0};
            jbuf_printf(&b, "%s|", table);
            ident(db, table, sqlite3_column_int64(rs, 0), &b, 0);
            lines_add(l, b.p);
        }
        sqlite3_finalize(rs);
    }
    sqlite3_finalize(tt);
    sqlite3_close(db);
    return 0;
}

/* Sorted; lines of the natural-key tables (and only those) made unique. */
static void lines_norm(lines *l) {
    qsort(l->v, (size_t)l->n, sizeof(char *), cmp_str);
    int k = 0;
    for (int i = 0; i < l->n; i++) {
        int key = !strncmp(l->v[i], "machine|", 8) || !strncmp(l->v[i], "build|", 6) || !strncmp(l->v[i], "bench_case|", 11);
        if (k > 0 && key && !strcmp(l->v[i], l->v[k - 1])) { free(l->v[i]); continue; }
        l->v[k++] = l->v[i];
    }
    l->n = k;
}

static int lines_equal(const lines *a, const lines *b, const char *what) {
    if (a->n != b->n) { fprintf(stderr, "%s: %d rows vs %d\n", what, a->n, b->n); }
    for (int i = 0; i < a->n && i < b->n; i++)
        if (strcmp(a->v[i], b->v[i])) {
            fprintf(stderr, "%s: first difference:\n  %.300s\n  %.300s\n", what, a->v[i], b->v[i]);
            return 0;
        }
    return a->n == b->n;
}

/* The identity dump of a file, normalised. */
static lines dumped(const char *path) {
    lines l = {0};
    dump(path, &l);
    lines_norm(&l);
    return l;
}

static uint64_t file_sum(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint64_t h = 1469598103934665603ULL;
    int c;
    while ((c = fgetc(f)) != EOF) { h ^= (unsigned char)c; h *= 1099511628211ULL; }
    fclose(f);
    return h;
}

static long long count(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    long long v = -1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int raw(store *s, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(store_sqlite(s), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "sql failed: %s: %s\n", sql, msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---- sources ------------------------------------------------------------------ */

static machine_info fake_machine(const char *host, const char *cpu) {
    machine_info m;
    memset(&m, 0, sizeof m);
    snprintf(m.hostname, sizeof m.hostname, "%s", host);
    snprintf(m.cpu_model, sizeof m.cpu_model, "%s", cpu);
    snprintf(m.compiler, sizeof m.compiler, "gcc 12.2.0");
    snprintf(m.os, sizeof m.os, "Linux");
    m.cores = 2;
    m.mem_bytes = 1LL << 34;
    machine_fingerprint(&m);
    return m;
}

/* One run with every kind of row the current schema has. status NULL: left running. */
static int full_run(store *s, const machine_info *m, const char *suite, double scale, const char *status, store_id *run) {
    char *argv[] = {"griffin", "run", (char *)suite};
    store_id cs, c2, chk;
    double x[3] = {128, 256, 512}, y[3] = {1 * scale, 2 * scale, NAN}, t[5];
    for (int i = 0; i < 5; i++) t[i] = scale * (1e-3 + 1e-5 * i);
    busy_result busy;
    memset(&busy, 0, sizeof busy);
    busy.ok = 1;
    busy.others = 0.01;
    busy.steal = 0.002;
    int r = store_run_begin_with(s, m, suite, "cpu", 3, argv, 7, "{\"k\":1}", run);
    r |= store_case(s, suite, "decode_step", "{\"model\":\"hawk\",\"B\":1}", &cs);
    r |= store_case(s, suite, suite, "{\"only\":\"this suite\"}", &c2);
    r |= store_result_samples_busy(s, *run, cs, "step_time", "s", STORE_LOWER, t, 5, &busy);
    r |= store_result_count(s, *run, c2, "accuracy", STORE_HIGHER, 40, 50);
    r |= store_curve(s, *run, cs, "decode_latency", "Hawk", x, y, 3);
    r |= store_curve(s, *run, 0, "no_case", "Griffin", x, y, 2);
    r |= store_claim_judged(s, *run, suite, "C1", "step flat in T", "slope 0.3%", "reproduced", "{\"max\":0.05}", "{\"slope\":0.003}",
                            "within the limit");
    r |= store_case_failed(s, *run, c2, "out of memory");
    r |= store_case_failed(s, *run, 0, "never started");
    r |= store_check_begin(s, *run, "last:10", 1, "{\"alpha\":0.01}", &chk);
    store_finding f = {cs, "step_time", 1e-3, 1.1e-3, 1.1, 0.05, 0.001, 0.002, 0.05, 0.15, "regressed", "t(9)"};
    r |= store_check_finding(s, chk, &f);
    r |= store_check_end(s, chk, 1, 1);
    int nr, nf;
    r |= store_accept(s, *run, "decode_step", "step_time", "intended", &nr, &nf);
    if (status) r |= store_run_end(s, *run, status);
    return r ? -1 : 0;
}

/* A database at schema version v with one finished run (and, from v2, a
 * claim; from v3 a case failure and a check with findings): rows written as
 * that version's griffin wrote them. */
static int make_old(const char *path, int v) {
    store *s;
    if (store_open_version(&s, path, v) != 0) { fprintf(stderr, "%s\n", util_last_error()); return -1; }
    char *argv[] = {"griffin", "run", "latency"};
    store_id run, cs;
    double t[5] = {1, 1.1, 1.2, 1.3, 1.4}, x[2] = {1, 2}, y[2] = {3, 4};
    int r = store_run_begin(s, "latency", "cpu", 3, argv, 1, &run);
    r |= store_case(s, "latency", "old_case", "{\"v\":1}", &cs);
    r |= store_result_samples(s, run, cs, "step_time", "s", STORE_LOWER, t, 5);
    r |= store_curve(s, run, cs, "decode_latency", "Hawk", x, y, 2);
    if (v >= 2) r |= store_claim(s, run, "latency", "old claim", "measured", "inconclusive");
    char sql[600];
    snprintf(sql, sizeof sql, "INSERT INTO checks(run_id, baseline, created, exit_code, n_regressions) VALUES(%lld, 'last:10', '2024-01-01T00:00:00Z', 0, 0)", run);
    r |= raw(s, sql);
    snprintf(sql, sizeof sql, v >= 3 ?
             "INSERT INTO finding(check_id, case_id, metric, base_median, new_median, ratio, threshold, p, verdict, lo, hi, q, reason) "
             "VALUES(last_insert_rowid(), %lld, 'step_time', 1, 1, 1, 0.05, 0.5, 'same', -0.1, 0.1, 0.9, 'v3 reason')" :
             "INSERT INTO finding(check_id, case_id, metric, base_median, new_median, ratio, threshold, p, verdict) "
             "VALUES(last_insert_rowid(), %lld, 'step_time', 1, 1, 1, 0.05, 0.5, 'same')", cs);
    r |= raw(s, sql);
    if (v >= 3) r |= store_case_failed(s, run, cs, "old failure");
    r |= store_run_end(s, run, "ok");
    store_close(s);
    return r ? -1 : 0;
}

static int do_merge(const char *target, const char **src, int n, int dry, merge_stats *ms, int *stage) {
    store *t;
    if (store_open(&t, target) != 0) { fprintf(stderr, "%s\n", util_last_error()); return -2; }
    merge_opts o = {dry, NULL};
    int r = merge_databases(t, src, n, &o, ms, stage);
    store_close(t);
    return r;
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    int c;
    while (a && b && (c = fgetc(a)) != EOF) fputc(c, b);
    if (a) fclose(a);
    if (b) fclose(b);
}

/* ---- the checks ---------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--old")) return make_old(argv[2], atoi(argv[3])) ? 1 : 0;
    if (argc == 3 && !strcmp(argv[1], "--dump")) {
        lines l = dumped(argv[2]);
        for (int i = 0; i < l.n; i++) printf("%s\n", l.v[i]);
        lines_free(&l);
        return 0;
    }
    snprintf(g_dir, sizeof g_dir, "%s/griffin-merge-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    char A[300], B[300], T[300], D[300], X[300], old[3][300];
    path_in(A, sizeof A, "a.sqlite");
    path_in(B, sizeof B, "b.sqlite");
    path_in(T, sizeof T, "t.sqlite");
    path_in(D, sizeof D, "d.sqlite");
    path_in(X, sizeof X, "x.sqlite");
    machine_info ma = fake_machine("cpubox", "CPU A"), mb = fake_machine("gpubox", "CPU B");

    /* A: two runs on machine A, a named baseline; B: one run on machine B with a shared case */
    store *s;
    store_id r1, r2, r3;
    int ok = store_open(&s, A) == 0 && full_run(s, &ma, "latency", 1, "ok", &r1) == 0 && full_run(s, &ma, "latency", 1.2, "failed", &r2) == 0 &&
             store_baseline_set(s, "ref", r1) == 0;
    store_close(s);
    ok = ok && store_open(&s, B) == 0 && full_run(s, &mb, "latency", 2, "ok", &r3) == 0 && store_baseline_set(s, "gpu", r3) == 0;
    char uuid_b[37] = "";
    if (ok) store_run_uuid(s, r3, uuid_b);
    store_close(s);
    TEST_CHECK(ok, "build the sources: %s", util_last_error());
    uint64_t sum_a = file_sum(A), sum_b = file_sum(B);

    /* 1. merge into a new target */
    merge_stats ms[4];
    int stage = 0;
    const char *ab[] = {A, B};
    int r = do_merge(T, ab, 2, 0, ms, &stage);
    TEST_CHECK(r == 0, "merge A B: %s", util_last_error());
    TEST_CHECK(ms[0].runs_added == 2 && ms[1].runs_added == 1 && ms[0].machines_added == 1 && ms[1].machines_added == 1,
               "runs added %lld %lld, machines %lld %lld", ms[0].runs_added, ms[1].runs_added, ms[0].machines_added,
               ms[1].machines_added);
    TEST_CHECK(ms[1].builds_added == 0 && ms[0].builds_added == 1, "one build (same binary): %lld %lld", ms[0].builds_added,
               ms[1].builds_added);
    TEST_CHECK(ms[0].cases_added == 2 && ms[1].cases_added == 0, "cases shared by key: %lld %lld", ms[0].cases_added, ms[1].cases_added);
    TEST_CHECK(ms[0].version == 4 && ms[0].baselines_added == 1 && ms[1].baselines_added == 1, "baselines %lld %lld",
               ms[0].baselines_added, ms[1].baselines_added);
    {
        lines want = {0};
        dump(A, &want);
        dump(B, &want);
        lines_norm(&want);
        lines got = dumped(T);
        TEST_CHECK(want.n > 40 && lines_equal(&want, &got, "target = A + B"), "the target holds exactly A's and B's rows (%d vs %d)",
                   got.n, want.n);
        lines_free(&want);
        lines_free(&got);
    }
    TEST_CHECK(count(T, "SELECT count(*) FROM machine") == 2 && count(T, "SELECT count(*) FROM build") == 1 &&
               count(T, "SELECT count(*) FROM bench_case") == 2 && count(T, "SELECT count(*) FROM run") == 3,
               "2 machines, 1 build, 2 cases, 3 runs");
    TEST_CHECK(count(T, "SELECT count(*) FROM acceptance") == 3 && count(T, "SELECT count(*) FROM case_failure") == 6 &&
               count(T, "SELECT count(*) FROM finding") == 3 && count(T, "SELECT count(*) FROM sample") == 3 * 6,
               "acceptances, case failures, findings, samples of all three runs");
    {
        char sql[300];
        snprintf(sql, sizeof sql, "SELECT id FROM run WHERE uuid = '%s'", uuid_b);
        TEST_CHECK(count(T, sql) == 3 && r3 == 1, "B's run 1 is run 3 in the target, its uuid kept (%lld)", count(T, sql));
        snprintf(sql, sizeof sql, "SELECT count(*) FROM result r JOIN run u ON u.id = r.run_id WHERE u.uuid = '%s' AND r.run_id = 3", uuid_b);
        TEST_CHECK(count(T, sql) == 2, "its results point at the new id");
        TEST_CHECK(count(T, "SELECT run_id FROM baseline WHERE name = 'gpu'") == 3, "its named baseline follows it");
        TEST_CHECK(count(T, "SELECT count(*) FROM finding f JOIN checks c ON c.id = f.check_id JOIN run u ON u.id = c.run_id "
                            "JOIN machine m ON m.id = u.machine_id WHERE m.hostname = 'gpubox'") == 1,
                   "findings follow their check to the remapped run");
    }
    store *t;
    TEST_CHECK(store_open(&t, T) == 0 && store_integrity_check(t) == 0, "target integrity and foreign keys: %s", util_last_error());
    store_close(t);
    TEST_CHECK(file_sum(A) == sum_a && file_sum(B) == sum_b, "the sources are byte-identical");
    path_in(X, sizeof X, "a.sqlite-wal");
    TEST_CHECK(access(X, F_OK) != 0, "no -wal file left beside a source");

    /* 2. merging again changes nothing */
    uint64_t sum_t = file_sum(T);
    r = do_merge(T, ab, 2, 0, ms, &stage);
    TEST_CHECK(r == 0 && ms[0].runs_added == 0 && ms[1].runs_added == 0 && ms[0].runs_present == 2 && ms[1].runs_present == 1 &&
               ms[0].rows_added + ms[1].rows_added == 0, "second merge adds nothing (%lld rows)", ms[0].rows_added + ms[1].rows_added);
    TEST_CHECK(file_sum(T) == sum_t, "second merge: target byte-identical");
    const char *bb[] = {B, B};
    r = do_merge(T, bb, 2, 0, ms, &stage);
    TEST_CHECK(r == 0 && ms[0].rows_added + ms[1].rows_added == 0 && file_sum(T) == sum_t, "the same source twice in one merge");

    /* 2b. a check and an acceptance recorded in A after its runs were merged
     * arrive with the next merge (matched by content: once) */
    {
        store_id chk;
        int nr, nf;
        store_finding f = {1, "step_time", 1e-3, 1e-3, 1, 0.05, 0.5, 0.6, -0.01, 0.01, "same", "late check"};
        ok = store_open(&s, A) == 0 && store_check_begin(s, r1, "last:10", 1, "{\"late\":1}", &chk) == 0 &&
             store_check_finding(s, chk, &f) == 0 && store_check_end(s, chk, 0, 0) == 0 &&
             store_accept(s, r2, NULL, NULL, "late acceptance", &nr, &nf) == 0;
        store_close(s);
        const char *a1[] = {A};
        r = do_merge(T, a1, 1, 0, ms, &stage);
        TEST_CHECK(ok && r == 0 && ms[0].runs_added == 0 && nr >= 1 && ms[0].rows_added == 2 + nr,
                   "late rows of present runs: %lld rows (a check, its finding, %d acceptance rows)", ms[0].rows_added, nr);
        lines want = {0};
        dump(A, &want);
        dump(B, &want);
        lines_norm(&want);
        lines got = dumped(T);
        TEST_CHECK(lines_equal(&want, &got, "target = A + B after late rows"), "the target again holds exactly A's and B's rows");
        lines_free(&want);
        lines_free(&got);
        sum_t = file_sum(T);
        r = do_merge(T, a1, 1, 0, ms, &stage);
        TEST_CHECK(r == 0 && ms[0].rows_added == 0 && file_sum(T) == sum_t, "late rows merged once (%lld rows again)", ms[0].rows_added);
    }

    /* 3. older schemas, migrated in a copy: the sources stay as they were */
    const char *olds[3];
    uint64_t sums[3];
    for (int v = 1; v <= 3; v++) {
        char name[32];
        snprintf(name, sizeof name, "v%d.sqlite", v);
        path_in(old[v - 1], sizeof old[0], name);
        TEST_CHECK(make_old(old[v - 1], v) == 0, "write a v%d database", v);
        olds[v - 1] = old[v - 1];
        sums[v - 1] = file_sum(old[v - 1]);
    }
    r = do_merge(T, olds, 3, 0, ms, &stage);
    TEST_CHECK(r == 0, "merge v1 v2 v3: %s", util_last_error());
    for (int v = 1; v <= 3; v++) {
        TEST_CHECK(ms[v - 1].version == v && ms[v - 1].runs_added == 1, "v%d: version %d, %lld run", v, ms[v - 1].version,
                   ms[v - 1].runs_added);
        TEST_CHECK(file_sum(old[v - 1]) == sums[v - 1] && count(old[v - 1], "PRAGMA user_version") == v, "v%d source unchanged", v);
    }
    TEST_CHECK(count(T, "SELECT count(*) FROM checks WHERE baseline = 'last:10' AND rolling = 1 AND created = '2024-01-01T00:00:00Z'") == 3,
               "old last:10 checks arrive rolling (the v4 migration ran on the copies)");
    TEST_CHECK(count(T, "SELECT count(*) FROM finding WHERE reason = 'v3 reason' AND q = 0.9") == 1 &&
               count(T, "SELECT count(*) FROM claim WHERE claim = 'old claim' AND claim_id IS NULL") == 2 &&
               count(T, "SELECT count(*) FROM case_failure WHERE reason = 'old failure'") == 1,
               "each version's rows kept, columns it did not have NULL");
    TEST_CHECK(count(T, "SELECT count(*) FROM run") == 6, "6 runs");

    /* 4. refused sources: newer schema, corrupt, not SQLite; the target unchanged */
    store_open(&t, T);
    store_close(t);
    sum_t = file_sum(T);
    lines before = dumped(T);
    store_id rd;
    ok = store_open(&s, D) == 0 && full_run(s, &ma, "throughput", 3, "ok", &rd) == 0;
    store_close(s);
    path_in(X, sizeof X, "newer.sqlite");
    copy_file(D, X);
    sqlite3 *raw_db;
    sqlite3_open(X, &raw_db);
    sqlite3_exec(raw_db, "PRAGMA user_version = 99", NULL, NULL, NULL);
    sqlite3_close(raw_db);
    const char *dn[] = {D, X};
    r = do_merge(T, dn, 2, 0, ms, &stage);
    TEST_CHECK(ok && r == -1 && stage == MERGE_STAGE_SOURCE && strstr(util_last_error(), "newer.sqlite") &&
               strstr(util_last_error(), "schema version 99 is newer"), "newer schema refused: %s", util_last_error());
    TEST_CHECK(file_sum(T) == sum_t, "newer: target byte-identical");
    char C[300];
    path_in(C, sizeof C, "corrupt.sqlite");
    copy_file(D, C);
    FILE *cf = fopen(C, "r+b");
    for (int pg = 1; pg < 6; pg++) { /* pages 2..6: an invalid b-tree page type where each header begins */
        fseek(cf, 4096L * pg, SEEK_SET);
        for (int i = 0; i < 8; i++) fputc(0xff, cf);
    }
    fclose(cf);
    const char *dc[] = {D, C};
    r = do_merge(T, dc, 2, 0, ms, &stage);
    TEST_CHECK(r == -1 && stage == MERGE_STAGE_SOURCE && strstr(util_last_error(), "corrupt.sqlite") && strstr(util_last_error(), "corrupt"),
               "corrupt source refused: %s", util_last_error());
    TEST_CHECK(file_sum(T) == sum_t, "corrupt: target byte-identical");

    /* 5. a failure halfway through (a trigger on the target stops the findings) rolls back */
    store_open(&t, T);
    raw(t, "CREATE TRIGGER boom BEFORE INSERT ON finding BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    merge_opts o = {0, NULL};
    const char *d1[] = {D};
    r = merge_databases(t, d1, 1, &o, ms, &stage);
    TEST_CHECK(r == -1 && stage == MERGE_STAGE_TARGET && strstr(util_last_error(), "injected failure") &&
               strstr(util_last_error(), "table finding") && strstr(util_last_error(), "unchanged"),
               "failure halfway: %s", util_last_error());
    raw(t, "DROP TRIGGER boom");
    store_close(t);
    {
        lines after = dumped(T);
        TEST_CHECK(lines_equal(&before, &after, "after the failed merge"), "failure halfway: nothing of it in the target");
        lines_free(&after);
    }

    /* 6. dry run: the stats, nothing written */
    sum_t = file_sum(T);
    r = do_merge(T, d1, 1, 1, ms, &stage);
    TEST_CHECK(r == 0 && ms[0].runs_added == 1 && ms[0].rows_added > 10 && file_sum(T) == sum_t, "dry run: %lld rows counted, none written",
               ms[0].rows_added);

    /* 7. a run still running is skipped until it has finished */
    store_id rr;
    ok = store_open(&s, D) == 0 && full_run(s, &ma, "throughput", 4, NULL, &rr) == 0;
    store_close(s);
    r = do_merge(T, d1, 1, 0, ms, &stage);
    TEST_CHECK(ok && r == 0 && ms[0].runs_added == 1 && ms[0].runs_running == 1, "running run skipped (%lld added, %lld running)",
               ms[0].runs_added, ms[0].runs_running);
    ok = store_open(&s, D) == 0 && store_run_end(s, rr, "ok") == 0;
    store_close(s);
    r = do_merge(T, d1, 1, 0, ms, &stage);
    TEST_CHECK(ok && r == 0 && ms[0].runs_added == 1 && ms[0].runs_present == 1 && ms[0].runs_running == 0,
               "merged once it finished (%lld added)", ms[0].runs_added);

    /* 8. a baseline name the target gives another run is kept */
    ok = store_open(&s, D) == 0 && store_baseline_set(s, "gpu", rd) == 0;
    store_close(s);
    path_in(X, sizeof X, "d2.sqlite");
    store_open(&s, X);
    store_id rx;
    ok = ok && full_run(s, &mb, "throughput", 5, "ok", &rx) == 0 && store_baseline_set(s, "gpu", rx) == 0;
    store_close(s);
    const char *dx[] = {X};
    r = do_merge(T, dx, 1, 0, ms, &stage);
    TEST_CHECK(ok && r == 0 && ms[0].baselines_kept == 1 && ms[0].baselines_added == 0 &&
               count(T, "SELECT run_id FROM baseline WHERE name = 'gpu'") == 3, "taken baseline name kept (%lld kept)", ms[0].baselines_kept);
    TEST_CHECK(count(T, "SELECT count(*) FROM run") == 9, "9 runs in the end");
    store_open(&t, T);
    TEST_CHECK(store_integrity_check(t) == 0, "integrity in the end");
    store_close(t);
    lines_free(&before);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return test_summary();
}
#endif
