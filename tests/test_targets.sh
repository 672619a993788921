#!/usr/bin/env bash
# test_targets.sh — `bench-model --record`, `griffin targets` and scripts/targets.sh:
# rows recorded per case, every verdict reachable from a record file (met, missed,
# inconclusive for too few / straddling / busy rounds), --fail-on-miss, bad files
# refused with file:line, and the round-robin script end to end on a small model.
set -u
. tests/lib.sh targets

"$G" targets --rules > "$D/rules.txt"; ok $? "targets --rules exits 0"
grep -q "1.15x the memory limit" "$D/rules.txt" && grep -q "inconclusive" "$D/rules.txt"; ok $? "--rules states targets and verdict rule"
"$G" targets --help > /dev/null; ok $? "targets --help exits 0"
"$G" targets 2> "$D/e0.txt"; [[ $? -eq 2 ]] && grep -q "no record file" "$D/e0.txt"; ok $? "no file: exit 2 naming the problem"
"$G" targets --bogus 2> /dev/null; [[ $? -eq 2 ]]; ok $? "unknown flag: exit 2"
"$G" targets "$D/none.tsv" 2> "$D/e1.txt"; [[ $? -eq 2 ]] && grep -q "none.tsv" "$D/e1.txt"; ok $? "missing file: exit 2 naming it"

# one real run: a small model, prefill at T=1024 (a small-preset target) and decode (none)
"$G" bench-model --preset small-hawk --batch 1 --seq 1024 --decode-batch 1 --reps 1 --steps 1 --record "$D/r.tsv" > "$D/bm.txt"
ok $? "bench-model --record exits 0"
grep -q "target (issue 13): >= 70% of sgemm" "$D/bm.txt"; ok $? "bench-model prints the prefill target in this run"
grep -Eq "others took|interference not measured" "$D/bm.txt"; ok $? "bench-model prints the interference per case"
check "record: header + prefill + decode rows" '[[ $(grep -c "^#" "$D/r.tsv") -eq 1 && $(grep -vc "^#" "$D/r.tsv") -eq 2 ]]'
check "record: prefill row for small-hawk at T=1024" 'grep -Pq "\tsmall-hawk\tf32\tprefill\t1\t1024\t" "$D/r.tsv"'
grep -q "the weights themselves read at [0-9.]* GB/s" "$D/bm.txt"; ok $? "bench-model prints the weights' own read rate for decode"
check "record: v2 header; the decode row has a finite wread_gbs, the prefill row NaN" 'grep -q "^# griffin targets v2:.* wread_gbs$" "$D/r.tsv" && awk -F"\t" '"'"'$5=="decode" && NF==16 && $16+0>0 {d=1} $5=="prefill" && NF==16 && $16=="nan" {p=1} END {exit !(d&&p)}'"'"' "$D/r.tsv"'
check "record: the OpenMP setting the run used" 'grep -Pq "\tprefill\t1\t1024\t[0-9]+\t(GOMP_SPINCOUNT|OMP_WAIT_POLICY)=[^\t]+\t" "$D/r.tsv"'
"$G" targets "$D/r.tsv" > "$D/t1.txt"; ok $? "targets on one round exits 0"
grep -q "inconclusive: 1 judged round of 1, need 3\|inconclusive: 0 judged rounds of 1" "$D/t1.txt"; ok $? "one round: inconclusive, saying why"
grep -q "0 met, 0 missed, 1 inconclusive" "$D/t1.txt"; ok $? "one round: summary line"
grep -q "no target in issue 13" "$D/t1.txt"; ok $? "small decode: counted as having no target"
"$G" bench-model --preset small-hawk --batch 1 --seq 8 --decode-batch 1 --reps 1 --steps 1 --record /nonexistent-dir/x.tsv > /dev/null 2> "$D/e2.txt"
[[ $? -eq 1 ]] && grep -q "/nonexistent-dir/x.tsv" "$D/e2.txt"; ok $? "bench-model --record to an unwritable path: exit 1 naming it"

