"""Checkpoints of adversarial training, for resuming a killed run bitwise-exactly.

A checkpoint directory holds ``state.npz`` (every variable of G, D and both optimizers: weights,
BatchNorm statistics, Dropout seed-generator states (which the train step does not use), optimizer
slots and iteration counts; G's EMA and the best generator so far when those are on), ``live/`` (a copy of the DVCLive directory as it was at that step) and
``meta.json`` (the step and a fingerprint of everything the run depends on). All other randomness
in a step is a stateless function of ``(seed, step)``, so restoring these and restarting the data
at ``step`` continues exactly as if the run had never stopped.

A run whose fingerprint differs (params, data or initial models changed) ignores and removes
the checkpoint. A completed run removes its state and leaves only ``meta.json`` saying so.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import keras
import numpy as np

from ganflow.cli import write_json
from ganflow.data.io import load_npz, save_npz, sha256_file


def fingerprint(**parts) -> str:
    """A hash of JSON-able ``parts`` (params, input file hashes, ...)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def file_digest(path: str | Path) -> str:
    """sha256 over the names and sha256s of a file, or of a directory's files in sorted order."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
        digest.update(sha256_file(f).encode())
    return digest.hexdigest()


def training_variables(gan, extra=()) -> list:
    """Every variable whose value a resumed run needs, in a fixed order: G, D, both optimizers,
    G's EMA (when on) and ``extra`` (the best generator kept so far, ganflow.training.monitor)."""
    return [
        *gan.generator.variables,
        *gan.discriminator.variables,
        *gan.d_optimizer.variables,
        *gan.g_optimizer.variables,
        *(gan.ema.weights if gan.ema is not None else ()),
        *extra,
    ]


class Checkpoint:
    def __init__(self, directory: str | Path, fingerprint: str):
        self.dir = Path(directory)
        self.fingerprint = fingerprint

    def _meta(self) -> dict:
        try:
            return json.loads((self.dir / "meta.json").read_text())
        except (OSError, ValueError):
            return {}

    def restore(self, gan, live_dir: str | Path, extra=()) -> int:
        """Restore the latest matching checkpoint into ``gan`` and ``live_dir``; return its step
        (0, with the checkpoint cleared, when there is none or it belongs to another run)."""
        meta = self._meta()
        if meta.get("fingerprint") != self.fingerprint or meta.get("complete", True):
            self.clear()
            return 0
        step = int(meta["step"])
        state = load_npz(self.dir / f"state-{step}.npz")
        variables = training_variables(gan, extra)
        if len(state) != len(variables):
            self.clear()
            return 0
        for i, var in enumerate(variables):
            var.assign(state[f"v{i:04d}"])
        shutil.rmtree(live_dir, ignore_errors=True)
        shutil.copytree(self.dir / f"live-{step}", live_dir)
        return step

    def save(self, gan, step: int, live_dir: str | Path, extra=()) -> None:
        """Write the state at ``step``: files named by step first, then ``meta.json`` (atomic
        rename) pointing at them, then older files removed. A kill at any instant leaves
        ``meta.json`` pointing at a complete checkpoint."""
        self.dir.mkdir(parents=True, exist_ok=True)
        arrays = {f"v{i:04d}": keras.ops.convert_to_numpy(v) for i, v in enumerate(training_variables(gan, extra))}
        save_npz(self.dir / f"state-{step}.npz", **arrays)
        shutil.rmtree(self.dir / f"live-{step}", ignore_errors=True)
        shutil.copytree(live_dir, self.dir / f"live-{step}")
        write_json(self.dir / "meta.json", {"step": step, "fingerprint": self.fingerprint, "complete": False})
        for old in self.dir.iterdir():
            if old.name.startswith(("state-", "live-")) and old.name.split("-")[1].split(".")[0] != str(step):
                shutil.rmtree(old) if old.is_dir() else old.unlink()

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def complete(self, step: int) -> None:
        """Drop the training state; leave only a marker that the run finished."""
        self.clear()
        write_json(self.dir / "meta.json", {"step": step, "complete": True})


class CheckpointWriter(keras.callbacks.Callback):
    """Checkpoint every ``every`` steps (at the end of a logged interval, after the loggers)."""

    def __init__(self, checkpoint: Checkpoint, live_dir: str | Path, every: int,
                 steps_per_epoch: int, total: int, extra=()):
        super().__init__()
        self.checkpoint, self.live_dir, self.extra = checkpoint, live_dir, list(extra)
        self.every, self.per_epoch, self.total = every, steps_per_epoch, total

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.per_epoch
        if step % self.every == 0 and step < self.total:
            self.checkpoint.save(self.model, step, self.live_dir, self.extra)
