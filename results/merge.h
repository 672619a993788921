/* merge.h — import the runs of other griffin databases into one
 * (`griffin results merge OTHER.sqlite...`).
 *
 * Each machine or job writes its own database (SQLite's locking is not safe
 * on a network filesystem); merging brings their runs together so figures,
 * `compare` and `history` see every machine. What a merge does:
 *
 *  - Each source is copied with SQLite's online backup (the source is opened
 *    read-only and never changed), the copy's integrity and foreign keys are
 *    checked, and a copy with an older schema is migrated by the store's own
 *    migrations (store_open). A newer schema is refused.
 *  - Machines, builds and cases are matched by their natural keys
 *    (fingerprint; commit, dirty, compiler, flags; case key) and added when
 *    missing. A run is matched by its uuid: a run already present is not
 *    added again, a run still `running` in the source is skipped (merge
 *    again once it has finished); every other run is added with all its rows
 *    (results, samples, curves, claims, checks, findings, acceptances, case
 *    failures) under new ids. Checks (with their findings) and acceptances
 *    recorded after a run was merged are added to it by the next merge,
 *    unless the target has the same row. Named baselines are added when the
 *    target has no baseline of that name.
 *  - Everything, all sources together, is one transaction on the target: a
 *    failure anywhere (a corrupt source, a locked, read-only or full target)
 *    rolls back and leaves the target as it was. Merging the same sources
 *    again changes nothing.
 *
 * Errors: -1 with the reason in util_last_error(), naming the source or the
 * target; `stage` tells the CLI whether anything had begun to be written.
 */
#ifndef GRIFFIN_MERGE_H
#define GRIFFIN_MERGE_H
#include <stdio.h>

#include "store.h"

typedef struct {
    int version;                       /* the source's schema version (before migrating its copy) */
    long long runs_added, runs_present, runs_running; /* running: skipped, still in progress there */
    long long machines_added, builds_added, cases_added;
    long long rows_added;              /* every row inserted, all tables */
    long long baselines_added, baselines_kept; /* kept: the target's baseline of that name names another run */
} merge_stats;

enum { MERGE_STAGE_SOURCE = 1, MERGE_STAGE_TARGET = 2 };

typedef struct {
    int dry_run;   /* do everything, then roll back (report what would be added) */
    FILE *log;     /* notes (a kept baseline), or NULL */
} merge_opts;

/* Merge sources[0..n) into the open target. stats: n entries (one per
 * source), filled as far as the merge got. On failure *stage says where:
 * MERGE_STAGE_SOURCE (a source could not be read: nothing was written) or
 * MERGE_STAGE_TARGET (writing the target failed: rolled back). The most
 * sources in one merge is merge_max_sources(target) (SQLite's attach limit). */
int merge_databases(store *target, const char *const *sources, int n, const merge_opts *o, merge_stats *stats,
                    int *stage);
int merge_max_sources(store *target);

#endif
