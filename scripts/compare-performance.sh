#!/usr/bin/env bash
# One command for docs/performance.md: in one run on this machine, on the same inputs,
#   * the Verilator-compiled rtl-reference MAC/PE and Hadamard decoder vs our cycle models
#     (each replays the same vector files, every output checked);
#   * numpy implementations of the dINT4 quantizer and TAH-Quant encoder vs ours (codes compared);
#   * memcpy bandwidth; then `dintsim bench` for the full figure list.
# Installs what it needs (Debian: verilator g++ make python3-numpy). Scratch files: .build/performance.
# Usage: bash scripts/compare-performance.sh [--quick|--smoke]
#   --quick: a quarter of the replay repetitions (each still ≥ 0.2 s of Verilator), smaller bench
#            inputs; still 3 interleaved rounds per figure, per core and per machine.
#   --smoke: what CI runs: every replay once on one thread with 1/20 of the repetitions, to check
#            that every model and Verilator agree with the vectors; its timings are not figures.
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0; SMOKE=0
case "${1:-}" in --quick) QUICK=1 ;; --smoke) QUICK=1; SMOKE=1 ;; "") ;; *) echo "usage: compare-performance.sh [--quick|--smoke]" >&2; exit 2 ;; esac
bash scripts/install-deps.sh verilator g++ make python3
python3 -c "import numpy" 2>/dev/null || bash scripts/install-deps.sh python3-numpy
swift build -c release --product dintsim >&2
D=$PWD/.build/release/dintsim
W=$PWD/.build/performance
R=$W/results
mkdir -p "$W/vectors" "$R"
rm -f "$R"/*.json

# Vector sets: three committed, five generated (level 1 exhaustive + level-2 random/LLM-like cases).
gen() { [ -f "$W/vectors/$1/MANIFEST.json" ] || "$D" vectors generate --out "$W/vectors/$1" "${@:2}" >/dev/null 2>&1; }
gen int8-mac --unit int8-mac --level 1
gen int8-pe16 --unit int8-mac --lanes 16 --level 2 --count 2000
gen dint-pe16 --unit dint-mac --lanes 16 --level 2 --count 2000
gen fp4-pe16 --unit fp4-mac --lanes 16 --level 2 --count 2000
gen hadamard-g64-fp32 --unit hadamard-decoder --tile-size 64 --level 2 --count 2000
# name:directory:repetitions (about a second of Verilator each; a quarter of that with --quick).
SETS="dint-mac:$PWD/vectors/dint-mac:3000 int8-mac:$W/vectors/int8-mac:500 fp4-mac:$PWD/vectors/fp4-mac:3000"
SETS="$SETS dint-pe16:$W/vectors/dint-pe16:200 int8-pe16:$W/vectors/int8-pe16:80 fp4-pe16:$W/vectors/fp4-pe16:200"
SETS="$SETS hadamard-g16-fp32:$PWD/vectors/hadamard-g16-fp32:200 hadamard-g64-fp32:$W/vectors/hadamard-g64-fp32:20"
# Per core and per machine: Verilator's single-threaded model and its --threads $CORES build; ours
# on one thread and on every core. Every measurement is taken RUNS times, interleaved (one round
# of all of them, then the next), so a slow spell of the machine hits every side alike; the page
# shows the median and the spread.
CORES=$(nproc); RUNS=3; TS=1; [ "$CORES" -gt 1 ] && TS="1 $CORES"
[ $SMOKE = 1 ] && { RUNS=1; TS=1; }
for spec in $SETS; do
  IFS=: read -r name dir reps <<<"$spec"
  [ $QUICK = 1 ] && reps=$(( (reps + 3) / 4 ))
  [ $SMOKE = 1 ] && reps=$(( (reps + 4) / 5 ))
  echo "compare: $name ($reps repetitions, $RUNS rounds)" >&2
  for t in $TS; do
    make -s -C rtl-reference bench-verilator-build SET="$dir" THREADS="$t" BUILD="$W/rtl"
  done
  for round in $(seq "$RUNS"); do
    for t in $TS; do
      "$(cat "$W/rtl/vl-$(basename "$dir")-t$t.path")" "$dir" "$reps" >>"$R/$name.verilator-t$t.json"
      for model in fast netlist toggles; do
        "$D" bench --replay "$dir" --model "$model" --repetitions "$reps" --threads "$t" >>"$R/$name.$model-t$t.json"
      done
      # The portable C kernel (no POPCNT, no vectors): what a CPU without them gets.
      [ "$t" = 1 ] && "$D" bench --replay "$dir" --model toggles --instruction-set portable --repetitions "$reps" --threads 1 \
        >>"$R/$name.toggles-portable-t1.json"
    done
  done
done

# Quantizers vs numpy on the same files.
echo "compare: generating the quantizer inputs" >&2
python3 - "$W" "$QUICK" <<'PY'
import sys, numpy as np
w, quick = sys.argv[1], sys.argv[2] == "1"
rng = np.random.default_rng(2026)
np.save(f"{w}/weights.npy", rng.laplace(scale=0.5 ** 0.5, size=(4096, 4096)).astype(np.float32))
b = 2 if quick else 8
a = rng.standard_normal((b, 2048, 4096), dtype=np.float32)
a[:, :, rng.choice(4096, 64, replace=False)] *= 20          # outlier channels, as in LLM activations
np.save(f"{w}/activations.npy", a)
PY
echo "compare: numpy" >&2
python3 scripts/numpy_reference.py --weights "$W/weights.npy" --activations "$W/activations.npy" --out "$W/numpy" --runs 3 >"$R/numpy.json"
echo "compare: dintsim quantizers" >&2
# bench times every figure on all cores and again with the process confined to one CPU (per core).
"$D" bench --quantizers-only --runs 3 --weights "$W/weights.npy" --activations "$W/activations.npy" --dump "$W/ours" --json "$R/ours-quantizers.json" >/dev/null
# The quantizer kernel at the other instruction-set levels this CPU has (what a CPU without
# AVX-512, or without vectors at all, gets; the same bytes, speed alone). Exit 2: not on this CPU.
QRUNS=3; [ $QUICK = 1 ] && QRUNS=1
for isa in avx2 popcount portable; do
  rc=0
  "$D" bench --quantizers-only --runs "$QRUNS" --sequences 1 --weights "$W/weights.npy" --instruction-set "$isa" \
    --json "$R/ours-quantizers-$isa.json" >/dev/null 2>&1 || rc=$?
  case $rc in 0) ;; 2) echo "compare: no $isa kernel on this CPU" >&2 ;; *) exit "$rc" ;; esac
done
echo "compare: dintsim bench (all figures)" >&2
if [ $QUICK = 1 ]; then "$D" bench --runs 1 --size 1024 --sequences 1 --json "$R/bench.json" >/dev/null
else "$D" bench --json "$R/bench.json" >/dev/null; fi
echo "compare: glitch-aware simulation beside Icarus + SDF (scripts/real_flow.py)" >&2
bash scripts/install-deps.sh iverilog yosys opensta qflow-tech-osu018 >&2
# The smoke run times the MAC only: the block quantizers' flow is checked once, by .ci/run's real_flow.py.
if [ $QUICK = 1 ]; then python3 scripts/real_flow.py --lanes 1 --units dint-mac --cycles 512 --no-block-quantizer --out "$W/flow" >/dev/null
else python3 scripts/real_flow.py --out "$W/flow" >/dev/null; fi
status=0
python3 scripts/performance_report.py "$W" >"$W/performance.md" || status=$?
if [ $SMOKE = 1 ]; then echo "smoke run: $W/performance.md (docs/performance.md left alone)" >&2
else mv "$W/performance.md" docs/performance.md; echo "wrote docs/performance.md" >&2; fi
exit $status
