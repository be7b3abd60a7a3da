#!/usr/bin/env bash
# Proves `dintsim export`'s structural netlist equivalent to rtl-reference/mac.v of the same
# configuration, with Yosys: a miter of the two (every output compared every cycle), then
# `sat -tempinduct`: the base case from reset-free all-zero state and an induction step from any
# state whose outputs agreed for k cycles (k up to D + 3). docs/export.md, "Equivalence proofs".
#   bash scripts/prove-equivalence.sh            the CI matrix: dint-mac and fp4-mac at lanes 1 (depth 1–3,
#                                                 wrap and saturate) and lanes 2 (depth 1–3, wrap); int8-mac
#                                                 at lanes 1, depth 1–3, wrap (21 proofs)
#   bash scripts/prove-equivalence.sh --full     every unit kind × depth 1–3 × lanes 1, 2 × wrap, saturate (36;
#                                                 the INT8 multiplier makes some of them take many minutes)
#   bash scripts/prove-equivalence.sh --fault    the proof against mac.v built with -DINJECT_FAULT
#                                                 (dint-mac, two configurations): it must FAIL
#   CONFIGS="dint-mac:1:2:16:wrap ..." overrides the matrix (unit:lanes:depth:width:overflow).
# Prints one line per proof and exits 1 if any proof fails (or, with --fault, if the fault is proven
# equivalent). Runs two proofs at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
fault=0; full=0
case "${1:-}" in --fault) fault=1;; --full) full=1;; "") ;; *) echo "prove-equivalence: unknown option ${1}: use --full or --fault" >&2; exit 2;; esac
command -v yosys >/dev/null || { echo "prove-equivalence: yosys is missing (bash scripts/install-deps.sh installs it)" >&2; exit 2; }
bin=${DINTSIM:-.build/debug/dintsim}
[ -x "$bin" ] || swift build --product dintsim >&2
work=$(mktemp -d "${TMPDIR:-/tmp}/dintsim-equiv.XXXXXX"); trap 'rm -rf "$work"' EXIT
if [ -z "${CONFIGS:-}" ]; then
  CONFIGS=""
  if [ $fault = 1 ]; then CONFIGS="dint-mac:1:1:16:wrap dint-mac:2:3:18:saturate"
  elif [ $full = 1 ]; then
    for u in int8-mac dint-mac fp4-mac; do for d in 1 2 3; do for l in 1 2; do for o in wrap saturate; do
      CONFIGS="$CONFIGS $u:$l:$d:20:$o"; done; done; done; done
  else
    for u in dint-mac fp4-mac; do for d in 1 2 3; do
      CONFIGS="$CONFIGS $u:1:$d:20:wrap $u:1:$d:20:saturate $u:2:$d:20:wrap"; done; done
    for d in 1 2 3; do CONFIGS="$CONFIGS int8-mac:1:$d:20:wrap"; done
  fi
fi
prove() {
  IFS=: read -r u lanes depth w ov <<<"$1"
  case $u in int8-mac) kind=0;; dint-mac) kind=1;; fp4-mac) kind=2;; *) echo "unknown unit $u" >&2; return 2;; esac
  sat=0; [ "$ov" = saturate ] && sat=1
  f="$work/$u-$lanes-$depth-$w-$ov"
  "$bin" export --unit "$u" --lanes "$lanes" --pipeline "$depth" --acc-width "$w" --overflow "$ov" --module gate --output "$f.v" >/dev/null
  define=""; [ "$fault" = 1 ] && define="-DINJECT_FAULT"
  cat >"$f.ys" <<EOS
read_verilog $define rtl-reference/dint_product.v rtl-reference/fp4_product.v rtl-reference/mac.v
chparam -set KIND $kind -set LANES $lanes -set DEPTH $depth -set ACC_W $w -set SATURATE $sat mac
read_verilog $f.v
proc; opt_clean; flatten
miter -equiv -flatten -make_assert mac gate miter
hierarchy -top miter
proc; opt
sat -verify -tempinduct -prove-asserts -set-init-zero -maxsteps $((depth + 3)) miter
EOS
  local start end r
  start=$(date +%s.%N)
  if yosys -l "$f.log" -q "$f.ys" >/dev/null 2>&1; then r=proven; else r=failed; fi
  end=$(date +%s.%N)
  k=$(grep -o 'induction length [0-9]*' "$f.log" | tail -1 | grep -o '[0-9]*$' || true)
  if grep -q 'Induction step proven' "$f.log"; then how="induction k = $k"
  elif grep -q 'model found for base case' "$f.log"; then how="counterexample from the all-zero start state"
  else how="induction not closed by k = $((depth + 3)): not proven, no counterexample"; fi
  printf '%s lanes %s D %s W %s %s: %s (%s, %.1f s)\n' "$u" "$lanes" "$depth" "$w" "$ov" "$r" "$how" "$(echo "$end - $start" | bc)"
}
export -f prove; export bin work fault
# shellcheck disable=SC2086
printf '%s\n' $CONFIGS | xargs -P 2 -I{} bash -c 'prove {}' | tee "$work/results"
n=$(wc -l <"$work/results"); ok=$(grep -c ': proven' "$work/results" || true)
if [ $fault = 1 ]; then
  [ "$ok" = 0 ] && [ "$n" -gt 0 ] && { echo "ok: the broken RTL is not equivalent ($n of $n proofs fail)"; exit 0; }
  echo "FAIL: the broken RTL was proven equivalent"; exit 1
fi
[ "$ok" = "$n" ] && { echo "equivalence: $n of $n configurations proven"; exit 0; }
echo "FAIL: $((n - ok)) of $n configurations not proven"; exit 1
