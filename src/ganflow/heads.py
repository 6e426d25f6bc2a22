"""The discriminator's head: how D says "real", for training and for evaluation alike.

Every D ends in ``Dense(units, sigmoid)``. One unit (``Head(1)``) is p(real). Two units
(``Head(2)``, the ``sine`` tutorial's) are trained towards one-hot [fake, real] labels, each
unit its own cross-entropy term; D calls a sample real when the "real" unit is above the "fake"
one. The losses need D's *logits*, the Dense's output before the sigmoid: a loss on clipped
probabilities has zero gradient where D saturates, and D never recovers. :meth:`Head.logits`
runs D's layers and then the head's affine map itself, from the layer's public weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf


@dataclass(frozen=True)
class Head:
    units: int  # 1: p(real); 2: (p(fake), p(real)), one-hot labels

    def check(self, discriminator: keras.Model) -> None:
        """Raise ``TypeError`` unless D ends in ``Dense(units, sigmoid)``, or in ``Dense(units)``
        then ``Activation("sigmoid")`` (the mnist_dcgan tutorial's)."""
        *_, before, last = discriminator.layers
        if _is_sigmoid(last) and isinstance(last, keras.layers.Activation):
            last = before
        if not (isinstance(last, keras.layers.Dense) and last.units == self.units
                and (last.activation is keras.activations.linear or _is_sigmoid(last))):
            raise TypeError(f"{discriminator.name} must end in Dense({self.units}, activation='sigmoid')")

    def logits(self, discriminator: keras.Model, x: tf.Tensor, training: bool) -> tf.Tensor:
        """D's logits, float32, shape (N, units): D's layers up to its sigmoid; where the sigmoid
        is the last Dense's activation, that Dense's kernel and bias are applied here (cast to
        the compute dtype, as the layer itself casts them)."""
        *body, last = discriminator.layers
        if isinstance(last, keras.layers.Dense):
            x = _run(body, x, training)
            kernel, bias = (tf.cast(w, x.dtype) for w in (last.kernel, last.bias))
            return tf.cast(tf.add(tf.matmul(x, kernel), bias), tf.float32)
        return tf.cast(_run(body, x, training), tf.float32)  # ... Dense, Activation("sigmoid")

    def labels(self, targets: tf.Tensor) -> tf.Tensor:
        """Per-unit labels for each sample's target p(real): (N, 1), or one-hot (1 - t, t)."""
        return tf.stack([1.0 - targets, targets], axis=1) if self.units == 2 else targets[:, None]

    def real_logit(self, logits: tf.Tensor) -> tf.Tensor:
        """One score per sample, higher = more real (N,): the logit of p(real), or for two
        units the "real" logit minus the "fake" one (hinge loss and R1 work on it)."""
        return logits[:, 1] - logits[:, 0] if self.units == 2 else logits[:, 0]

    def called_real(self, logits: tf.Tensor) -> tf.Tensor:
        """Whether D calls each sample real (from logits)."""
        return logits[:, 1] > logits[:, 0] if self.units == 2 else logits[:, 0] > 0

    def accuracy(self, discriminator: keras.Model, real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
        """D's accuracy in inference mode on ``real`` (called real) and on ``fake`` (not): the
        rule of the train step's ``d_acc_real`` / ``d_acc_fake``, on D's probabilities (which
        order like its logits)."""
        def called_real(x):
            p = np.asarray(discriminator.predict(x, batch_size=256, verbose=0), np.float32)
            return p[:, 1] > p[:, 0] if self.units == 2 else p[:, 0] > 0.5

        return float(np.mean(called_real(real))), float(np.mean(~called_real(fake)))


def _is_sigmoid(layer) -> bool:
    return getattr(layer, "activation", None) is keras.activations.sigmoid


def _run(layers, x, training: bool):
    for layer in layers:
        x = layer(x, training=training)
    return x
