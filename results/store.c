/* store.c — see store.h. The schema, its migrations, the writers and the
 * queries. All SQL of the project is in this file and suites/cmd_results.c's calls
 * into it; gnuplot scripts read the file with the sqlite3 shell (read-only).
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "stats.h"
#include "util.h"

static uint64_t fnv1a(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ULL; }
    return h;
}

int store_case_key(const char *suite, const char *name, const char *params_json, char key[17]) {
    char err[160];
    char *canon = json_canonical(params_json, err, sizeof err);
    if (!canon) { util_error("case %s/%s: params are not valid JSON: %s", suite, name, err); return -1; }
    uint64_t h = 1469598103934665603ULL;
    h = fnv1a(h, suite, strlen(suite) + 1); /* +1: the NUL separates the fields */
    h = fnv1a(h, name, strlen(name) + 1);
    h = fnv1a(h, canon, strlen(canon));
    snprintf(key, 17, "%016llx", (unsigned long long)h);
    free(canon);
    return 0;
}

/* ---- signals: let a suite end its run as `interrupted` ------------------- */

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) {
    if (g_signal) { /* second Ctrl-C: stop now; the next open marks the run */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_signal = sig;
}

void store_catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int store_signal_pending(void) { return (int)g_signal; }

#ifdef HAVE_SQLITE
#include <sqlite3.h>

struct store {
    sqlite3 *db;
    char *path;
    int tx_depth;
    int interrupted_on_open;
    int version;           /* schema version after open */
    int have_machine;
    machine_info machine;
    int build_override;    /* store_override_build */
    char b_commit[64], b_flags[256];
    int b_dirty;
};

/* Check an SQLite return code; on failure record file:line, the call, SQLite's
 * message and the database path, then jump to the enclosing `fail:` label. */
#define SQLITE_CHECK(s, call)                                                              \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW && rc_ != SQLITE_DONE) {                 \
            util_error("%s:%d: %s failed: %s (database %s)%s", __FILE__, __LINE__, #call,  \
                       (s)->db ? sqlite3_errmsg((s)->db) : sqlite3_errstr(rc_), (s)->path, \
                       hint_for(rc_));                                                     \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

static int g_busy_ms = 30000; /* store_set_busy_timeout_ms */

static const char *hint_for(int rc) {
    switch (rc & 0xff) {
    case SQLITE_NOTADB: return "; the file is not an SQLite database: pass another --db or move it away";
    case SQLITE_CORRUPT: return "; the file is corrupt: restore it from a copy (make copies with VACUUM INTO)";
    case SQLITE_BUSY: return "; another process holds the database longer than the busy timeout";
    case SQLITE_READONLY: return "; the database or its folder is read-only";
    case SQLITE_CANTOPEN: return "; check that the folder exists and is writable";
    case SQLITE_FULL: return "; the disk holding it is full or a file-size limit was hit (ENOSPC/EFBIG): free space and re-run (committed cases are kept)";
    case SQLITE_IOERR: return "; the operating system refused a read or write (a full disk, EIO or a file-size limit)";
    default: return "";
    }
}

/* ---- schema -------------------------------------------------------------- */

/* v1: everything but claims and run context. */
static const char SCHEMA_V1[] =
    "CREATE TABLE machine(\n"
    "  id INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, hostname TEXT, cpu_model TEXT,\n"
    "  cpu_flags_hash TEXT, simd TEXT, cores INTEGER, mem_bytes INTEGER, blas_core TEXT,\n"
    "  blas_config TEXT, openblas_env TEXT, gpu TEXT, gpu_driver TEXT, cuda_version TEXT,\n"
    "  gpu_cc TEXT, compiler TEXT, os TEXT, info TEXT) STRICT;\n"
    "CREATE TABLE build(\n"
    "  id INTEGER PRIMARY KEY, git_commit TEXT NOT NULL, dirty INTEGER NOT NULL,\n"
    "  compiler TEXT NOT NULL, flags TEXT NOT NULL, UNIQUE(git_commit, dirty, compiler, flags)) STRICT;\n"
    "CREATE TABLE run(\n"
    "  id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, suite TEXT NOT NULL, preset TEXT,\n"
    "  argv TEXT NOT NULL, seed INTEGER, machine_id INTEGER NOT NULL REFERENCES machine(id),\n"
    "  build_id INTEGER NOT NULL REFERENCES build(id), host TEXT, pid INTEGER,\n"
    "  started TEXT NOT NULL, finished TEXT,\n"
    "  status TEXT NOT NULL CHECK(status IN ('running','ok','failed','interrupted'))) STRICT;\n"
    "CREATE INDEX run_suite ON run(suite, status);\n"
    "CREATE TABLE bench_case(\n"
    "  id INTEGER PRIMARY KEY, case_key TEXT NOT NULL UNIQUE, suite TEXT NOT NULL,\n"
    "  name TEXT NOT NULL, params TEXT NOT NULL) STRICT;\n"
    "CREATE TABLE result(\n"
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  case_id INTEGER NOT NULL REFERENCES bench_case(id), metric TEXT NOT NULL, unit TEXT NOT NULL,\n"
    "  direction TEXT NOT NULL CHECK(direction IN ('higher','lower')),\n"
    "  deterministic INTEGER NOT NULL DEFAULT 0, n INTEGER NOT NULL,\n"
    "  median REAL, mean REAL, stddev REAL, mad REAL, min REAL, max REAL,\n"
    "  UNIQUE(run_id, case_id, metric)) STRICT;\n"
    "CREATE INDEX result_case ON result(case_id, metric);\n"
    "CREATE TABLE sample(\n"
    "  result_id INTEGER NOT NULL REFERENCES result(id) ON DELETE CASCADE, rep INTEGER NOT NULL,\n"
    "  value REAL, PRIMARY KEY(result_id, rep)) STRICT;\n"
    "CREATE TABLE curve(\n"
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  case_id INTEGER REFERENCES bench_case(id), name TEXT NOT NULL, series TEXT NOT NULL,\n"
    "  x REAL NOT NULL, y REAL) STRICT;\n"
    "CREATE INDEX curve_name ON curve(name, run_id);\n"
    "CREATE TABLE baseline(\n"
    "  name TEXT PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES run(id), created TEXT NOT NULL) STRICT;\n"
    "CREATE TABLE checks(\n"
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  baseline TEXT NOT NULL, created TEXT NOT NULL, exit_code INTEGER, n_regressions INTEGER) STRICT;\n"
    "CREATE TABLE finding(\n"
    "  id INTEGER PRIMARY KEY, check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,\n"
    "  case_id INTEGER NOT NULL REFERENCES bench_case(id), metric TEXT NOT NULL,\n"
    "  base_median REAL, new_median REAL, ratio REAL, threshold REAL, p REAL,\n"
    "  verdict TEXT NOT NULL) STRICT;\n";

/* v2: paper claim vs measured, and the run's context (e.g. Google
 * Benchmark's context object). */
static const char SCHEMA_V2[] =
    "ALTER TABLE run ADD COLUMN context TEXT;\n"
    "CREATE TABLE claim(\n"
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  suite TEXT NOT NULL, claim TEXT NOT NULL, measured TEXT NOT NULL,\n"
    "  verdict TEXT NOT NULL CHECK(verdict IN ('reproduced','not reproduced','inconclusive')),\n"
    "  created TEXT NOT NULL) STRICT;\n";

/* v3: what the verdicts rest on. result.busy / steal: the fraction of the
 * machine other processes (steal included) took while the case was timed
 * (NULL: not measured or too short to tell); claim_id, rule (the rule text
 * and thresholds it was judged by, JSON), inputs (the values, JSON) and why;
 * acceptance: a run (or one case/metric of it) accepted into the rolling
 * baseline after a flagged change; finding: interval, adjusted p and the
 * reason for a metric not judged; case_failure: a case that failed is
 * stored as failed with its reason, never as a number. */
