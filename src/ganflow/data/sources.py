"""The real MNIST and CIFAR-10 as numpy arrays, checksum-verified, never unpickled.

Each dataset comes from a local mirror directory when ``$GANFLOW_DATA_MIRROR`` is set (the file
must then be there, with a known sha256), otherwise from its canonical download through
``keras.utils.get_file`` with a pinned sha256. CIFAR-10 is downloaded in its pickle-free binary
form and parsed here. Both loaders return ``(x_train, y_train, x_test, y_test)`` as uint8, with
flat labels in 0..9.
"""

from __future__ import annotations

import os
import sys
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganflow.data.io import Required, check_arrays, load_npz, sha256_file
from ganflow.errors import UserError

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

MIRROR_ENV = "GANFLOW_DATA_MIRROR"
ALLOW_UNKNOWN_MIRROR_ENV = "GANFLOW_ALLOW_UNKNOWN_MIRROR"  # "1": accept unknown mirror files
DOWNLOAD_CACHE_ENV = "GANFLOW_DOWNLOAD_CACHE"  # keras cache_dir; unset: keras's default

MNIST_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
# MD5 c32a1d4ab5d03f1284b67883e8d87530
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"

KNOWN_SHA256: dict[str, frozenset[str]] = {
    "mnist.npz": frozenset(
        {
            MNIST_SHA256,  # the Keras canonical file
            "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",  # offline mirror
        }
    ),
    "cifar10.npz": frozenset(
        {"581c735ebd6c900d1f5922e6df3b4624622a12abb6c99fb2a594fd43c421baf2"}  # offline mirror
    ),
}

NUM_CLASSES = 10
SPLITS = (("x_train", "y_train"), ("x_test", "y_test"))

CIFAR_RECORD = 1 + 3 * 32 * 32  # one label byte, then the R, G and B planes
CIFAR_TRAIN_MEMBERS = tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6))
CIFAR_TEST_MEMBER = "cifar-10-batches-bin/test_batch.bin"


@dataclass(frozen=True)
class _Dataset:
    name: str  # for messages
    mirror_file: str  # file name in the mirror directory, a key of KNOWN_SHA256
    image_shape: tuple[int, ...]  # per-image shape
    download: Callable[[], tuple[dict[str, np.ndarray], Path]]  # arrays and where they came from


def mirror_dir() -> Path | None:
    """The mirror directory named by ``$GANFLOW_DATA_MIRROR``, or None when unset or empty."""
    value = os.environ.get(MIRROR_ENV, "")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise UserError(f"{MIRROR_ENV}={value}: not an existing directory")
    return path


def load_mnist() -> Arrays:
    """MNIST as ``(x_train (N,28,28), y_train (N,), x_test (M,28,28), y_test (M,))``, uint8."""
    return _load(_MNIST)


def load_cifar10() -> Arrays:
    """CIFAR-10 as ``(x_train (N,32,32,3), y_train (N,), x_test, y_test)``, uint8 (ship = 8)."""
    return _load(_CIFAR10)


