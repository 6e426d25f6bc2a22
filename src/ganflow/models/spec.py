"""What every GAN module declares: :class:`GanSpec`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np


def scaled(units: int, width: float) -> int:
    """A hidden layer's channel or unit count at ``width`` (1 = the tutorial's), at least 1."""
    return max(1, round(units * width))


@dataclass(frozen=True)
class GanSpec:
    name: str
    kind: Literal["series", "points", "image"]
    latent_dim: int
    # build_generator(width=1.0), build_discriminator(width=1.0): the tutorial's networks, every
    # hidden layer's channels/units times ``width`` (pretrain.<gan>.width); 1 = the tutorial's.
    build_generator: Callable[..., object]
    build_discriminator: Callable[..., object]
    # D's head, a ganflow.heads.Head (imported by each GAN's module, so that the classifier's
    # stage, which imports this module, depends on no GAN code): Head(1), p(real); Head(2),
    # (p(fake), p(real)) on one-hot labels (sine's tutorial).
    head: "Head"  # noqa: F821
    # The range of the generator's output; real data are mapped into it by ``to_model``.
    data_range: tuple[float, float]
    # The tutorial's optimizer family; learning rates come from params.
    optimizer: Literal["adam", "rmsprop"]
    adam_beta_1: float = 0.9
    clipvalue: float | None = None
    # What evaluate measures (metrics in ganflow.metrics): the analytic metrics of the sine
    # curves or of the curve's points, or, for images, the metrics in the evaluation
    # classifier's space, plus digit-label metrics (MNIST) or the score of one target class
    # (name, index among the classifier's classes).
    quality: Literal["sine", "curve", "images"] = "images"
    digit_labels: bool = False
    target_class: tuple[str, int] | None = None
    # How training picks its best generator (lower is better): the sum over (figure, ideal,
    # unit) of |figure - ideal| / unit, on the in-training quality figures. Images: FCD.
    selection: tuple[tuple[str, float, float], ...] = (("fcd", 0.0, 1.0),)

    def selection_score(self, figures: dict) -> float:
        return float(sum(abs(figures[name] - ideal) / unit for name, ideal, unit in self.selection))

    def latents(self, n: int, seed: int) -> np.ndarray:
        """``n`` standard-normal latent vectors drawn with ``seed`` (float32, (n, latent_dim))."""
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)

    def to_model(self, x: np.ndarray) -> np.ndarray:
        """Stored data (uint8 images in [0, 255], float curves) → float32 in ``data_range``."""
        if self.kind != "image":
            return np.asarray(x, dtype=np.float32)
        lo, hi = self.data_range
        return (x.astype(np.float32) / 255.0 * (hi - lo) + lo).astype(np.float32)

    def to_data(self, x: np.ndarray) -> np.ndarray:
        """Model-range output → the stored data's dtype and range (the inverse of ``to_model``):
        uint8 images in [0, 255] (rounded), float32 curves as they are."""
        if self.kind != "image":
            return np.asarray(x, dtype=np.float32)
        return np.rint(self.to_unit(x) * 255.0).astype(np.uint8)

    def to_unit(self, x: np.ndarray) -> np.ndarray:
        """Model-range images → float32 in [0, 1] for display and metrics."""
        lo, hi = self.data_range
        return np.clip((np.asarray(x, dtype=np.float32) - lo) / (hi - lo), 0.0, 1.0)
