#!/usr/bin/env bash
# test_merge.sh — `griffin results merge` on databases made by real small runs
# (two "machines": the second database's machine renamed, as if a GPU box had
# written it): counts, merge twice byte-identical, `compare` and a figure
# across the merged machines, a v1 source, and the refusals (newer schema,
# corrupt source, missing file, a locked, read-only or full target) each with
# a clear message, a non-zero exit and the target byte-identical.
# Run: GRIFFIN_BIN=build/griffin bash tests/test_merge.sh   (scripts/run-tests.sh sets it)
set -u
. tests/lib.sh merge
T=$D
B=${GRIFFIN_BUILD:-$(dirname "$G")}
H="$B/tests/test_merge"   # helper modes: --old PATH V, --dump PATH
M=$T/mnt
MOUNTED=0
cleanup() { if [[ $MOUNTED -eq 1 ]]; then umount "$M" 2>/dev/null; fi; }
if [[ ! -x "$G" || ! -x "$H" ]]; then echo "missing $G or $H (build first)"; echo "0 passed, 1 failed"; exit 1; fi
if "$G" results list --db "$T/probe.sqlite" 2>&1 | grep -q "built without SQLite"; then
    skipped "griffin was built without SQLite: every check skipped"; finish
fi
if ! command -v sqlite3 > /dev/null; then
    skipped "no sqlite3 shell (the test edits and counts with it)"; finish
fi
sum() { md5sum "$1" | cut -d' ' -f1; }
q() { sqlite3 "$1" "$2"; }

check "merge --help" '"$G" results merge --help 2>&1 | grep -q "usage: griffin results merge"'
check "merge without a source: exit 2" '"$G" results merge --db "$T/x.sqlite" > /dev/null 2>&1; [[ $? -eq 2 ]]'

# two machines' databases, each from a real small run
run=(run throughput --preset smoke --no-plot --quiet --threads 1 --reps 1)
"$G" "${run[@]}" --db "$T/cpu.sqlite" > /dev/null 2>&1; check "setup: cpu run" '[[ $? -eq 0 ]]'
"$G" "${run[@]}" --db "$T/gpu.sqlite" > /dev/null 2>&1; check "setup: second run" '[[ $? -eq 0 ]]'
q "$T/gpu.sqlite" "UPDATE machine SET fingerprint = 'feedfacefeedface', hostname = 'gpubox', cpu_model = 'Merged Box CPU', gpu = 'H200'"
"$G" baseline set gpu-ref 1 --db "$T/gpu.sqlite" > /dev/null
sc=$(sum "$T/cpu.sqlite"); sg=$(sum "$T/gpu.sqlite")
C="$T/central.sqlite"
"$G" results merge --db "$C" "$T/cpu.sqlite" "$T/gpu.sqlite" > "$T/m1.txt" 2>&1; rc=$?
check "merge two databases: exit 0" '[[ $rc -eq 0 ]] || { cat "$T/m1.txt"; false; }'
check "merge reports each source" 'grep -q "cpu.sqlite (schema v4): 1 run added" "$T/m1.txt" && grep -q "gpu.sqlite (schema v4): 1 run added" "$T/m1.txt"'
check "2 runs, 2 machines, 1 build" '[[ $(q "$C" "SELECT count(*) FROM run") == 2 && $(q "$C" "SELECT count(*) FROM machine") == 2 && $(q "$C" "SELECT count(*) FROM build") == 1 ]]'
for t in result sample curve claim; do
    check "$t rows of both runs" '[[ $(q "$C" "SELECT count(*) FROM $t") == $(( $(q "$T/cpu.sqlite" "SELECT count(*) FROM $t") + $(q "$T/gpu.sqlite" "SELECT count(*) FROM $t") )) ]]'