def parse_cifar_binary(
    raw: bytes, name: str = "CIFAR-10 binary data"
) -> tuple[np.ndarray, np.ndarray]:
    """Parse CIFAR-10 binary records into ``x`` (N,32,32,3) uint8 HWC and ``y`` (N,) uint8.

    Each 3073-byte record is a label byte then 3072 pixel bytes in CHW order (R, G, B planes of
    32x32, row-major). ``name`` is used in the error message.
    """
    if len(raw) % CIFAR_RECORD:
        raise UserError(
            f"{name}: {len(raw)} bytes is not a whole number of {CIFAR_RECORD}-byte records"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    y = records[:, 0].copy()
    x = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()  # C-contiguous HWC
    return x, y


# --- shared: mirror or download, verify, validate ---------------------------------------------


def _load(dataset: _Dataset) -> Arrays:
    mirror = mirror_dir()
    if mirror is None:
        arrays, source = dataset.download()
    else:
        source = mirror / dataset.mirror_file
        if not source.is_file():
            raise UserError(
                f"{source}: not found in the data mirror ({MIRROR_ENV} is set, so {dataset.name} "
                "is not downloaded)"
            )
        _verify_mirror_file(source, dataset)
        arrays = load_npz(source)
    return _validate(arrays, source, dataset)


def _verify_mirror_file(path: Path, dataset: _Dataset) -> None:
    known = KNOWN_SHA256[dataset.mirror_file]
    got = sha256_file(path)
    if got in known:
        return
    if os.environ.get(ALLOW_UNKNOWN_MIRROR_ENV) == "1":
        print(
            f"warning: {path}: sha256 {got} is not a known {dataset.name} file; using it because "
            f"{ALLOW_UNKNOWN_MIRROR_ENV}=1",
            file=sys.stderr,
        )
        return
    raise UserError(
        f"{path}: sha256 {got} is not a known {dataset.name} file "
        f"(expected one of {', '.join(sorted(known))})"
    )


def _validate(arrays: dict[str, np.ndarray], source: Path, dataset: _Dataset) -> Arrays:
    """Check image shapes/dtypes and labels; return the four arrays with flat uint8 labels."""
    required: Required = {}
    for x_key, y_key in SPLITS:
        required[x_key] = ((None, *dataset.image_shape), "uint8")
        required[y_key] = (None, None)
    check_arrays(arrays, required, source)
    out: list[np.ndarray] = []
    for x_key, y_key in SPLITS:
        x, y = arrays[x_key], arrays[y_key]
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise UserError(
                f"{source}: array '{y_key}' has shape {tuple(y.shape)}, expected (*,) or (*, 1)"
            )
        if y.dtype.kind not in "iu":
            raise UserError(f"{source}: array '{y_key}' has dtype {y.dtype}, expected integers")
        if len(y) != len(x):
            raise UserError(
                f"{source}: array '{y_key}' has {len(y)} labels but '{x_key}' has {len(x)} images"
            )
        if y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
            raise UserError(
                f"{source}: array '{y_key}' has labels in {y.min()}..{y.max()}, "
                f"expected 0..{NUM_CLASSES - 1}"
            )
        out += [x, y.astype(np.uint8, copy=False)]
    return out[0], out[1], out[2], out[3]


def _download(fname: str, origin: str, sha256: str) -> Path:
    """Fetch ``origin`` into the keras cache (or reuse a cached copy), verified by ``sha256``."""
    import keras  # lazy: importing keras loads TensorFlow

    cache_dir = _download_cache_dir()
    try:
        path = keras.utils.get_file(
            fname=fname,
            origin=origin,
            file_hash=sha256,
            hash_algorithm="sha256",
            cache_dir=cache_dir,
        )
    except Exception as exc:  # get_file: bare Exception for URL errors, ValueError for hashes
        detail = " ".join(str(exc).split())
        if isinstance(exc, ValueError) and "hash" in detail:
            raise UserError(
                f"{origin}: downloaded file failed its sha256 checksum (expected {sha256})"
            ) from None
        raise UserError(f"{origin}: download failed ({type(exc).__name__}: {detail})") from None
    return Path(path)


def _download_cache_dir() -> str | None:
    """``$GANFLOW_DOWNLOAD_CACHE``, created if needed; None (keras's default) when unset or empty.

    keras silently falls back to ``/tmp/.keras`` when ``cache_dir`` is missing or not writable,
    so a directory named explicitly is created here and must be writable.
    """
    value = os.environ.get(DOWNLOAD_CACHE_ENV, "")
    if not value:
        return None
    path = Path(value).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{DOWNLOAD_CACHE_ENV}={value}: cannot create directory ({exc})") from None
    if not os.access(path, os.W_OK):
        raise UserError(f"{DOWNLOAD_CACHE_ENV}={value}: directory is not writable")
    return str(path)


def _download_mnist() -> tuple[dict[str, np.ndarray], Path]:
    path = _download("mnist.npz", MNIST_ORIGIN, MNIST_SHA256)
    return load_npz(path), path


def _download_cifar10() -> tuple[dict[str, np.ndarray], Path]:
    path = _download("cifar-10-binary.tar.gz", CIFAR10_ORIGIN, CIFAR10_SHA256)
    return _read_cifar_tarball(path), path


def _read_cifar_tarball(path: Path) -> dict[str, np.ndarray]:
    """Parse the binary batches straight out of the tarball (nothing is extracted to disk)."""
    try:
        with tarfile.open(path, "r:*") as tar:

            def read(member: str) -> tuple[np.ndarray, np.ndarray]:
                try:
                    fh = tar.extractfile(member)
                except KeyError:
                    fh = None
                if fh is None:
                    raise UserError(f"{path}: member {member} is missing or not a regular file")
                with fh:
                    return parse_cifar_binary(fh.read(), name=f"{path}:{member}")

            train = [read(member) for member in CIFAR_TRAIN_MEMBERS]
            x_test, y_test = read(CIFAR_TEST_MEMBER)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        detail = " ".join(str(exc).split())
        raise UserError(
            f"{path}: not a readable CIFAR-10 binary tarball ({type(exc).__name__}: {detail})"
        ) from None
    return {
        "x_train": np.concatenate([x for x, _ in train]),
        "y_train": np.concatenate([y for _, y in train]),
        "x_test": x_test,
        "y_test": y_test,
    }


_MNIST = _Dataset("MNIST", "mnist.npz", (28, 28), _download_mnist)
_CIFAR10 = _Dataset("CIFAR-10", "cifar10.npz", (32, 32, 3), _download_cifar10)
