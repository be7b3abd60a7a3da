#!/usr/bin/env bash
# libFuzzer + AddressSanitizer on every parser of outside input (Fuzz/*.swift, docs/testing.md):
#   npy (.npy reader), codebook (code-book JSON), technology (technology-table JSON),
#   manifest (vector MANIFEST.json + a hex line of its layout), dump (DUT dumps against a
#   committed set), tahq (.tahq stream decoder + decode).
# Usage: bash scripts/fuzz.sh [SECONDS_PER_HARNESS] [HARNESS ...]     (default 60 s, all six)
# Each harness's body is FuzzTargets.<name> (Sources/FuzzTargets), which the tests also run on
# Tests/Fixtures/fuzz. Seeds come from the repository (fixtures, vectors, technology table, Tests/Fixtures); new
# corpus entries stay in .build-fuzz/corpus. Crashers are written to .build-fuzz/artifacts and
# make the script fail; copy them to Tests/Fixtures/fuzz/<harness>/ so the tests replay them.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
HARNESSES=${*:-npy codebook technology manifest dump tahq safetensors liberty}
S=$PWD/.build-fuzz
bash scripts/install-deps.sh
# The library modules, compiled with coverage instrumentation and ASan (no executable is linked:
# SwiftPM's executable link expects a Swift main, libFuzzer brings its own).
swift build -c release --scratch-path "$S" --target FuzzTargets -Xswiftc -sanitize=fuzzer,address >&2
objects=()
for m in CKernels Kernels Formats Exact Quantization Workloads TensorIO Circuits TAHQuant TAHQuantExact Units Vectors Liberty Cost FuzzTargets; do objects+=("$S"/release/$m.build/*.o); done
declare -A SOURCE=([npy]=FuzzNpy [codebook]=FuzzCodeBook [technology]=FuzzTechnology [manifest]=FuzzManifest [dump]=FuzzDump [tahq]=FuzzTahq [safetensors]=FuzzSafetensors [liberty]=FuzzLiberty)

seed() {   # seed corpus per harness, from files in the repository
  local h=$1 dir=$S/seeds/$1
  rm -rf "$dir"; mkdir -p "$dir"
  case $h in
    npy) cp fixtures/minilm/*.npy "$dir"/ ;;
    codebook) printf '{"name": "b", "levels": [0, 1, 3, 7, 16, 40, 100, 512, 0, -1, -3, -7, -16, -40, -100, -512], "reserved": [8]}' >"$dir/book.json" ;;
    technology) cp Sources/Cost/Resources/nangate45.json "$dir"/ ;;
    liberty) cp Tests/Fixtures/liberty/*.lib "$dir"/ ;;
    manifest) for v in vectors/*/; do { cat "$v/MANIFEST.json"; printf '\0'; head -1 "$v/vectors.hex"; } >"$dir/$(basename "$v")"; done ;;
    dump) head -40 vectors/hadamard-g8-fp16/vectors.hex | cut -d_ -f13-20 >"$dir/partial"; printf '0_0\n' >"$dir/short" ;;
    tahq) .build/release/dintsim tahquant encode --input fixtures/minilm/minilm-l2-ffn-input-acts.npy --output "$dir/minilm.tahq" --tile 8 >/dev/null 2>&1 || true ;;
  esac
  [ -d "Tests/Fixtures/fuzz/$h" ] && cp Tests/Fixtures/fuzz/"$h"/* "$dir"/ 2>/dev/null || true
  [ -d "Tests/Fixtures/malformed/$h" ] && cp Tests/Fixtures/malformed/"$h"/* "$dir"/ 2>/dev/null || true
}

# A plain dintsim for making seeds (the .tahq stream); the usual release build, shared.
swift build -c release --product dintsim >&2
status=0
for h in $HARNESSES; do
  src=${SOURCE[$h]:?unknown harness $h}
  swiftc -parse-as-library -O -sanitize=fuzzer,address -module-name "$src" -I "$S/release/Modules" \
    -Xcc -fmodule-map-file="$PWD/Sources/CGMP/module.modulemap" -Xcc -fmodule-map-file="$PWD/Sources/CZlib/module.modulemap" \
    -Xcc -fmodule-map-file="$S/release/CKernels.build/module.modulemap" "Fuzz/$src.swift" "${objects[@]}" -lgmp -lz -o "$S/fuzz-$h" \
    >"$S/link-$h.log" 2>&1 || { cat "$S/link-$h.log" >&2; exit 2; }
  seed "$h"
  mkdir -p "$S/corpus/$h" "$S/artifacts/$h"
  echo "fuzz: $h for $SECONDS_EACH s" >&2
  if ! DINTSIM_FUZZ_VECTORS=$PWD/vectors/hadamard-g8-fp16 "$S/fuzz-$h" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$S/artifacts/$h/" "$S/corpus/$h" "$S/seeds/$h" >"$S/$h.log" 2>&1; then
    echo "fuzz: $h FOUND A CRASH (see $S/$h.log, $S/artifacts/$h/)" >&2
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$S/$h.log" | tail -1)
  echo "fuzz: $h ${runs:-?} executions in $SECONDS_EACH s, corpus $(ls "$S/corpus/$h" | wc -l) files" >&2
done
exit $status