done
check "cases shared by key" '[[ $(q "$C" "SELECT count(*) FROM bench_case") == $(q "$T/cpu.sqlite" "SELECT count(*) FROM bench_case") ]]'
check "uuids kept, second run renumbered" '[[ $(q "$C" "SELECT uuid FROM run WHERE id = 2") == $(q "$T/gpu.sqlite" "SELECT uuid FROM run WHERE id = 1") ]]'
check "named baseline follows its run" '[[ $("$G" baseline get gpu-ref --db "$C") == 2 ]]'
check "contents: identity dump = both sources" 'diff <(sort <("$H" --dump "$T/cpu.sqlite"; "$H" --dump "$T/gpu.sqlite") | awk -F"|" "!((\$1==\"machine\"||\$1==\"build\"||\$1==\"bench_case\") && seen[\$0]++)") <("$H" --dump "$C") > /dev/null'
check "sources byte-identical, no files left beside them" '[[ $(sum "$T/cpu.sqlite") == $sc && $(sum "$T/gpu.sqlite") == $sg && ! -e "$T/cpu.sqlite-wal" && $(ls "$T" | grep -c griffin-merge) -eq 0 ]]'
s1=$(sum "$C")
"$G" results merge --db "$C" "$T/cpu.sqlite" "$T/gpu.sqlite" > "$T/m2.txt" 2>&1; rc=$?
check "merge twice: exit 0, nothing new" '[[ $rc -eq 0 ]] && grep -q "nothing new" "$T/m2.txt" && grep -q "1 already present" "$T/m2.txt"'
check "merge twice: target byte-identical" '[[ $(sum "$C") == $s1 ]]'

# across the merged machines
"$G" compare 1 2 --db "$C" > "$T/cmp.txt" 2> "$T/cmp.err"; rc=$?
check "compare across machines: exit 0 with the machines named" '[[ $rc -eq 0 ]] && grep -q "different machines" "$T/cmp.err" && grep -q "feedfacefeedface" "$T/cmp.err"'
check "compare across machines: a verdict table" 'grep -q "^  same " "$T/cmp.txt" && grep -q "^summary:" "$T/cmp.txt"'
check "results list shows both machines" '"$G" results list --db "$C" | grep -q feedfacefeedface'
if command -v gnuplot > /dev/null; then
    "$G" plot fig3_train_step --run 2 --db "$C" --out "$T/fig" --term dumb > /dev/null 2>&1; r2=$?
    check "figure of the merged second machine's run" '[[ $r2 -eq 0 ]] && grep -q "Merged Box CPU" "$T/fig/fig3_train_step.txt"'
    "$G" plot fig3_train_step --run 1 --db "$C" --out "$T/fig1" --term dumb > /dev/null 2>&1; r1=$?
    check "figure of the first machine's run" '[[ $r1 -eq 0 ]] && ! grep -q "Merged Box CPU" "$T/fig1/fig3_train_step.txt" && ! grep -q "no data yet" "$T/fig1/fig3_train_step.txt"'
else
    skipped "no gnuplot: figures across the merged machines" 2
fi

# an older schema (v1, as the first griffin wrote it)
"$H" --old "$T/v1.sqlite" 1; s_old=$(sum "$T/v1.sqlite")
"$G" results merge --db "$C" "$T/v1.sqlite" > "$T/m3.txt" 2>&1; rc=$?
check "v1 source merged" '[[ $rc -eq 0 ]] && grep -q "v1.sqlite (schema v1): 1 run added" "$T/m3.txt"'
check "v1 source unchanged" '[[ $(sum "$T/v1.sqlite") == $s_old && $(q "$T/v1.sqlite" "PRAGMA user_version") == 1 ]]'

