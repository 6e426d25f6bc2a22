"""Shared test set-up: quiet TensorFlow, the offline data mirror, and small fake datasets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


# Split sizes (train, test) of a fake mirror that params.ci.yaml fits in: MNIST 6,000 / 1,000
# digits; CIFAR-10 12,000 / 3,000 images, of which 1,200 / 300 ships (a tenth are each class).
CI_MIRROR = {"mnist": (6000, 1000), "cifar10": (12000, 3000)}


def _fake_images(rng: np.random.Generator, templates: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images of the ten classes in turn: the class's template plus per-image noise, so a
    classifier can learn the classes (well above chance after one short epoch)."""
    labels = (np.arange(n) % 10).astype(np.uint8)
    noise = rng.normal(0.0, 40.0, (n, *templates.shape[1:]))
    return np.clip(templates[labels] + noise, 0, 255).astype(np.uint8), labels


def write_fake_mirror(directory: Path, mnist: tuple[int, int] = (64, 32), cifar10: tuple[int, int] = (640, 128),
                      seed: int = 0) -> Path:
    """MNIST and CIFAR-10 files in the Keras arrays' layout with (train, test) split sizes,
    for runs with no mirror (their checksums are unknown: GANFLOW_ALLOW_UNKNOWN_MIRROR=1).
    Each class is a coarse random pattern (4x4 blocks) plus noise."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for name, (n_train, n_test), shape in (("mnist", mnist, (28, 28)), ("cifar10", cifar10, (32, 32, 3))):
        coarse = rng.uniform(0, 255, (10, shape[0] // 4, shape[1] // 4, *shape[2:]))
        templates = coarse.repeat(4, axis=1).repeat(4, axis=2)
        x_train, y_train = _fake_images(rng, templates, n_train)
        x_test, y_test = _fake_images(rng, templates, n_test)
        if name == "cifar10":  # Keras's CIFAR-10 labels are (N, 1)
            y_train, y_test = y_train[:, None], y_test[:, None]
        np.savez(directory / f"{name}.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return directory


@pytest.fixture(scope="session")
def mirror_env(tmp_path_factory) -> dict[str, str]:
    """Environment for running the prepare stage offline: the real mirror in ../shared/data
    when it exists, else a fake one the size params.ci.yaml asks for (unknown checksums
    allowed). ``GANFLOW_DATA_MIRROR`` names the directory either way."""
    if (SHARED_DATA / "mnist.npz").is_file() and (SHARED_DATA / "cifar10.npz").is_file():
        return {"GANFLOW_DATA_MIRROR": str(SHARED_DATA)}
    fake = write_fake_mirror(tmp_path_factory.mktemp("mirror"), **CI_MIRROR)
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
