/* merge.c — see merge.h. The SQL is generic over the columns of the
 * current schema (PRAGMA table_info) and its foreign keys (PRAGMA
 * foreign_key_list), so a column added by a later migration is carried
 * without changes here; a table this file does not know stops the merge
 * with an error instead of being left behind.
 */
#include "merge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

#ifdef HAVE_SQLITE
#include <sqlite3.h>

/* How each table is merged, in dependency order (parents first).
 *  KEY:   natural key (the columns listed): added when missing, else matched.
 *  RUN:   matched by uuid; only runs missing from the target and not
 *         `running` are added, under new ids.
 *  ROWS:  rows whose parents were added (a row of a skipped run is skipped),
 *         under new ids where the table has an id.
 *  NAMED: the baseline table: name -> run, added when the name is free. */
typedef enum { T_KEY, T_RUN, T_ROWS, T_NAMED } tkind;
/* late: rows that can be added to a run after it has finished (a check of
 * it, an acceptance): also taken for runs already in the target, unless the
 * target has the same row (every column equal, parents by identity). */
static const struct {
    const char *name;
    tkind kind;
    const char *key[5];
    int late;
} TABLES[] = {
    {"machine", T_KEY, {"fingerprint"}},
    {"build", T_KEY, {"git_commit", "dirty", "compiler", "flags"}},
    {"bench_case", T_KEY, {"case_key"}},
    {"run", T_RUN, {"uuid"}},
    {"result", T_ROWS, {0}},
    {"sample", T_ROWS, {0}},
    {"curve", T_ROWS, {0}},
    {"claim", T_ROWS, {0}},
    {"checks", T_ROWS, {0}, 1},
    {"finding", T_ROWS, {0}},
    {"acceptance", T_ROWS, {0}, 1},
    {"case_failure", T_ROWS, {0}},
    {"baseline", T_NAMED, {"name"}},
};
#define NTABLES ((int)(sizeof TABLES / sizeof TABLES[0]))
enum { MAXCOLS = 64 };

typedef struct {
    int n, has_id;
    char name[MAXCOLS][64];
    int parent[MAXCOLS]; /* index into TABLES of the table a foreign key column references; -1 none */
} tinfo;

typedef struct {
    const char *src;   /* as given */
    char path[4200];   /* the temporary copy */
    int made;
} scopy;

static int sql_fail(sqlite3 *db, int rc, const char *who, const char *what) {
    util_error("%s: %s: %s%s", who, what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), store_hint(rc));
    return -1;
}

static int exec(sqlite3 *db, const char *sql, const char *who) {
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_fail(db, rc, who, sql);
}

/* The first column of the first row as an integer (0 when no row). */
static int query_ll(sqlite3 *db, const char *sql, const char *who, long long *out) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) { sql_fail(db, rc, who, sql); sqlite3_finalize(st); return -1; }
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int table_index(const char *name) {
    for (int i = 0; i < NTABLES; i++) if (!strcmp(TABLES[i].name, name)) return i;
    return -1;
}

/* Columns and foreign keys of table t in the target (the copies have been
 * migrated to the same schema). */
static int table_info(sqlite3 *db, int t, tinfo *ti, const char *who) {
    char sql[160];
    sqlite3_stmt *st = NULL;
    memset(ti, 0, sizeof *ti);
    snprintf(sql, sizeof sql, "PRAGMA main.table_info(\"%s\")", TABLES[t].name);
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (ti->n == MAXCOLS) { util_error("%s: table %s has more than %d columns", who, TABLES[t].name, MAXCOLS); goto fail; }
        snprintf(ti->name[ti->n], sizeof ti->name[0], "%s", (const char *)sqlite3_column_text(st, 1));
        if (!strcmp(ti->name[ti->n], "id") && sqlite3_column_int(st, 5) == 1) ti->has_id = 1;
        ti->parent[ti->n++] = -1;
    }
    if (rc != SQLITE_DONE) { sql_fail(db, rc, who, sql); goto fail; }
    sqlite3_finalize(st);
    if (ti->n == 0) { util_error("%s: has no table %s", who, TABLES[t].name); return -1; }
    snprintf(sql, sizeof sql, "PRAGMA main.foreign_key_list(\"%s\")", TABLES[t].name);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *parent = (const char *)sqlite3_column_text(st, 2), *from = (const char *)sqlite3_column_text(st, 3);
        const char *to = (const char *)sqlite3_column_text(st, 4);
        int p = table_index(parent);
        /* parents must be merged first and be matched by id */
        if (p < 0 || p >= t || TABLES[p].kind == T_NAMED || (to && strcmp(to, "id"))) {
            util_error("%s: %s.%s references %s(%s), which results/merge.c cannot remap", who, TABLES[t].name, from, parent,
                       to ? to : "id");
            goto fail;
        }
        for (int c = 0; c < ti->n; c++) if (!strcmp(ti->name[c], from)) ti->parent[c] = p;
    }
    if (rc != SQLITE_DONE) { sql_fail(db, rc, who, sql); goto fail; }
    sqlite3_finalize(st);
    return 0;
