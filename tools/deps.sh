#!/bin/sh
# Installs the Debian packages hotcache builds with, when they are missing.
# As root it runs apt-get; otherwise it prints the one command to run and fails.
#
# prometheus is here for promtool only (the metrics test checks hc_stats_prometheus's
# text with it): its server must not start, now or at boot. When prometheus is among the
# packages to install and no policy-rc.d exists, one that denies every start stands in
# place for the install (the Docker convention; invoke-rc.d and deb-systemd-invoke both
# honour it) and is removed afterwards; the service the package enabled is disabled.
set -eu
PKGS="build-essential cmake pkg-config libck-dev libjemalloc-dev librocksdb-dev libsodium-dev libinih-dev libcmocka-dev liburcu-dev librust-blake3-dev clang libclang-rt-14-dev gnuplot-nox spin python3 prometheus cargo"
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
policy=/usr/sbin/policy-rc.d
our_policy=""
case " $missing " in
*" prometheus "*)
  if [ ! -e "$policy" ]; then
    our_policy=1
    trap 'rm -f "$policy"' EXIT INT TERM
    printf '#!/bin/sh\n# hotcache tools/deps.sh: no service starts while it installs\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi
  ;;
esac
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends $missing >/dev/null
case " $missing " in
*" prometheus "*)
  # Off at boot too (systemd unit and SysV links); errors only mean it was not enabled.
  if command -v deb-systemd-helper >/dev/null 2>&1; then
    deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1; then
    update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
  ;;
esac
[ -n "$our_policy" ] && rm -f "$policy" && trap - EXIT INT TERM
exit 0
