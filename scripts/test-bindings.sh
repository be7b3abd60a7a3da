#!/usr/bin/env bash
# The golden model from C, SystemVerilog and Python (docs/c-api.md), each held against the
# committed vectors or rtl-reference/mac.v:
#   * C: every committed vector line through libdintsim, bad arguments, calls/s (scripts/test-c-api.sh);
#   * Python: pip install ./python into .build/python-venv, pytest python/tests;
#   * cocotb (Icarus): mac.v against the Python golden model, three configurations, and the
#     injected fault must fail;
#   * DPI-C (Verilator): the scoreboard on five configurations, and the injected fault must fail.
# Installs what it needs (Debian: iverilog verilator make python3-venv; PyPI: numpy pytest cocotb ml_dtypes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh iverilog verilator make g++
python3 -c "import venv, ensurepip" 2>/dev/null || bash scripts/install-deps.sh python3-venv
bash scripts/test-c-api.sh
V=.build/python-venv
[ -x "$V/bin/python" ] || python3 -m venv "$V"
"$V/bin/python" -m pip install -q --disable-pip-version-check numpy pytest cocotb ml_dtypes
DINTSIM_LIBRARY="$PWD/build/lib/libdintsim.so" "$V/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./python
"$V/bin/python" -m pytest -q python/tests
export PATH="$PWD/$V/bin:$PATH"
for c in "1 4 2 24 1" "0 16 2 32 0" "2 1 1 14 1"; do
  set -- $c
  make -s -C python/cocotb KIND=$1 LANES=$2 DEPTH=$3 ACC_W=$4 SATURATE=$5 CYCLES=10000 >.build/cocotb.log 2>&1 || { cat .build/cocotb.log; exit 1; }
  grep -o "[a-z0-9-]* lanes .*golden model" .build/cocotb.log
done
if make -s -C python/cocotb KIND=1 LANES=1 DEPTH=1 ACC_W=16 SATURATE=0 CYCLES=2000 FAULT=1 >.build/cocotb.log 2>&1; then
  echo "cocotb missed mac.v's injected fault"; exit 1
fi
echo "cocotb: the injected fault is caught"
make -s -C dpi all fault
