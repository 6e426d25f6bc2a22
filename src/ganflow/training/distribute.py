"""What the train step needs to run under any ``tf.distribute`` strategy and loss scaling.

``batch_size`` is the global batch: under a strategy with R replicas each replica gets its
slice of the global batch, draws the *global* batch's latents and label noise and keeps its
own slice (so R replicas see exactly the samples one device would), and divides its losses by
R before differentiating, because the optimizers sum gradients across replicas. With one
replica all of this is the identity.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def replica() -> tuple[tf.Tensor, int]:
    """(this replica's index, number of replicas) of the current distribution strategy."""
    ctx = tf.distribute.get_replica_context()
    return ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync


def replica_slice(draw, batch: tf.Tensor, rest) -> tf.Tensor:
    """This replica's ``batch`` rows of a draw for the global batch: ``draw(shape)`` with shape
    ``[batch × replicas, *rest]``, sliced to this replica's rows."""
    index, n = replica()
    values = draw(tf.concat([[batch * n], tf.cast(rest, tf.int32)], axis=0))
    return values if n == 1 else values[index * batch:(index + 1) * batch]


def scaled(loss: tf.Tensor, optimizer) -> tf.Tensor:
    """What to differentiate (inside the tape): this replica's share of ``loss``, times the
    loss scale of a mixed_float16 loss-scale optimizer (which unscales the gradients)."""
    _, n = replica()
    share = loss / n if n > 1 else loss
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        share = optimizer.scale_loss(share)
    return share


def all_finite(loss: tf.Tensor, grads: list, optimizer) -> tf.Tensor:
    """Whether the loss and every gradient entry are finite (NaN/Inf anywhere makes the norm
    so). A loss-scale optimizer skips steps whose scaled gradients overflow and lowers its
    scale: there only the loss counts."""
    finite = tf.math.is_finite(loss)
    if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        finite &= tf.math.is_finite(tf.linalg.global_norm(grads))
    return finite
