"""Saved models: byte-identical files for equal models, safe loading, one-line errors."""

import keras
import numpy as np
import pytest

from ganflow import runtime
from ganflow.errors import UserError
from ganflow.modelio import load_model, save_model
from ganflow.models import get_spec


@pytest.mark.parametrize("name", ["curve", "mnist_dcgan"])
def test_equal_models_save_to_identical_bytes(tmp_path, name):
    paths = []
    for i in range(2):
        keras.backend.clear_session()  # same layer names, but new Python objects (other ids)
        runtime.setup(3)
        model = get_spec(name).build_generator()
        paths.append(save_model(model, tmp_path / f"{i}.keras"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    loaded = load_model(paths[0])
    z = np.random.default_rng(0).standard_normal((2, get_spec(name).latent_dim)).astype("float32")
    np.testing.assert_array_equal(loaded(z, training=False), model(z, training=False))


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(UserError, match="model file not found"):
        load_model(tmp_path / "nope.keras")
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(UserError, match="cannot load model"):
        load_model(tmp_path / "bad.keras")
