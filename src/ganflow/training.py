"""The GAN object and its fused train step.

:class:`GAN` follows keras.io's "DCGAN overriding train_step": one small ``keras.Model`` that
holds G and D, and one :meth:`GAN.train_step` that does both updates with ``GradientTape``
inside the ``tf.function`` Keras compiles for ``fit``. G's update applies gradients to G's
trainable variables only; D's update to D's only.

Input is a dataset of ``(steps, real_batch)`` (see :func:`real_batches`). Every random draw in a
step (real-batch indices, latent vectors, label noise) is a stateless function of
``(seed, step)``, so a run is bitwise reproducible on CPU and can resume at any step. Dropout
uses Keras's own seeded generators, whose state lives in D's variables.

The step is written once for every ``tf.distribute`` strategy. ``batch_size`` is the global
batch: under a strategy with R replicas each replica gets its slice of the global batch, draws
the *global* batch's latents and label noise and keeps its own slice (so R replicas see exactly
the samples one device would), and divides its losses by R before differentiating, because the
optimizers sum gradients across replicas. With one replica this is the plain step.

:class:`DiscriminatorPretrainer` reuses the same D update against a fixed fake source: the
initial generator, or uniform noise (the ``curve`` tutorial).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ganflow.optimizers import make_optimizer  # noqa: F401  (re-exported)


def real_batches(
    x: np.ndarray, batch_size: int, seed: int, start: int, stop: int
) -> tf.data.Dataset:
    """``(steps, batch)`` for steps ``start..stop-1``; batch indices drawn with replacement
    from a stateless RNG keyed by ``(seed, step)``, so any step's batch can be recomputed.

    ``steps`` is the step number repeated once per sample, so that a distribution strategy
    that splits the batch across replicas hands every replica its step too."""
    data = tf.constant(x)
    n = len(x)

    def sample(step: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        key = tf.random.experimental.stateless_fold_in(tf.constant([seed, 1], tf.int64), step)
        idx = tf.random.stateless_uniform([batch_size], key, maxval=n, dtype=tf.int64)
        return tf.fill([batch_size], step), tf.gather(data, idx)

    steps = tf.data.Dataset.range(start, stop)
    return steps.map(sample, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _logits(d_out: tf.Tensor) -> tf.Tensor:
    """D's logits, in float32, shape (N, units): the inputs of its sigmoid output units.

    The losses are computed from these logits, as Keras's own compiled losses do (Keras keeps an
    activation's input on its output as ``_keras_logits``). A cross-entropy on D's
    probabilities would clip them to [1e-7, 1 - 1e-7]: where D saturates, its gradient is zero
    and D can never recover (seen on ``cifar_ship``, whose D was stuck calling every fake real).
    """
    logits = getattr(d_out, "_keras_logits", None)
    if logits is None:
        raise TypeError("the discriminator must end in a Keras sigmoid activation")
    return tf.cast(logits, tf.float32)


def _bce(targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean binary cross-entropy of D's sigmoid units against ``targets`` (each sample's
    p(real)). One unit: p(real) itself. Two units (``sine``'s head, as in its tutorial): one-hot
    [fake, real] labels, each unit its own term, so the loss is the mean of BCE(1 - t) on unit
    0 and BCE(t) on unit 1."""
    labels = tf.stack([1.0 - targets, targets], axis=1) if logits.shape[-1] == 2 else targets[:, None]
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def _called_real(logits: tf.Tensor) -> tf.Tensor:
    """Whether D calls each sample real: p(real) > 0.5, or for two units the "real" unit above
    the "fake" one (the one-hot label D was trained towards)."""
    return logits[:, 1] > logits[:, 0] if logits.shape[-1] == 2 else logits[:, 0] > 0


