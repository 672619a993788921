#!/usr/bin/env bash
# test_gpu_check.sh — scripts/gpu-check.sh, the GPU machine's one-shot
# check, on a machine without one: it parses (bash -n), its --dry-run plan
# lists every check, a bad argument is a usage error, and a real run on the
# existing build (--no-build: make test built it) does its CPU-side parts (the cpu half of test_backend, the
# CLI's refusal path) and reports each device check SKIP with the reason,
# exit 0. On a machine with a device the real run is skipped here (it takes
# minutes there: run the script itself).
set -u
S=scripts/gpu-check.sh
. tests/lib.sh gpu-check
bash -n "$S"; ok $? "gpu-check.sh parses"
bash "$S" --dry-run >"$D/dry" 2>&1; ok $? "--dry-run exits 0"
for c in build ops model cli suites bench; do
    grep -qE "^$c +\| plan" "$D/dry"; ok $? "--dry-run plans '$c'"
done
grep -q "DRY RUN, nothing ran" "$D/dry"; ok $? "--dry-run says nothing ran"
bash "$S" --bogus >/dev/null 2>&1; [[ $? -eq 2 ]]; ok $? "unknown argument: exit 2"
bash "$S" --help | grep -q "dry-run"; ok $? "--help documents --dry-run"
BUILD="$D/none" bash "$S" --no-build >"$D/nb" 2>&1; [[ $? -eq 1 ]] && grep -q "is missing" "$D/nb"; ok $? "--no-build without binaries fails naming them"
B=${GRIFFIN_BUILD:-$PWD/build}
if "$B/griffin" info 2>/dev/null | grep -qE '^gpu +\(none\)'; then
    BUILD="$B" bash "$S" --quick --no-build >"$D/real" 2>&1; rc=$?
    [[ $rc -eq 0 ]]; ok $? "a run without a device exits 0 (got $rc: $(tail -5 "$D/real"))"
    grep -qE '^build +\| skip +\| --no-build' "$D/real"; ok $? "build row: --no-build (make test built them)"
    grep -qE '^model +\| PART +\| [0-9]+ passed, 0 failed, [0-9]+ skipped; .+' "$D/real"; ok $? "model row: the cpu half of test_backend ran and passed, the cuda half skipped with the reason: $(grep -E '^model ' "$D/real")"
    BUILD="$B" bash "$S" --quick --no-build --require-device >/dev/null 2>&1; rc=$?
    [[ $rc -eq 1 ]]; ok $? "--require-device without a device fails (got $rc): a skip is never a pass"
    for c in ops cli suites bench; do
        grep -qE "^$c +\| SKIP +\| .+" "$D/real"; ok $? "$c row is SKIP with a reason: $(grep -E "^$c " "$D/real")"
    done
else
    skipped "a GPU is present: run scripts/gpu-check.sh itself (minutes)"
fi
finish
