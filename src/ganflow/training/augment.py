"""Differentiable augmentation (DiffAugment: Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training") of image batches ``x`` of shape (N, H, W, C) whose values lie in
``data_range = (lo, hi)``.

The ops, applied in DiffAugment's order (color, translation, cutout) whatever the policy's
order, each sample with random parameters of its own:

- ``color``: brightness, add b·(hi - lo)/2 with b ~ U(-0.5, 0.5) (DiffAugment's shift on its
  [-1, 1] data, rescaled to the data range); saturation (RGB only: skipped when C != 3), scale
  each pixel's deviation from its mean over channels by U(0, 2); contrast, scale each image's
  deviation from its mean over (H, W, C) by U(0.5, 1.5).
- ``translation``: shift by integers (dy, dx), dy uniform in [-round(H/8), round(H/8)] and dx
  likewise with W, filling the uncovered border with ``lo``.
- ``cutout``: set one round(H/2) × round(W/2) rectangle to ``lo``, its centre uniform over the
  image's pixels (so the rectangle is clipped where it crosses the border).

``round`` rounds halves up, as DiffAugment does. Fill value: DiffAugment pads and cuts with 0,
the mid value of its [-1, 1] data. Here both fill with ``lo``, the background of our (0, 1)
MNIST digits (black), where a mid-grey frame or square would be a pattern no real image has;
for (-1, 1) data this fills black where DiffAugment fills grey. Either way real and fake images
get the same fill, which is what matters to D.

Determinism: the output is a pure function of ``(x, key)``. Op ``name`` draws from
``stateless_fold_in(key, POLICIES.index(name))``, so adding or dropping one op leaves the other
ops' draws as they were. Every per-sample parameter is drawn for the global batch and sliced to
this replica's rows (:func:`ganflow.training.distribute.replica_slice`), so R replicas augment exactly
as one device would.

The train step applies it to real and fake images alike, in both D's and G's passes.
"""

from __future__ import annotations

import tensorflow as tf

from ganflow.training.distribute import replica_slice

POLICIES = ("translation", "cutout", "color")
ORDER = ("color", "translation", "cutout")  # DiffAugment's
TRANSLATION_RATIO = 0.125  # of H (and of W): the largest shift
CUTOUT_RATIO = 0.5  # of H (and of W): the cut rectangle's size


def parse_policy(policy: str) -> tuple[str, ...]:
    """``'translation, cutout'`` -> ``('translation', 'cutout')``; ``''`` -> ``()``. Raises
    ValueError naming the token for an unknown or repeated name."""
    if not policy.strip():
        return ()
    names: list[str] = []
    for token in (t.strip() for t in policy.split(",")):
        if token not in POLICIES:
            raise ValueError(f"unknown augmentation {token!r} in policy {policy!r}; "
                             f"choose from {', '.join(POLICIES)}")
        if token in names:
            raise ValueError(f"augmentation {token!r} repeated in policy {policy!r}")
        names.append(token)
    return tuple(names)


def augment(x: tf.Tensor, key: tf.Tensor, policy: tuple[str, ...], data_range: tuple[float, float]) -> tf.Tensor:
    """``x`` with the ops of ``policy`` applied (module docstring), drawn from stateless RNG
    ``key`` (shape [2]); ``x`` itself for an empty policy. Computes in float32 and returns
    ``x``'s dtype and shape; differentiable with respect to ``x``. H, W and C must be static."""
    if not policy:
        return x
    unknown = sorted(set(policy) - set(POLICIES))
    if unknown:
        raise ValueError(f"unknown augmentation(s) {', '.join(unknown)}; choose from {', '.join(POLICIES)}")
    lo, hi = (float(v) for v in data_range)
    y = tf.cast(x, tf.float32)
    for name in ORDER:
        if name in policy:
            y = _OPS[name](y, tf.random.experimental.stateless_fold_in(key, POLICIES.index(name)), lo, hi)
    return tf.cast(y, x.dtype)


def _round(value: float) -> int:
    return int(value + 0.5)


def _draw(x: tf.Tensor, key: tf.Tensor, index: int, rest=(), **uniform) -> tf.Tensor:
    """Per-sample uniform draws, shape [N, *rest], from ``key`` folded with ``index``: this
    replica's rows of the global batch's draws."""
    sub = tf.random.experimental.stateless_fold_in(key, index)
    return replica_slice(lambda shape: tf.random.stateless_uniform(shape, sub, **uniform), tf.shape(x)[0], list(rest))


def _color(x: tf.Tensor, key: tf.Tensor, lo: float, hi: float) -> tf.Tensor:
    each = [1, 1, 1]  # one value per sample, broadcast over (H, W, C)
    x = x + _draw(x, key, 0, each, minval=-0.5, maxval=0.5) * ((hi - lo) / 2)
    if x.shape[-1] == 3:
        mean = tf.reduce_mean(x, axis=3, keepdims=True)
        x = (x - mean) * _draw(x, key, 1, each, minval=0.0, maxval=2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    return (x - mean) * _draw(x, key, 2, each, minval=0.5, maxval=1.5) + mean


def _translation(x: tf.Tensor, key: tf.Tensor, lo: float, hi: float) -> tf.Tensor:
    _, h, w, _ = x.shape
    ry, rx = _round(TRANSLATION_RATIO * h), _round(TRANSLATION_RATIO * w)
    dy = _draw(x, key, 0, minval=-ry, maxval=ry + 1, dtype=tf.int32)  # [N]
    dx = _draw(x, key, 1, minval=-rx, maxval=rx + 1, dtype=tf.int32)
    padded = tf.pad(x, [[0, 0], [ry, ry], [rx, rx], [0, 0]], constant_values=lo)
    # output (i, j) = input (i - dy, j - dx) = padded (i - dy + ry, j - dx + rx)
    rows = tf.range(h)[None, :] + (ry - dy)[:, None]  # [N, H]
    cols = tf.range(w)[None, :] + (rx - dx)[:, None]  # [N, W]
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, cols, axis=2, batch_dims=1)


def _cutout(x: tf.Tensor, key: tf.Tensor, lo: float, hi: float) -> tf.Tensor:
    _, h, w, _ = x.shape
    sh, sw = _round(CUTOUT_RATIO * h), _round(CUTOUT_RATIO * w)
    top = _draw(x, key, 0, [1, 1, 1], minval=0, maxval=h, dtype=tf.int32) - sh // 2  # centre - half
    left = _draw(x, key, 1, [1, 1, 1], minval=0, maxval=w, dtype=tf.int32) - sw // 2
    rows, cols = tf.range(h)[:, None, None], tf.range(w)[None, :, None]
    inside = (rows >= top) & (rows < top + sh) & (cols >= left) & (cols < left + sw)  # [N, H, W, 1]
    return tf.where(inside, tf.constant(lo, x.dtype), x)


_OPS = {"color": _color, "translation": _translation, "cutout": _cutout}
