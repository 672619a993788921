#!/usr/bin/env bash
# test_disk_full.sh — writes on a full filesystem: a training checkpoint, the
# results database (a whole `griffin run`), a CSV and a JSON export and a
# figure. Each must fail with a message naming the path and the errno text,
# exit non-zero, and leave the previous file byte-identical (the database:
# integrity ok and the earlier run whole).
#
# The full filesystem is a 3 MiB tmpfs mounted in the test (root with mount
# allowed), filled to the last byte; where mounting is not allowed the test
# says so and uses a file-size limit instead (ulimit -f; griffin ignores
# SIGXFSZ, so writes fail with EFBIG "File too large").
#   GRIFFIN_BIN=build/griffin bash tests/test_disk_full.sh   (GRIFFIN_FULL_MODE=ulimit forces the fallback)
set -u
. tests/lib.sh full
M=$D/full
mkdir -p "$M"
MOUNTED=0
cleanup() { if [[ $MOUNTED -eq 1 ]]; then umount "$M" 2>/dev/null; fi; }
if [[ ${GRIFFIN_FULL_MODE:-} != ulimit && $(id -u) -eq 0 ]] && mount -t tmpfs -o size=3m tmpfs "$M" 2>/dev/null; then
    MOUNTED=1; MODE=tmpfs; ERRNO="No space left on device"
    echo "mode: tmpfs of 3 MiB at $M, filled before each write"
else
    MODE=ulimit; ERRNO="File too large"
    echo "mode: mounting a tmpfs is not allowed here (not root, or the container forbids mount): using ulimit -f 4 (4 KiB) instead"
fi
# fill the tmpfs to the last byte (tmpfs mode); ulimit mode: nothing to fill
fill() { [[ $MODE == tmpfs ]] && { dd if=/dev/zero of="$M/fill" bs=4k 2>/dev/null; dd if=/dev/zero of="$M/fill2" bs=1 2>/dev/null; }; return 0; }
unfill() { rm -f "$M/fill" "$M/fill2"; }
# run a write under the full-disk condition
limited() { if [[ $MODE == ulimit ]]; then (ulimit -f 4; "$@"); else "$@"; fi; }
sum() { md5sum "$1" 2>/dev/null | cut -d' ' -f1; }
# the error names the path and the errno text; exit non-zero; the old file is intact
expect() { # expect WHAT RC ERRFILE PATH OLDSUM [errno-required]
    local what=$1 rc=$2 err=$3 path=$4 old=$5 need_errno=${6:-1}
    [[ $rc -ne 0 && $rc -lt 128 ]]; ok $? "$what: exits non-zero without a signal (rc $rc)"
    grep -qF -- "$path" "$err"; ok $? "$what: the message names $path: $(head -c 300 "$err")"
    if [[ $need_errno -eq 1 ]]; then grep -qF -- "$ERRNO" "$err"; ok $? "$what: the message names the errno ($ERRNO)"; fi
    [[ $(sum "$path") == "$old" ]]; ok $? "$what: the previous $path is intact"
}

# ---- previous files, written with space available ---------------------------
train=(train --preset tiny-hawk --task selective-copy --seq 32 --batch 2 --steps 3 --no-db --quiet --threads 1)
"$G" "${train[@]}" --o "$M/ck.safetensors" >/dev/null 2>&1; ok $? "setup: checkpoint"
run=(run throughput --preset smoke --no-plot --quiet --threads 1 --reps 1)
"$G" "${run[@]}" --db "$M/r.sqlite" >/dev/null 2>&1; ok $? "setup: database with one run"
"$G" "${run[@]}" --db "$D/ok.sqlite" >/dev/null 2>&1; ok $? "setup: a database on a disk with space"
"$G" results export 1 --csv --db "$D/ok.sqlite" --o "$M/x.csv" >/dev/null 2>&1; ok $? "setup: CSV export"
"$G" results export 1 --json --db "$D/ok.sqlite" --o "$M/x.json" >/dev/null 2>&1; ok $? "setup: JSON export"
have_plot=0
if command -v gnuplot >/dev/null && command -v sqlite3 >/dev/null; then
    have_plot=1
    "$G" plot fig3_train_step --term svg --db "$D/ok.sqlite" --out "$M/figs" >/dev/null 2>&1; ok $? "setup: figure"
