"""Determinism check: train one GAN several times in fresh processes and compare every weight.

    python -m benchmarks.determinism --gan cifar_ship [--runs 4] [--params params.ci.yaml]
        [--parallel 2] [--env ONEDNN_MAX_CPU_ISA=AVX2] [--intra-op-threads 1,2]
        [--classifiers models/classifier]

Prepares the data and pretrains once (in a temporary directory), then runs the train stage
``--runs`` times (``--parallel`` at a time, to vary the scheduling) on identical inputs and
loads every run's G and D. Prints, per run, the sha256 of both saved models and, for each
variable that differs from run 1, its largest absolute difference. ``--intra-op-threads``
repeats the runs at each listed thread count: runs at different counts are expected to differ
(oneDNN partitions some reductions by thread count), runs at one count must not.
An image GAN with in-training quality on (``eval_every``) measures it through its dataset's
evaluation classifier in ``--classifiers`` (the pipeline's: ``dvc repro classifier``).
Exit status 1 when two runs at one thread count differ: a reproduction of nondeterminism.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]


def stage(name: str, gan: str, params: Path, env: dict, *args: str) -> None:
    cmd = [sys.executable, str(ROOT / "stages" / f"{name}.py"), "--gan", gan, "--params", str(params), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-2000:]}")


def weights(run: Path) -> dict[str, np.ndarray]:
    from ganflow.modelio import load_model

    out = {}
    for net in ("generator", "discriminator"):
        model = load_model(run / f"{net}.keras")
        out |= {f"{net[0].upper()}:{v.path}": np.asarray(v) for v in model.weights}
    return out


def classifier_args(classifiers: Path, gan: str, eval_every: int) -> list[str]:
    """The train stage's ``--classifier`` for an image GAN with in-training quality on (the
    stage refuses to run without it), else nothing."""
    from benchmarks.time_to_quality import DATASET, classifier_path

    path = classifier_path(classifiers, gan)
    if not eval_every or path is None:
        return []
    if not path.is_file():
        raise SystemExit(f"--classifiers: no {path} (in-training quality of {gan} needs it; "
                         f"dvc repro classifier@{DATASET[gan]} makes it)")
    return ["--classifier", str(path)]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gan", default="cifar_ship")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--params", type=Path, default=ROOT / "params.ci.yaml")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for every stage process")
    parser.add_argument("--intra-op-threads", default="0", help="comma-separated train.<gan>.intra_op_threads")
    parser.add_argument("--classifiers", type=Path, default=ROOT / "models" / "classifier",
                        help="folder of the evaluation classifiers (<dataset>.keras) for in-training quality")
    args = parser.parse_args()
    env = {**os.environ, **dict(e.split("=", 1) for e in args.env)}
    work = Path(tempfile.mkdtemp(prefix="ganflow-determinism-"))
    doc = yaml.safe_load(args.params.read_text())
    print(f"{args.gan}: {args.runs} runs per thread setting, {args.parallel} at a time, params {args.params.name}, "
          f"env {' '.join(args.env) or '-'}; work dir {work}")
    quality = classifier_args(args.classifiers, args.gan, doc["train"][args.gan].get("eval_every", 0))
    base = work / "params.yaml"
    base.write_text(yaml.safe_dump(doc))
    stage("prepare", args.gan, base, env, "--out", str(work / "data"))
    stage("pretrain", args.gan, base, env, "--data", str(work / "data/train.npz"), "--out", str(work / "init"),
          "--metrics", str(work / "pretrain.json"))

    nondeterministic = False
    firsts: dict[int, dict[str, np.ndarray]] = {}
    for threads in (int(t) for t in args.intra_op_threads.split(",")):
        doc["train"][args.gan]["intra_op_threads"] = threads
        params = work / f"params-{threads}.yaml"
        params.write_text(yaml.safe_dump(doc))

        def train(i: int) -> Path:
            out = work / f"t{threads}-run{i}"
            stage("train", args.gan, params, env, "--data", str(work / "data/train.npz"), "--init", str(work / "init"),
                  "--out", str(out), "--live", str(out / "live"), "--checkpoint", str(out / "checkpoint"), *quality)
            return out

        with ThreadPoolExecutor(args.parallel) as pool:
            runs = list(pool.map(train, range(1, args.runs + 1)))
        first = firsts[threads] = weights(runs[0])
        for i, run in enumerate(runs, 1):
            w = weights(run)
            diffs = {k: float(np.max(np.abs(w[k].astype(np.float64) - first[k]))) for k in first
                     if not np.array_equal(w[k], first[k])}
            nondeterministic |= bool(diffs)
            print(f"intra_op_threads={threads} run {i}: G {sha(run / 'generator.keras')} "
                  f"D {sha(run / 'discriminator.keras')}: "
                  + ("identical to run 1" if not diffs else f"{len(diffs)} of {len(first)} variables differ from run 1"))
            for name, diff in sorted(diffs.items(), key=lambda kv: -kv[1])[:8]:
                print(f"    {name}: max |diff| {diff:.3g}")
    (t0, w0), *others = firsts.items()
    for t, w in others:
        n = sum(not np.array_equal(w[k], w0[k]) for k in w0)
        print(f"intra_op_threads={t} against {t0}: {n} of {len(w0)} variables differ (expected where "
              f"oneDNN or Eigen split a reduction by thread count)")
    print("NONDETERMINISTIC: runs at one thread setting differ" if nondeterministic
          else "deterministic: every run at each thread setting is bitwise identical")
    sys.exit(1 if nondeterministic else 0)


if __name__ == "__main__":
    main()
