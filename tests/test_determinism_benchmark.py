"""benchmarks.determinism: an image GAN with in-training quality gets its dataset's classifier
(the train stage refuses to run without one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.determinism import classifier_args


def test_image_gans_with_quality_get_their_datasets_classifier(tmp_path: Path):
    with pytest.raises(SystemExit, match=r"cifar10\.keras.*classifier@cifar10"):
        classifier_args(tmp_path, "cifar_ship", 40)  # missing: stop before any run
    (tmp_path / "cifar10.keras").write_bytes(b"x")
    (tmp_path / "mnist.keras").write_bytes(b"x")
    assert classifier_args(tmp_path, "cifar_ship", 40) == ["--classifier", str(tmp_path / "cifar10.keras")]
    assert classifier_args(tmp_path, "mnist_mlp", 250) == ["--classifier", str(tmp_path / "mnist.keras")]
    assert classifier_args(tmp_path, "cifar_ship", 0) == []  # quality off: the stage needs none
    assert classifier_args(tmp_path, "sine", 500) == []  # curves are measured analytically
