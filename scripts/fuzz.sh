#!/usr/bin/env bash
# fuzz.sh [SECONDS] — build the libFuzzer target for the safetensors /
# checkpoint parser (tests/fuzz_safetensors.c) with clang (ASan + UBSan) and
# run it for SECONDS (default 60). The seed corpus is kept in
# tests/fuzz_corpus/ (committed); new inputs libFuzzer finds go to
# build-fuzz/corpus (not committed: copy a useful one into tests/fuzz_corpus).
# Exit 0 when the budget ran out without a finding; non-zero on a crash, a
# leak, a sanitizer report or a timeout (the reproducer is build-fuzz/crash-*);
# 2 when clang is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
command -v clang >/dev/null || { echo "fuzz: clang not found (apt-get install clang; scripts/deps.sh installs it)" >&2; exit 2; }
OUT=build-fuzz
mkdir -p "$OUT/corpus"
SRC="tests/fuzz_safetensors.c models/safetensors.c models/checkpoint.c models/config.c models/model.c
     kernels/util.c kernels/matmul.c kernels/gemm_fast.c kernels/bf16.c kernels/ops.c kernels/ops_ref.c kernels/attention.c kernels/scan.c kernels/backend_cpu.c kernels/backend_cuda.c kernels/gpu_stub.c"
# shellcheck disable=SC2086
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wno-unknown-pragmas -Ikernels -Imodels $(ls $SRC 2>/dev/null) -lm -o "$OUT/fuzz_safetensors"
echo "fuzz: $SECS s on the safetensors parser, seeds tests/fuzz_corpus ($(ls tests/fuzz_corpus | wc -l) files)"
set +e
"$OUT/fuzz_safetensors" -max_total_time="$SECS" -max_len=200000 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/" -print_final_stats=1 "$OUT/corpus" tests/fuzz_corpus >"$OUT/fuzz.log" 2>&1
rc=$?
set -e
tail -12 "$OUT/fuzz.log"
if [[ $rc -ne 0 ]]; then echo "fuzz: FAILED (exit $rc); reproducer: $(ls "$OUT"/crash-* "$OUT"/leak-* "$OUT"/timeout-* "$OUT"/oom-* 2>/dev/null | head -1)" >&2; fi
exit $rc
