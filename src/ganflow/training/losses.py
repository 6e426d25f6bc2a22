"""The adversarial losses, on D's logits (see :mod:`ganflow.heads`).

Two families, chosen by ``train.<gan>.loss``:

* ``nonsaturating`` (the tutorials'): binary cross-entropy. D's targets are each sample's
  p(real) (1 for real, 0 for fake, moved inward by label smoothing and noise); G's target is 1
  for its own samples.
* ``hinge`` (SAGAN, BigGAN): on D's real-score ``s`` (:meth:`Head.real_logit`), D minimises
  relu(1 - s) on reals and relu(1 + s) on fakes, averaged over the batch of both like the
  cross-entropy; G minimises -mean(s) over its samples. Targets are exactly 1 / 0 here
  (params reject label smoothing or noise with hinge).
"""

from __future__ import annotations

from typing import Literal

import tensorflow as tf

from ganflow.heads import Head

Loss = Literal["nonsaturating", "hinge"]


def cross_entropy(head: Head, targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean binary cross-entropy of D's sigmoid units against ``targets`` (shape (N,)): for
    two units, the mean of BCE(1 - t) on the "fake" unit and BCE(t) on the "real" one."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=head.labels(targets), logits=logits))


def discriminator_loss(kind: Loss, head: Head, targets: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    if kind == "hinge":
        sign = 2.0 * targets - 1.0  # +1 real, -1 fake
        return tf.reduce_mean(tf.nn.relu(1.0 - sign * head.real_logit(logits)))
    return cross_entropy(head, targets, logits)


def generator_loss(kind: Loss, head: Head, logits: tf.Tensor) -> tf.Tensor:
    """G wants D to call its samples real."""
    if kind == "hinge":
        return -tf.reduce_mean(head.real_logit(logits))
    return cross_entropy(head, tf.ones([tf.shape(logits)[0]]), logits)
