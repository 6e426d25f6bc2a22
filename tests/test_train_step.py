"""The fused train step: which variables each update touches, single tracing, determinism."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganflow import runtime
from ganflow.data import synth
from ganflow.models import get_spec
from ganflow.data.batches import real_batches
from ganflow.heads import Head
from ganflow.training.losses import cross_entropy
from ganflow.training.optimizers import make_optimizer
from ganflow.training.checkpoint import training_variables
from ganflow.training.step import GAN, DiscriminatorPretrainer


def values(variables):
    return [np.array(v) for v in variables]


def changed(before, after):
    return [not np.array_equal(b, a) for b, a in zip(before, after)]


def make_gan(name="curve", seed=0, **kwargs):
    runtime.setup(seed)
    spec = get_spec(name)
    gan = GAN(spec.build_generator(), spec.build_discriminator(), spec.latent_dim, head=spec.head, seed=seed, **kwargs)
    gan.compile(make_optimizer(spec, 1e-3), make_optimizer(spec, 1e-3), steps_per_execution=5)
    return spec, gan


def real_data(name, n=512):
    rng = np.random.default_rng(0)
    make = synth.sine_curves if name == "sine" else synth.curve_points
    return make(rng, n)["x"]


@pytest.mark.parametrize("name", ["curve", "sine"])
def test_each_update_touches_only_its_own_network(name):
    spec, gan = make_gan(name)
    real = tf.constant(real_data(name)[:64])
    keys = gan._keys(tf.constant(0, tf.int64), 3)
    fake = gan.generator(gan._latents(64, keys[0]), training=True)

    g0, d0 = values(gan.generator.trainable_variables), values(gan.discriminator.trainable_variables)
    gan.discriminator_update(real, fake, keys[1])
    g1, d1 = values(gan.generator.trainable_variables), values(gan.discriminator.trainable_variables)
    assert all(changed(d0, d1)), "every D variable moves in D's update"
    assert not any(changed(g0, g1)), "no G variable moves in D's update"

    gan.generator_update(64, keys[2])
    g2, d2 = values(gan.generator.trainable_variables), values(gan.discriminator.trainable_variables)
    assert all(changed(g1, g2)), "every G variable moves in G's update"
    assert not any(changed(d1, d2)), "no D variable moves in G's update"


def test_the_steps_dropout_masks_do_not_depend_on_the_layers_seed_generators():
    # cifar_ship's Dropout drew from its seed-generator variable and trained to one of two models
    # from identical inputs; the step's masks now come from (seed, step) alone.
    spec, gan = make_gan("sine")
    real = tf.constant(real_data("sine")[:64])
    data = tf.data.Dataset.from_tensors((tf.fill([64], tf.constant(7, tf.int64)), real)).repeat()
    dropout = next(layer for layer in gan.discriminator.layers if isinstance(layer, keras.layers.Dropout))
    gan.d_optimizer.build(gan.discriminator.trainable_variables)  # slots exist before the first step,
    gan.g_optimizer.build(gan.generator.trainable_variables)      # so that restoring resets them
    everything = training_variables(gan)
    trainable = gan.discriminator.trainable_variables + gan.generator.trainable_variables
    start, start_trainable = values(everything), values(trainable)
    after = []
    for state in ([0, 0], [123, 456]):
        for v, s in zip(everything, start):
            v.assign(s)
        dropout.seed_generator.state.assign(np.array(state, dropout.seed_generator.state.dtype))
        gan.fit(data, epochs=1, steps_per_epoch=5, verbose=0)
        after.append(values(trainable))
    assert all(changed(start_trainable, after[0])), "the steps trained"
    assert not any(changed(after[0], after[1])), "the seed generators' state changed the step"


@pytest.mark.parametrize("name", ["curve", "sine"])
def test_a_saturated_discriminator_still_learns(name):
    # D calls everything real with p(real) ~ 1 - 1e-26 (a bias of 60 on its sigmoid, or -60 /
    # +60 on the "fake" / "real" units of sine's two). A cross-entropy on probabilities clips
    # them to 1 - 1e-7 and has zero gradient there; the step's loss on logits keeps pushing.
    spec, gan = make_gan(name)
    last = gan.discriminator.layers[-1]
    kernel, bias = last.get_weights()
    saturated = np.full_like(bias, 60.0) if bias.shape == (1,) else np.array([-60.0, 60.0], np.float32)
    last.set_weights([np.zeros_like(kernel), saturated])
    real = tf.constant(real_data(name)[:64])
    keys = gan._keys(tf.constant(0, tf.int64), 3)
    fake = gan.generator(gan._latents(64, keys[0]), training=True)
    assert np.all(np.array(gan.discriminator(fake))[:, -1] > 1 - 1e-6)  # saturated (no last-ulp test)

    loss, acc_real, acc_fake, finite = gan.discriminator_update(real, fake, keys[1])
    assert 25 < float(loss) < 35 and bool(finite)  # ~60 / 2: the fakes' loss, not a clipped 16 / 2
    assert float(acc_real) == 1.0 and float(acc_fake) == 0.0
    real_unit_bias = last.get_weights()[1][-1]
    assert real_unit_bias < saturated[-1], "D's update moves its saturated output"
    g_loss, _ = gan.generator_update(64, keys[2])
    assert 0 <= float(g_loss) < 1e-6  # G's fakes are called real: its loss is ~exp(-60), not clipped


@pytest.mark.parametrize("smoothing,noise", [(0.0, 0.0), (0.0, 0.05), (0.1, 0.0), (0.2, 0.45), (0.45, 0.45)])
def test_discriminator_targets_stay_in_0_1_so_the_loss_has_a_finite_minimum(smoothing, noise):
    # A target t outside [0, 1] makes BCE on logits unbounded below (t > 1: -(t - 1)·logit as
    # logit -> +inf). Inside [0, 1] the loss is >= its entropy >= 0 and grows at both ends.
    _, gan = make_gan("curve", label_smoothing=smoothing, label_noise=noise)
    key = tf.constant([7, 9], tf.int64)
    real, fake = gan._targets(True, 4096, key).numpy(), gan._targets(False, 4096, key).numpy()
    assert real.min() >= 0 and real.max() <= 1 and fake.min() >= 0 and fake.max() <= 1
    assert real.max() <= 1 - smoothing and fake.min() >= 0
    if noise:  # the noise is there, spread over [0, noise)
        assert 0.8 * noise < real.max() - real.min() <= noise and 0.8 * noise < fake.max() <= noise
    targets = tf.constant(np.concatenate([real, fake]))
    extremes = [float(cross_entropy(Head(1), targets, tf.fill([len(targets), 1], v))) for v in (-1e4, 0.0, 1e4)]
    assert min(extremes) >= 0 and extremes[1] < min(extremes[0], extremes[2])


def test_two_unit_head_loss_is_the_mean_of_each_units_one_hot_cross_entropy():
    # sine's head: unit 0 "fake", unit 1 "real", one-hot labels (1 - t, t), each unit a BCE term.
    t = tf.constant([1.0, 0.0, 0.3])
    logits = tf.constant([[-2.0, 3.0], [1.5, -0.5], [0.2, 0.4]])
    p = 1 / (1 + np.exp(-logits.numpy()))
    labels = np.stack([1 - t.numpy(), t.numpy()], axis=1)
    expected = -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    np.testing.assert_allclose(float(cross_entropy(Head(2), t, logits)), expected, rtol=1e-6)
    assert Head(2).called_real(logits).numpy().tolist() == [True, False, True]


def test_fit_updates_both_networks_and_traces_once():
    spec, gan = make_gan("curve")
    x = real_data("curve")
    g0, d0 = values(gan.generator.trainable_variables), values(gan.discriminator.trainable_variables)
    counts = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda *_: counts.append(gan.trace_count))
    history = gan.fit(real_batches(x, 32, 0, 0, 100), epochs=20, steps_per_epoch=5, verbose=0,
                      shuffle=False, callbacks=[record])
    # Keras builds one multi-step graph (train_step appears in it for the first step and the
    # loop body); the 19 calls after the first must not trace again.
    assert counts[0] <= 2 and counts == [counts[0]] * 20
    assert all(changed(g0, values(gan.generator.trainable_variables)))
    assert all(changed(d0, values(gan.discriminator.trainable_variables)))
    assert set(history.history) == {"d_loss", "g_loss", "d_acc_real", "d_acc_fake", "nonfinite"}
    assert history.history["nonfinite"] == [0.0] * 20
    assert len(history.history["d_loss"]) == 20
    assert np.all(np.isfinite(history.history["g_loss"]))
    assert gan.d_optimizer.iterations.numpy() == 100 and gan.g_optimizer.iterations.numpy() == 100


def test_pretrainer_moves_only_the_discriminator():
    runtime.setup(0)
    spec = get_spec("curve")
    trainer = DiscriminatorPretrainer(spec.build_generator(), spec.build_discriminator(),
                                      spec.latent_dim, head=spec.head, seed=0, fake_uniform=True)
    trainer.compile(make_optimizer(spec, 1e-2), None, steps_per_execution=50)
    g0 = values(trainer.generator.trainable_variables)
    history = trainer.fit(real_batches(real_data("curve"), 128, 0, 0, 200), epochs=4,
                          steps_per_epoch=50, verbose=0, shuffle=False)
    assert not any(changed(g0, values(trainer.generator.trainable_variables)))
    # real points on a curve vs uniform noise in the square: D learns to tell them apart
    assert history.history["d_acc_real"][-1] > 0.7 and history.history["d_acc_fake"][-1] > 0.7


def run_curve(seed, steps=40):
    spec, gan = make_gan("curve", seed=seed, label_noise=0.05)
    gan.fit(real_batches(real_data("curve"), 32, seed, 0, steps), epochs=steps // 10,
            steps_per_epoch=10, verbose=0, shuffle=False)
    return values(gan.generator.variables) + values(gan.discriminator.variables)


def test_same_seed_gives_bitwise_identical_weights_and_another_seed_does_not():
    a, b, c = run_curve(1), run_curve(1), run_curve(2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_real_batches_are_a_pure_function_of_seed_and_step():
    x = np.arange(100, dtype=np.float32)[:, None]
    full = [b.numpy() for _, b in real_batches(x, 8, 3, 0, 10)]
    resumed = [b.numpy() for _, b in real_batches(x, 8, 3, 6, 10)]
    assert all(np.array_equal(f, r) for f, r in zip(full[6:], resumed))
    other = [b.numpy() for _, b in real_batches(x, 8, 4, 0, 10)]
    assert not np.array_equal(full[0], other[0])


def test_nan_weights_are_flagged_although_the_clipped_loss_stays_finite():
    spec, gan = make_gan("curve")
    gan.discriminator.layers[0].kernel.assign(np.full((2, 100), np.nan, np.float32))
    history = gan.fit(real_batches(real_data("curve"), 32, 0, 0, 5), epochs=1, steps_per_epoch=5,
                      verbose=0, shuffle=False)
    assert history.history["nonfinite"] == [1.0]


@pytest.mark.parametrize("two_units", [False, True])
def test_d_accuracy_counts_called_real_as_real(two_units):
    # One unit: p(real) = sigmoid(x0), real when x0 > 0. Two sigmoid units (sine's head):
    # (p(fake), p(real)) = sigmoid(-x0, x0)... with unit 0 at logit 0 here, real when x0 > 0.
    x = keras.Input((2,))
    logit = keras.layers.Dense(1, use_bias=False, kernel_initializer=keras.initializers.Constant([[1.0], [0.0]]))(x)
    if two_units:
        logit = keras.layers.Concatenate()([keras.ops.zeros_like(logit), logit])
    d = keras.Model(x, keras.layers.Activation("sigmoid")(logit))
    real = np.array([[2.0, 0], [1.0, 5], [-1.0, 0], [3.0, 1]], np.float32)   # 3 of 4 correct
    fake = np.array([[-2.0, 0], [1.0, 0], [0.5, 0], [-0.1, 9], [-3, 0]], np.float32)  # 3 of 5
    assert Head(2 if two_units else 1).accuracy(d, real, fake) == (0.75, 0.6)