static const char SCHEMA_V3[] =
    "ALTER TABLE result ADD COLUMN busy REAL;\n"
    "ALTER TABLE result ADD COLUMN steal REAL;\n"
    "ALTER TABLE claim ADD COLUMN claim_id TEXT;\n"
    "ALTER TABLE claim ADD COLUMN rule TEXT;\n"
    "ALTER TABLE claim ADD COLUMN inputs TEXT;\n"
    "ALTER TABLE claim ADD COLUMN why TEXT;\n"
    "CREATE TABLE acceptance(\n"
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  case_id INTEGER REFERENCES bench_case(id), metric TEXT, reason TEXT, created TEXT NOT NULL) STRICT;\n"
    "ALTER TABLE finding ADD COLUMN lo REAL;\n"
    "ALTER TABLE finding ADD COLUMN hi REAL;\n"
    "ALTER TABLE finding ADD COLUMN q REAL;\n"
    "ALTER TABLE finding ADD COLUMN reason TEXT;\n"
    "CREATE TABLE case_failure(\n"
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,\n"
    "  case_id INTEGER REFERENCES bench_case(id), reason TEXT NOT NULL, created TEXT NOT NULL) STRICT;\n";

/* v4: what the regression gate needs beyond v3. result.successes / trials:
 * a counted accuracy keeps its counts (the check judges it with a
 * two-proportion test, not as a bare fraction); checks.rolling: 1 when the
 * check judged against the rolling baseline (last:K), whose findings decide
 * which results later rolling baselines may use; checks.rule: the options
 * the check ran with (JSON), so every stored verdict names its rule. */
static const char SCHEMA_V4[] =
    "ALTER TABLE result ADD COLUMN successes INTEGER;\n"
    "ALTER TABLE result ADD COLUMN trials INTEGER;\n"
    "ALTER TABLE checks ADD COLUMN rolling INTEGER NOT NULL DEFAULT 0;\n"
    "ALTER TABLE checks ADD COLUMN rule TEXT;\n"
    "UPDATE checks SET rolling = 1 WHERE baseline LIKE 'last:%';\n"
    "CREATE INDEX checks_run ON checks(run_id);\n"
    "CREATE INDEX finding_check ON finding(check_id, case_id, metric);\n"
    "CREATE INDEX acceptance_run ON acceptance(run_id);\n";

static const char *const MIGRATIONS[STORE_SCHEMA_VERSION] = {SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4};

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* ---- small helpers ------------------------------------------------------- */

static int exec_sql(store *s, const char *sql) {
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        util_error("%s: %s (database %s)%s", sql, msg ? msg : sqlite3_errstr(rc), s->path, hint_for(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int bind_real(sqlite3_stmt *st, int i, double x) {
    return isnan(x) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, x);
}
static int bind_text(sqlite3_stmt *st, int i, const char *t) {
    return t ? sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}
static double col_real(sqlite3_stmt *st, int i) {
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}
static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t cap) {
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Bind parameters 1, 2, ... of st from the variadic values, one per letter of
 * types: 'i' int, 'I' store_id, 'N' store_id (<= 0 binds NULL), 't' text
 * (NULL binds NULL), 'r' double (NaN binds NULL). */
static int bind_va(store *s, sqlite3_stmt *st, const char *types, va_list ap) {
    for (int k = 1; *types; types++, k++) {
        switch (*types) {
        case 'i': SQLITE_CHECK(s, sqlite3_bind_int(st, k, va_arg(ap, int))); break;
        case 'I': SQLITE_CHECK(s, sqlite3_bind_int64(st, k, va_arg(ap, store_id))); break;
        case 'N': {
            store_id v = va_arg(ap, store_id);
            SQLITE_CHECK(s, v > 0 ? sqlite3_bind_int64(st, k, v) : sqlite3_bind_null(st, k));
            break;
        }
        case 't': SQLITE_CHECK(s, bind_text(st, k, va_arg(ap, const char *))); break;
        case 'r': SQLITE_CHECK(s, bind_real(st, k, va_arg(ap, double))); break;
        default: util_error("%s:%d: bad bind type '%c'", __FILE__, __LINE__, *types); return -1;
        }
    }
    return 0;
fail:
    return -1;
}

/* Prepare sql and bind the values (see bind_va). On failure *st is finalized
 * and NULL, so the caller's `fail:` may finalize it again. */
static int stmt_vprepare(store *s, sqlite3_stmt **st, const char *sql, const char *types, va_list ap) {
    *st = NULL;
    SQLITE_CHECK(s, sqlite3_prepare_v2(s->db, sql, -1, st, NULL));
    if (bind_va(s, *st, types, ap) != 0) goto fail;
    return 0;
fail:
    sqlite3_finalize(*st);
    *st = NULL;
    return -1;
}

/* r = call, where call reads the variadic arguments after `last` from ap. */
#define WITH_VA(r, last, call)  \
    do {                        \
        va_list ap;             \
        va_start(ap, last);     \
        r = (call);             \
        va_end(ap);             \
    } while (0)

static int stmt_prepare(store *s, sqlite3_stmt **st, const char *sql, const char *types, ...) {
    int r;
    WITH_VA(r, types, stmt_vprepare(s, st, sql, types, ap));
    return r;
}

/* Bind a prepared statement, step it once and reset it (loops of inserts). */
static int stmt_step_reset(store *s, sqlite3_stmt *st, const char *types, ...) {
    int r;
    WITH_VA(r, types, bind_va(s, st, types, ap));
    if (r != 0) return -1;
    SQLITE_CHECK(s, sqlite3_step(st));
    SQLITE_CHECK(s, sqlite3_reset(st));
    return 0;
fail:
    return -1;
}

/* Prepare, bind, step once and finalize. rowid (unless NULL): the new rowid.
 * col0 (unless NULL): the first column of the first row; then 1 when there
 * is no row or it is NULL (no error set). 0 done, -1 error. */
static int stmt_vone(store *s, store_id *rowid, store_id *col0, const char *sql, const char *types, va_list ap) {
    sqlite3_stmt *st;
    if (stmt_vprepare(s, &st, sql, types, ap) != 0) return -1;
    int rc = sqlite3_step(st);
    SQLITE_CHECK(s, rc);
    if (rowid) *rowid = sqlite3_last_insert_rowid(s->db);
    int missing = col0 && (rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL);
    if (col0 && !missing) *col0 = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return missing;
fail:
    sqlite3_finalize(st);
    return -1;
}

static int stmt_exec(store *s, store_id *rowid, const char *sql, const char *types, ...) {
    int r;
    WITH_VA(r, types, stmt_vone(s, rowid, NULL, sql, types, ap));
    return r;
}

/* stmt_exec as its own transaction (nested in the caller's, if any). */
static int tx_exec(store *s, store_id *rowid, const char *sql, const char *types, ...) {
    if (store_tx_begin(s)) return -1;
    int r;
    WITH_VA(r, types, stmt_vone(s, rowid, NULL, sql, types, ap));
    if (r != 0) { store_tx_rollback(s); return -1; }
    return store_tx_commit(s);
}

/* A single-value query into *out: 0 found, 1 no row or NULL (no error set), -1 error. */
static int query_id(store *s, store_id *out, const char *sql, const char *types, ...) {
    int r;
    WITH_VA(r, types, stmt_vone(s, NULL, out, sql, types, ap));
    return r;
}

/* query_id for a row that must exist (just upserted): no row is an error. */
static int query_upserted_id(store *s, store_id *out, const char *what, const char *sql, const char *types, ...) {
    int r;
    WITH_VA(r, types, stmt_vone(s, NULL, out, sql, types, ap));
    if (r > 0) util_error("%s row vanished (database %s)", what, s->path);
    return r == 0 ? 0 : -1;
}

/* Step st to its end, collecting column 0 of at most max rows into ids;
 * finalizes st. */
static int collect_ids(store *s, sqlite3_stmt *st, store_id *ids, int max, int *n) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) ids[(*n)++] = sqlite3_column_int64(st, 0);
    SQLITE_CHECK(s, rc);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

int store_tx_begin(store *s) {
    if (s->tx_depth++ > 0) return 0;
    if (exec_sql(s, "BEGIN IMMEDIATE") != 0) { s->tx_depth = 0; return -1; }
    return 0;
}

int store_tx_commit(store *s) {
    if (s->tx_depth <= 0) { util_error("store_tx_commit: no transaction open (an inner write failed and rolled back)"); return -1; }
    if (--s->tx_depth > 0) return 0;
    if (exec_sql(s, "COMMIT") != 0) { sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL); return -1; }
    return 0;
}

int store_tx_rollback(store *s) {
    if (s->tx_depth <= 0) return 0;
    s->tx_depth = 0;
    char keep[1024];
    snprintf(keep, sizeof keep, "%s", util_last_error()); /* ROLLBACK must not hide the reason */
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    util_error("%s", keep);
    return 0;
}

const char *store_resolve_path(const char *path) {
    if (path && *path) return path;
    const char *e = getenv("GRIFFIN_DB");
    if (e && *e) return e;
    return STORE_DEFAULT_PATH;
}

