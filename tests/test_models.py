"""The five architectures: parameter counts equal the tutorials', shapes and output ranges."""

import keras
import numpy as np
import pytest

from ganflow import GAN_NAMES
from ganflow.errors import UserError
from ganflow.models import get_spec

# (generator, discriminator) parameter counts from the tutorials; None where the issue gives none.
EXPECTED_PARAMS = {
    "sine": (12_250, 115_452),
    "curve": (402, 401),
    "mnist_dcgan": (2_394_241, 4_311_553),
    "mnist_mlp": (None, 533_505),
    "cifar_ship": (9_410_307, 790_913),
}
SAMPLE_SHAPES = {
    "sine": (50,),
    "curve": (2,),
    "mnist_dcgan": (28, 28, 1),
    "mnist_mlp": (28, 28, 1),
    "cifar_ship": (32, 32, 3),
}


@pytest.mark.parametrize("name", GAN_NAMES)
def test_parameter_counts_match_the_tutorials(name):
    spec = get_spec(name)
    g_params, d_params = EXPECTED_PARAMS[name]
    if g_params is not None:
        assert spec.build_generator().count_params() == g_params
    assert spec.build_discriminator().count_params() == d_params


@pytest.mark.parametrize("name", GAN_NAMES)
def test_generator_output_feeds_discriminator(name):
    spec = get_spec(name)
    g, d = spec.build_generator(), spec.build_discriminator()
    z = np.random.default_rng(0).standard_normal((3, spec.latent_dim)).astype("float32")
    fake = np.asarray(g(z, training=False))
    assert fake.shape == (3, *SAMPLE_SHAPES[name])
    if name != "curve":  # the curve generator's output is linear
        lo, hi = spec.data_range
        assert fake.min() >= lo and fake.max() <= hi
    p = np.asarray(d(fake, training=False))
    assert p.shape == (3, spec.head.units)
    spec.head.check(d)  # Dense(units, sigmoid): the losses read its logits
    assert np.all((p >= 0) & (p <= 1))


def test_image_scaling_round_trips():
    for name in ("mnist_dcgan", "mnist_mlp", "cifar_ship"):
        spec = get_spec(name)
        x = np.array([[0, 128, 255]], dtype=np.uint8)
        scaled = spec.to_model(x)
        assert scaled.min() == spec.data_range[0] and scaled.max() == spec.data_range[1]
        np.testing.assert_allclose(spec.to_unit(scaled) * 255, x, atol=1e-3)


def test_latents_are_seeded_and_shaped_for_the_generator():
    spec = get_spec("mnist_dcgan")
    z = spec.latents(5, seed=3)
    assert z.shape == (5, spec.latent_dim) and z.dtype == np.float32
    np.testing.assert_array_equal(z, spec.latents(5, seed=3))
    assert not np.array_equal(z, spec.latents(5, seed=4))
    # The first rows do not depend on how many are drawn: the fixed grid latents (32) are a
    # prefix of a larger evaluation draw with the same seed.
    np.testing.assert_array_equal(spec.latents(32, seed=3)[:5], z)


def test_unknown_gan_is_a_user_error():
    with pytest.raises(UserError, match="unknown GAN 'mnist'"):
        get_spec("mnist")


@pytest.mark.parametrize("dataset,shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_evaluation_classifier_gives_features_and_probabilities(dataset, shape):
    from ganflow.classifier import build_classifier, embed, feature_model

    model = build_classifier(dataset)
    images = np.random.default_rng(0).uniform(0, 1, (5, *shape)).astype("float32")
    feats, probs = embed(feature_model(model), images)
    assert feats.shape == (5, 128) and probs.shape == (5, 10)
    assert feats.dtype == np.float64 and np.all(feats >= 0)  # ReLU features
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def _topology(model: keras.Model) -> list[tuple]:
    """Each layer's type and configuration, without its channel/unit counts."""
    out = []
    for layer in model.layers:
        config = {k: v for k, v in layer.get_config().items()
                  if k not in ("name", "filters", "units", "target_shape")}
        out.append((type(layer).__name__, repr(sorted(config.items()))))
    return out


def _widths(model: keras.Model) -> list[int]:
    return [layer.get_config().get("filters", layer.get_config().get("units")) for layer in model.layers
            if hasattr(layer, "kernel")]


@pytest.mark.parametrize("name", GAN_NAMES)
def test_width_scales_every_hidden_layer_and_keeps_the_topology(name):
    spec = get_spec(name)
    for build in (spec.build_generator, spec.build_discriminator):
        full, half = build(), build(0.5)
        assert build(1.0).count_params() == full.count_params()  # 1 = the tutorial's network
        assert _topology(half) == _topology(full)
        assert half.input_shape == full.input_shape and half.output_shape == full.output_shape
        wide, narrow = _widths(full), _widths(half)
        # hidden layers halve (rounded); the output layer (last) keeps its size
        assert narrow[:-1] == [max(1, round(w / 2)) for w in wide[:-1]] and narrow[-1] == wide[-1]
        assert half.count_params() < full.count_params()
