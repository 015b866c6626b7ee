#!/bin/sh
# Installs hotcache from the build dir $1 into a scratch prefix, then builds and runs
# the README's example with pkg-config and with find_package, as an embedder would, and
# a host program (host.c) that checks embedding leaves the host's allocator alone.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n1 | xargs dirname)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Werror -o "$tmp/example_pc" "$src/tests/embed/example.c" \
   $(pkg-config --cflags --libs hotcache) -Wl,-rpath,"$libdir"
out=$("$tmp/example_pc" "$tmp/store1" 2>/dev/null)
[ "$out" = "value" ] || { echo "pkg-config example printed '$out'"; exit 1; }

# The caller's flags carry nothing of hotcache's dependencies (ck's .pc defines
# __x86_64__) and no allocator.
flags=$(pkg-config --cflags --libs hotcache)
case "$flags" in
*-D*|*jemalloc*) echo "pkg-config hotcache leaks into the caller: $flags"; exit 1 ;;
esac
# A host linked through pkg-config (with --as-needed, as Debian's toolchain may):
# malloc stays glibc's, no jemalloc is loaded, accounted bytes stay within the limit.
cc -std=c11 -Wall -Werror -o "$tmp/host" "$src/tests/embed/host.c" -Wl,--as-needed \
   $(pkg-config --cflags --libs hotcache) -ldl -Wl,-rpath,"$libdir"
host=$("$tmp/host" "$tmp/store_host" 2>"$tmp/host.err") || { echo "host: $host"; exit 1; }
# A new store, puts, evictions and close: the library said nothing on stderr.
[ ! -s "$tmp/host.err" ] || { echo "the library wrote to stderr:"; cat "$tmp/host.err"; exit 1; }
set -- $host
[ "$1" = "$(pkg-config --modversion hotcache)" ] ||
	{ echo "library version $1 but pkg-config says $(pkg-config --modversion hotcache)"; exit 1; }
echo "host: malloc from $2, no jemalloc; accounted at most $3 of a $4-byte limit"
# Without jemalloc: the library falls back to the system allocator.
cc -std=c11 -Wall -Werror -o "$tmp/example_plain" "$src/tests/embed/example.c" \
   -I"$tmp/prefix/include" -L"$libdir" -lhotcache -Wl,-rpath,"$libdir"
out=$("$tmp/example_plain" "$tmp/store2" 2>/dev/null)
[ "$out" = "value" ] || { echo "plain example printed '$out'"; exit 1; }
cmake -S "$src/tests/embed" -B "$tmp/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_RPATH="$libdir" >/dev/null
cmake --build "$tmp/b" >/dev/null
out=$("$tmp/b/example_cmake" "$tmp/store3" 2>/dev/null)
[ "$out" = "value" ] || { echo "find_package example printed '$out'"; exit 1; }
echo "embedding: pkg-config and find_package builds both print '$out'"
