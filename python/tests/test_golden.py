"""The Python golden model against every committed vector set, the CLI, and bad input.

Run: pytest python/tests (after pip install ./python, or with DINTSIM_LIBRARY set)."""
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import dintsim
from fp4_inputs import convention_inputs

REPOSITORY = Path(__file__).resolve().parents[2]
VECTORS = REPOSITORY / "vectors"


def sets(unit):
    return [d for d in sorted(VECTORS.iterdir()) if (d / "MANIFEST.json").exists() and json.loads((d / "MANIFEST.json").read_text())["unit"] == unit]


def lines(d):
    return [[int(f, 16) for f in line.split("_")] for line in (d / "vectors.hex").read_text().split()]


def test_version_is_the_one_source():
    text = (REPOSITORY / "Sources/Formats/Version.swift").read_text()
    assert dintsim.__version__ == re.search(r'static let string = "([^"]+)"', text).group(1)


@pytest.mark.parametrize("d", [d for u in ("int8-mac", "dint-mac", "fp4-mac") for d in sets(u)], ids=lambda d: d.name)
def test_mac_sets_line_by_line(d):
    m = json.loads((d / "MANIFEST.json").read_text())
    c = m["configuration"]
    lanes, width = c["lanes"], c["accumulator_width"]
    mac = dintsim.Mac(m["unit"], lanes, c["pipeline_depth"], width, c["overflow"] == "saturate")
    assert m["flags"] == dintsim.MAC_FLAGS
    mask, depth = (1 << width) - 1, c["pipeline_depth"]
    presented = {}  # line -> its wrapped / saturated bits, since the last reset
    for k, v in enumerate(lines(d)):
        if v[0]:
            mac.reset()
            presented.clear()
            continue
        w, a = v[3:3 + lanes], [x - 256 if x > 127 else x for x in v[3 + lanes:3 + 2 * lanes]]
        acc, valid_out, flags = mac.step_flags(w, a, v[1], v[2])
        assert (acc & mask, valid_out) == (v[3 + 2 * lanes], v[4 + 2 * lanes]), f"{d.name} line {k}"
        line_flags = v[5 + 2 * lanes]
        presented[k] = line_flags & 3
        assert flags & ~3 == line_flags & ~3, f"{d.name} line {k}: presented flags"
        assert flags & 3 == presented.get(k - depth + 1, 0), f"{d.name} line {k}: landed flags"


@pytest.mark.parametrize("d", sets("quantizer"), ids=lambda d: d.name)
def test_quantizer_sets_with_flags(d):
    c = json.loads((d / "MANIFEST.json").read_text())["configuration"]
    for k, (x, s, draw, code, flags) in enumerate(lines(d)):
        xf, sf = np.uint32(x).view(np.float32), np.uint32(s).view(np.float32)
        assert dintsim.quantize_level_draw(c["format"], float(xf), float(sf), c["rounding"], draw) == (code, flags), f"{d.name} line {k}"


@pytest.mark.parametrize("d", sets("hadamard-decoder"), ids=lambda d: d.name)
def test_decoder_sets_with_flags(d):
    c = json.loads((d / "MANIFEST.json").read_text())["configuration"]
    g = c["tile_size"]
    for k, v in enumerate(lines(d)):
        out, flags = dintsim.decode_tile(v[:g], v[g], v[g + 1], v[g + 2], v[g + 3], c["output"], with_flags=True)
        assert list(out) == v[g + 4:2 * g + 4] and flags == v[2 * g + 4], f"{d.name} line {k}"


@pytest.mark.parametrize("d", sets("block-quantizer"), ids=lambda d: d.name)
def test_block_quantizer_sets(d):
    """Every committed MXFP4 block-quantizer line through dintsim.quantize under the set's scale
    rule: each block padded with zeros to a 32-element row (zeros change neither the block maximum
    nor any code)."""
    configuration = json.loads((d / "MANIFEST.json").read_text())["configuration"]
    b, rule = configuration["block_size"], configuration["scale_rule"]
    rows = np.array(lines(d), dtype=np.uint64)
    padded = np.zeros((len(rows), 32), dtype=np.float32)
    padded[:, :b] = rows[:, :b].astype(np.uint32).view(np.float32)
    codes, scales, _ = dintsim.quantize(padded, "mxfp4", mx_scale=rule)
    assert np.array_equal(scales[:, 0], rows[:, b]) and np.array_equal(codes[:, :b], rows[:, b + 1:2 * b + 1])