fail:
    sqlite3_finalize(st);
    return -1;
}

/* Every table of the target is one merge knows, and every table merge
 * knows is in the target; a ROWS table hangs off a run (else its rows would
 * be added again by every merge). */
static int check_tables(sqlite3 *db, tinfo *ti, const char *who) {
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT name FROM main.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'";
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (table_index(name) < 0) {
            util_error("%s: table %s is not known to results/merge.c (a newer migration added it): merging would lose it", who,
                       name);
            sqlite3_finalize(st);
            return -1;
        }
    }
    if (rc != SQLITE_DONE) { sql_fail(db, rc, who, sql); sqlite3_finalize(st); return -1; }
    sqlite3_finalize(st);
    for (int t = 0; t < NTABLES; t++) {
        if (table_info(db, t, &ti[t], who) != 0) return -1;
        int anchored = TABLES[t].kind != T_ROWS;
        for (int c = 0; c < ti[t].n; c++)
            if (ti[t].parent[c] >= 0 && TABLES[ti[t].parent[c]].kind != T_KEY) anchored = 1;
        if (!anchored) {
            util_error("%s: table %s references no run: results/merge.c cannot merge it idempotently", who, TABLES[t].name);
            return -1;
        }
    }
    return 0;
}

/* ---- the source copies ----------------------------------------------------- */

static void drop_copy(scopy *c) {
    if (!c->made) return;
    static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
    char p[4300];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", c->path, ext[i]);
        unlink(p);
    }
    c->made = 0;
}

/* Integrity, foreign keys and schema version of the copy (named by the
 * source it was made from). */
