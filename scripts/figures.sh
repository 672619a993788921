#!/usr/bin/env bash
# figures.sh — the main job (make figures): fetch the text corpus if it is
# missing, run every suite at --preset cpu (about an hour on 2 cores),
# render every figure into plots/out and print the paper's claims beside
# what this machine measured. Extra arguments go to `griffin run`, e.g.
#   bash scripts/figures.sh --preset smoke        # two minutes
#   bash scripts/figures.sh --families hawk,mqa
set -euo pipefail
cd "$(dirname "$0")/.."
G=build/griffin
[[ -x $G ]] || { echo "figures: build first (make)" >&2; exit 2; }
preset=cpu
for a in "$@"; do [[ $a == smoke || $a == --preset=smoke ]] && preset=smoke; done
if [[ $preset != smoke && ! -f data/corpus/MANIFEST ]]; then
    echo "figures: fetching the text corpus (Debian packages, ~40 MB)" >&2
    bash scripts/get-corpus.sh --out data/corpus
fi
echo "figures: machine" >&2
$G info >&2
rc=0
$G run all --preset cpu "$@" || rc=$?
# data-parallel scaling (plots/out/scaling.*): about 3 minutes; needs MPI in the build
if [[ $preset != smoke && ${GRIFFIN_NO_SCALING:-0} != 1 ]] && ldd $G | grep -q libmpi && command -v mpirun >/dev/null; then
    bash scripts/scaling.sh || rc=$?
fi
$G plot all || true
echo "figures: PNG and SVG in plots/out/; data in ${GRIFFIN_DB:-results/griffin.sqlite} (griffin results list); the rules behind each verdict: griffin claims" >&2
exit $rc
