#!/usr/bin/env bash
# nightly.sh — the nightly regression job: build, run the micro-benchmarks and
# the smoke preset of whatever suites exist (>= 5 repetitions), store them,
# compare with the last 5 nights on this machine, draw the history figure,
# and exit with the check's code (0 clean, 1 regression, 2 setup error).
#
#   scripts/nightly.sh                 (or: make nightly)
#   GRIFFIN_DB=/data/griffin.sqlite scripts/nightly.sh
#
# Environment: BUILD (build), GRIFFIN_DB (results/griffin.sqlite),
#   NIGHTLY_FILTER (Google Benchmark regex, default a ~1 min subset),
#   NIGHTLY_REPS (5), NIGHTLY_BASELINE (last:5).
#
# cron (02:30 every night, from the checkout; keep the log):
#   30 2 * * *  cd /srv/griffin && git pull -q && scripts/nightly.sh >> nightly.log 2>&1
# CI (e.g. a scheduled GitHub Actions job): cache results/griffin.sqlite between
# runs (actions/cache keyed by runner machine), run `make nightly`, upload
# plots/out/history.png; the job fails on exit 1 (regression) or 2 (setup).
# The first nights have no baseline and exit 2 until a previous run exists.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPS=${NIGHTLY_REPS:-5}
BASELINE=${NIGHTLY_BASELINE:-last:5}
FILTER=${NIGHTLY_FILTER:-'^(scan|rglru)/(seq|chunked|assoc)/B:8/C:1024/T:(256|1024|4096)/'}
export GRIFFIN_DB=${GRIFFIN_DB:-results/griffin.sqlite}
G="$BUILD/griffin"
stamp() { date -u +%H:%M:%S; }

echo "[$(stamp)] nightly: build"
make -s BUILD="$BUILD" all || { echo "nightly: build failed"; exit 2; }
[[ -x "$G" ]] || { echo "nightly: $G was not built"; exit 2; }

before=$("$G" results id latest) || { echo "nightly: cannot read $GRIFFIN_DB"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ -x "$BUILD/griffin-bench" ]]; then
    echo "[$(stamp)] nightly: micro-benchmarks (filter '$FILTER', $REPS repetitions)"
    if "$BUILD/griffin-bench" --roofline quick --max-T 4096 \
        --benchmark_filter="$FILTER" --benchmark_repetitions="$REPS" \
        --benchmark_min_time=0.05 --benchmark_min_warmup_time=0.05 --benchmark_format=json --benchmark_out_format=json \
        --benchmark_out="$work/gbench.json" > "$work/gbench.stdout"; then
        "$G" import-gbench --preset nightly "$work/gbench.json" || echo "nightly: import failed"
    else
        echo "nightly: griffin-bench failed (see its output below)"; tail -20 "$work/gbench.stdout"
    fi
else
    echo "nightly: no $BUILD/griffin-bench (Google Benchmark not installed): skipping micro-benchmarks"
fi

if "$G" run --help > /dev/null 2>&1; then
    echo "[$(stamp)] nightly: suites at --preset smoke --reps $REPS"
    "$G" run all --preset smoke --reps "$REPS" || echo "nightly: some suite failed (its run is marked failed)"
else
    echo "nightly: 'griffin run' is not available in this build: skipping the suites"
fi

echo "[$(stamp)] nightly: regression check against $BASELINE"
"$G" check --baseline "$BASELINE" --since "$before"
rc=$?

echo "[$(stamp)] nightly: history figure"
if command -v gnuplot > /dev/null; then
    "$G" plot history --term png,svg || echo "nightly: plotting failed (the check's verdict stands)"
else
    echo "nightly: gnuplot not installed (apt-get install gnuplot-nox); skipping the figure"
fi
case $rc in
    0) echo "nightly: clean" ;;
    1) echo "nightly: REGRESSION" ;;
    *) echo "nightly: setup error (exit $rc)" ;;
esac
exit $rc
