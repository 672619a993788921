#!/usr/bin/env bash
# ab-speed.sh — is one commit's CPU speed within a bound of another's? Interleaved A/B
# pairs of `griffin bench-model` with the machine's interference recorded per run.
#
#   scripts/ab-speed.sh --build-only                     # build both (NO_CUDA=1), once
#   /work/bin/quiet scripts/ab-speed.sh --rounds 2       # one chunk of pairs (repeat)
#   scripts/ab-speed.sh --report                         # the table and the verdict
#
# Run `scripts/ab-speed.sh --help` for the method and the rule.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BEFORE=2ce24d9
AFTER=bc77bdc
DIR=/tmp/ab-speed
ROUNDS=1
PRESETS=small-mqa,small-hawk,small-griffin,base-mqa,base-hawk,base-griffin
BUSY_MAX=0.03
BOUND=0.03
SMALL_ARGS="--batch 2 --seq 256 --train --reps 5 --steps 16 --decode-batch 1,8"
BASE_ARGS="--batch 1 --seq 128 --train --reps 5 --steps 16 --decode-batch 1,8"
MODE=measure
RAW=""

usage() {
    cat <<EOF
usage: scripts/ab-speed.sh [--build-only | --report] [options]

Measures whether commit AFTER's CPU speed in \`griffin bench-model\` is within
--bound (3%) of commit BEFORE's, on a machine too noisy for separate runs.

Method. Both commits are exported (git archive) and built with \`make NO_CUDA=1\`
in DIR/REV. One round runs, for every preset in a shuffled order, four
bench-model invocations in ABBA order (BAAB on odd rounds): pair 1 = runs 1+2,
pair 2 = runs 3+4, so each pair's two runs are seconds apart and a linear drift
cancels over the quad. Each invocation (small presets: $SMALL_ARGS;
base presets: $BASE_ARGS; GRIFFIN_ROOFLINE=quick) gives five cases:
prefill tok/s, train tok/s, decode B=1 ms/step, decode B=8 ms/step (medians of
5 repetitions inside bench-model). Each run goes through build/tools/ab_busy
(scripts/ab_busy.c, kernels/busy.h): the fraction of the machine other
processes and the hypervisor took while it ran. Rows are appended to RAW
(DIR/pairs.tsv), so chunks run at different times add up to one measurement.

Per pair and case: ratio = after time / before time per unit of work
(tok/s: before / after), so > 1 means AFTER is slower. A pair is excluded when
either run's interference exceeds --busy-max (0.03, kernels/busy.h's
BUSY_JUDGE_MAX) or a run failed; the report says how many.

Rule (fixed before any run). Per case: the median of its pair ratios and the
distribution-free 95% interval for that median (order statistics of the sign
test). "Within the bound" is established when the interval lies inside
[1 - bound, 1 + bound]; refuted when it lies entirely outside it (slower or
faster); otherwise inconclusive, with the interval's width. Fewer than 6 pairs:
inconclusive (no 95% interval exists). Overall: established when every case is,
refuted when any case is, inconclusive otherwise.
A secondary line (added after the first two chunks of the first run had been seen;
the verdict above stays the per-case rule): per pair the geometric mean of its
cases' ratios, over all presets, judged by the same interval rule.

options:
  --before REV       baseline commit (default $BEFORE)
  --after REV        commit under test (default $AFTER)
  --dir DIR          builds and raw data (default $DIR)
  --raw FILE         raw rows (default DIR/pairs.tsv)
  --rounds N         ABBA quads per preset in this chunk (default $ROUNDS; one round
                     of the six presets takes about 2 minutes on 2 cores)
  --presets LIST     comma-separated presets (default $PRESETS)
  --busy-max F       interference above which a pair is excluded (default $BUSY_MAX)
  --bound F          the bound judged (default $BOUND)
  --build-only       build both commits and stop (run it under /work/bin/busy)
  --report           print the table and the verdict from RAW; measures nothing
  --help             this text
Run each measuring chunk under /work/bin/quiet and keep it under ~5 minutes.
Exit: 0 ok (also for any verdict), 1 a build or run failed, 2 usage error.
EOF
}

die() { echo "ab-speed: $1" >&2; exit "${2:-1}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --help|-h) usage; exit 0 ;;
        --before) BEFORE="${2:?--before needs a commit}"; shift 2 ;;
        --after) AFTER="${2:?--after needs a commit}"; shift 2 ;;
        --dir) DIR="${2:?--dir needs a folder}"; shift 2 ;;
        --raw) RAW="${2:?--raw needs a file}"; shift 2 ;;
        --rounds) ROUNDS="${2:-}"; shift 2 || die "--rounds needs a number" 2 ;;
        --presets) PRESETS="${2:?--presets needs a list}"; shift 2 ;;
        --busy-max) BUSY_MAX="${2:?--busy-max needs a fraction}"; shift 2 ;;
        --bound) BOUND="${2:?--bound needs a fraction}"; shift 2 ;;
        --build-only) MODE=build; shift ;;
        --report) MODE=report; shift ;;
        *) echo "ab-speed: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer, not '$ROUNDS'" 2
[[ "$BUSY_MAX" =~ ^0?\.[0-9]+$|^1$ ]] || die "--busy-max must be a fraction in [0, 1], not '$BUSY_MAX'" 2
[[ "$BOUND" =~ ^0?\.[0-9]+$ ]] || die "--bound must be a fraction in (0, 1), not '$BOUND'" 2
[ -n "$RAW" ] || RAW="$DIR/pairs.tsv"

report() {
    [ -s "$RAW" ] || die "no rows in $RAW yet: run a measuring chunk first" 2
    command -v python3 >/dev/null || die "the report needs python3" 2
    python3 - "$RAW" "$BUSY_MAX" "$BOUND" <<'PY'
import math, sys
from collections import defaultdict
raw, busy_max, bound = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
# rows: chunk round preset slot which rc others steal case value
runs = defaultdict(dict)   # (chunk, round, preset, slot) -> {"which", "ok", "others", "steal", case: value}
seen = set()               # (preset, case) with any value
for line in open(raw):
    f = line.rstrip("\n").split("\t")
    if len(f) != 10 or f[0] == "chunk":
        continue
    key = (f[0], int(f[1]), f[2], int(f[3]))
    r = runs[key]
    r["which"], r["ok"] = f[4], f[5] == "0"
    r["others"] = float(f[6]) if f[6] not in ("", "nan") else float("nan")
    r["steal"] = float(f[7]) if f[7] not in ("", "nan") else float("nan")
    if f[8] != "-":
        r[f[8]] = float(f[9])
        seen.add((f[2], f[8]))
CASES = ["prefill tok/s", "train tok/s", "decode B=1 ms/step", "decode B=8 ms/step"]
HIGHER = {"prefill tok/s", "train tok/s"}
ratios = defaultdict(list)
pooled = []                # per pair: the geometric mean of its cases' ratios
n_pairs = n_busy = n_failed = 0
others_all = []
presets = []
for (chunk, rnd, preset, slot) in sorted(runs):
    if preset not in presets:
        presets.append(preset)
    if slot % 2 == 0:
        continue
    a, b = runs[(chunk, rnd, preset, slot)], runs.get((chunk, rnd, preset, slot + 1))
    if b is None:
        continue
    n_pairs += 1
    pair = {a["which"]: a, b["which"]: b}
    others_all += [a["others"], b["others"]]
    if not (a["ok"] and b["ok"]) or set(pair) != {"before", "after"}:
        n_failed += 1
        continue
    if not all(x["others"] <= busy_max for x in (a, b)):   # NaN (unmeasured) counts as busy
        n_busy += 1
        continue
    logs = []
    for c in CASES:
        vb, va = pair["before"].get(c), pair["after"].get(c)
        if vb and va:
            ratios[(preset, c)].append(vb / va if c in HIGHER else va / vb)
            logs.append(math.log(ratios[(preset, c)][-1]))
    if logs:
        pooled.append(math.exp(sum(logs) / len(logs)))

def sign_interval(xs):
    """95% distribution-free interval for the median: (x_k, x_{n-k+1}), k the largest
    with P(Bin(n, 1/2) <= k - 1) <= 0.025; None when n < 6."""
    n = len(xs)
    xs = sorted(xs)
    k, cum = 0, 0.0
    while True:
        cum += math.comb(n, k) / 2 ** n          # P(Bin <= k)
        if cum > 0.025:
            break
        k += 1
    if k == 0:
        return None
    cover = 1 - 2 * sum(math.comb(n, j) for j in range(k)) / 2 ** n
    return xs[k - 1], xs[n - k], cover

def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2

lo_b, hi_b = 1 - bound, 1 + bound

def judge(xs):
    iv = sign_interval(xs)
    if iv is None:
        return f"inconclusive ({len(xs)} pairs: too few for a 95% interval)", ""
    lo, hi, cover = iv
    ivs = f"[{lo:.3f}, {hi:.3f}] ({cover:.1%})"
    if lo >= lo_b and hi <= hi_b:
        return "established", ivs
    if lo > hi_b:
        return "refuted (slower)", ivs
    if hi < lo_b:
        return "refuted (faster)", ivs
    return f"inconclusive (width {hi - lo:.3f})", ivs

verdicts = []
quiet = sorted(o for o in others_all if o == o)
print(f"raw rows: {raw}")
print(f"pairs: {n_pairs} taken, {n_busy} excluded as busy (a run above {busy_max:.0%} of the machine taken by others),"
      f" {n_failed} excluded as failed; interference per run: median {median(quiet):.1%}, max {max(quiet):.1%}" if quiet else "no runs")
print()
print(f"| preset | case | pairs | median after/before | 95% interval | verdict (within {bound:.0%}) |")
print("|---|---|---|---|---|---|")
for p in presets:
    for c in CASES:
        if (p, c) not in seen:
            continue
        xs = ratios.get((p, c), [])
        if not xs:
            print(f"| {p} | {c} | 0 | | | inconclusive (no pairs) |")
            verdicts.append("inconclusive")
            continue
        v, ivs = judge(xs)
        verdicts.append(v.split(" (")[0])
        print(f"| {p} | {c} | {len(xs)} | {median(xs):.3f} | {ivs} | {v} |")
print()
if verdicts and all(v == "established" for v in verdicts):
    overall = "established"
elif any(v == "refuted" for v in verdicts):
    overall = "refuted"
else:
    overall = "inconclusive"
est = sum(v == "established" for v in verdicts)
ref = sum(v == "refuted" for v in verdicts)
print(f"verdict: {overall} ({est} of {len(verdicts)} cases established, {ref} refuted, "
      f"{len(verdicts) - est - ref} inconclusive; bound {bound:.0%}, rule in --help)")
if pooled:
    v, ivs = judge(pooled)
    print(f"pooled (secondary): per pair the geometric mean of its cases' ratios, all presets: {len(pooled)} pairs, "
          f"median {median(pooled):.3f}, 95% interval {ivs or '-'}: {v}")
PY
}

if [ "$MODE" = report ]; then report; exit 0; fi

build_one() { # REV -> DIR/REV/build/griffin
    local rev="$1" d="$DIR/$1"
    if [ -x "$d/build/griffin" ]; then return 0; fi
    echo "ab-speed: building $rev in $d (make NO_CUDA=1)" >&2
    git -C "$ROOT" rev-parse --verify -q "$rev^{commit}" >/dev/null || die "unknown commit '$rev'" 2
    rm -rf "$d" && mkdir -p "$d"
    git -C "$ROOT" archive "$rev" | tar -x -C "$d" || die "cannot export $rev"
    make -C "$d" NO_CUDA=1 -j2 build/griffin >"$d/build.log" 2>&1 || die "build of $rev failed (see $d/build.log)"
}
mkdir -p "$DIR/tools"
AB_BUSY="$DIR/tools/ab_busy"
if [ ! -x "$AB_BUSY" ] || [ "$ROOT/scripts/ab_busy.c" -nt "$AB_BUSY" ]; then
    ${CC:-gcc} -std=c11 -D_GNU_SOURCE -O2 -Wall -I"$ROOT/kernels" "$ROOT/scripts/ab_busy.c" "$ROOT/kernels/busy.c" \
        "$ROOT/kernels/util.c" -lm -o "$AB_BUSY" || die "cannot build $AB_BUSY"
fi
build_one "$BEFORE"
build_one "$AFTER"
[ "$MODE" = build ] && { echo "ab-speed: built $DIR/$BEFORE and $DIR/$AFTER"; exit 0; }

# one invocation: append its rows (or one row with rc != 0) to RAW
run_one() { # chunk round preset slot which
    local chunk="$1" rnd="$2" preset="$3" slot="$4" which="$5" rev args out err rc
    rev=$([ "$which" = before ] && echo "$BEFORE" || echo "$AFTER")
    case "$preset" in small-*) args="$SMALL_ARGS" ;; *) args="$BASE_ARGS" ;; esac
    out=$(mktemp) err=$(mktemp)
    rc=0
    # shellcheck disable=SC2086
    GRIFFIN_ROOFLINE=quick "$AB_BUSY" "$DIR/$rev/build/griffin" bench-model "$preset" $args >"$out" 2>"$err" || rc=$?
    local busy others steal
    busy=$(grep '^ab_busy:' "$err" | tail -1)
    others=$(sed -n 's/.* others=\([^ ]*\).*/\1/p' <<<"$busy")
    steal=$(sed -n 's/.* steal=\([^ ]*\).*/\1/p' <<<"$busy")
    local pre="$chunk	$rnd	$preset	$slot	$which	$rc	${others:-nan}	${steal:-nan}"
    if [ "$rc" != 0 ]; then
        echo "ab-speed: $rev bench-model $preset failed (rc $rc): $(grep -v '^ab_busy:' "$err" | tail -1)" >&2
        printf '%s\t-\t0\n' "$pre" >>"$RAW"
    else
        awk -v pre="$pre" '
            /^prefill / { for (i = 1; i < NF; i++) if ($(i + 1) == "tokens/s,") print pre "\tprefill tok/s\t" $i }
            /^train / { for (i = 1; i < NF; i++) if ($(i + 1) == "tokens/s,") print pre "\ttrain tok/s\t" $i }
            /^decode / { sub("B=", "", $2); for (i = 1; i <= NF; i++) if ($i ~ /ms\/step/) { print pre "\tdecode B=" $2 " ms/step\t" $(i - 1); break } }
        ' "$out" >>"$RAW"
    fi
    rm -f "$out" "$err"
    printf '%s %-13s %-6s rc=%s others=%s\n' "$(date +%H:%M:%S)" "$preset" "$which" "$rc" "${others:-?}" >&2
}

[ -f "$RAW" ] || printf 'chunk\tround\tpreset\tslot\twhich\trc\tothers\tsteal\tcase\tvalue\n' >"$RAW"
CHUNK=$(date +%Y%m%dT%H%M%S)
R0=$(awk -F'\t' 'NR > 1 { r[$1 "/" $2] = 1 } END { print length(r) }' "$RAW")   # rounds already in RAW
IFS=, read -r -a PLIST <<<"$PRESETS"
for ((r = 0; r < ROUNDS; r++)); do
    # rounds alternate ABBA / BAAB over all chunks; the preset order is shuffled per round
    if [ $(((R0 + r) % 2)) = 0 ]; then ORDER=(before after after before); else ORDER=(after before before after); fi
    mapfile -t SHUF < <(printf '%s\n' "${PLIST[@]}" | shuf)
    for p in "${SHUF[@]}"; do
        for s in 1 2 3 4; do run_one "$CHUNK" "$r" "$p" "$s" "${ORDER[$((s - 1))]}"; done
    done
done
echo "ab-speed: chunk $CHUNK done; $(grep -c . "$RAW") rows in $RAW" >&2
