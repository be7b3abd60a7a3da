"""rtl-reference/mac.v checked cycle by cycle against the Python golden model (dintsim.Mac).

Random transactions (valid, clear, weight codes the unit accepts, int8 activations) and a reset
now and then; after every rising edge the DUT's acc and valid_out must equal the model's."""
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

import dintsim

UNITS = {0: "int8-mac", 1: "dint-mac", 2: "fp4-mac"}


@cocotb.test()
async def mac_matches_the_golden_model(dut):
    kind, lanes, depth, width, saturate = (int(os.environ[k]) for k in ("KIND", "LANES", "DEPTH", "ACC_W", "SATURATE"))
    cycles, rng = int(os.environ.get("CYCLES", "20000")), random.Random(int(os.environ.get("SEED", "1")))
    ww = 8 if kind == 0 else 4
    codes = [c for c in range(1 << ww) if not (kind == 1 and c == 8)]  # dINT code 1000 is reserved
    model = dintsim.Mac(UNITS[kind], lanes, depth, width, bool(saturate))
    mask = (1 << width) - 1
    cocotb.start_soon(Clock(dut.clk, 10, units="ns").start())
    checked = 0
    for cycle in range(cycles):
        await FallingEdge(dut.clk)
        rst = cycle < 2 or rng.random() < 0.005
        valid, clear = rng.random() < 0.85, rng.random() < 0.05
        w = [rng.choice(codes) for _ in range(lanes)]
        a = [rng.randrange(-128, 128) for _ in range(lanes)]
        dut.rst.value, dut.valid.value, dut.clear.value = int(rst), int(valid), int(clear)
        dut.w.value = sum(c << (ww * i) for i, c in enumerate(w))
        dut.a.value = sum((x & 0xFF) << (8 * i) for i, x in enumerate(a))
        await RisingEdge(dut.clk)
        if rst:
            model.reset()
            expected = (0, 0)
        else:
            acc, valid_out = model.step(w, a, valid, clear)
            expected = (acc & mask, valid_out)
        await ReadOnly()
        got = (int(dut.acc.value), int(dut.valid_out.value))
        assert got == expected, f"cycle {cycle}: DUT acc={got[0]:x} valid_out={got[1]}, golden model acc={expected[0]:x} valid_out={expected[1]}"
        checked += 1
    dut._log.info(f"{UNITS[kind]} lanes {lanes} depth {depth} W {width} saturate {saturate}: {checked} cycles equal to the golden model")
