"""The GAN object and its fused train step.

:class:`GAN` follows keras.io's "DCGAN overriding train_step": one small ``keras.Model`` that
holds G and D, and one :meth:`GAN.train_step` that does both updates with ``GradientTape``
inside the ``tf.function`` Keras compiles for ``fit``: D's update applies gradients to D's
trainable variables only, G's to G's only. Losses are computed on D's logits
(:mod:`ganflow.heads`, :mod:`ganflow.losses`).

Input is a dataset of ``(steps, real_batch)`` (:func:`ganflow.data.batches.real_batches`).
Every random draw in a step (real-batch indices, latent vectors, label noise) is a stateless
function of ``(seed, step)``, so a run is bitwise reproducible on CPU and can resume at any
step; so are D's Dropout masks (:meth:`GAN._d_logits`), not drawn from the layers' seed-generator
variables (with those, identical runs differed: README "Reproducibility"). The step
is written once for every ``tf.distribute`` strategy (:mod:`ganflow.distribute`).

:class:`DiscriminatorPretrainer` reuses the same D update against a fixed fake source: the
initial generator, or uniform noise (the ``curve`` tutorial).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from ganflow import losses
from ganflow.distribute import all_finite, replica_slice, scaled
from ganflow.heads import Head
from ganflow.models.layers import dropout_seed

METRICS = ("d_loss", "g_loss", "d_acc_real", "d_acc_fake", "nonfinite")


class GAN(keras.Model):
    """Generator + discriminator + the fused adversarial step."""

    def __init__(self, generator: keras.Model, discriminator: keras.Model, latent_dim: int, *,
                 head: Head, seed: int, label_smoothing: float = 0.0, label_noise: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        head.check(discriminator)
        self.generator, self.discriminator, self.head = generator, discriminator, head
        self.latent_dim, self.seed = latent_dim, seed
        self.label_smoothing, self.label_noise = label_smoothing, label_noise
        self.trace_count = 0  # Python side effect: grows only when train_step is traced
        # "nonfinite": share of steps whose losses or gradients were NaN/Inf (ReLU maps NaN to 0,
        # so the loss alone would not always show it).
        self.trackers = {name: keras.metrics.Mean(name=name) for name in METRICS}

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
        d_loss, acc_real, acc_fake, d_finite = self.discriminator_update(real, fake, k_d)
        g_loss, g_finite = self.generator_update(batch, k_g)
        self._track(d_loss=d_loss, g_loss=g_loss, d_acc_real=acc_real, d_acc_fake=acc_fake,
                    nonfinite=1.0 - tf.cast(d_finite & g_finite, tf.float32))
        return self._results(self.trackers)

    def discriminator_update(self, real, fake, key):
        """One D step on ``real`` and ``fake`` (targets from :meth:`_targets`); D's variables
        only. Returns (loss, accuracy on real, accuracy on fake, whether all was finite)."""
        n_real = tf.shape(real)[0]
        k_real, k_fake = tf.unstack(tf.random.experimental.stateless_split(key, 2))
        targets = tf.concat([self._targets(True, n_real, k_real),
                             self._targets(False, tf.shape(fake)[0], k_fake)], axis=0)
        with tf.GradientTape() as tape:
            logits = self._d_logits(tf.concat([real, tf.cast(fake, real.dtype)], 0), key)
            loss = losses.discriminator_loss(self.head, targets, logits)
            share = scaled(loss, self.d_optimizer)
        grads = self._apply(tape, share, self.discriminator, self.d_optimizer)
        called_real = tf.cast(self.head.called_real(logits), tf.float32)
        acc_real, acc_fake = tf.reduce_mean(called_real[:n_real]), 1.0 - tf.reduce_mean(called_real[n_real:])
        return loss, acc_real, acc_fake, all_finite(loss, grads, self.d_optimizer)

    def generator_update(self, batch, key):
        """One G step: make D call G's samples real; G's variables only. Returns (loss, finite)."""
        with tf.GradientTape() as tape:
            fake = self.generator(self._latents(batch, key), training=True)
            loss = losses.generator_loss(self.head, self._d_logits(fake, key))
            share = scaled(loss, self.g_optimizer)
        grads = self._apply(tape, share, self.generator, self.g_optimizer)
        return loss, all_finite(loss, grads, self.g_optimizer)

    # --- helpers of the step -----------------------------------------------------------------

    def _d_logits(self, x: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        """D's logits in training mode, its Dropout masks drawn from ``key`` folded with 1 (a
        stream apart from the update's other draws; see :func:`ganflow.models.layers.dropout_seed`)."""
        with dropout_seed(tf.random.experimental.stateless_fold_in(key, 1)):
            return self.head.logits(self.discriminator, x, True)

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
