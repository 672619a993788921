#!/usr/bin/env bash
# run-tests.sh BUILD [--unit] — run every test binary in BUILD/tests, then
# (unless --unit) the shell tests in tests/*.sh, and print the aggregate
# "N passed, N failed, N skipped" last. Exit status: 0 only if every test
# program exited 0 with its summary line and something passed.
set -u
BUILD=${1:-build}
UNIT_ONLY=0; [[ ${2:-} == --unit ]] && UNIT_ONLY=1
export GRIFFIN_BIN="$PWD/$BUILD/griffin"
export GRIFFIN_BUILD="$PWD/$BUILD"
pass=0; fail=0; skip=0; bad=()
run_one() {
    local name=$1; shift
    local log; log=$(mktemp)
    local t0=$SECONDS
    "$@" >"$log" 2>&1; local rc=$?
    local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    local p=0 f=0
    if [[ -n "$line" ]]; then p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}; fi
    local s=0
    if [[ "$line" =~ ([0-9]+)\ skipped ]]; then s=${BASH_REMATCH[1]}; skip=$((skip + s)); fi
    if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
    # a program that exits 0 without its summary line asserted nothing: a failure
    if [[ -z "$line" && $rc -eq 0 ]]; then f=1; rc=1; echo "    (no 'N passed, N failed' line)" >>"$log"; fi
    pass=$((pass + p)); fail=$((fail + f))
    printf '%-28s %4d passed %3d failed%s  (%ds)%s\n' "$name" "$p" "$f" "$([[ $s -gt 0 ]] && echo ", $s skipped")" $((SECONDS - t0)) "$([[ $rc -ne 0 ]] && echo '  <-- FAILED')"
    if [[ $s -gt 0 ]]; then grep -i '^SKIP' "$log" | sed 's/^/    /'; fi
    if [[ $rc -ne 0 ]]; then bad+=("$name"); sed 's/^/    /' "$log" | tail -40; fi
    rm -f "$log"
}
for t in "$BUILD"/tests/test_*; do
    [[ -x "$t" ]] || continue
    run_one "$(basename "$t")" "$t"
done
for t in tests/test_*.sh; do
    [[ -f "$t" && $UNIT_ONLY -eq 0 ]] || continue
    run_one "$(basename "$t")" bash "$t"
done
if (( ${#bad[@]} )); then echo "failing: ${bad[*]}"; fi
echo "$pass passed, $fail failed, $skip skipped"
(( ${#bad[@]} == 0 && pass > 0 ))
