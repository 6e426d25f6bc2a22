"""Train-step benchmark: the tutorials' Keras loop (A) against the pipeline's fused step (B).

For each GAN and batch size, in one process, on synthetic "real" data (uniform random values
in the model's data range, in the data's shape; no dataset files needed):

A  the tutorials' loop, made correct for Keras 3 (see benchmarks/loops.py): per step
   ``fake = G.predict(z)`` (one batch), ``D.train_on_batch`` on real and fake *concatenated*
   (2B samples, one D update, as in the fused step), then ``GAN.train_on_batch(z', ones)`` on
   ``GAN = Sequential([G, D])``, with ``D.trainable`` set True before D's call and False before
   the combined model's. A verified warm-up step asserts that D's call changes D's weights and
   that the combined model's call changes G's and leaves D's bit-identical.
B  the pipeline's fused ``GAN.train_step`` (ganflow.training.step), compiled as the train stage
   compiles it (ganflow.training.loop.train_adversarial: optimizers and learning rates, ``jit_compile``
   and ``steps_per_execution = log_every`` from the params file), fed by ``real_batches``; timed
   by calling its compiled train function, ``steps_per_execution`` steps per call. When a
   timing's steps are not a multiple of ``log_every`` (the conv GANs' few slow steps), one
   call runs all of them.

Both use the same optimizers, learning rates, label smoothing/noise and loss (cross-entropy on
D's sigmoid units; for ``sine``'s two units against one-hot (1 - t, t), the mean over both).

Timing: after warm-up (every function traced and run once; B asserts no retrace while timed),
A and B alternate, A B A B ..., ``--repeats`` timings of ``--steps`` steps each; ms/step is the
median timing / steps. Speedup = A / B. TensorFlow's thread settings are left at their
defaults (reported); op determinism is enabled as the train stage enables it
(``train.<gan>.deterministic``).

FLOPs (benchmarks/flops.py): analytic, 2 per multiply-accumulate of Dense/Conv/ConvTranspose
layers, from the layer shapes; backward = 2 × forward; one step = (4·G + 9·D)·B for per-sample
forward FLOPs G and D (G forward for D's fakes, D forward+backward on 2B, G and D
forward+backward on B). B's GFLOP/s are compared with the peak measured in the same run: a
float32 2048² matmul and a float32 conv2d (32×32×32×256 → 256, 3×3).

Also times a no-op ``dvc repro`` (only when ``dvc status`` is clean; ``--skip-dvc``).
Writes JSON (``--out``) and a markdown table next to it (same name, ``.md``).
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GANS = ("sine", "curve", "mnist_dcgan", "mnist_mlp", "cifar_ship")
# Batch sizes measured besides each GAN's params batch size (the tutorials' and the CI's).
EXTRA_BATCHES = {"sine": (256,), "mnist_dcgan": (32,)}
# Steps per timing at a reference batch size; larger batches get ceil(steps * ref / batch),
# smaller ones the same steps.
# A's steps cost ~30-100 ms of Keras per-call overhead even for tiny models (G.predict builds
# a tf.data pipeline per call), which bounds the small GANs' step counts.
DEFAULT_STEPS = {"sine": (256, 50), "curve": (256, 100), "mnist_dcgan": (32, 2),
                 "mnist_mlp": (32, 100), "cifar_ship": (32, 1)}


# --- command line --------------------------------------------------------------------------


def _assignments(values: list[str] | None, option: str,
                 many: bool = False) -> tuple[int | None, dict[str, list[int]]]:
    """``N`` (for every GAN) and ``name=N`` items (``name=N,N...`` if ``many``) ->
    (global N, {name: [N, ...]})."""
    everywhere, per_gan = None, {}
    for item in values or []:
        name, _, rhs = item.rpartition("=")
        try:
            numbers = [int(v) for v in rhs.split(",") if v.strip()]
        except ValueError:
            raise SystemExit(f"{option}: not an integer in {item!r}") from None
        if not numbers or min(numbers) < 1:
            raise SystemExit(f"{option}: expected positive integers in {item!r}")
        if len(numbers) > 1 and not (name and many):
            raise SystemExit(f"{option}: expected one number in {item!r}")
        if not name:
            everywhere = numbers[0]
        elif name not in GANS:
            raise SystemExit(f"{option}: unknown GAN {name!r} (one of: {', '.join(GANS)})")
        else:
            per_gan[name] = numbers
    return everywhere, per_gan


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_step", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gans", default=",".join(GANS), help="comma-separated GANs (default: all five)")
    p.add_argument("--batch", action="append", metavar="B|NAME=B[,B...]",
                   help="batch size for every GAN (B), or batch sizes of one (NAME=B,...; "
                        "repeatable); default: train.<gan>.batch_size from the params file, plus "
                        "256 for sine and 32 for mnist_dcgan")
    p.add_argument("--steps", action="append", metavar="N|NAME=N",
                   help="steps per timing, for every GAN (N) or one (NAME=N; repeatable); default "
                        "per GAN, fewer for larger batches: "
                        + ", ".join(f"{g} {s} at batch {b}" for g, (b, s) in DEFAULT_STEPS.items()))
    p.add_argument("--repeats", type=int, default=7, help="timings of each of A and B (default: 7)")
    p.add_argument("--warmup", type=int, default=1,
                   help="A's warm-up steps before its verified step; B warms up with one call "
                        "(default: 1)")
    p.add_argument("--params", type=Path, default=ROOT / "params.yaml",
                   help="params file for batch sizes, optimizers, log_every, jit_compile "
                        "(default: params.yaml)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/train_step.json",
                   help="JSON results; the markdown table goes next to it as .md "
                        "(default: benchmarks/results/train_step.json)")
    p.add_argument("--skip-dvc", action="store_true", help="do not time a no-op dvc repro")
    p.add_argument("--skip-peak", action="store_true", help="do not measure matmul/conv peaks")
    p.add_argument("--dry-run", action="store_true",
                   help="print the measurements that would run (GAN, batch, steps) and exit")
    args = p.parse_args(argv)
    args.gans = [g.strip() for g in args.gans.split(",") if g.strip()]
    unknown = sorted(set(args.gans) - set(GANS))
    if unknown:
        p.error(f"--gans: unknown {', '.join(unknown)} (one of: {', '.join(GANS)})")
    if args.repeats < 1 or args.warmup < 0:
        p.error("--repeats must be >= 1 and --warmup >= 0")
    return args


def plan(args: argparse.Namespace, params: dict) -> list[tuple[str, int, int]]:
    """(gan, batch, steps per timing) for every measurement, in order."""
    batch_all, batches = _assignments(args.batch, "--batch", many=True)
    steps_all, steps_per_gan = _assignments(args.steps, "--steps")
    configs = []
    for gan in args.gans:
        default = sorted({params[gan].gan.batch_size, *EXTRA_BATCHES.get(gan, ())})
        sizes = batches.get(gan) or ([batch_all] if batch_all else default)
        for batch in sizes:
            if gan in steps_per_gan:
                steps = steps_per_gan[gan][0]
            elif steps_all:
                steps = steps_all
            else:
                ref_batch, ref_steps = DEFAULT_STEPS[gan]
                steps = math.ceil(ref_steps * min(1.0, ref_batch / batch))
            configs.append((gan, batch, steps))
    return configs


def steps_per_execution(log_every: int, steps: int) -> int:
    """B's steps per compiled call: the train stage's ``log_every`` when a timing's ``steps``
    is a multiple of it; otherwise all of the timing's steps in one call (that happens only
    for the conv GANs' few slow steps, where a call's fixed overhead of ~1 ms is negligible)."""
    return log_every if steps % log_every == 0 else steps


# --- measuring -----------------------------------------------------------------------------


def _stats(timings: list[float], steps: int, flops: int) -> dict:
    import numpy as np

    per_step = float(np.median(timings)) / steps
    return {"s_per_step": per_step, "s_per_step_min": min(timings) / steps,
            "timings_s": [round(t, 6) for t in timings], "gflops": flops / per_step / 1e9}


def alternate(a, b, steps: int, repeats: int) -> tuple[list[float], list[float]]:
    """Timings of A and B, alternated: A B A B ..."""
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(a.time(steps))
        tb.append(b.time(steps))
    return ta, tb


def bench_one(gan: str, params, batch: int, steps: int, repeats: int, warmup: int) -> dict:
    """A and B for one GAN at one batch size."""
    import time

    from benchmarks.flops import forward_flops, step_flops
    from benchmarks.loops import FusedLoop, TutorialLoop, synthetic_data
    from ganflow import runtime
    from ganflow.models import get_spec

    gp, spec = params.gan, get_spec(gan)
    # as the train stage: seeds, op determinism (threads: set at process start, see main)
    runtime.setup(gp.seed, gp.deterministic)
    x = synthetic_data(spec, batch, gp.seed)
    a = TutorialLoop(spec, params, x, batch)
    b = FusedLoop(spec, params, x, batch, steps_per_execution(gp.log_every, steps))
    t0 = time.perf_counter()
    verified = a.warm_up(warmup)
    t1 = time.perf_counter()
    b_warm = b.warm_up()
    t2 = time.perf_counter()
    ta, tb = alternate(a, b, steps, repeats)
    g_flops, d_flops = forward_flops(a.generator), forward_flops(a.discriminator)
    flops = step_flops(g_flops, d_flops, batch)
    a_stats, b_stats = _stats(ta, steps, flops), _stats(tb, steps, flops)
    return {
        "gan": gan, "batch": batch, "steps_per_timing": steps, "repeats": repeats,
        "flops_per_step": flops, "g_forward_flops_per_sample": g_flops,
        "d_forward_flops_per_sample": d_flops,
        "speedup": a_stats["s_per_step"] / b_stats["s_per_step"],
        "a": {**a_stats, "warmup_s": t1 - t0, "warmup_steps": warmup + 1,
              "phase_s_per_step_mean": {k: v / (repeats * steps) for k, v in a.phase_s.items()},
              "d_update": "one train_on_batch on real+fake concatenated (2B)",
              "verified": verified, "jit_compile": gp.jit_compile},
        "b": {**b_stats, "warmup_s": t2 - t1, "warmup": b_warm,
              "steps_per_execution": b.steps_per_execution, "log_every": gp.log_every,
              "jit_compile": gp.jit_compile, "deterministic": gp.deterministic,
              "precision": gp.precision},
        "intra_op_threads": gp.intra_op_threads,
    }


def measure_peaks(skip: bool) -> dict:
    if skip:
        return {"matmul": None, "conv2d": None}
    from benchmarks.flops import conv_peak, matmul_peak

    return {"matmul": matmul_peak(), "conv2d": conv_peak()}


CONVENTIONS = {
    "flops": "FLOPs: 2 per multiply-accumulate of Dense/Conv/ConvTranspose layers (others ignored); "
             "backward = 2 × forward; one step = (4·G + 9·D)·batch for per-sample forward FLOPs G, D "
             "(G fwd for D's fakes; D fwd+bwd on 2·batch; G and D fwd+bwd on batch).",
    "timing": "median of the timings / steps per timing; A and B alternated after warm-up; "
              "TensorFlow threads at their defaults",
    "data": "synthetic: uniform random values in the model's data range, in the data's shape",
}


# --- main ----------------------------------------------------------------------------------


class _NoRetraceWarning:
    """Drops TensorFlow's "N out of the last M calls ... triggered tf.function retracing"
    warning: it counts traces per function *code*, so every fresh model's first trace adds to
    it. The loops count their own traces and assert that none happens while timed."""

    @staticmethod
    def filter(record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    from ganflow import runtime  # first: quiets TensorFlow logs before TensorFlow loads
    from ganflow.params import load_params

    params = {gan: load_params(args.params, "train", gan) for gan in args.gans}
    configs = plan(args, params)
    if args.dry_run:
        for gan, batch, steps in configs:
            spe = steps_per_execution(params[gan].gan.log_every, steps)
            print(f"{gan:>12} batch {batch:>6}: {args.repeats} x {steps} steps each of A and B "
                  f"(B: {spe} steps per call, log_every {params[gan].gan.log_every})")
        return {}

    if len(args.gans) > 1:
        return run_per_gan(args, argv)
    # One GAN: this process runs at its train.<gan>.intra_op_threads, for A and B alike.
    runtime.set_threads(params[args.gans[0]].gan.intra_op_threads)

    import keras
    import tensorflow as tf

    from benchmarks import report

    tf.get_logger().addFilter(_NoRetraceWarning())

    machine, peak = machine_and_peaks(args.skip_peak, lambda m: (
        f"TF threads intra/inter {m['tf_threads']['intra_op']}/{m['tf_threads']['inter_op']} (0 = default)"))
    results = []
    for gan, batch, steps in configs:
        print(f"{gan} batch {batch}: {args.repeats} x {steps} steps each of A and B ...", flush=True)
        results.append(bench_one(gan, params[gan], batch, steps, args.repeats, args.warmup))
        print(report.console_line(results[-1], peak), flush=True)
        keras.backend.clear_session()
        gc.collect()
    return finish(args, argv, machine, peak, results)


def machine_and_peaks(skip_peak: bool, threads_note) -> tuple[dict, dict]:
    """Describe the machine and measure the peaks, printing both; ``threads_note(machine)`` ends
    the machine line."""
    from benchmarks import system

    machine = system.machine_info()
    print(f"{machine['cpu_model']}, {machine['cpu_count']} cores, TF {machine['tensorflow']}, "
          f"Keras {machine['keras']}, {threads_note(machine)}", flush=True)
    peak = measure_peaks(skip_peak)
    for p in filter(None, peak.values()):
        print(f"peak: {p['op']}: {p['gflops_best']:.0f} GFLOP/s", flush=True)
    return machine, peak


def finish(args: argparse.Namespace, argv: list[str] | None, machine: dict, peak: dict,
           results: list[dict]) -> dict:
    """Time the no-op ``dvc repro`` (unless skipped); write the JSON and the markdown table."""
    from benchmarks import report, system
    from ganflow.cli import write_json

    dvc = None if args.skip_dvc else system.time_noop_repro(ROOT)
    if dvc is not None:
        print(report.dvc_line(dvc), flush=True)
    out = {"machine": machine, "peak": peak, "results": results, "dvc": dvc,
           "repeats": args.repeats, "params_file": str(args.params), "conventions": CONVENTIONS,
           "command": " ".join(["python -m benchmarks.train_step", *(argv or sys.argv[1:])])}
    write_json(args.out, out)
    md = args.out.with_suffix(".md")
    md.write_text(report.markdown(out))
    print(f"wrote {args.out} and {md}")
    return out


def run_per_gan(args: argparse.Namespace, argv: list[str] | None) -> dict:
    """Each GAN in its own process (TensorFlow's thread count is fixed per process, and
    train.<gan>.intra_op_threads differs between GANs); the peaks and the no-op ``dvc repro``
    in this one, at TensorFlow's default threads; one JSON and table for all."""
    import json
    import subprocess
    import tempfile

    machine, peak = machine_and_peaks(args.skip_peak, lambda m: "each GAN in its own process")
    passed = [f"--repeats={args.repeats}", f"--warmup={args.warmup}", f"--params={args.params}",
              "--skip-dvc", "--skip-peak"]
    passed += [f"--batch={b}" for b in args.batch or []] + [f"--steps={s}" for s in args.steps or []]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for gan in args.gans:
            out = Path(tmp) / f"{gan}.json"
            subprocess.run([sys.executable, "-m", "benchmarks.train_step", f"--gans={gan}",
                            f"--out={out}", *passed], check=True, cwd=ROOT)
            results += json.loads(out.read_text())["results"]
    return finish(args, argv, machine, peak, results)


if __name__ == "__main__":
    from ganflow.errors import run_cli

    run_cli(main)