# refusals: the target is left byte-identical
s3=$(sum "$C")
refused() { # refused WHAT EXPECTED_RC PATTERN CMD...: exit code, message, target unchanged
    local what=$1 want=$2 pat=$3; shift 3
    "$@" > "$T/r.out" 2> "$T/r.err"; local rc=$?
    check "$what: exit $want" '[[ $rc -eq $want ]] || { echo "rc $rc"; cat "$T/r.err"; false; }'
    check "$what: clear message" 'grep -q -- "$pat" "$T/r.err" || { cat "$T/r.err"; false; }'
    check "$what: target byte-identical" '[[ $(sum "$C") == $s3 ]]'
}
cp "$T/cpu.sqlite" "$T/newer.sqlite"; q "$T/newer.sqlite" "PRAGMA user_version = 9"
refused "newer schema" 2 "newer.sqlite: schema version 9 is newer than this griffin" "$G" results merge --db "$C" "$T/newer.sqlite"
"$H" --old "$T/third.sqlite" 4   # a third run, written through the store API
cp "$T/third.sqlite" "$T/corrupt.sqlite"
for pg in 1 2 3 4 5; do printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of="$T/corrupt.sqlite" bs=1 seek=$((4096 * pg)) conv=notrunc 2> /dev/null; done
refused "corrupt source" 2 "corrupt.sqlite: the database is corrupt" "$G" results merge --db "$C" "$T/third.sqlite" "$T/corrupt.sqlite"
refused "missing source" 2 "nosuch.sqlite: No such file" "$G" results merge --db "$C" "$T/nosuch.sqlite"
echo "plain text" > "$T/text.sqlite"
refused "not SQLite" 2 "text.sqlite: not an SQLite database" "$G" results merge --db "$C" "$T/text.sqlite"
"$G" results merge --db "$T/new.sqlite" "$T/corrupt.sqlite" > /dev/null 2>&1
check "a failed merge into a new target leaves no file" '[[ ! -e "$T/new.sqlite" ]]'
"$G" results merge --dry-run --db "$T/new.sqlite" "$T/third.sqlite" > "$T/dry.txt" 2>&1; rc=$?
check "dry run into a new target: counted, no file" '[[ $rc -eq 0 && ! -e "$T/new.sqlite" ]] && grep -q "1 run to add" "$T/dry.txt"'
# locked: another process holds a write transaction on the target
mkfifo "$T/lock"
(echo "BEGIN IMMEDIATE; INSERT INTO baseline(name, run_id, created) VALUES('lock', 1, 'now'); SELECT 'locked';"; cat "$T/lock") | sqlite3 "$C" > "$T/lock.out" &
lp=$!
# until the lock is held: a write attempt that does not wait fails
for _ in $(seq 100); do sqlite3 -cmd ".timeout 0" "$C" "BEGIN IMMEDIATE; ROLLBACK;" > /dev/null 2>&1 || break; sleep 0.05; done
refused "locked target" 2 "another process holds the database" "$G" results merge --wait 0.5 --db "$C" "$T/third.sqlite"
echo "ROLLBACK;" > "$T/lock"; wait $lp

# read-only and full target: a small tmpfs (root with mount allowed)
mkdir -p "$M"
if [[ $(id -u) -eq 0 ]] && mount -t tmpfs -o size=2m tmpfs "$M" 2> /dev/null; then
    MOUNTED=1
    cp "$C" "$M/c.sqlite"; C="$M/c.sqlite"; s3=$(sum "$C")
    mount -o remount,ro "$M"
    refused "read-only target" 2 "writable\|read-only\|readonly" "$G" results merge --db "$C" "$T/third.sqlite"
    mount -o remount,rw "$M"
    # full: another process keeps the database open (its -wal and -shm exist,
    # empty), the disk is filled, the merge's first write fails
    mkfifo "$T/hold"
    (echo "SELECT count(*) FROM run;"; cat "$T/hold") | sqlite3 "$C" > /dev/null &
    hp=$!
    for _ in $(seq 100); do [[ -e "$C-shm" ]] && break; sleep 0.05; done
    dd if=/dev/zero of="$M/fill" bs=4k 2> /dev/null; dd if=/dev/zero of="$M/fill2" bs=1 2> /dev/null
    refused "full target" 1 "full\|No space" "$G" results merge --db "$C" "$T/third.sqlite"
    echo ".quit" > "$T/hold"; wait $hp
    rm -f "$M/fill" "$M/fill2"
    check "full target: rolled back, integrity ok" '[[ $(q "$C" "PRAGMA integrity_check") == ok && $(q "$C" "SELECT count(*) FROM run") == 3 ]]'
    check "after the disk has room: merged" '"$G" results merge --db "$C" "$T/third.sqlite" > /dev/null 2>&1 && [[ $(q "$C" "SELECT count(*) FROM run") == 4 ]]'
else
    skipped "mounting a tmpfs is not allowed here: read-only and full target" 8
fi

finish
