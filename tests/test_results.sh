#!/usr/bin/env bash
# test_results.sh — the results store and figures through the `griffin` binary:
# --help everywhere, two concurrent writer processes, SIGKILL mid-run, corrupt
# --db files, import-gbench + check exit codes, export, and every figure
# rendering (dumb terminal; PNG/SVG where gnuplot exists).
# Run: GRIFFIN_BIN=build/griffin bash tests/test_results.sh   (scripts/run-tests.sh sets it)
set -u
. tests/lib.sh results
T=$D
B=${GRIFFIN_BUILD:-$(dirname "$G")}
H="$B/tests/test_results"   # helper modes: --writer, --hang, --fill
if [[ ! -x "$G" || ! -x "$H" ]]; then echo "missing $G or $H (build first)"; echo "0 passed, 1 failed"; exit 1; fi
if "$G" results list --db "$T/probe.sqlite" 2>&1 | grep -q "built without SQLite"; then
    skipped "griffin was built without SQLite: every check skipped"; finish
fi

# --help on every command
for c in results import-gbench check compare baseline plot; do
    check "$c --help" '"$G" $c --help > "$T/help.txt" 2>&1 && grep -q "usage:" "$T/help.txt"'
done
check "unknown flag is a usage error" '"$G" results --nope > /dev/null 2>&1; [[ $? -eq 2 ]]'

# two writer processes at once lose nothing
DB="$T/conc.sqlite"
"$H" --writer "$DB" 20 & p1=$!
"$H" --writer "$DB" 20 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
check "concurrent writers exit 0" '[[ $r1 -eq 0 && $r2 -eq 0 ]]'
check "40 ok runs" '[[ $("$G" results list --db "$DB" --limit 0 | grep -c " ok ") -eq 40 ]]'
check "id latest = 40" '[[ $("$G" results id latest --db "$DB") == 40 ]]'

# many processes creating the same new database at once (the switch to WAL
# races): repeated, since the race is narrow
lost=0
for trial in 1 2 3 4 5 6 7 8; do
    DB="$T/race$trial.sqlite"; pids=()
    for k in 1 2 3 4 5 6; do "$H" --writer "$DB" 2 2>> "$T/race.err" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || lost=$((lost + 1)); done
    [[ $("$G" results list --db "$DB" --limit 0 | grep -c " ok ") -eq 12 ]] || lost=$((lost + 1))
done
check "6 processes creating one database at once, 8 trials: nothing lost" '[[ $lost -eq 0 ]] || { cat "$T/race.err"; false; }'

# SIGKILL in the middle of a run
DB="$T/kill.sqlite"
mkfifo "$T/fifo"
"$H" --hang "$DB" > "$T/fifo" & hp=$!
read -r -t 20 line < "$T/fifo"
check "writer ready" '[[ "$line" == ready ]]'
sleep 0.05
kill -9 $hp; wait $hp 2>/dev/null
check "killed run shown interrupted on next open" '"$G" results show 1 --db "$DB" | grep -q "status interrupted"'
check "killed run kept its finished cases" '[[ $("$G" results export 1 --csv --db "$DB" | wc -l) -ge 4 ]]'
if command -v sqlite3 > /dev/null; then
    check "integrity after SIGKILL" '[[ $(sqlite3 "$DB" "pragma integrity_check") == ok ]]'
else
    skipped "no sqlite3 shell: integrity check after SIGKILL" 1
fi

# corrupt or non-SQLite --db
echo "not a database" > "$T/text.sqlite"
"$G" results list --db "$T/text.sqlite" > /dev/null 2> "$T/err.txt"; rc=$?
check "text file: exit 2" '[[ $rc -eq 2 ]]'
check "text file: message names the file" 'grep -q "$T/text.sqlite: not an SQLite database" "$T/err.txt"'
{ printf 'SQLite format 3\0'; head -c 8192 /dev/urandom; } > "$T/garbage.sqlite"
"$G" check --db "$T/garbage.sqlite" > /dev/null 2> "$T/err.txt"; rc=$?
check "garbage after header: exit 2" '[[ $rc -eq 2 ]]'
check "garbage: message names the file" 'grep -q "garbage.sqlite" "$T/err.txt"'

