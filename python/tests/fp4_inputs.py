"""The tensors the FP4 convention tests share (python/tests and the peer tests in python/peers):
the repository's MiniLM fixtures, Student-t rows over 12 binades, and a tie grid with zero blocks,
-0.0 and underflowing block scales."""
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[2]


def convention_inputs(fixture_rows=64):
    """{name: float32 [rows, cols]}; fixture_rows=None takes the fixtures whole."""
    rng = np.random.default_rng(21)
    inputs = {p.stem: np.load(p)[:fixture_rows].astype(np.float32) for p in sorted((REPOSITORY / "fixtures/minilm").glob("*.npy"))}
    inputs["student-t"] = (rng.standard_t(3, size=(48, 256)) * np.exp2(rng.integers(-6, 6, size=(48, 1)))).astype(np.float32)
    n = np.arange(64 * 256)
    grid = (n % 29 / 4 * np.exp2((n // 256) % 9 - 4)).astype(np.float32).reshape(64, 256)
    grid[::3] *= -1
    grid[5, :32] = 0
    grid[6, :32] = -0.0
    grid[7, :32] *= np.float32(1e-12)  # underflowing block scales: each convention's floor
    inputs["tie-grid"] = grid
    return inputs
