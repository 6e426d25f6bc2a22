"""Quality during training: every ``eval_every`` steps, the (averaged) generator's quality on a
fixed set of latents, logged to DVCLive as ``quality/<figure>``; the best generator so far kept.

The figure that picks the best generator is the GAN's selection score
(:meth:`ganflow.evaluation.TrainingQuality.score`, lower is better): FCD for the image GANs
(the headline of their targets; at a fixed sample count its bias is the same at every
evaluation, so it ranks generators consistently), and for the curves the sum of their target
figures' distances from ideal, each in units of its target. With ``patience``, training stops
after that many evaluations without a new best.

:class:`BestGenerator` holds the best weights and its bookkeeping in variables, so a checkpoint
saves and restores them with the rest of the training state.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from ganflow.training.ema import AveragedGenerator


class BestGenerator:
    """The best generator's weights (every variable of the model it copies), its score, the
    step it was seen at and the number of evaluations since."""

    def __init__(self, model: keras.Model):
        self.weights = [keras.Variable(keras.ops.convert_to_tensor(v), trainable=False, name=f"best_{i}")
                        for i, v in enumerate(model.variables)]
        self.score = keras.Variable(np.float32(np.inf), trainable=False, name="best_score")
        self.step = keras.Variable(np.int64(-1), trainable=False, name="best_step")
        self.since = keras.Variable(np.int64(0), trainable=False, name="evals_since_best")

    @property
    def variables(self) -> list:
        return [*self.weights, self.score, self.step, self.since]

    def offer(self, model: keras.Model, score: float, step: int) -> bool:
        """Keep ``model``'s weights if ``score`` beats the best so far; return whether it did."""
        if not math.isfinite(score) or score >= float(self.score.numpy()):
            self.since.assign(self.since + 1)
            return False
        for kept, value in zip(self.weights, model.variables):
            kept.assign(value)
        self.score.assign(np.float32(score))
        self.step.assign(np.int64(step))
        self.since.assign(np.int64(0))
        return True

    def load_into(self, model: keras.Model) -> keras.Model:
        for variable, kept in zip(model.variables, self.weights):
            variable.assign(kept)
        return model


class QualityMonitor(keras.callbacks.Callback):
    """Evaluates the averaged generator every ``every`` steps and at the last step (runs
    before the logger's ``next_step``, so its figures share the step's row of the logs)."""

    def __init__(self, live, averaged: AveragedGenerator, quality, best: BestGenerator,
                 sample, every: int, steps_per_epoch: int, total: int, patience: int = 0,
                 budget_s: float | None = None):
        super().__init__()
        self.live, self.averaged, self.quality, self.best, self.sample = live, averaged, quality, best, sample
        self.every, self.per_epoch, self.total, self.patience = every, steps_per_epoch, total, patience
        # benchmarks: evaluate every budget_s / 20 seconds of training (from the first interval
        # on), and stop at the first evaluation past budget_s
        self.budget_s = budget_s
        self.seconds = 0.0  # wall time spent evaluating (the overhead the README reports)
        self.history: list[dict] = []  # per evaluation: step, training seconds so far, figures

    def on_train_begin(self, logs=None):
        self.t0 = time.perf_counter()

    def _trained_s(self) -> float:
        return time.perf_counter() - self.t0 - self.seconds

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.per_epoch
        if self.budget_s is not None:  # benchmarks: evaluate on a grid of training time
            if self._trained_s() < len(self.history) * self.budget_s / 20:
                return
        elif step % self.every and step != self.total:
            return
        values = [float(v) for v in (logs or {}).values()]
        if not all(map(math.isfinite, values)) or (logs or {}).get("nonfinite", 0) > 0:
            return  # the logger stops the run and names the culprit
        t0 = time.perf_counter()
        model = self.averaged.sync()
        figures = self.quality(self.sample(model))
        score = self.quality.score(figures)
        self.best.offer(model, score, step)
        self.live.step = step
        for name, value in {**figures, "score": score}.items():
            self.live.log_metric(f"quality/{name}", value)
        self.live.summary["quality_best"] = {"score": float(self.best.score.numpy()),
                                             "step": int(self.best.step.numpy())}
        self.seconds += time.perf_counter() - t0
        trained_s = self._trained_s()
        self.history.append({"step": step, "train_s": trained_s, "score": score, **figures})
        if self.budget_s is not None and trained_s >= self.budget_s:
            self.model.stop_training = True
        if self.patience and int(self.best.since.numpy()) >= self.patience:
            print(f"early stop at step {step}: no better {self.quality.figure} in {self.patience} evaluations")
            self.model.stop_training = True
