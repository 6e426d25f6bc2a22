"""Saving and loading Keras models: atomic, byte-reproducible writes; safe loads; one-line errors.

A ``.keras`` file is a zip of ``metadata.json`` (with the save time), ``config.json`` (whose
``shared_object_id`` values are Python ``id()``s) and ``model.weights.h5``. :func:`save_model`
rewrites it with fixed zip timestamps, a fixed ``date_saved`` and shared-object ids renumbered
in order of appearance, so equal models give an identical file and an identical DVC hash.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras

from ganflow.errors import UserError
from ganflow.models import layers as _layers  # noqa: F401  (registers ganflow's layers for loading)


def save_model(model: keras.Model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (.keras) via a temp file, so a failure keeps the old file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".keras", dir=path.parent)
    os.close(fd)
    try:
        model.save(tmp)
        _normalize(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


_EPOCH = (1980, 1, 1, 0, 0, 0)


def _normalize(path: str) -> None:
    """Rewrite the .keras zip at ``path`` without save-time information."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in entries:
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta["date_saved"] = "1980-01-01@00:00:00"  # not the save time: reproducible files
                data = json.dumps(meta).encode()
            elif info.filename == "config.json":
                data = json.dumps(_renumber_shared_ids(json.loads(data), {})).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
            fixed.compress_type = info.compress_type
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)


def _renumber_shared_ids(node, ids: dict):
    """Replace each distinct ``shared_object_id`` (a memory address) by 1, 2, ... in order."""
    if isinstance(node, dict):
        return {
            key: ids.setdefault(value, len(ids) + 1) if key == "shared_object_id"
            else _renumber_shared_ids(value, ids)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_renumber_shared_ids(item, ids) for item in node]
    return node


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
