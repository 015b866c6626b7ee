#!/bin/sh
# test_cli: the hotcache command apart from `load` (issue 12, points 5 and 8).
#  - --version prints the library's version; every command has --help (exit 0, usage on
#    stdout, nothing opened); an unknown command is named in a one-line error (exit 2);
#  - keystate, kel verify and stats --store read a store another process holds open as
#    primary (they open it as a RocksDB secondary), with no doubled message on errors;
#  - a mistyped --store is never created by a read command, and the read commands
#    change no file of a store;
#  - kel export gives back the stream imported, which imports into a fresh store;
#  - backup --with-key and restore give a store with the same key state (issue 13); a
#    failed restore leaves nothing behind and removes nothing it did not make (a
#    dangling symlink at the store or key path is refused, and kept);
#  - kel import of a directory creates no store; kel verify and kel export name an
#    unknown prefix's outcome.
# usage: test_cli.sh /path/to/hotcache /path/to/store_holder SOURCE_DIR
set -u
BIN=${1:?usage: test_cli.sh HOTCACHE STORE_HOLDER SOURCE_DIR}
HOLDER=${2:?}
SRC=${3:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/test_cli.XXXXXX") || exit 1
HOLDER_PID=
cleanup() {
	[ -n "$HOLDER_PID" ] && kill "$HOLDER_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/tmp"
export TMPDIR="$T/tmp"
fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# expect STATUS NAME ARGS...: runs hotcache ARGS, checks the exit status.
expect() {
	want=$1
	name=$2
	shift 2
	"$BIN" "$@" >"$T/out" 2>"$T/err"
	st=$?
	[ "$st" -eq "$want" ] || fail "$name: exit status $st, expected $want: $(head -c 400 "$T/err")"
}

# --version
expect 0 "--version" --version
grep -Eq '^hotcache [0-9]+\.[0-9]+\.[0-9]+$' "$T/out" || fail "--version printed '$(cat "$T/out")'"

# CMD --help, for every command: usage on stdout, nothing on stderr, no file touched
for cmd in "load" "kel import" "kel verify" "kel export" "kel duplicity" "keystate" "stats" \
	"backup" "restore"; do
	# shellcheck disable=SC2086
	(cd "$T" && "$BIN" $cmd --help >"$T/out" 2>"$T/err")
	st=$?
	[ "$st" -eq 0 ] || fail "$cmd --help: exit status $st: $(head -c 300 "$T/err")"
	grep -q "usage" "$T/out" || fail "$cmd --help: no usage on stdout: $(head -c 300 "$T/out")"
	[ -s "$T/err" ] && fail "$cmd --help: wrote to stderr: $(head -c 300 "$T/err")"
done
[ -e "$T/--help" ] && fail "kel import --help made a file named --help"

# an unknown command is named
expect 2 "unknown command" frobnicate --store "$T/x"
grep -q "frobnicate" "$T/err" || fail "unknown command not named: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "unknown command: not one line: $(cat "$T/err")"
expect 2 "unknown kel command" kel frob X --store "$T/x"
grep -q "frob" "$T/err" || fail "unknown kel command not named: $(cat "$T/err")"

# a store with a KEL in it
expect 0 "kel import" kel import "$SRC/tests/data/keri/01_direct_mode_coe_icp_rot_ixn.cesr" \
	--store "$T/store"
PREFIX=$(awk '/ icp .*accepted$/ { print $3; exit }' "$T/out")
[ -n "$PREFIX" ] || fail "kel import accepted no inception: $(head -c 400 "$T/out")"

# a receipt of its icp whose couple does not verify: "receipt rejected: why", exit 1
RCT='{"v":"KERI10JSON000000_","t":"rct","d":"'$PREFIX'","i":"'$PREFIX'","s":"0"}'
RCT=$(printf '%s' "$RCT" | sed "s/000000_/$(printf '%06x' ${#RCT})_/")
printf '%s-CAB%s0B%s' "$RCT" "B$(printf 'A%.0s' $(seq 43))" "$(printf 'A%.0s' $(seq 86))" \
	>"$T/rct.cesr"
expect 1 "kel import of a forged receipt" kel import "$T/rct.cesr" --store "$T/store"
grep -q "rct $PREFIX sn=0: receipt rejected: receipt couple of B" "$T/out" ||
	fail "forged receipt: $(cat "$T/out")"
# --own takes 44-character prefixes only
expect 2 "kel import --own short" kel import "$T/rct.cesr" --store "$T/store" --own short
grep -q "not a 44-character qb64 prefix" "$T/err" || fail "--own short: $(cat "$T/err")"
expect 1 "kel import --own" kel import "$T/rct.cesr" --store "$T/store" --own "$PREFIX" \
	--witness "B$(printf 'A%.0s' $(seq 43))"
grep -q "receipt rejected: own receipt by B" "$T/out" || fail "--witness: $(cat "$T/out")"

# a process holds it as primary, as a daemon would
mkfifo "$T/ctl"
"$HOLDER" "$T/store" <"$T/ctl" >"$T/ready" 2>"$T/holder.err" &
HOLDER_PID=$!
exec 3>"$T/ctl"
i=0
while [ "$i" -lt 100 ] && ! grep -q ready "$T/ready" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
grep -q ready "$T/ready" || fail "store_holder did not start: $(cat "$T/holder.err")"

expect 0 "keystate beside a primary" keystate "$PREFIX" --store "$T/store" --json
grep -q "\"i\":\"$PREFIX\"" "$T/out" || fail "keystate printed $(head -c 300 "$T/out")"
expect 0 "kel verify beside a primary" kel verify "$PREFIX" --store "$T/store"
grep -q "events verified" "$T/out" || fail "kel verify printed $(head -c 300 "$T/out")"
expect 0 "stats beside a primary" stats --store "$T/store"
grep -q "^store_corrupt 0$" "$T/out" || fail "stats printed $(head -c 600 "$T/out")"
# the KEL imported above (3 events, each with its first-seen record), the escrow's
# layout mark, and the holder's payload, seen through the secondary
grep -q "^store_kel_records 7$" "$T/out" || fail "stats: kel records: $(cat "$T/out")"
grep -q "^store_keystate_records 1$" "$T/out" || fail "stats: keystates: $(cat "$T/out")"
grep -q "^store_payload_records 1$" "$T/out" || fail "stats: payloads: $(cat "$T/out")"
# a writer is refused by the lock, with one clear sentence
expect 1 "kel import beside a primary" kel import \
	"$SRC/tests/data/keri/01_direct_mode_coe_icp_rot_ixn.cesr" --store "$T/store"
grep -q "cannot open the store: cannot open the store" "$T/err" && fail "doubled message: $(cat "$T/err")"
grep -q "$T/store" "$T/err" || fail "the lock error does not name the store: $(cat "$T/err")"
exec 3>&-
wait "$HOLDER_PID" || fail "store_holder failed: $(cat "$T/holder.err")"
HOLDER_PID=
[ -z "$(ls -A "$T/tmp")" ] || fail "secondary directories left in TMPDIR: $(ls "$T/tmp")"

# the read commands change nothing in a store no process holds: every file (names,
# sizes, contents) and the key file the same before and after
snapshot() {
	(cd "$T" && find store store.key -type f | LC_ALL=C sort | xargs sha256sum)
}
snapshot >"$T/snap.before"
for cmd in "keystate $PREFIX --json" "kel verify $PREFIX" "stats" "kel export $PREFIX" \
	"kel export --all" "kel export $PREFIX --first-seen" "kel duplicity $PREFIX"; do
	# shellcheck disable=SC2086
	expect 0 "$cmd" $cmd --store "$T/store"
done
snapshot >"$T/snap.after"
cmp -s "$T/snap.before" "$T/snap.after" ||
	fail "a read command changed the store: $(diff "$T/snap.before" "$T/snap.after" | head -n 8)"

# a mistyped --store is never created by a read command
for cmd in "keystate $PREFIX" "kel verify $PREFIX" "stats"; do
	# shellcheck disable=SC2086
	expect 1 "$cmd on a missing store" $cmd --store "$T/stor"
	[ -e "$T/stor" ] && fail "$cmd created the mistyped store $T/stor"
	[ -e "$T/stor.key" ] && fail "$cmd created a key file $T/stor.key"
	grep -q "does not exist" "$T/err" || fail "$cmd: $(cat "$T/err")"
done

# kel duplicity: none recorded for a KEL imported without conflicts (the evidence
# itself is tested in test_kel_recovery, with signed conflicts)
expect 0 "kel duplicity" kel duplicity "$PREFIX" --store "$T/store"
[ -s "$T/out" ] && fail "kel duplicity wrote evidence for a clean KEL: $(head -c 200 "$T/out")"
grep -q "0 conflicting" "$T/err" || fail "kel duplicity printed $(head -c 300 "$T/err")"

# kel export: the stream imported, byte for byte; it imports into a fresh store
expect 0 "kel export" kel export "$PREFIX" --store "$T/store"
cmp -s "$T/out" "$SRC/tests/data/keri/01_direct_mode_coe_icp_rot_ixn.cesr" ||
	fail "kel export is not the stream imported: $(head -c 200 "$T/out")"
cp "$T/out" "$T/export.cesr"
# --first-seen: the same stream while no recovery rotation superseded anything
expect 0 "kel export --first-seen" kel export "$PREFIX" --store "$T/store" --first-seen
cmp -s "$T/out" "$T/export.cesr" || fail "kel export --first-seen: $(head -c 200 "$T/out")"
expect 0 "kel import of an export" kel import "$T/export.cesr" --store "$T/fresh"
grep -q "3 accepted" "$T/out" || fail "import of the export: $(tail -n 1 "$T/out")"
expect 0 "kel verify after the round trip" kel verify "$PREFIX" --store "$T/fresh"
expect 1 "kel export of an unknown prefix" kel export \
	EAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA --store "$T/store"

# kel export --all: every identifier's KEL, one after another
expect 0 "kel import of a second KEL" kel import "$SRC/tests/data/keri/04_replay_deb_weighted_kel.cesr" \
	--store "$T/store"
expect 0 "kel export --all" kel export --all --store "$T/store"
cp "$T/out" "$T/all.cesr"
expect 0 "kel import of --all" kel import "$T/all.cesr" --store "$T/all"
grep -q "^10 messages: 10 accepted" "$T/out" || fail "import of --all: $(tail -n 1 "$T/out")"
expect 0 "kel verify after --all (01)" kel verify "$PREFIX" --store "$T/all"
expect 0 "kel verify after --all (04)" kel verify ELfp9ZhqQCGov3wPRLa6vn5VkIQjug2sb2QD17T-TIpY \
	--store "$T/all"

# a delegated identifier (keripy's test_delegating vector): its state names the delegator
expect 0 "kel import of a delegation" kel import "$SRC/tests/data/keri/16_delegation_bob_del.cesr" \
	--store "$T/deleg"
grep -q "^5 messages: 5 accepted" "$T/out" || fail "import of the delegation: $(tail -n 1 "$T/out")"
expect 0 "keystate of the delegate" keystate EHng2fV42DdKb5TLMIs6bbjFkPNmIdQ5mSFn6BTnySJj \
	--store "$T/deleg" --json
grep -q ',"di":"EA_SbBUZYwqLVlAAn14d6QUBQCSReJlZ755JqTgmRhXH"}$' "$T/out" ||
	fail "keystate of the delegate: $(head -c 600 "$T/out")"

# backup with its key, restore, same key state; existing targets refused
expect 0 "keystate before the backup" keystate "$PREFIX" --store "$T/store" --json
cp "$T/out" "$T/state.before"
expect 0 "backup" backup --store "$T/store" --to "$T/bak" --with-key
[ "$(stat -c %a "$T/bak.key")" = 600 ] || fail "backup key file mode $(stat -c %a "$T/bak.key")"
expect 2 "backup onto an existing directory" backup --store "$T/store" --to "$T/bak"
expect 1 "backup of a missing store" backup --store "$T/nostore" --to "$T/bak2"
[ -e "$T/nostore" ] && fail "backup created the store it was to copy"
expect 0 "restore" restore --from "$T/bak" --store "$T/restored"
[ "$(stat -c %a "$T/restored.key")" = 600 ] || fail "restored key file mode"
expect 0 "keystate of the restored store" keystate "$PREFIX" --store "$T/restored" --json
cmp -s "$T/out" "$T/state.before" || fail "restored key state differs: $(cat "$T/out")"
expect 0 "kel verify of the restored store" kel verify "$PREFIX" --store "$T/restored"
expect 2 "restore onto an existing store" restore --from "$T/bak" --store "$T/restored"
# a restore that fails leaves nothing behind: not a backup, a backup without its key
# (refused before copying), a key that does not open it (undone after copying)
expect 2 "restore from a directory that is no backup" restore --from "$T/tmp" \
	--store "$T/r1"
expect 0 "backup without its key" backup --store "$T/store" --to "$T/bak_nokey"
expect 2 "restore of a backup without its key" restore --from "$T/bak_nokey" \
	--store "$T/r2"
head -c 32 /dev/urandom >"$T/wrong.key" && chmod 600 "$T/wrong.key"
expect 1 "restore with a key that does not open it" restore --from "$T/bak_nokey" \
	--store "$T/r3" --set "crypto.key_file=$T/wrong.key"
for r in r1 r2 r3; do
	[ -e "$T/$r" ] || [ -e "$T/$r.key" ] && fail "a failed restore left $T/$r behind"
done
expect 0 "restore of a backup without its key, the key given" restore \
	--from "$T/bak_nokey" --store "$T/r4" --set "crypto.key_file=$T/store.key"
# a key path or store path that is a dangling symlink (a key volume not mounted yet) is
# there: refused before copying, and never removed (until 2026-12-07 stat passed it,
# the key's O_EXCL copy failed, and the undo unlinked the symlink)
ln -s "$T/not-mounted/r6.key" "$T/r6.key"
expect 2 "restore onto a dangling key symlink" restore --from "$T/bak" --store "$T/r6"
[ -L "$T/r6.key" ] || fail "a failed restore removed the key symlink $T/r6.key"
[ -e "$T/r6" ] && fail "a refused restore created $T/r6"
ln -s "$T/not-mounted/r7" "$T/r7"
expect 2 "restore onto a dangling store symlink" restore --from "$T/bak" --store "$T/r7"
[ -L "$T/r7" ] || fail "a failed restore removed the store symlink $T/r7"
# kel import of a directory is refused before a store is made; an unknown prefix is
# named in kel verify's and kel export's errors
expect 2 "kel import of a directory" kel import "$T/tmp" --store "$T/r5"
[ -e "$T/r5" ] && fail "kel import of a directory created a store"
grep -q "cannot read" "$T/err" || fail "kel import of a directory: $(cat "$T/err")"
UNKNOWN=EAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
expect 1 "kel verify of an unknown prefix" kel verify "$UNKNOWN" --store "$T/store"
grep -q "no key event log stored" "$T/err" || fail "kel verify unknown: $(cat "$T/err")"
expect 1 "kel export of an unknown prefix" kel export "$UNKNOWN" --store "$T/store"
grep -q "no key event log stored" "$T/err" || fail "kel export unknown: $(cat "$T/err")"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "test_cli: all passed"
