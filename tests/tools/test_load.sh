#!/bin/sh
# test_load_cli: `hotcache load`'s argument and config errors (exit 2, one line on
# stderr), and two short runs whose JSON reports are checked for consistency: operation
# counts match the mix, percentiles are ordered, accounted memory stays under the limit
# plus its documented slack, the per-second samples add up to the totals, and --ops
# runs exactly that many operations. Issue 12: the tool uses the public header only,
# takes the config's size units, refuses a preload larger than free disk or memory, and
# --compare starts both halves from the same store.
# usage: test_load.sh /path/to/hotcache [SOURCE_DIR]
set -u
BIN=${1:?usage: test_load.sh HOTCACHE [SOURCE_DIR]}
SRC=${2:-}
T=$(mktemp -d "${TMPDIR:-/tmp}/test_load.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export TMPDIR="$T"
fails=0

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect_error NAME ARGS...: exit status 2 and exactly one line on stderr.
expect_error() {
	name=$1
	shift
	"$BIN" load "$@" >"$T/out" 2>"$T/err"
	st=$?
	lines=$(wc -l <"$T/err")
	if [ "$st" -ne 2 ]; then
		fail "$name: exit status $st, expected 2 ($(head -c 300 "$T/err"))"
	elif [ "$lines" -ne 1 ]; then
		fail "$name: $lines lines on stderr, expected 1: $(head -c 300 "$T/err")"
	else
		echo "ok: $name: $(cat "$T/err")"
	fi
}

expect_error "unknown option" --no-such-option
expect_error "option without its value" --seconds
expect_error "bad --mix kind" --mix read=80,scan=20
expect_error "bad --mix weight" --mix read=eighty
expect_error "empty --mix" --mix read=0
expect_error "bad --size-dist" --size-dist normal:1-2
expect_error "bad --seconds" --seconds -3
expect_error "bad --threads" --threads 0
expect_error "bad --set key" --set cache.no_such_key=1
expect_error "bad --set value" --set cache.memory_limit=lots
expect_error "missing config file" --config "$T/absent.ini"
printf '[cache]\nmemory_limit = 1 parsec\n' >"$T/bad.ini"
expect_error "bad config file" --config "$T/bad.ini"
expect_error "unexpected argument" stray
# Sizes in the config's units: KiB/MiB are sizes, k/K/M are refused as the config does.
expect_error "size in k" --size-dist fixed:2k
expect_error "size in KB" --size-dist uniform:1KB-2KB
# A preload that cannot fit is refused before anything is written, with the figures.
"$BIN" load --payloads 20000 --size-dist fixed:16MiB >"$T/out" 2>"$T/err"
st=$?
if [ "$st" -ne 2 ] || [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -q "preload" "$T/err" ||
	! grep -q "free" "$T/err"; then
	fail "oversized preload: status $st, stderr: $(head -c 300 "$T/err")"
else
	echo "ok: oversized preload: $(cat "$T/err")"
fi
if ls "$T" | grep -q hotcache-load; then
	fail "the refused preload left a store: $(ls "$T")"
fi
# tools/ includes the public header only (and its own headers). Except kelgen.c, the
# generator of signed test KELs: it needs keri/'s BLAKE3 digest and CESR text, as a
# daemon's own KERI library would provide them.
if [ -n "$SRC" ]; then
	if grep -n '#include "\(cache\|backing\|bench\|map\|reclaim\|keri\)/' "$SRC"/tools/*.c "$SRC"/tools/*.h |
		grep -v '^[^:]*/kelgen\.c:'; then
		fail "tools/ includes internal headers (above)"
	else
		echo "ok: tools/ includes hotcache.h and its own headers only"
	fi
fi
# Without gnuplot on PATH, --plot fails up front with one line naming it.
PATH=/nonexistent "$BIN" load --plot "$T/x.png" >"$T/out" 2>"$T/err"
st=$?
if [ "$st" -ne 2 ] || [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -q gnuplot "$T/err"; then
	fail "--plot without gnuplot: status $st, stderr: $(head -c 300 "$T/err")"
else
	echo "ok: --plot without gnuplot: $(cat "$T/err")"
fi

# check_json FILE OPS: the report's consistency (OPS: exact total expected, or 0).
check_json() {
	python3 - "$1" "$2" <<'EOF'
import json, math, sys
r = json.load(open(sys.argv[1]))
want_ops = int(sys.argv[2])
bad = []
mix = r["config"]["mix"]
wsum = sum(mix.values())
for run in r["runs"]:
    ops = run["ops"]
    total = sum(o["count"] for o in ops.values())
    if total != run["total"]["count"]:
        bad.append("total %d != sum of kinds %d" % (run["total"]["count"], total))
    if total < 100:
        bad.append("only %d operations ran" % total)
    if want_ops and total != want_ops:
        bad.append("--ops %d ran %d" % (want_ops, total))
    for kind, o in ops.items():
        p = mix[kind] / wsum
        got = o["count"] / total if total else 0
        tol = 0.02 + 4 * math.sqrt(p * (1 - p) / max(total, 1))
        if abs(got - p) > tol:
            bad.append("%s: %.3f of the operations, mix says %.3f (+-%.3f)" % (kind, got, p, tol))
        if o["errors"]:
            bad.append("%s: %d errors (%s)" % (kind, o["errors"], run["first_error"]))
        l = o["latency_ns"]
        if o["count"]:
            seq = [l["p50"], l["p90"], l["p99"], l["p999"], l["max"]]
            if seq != sorted(seq) or l["p50"] <= 0:
                bad.append("%s: percentiles out of order: %s" % (kind, seq))
            if not (0 < l["mean"] <= l["max"]):
                bad.append("%s: mean %s outside (0, max %s]" % (kind, l["mean"], l["max"]))
    m = run["memory"]
    if not (0 < m["accounted_peak"] <= m["limit"] + m["slack"]):
        bad.append("accounted peak %d not in (0, limit %d + slack %d]"
                   % (m["accounted_peak"], m["limit"], m["slack"]))
    if m["rss_peak"] <= 0:
        bad.append("no RSS figure")
    for k in ("payload", "keystate"):
        h = run["hit_ratio"][k]
        if h is not None and not (0 <= h <= 1):
            bad.append("hit ratio %s = %s" % (k, h))
    if run["mode"] == "cache" and (run["hit_ratio"]["payload"] is None
                                   or run["hit_ratio"]["payload"] < 0.5):
        bad.append("payload hit ratio %s with everything preloaded" % run["hit_ratio"]["payload"])
    for kind in ops:
        s = sum(x[kind] for x in run["series"])
        if s != ops[kind]["count"]:
            bad.append("%s: samples add up to %d, not %d" % (kind, s, ops[kind]["count"]))
    for x in run["series"]:
        if x["accounted"] > m["limit"] + m["slack"]:
            bad.append("a sample's accounted bytes %d exceed the limit" % x["accounted"])
if r["preload"]["kel_events"] != 4 * r["config"]["ids"]:
    bad.append("preload: %d KEL events for %d ids" % (r["preload"]["kel_events"], r["config"]["ids"]))
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
}

# A short timed run with the default mix (sync durability, the default).
if "$BIN" load --seconds 2 --ids 50 --payloads 2000 --json "$T/out.json" --csv "$T/out.csv" \
	>"$T/out" 2>"$T/err"; then
	if check_json "$T/out.json" 0; then
		echo "ok: --seconds 2 run: JSON report consistent"
	else
		fail "--seconds 2 run: JSON report inconsistent"
	fi
	grep -q "^  read " "$T/out" || fail "--seconds 2 run: no read row in the text report"
	[ "$(wc -l <"$T/out.csv")" -eq 5 ] || fail "--csv: expected a header and 4 rows"
else
	fail "--seconds 2 run failed: $(tail -3 "$T/err")"
fi

# An exact operation count, with the cache bypassed in a second run; sizes in KiB.
if "$BIN" load --ops 4000 --threads 3 --ids 30 --payloads 500 --compare \
	--size-dist "lognormal:256-8 KiB" \
	--set backing.durability=wal --json "$T/ops.json" >"$T/out" 2>"$T/err"; then
	if check_json "$T/ops.json" 4000; then
		echo "ok: --ops 4000 --compare: JSON report consistent"
	else
		fail "--ops 4000 --compare: JSON report inconsistent"
	fi
	grep -q "^speedup" "$T/out" || fail "--compare printed no speedup"
	# Both halves start from the same store: the same KEL lengths; the schema is named.
	python3 - "$T/ops.json" <<'EOF' || fail "--compare: the halves start from different states"
import json, sys
r = json.load(open(sys.argv[1]))
a, b = r["runs"][0], r["runs"][1]
ok = r.get("schema_version") == 1 and a["kel_len"] == b["kel_len"] == 4.0
print("  schema_version %s, KEL length at the start: cache %s, bypass %s"
      % (r.get("schema_version"), a["kel_len"], b["kel_len"]))
sys.exit(0 if ok else 1)
EOF
else
	fail "--ops 4000 --compare run failed: $(tail -3 "$T/err")"
fi

# SIGINT during the run: a clean stop, the report for what ran, exit status 130.
# A file of its own, empty before the start: the backgrounded child truncates its
# redirection only once it runs, so a reused file could still hold an earlier run's
# "[cache" lines and the signal would go out before the handler is installed (and a
# background job of a non-interactive shell ignores SIGINT until then).
: >"$T/int.err"
"$BIN" load --seconds 60 --ids 20 --payloads 300 --json "$T/int.json" >"$T/out" 2>"$T/int.err" &
pid=$!
n=0
# Wait for the run proper (the preload can take long on a loaded machine).
while ! grep -q '^\[cache' "$T/int.err" 2>/dev/null && [ $n -lt 900 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.1
	n=$((n + 1))
done
kill -INT $pid
wait $pid
st=$?
if [ "$st" -ne 130 ]; then
	fail "SIGINT: exit status $st, expected 130 ($(tail -2 "$T/int.err"))"
elif ! grep -q "interrupted" "$T/out" || ! grep -q '"interrupted":true' "$T/int.json"; then
	fail "SIGINT: the report does not say the run was interrupted"
else
	echo "ok: SIGINT: report printed, exit status 130"
fi

# The temporary stores are gone.
if ls "$T" | grep -q hotcache-load; then
	fail "a temporary store was left behind: $(ls "$T")"
fi

[ "$fails" -eq 0 ] && echo "test_load_cli: all passed"
exit $((fails != 0))
