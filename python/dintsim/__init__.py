"""dintsim: the bit-exact golden model from Python.

A thin ctypes binding to libdintsim (include/dintsim.h, docs/c-api.md); numpy arrays in and out.
Every function raises DintsimError with the library's one-line message on bad input.

    import dintsim
    mac = dintsim.Mac("dint-mac", lanes=4, pipeline_depth=2, acc_width=24, saturate=True)
    acc, valid_out = mac.step([1, 2, 3, 4], [10, -20, 30, -40])
    codes, scales, stats = dintsim.quantize(weights, "dint4", "channel")
"""
import ctypes
import os
from pathlib import Path

import numpy as np

__all__ = ["DintsimError", "Mac", "quantize", "quantize_level", "quantize_level_draw", "decode_tile", "ROUNDING", "library_path"]

ROUNDING = {"toNearestOrEven": 0, "toNearestOrAway": 1, "towardZero": 2, "down": 3, "up": 4, "stochastic": 5}
QUANTIZER_FLAGS = ["inexact", "tie", "underflow-to-zero", "saturated", "clipped", "smallest-level"]
DECODER_FLAGS = ["inexact", "subnormal-output", "infinite-output", "zero-output", "times-r"]
MAC_FLAGS = ["wrapped", "saturated", "denormal-weight", "reserved-weight", "extreme-product", "clear-without-valid"]


class DintsimError(ValueError):
    """A call libdintsim refused; the message names the argument at fault."""


def _find_library():
    here = Path(__file__).resolve().parent
    candidates = [os.environ.get("DINTSIM_LIBRARY"), here / "libdintsim.so", here.parent.parent / "build/lib/libdintsim.so"]
    for c in candidates:
        if c and Path(c).is_file():
            return str(c)
    raise ImportError("libdintsim.so not found: pip install ./python (which builds it), run scripts/build-lib.sh, "
                      "or set DINTSIM_LIBRARY to its path")


library_path = _find_library()
_lib = ctypes.CDLL(library_path)
_c = ctypes
_lib.dintsim_version.restype = _c.c_char_p
_lib.dintsim_last_error.restype = _c.c_char_p
_lib.dintsim_mac_create.restype = _c.c_void_p
_lib.dintsim_mac_create.argtypes = [_c.c_char_p, _c.c_int32, _c.c_int32, _c.c_int32, _c.c_int32]
_lib.dintsim_mac_step.restype = _c.c_int32
_lib.dintsim_mac_step.argtypes = [_c.c_void_p, _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_int8), _c.c_int32, _c.c_int32,
                                  _c.POINTER(_c.c_int64), _c.POINTER(_c.c_int32)]
_lib.dintsim_mac_reset.argtypes = [_c.c_void_p]
_lib.dintsim_mac_destroy.argtypes = [_c.c_void_p]
_lib.dintsim_quantize_level.restype = _c.c_int32
_lib.dintsim_quantize_level.argtypes = [_c.c_char_p, _c.c_float, _c.c_float, _c.c_int32, _c.c_uint64, _c.c_uint64,
                                        _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_uint32)]
_lib.dintsim_quantize_level_draw.restype = _c.c_int32
_lib.dintsim_quantize_level_draw.argtypes = [_c.c_char_p, _c.c_float, _c.c_float, _c.c_int32, _c.c_uint32,
                                             _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_uint32)]
_lib.dintsim_decode_tile.restype = _c.c_int32
_lib.dintsim_decode_tile.argtypes = [_c.c_int32, _c.c_char_p, _c.POINTER(_c.c_uint8), _c.c_int32, _c.c_int32, _c.c_uint16,
                                     _c.c_uint16, _c.POINTER(_c.c_uint32), _c.POINTER(_c.c_uint32)]
_lib.dintsim_quantize_tensor.restype = _c.c_int32
_lib.dintsim_mac_step_flags.restype = _c.c_int32
_lib.dintsim_mac_step_flags.argtypes = [_c.c_void_p, _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_int8), _c.c_int32, _c.c_int32,
                                        _c.POINTER(_c.c_int64), _c.POINTER(_c.c_int32), _c.POINTER(_c.c_uint32)]
_lib.dintsim_quantize_tensor.argtypes = [_c.c_char_p, _c.c_char_p, _c.c_int32, _c.c_uint64, _c.POINTER(_c.c_float), _c.c_int64,
                                         _c.c_int64, _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_float), _c.c_int64,
                                         _c.POINTER(_c.c_int64), _c.POINTER(_c.c_int64)]

_lib.dintsim_quantize_block_tensor.restype = _c.c_int32
_lib.dintsim_quantize_block_tensor.argtypes = [_c.c_char_p, _c.c_int32, _c.POINTER(_c.c_float), _c.c_int64, _c.c_int64,
                                               _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_uint8), _c.c_int64, _c.POINTER(_c.c_int64),
                                               _c.POINTER(_c.c_float), _c.POINTER(_c.c_int64)]
