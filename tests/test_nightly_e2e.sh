#!/usr/bin/env bash
# test_nightly_e2e.sh — the real scripts/nightly.sh, night after night, on a
# fresh database: 6 nights of the unchanged build, 3 nights of a build of the
# same code with one kernel genuinely slowed (-DGRIFFIN_TEST_SLOW_SCAN=6: the
# seq forward scan does its work six times), then 2 nights of the unchanged
# build again. Expected: the first night cannot be judged (no baseline, exit
# 2); every other unchanged night is clean; EVERY slowed night flags the slowed
# kernel (the flagged runs never enter the baseline) and nothing else; the
# unchanged build is clean again with no acceptance.
#
# It times real code, so a busy machine can move it. A night whose slowed
# metrics were measured while others took more than 3% of the CPU is "not
# judged: machine busy": that night's checks are counted as skipped, never as
# passed. If fewer than 2 slowed nights or 3 unchanged nights could be judged,
# the test reports itself skipped with the reason. It cannot pass without
# having seen the slowed nights flagged.
#
# Reduced benchmark set (scan seq and chunked, T = 1024 and 4096, one thread,
# no roofline probe) and --min-effect 0.5: the question here is whether a 6x
# slowdown is caught and an unchanged build is left alone, not the gate's
# sensitivity (tests/test_check_replay.c measures that).
# Run: GRIFFIN_BUILD=build bash tests/test_nightly_e2e.sh   (about 2 minutes on 2 cores)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${GRIFFIN_BUILD:-$ROOT/build}
pass=0; fail=0; skip=0
ok() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi; }
skipped() { skip=$((skip + $2)); echo "SKIP: $1 ($2 checks skipped)"; }
finish() { echo "$pass passed, $fail failed, $skip skipped"; [[ $fail -eq 0 ]] && exit 0 || exit 1; }
if [[ ! -f /usr/include/benchmark/benchmark.h || ! -x "$B/griffin-bench" ]]; then
    echo "SKIP: Google Benchmark is not installed: the nightly has no micro-benchmarks to slow (11 nights skipped)"
    echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
if "$B/griffin" results list --db /dev/null/x 2>&1 | grep -q "built without SQLite"; then
    echo "SKIP: griffin was built without SQLite (1 skipped)"; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export GRIFFIN_DB="$T/nightly.sqlite" NIGHTLY_SUITES=none NIGHTLY_PLOT=0 NIGHTLY_REPS=5
export NIGHTLY_FILTER='^scan/(seq|chunked)/B:8/C:1024/T:(1024|4096)/'
export NIGHTLY_BENCH_ARGS="--roofline off --threads 1" NIGHTLY_CHECK_ARGS="--min-effect 0.5"

echo "building the slowed variant (-DGRIFFIN_TEST_SLOW_SCAN=6) in $T/slow"
t0=$SECONDS
if ! (cd "$ROOT" && CFLAGS="-DGRIFFIN_TEST_SLOW_SCAN=6" make -s -j2 NO_CUDA=1 BUILD="$T/slow" "$T/slow/griffin" "$T/slow/griffin-bench" > "$T/build.log" 2>&1); then
    tail -20 "$T/build.log"; ok "slowed build" false; finish
fi
echo "  built in $((SECONDS - t0)) s"

# night N BUILD: run the nightly, keep its output in $T/night.N
night() {
    local n=$1 build=$2
    if [[ $build == "$B" ]]; then
        BUILD="$build" bash "$ROOT/scripts/nightly.sh" > "$T/night.$n" 2>&1
    else # its own make call must see the same switches as the build above
        CFLAGS="-DGRIFFIN_TEST_SLOW_SCAN=6" NO_CUDA=1 BUILD="$build" bash "$ROOT/scripts/nightly.sh" > "$T/night.$n" 2>&1
    fi
    echo $? > "$T/rc.$n"
    printf '  night %2d (%s): exit %s; %s\n' "$n" "$([[ $build == "$B" ]] && echo unchanged || echo slowed)" "$(cat "$T/rc.$n")" \
        "$(grep -m1 '^summary:' "$T/night.$n" | sed 's/^summary: //')"
}
plan=(U U U U U U S S S U U)
for i in "${!plan[@]}"; do
    n=$((i + 1))
    [[ ${plan[$i]} == U ]] && night $n "$B" || night $n "$T/slow"
done

rows() { grep -E "^  (REGRESSED|improved|same|not judged) +$2 " "$T/night.$1"; } # verdict rows of case $2
judged_u=0; judged_s=0; judged_before=0
for i in "${!plan[@]}"; do
    n=$((i + 1)); rc=$(cat "$T/rc.$n"); f="$T/night.$n"
    if [[ $n -eq 1 ]]; then
        ok "night 1: nothing can be judged yet (exit 2, 'no baseline yet')" '[[ $rc -eq 2 ]] && grep -q "no baseline yet" "$f"'
        continue
    fi
    nbusy=$(rows $n 'scan/seq' | grep -c "machine busy")
    if [[ ${plan[$i]} == U ]]; then
        if grep -q "^  REGRESSED" "$f"; then
            ok "unchanged night $n: nothing regressed (a false alarm)" false; sed -n '/^== check/,$p' "$f"
        elif ! grep -qE "^  same " "$f"; then
            skipped "unchanged night $n: machine busy, nothing judged" 1
        else
            ok "unchanged night $n: clean (exit 0)" '[[ $rc -eq 0 ]]'
            judged_u=$((judged_u + 1))
            (( n < 7 )) && judged_before=$((judged_before + 1))
        fi
    else
        if (( nbusy > 0 )); then
            skipped "slowed night $n: scan/seq measured on a busy machine (not judged)" 1
            continue
        fi
        judged_s=$((judged_s + 1))
        ok "slowed night $n: exit 1" '[[ $rc -eq 1 ]]'
        ok "slowed night $n: scan/seq real_time regressed at T=1024 and T=4096" \
           '[[ $(rows $n "scan/seq" | grep "real_time" | grep -c "^  REGRESSED") -eq 2 ]]' || sed -n '/^== check/,$p' "$f"
        ok "slowed night $n: the chunked scan (not slowed) is not flagged" '! rows $n "scan/chunked" | grep -q "^  REGRESSED"'
    fi
done
if (( judged_s < 2 || judged_u < 3 )); then
    skipped "the machine was too busy to judge enough nights ($judged_s of 3 slowed, $judged_u of 9 unchanged judged)" 1
fi
ok "nothing was accepted into the baseline (the clean nights after need no acceptance)" \
   '[[ $("$B/griffin" baseline list | grep -c "^  run") -eq 0 ]]'
"$B/griffin" history --metric real_time --case scan/seq > "$T/history.txt" 2>&1
# a change point needs at least 3 measured (not busy) nights on each side
if (( judged_s >= 2 && judged_before >= 3 )); then
    ok "griffin history marks the flagged nights and finds where the slowdown began" \
       'grep -q "F" "$T/history.txt" && grep -q "change point: a new level from run 7" "$T/history.txt"' || cat "$T/history.txt"
else
    skipped "history: too few nights judged to expect flags and a change point" 1
fi
finish
