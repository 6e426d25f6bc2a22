"""The GAN object and its fused train step.

:class:`GAN` follows keras.io's "DCGAN overriding train_step": one small ``keras.Model`` that
holds G and D, and one :meth:`GAN.train_step` that does both updates with ``GradientTape``
inside the ``tf.function`` Keras compiles for ``fit``: D's update applies gradients to D's
trainable variables only, G's to G's only. Losses are computed on D's logits
(:mod:`ganflow.heads`, :mod:`ganflow.training.losses`).

Input is a dataset of ``(steps, real_batch)`` (:func:`ganflow.data.batches.real_batches`).
Every random draw in a step (real-batch indices, latent vectors, label noise) is a stateless
function of ``(seed, step)``, so a run is bitwise reproducible on CPU and can resume at any
step; so are D's Dropout masks (:meth:`GAN._d_logits`), not drawn from the layers' seed-generator
variables (with those, identical runs differed: README "Reproducibility"). The step
is written once for every ``tf.distribute`` strategy (:mod:`ganflow.training.distribute`).

:class:`DiscriminatorPretrainer` reuses the same D update against a fixed fake source: the
initial generator, or uniform noise (the ``curve`` tutorial).

A :class:`Recipe` adds what the tutorials lack, each off by default (then the step is today's,
bitwise): the hinge loss (:mod:`ganflow.training.losses`), differentiable augmentation of everything D
sees (:mod:`ganflow.training.augment`), a lazy R1 penalty on D's gradient at real samples, and an EMA
of G's weights (:mod:`ganflow.training.ema`). Their random draws come from keys of their own, folded
from the update's key, so switching one on leaves every other draw as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from ganflow.training import augment, losses
from ganflow.training.distribute import all_finite, replica_slice, scaled
from ganflow.heads import Head
from ganflow.training.ema import EMA
from ganflow.models.layers import dropout_seed

METRICS = ("d_loss", "g_loss", "d_acc_real", "d_acc_fake", "nonfinite")
_fold = tf.random.experimental.stateless_fold_in  # sub-keys of an update's key: 1 D's Dropout,
# 2 and 3 augmentation (reals, fakes), 4 the R1 pass's Dropout


@dataclass(frozen=True)
class Recipe:
    """The training recipe beyond the tutorials' (defaults: the tutorials' step)."""

    loss: losses.Loss = "nonsaturating"
    augment: tuple[str, ...] = ()  # DiffAugment ops (ganflow.training.augment), of real and fake alike
    data_range: tuple[float, float] = (0.0, 1.0)  # the images' range, for augmentation
    r1_gamma: float = 0.0  # R1 weight (0: off): gamma/2 · E||grad_x D(x)||^2 on (augmented) reals
    r1_every: int = 16  # lazy R1: every this many steps, weighted by it (StyleGAN2)
    ema_decay: float | None = None  # EMA of G's weights (None: off)
    ema_warmup: int = 0  # steps during which the EMA copies G


class GAN(keras.Model):
    """Generator + discriminator + the fused adversarial step."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int, *,
                 head: Head, seed: int, label_smoothing: float = 0.0, label_noise: float = 0.0,
                 recipe: Recipe = Recipe(), **kwargs):
        super().__init__(**kwargs)
        head.check(discriminator)
        self.generator, self.discriminator, self.head = generator, discriminator, head
        self.latent_dim, self.seed = latent_dim, seed
        self.label_smoothing, self.label_noise = label_smoothing, label_noise
        self.recipe = recipe
        self.ema = EMA(generator, recipe.ema_decay, recipe.ema_warmup) if recipe.ema_decay is not None else None
        self.trace_count = 0  # Python side effect: grows only when train_step is traced
        # "nonfinite": share of steps whose losses or gradients were NaN/Inf (ReLU maps NaN to 0,
        # so the loss alone would not always show it). "r1": the mean penalty over R1 steps.
        names = METRICS + (("r1",) if recipe.r1_gamma else ())
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _maybe_symbolic_build(self, *args, **kwargs):
        # Under a distribution strategy Keras's fit first "builds" the model symbolically by
        # calling it on a batch of data (mean-reduced across replicas: that fails under
        # MultiWorkerMirroredStrategy in Keras 3.15, and call() here takes latents, not data).
        # Nothing needs building: G, D and the optimizers are built before fit (loop.build_gan).
        return

    def call(self, z, training=False):
        return self.generator(z, training=training)

    # --- the fused step ----------------------------------------------------------------------

    def train_step(self, data):
        self.trace_count += 1
        steps, real = data
        batch = tf.shape(real)[0]
        k_z, k_d, k_g = tf.unstack(self._keys(steps[0], 3))
        fake = self.generator(self._latents(batch, k_z), training=True)
        d_loss, acc_real, acc_fake, d_finite = self.discriminator_update(real, fake, k_d, steps[0])
        g_loss, g_finite = self.generator_update(batch, k_g)
        if self.ema is not None:
            self.ema.update(self.generator, steps[0])
        self._track(d_loss=d_loss, g_loss=g_loss, d_acc_real=acc_real, d_acc_fake=acc_fake,
                    nonfinite=1.0 - tf.cast(d_finite & g_finite, tf.float32))
        return self._results(self.trackers)

    def discriminator_update(self, real, fake, key, step=None):
        """One D step on ``real`` and ``fake`` (targets from :meth:`_targets`); D's variables
        only; R1 (when on) at ``step``. Returns (loss, accuracy on real, accuracy on fake,
        whether all was finite)."""
        n_real = tf.shape(real)[0]
        k_real, k_fake = tf.unstack(tf.random.experimental.stateless_split(key, 2))
        targets = tf.concat([self._targets(True, n_real, k_real),
                             self._targets(False, tf.shape(fake)[0], k_fake)], axis=0)
        real = self._augment(real, _fold(key, 2))
        with tf.GradientTape() as tape:
            fake_seen = self._augment(tf.cast(fake, real.dtype), _fold(key, 3))
            logits = self._d_logits(tf.concat([real, fake_seen], 0), key)
            loss = losses.discriminator_loss(self.recipe.loss, self.head, targets, logits)
            if self.recipe.r1_gamma and step is not None:
                share = scaled(loss + self._lazy_r1(real, key, step), self.d_optimizer)
            else:
                share = scaled(loss, self.d_optimizer)
        grads = self._apply(tape, share, self.discriminator, self.d_optimizer)
        called_real = tf.cast(self.head.called_real(logits), tf.float32)
        acc_real, acc_fake = tf.reduce_mean(called_real[:n_real]), 1.0 - tf.reduce_mean(called_real[n_real:])
        return loss, acc_real, acc_fake, all_finite(loss, grads, self.d_optimizer)

    def generator_update(self, batch, key):
        """One G step: make D call G's samples real; G's variables only. Returns (loss, finite)."""
        with tf.GradientTape() as tape:
            fake = self._augment(self.generator(self._latents(batch, key), training=True), _fold(key, 2))
            loss = losses.generator_loss(self.recipe.loss, self.head, self._d_logits(fake, key))
            share = scaled(loss, self.g_optimizer)
        grads = self._apply(tape, share, self.generator, self.g_optimizer)
        return loss, all_finite(loss, grads, self.g_optimizer)

    # --- helpers of the step -----------------------------------------------------------------

    def _d_logits(self, x: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        """D's logits in training mode, its Dropout masks drawn from ``key`` folded with 1 (a
        stream apart from the update's other draws; see :func:`ganflow.models.layers.dropout_seed`)."""
        with dropout_seed(_fold(key, 1)):
            return self.head.logits(self.discriminator, x, True)

    def _augment(self, x: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        return augment.augment(x, key, self.recipe.augment, self.recipe.data_range) if self.recipe.augment else x

    def _lazy_r1(self, real: tf.Tensor, key: tf.Tensor, step: tf.Tensor) -> tf.Tensor:
        """Every ``r1_every`` steps, ``gamma/2 · r1_every ·`` the mean squared norm of the
        gradient of D's real-score at the reals D saw (a nested tape); 0 on other steps."""
        every, gamma = self.recipe.r1_every, self.recipe.r1_gamma

        def penalty():
            x = tf.identity(real)  # a tensor of the branch's own graph, for the inner tape to watch
            with tf.GradientTape() as inner:
                inner.watch(x)
                score = tf.reduce_sum(self.head.real_logit(self._d_logits(x, _fold(key, 4))))
            grad = tf.cast(inner.gradient(score, x), tf.float32)
            return tf.reduce_mean(tf.reduce_sum(tf.square(grad), axis=list(range(1, len(x.shape)))))

        on = tf.equal(step % every, 0)
        r1 = tf.cond(on, penalty, lambda: tf.constant(0.0))
        self.trackers["r1"].update_state(r1, sample_weight=tf.cast(on, tf.float32))
        return 0.5 * gamma * every * r1

    @staticmethod
    def _apply(tape, loss, network: keras.Model, optimizer) -> list:
        variables = network.trainable_variables
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return grads

    def _keys(self, step: tf.Tensor, n: int) -> tf.Tensor:
        key = tf.random.experimental.stateless_fold_in(tf.constant([self.seed, 2], tf.int64), step)
        return tf.random.experimental.stateless_split(key, n)

    def _latents(self, batch: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        """``batch`` latent vectors: this replica's slice of the global batch's."""
        return replica_slice(lambda shape: tf.random.stateless_normal(shape, key), batch, [self.latent_dim])

    def _targets(self, real: bool, batch: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        """D's targets, always inside [0, 1]: reals 1 - smoothing - a·u, fakes a·u, for
        u ~ U[0, 1) and a = ``label_noise``. (The cifar_ship tutorial added a·u to both; on
        logits a real target above 1 makes the loss unbounded below: D gains from ever-larger
        real logits.)"""
        target = tf.fill([batch], 1.0 - self.label_smoothing if real else 0.0)
        if self.label_noise:
            noise = replica_slice(lambda shape: tf.random.stateless_uniform(shape, key), batch, [])
            target += -self.label_noise * noise if real else self.label_noise * noise
        return target

    def _track(self, **values) -> None:
        for name, value in values.items():
            self.trackers[name].update_state(value)

    @staticmethod
    def _results(trackers: dict) -> dict:
        """The trackers' means, as ``fit`` can reduce them across replicas: scalars, except under
        MultiWorkerMirroredStrategy, where Keras 3.15 reduces logs as ``MEAN`` over axis 0 and
        so needs an axis (shape [1]; the reduced logs come out scalar)."""
        multi_worker = isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)
        return {name: tf.reshape(t.result(), [1]) if multi_worker else t.result()
                for name, t in trackers.items()}


class DiscriminatorPretrainer(GAN):
    """D-only steps against a fixed fake source: the (untrained) generator, or uniform noise
    in the real data's shape when ``fake_uniform`` is set (the ``curve`` tutorial)."""

    def __init__(self, *args, fake_uniform: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fake_uniform = fake_uniform

    def train_step(self, data):
        self.trace_count += 1
        steps, real = data
        batch = tf.shape(real)[0]
        k_z, k_d = tf.unstack(self._keys(steps[0], 2))
        if self.fake_uniform:
            fake = replica_slice(lambda shape: tf.random.stateless_uniform(shape, k_z, minval=-1.0, maxval=1.0),
                                 batch, tf.shape(real)[1:])
        else:
            fake = self.generator(self._latents(batch, k_z), training=False)
        d_loss, acc_real, acc_fake, _ = self.discriminator_update(real, fake, k_d)
        self._track(d_loss=d_loss, d_acc_real=acc_real, d_acc_fake=acc_fake)
        return self._results({name: self.trackers[name] for name in ("d_loss", "d_acc_real", "d_acc_fake")})
