#!/usr/bin/env bash
# The C kernels built as on x86-64 (every instruction-set level) and with -DDINTSIM_PORTABLE_ONLY
# (the portable level alone, as on every other architecture): c/test_kernels.c runs every level
# each build has on the same seeded inputs, every level must agree with the portable one, and
# both builds must print the same hashes (include/kernels.h; docs/performance.md, "Kernels").
set -euo pipefail
cd "$(dirname "$0")/.."
cc="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
[ -x "$cc" ] || cc=cc
mkdir -p build/c
flags="-std=c11 -O2 -Wall -Wextra -Werror -ISources/CKernels/include -ISources/CKernels"
"$cc" $flags Sources/CKernels/*.c c/test_kernels.c -lm -o build/c/test_kernels
"$cc" $flags -DDINTSIM_PORTABLE_ONLY Sources/CKernels/*.c c/test_kernels.c -lm -o build/c/test_kernels_portable
build/c/test_kernels >build/c/kernels.txt
build/c/test_kernels_portable >build/c/kernels_portable.txt
grep -qx "levels 0" build/c/kernels_portable.txt || { echo "test-kernels: the portable-only build reports other levels" >&2; exit 1; }
if ! diff <(grep -v '^levels' build/c/kernels.txt) <(grep -v '^levels' build/c/kernels_portable.txt) >&2; then
  echo "test-kernels: the portable-only build computes different bytes" >&2; exit 1
fi
echo "kernels agree: $(grep '^levels' build/c/kernels.txt), and the portable-only build"
