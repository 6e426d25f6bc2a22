"""Resume after SIGKILL: a killed training process, re-run, ends bitwise identical to an
uninterrupted run (with G's EMA, lazy R1 and the best generator kept by in-training quality all
on, so their state must survive the kill); a finished run leaves no usable checkpoint; a params
change starts fresh."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import make_curve_workspace, stage_cmd

STEPS = 3000


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Curve data and pretrained models, and a params file for a few seconds of training."""
    return make_curve_workspace(tmp_path_factory.mktemp("resume"), steps=STEPS, log_every=50,
                                sample_every=1500, checkpoint_every=250, ema={"decay": 0.99, "warmup": 100},
                                r1={"gamma": 0.1, "every": 4}, eval_every=500, eval_samples=1000)


def train_cmd(work: Path, run: str, params: str = "params.yaml") -> list[str]:
    return stage_cmd("train", "curve", "--params", str(work / params), "--data", str(work / "data/train.npz"),
                 "--init", str(work / "init"), "--out", str(work / run / "models"),
                 "--live", str(work / run / "live"), "--checkpoint", str(work / run / "ckpt"))


def outputs(work: Path, run: str) -> dict[str, bytes]:
    root = work / run
    files = [*(root / "models").glob("*.keras"), *(root / "live").rglob("*.tsv"),
             *(root / "live").rglob("*.png"), root / "live" / "metrics.json"]
    return {str(f.relative_to(root)): f.read_bytes() for f in files}


def kill_after_checkpoint(work: Path, run: str, at_least: int, params: str = "params.yaml") -> int:
    """Start training, SIGKILL it once a checkpoint of step >= ``at_least`` exists."""
    proc = subprocess.Popen(train_cmd(work, run, params), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta = work / run / "ckpt" / "meta.json"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                step = json.loads(meta.read_text())["step"]
            except (OSError, ValueError, KeyError):
                step = 0
            if step >= at_least:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run was killed mid-way, not finished"
    return step


@pytest.fixture(scope="module")
def uninterrupted(workdir):
    subprocess.run(train_cmd(workdir, "full"), check=True, capture_output=True)
    result = outputs(workdir, "full")
    assert {"live/plots/metrics/quality/score.tsv", "live/plots/metrics/r1.tsv"} <= set(result)
    return result


@pytest.mark.parametrize("kill_at", [250, 1750])
def test_killed_run_resumes_to_bitwise_identical_weights(workdir, uninterrupted, kill_at):
    run = f"killed{kill_at}"
    killed_at = kill_after_checkpoint(workdir, run, kill_at)
    assert killed_at < STEPS
    resumed = subprocess.run(train_cmd(workdir, run), check=True, capture_output=True, text=True)
    assert f"resuming from the checkpoint at step {killed_at}" in resumed.stdout
    result = outputs(workdir, run)
    assert result.keys() == uninterrupted.keys()
    different = [name for name in result if result[name] != uninterrupted[name]]
    assert different == [], f"differ from the uninterrupted run: {different}"


def test_finished_run_leaves_only_a_completion_marker(workdir, uninterrupted):
    ckpt = workdir / "full" / "ckpt"
    assert [p.name for p in ckpt.iterdir()] == ["meta.json"]
    assert json.loads((ckpt / "meta.json").read_text()) == {"step": STEPS, "complete": True}


def test_a_params_change_ignores_the_stale_checkpoint(workdir):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["train"]["lr"] = 0.0003
    (workdir / "other.yaml").write_text(yaml.safe_dump(params))
    kill_after_checkpoint(workdir, "stale", 500)  # leaves a checkpoint made with params.yaml
    proc = subprocess.run(train_cmd(workdir, "stale", "other.yaml"), check=True, capture_output=True, text=True)
    assert "resuming" not in proc.stdout
    subprocess.run(train_cmd(workdir, "fresh", "other.yaml"), check=True, capture_output=True)
    assert outputs(workdir, "stale") == outputs(workdir, "fresh")


def test_file_digest_follows_names_and_bytes(tmp_path):
    from ganflow.training.checkpoint import file_digest

    d = tmp_path / "init"
    (d / "sub").mkdir(parents=True)
    (d / "a.bin").write_bytes(b"weights")
    (d / "sub" / "b.bin").write_bytes(b"more")
    first = file_digest(d)
    assert file_digest(d) == first and len(first) == 64
    (d / "sub" / "b.bin").write_bytes(b"morf")
    assert file_digest(d) != first
    (d / "sub" / "b.bin").write_bytes(b"more")
    assert file_digest(d) == first
    (d / "a.bin").rename(d / "c.bin")
    assert file_digest(d) != first
    assert file_digest(d / "c.bin") != file_digest(d / "sub" / "b.bin")
