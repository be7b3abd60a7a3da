"""The FP4 libraries themselves, called as a user calls them on CPU, and the inputs the peer tests
feed them (docs/quantization.md, "Conventions"; scripts/test-peers.sh).

Each peer function returns (E2M1 codes uint8 [rows, cols], block scale codes uint8, tensor scale as
float32 or None), the layout `dintsim.quantize` returns."""
import sys
import warnings
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY / "python/tests"))
from fp4_inputs import convention_inputs  # noqa: E402

warnings.filterwarnings("ignore")
import torch  # noqa: E402
from compressed_tensors.compressors.nvfp4.helpers import pack_fp4_to_uint8  # noqa: E402
from compressed_tensors.quantization import QuantizationArgs  # noqa: E402
from compressed_tensors.quantization.lifecycle.forward import quantize as ct_quantize  # noqa: E402
from compressed_tensors.quantization.utils.helpers import calculate_qparams, generate_gparam  # noqa: E402
from torchao.prototype.mx_formats.config import ScaleCalculationMode  # noqa: E402
from torchao.prototype.mx_formats.mx_tensor import to_mx  # noqa: E402
from torchao.prototype.mx_formats.nvfp4_tensor import nvfp4_quantize, per_tensor_amax_to_scale  # noqa: E402

TORCHAO_MX_RULES = {"floor": ScaleCalculationMode.FLOOR, "ceil": ScaleCalculationMode.CEIL,
                    "rceil": ScaleCalculationMode.RCEIL, "even": ScaleCalculationMode.EVEN}


def _unpack(packed):
    """Two E2M1 codes per byte, the even element in the low nibble (torchao's pack_uint4 and
    compressed-tensors' pack_fp4_to_uint8 alike)."""
    p = packed.view(torch.uint8).numpy()
    out = np.empty(p.shape[:-1] + (p.shape[-1] * 2,), np.uint8)
    out[..., 0::2] = p & 0xF
    out[..., 1::2] = p >> 4
    return out


def torchao_mxfp4(x, rule):
    """torchao's to_mx(float4_e2m1fn_x2, block 32, ScaleCalculationMode)."""
    scales, packed = to_mx(torch.from_numpy(x), torch.float4_e2m1fn_x2, 32, TORCHAO_MX_RULES[rule])
    return _unpack(packed), scales.view(torch.uint8).numpy(), None


def torchao_nvfp4(x):
    """torchao's two-level NVFP4: per_tensor_amax_to_scale(amax), then nvfp4_quantize."""
    t = torch.from_numpy(x)
    s = per_tensor_amax_to_scale(t.abs().max())
    scales, packed = nvfp4_quantize(t, 16, s)
    return _unpack(packed), scales.view(torch.uint8).numpy(), np.float32(s.item())