const char *store_path(const store *s) { return s->path; }
int store_interrupted_on_open(const store *s) { return s->interrupted_on_open; }

/* Reject files that are plainly not SQLite before SQLite gets a chance to
 * turn them into a confusing error later. */
static int precheck_file(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) { util_error("%s: %s", path, strerror(errno)); return -1; }
        /* create the parent folder if it is missing (one level, e.g. results/) */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = 0;
            struct stat ds;
            if (stat(dir, &ds) != 0 && mkdir(dir, 0775) != 0) {
                util_error("%s: cannot create folder %s: %s", path, dir, strerror(errno));
                return -1;
            }
        }
        return 0;
    }
    if (S_ISDIR(st.st_mode)) { util_error("%s: is a directory, not a database file", path); return -1; }
    if (st.st_size == 0) return 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) { util_error("%s: %s", path, strerror(errno)); return -1; }
    char head[16] = {0};
    ssize_t k = read(fd, head, sizeof head);
    close(fd);
    if (k < 16 || memcmp(head, "SQLite format 3", 16) != 0) {
        util_error("%s: not an SQLite database (no SQLite header); pass another --db, or move the file away", path);
        return -1;
    }
    return 0;
}

int store_schema_version(store *s) {
    store_id v = -1;
    return query_id(s, &v, "PRAGMA user_version", "") == 0 ? (int)v : -1;
}

static int migrate(store *s, int target) {
    if (store_tx_begin(s)) return -1;
    int v = store_schema_version(s);
    if (v < 0) goto fail;
    if (v > STORE_SCHEMA_VERSION) {
        util_error("%s: schema version %d is newer than this griffin understands (%d); use a newer build",
                   s->path, v, STORE_SCHEMA_VERSION);
        goto fail;
    }
    while (v < target) {
        if (exec_sql(s, MIGRATIONS[v]) != 0) goto fail;
        v++;
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v);
        if (exec_sql(s, pragma) != 0) goto fail;
    }
    return store_tx_commit(s);
fail:
    store_tx_rollback(s);
    return -1;
}

static void my_host(char *h, size_t cap) {
    if (gethostname(h, cap) != 0) snprintf(h, cap, "unknown");
    h[cap - 1] = 0;
}

/* Mark `running` runs of this host whose pid no longer exists. */
static int mark_stale(store *s) {
    sqlite3_stmt *st = NULL, *up = NULL;
    char host[128];
    my_host(host, sizeof host);
    s->interrupted_on_open = 0;
    /* cheap read first: most opens find nothing to do */
    store_id cnt = 0;
    if (query_id(s, &cnt, "SELECT count(*) FROM run WHERE status='running' AND host=?", "t", host) < 0) return -1;
    if (cnt == 0) return 0;
    if (store_tx_begin(s)) return -1;
    if (stmt_prepare(s, &st, "SELECT id, pid FROM run WHERE status='running' AND host=?", "t", host) != 0 ||
        stmt_prepare(s, &up, "UPDATE run SET status='interrupted', finished=" NOW_SQL " WHERE id=? AND status='running'", "") != 0)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        pid_t pid = (pid_t)sqlite3_column_int64(st, 1);
        if (pid <= 0 || pid == getpid()) continue;
        if (kill(pid, 0) == 0 || errno != ESRCH) continue; /* alive (or not ours to probe) */
        if (stmt_step_reset(s, up, "I", (store_id)id) != 0) goto fail;
        s->interrupted_on_open++;
    }
    SQLITE_CHECK(s, rc);
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    return store_tx_commit(s);
fail:
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    store_tx_rollback(s);
    return -1;
}

/* Switch to WAL. Changing the journal mode of a new database needs an
 * exclusive lock, and SQLite answers SQLITE_BUSY there at once, without the
 * busy handler, when another process is opening the same file: so retry
 * (with a short sleep) for as long as the busy timeout. A database already
 * in WAL mode is left alone (no lock needed). */
static int set_wal(store *s) {
    const int timeout_ms = g_busy_ms, step_ms = 5;
    for (int waited = 0;; waited += step_ms) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        int wal = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
                  !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        if (wal) return 0;
        /* a row with another mode: the change did not take (a lock), retry a little */
        int limit = rc == SQLITE_ROW ? 2000 : timeout_ms;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED && rc != SQLITE_ROW) || waited >= limit) {
            if (rc == SQLITE_ROW)
                util_error("%s: cannot switch the database to WAL journal mode (another process holds it in another mode)", s->path);
            else
                util_error("%s: cannot switch the database to WAL journal mode: %s (extended code %d: %s)%s", s->path, sqlite3_errstr(rc),
                           sqlite3_extended_errcode(s->db), sqlite3_errmsg(s->db), hint_for(rc));
            return -1;
        }
        struct timespec ts = { 0, step_ms * 1000000L };
        nanosleep(&ts, NULL);
    }
}

int store_open_version(store **out, const char *path, int version) {
    *out = NULL;
    path = store_resolve_path(path);
    if (precheck_file(path) != 0) return -1;
    store *s = calloc(1, sizeof *s);
    CHECK_ALLOC(s);
    s->path = strdup(path);
    CHECK_ALLOC(s->path);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        util_error("%s: cannot open database: %s%s", path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), hint_for(rc));
        goto fail;
    }
    SQLITE_CHECK(s, sqlite3_busy_timeout(s->db, g_busy_ms));
    SQLITE_CHECK(s, sqlite3_extended_result_codes(s->db, 0));
    if (exec_sql(s, "PRAGMA foreign_keys = ON") != 0) goto fail;
    if (set_wal(s) != 0) goto fail;
    if (exec_sql(s, "PRAGMA synchronous = NORMAL") != 0) goto fail;
    if (migrate(s, version) != 0) goto fail;
    s->version = store_schema_version(s);
    if (s->version < 0) goto fail;
    if (version >= 1 && mark_stale(s) != 0) goto fail;
    *out = s;
    return 0;
fail:
    {
        /* make sure the message names the file */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", util_last_error());
        if (!strstr(msg, path)) util_error("%s: %s", path, msg);
    }
    sqlite3_close(s->db);
    free(s->path);
    free(s);
    return -1;
}

int store_open(store **out, const char *path) { return store_open_version(out, path, STORE_SCHEMA_VERSION); }

struct sqlite3 *store_sqlite(store *s) { return s->db; }
const char *store_hint(int rc) { return hint_for(rc); }
void store_set_busy_timeout_ms(int ms) { g_busy_ms = ms > 0 ? ms : 0; }

int store_integrity_check(store *s) {
    sqlite3_stmt *st = NULL;
    SQLITE_CHECK(s, sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL));
    SQLITE_CHECK(s, sqlite3_step(st));
    const char *r = (const char *)sqlite3_column_text(st, 0);
    if (!r || strcmp(r, "ok")) { util_error("%s: integrity check failed: %s", s->path, r ? r : "?"); goto fail; }
    sqlite3_finalize(st);
    SQLITE_CHECK(s, sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL));
    if (sqlite3_step(st) == SQLITE_ROW) { util_error("%s: foreign key check failed (table %s)", s->path, sqlite3_column_text(st, 0)); goto fail; }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

