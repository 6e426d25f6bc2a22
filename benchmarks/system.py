"""The machine a benchmark ran on, and the wall time of a no-op ``dvc repro``."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ganflow.machine import cpu_flags, cpu_model

THREAD_ENV = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
              "TF_ENABLE_ONEDNN_OPTS", "CUDA_VISIBLE_DEVICES")


def machine_info() -> dict:
    """CPU, cores, library versions, TensorFlow's thread settings (left at their defaults),
    and the date."""
    import keras
    import tensorflow as tf

    threading = tf.config.threading
    return {
        "date": dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tf_threads": {
            "intra_op": threading.get_intra_op_parallelism_threads(),
            "inter_op": threading.get_inter_op_parallelism_threads(),
            "note": "0 = TensorFlow's default (one per usable core); not changed by the benchmark",
        },
        "thread_env": {name: os.environ[name] for name in THREAD_ENV if name in os.environ},
    }


def _dvc() -> str | None:
    """The dvc next to this Python (the project's venv), else the one on PATH."""
    local = Path(sys.executable).parent / "dvc"
    return str(local) if local.exists() else shutil.which("dvc")


def _run(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - t0, proc


def _status_clean(dvc: str, repo: Path) -> tuple[bool, float, str]:
    """(clean, seconds, note): ``dvc status --json`` returns ``{}`` for a clean pipeline."""
    seconds, proc = _run([dvc, "status", "--json"], repo)
    if proc.returncode != 0:
        return False, seconds, f"dvc status failed: {(proc.stderr or proc.stdout).strip()[-300:]}"
    try:
        changed = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        return False, seconds, f"unreadable dvc status output: {proc.stdout.strip()[-300:]}"
    if changed:
        stages = ", ".join(sorted(changed)[:5]) + (" ..." if len(changed) > 5 else "")
        return False, seconds, f"dvc status is not clean ({len(changed)} changed: {stages})"
    return True, seconds, "dvc status is clean"


def time_noop_repro(repo: Path, repeats: int = 3) -> dict:
    """Wall time of ``dvc repro`` when nothing changed: the pipeline's fixed overhead.

    Runs ``dvc repro`` only if ``dvc status`` is clean, so that nothing in the repo is rerun
    or rewritten; otherwise skips with a note. The first repro is a warm-up (untimed)."""
    dvc = _dvc()
    if dvc is None:
        return {"skipped": True, "note": "dvc not found"}
    clean, status_s, note = _status_clean(dvc, repo)
    result = {"dvc": dvc, "status_s": round(status_s, 3), "note": note}
    if not clean:
        return {**result, "skipped": True}
    timings = []
    for i in range(repeats + 1):
        seconds, proc = _run([dvc, "repro"], repo)
        if proc.returncode != 0:
            return {**result, "skipped": True,
                    "note": f"dvc repro failed: {(proc.stderr or proc.stdout).strip()[-300:]}"}
        if i:
            timings.append(seconds)
    return {**result, "skipped": False, "repro_s_median": float(np.median(timings)),
            "repro_s": [round(t, 3) for t in timings], "repro_stdout_tail": proc.stdout.strip()[-200:]}
