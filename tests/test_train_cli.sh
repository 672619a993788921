#!/usr/bin/env bash
# test_train_cli.sh — smoke training through the CLI: the loss decreases,
# a resumed run reproduces an uninterrupted one bit for bit, a NaN stops
# with an error naming the step and keeps the last good checkpoint, SIGINT
# saves and exits, bad flags are usage errors.
set -u
. tests/lib.sh train-cli
C=/usr/share/common-licenses
common=(--preset tiny-hawk --corpus "$C" --seq 64 --batch 4 --threads 2 --no-db --quiet --seed 3)

# 1) loss decreases over a few dozen steps (text)
"$G" train "${common[@]}" --steps 40 --lr 1e-2 --o "$D/a.safetensors"; ok $? "train runs"
first=$(awk -F, 'NR==2{print $2}' "$D/a.safetensors.csv")
last=$(awk -F, '$2!=""{l=$2} END{print l}' "$D/a.safetensors.csv")
awk -v a="$first" -v b="$last" 'BEGIN{exit !(b < a - 0.3)}'; ok $? "loss decreases ($first -> $last)"
[[ -f "$D/a.safetensors" && -f "$D/a.safetensors.train" ]]; ok $? "checkpoint and optimizer state written"

# 2) resume bit for bit: 20 steps straight vs 10 + resume 10
"$G" train "${common[@]}" --steps 20 --o "$D/full.safetensors"; ok $? "uninterrupted run"
# a run whose schedule is for 20 steps, stopped (and saved) at step 10
"$G" train "${common[@]}" --steps 20 --o "$D/r.safetensors" --stop-at 10; ok $? "run stopped at step 10"
"$G" train "${common[@]}" --steps 20 --resume "$D/r.safetensors" --o "$D/r.safetensors"; ok $? "resume"
a=$(awk -F, '$1==20 && $2!=""{print $2}' "$D/full.safetensors.csv")
b=$(awk -F, '$1==20 && $2!=""{print $2}' "$D/r.safetensors.csv")
[[ -n "$a" && "$a" == "$b" ]]; ok $? "resumed loss at step 20 equals the uninterrupted one ($a vs $b)"
cmp -s "$D/full.safetensors" "$D/r.safetensors"; ok $? "resumed parameters bit-identical"

# 3) NaN: a huge learning rate (1000, the largest --lr accepts) blows up; error names the step, checkpoint kept
"$G" train "${common[@]}" --steps 60 --lr 1000 --clip 0 --warmup 0 --ckpt-every 1 --o "$D/nan.safetensors" 2>"$D/nan.err"
rc=$?
[[ $rc -eq 1 ]]; ok $? "NaN run exits 1 (got $rc)"
grep -Eq "step [0-9]+: (loss|gradient norm) is (NaN|infinite)" "$D/nan.err"; ok $? "NaN error names the step: $(head -c 200 "$D/nan.err")"
"$G" generate --m "$D/nan.safetensors" --n 4 --quiet 2>/dev/null; ok $? "last good checkpoint still loads"

# 4) SIGINT saves and exits
# the signal goes in once the trainer has used 1.5 s of CPU (it is training
# by then): CPU time, unlike a sleep, does not shrink on a loaded machine
"$G" train "${common[@]}" --steps 100000 --o "$D/int.safetensors" &
pid=$!
t0=$SECONDS
while kill -0 $pid 2>/dev/null && (( SECONDS - t0 < 120 )); do
    read -r -a st < /proc/$pid/stat 2>/dev/null || break
    (( st[13] + st[14] >= 150 * $(getconf CLK_TCK) / 100 )) && break # utime + stime
    sleep 0.05
done
kill -INT $pid; wait $pid; rc=$?
[[ $rc -eq 130 && -f "$D/int.safetensors" && -f "$D/int.safetensors.train" ]]; ok $? "SIGINT saves and exits 130 (rc $rc)"

# 5) synthetic task + eval
"$G" train --preset synth-hawk --task induction --task-vocab 16 --seq 32 --batch 8 --steps 5 --no-db --quiet --o "$D/ih.safetensors"; ok $? "task training"
"$G" eval --m "$D/ih.safetensors" --task induction --task-vocab 16 --lengths 32,64 --n 16 > "$D/ev.txt"; ok $? "eval"
[[ $(grep -c '^ *[0-9]' "$D/ev.txt") -eq 2 ]]; ok $? "eval prints one row per length"
"$G" eval -m "$D/ih.safetensors" --task induction --task-vocab 16 --lengths 32,64 --n 16 > "$D/ev1.txt"; ok $? "eval -m (one dash)"
cmp -s "$D/ev.txt" "$D/ev1.txt"; ok $? "-m and --m give the same evaluation"
"$G" eval -q > /dev/null 2>&1; [[ $? -eq 2 ]]; ok $? "unknown one-dash flag is a usage error"
"$G" eval --m "$D/a.safetensors" --task text --corpus "$C" --split "" --lengths 256 --docs 2 --chunk 100 > "$D/tx.txt"; ok $? "text eval with decode continuation"
grep -q "windows" "$D/tx.txt"; ok $? "text eval output"

# 6) usage errors
"$G" train --bogus 2>/dev/null; [[ $? -eq 2 ]]; ok $? "unknown flag exits 2"
"$G" train --preset tiny-hawk --task nope --o "$D/x" 2>/dev/null; [[ $? -eq 2 ]]; ok $? "unknown task exits 2"
"$G" train --preset tiny-hawk --corpus /nonexistent --o "$D/x" --quiet --no-db 2>/dev/null; [[ $? -eq 1 ]]; ok $? "missing corpus exits 1"
# 7) numeric flags: non-finite, out-of-range values are usage errors naming the flag
for bad in "--lr nan" "--lr inf" "--lr -1" "--lr 1e30" "--seq -5" "--batch 0" "--beta2 1" "--min-lr-ratio 2" "--steps 99999999999"; do
    "$G" train --preset tiny-hawk --no-db --o "$D/x" $bad 2>"$D/flag.err"; rc=$?
    [[ $rc -eq 2 && $(wc -l <"$D/flag.err") -eq 1 ]] && grep -q -- "${bad%% *}" "$D/flag.err"; ok $? "train $bad: exit 2, one line naming the flag (rc $rc: $(head -c 120 "$D/flag.err"))"
done
finish
