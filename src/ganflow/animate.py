"""Pictures as files: PNG and animated GIF, written atomically, the same bytes for the same frames.

Frames are (H, W, 3) uint8 arrays (``ganflow.plots.picture``/``strip``/``rgb`` make them).
GIF frames get a per-frame adaptive palette without dithering (flat colours stay flat) and loop
forever; Pillow stamps no time into either format.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ganflow.errors import UserError


def write_png(frame: np.ndarray, path: str | Path) -> Path:
    return _atomic(path, lambda f: Image.fromarray(frame).save(f, format="PNG"))


def write_gif(frames: Sequence[np.ndarray], path: str | Path, ms: int = 150, hold_last_ms: int = 1500) -> Path:
    """An animated GIF of ``frames`` (equal sizes), ``ms`` per frame, the last shown longer."""
    if not frames:
        raise UserError(f"{path}: no frames to animate")
    if len({f.shape for f in frames}) > 1:
        raise UserError(f"{path}: frames differ in size ({sorted({f.shape for f in frames})})")
    images = [Image.fromarray(f).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
              for f in frames]
    durations = [ms] * (len(images) - 1) + [max(ms, hold_last_ms)]
    return _atomic(path, lambda f: images[0].save(f, format="GIF", save_all=True, append_images=images[1:],
                                                  duration=durations, loop=0, optimize=False))


def progress_gif(pngs: Sequence[Path], path: str | Path, max_frames: int = 60, ms: int = 150) -> Path:
    """The training-progress animation: the sample grids ``pngs`` (in step order) as one GIF, at
    most ``max_frames`` of them, evenly spaced, the first and the last always in."""
    if not pngs:
        raise UserError(f"{path}: no sample images to animate (train writes them every sample_every steps)")
    keep = sorted(set(np.linspace(0, len(pngs) - 1, min(max_frames, len(pngs))).round().astype(int)))
    frames = []
    for i in keep:
        try:
            with Image.open(pngs[i]) as img:
                frames.append(np.asarray(img.convert("RGB")))
        except OSError as exc:
            raise UserError(f"{pngs[i]}: cannot read image ({type(exc).__name__})") from None
    return write_gif(frames, path, ms=ms)


def training_progress(kind: str, name: str, samples: Sequence[Path], real: np.ndarray | None,
                      out_dir: Path, max_frames: int = 60) -> list[Path]:
    """Draw train's fixed-latent samples (``samples``: ``step_<step>.npz`` files, ``x`` in data
    space, in step order) as ``out_dir/step_<step>.png`` (``real``: curves drawn beside the
    generated ones), and ``out_dir/../progress.gif``; returns the PNGs."""
    from ganflow import plots
    from ganflow.data.io import load_npz

    pngs = []
    for path in samples:
        x = load_npz(path, {"x": (None, None)})["x"]
        shown = x.astype(np.float32) / 255.0 if kind == "image" else x
        step = int(path.stem.split("_")[-1])
        pngs.append(plots.save(plots.samples(kind, shown, real, f"{name}, step {step}"), out_dir / f"{path.stem}.png"))
    progress_gif(pngs, out_dir.parent / "progress.gif", max_frames=max_frames)
    return pngs


def _atomic(path: str | Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