static int check_copy(sqlite3 *db, const char *src, int *version) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok")) {
        util_error("%s: the database is corrupt (%s): nothing was merged; restore it from a copy", src,
                   rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    rc = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        util_error("%s: foreign key check failed (table %s): the database is inconsistent; nothing was merged", src,
                   (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return sql_fail(db, rc, src, "PRAGMA foreign_key_check");
    long long v;
    if (query_ll(db, "PRAGMA user_version", src, &v) != 0) return -1;
    *version = (int)v;
    if (v > STORE_SCHEMA_VERSION) {
        util_error("%s: schema version %lld is newer than this griffin understands (%d): merge it with a newer griffin build",
                   src, v, STORE_SCHEMA_VERSION);
        return -1;
    }
    if (v < 1) {
        util_error("%s: not a griffin results database (schema version %lld)", src, v);
        return -1;
    }
    return 0;
}

/* Copy a source with SQLite's online backup (the source opened read-only:
 * it is never changed, and a run writing to it meanwhile is seen as of one
 * moment), check the copy and bring it to the current schema with the
 * store's migrations. */
static int make_copy(scopy *c, int *version) {
    struct stat sb;
    const char *src = c->src;
    if (stat(src, &sb) != 0) { util_error("%s: %s", src, strerror(errno)); return -1; }
    if (S_ISDIR(sb.st_mode)) { util_error("%s: is a directory, not a database file", src); return -1; }
    char head[16] = {0};
    int fd = open(src, O_RDONLY);
    if (fd < 0) { util_error("%s: %s", src, strerror(errno)); return -1; }
    ssize_t k = read(fd, head, sizeof head);
    close(fd);
    if (k < 16 || memcmp(head, "SQLite format 3", 16) != 0) {
        util_error("%s: not an SQLite database (%s)", src, k <= 0 ? "empty file" : "no SQLite header");
        return -1;
    }
    const char *td = getenv("TMPDIR");
    snprintf(c->path, sizeof c->path, "%s/griffin-merge.XXXXXX", td && *td ? td : "/tmp");
    fd = mkstemp(c->path);
    if (fd < 0) {
        util_error("%s: cannot create a temporary copy %s: %s (set TMPDIR to a folder with room)", src, c->path, strerror(errno));
        return -1;
    }
    close(fd);
    c->made = 1;
    sqlite3 *sdb = NULL, *ddb = NULL;
    /* read-write without create, as every griffin command opens a database
     * (nothing is written: the last connection to close removes the -wal and
     * -shm files, which a read-only one would leave behind); read-only where
     * the file or its folder cannot be written */
    int rc = sqlite3_open_v2(src, &sdb, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(sdb);
        sdb = NULL;
        rc = sqlite3_open_v2(src, &sdb, SQLITE_OPEN_READONLY, NULL);
    }
    if (rc != SQLITE_OK) { sql_fail(sdb, rc, src, "cannot open it"); goto fail; }
    sqlite3_busy_timeout(sdb, 30000);
    rc = sqlite3_open_v2(c->path, &ddb, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) { sql_fail(ddb, rc, c->path, "cannot open the temporary copy"); goto fail; }
    sqlite3_backup *b = sqlite3_backup_init(ddb, "main", sdb, "main");
    if (!b) { sql_fail(ddb, sqlite3_errcode(ddb), src, "cannot start copying it"); goto fail; }
    rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        char what[4400];
        snprintf(what, sizeof what, "copying it to %s failed", c->path);
        /* a failed read is the source's (corrupt, busy), a failed write the copy's (full /tmp) */
        sql_fail(rc == SQLITE_FULL || rc == SQLITE_IOERR ? ddb : sdb, rc, src, what);
        goto fail;
    }
    sqlite3_close(sdb);
    sdb = NULL;
    if (check_copy(ddb, src, version) != 0) goto fail;
    sqlite3_close(ddb);
    ddb = NULL;
    /* the store's own open: migrates an older copy (and marks runs of this
     * host whose process is gone as interrupted, as opening the source would) */
    store *s;
    if (store_open(&s, c->path) != 0) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s", util_last_error());
        util_error("%s: bringing a copy from schema v%d to v%d failed: %s", src, *version, STORE_SCHEMA_VERSION, msg);
        return -1;
    }
    store_close(s);
    return 0;
fail:
    sqlite3_close(sdb);
    sqlite3_close(ddb);
    return -1;
}

/* ---- the merge of one attached copy (schema srcI) --------------------------- */

/* A quoted column of the source row, or the remapped id of its parent. */
static void col_expr(jbuf *b, const tinfo *ti, int c) {
    if (ti->parent[c] >= 0) jbuf_printf(b, "f%d.new", c);
    else jbuf_printf(b, "s.\"%s\"", ti->name[c]);
}

/* "FROM srcI.T AS s LEFT JOIN temp.map_P AS fC ON ..." and the filter that
 * keeps rows whose parents all map. */
static void from_joins(jbuf *b, const char *sch, int t, const tinfo *ti) {
    jbuf_printf(b, " FROM %s.\"%s\" AS s", sch, TABLES[t].name);
    for (int c = 0; c < ti->n; c++)
        if (ti->parent[c] >= 0) {
            const char *map = TABLES[ti->parent[c]].name;
            /* a late row may belong to a run that was already there */
            if (TABLES[t].late && TABLES[ti->parent[c]].kind == T_RUN) map = "run_all";
            jbuf_printf(b, " LEFT JOIN temp.map_%s AS f%d ON f%d.old = s.\"%s\"", map, c, c, ti->name[c]);
        }
}
/* Rows whose parents all map; late rows only when the target lacks them. */
static void parents_filter(jbuf *b, int t, const tinfo *ti) {
    jbuf_puts(b, " WHERE 1");
    for (int c = 0; c < ti->n; c++)
        if (ti->parent[c] >= 0) jbuf_printf(b, " AND (s.\"%s\" IS NULL OR f%d.new IS NOT NULL)", ti->name[c], c);
    if (!TABLES[t].late) return;
    jbuf_printf(b, " AND NOT EXISTS (SELECT 1 FROM main.\"%s\" AS d WHERE 1", TABLES[t].name);
    for (int c = 0; c < ti->n; c++) {
        if (!strcmp(ti->name[c], "id")) continue;
        jbuf_printf(b, " AND d.\"%s\" IS ", ti->name[c]);
        col_expr(b, ti, c);
    }
    jbuf_puts(b, ")");
}

