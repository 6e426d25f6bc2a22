"""Precision benchmark: the pipeline's fused step in float32 against a mixed policy.

    python -m benchmarks.precision [--gans mnist_dcgan,cifar_ship] [--policy mixed_bfloat16]
                                   [--batch 32] [--steps 2] [--repeats 7]

For each GAN, in one process: two copies of the train stage's compiled GAN
(``ganflow.training.loop.build_gan`` with ``train.<gan>.precision`` = float32, and = ``--policy``), on
the same synthetic data; after one warm-up call each, timings alternate F P F P ...,
``--repeats`` of ``--steps`` steps each; ms/step = median / steps. Prints one line per GAN and
writes JSON (``--out``). Whether a policy is also as good (quality metrics) is a separate,
full training run; see README "Performance".
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.precision", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gans", default="mnist_dcgan,cifar_ship", help="comma-separated GANs")
    p.add_argument("--policy", default="mixed_bfloat16", choices=["mixed_bfloat16", "mixed_float16"])
    p.add_argument("--batch", type=int, default=32, help="batch size (default: 32)")
    p.add_argument("--steps", type=int, default=2, help="steps per timing (default: 2)")
    p.add_argument("--repeats", type=int, default=7, help="timings of each variant (default: 7)")
    p.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/precision.json")
    return p.parse_args(argv)


def bench(gan: str, params, policy: str, batch: int, steps: int, repeats: int) -> dict:
    import numpy as np

    from benchmarks.flops import forward_flops, step_flops
    from benchmarks.loops import FusedLoop, synthetic_data
    from ganflow import runtime
    from ganflow.models import get_spec

    spec = get_spec(gan)
    runtime.setup(params.gan.seed, params.gan.deterministic)
    x = synthetic_data(spec, batch, params.gan.seed)
    loops = {}
    for precision in ("float32", policy):
        gp = params.gan.model_copy(update={"precision": precision})
        loops[precision] = FusedLoop(spec, params.model_copy(update={"gan": gp}), x, batch, steps)
        loops[precision].warm_up()
    timings = {k: [] for k in loops}
    for _ in range(repeats):
        for precision, loop in loops.items():
            timings[precision].append(loop.time(steps))
    g = loops["float32"].gan
    flops = step_flops(forward_flops(g.generator), forward_flops(g.discriminator), batch)
    ms = {k: 1000 * float(np.median(v)) / steps for k, v in timings.items()}
    return {"gan": gan, "batch": batch, "steps_per_timing": steps, "repeats": repeats,
            "ms_per_step": ms, "timings_s": timings, "speedup": ms["float32"] / ms[policy],
            "gflops": {k: flops / (v / 1000) / 1e9 for k, v in ms.items()}}


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    from ganflow import runtime  # noqa: F401  (quiet TensorFlow logs)
    from ganflow.cli import write_json
    from ganflow.params import load_params

    import keras

    from benchmarks import system

    machine = system.machine_info()
    print(f"{machine['cpu_model']}, {machine['cpu_count']} cores, TF {machine['tensorflow']}", flush=True)
    results = []
    for gan in [g.strip() for g in args.gans.split(",") if g.strip()]:
        params = load_params(args.params, "train", gan)
        r = bench(gan, params, args.policy, args.batch, args.steps, args.repeats)
        results.append(r)
        print(f"{gan} batch {args.batch}: float32 {r['ms_per_step']['float32']:.1f} ms/step "
              f"({r['gflops']['float32']:.0f} GFLOP/s), {args.policy} "
              f"{r['ms_per_step'][args.policy]:.1f} ms/step ({r['gflops'][args.policy]:.0f} GFLOP/s): "
              f"speedup {r['speedup']:.2f}x", flush=True)
        keras.backend.clear_session()
        gc.collect()
    write_json(args.out, {"machine": machine, "policy": args.policy, "results": results,
                          "command": " ".join(["python -m benchmarks.precision", *(argv or sys.argv[1:])])})
    print(f"wrote {args.out}")
    return results


if __name__ == "__main__":
    main()