def d_accuracy(discriminator: keras.Model, real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """D's accuracy, in inference mode, on ``real`` (called real) and on ``fake`` (not called
    real): the rule of the train step's ``d_acc_real`` and ``d_acc_fake`` (:func:`_called_real`,
    on D's probabilities, which order like its logits)."""
    def called_real(x):
        p = np.asarray(discriminator.predict(x, batch_size=256, verbose=0), np.float32)
        return p[:, 1] > p[:, 0] if p.shape[-1] == 2 else p[:, 0] > 0.5

    return float(np.mean(called_real(real))), float(np.mean(~called_real(fake)))


def _replica() -> tuple[tf.Tensor, int]:
    """(this replica's index, number of replicas) of the current distribution strategy."""
    ctx = tf.distribute.get_replica_context()
    return ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync


def _replica_draw(draw, batch: tf.Tensor, rest) -> tf.Tensor:
    """This replica's ``batch`` rows of a draw for the global batch: ``draw(shape)`` with shape
    ``[batch × replicas, *rest]``, sliced to this replica's rows, so that R replicas see exactly
    the values one device would."""
    replica, n = _replica()
    values = draw(tf.concat([[batch * n], tf.cast(rest, tf.int32)], axis=0))
    return values if n == 1 else values[replica * batch:(replica + 1) * batch]


def _scaled(loss: tf.Tensor, optimizer) -> tf.Tensor:
    """What to differentiate (inside the tape): this replica's share of ``loss`` (optimizers sum
    gradients across replicas), times the loss scale for a mixed_float16 loss-scale optimizer
    (which unscales the gradients)."""
    _, n = _replica()
    share = loss / n if n > 1 else loss
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        share = optimizer.scale_loss(share)
    return share


def _finite(loss: tf.Tensor, grads: list, optimizer) -> tf.Tensor:
    """Whether the loss and every gradient entry are finite (NaN/Inf anywhere makes the norm so).

    A loss-scale optimizer skips steps whose scaled gradients overflow and lowers its scale:
    there only the loss counts."""
    finite = tf.math.is_finite(loss)
    if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        finite &= tf.math.is_finite(tf.linalg.global_norm(grads))
    return finite


class GAN(keras.Model):
    """Generator + discriminator + the fused adversarial step."""

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        *,
        seed: int,
        label_smoothing: float = 0.0,
        label_noise: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed = seed
        self.label_smoothing = label_smoothing
        self.label_noise = label_noise
        self.trace_count = 0  # Python side effect: grows only when train_step is traced
        # "nonfinite": share of steps whose losses or gradients were NaN/Inf. The loss alone would
        # not show it: cross-entropy clips probabilities and ReLU maps NaN to 0.
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake", "nonfinite")
        }

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

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

    # --- pieces of the step ----------------------------------------------------------------

    def _keys(self, step: tf.Tensor, n: int) -> tf.Tensor:
        key = tf.random.experimental.stateless_fold_in(tf.constant([self.seed, 2], tf.int64), step)
        return tf.random.experimental.stateless_split(key, n)

    def _latents(self, batch: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        """``batch`` latent vectors: this replica's slice of the global batch's."""
        return _replica_draw(lambda shape: tf.random.stateless_normal(shape, key), batch, [self.latent_dim])

    def _targets(self, real: bool, batch: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        """D's targets, always inside [0, 1]: reals 1 - smoothing - a·u, fakes a·u, for
        u ~ U[0, 1) and a = ``label_noise``. (The cifar_ship tutorial added a·u to both; on
        logits a real target above 1 makes the loss unbounded below: D gains from ever-larger
        real logits.)"""
        target = tf.fill([batch], 1.0 - self.label_smoothing if real else 0.0)
        if self.label_noise:
            noise = _replica_draw(lambda shape: tf.random.stateless_uniform(shape, key), batch, [])
            target += -self.label_noise * noise if real else self.label_noise * noise
        return target

    def discriminator_update(self, real, fake, key):
        """One D step on ``real`` (target 1 - smoothing) and ``fake`` (target 0), each with
        label noise pulling it inward (:meth:`_targets`); D's variables only.

        Returns (loss, accuracy on real, accuracy on fake, whether loss and gradients were finite)."""
        n_real, n_fake = tf.shape(real)[0], tf.shape(fake)[0]
        k_real, k_fake = tf.unstack(tf.random.experimental.stateless_split(key, 2))
        targets = tf.concat(
            [
                self._targets(True, n_real, k_real),
                self._targets(False, n_fake, k_fake),
            ],
            axis=0,
        )
        inputs = tf.concat([real, tf.cast(fake, real.dtype)], axis=0)
        with tf.GradientTape() as tape:
            logits = _logits(self.discriminator(inputs, training=True))
            loss = _bce(targets, logits)
            scaled = _scaled(loss, self.d_optimizer)
        variables = self.discriminator.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.d_optimizer.apply_gradients(zip(grads, variables))
        called_real = tf.cast(_called_real(logits), tf.float32)
        acc_real, acc_fake = tf.reduce_mean(called_real[:n_real]), 1.0 - tf.reduce_mean(called_real[n_real:])
        return loss, acc_real, acc_fake, _finite(loss, grads, self.d_optimizer)

    def generator_update(self, batch, key):
        """One G step: make D call G's samples real; G's variables only. Returns (loss, finite)."""
        z = self._latents(batch, key)
        with tf.GradientTape() as tape:
            logits = _logits(self.discriminator(self.generator(z, training=True), training=True))
            loss = _bce(tf.ones([tf.shape(logits)[0]]), logits)
            scaled = _scaled(loss, self.g_optimizer)
        variables = self.generator.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.g_optimizer.apply_gradients(zip(grads, variables))
        return loss, _finite(loss, grads, self.g_optimizer)

    # --- the fused step --------------------------------------------------------------------

    def train_step(self, data):
        self.trace_count += 1
        steps, real = data
        batch = tf.shape(real)[0]
        k_z, k_d, k_g = tf.unstack(self._keys(steps[0], 3))
        fake = self.generator(self._latents(batch, k_z), training=True)
        d_loss, acc_real, acc_fake, d_finite = self.discriminator_update(real, fake, k_d)
        g_loss, g_finite = self.generator_update(batch, k_g)
        values = {"d_loss": d_loss, "g_loss": g_loss, "d_acc_real": acc_real, "d_acc_fake": acc_fake,
                  "nonfinite": 1.0 - tf.cast(d_finite & g_finite, tf.float32)}
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return self._results(self.trackers)

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
            fake = _replica_draw(lambda shape: tf.random.stateless_uniform(shape, k_z, minval=-1.0, maxval=1.0),
                                 batch, tf.shape(real)[1:])
        else:
            fake = self.generator(self._latents(batch, k_z), training=False)
        d_loss, acc_real, acc_fake, _ = self.discriminator_update(real, fake, k_d)
        for name, value in (("d_loss", d_loss), ("d_acc_real", acc_real), ("d_acc_fake", acc_fake)):
            self.trackers[name].update_state(value)
        return self._results({name: self.trackers[name] for name in ("d_loss", "d_acc_real", "d_acc_fake")})