@pytest.mark.parametrize("d", sets("nvfp4-quantizer"), ids=lambda d: d.name)
def test_nvfp4_quantizer_sets(d):
    """Every committed NVFP4-quantizer line through dintsim.quantize with the line's tensor scale,
    one block per call (each line has its own S)."""
    b = json.loads((d / "MANIFEST.json").read_text())["configuration"]["block_size"]
    for k, v in enumerate(lines(d)):
        x = np.array(v[:b], dtype=np.uint32).view(np.float32).reshape(1, b)
        s = float(np.array([v[b]], dtype=np.uint32).view(np.float32)[0])
        codes, scales, stats = dintsim.quantize(x, "nvfp4", tensor_scale=s)
        assert scales[0, 0] == v[b + 1] and list(codes[0]) == v[b + 2:2 * b + 2] and stats["tensor_scale"] == s, f"{d.name} line {k}"


def cli():
    binary = REPOSITORY / ".build/debug/dintsim"
    if not binary.exists():
        subprocess.run(["swift", "build", "--product", "dintsim"], cwd=REPOSITORY, check=True)
    return binary


@pytest.mark.parametrize("granularity,rounding", [("channel", "toNearestOrEven"), ("tensor", "towardZero"), ("group:16", "stochastic")])
def test_quantize_equals_the_cli(tmp_path, granularity, rounding):
    x = np.random.default_rng(5).laplace(size=(12, 40)).astype(np.float32)
    x[3, 4] = 0
    np.save(tmp_path / "x.npy", x)
    subprocess.run([str(cli()), "quantize", "--format", "dint4", "--granularity", granularity, "--rounding", rounding, "--seed", "9",
                    "--input", str(tmp_path / "x.npy"), "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy")],
                   check=True, stdout=subprocess.DEVNULL)
    codes, scales, stats = dintsim.quantize(x, "dint4", granularity, rounding, seed=9)
    assert np.array_equal(codes, np.load(tmp_path / "c.npy"))
    assert np.array_equal(scales.ravel().view(np.uint32), np.load(tmp_path / "s.npy").ravel().view(np.uint32))
    assert stats["elements"] == 480 and stats["nonzero"] == 479


@pytest.mark.parametrize("scheme,rounding", [("mxfp4", "toNearestOrEven"), ("nvfp4", "towardZero")])
def test_block_quantize_equals_the_cli(tmp_path, scheme, rounding):
    x = np.random.default_rng(7).standard_t(3, size=(9, 70)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([str(cli()), "quantize", "--format", scheme, "--rounding", rounding, "--input", str(tmp_path / "x.npy"),
                    "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy"), "--stats-json", str(tmp_path / "st.json")],
                   check=True, stdout=subprocess.DEVNULL)
    codes, scales, stats = dintsim.quantize(x, scheme, rounding=rounding)
    assert np.array_equal(codes, np.load(tmp_path / "c.npy")) and np.array_equal(scales, np.load(tmp_path / "s.npy"))
    cli_stats = json.loads((tmp_path / "st.json").read_text())
    assert np.float32(stats["tensor_scale"]) == np.float32(cli_stats["tensor_scale"])
    assert stats["underflow"] == cli_stats["statistics"]["underflow_count"] and stats["elements"] == 630
    # Stochastic elements: the CLI's --seed / --stochastic-bits and Python's seed / stochastic_bits agree.
    subprocess.run([str(cli()), "quantize", "--format", scheme, "--rounding", "stochastic", "--seed", "3", "--stochastic-bits", "8",
                    "--input", str(tmp_path / "x.npy"), "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy")],
                   check=True, stdout=subprocess.DEVNULL)
    codes, scales, _ = dintsim.quantize(x, scheme, rounding="stochastic", seed=3, stochastic_bits=8)
    assert np.array_equal(codes, np.load(tmp_path / "c.npy")) and np.array_equal(scales, np.load(tmp_path / "s.npy"))
    assert not np.array_equal(codes, dintsim.quantize(x, scheme, rounding="stochastic", seed=4, stochastic_bits=8)[0])
    with pytest.raises(dintsim.DintsimError, match="1 to 16 bits"):
        dintsim.quantize(x, scheme, rounding="stochastic", stochastic_bits=17)


