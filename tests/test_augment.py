"""ganflow.training.augment: DiffAugment's ops, their ranges and fills, determinism, gradients, dtypes,
unknown batch size, and the per-sample draws under a two-replica MirroredStrategy.

Run as a script (``python tests/test_augment.py``), this file is the strategy test's fresh
process: logical CPU devices must be set up before TensorFlow initialises its devices.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from ganflow.training.augment import POLICIES, augment, parse_policy

H, W = 16, 24  # not square, so H and W mixed up shows; no .5 to round: shifts ±2, ±3; cutout 8 × 12
RY, RX, SH, SW = 2, 3, 8, 12
ALL = ("translation", "cutout", "color")


def key(seed: int = 0) -> tf.Tensor:
    return tf.constant([seed, 7], tf.int64)


def images(n: int = 8, c: int = 3, lo: float = -1.0, hi: float = 1.0, seed: int = 0) -> tf.Tensor:
    return tf.constant(np.random.default_rng(seed).uniform(lo, hi, (n, H, W, c)), tf.float32)


# --- parse_policy ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, names", [
    ("", ()), ("  ", ()), ("color", ("color",)), ("translation,cutout", ("translation", "cutout")),
    (" cutout , translation,color ", ("cutout", "translation", "color")),
])
def test_parse_policy(text, names):
    assert parse_policy(text) == names


@pytest.mark.parametrize("text, token", [
    ("translation,flip", "'flip'"), ("Color", "'Color'"), ("translation,", "''"), ("cutout, cutout", "'cutout'"),
])
def test_parse_policy_names_the_bad_token(text, token):
    with pytest.raises(ValueError, match=token):
        parse_policy(text)


# --- the ops -----------------------------------------------------------------------------------

def test_empty_policy_returns_x_itself():
    x = images()
    assert augment(x, key(), (), (-1, 1)) is x


@pytest.mark.parametrize("policy", [(name,) for name in POLICIES] + [ALL])
def test_a_pure_function_of_x_and_key(policy):
    x = images()
    first = augment(x, key(1), policy, (-1, 1)).numpy()
    np.testing.assert_array_equal(first, augment(x, key(1), policy, (-1, 1)).numpy())
    assert not np.array_equal(first, augment(x, key(2), policy, (-1, 1)).numpy())
    assert not np.array_equal(first, x.numpy())


def test_fixed_order_and_one_key_per_op():
    """Order is color, translation, cutout whatever the policy says, and each op's draws are
    the same with or without the others."""
    x, k = images(), key(3)
    one_by_one = x
    for name in ("color", "translation", "cutout"):
        one_by_one = augment(one_by_one, k, (name,), (-1, 1))
    np.testing.assert_array_equal(augment(x, k, ("cutout", "translation", "color"), (-1, 1)).numpy(),
                                  one_by_one.numpy())


def test_translation_shifts_by_integers_within_the_bound_and_fills_with_lo():
    n = 64
    x = np.zeros((n, H, W, 3), np.float32)  # mid-range background, so the fill -1 shows
    x[:, 8, 12] = [1.0, 0.5, -0.5]
    y = augment(tf.constant(x), key(), ("translation",), (-1, 1)).numpy()
    shifts = set()
    for image, out in zip(x, y):
        (dy,), (dx,) = (np.flatnonzero(np.any(out == 1.0, axis=axis)) - centre
                        for axis, centre in (((1, 2), 8), ((0, 2), 12)))
        assert abs(dy) <= RY and abs(dx) <= RX
        expected = np.full_like(image, -1.0)
        expected[max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
            image[max(-dy, 0):H - max(dy, 0), max(-dx, 0):W - max(dx, 0)]
        np.testing.assert_array_equal(out, expected)
        shifts.add((dy, dx))
    # every shift in the bound occurs (deterministic for this key): no off-by-one at the ends
    assert {dy for dy, _ in shifts} == set(range(-RY, RY + 1))
    assert {dx for _, dx in shifts} == set(range(-RX, RX + 1))


@pytest.mark.parametrize("lo", [0.0, -1.0])
def test_cutout_sets_one_clipped_rectangle_to_lo(lo):
    y = augment(tf.ones([64, H, W, 3]), key(), ("cutout",), (lo, 1)).numpy()
    assert set(np.unique(y)) == {lo, 1.0}
    cut = y == lo
    assert (cut == cut[..., :1]).all()  # all channels alike
    full, clipped = 0, set()
    for mask in cut[..., 0]:
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        assert mask[top:bottom, left:right].all() and mask.sum() == (bottom - top) * (right - left)
        assert 0 < bottom - top <= SH and 0 < right - left <= SW
        # smaller than the full rectangle only where clipped by the border
        assert bottom - top == SH or top == 0 or bottom == H
        assert right - left == SW or left == 0 or right == W
        full += (bottom - top, right - left) == (SH, SW)
        clipped |= {side for side, cut_short in (("top", top == 0 and bottom - top < SH),
                                                 ("bottom", bottom == H and bottom - top < SH),
                                                 ("left", left == 0 and right - left < SW),
                                                 ("right", right == W and right - left < SW)) if cut_short}
    # centres both well inside and near every border (uniform over the image, not over the
    # positions that keep the rectangle whole, nor shifted to one side)
    assert 0 < full < 64 and clipped == {"top", "bottom", "left", "right"}


def _fit_color(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per-sample brightness b, saturation s and contrast c with which y = color(x) should be
    c·s·(x - m) + c·(m - μ) + μ + b, m being x's mean over channels and μ over (H, W, C); and
    that function of x. c is the slope of y's channel means against m, b = mean(y) - μ, and
    c·s the size of y's deviations from its channel means relative to x's (s = 1 for C = 1)."""
    axes = (1, 2, 3)
    m, mu, m_y = x.mean(-1, keepdims=True), x.mean(axes, keepdims=True), y.mean(-1, keepdims=True)
    c = ((m - mu) * (m_y - m_y.mean(axes, keepdims=True))).sum(axes, keepdims=True) / ((m - mu) ** 2).sum(
        axes, keepdims=True)
    b = y.mean(axes, keepdims=True) - mu
    s = np.sqrt(((y - m_y) ** 2).sum(axes, keepdims=True) / ((x - m) ** 2).sum(axes, keepdims=True)) / c \
        if x.shape[-1] > 1 else np.ones_like(c)
    return b.ravel(), s.ravel(), c.ravel(), c * s * (x - m) + c * (m - mu) + mu + b


