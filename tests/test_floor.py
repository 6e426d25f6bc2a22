"""The real-data floor is honest: the held-out images every image metric's floor is computed on
are images the evaluation classifier never trained on (they come from the datasets' test splits)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from conftest import REPO
from ganflow.classifier import load_dataset
from ganflow.data.prepare import prepare
from ganflow.params import load_params


def digests(images: np.ndarray) -> set[bytes]:
    return {hashlib.sha256(np.ascontiguousarray(x).tobytes()).digest() for x in images}


@pytest.mark.parametrize("gan,dataset", [("mnist_dcgan", "mnist"), ("mnist_mlp", "mnist"), ("cifar_ship", "cifar10")])
def test_held_out_images_are_unseen_by_the_evaluation_classifier(monkeypatch, mirror_env, gan, dataset):
    for key, value in mirror_env.items():
        monkeypatch.setenv(key, value)
    # The real mirror at params.yaml's sizes (the classifier on its whole training split);
    # a fake mirror holds what params.ci.yaml asks for.
    real = "GANFLOW_ALLOW_UNKNOWN_MIRROR" not in mirror_env
    params_file = REPO / ("params.yaml" if real else "params.ci.yaml")
    train, held_out = prepare(gan, load_params(params_file, "prepare", gan))
    n_train = load_params(params_file, "classifier", dataset).n_train
    seen = digests(np.round(load_dataset(dataset, n_train)[0] * 255).astype(np.uint8))  # as the classifier sees them

    assert len(held_out["x"]) > 0 and not digests(held_out["x"]) & seen
    # the check can see an overlap: the GAN's own training images are the classifier's too
    assert digests(train["x"]) & seen