static int run_changes(sqlite3 *db, jbuf *b, const char *who, long long *changes) {
    int r = exec(db, b->p, who);
    if (r == 0 && changes) *changes = sqlite3_changes64(db);
    b->n = 0;
    if (b->p) b->p[0] = 0;
    return r;
}

static int merge_key_table(sqlite3 *db, const char *sch, int t, const tinfo *ti, const char *who, long long *added) {
    jbuf b = {0};
    const char *T = TABLES[t].name;
    jbuf_printf(&b, "INSERT INTO main.\"%s\"(", T);
    int first = 1;
    for (int c = 0; c < ti->n; c++)
        if (strcmp(ti->name[c], "id")) { jbuf_printf(&b, "%s\"%s\"", first ? "" : ", ", ti->name[c]); first = 0; }
    jbuf_puts(&b, ") SELECT ");
    first = 1;
    for (int c = 0; c < ti->n; c++)
        if (strcmp(ti->name[c], "id")) { jbuf_printf(&b, "%ss.\"%s\"", first ? "" : ", ", ti->name[c]); first = 0; }
    jbuf_printf(&b, " FROM %s.\"%s\" AS s WHERE true ORDER BY s.id ON CONFLICT(", sch, T);
    for (int k = 0; TABLES[t].key[k]; k++) jbuf_printf(&b, "%s\"%s\"", k ? ", " : "", TABLES[t].key[k]);
    jbuf_puts(&b, ") DO NOTHING");
    int r = run_changes(db, &b, who, added);
    if (r == 0) {
        jbuf_printf(&b, "INSERT INTO temp.map_%s(old, new) SELECT s.id, m.id FROM %s.\"%s\" AS s JOIN main.\"%s\" AS m ON 1", T, sch,
                    T, T);
        for (int k = 0; TABLES[t].key[k]; k++) jbuf_printf(&b, " AND m.\"%s\" = s.\"%s\"", TABLES[t].key[k], TABLES[t].key[k]);
        r = run_changes(db, &b, who, NULL);
    }
    jbuf_free(&b);
    return r;
}

/* ROWS and RUN tables: the map of new ids first (rows whose parents were
 * added; runs: missing from the target and finished), then the rows. */
static int merge_row_table(sqlite3 *db, const char *sch, int t, const tinfo *ti, const char *who, long long *added) {
    jbuf b = {0};
    const char *T = TABLES[t].name;
    const char *extra = TABLES[t].kind == T_RUN ? " AND s.uuid NOT IN (SELECT uuid FROM main.run) AND s.status <> 'running'" : "";
    int r = 0;
    if (ti->has_id) {
        jbuf_printf(&b, "INSERT INTO temp.map_%s(old, new) SELECT s.id, (SELECT coalesce(max(id), 0) FROM main.\"%s\")"
                        " + row_number() OVER (ORDER BY s.id)", T, T);
        from_joins(&b, sch, t, ti);
        parents_filter(&b, t, ti);
        jbuf_puts(&b, extra);
        r = run_changes(db, &b, who, NULL);
    }
    if (r == 0) {
        jbuf_printf(&b, "INSERT INTO main.\"%s\"(", T);
        for (int c = 0; c < ti->n; c++) jbuf_printf(&b, "%s\"%s\"", c ? ", " : "", ti->name[c]);
        jbuf_puts(&b, ") SELECT ");
        for (int c = 0; c < ti->n; c++) {
            if (c) jbuf_puts(&b, ", ");
            if (ti->has_id && !strcmp(ti->name[c], "id")) jbuf_puts(&b, "m.new");
            else col_expr(&b, ti, c);
        }
        from_joins(&b, sch, t, ti);
        if (ti->has_id) jbuf_printf(&b, " JOIN temp.map_%s AS m ON m.old = s.id ORDER BY s.id", T);
        else {
            parents_filter(&b, t, ti);
            jbuf_puts(&b, extra);
        }
        r = run_changes(db, &b, who, added);
    }
    jbuf_free(&b);
    return r;
}