# import-gbench, export, check exit codes
gb() { # gb FILE SCALE: 5 repetitions of one benchmark, times scaled
    { echo '{"context":{"host_name":"t","num_cpus":2},"benchmarks":['
      for r in 0 1 2 3 4; do
          [[ $r -gt 0 ]] && echo ','
          echo "{\"name\":\"scan/seq/T:1024/real_time\",\"run_name\":\"scan/seq/T:1024/real_time\",\"run_type\":\"iteration\",\"repetitions\":5,\"repetition_index\":$r,\"threads\":1,\"iterations\":10,\"real_time\":$(awk -v s="$2" -v r=$r 'BEGIN{print s*(100+r)}'),\"cpu_time\":1,\"time_unit\":\"us\"}"
      done
      echo ']}'; } > "$1"
}
DB="$T/check.sqlite"
gb "$T/g1.json" 1
check "import-gbench" '"$G" import-gbench --db "$DB" "$T/g1.json" > /dev/null'
check "check without baseline: exit 2" '"$G" check --db "$DB" > /dev/null 2>&1; [[ $? -eq 2 ]]'
check "check --json without baseline: exit 2, nothing judged" '"$G" check --db "$DB" --json > "$T/nj.json" 2>&1; [[ $? -eq 2 ]] && grep -q "\"result\":\"nothing judged\"" "$T/nj.json"'
for i in 2 3 4 5; do "$G" import-gbench --db "$DB" "$T/g1.json" > /dev/null; done
check "same numbers: exit 0" '"$G" check --db "$DB" > "$T/check.txt" 2>&1'
gb "$T/g2.json" 1.2
"$G" import-gbench --db "$DB" "$T/g2.json" > /dev/null
"$G" check --db "$DB" > "$T/check.txt" 2>&1; rc=$?
check "20% slower: exit 1" '[[ $rc -eq 1 ]] && grep -q "^  REGRESSED" "$T/check.txt" && grep -q "^result: REGRESSION" "$T/check.txt"'
"$G" check --db "$DB" --json > "$T/check.json" 2> "$T/check.err"; rc=$?
check "check --json: exit code unchanged (1)" '[[ $rc -eq 1 ]]'
"$G" check --db "$DB" --json --run 5 > "$T/clean.json" 2> "$T/check.err"; rc_clean=$?
check "check --json clean: exit 0" '[[ $rc_clean -eq 0 ]]'
if command -v python3 > /dev/null; then
    check "check --json: the regressed verdict with reason, interval, q and baseline" 'python3 - "$T/check.json" <<'"'"'PY'"'"'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["result"] == "regression" and d["exit_code"] == 1 and d["summary"]["regressed"] >= 1, d["summary"]
assert d["rule"]["alpha"] == 0.01
run = d["runs"][0]
assert run["baseline"] and run["setup_error"] is None and run["run"] == 6
f = [f for f in run["findings"] if f["metric"] == "real_time"][0]
assert f["verdict"] == "regressed" and f["kind"] == "timed" and f["tested"], f
assert f["q"] is not None and f["q"] <= 0.01 and f["p"] <= f["q"], f
assert 0 < f["interval"]["lo"] < f["change"] < f["interval"]["hi"] and f["interval"]["level"] == 0.95, f
assert abs(f["ratio"] - 1.2) < 0.01 and f["baseline_runs"] == 5 and f["reason"] and f["test"].startswith("t("), f
PY'
    check "check --json clean: every judged metric same" 'python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"result\"] == \"clean\" and d[\"exit_code\"] == 0
