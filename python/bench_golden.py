"""Calls per second of the golden model through Python (docs/c-api.md): MAC steps, level
decisions, decoder tiles. Run: python3 python/bench_golden.py"""
import time

import dintsim


def rate(n, body):
    start = time.perf_counter()
    body(n)
    return n / (time.perf_counter() - start)


def mac(n):
    m = dintsim.Mac("dint-mac", lanes=1)
    for i in range(n):
        m.step([i & 7], [i & 127])


def mac16(n):
    m = dintsim.Mac("int8-mac", lanes=16, acc_width=32)
    w, a = list(range(16)), list(range(-8, 8))
    for _ in range(n):
        m.step(w, a)


def level(n):
    for i in range(n):
        dintsim.quantize_level("dint4", (i % 97) * 0.01 - 0.5, 0.1, "stochastic", 1, i)


def tile(n):
    q = list(range(16))
    for i in range(n):
        dintsim.decode_tile(q, True, i & 15, 0x3C00, 0x8000, "fp32")


if __name__ == "__main__":
    for name, body, n in [("mac_step dint-mac 1 lane", mac, 200000), ("mac_step int8-mac 16 lanes", mac16, 100000),
                          ("quantize_level dint4 stochastic", level, 200000), ("decode_tile G=16 fp32", tile, 100000)]:
        print(f"{name}: {rate(n, body):,.0f} calls/s")