/* Named baselines: added when the name is free in the target and its run is
 * there (by uuid: it may have been there before); a name taken by another
 * run is kept as the target has it, with a note. */
static int merge_baselines(sqlite3 *db, const char *sch, const tinfo *ti, const char *who, const merge_opts *o,
                           merge_stats *ms) {
    jbuf b = {0};
    jbuf_printf(&b, "SELECT s.name, tr.id FROM %s.baseline AS s JOIN %s.run AS sr ON sr.id = s.run_id"
                    " JOIN main.baseline AS mb ON mb.name = s.name JOIN main.run AS tr ON tr.id = mb.run_id"
                    " WHERE tr.uuid <> sr.uuid ORDER BY s.name", sch, sch);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, b.p, -1, &st, NULL);
    if (rc == SQLITE_OK) while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        ms->baselines_kept++;
        if (o && o->log)
            fprintf(o->log, "note: %s: baseline '%s' names another run there; kept as in the target (run %lld)\n", who,
                    (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) { sql_fail(db, rc, who, b.p); jbuf_free(&b); return -1; }
    b.n = 0;
    jbuf_puts(&b, "INSERT INTO main.baseline(");
    for (int c = 0; c < ti->n; c++) jbuf_printf(&b, "%s\"%s\"", c ? ", " : "", ti->name[c]);
    jbuf_puts(&b, ") SELECT ");
    for (int c = 0; c < ti->n; c++) {
        if (c) jbuf_puts(&b, ", ");
        if (ti->parent[c] >= 0) jbuf_puts(&b, "tr.id");
        else jbuf_printf(&b, "s.\"%s\"", ti->name[c]);
    }
    jbuf_printf(&b, " FROM %s.baseline AS s JOIN %s.run AS sr ON sr.id = s.run_id JOIN main.run AS tr ON tr.uuid = sr.uuid"
                    " WHERE true ON CONFLICT(name) DO NOTHING", sch, sch);
    int r = run_changes(db, &b, who, &ms->baselines_added);
    if (r == 0) ms->rows_added += ms->baselines_added;
    jbuf_free(&b);
    return r;
}

static int drop_maps(sqlite3 *db, const char *who) {
    char sql[200];
    if (exec(db, "DROP TABLE IF EXISTS temp.map_run_all", who) != 0) return -1;
    for (int t = 0; t < NTABLES; t++) {
        snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS temp.map_%s", TABLES[t].name);
        if (exec(db, sql, who) != 0) return -1;
    }
    return 0;
}

static int merge_one(sqlite3 *db, const char *sch, const tinfo *ti, const char *who, const merge_opts *o, merge_stats *ms) {
    char sql[400];
    if (drop_maps(db, who) != 0) return -1;
    for (int t = 0; t < NTABLES; t++) {
        if (TABLES[t].kind == T_NAMED) continue;
        snprintf(sql, sizeof sql, "CREATE TEMP TABLE map_%s(old INTEGER PRIMARY KEY, new INTEGER NOT NULL)", TABLES[t].name);
        if (exec(db, sql, who) != 0) return -1;
    }
    if (exec(db, "CREATE TEMP TABLE map_run_all(old INTEGER PRIMARY KEY, new INTEGER NOT NULL)", who) != 0) return -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.run WHERE uuid IN (SELECT uuid FROM main.run)", sch);
    if (query_ll(db, sql, who, &ms->runs_present) != 0) return -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.run WHERE status = 'running' AND uuid NOT IN (SELECT uuid FROM main.run)", sch);
    if (query_ll(db, sql, who, &ms->runs_running) != 0) return -1;
    for (int t = 0; t < NTABLES; t++) {
        long long added = 0;
        int r;
        switch (TABLES[t].kind) {
        case T_KEY: r = merge_key_table(db, sch, t, &ti[t], who, &added); break;
        case T_NAMED: r = merge_baselines(db, sch, &ti[t], who, o, ms); break;
        default: r = merge_row_table(db, sch, t, &ti[t], who, &added); break;
        }
        if (r != 0) {
            char msg[1400];
            snprintf(msg, sizeof msg, "%s", util_last_error());
            util_error("merging table %s: %s", TABLES[t].name, msg);
            return -1;
        }
        ms->rows_added += added;
        if (!strcmp(TABLES[t].name, "machine")) ms->machines_added = added;
        if (!strcmp(TABLES[t].name, "build")) ms->builds_added = added;
        if (!strcmp(TABLES[t].name, "bench_case")) ms->cases_added = added;
        if (TABLES[t].kind == T_RUN) {
            ms->runs_added = added;
            /* every source run the target now has, added or there before */
            snprintf(sql, sizeof sql, "INSERT INTO temp.map_run_all(old, new) SELECT s.id, m.id FROM %s.run AS s JOIN main.run AS m ON m.uuid = s.uuid", sch);
            if (exec(db, sql, who) != 0) return -1;
        }
    }
    return drop_maps(db, who);
}