# crafted rounds: hawk-400m bf16 decode. memory limit = bytes / read = 1e9 / 1e10 = 0.1 s
H=$(head -1 "$D/r.tsv")
row() { printf '1\tabc\thawk-400m\tbf16\tdecode\t%s\t48\t2\t%s\t%s\t%s\t1e9\t100\t10\t%s\n' "$1" "${OMPSET:-GOMP_SPINCOUNT=3000}" "$2" "$3" "$4"; }
{ echo "$H"; for s in 0.105 0.110 0.112; do row 1 $s 1e9 0.01; done; } > "$D/met.tsv"
"$G" targets "$D/met.tsv" > "$D/t2.txt"; ok $? "met file exits 0"
grep -q "decode B=1 .*met: all 3 judged rounds meet it" "$D/t2.txt"; ok $? "three rounds at 1.05-1.12x: met"
# the same steps with the weights' own read rate recorded (v2 rows): at 12.5 GB/s the limit is 0.08 s, 1.31-1.40x: missed
{ echo "$H"; for s in 0.105 0.110 0.112; do printf '%s\t12.5\n' "$(row 1 $s 1e9 0.01)"; done; } > "$D/wread.tsv"
"$G" targets "$D/wread.tsv" > "$D/t2w.txt"
grep -q "decode B=1 .*missed: none of 3" "$D/t2w.txt" && grep -q "memory limits: 3 rounds at the weights' own read rate, 0 at the probe" "$D/t2w.txt"
ok $? "v2 rows: the weights' own rate is the limit (the met steps miss at 12.5 GB/s), and the table says which rate"
grep -q "memory limits: 0 rounds at the weights' own read rate, 3 at the probe" "$D/t2.txt"; ok $? "v1 rows: the probe's rate, said so"
{ echo "$H"; for s in 0.120 0.130 0.125; do row 1 $s 1e9 0.01; done; } > "$D/miss.tsv"
"$G" targets "$D/miss.tsv" > "$D/t3.txt"; ok $? "missed file exits 0 without --fail-on-miss"
grep -q "missed: none of 3 judged rounds" "$D/t3.txt"; ok $? "three rounds at 1.20-1.30x: missed"
"$G" targets --fail-on-miss "$D/miss.tsv" > /dev/null; [[ $? -eq 1 ]]; ok $? "--fail-on-miss: exit 1 on a missed cell"
"$G" targets --fail-on-miss "$D/met.tsv" > /dev/null; ok $? "--fail-on-miss: exit 0 when nothing missed"
{ echo "$H"; for s in 0.105 0.130 0.110; do row 1 $s 1e9 0.01; done; } > "$D/mix.tsv"
"$G" targets "$D/mix.tsv" > "$D/t4.txt"
grep -q "inconclusive: 2 of 3 judged rounds meet it" "$D/t4.txt"; ok $? "straddling rounds: inconclusive with the count"
{ echo "$H"; row 1 0.105 1e9 0.01; row 1 0.110 1e9 0.20; row 1 0.112 1e9 0.0; } > "$D/busy.tsv"
"$G" targets "$D/busy.tsv" > "$D/t5.txt"
grep -q "inconclusive: 2 judged rounds of 3, need 3 (not judged: 1 busy" "$D/t5.txt" && grep -q "1.10x\*" "$D/t5.txt"
ok $? "a busy round is marked and not judged: inconclusive"
"$G" targets --busy-max 0.5 "$D/busy.tsv" | grep -q "met: all 3"; ok $? "--busy-max raises the bar for busy"
# B=16 against the larger limit, B=64 against sgemm: compute 1e12 / 1e11 = 10 s
{ echo "$H"; for s in 14 14.5 14.9; do row 16 $s 1e12 0; done; for s in 20 21 22; do row 64 $s 1e12 0; done; } > "$D/bx.tsv"
"$G" targets "$D/bx.tsv" > "$D/t6.txt"
grep -q "decode B=16 .*met" "$D/t6.txt" && grep -q "decode B=64 .*missed" "$D/t6.txt" && grep -q "1 met, 1 missed, 0 inconclusive" "$D/t6.txt"
ok $? "B=16 met at 1.4-1.49x, B=64 missed at 45-50%"
# two builds are two cells, never pooled
{ echo "$H"; for s in 0.105 0.110; do row 1 $s 1e9 0; done; row 1 0.112 1e9 0 | sed 's/\tabc\t/\tdef\t/'; } > "$D/two.tsv"
"$G" targets "$D/two.tsv" | grep -c "^hawk-400m .*inconclusive" | grep -q "^2$"; ok $? "rounds of two builds: two cells"
sed 's/\tabc\t/\t0123456789ab+\t/' "$D/met.tsv" > "$D/dirty.tsv"
"$G" targets "$D/dirty.tsv" | grep -q " 0123456789ab+ "; ok $? "a dirty build's 12-digit hash is shown with its +"
{ echo "$H"; for s in 0.105 0.110 0.112; do row 1 $s 1e9 0; done; for s in 0.120 0.125 0.130; do OMPSET=GOMP_SPINCOUNT=300000 row 1 $s 1e9 0; done; } > "$D/omp.tsv"
"$G" targets "$D/omp.tsv" > "$D/t7.txt"
grep -q "GOMP_SPINCOUNT=3000 .*met" "$D/t7.txt" && grep -q "GOMP_SPINCOUNT=300000 .*missed" "$D/t7.txt"
ok $? "two OpenMP settings: two cells, each shown with its setting"
grep -q "OpenMP wait setting of every round: GOMP_SPINCOUNT=3000" "$D/t2.txt"; ok $? "one setting: stated once"
# bad files
{ cat "$D/met.tsv"; printf '1\tabc\thawk-400m\tbf16\tdecode\t1\t48\t2\t-\t0.1'; } > "$D/trunc.tsv"
"$G" targets "$D/trunc.tsv" 2> "$D/e3.txt"; [[ $? -eq 2 ]] && grep -q "trunc.tsv:5: truncated" "$D/e3.txt"; ok $? "truncated last line: exit 2 naming file:line"
{ echo "$H"; printf '1\tabc\thawk-400m\tbf16\tdecode\t1\t48\t2\t-\tfast\t1e9\t1e9\t100\t10\t0\n'; } > "$D/bad.tsv"
"$G" targets "$D/bad.tsv" 2> "$D/e4.txt"; [[ $? -eq 2 ]] && grep -q "bad.tsv:2: field seconds" "$D/e4.txt"; ok $? "bad number: exit 2 naming the field"
echo "$H" > "$D/empty.tsv"
"$G" targets "$D/empty.tsv" 2> "$D/e5.txt"; [[ $? -eq 2 ]] && grep -q "no rounds" "$D/e5.txt"; ok $? "header only: exit 2, no rounds"

