#!/usr/bin/env bash
# Builds libdintsim, the golden model's C ABI (include/dintsim.h, docs/c-api.md), and installs it
# as build/lib/libdintsim.so (SwiftPM names the product's file liblibdintsim.so; this script links
# it with soname libdintsim.so, a linker flag given here rather than in Package.swift, where it
# would make the package unusable as a dependency). Prints the library's path.
#   bash scripts/build-lib.sh           release build  -> build/lib/libdintsim.so
#   bash scripts/build-lib.sh --asan    AddressSanitizer build (scratch .build-asan, the flags of CI's ASan
#                                        test run, so the two share one build) -> build/lib-asan/libdintsim.so
set -euo pipefail
cd "$(dirname "$0")/.."
soname="-Xlinker -soname=libdintsim.so"
if [ "${1:-}" = "--asan" ]; then
  swift build -c release -Xswiftc -enable-testing --product libdintsim --scratch-path .build-asan --sanitize=address $soname >&2
  bin=$(swift build -c release -Xswiftc -enable-testing --scratch-path .build-asan --sanitize=address --show-bin-path)
  dest=build/lib-asan
else
  swift build -c release --product libdintsim $soname >&2
  bin=$(swift build -c release --show-bin-path)
  dest=build/lib
fi
mkdir -p "$dest"
cp -f "$bin/liblibdintsim.so" "$dest/libdintsim.so.tmp" && mv -f "$dest/libdintsim.so.tmp" "$dest/libdintsim.so"
echo "$PWD/$dest/libdintsim.so"
