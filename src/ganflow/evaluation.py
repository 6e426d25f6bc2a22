"""Evaluating a trained GAN: discriminator accuracy, quality metrics beside their real-data
floor (the figures are ganflow.plots').

The *floor* of a quality metric is its value for held-out real data in place of generated
samples: what a perfect generator would score with the same number of samples.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
from scipy.stats import linregress

from ganflow.errors import UserError
from ganflow.metrics import curves, images
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


def divergence(history: pd.DataFrame, tail: float = 0.25) -> dict[str, float]:
    """Symptoms of a failed run over the last ``tail`` of training: the fraction of logged
    intervals where D is (near) perfect on both real and fake, and the slope of G's loss per
    1,000 steps. ``diverged`` is 1 when D is saturated in ≥ 90% of them while G's loss rises."""
    last = history.tail(max(int(len(history) * tail), 2))
    saturated = float(np.mean((last["d_acc_real"] >= 0.99) & (last["d_acc_fake"] >= 0.99)))
    slope = float(linregress(last["step"], last["g_loss"]).slope * 1000) if len(last) > 2 else 0.0
    return {"d_saturated_frac": saturated, "g_loss_slope_per_1k": slope,
            "diverged": int(saturated >= 0.9 and slope > 0)}


def sample(spec: GanSpec, generator: keras.Model, n: int, seed: int) -> np.ndarray:
    """``n`` generator samples (model range) from latents drawn with ``seed``."""
    return generator.predict(spec.latents(n, seed), batch_size=256, verbose=0)


CURVE_QUALITY = {"sine": curves.sine_metrics, "curve": curves.curve_metrics}


def curve_quality(spec: GanSpec, samples: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """The 1-D quality metrics (``spec.quality``) of ``samples`` against real ``reference`` data."""
    return CURVE_QUALITY[spec.quality](samples, reference)


def image_quality(spec: GanSpec, feats_ref: np.ndarray, feats: np.ndarray, probs: np.ndarray,
                  seed: int) -> dict[str, float]:
    """Image metrics of one sample set (features, probabilities) against the reference
    features, all from the evaluation classifier."""
    out: dict[str, float] = {"fcd": images.frechet_distance(feats_ref, feats)}
    kid = images.kid(feats_ref, feats, subset_size=1000, seed=seed)
    out.update(kid_mean=kid["mean"], kid_std=kid["std"])
    score = images.classifier_score(probs)
    out.update(classifier_score=score["mean"], classifier_score_std=score["std"])
    out.update(images.prdc(feats_ref, feats, k=5))
    out.update(class_figures(spec, probs))
    return out


def class_figures(spec: GanSpec, probs: np.ndarray) -> dict[str, float]:
    """What the classifier's labels say: digit modes and label KL (MNIST), the target class's
    mean probability and share (cifar_ship: ship_score, ship_frac)."""
    out: dict[str, float] = {}
    if spec.digit_labels:
        out["modes_covered"] = images.modes_covered(probs, min_frac=0.02)
        out["label_kl"] = images.label_kl_to_uniform(probs)
    if spec.target_class is not None:
        label, index = spec.target_class
        target = images.class_score(probs, index)
        out.update({f"{label}_score": target["mean_p"], f"{label}_frac": target["frac"]})
    return out


class TrainingQuality:
    """The cheap in-training version of evaluate's quality figures: ``n`` generated samples
    against a fixed subset of ``n`` training samples (``x``, model range). Image GANs: FCD, KID,
    classifier score and the digit or target-class figures, through the evaluation
    ``classifier``; curves: their analytic metrics. :attr:`floor` holds the same figures for
    another ``n`` training samples in place of generated ones (real against real)."""

    def __init__(self, spec: GanSpec, x: np.ndarray, n: int, seed: int, classifier: keras.Model | None = None):
        if spec.quality == "images" and classifier is None:
            raise UserError(f"{spec.name}: in-training quality needs the evaluation classifier")
        self.spec, self.n, self.seed = spec, min(n, len(x) // 2), seed
        order = np.random.default_rng(seed).permutation(len(x))
        self.reference, other = x[order[:self.n]], x[order[self.n:2 * self.n]]
        if spec.quality == "images":
            from ganflow.classifier import feature_model

            self._extract = feature_model(classifier)
            self.f_ref, _ = self._embed(self.reference)
        self.figure = spec.selection[0][0] if len(spec.selection) == 1 else "selection score"
        self.floor = self(other)

    def __call__(self, samples: np.ndarray) -> dict[str, float]:
        samples = samples[:self.n]
        if self.spec.quality != "images":
            return curve_quality(self.spec, samples, self.reference)
        feats, probs = self._embed(samples)
        out = {"fcd": images.frechet_distance(self.f_ref, feats)}
        out["kid"] = images.kid(self.f_ref, feats, subset_size=min(1000, self.n), seed=self.seed)["mean"]
        out["classifier_score"] = images.classifier_score(probs)["mean"]
        out.update(class_figures(self.spec, probs))
        return {k: float(v) for k, v in out.items()}

    def score(self, figures: dict) -> float:
        return self.spec.selection_score(figures)

    def _embed(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from ganflow.classifier import embed

        return embed(self._extract, self.spec.to_unit(x))


def evaluate(spec: GanSpec, params, generator: keras.Model, discriminator: keras.Model,
             train_x: np.ndarray, test_x: np.ndarray, history: pd.DataFrame,
             classifier: keras.Model | None = None) -> tuple[dict, dict]:
    """Metrics of a trained GAN; ``train_x``/``test_x`` are real data in the model's range.

    Quality metrics compare ``n`` = min(n_samples, held-out size) generated samples with ``n``
    training samples (the reference); the floor compares ``n`` held-out real samples with the
    same reference. Returns (metrics, arrays for the figures).
    """
    generated = sample(spec, generator, params.n_samples, params.seed)
    acc_real, acc_fake = spec.head.accuracy(discriminator, test_x, generated)
    metrics: dict = {
        "n_samples": params.n_samples,
        "d_acc_real_heldout": acc_real,
        "d_acc_fake": acc_fake,
        "training": divergence(history),
    }
    n = min(params.n_samples, len(test_x))
    rng = np.random.default_rng(params.seed)
    reference = train_x[rng.permutation(len(train_x))[:n]]
    heldout = test_x[rng.permutation(len(test_x))[:n]]
    arrays = {"generated": generated, "heldout": heldout}
    if spec.quality != "images":
        metrics["quality"] = curve_quality(spec, generated[:n], reference)
        metrics["floor"] = curve_quality(spec, heldout, reference)
    elif classifier is not None:
        from ganflow.classifier import embed, feature_model

        extract = feature_model(classifier)
        f_ref, _ = embed(extract, spec.to_unit(reference))
        f_gen, p_gen = embed(extract, spec.to_unit(generated[:n]))
        f_real, p_real_ = embed(extract, spec.to_unit(heldout))
        metrics["n_compared"] = n
        metrics["quality"] = image_quality(spec, f_ref, f_gen, p_gen, params.seed)
        metrics["floor"] = image_quality(spec, f_ref, f_real, p_real_, params.seed)
        arrays["label_hist"] = images.label_histogram(p_gen)
        arrays["label_hist_real"] = images.label_histogram(p_real_)
    return metrics, arrays
