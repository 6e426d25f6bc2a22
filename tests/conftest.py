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


def stage_cmd(stage: str, gan: str, *args: str) -> list[str]:
    """Command line of a stage script, run with this interpreter."""
    import sys

    return [sys.executable, str(REPO / "stages" / f"{stage}.py"), "--gan", gan, *args]


def make_curve_workspace(work: Path, **train_overrides) -> Path:
    """A params file (params.ci.yaml with ``train.curve`` overrides), prepared curve data in
    ``work/data`` and pretrained models in ``work/init``."""
    import subprocess

    import yaml

    params = yaml.safe_load((REPO / "params.ci.yaml").read_text())
    params["train"]["curve"].update(train_overrides)
    (work / "params.yaml").write_text(yaml.safe_dump(params))
    p = str(work / "params.yaml")
    subprocess.run(stage_cmd("prepare", "curve", "--params", p, "--out", str(work / "data")),
                   check=True, capture_output=True)
    subprocess.run(stage_cmd("pretrain", "curve", "--params", p, "--data", str(work / "data/train.npz"),
                             "--out", str(work / "init"), "--metrics", str(work / "pretrain.json")),
                   check=True, capture_output=True)
    return work
