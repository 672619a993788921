#!/usr/bin/env bash
# deps.sh — make sure the Debian packages griffin needs are installed.
# As root: installs what is missing (apt-get). Otherwise: prints the exact
# install line and exits 1. Prints nothing and exits 0 when all are present.
set -u
PKGS=(build-essential pkg-config libopenblas-dev libsqlite3-dev sqlite3 libbenchmark-dev
      gnuplot-nox zlib1g-dev clang libomp-dev jq python3
      libopenmpi-dev openmpi-bin)   # MPI: data-parallel training (mpirun -np N griffin train)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
(( ${#missing[@]} == 0 )) && exit 0
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: install them with:  sudo apt-get update && sudo $line" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "deps: '$line' failed" >&2; exit 1; }
