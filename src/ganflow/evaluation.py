"""Evaluating a trained GAN: discriminator accuracy, quality metrics beside their real-data
floor, and the figures (training curves, samples).

The *floor* of a quality metric is its value for held-out real data in place of generated
samples: what a perfect generator would score with the same number of samples.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd

from ganflow import plots
from ganflow.errors import UserError
from ganflow.metrics import curves
from ganflow.models import GanSpec

HISTORY_COLUMNS = ("d_loss", "g_loss", "d_acc_real", "d_acc_fake")


def load_history(live_dir: str | Path) -> pd.DataFrame:
    """The training curves DVCLive wrote in ``live_dir``, one row per logged step."""
    frames = []
    for name in HISTORY_COLUMNS:
        path = Path(live_dir) / "plots" / "metrics" / f"{name}.tsv"
        try:
            frames.append(pd.read_csv(path, sep="\t", usecols=["step", name]).set_index("step"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: cannot read training history ({type(exc).__name__})") from None
    return pd.concat(frames, axis=1).reset_index()


def sample(spec: GanSpec, generator: keras.Model, n: int, seed: int) -> np.ndarray:
    """``n`` generator samples (model range) from latents drawn with ``seed``."""
    z = np.random.default_rng(seed).standard_normal((n, spec.latent_dim)).astype(np.float32)
    return generator.predict(z, batch_size=256, verbose=0)


def p_real(discriminator: keras.Model, x: np.ndarray) -> np.ndarray:
    return discriminator.predict(x, batch_size=256, verbose=0)[:, -1]


def quality(spec: GanSpec, samples: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """The quality metrics of ``samples`` against real ``reference`` data (curve GANs only,
    for now; the image metrics come with the classifier stage)."""
    if spec.name == "sine":
        return curves.sine_metrics(samples, reference)
    if spec.name == "curve":
        return curves.curve_metrics(samples, reference)
    return {}


def evaluate(spec: GanSpec, params, generator: keras.Model, discriminator: keras.Model,
             train_x: np.ndarray, test_x: np.ndarray) -> tuple[dict, np.ndarray]:
    """Metrics of a trained GAN; ``train_x``/``test_x`` are real data in the model's range.

    Returns (metrics, generated samples in the model's range).
    """
    generated = sample(spec, generator, params.n_samples, params.seed)
    metrics: dict = {
        "n_samples": params.n_samples,
        "d_acc_real_heldout": float(np.mean(p_real(discriminator, test_x) > 0.5)),
        "d_acc_fake": float(np.mean(p_real(discriminator, generated) <= 0.5)),
    }
    # The floor uses held-out real data against the training data, the same sizes as above.
    reference = train_x[np.random.default_rng(params.seed).permutation(len(train_x))[: len(test_x)]]
    q = quality(spec, generated, test_x)
    if q:
        metrics["quality"] = q
        metrics["floor"] = quality(spec, test_x[: params.n_samples], reference)
    return metrics, generated


def figures(spec: GanSpec, history: pd.DataFrame, generated: np.ndarray, test_x: np.ndarray) -> dict:
    """File name → figure for the evaluate stage's plots directory."""
    shown = spec.to_unit(generated[:32]) if spec.kind == "image" else generated
    return {
        "losses.png": plots.losses(history, f"{spec.name}: losses"),
        "accuracy.png": plots.accuracy(history, f"{spec.name}: discriminator accuracy"),
        "samples.png": plots.samples(spec.kind, shown, test_x, f"{spec.name}: generated samples"),
    }
