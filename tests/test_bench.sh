#!/usr/bin/env bash
# test_bench.sh — griffin-bench (Google Benchmark through the C shim) and
# `griffin roofline` on tiny shapes, in well under 30 s.
#
#   GRIFFIN_BUILD=build GRIFFIN_BIN=build/griffin bash tests/test_bench.sh
#
# Checks: the JSON of a tiny filter has the counters (GB/s, GFLOP/s,
# frac_roofline, ns_per_token) and the context (commit, machine
# fingerprint, measured limits, threads); names carry family/variant/args;
# a variant that fails validation is reported as an error, not timed;
# repetitions come from the flag and stay out of the names; our own flags
# are consumed; `griffin roofline --quick` prints sane numbers (table and
# JSON); `griffin bench-model` runs a preset at its own local-attention
# window. Needs jq or python3 for the JSON checks (jq comes with
# scripts/deps.sh); without either they are reported skipped, never passed.
# Prints "N passed, N failed[, N skipped]".
set -u
BUILD=${GRIFFIN_BUILD:-build}
BENCH="$BUILD/griffin-bench"
GRIFFIN=${GRIFFIN_BIN:-$BUILD/griffin}
pass=0; fail=0; skip=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# jq-like query: q FILE EXPR (EXPR in jq syntax, or python when jq is missing)
if command -v jq >/dev/null 2>&1; then JSONQ=jq
elif command -v python3 >/dev/null 2>&1; then JSONQ=py
else JSONQ=none; fi
jcount() { # jcount FILE JQ_FILTER PY_EXPR  -> prints a number
    if [[ $JSONQ == jq ]]; then jq "$2" "$1"
    elif [[ $JSONQ == py ]]; then python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($3)" "$1"
    else echo -1; fi
}

if [[ ! -x $BENCH ]]; then
    echo "skip: $BENCH not built (needs libbenchmark-dev)"
    bad "griffin-bench exists"
    echo "$pass passed, $fail failed"
    exit 1
fi
export GRIFFIN_ROOFLINE=quick

# ---- 1. a tiny filter, JSON ------------------------------------------------
FILTER='^(selftest/copy|scan/seq/B:8/C:1024/T:128/|rglru/fused/B:8/C:1024/T:128/|rglru/seq/B:2/C:1024/T:1/|attn_decode/fast/B:1/S:1024/|gemm/blas/M:256/)'
GRIFFIN_BENCH_SELFTEST=1 "$BENCH" --max-T 256 --benchmark_filter="$FILTER|^selftest/fail" \
    --benchmark_min_time=0.01 --benchmark_format=json --benchmark_repetitions=2 \
    >"$tmp/b.json" 2>"$tmp/b.err"
rc=$?
check "griffin-bench exits 0" test $rc -eq 0
[[ $rc -ne 0 ]] && sed 's/^/    /' "$tmp/b.err" | tail -20
check "JSON output parses" test "$(jcount "$tmp/b.json" '.benchmarks | length' 'len(d["benchmarks"])')" -gt 0

if [[ $JSONQ == none ]]; then
    skip=$((skip + 1)); echo "SKIP: neither jq nor python3 found: the JSON checks of griffin-bench were not run (scripts/deps.sh installs jq)"
else
    n_ok=$(jcount "$tmp/b.json" '[.benchmarks[] | select(.run_type=="iteration" and (.error_occurred|not))] | length' \
        'len([b for b in d["benchmarks"] if b["run_type"]=="iteration" and not b.get("error_occurred")])')
    check "6 benchmarks x 2 repetitions timed (got $n_ok)" test "$n_ok" -eq 12
    for c in 'GB/s' 'GFLOP/s' 'frac_roofline'; do
        n=$(jcount "$tmp/b.json" "[.benchmarks[] | select(.run_type==\"iteration\" and (.error_occurred|not) and (.[\"$c\"] != null))] | length" \
            "len([b for b in d['benchmarks'] if b['run_type']=='iteration' and not b.get('error_occurred') and '$c' in b])")
        check "counter $c on every timed benchmark ($n/12)" test "$n" -eq 12
    done
    n=$(jcount "$tmp/b.json" '[.benchmarks[] | select(.run_type=="iteration" and (.name|startswith("scan/")) and (.ns_per_token != null) and (.["GB/s"] > 0))] | length' \
        "len([b for b in d['benchmarks'] if b['run_type']=='iteration' and b['name'].startswith('scan/') and 'ns_per_token' in b and b['GB/s']>0])")
    check "scan has ns_per_token and GB/s > 0" test "$n" -eq 2
    n=$(jcount "$tmp/b.json" '[.benchmarks[] | select(.name=="rglru/fused/B:8/C:1024/T:128/real_time" and .run_type=="iteration")] | length' \
        "len([b for b in d['benchmarks'] if b['name']=='rglru/fused/B:8/C:1024/T:128/real_time' and b['run_type']=='iteration'])")
    check "name is family/variant/arg:value (rglru/fused/B:8/C:1024/T:128)" test "$n" -eq 2
    n=$(jcount "$tmp/b.json" '[.benchmarks[] | select(.run_type=="aggregate" and .aggregate_name=="median")] | length' \
        "len([b for b in d['benchmarks'] if b['run_type']=='aggregate' and b.get('aggregate_name')=='median'])")
    check "repetitions from the flag give median aggregates" test "$n" -ge 6
    n=$(jcount "$tmp/b.json" '[.benchmarks[] | select(.name|test("repeats"))] | length' \
        "len([b for b in d['benchmarks'] if 'repeats' in b['name']])")
    check "repetitions not baked into names" test "$n" -eq 0
    n=$(jcount "$tmp/b.json" '[.benchmarks[] | select((.name|startswith("selftest/fail")) and .error_occurred==true)] | length' \
        "len([b for b in d['benchmarks'] if b['name'].startswith('selftest/fail') and b.get('error_occurred')])")
    check "a variant failing validation is an error, not a timing" test "$n" -ge 1
    for k in griffin_commit machine_fingerprint roofline_copy_gbs roofline_read_gbs roofline_sgemm_gflops threads library_build_type machine_json; do
        v=$(jcount "$tmp/b.json" ".context.$k // \"\" | tostring | length" "len(str(d['context'].get('$k','')))")
        check "context has $k" test "$v" -gt 0
    done
    cp=$(jcount "$tmp/b.json" '.context.roofline_copy_gbs | tonumber | floor' "int(float(d['context']['roofline_copy_gbs']))")
    check "measured copy bandwidth is plausible (${cp} GB/s)" test "$cp" -ge 1 -a "$cp" -lt 100000
