#!/usr/bin/env bash
# test_device_cli.sh — --device on every command that runs a model and on
# the suites: an unknown device, a suite that runs on the cpu only (kernels),
# --ranks with a device (one process per device), and
# (where this machine has no usable CUDA device) --device cuda are refused
# with the reason and exit 2; --device cpu runs as before. Where a device
# is present the no-device refusals are skipped (scripts/gpu-check.sh and
# tests/test_gpu.c cover the device itself).
set -u
. tests/lib.sh device-cli
# refused CMD...: exit 2 and stderr naming the device with a reason ($want)
refused() {
    local what=$1 want=$2; shift 2
    "$@" >"$D/out" 2>"$D/err"; local rc=$?
    [[ $rc -eq 2 ]]; ok $? "$what: exit 2 (got $rc: $(head -c 300 "$D/err"))"
    grep -q -- "$want" "$D/err"; ok $? "$what: the reason ('$want') is printed: $(head -c 300 "$D/err")"
}

"$G" init tiny-hawk --o "$D/m.safetensors" --seed 1 >/dev/null 2>&1; ok $? "init"
C=/usr/share/common-licenses

# device-independent refusals
refused "run throughput --device tpu" "unknown device 'tpu'" "$G" run throughput --preset smoke --device tpu --no-db --quiet
refused "forward --device tpu" "unknown device 'tpu'" "$G" forward --m "$D/m.safetensors" --text hi --device tpu --o "$D/l.npy"
refused "run kernels --device cuda" "the kernels suite runs on the cpu only" "$G" run kernels --preset smoke --device cuda --no-db --quiet
for s in longctx copyret; do
    refused "run $s --ranks 2 --device cuda" "run one process (one device) without --ranks" "$G" run "$s" --preset smoke --ranks 2 --device cuda --no-db --quiet
done
"$G" run --help 2>&1 | grep -q -- "--device"; ok $? "run --help documents --device"

# --device cpu still runs
"$G" forward --m "$D/m.safetensors" --text "hello" --device cpu --o "$D/l.npy" >/dev/null 2>&1; ok $? "forward --device cpu"

if "$G" forward --m "$D/m.safetensors" --text hi --device cuda --o "$D/l.npy" >/dev/null 2>&1; then
    skipped "forward --device cuda runs here (a device): the no-device refusals do not apply (scripts/gpu-check.sh covers the device)"
else
    why="cannot run here"
    refused "run throughput --device cuda" "$why" "$G" run throughput --preset smoke --device cuda --no-db --quiet
    refused "run latency --device cuda" "$why" "$G" run latency --preset smoke --device cuda --no-db --quiet
    for s in longctx copyret; do # they run on a device now: refused here only for want of one
        refused "run $s --device cuda" "$why" "$G" run "$s" --preset smoke --device cuda --no-db --quiet
        grep -q "runs on the cpu only" "$D/err"; [[ $? -ne 0 ]]; ok $? "run $s --device cuda: not refused as a cpu-only suite"
    done
    refused "forward --device cuda" "$why" "$G" forward --m "$D/m.safetensors" --text hi --device cuda --o "$D/l.npy"
    refused "generate --device cuda" "$why" "$G" generate --m "$D/m.safetensors" --n 2 --device cuda --quiet
    refused "eval --device cuda" "$why" "$G" eval --m "$D/m.safetensors" --task text --corpus "$C" --lengths 64 --device cuda
    refused "train --device cuda" "$why" "$G" train --preset tiny-hawk --corpus "$C" --seq 32 --batch 2 --steps 1 --device cuda --no-db --quiet --o "$D/t.safetensors"
    refused "bench-model --device cuda" "$why" "$G" bench-model --preset tiny-hawk --device cuda
    [[ ! -e "$D/t.safetensors" ]]; ok $? "a refused train writes no checkpoint"
fi
finish