void store_close(store *s) {
    if (!s) return;
    if (s->tx_depth > 0) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

/* ---- writers ------------------------------------------------------------- */

static void make_uuid(char out[37]) {
    unsigned char b[16];
    int ok = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) { ok = read(fd, b, sizeof b) == (ssize_t)sizeof b; close(fd); }
    if (!ok) {
        rng_t r;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rng_seed(&r, (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40));
        for (int i = 0; i < 16; i++) b[i] = (unsigned char)rng_u64(&r);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int upsert_machine(store *s, const machine_info *m, store_id *id) {
    char *info = machine_json(m);
    int r = stmt_exec(s, NULL,
        "INSERT INTO machine(fingerprint, hostname, cpu_model, cpu_flags_hash, simd, cores, mem_bytes,"
        " blas_core, blas_config, openblas_env, gpu, gpu_driver, cuda_version, gpu_cc, compiler, os, info)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(fingerprint) DO NOTHING", "tttttiItttttttttt",
        m->fingerprint, m->hostname, m->cpu_model, m->cpu_flags_hash, m->simd, m->cores, (store_id)m->mem_bytes,
        m->blas_core, m->blas_config, m->openblas_env, m->gpu, m->gpu_driver, m->cuda_version, m->gpu_cc,
        m->compiler, m->os, info);
    if (r == 0) r = query_upserted_id(s, id, "machine", "SELECT id FROM machine WHERE fingerprint=?", "t", m->fingerprint);
    free(info);
    return r;
}

void store_override_build(store *s, const char *commit, int dirty, const char *flags) {
    s->build_override = commit != NULL;
    snprintf(s->b_commit, sizeof s->b_commit, "%s", commit ? commit : "");
    snprintf(s->b_flags, sizeof s->b_flags, "%s", flags ? flags : "");
    s->b_dirty = dirty;
}

static int upsert_build(store *s, const machine_info *m, store_id *id) {
    const char *commit = s->build_override ? s->b_commit : build_commit();
    const char *flags = s->build_override ? s->b_flags : build_flags();
    int dirty = s->build_override ? s->b_dirty : build_dirty();
    if (stmt_exec(s, NULL,
                  "INSERT INTO build(git_commit, dirty, compiler, flags) VALUES(?,?,?,?)"
                  " ON CONFLICT(git_commit, dirty, compiler, flags) DO NOTHING", "titt",
                  commit, dirty, m->compiler, flags) != 0)
        return -1;
    return query_upserted_id(s, id, "build", "SELECT id FROM build WHERE git_commit=? AND dirty=? AND compiler=? AND flags=?",
                             "titt", commit, dirty, m->compiler, flags);
}

static char *argv_json(int argc, char **argv) {
    jbuf b = {0};
    jbuf_puts(&b, "[");
    for (int i = 0; i < argc; i++) {
        if (i) jbuf_puts(&b, ",");
        jbuf_str(&b, argv[i]);
    }
    jbuf_puts(&b, "]");
    return b.p;
}

int store_run_begin_with(store *s, const machine_info *m, const char *suite, const char *preset,
                         int argc, char **argv, unsigned long long seed, const char *context_json,
                         store_id *run) {
    char *av = argv_json(argc, argv);
    char uuid[37], host[128];
    make_uuid(uuid);
    my_host(host, sizeof host);
    if (!s->have_machine) { machine_collect(&s->machine); s->have_machine = 1; }
    if (!m) m = &s->machine;
    store_id mid, bid;
    if (store_tx_begin(s)) { free(av); return -1; }
    if (upsert_machine(s, m, &mid) != 0) goto fail;
    if (upsert_build(s, m, &bid) != 0) goto fail;
    /* a v1 database (only in migration tests) has no context column */
    int v2 = s->version >= 2;
    if (stmt_exec(s, run, v2 ?
        "INSERT INTO run(uuid, suite, preset, argv, seed, machine_id, build_id, host, pid, started, status, context)"
        " VALUES(?,?,?,?,?,?,?,?,?," NOW_SQL ",'running',?)" :
        "INSERT INTO run(uuid, suite, preset, argv, seed, machine_id, build_id, host, pid, started, status)"
        " VALUES(?,?,?,?,?,?,?,?,?," NOW_SQL ",'running')", v2 ? "ttttIIItIt" : "ttttIIItI",
        uuid, suite ? suite : "unnamed", preset, av, (store_id)seed, mid, bid, host, (store_id)getpid(),
        context_json) != 0)
        goto fail;
    free(av);
    return store_tx_commit(s);
fail:
    free(av);
    store_tx_rollback(s);
    return -1;
}

int store_run_begin(store *s, const char *suite, const char *preset, int argc, char **argv,
                    unsigned long long seed, store_id *run) {
    return store_run_begin_with(s, NULL, suite, preset, argc, argv, seed, NULL, run);
}

int store_run_end(store *s, store_id run, const char *status) {
    if (!status || (strcmp(status, "ok") && strcmp(status, "failed") && strcmp(status, "interrupted"))) {
        util_error("store_run_end: status must be ok, failed or interrupted (got '%s')", status ? status : "(null)");
        return -1;
    }
    if (store_tx_begin(s)) return -1;
    if (stmt_exec(s, NULL, "UPDATE run SET status=?, finished=" NOW_SQL " WHERE id=?", "tI", status, run) != 0) goto fail;
    if (sqlite3_changes(s->db) != 1) { util_error("store_run_end: no run %lld in %s", run, s->path); goto fail; }
    return store_tx_commit(s);
fail:
    store_tx_rollback(s);
    return -1;
}

int store_run_uuid(store *s, store_id run, char uuid[37]) {
    sqlite3_stmt *st = NULL;
    if (stmt_prepare(s, &st, "SELECT uuid FROM run WHERE id=?", "I", run) != 0) goto fail;
    if (sqlite3_step(st) != SQLITE_ROW) { util_error("no run %lld in %s", run, s->path); goto fail; }
    col_copy(st, 0, uuid, 37);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

int store_case(store *s, const char *suite, const char *name, const char *params_json, store_id *cs) {
    char key[17], err[160];
    if (!suite || !name) { util_error("store_case: suite and name are required"); return -1; }
    if (store_case_key(suite, name, params_json, key) != 0) return -1;
    char *canon = json_canonical(params_json, err, sizeof err);
    if (store_tx_begin(s)) { free(canon); return -1; }
    int r = stmt_exec(s, NULL,
        "INSERT INTO bench_case(case_key, suite, name, params) VALUES(?,?,?,?) ON CONFLICT(case_key) DO NOTHING", "tttt",
        key, suite, name, canon);
    if (r == 0) r = query_upserted_id(s, cs, "case", "SELECT id FROM bench_case WHERE case_key=?", "t", key);
    free(canon);
    if (r != 0) { store_tx_rollback(s); return -1; }
    return store_tx_commit(s);
}

static int insert_result(store *s, store_id run, store_id cs, const char *metric, const char *unit,
                         int flags, const stats_summary *sm, store_id *rid) {
    if (stmt_exec(s, NULL, "DELETE FROM result WHERE run_id=? AND case_id=? AND metric=?", "IIt", run, cs, metric) != 0)
        return -1;
    return stmt_exec(s, rid,
        "INSERT INTO result(run_id, case_id, metric, unit, direction, deterministic, n, median, mean, stddev, mad, min, max)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", "IItttiirrrrrr",
        run, cs, metric, unit ? unit : "", (flags & STORE_HIGHER) ? "higher" : "lower",
        (flags & STORE_DETERMINISTIC) ? 1 : 0, sm->n, sm->median, sm->mean, sm->stddev, sm->mad, sm->min, sm->max);
}

/* busy (unless NULL or !ok) into result.busy / steal of result rid. */
static int set_busy(store *s, store_id rid, const busy_result *busy) {
    if (!busy || !busy->ok || s->version < 3) return 0;
    return stmt_exec(s, NULL, "UPDATE result SET busy=?, steal=? WHERE id=?", "rrI", busy->others, busy->steal, rid);
}

int store_result_samples(store *s, store_id run, store_id cs, const char *metric, const char *unit,
                         int flags, const double *samples, int n) {
    return store_result_samples_busy(s, run, cs, metric, unit, flags, samples, n, NULL);
}

int store_result_samples_busy(store *s, store_id run, store_id cs, const char *metric, const char *unit,
                              int flags, const double *samples, int n, const busy_result *busy) {
    sqlite3_stmt *st = NULL;
    if (!metric || n < 0 || (n > 0 && !samples)) { util_error("store_result_samples: bad arguments"); return -1; }
    stats_summary sm = stats_summarize(samples, n);
    store_id rid;
    if (store_tx_begin(s)) return -1;
    if (insert_result(s, run, cs, metric, unit, flags, &sm, &rid) != 0) goto fail;
    if (set_busy(s, rid, busy) != 0) goto fail;
    if (stmt_prepare(s, &st, "INSERT INTO sample(result_id, rep, value) VALUES(?,?,?)", "") != 0) goto fail;
    for (int i = 0; i < n; i++)
        if (stmt_step_reset(s, st, "Iir", rid, i, samples[i]) != 0) goto fail;
    sqlite3_finalize(st);
    return store_tx_commit(s);
fail:
    sqlite3_finalize(st);
    store_tx_rollback(s);
    return -1;
}

int store_result_aggregate(store *s, store_id run, store_id cs, const char *metric, const char *unit,
                           int flags, int n, double median, double mean, double stddev, double mad,
                           double min, double max, const busy_result *busy) {
    stats_summary sm = {n, median, mean, stddev, mad, min, max};
    store_id rid;
    if (store_tx_begin(s)) return -1;
    if (insert_result(s, run, cs, metric, unit, flags, &sm, &rid) != 0 || set_busy(s, rid, busy) != 0) {
        store_tx_rollback(s);
        return -1;
    }
    return store_tx_commit(s);
}

int store_result_count(store *s, store_id run, store_id cs, const char *metric, int flags, long successes, long trials) {
    if (!metric || trials < 0 || successes < 0 || successes > trials) {
        util_error("store_result_count %s: need 0 <= successes (%ld) <= trials (%ld)", metric ? metric : "?", successes, trials);
        return -1;
    }
    if (s->version < 4) { util_error("store_result_count: database schema %d predates counted results", s->version); return -1; }
    double v = trials > 0 ? (double)successes / (double)trials : NAN;
    store_id rid;
    if (store_tx_begin(s)) return -1;
    if (store_result_samples(s, run, cs, metric, "fraction", flags | STORE_DETERMINISTIC, &v, 1) != 0 ||
        query_upserted_id(s, &rid, "result", "SELECT id FROM result WHERE run_id=? AND case_id=? AND metric=?", "IIt", run,
                          cs, metric) != 0 ||
        stmt_exec(s, NULL, "UPDATE result SET successes=?, trials=? WHERE id=?", "III",
                  (store_id)successes, (store_id)trials, rid) != 0) {
        store_tx_rollback(s);
        return -1;
    }
    return store_tx_commit(s);
}

int store_curve(store *s, store_id run, store_id cs, const char *name, const char *series,
                const double *xs, const double *ys, int n) {
    sqlite3_stmt *st = NULL;
    if (!name || !series || n < 0 || (n > 0 && (!xs || !ys))) { util_error("store_curve: bad arguments"); return -1; }
    if (store_tx_begin(s)) return -1;
    if (stmt_prepare(s, &st, "INSERT INTO curve(run_id, case_id, name, series, x, y) VALUES(?,?,?,?,?,?)", "") != 0) goto fail;
    for (int i = 0; i < n; i++) {
        if (isnan(xs[i])) continue; /* so x binds as a number, never NULL */
        if (stmt_step_reset(s, st, "INttrr", run, cs, name, series, xs[i], ys[i]) != 0) goto fail;
    }
    sqlite3_finalize(st);
    return store_tx_commit(s);
fail:
    sqlite3_finalize(st);
    store_tx_rollback(s);
    return -1;
}

int store_claim(store *s, store_id run, const char *suite, const char *claim, const char *measured,
                const char *verdict) {
    return tx_exec(s, NULL,
        "INSERT INTO claim(run_id, suite, claim, measured, verdict, created) VALUES(?,?,?,?,?," NOW_SQL ")", "Itttt",
        run, suite ? suite : "", claim ? claim : "", measured ? measured : "", verdict);
}

int store_claim_judged(store *s, store_id run, const char *suite, const char *claim_id, const char *statement,
                       const char *measured, const char *verdict, const char *rule_json, const char *inputs_json,
                       const char *why) {
    if (s->version < 3) return store_claim(s, run, suite, statement, measured, verdict);
    return tx_exec(s, NULL,
        "INSERT INTO claim(run_id, suite, claim, measured, verdict, created, claim_id, rule, inputs, why)"
        " VALUES(?,?,?,?,?," NOW_SQL ",?,?,?,?)", "Itttttttt",
        run, suite ? suite : "", statement ? statement : "", measured ? measured : "", verdict, claim_id, rule_json,
        inputs_json, why);
}

int store_case_failed(store *s, store_id run, store_id cs, const char *reason) {
    if (s->version < 3) { util_error("store_case_failed: database schema %d predates case_failure", s->version); return -1; }
    return tx_exec(s, NULL, "INSERT INTO case_failure(run_id, case_id, reason, created) VALUES(?,?,?," NOW_SQL ")", "INt",
                   run, cs, reason ? reason : "");
}

int store_baseline_set(store *s, const char *name, store_id run) {
    return tx_exec(s, NULL,
        "INSERT INTO baseline(name, run_id, created) VALUES(?,?," NOW_SQL ")"
        " ON CONFLICT(name) DO UPDATE SET run_id=excluded.run_id, created=excluded.created", "tI", name, run);
}

/* ---- queries ------------------------------------------------------------- */

int store_run_resolve(store *s, const char *spec, store_id *run) {
    sqlite3_stmt *st = NULL;
    if (!spec || !*spec) spec = "latest";
    int digits = 1;
    for (const char *p = spec; *p; p++) if (*p < '0' || *p > '9') digits = 0;
    if (!strcmp(spec, "latest") || !strcmp(spec, "latest-ok")) {
        int r = query_id(s, run, !strcmp(spec, "latest") ? "SELECT max(id) FROM run"
                                 : "SELECT max(id) FROM run WHERE status='ok'", "");
        if (r > 0) util_error("no runs in %s yet", s->path);
        return r == 0 ? 0 : -1;
    }
    if (digits) {
        int r = query_id(s, run, "SELECT id FROM run WHERE id=?", "I", (store_id)strtoll(spec, NULL, 10));
        if (r <= 0) return r;
    }
    if (strlen(spec) < 4 || strspn(spec, "0123456789abcdefABCDEF-") != strlen(spec)) {
        util_error("no run '%s' in %s (RUN is an id, a uuid prefix of 4+ hex digits, or 'latest')", spec, s->path);
        return -1;
    }
    if (stmt_prepare(s, &st, "SELECT id FROM run WHERE uuid LIKE ? || '%' LIMIT 2", "t", spec) != 0) return -1;
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW) { *run = sqlite3_column_int64(st, 0); found++; }
    sqlite3_finalize(st);
    if (found == 0) { util_error("no run '%s' in %s", spec, s->path); return -1; }
    if (found > 1) { util_error("run prefix '%s' is ambiguous in %s; give more digits", spec, s->path); return -1; }
    return 0;
}

int store_baseline_get(store *s, const char *name, store_id *run) {
    return query_id(s, run, "SELECT run_id FROM baseline WHERE name=?", "t", name);
}

int store_last_run_id(store *s, store_id *run) {
    *run = 0;
    return query_id(s, run, "SELECT coalesce(max(id),0) FROM run", "") < 0 ? -1 : 0;
}

int store_run_get(store *s, store_id run, store_run_info *ri) {
    sqlite3_stmt *st = NULL;
    memset(ri, 0, sizeof *ri);
    if (stmt_prepare(s, &st,
        "SELECT r.id, r.uuid, r.suite, coalesce(r.preset,''), r.status, r.started, coalesce(r.finished,''),"
        " m.fingerprint, b.git_commit, b.dirty, coalesce(r.host,''), coalesce(r.seed,0),"
        " (SELECT count(*) FROM result WHERE run_id=r.id), (SELECT count(DISTINCT name||'|'||series) FROM curve WHERE run_id=r.id)"
        " FROM run r JOIN machine m ON m.id=r.machine_id JOIN build b ON b.id=r.build_id WHERE r.id=?", "I", run) != 0) goto fail;
    if (sqlite3_step(st) != SQLITE_ROW) { util_error("no run %lld in %s", run, s->path); goto fail; }
    ri->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, ri->uuid, sizeof ri->uuid);
    col_copy(st, 2, ri->suite, sizeof ri->suite);
    col_copy(st, 3, ri->preset, sizeof ri->preset);
    col_copy(st, 4, ri->status, sizeof ri->status);
    col_copy(st, 5, ri->started, sizeof ri->started);
    col_copy(st, 6, ri->finished, sizeof ri->finished);
    col_copy(st, 7, ri->fingerprint, sizeof ri->fingerprint);
    col_copy(st, 8, ri->commit, sizeof ri->commit);
    ri->dirty = sqlite3_column_int(st, 9);
    col_copy(st, 10, ri->host, sizeof ri->host);
    ri->seed = sqlite3_column_int64(st, 11);
    ri->n_results = sqlite3_column_int(st, 12);
    ri->n_curves = sqlite3_column_int(st, 13);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

int store_list_runs(store *s, FILE *f, int limit, const char *suite) {
    sqlite3_stmt *st = NULL;
    if (stmt_prepare(s, &st,
        "SELECT r.id, substr(r.uuid,1,8), r.suite, coalesce(r.preset,''), r.status, r.started,"
        " b.git_commit || CASE WHEN b.dirty THEN '+' ELSE '' END, m.fingerprint,"
        " (SELECT count(*) FROM result WHERE run_id=r.id), (SELECT count(*) FROM curve WHERE run_id=r.id)"
        " FROM run r JOIN machine m ON m.id=r.machine_id JOIN build b ON b.id=r.build_id"
        " WHERE (?1 IS NULL OR r.suite=?1) ORDER BY r.id DESC LIMIT ?2", "ti", suite, limit > 0 ? limit : 1000000) != 0)
        goto fail;

    fprintf(f, "%5s  %-8s  %-12s  %-7s  %-11s  %-20s  %-14s  %-16s  %7s  %6s\n", "id", "uuid", "suite", "preset",
            "status", "started (UTC)", "commit", "machine", "results", "points");
    int rc, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(f, "%5lld  %-8s  %-12s  %-7s  %-11s  %-20s  %-14s  %-16s  %7d  %6d\n",
                (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                sqlite3_column_text(st, 3), sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
                sqlite3_column_text(st, 6), sqlite3_column_text(st, 7), sqlite3_column_int(st, 8),
                sqlite3_column_int(st, 9));
        rows++;
    }
    SQLITE_CHECK(s, rc);
    if (rows == 0) fprintf(f, "(no runs in %s yet)\n", s->path);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

int store_show_run(store *s, FILE *f, store_id run) {
    sqlite3_stmt *st = NULL;
    store_run_info ri;
    if (store_run_get(s, run, &ri) != 0) return -1;
    if (stmt_prepare(s, &st,
        "SELECT r.argv, m.cpu_model, m.cores, m.blas_core, m.gpu, m.compiler, b.flags"
        " FROM run r JOIN machine m ON m.id=r.machine_id JOIN build b ON b.id=r.build_id WHERE r.id=?", "I", run) != 0) goto fail;
    SQLITE_CHECK(s, sqlite3_step(st));
    fprintf(f, "run %lld  %s\n  suite %s  preset %s  status %s  seed %lld\n  started %s  finished %s\n",
            ri.id, ri.uuid, ri.suite, ri.preset[0] ? ri.preset : "-", ri.status, ri.seed, ri.started,
            ri.finished[0] ? ri.finished : "-");
    fprintf(f, "  argv %s\n  machine %s: %s, %d cores, BLAS %s%s%s\n  build %s%s  %s  %s\n",
            sqlite3_column_text(st, 0), ri.fingerprint, sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
            sqlite3_column_text(st, 3), sqlite3_column_text(st, 4)[0] ? ", GPU " : "", sqlite3_column_text(st, 4),
            ri.commit, ri.dirty ? "+dirty" : "", sqlite3_column_text(st, 5), sqlite3_column_text(st, 6));
    sqlite3_finalize(st);
    if (stmt_prepare(s, &st,
        "SELECT c.name, c.params, r.metric, r.n, r.median, r.mad, r.min, r.max, r.unit, r.direction, r.deterministic"
        " FROM result r JOIN bench_case c ON c.id=r.case_id WHERE r.run_id=? ORDER BY c.name, c.params, r.metric", "I", run) != 0) goto fail;
    fprintf(f, "\n%-28s %-34s %-18s %3s %12s %10s %12s %12s  %s\n", "case", "params", "metric", "n", "median", "mad",
            "min", "max", "unit");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(f, "%-28.28s %-34.34s %-18.18s %3d %12.5g %10.3g %12.5g %12.5g  %s%s%s\n", sqlite3_column_text(st, 0),
                sqlite3_column_text(st, 1), sqlite3_column_text(st, 2), sqlite3_column_int(st, 3), col_real(st, 4),
                col_real(st, 5), col_real(st, 6), col_real(st, 7), sqlite3_column_text(st, 8),
                !strcmp((const char *)sqlite3_column_text(st, 9), "higher") ? " (higher better)" : "",
                sqlite3_column_int(st, 10) ? " det" : "");
    }
    SQLITE_CHECK(s, rc);
    sqlite3_finalize(st);
    if (stmt_prepare(s, &st,
        "SELECT name, series, count(*), min(x), max(x) FROM curve WHERE run_id=? GROUP BY name, series ORDER BY name, series", "I", run) != 0) goto fail;
    int first = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (first) { fprintf(f, "\ncurves:\n"); first = 0; }
        fprintf(f, "  %-28s %-28s %5d points, x %g..%g\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                sqlite3_column_int(st, 2), col_real(st, 3), col_real(st, 4));
    }
    SQLITE_CHECK(s, rc);
    sqlite3_finalize(st);
    if (stmt_prepare(s, &st, "SELECT verdict, claim, measured FROM claim WHERE run_id=? ORDER BY id", "I", run) != 0) goto fail;
    first = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (first) { fprintf(f, "\npaper claims:\n"); first = 0; }
        fprintf(f, "  [%s] %s\n      measured: %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                sqlite3_column_text(st, 2));
    }
    SQLITE_CHECK(s, rc);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

static void csv_field(FILE *f, const char *t) {
    if (!t) t = "";
    if (!strpbrk(t, ",\"\n\r")) { fputs(t, f); return; }
    fputc('"', f);
    for (; *t; t++) { if (*t == '"') fputc('"', f); fputc(*t, f); }
    fputc('"', f);
}

static void csv_real(FILE *f, double x) {
    if (!isnan(x)) fprintf(f, "%.17g", x);
}

/* Append one JSON object per row of sql (its one parameter bound to run) to
 * b, comma separated: "keys[i]": column i as a JSON string, or as it is
 * (already JSON) where bit i of raw is set. */
static int json_rows(store *s, jbuf *b, const char *sql, store_id run, const char *const *keys, int nkeys,
                     unsigned raw) {
    sqlite3_stmt *st;
    if (stmt_prepare(s, &st, sql, "I", run) != 0) return -1;
    int rc, first = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!first) jbuf_puts(b, ",");
        first = 0;
        for (int i = 0; i < nkeys; i++) {
            jbuf_puts(b, i ? "," : "{");
            jbuf_str(b, keys[i]);
            jbuf_puts(b, ":");
            const char *v = (const char *)sqlite3_column_text(st, i);
            if (raw & (1u << i)) jbuf_puts(b, v);
            else jbuf_str(b, v);
        }
        jbuf_puts(b, "}");
    }
    SQLITE_CHECK(s, rc);
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

/* json: 0 csv results, 1 json (everything), 2 csv curves */
int store_export_run(store *s, FILE *f, store_id run, int fmt) {
    sqlite3_stmt *st = NULL, *sm = NULL;
    store_run_info ri;
    jbuf b = {0};
    if (store_run_get(s, run, &ri) != 0) return -1;
    if (fmt == 2) {
        if (stmt_prepare(s, &st, "SELECT name, series, x, y FROM curve WHERE run_id=? ORDER BY name, series, x", "I", run) != 0) goto fail;
        fprintf(f, "run,name,series,x,y\n");
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fprintf(f, "%s,", ri.uuid);
            csv_field(f, (const char *)sqlite3_column_text(st, 0)); fputc(',', f);
            csv_field(f, (const char *)sqlite3_column_text(st, 1)); fputc(',', f);
            csv_real(f, col_real(st, 2)); fputc(',', f);
            csv_real(f, col_real(st, 3)); fputc('\n', f);
        }
        SQLITE_CHECK(s, rc);
        sqlite3_finalize(st);
        return 0;
    }
    if (stmt_prepare(s, &st,
        "SELECT r.id, c.suite, c.name, c.params, c.case_key, r.metric, r.unit, r.direction, r.deterministic, r.n,"
        " r.median, r.mean, r.stddev, r.mad, r.min, r.max, r.busy, r.steal, r.successes, r.trials"
        " FROM result r JOIN bench_case c ON c.id=r.case_id WHERE r.run_id=? ORDER BY c.name, c.params, r.metric", "I", run) != 0) goto fail;
    if (stmt_prepare(s, &sm, "SELECT value FROM sample WHERE result_id=? ORDER BY rep", "") != 0) goto fail;
    /* busy/steal: the fraction of the machine other processes took while the
     * case was timed; successes/trials: a counted accuracy's counts */
    static const char *cols[] = {"suite", "case", "params", "case_key", "metric", "unit", "direction", "deterministic", "n",
                                 "median", "mean", "stddev", "mad", "min", "max", "busy", "steal", "successes", "trials"};
    enum { NCOLS = (int)(sizeof cols / sizeof *cols) };
    int rc;
    if (!fmt) {
        fprintf(f, "run,commit,machine");
        for (int i = 0; i < NCOLS; i++) fprintf(f, ",%s", cols[i]);
        fputc('\n', f);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fprintf(f, "%s,%s%s,%s", ri.uuid, ri.commit, ri.dirty ? "+dirty" : "", ri.fingerprint);
            for (int i = 1; i <= NCOLS; i++) {
                fputc(',', f);
                if (i >= 10) csv_real(f, col_real(st, i));
                else csv_field(f, (const char *)sqlite3_column_text(st, i));
            }
            fputc('\n', f);
        }
        SQLITE_CHECK(s, rc);
        sqlite3_finalize(st);
        sqlite3_finalize(sm);
        return 0;
    }
    jbuf_puts(&b, "{\"run\":{");
    jbuf_printf(&b, "\"id\":%lld,\"uuid\":", ri.id); jbuf_str(&b, ri.uuid);
    jbuf_puts(&b, ",\"suite\":"); jbuf_str(&b, ri.suite);
    jbuf_puts(&b, ",\"preset\":"); jbuf_str(&b, ri.preset);
    jbuf_puts(&b, ",\"status\":"); jbuf_str(&b, ri.status);
    jbuf_puts(&b, ",\"started\":"); jbuf_str(&b, ri.started);
    jbuf_puts(&b, ",\"finished\":"); jbuf_str(&b, ri.finished);
    jbuf_printf(&b, ",\"seed\":%lld,\"commit\":", ri.seed); jbuf_str(&b, ri.commit);
    jbuf_printf(&b, ",\"dirty\":%s,\"machine_fingerprint\":", ri.dirty ? "true" : "false"); jbuf_str(&b, ri.fingerprint);
    {
        sqlite3_stmt *q = NULL;
        if (stmt_prepare(s, &q,
            "SELECT r.argv, coalesce(m.info,'{}'), b.compiler, b.flags FROM run r JOIN machine m ON m.id=r.machine_id"
            " JOIN build b ON b.id=r.build_id WHERE r.id=?", "I", run) != 0)
            goto fail;
        if (sqlite3_step(q) == SQLITE_ROW) {
            jbuf_puts(&b, ",\"argv\":"); jbuf_puts(&b, (const char *)sqlite3_column_text(q, 0));
            jbuf_puts(&b, ",\"machine\":"); jbuf_puts(&b, (const char *)sqlite3_column_text(q, 1));
            jbuf_puts(&b, ",\"compiler\":"); jbuf_str(&b, (const char *)sqlite3_column_text(q, 2));
            jbuf_puts(&b, ",\"flags\":"); jbuf_str(&b, (const char *)sqlite3_column_text(q, 3));
        }
        sqlite3_finalize(q);
    }
    jbuf_puts(&b, "},\"results\":[");
    int first = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!first) jbuf_puts(&b, ",");
        first = 0;
        jbuf_puts(&b, "{");
        for (int i = 1; i <= NCOLS; i++) {
            if (i > 1) jbuf_puts(&b, ",");
            jbuf_str(&b, cols[i - 1]);
            jbuf_puts(&b, ":");
            if (i == 3) jbuf_puts(&b, (const char *)sqlite3_column_text(st, i)); /* params are JSON already */
            else if (i == 8) jbuf_puts(&b, sqlite3_column_int(st, i) ? "true" : "false");
            else if (i == 9) jbuf_printf(&b, "%d", sqlite3_column_int(st, i));
            else if (i >= 10) jbuf_num(&b, col_real(st, i));
            else jbuf_str(&b, (const char *)sqlite3_column_text(st, i));
        }
        jbuf_puts(&b, ",\"samples\":[");
        SQLITE_CHECK(s, sqlite3_bind_int64(sm, 1, sqlite3_column_int64(st, 0)));
        int k = 0, rc2;
        while ((rc2 = sqlite3_step(sm)) == SQLITE_ROW) {
            if (k++) jbuf_puts(&b, ",");
            jbuf_num(&b, col_real(sm, 0));
        }
        SQLITE_CHECK(s, rc2);
        SQLITE_CHECK(s, sqlite3_reset(sm));
        jbuf_puts(&b, "]}");
    }
    SQLITE_CHECK(s, rc);
    static const char *const curve_keys[] = {"name", "series", "x", "y"};
    static const char *const claim_keys[] = {"suite", "claim", "measured", "verdict"};
    jbuf_puts(&b, "],\"curves\":[");
    if (json_rows(s, &b, "SELECT name, series, json_group_array(x), json_group_array(y) FROM"
                  " (SELECT name, series, x, y FROM curve WHERE run_id=? ORDER BY name, series, x) GROUP BY name, series",
                  run, curve_keys, 4, 0xc) != 0)
        goto fail;
    jbuf_puts(&b, "],\"claims\":[");
    if (json_rows(s, &b, "SELECT suite, claim, measured, verdict FROM claim WHERE run_id=? ORDER BY id", run, claim_keys, 4,
                  0) != 0)
        goto fail;
    jbuf_puts(&b, "]}\n");
    fputs(b.p, f);
    jbuf_free(&b);
    sqlite3_finalize(st);
    sqlite3_finalize(sm);
    return 0;
