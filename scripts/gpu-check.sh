#!/usr/bin/env bash
# gpu-check.sh — every check of the CUDA backend (issue 14) on a GPU machine,
# ending with one table:
#   build     griffin and the GPU test programs for this device's
#             architecture (compute capability from nvidia-smi; a default
#             list without one) into $BUILD (default build-gpu);
#   ops       tests/test_gpu: every GPU kernel vs its CPU reference (odd
#             shapes, every variant, attention backward, split-K decode,
#             decode bookkeeping, CUDA graph replay, pinned copies, training
#             pieces, AdamW), graph decode == eager decode == cpu decode
#             for every family, bf16 weights (cuBLAS bf16) vs the cpu's;
#   model     tests/test_backend: the model on cuda vs the cpu (logits of
#             every device variant, one training step: gradients and the
#             AdamW update, decode == prefill on the device, device decode
#             == cpu decode with an idle row), the graph fake on the cpu;
#   cli       griffin forward --device cuda vs --device cpu on a tiny model
#             (logits within 1e-3), griffin run throughput and latency
#             --device cuda --preset smoke (validated against the cpu
#             before timing);
#   suites    griffin run longctx and copyret --preset smoke --device cuda
#             against --device cpu (same seeds; every stored result: losses
#             within 1e-2 relative, accuracies within 0.05; the same claims
#             and verdicts);
#   bench     tests/gpu_bench (RG-LRU scans, decode attention split-K vs
#             one block per row, attention backward, the 400M/1B models:
#             decode with and without graphs, prefill), each validated
#             before it is timed.
# Budget: under 10 minutes on one H200 (build ~1-2 min, tests ~20 s, cli
# ~1 min, suites ~1 min, bench ~3-5 min).
#
#   bash scripts/gpu-check.sh                     everything
#   bash scripts/gpu-check.sh --quick             reduced benchmark shapes
#   bash scripts/gpu-check.sh --quick --only attn one benchmark group (scan|attn|model)
#   bash scripts/gpu-check.sh --dry-run           print the plan, run nothing (CI runs this)
#   bash scripts/gpu-check.sh --require-device    a SKIP or PART row fails the run (on the GPU machine)
#   BUILD=build bash scripts/gpu-check.sh --no-build   use the binaries already in $BUILD
# Rows: ok, PART (passed, but some groups skipped: the reason follows),
# SKIP (nothing could run here: the reason), FAIL.
# Exit: 0 when the build, the tests and every validation pass (performance
# targets are reported, not enforced); 1 otherwise; 2 on a usage error.
# Without a GPU it still builds, reports each device check SKIP and exits 0.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-gpu}
DRY=0
REQUIRE=0
NOBUILD=0
BENCH_ARGS=()
while (($#)); do
    case "$1" in
        -h|--help) sed -n '2,41p' "$0"; exit 0 ;;
        --dry-run) DRY=1 ;;
        --require-device) REQUIRE=1 ;;
        --no-build) NOBUILD=1 ;;
        --quick) BENCH_ARGS+=(--quick) ;;
        --only) [[ $# -ge 2 ]] || { echo "gpu-check: --only needs scan|attn|model" >&2; exit 2; }
                BENCH_ARGS+=(--only "$2"); shift ;;
        *) echo "gpu-check: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
    shift
done
JOBS=$(nproc 2>/dev/null || echo 4)
t0=$SECONDS
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
rows=()
row() { rows+=("$(printf '%-7s | %-6s | %s' "$1" "$2" "$3")"); }
# step_row NAME PLAN: under --dry-run the plan row; else run the function NAME
# into $log/NAME and make its row from its last "N passed, N failed" line (SKIP
# with the reason when it printed one).
step_row() {
    local name=$1 plan=$2 rc line
    if (( DRY )); then row "$name" plan "$plan"; return; fi
    echo "== $name"
    "$name" >"$log/$name" 2>&1; rc=$?
    tail -n 40 "$log/$name"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/$name" | tail -1)
    if grep -q '^SKIP' "$log/$name"; then row "$name" SKIP "$(grep -m1 '^SKIP' "$log/$name" | cut -c7-)"
    elif (( rc == 0 )); then row "$name" ok "$line"
    else row "$name" FAIL "${line:-exit $rc}"; fail=1; fi
}

# run NAME TIMEOUT CMD...: the step's output in $log/NAME; its status row from
# the program's "N passed, N failed[, N skipped]" line (bench: its validation)
run() {
    local name=$1 limit=$2; shift 2
    echo "== $name: $*"
    if (( DRY )); then row "$name" "plan" "$*"; return 0; fi
    timeout "$limit" "$@" >"$log/$name" 2>&1
    local rc=$?
    tail -n 60 "$log/$name"
    local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/$name" | tail -1)
    local skipline; skipline=$(grep -m1 -E '^SKIP' "$log/$name")
    if (( rc == 124 )); then row "$name" "FAIL" "timed out after $limit s"; return 1; fi
    if (( rc != 0 )); then row "$name" "FAIL" "exit $rc${line:+: $line}"; return 1; fi
    if [[ -n "$skipline" && ( -z "$line" || "$line" == 0\ passed* ) ]]; then row "$name" "SKIP" "${skipline#SKIP: }"; return 0; fi
    if [[ "$line" =~ ([0-9]+)\ skipped ]]; then row "$name" "PART" "$line; ${skipline#SKIP: }"; return 0; fi
    row "$name" "ok" "${line:-exit 0}"
    return 0
}

arch=""
if command -v nvidia-smi >/dev/null 2>&1; then
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
    [[ -n "$cc" ]] && arch="-arch=sm_$cc"
    nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu: /'
fi
mk=(make -j"$JOBS" BUILD="$BUILD")
[[ -n "$arch" ]] && mk+=(CUDA_ARCH="$arch")
G="$BUILD/griffin"
echo "== build (${arch:-default architectures}) into $BUILD"
if (( NOBUILD && ! DRY )); then
    for b in "$G" "$BUILD/tests/test_gpu" "$BUILD/tests/test_backend" "$BUILD/tests/gpu_bench"; do
        [[ -x "$b" ]] || { echo "gpu-check: --no-build: $b is missing (build it first)"; exit 1; }
    done
    row build skip "--no-build: the binaries in $BUILD as they are"
elif (( DRY )); then
    row build plan "${mk[*]} $G $BUILD/tests/test_gpu $BUILD/tests/test_backend $BUILD/tests/gpu_bench"
elif ! "${mk[@]}" "$G" "$BUILD/tests/test_gpu" "$BUILD/tests/test_backend" "$BUILD/tests/gpu_bench" >"$log/build" 2>&1; then
    tail -40 "$log/build"
    echo "gpu-check: BUILD FAILED"
    exit 1
else
    grep -iE 'warning' "$log/build" | head -20
    row build ok "$((SECONDS - t0)) s, ${arch:-default architectures}$("$G" info 2>/dev/null | grep -q 'cuda yes' || echo ', WITHOUT CUDA (nvcc not found or NO_CUDA=1)')"
fi

fail=0
run ops 300 "$BUILD/tests/test_gpu" || fail=1
run model 300 "$BUILD/tests/test_backend" || fail=1

# cli: the same tiny model's logits on both devices; the two device suites at smoke scale
cli() {
    local d; d=$(mktemp -d)
    local n=0 bad=0
    "$G" init tiny-griffin --o "$d/m.safetensors" --seed 3 >/dev/null || return 1
    if ! "$G" forward --m "$d/m.safetensors" --text "It is a truth universally acknowledged" --device cuda --o "$d/g.npy" 2>"$d/err"; then
        echo "SKIP: $(head -c 300 "$d/err")"; echo "0 passed, 0 failed, 1 skipped"; return 0
    fi
    "$G" forward --m "$d/m.safetensors" --text "It is a truth universally acknowledged" --device cpu --o "$d/c.npy" || return 1
    if python3 - "$d/g.npy" "$d/c.npy" <<'PY'
import struct, sys
from array import array
def npy(path):  # float32 .npy (version 1 or 2 header), as griffin forward writes
    b = open(path, "rb").read()
    if b[6] == 1: n, off = struct.unpack("<H", b[8:10])[0], 10
    else: n, off = struct.unpack("<I", b[8:12])[0], 12
    a = array("f"); a.frombytes(b[off + n:]); return a
g, c = npy(sys.argv[1]), npy(sys.argv[2])
if len(g) != len(c) or not c: sys.exit("forward cuda vs cpu: shapes differ")
e = max(abs(x - y) for x, y in zip(g, c)) / max(max(abs(y) for y in c), 1e-30)
print(f"forward cuda vs cpu: max rel err {e:.3g} (tol 1e-3)")
sys.exit(0 if e <= 1e-3 else 1)
PY
    then n=$((n + 1)); else bad=$((bad + 1)); fi
    for s in throughput latency; do
        if "$G" run "$s" --preset smoke --device cuda --no-db --no-plot --quiet; then n=$((n + 1)); else echo "FAIL: run $s --device cuda"; bad=$((bad + 1)); fi
    done
    rm -rf "$d"
    echo "$n passed, $bad failed"
    (( bad == 0 ))
}
step_row cli "$G forward --device cuda vs cpu (tiny-griffin); $G run throughput|latency --preset smoke --device cuda"

# suites: longctx and copyret trained and evaluated on the device against the
# cpu, same seeds, smoke scale, each into its own results store; every stored
# result compared: losses within 1e-2 relative, accuracies within 0.05 (of the
# counted items), the same claims with the same verdicts
suites() {
    local d; d=$(mktemp -d)
    local n=0 bad=0
    for s in longctx copyret; do
        if ! "$G" run "$s" --preset smoke --device cuda --db "$d/$s-cuda.db" --no-plot --quiet 2>"$d/err"; then
            if grep -q "cannot run here" "$d/err"; then echo "SKIP: $(head -c 300 "$d/err")"; echo "0 passed, 0 failed, 1 skipped"; rm -rf "$d"; return 0; fi
            echo "FAIL: run $s --device cuda: $(tail -c 400 "$d/err")"; bad=$((bad + 1)); continue
        fi
        "$G" run "$s" --preset smoke --device cpu --db "$d/$s-cpu.db" --no-plot --quiet 2>/dev/null || { echo "FAIL: run $s --device cpu"; bad=$((bad + 1)); continue; }
        if python3 - "$s" "$d/$s-cuda.db" "$d/$s-cpu.db" <<'PY'
import sqlite3, sys
suite, dev, cpu = sys.argv[1:4]
def rows(path, strip):
    c = sqlite3.connect(path)
    out = {}
    for name, params, metric, med, ok, n in c.execute(
            "SELECT bc.name, bc.params, r.metric, r.median, r.successes, r.trials FROM result r "
            "JOIN bench_case bc ON bc.id = r.case_id WHERE r.metric NOT LIKE '%per_s'"):
        out[(name, params.replace(strip, ""), metric)] = (med, ok, n)
    claims = sorted(c.execute("SELECT claim_id, verdict FROM claim"))
    return out, claims
d, dc = rows(dev, '"device":"cuda",')
c, cc = rows(cpu, "")
bad = 0
for k, (med, ok, n) in sorted(d.items()):
    if k not in c: print(f"{suite}: {k}: no cpu result"); bad += 1; continue
    m2, ok2, n2 = c[k]
    if n is not None and n2:
        if n != n2 or abs(ok / n - ok2 / n2) > 0.05: print(f"{suite}: {k}: {ok}/{n} on cuda vs {ok2}/{n2} on the cpu"); bad += 1
    elif med is None or m2 is None or abs(med - m2) > 1e-2 * max(1.0, abs(m2)):
        print(f"{suite}: {k}: {med} on cuda vs {m2} on the cpu (tol 1e-2 relative)"); bad += 1
if len(d) != len(c): print(f"{suite}: {len(d)} results on cuda, {len(c)} on the cpu"); bad += 1
if dc != cc: print(f"{suite}: claims differ: cuda {dc}, cpu {cc}"); bad += 1
print(f"{suite} cuda vs cpu: {len(d)} results, {len(dc)} claims compared, {bad} differ")
sys.exit(1 if bad or not d else 0)
PY
        then n=$((n + 1)); else bad=$((bad + 1)); fi
    done
    rm -rf "$d"
    echo "$n passed, $bad failed"
    (( bad == 0 ))
}
step_row suites "$G run longctx|copyret --preset smoke --device cuda vs --device cpu (results within 1e-2 / 0.05, same claims)"

run bench 600 "$BUILD/tests/gpu_bench" "${BENCH_ARGS[@]}" || fail=1

echo
echo "================ gpu-check summary ($((SECONDS - t0)) s)$( ((DRY)) && echo ': DRY RUN, nothing ran') ================"
printf '%-7s | %-6s | %s\n' check result detail
printf '%s\n' "${rows[@]}"
if (( ! DRY )) && [[ -s "$log/bench" ]]; then
    echo
    sed -n '/^== summary/,$p' "$log/bench"
fi
if (( REQUIRE && ! DRY )) && printf '%s\n' "${rows[@]}" | grep -qE '^[a-z]+ +\| (SKIP|PART) '; then
    echo "gpu-check: --require-device: a check did not run on the device (SKIP/PART above)"
    fail=1
fi
(( fail == 0 ))