@pytest.mark.parametrize("scheme,options", [("mxfp4", ["--mx-scale", "stochastic"]), ("nvfp4", ["--nvfp4-scale-rounding", "stochastic"])])
def test_stochastic_block_scales_equal_the_cli(tmp_path, scheme, options):
    """Stochastic block scales: the CLI's options and Python's variant name (scheme:stochastic)
    draw the same scales from the same seed and width, with nearest or stochastic elements; another
    seed moves some scales; the expected scale is unbiased over the blocks (MX: m / 6 exactly)."""
    x = np.random.default_rng(9).standard_t(3, size=(64, 128)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    for rounding in ("toNearestOrEven", "stochastic"):
        subprocess.run([str(cli()), "quantize", "--format", scheme, *options, "--rounding", rounding, "--seed", "5", "--stochastic-bits", "8",
                        "--input", str(tmp_path / "x.npy"), "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy")],
                       check=True, stdout=subprocess.DEVNULL)
        codes, scales, _ = dintsim.quantize(x, f"{scheme}:stochastic", rounding=rounding, seed=5, stochastic_bits=8)
        assert np.array_equal(codes, np.load(tmp_path / "c.npy")) and np.array_equal(scales, np.load(tmp_path / "s.npy")), rounding
    other = dintsim.quantize(x, f"{scheme}:stochastic", seed=6, stochastic_bits=8)[1]
    assert 0 < np.count_nonzero(other != scales) < scales.size
    if scheme == "mxfp4":  # E[X] = m / 6 per block: the mean of X / (m / 6) over 256 blocks is 1 (within 4.5 standard errors)
        m = np.abs(x.reshape(64, 4, 32)).max(axis=2)
        ratio = np.exp2(scales.astype(np.float64) - 127) / (m / 6)
        assert abs(ratio.mean() - 1) < 0.1


def _mx_scale_codes_from_bits(x, rule):
    """UE8M0 block codes of 32-element blocks from float32 bit arithmetic, written from the rules
    as torchao computes them (FLOOR/CEIL/EVEN on the block max's bits; RCEIL on the bits of
    fl32(max * fl32(1/6)), rounded up to a power of two) — not from dintsim's exact rule."""
    m = np.abs(x).reshape(x.shape[0], -1, 32).max(axis=2).astype(np.float32)
    if rule == "rceil":
        d = (m * np.float32(np.float32(1) / np.float32(6))).astype(np.float32)
        bits = d.view(np.int32).astype(np.int64)
        e, mant = (bits >> 23) & 0xFF, bits & 0x7FFFFF
        k = e - 127 + np.where(e == 0, mant > 0x400000, mant != 0)
    else:
        bits = m.view(np.int32).astype(np.int64)
        if rule == "even":
            bits = (bits + (1 << 21)) & 0x7F800000
        e = (bits >> 23) & 0xFF
        k = e - 127 - 2 + (((bits & 0x7FFFFF) != 0) if rule == "ceil" else 0)
    k = np.clip(k, -127, 127)
    return np.where(m == 0, 0, k + 127).astype(np.uint8)


