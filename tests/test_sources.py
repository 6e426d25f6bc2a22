"""Behaviour tests for ganflow.data.io (deterministic npz) and ganflow.data.sources (real data).

All offline: mirrors are small synthetic files, downloads use file:// URLs into a tmp keras cache.
"""

from __future__ import annotations

import hashlib
import io as pyio
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ganflow.data import sources
from ganflow.data.io import load_npz, save_npz, sha256_file
from ganflow.errors import UserError

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in (
        sources.MIRROR_ENV,
        sources.ALLOW_UNKNOWN_MIRROR_ENV,
        sources.DOWNLOAD_CACHE_ENV,
    ):
        monkeypatch.delenv(var, raising=False)


def assert_one_line(exc: pytest.ExceptionInfo, *parts: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, (part, msg)
    return msg


def keras_layout(image_shape, n_train=20, n_test=10, seed=0, label_shape=()):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8).reshape(n_train, *label_shape),
        "x_test": rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8),
        "y_test": (np.arange(n_test)[::-1] % 10).astype(np.uint8).reshape(n_test, *label_shape),
    }


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- io: save_npz / load_npz / sha256_file ----------------------------------------------------


def sample_arrays():
    return {
        "x": np.arange(24, dtype=np.float32).reshape(2, 3, 4).transpose(2, 0, 1),  # not contiguous
        "y": np.array([3, 1, 4], dtype=np.uint8),
        "scalar": np.array(7, dtype=np.int64),
    }


def test_save_npz_is_byte_for_byte_deterministic(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    save_npz(a, **sample_arrays())
    save_npz(b, **dict(reversed(list(sample_arrays().items()))))  # argument order is irrelevant
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == ["scalar.npy", "x.npy", "y.npy"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_save_npz_round_trips_through_load_npz_and_np_load(tmp_path):
    path = tmp_path / "sub" / "d.npz"  # parent directory is created
    save_npz(path, **sample_arrays())
    loaded = load_npz(path)
    assert set(loaded) == {"x", "y", "scalar"}
    for name, array in sample_arrays().items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["x"], sample_arrays()["x"])


def test_save_npz_failure_keeps_previous_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "d.npz"
    save_npz(path, **sample_arrays())
    before = path.read_bytes()
    # "a" sorts first, so the temp file is half-written when the object array "z" is refused.
    with pytest.raises(UserError) as exc:
        save_npz(path, a=np.zeros(1000), z=np.array([{"k": 1}, None], dtype=object))
    assert_one_line(exc, str(path), "'z'", "object")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz"]


def test_load_npz_checks_required_shapes_with_wildcards(tmp_path):
    path = tmp_path / "d.npz"
    save_npz(path, x=np.zeros((5, 28, 28), np.uint8), y=np.zeros(5, np.uint8))
    arrays = load_npz(path, required={"x": ((None, 28, 28), "uint8"), "y": (None, None)})
    assert arrays["x"].shape == (5, 28, 28)


@pytest.mark.parametrize(
    "required, parts",
    [
        ({"x": ((None, 28, 28), "float32")}, ["'x'", "uint8", "float32"]),
        ({"x": ((None, 32, 32), "uint8")}, ["'x'", "(5, 28, 28)", "(*, 32, 32)"]),
        ({"x": ((None, 28, 28, 1), None)}, ["'x'", "(*, 28, 28, 1)"]),
        ({"labels": (None, None)}, ["'labels'", "missing"]),
    ],
    ids=["dtype", "shape", "ndim", "missing-key"],
)
def test_load_npz_rejects_wrong_arrays(tmp_path, required, parts):
    path = tmp_path / "d.npz"
    save_npz(path, x=np.zeros((5, 28, 28), np.uint8))
    with pytest.raises(UserError) as exc:
        load_npz(path, required=required)
    assert_one_line(exc, str(path), *parts)


def test_load_npz_missing_file(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(UserError) as exc:
        load_npz(path)
    assert_one_line(exc, str(path), "not found")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "npy"])
