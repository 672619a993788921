#!/usr/bin/env bash
# fuzz.sh [SECONDS] — build the libFuzzer target for the safetensors /
# checkpoint parser with clang (ASan + UBSan) and run it (default 60 s),
# seeded with the committed golden checkpoints. Exit non-zero on a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
command -v clang >/dev/null || { echo "fuzz: clang not found (apt-get install clang)" >&2; exit 2; }
OUT=build-fuzz
mkdir -p "$OUT/corpus"
SRC="tests/fuzz_safetensors.c models/safetensors.c models/checkpoint.c models/config.c models/model.c
     kernels/util.c kernels/matmul.c kernels/gemm_fast.c kernels/ops.c kernels/ops_ref.c kernels/attention.c kernels/scan.c"
# shellcheck disable=SC2086
clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wno-unknown-pragmas -Ikernels -Imodels $(ls $SRC 2>/dev/null) -lm -o "$OUT/fuzz_safetensors"
cp -n tests/golden/*.safetensors "$OUT/corpus/" 2>/dev/null || true
printf '\x10\x00\x00\x00\x00\x00\x00\x00{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}    ' > "$OUT/corpus/min.st"
"$OUT/fuzz_safetensors" -max_total_time="$SECS" -max_len=200000 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$OUT/corpus" 2>&1 | tail -15
