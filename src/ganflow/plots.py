"""Figures people look at: training curves, image grids, curve overlays (matplotlib, Agg).

Every function returns a ``matplotlib.figure.Figure``; :func:`save` writes it as PNG and closes
it. PNGs from the Agg backend carry no timestamp, so reruns give identical files.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ganflow.data.synth import SINE_X, curve_fn  # noqa: E402


def save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return path


def losses(history: pd.DataFrame, title: str) -> Figure:
    """D and G loss against step (``history`` has columns step, d_loss, g_loss)."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.plot(history["step"], history["d_loss"], label="D loss")
    ax.plot(history["step"], history["g_loss"], label="G loss")
    ax.set(title=title, xlabel="step", ylabel="binary cross-entropy")
    if (history[["d_loss", "g_loss"]] > 0).all().all():
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def accuracy(history: pd.DataFrame, title: str) -> Figure:
    """D accuracy on real and on fake samples against step."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.plot(history["step"], history["d_acc_real"], label="D accuracy, real")
    ax.plot(history["step"], history["d_acc_fake"], label="D accuracy, fake")
    ax.set(title=title, xlabel="step", ylabel="accuracy", ylim=(-0.02, 1.02))
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def image_grid(images: np.ndarray, title: str, ncols: int = 8) -> Figure:
    """A grid of images given in [0, 1], NHWC with 1 or 3 channels."""
    n = len(images)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols, nrows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img in zip(axes.flat, images):
        if img.shape[-1] == 1:
            ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(np.clip(img, 0, 1))
    fig.suptitle(title)
    fig.subplots_adjust(wspace=0.05, hspace=0.05, left=0.01, right=0.99, bottom=0.01)
    return fig


def label_histogram(generated: np.ndarray, real: np.ndarray, title: str) -> Figure:
    """Fraction of samples per predicted class, generated beside held-out real."""
    fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
    classes = np.arange(len(generated))
    ax.bar(classes - 0.2, generated, width=0.4, label="generated")
    ax.bar(classes + 0.2, real, width=0.4, color="0.6", label="held-out real")
    ax.axhline(1 / len(generated), color="k", lw=0.8, ls="--", label="uniform")
    ax.set(title=title, xlabel="predicted class", ylabel="fraction of samples", xticks=classes)
    ax.legend()
    return fig


def sine_overlay(generated: np.ndarray, real: np.ndarray | None, title: str, n: int = 8, ax=None) -> Figure:
    """Generated curves (solid) over real curves (faint, when given) at the 50 sample points."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained") if ax is None else (ax.figure, ax)
    for curve in (real if real is not None else [])[:n]:
        ax.plot(SINE_X, curve, color="0.75", lw=1)
    for curve in generated[:n]:
        ax.plot(SINE_X, curve, lw=1.5)
    if real is not None:
        ax.plot([], [], color="0.75", label="real")
        ax.plot([], [], color="C0", label="generated")
        ax.legend(loc="upper right")
    ax.set(title=title, xlabel="x", ylabel="y")
    return fig


def curve_scatter(generated: np.ndarray, real: np.ndarray | None, title: str, ax=None) -> Figure:
    """Generated points against real points (when given) and the true curve f(x)."""
    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained") if ax is None else (ax.figure, ax)
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=4, color="0.7", label="real")
    ax.scatter(generated[:, 0], generated[:, 1], s=4, color="C3", label="generated")
    x = np.linspace(-1, 1, 200)
    ax.plot(x, curve_fn(x), color="k", lw=1, label="f(x)")
    ax.set(title=title, xlabel="x", ylabel="y")
    ax.legend(loc="upper left")
    return fig


