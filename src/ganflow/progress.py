"""Progress for long stages: a tqdm bar on a terminal, plain periodic lines otherwise (CI logs)."""

from __future__ import annotations

import sys
import time

import keras
from tqdm import tqdm


class Progress(keras.callbacks.Callback):
    """Shows steps, steps/s, ETA and the latest losses after every logged interval.

    ``steps_per_epoch`` is the number of steps ``fit`` runs per epoch (one logged interval).
    Off a terminal, prints one line at most every ``line_every_s`` seconds, and the last one.
    """

    def __init__(self, label: str, total: int, start: int, steps_per_epoch: int,
                 line_every_s: float = 10.0, stream=None, unit: str = "step"):
        super().__init__()
        self.unit = unit
        self.label, self.total, self.start, self.per_epoch = label, total, start, steps_per_epoch
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.line_every_s = line_every_s
        self.bar = None

    def on_train_begin(self, logs=None):
        self.t0 = self.t_last = time.perf_counter()
        if self.tty:
            self.bar = tqdm(total=self.total, initial=self.start, desc=self.label,
                            unit=self.unit, file=self.stream, dynamic_ncols=True)

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.per_epoch
        shown = {k: f"{float(v):.4g}" for k, v in (logs or {}).items() if k != "nonfinite"}
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix(shown, refresh=False)
            return
        now = time.perf_counter()
        if now - self.t_last < self.line_every_s and step < self.total:
            return
        self.t_last = now
        rate = (step - self.start) / max(now - self.t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        losses = " ".join(f"{k}={v}" for k, v in shown.items())
        print(f"{self.label}: {self.unit} {step}/{self.total} ({100 * step / self.total:.0f}%) "
              f"{rate:.2f} {self.unit}s/s ETA {eta:.0f}s {losses}", file=self.stream, flush=True)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
