"""Shared test set-up: quiet TensorFlow, the offline data mirror, and small fake datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def write_fake_mirror(directory: Path, n: int = 64, seed: int = 0) -> Path:
    """Small MNIST and CIFAR-10 files in the Keras arrays' layout (for runs with no mirror)."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(
        directory / "mnist.npz",
        x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        y_train=(np.arange(n) % 10).astype(np.uint8),
        x_test=rng.integers(0, 256, (n // 2, 28, 28), dtype=np.uint8),
        y_test=(np.arange(n // 2) % 10).astype(np.uint8),
    )
    np.savez(
        directory / "cifar10.npz",
        x_train=rng.integers(0, 256, (n * 10, 32, 32, 3), dtype=np.uint8),
        y_train=(np.arange(n * 10) % 10).astype(np.uint8).reshape(-1, 1),
        x_test=rng.integers(0, 256, (n * 2, 32, 32, 3), dtype=np.uint8),
        y_test=(np.arange(n * 2) % 10).astype(np.uint8).reshape(-1, 1),
    )
    return directory


@pytest.fixture(scope="session")
def mirror_env(tmp_path_factory) -> dict[str, str]:
    """Environment for running the prepare stage offline: the real mirror in ../shared/data
    when it exists, else a small fake one (with unknown checksums allowed)."""
    if (SHARED_DATA / "mnist.npz").is_file() and (SHARED_DATA / "cifar10.npz").is_file():
        return {"GANFLOW_DATA_MIRROR": str(SHARED_DATA)}
    fake = write_fake_mirror(tmp_path_factory.mktemp("mirror"), n=512)
    return {"GANFLOW_DATA_MIRROR": str(fake), "GANFLOW_ALLOW_UNKNOWN_MIRROR": "1"}
