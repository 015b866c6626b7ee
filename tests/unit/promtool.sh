#!/bin/sh
# Checks hc_stats_prometheus's text with Prometheus' own linter (issue 12, point 6).
# promtool comes from Debian's prometheus package, which tools/deps.sh installs for
# `make test`: a missing promtool is a failure, not a skip.
# usage: promtool.sh TEST_METRICS_BINARY WORKDIR
set -eu
bin=$1
out=$2/metrics.prom
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool.sh: promtool not found (Debian package prometheus; tools/deps.sh installs it)" >&2
  exit 1
fi
"$bin" --dump "$out"
promtool check metrics < "$out"
echo "promtool check metrics: ok ($(grep -c '^# TYPE' "$out") metrics)"