def test_color_on_rgb_draws_brightness_saturation_and_contrast_per_sample_in_their_ranges():
    x = images(32).numpy()
    y = augment(tf.constant(x), key(), ("color",), (-1, 1)).numpy()
    assert np.isfinite(y).all()
    b, s, c, fitted = _fit_color(x, y)
    np.testing.assert_allclose(y, fitted, atol=1e-5)
    assert (np.abs(b) <= 0.5 + 1e-5).all() and np.abs(b).max() > 0.4  # ±0.5 · (1 - -1) / 2, as DiffAugment
    assert ((s >= 0) & (s <= 2 + 1e-4)).all() and s.min() < 0.5 and s.max() > 1.5
    assert ((c >= 0.5 - 1e-4) & (c <= 1.5 + 1e-4)).all() and c.min() < 0.7 and c.max() > 1.3
    # drawn independently (not one draw rescaled, as from one shared key)
    assert (np.abs(np.corrcoef([b, s, c])[np.triu_indices(3, 1)]) < 0.8).all()


def test_color_on_grayscale_applies_brightness_scaled_to_the_range_and_contrast():
    x = images(32, c=1, lo=0.0, hi=1.0).numpy()
    y = augment(tf.constant(x), key(), ("color",), (0, 1)).numpy()
    assert np.isfinite(y).all() and not np.allclose(y, x)
    b, _, c, fitted = _fit_color(x, y)
    np.testing.assert_allclose(y, fitted, atol=1e-5)
    assert (np.abs(b) <= 0.25 + 1e-5).all() and np.abs(b).max() > 0.2  # ±0.5 · (1 - 0) / 2
    assert ((c >= 0.5 - 1e-4) & (c <= 1.5 + 1e-4)).all() and c.min() < 0.7 and c.max() > 1.3


def _gradient(x: tf.Tensor, policy) -> tuple[np.ndarray, np.ndarray]:
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = augment(x, key(), policy, (0, 1))
        total = tf.reduce_sum(y)
    return y.numpy(), tape.gradient(total, x).numpy()


def test_gradient_of_translation_and_cutout_counts_the_copies():
    x = images(16, lo=0.1, hi=1.0)  # no input value is lo = 0, so output zeros are exactly the fills
    y, grad = _gradient(x, ("translation", "cutout"))
    assert set(np.unique(grad)) == {0.0, 1.0}
    # each sample: as many input pixels with gradient 1 as output values copied from the input
    np.testing.assert_array_equal(grad.sum((1, 2, 3)), (y != 0).sum((1, 2, 3)))


def test_gradient_of_all_ops_is_finite_and_nonzero():
    _, grad = _gradient(images(16, lo=0.0, hi=1.0), ALL)
    assert np.isfinite(grad).all() and (np.abs(grad).sum((1, 2, 3)) > 0).all()


@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float16])
def test_16_bit_input_keeps_its_dtype_and_shape(dtype):
    x = tf.cast(images(), dtype)
    y = augment(x, key(), ALL, (-1, 1))
    assert y.dtype == dtype and y.shape == x.shape
    # the same as float32's result, rounded
    expected = augment(tf.cast(x, tf.float32), key(), ALL, (-1, 1)).numpy()
    np.testing.assert_allclose(tf.cast(y, tf.float32).numpy(), expected, atol=0.05)


def test_runs_in_a_tf_function_of_unknown_batch_size():
    fn = tf.function(lambda x, k: augment(x, k, ALL, (-1, 1)),
                     input_signature=[tf.TensorSpec([None, H, W, 3]), tf.TensorSpec([2], tf.int64)])
    for n in (5, 7):
        x = images(n)
        np.testing.assert_array_equal(fn(x, key()).numpy(), augment(x, key(), ALL, (-1, 1)).numpy())


def test_two_mirrored_replicas_augment_as_one_device():
    proc = subprocess.run([sys.executable, __file__], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = json.loads(proc.stdout)
    assert run["replicas"] == 2
    one, mirrored = np.array(run["one_device"], np.float32), np.array(run["mirrored"], np.float32)
    assert one.shape == (8, H, W, 3)
    np.testing.assert_array_equal(mirrored, one)


def _mirrored_run() -> dict:
    """One device's output on a global batch of 8 and two mirrored replicas' (4 rows each),
    concatenated."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    x, k = images(8), key(5)
    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: x[ctx.replica_id_in_sync_group * 4:(ctx.replica_id_in_sync_group + 1) * 4])
    run = tf.function(lambda xs: strategy.run(lambda part: augment(part, k, ALL, (-1, 1)), args=(xs,)))
    mirrored = tf.concat(strategy.experimental_local_results(run(per_replica)), axis=0)
    return {"replicas": strategy.num_replicas_in_sync, "one_device": augment(x, k, ALL, (-1, 1)).numpy().tolist(),
            "mirrored": mirrored.numpy().tolist()}


if __name__ == "__main__":
    print(json.dumps(_mirrored_run()))
