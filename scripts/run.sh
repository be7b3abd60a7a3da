#!/usr/bin/env bash
# The main job with sensible defaults (release build): dINT4 vs INT4 on synthetic and MiniLM data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product dintsim >&2
bin=.build/release/dintsim
"$bin" underflow "$@"
if [ $# -eq 0 ]; then
  for f in fixtures/minilm/*.npy; do "$bin" underflow --input "$f"; done
fi
