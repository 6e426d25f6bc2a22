"""ganflow's Dropout: keras.layers.Dropout's behaviour with a cheaper mask."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganflow.modelio import load_model, save_model
from ganflow.models.layers import Dropout


@pytest.mark.parametrize("rate", [0.25, 0.4, 0.2])
def test_mask_rate_scale_and_expectation(rate):
    layer = Dropout(rate, seed=3)
    x = tf.ones([400, 7, 51])  # odd last axis: the draws are cut to length
    with tf.GradientTape() as tape:
        tape.watch(x)
        y_t = layer(x, training=True)
        total = tf.reduce_sum(y_t)
    y = y_t.numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - rate) < 0.005
    assert np.allclose(y[kept], y[kept][0]) and abs(y[kept][0] - 1 / (1 - rate)) < 1e-4
    assert abs(y.mean() - 1) < 0.01
    # the gradient is the mask times the scale
    np.testing.assert_allclose(tape.gradient(total, x).numpy(), y)


def test_seeded_deterministic_and_fresh_per_call():
    a, b = Dropout(0.25, seed=5), Dropout(0.25, seed=5)
    x = tf.ones([64, 50])
    first_a, first_b = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, a(x, training=True).numpy())
    assert not np.array_equal(first_a, Dropout(0.25, seed=6)(x, training=True).numpy())


def test_inference_is_identity_and_the_layer_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(4), Dropout(0.4, seed=1)])
    x = np.random.default_rng(0).standard_normal((8, 10)).astype(np.float32)
    np.testing.assert_array_equal(model(x, training=False), model.layers[0](x))
    save_model(model, tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1], Dropout) and loaded.layers[-1].rate == 0.4
    np.testing.assert_array_equal(loaded(x, training=False), model(x, training=False))


def test_inside_dropout_seed_the_mask_is_the_keys_and_the_generator_is_untouched():
    from ganflow.models.layers import dropout_seed

    a, b = Dropout(0.4, seed=5), Dropout(0.4, seed=9)  # different seed generators
    x = tf.ones([64, 50])
    key = tf.constant([3, 4], tf.int64)
    state_a = np.array(a.seed_generator.state)
    with dropout_seed(key):
        first, second = a(x, training=True).numpy(), a(x, training=True).numpy()
    with dropout_seed(key):
        first_b = b(x, training=True).numpy()  # position 0 again: the key's, not b's seed
    np.testing.assert_array_equal(first, first_b)
    assert not np.array_equal(first, second), "each call in a block gets its own mask"
    np.testing.assert_array_equal(np.array(a.seed_generator.state), state_a)
    with dropout_seed(tf.constant([3, 5], tf.int64)):
        assert not np.array_equal(first, a(x, training=True).numpy()), "another key, another mask"
    # outside a block, the layer's own generator, as in Keras
    np.testing.assert_array_equal(Dropout(0.4, seed=5)(x, training=True), a(x, training=True))
