#!/usr/bin/env bash
# targets.sh — issue 13's speed targets as verdicts: ROUNDS rounds of
# `griffin bench-model` per preset and weight type, round-robin (every cell
# once per round, so a slow spell of the machine spreads over all cells
# instead of sinking one), each case appended to --out, then
# `griffin targets --out` judges every cell (met / missed / inconclusive; the
# rule: griffin targets --rules).
#
#   scripts/targets.sh                          # 3 rounds, the six 400M/1B presets, f32 and bf16, B = 1, 16, 64
#   scripts/targets.sh --rounds 5 --presets "hawk-400m griffin-400m" --weights bf16 --decode-batch 1
#   scripts/targets.sh --small                  # also the small presets' prefill and training (f32)
#   scripts/targets.sh --prefill                # also the 400M/1B prefill at B=1 T=1024 (f32; slow at 1B)
#
# Run it on a quiet machine: every case records the interference it was
# timed under, and a round timed while others took more than 3% is not
# judged. The bench-model output of every run goes to OUT.log.
set -euo pipefail

rounds=3
out=""
presets="mqa-400m hawk-400m griffin-400m mqa-1b hawk-1b griffin-1b"
weights="f32 bf16"
db="1,16,64"
small=0
prefill=0
extra=""
dry=0
G="${GRIFFIN:-build/griffin}"

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    cat <<EOF

flags:
  --rounds R          rounds per cell (default 3; a verdict needs 3 judged rounds)
  --out FILE          the record file (default results/targets-DATE.tsv); appended to, never rewritten
  --presets "P ..."   the 400M/1B presets to decode (default: $presets)
  --weights "W ..."   f32, bf16 or both (default: $weights)
  --decode-batch L    decode batch sizes (default $db)
  --small             also small-mqa, small-hawk, small-griffin: prefill and training at B=4 T=1024 (f32)
  --prefill           also the presets' prefill at B=1 T=1024 (f32 runs only)
  --extra "ARGS"      more bench-model flags, after the script's own (a later flag wins)
  --dry-run           print the commands, run nothing
  --griffin BIN       the griffin binary (default \$GRIFFIN or build/griffin)
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
    --rounds) rounds="${2:?--rounds needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --presets) presets="${2?--presets needs a value}"; shift 2 ;;
    --weights) weights="${2:?--weights needs a value}"; shift 2 ;;
    --decode-batch) db="${2:?--decode-batch needs a value}"; shift 2 ;;
    --small) small=1; shift ;;
    --prefill) prefill=1; shift ;;
    --extra) extra="${2?--extra needs a value}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    --griffin) G="${2:?--griffin needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "error: unknown flag $1 (scripts/targets.sh --help)" >&2; exit 2 ;;
    esac
done
case "$rounds" in '' | *[!0-9]* | 0) echo "error: --rounds must be a positive count (got '$rounds')" >&2; exit 2 ;; esac
for w in $weights; do
    case "$w" in f32 | bf16) ;; *) echo "error: --weights: unknown weight type '$w' (f32, bf16)" >&2; exit 2 ;; esac
done
[ -x "$G" ] || { echo "error: $G not found or not executable (run make, or pass --griffin BIN)" >&2; exit 2; }
[ -n "$out" ] || out="results/targets-$(date -u +%Y%m%d-%H%M).tsv"
mkdir -p "$(dirname "$out")"

# the cells of one round: "preset weights flags..."
cells=()
for p in $presets; do
    for w in $weights; do
        shape="--batch 1 --seq 8"
        [ "$prefill" = 1 ] && [ "$w" = f32 ] && shape="--batch 1 --seq 1024"
        cells+=("$p $w $shape --decode-batch $db --reps 5 --steps 8")
    done
done
if [ "$small" = 1 ]; then
    for p in small-mqa small-hawk small-griffin; do
        cells+=("$p f32 --batch 4 --seq 1024 --train --decode-batch 1 --steps 1 --reps 5")
    done
fi

n=${#cells[@]}
echo "targets: $rounds round(s) x $n cell(s), recording to $out (bench-model output: $out.log)" >&2
for ((r = 1; r <= rounds; r++)); do
    k=0
    for c in "${cells[@]}"; do
        k=$((k + 1))
        set -- $c
        p=$1 w=$2
        shift 2
        # $extra is split into words on purpose: it holds flags
        # shellcheck disable=SC2086
        cmd=("$G" bench-model --preset "$p" --weights "$w" "$@" $extra --record "$out")
        if [ "$dry" = 1 ]; then
            echo "${cmd[*]}"
            continue
        fi
        echo "round $r/$rounds, cell $k/$n: $p $w ($(date -u +%H:%M:%S))" >&2
        { echo "=== round $r/$rounds: ${cmd[*]}"; } >>"$out.log"
        if ! "${cmd[@]}" >>"$out.log" 2>&1; then
            echo "error: bench-model failed for $p $w in round $r (see $out.log); the rounds so far are in $out" >&2
            tail -3 "$out.log" >&2
            exit 1
        fi
    done
done
[ "$dry" = 1 ] && exit 0
"$G" targets "$out"
