"""An exponential moving average (EMA) of the generator's weights, and the averaged generator.

The train step calls :meth:`EMA.update` after G's update: each trainable weight's average
becomes ``decay·average + (1 - decay)·weight``, with ``decay = 0`` (a plain copy) for the
first ``warmup`` steps (BigGAN's "EMA start": the early, fast-moving weights are not worth
remembering). Samples, in-training quality and the saved ``generator.keras`` come from the
averaged generator (Yazıcı et al. 2019; StyleGAN2, BigGAN and keras.io's ``gan_ada`` do the
same); the raw G keeps training and is what a checkpoint resumes.

BatchNorm: averaged weights need statistics of their *own* activations, which neither the raw
G's moving statistics nor an average of them are. :func:`calibrate_batchnorm` sets every
BatchNormalization's moving mean and variance from the averaged G's activations on a fixed
batch of latents, layer by layer (the recalibration of SWA, Izmailov et al. 2018).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


class EMA:
    """The averages of ``generator``'s trainable weights (float32 variables, created in the
    current strategy's scope; one value on every replica, written by the first)."""

    def __init__(self, generator: keras.Model, decay: float, warmup: int):
        self.decay, self.warmup = float(decay), int(warmup)
        self.weights = [
            keras.Variable(keras.ops.convert_to_tensor(w), trainable=False, name=f"ema_{i}",
                           aggregation="only_first_replica")
            for i, w in enumerate(generator.trainable_variables)
        ]

    def update(self, generator: keras.Model, step: tf.Tensor) -> None:
        decay = tf.where(step < self.warmup, 0.0, self.decay)
        for average, weight in zip(self.weights, generator.trainable_variables):
            average.assign(decay * average + (1.0 - decay) * tf.cast(weight, average.dtype))


class AveragedGenerator:
    """An inference copy of G that carries the EMA's weights and recalibrated BatchNorm
    statistics; without an EMA, a copy of G itself. :meth:`sync` refreshes it."""

    def __init__(self, generator: keras.Model, ema: EMA | None, calibration_z: np.ndarray):
        self.source, self.ema, self.z = generator, ema, calibration_z
        self.model = keras.models.clone_model(generator)

    def sync(self) -> keras.Model:
        for copy, value in zip(self.model.variables, self.source.variables):
            copy.assign(value)
        if self.ema is not None:
            for copy, average in zip(self.model.trainable_variables, self.ema.weights):
                copy.assign(average)
            calibrate_batchnorm(self.model, self.z)
        return self.model


def calibrate_batchnorm(model: keras.Model, z: np.ndarray, chunk: int = 256) -> None:
    """Set each BatchNormalization's moving mean and variance of the Sequential ``model`` to
    the mean and (biased) variance of its inputs over the latents ``z``, in order, each layer
    seeing the previous ones already calibrated (inference mode throughout)."""
    layers = model.layers
    norms = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        return
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"{model.name}: BatchNorm recalibration needs a Sequential model")
    xs = [tf.constant(z[i:i + chunk]) for i in range(0, len(z), chunk)]
    for layer in layers:
        if layer in norms:
            ndim = len(xs[0].shape)
            axes = [i for i in range(ndim) if i != layer.axis % ndim]
            f32 = [tf.cast(x, tf.float32) for x in xs]
            count = sum(float(np.prod([x.shape[i] for i in axes])) for x in f32)
            mean = tf.add_n([tf.reduce_sum(x, axes) for x in f32]) / count
            var = tf.add_n([tf.reduce_sum(tf.square(x - mean), axes) for x in f32]) / count
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(var)
        xs = [layer(x, training=False) for x in xs]
