#!/usr/bin/env bash
# test_concurrent.sh — several writers into one results database at once:
# 3 x `griffin run throughput --preset smoke`, 2 x `griffin train` and
# 3 x `griffin import-gbench`, all started together (twice: on a new database,
# so the creators race too, and on the existing one). Afterwards every run is
# complete (status ok, every case of every run stored, the same count as a run
# made alone), run ids and uuids are unique, integrity_check is ok, every
# process exited 0 and no "database is locked" / SQLITE_BUSY reached a user.
#   GRIFFIN_BIN=build/griffin bash tests/test_concurrent.sh
set -u
. tests/lib.sh conc
command -v sqlite3 >/dev/null || { echo "FAIL: the sqlite3 shell is needed (scripts/deps.sh installs it)"; echo "0 passed, 1 failed"; exit 1; }
run=(run throughput --preset smoke --no-plot --quiet --threads 1 --reps 1)
train=(train --preset tiny-hawk --task selective-copy --seq 32 --batch 2 --steps 20 --quiet --threads 1)
{ echo '{"context":{"host_name":"t","num_cpus":2},"benchmarks":['
  for r in 0 1 2 3 4; do
      [[ $r -gt 0 ]] && echo ','
      echo "{\"name\":\"scan/seq/T:1024/real_time\",\"run_name\":\"scan/seq/T:1024/real_time\",\"run_type\":\"iteration\",\"repetitions\":5,\"repetition_index\":$r,\"threads\":1,\"iterations\":10,\"real_time\":$((100 + r)),\"cpu_time\":1,\"time_unit\":\"us\"}"
  done
  echo ']}'; } >"$D/g.json"

# what one run of each kind stores when it runs alone
"$G" "${run[@]}" --db "$D/alone.sqlite" >/dev/null 2>&1; ok $? "a suite run alone"
per_run=$(sqlite3 "$D/alone.sqlite" "SELECT count(*) FROM result")

DB=$D/c.sqlite
for round in 1 2; do
    pids=()
    for k in 1 2 3; do "$G" "${run[@]}" --db "$DB" >/dev/null 2>"$D/e.run$round.$k" & pids+=($!); done
    for k in 1 2; do "$G" "${train[@]}" --db "$DB" --o "$D/t$round$k.safetensors" >/dev/null 2>"$D/e.train$round.$k" & pids+=($!); done
    for k in 1 2 3; do "$G" import-gbench --db "$DB" "$D/g.json" >/dev/null 2>"$D/e.gb$round.$k" & pids+=($!); done
    bad=0
    for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    ok $bad "round $round: all 8 concurrent writers exit 0 ($bad failed)"
done
errs=$(cat "$D"/e.* | grep -Eic "database is locked|busy timeout|SQLITE_BUSY" || true)
ok $errs "no 'database is locked' / busy message reached a user ($errs lines)"
[[ $(sqlite3 "$DB" "PRAGMA integrity_check") == ok ]]; ok $? "integrity_check ok"
q() { sqlite3 "$DB" "$1"; }
[[ $(q "SELECT count(*) FROM run") -eq 16 ]]; ok $? "16 runs recorded ($(q "SELECT count(*) FROM run"))"
[[ $(q "SELECT count(*) FROM run WHERE status != 'ok'") -eq 0 ]]; ok $? "every run finished ok ($(q "SELECT group_concat(status) FROM run WHERE status != 'ok'"))"
[[ $(q "SELECT count(DISTINCT uuid) FROM run") -eq 16 && $(q "SELECT count(DISTINCT id) FROM run") -eq 16 ]]; ok $? "run ids and uuids unique"
short=$(q "SELECT count(*) FROM run r WHERE r.suite='throughput' AND (SELECT count(*) FROM result WHERE run_id=r.id) != $per_run")
ok $short "every suite run stored all $per_run of its results ($short short)"
n_tr=$(q "SELECT count(*) FROM run r WHERE r.suite='train' AND EXISTS(SELECT 1 FROM curve WHERE run_id=r.id AND name='train_loss') AND EXISTS(SELECT 1 FROM result WHERE run_id=r.id AND metric='final_loss')")
[[ $n_tr -eq 4 ]]; ok $? "every train run stored its loss curve and final loss ($n_tr of 4)"
n_gb=$(q "SELECT count(*) FROM run r WHERE r.suite='gbench' AND (SELECT count(*) FROM sample s JOIN result x ON x.id=s.result_id WHERE x.run_id=r.id) = 10")
[[ $n_gb -eq 6 ]]; ok $? "every import stored its 2 metrics x 5 repetitions ($n_gb of 6)"
[[ $(q "SELECT count(*) FROM result r WHERE r.n != (SELECT count(*) FROM sample s WHERE s.result_id = r.id)") -eq 0 ]]; ok $? "every result has all its samples"
finish
