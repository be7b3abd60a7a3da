#!/usr/bin/env bash
# The --convention presets against the FP4 libraries themselves (docs/quantization.md,
# "Conventions"; python/peers): torchao and compressed-tensors on CPU, at the versions pinned in
# python/peers/requirements.txt, quantize the MiniLM fixtures and synthetic tensors beside
# dintsim's Python binding; codes, block scales and tensor scales must agree bit for bit, and the
# inputs must tell every rule of a preset from its alternatives.
# Installs what it needs into .build/peer-venv (PyPI: torch is about 5 GB with its CUDA wheels,
# about 2 minutes on first use; the CPU paths are what run).
#   bash scripts/test-peers.sh              the tests
#   bash scripts/test-peers.sh --table      also print the agreement table
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import venv, ensurepip" 2>/dev/null || bash scripts/install-deps.sh python3-venv
bash scripts/build-lib.sh >/dev/null
V=.build/peer-venv
[ -x "$V/bin/python" ] || python3 -m venv "$V"
"$V/bin/python" -m pip install -q --disable-pip-version-check -r python/peers/requirements.txt
DINTSIM_LIBRARY="$PWD/build/lib/libdintsim.so" "$V/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./python
cd python/peers
"../../$V/bin/python" -m pytest -q -p no:cacheprovider -W ignore .
if [ "${1:-}" = "--table" ]; then "../../$V/bin/python" agreement.py; fi
