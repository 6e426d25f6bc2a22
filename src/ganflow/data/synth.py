"""The two synthetic datasets, generated from a numpy ``Generator`` (the stage passes a seeded one).

- sine curves: ``sin(offset + x*mul)/2 + 0.5`` at x = 0, 0.1, …, 4.9, offset ~ U[0,100], mul ~ U[1,2];
- curve points: ``(x, f(x))`` with ``f(x) = x²·sin(3x)/(x²+2)``, x ~ U[-1,1].

The functions here are the single definition of the real data; the curve metrics use them too.
"""

from __future__ import annotations

import numpy as np

SINE_X = np.arange(50, dtype=np.float64) / 10
OFFSET_RANGE = (0.0, 100.0)
MUL_RANGE = (1.0, 2.0)
X_RANGE = (-1.0, 1.0)


def sine_fn(x: np.ndarray, offset: np.ndarray, mul: np.ndarray) -> np.ndarray:
    """``sin(offset + x*mul)/2 + 0.5``, broadcasting ``offset``/``mul`` (N, 1) against ``x``."""
    return np.sin(offset + x * mul) / 2 + 0.5


def curve_fn(x: np.ndarray) -> np.ndarray:
    """``f(x) = x²·sin(3x)/(x²+2)``."""
    return x**2 * np.sin(3 * x) / (x**2 + 2)


def sine_curves(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """``n`` real sine curves: ``x`` (n, 50) float32 and their ``offset`` and ``mul`` (n,)."""
    offset = rng.uniform(*OFFSET_RANGE, size=n)
    mul = rng.uniform(*MUL_RANGE, size=n)
    curves = sine_fn(SINE_X[None, :], offset[:, None], mul[:, None])
    return {
        "x": curves.astype(np.float32),
        "offset": offset.astype(np.float32),
        "mul": mul.astype(np.float32),
    }


def curve_points(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """``n`` real points ``x`` (n, 2) float32 on the curve."""
    x = rng.uniform(*X_RANGE, size=n)
    return {"x": np.stack([x, curve_fn(x)], axis=1).astype(np.float32)}


def uniform_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` points uniform in [-1, 1]², the curve tutorial's "fake" data for D pretraining."""
    return rng.uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32)