fi

# ---- 2. own flags and listing ----------------------------------------------
"$BENCH" --max-T 512 --benchmark_list_tests >"$tmp/list.txt" 2>/dev/null
check "--benchmark_list_tests with --max-T" grep -q '^rglru/fused/B:8/C:1024/T:512/real_time$' "$tmp/list.txt"
check "--max-T bounds the sweep" bash -c "! grep -q 'rglru/fused/B:8/C:1024/T:1024/' '$tmp/list.txt'"
"$BENCH" --benchmark_list_tests >"$tmp/listall.txt" 2>/dev/null
check "every variant family registered" bash -c "for f in rglru/seq rglru/fused rglru/chunked rglru/assoc scan/seq scan/chunked scan/assoc attn_local/banded attn_local/tiled attn_decode/fast conv1d/fast rmsnorm/fast gelu/fast rope/fast xent/fast gemm/blas; do grep -q \"^\$f/\" '$tmp/listall.txt' || { echo missing \$f; exit 1; }; done"
"$BENCH" --no-such-flag >/dev/null 2>&1
check "unknown flag is rejected" test $? -ne 0

# ---- 3. griffin roofline --quick -------------------------------------------
if [[ -x $GRIFFIN ]]; then
    "$GRIFFIN" roofline --quick --threads 1 >"$tmp/r.txt" 2>&1
    rc=$?
    check "griffin roofline --quick exits 0" test $rc -eq 0
    [[ $rc -ne 0 ]] && head -5 "$tmp/r.txt" | sed 's/^/    /'
    check "table has a row for 1 thread with numbers" grep -Eq '^1 +[0-9]+\.[0-9]+ \(' "$tmp/r.txt"
    "$GRIFFIN" roofline --quick --json >"$tmp/r.json" 2>&1
    check "griffin roofline --quick --json exits 0" test $? -eq 0
    if [[ $JSONQ == none ]]; then
        skip=$((skip + 1)); echo "SKIP: neither jq nor python3 found: the roofline JSON checks were not run"
    else
        n=$(jcount "$tmp/r.json" '[.results[] | select(.read_gbs > 0 and .copy_gbs > 0 and .sgemm_peak_gflops > 0)] | length' \
            "len([r for r in d['results'] if r['read_gbs']>0 and r['copy_gbs']>0 and r['sgemm_peak_gflops']>0])")
        check "roofline JSON: 1 and all threads with positive limits" test "$n" -ge 1
        n=$(jcount "$tmp/r.json" '.machine.fingerprint | length' "len(d['machine']['fingerprint'])")
        check "roofline JSON carries the machine fingerprint" test "$n" -eq 16
    fi
    "$GRIFFIN" roofline --bogus >"$tmp/bogus.txt" 2>&1
    check "griffin roofline rejects an unknown flag (exit 2)" bash -c "test $? -eq 2 && grep -q -- '--bogus' '$tmp/bogus.txt'"
    "$GRIFFIN" roofline --help >/dev/null 2>&1
    check "griffin roofline --help exits 0" test $? -eq 0
    # ---- 4. bench-model builds the preset's model (its window, not 0) ----------
    "$GRIFFIN" bench-model --preset tiny-griffin --batch 1 --seq 16 --decode-batch 1 --steps 1 --reps 1 \
        --threads 1 >"$tmp/bm.txt" 2>&1
    check "griffin bench-model tiny-griffin exits 0" test $? -eq 0
    check "bench-model runs tiny-griffin at the preset's window 8 (got: $(grep -o 'window [0-9-]*' "$tmp/bm.txt"))" \
        grep -q '^model tiny-griffin (griffin, pattern RRL, window 8)' "$tmp/bm.txt"
else
    bad "griffin binary at $GRIFFIN"
fi

if [[ $skip -gt 0 ]]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[[ $fail -eq 0 ]]
