#!/usr/bin/env bash
# Builds libdintsim, the golden model's C ABI (include/dintsim.h, docs/c-api.md), and installs it
# as build/lib/libdintsim.so (SwiftPM names the product's file liblibdintsim.so; its soname is
# libdintsim.so). Prints the library's path.
#   bash scripts/build-lib.sh           release build  -> build/lib/libdintsim.so
#   bash scripts/build-lib.sh --asan    AddressSanitizer build (scratch .build-asan, the flags of CI's ASan
#                                        test run, so the two share one build) -> build/lib-asan/libdintsim.so
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--asan" ]; then
  swift build -c release -Xswiftc -enable-testing --product libdintsim --scratch-path .build-asan --sanitize=address >&2
  bin=$(swift build -c release -Xswiftc -enable-testing --scratch-path .build-asan --sanitize=address --show-bin-path)
  dest=build/lib-asan
else
  swift build -c release --product libdintsim >&2
  bin=$(swift build -c release --show-bin-path)
  dest=build/lib
fi
mkdir -p "$dest"
cp -f "$bin/liblibdintsim.so" "$dest/libdintsim.so.tmp" && mv -f "$dest/libdintsim.so.tmp" "$dest/libdintsim.so"
echo "$PWD/$dest/libdintsim.so"
