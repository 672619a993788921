# tests/lib.sh — what the shell tests share. Sourced, never run on its own, from the
# repository root (scripts/run-tests.sh runs every test there):
#
#   . tests/lib.sh NAME
#
# sets G, the griffin binary ($GRIFFIN_BIN, else build/griffin), and D, a fresh folder
# ($TMPDIR/griffin-NAME.XXXXXX) removed when the test exits, after the test's own
# `cleanup` function if it defines one; starts the counts at zero. Then:
#
#   ok RC MSG         one check judged by an exit status: 0 passes, anything else prints
#                     "FAIL: MSG" and fails
#   check MSG EXPR    one check judged by evaluating EXPR (returns 1 when it fails)
#   skipped MSG [N]   N checks (default 1) that could not be judged: counted as skipped,
#                     never as passed
#   finish            prints "N passed, N failed" (", N skipped" when any were) last and
#                     exits 0 only when nothing failed and something passed or was skipped
G=${GRIFFIN_BIN:-build/griffin}
pass=0; fail=0; skip=0
D=$(mktemp -d "${TMPDIR:-/tmp}/griffin-${1:-test}.XXXXXX") ||
    { echo "FAIL: no temporary folder (mktemp -d in ${TMPDIR:-/tmp})"; echo "0 passed, 1 failed"; exit 1; }
lib_exit() { if declare -F cleanup >/dev/null; then cleanup; fi; rm -rf "$D"; }
trap lib_exit EXIT
ok() { if [[ $1 -eq 0 ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; return 1; fi; }
skipped() { local n=${2:-1}; skip=$((skip + n)); echo "SKIP: $1 ($n checks skipped)"; }
finish() {
    if (( skip )); then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
    (( fail == 0 && pass + skip > 0 )) && exit 0
    exit 1
}
