"""Bad input at the stage scripts: each case exits with status 2, prints exactly one line that
names the culprit, and leaves the outputs of earlier runs as they were.

(Params validation and data-source checks are also tested at the library level in
test_params.py and test_sources.py; here the real scripts run, as DVC runs them.)
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import make_curve_workspace, stage_cmd, write_fake_mirror


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A curve workspace with one complete train + evaluate run, whose outputs must survive."""
    work = make_curve_workspace(tmp_path_factory.mktemp("bad"), steps=200, log_every=50,
                                sample_every=100, checkpoint_every=100)
    subprocess.run(train(work), check=True, capture_output=True)
    subprocess.run(evaluate(work), check=True, capture_output=True)
    return work


def train(work: Path, params: str = "params.yaml", data: str = "data/train.npz", out: str = "models",
          live: str = "live") -> list[str]:
    return stage_cmd("train", "curve", "--params", str(work / params), "--data", str(work / data),
                     "--init", str(work / "init"), "--out", str(work / out), "--live", str(work / live))


def evaluate(work: Path, models: str = "models") -> list[str]:
    return stage_cmd("evaluate", "curve", "--params", str(work / "params.yaml"), "--data", str(work / "data"),
                     "--models", str(work / models), "--live", str(work / "live"),
                     "--metrics", str(work / "eval/metrics.json"), "--plots", str(work / "eval/plots"))


def snapshot(work: Path) -> dict[str, str]:
    files = [p for d in ("models", "live", "eval", "data") for p in (work / d).rglob("*") if p.is_file()]
    return {str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def params_with(work: Path, dotted: str, value, name: str = "bad.yaml") -> str:
    doc = yaml.safe_load((work / "params.yaml").read_text())
    *parents, leaf = dotted.split(".")
    node = doc
    for part in parents:
        node = node[part]
    node[leaf] = value
    (work / name).write_text(yaml.safe_dump(doc))
    return name


def assert_fails(cmd: list[str], culprit: str, env: dict | None = None) -> str:
    import os

    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert culprit in lines[0], lines[0]
    return lines[0]


PARAM_CASES = [
    ("train.curve.steps", "many", "train.curve.steps"),
    ("train.curve.steps", -50, "train.curve.steps"),
    ("train.curve.batch_size", 2.5, "train.curve.batch_size"),
    ("train.curve.lr_scale", {"g": "x"}, "train.curve.lr_scale.g"),
    ("train.curve.stpes", 10, "train.curve.stpes"),
    ("train.lr", 5.0, "train.lr"),
    ("train.lr", None, "train.lr"),
    ("train.curve.checkpoint_every", 75, "train.curve"),
]


@pytest.mark.parametrize("dotted,value,culprit", PARAM_CASES)
def test_bad_params(ws, dotted, value, culprit):
    before = snapshot(ws)
    assert_fails(train(ws, params_with(ws, dotted, value)), culprit)
    assert snapshot(ws) == before


def test_unknown_gan_and_missing_params_file(ws):
    before = snapshot(ws)
    assert_fails(stage_cmd("train", "curves", "--params", str(ws / "params.yaml"), "--data", "x",
                           "--init", "x", "--out", "x", "--live", "x"), "unknown GAN 'curves'")
    assert_fails(train(ws, params="missing.yaml"), "missing.yaml")
    (ws / "broken.yaml").write_text("train: {lr: [\n")
    assert_fails(train(ws, params="broken.yaml"), "invalid YAML")
    assert snapshot(ws) == before


def test_batch_larger_than_the_dataset(ws):
    before = snapshot(ws)
    assert_fails(train(ws, params_with(ws, "train.curve.batch_size", 10**7)), "train.curve.batch_size")
    assert snapshot(ws) == before


def test_float_that_dvc_writes_as_a_string_is_accepted(ws, tmp_path):
    # `dvc exp run -S train.lr=1e-05` writes the string "1e-05": it must parse, not fail
    name = params_with(ws, "train.lr", "1e-05", "string_lr.yaml")
    proc = subprocess.run(train(ws, name, out=str(tmp_path / "m"), live=str(tmp_path / "live")),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_missing_and_corrupt_data_file(ws):
    before = snapshot(ws)
    assert_fails(train(ws, data="data/nope.npz"), "nope.npz")
    (ws / "half.npz").write_bytes((ws / "data/train.npz").read_bytes()[:500])
    assert_fails(train(ws, data="half.npz"), "half.npz")
    assert snapshot(ws) == before


def test_non_finite_or_misshapen_training_data(ws):
    x = np.load(ws / "data/train.npz")["x"].copy()
    x[::7] = np.nan
    np.savez(ws / "nan.npz", x=x)
    np.savez(ws / "wide.npz", x=np.zeros((100, 3), np.float32))
    before = snapshot(ws)
    assert_fails(train(ws, data="nan.npz", out="nan_models"), "nan.npz: array 'x' has")
    assert_fails(train(ws, data="wide.npz", out="nan_models"), "wide.npz")
    assert snapshot(ws) == before


def test_unwritable_output_path(ws):
    (ws / "a_file").write_text("")
    before = snapshot(ws)
    assert_fails(train(ws, out="a_file/models"), "a_file")
    assert snapshot(ws) == before


def test_missing_and_corrupt_model_in_evaluate(ws):
    before = snapshot(ws)
    assert_fails(evaluate(ws, models="no_models"), "model file not found")
    (ws / "bad_models").mkdir(exist_ok=True)
    (ws / "bad_models/generator.keras").write_bytes(b"PK\x03\x04 not really a zip")
    (ws / "bad_models/discriminator.keras").write_bytes((ws / "models/discriminator.keras").read_bytes())
    assert_fails(evaluate(ws, models="bad_models"), "cannot load model")
    assert snapshot(ws) == before


def prepare_mnist(out: Path) -> list[str]:
    return stage_cmd("prepare", "mnist_mlp", "--params", str(Path(__file__).parents[1] / "params.ci.yaml"),
                     "--out", str(out))


def test_bad_mirror_inputs(tmp_path):
    mirror = write_fake_mirror(tmp_path / "mirror", mnist=(40, 20))
    out = tmp_path / "data"
    allow = {"GANFLOW_ALLOW_UNKNOWN_MIRROR": "1"}
    # missing mirror directory
    assert_fails(prepare_mnist(out), "GANFLOW_DATA_MIRROR", {"GANFLOW_DATA_MIRROR": str(tmp_path / "none")})
    # a file whose checksum is not a known MNIST file
    assert_fails(prepare_mnist(out), "sha256", {"GANFLOW_DATA_MIRROR": str(mirror)})
    # n_train larger than the (small) file: named by its key
    assert_fails(prepare_mnist(out), "prepare.mnist_mlp.n_train", {"GANFLOW_DATA_MIRROR": str(mirror), **allow})
    good = np.load(mirror / "mnist.npz")
    for name, arrays, culprit in [
        ("truncated", None, "mnist.npz"),
        ("shape", {**good, "x_train": good["x_train"][:, :, :27]}, "x_train"),
        ("dtype", {**good, "x_train": good["x_train"].astype(np.float32)}, "x_train"),
        ("labels", {**good, "y_train": good["y_train"] + 5}, "y_train"),
    ]:
        bad = tmp_path / name
        bad.mkdir()
        if arrays is None:
            (bad / "mnist.npz").write_bytes((mirror / "mnist.npz").read_bytes()[:1000])
        else:
            np.savez(bad / "mnist.npz", **arrays)
        assert_fails(prepare_mnist(out), culprit, {"GANFLOW_DATA_MIRROR": str(bad), **allow})
    assert not out.exists(), "no partial output"
