"""Each --convention preset against the library itself (torchao 0.18, compressed-tensors 0.20, on
CPU; python/peers/requirements.txt): codes, block scales and tensor scale, bit for bit, on the
MiniLM fixtures and synthetic tensors. Run by scripts/test-peers.sh (the README's test command)."""
import numpy as np
import pytest

import dintsim
from peers import PRESETS, disagreement, inputs, peer, torchao_mxfp4

INPUTS = inputs()


# Where a library departs from its own documented rule by a binary32 artefact, the tests below
# characterise the departure exactly instead.
DEPARTURES = {("torchao mxfp4 rceil", "near-ties")}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_equals_the_library(name):
    for tensor, x in INPUTS.items():
        if (name, tensor) in DEPARTURES:
            continue
        codes, scales, tensor_scale, _, _ = disagreement(name, PRESETS[name], x)
        assert (codes, scales, tensor_scale) == (0, 0, False), f"{name} on {tensor}: {codes} codes, {scales} block scales differ; tensor scale differs: {tensor_scale}"


# For each rule a preset sets, the variant with that one rule changed: the inputs must tell it
# from the library, or the comparison above could not catch a wrong rule.
ONE_RULE_CHANGED = {
    "torchao mxfp4 floor": ["mxfp4:torchao:even", "mxfp4:torchao:flush"],
    "torchao nvfp4": ["nvfp4:torchao:quotient", "nvfp4:torchao:exact", "nvfp4:torchao:allow-zero", "nvfp4:torchao:exact-quotient",
                      "nvfp4:torchao:flush", "nvfp4:torchao:reciprocal"],
    "compressed-tensors mxfp4": ["mxfp4:compressed-tensors:rceil", "mxfp4:compressed-tensors:keep", "mxfp4:compressed-tensors:flush"],
    "compressed-tensors nvfp4": ["nvfp4:compressed-tensors:encode", "nvfp4:compressed-tensors:keep", "nvfp4:compressed-tensors:flush",
                                 "nvfp4:compressed-tensors:allow-zero", "nvfp4:compressed-tensors:exact",
                                 "nvfp4:compressed-tensors:global-over-block", "nvfp4:compressed-tensors:scale-first"],
}


@pytest.mark.parametrize("name,variant", [(n, v) for n, vs in sorted(ONE_RULE_CHANGED.items()) for v in vs])
def test_inputs_tell_each_rule_apart(name, variant):
    differs = [tensor for tensor, x in INPUTS.items() if disagreement(name, variant, x)[:3] != (0, 0, False)]
    assert differs, f"no input tells {variant} from {name}"


def test_torchao_rceil_departs_only_where_its_float32_log2_rounds():
    """torchao's RCEIL on CPU (eager) takes ceil(log2(fl32(m / 6))) in binary32: a quotient a few
    ulps above 2^k has a log2 that rounds to k, and the library keeps k where the exact rule (and
    cuBLAS's cvt.rp, which dintsim follows) gives k + 1. Blocks whose max is 1.5 · 2^e plus 1-4
    ulps: every block that differs is one of those, the library's code is one lower, and its
    elements are then ours under k (saturated at ±6 where ours are not)."""
    f = np.float32
    rng = np.random.default_rng(5)
    rows = []
    for e in range(-60, 60):
        for ulps in range(0, 5):
            m = f(np.ldexp(1.5 + ulps * 2.0 ** -23, e))
            row = (rng.random(32) * m).astype(f)
            row[rng.integers(32)] = m
            rows.append(row)
    for x in (np.stack(rows), INPUTS["near-ties"]):
        _assert_only_log2_departures(x)


def _assert_only_log2_departures(x):
    f = np.float32
    codes, scales, _ = torchao_mxfp4(x, "rceil")
    ours, our_scales, _ = dintsim.quantize(x, "mxfp4:torchao:rceil")
    differ = np.flatnonzero(scales.ravel() != our_scales.ravel())
    assert differ.size > 0
    blocks = x.reshape(-1, 32)
    codes, ours = codes.reshape(-1, 32), ours.reshape(-1, 32)
    for b in differ:
        d = f(np.abs(blocks[b]).max() / f(6))
        k = np.floor(np.log2(float(d)))
        assert d > np.ldexp(1.0, int(k)) and d <= np.ldexp(1.0 + 8 * 2.0 ** -23, int(k)), (b, d)
        assert int(scales.ravel()[b]) == int(our_scales.ravel()[b]) - 1
    same = np.setdiff1d(np.arange(len(blocks)), differ)
    assert np.array_equal(codes[same], ours[same])
    floor_codes, _, _ = dintsim.quantize(blocks[differ], "mxfp4:torchao")
    assert np.array_equal(codes[differ], floor_codes)


def test_torchao_floor_departs_only_below_2_to_minus_124():
    """torchao FLOOR clamps the binary32 scale it divides by to 2^-126 (its comment: Triton's
    subnormal handling): a block whose scale code is 0 (2^-127, max below 2^-124) is divided by
    2^-126 instead. Its codes are then those of the block scaled by 1/2; every other block agrees."""
    f = np.float32
    x = np.stack([(np.linspace(-1, 1, 32) * np.ldexp(1.0, e)).astype(f) for e in range(-135, -115)])
    codes, scales, _ = torchao_mxfp4(x, "floor")
    ours, our_scales, _ = dintsim.quantize(x, "mxfp4:torchao")
    assert np.array_equal(scales.ravel(), our_scales.ravel())
    tiny = our_scales.ravel() == 0
    assert tiny.any() and (~tiny).any()
    assert np.array_equal(codes[~tiny], ours[~tiny])
    halved, _, _ = dintsim.quantize((x[tiny] / f(2)).astype(f), "mxfp4:torchao")
    assert np.array_equal(codes[tiny], halved)
    assert not np.array_equal(codes[tiny], ours[tiny])
