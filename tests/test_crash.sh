#!/usr/bin/env bash
# test_crash.sh — crash consistency: kill -9 at seeded random moments of
#  (a) `griffin run throughput --preset smoke` while it writes cases into one
#      database, and
#  (b) `griffin train --ckpt-every 1` while it writes checkpoints,
# GRIFFIN_CRASH_REPS times each (default 50). After every kill:
#  (a) PRAGMA integrity_check is ok; the killed run is not shown finished
#      (status running, then interrupted once griffin opens the database);
#      no result of an earlier run is lost; every stored result is whole
#      (its sample rows match its n); a final uninterrupted run is complete;
#  (b) the checkpoint is either absent (killed before the first save) or
#      loads, and --resume to the end gives parameters bit-identical to an
#      uninterrupted run (so the checkpoint was the old or the new step, whole,
#      with its matching optimizer state).
#   GRIFFIN_BIN=build/griffin bash tests/test_crash.sh   (seed: GRIFFIN_CRASH_SEED, default 12)
set -u
REPS=${GRIFFIN_CRASH_REPS:-50}
RANDOM=${GRIFFIN_CRASH_SEED:-12}
. tests/lib.sh crash
command -v sqlite3 >/dev/null || { echo "FAIL: the sqlite3 shell is needed (scripts/deps.sh installs it)"; echo "0 passed, 1 failed"; exit 1; }
# seconds, uniform below $1 ms (any length; RANDOM is 15 bits, so combine two)
delay() { local ms=$(( (RANDOM * 32768 + RANDOM) % $1 )); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
q() { sqlite3 "$DB" "$1"; }

# ---- (a) griffin run ---------------------------------------------------------
DB=$D/r.sqlite
run=(run throughput --preset smoke --no-plot --quiet --threads 1 --reps 1 --db "$DB")
t0=$(now_ms)
"$G" "${run[@]}" >/dev/null 2>&1 &
pid=$!
start_ms=0  # start-up: until the run's row exists (the busy pre-check, opening the store)
while kill -0 $pid 2>/dev/null; do
    [[ $start_ms -eq 0 && -f $DB && $(sqlite3 "$DB" "SELECT count(*) FROM run" 2>/dev/null) == 1 ]] && start_ms=$(( $(now_ms) - t0 ))
    sleep 0.01
done
wait $pid; ok $? "run: an uninterrupted reference run"
run_ms=$(( $(now_ms) - t0 )); (( run_ms > 100 )) || run_ms=100
(( start_ms > 0 && start_ms < run_ms - 50 )) || start_ms=0
# kill moments: even repetitions anywhere in a run (start-up included), odd
# ones after this repetition's own start-up (its run row exists), within the
# first 80% of the rest of the reference run, while cases are being written:
# timed from the event, not from the launch, so a slow start-up on a loaded
# machine does not move the kill before the run begins
kill_delay() { if (( $1 % 2 )); then delay $(( (run_ms - start_ms) * 8 / 10 + 1 )); else delay $run_ms; fi; }
wait_started() { # $1 pid, $2 run id the repetition creates
    while kill -0 $1 2>/dev/null && [[ $(sqlite3 "$DB" "SELECT count(*) FROM run WHERE id >= $2" 2>/dev/null) != 1 ]]; do sleep 0.005; done
}
full=$(q "SELECT count(*) FROM result WHERE run_id = 1")
[[ $full -gt 0 ]]; ok $? "run: the reference run stored its cases ($full results)"
bad_int=0; bad_status=0; bad_lost=0; bad_whole=0; killed=0; midrun=0
prev_total=$(q "SELECT count(*) FROM result"); prev_max=$(q "SELECT max(id) FROM run")
for ((i = 0; i < REPS; i++)); do
    "$G" "${run[@]}" >/dev/null 2>&1 &
    pid=$!
    (( i % 2 )) && wait_started $pid $((prev_max + 1))
    sleep "$(kill_delay $i)"
    kill -KILL $pid 2>/dev/null && killed=$((killed + 1))
    wait $pid 2>/dev/null; rc=$?
    [[ $(q "PRAGMA integrity_check") == ok ]] || { bad_int=$((bad_int + 1)); echo "  rep $i: integrity_check failed"; }
    last=$(q "SELECT max(id) FROM run")
    # nothing committed before this run is lost
    kept=$(q "SELECT count(*) FROM result WHERE run_id <= $prev_max")
    [[ $kept -eq $prev_total ]] || { bad_lost=$((bad_lost + 1)); echo "  rep $i: earlier runs hold $kept results, had $prev_total"; }
    if [[ $last -gt $prev_max ]]; then
        st=$(q "SELECT status FROM run WHERE id = $last")
        mine=$(q "SELECT count(*) FROM result WHERE run_id = $last")
        # shown finished only when it did finish: every case stored
        if [[ $st == ok && $mine -ne $full ]] || [[ $rc -eq 0 && $st != ok ]] || [[ $st != ok && $st != running ]]; then
            bad_status=$((bad_status + 1)); echo "  rep $i: rc $rc, run '$st' with $mine of $full results"
        fi
        [[ $st == running ]] && midrun=$((midrun + 1))
    fi
    n_bad=$(q "SELECT count(*) FROM result r WHERE r.n != (SELECT count(*) FROM sample s WHERE s.result_id = r.id)")
    [[ $n_bad -eq 0 ]] || { bad_whole=$((bad_whole + 1)); echo "  rep $i: $n_bad results without all their samples"; }
    prev_total=$(q "SELECT count(*) FROM result"); prev_max=$last
done
ok $bad_int "run: integrity_check ok after every kill ($bad_int bad of $REPS)"
ok $bad_status "run: a run is shown finished only with every case stored ($bad_status bad)"
ok $bad_lost "run: no result committed before a kill is lost ($bad_lost bad)"
ok $bad_whole "run: every stored result has all its samples ($bad_whole bad)"
[[ $midrun -ge $((REPS / 2)) ]]; ok $? "run: most kills landed mid-run ($midrun of $REPS; $killed killed at all)"
"$G" results list --db "$DB" --limit 0 >/dev/null 2>&1
n_running=$(q "SELECT count(*) FROM run WHERE status='running'")
n_int=$(q "SELECT count(*) FROM run WHERE status='interrupted'")
[[ $n_running -eq 0 && $n_int -eq $midrun ]]; ok $? "run: reopening marks every killed run interrupted ($n_int interrupted of $midrun, $n_running still running)"
"$G" "${run[@]}" >/dev/null 2>&1; ok $? "run: an uninterrupted run after the kills succeeds"
n=$(q "SELECT count(*) FROM result WHERE run_id = (SELECT max(id) FROM run)")
[[ $n -eq $full ]]; ok $? "run: the final run stored every case ($n of $full results)"

# ---- (b) griffin train --------------------------------------------------------
train=(train --preset tiny-hawk --task selective-copy --seq 32 --batch 2 --steps 120 --ckpt-every 1 --no-db --quiet --threads 1 --seed 5)
"$G" "${train[@]}" --o "$D/ref.safetensors" >/dev/null 2>&1; ok $? "train: reference run"
bad_load=0; bad_resume=0; bad_same=0; tkilled=0
for ((i = 0; i < REPS; i++)); do
    P=$D/k$i.safetensors
    "$G" "${train[@]}" --o "$P" >/dev/null 2>&1 &
    pid=$!
    sleep "$(delay 500)"
    kill -KILL $pid 2>/dev/null && tkilled=$((tkilled + 1))
    wait $pid 2>/dev/null
    if [[ -e $P ]]; then
        "$G" generate --m "$P" --n 1 --quiet >/dev/null 2>&1 || { bad_load=$((bad_load + 1)); echo "  rep $i: checkpoint does not load"; }
        "$G" "${train[@]}" --resume "$P" --o "$P" >/dev/null 2>"$D/err"
    else
        "$G" "${train[@]}" --o "$P" >/dev/null 2>"$D/err" # killed before the first save: start again
    fi
    [[ $? -eq 0 ]] || { bad_resume=$((bad_resume + 1)); echo "  rep $i: resume failed: $(head -c 200 "$D/err")"; }
    cmp -s "$P" "$D/ref.safetensors" || { bad_same=$((bad_same + 1)); echo "  rep $i: resumed parameters differ from the uninterrupted run"; }
    rm -f "$P" "$P".*
done
ok $bad_load "train: the checkpoint left by every kill loads ($bad_load bad)"
ok $bad_resume "train: resume after every kill succeeds ($bad_resume bad)"
ok $bad_same "train: resumed runs end bit-identical to the uninterrupted one ($bad_same bad)"
[[ $tkilled -ge $((REPS / 2)) ]]; ok $? "train: most repetitions were killed mid-run ($tkilled of $REPS)"
finish