def tile(images: np.ndarray, ncols: int | None = None, pad: int = 2, scale: int | None = None) -> np.ndarray:
    """uint8 images (N, H, W, C) side by side, ``ncols`` a row (default: a square grid), ``pad``
    white pixels between them, each pixel repeated ``scale`` times (default: images ≥ 56 px):
    an (rows·H', cols·W', 3) uint8 picture, pixel for pixel."""
    n, h, w, c = images.shape
    ncols = ncols or math.ceil(math.sqrt(n))
    scale = scale or max(1, 56 // max(h, w))
    big = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)
    if c == 1:
        big = np.repeat(big, 3, axis=-1)
    nrows, (h, w) = math.ceil(n / ncols), big.shape[1:3]
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, 3), 255, np.uint8)
    for i, img in enumerate(big):
        r, col = divmod(i, ncols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + col * (w + pad):pad + col * (w + pad) + w] = img
    return out


def rgb(fig: Figure) -> np.ndarray:
    """The figure rendered (Agg) as an (H, W, 3) uint8 array; closes it."""
    fig.canvas.draw()
    out = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return out


# Axes of the curve pictures: the sine's 50 x positions and [0, 1] values; f(x) on [-1, 1]
# (|f| < 0.16 there), with room for samples off the data.
CURVE_LIMITS = {"series": ((-0.1, 5.0), (-0.1, 1.1)), "points": ((-1.15, 1.15), (-0.3, 0.3))}


def picture(kind: str, samples: np.ndarray, title: str = "") -> np.ndarray:
    """One sample set (data space) as a picture: a pixel grid of images, the curves overlaid,
    or the points over f(x) (fixed axes, so frames of an animation line up)."""
    if kind == "image":
        return tile(samples)
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    panel(kind, samples, ax, title)
    return rgb(fig)


def strip(kind: str, path: np.ndarray) -> np.ndarray:
    """An interpolation (steps, n, ...) as one picture: images one path a row, steps left to
    right; curves one panel a step."""
    steps = len(path)
    if kind == "image":
        return tile(np.swapaxes(path, 0, 1).reshape((-1,) + path.shape[2:]), ncols=steps)
    fig, axes = plt.subplots(1, steps, figsize=(1.6 * steps, 2.0), layout="constrained", squeeze=False)
    for k, ax in enumerate(axes[0]):
        panel(kind, path[k], ax, f"{k / (steps - 1):.2f}")
        ax.set(xlabel="", ylabel="", xticks=[], yticks=[])
        if ax.get_legend():
            ax.get_legend().remove()
    return rgb(fig)


def panel(kind: str, samples: np.ndarray, ax, title: str) -> None:
    if kind == "series":
        sine_overlay(samples, None, title, n=len(samples), ax=ax)
    else:
        curve_scatter(samples, None, title, ax=ax)
    xlim, ylim = CURVE_LIMITS[kind]
    ax.set(xlim=xlim, ylim=ylim)


def samples(kind: str, generated: np.ndarray, real: np.ndarray | None, title: str) -> Figure:
    """The right sample figure for a GAN's kind: image grid, sine overlay or curve scatter."""
    if kind == "image":
        return image_grid(generated, title)
    if kind == "series":
        return sine_overlay(generated, real, title)
    return curve_scatter(generated, real, title)


def evaluation_figures(spec, history: pd.DataFrame, arrays: dict) -> dict:
    """File name → figure for the evaluate stage's plots directory: training curves, samples and
    (MNIST) the predicted-label histogram (``arrays`` from ``ganflow.evaluation.evaluate``)."""
    generated, heldout = arrays["generated"], arrays["heldout"]
    shown = spec.to_unit(generated[:32]) if spec.kind == "image" else generated
    figs = {
        "losses.png": losses(history, f"{spec.name}: losses"),
        "accuracy.png": accuracy(history, f"{spec.name}: discriminator accuracy"),
        "samples.png": samples(spec.kind, shown, heldout, f"{spec.name}: generated samples"),
    }
    if spec.digit_labels and "label_hist" in arrays:
        figs["labels.png"] = label_histogram(
            arrays["label_hist"], arrays["label_hist_real"], f"{spec.name}: predicted digit classes"
        )
    return figs