fail:
    jbuf_free(&b);
    sqlite3_finalize(st);
    sqlite3_finalize(sm);
    return -1;
}

static char *ids_json(const store_id *runs, int n) {
    jbuf b = {0};
    jbuf_puts(&b, "[");
    for (int i = 0; i < n; i++) jbuf_printf(&b, "%s%lld", i ? "," : "", (long long)runs[i]);
    jbuf_puts(&b, "]");
    return b.p;
}

void store_metrics_free(store_metric *m, int n) {
    if (!m) return;
    for (int i = 0; i < n; i++) { free(m[i].params); free(m[i].samples); }
    free(m);
}

/* The verdict of the newest rolling check of the result's run for its case
 * and metric, and whether an acceptance covers the result. */
#define VERDICT_SQL                                                                                       \
    "(SELECT f.verdict FROM finding f JOIN checks k ON k.id=f.check_id WHERE k.run_id=r.run_id AND k.rolling=1" \
    " AND f.case_id=r.case_id AND f.metric=r.metric ORDER BY f.id DESC LIMIT 1)"
#define ACCEPTED_SQL                                                                              \
    "EXISTS (SELECT 1 FROM acceptance a WHERE a.run_id=r.run_id AND (a.case_id IS NULL OR a.case_id=r.case_id)" \
    " AND (a.metric IS NULL OR a.metric=r.metric))"

