"""The evaluation classifiers' learning-rate schedule: one warm-up epoch, then cosine to zero."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ganflow.classifier import learning_rate


def rates(params, n_train):
    schedule = learning_rate(params, n_train)
    per_epoch = -(-n_train // params.batch_size)
    steps = np.arange(params.epochs * per_epoch + 1)
    return per_epoch, np.array([float(schedule(s)) for s in steps])


def test_warm_up_over_the_first_epoch_then_cosine_to_zero():
    params = SimpleNamespace(lr=0.002, epochs=5, batch_size=128)
    per_epoch, lr = rates(params, 1000)  # 8 steps an epoch (the last one short)
    assert per_epoch == 8
    np.testing.assert_allclose(lr[0], 0.0002, rtol=1e-6)
    np.testing.assert_allclose(lr[per_epoch], 0.002, rtol=1e-6)  # the peak: end of epoch 1
    assert np.all(np.diff(lr[:per_epoch + 1]) > 0) and np.all(np.diff(lr[per_epoch:]) < 0)
    assert lr[-1] < 1e-9  # nothing left at the last step
    mid = per_epoch + (len(lr) - 1 - per_epoch) // 2
    np.testing.assert_allclose(lr[mid], 0.001, rtol=1e-6)  # cosine: half the peak half-way


def test_a_single_epoch_decays_from_the_peak():
    params = SimpleNamespace(lr=0.001, epochs=1, batch_size=100)
    _, lr = rates(params, 1000)
    np.testing.assert_allclose(lr[0], 0.001, rtol=1e-6)
    assert lr[-1] < 1e-9