@pytest.mark.parametrize("rule", ["floor", "ceil", "rceil", "even"])
def test_mx_scale_rules_equal_the_cli_and_the_bit_arithmetic(tmp_path, rule):
    rng = np.random.default_rng(11)
    x = rng.standard_t(3, size=(16, 256)).astype(np.float32)
    # Block maxima on every rule's boundary: significands 1, 1.5, 1.75 and their neighbours.
    for r, sig in enumerate([1.0, 1.5, 1.75]):
        for j, v in enumerate([np.nextafter(np.float32(sig), 0, dtype=np.float32), np.float32(sig), np.nextafter(np.float32(sig), 4, dtype=np.float32)]):
            x[r, 32 * j] = v * np.float32(2.0 ** (3 * r - 4))
    x[15, :32] = 0
    np.save(tmp_path / "x.npy", x)
    subprocess.run([str(cli()), "quantize", "--format", "mxfp4", "--mx-scale", rule, "--input", str(tmp_path / "x.npy"),
                    "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy")], check=True, stdout=subprocess.DEVNULL)
    codes, scales, _ = dintsim.quantize(x, "mxfp4", mx_scale=rule)
    assert np.array_equal(codes, np.load(tmp_path / "c.npy")) and np.array_equal(scales, np.load(tmp_path / "s.npy"))
    assert np.array_equal(scales, _mx_scale_codes_from_bits(x, rule))
    if rule != "floor":
        assert not np.array_equal(scales, _mx_scale_codes_from_bits(x, "floor"))
    with pytest.raises(dintsim.DintsimError, match="mxfp4 only"):
        dintsim.quantize(x, "nvfp4", mx_scale=rule)


_E4M3_VALUES = np.array([(m / 8 * 2.0 ** -6) if e == 0 else (1 + m / 8) * 2.0 ** (e - 7) for e in range(16) for m in range(8)
                         if not (e == 15 and m == 7)], dtype=np.float64)  # codes 0..126, ascending


def _e4m3_rne_saturating(d):
    """Code of the E4M3 value nearest d >= 0 (ties to the even code), saturating at 448."""
    d = np.minimum(d.astype(np.float64), 448.0)
    hi = np.clip(np.searchsorted(_E4M3_VALUES, d), 1, len(_E4M3_VALUES) - 1)
    lo = hi - 1
    dl, dh = d - _E4M3_VALUES[lo], _E4M3_VALUES[hi] - d
    code = np.where(dl < dh, lo, np.where(dh < dl, hi, np.where(lo % 2 == 0, lo, hi)))
    return np.where(d <= 0, 0, code).astype(np.uint8)


def _e2m1_rne(v):
    """E2M1 codes of float32 v as TransformerEngine's reference casts them: RNE, saturating at 6,
    a negative value rounding to zero gives 1000 (and -0.0 gives 0000 there; none occurs here)."""
    levels = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6])
    a = np.minimum(np.abs(v.astype(np.float64)), 6.0)
    hi = np.clip(np.searchsorted(levels, a), 1, 7)
    lo = hi - 1
    dl, dh = a - levels[lo], levels[hi] - a
    mag = np.where(dl < dh, lo, np.where(dh < dl, hi, np.where(lo % 2 == 0, lo, hi)))
    return (mag + np.where(v < 0, 8, 0)).astype(np.uint8)


def test_nvfp4_encode_reciprocal_equals_the_recipe_in_float32():
    """nvfp4:encode:reciprocal against the NVIDIA recipe's binary32 steps done in numpy: G =
    2688 / amax, block scale E4M3(m * (G * (1/6))), e = 1 / (b * (1/G)), code E2M1(x * e)."""
    rng = np.random.default_rng(5)
    x = (rng.standard_t(3, size=(32, 128)) * np.exp(rng.normal(0, 2, size=(32, 1)))).astype(np.float32)
    x[3, :16] = 0
    x[4, :16] *= np.float32(1e-12)  # an underflowing block: the reciprocal gives +-6 codes
    codes, scales, stats = dintsim.quantize(x, "nvfp4:encode:reciprocal")
    f = np.float32
    g = f(2688) / np.abs(x).max()
    m = np.abs(x).reshape(32, 8, 16).max(axis=2)
    d = m * (g * (f(1) / f(6)))
    want_scales = _e4m3_rne_saturating(d)
    assert np.array_equal(scales, want_scales)
    b = _E4M3_VALUES[want_scales].astype(np.float32)
    with np.errstate(divide="ignore", over="ignore"):
        e = f(1) / (b * (f(1) / g))
        e = np.where(np.isfinite(e), e, np.finfo(np.float32).max).astype(np.float32)
        v = (x.reshape(32, 8, 16) * e[:, :, None]).astype(np.float32).reshape(32, 128)
    assert np.array_equal(codes, _e2m1_rne(v))
    assert np.float32(stats["tensor_scale"]) == g
    assert (codes[4, :16] & 7 == 7).sum() > 0
    exact, _, _ = dintsim.quantize(x, "nvfp4")
    assert not np.array_equal(exact, codes)


