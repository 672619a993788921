#!/usr/bin/env bash
# test_ab_speed.sh — scripts/ab-speed.sh's report judges the rule it states: on
# synthetic pairs it establishes a bound that holds, refutes one that does not
# (slower and faster), calls a wide interval or too few pairs inconclusive, and
# excludes the pairs taken while the machine was busy or a run failed. Also its
# usage errors. Measures nothing (the measurement itself is scripts/ab-speed.sh).
set -u
S="bash scripts/ab-speed.sh"
. tests/lib.sh ab-speed

$S --help > "$D/help.txt"; ok $? "--help exits 0"
grep -q "established when the interval lies inside" "$D/help.txt"; ok $? "--help states the rule"
$S --bogus > /dev/null 2>&1; [[ $? -eq 2 ]]; ok $? "unknown option exits 2"
$S --rounds 0 > /dev/null 2>&1; [[ $? -eq 2 ]]; ok $? "--rounds 0 exits 2"
$S --report --raw "$D/none.tsv" 2> "$D/e.txt"; [[ $? -eq 2 ]] && grep -q "none.tsv" "$D/e.txt"; ok $? "report without data: exit 2 naming the file"
if ! command -v python3 > /dev/null; then
    skipped "no python3: the report is not tested" 9; finish
fi
# preset P, pair k: before = 10, after = 10 x ratio (ms/step: ratio = after / before);
# 12 pairs per preset; p-ok ratios 0.99..1.01, p-slow 1.09..1.11, p-fast 0.89..0.91,
# p-wide 0.80..1.20, p-few 2 pairs only; p-ok also has 3 busy pairs (others 0.5, ratio 2)
# and one failed run
awk 'BEGIN {
    OFS = "\t"; print "chunk", "round", "preset", "slot", "which", "rc", "others", "steal", "case", "value"
    split("p-ok 1.00 0.01 p-slow 1.10 0.01 p-fast 0.90 0.01 p-wide 1.00 0.2", a, " ")
    for (p = 1; p <= 10; p += 3) for (k = 0; k < 12; k++) {
        r = a[p + 1] + a[p + 2] * (2 * (k % 6) / 5 - 1)
        print "c", k, a[p], 1, "before", 0, "0.001", "0", "decode B=1 ms/step", 10
        print "c", k, a[p], 2, "after", 0, "0.001", "0", "decode B=1 ms/step", 10 * r
        # tok/s: the same ratio the other way up
        print "c", k, a[p], 1, "before", 0, "0.001", "0", "prefill tok/s", 1000
        print "c", k, a[p], 2, "after", 0, "0.001", "0", "prefill tok/s", 1000 / r
    }
    for (k = 0; k < 3; k++) {
        print "c", 20 + k, "p-ok", 3, "after", 0, "0.5", "0", "decode B=1 ms/step", 20
        print "c", 20 + k, "p-ok", 4, "before", 0, "0.001", "0", "decode B=1 ms/step", 10
    }
    print "c", 30, "p-ok", 1, "before", 1, "0.001", "0", "-", 0
    print "c", 30, "p-ok", 2, "after", 0, "0.001", "0", "decode B=1 ms/step", 30
    for (k = 0; k < 2; k++) {
        print "c", k, "p-few", 1, "before", 0, "0", "0", "decode B=1 ms/step", 10
        print "c", k, "p-few", 2, "after", 0, "0", "0", "decode B=1 ms/step", 10
    }
}' > "$D/raw.tsv"
$S --report --raw "$D/raw.tsv" > "$D/rep.txt" 2>&1; ok $? "report exits 0 (any verdict)"
row() { grep -E "^\| $1 \| $2 \|" "$D/rep.txt"; }
row p-ok "decode B=1 ms/step" | grep -q "| 12 | 1.000 | .* | established |"; ok $? "ratios within 1% of 1: established ($(row p-ok "decode B=1 ms/step"))"
row p-ok "prefill tok/s" | grep -q "| established |"; ok $? "tok/s judged the other way up: established"
row p-slow "decode B=1 ms/step" | grep -q "refuted (slower)"; ok $? "10% slower: refuted ($(row p-slow "decode B=1 ms/step"))"
row p-fast "prefill tok/s" | grep -q "refuted (faster)"; ok $? "10% faster: refuted, faster"
row p-wide "decode B=1 ms/step" | grep -q "inconclusive (width"; ok $? "wide spread: inconclusive with the width"
row p-few "decode B=1 ms/step" | grep -q "inconclusive (2 pairs"; ok $? "2 pairs: inconclusive"
grep -q "3 excluded as busy" "$D/rep.txt" && grep -q "1 excluded as failed" "$D/rep.txt"; ok $? "busy and failed pairs excluded and counted: $(grep '^pairs:' "$D/rep.txt")"
grep -q "^verdict: refuted" "$D/rep.txt"; ok $? "overall: refuted when any case is"
grep -v "p-slow\|p-fast" "$D/raw.tsv" | grep -v "p-wide\|p-few" > "$D/ok.tsv"
$S --report --raw "$D/ok.tsv" > "$D/rep-ok.txt"
grep -q "^verdict: established (2 of 2" "$D/rep-ok.txt"; ok $? "overall: established when every case is"
grep -q "^pooled (secondary): .*: established" "$D/rep-ok.txt" && grep -q "^pooled (secondary): .*: inconclusive" "$D/rep.txt"; ok $? "pooled line judged by the same rule"
finish