int store_load_metrics(store *s, const store_id *runs, int nruns, store_metric **out, int *nout) {
    sqlite3_stmt *st = NULL, *sm = NULL;
    store_metric *ms = NULL;
    int n = 0, cap = 0;
    char *ids = ids_json(runs, nruns);
    *out = NULL;
    *nout = 0;
    if (stmt_prepare(s, &st,
        "SELECT r.id, c.id, c.case_key, c.suite, c.name, c.params, r.metric, r.unit, r.direction, r.deterministic,"
        " r.n, r.median, r.mad, r.run_id, r.busy, r.steal, r.successes, r.trials, " VERDICT_SQL ", " ACCEPTED_SQL
        " FROM result r JOIN bench_case c ON c.id=r.case_id"
        " WHERE r.run_id IN (SELECT value FROM json_each(?)) ORDER BY c.case_key, r.metric, r.run_id", "t", ids) != 0 ||
        stmt_prepare(s, &sm, "SELECT value FROM sample WHERE result_id=? AND value IS NOT NULL ORDER BY rep", "") != 0)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ms = realloc(ms, sizeof *ms * (size_t)cap);
            CHECK_ALLOC(ms);
        }
        store_metric *m = &ms[n++];
        memset(m, 0, sizeof *m);
        m->result_id = sqlite3_column_int64(st, 0);
        m->case_id = sqlite3_column_int64(st, 1);
        col_copy(st, 2, m->case_key, sizeof m->case_key);
        col_copy(st, 3, m->suite, sizeof m->suite);
        col_copy(st, 4, m->name, sizeof m->name);
        m->params = strdup((const char *)sqlite3_column_text(st, 5));
        CHECK_ALLOC(m->params);
        col_copy(st, 6, m->metric, sizeof m->metric);
        col_copy(st, 7, m->unit, sizeof m->unit);
        m->flags = (!strcmp((const char *)sqlite3_column_text(st, 8), "higher") ? STORE_HIGHER : STORE_LOWER) |
                   (sqlite3_column_int(st, 9) ? STORE_DETERMINISTIC : 0);
        m->n = sqlite3_column_int(st, 10);
        m->median = col_real(st, 11);
        m->mad = col_real(st, 12);
        m->run_id = sqlite3_column_int64(st, 13);
        m->busy = col_real(st, 14);
        m->steal = col_real(st, 15);
        m->successes = sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 16);
        m->trials = sqlite3_column_type(st, 17) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 17);
        col_copy(st, 18, m->last_verdict, sizeof m->last_verdict);
        m->accepted = sqlite3_column_int(st, 19);
        SQLITE_CHECK(s, sqlite3_bind_int64(sm, 1, m->result_id));
        int rc2;
        while ((rc2 = sqlite3_step(sm)) == SQLITE_ROW) {
            m->samples = realloc(m->samples, sizeof(double) * (size_t)(m->ns + 1));
            CHECK_ALLOC(m->samples);
            m->samples[m->ns++] = sqlite3_column_double(sm, 0);
        }
        SQLITE_CHECK(s, rc2);
        SQLITE_CHECK(s, sqlite3_reset(sm));
    }
    SQLITE_CHECK(s, rc);
    sqlite3_finalize(st);
    sqlite3_finalize(sm);
    free(ids);
    *out = ms;
    *nout = n;
    return 0;