def _e2m1_codes(v, signed_zero):
    """E2M1 codes of float32 v, RNE, saturating at 6: the sign bit of v kept on every code
    ("keep", IEEE conversion and torchao's bit arithmetic), on negative v only ("sign-of-value",
    compressed-tensors 0.20's sign(v) times the level, packed by the sign bit: -0.0 is 0000) or on
    non-zero magnitudes only ("flush", compressed-tensors' earlier pack through int8)."""
    mag = _e2m1_rne(np.abs(v))
    negative = {"keep": np.signbit(v), "sign-of-value": v < 0, "flush": np.signbit(v) & (mag != 0)}[signed_zero]
    return (mag + np.where(negative, 8, 0)).astype(np.uint8)


def _nvfp4_recipe(x, convention):
    """(codes, block scale codes, tensor scale) of a library's NVFP4 recipe, step by step in numpy
    float32 as its source writes them (docs/quantization.md, "Conventions")."""
    f = np.float32
    rows, columns = x.shape
    xb = x.reshape(rows, columns // 16, 16)
    m = np.abs(xb).max(axis=2)
    M = np.abs(x).max()
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if convention == "torchao":  # S = amax / (448 * 6); clamp(fl32(m/6) / S, tiny, 448); x * fl32(fl32(1 / S) / b)
            t = f(M / f(2688))
            q = np.clip((m / f(6)).astype(f) / t, f(2.0 ** -6), f(448)).astype(f)
            scales = _e4m3_rne_saturating(q)
            r = ((f(1) / t).astype(f) / _E4M3_VALUES[scales].astype(f)).astype(f)
            v = (xb * r[:, :, None]).astype(f)
            signed_zero = "keep"
        elif convention == "compressed-tensors":  # G = 2688 * fl32(1 / max(amax, tiny)), 1 if not finite; clamp(G * fl32(m/6)); 0 -> 0.125; x / fl32(b / G)
            t = f(f(2688) * f(f(1) / max(M, np.finfo(f).tiny)))
            t = t if np.isfinite(t) else f(1)
            q = np.clip(t * (m / f(6)).astype(f), f(-448), f(448)).astype(f)
            scales = _e4m3_rne_saturating(q)
            scales[scales == 0] = 0x20
            d = (_E4M3_VALUES[scales].astype(f) / t).astype(f)
            v = (xb / d[:, :, None]).astype(f)
            signed_zero = "sign-of-value"
        else:
            raise ValueError(convention)
        v = np.clip(v, f(-6), f(6)).reshape(rows, columns)
    return _e2m1_codes(v, signed_zero), scales, t


def _mxfp4_recipe(x, convention):
    """(codes, UE8M0 codes) of a library's MXFP4 recipe in numpy: torchao's FLOOR from the block
    max's exponent bits; compressed-tensors' EVEN (m's bits plus 2^21, exponent field kept);
    nvidia's ceil(log2(fl32(m / 6))); elements fl32(x / 2^k), RNE."""
    f = np.float32
    rows, columns = x.shape
    xb = x.reshape(rows, columns // 32, 32)
    m = np.abs(xb).max(axis=2)
    with np.errstate(divide="ignore"):
        if convention in ("torchao", "ocp"):
            k = ((m.view(np.int32) >> 23) & 0xFF).astype(np.int64) - 127 - 2
            signed_zero = "keep"
        elif convention == "compressed-tensors":
            k = (((m.view(np.int32) + (1 << 21)) >> 23) & 0xFF).astype(np.int64) - 127 - 2
            signed_zero = "sign-of-value"
        else:
            k = np.ceil(np.log2((m / f(6)).astype(f))).astype(np.float64)
            k = np.where(m == 0, -127, k).astype(np.int64)
            signed_zero = "keep"
    k = np.clip(k, -127, 127)
    scales = np.where(m == 0, 0, k + 127).astype(np.uint8)
    v = (xb / np.ldexp(np.ones_like(m, dtype=np.float64), k)[:, :, None]).astype(f).reshape(rows, columns)
    return _e2m1_codes(np.clip(v, f(-6), f(6)), signed_zero), scales


@pytest.mark.parametrize("convention", ["ocp", "nvidia", "torchao", "compressed-tensors"])
def test_each_convention_equals_its_recipe(tmp_path, convention):
    """--convention X (CLI) and convention=X (Python) against that library's recipe redone in
    numpy, on MiniLM, synthetic and tie-grid tensors: codes and scales bit for bit."""
    for name, x in convention_inputs().items():
        np.save(tmp_path / "x.npy", x)
        for scheme in ("mxfp4", "nvfp4"):
            if convention == "ocp" and scheme == "nvfp4":
                with pytest.raises(dintsim.DintsimError, match="MX formats only"):
                    dintsim.quantize(x, scheme, convention=convention)
                continue
            subprocess.run([str(cli()), "quantize", "--format", scheme, "--convention", convention, "--input", str(tmp_path / "x.npy"),
                            "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy"), "--stats-json", str(tmp_path / "st.json")],
                           check=True, stdout=subprocess.DEVNULL)
            codes, scales, stats = dintsim.quantize(x, scheme, convention=convention)
            assert np.array_equal(codes, np.load(tmp_path / "c.npy")) and np.array_equal(scales, np.load(tmp_path / "s.npy")), f"{name} {scheme}"
            if scheme == "mxfp4":
                want_codes, want_scales = _mxfp4_recipe(x, convention)
            elif convention == "nvidia":
                assert json.loads((tmp_path / "st.json").read_text())["format"] == "nvfp4:encode:reciprocal"
                continue  # test_nvfp4_encode_reciprocal_equals_the_recipe_in_float32 redoes it
            else:
                want_codes, want_scales, t = _nvfp4_recipe(x, convention)
                assert np.float32(stats["tensor_scale"]) == t, f"{name}"
            assert np.array_equal(scales, want_scales), f"{name} {scheme}: {np.count_nonzero(scales != want_scales)} block scales differ"
            assert np.array_equal(codes, want_codes), f"{name} {scheme}: {np.count_nonzero(codes != want_codes)} codes differ"


def test_nvfp4_16x16_tiles_equal_the_cli_and_the_rule(tmp_path):
    """nvfp4:16x16 (Python) and --nvfp4-blocks 16x16 (CLI) against the default rule redone in numpy
    on tiles: S = fl32(M / 2688), tile code E4M3(m / (6 S)), elements E2M1(x / (b S)), both
    quotients one binary64 rounding (exact decisions, docs/quantization.md "Exactness")."""
    x = np.random.default_rng(3).standard_t(3, size=(40, 56)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([str(cli()), "quantize", "--format", "nvfp4", "--nvfp4-blocks", "16x16", "--input", str(tmp_path / "x.npy"),
                    "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy")], check=True, stdout=subprocess.DEVNULL)
    codes, scales, stats = dintsim.quantize(x, "nvfp4:16x16")
    assert scales.shape == (3, 4) and np.array_equal(scales, np.load(tmp_path / "s.npy")) and np.array_equal(codes, np.load(tmp_path / "c.npy"))
    s = np.float32(np.abs(x).max() / np.float32(2688)).astype(np.float64)
    padded = np.zeros((48, 64))
    padded[:40, :56] = np.abs(x)
    m = padded.reshape(3, 16, 4, 16).max(axis=(1, 3))
    assert np.array_equal(scales, _e4m3_rne_saturating(m / (6 * s)))
    element_scale = np.repeat(np.repeat(_E4M3_VALUES[scales] * s, 16, axis=0), 16, axis=1)[:40, :56]
    assert np.array_equal(codes, _e2m1_codes(x.astype(np.float64) / element_scale, "keep"))


def _rht16(x, signs, bf16=False):
    """The 16-point RHT as docs/quantization.md specifies it, in numpy float32: signs, four
    butterfly stages (i, i + h) -> (a + b, a - b), times 1/4, then BF16 (RNE) if asked."""
    f = np.float32
    u = (x.reshape(-1, 16) * np.asarray(signs, dtype=f)).astype(f)
    h = 1
    while h < 16:
        idx = np.array([i for i in range(16) if i & h == 0])
        a, b = u[:, idx].copy(), u[:, idx + h].copy()
        u[:, idx], u[:, idx + h] = (a + b).astype(f), (a - b).astype(f)
        h *= 2
    y = (u * f(0.25)).astype(f)
    if bf16:
        bits = y.view(np.uint32).astype(np.uint64)
        bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
        y = bits.astype(np.uint32).view(f)
    return y.reshape(x.shape)


@pytest.mark.parametrize("output", ["fp32", "bf16"])
def test_rht_equals_the_spec_in_numpy(tmp_path, output):
    """--rht 16:te (CLI) and ":rht16-te" (Python, the C scheme string) quantize the tensor the
    numpy butterflies produce, bit for bit, for MXFP4 and NVFP4."""
    te = [1, 1, 1, -1, 1, -1, -1, -1, -1, -1, -1, 1, -1, 1, -1, -1]
    x = np.load(REPOSITORY / "fixtures/minilm/minilm-l2-ffn-input-acts.npy")[:48].astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    y = _rht16(x, te, bf16=output == "bf16")
    suffix = "-bf16" if output == "bf16" else ""
    for scheme in ("mxfp4", "nvfp4"):
        subprocess.run([str(cli()), "quantize", "--format", scheme, "--rht", "16:te", "--rht-output", output, "--input", str(tmp_path / "x.npy"),
                        "--codes-out", str(tmp_path / "c.npy"), "--scales-out", str(tmp_path / "s.npy")], check=True, stdout=subprocess.DEVNULL)
        codes, scales, _ = dintsim.quantize(x, f"{scheme}:rht16-te{suffix}")
        assert np.array_equal(codes, np.load(tmp_path / "c.npy")) and np.array_equal(scales, np.load(tmp_path / "s.npy"))
        direct_codes, direct_scales, _ = dintsim.quantize(y, scheme)
        assert np.array_equal(codes, direct_codes) and np.array_equal(scales, direct_scales), scheme
        assert not np.array_equal(codes, dintsim.quantize(x, scheme)[0])


def test_formats_and_torchao_recipes_equal_ml_dtypes():
    """A peer in CI: ml_dtypes (pip, CPU) does the format conversions. Its float4_e2m1fn cast
    (RNE, saturating, sign kept) against quantize_level on every kind of value; its float8_e4m3fn
    and float8_e5m3fnu (UE5M3, which it defines as dintsim does: bias 15, 0xFF NaN) casts of the
    torchao recipe's binary32 block-scale quotients against dintsim's nvfp4:torchao scale codes
    (with :ue5m3 too); its E2M1 cast of the recipe's binary32 element quotients against the codes."""
    import ml_dtypes
    f = np.float32
    # E2M1 of single values: levels, midpoints and their neighbours, beyond 6, -0.0, subnormals.
    points = np.array([k / 4 for k in range(0, 40)] + [1e-30, 1e30, 6.5, 7.0], dtype=np.float32)
    values = np.concatenate([points, np.nextafter(points, f(0)), np.nextafter(points, f(100))])
    values = np.concatenate([values, -values])
    peer = values.astype(ml_dtypes.float4_e2m1fn).view(np.uint8)
    ours = np.array([dintsim.quantize_level("fp4", float(v), 1.0)[0] for v in values], dtype=np.uint8)
    assert np.array_equal(ours, peer), values[ours != peer][:5]
    # UE5M3 as ml_dtypes defines it: every finite code's value.
    ue5m3 = np.arange(255, dtype=np.uint8).view(ml_dtypes.float8_e5m3fnu).astype(np.float64)
    assert ue5m3[1] == 2.0 ** -17 and ue5m3[8] == 2.0 ** -14 and ue5m3[254] == 114688 and ue5m3[0x60] == 0.125
    # The torchao NVFP4 recipe with the peer's casts, E4M3 and UE5M3 scales.
    for name, x in convention_inputs().items():
        for scale_type, top, tiny, variant in [(ml_dtypes.float8_e4m3fn, 448, 2.0 ** -6, "nvfp4:torchao"),
                                               (ml_dtypes.float8_e5m3fnu, 114688, 2.0 ** -14, "nvfp4:torchao:ue5m3")]:
            rows, columns = x.shape
            xb = x.reshape(rows, columns // 16, 16)
            s = f(np.abs(x).max() / f(6 * top))
            q = np.clip((np.abs(xb).max(axis=2) / f(6)).astype(f) / s, f(tiny), f(top)).astype(f)
            scales = q.astype(scale_type)
            r = ((f(1) / s).astype(f) / scales.astype(f)).astype(f)  # torchao 0.18: x * fl32(fl32(1 / S) / b)
            v = np.clip((xb * r[:, :, None]).astype(f), f(-6), f(6)).reshape(rows, columns)
            codes, got_scales, _ = dintsim.quantize(x, variant)
            assert np.array_equal(got_scales, scales.view(np.uint8)), f"{name} {variant}: scales"
            assert np.array_equal(codes, v.astype(ml_dtypes.float4_e2m1fn).view(np.uint8)), f"{name} {variant}: codes"


def test_stochastic_draw_is_seed_and_flat_index():
    """quantize_level with (seed, index) decides element `index` of a stochastic quantize."""
    x = np.random.default_rng(1).normal(size=(1, 64)).astype(np.float32)
    codes, scales, _ = dintsim.quantize(x, "dint4", "tensor", "stochastic", seed=42)
    for i in range(64):
        assert dintsim.quantize_level("dint4", float(x[0, i]), float(scales[0]), "stochastic", seed=42, index=i)[0] == codes[0, i]


def test_bad_input_raises_with_the_message():
    with pytest.raises(dintsim.DintsimError, match="int9-mac"):
        dintsim.Mac("int9-mac")
    with pytest.raises(dintsim.DintsimError, match="accumulator width 80"):
        dintsim.Mac("dint-mac", acc_width=80)
    mac = dintsim.Mac("dint-mac", lanes=2)
    with pytest.raises(dintsim.DintsimError, match="wider than 4 bits"):
        mac.step([17, 1], [1, 1])
    assert mac.step([8, 1], [5, 1]) == (2, 1)  # the reserved code multiplies as 0
    with pytest.raises(dintsim.DintsimError, match="needs 2"):
        mac.step([1], [1])
    with pytest.raises(dintsim.DintsimError, match="dint5"):
        dintsim.quantize_level("dint5", 1.0, 1.0)
    with pytest.raises(dintsim.DintsimError, match="scale"):
        dintsim.quantize_level("dint4", 1.0, 0.0)
    with pytest.raises(dintsim.DintsimError, match="tile size 12"):
        dintsim.decode_tile([0] * 12, False, 0, 0x3C00, 0)
    with pytest.raises(dintsim.DintsimError, match="granularity"):
        dintsim.quantize(np.ones((2, 2), np.float32), "int4", "rows")
