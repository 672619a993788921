#!/usr/bin/env bash
# scaling.sh — data-parallel scaling on this machine, recorded in the results
# database (each configuration is one `griffin train` run whose case carries
# ranks, threads, bucket_mb and comm), then a summary: tokens/s, the time
# split per step (compute, all-reduce, waiting), the efficiency against one
# process with the same total threads, and the ring model's prediction for
# 8..64 ranks. The figure: griffin plot scaling.
#
#   bash scripts/scaling.sh [--model small-hawk] [--seq 128] [--batch 8] [--steps 10] [--np 4]
#
# Configurations (global batch fixed: the ranks split it):
#   1 process x 1, 2, NP threads (--comm local)
#   2 ranks x 1 thread: all-reduce after the backward (time split), and overlapped (buckets of 4 MiB)
#   NP ranks x 1 thread (oversubscribed where NP > cores), after the backward and overlapped
# Time it under /work/bin/quiet on a shared machine: about 2-3 minutes at the defaults on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
G=${GRIFFIN_BIN:-build/griffin}
DB=${GRIFFIN_DB:-results/griffin.sqlite}
model=small-hawk seq=128 batch=8 steps=10 np=4
while [[ $# -gt 0 ]]; do
    case $1 in
        --model) model=$2; shift 2 ;; --seq) seq=$2; shift 2 ;; --batch) batch=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;; --np) np=$2; shift 2 ;; --db) DB=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "scaling: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -x $G ]] || { echo "scaling: build first (make)" >&2; exit 2; }
ldd "$G" | grep -q libmpi || { echo "scaling: this build has no MPI (install libopenmpi-dev openmpi-bin, rebuild)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "scaling: no mpirun (install openmpi-bin)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "scaling: no sqlite3 (install sqlite3)" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
corpus=data/corpus
[[ -f $corpus/MANIFEST ]] || corpus=/usr/share/common-licenses
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MPI=(mpirun --oversubscribe --bind-to none --mca btl self,vader)
common=(--preset "$model" --corpus "$corpus" --seq "$seq" --batch "$batch" --steps "$steps" --seed 1 --quiet --db "$DB")
first=$(sqlite3 -readonly "$DB" "select coalesce(max(id),0) from run" 2>/dev/null || echo 0)
cfg() { echo "scaling: $*" >&2; }
for th in 1 2 "$np"; do
    cfg "1 process x $th threads"
    "$G" train "${common[@]}" --comm local --threads "$th" --o "$W/l$th.st"
done
for n in 2 "$np"; do
    for bk in 0 4; do
        cfg "$n ranks x 1 thread, bucket ${bk} MiB"
        OMP_NUM_THREADS=1 "${MPI[@]}" -np "$n" "$G" train "${common[@]}" --threads 1 --bucket-mb "$bk" --o "$W/r$n-$bk.st"
    done
done
q() { sqlite3 -readonly -separator ' ' "$DB" "$1"; }
echo "ranks threads bucket_mb tokens/s step_s compute_s allreduce_s wait_s exposed_s s/byte  (medians over steps 2..$steps; runs > $first)"
q "select json_extract(c.params,'\$.ranks'), json_extract(c.params,'\$.threads'), json_extract(c.params,'\$.bucket_mb'),
          printf('%.0f', $batch * $seq / m.median), printf('%.3f', m.median),
          coalesce((select printf('%.3f', median) from result where run_id=r.id and metric='compute_s'), '-'),
          coalesce((select printf('%.4f', median) from result where run_id=r.id and metric='allreduce_s'), '-'),
          coalesce((select printf('%.4f', median) from result where run_id=r.id and metric='wait_s'), '-'),
          coalesce((select printf('%.4f', median) from result where run_id=r.id and metric='exposed_s'), '-'),
          coalesce((select printf('%.3g', median) from result where run_id=r.id and metric='allreduce_s_per_byte'), '-')
   from run r join result m on m.run_id=r.id and m.metric='step_s' join bench_case c on c.id=m.case_id
   where r.id > $first and r.suite='train' and r.status='ok' order by 1, 3, 2"
# efficiency: N ranks x 1 thread against 1 process x N threads (same total threads)
tps() { q "select $batch * $seq / m.median from run r join result m on m.run_id=r.id and m.metric='step_s' join bench_case c on c.id=m.case_id
           where r.id > $first and r.status='ok' and json_extract(c.params,'\$.ranks')=$1 and json_extract(c.params,'\$.threads')=$2
           and json_extract(c.params,'\$.bucket_mb')=$3 order by r.id desc limit 1"; }
for n in 2 "$np"; do
    ref=$(tps 1 "$n" 4)
    for bk in 0 4; do
        v=$(tps "$n" 1 "$bk")
        awk -v n=$n -v b=$bk -v v="$v" -v r="$ref" 'BEGIN { if (v > 0 && r > 0) printf "efficiency: %d ranks x 1 thread (bucket %s MiB) / 1 process x %d threads = %.2f\n", n, b, n, v / r }'
    done
done
# the ring model: t_step(N) = t_compute + 2(N-1)/N * grad_bytes * s_per_byte (no overlap), per-rank batch fixed
cb=$(q "select m.median from run r join result m on m.run_id=r.id and m.metric='allreduce_s_per_byte' join bench_case c on c.id=m.case_id
        where r.id > $first and json_extract(c.params,'\$.ranks')=2 order by r.id desc limit 1")
tc=$(q "select m.median from run r join result m on m.run_id=r.id and m.metric='compute_s' join bench_case c on c.id=m.case_id
        where r.id > $first and json_extract(c.params,'\$.ranks')=2 and json_extract(c.params,'\$.bucket_mb')=0 order by r.id desc limit 1")
gb=$(q "select m.median from run r join result m on m.run_id=r.id and m.metric='grad_bytes' where r.id > $first order by r.id desc limit 1")
awk -v cb="$cb" -v tc="$tc" -v gb="$gb" 'BEGIN {
    if (!(cb > 0 && tc > 0 && gb > 0)) { print "prediction: no measured all-reduce cost"; exit }
    printf "prediction (weak scaling, %.1f MB of gradients, compute %.3f s/step per rank, all-reduce %.3g s/byte measured here; 10 GbE 8e-10, 100 Gb IB 8e-11 s/byte):\n", gb / 1e6, tc, cb
    split("8 16 32 64", Ns, " ")
    printf "%6s %12s %12s %12s\n", "ranks", "here", "10GbE", "100Gb IB"
    for (i = 1; i <= 4; i++) { N = Ns[i]; f = 2 * (N - 1) / N * gb
        printf "%6d %12.2f %12.2f %12.2f\n", N, tc / (tc + f * cb), tc / (tc + f * 8e-10), tc / (tc + f * 8e-11) }
}'
