"""Saving and loading Keras models: atomic writes, safe loads, one-line errors."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import keras

from ganflow.errors import UserError


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (.keras) via a temp file, so a failure keeps the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".keras", dir=path.parent)
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_model(path: str | Path) -> keras.Model:
    """Load a ``.keras`` model with ``safe_mode=True`` (no arbitrary code from the file)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: model file not found")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises many types for a corrupt archive
        reason = " ".join(str(exc).split())[:160]
        raise UserError(f"{path}: cannot load model ({type(exc).__name__}: {reason})") from None
