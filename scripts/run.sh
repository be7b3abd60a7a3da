#!/usr/bin/env bash
# The main job with sensible defaults (release build): is dINT worth it? Area and energy of the
# dINT MAC vs the INT8 MAC on LLM-like and real MiniLM data, beside the paper's ratios.
# Extra arguments go to `dintsim report` (e.g. --sweep). Files land in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product dintsim >&2
mkdir -p out
.build/release/dintsim report --json out/report.json --csv out/report.csv --svg out/report.svg "$@"
echo "wrote out/report.json, out/report.csv, out/report.svg" >&2
