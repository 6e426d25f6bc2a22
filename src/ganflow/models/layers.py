"""Layers the architectures share: a Dropout whose mask is cheaper to draw.

``Dropout`` is ``keras.layers.Dropout`` (same rate, seeding and inference behaviour) with the
training mask drawn as small random integers cut from 32-bit draws of TensorFlow's stateless
Philox RNG, instead of one float32 uniform draw per element (Philox is most of Keras's dropout
cost on CPU): four 8-bit values per draw when ``rate`` is a multiple of 1/256 (exact: 0.25, 0.5),
else two 16-bit values, with ``rate`` rounded to a multiple of 1/65536 (0.4 becomes 0.399994,
0.2 becomes 0.199997). A unit is kept when its value is below ``keep = (1 - rate)·levels`` and
scaled by ``levels / keep``, so the layer's expectation is exactly the identity, as in Keras.
The output is ``inputs × multiplier`` with the multiplier (0 or the scale) made once, so the
backward pass is one multiplication by the same tensor. On the
``sine`` discriminator (69M dropout units per step at batch 10,000) the step goes from 471 to
325 ms on 2 CPU cores (README "Run times").

Where the mask's seed comes from: inside ``with dropout_seed(key)`` (the train step wraps each
D call in one), from that stateless RNG key, folded with the Dropout's position among the
calls in the block; elsewhere (a model used on its own), from the layer's Keras seed
generator, as in Keras. Why the train step needs the key: that generator is a variable, read and
incremented at each D call, and with it ``cifar_ship`` trained to one of two models from
identical inputs on one machine (Keras's multi-step ``fit`` loop, TensorFlow's inter-op threads
running; a constant seed, no Dropout, or ``TF_NUM_INTEROP_THREADS=1`` each made every run
identical: README "Reproducibility"). With the key, a step's masks are a stateless function of
``(seed, step)`` like every other draw in it, whatever order TensorFlow runs its ops in.
"""

from __future__ import annotations

import contextlib
import threading

import keras
import tensorflow as tf

_SEEDS = threading.local()  # per thread: a MirroredStrategy traces each replica on its own


@contextlib.contextmanager
def dropout_seed(key: tf.Tensor):
    """Within the block, each :class:`Dropout` call draws its mask from stateless RNG ``key``
    (shape [2], int32 or int64) folded with the call's position in the block (0, 1, ...)."""
    previous = getattr(_SEEDS, "state", None)
    _SEEDS.state = [key, 0]
    try:
        yield
    finally:
        _SEEDS.state = previous


def _mask_seed(layer: keras.layers.Layer) -> tf.Tensor:
    state = getattr(_SEEDS, "state", None)
    if state is None:
        return tf.cast(layer.seed_generator.next(), tf.int32)
    key, position = state
    state[1] += 1
    return tf.random.experimental.stateless_fold_in(tf.cast(key, tf.int64), position)


@keras.saving.register_keras_serializable(package="ganflow")
class Dropout(keras.layers.Dropout):
    def call(self, inputs, training=False):
        if not training or self.rate == 0 or self.noise_shape is not None:
            return super().call(inputs, training=training)
        exact_bytes = float(self.rate * 256).is_integer()
        dtype, per_draw, levels = (tf.uint8, 4, 256) if exact_bytes else (tf.uint16, 2, 65536)
        keep = round((1.0 - self.rate) * levels)
        seed = _mask_seed(self)
        # 32-bit draws for 1/per_draw of the last axis, each cut into per_draw values.
        shape = tf.shape(inputs)
        last = shape[-1]
        draws = tf.concat([shape[:-1], [(last + per_draw - 1) // per_draw]], axis=0)
        bits = tf.random.stateless_uniform(draws, seed, minval=None, maxval=None, dtype=tf.uint32)
        bits = tf.reshape(tf.bitcast(bits, dtype), tf.concat([shape[:-1], [-1]], axis=0))
        if inputs.shape[-1] is None or inputs.shape[-1] % per_draw:
            bits = bits[..., :last]
        mask = bits < tf.constant(keep, dtype) if keep < levels else tf.ones_like(bits, tf.bool)
        scale = tf.constant(levels / keep, inputs.dtype)
        return inputs * (tf.cast(mask, inputs.dtype) * scale)
