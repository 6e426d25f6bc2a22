"""train.strategy and train.<gan>.precision: the one train step under tf.distribute strategies
and Keras mixed precision, on CPU (two logical devices, or two worker processes on localhost).

Each run is a fresh process (tests/strategy_run.py): logical devices and TF_CONFIG must be set
before TensorFlow starts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ganflow import runtime
from ganflow.errors import UserError

SCRIPT = Path(__file__).with_name("strategy_run.py")


# TensorFlow sends 16-bit matmuls to oneDNN when the CPU (cpuid) has bf16/fp16; capping oneDNN's
# ISA below that (ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 machine, to emulate a Zen 3's kernels)
# makes it abort ("could not create a primitive descriptor for the inner product"). A real
# AVX2 CPU takes TensorFlow's other path, so these tests run there.
ISA_CAPPED = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper().startswith(("SSE", "AVX2", "AVX_"))
needs_16_bit_kernels = pytest.mark.skipif(ISA_CAPPED, reason="ONEDNN_MAX_CPU_ISA caps oneDNN below the "
                                          "CPU's bf16/fp16 support: TensorFlow's 16-bit ops abort")


def start(gan: str, strategy: str, precision: str, workdir: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), gan, strategy, precision, str(workdir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def result(proc: subprocess.Popen) -> dict:
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out)


def train(gan: str, strategy: str, precision: str, workdir: Path) -> dict:
    return result(start(gan, strategy, precision, workdir))


# Largest weight difference of a distributed run from one device's: rounding, amplified by
# training (see the mirrored test), not a wrong per-replica slice (~1e-2).
SAME_UP_TO_ROUNDING = 1e-3


def max_abs_diff(a: dict, b: dict) -> float:
    return max(float(np.max(np.abs(np.subtract(x, y)))) for x, y in zip(a["weights"], b["weights"], strict=True))


@pytest.fixture(scope="module")
def one_device(tmp_path_factory) -> dict:
    return train("curve", "default", "float32", tmp_path_factory.mktemp("one"))


def test_mirrored_on_two_devices_matches_one_device_with_the_same_global_batch(one_device, tmp_path):
    mirrored = train("curve", "mirrored", "float32", tmp_path)
    assert (one_device["replicas"], mirrored["replicas"]) == (1, 2)
    # Each replica trains on its half of the same global batch (and of the same latents and
    # label noise); summed gradients of loss/2 equal one device's up to float rounding, which
    # 40 Adam steps amplify: measured (Intel Xeon, AVX-512) 2e-7 after 10 steps, 3.3e-5 after
    # 40 (7e-7 without label noise). Every replica taking the first slice instead gives 1.7e-2.
    assert max_abs_diff(one_device, mirrored) < SAME_UP_TO_ROUNDING


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def loopback_works() -> bool:
    """Whether TCP on localhost works here (the workers talk gRPC over it)."""
    try:
        with socket.create_server(("localhost", 0)) as server, \
                socket.create_connection(server.getsockname()[:2], timeout=5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not loopback_works(), reason="no TCP on localhost in this environment")
def test_multi_worker_on_two_local_processes_matches_one_device(one_device, tmp_path):
    cluster = {"worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    procs = [start("curve", "multi_worker", "float32", tmp_path / f"w{i}",
                   {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
             for i in (1, 0)]
    workers = [result(p) for p in procs]
    for worker in workers:
        assert worker["replicas"] == 2
        assert max_abs_diff(one_device, worker) < SAME_UP_TO_ROUNDING
    assert workers[0]["sha256"] == workers[1]["sha256"]  # the workers hold the same model
    assert (tmp_path / "w0" / "live" / "metrics.json").is_file()  # the chief logs


def test_a_non_chief_worker_opens_no_dvclive_and_leaves_no_files(monkeypatch, tmp_path):
    # Two DVCLive runs in one DVC repo race over its signal files at their end (a worker's
    # FileNotFoundError failed CI once), so only the chief may open one.
    import tempfile

    from ganflow.training import loop
    from ganflow.data.synth import curve_points
    from ganflow.models import get_spec
    from ganflow.params import TrainGanParams, TrainParams

    def no_live(*args, **kwargs):
        raise AssertionError("a non-chief worker opened DVCLive")

    monkeypatch.setattr(loop, "Live", no_live)
    monkeypatch.setattr(runtime, "is_chief", lambda strategy: False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    runtime.setup(7)
    spec = get_spec("curve")
    train = TrainParams(lr=0.001, strategy="default", gan=TrainGanParams(
        seed=3, steps=20, batch_size=64, log_every=10, sample_every=10, checkpoint_every=20))
    trained = loop.train_adversarial(spec, train, lambda: (spec.build_generator(), spec.build_discriminator()),
                                     curve_points(np.random.default_rng(0), 512)["x"], str(tmp_path / "live"))
    assert trained.steps_run == 20 and not trained.chief
    assert not (tmp_path / "live").exists() and list((tmp_path / "tmp").glob("ganflow-*")) == []

    # a worker whose training fails (after its first samples are written) removes its folder too
    fit = loop.GAN.fit

    def broken(self, *args, **kwargs):
        fit(self, *args, **dict(kwargs, epochs=kwargs["initial_epoch"] + 1))
        assert list((tmp_path / "tmp").glob("ganflow-*/*"))  # the folder holds samples now
        raise RuntimeError("lost the cluster")

    monkeypatch.setattr(loop.GAN, "fit", broken)
    with pytest.raises(RuntimeError, match="lost the cluster"):
        loop.train_adversarial(spec, train, lambda: (spec.build_generator(), spec.build_discriminator()),
                               curve_points(np.random.default_rng(0), 512)["x"], str(tmp_path / "live"))
    assert list((tmp_path / "tmp").glob("ganflow-*")) == []


@needs_16_bit_kernels
@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_and_hands_back_float32_models(one_device, tmp_path, precision):
    mixed = train("curve", "default", precision, tmp_path)
    assert mixed["dtype"] == "float32"  # what the stage saves
    # the saved file is a float32 model that loads anywhere and computes what training left
    assert mixed["saved_policies"] == ["float32"] and mixed["saved_matches"]
    assert all(np.isfinite(w).all() for w in map(np.asarray, mixed["weights"]))
    # 16-bit compute took effect: the run differs from float32's, but not by much
    assert mixed["sha256"] != one_device["sha256"]
    assert max_abs_diff(one_device, mixed) < 0.1


@needs_16_bit_kernels
def test_dropout_two_unit_gan_trains_mirrored_in_bfloat16(tmp_path):
    run = train("sine", "mirrored", "mixed_bfloat16", tmp_path)
    assert run["replicas"] == 2 and run["steps_run"] == 40
    assert all(np.isfinite(w).all() for w in map(np.asarray, run["weights"]))


def test_multi_worker_without_tf_config_names_the_param(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="train.strategy: multi_worker needs TF_CONFIG"):
        runtime.distribution_strategy("multi_worker")