_lib.dintsim_quantize_block_tensor_seeded.restype = _c.c_int32
_lib.dintsim_quantize_block_tensor_seeded.argtypes = [_c.c_char_p, _c.c_int32, _c.c_uint64, _c.c_int32, _c.POINTER(_c.c_float), _c.c_int64,
                                                      _c.c_int64, _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_uint8), _c.c_int64,
                                                      _c.POINTER(_c.c_int64), _c.POINTER(_c.c_float), _c.POINTER(_c.c_int64)]
_lib.dintsim_quantize_block_tensor_scaled.restype = _c.c_int32
_lib.dintsim_quantize_block_tensor_scaled.argtypes = [_c.c_char_p, _c.c_int32, _c.c_uint64, _c.c_int32, _c.c_float, _c.POINTER(_c.c_float),
                                                      _c.c_int64, _c.c_int64, _c.POINTER(_c.c_uint8), _c.POINTER(_c.c_uint8), _c.c_int64,
                                                      _c.POINTER(_c.c_int64), _c.POINTER(_c.c_int64)]

__version__ = _lib.dintsim_version().decode()


def _check(status):
    if status != 0:
        raise DintsimError(_lib.dintsim_last_error().decode())


def _rounding(rounding):
    if rounding not in ROUNDING:
        raise DintsimError(f"unknown rounding '{rounding}' ({', '.join(ROUNDING)})")
    return ROUNDING[rounding]


