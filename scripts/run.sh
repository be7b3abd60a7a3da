#!/usr/bin/env bash
# The main job with sensible defaults (release build): is dINT worth it? Area and energy of the
# dINT MAC vs the INT8 MAC on LLM-like and real MiniLM data, beside the paper's ratios.
# Extra arguments go to `dintsim report` (e.g. --sweep). Files land in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
# qflow-tech-osu018: the OSU 0.18 µm Liberty library, for `--liberty` (README, second line).
bash scripts/install-deps.sh qflow-tech-osu018 zlib1g-dev
swift build -c release --product dintsim >&2
mkdir -p out
.build/release/dintsim report --json out/report.json --csv out/report.csv --svg out/report.svg "$@"
echo "wrote out/report.json, out/report.csv, out/report.svg" >&2
