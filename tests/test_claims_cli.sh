#!/usr/bin/env bash
# test_claims_cli.sh — `griffin claims`, `--json` and `evaluate FILE.json`:
# the table, the JSON shape, verdicts with reasons, and clear usage errors.
set -u
. tests/lib.sh claims-cli

"$G" claims > "$D/table.txt"; ok $? "griffin claims exits 0"
grep -q "^train_step_vs_T" "$D/table.txt" && grep -q "reproduced" "$D/table.txt"; ok $? "table lists claims with rules"
"$G" claims --help > /dev/null; ok $? "--help exits 0"
"$G" claims --json > "$D/reg.json"; ok $? "--json exits 0"
if command -v python3 > /dev/null; then
    python3 - "$D/reg.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and len(d) >= 12
for c in d:
    for k in ("id", "paper", "statement", "reproduced_if", "not_reproduced_if", "inputs"):
        assert k in c, (c.get("id"), k)
    for i in c["inputs"]:
        assert set(("name", "unit", "min", "max")) <= set(i), i
PY
    ok $? "registry JSON shape (python json)"
fi
cat > "$D/in.json" <<'J'
{"train_step_vs_T": {"mqa_growth": 1.6, "hawk_growth": 1.0, "griffin_growth": 1.05, "reps": 5, "busy": 0.01, "spread": 0.01},
 "decode_throughput_order": {"hawk_tps": 800, "griffin_tps": 1000, "mqa_tps": 300, "reps": 5, "busy": 0.01, "spread": 0.01},
 "decode_memory_bound": {"ratio_min": 1, "ratio_max": 1.5, "bytes_over_cache": 3, "bandwidth_gbs": null, "reps": 5, "busy": 0, "spread": 0.01},
 "latency_below_mqa": {"mqa_time": 2, "hawk_time": 1}}
J
"$G" claims evaluate "$D/in.json" > "$D/out.json"; ok $? "evaluate exits 0"
grep -q '"train_step_vs_T":{"verdict":"reproduced"' "$D/out.json"; ok $? "evaluate: reproduced"
grep -q '"decode_throughput_order":{"verdict":"not reproduced"' "$D/out.json"; ok $? "evaluate: Hawk slower than Griffin is not reproduced"
grep -q '"decode_memory_bound":{"verdict":"inconclusive","why":"input bandwidth_gbs.*NaN' "$D/out.json"; ok $? "evaluate: null input is NaN, inconclusive"
grep -q '"latency_below_mqa":{"verdict":"inconclusive","why":"input griffin_time.*missing' "$D/out.json"; ok $? "evaluate: missing input named"
"$G" claims evaluate - < "$D/in.json" | cmp -s - "$D/out.json"; ok $? "evaluate reads stdin"
echo '{"no_such_claim": {}}' > "$D/bad1.json"
"$G" claims evaluate "$D/bad1.json" 2> "$D/e1.txt"; [[ $? -eq 2 ]] && grep -q no_such_claim "$D/e1.txt"; ok $? "unknown claim exits 2 naming it"
echo '{"train_step_vs_T": {"mqa_growth": "big"}}' > "$D/bad2.json"
"$G" claims evaluate "$D/bad2.json" 2> "$D/e2.txt"; [[ $? -eq 2 ]] && grep -q mqa_growth "$D/e2.txt"; ok $? "non-number input exits 2"
printf '{"train_step_vs_T": {' > "$D/bad3.json"
"$G" claims evaluate "$D/bad3.json" 2> "$D/e3.txt"; [[ $? -eq 2 ]] && grep -q "not valid JSON" "$D/e3.txt"; ok $? "truncated JSON exits 2"
"$G" claims evaluate "$D/none.json" 2> /dev/null; [[ $? -eq 2 ]]; ok $? "missing file exits 2"
"$G" claims frobnicate 2> /dev/null; [[ $? -eq 2 ]]; ok $? "unknown subcommand exits 2"
finish
