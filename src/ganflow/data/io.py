"""Deterministic ``.npz`` files: byte-for-byte reproducible saving, checked loading, sha256.

``numpy.savez`` stamps the current time into each zip entry, so the same arrays saved twice give
different bytes and DVC sees a changed output. :func:`save_npz` fixes every zip field that could
vary, and writes atomically. :func:`load_npz` turns every way a file can be wrong into a one-line
:class:`~ganflow.errors.UserError` that names the file (and the array).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ganflow.errors import UserError

StrPath = str | os.PathLike[str]
# Per array: (shape, dtype). In a shape, None means "any size"; a shape or dtype of None means any.
Required = Mapping[str, tuple[tuple[int | None, ...] | None, str | None]]

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
_ZIP_ATTR = (0o100644 << 16)  # regular file, rw-r--r--
_FILE_MODE = 0o644
_CHUNK = 1 << 20

# What np.load / zipfile / zlib raise on a damaged or foreign file.
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def save_npz(path: StrPath, **arrays: np.ndarray) -> Path:
    """Save ``arrays`` as ``<name>.npy`` entries of a deterministic, deflated ``.npz`` at ``path``.

    The file is written to a temporary file beside ``path`` and then renamed over it, so a failure
    never leaves a partial file and never clobbers the previous one. Object arrays are refused.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name in sorted(arrays):
                    array = np.asarray(arrays[name], order="C")  # keeps 0-d arrays 0-d
                    if array.dtype.hasobject:
                        raise UserError(
                            f"{path}: array '{name}' has dtype {array.dtype}, which cannot be "
                            "saved without pickling"
                        )
                    info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.create_system = 3  # Unix, whatever the platform
                    info.external_attr = _ZIP_ATTR
                    with zf.open(info, "w", force_zip64=True) as entry:
                        np.lib.format.write_array(entry, array, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, path)
        return path
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def check_arrays(arrays: Mapping[str, np.ndarray], required: Required, where: StrPath) -> None:
    """Check that each required array exists with the expected shape and dtype.

    Raises a one-line :class:`UserError` naming ``where``, the array, and expected vs got.
    """
    for key, (shape, dtype) in required.items():
        if key not in arrays:
            have = ", ".join(sorted(arrays)) or "none"
            raise UserError(f"{where}: array '{key}' is missing (arrays present: {have})")
        array = arrays[key]
        if dtype is not None and array.dtype != np.dtype(dtype):
            raise UserError(
                f"{where}: array '{key}' has dtype {array.dtype}, expected {np.dtype(dtype)}"
            )
        if shape is not None and not _shape_matches(array.shape, shape):
            raise UserError(
                f"{where}: array '{key}' has shape {tuple(array.shape)}, "
                f"expected {_format_shape(shape)}"
            )


def _shape_matches(got: tuple[int, ...], want: tuple[int | None, ...]) -> bool:
    return len(got) == len(want) and all(w is None or g == w for g, w in zip(got, want))


def _format_shape(shape: tuple[int | None, ...]) -> str:
    dims = ["*" if d is None else str(d) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def load_npz(path: StrPath, required: Required | None = None) -> dict[str, np.ndarray]:
    """Load every array of the ``.npz`` at ``path`` (never unpickling), checking ``required``."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "file not found"
        raise UserError(f"{path}: {what}")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a plain .npy file gives an ndarray
            raise UserError(f"{path}: not a readable .npz file (it is a single .npy array)")
        with loaded as npz:
            arrays = {name: npz[name] for name in npz.files}
    except _READ_ERRORS as exc:
        raise UserError(f"{path}: not a readable .npz file ({_one_line(exc)})") from None
    if required:
        check_arrays(arrays, required, path)
    return arrays


def sha256_file(path: StrPath) -> str:
    """Hex sha256 of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise UserError(f"{path}: cannot read file ({_one_line(exc)})") from None
    return digest.hexdigest()
