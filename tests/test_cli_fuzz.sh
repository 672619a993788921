#!/usr/bin/env bash
# test_cli_fuzz.sh — every subcommand with random and adversarial flags and
# values: unknown flags, missing values, negative, zero, huge, NaN/inf,
# empty strings, non-UTF-8 bytes, very long strings, paths that are folders,
# missing, or unreadable. Seeded (GRIFFIN_FUZZ_SEED, default 7), GRIFFIN_FUZZ_CASES
# cases (default 300). Each case adds one adversarial flag to a cheap,
# valid base command (its flags read from `griffin CMD --help`) and asserts:
#   - never a signal (no crash, no abort, no sanitizer report) and no hang
#     (a case killed at 20 s is run again once with 120 s, so that a busy
#     machine cannot pass for a hang: a hang hangs twice);
#   - exit 0, 1 or 2;
#   - on exit 1 or 2, the first error line names the flag or its value (one
#     line: the message is that line).
# Slow commands (run, bench-model, roofline) get a trailing sentinel flag, so
# an accepted value ends at the sentinel's usage error instead of a measurement:
# all the cases together use at most 120 s of CPU (counted as the CPU time of
# the processes they ran, which other processes on the machine do not change;
# their wall time is only printed).
#   GRIFFIN_BIN=build/griffin bash tests/test_cli_fuzz.sh
set -u
. tests/lib.sh fuzz
[[ $G == /* ]] || G=$PWD/$G
RANDOM=${GRIFFIN_FUZZ_SEED:-7}
CASES=${GRIFFIN_FUZZ_CASES:-300}
cleanup() { chmod -R u+rwx "$D" 2>/dev/null; }
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
# CPU ticks (user + system) of the children this shell has waited for
child_ticks() { local st; read -r -a st < /proc/$$/stat; echo $(( st[15] + st[16] )); }
retried=0 # runs killed at their limit and run again with 6x the limit
export ASAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=halt_on_error=1:exitcode=86
SENT=--zz-sentinel

# fixtures: a checkpoint, a database with a run, a gbench file, a folder, an
# unreadable file (as root, unreadable only to another user: see below)
CK=$D/ck.safetensors
"$G" train --preset tiny-hawk --vocab 256 --task selective-copy --seq 64 --batch 1 --steps 2 --no-db --quiet --threads 1 --o "$CK" >/dev/null 2>&1
DB=$D/r.sqlite
for k in 1 2; do "$G" run throughput --preset smoke --no-plot --quiet --threads 1 --reps 1 --db "$DB" >/dev/null 2>&1; done
printf '{"context":{},"benchmarks":[{"name":"scan/seq/T:8/real_time","run_type":"iteration","repetitions":1,"repetition_index":0,"threads":1,"iterations":1,"real_time":1,"cpu_time":1,"time_unit":"us"}]}' >"$D/g.json"
mkdir -p "$D/dir"
echo secret >"$D/unreadable"; chmod 000 "$D/unreadable"
ok $([[ -s $CK && -s $DB ]]; echo $?) "fixtures written"

declare -A BASE SLOW
BASE[info]="--threads 1"
BASE[models]=""
BASE[init]="tiny-hawk --o $D/i.safetensors"
BASE[generate]="--m $CK --n 2 --quiet --threads 1"
BASE[forward]="--m $CK --text hi --o $D/f.npy --threads 1"
BASE[train]="--preset tiny-hawk --task selective-copy --seq 64 --batch 1 --steps 2 --stop-at 1 --no-db --quiet --threads 1 --o $D/t.safetensors"
BASE[eval]="--m $CK --task selective-copy --lengths 64 --n 2 --threads 1"
BASE[run]="throughput --preset smoke --no-plot --quiet --threads 1 --reps 1 --db $D/run.sqlite"; SLOW[run]=1
BASE[bench-model]="tiny-hawk --batch 1 --seq 8 --steps 1 --reps 1 --threads 1"; SLOW[bench-model]=1
BASE[roofline]="--quick --threads 1"; SLOW[roofline]=1
BASE[results]="list --db $DB"
BASE[import-gbench]="--db $D/imp.sqlite $D/g.json"
BASE[check]="--db $DB --min-effect 1000"
BASE[compare]="1 1 --db $DB"
BASE[baseline]="set fz 1 --db $DB"
BASE[plot]="fig3_train_step --term dumb --db $DB --out $D/plots"
CMDS=(${!BASE[@]})

LONG=$(head -c 5000 /dev/zero | tr '\0' 'x')
VALUES=("" "-1" "0" "-0" "1.5" "nan" "NaN" "inf" "-inf" "1e999" "1e300" "-1e300" "2147483648" "-2147483649"
        "99999999999999999999" "0x10" "1e" "abc" $'\xff\xfe\x80' $'caf\xc3' "$LONG" "/" "$D/dir" "/nonexistent/x/y"
        "$D/unreadable" "--" "-" "=" "--help2" "1,2,,3" "-5,7" " 3" "3 " "1;rm -rf /")

# The unreadable file: root reads anything, so when running as root the
# cases that use it run as nobody (setpriv), where it really is unreadable.
NOBODY=()
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
chmod 755 "$D" "$D/dir" 2>/dev/null
chmod a+rw "$DB" "$CK" 2>/dev/null

# flags of each command, from its --help (the table behind --help is the one flags_parse uses)
declare -A FLAGS
for c in "${CMDS[@]}"; do
    FLAGS[$c]=$("$G" $c --help 2>/dev/null | sed -n 's/^  \(-[a-z], \)\{0,1\}--\([a-z0-9-]*\).*/\2/p' | grep -v '^help$' | tr '\n' ' ')
done

# each base command works as it is (else the cases below would prove nothing)
for c in "${CMDS[@]}"; do
    base=(${BASE[$c]})
    for lim in 60 360; do
        timeout $lim "$G" $c "${base[@]}" >"$D/base.err" 2>&1; rc=$?
        [[ $rc -eq 124 && $lim -eq 60 ]] || break
        retried=$((retried + 1)); echo "  base command $c: killed at 60 s, run again with 360 s"
    done
    # check answers 2 (setup: too few repetitions) on two smoke runs: that is its verdict, not a broken base
    [[ $c == check && $rc -eq 2 ]] && grep -q "too few repetitions" "$D/base.err" && rc=0
    ok $rc "base command works: griffin $c ${BASE[$c]} (rc $rc: $(head -c 200 "$D/base.err"))"
done

chmod -R a+rwX "$D"; chmod 000 "$D/unreadable" # the cases run as nobody may write the fixtures
bad_sig=0; bad_rc=0; bad_msg=0; n_err=0; n_ok=0
t0=$SECONDS; c0=$(child_ticks)
for ((i = 0; i < CASES; i++)); do
    c=${CMDS[RANDOM % ${#CMDS[@]}]}
    fl=(${FLAGS[$c]})
    v=${VALUES[RANDOM % ${#VALUES[@]}]}
    kind=$((RANDOM % 10))
    if [[ $kind -eq 0 ]]; then name="no-such-flag-$RANDOM"; extra=(--$name "$v")        # unknown flag
    elif [[ $kind -eq 1 && ${#fl[@]} -gt 0 && ${SLOW[$c]:-0} -eq 0 ]]; then name=${fl[RANDOM % ${#fl[@]}]}; extra=(--$name)   # missing value (last)
    elif [[ $kind -eq 2 ]]; then name=$'--\xff'; extra=($'--\xff' "$v")                 # non-UTF-8 flag name
    elif [[ ${#fl[@]} -gt 0 ]]; then name=${fl[RANDOM % ${#fl[@]}]}; extra=(--$name "$v")
    else name="x$RANDOM"; extra=(--$name "$v"); fi
    base=(${BASE[$c]})
    args=("${base[@]}" "${extra[@]}")
    [[ ${SLOW[$c]:-0} -eq 1 ]] && args+=($SENT)
    runner=()
    [[ $v == "$D/unreadable" ]] && runner=("${NOBODY[@]}")
    for lim in 20 120; do
        (cd "$D" && timeout $lim "${runner[@]}" "$G" $c "${args[@]}" >/dev/null 2>"$D/err") ; rc=$?
        [[ $rc -eq 124 && $lim -eq 20 ]] || break
        retried=$((retried + 1)); echo "  case $i: killed at 20 s, run again with 120 s"
    done
    what="griffin $c ... ${extra[*]:0:2}"
    what=${what:0:160}
    if [[ $rc -ge 124 ]]; then
        bad_sig=$((bad_sig + 1)); echo "  case $i: $what: rc $rc (signal, sanitizer or hang)"; head -3 "$D/err" | sed 's/^/      /'
        continue
    fi
    if [[ $rc -gt 2 ]]; then bad_rc=$((bad_rc + 1)); echo "  case $i: $what: exit $rc"; continue; fi
    if [[ $rc -eq 0 ]]; then n_ok=$((n_ok + 1)); continue; fi
    n_err=$((n_err + 1))
    line=$(grep -a -m1 -E '^(error|griffin)' "$D/err" | tr -d '\0')
    bare=${name#--}
    if [[ -z $line ]]; then
        bad_msg=$((bad_msg + 1)); echo "  case $i: $what: exit $rc without an error line: $(head -c 200 "$D/err")"
    elif ! { [[ $line == *"$bare"* ]] || { [[ -n $v ]] && [[ $line == *"${v:0:60}"* ]]; } || [[ $line == *zz-sentinel* ]] ||
             { [[ -z $v ]] && [[ $line == *"''"* ]]; }; }; then
        bad_msg=$((bad_msg + 1)); echo "  case $i: $what: the error does not name the flag or value: ${line:0:200}"
    fi
done
ok $bad_sig "no case ends in a signal, a sanitizer report or a hang ($bad_sig bad of $CASES)"
ok $bad_rc "every exit status is 0, 1 or 2 ($bad_rc bad)"
ok $bad_msg "every failure prints one error line naming the flag or its value ($bad_msg bad; $n_err failures, $n_ok accepted)"
el=$((SECONDS - t0)); cpu=$(( ($(child_ticks) - c0) / HZ ))
echo "  $CASES cases: ${cpu}s of CPU, ${el}s of wall time, $retried runs killed at their limit and run again"
[[ $cpu -le 120 ]]; ok $? "$CASES cases used ${cpu}s of CPU, at most 120 (each start of griffin costs ~0.1 s here; ${el}s of wall time, $retried runs killed at their limit and run again)"
finish
