#!/bin/sh
# Installs the Debian packages hotcache builds with, when they are missing.
# As root it runs apt-get; otherwise it prints the one command to run and fails.
set -eu
PKGS="build-essential cmake pkg-config libck-dev libjemalloc-dev librocksdb-dev libsodium-dev libinih-dev libcmocka-dev liburcu-dev librust-blake3-dev clang libclang-rt-14-dev gnuplot-nox spin python3 cargo"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "hotcache: missing Debian packages:$missing" >&2
  echo "run: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "hotcache: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/dev/null
