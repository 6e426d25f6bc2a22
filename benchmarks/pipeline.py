"""Pipeline benchmark: wall time of the whole `dvc repro`, and wall time and peak memory of
each stage, on a params file (default: params.ci.yaml), in a scratch copy of the repo.

    python -m benchmarks.pipeline [--params params.ci.yaml] [--out benchmarks/results/pipeline.json]

1. ``scripts/scratch_repo.sh`` copies the working tree into a temporary git+DVC repo with the
   params file as its params.yaml (the repo itself is untouched); the data mirror is taken from
   ``GANFLOW_DATA_MIRROR`` (``scripts/env.sh`` sets it).
2. ``dvc repro`` of everything, timed: the whole pipeline, as CI runs it.
3. ``dvc repro --force --single-item STAGE`` for every stage in pipeline order, each inside its
   own wrapper process: wall time, and peak RSS as the largest ``ru_maxrss`` among the
   wrapper's descendants (DVC and the stage's Python process; the stage's is the larger).
4. A no-op ``dvc repro`` (nothing changed): one untimed run, then the median of 3.

Prints a table and writes JSON (``--out``) with a markdown table next to it (``.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs one command and prints its wall seconds and the peak RSS (KiB) of its process tree.
_WRAPPER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.perf_counter() - t0
print(json.dumps({"rc": rc, "wall_s": wall,
                  "peak_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def dvc(repo: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(["dvc", *args], cwd=repo, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"dvc {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc


def measured(repo: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _WRAPPER, "dvc", *args], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    if result["rc"]:
        raise SystemExit(f"dvc {' '.join(args)} failed (exit {result['rc']})")
    return result


def markdown(out: dict) -> str:
    lines = [f"{out['date']}, {out['machine']}; params: `{out['params']}`. `{out['command']}`.", "",
             f"Whole pipeline (`dvc repro`, every stage): **{out['repro_s']:.0f} s**; "
             f"no-op `dvc repro`: **{out['noop_repro_s']:.2f} s** (median of 3).", "",
             "| stage | wall s | peak RSS MiB |", "| --- | ---: | ---: |"]
    for s in out["stages"]:
        lines.append(f"| `{s['stage']}` | {s['wall_s']:.1f} | {s['peak_rss_kib'] / 1024:.0f} |")
    lines += ["", "Per stage: `dvc repro --force --single-item STAGE` (DVC's own start-up, ~1 s, "
              "included); peak RSS of the stage's process tree."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(prog="python -m benchmarks.pipeline", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--params", default="params.ci.yaml", help="params file, relative to the repo")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/pipeline.json")
    args = p.parse_args(argv)
    from benchmarks import system

    machine = system.machine_info()
    with tempfile.TemporaryDirectory(prefix="ganflow-bench-") as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["bash", str(ROOT / "scripts/scratch_repo.sh"), str(repo), args.params],
                       check=True, stdout=subprocess.DEVNULL)
        t0 = time.perf_counter()
        output = dvc(repo, "repro").stdout
        repro_s = time.perf_counter() - t0
        order = re.findall(r"Running stage '([^']+)'", output)
        print(f"whole pipeline: {repro_s:.1f} s ({len(order)} stages)", flush=True)
        stages = []
        for stage in order:
            r = measured(repo, "repro", "--force", "--single-item", stage)
            stages.append({"stage": stage, "wall_s": r["wall_s"], "peak_rss_kib": r["peak_rss_kib"]})
            print(f"{stage:>24}: {r['wall_s']:6.1f} s, peak RSS {r['peak_rss_kib'] / 1024:6.0f} MiB", flush=True)
        dvc(repo, "repro")
        noop = []
        for _ in range(3):
            t0 = time.perf_counter()
            dvc(repo, "repro")
            noop.append(time.perf_counter() - t0)
    out = {"date": machine["date"], "machine": f"{machine['cpu_model']}, {machine['cpu_count']} cores, "
                                               f"TF {machine['tensorflow']}",
           "params": args.params, "repro_s": repro_s, "noop_repro_s": statistics.median(noop),
           "noop_repro_timings_s": noop, "stages": stages,
           "command": " ".join(["python -m benchmarks.pipeline", *(argv or sys.argv[1:])]),
           "mirror": os.environ.get("GANFLOW_DATA_MIRROR")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(out))
    print(f"no-op dvc repro: {out['noop_repro_s']:.2f} s; wrote {args.out} and {args.out.with_suffix('.md')}")
    return out


if __name__ == "__main__":
    main()