fail:
    sqlite3_finalize(st);
    sqlite3_finalize(sm);
    free(ids);
    store_metrics_free(ms, n);
    return -1;
}

int store_recent_runs(store *s, const char *suite, const char *fingerprint, store_id before, int k,
                      store_id *runs, int *n) {
    sqlite3_stmt *st;
    *n = 0;
    if (stmt_prepare(s, &st,
        "SELECT r.id FROM run r JOIN machine m ON m.id=r.machine_id WHERE r.status='ok' AND r.id<?1 AND r.suite=?2"
        " AND (?3 IS NULL OR m.fingerprint=?3) ORDER BY r.id DESC LIMIT ?4", "Itti", before, suite, fingerprint, k) != 0)
        return -1;
    return collect_ids(s, st, runs, k, n);
}

int store_runs_after(store *s, store_id after, store_id *runs, int max, int *n) {
    sqlite3_stmt *st;
    *n = 0;
    if (stmt_prepare(s, &st, "SELECT id FROM run WHERE id>? AND status='ok' ORDER BY id", "I", after) != 0) return -1;
    return collect_ids(s, st, runs, max, n);
}

int store_latest_with_results(store *s, const char *suite, store_id *run) {
    return query_id(s, run,
                    "SELECT max(r.id) FROM run r WHERE r.status='ok' AND (?1 IS NULL OR r.suite=?1)"
                    " AND EXISTS (SELECT 1 FROM result x WHERE x.run_id=r.id)", "t", suite);
}