def test_load_npz_unreadable_file(tmp_path, damage):
    path = tmp_path / "d.npz"
    if damage == "truncated":
        save_npz(path, x=np.arange(10000))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a zip file at all\n" * 10)
    else:
        with open(path, "wb") as fh:
            np.save(fh, np.arange(3))
    with pytest.raises(UserError) as exc:
        load_npz(path)
    assert_one_line(exc, str(path), "not a readable .npz file")


def test_load_npz_refuses_pickled_object_arrays(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.array([{"k": 1}], dtype=object))
    with pytest.raises(UserError) as exc:
        load_npz(path)
    assert_one_line(exc, str(path), "not a readable .npz file")


def test_sha256_file_matches_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    data = np.random.default_rng(0).bytes(3 << 20)  # several chunks
    path.write_bytes(data)
    assert sha256_file(path) == sha256_bytes(data)


# --- sources: mirror ---------------------------------------------------------------------------


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    directory = tmp_path / "mirror"
    directory.mkdir()
    monkeypatch.setenv(sources.MIRROR_ENV, str(directory))
    return directory


@pytest.fixture
def no_download(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("must not download when a mirror is set")

    monkeypatch.setattr(sources, "_download", fail)


def test_mirror_dir_unset_empty_and_missing(tmp_path, monkeypatch):
    assert sources.mirror_dir() is None
    monkeypatch.setenv(sources.MIRROR_ENV, "")
    assert sources.mirror_dir() is None
    missing = tmp_path / "absent"
    monkeypatch.setenv(sources.MIRROR_ENV, str(missing))
    with pytest.raises(UserError) as exc:
        sources.load_mnist()
    assert_one_line(exc, sources.MIRROR_ENV, str(missing))


def test_mirror_mnist_loads_synthetic_file_when_allowed(mirror, monkeypatch, capsys, no_download):
    arrays = keras_layout((28, 28))
    np.savez(mirror / "mnist.npz", **arrays)
    monkeypatch.setenv(sources.ALLOW_UNKNOWN_MIRROR_ENV, "1")
    loaded = sources.load_mnist()
    for got, key in zip(loaded, ("x_train", "y_train", "x_test", "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])
    err = capsys.readouterr().err
    assert "warning" in err and sources.ALLOW_UNKNOWN_MIRROR_ENV in err
    assert len(err.strip().splitlines()) == 1


def test_mirror_unknown_hash_is_refused(mirror, no_download):
    np.savez(mirror / "mnist.npz", **keras_layout((28, 28)))
    with pytest.raises(UserError) as exc:
        sources.load_mnist()
    assert_one_line(exc, str(mirror / "mnist.npz"), "sha256", "not a known MNIST file")


def test_mirror_known_hash_needs_no_override(mirror, monkeypatch, capsys, no_download):
    path = mirror / "cifar10.npz"
    np.savez(path, **keras_layout((32, 32, 3)))
    known = dict(sources.KNOWN_SHA256, **{"cifar10.npz": frozenset({sha256_file(path)})})
    monkeypatch.setattr(sources, "KNOWN_SHA256", known)
    assert sources.load_cifar10()[0].shape == (20, 32, 32, 3)
    assert capsys.readouterr().err == ""


def test_mirror_cifar_flattens_column_labels(mirror, monkeypatch, no_download):
    arrays = keras_layout((32, 32, 3), label_shape=(1,))
    np.savez(mirror / "cifar10.npz", **arrays)
    monkeypatch.setenv(sources.ALLOW_UNKNOWN_MIRROR_ENV, "1")
    x_train, y_train, x_test, y_test = sources.load_cifar10()
    assert x_train.shape == (20, 32, 32, 3) and x_test.shape == (10, 32, 32, 3)
    assert y_train.shape == (20,) and y_test.shape == (10,)
    np.testing.assert_array_equal(y_train, arrays["y_train"][:, 0])


def test_mirror_file_missing_is_an_error_not_a_download(mirror, no_download):
    with pytest.raises(UserError) as exc:
        sources.load_cifar10()
    assert_one_line(exc, str(mirror / "cifar10.npz"), sources.MIRROR_ENV)


@pytest.mark.parametrize(
    "change, parts",
    [
        (lambda a: a["y_train"].__setitem__(3, 10), ["'y_train'", "0..9"]),
        (lambda a: a.update(y_test=a["y_test"].astype(np.int16) - 1), ["'y_test'", "0..9"]),
        (lambda a: a.update(y_test=a["y_test"].astype(np.float32)), ["'y_test'", "float32"]),
        (lambda a: a.update(y_train=a["y_train"][:-1]), ["'y_train'", "19 labels", "20 images"]),
        (lambda a: a.update(x_train=np.zeros((20, 32, 32), np.uint8)), ["'x_train'", "(*, 28,"]),
        (lambda a: a.update(x_test=a["x_test"].astype(np.float32)), ["'x_test'", "float32"]),
        (lambda a: a.pop("y_test"), ["'y_test'", "missing"]),
    ],
    ids=["label-10", "label-neg", "float-labels", "length", "image-shape", "image-dtype", "key"],
)
def test_mirror_bad_arrays_are_refused(mirror, monkeypatch, no_download, change, parts):
    arrays = keras_layout((28, 28))
    change(arrays)
    np.savez(mirror / "mnist.npz", **arrays)
    monkeypatch.setenv(sources.ALLOW_UNKNOWN_MIRROR_ENV, "1")
    with pytest.raises(UserError) as exc:
        sources.load_mnist()
    assert_one_line(exc, str(mirror / "mnist.npz"), *parts)


# --- sources: CIFAR-10 binary format -----------------------------------------------------------


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Encode HWC images the way the official binary batches do: label, then R, G, B planes."""
    chw = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return np.concatenate([labels[:, None].astype(np.uint8), chw], axis=1).tobytes()


def test_parse_cifar_binary_reads_planes_as_channels():
    record = bytes([8]) + bytes([1]) * 1024 + bytes([2]) * 1024 + bytes([3]) * 1024
    x, y = sources.parse_cifar_binary(record)
    assert x.shape == (1, 32, 32, 3) and x.dtype == np.uint8
    assert (x[0, :, :, 0] == 1).all() and (x[0, :, :, 1] == 2).all() and (x[0, :, :, 2] == 3).all()
    np.testing.assert_array_equal(y, [8])


def test_parse_cifar_binary_keeps_row_major_pixel_order():
    images = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    labels = np.array([0, 8, 9], np.uint8)
    raw = cifar_records(images, labels)
    assert raw[1 + 32] == images[0, 1, 0, 0]  # R plane, row 1, column 0
    x, y = sources.parse_cifar_binary(raw)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert x.flags.c_contiguous


def test_parse_cifar_binary_rejects_partial_records():
    with pytest.raises(UserError) as exc:
        sources.parse_cifar_binary(bytes(3073 + 5), name="batch.bin")
    assert_one_line(exc, "batch.bin", "3078 bytes", "3073")


# --- sources: download (file:// URLs, tmp keras cache) ----------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "keras-cache"
    monkeypatch.setenv(sources.DOWNLOAD_CACHE_ENV, str(directory))
    return directory


def test_download_mnist_from_file_url(tmp_path, cache, monkeypatch):
    arrays = keras_layout((28, 28), n_train=12, n_test=4)
    origin_file = tmp_path / "origin" / "mnist.npz"
    save_npz(origin_file, **arrays)
    monkeypatch.setattr(sources, "MNIST_ORIGIN", origin_file.as_uri())
    monkeypatch.setattr(sources, "MNIST_SHA256", sha256_file(origin_file))
    x_train, y_train, x_test, y_test = sources.load_mnist()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert (cache / "datasets" / "mnist.npz").read_bytes() == origin_file.read_bytes()
    origin_file.unlink()  # a second load uses the verified cached copy
    assert sources.load_mnist()[0].shape == (12, 28, 28)


def test_download_with_wrong_checksum_is_refused(tmp_path, cache, monkeypatch):
    origin_file = tmp_path / "mnist.npz"
    save_npz(origin_file, **keras_layout((28, 28)))
    monkeypatch.setattr(sources, "MNIST_ORIGIN", origin_file.as_uri())
    monkeypatch.setattr(sources, "MNIST_SHA256", "0" * 64)
    with pytest.raises(UserError) as exc:
        sources.load_mnist()
    assert_one_line(exc, origin_file.as_uri(), "checksum", "0" * 64)


def test_download_failure_names_the_url(tmp_path, cache, monkeypatch):
    origin = (tmp_path / "absent.npz").as_uri()
    monkeypatch.setattr(sources, "MNIST_ORIGIN", origin)
    with pytest.raises(UserError) as exc:
        sources.load_mnist()
    assert_one_line(exc, origin, "download failed")


def test_download_cifar10_binary_tarball(tmp_path, cache, monkeypatch):
    rng = np.random.default_rng(2)
    batches = []
    tarball = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        for member in (*sources.CIFAR_TRAIN_MEMBERS, sources.CIFAR_TEST_MEMBER):
            images = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
            labels = rng.integers(0, 10, 2, dtype=np.uint8)
            batches.append((images, labels))
            raw = cifar_records(images, labels)
            info = tarfile.TarInfo(member)
            info.size = len(raw)
            tar.addfile(info, pyio.BytesIO(raw))
    monkeypatch.setattr(sources, "CIFAR10_ORIGIN", tarball.as_uri())
    monkeypatch.setattr(sources, "CIFAR10_SHA256", sha256_file(tarball))
    x_train, y_train, x_test, y_test = sources.load_cifar10()
    np.testing.assert_array_equal(x_train, np.concatenate([b[0] for b in batches[:5]]))
    np.testing.assert_array_equal(y_train, np.concatenate([b[1] for b in batches[:5]]))
    np.testing.assert_array_equal(x_test, batches[5][0])
    np.testing.assert_array_equal(y_test, batches[5][1])
    assert sorted(p.name for p in (cache / "datasets").iterdir()) == ["cifar-10-binary.tar.gz"]


def test_download_cifar10_tarball_missing_member(tmp_path, cache, monkeypatch):
    tarball = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin/readme.html")
        tar.addfile(info, pyio.BytesIO(b""))
    monkeypatch.setattr(sources, "CIFAR10_ORIGIN", tarball.as_uri())
    monkeypatch.setattr(sources, "CIFAR10_SHA256", sha256_file(tarball))
    with pytest.raises(UserError) as exc:
        sources.load_cifar10()
    assert_one_line(exc, "data_batch_1.bin", "missing")


# --- the real offline mirror -------------------------------------------------------------------


@pytest.mark.skipif(not (SHARED_DATA / "mnist.npz").is_file(), reason="no shared/data mirror")
def test_real_mnist_from_shared_mirror(monkeypatch, capsys):
    monkeypatch.setenv(sources.MIRROR_ENV, str(SHARED_DATA))
    x_train, y_train, x_test, y_test = sources.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert capsys.readouterr().err == ""  # a known file: no warning


def test_save_npz_keeps_scalar_shapes(tmp_path):
    from ganflow.data.io import load_npz, save_npz

    save_npz(tmp_path / "s.npz", step=np.array(7, dtype=np.int64), v=np.zeros((2, 3), np.float32))
    loaded = load_npz(tmp_path / "s.npz")
    assert loaded["step"].shape == () and loaded["step"] == 7
    assert loaded["v"].shape == (2, 3)
