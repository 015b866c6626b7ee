#!/bin/sh
# hotcache.h compiles without a warning as C11, C17 and C++17 (issue 12): $1 the C
# compiler, $2 the C++ compiler, $3 the include directory.
set -eu
cc=$1 cxx=$2 inc=$3
src=$(dirname "$0")/header_use.c
flags="-Wall -Wextra -Wpedantic -Wshadow -Wundef -Werror -fsyntax-only -I$inc"
for std in c11 c17; do
	"$cc" -std=$std $flags -Wstrict-prototypes -Wmissing-prototypes -x c "$src"
	echo "hotcache.h: $std clean"
done
"$cxx" -std=c++17 $flags -Wold-style-cast -x c++ "$src"
echo "hotcache.h: c++17 clean"
