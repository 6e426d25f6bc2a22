"""Build each GAN's train and held-out arrays.

Every split is a dict of arrays saved as one ``.npz``: ``x`` always (float32 curves/points, or
uint8 images NHWC), plus ``y`` digit labels for MNIST and ``offset``/``mul`` for sine curves.
Images stay uint8 here; each GAN maps them to its generator's range when training.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ganflow.data import sources, synth
from ganflow.data.io import load_npz
from ganflow.errors import UserError

Split = dict[str, np.ndarray]
SHIP = 8


def _take(n: int | None, available: int, key: str) -> int:
    if n is None:
        return available
    if n > available:
        raise UserError(f"{key}: {n} exceeds the {available} images available")
    return n


def _mnist(gan: str, params) -> tuple[Split, Split]:
    x_train, y_train, x_test, y_test = sources.load_mnist()
    n_train = _take(params.n_train, len(x_train), f"prepare.{gan}.n_train")
    n_test = _take(params.n_test, len(x_test), f"prepare.{gan}.n_test")
    return (
        {"x": x_train[:n_train, :, :, None], "y": y_train[:n_train]},
        {"x": x_test[:n_test, :, :, None], "y": y_test[:n_test]},
    )


def _canonical_order(images: np.ndarray) -> np.ndarray:
    """Sort images by the sha256 of their pixels, so the result does not depend on the source's
    order (the offline mirror orders CIFAR-10 by file name, the official batches do not)."""
    keys = [hashlib.sha256(img.tobytes()).digest() for img in images]
    return images[np.argsort(np.array(keys, dtype=object), kind="stable")]


def _cifar_ship(params) -> tuple[Split, Split]:
    """Ships of CIFAR-10's training split to train on; ``n_test`` ships of its test split held
    out. The evaluation classifier trains on the training split only, so the held-out ships
    (the real-data floor of every image metric) are images it has never seen."""
    x_train, y_train, x_test, y_test = sources.load_cifar10()
    train, test = (_canonical_order(x[y == SHIP]) for x, y in ((x_train, y_train), (x_test, y_test)))
    n_test = _take(params.n_test, len(test), "prepare.cifar_ship.n_test")
    order = np.random.default_rng(params.seed).permutation(len(test))
    n_train = _take(params.n_train, len(train), "prepare.cifar_ship.n_train")
    return {"x": train[:n_train]}, {"x": test[np.sort(order[:n_test])]}


SAMPLE_SHAPES = {
    "sine": ((50,), "float32"),
    "curve": ((2,), "float32"),
    "mnist_dcgan": ((28, 28, 1), "uint8"),
    "mnist_mlp": ((28, 28, 1), "uint8"),
    "cifar_ship": ((32, 32, 3), "uint8"),
}


def load_prepared(gan: str, path) -> np.ndarray:
    """The ``x`` array of a split written by :func:`prepare`, checked for shape, dtype and
    finite values (NaN in the data would otherwise train silently: cross-entropy clips it)."""
    shape, dtype = SAMPLE_SHAPES[gan]
    x = load_npz(path, {"x": ((None, *shape), dtype)})["x"]
    if len(x) == 0:
        raise UserError(f"{path}: array 'x' is empty")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise UserError(f"{path}: array 'x' has {int(np.sum(~np.isfinite(x)))} non-finite values")
    return x


def prepare(gan: str, params) -> tuple[Split, Split]:
    """The (train, held-out) arrays of ``gan`` under its validated prepare params."""
    if gan in ("sine", "curve"):
        make = synth.sine_curves if gan == "sine" else synth.curve_points
        rng = np.random.default_rng(params.seed)
        return make(rng, params.n_train), make(rng, params.n_test)
    if gan in ("mnist_dcgan", "mnist_mlp"):
        return _mnist(gan, params)
    if gan == "cifar_ship":
        return _cifar_ship(params)
    raise UserError(f"unknown GAN '{gan}'")
