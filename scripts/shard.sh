#!/usr/bin/env bash
# Runs one shard of a dintsim job (docs/scaling.md): the body of a Slurm array task or of one
# GNU parallel job.
#   bash scripts/shard.sh [I N] DINTSIM-ARGS…
# I and N (shard I of N, 0-based) come from the arguments, or else from Slurm's
# SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT. Every "%i" in DINTSIM-ARGS becomes I, so each
# shard writes its own output; "--shard I/N" is appended. DINTSIM names the binary (default: the
# release build of this checkout, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $# -ge 2 && "$1" =~ ^[0-9]+$ && "$2" =~ ^[0-9]+$ ]]; then
  i=$1; n=$2; shift 2
else
  i=${SLURM_ARRAY_TASK_ID:?"give I N or run as a Slurm array task"}
  n=${SLURM_ARRAY_TASK_COUNT:?"SLURM_ARRAY_TASK_COUNT is not set"}
fi
if [[ -z "${DINTSIM:-}" ]]; then
  DINTSIM=$PWD/.build/release/dintsim
  [[ -x "$DINTSIM" ]] || { bash scripts/install-deps.sh; swift build -c release --product dintsim >&2; }
fi
args=()
for a in "$@"; do args+=("${a//%i/$i}"); done
exec "$DINTSIM" "${args[@]}" --shard "$i/$n"
