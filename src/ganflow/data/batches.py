"""The training input pipeline: real batches as a pure function of (seed, step)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def real_batches(x: np.ndarray, batch_size: int, seed: int, start: int, stop: int) -> tf.data.Dataset:
    """``(steps, batch)`` for steps ``start..stop-1``; batch indices drawn with replacement
    from a stateless RNG keyed by ``(seed, step)``, so any step's batch can be recomputed (and
    a resumed run sees the batches an uninterrupted one would).

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
