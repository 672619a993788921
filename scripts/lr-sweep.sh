#!/usr/bin/env bash
# lr-sweep.sh — how the copyret suite's learning rates were chosen: the same
# procedure for every family and every task. Each family is trained on each
# task at the cpu-preset shape (selective copying and induction for 1200
# steps, MQAR and phonebook for the suite's own budgets, 3000 and 200) with
# every rate of a small grid, on a validation seed (1000) that the suite never
# scores (the suite trains seeds 0, 1, 2 and evaluates on its own held-out
# streams). The rate with the highest final held-out token accuracy wins
# (per scored token: MQAR per query, phonebook per digit); ties go to the
# lower rate. Results go to OUT/sweep.csv (task, family, lr, final token
# accuracy) and the chosen rates to OUT/chosen.txt; suites/suite_copyret.c's
# rate table records them (scripts/lr-sweep-cpu.csv: the last run).
#
#   /work/bin/busy bash scripts/lr-sweep.sh [OUT]    # about 30-45 minutes on 2 cores
#   (MQAR and phonebook alone: 28 minutes on a shared machine)
#   TASKS="mqar phonebook" ... to sweep some tasks only
set -euo pipefail
cd "$(dirname "$0")/.."
G=${G:-build/griffin}
OUT=${1:-/tmp/griffin-lr-sweep}
mkdir -p "$OUT"
LRS=${LRS:-"1e-3 2e-3 5e-3"}
TASKS=${TASKS:-"selective-copy induction mqar phonebook"}
jobs=()
for task in $TASKS; do
    case $task in
        selective-copy) args="--task selective-copy --task-tokens 8 --seq 64 --window 32 --batch 16 --steps 1200" ;;
        induction) args="--task induction --seq 64 --window 32 --batch 16 --steps 1200" ;;
        mqar) args="--task mqar --task-tokens 4 --task-vocab 64 --seq 32 --window 16 --batch 16 --steps 3000" ;;
        phonebook) args="--task phonebook --task-tokens 6 --seq 235 --window 117 --batch 16 --steps 200" ;;
        *) echo "lr-sweep: unknown task $task" >&2; exit 2 ;;
    esac
    for f in mqa hawk griffin; do for lr in $LRS; do
        jobs+=("$task|$f|$lr|$args")
    done; done
done
run_one() {
    IFS='|' read -r task f lr args <<< "$1"
    local o="$OUT/$task-$f-$lr"
    # shellcheck disable=SC2086
    $G train --preset synth-$f $args --lr "$lr" --seed 1000 --threads 1 --eval-every 100 --eval-n 256 \
        --o "$o.st" --no-db --quiet > "$o.log" 2>&1 || { echo "$task,$f,$lr,failed"; return; }
    acc=$(awk -F, '$6=="heldout_token_accuracy" {v=$7} END {print v}' "$o.st.csv")
    echo "$task,$f,$lr,$acc"
}
export -f run_one
export G OUT
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {} | tee "$OUT/sweep.csv"
sort -t, -k1,1 -k2,2 -k4,4gr -k3,3g "$OUT/sweep.csv" | awk -F, '!seen[$1","$2]++ {print $1, $2, "lr", $3, "token accuracy", $4}' | tee "$OUT/chosen.txt"