int merge_max_sources(store *target) {
    int n = sqlite3_limit(store_sqlite(target), SQLITE_LIMIT_ATTACHED, -1);
    return n > 0 ? n : 0;
}

int merge_databases(store *target, const char *const *sources, int n, const merge_opts *o, merge_stats *stats, int *stage) {
    sqlite3 *db = store_sqlite(target);
    const char *who = store_path(target);
    scopy *c = calloc((size_t)(n > 0 ? n : 1), sizeof *c);
    tinfo *ti = calloc(NTABLES, sizeof *ti);
    CHECK_ALLOC(c);
    CHECK_ALLOC(ti);
    int attached = 0, in_tx = 0, r = -1;
    *stage = MERGE_STAGE_SOURCE;
    memset(stats, 0, sizeof *stats * (size_t)(n > 0 ? n : 0));
    if (n > merge_max_sources(target)) {
        util_error("%d databases in one merge: SQLite attaches at most %d at a time; merge them in groups", n,
                   merge_max_sources(target));
        goto out;
    }
    /* every source is read and checked before the target is touched */
    for (int i = 0; i < n; i++) {
        c[i].src = sources[i];
        if (make_copy(&c[i], &stats[i].version) != 0) goto out;
    }
    *stage = MERGE_STAGE_TARGET;
    if (check_tables(db, ti, who) != 0) goto out;
    if (store_tx_begin(target) != 0) goto out;
    in_tx = 1;
    for (int i = 0; i < n; i++) {
        char sch[16], msg[1600];
        snprintf(sch, sizeof sch, "src%d", i);
        sqlite3_stmt *st = NULL;
        char sql[64];
        snprintf(sql, sizeof sql, "ATTACH DATABASE ? AS %s", sch);
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_bind_text(st, 1, c[i].path, -1, SQLITE_TRANSIENT);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) { sql_fail(db, rc, sources[i], "cannot attach its copy"); goto out; }
        attached = i + 1;
        if (merge_one(db, sch, ti, sources[i], o, &stats[i]) != 0) {
            snprintf(msg, sizeof msg, "%s", util_last_error());
            util_error("%s into %s: %s; the target is unchanged (rolled back)", sources[i], who, msg);
            goto out;
        }
    }
    if (o && o->dry_run) {
        store_tx_rollback(target);
        in_tx = 0;
        r = 0;
    } else {
        in_tx = 0;
        if (store_tx_commit(target) != 0) {
            char msg[1600];
            snprintf(msg, sizeof msg, "%s", util_last_error());
            util_error("%s: committing the merge failed: %s; the target is unchanged (rolled back)", who, msg);
            goto out;
        }
        r = 0;
    }
out:
    if (in_tx) store_tx_rollback(target);
    if (attached || in_tx) {
        char keep[2048];
        snprintf(keep, sizeof keep, "%s", util_last_error());
        drop_maps(db, who);
        for (int i = 0; i < attached; i++) {
            char sql[64];
            snprintf(sql, sizeof sql, "DETACH DATABASE src%d", i);
            sqlite3_exec(db, sql, NULL, NULL, NULL);
        }
        util_error("%s", keep);
    }
    for (int i = 0; i < n; i++) drop_copy(&c[i]);
    free(c);
    free(ti);
    return r;
}

#else /* !HAVE_SQLITE */

int merge_max_sources(store *target) { (void)target; return 0; }
int merge_databases(store *target, const char *const *sources, int n, const merge_opts *o, merge_stats *stats, int *stage) {
    (void)target; (void)sources; (void)n; (void)o; (void)stats;
    *stage = MERGE_STAGE_SOURCE;
    util_error("griffin was built without SQLite: apt-get install libsqlite3-dev, then rebuild");
    return -1;
}
#endif
