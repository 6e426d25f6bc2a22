"""The adversarial losses, on D's logits (see :mod:`ganflow.heads`).

Today one family: the non-saturating cross-entropy of the tutorials. D's targets are each
sample's p(real) (1 for real, 0 for fake, moved inward by label smoothing and noise); G's
target is 1 for its own samples.
"""

from __future__ import annotations

import tensorflow as tf

from ganflow.heads import Head


def cross_entropy(head: Head, targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean binary cross-entropy of D's sigmoid units against ``targets`` (shape (N,)): for
    two units, the mean of BCE(1 - t) on the "fake" unit and BCE(t) on the "real" one."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=head.labels(targets), logits=logits))


def discriminator_loss(head: Head, targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    return cross_entropy(head, targets, logits)


def generator_loss(head: Head, logits: tf.Tensor) -> tf.Tensor:
    """G wants D to call its samples real."""
    return cross_entropy(head, tf.ones([tf.shape(logits)[0]]), logits)