# the script: two rounds, round-robin, then the verdict
scripts/targets.sh --help | grep -q -- "--rounds R"; ok $? "targets.sh --help"
scripts/targets.sh --bogus 2> /dev/null; [[ $? -eq 2 ]]; ok $? "targets.sh unknown flag: exit 2"
scripts/targets.sh --rounds x 2> /dev/null; [[ $? -eq 2 ]]; ok $? "targets.sh bad --rounds: exit 2"
scripts/targets.sh --weights f16 2> /dev/null; [[ $? -eq 2 ]]; ok $? "targets.sh unknown weights: exit 2"
scripts/targets.sh --griffin "$G" --dry-run --rounds 2 --weights "f32 bf16" --presets "hawk-400m mqa-1b" > "$D/dry.txt"
check "dry run: 2 rounds x 4 cells" '[[ $(grep -c "bench-model --preset" "$D/dry.txt") -eq 8 ]]'
check "dry run: round-robin order" '[[ $(sed -n 1p "$D/dry.txt" | grep -c hawk-400m) -eq 1 && $(sed -n 5p "$D/dry.txt" | grep -c hawk-400m) -eq 1 ]]'
scripts/targets.sh --griffin "$G" --dry-run --rounds 1 --presets "" --small > "$D/dry2.txt"
check "dry run --small: the three small presets with training" '[[ $(grep -c -- "--train" "$D/dry2.txt") -eq 3 ]]'
scripts/targets.sh --griffin "$G" --rounds 2 --presets small-hawk --weights f32 --extra "--seq 1024 --reps 1 --steps 1 --decode-batch 1" \
    --out "$D/s.tsv" > "$D/s.txt" 2> "$D/s.err"
ok $? "targets.sh end to end on a small preset"
check "script: 2 rounds x (prefill + decode) rows" '[[ $(grep -vc "^#" "$D/s.tsv") -eq 4 ]]'
check "script: progress on stderr" 'grep -q "round 2/2, cell 1/1: small-hawk f32" "$D/s.err"'
check "script: judged at the end" 'grep -q "0 met, 0 missed, 1 inconclusive" "$D/s.txt"'
check "script: bench-model output kept" 'grep -q "=== round 1/2" "$D/s.tsv.log"'
finish
