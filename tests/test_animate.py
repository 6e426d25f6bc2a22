"""Pictures as files (ganflow.animate): the training-progress GIF and its frames."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganflow import animate
from ganflow.errors import UserError


def frames_as_pngs(tmp_path, n: int) -> list:
    """n PNGs, frame k a flat grey of level 2k (so each frame is identifiable after the palette)."""
    paths = []
    for k in range(n):
        paths.append(animate.write_png(np.full((20, 30, 3), 2 * k, np.uint8), tmp_path / f"step_{k:07d}.png"))
    return paths


def levels(gif_path) -> list[int]:
    out = []
    with Image.open(gif_path) as gif:
        for i in range(gif.n_frames):
            gif.seek(i)
            out.append(int(np.asarray(gif.convert("RGB"))[0, 0, 0]))
    return out


def test_progress_gif_keeps_order_first_and_last_and_at_most_max_frames(tmp_path):
    pngs = frames_as_pngs(tmp_path, 25)
    animate.progress_gif(pngs, tmp_path / "all.gif", max_frames=60)
    assert levels(tmp_path / "all.gif") == [2 * k for k in range(25)]
    animate.progress_gif(pngs, tmp_path / "some.gif", max_frames=7)
    shown = levels(tmp_path / "some.gif")
    assert len(shown) == 7 and shown[0] == 0 and shown[-1] == 48 and shown == sorted(set(shown))
    with Image.open(tmp_path / "some.gif") as gif:
        assert gif.size == (30, 20) and gif.info["loop"] == 0


def test_the_same_frames_give_the_same_bytes(tmp_path):
    pngs = frames_as_pngs(tmp_path, 5)
    a = animate.progress_gif(pngs, tmp_path / "a.gif").read_bytes()
    assert a == animate.progress_gif(pngs, tmp_path / "b.gif").read_bytes()


def test_bad_frames_are_refused_naming_the_file_and_keep_the_old_gif(tmp_path):
    old = animate.progress_gif(frames_as_pngs(tmp_path, 3), tmp_path / "p.gif").read_bytes()
    with pytest.raises(UserError, match="no sample images"):
        animate.progress_gif([], tmp_path / "p.gif")
    broken = tmp_path / "step_0000009.png"
    broken.write_bytes(b"\x89PNG but cut short")
    with pytest.raises(UserError, match="step_0000009.png"):
        animate.progress_gif([broken], tmp_path / "p.gif")
    with pytest.raises(UserError, match="differ in size"):
        animate.write_gif([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], tmp_path / "p.gif")
    assert (tmp_path / "p.gif").read_bytes() == old
