#!/usr/bin/env bash
# Runs every test: the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh iverilog verilator yosys make parallel opensta qflow-tech-osu018 zlib1g-dev
swift build --build-tests
swift test
# The golden model from C, SystemVerilog (DPI-C, Verilator) and Python (pytest, cocotb).
bash scripts/test-bindings.sh
# The --convention presets against torchao and compressed-tensors themselves (CPU, pinned versions).
bash scripts/test-peers.sh
