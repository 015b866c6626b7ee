#!/bin/sh
# tests/model/run.sh: model-checks the map's update protocol (map.pml), the index's
# writer/reader protocol (index.pml) and the read / evict / reclaim protocol
# (reclaim.pml) with spin, and checks every verdict:
# each good configuration must be searched exhaustively with 0 errors, and each
# negative control (map_bad.pml, reclaim_bad.pml, index.pml -DBAD_*: one step reordered
# or dropped) must
# make spin report an assertion violation or an invalid end state. The script FAILS if
# a control passes, so a pass of the good models means something.
#
# Usage: sh tests/model/run.sh            (from any directory; ctest: model_spin)
# Environment: MODEL_JOBS  parallel spin runs (default 2)
#              MODEL_FULL=1  also run the larger configurations (minutes, for soak)
#              CC           C compiler for pan.c (default cc)
# Good runs: exhaustive safety search (pan built with -DSAFETY), with -DCOLLAPSE
# (lossless state compression: ~2.5x less memory, same states). No -DBITSTATE.
# Each failing control prints the events of spin's error trail (its EV lines).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}

# --- one run: run.sh --one TMPDIR NAME MODEL EXPECT [spin -D flags...] -----------
if [ "${1:-}" = "--one" ]; then
	tmp=$2 name=$3 model=$4 expect=$5
	shift 5
	d=$tmp/$name
	mkdir -p "$d"
	cp "$here"/*.pml "$d"/
	cd "$d"
	res=$d/result
	if [ "$expect" = pass ]; then
		cflags="-O2 -DSAFETY -DCOLLAPSE"
	else
		cflags="-O0 -DSAFETY" # errors are found in well under a second
	fi
	if ! spin "$@" -a "$model" >spin.out 2>&1; then
		{ echo "FAIL $name: spin -a $* $model failed:"; sed 's/^/    /' spin.out; } >"$res"
		exit 0
	fi
	if ! $CC $cflags -o pan pan.c >cc.out 2>&1; then
		{ echo "FAIL $name: $CC $cflags pan.c failed:"; sed 's/^/    /' cc.out | head -20; } >"$res"
		exit 0
	fi
	./pan -m100000 >pan.out 2>&1 || true
	errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.out | head -1)
	states=$(awk '/states, stored/ { print $1; exit }' pan.out)
	secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' pan.out | head -1)
	what=$(sed -n 's/^pan:1: \(.*\)/\1/p' pan.out | head -1)
	summary="$model $*: ${states:-?} states, ${errors:-?} errors, ${secs:-?} s"
	if [ -z "$errors" ]; then
		{ echo "FAIL $name: pan gave no verdict ($summary):"; sed 's/^/    /' pan.out | tail -20; } >"$res"
	elif [ "$expect" = pass ]; then
		if [ "$errors" -ne 0 ]; then
			{
				echo "FAIL $name: expected no error, got: $what ($summary)"
				spin "$@" -t "$model" 2>&1 | sed -n 's/^ *\(EV .*\)/    \1/p; s/^spin: \(.*Error.*\)/    \1/p; s/^spin: \(text of failed.*\)/    \1/p; /^    text of failed/q' | head -60
			} >"$res"
		elif grep -q -e "max search depth too small" -e "out of memory" -e "Search not completed" pan.out; then
			{ echo "FAIL $name: search incomplete ($summary):"; grep -e "max search depth" -e "out of memory" -e "Search not completed" pan.out | sed 's/^/    /'; } >"$res"
		else
			echo "PASS $name: $summary (expected: no error)" >"$res"
		fi
	else
		if [ "$errors" -ne 0 ] && echo "$what" | grep -q -e "assertion violated" -e "invalid end state"; then
			{
				echo "PASS $name: caught: $what ($summary)"
				spin "$@" -t "$model" 2>&1 | sed -n 's/^ *\(EV .*\)/    \1/p; s/^spin: \(text of failed.*\)/    \1/p; /^    text of failed/q' | head -40
			} >"$res"
		else
			echo "FAIL $name: the negative control was NOT caught ($summary): the model checks less than it claims" >"$res"
		fi
	fi
	exit 0
fi

# --- driver -------------------------------------------------------------------------
if ! command -v spin >/dev/null 2>&1; then
	echo "model_spin: spin is not installed: apt-get install -y spin (Debian package spin; tools/deps.sh lists it)" >&2
	exit 1
fi
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "model_spin: no C compiler ($CC) to build spin's verifier" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hc-model.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

# NAME MODEL EXPECT FLAGS... ; longest first, so that 2 jobs finish together.
cat >"$tmp/jobs" <<'EOF'
reclaim_2readers reclaim.pml pass -DREADERS=2 -DRLOOKUPS=1 -DRPOLLS=1
map_2keys_collide_3thr map.pml pass -DWORKERS=3 -DNKEYS=2 -DCOLLIDE=1 -DINIT_B=0
map_2keys_distinct_3thr map.pml pass -DWORKERS=3 -DNKEYS=2 -DCOLLIDE=0 -DINIT_B=0
map_1key_3thr map.pml pass -DWORKERS=3 -DNKEYS=1
reclaim_1reader_2lookups reclaim.pml pass -DREADERS=1 -DRLOOKUPS=2 -DRPOLLS=2
map_1key_2thr_2ops map.pml pass -DWORKERS=2 -DOPS=2 -DNKEYS=1
map_get_2keys_2thr map.pml pass -DWORKERS=2 -DNKEYS=2 -DCOLLIDE=1 -DINIT_B=0 -DREADER=1
map_get_1key_2thr map.pml pass -DWORKERS=2 -DNKEYS=1 -DREADER=1
index_1lookup_3ops index.pml pass -DOPS=3 -DRLOOKUPS=1
index_2lookups_4ops index.pml pass -DOPS=4 -DRLOOKUPS=2
index_4groups_4ops index.pml pass -DG=4 -DOPS=4
index_bad_no_grace index.pml fail -DBAD_NO_GRACE
index_bad_no_overflow index.pml fail -DBAD_NO_OVERFLOW
index_bad_ptr_first index.pml fail -DBAD_PTR_FIRST
index_bad_no_null index.pml fail -DBAD_NO_NULL
map_bad_link_store map_bad.pml fail -DBAD_LINK_STORE -DWORKERS=3 -DNKEYS=1
map_bad_retire_early map_bad.pml fail -DBAD_RETIRE_EARLY -DWORKERS=3 -DNKEYS=1
map_bad_no_fallback map_bad.pml fail -DBAD_NO_FALLBACK -DWORKERS=3 -DNKEYS=2 -DCOLLIDE=1 -DINIT_B=0
map_bad_replace_split map_bad.pml fail -DBAD_REPLACE_SPLIT -DWORKERS=3 -DNKEYS=1
map_bad_short_scan map_bad.pml fail -DBAD_SHORT_SCAN -DWORKERS=3 -DNKEYS=2 -DCOLLIDE=1 -DINIT_B=0
map_bad_get_no_mark map_bad.pml fail -DBAD_GET_NO_MARK -DWORKERS=2 -DNKEYS=1 -DREADER=1
reclaim_bad_announce_after_load reclaim_bad.pml fail -DBAD_ANNOUNCE_AFTER_LOAD -DREADERS=1 -DRLOOKUPS=2
reclaim_bad_retire_before_unlink reclaim_bad.pml fail -DBAD_RETIRE_BEFORE_UNLINK -DREADERS=1 -DRLOOKUPS=2
reclaim_bad_no_poll_mu reclaim_bad.pml fail -DBAD_NO_POLL_MU -DREADERS=1 -DRLOOKUPS=2
reclaim_bad_one_epoch reclaim_bad.pml fail -DBAD_ONE_EPOCH -DREADERS=1 -DRLOOKUPS=2
EOF
if [ "${MODEL_FULL:-0}" = 1 ]; then
	cat >>"$tmp/jobs" <<'EOF'
full_index_5ops index.pml pass -DOPS=5 -DRLOOKUPS=2
full_map_3thr_roles_2keys map.pml pass -DWORKERS=3 -DNKEYS=2 -DCOLLIDE=1 -DINIT_B=1 -DOPMASK0=3 -DOPMASK1=6 -DOPMASK2=12
full_map_2thr_2ops_2keys map.pml pass -DWORKERS=2 -DOPS=2 -DNKEYS=2 -DCOLLIDE=1 -DINIT_B=1
full_reclaim_2readers_2polls reclaim.pml pass -DREADERS=2 -DRLOOKUPS=1 -DRPOLLS=2
full_reclaim_2readers_2lookups reclaim.pml pass -DREADERS=2 -DRLOOKUPS=2 -DRPOLLS=1
full_map_get_1key_2thr_2ops map.pml pass -DWORKERS=2 -DOPS=2 -DNKEYS=1 -DREADER=1
full_map_get_1key_3thr map.pml pass -DWORKERS=3 -DNKEYS=1 -DREADER=1
EOF
fi

start=$(date +%s)
xargs -P "${MODEL_JOBS:-2}" -L 1 sh "$here/run.sh" --one "$tmp" <"$tmp/jobs" || true
fails=0
n=0
while read -r name rest; do
	n=$((n + 1))
	if [ -f "$tmp/$name/result" ]; then
		cat "$tmp/$name/result"
		head -1 "$tmp/$name/result" | grep -q '^PASS' || fails=$((fails + 1))
	else
		echo "FAIL $name: no result (the run was killed?)"
		fails=$((fails + 1))
	fi
done <"$tmp/jobs"
echo "model_spin: $((n - fails))/$n verdicts as expected in $(($(date +%s) - start)) s (spin $(spin -V | sed -n 's/^Spin Version \([^ ]*\).*/\1/p'))"
[ "$fails" -eq 0 ]