fi
ck=$(sum "$M/ck.safetensors"); ckt=$(sum "$M/ck.safetensors.train"); csv=$(sum "$M/x.csv"); js=$(sum "$M/x.json")
fig=$(sum "$M/figs/fig3_train_step.svg")
n_before=$(sqlite3 "$M/r.sqlite" "SELECT count(*) FROM result" 2>/dev/null)

# ---- the same writes on the full filesystem ---------------------------------
if [[ $MODE == ulimit ]]; then
    # the limit binds every file: hold the source database open meanwhile, so
    # its WAL index (32 KiB) already exists and reading it needs no growth
    mkfifo "$D/fifo"
    sqlite3 "$D/ok.sqlite" <"$D/fifo" >"$D/holder.out" &
    holder=$!
    exec 9>"$D/fifo"
    echo 'SELECT count(*) FROM run;' >&9
    # it has read the database once it answers (at most 30 s: not a fixed sleep)
    for _ in $(seq 600); do [[ -s "$D/holder.out" ]] && break; sleep 0.05; done
fi
fill
limited "$G" "${train[@]}" --o "$M/ck.safetensors" >/dev/null 2>"$D/e1"; rc=$?
expect "checkpoint" $rc "$D/e1" "$M/ck.safetensors" "$ck"
[[ $(sum "$M/ck.safetensors.train") == "$ckt" ]]; ok $? "checkpoint: the previous optimizer state is intact"
ls "$M" | grep -q '\.tmp\.' ; [[ $? -ne 0 ]]; ok $? "checkpoint: no temporary file left behind"

limited "$G" "${run[@]}" --db "$M/r.sqlite" >/dev/null 2>"$D/e2"; rc=$?
[[ $rc -ne 0 && $rc -lt 128 ]]; ok $? "database: griffin run exits non-zero without a signal (rc $rc)"
grep -qF -- "$M/r.sqlite" "$D/e2"; ok $? "database: the message names the database: $(grep -m1 error "$D/e2" | head -c 300)"
grep -Eqi "full|File too large|No space" "$D/e2"; ok $? "database: the message says the disk is full"

limited "$G" results export 1 --csv --db "$D/ok.sqlite" --o "$M/x.csv" >/dev/null 2>"$D/e3"; rc=$?
expect "CSV export" $rc "$D/e3" "$M/x.csv" "$csv"
limited "$G" results export 1 --json --db "$D/ok.sqlite" --o "$M/x.json" >/dev/null 2>"$D/e4"; rc=$?
expect "JSON export" $rc "$D/e4" "$M/x.json" "$js"
if [[ $have_plot -eq 1 ]]; then
    limited "$G" plot fig3_train_step --term svg --db "$D/ok.sqlite" --out "$M/figs" >/dev/null 2>"$D/e5"; rc=$?
    # ulimit also limits gnuplot itself: then the message names the figure, not an errno
    expect "figure" $rc "$D/e5" "$M/figs/fig3_train_step.svg" "$fig" $([[ $MODE == tmpfs ]] && echo 1 || echo 0)
else
    skipped "gnuplot or sqlite3 missing: the figure write was not tested"
fi
unfill
[[ -n ${holder:-} ]] && { exec 9>&-; wait $holder 2>/dev/null; }

# ---- afterwards: the database is whole, and works again -----------------------
[[ $(sqlite3 "$M/r.sqlite" "PRAGMA integrity_check") == ok ]]; ok $? "database: integrity_check ok after the full disk"
n_after=$(sqlite3 "$M/r.sqlite" "SELECT count(*) FROM result WHERE run_id = 1")
[[ $n_after -eq $n_before ]]; ok $? "database: the earlier run is whole ($n_after of $n_before results)"
st=$(sqlite3 "$M/r.sqlite" "SELECT group_concat(status) FROM run WHERE id > 1")
[[ -z $st || $st != *ok* ]]; ok $? "database: the run on the full disk is not shown finished ($st)"
"$G" "${run[@]}" --db "$M/r.sqlite" >/dev/null 2>&1; ok $? "database: a run succeeds once there is space again"
finish