class Mac:
    """A MAC (lanes = 1) or dot-product PE: one `step` is one clock, exactly one line of a vector
    file (inputs presented on the line; outputs are the registers after the edge)."""

    def __init__(self, unit="dint-mac", lanes=1, pipeline_depth=1, acc_width=32, saturate=False):
        self._handle = _lib.dintsim_mac_create(unit.encode(), lanes, pipeline_depth, acc_width, 1 if saturate else 0)
        if not self._handle:
            raise DintsimError(_lib.dintsim_last_error().decode())
        self.unit, self.lanes, self.pipeline_depth, self.acc_width, self.saturate = unit, lanes, pipeline_depth, acc_width, saturate
        self._w = (_c.c_uint8 * lanes)()
        self._a = (_c.c_int8 * lanes)()
        self._acc = _c.c_int64()
        self._valid = _c.c_int32()

    def _load(self, weight_codes, activations):
        if len(weight_codes) != self.lanes or len(activations) != self.lanes:
            raise DintsimError(f"step needs {self.lanes} weight codes and activations, got {len(weight_codes)} and {len(activations)}")
        for i in range(self.lanes):
            self._w[i] = int(weight_codes[i]) & 0xFF
            self._a[i] = int(activations[i])

    def step(self, weight_codes, activations, valid=True, clear=False):
        """Returns (acc sign-extended, valid_out)."""
        self._load(weight_codes, activations)
        _check(_lib.dintsim_mac_step(self._handle, self._w, self._a, int(bool(valid)), int(bool(clear)),
                                     _c.byref(self._acc), _c.byref(self._valid)))
        return self._acc.value, self._valid.value

    def step_flags(self, weight_codes, activations, valid=True, clear=False):
        """Returns (acc, valid_out, flags): flags as MAC_FLAGS names, bits 2-5 of the transaction
        presented now, bits 0-1 (wrapped, saturated) of the one that landed at this edge."""
        self._load(weight_codes, activations)
        flags = _c.c_uint32()
        _check(_lib.dintsim_mac_step_flags(self._handle, self._w, self._a, int(bool(valid)), int(bool(clear)),
                                           _c.byref(self._acc), _c.byref(self._valid), _c.byref(flags)))
        return self._acc.value, self._valid.value, flags.value

    def reset(self):
        """A line with rst = 1."""
        _lib.dintsim_mac_reset(self._handle)

    def close(self):
        if self._handle:
            _lib.dintsim_mac_destroy(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def quantize_level(format, x, scale, rounding="toNearestOrEven", seed=0, index=0):
    """(code, flags) for one binary32 element; flags are the quantizer vectors' bits."""
    code, flags = _c.c_uint8(), _c.c_uint32()
    _check(_lib.dintsim_quantize_level(format.encode(), x, scale, _rounding(rounding), seed, index, _c.byref(code), _c.byref(flags)))
    return code.value, flags.value


def quantize_level_draw(format, x, scale, rounding, draw):
    """As quantize_level with the 16-bit stochastic draw given (the vectors' `draw` field)."""
    code, flags = _c.c_uint8(), _c.c_uint32()
    _check(_lib.dintsim_quantize_level_draw(format.encode(), x, scale, _rounding(rounding), draw, _c.byref(code), _c.byref(flags)))
    return code.value, flags.value


def quantize(x, format="dint4", granularity="channel", rounding="toNearestOrEven", seed=0, mx_scale=None, convention=None, stochastic_bits=16,
             tensor_scale=None):
    """A 2-D tensor as `dintsim quantize`: (uint8 codes, float32 scales, statistics dict). For the
    block formats (mxfp4, nvfp4; granularity ignored) the scales are the uint8 block scale codes,
    [rows, blocks], and the statistics hold the FP32 "tensor_scale" too. A block format may carry
    its conventions in its name ("nvfp4:encode:reciprocal", docs/quantization.md). mx_scale is
    mxfp4's shared-exponent rule, as `--mx-scale`: "floor" (default), "ceil", "rceil" or "even";
    convention a library's rules at once, as `--convention`: "ocp", "nvidia", "torchao" or
    "compressed-tensors" (options named in format override it). stochastic_bits (1-16) is the
    block formats' stochastic rounder width, as `--stochastic-bits` (8: a software rounder).
    tensor_scale (nvfp4, in the scheme's tensor-scale form) is used instead of the one derived from
    x, as a hardware quantizer receives it (the nvfp4-quantizer unit; C dintsim_quantize_block_tensor_scaled)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise DintsimError(f"quantize needs a 2-D array, got shape {x.shape}")
    rows, columns = x.shape
    if convention is not None:
        scheme, _, options = format.partition(":")
        if scheme not in ("mxfp4", "nvfp4"):
            raise DintsimError(f"convention applies to the block formats mxfp4 and nvfp4, not {format}")
        format = ":".join([scheme, convention] + ([options] if options else []))
    if mx_scale is not None:
        if format.split(":")[0] != "mxfp4":
            raise DintsimError(f"mx_scale applies to mxfp4 only, not {format}")
        format = f"{format}:{mx_scale}"
    if format.split(":")[0] in ("mxfp4", "nvfp4"):
        block = 32 if format.startswith("mxfp4") else 16
        block_rows = 16 if "16x16" in format.split(":") else 1
        codes = np.empty((rows, columns), dtype=np.uint8)
        scales = np.empty(((rows + block_rows - 1) // block_rows, (columns + block - 1) // block), dtype=np.uint8)
        count, derived, stats = _c.c_int64(), _c.c_float(), (_c.c_int64 * 4)()
        pointers = (codes.ctypes.data_as(_c.POINTER(_c.c_uint8)), scales.ctypes.data_as(_c.POINTER(_c.c_uint8)), max(1, scales.size), _c.byref(count))
        if tensor_scale is None:
            _check(_lib.dintsim_quantize_block_tensor_seeded(format.encode(), _rounding(rounding), seed, stochastic_bits, x.ctypes.data_as(_c.POINTER(_c.c_float)),
                                                             rows, columns, *pointers, _c.byref(derived), stats))
        else:
            _check(_lib.dintsim_quantize_block_tensor_scaled(format.encode(), _rounding(rounding), seed, stochastic_bits, float(tensor_scale),
                                                             x.ctypes.data_as(_c.POINTER(_c.c_float)), rows, columns, *pointers, stats))
            derived.value = tensor_scale
        result = dict(zip(["elements", "nonzero", "underflow", "clipped"], list(stats)))
        result["tensor_scale"] = derived.value
        return codes, scales, result
    if tensor_scale is not None:
        raise DintsimError(f"tensor_scale applies to the block formats mxfp4 and nvfp4, not {format}")
    if stochastic_bits != 16:
        raise DintsimError(f"stochastic_bits reaches the block formats from Python; for {format} use dintsim quantize --stochastic-bits")
    codes = np.empty((rows, columns), dtype=np.uint8)
    capacity = max(1, rows * columns)
    scales = np.empty(capacity, dtype=np.float32)
    count, stats = _c.c_int64(), (_c.c_int64 * 4)()
    _check(_lib.dintsim_quantize_tensor(format.encode(), granularity.encode(), _rounding(rounding), seed,
                                        x.ctypes.data_as(_c.POINTER(_c.c_float)), rows, columns,
                                        codes.ctypes.data_as(_c.POINTER(_c.c_uint8)), scales.ctypes.data_as(_c.POINTER(_c.c_float)),
                                        capacity, _c.byref(count), stats))
    scales = scales[:count.value].copy()
    if granularity.startswith("group:"):
        scales = scales.reshape(rows, -1)
    return codes, scales, dict(zip(["elements", "nonzero", "underflow", "clipped"], list(stats)))


def decode_tile(codes, flagged, pivot, scale, zero, output="fp32", with_flags=False):
    """One TAH-Quant tile: uint32 output bit patterns (and the flags when with_flags)."""
    q = np.ascontiguousarray(codes, dtype=np.uint8)
    out = np.empty(len(q), dtype=np.uint32)
    flags = _c.c_uint32()
    _check(_lib.dintsim_decode_tile(len(q), output.encode(), q.ctypes.data_as(_c.POINTER(_c.c_uint8)), int(bool(flagged)), pivot,
                                    scale, zero, out.ctypes.data_as(_c.POINTER(_c.c_uint32)), _c.byref(flags) if with_flags else None))
    return (out, flags.value) if with_flags else out
