"""The training recipes beyond the tutorials' (hinge loss, augmentation, lazy R1, EMA of G) and
the in-training quality that keeps the best generator: each does what it says, and each is off
unless asked for."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganflow import runtime
from ganflow.training import augment, losses
from ganflow.data import synth
from ganflow.data.batches import real_batches
from ganflow.training.ema import EMA, AveragedGenerator, calibrate_batchnorm
from ganflow.heads import Head
from ganflow.models import get_spec
from ganflow.training.monitor import BestGenerator
from ganflow.training.optimizers import make_optimizer
from ganflow.params import AUGMENT_OPS
from ganflow.training.step import GAN, Recipe


def make_gan(name="curve", seed=0, recipe=Recipe(), per_call=5):
    runtime.setup(seed)
    spec = get_spec(name)
    gan = GAN(spec.build_generator(), spec.build_discriminator(), spec.latent_dim, head=spec.head,
              seed=seed, recipe=recipe)
    gan.compile(make_optimizer(spec, 1e-3), make_optimizer(spec, 1e-3), steps_per_execution=per_call)
    return spec, gan


def curve_points(n=512):
    return synth.curve_points(np.random.default_rng(0), n)["x"]


def fit(gan, x, steps, per_call=5, batch=32, seed=0):
    return gan.fit(real_batches(x, batch, seed, 0, steps), epochs=steps // per_call,
                   steps_per_epoch=per_call, verbose=0, shuffle=False)


def weights(model):
    return [np.array(v) for v in model.variables]


def test_params_and_the_augment_module_name_the_same_ops():
    assert AUGMENT_OPS == augment.POLICIES


def test_hinge_losses_follow_their_formulas_on_the_real_score():
    logits = tf.constant([[2.0], [-0.5], [0.3], [-3.0]])
    targets = tf.constant([1.0, 1.0, 0.0, 0.0])
    # reals: relu(1 - 2) = 0, relu(1 + 0.5) = 1.5; fakes: relu(1 + 0.3) = 1.3, relu(1 - 3) = 0
    assert float(losses.discriminator_loss("hinge", Head(1), targets, logits)) == pytest.approx(2.8 / 4)
    assert float(losses.generator_loss("hinge", Head(1), logits)) == pytest.approx(-(2.0 - 0.5 + 0.3 - 3.0) / 4)
    two = tf.constant([[0.0, 2.0], [1.0, 0.5]])  # real score = real unit - fake unit: 2, -0.5
    assert Head(2).real_logit(two).numpy().tolist() == [2.0, -0.5]
    assert float(losses.generator_loss("hinge", Head(2), two)) == pytest.approx(-0.75)


def test_a_default_recipe_is_the_tutorials_step():
    x = curve_points()
    _, a = make_gan()
    _, b = make_gan(recipe=Recipe(loss="nonsaturating", augment=(), r1_gamma=0.0, ema_decay=None))
    fit(a, x, 10), fit(b, x, 10)
    assert all(np.array_equal(u, v) for u, v in zip(weights(a.generator), weights(b.generator)))
    assert a.ema is None and set(a.trackers) == set(b.trackers) == {"d_loss", "g_loss", "d_acc_real",
                                                                   "d_acc_fake", "nonfinite"}


@pytest.mark.parametrize("recipe", [Recipe(loss="hinge"), Recipe(r1_gamma=10.0, r1_every=2)])
def test_a_recipe_changes_training_and_stays_bitwise_deterministic(recipe):
    x = curve_points()
    runs = []
    for r in (Recipe(), recipe, recipe):
        _, gan = make_gan(recipe=r)
        fit(gan, x, 10)
        runs.append(weights(gan.discriminator))
    assert not all(np.array_equal(u, v) for u, v in zip(runs[0], runs[1]))
    assert all(np.array_equal(u, v) for u, v in zip(runs[1], runs[2]))


def test_lazy_r1_is_gamma_half_times_interval_times_the_squared_gradient_norm_on_its_steps_only():
    spec, gan = make_gan(recipe=Recipe(r1_gamma=3.0, r1_every=4))
    real = tf.constant(curve_points(64))
    key = tf.constant([5, 6], tf.int64)
    # the expected penalty, with the same Dropout masks (curve's D has none; the key is the R1 pass's)
    with tf.GradientTape() as tape:
        tape.watch(real)
        score = tf.reduce_sum(spec.head.real_logit(spec.head.logits(gan.discriminator, real, True)))
    norm2 = float(tf.reduce_mean(tf.reduce_sum(tf.square(tape.gradient(score, real)), axis=1)))
    on = float(gan._lazy_r1(real, key, tf.constant(8, tf.int64)))
    off = float(gan._lazy_r1(real, key, tf.constant(9, tf.int64)))
    assert on == pytest.approx(0.5 * 3.0 * 4 * norm2, rel=1e-5) and on > 0 and off == 0.0
    assert float(gan.trackers["r1"].result()) == pytest.approx(norm2, rel=1e-5), "mean over R1 steps only"


def test_a_d_update_with_r1_lowers_ds_gradient_norm_at_the_reals():
    real = tf.constant(curve_points(128))
    fake = tf.constant(np.random.default_rng(1).uniform(-1, 1, (128, 2)).astype(np.float32))
    key = tf.constant([1, 2], tf.int64)

    def grad_norm2(gan):
        with tf.GradientTape() as tape:
            tape.watch(real)
            score = tf.reduce_sum(gan.head.real_logit(gan.head.logits(gan.discriminator, real, False)))
        return float(tf.reduce_mean(tf.reduce_sum(tf.square(tape.gradient(score, real)), axis=1)))

    after = {}
    for gamma in (0.0, 100.0):
        _, gan = make_gan(recipe=Recipe(r1_gamma=gamma, r1_every=1) if gamma else Recipe())
        gan.d_optimizer = keras.optimizers.SGD(1e-4)  # small: the first-order effect
        before = grad_norm2(gan)
        gan.discriminator_update(real, fake, key, tf.constant(0, tf.int64))
        after[gamma] = grad_norm2(gan)
    assert after[100.0] < 0.9 * before and after[100.0] < 0.9 * after[0.0]


def test_augmentation_reaches_both_updates_and_g_still_learns_through_it():
    x = np.random.default_rng(0).uniform(0, 1, (64, 28, 28, 1)).astype(np.float32)
    runs = []
    for policy in ((), ("translation", "cutout"), ("translation", "cutout")):
        spec, gan = make_gan("mnist_dcgan", recipe=Recipe(augment=policy, data_range=(0.0, 1.0)), per_call=2)
        g0 = weights(gan.generator)
        fit(gan, x, 2, per_call=2, batch=8)
        runs.append((weights(gan.generator), weights(gan.discriminator)))
        moved = [not np.array_equal(a, b) for a, b in zip(g0, runs[-1][0])]
        assert sum(moved) >= len(gan.generator.trainable_variables), "every trainable G weight moves"
    assert not np.array_equal(runs[0][1][0], runs[1][1][0]), "D saw other (augmented) inputs"
    assert all(np.array_equal(a, b) for a, b in zip(runs[1][1], runs[2][1]))


def test_ema_copies_g_during_warmup_then_averages_with_its_decay():
    x = curve_points()
    _, gan = make_gan(recipe=Recipe(ema_decay=0.9, ema_warmup=5), per_call=5)
    fit(gan, x, 5)
    g5 = [np.array(w) for w in gan.generator.trainable_variables]
    assert all(np.array_equal(e.numpy(), w) for e, w in zip(gan.ema.weights, g5)), "a copy in warm-up"
    for e in gan.ema.weights:
        e.assign(tf.zeros_like(e))
    gan.fit(real_batches(x, 32, 0, 5, 6), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
    g6 = [np.array(w) for w in gan.generator.trainable_variables]
    for e, w, w5 in zip(gan.ema.weights, g6, g5):
        np.testing.assert_allclose(e.numpy(), 0.1 * w, rtol=1e-6, atol=1e-9)
        assert not np.allclose(w, w5)


def test_batchnorm_recalibration_makes_inference_match_the_batch_statistics():
    spec = get_spec("mnist_mlp")
    runtime.setup(0)
    g = spec.build_generator()
    z = spec.latents(512, 1)
    before = g(z, training=False).numpy()
    calibrate_batchnorm(g, z, chunk=100)  # several chunks: the moments must pool them
    batch_stats = keras.models.clone_model(g)
    batch_stats.set_weights(g.get_weights())
    after = g(z, training=False).numpy()
    np.testing.assert_allclose(after, batch_stats(z, training=True).numpy(), atol=2e-4)
    assert np.abs(after - before).max() > 0.05, "fresh moving statistics were not the batch's"


def test_averaged_generator_carries_the_ema_weights_and_leaves_g_alone():
    spec = get_spec("mnist_mlp")
    runtime.setup(0)
    g = spec.build_generator()
    ema = EMA(g, 0.99, 0)
    for e in ema.weights:
        e.assign(e * 0.5)
    raw = weights(g)
    model = AveragedGenerator(g, ema, spec.latents(256, 1)).sync()
    assert all(np.array_equal(a.numpy(), e.numpy()) for a, e in zip(model.trainable_variables, ema.weights))
    assert all(np.array_equal(a, b) for a, b in zip(raw, weights(g))), "G itself untouched"
    plain = AveragedGenerator(g, None, spec.latents(256, 1)).sync()
    assert all(np.array_equal(a, b) for a, b in zip(weights(plain), raw)), "no EMA: a copy of G"


def test_best_generator_keeps_the_lowest_score_and_counts_evaluations_since():
    spec = get_spec("curve")
    g = spec.build_generator()
    best = BestGenerator(g)
    kept = weights(g)
    assert best.offer(g, 3.0, 10)
    for v in g.trainable_variables:
        v.assign(v + 1.0)
    assert not best.offer(g, 3.5, 20) and not best.offer(g, float("nan"), 30)
    assert int(best.since.numpy()) == 2 and int(best.step.numpy()) == 10
    target = spec.build_generator()
    best.load_into(target)
    assert all(np.array_equal(a, b) for a, b in zip(weights(target), kept))
    assert best.offer(g, 1.0, 40) and int(best.since.numpy()) == 0


class ScriptedQuality:
    """A stand-in for TrainingQuality whose score follows a script (lower is better)."""

    n, floor, figure = 64, {"fcd": 0.0}, "fcd"

    def __init__(self, scores):
        self.scores, self.seen = iter(scores), []

    def __call__(self, samples):
        self.seen.append(np.array(samples))
        return {"fcd": next(self.scores)}

    def score(self, figures):
        return figures["fcd"]


def test_training_keeps_the_best_generator_and_stops_after_patience_evaluations(tmp_path):
    import yaml

    from ganflow.training.loop import train_adversarial
    from ganflow.sampling import generate
    from ganflow.params import load_params

    from conftest import REPO

    doc = yaml.safe_load((REPO / "params.ci.yaml").read_text())
    doc["train"]["curve"].update(steps=1000, log_every=50, eval_every=50, patience=2,
                                 ema={"decay": 0.9, "warmup": 0})
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    params = load_params(tmp_path / "p.yaml", "train", "curve")
    runtime.setup(0)
    spec = get_spec("curve")
    quality = ScriptedQuality([5.0, 3.0, 4.0, 4.5, 1.0])
    trained = train_adversarial(spec, params, lambda: (spec.build_generator(), spec.build_discriminator()),
                                curve_points(), str(tmp_path / "live"), quality=quality)
    # evaluations at steps 50 (5), 100 (3: best), 150 and 200 (no better: patience 2 is spent)
    assert trained.steps_run == 200 and trained.best_step == 100 and len(quality.seen) == 4
    z = spec.latents(quality.n, params.gan.seed + 2)  # the monitor's latents
    np.testing.assert_array_equal(generate(spec, trained.generator, z, unit=False), quality.seen[1])
    logged = (tmp_path / "live/plots/metrics/quality/fcd.tsv").read_text().split()
    assert logged[2:] == ["50", "5.0", "100", "3.0", "150", "4.0", "200", "4.5"]


def test_augmentation_of_a_curve_gan_is_refused_naming_the_key(tmp_path):
    import yaml
    from conftest import REPO

    from ganflow.errors import UserError
    from ganflow.training.loop import recipe
    from ganflow.params import load_params

    doc = yaml.safe_load((REPO / "params.ci.yaml").read_text())
    doc["train"]["sine"]["augment"] = "translation"
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(UserError, match=r"train\.sine\.augment"):
        recipe(get_spec("sine"), load_params(tmp_path / "p.yaml", "train", "sine").gan)


def test_training_quality_compares_fixed_real_subsets_and_its_floor_is_real_against_real():
    from ganflow.evaluation import TrainingQuality

    spec = get_spec("curve")
    x = curve_points(4000)
    q = TrainingQuality(spec, x, 1000, 3)
    assert q.n == 1000 and q.floor["abs_err_mean"] < 1e-6 and q.floor["x_w1"] < 0.05
    noise = np.random.default_rng(0).uniform(-1, 1, (1000, 2)).astype(np.float32)
    bad = q(noise)
    assert bad["abs_err_mean"] > 0.1 and q.score(bad) > 10 * q.score(q.floor)
    assert TrainingQuality(spec, x[:600], 1000, 3).n == 300, "two disjoint subsets of the data"