int store_check_begin(store *s, store_id run, const char *baseline_desc, int rolling, const char *rule_json,
                      store_id *check) {
    return tx_exec(s, check, "INSERT INTO checks(run_id, baseline, created, rolling, rule) VALUES(?,?," NOW_SQL ",?,?)",
                   "Itit", run, baseline_desc, rolling ? 1 : 0, rule_json);
}

int store_check_finding(store *s, store_id check, const store_finding *f) {
    return tx_exec(s, NULL,
        "INSERT INTO finding(check_id, case_id, metric, base_median, new_median, ratio, threshold, p, verdict, lo, hi, q, reason)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", "IItrrrrrtrrrt",
        check, f->case_id, f->metric, f->base, f->now, f->ratio, f->threshold, f->p, f->verdict, f->lo, f->hi, f->q,
        f->reason);
}

int store_check_end(store *s, store_id check, int exit_code, int n_regressions) {
    return tx_exec(s, NULL, "UPDATE checks SET exit_code=?, n_regressions=? WHERE id=?", "iiI",
                   exit_code, n_regressions, check);
}

int store_accept(store *s, store_id run, const char *case_spec, const char *metric, const char *reason, int *n_rules,
                 int *n_flagged) {
    sqlite3_stmt *st = NULL;
    *n_rules = *n_flagged = 0;
    if (store_tx_begin(s)) return -1;
    if (!case_spec) {
        if (stmt_exec(s, NULL, "INSERT INTO acceptance(run_id, case_id, metric, reason, created) VALUES(?,NULL,?,?," NOW_SQL ")",
                      "Itt", run, metric, reason) != 0)
            goto fail;
        *n_rules = 1;
    } else {
        /* one row per case of this run that matches by name or case key */
        if (stmt_prepare(s, &st,
            "SELECT DISTINCT c.id FROM result r JOIN bench_case c ON c.id=r.case_id WHERE r.run_id=?1"
            " AND (c.name=?2 OR c.case_key=?2) AND (?3 IS NULL OR r.metric=?3)", "Itt", run, case_spec, metric) != 0)
            goto fail;
        int rc;
        store_id ids[4096];
        int nid = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && nid < 4096) ids[nid++] = sqlite3_column_int64(st, 0);
        SQLITE_CHECK(s, rc);
        sqlite3_finalize(st);
        st = NULL;
        for (int i = 0; i < nid; i++)
            if (stmt_exec(s, NULL, "INSERT INTO acceptance(run_id, case_id, metric, reason, created) VALUES(?,?,?,?," NOW_SQL ")",
                          "IItt", run, ids[i], metric, reason) != 0)
                goto fail;
        *n_rules = nid;
    }
    {
        store_id cnt = 0;
        if (query_id(s, &cnt,
                     "SELECT count(*) FROM result r WHERE r.run_id=? AND " ACCEPTED_SQL " AND " VERDICT_SQL
                     " IN ('regressed','REGRESSION')", "I", run) < 0)
            goto fail;
        *n_flagged = (int)cnt;
    }
    return store_tx_commit(s);
fail:
    sqlite3_finalize(st);
    store_tx_rollback(s);
    return -1;
}

int store_list_baselines(store *s, FILE *f) {
    sqlite3_stmt *st = NULL;
    if (stmt_prepare(s, &st, "SELECT b.name, b.run_id, r.suite, substr(r.uuid,1,8), b.created FROM baseline b"
                             " JOIN run r ON r.id=b.run_id ORDER BY b.name", "") != 0)
        goto fail;
    int rc, rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows++) fprintf(f, "named baselines:\n");
        fprintf(f, "  %-20s run %lld (%s, %s), set %s\n", sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
                sqlite3_column_text(st, 2), sqlite3_column_text(st, 3), sqlite3_column_text(st, 4));
    }
    SQLITE_CHECK(s, rc);
    if (!rows) fprintf(f, "named baselines: none (griffin baseline set NAME RUN)\n");
    sqlite3_finalize(st);
    if (stmt_prepare(s, &st, "SELECT a.run_id, coalesce(c.name || ' ' || c.params, 'every case'), coalesce(a.metric, 'every metric'),"
                             " coalesce(a.reason,''), a.created FROM acceptance a LEFT JOIN bench_case c ON c.id=a.case_id"
                             " ORDER BY a.id", "") != 0)
        goto fail;
    rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows++) fprintf(f, "accepted into the rolling baseline:\n");
        fprintf(f, "  run %lld: %s, %s%s%s (%s)\n", (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
                sqlite3_column_text(st, 2), sqlite3_column_text(st, 3)[0] ? ": " : "", sqlite3_column_text(st, 3),
                sqlite3_column_text(st, 4));
    }
    SQLITE_CHECK(s, rc);
    if (!rows) fprintf(f, "accepted into the rolling baseline: nothing yet (griffin baseline accept RUN)\n");
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

#else /* !HAVE_SQLITE: every entry point fails with the reason */

#define NO_SQLITE_MSG "griffin was built without SQLite: apt-get install libsqlite3-dev, then rebuild"
const char *store_resolve_path(const char *path) {
    if (path && *path) return path;
    const char *e = getenv("GRIFFIN_DB");
    return (e && *e) ? e : STORE_DEFAULT_PATH;
}
int store_open(store **out, const char *path) { (void)path; *out = NULL; util_error(NO_SQLITE_MSG); return -1; }
int store_open_version(store **out, const char *path, int v) { (void)v; return store_open(out, path); }
int store_integrity_check(store *s) { (void)s; util_error(NO_SQLITE_MSG); return -1; }
void store_close(store *s) { (void)s; }
void store_override_build(store *s, const char *commit, int dirty, const char *flags) { (void)s; (void)commit; (void)dirty; (void)flags; }
#endif
