"""Evaluation helpers: divergence flags from the training history, NaN stops training."""

import numpy as np
import pandas as pd
import pytest

from ganflow.evaluation import divergence
from ganflow.training.loop import LiveLogger, TrainingDiverged


def history(d_acc, g_loss):
    n = len(g_loss)
    return pd.DataFrame({"step": np.arange(1, n + 1) * 100, "d_loss": 0.1, "g_loss": g_loss,
                         "d_acc_real": d_acc, "d_acc_fake": d_acc})


def test_divergence_is_flagged_when_d_is_perfect_and_g_loss_rises():
    failed = divergence(history(np.ones(40), np.linspace(2, 8, 40)))
    assert failed["diverged"] == 1 and failed["d_saturated_frac"] == 1.0
    assert failed["g_loss_slope_per_1k"] > 0


def test_healthy_training_is_not_flagged():
    rng = np.random.default_rng(0)
    healthy = divergence(history(0.6 + 0.1 * rng.random(40), 1 + 0.05 * rng.standard_normal(40)))
    assert healthy["diverged"] == 0 and healthy["d_saturated_frac"] == 0.0
    # D perfect but G improving: not divergence
    recovering = divergence(history(np.ones(40), np.linspace(8, 2, 40)))
    assert recovering["diverged"] == 0


class _Live:
    step = 0

    def log_metric(self, *_):
        pass

    def next_step(self):
        pass


def test_non_finite_loss_stops_training_naming_gan_and_step():
    logger = LiveLogger(_Live(), "cifar_ship", steps_per_epoch=50)
    logger.on_epoch_end(0, {"d_loss": 0.5, "g_loss": 1.0})
    with pytest.raises(TrainingDiverged, match=r"cifar_ship: non-finite g_loss at step 100"):
        logger.on_epoch_end(1, {"d_loss": 0.5, "g_loss": float("nan")})


def test_nonfinite_flag_stops_training_naming_the_steps():
    logger = LiveLogger(_Live(), "mnist_mlp", steps_per_epoch=25)
    with pytest.raises(TrainingDiverged, match=r"mnist_mlp: non-finite values \(NaN/Inf\) in steps 26-50"):
        logger.on_epoch_end(1, {"d_loss": 0.5, "g_loss": 1.0, "nonfinite": 0.04})
