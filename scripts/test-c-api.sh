#!/usr/bin/env bash
# The C ABI end to end: builds libdintsim and c/test_capi.c, which replays every committed vector
# set through the C entry points (every output and flag bit), checks bad arguments, and prints
# calls per second.  --asan: library and test under AddressSanitizer (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
asan=""; cflags="-O2"
if [ "${1:-}" = "--asan" ]; then asan="--asan"; cflags="-O1 -g -fsanitize=address -fno-omit-frame-pointer"; fi
lib=$(bash scripts/build-lib.sh $asan)
libdir=$(dirname "$lib")
# The toolchain's clang: its AddressSanitizer runtime is the one the Swift library was built for.
cc="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
[ -x "$cc" ] || cc=cc
version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/Formats/Version.swift)
mkdir -p build/c
"$cc" -std=c11 -Wall -Wextra -Werror $cflags -Iinclude -DDINTSIM_EXPECTED_VERSION="\"$version\"" c/test_capi.c \
  -L"$libdir" -ldintsim -Wl,-rpath,"$libdir" -o build/c/test_capi$asan
ASAN_OPTIONS=detect_leaks=0 build/c/test_capi$asan vectors/*/