v = [f[\"verdict\"] for r in d[\"runs\"] for f in r[\"findings\"]]
assert v and set(v) <= {\"same\", \"not judged\"} and \"same\" in v, v
" "$T/clean.json"'
else
    skipped "no python3: check --json parse" 2
fi
check "check --since checks every new run" '"$G" check --db "$DB" --since 4 > /dev/null 2>&1; [[ $? -eq 1 ]]'
check "baseline set + check by name" '"$G" baseline set ref 1 --db "$DB" > /dev/null && "$G" check --db "$DB" --baseline ref --run 2 > /dev/null'
gb "$T/g3.json" 1.6   # two runs cannot measure the drift: compare assumes 5%, so a 20% change is not enough
"$G" import-gbench --db "$DB" "$T/g3.json" > /dev/null
check "compare: 60% slower flagged" '"$G" compare 1 latest --db "$DB" | grep -q "^  REGRESSED"'
check "compare: 20% slower with two runs only is not significant" '"$G" compare 1 6 --db "$DB" | grep -q "^  same .*real_time"'
check "export --csv" '[[ $("$G" results export latest --csv --db "$DB" | head -1 | cut -d, -f1) == run ]]'
if command -v python3 > /dev/null; then
    check "export --json is JSON with samples" '"$G" results export latest --json --db "$DB" | python3 -c "import json,sys; d=json.load(sys.stdin); assert len(d[\"results\"][0][\"samples\"])==5"'
else
    skipped "no python3: JSON export parse" 1
fi
check "bad run spec: exit 2" '"$G" results show nosuchrun --db "$DB" > /dev/null 2>&1; [[ $? -eq 2 ]]'

# figures
figs="scan attention roofline history fig3_train_step fig1b_decode_throughput fig4_latency fig4b_decode_model fig5_longctx fig6_copyret training"
"$G" plot all --db "$T/empty.sqlite" --out "$T/empty" --term dumb > /dev/null 2> "$T/plot.err"; rc=$?
if command -v gnuplot > /dev/null && command -v sqlite3 > /dev/null; then
    check "empty db: plot all exits 0" '[[ $rc -eq 0 ]]'
    for f in $figs; do check "placeholder $f" 'grep -q "no data yet" "$T/empty/$f.txt"'; done
    # every placeholder names a command that exists: a griffin command (and for
    # `griffin run`, a suite it knows) or a file of the tree
    hint_exists() { # hint_exists "CMD ARGS..."
        local w=($1)
        [[ ${w[0]} == bash ]] && w=("${w[@]:1}")
        case ${w[0]} in
        griffin) "$G" --help 2>&1 | grep -Eq "^  ${w[1]} " || return 1
                 [[ ${w[1]} != run ]] || "$G" run --help 2>&1 | grep -q "suites: .*\b${w[2]}\b" ;;
        *) [[ -e ${w[0]} ]] ;;
        esac
    }
    for f in $figs; do
        hint=$(grep -o "no data yet — run: [^ ]* [^ ]* [^ ]*" "$T/empty/$f.txt" | head -1 | sed 's/^no data yet — run: //')
        check "placeholder of $f names an existing command ($hint)" 'hint_exists "$hint"'
    done
    check "hint check refuses a command that does not exist" '! hint_exists "griffin run scan" && ! hint_exists "griffin nosuch x" && ! hint_exists "bash scripts/nosuch.sh"'
    "$H" --fill "$T/full.sqlite"
    "$G" plot all --db "$T/full.sqlite" --out "$T/full" --term dumb,png,svg > /dev/null 2> "$T/plot.err"; rc=$?
    check "full db: plot all exits 0" '[[ $rc -eq 0 ]]'
    for f in $figs; do
        check "dumb $f drawn" '[[ -s "$T/full/$f.txt" ]] && ! grep -q "no data yet" "$T/full/$f.txt"'
        check "png $f non-empty" '[[ $(head -c 4 "$T/full/$f.png" | tail -c 3) == PNG && $(stat -c %s "$T/full/$f.png") -gt 5000 ]]'
        check "svg $f" 'grep -q "<svg" "$T/full/$f.svg"'
    done
    check "footnote names machine and commit" 'grep -q "commit" "$T/full/fig5_longctx.txt"'
    check "unknown figure: exit 2" '"$G" plot nosuch --db "$T/full.sqlite" > /dev/null 2>&1; [[ $? -eq 2 ]]'
else
    skipped "gnuplot or sqlite3 missing: figure rendering" 61
fi
PATH=/nonexistent "$G" plot all --db "$T/full.sqlite" --out "$T/x" > /dev/null 2> "$T/nognu.txt"; rc=$?
check "no gnuplot: exit 2 with install hint" '[[ $rc -eq 2 ]] && grep -q "apt-get install gnuplot-nox" "$T/nognu.txt" && grep -q "griffin results export" "$T/nognu.txt"'
check "nightly.sh parses" 'bash -n scripts/nightly.sh'

finish
