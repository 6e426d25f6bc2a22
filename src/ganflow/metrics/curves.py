"""Quality metrics for the two 1-D GANs (``sine`` and ``curve``), with no TensorFlow.

``sine`` samples are curves ``y = sin(offset + x*mul)/2 + 0.5`` at ``x = 0, 0.1, ..., 4.9``
with ``offset ~ U[0,100]`` and ``mul ~ U[1,2]``; shape (N, 50). :func:`sine_metrics` returns

* ``fit_rmse_mean`` / ``fit_rmse_p95`` -- residual RMSE of the least-squares best-fitting sine
  (see :func:`fit_sine`), mean and 95th percentile over generated curves. Measures *shape*:
  0 means every curve is exactly a sine of this family; noise of std s gives about s; random
  values in [0, 1] give about 0.35.
* ``mul_w1`` -- 1-Wasserstein distance between the fitted frequencies ``mul`` and U[1,2].
  Measures whether the *spread of frequencies* is right; ~0 for real data (sampling noise only,
  ~0.01 at N=1000), 0.5 for a generator stuck on one end of the range.
* ``diversity`` -- mean pairwise Euclidean distance between generated curves divided by the
  same figure for real curves (each on a fixed-seed subsample of at most 1,000 rows). About 1 is
  healthy; much less than 1 is mode collapse (0 = every sample identical).
* ``out_of_range_frac`` -- fraction of generated values outside [0, 1] (real data: 0).

``curve`` samples are points ``(x, f(x))`` with ``f(x) = x**2 sin(3x) / (x**2 + 2)`` and
``x ~ U[-1,1]``; shape (N, 2). :func:`curve_metrics` returns

* ``abs_err_mean`` / ``abs_err_p95`` -- ``|y - f(x)|``: how far points are from the curve (0 for
  real data; the curve itself spans about [-0.22, 0.28], so 0.1 is a large error).
* ``x_w1`` -- 1-Wasserstein distance of generated x to U[-1,1] (coverage of the x range;
  ~0 for real data, 0.5 if every x sits at 0.5).
* ``x_out_of_range_frac`` -- fraction of points with ``|x| > 1``.
* ``diversity`` -- as for ``sine``, on the (x, y) points.

The uniform reference distributions are represented exactly by their quantiles at the midpoints
``(i + 0.5)/M`` for ``M = 10,000`` points (deterministic, no sampling noise; it differs from the
continuous distribution by at most width/(4M) in W1).

All metric values are plain Python floats, ready for ``json.dump``. Bad input (wrong ndim,
wrong trailing size, fewer than 2 rows, non-finite values) raises :class:`UserError`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.distance import pdist
from scipy.stats import wasserstein_distance

from ganflow.data.synth import SINE_X, curve_fn, sine_fn
from ganflow.errors import UserError

_UNIFORM_POINTS = 10_000
_DIVERSITY_MAX_ROWS = 1_000
_GRID_OFFSETS = np.linspace(0.0, 2 * np.pi, 48, endpoint=False)
_GRID_MULS = np.linspace(0.5, 2.5, 41)
_MUL_BOUNDS = (0.25, 3.0)


def _check(name: str, a, width: int) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2:
        raise UserError(f"{name}: expected a 2-D array of shape (N, {width}), got shape {a.shape}")
    if a.shape[1] != width:
        raise UserError(f"{name}: expected {width} values per row, got shape {a.shape}")
    if a.shape[0] < 2:
        raise UserError(f"{name}: need at least 2 rows, got {a.shape[0]}")
    bad = int(np.count_nonzero(~np.isfinite(a)))
    if bad:
        raise UserError(f"{name}: {bad} non-finite value(s) (NaN or inf)")
    return a


def _uniform_quantiles(low: float, high: float) -> np.ndarray:
    return low + (high - low) * (np.arange(_UNIFORM_POINTS) + 0.5) / _UNIFORM_POINTS


def _mean_pdist(a: np.ndarray) -> float:
    if len(a) > _DIVERSITY_MAX_ROWS:
        idx = np.random.default_rng(0).choice(len(a), _DIVERSITY_MAX_ROWS, replace=False)
        a = a[idx]
    return float(pdist(a).mean())


def _diversity(generated: np.ndarray, real: np.ndarray) -> float:
    ref = _mean_pdist(real)
    if ref == 0:
        raise UserError("real: all rows are identical, so diversity has no reference scale")
    return _mean_pdist(generated) / ref


def fit_sine(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares fit of sin(offset + x*mul)/2 + 0.5 to each row of ``curves`` (N, 50).

    Returns ``(offset mod 2π, mul, residual RMSE)``, each of shape (N,). A vectorised grid search
    over offset ∈ [0, 2π) and mul ∈ [0.5, 2.5] picks a start point per curve; scipy's
    ``least_squares`` (mul bounded to [0.25, 3]) then refines it.
    """
    y = _check("curves", curves, SINE_X.size)
    # grid templates, shape (G, 50); squared error = |y|² - 2 y·t + |t|², for all curves at once
    off, mul = (g.ravel() for g in np.meshgrid(_GRID_OFFSETS, _GRID_MULS, indexing="ij"))
    templates = sine_fn(SINE_X, off[:, None], mul[:, None])
    sse = (templates**2).sum(1)[None, :] - 2 * y @ templates.T
    best = sse.argmin(axis=1)

    x = SINE_X
    lower, upper = [-np.inf, _MUL_BOUNDS[0]], [np.inf, _MUL_BOUNDS[1]]
    offsets, muls, rmses = np.empty(len(y)), np.empty(len(y)), np.empty(len(y))
    for i, row in enumerate(y):

        def resid(p, row=row):
            return np.sin(p[0] + x * p[1]) / 2 + 0.5 - row

        def jac(p):
            c = np.cos(p[0] + x * p[1]) / 2
            return np.stack([c, c * x], axis=1)

        res = least_squares(resid, [off[best[i]], mul[best[i]]], jac=jac, bounds=(lower, upper))
        offsets[i], muls[i] = res.x
        rmses[i] = np.sqrt(np.mean(res.fun**2))
    return np.mod(offsets, 2 * np.pi), muls, rmses


def sine_metrics(generated: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Metrics for ``sine`` curves (N, 50) against real curves; see the module docstring."""
    gen = _check("generated", generated, SINE_X.size)
    real = _check("real", real, SINE_X.size)
    _, mul, rmse = fit_sine(gen)
    return {
        "fit_rmse_mean": float(rmse.mean()),
        "fit_rmse_p95": float(np.percentile(rmse, 95)),
        "mul_w1": float(wasserstein_distance(mul, _uniform_quantiles(1.0, 2.0))),
        "diversity": _diversity(gen, real),
        "out_of_range_frac": float(np.mean((gen < 0) | (gen > 1))),
    }


def curve_metrics(generated: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Metrics for ``curve`` points (N, 2) against real points; see the module docstring."""
    gen = _check("generated", generated, 2)
    real = _check("real", real, 2)
    x, y = gen[:, 0], gen[:, 1]
    err = np.abs(y - curve_fn(x))
    return {
        "abs_err_mean": float(err.mean()),
        "abs_err_p95": float(np.percentile(err, 95)),
        "x_w1": float(wasserstein_distance(x, _uniform_quantiles(-1.0, 1.0))),
        "x_out_of_range_frac": float(np.mean(np.abs(x) > 1)),
        "diversity": _diversity(gen, real),
    }