def compressed_tensors(x, scheme):
    """compressed-tensors' quantization as llm-compressor drives it: per-group min/max,
    generate_gparam (NVFP4's global scale), calculate_qparams, forward quantize, then the NVFP4
    compressor's pack_fp4_to_uint8. MXFP4 is group 32 with uint8 (E8M0) scales."""
    t = torch.from_numpy(x)
    rows, columns = x.shape
    nvfp4 = scheme == "nvfp4"
    group = 16 if nvfp4 else 32
    args = QuantizationArgs(num_bits=4, type="float", symmetric=True, group_size=group,
                            strategy="tensor_group" if nvfp4 else "group",
                            scale_dtype=torch.float8_e4m3fn if nvfp4 else torch.uint8)
    g = generate_gparam(t.min(), t.max()) if nvfp4 else None
    blocks = t.reshape(rows, columns // group, group)
    scale, zero_point = calculate_qparams(blocks.amin(-1), blocks.amax(-1), args, global_scale=g)
    q = ct_quantize(t, scale, zero_point, args, global_scale=g)
    codes = _unpack(pack_fp4_to_uint8(q))
    if nvfp4:
        return codes, scale.to(torch.float8_e4m3fn).view(torch.uint8).numpy(), np.float32(g.item())
    return codes, (torch.log2(scale).to(torch.int32) + 127).to(torch.uint8).numpy(), None


def peer(name, x):
    """A peer by the name the tests and the agreement table use."""
    if name.startswith("torchao mxfp4 "):
        return torchao_mxfp4(x, name.split()[-1])
    return {"torchao nvfp4": torchao_nvfp4, "compressed-tensors mxfp4": lambda v: compressed_tensors(v, "mxfp4"),
            "compressed-tensors nvfp4": lambda v: compressed_tensors(v, "nvfp4")}[name](x)


# Each peer beside the dintsim variant that reproduces it.
PRESETS = {
    "torchao mxfp4 floor": "mxfp4:torchao",
    "torchao mxfp4 ceil": "mxfp4:torchao:ceil",
    "torchao mxfp4 rceil": "mxfp4:torchao:rceil",
    "torchao mxfp4 even": "mxfp4:torchao:even",
    "torchao nvfp4": "nvfp4:torchao",
    "compressed-tensors mxfp4": "mxfp4:compressed-tensors",
    "compressed-tensors nvfp4": "nvfp4:compressed-tensors",
}


def inputs():
    """The MiniLM fixtures (the repository's), Student-t rows over 12 binades, a tie grid (exact
    E2M1 midpoints, zero and -0.0 blocks, underflowing block scales) and a near-tie set whose
    elements sit on and beside midpoints of their block's scale, in binary32."""
    d = convention_inputs(fixture_rows=None)
    rng = np.random.default_rng(22)
    # Near ties: coarse significands (k / 16, so many values are exact midpoints once scaled)
    # stepped 0-3 binary32 ulps either way, at a random binade per row.
    k = rng.integers(1, 200, size=(96, 256)).astype(np.float32) / 16
    ulps = rng.integers(-3, 4, size=(96, 256))
    near = np.where(ulps > 0, np.nextafter(k, np.float32(np.inf)), np.where(ulps < 0, np.nextafter(k, np.float32(0)), k))
    near = near * np.exp2(rng.integers(-20, 20, size=(96, 1))).astype(np.float32)
    d["near-ties"] = (near * np.where(rng.random((96, 256)) < 0.5, -1, 1)).astype(np.float32)
    # Wide range: blocks whose max is 2^100 beside elements down to -2^-100, whose binary32
    # quotients underflow to -0.0 (the sign of a zero code read from the quotient).
    wide = (rng.standard_normal((32, 256)) * np.exp2(rng.integers(-100, 100, size=(32, 256)))).astype(np.float32)
    wide[:, ::16] = np.float32(2.0 ** 100)
    d["wide-range"] = wide
    for variant in ("nvfp4:torchao", "nvfp4:compressed-tensors"):
        d[f"element-ties {variant}"] = _element_ties(rng, variant)
    return d


def _element_ties(rng, variant):
    """NVFP4 blocks whose elements are E2M1 midpoints of their own element scale b·S (S the
    decode scale of `variant`'s tensor scale), rounded to binary32 and stepped 0-2 ulps either way:
    where the binary32 element divisions part from each other and from the exact quotient. Each
    block's first element is its max, a random magnitude, so b and S are those of the final tensor."""
    import dintsim
    f = np.float32
    x = np.zeros((64, 256), f)
    x[:, ::16] = (rng.random((64, 16)) * np.exp2(rng.integers(-8, 8, size=(64, 16)))).astype(f)
    x[0, 0] = f(300)  # the tensor max, so S does not move below
    _, scales, stats = dintsim.quantize(x, variant)
    b = torch.from_numpy(scales).view(torch.float8_e4m3fn).float().numpy().astype(np.float64)
    s = float(stats["tensor_scale"])
    s = float(f(1) / f(s)) if variant.endswith("compressed-tensors") else s  # the encode form G: S = fl32(1 / G)
    midpoints = np.array([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0])
    pick = midpoints[rng.integers(0, 7, size=(64, 16, 15))]
    v = (pick * (b * s)[:, :, None]).astype(f)
    for step in range(2):
        up, down = rng.random(v.shape) < 0.3, rng.random(v.shape) < 0.3
        v = np.where(up, np.nextafter(v, f(np.inf)), np.where(down, np.nextafter(v, f(0)), v))
    v = v * np.where(rng.random(v.shape) < 0.5, f(-1), f(1))
    x.reshape(64, 16, 16)[:, :, 1:] = v
    return x


def disagreement(name, variant, x):
    """(codes that differ, block scales that differ, whether the tensor scale differs, elements, blocks)."""
    import dintsim
    codes, scales, tensor_scale = peer(name, x)
    ours, our_scales, stats = dintsim.quantize(x, variant)
    tensor_differs = tensor_scale is not None and np.float32(stats["tensor_scale"]) != tensor_scale
    return (int(np.count_nonzero(codes != ours)), int(np.count_nonzero(scales.reshape(our_scales.shape) != our_scales)),
            bool(tensor_differs), codes.size, our_scales.size)
