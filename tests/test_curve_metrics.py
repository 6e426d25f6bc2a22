"""Behaviour tests for ganflow.metrics.curves: real data scores at its floor, broken data scores badly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganflow.errors import UserError
from ganflow.metrics.curves import SINE_X, curve_fn, curve_metrics, fit_sine, sine_fn, sine_metrics


def real_sines(n, seed, mul_range=(1.0, 2.0)):
    rng = np.random.default_rng(seed)
    offset = rng.uniform(0, 100, n)
    mul = rng.uniform(*mul_range, n)
    return sine_fn(SINE_X, offset[:, None], mul[:, None]).astype(np.float32), offset, mul


def real_points(n, seed, low=-1.0, high=1.0):
    x = np.random.default_rng(seed).uniform(low, high, n)
    return np.stack([x, curve_fn(x)], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def sine_ref():
    return real_sines(1000, seed=0)[0]


@pytest.fixture(scope="module")
def point_ref():
    return real_points(1000, seed=0)


def test_fit_sine_recovers_clean_parameters():
    curves, offset, mul = real_sines(100, seed=1)
    got_offset, got_mul, rmse = fit_sine(curves)
    offset_err = np.angle(np.exp(1j * (got_offset - offset)))  # difference modulo 2π
    assert np.all((got_offset >= 0) & (got_offset < 2 * np.pi))
    assert np.abs(offset_err).max() < 1e-4
    assert np.abs(got_mul - mul).max() < 1e-4
    assert rmse.max() < 1e-4


def test_fit_sine_rmse_matches_noise_level():
    curves, _, _ = real_sines(100, seed=2)
    sigma = 0.01
    noisy = curves + np.random.default_rng(3).normal(0, sigma, curves.shape)
    _, _, rmse = fit_sine(noisy)
    assert rmse.mean() == pytest.approx(sigma, rel=0.3)


def test_sine_metrics_real_is_at_floor(sine_ref):
    held_out = real_sines(1000, seed=4)[0]
    m = sine_metrics(held_out, sine_ref)
    assert m["fit_rmse_mean"] < 1e-3
    assert m["fit_rmse_p95"] < 1e-3
    assert m["mul_w1"] < 0.05
    assert 0.9 < m["diversity"] < 1.1
    assert m["out_of_range_frac"] == 0.0


def test_sine_metrics_mode_collapse(sine_ref):
    collapsed = np.repeat(sine_ref[:1], 500, axis=0)
    m = sine_metrics(collapsed, sine_ref)
    assert m["diversity"] < 0.05
    assert m["fit_rmse_mean"] < 1e-3  # each curve is still a perfect sine


def test_sine_metrics_wrong_frequencies(sine_ref):
    fast = real_sines(500, seed=5, mul_range=(2.0, 2.5))[0]
    assert sine_metrics(fast, sine_ref)["mul_w1"] > 0.5


def test_sine_metrics_noise(sine_ref):
    noise = np.random.default_rng(6).uniform(0, 1, (300, 50))
    m = sine_metrics(noise, sine_ref)
    assert m["fit_rmse_mean"] > 0.2
    out = sine_metrics(noise * 2 - 0.5, sine_ref)["out_of_range_frac"]
    assert out == pytest.approx(0.5, abs=0.02)


def test_curve_metrics_real_is_at_floor(point_ref):
    m = curve_metrics(real_points(1000, seed=7), point_ref)
    assert m["abs_err_p95"] < 1e-6
    assert m["x_w1"] < 0.05
    assert m["x_out_of_range_frac"] == 0.0
    assert 0.9 < m["diversity"] < 1.1


def test_curve_metrics_flat_line_is_bad(point_ref):
    real = curve_metrics(real_points(1000, seed=8), point_ref)
    flat = real_points(1000, seed=8)
    flat[:, 1] = 0
    m = curve_metrics(flat, point_ref)
    assert m["abs_err_mean"] > 0.03
    assert m["abs_err_mean"] > 1000 * max(real["abs_err_mean"], 1e-9)


def test_curve_metrics_collapsed_x(point_ref):
    pts = np.tile([0.5, curve_fn(0.5)], (500, 1))
    m = curve_metrics(pts, point_ref)
    assert m["x_w1"] > 0.4
    assert m["diversity"] < 0.05


def test_curve_metrics_wide_x(point_ref):
    m = curve_metrics(real_points(2000, seed=9, low=-2, high=2), point_ref)
    assert m["x_out_of_range_frac"] == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(
    "fn, arr, words",
    [
        (sine_metrics, np.zeros((10, 49)), "49"),
        (sine_metrics, np.full((10, 50), np.nan), "non-finite"),
        (sine_metrics, np.zeros(50), "2-D"),
        (curve_metrics, np.zeros((10, 3)), "2 values"),
        (curve_metrics, np.array([[0.0, np.inf], [0.1, 0.2]]), "non-finite"),
        (curve_metrics, np.zeros(2), "2-D"),
    ],
)
def test_bad_input_raises_one_line_user_error(fn, arr, words, sine_ref, point_ref):
    ref = sine_ref if fn is sine_metrics else point_ref
    with pytest.raises(UserError) as info:
        fn(arr, ref)
    msg = str(info.value)
    assert "\n" not in msg
    assert "generated" in msg and words in msg


def test_bad_real_input_is_named(sine_ref):
    with pytest.raises(UserError, match="real"):
        sine_metrics(sine_ref, sine_ref[:, :49])
    with pytest.raises(UserError, match="curves"):
        fit_sine(np.zeros((5, 50, 1)))


def test_values_are_python_floats(sine_ref, point_ref):
    for m in (sine_metrics(sine_ref[:50], sine_ref), curve_metrics(point_ref[:50], point_ref)):
        assert all(type(v) is float for v in m.values())
        assert json.loads(json.dumps(m)) == m
