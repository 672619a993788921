#!/usr/bin/env bash
# nightly.sh — the nightly regression job: build, run the micro-benchmarks and
# the smoke preset of the suites (>= 5 repetitions), store them with the
# interference measured while each case was timed, check every new run
# against its rolling baseline of accepted runs on this machine, draw the
# history figure, and exit with the check's code.
#
#   scripts/nightly.sh                 (or: make nightly)
#   GRIFFIN_DB=/data/griffin.sqlite scripts/nightly.sh
#
# What it prints: per run, every metric's verdict (regressed / improved /
# same, with the change, its 95% interval, p and Holm-adjusted q) and every
# metric it did NOT judge with the reason (machine busy, too few repetitions,
# new metric, absent from the baseline, no baseline yet); then one summary.
# Exit: 0 nothing regressed, 1 something regressed, 2 nothing could be judged
# (e.g. the first night: no baseline yet) or a setup error.
# A regression you intend (a trade-off): `griffin baseline accept RUN
# [--metric M]`, else the flagged run stays out of the baseline and the
# following nights are flagged too.
#
# Environment: BUILD (build), GRIFFIN_DB (results/griffin.sqlite),
#   NIGHTLY_FILTER (Google Benchmark regex, default a ~1 min subset),
#   NIGHTLY_REPS (5), NIGHTLY_BASELINE (last:10), NIGHTLY_SUITES (all; "none"
#   skips the suites), NIGHTLY_BENCH_ARGS (extra griffin-bench flags),
#   NIGHTLY_CHECK_ARGS (extra griffin check flags), NIGHTLY_PLOT (1; 0 skips
#   the figure), NIGHTLY_BENCH (the micro-benchmark program, default
#   $BUILD/griffin-bench; tests/test_nightly_e2e.sh puts a deterministic fake
#   timing source there).
#
# cron (02:30 every night, from the checkout; keep the log):
#   30 2 * * *  cd /srv/griffin && git pull -q && scripts/nightly.sh >> nightly.log 2>&1
# CI (e.g. a scheduled GitHub Actions job): cache results/griffin.sqlite between
# runs (actions/cache keyed by runner machine), run `make nightly`, upload
# plots/out/history.png; the job fails on exit 1 (regression) or 2 (setup).
# Runs on a machine another job is using are stored but not judged: give the
# nightly a machine of its own.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPS=${NIGHTLY_REPS:-5}
BASELINE=${NIGHTLY_BASELINE:-last:10}
SUITES=${NIGHTLY_SUITES:-all}
FILTER=${NIGHTLY_FILTER:-'^(scan|rglru)/(seq|chunked|assoc)/B:8/C:1024/T:(256|1024|4096)/'}
export GRIFFIN_DB=${GRIFFIN_DB:-results/griffin.sqlite}
G="$BUILD/griffin"
BENCH=${NIGHTLY_BENCH:-$BUILD/griffin-bench}
stamp() { date -u +%H:%M:%S; }

echo "[$(stamp)] nightly: build ($BUILD)"
targets=("$BUILD/griffin")
[[ -f /usr/include/benchmark/benchmark.h ]] && targets+=("$BUILD/griffin-bench")
make -s BUILD="$BUILD" "${targets[@]}" > /dev/null || { echo "nightly: build failed"; exit 2; }
[[ -x "$G" ]] || { echo "nightly: $G was not built"; exit 2; }

# Is someone else using the machine right now? (what others take over 1 s)
if [[ -r /proc/stat ]]; then
    read -r _ a1 b1 c1 d1 e1 f1 g1 h1 _ < /proc/stat; sleep 1; read -r _ a2 b2 c2 d2 e2 f2 g2 h2 _ < /proc/stat
    busy=$(( (a2 + b2 + c2 + f2 + g2 + h2) - (a1 + b1 + c1 + f1 + g1 + h1) ))
    total=$(( busy + (d2 + e2) - (d1 + e1) ))
    if (( total > 0 && busy * 100 > total * 3 )); then
        echo "nightly: warning: the machine is already busy ($(( busy * 100 / total ))% of the CPU in use before the" \
             "benchmarks start); cases timed while others take more than 3% are stored but not judged"
    fi
fi

before=$("$G" results id latest) || { echo "nightly: cannot read $GRIFFIN_DB"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -x "$BENCH" ]]; then
    echo "[$(stamp)] nightly: micro-benchmarks (filter '$FILTER', $REPS repetitions)"
    # shellcheck disable=SC2086
    if "$BENCH" --roofline quick --max-T 4096 ${NIGHTLY_BENCH_ARGS:-} \
        --benchmark_filter="$FILTER" --benchmark_repetitions="$REPS" \
        --benchmark_min_time=0.05 --benchmark_min_warmup_time=0.05 --benchmark_format=json --benchmark_out_format=json \
        --benchmark_out="$work/gbench.json" > "$work/gbench.stdout" 2> "$work/gbench.stderr"; then
        "$G" import-gbench --preset nightly "$work/gbench.json" || echo "nightly: import failed"
    else
        echo "nightly: griffin-bench failed (its output below)"; tail -20 "$work/gbench.stdout" "$work/gbench.stderr"
    fi
else
    echo "nightly: no $BENCH (Google Benchmark not installed): no micro-benchmarks tonight"
fi

if [[ "$SUITES" != none && -n "$SUITES" ]]; then
    echo "[$(stamp)] nightly: suites '$SUITES' at --preset smoke --reps $REPS"
    # shellcheck disable=SC2086
    "$G" run $SUITES --preset smoke --reps "$REPS" --no-plot || echo "nightly: some suite failed (its run is marked failed)"
fi

echo "[$(stamp)] nightly: regression check of every run after run $before against $BASELINE"
# shellcheck disable=SC2086
"$G" check --baseline "$BASELINE" --since "$before" ${NIGHTLY_CHECK_ARGS:-}
rc=$?

if [[ "${NIGHTLY_PLOT:-1}" != 0 ]]; then
    echo "[$(stamp)] nightly: history figure"
    if command -v gnuplot > /dev/null; then
        "$G" plot history --term png,svg || echo "nightly: plotting failed (the check's verdict stands)"
    else
        echo "nightly: gnuplot not installed (apt-get install gnuplot-nox); no figure (the check's verdict stands)"
    fi
fi
case $rc in
    0) echo "nightly: clean: nothing regressed (exit 0)" ;;
    1) echo "nightly: REGRESSION (exit 1): see the REGRESSED rows above; intended? griffin baseline accept RUN [--metric M]" ;;
    *) echo "nightly: nothing could be judged, or a setup error (exit $rc): see the reasons above" ;;
esac
exit $rc
