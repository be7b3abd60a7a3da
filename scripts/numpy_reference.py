#!/usr/bin/env python3
"""Straightforward numpy implementations of dintsim's dINT4 quantizer and TAH-Quant encoder, the
way a practitioner would vectorize them, following docs/quantization.md and docs/tahquant.md.
They exist as the speed baseline of docs/performance.md and as an independent check of our codes.

    numpy_reference.py --weights W.npy --activations A.npy --out DIR [--runs N]

Times each function (median of --runs after one warm-up, wall clock, everything from the loaded
float32 array to the codes), writes the codes to DIR as .npy (same names as
`dintsim bench --dump`), and prints one JSON object with the figures.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

# dINT4 (docs/formats.md): sorted levels in half-steps and their codes (sign-magnitude,
# magnitude 7 = the denormal ½ step).
DINT4_HALF_STEPS = np.array([-12, -10, -8, -6, -4, -2, -1, 0, 1, 2, 4, 6, 8, 10, 12], dtype=np.float64)
DINT4_CODES = np.array([0xE, 0xD, 0xC, 0xB, 0xA, 0x9, 0xF, 0x0, 0x7, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6], dtype=np.uint8)
# Round-to-nearest-even tie direction per gap (docs/formats.md "Even"): up iff the upper level's
# half-step integer has more trailing zero bits (smaller magnitude on equal counts).
def _tie_up(lo, hi):
    def tz(v):
        v = abs(int(v))
        return 99 if v == 0 else (v & -v).bit_length()
    if tz(hi) != tz(lo):
        return tz(hi) > tz(lo)
    return abs(hi) < abs(lo)
DINT4_TIE_UP = np.array([_tie_up(DINT4_HALF_STEPS[j], DINT4_HALF_STEPS[j + 1]) for j in range(14)])


def quantize_dint4_per_channel(w):
    """scale = fl32(max|x| / 6) per row; level decided exactly on 4x/scale in binary64 (quarter-steps:
    midpoints are the integers L_j + L_{j+1}; one binary64 division cannot cross them)."""
    m = np.abs(w).max(axis=1)
    scale = m / np.float32(6)
    scale = np.where((m > 0) & (scale == 0), np.float32(2.0 ** -149), scale).astype(np.float32)
    mids = DINT4_HALF_STEPS[:-1] + DINT4_HALF_STEPS[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (4.0 * w.astype(np.float64)) / scale.astype(np.float64)[:, None]
    index = np.searchsorted(mids, q, side="left")          # midpoints strictly below q
    at = np.minimum(index, len(mids) - 1)
    index += (q == mids[at]) & DINT4_TIE_UP[at]             # a tie goes up where the even level is above
    codes = DINT4_CODES[index]
    codes[scale == 0] = 0
    return codes, scale


R = float.fromhex("0x1.6a09e667f3bcdp-1")   # binary64 nearest 1/√2 (docs/tahquant.md c_G)
C_G = {8: 0.5 * R, 16: 0.25, 32: 0.25 * R, 64: 0.125, 128: 0.125 * R}


def tahquant_encode(a, g=64, share=0.8, tau=2.0):
    """Per-token allocation (docs/tahquant.md steps 1–5), binary64. np.log and numpy's pairwise
    sums differ from dintsim's in the last bits of the entropies; that decides only exact near-ties
    of the INT4/INT3 cut-off, which the comparison reports if it ever happens."""
    b, s, c = a.shape
    x = a.reshape(b * s, c).astype(np.float64)
    mag = np.abs(x)
    total = mag.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = mag / total[:, None]
        entropy = -np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=1)
    entropy[total == 0] = 0
    n4 = min(s, int(np.floor(share * s + 0.5)))
    bits = np.full((b, s), 3, dtype=np.uint8)
    for k in range(b):
        order = np.lexsort((np.arange(s), -entropy[k * s:(k + 1) * s]))
        bits[k, order[:n4]] = 4
    tile_bits = np.repeat(bits.reshape(-1), c // g)
    tiles = x.reshape(-1, g)
    n = tiles.shape[0]
    tmag = np.abs(tiles)
    pivot = tmag.argmax(axis=1)
    rows = np.arange(n)
    m1 = tmag[rows, pivot]
    tmag[rows, pivot] = -1.0
    second = np.maximum(tmag.max(axis=1), 0.0)
    flagged = (m1 > 0) & (m1 >= tau * second)
    f = tiles[flagged]
    fp = pivot[flagged]
    fr = np.arange(f.shape[0])
    first = f[:, 0].copy()
    f[:, 0] = f[fr, fp]
    f[fr, fp] = first
    h = 1
    while h < g:                                           # butterfly: (a, b) -> (a + b, a - b)
        v = f.reshape(-1, g // (2 * h), 2, h)
        top, bottom = v[:, :, 0, :], v[:, :, 1, :]
        f = np.stack([top + bottom, top - bottom], axis=2).reshape(-1, g)
        h *= 2
    tiles[flagged] = f * C_G[g]
    levels = np.where(tile_bits == 4, 15.0, 7.0)
    lo, hi = tiles.min(axis=1), tiles.max(axis=1)
    zero16 = lo.astype(np.float16)
    scale16 = ((hi - lo) / levels).astype(np.float16)
    scale16[scale16 == 0] = np.float16(2.0 ** -24)
    z, sc = zero16.astype(np.float64), scale16.astype(np.float64)
    codes = np.clip(np.rint((tiles - z[:, None]) / sc[:, None]), 0, levels[:, None]).astype(np.uint8)
    return {
        "tah_bits": tile_bits, "tah_flagged": flagged.astype(np.uint8), "tah_pivots": np.where(flagged, pivot, 0).astype(np.uint8),
        "tah_scales": scale16.view(np.uint16), "tah_zeros": zero16.view(np.uint16), "tah_codes": codes.reshape(b * s, c),
    }


def timed(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return result, times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--activations", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    w = np.load(args.weights)
    a = np.load(args.activations)
    if w.dtype != np.float32 or w.ndim != 2 or a.dtype != np.float32 or a.ndim != 3:
        sys.exit("numpy_reference: weights must be float32 2-D, activations float32 3-D")
    figures = {"numpy": np.__version__}
    (codes, scales), t = timed(lambda: quantize_dint4_per_channel(w), args.runs)
    np.save(os.path.join(args.out, "dint4_codes.npy"), codes)
    np.save(os.path.join(args.out, "dint4_scales.npy"), scales)
    figures["dint4"] = {"elements": int(w.size), "seconds": t, "median_elements_per_second": w.size / t[len(t) // 2]}
    arrays, t = timed(lambda: tahquant_encode(a), args.runs)
    for name, value in arrays.items():
        np.save(os.path.join(args.out, name + ".npy"), value)
    figures["tahquant_encode"] = {"elements": int(a.size), "seconds": t, "median_elements_per_second": a.size / t[len(t) // 2]}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
