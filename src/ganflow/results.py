"""Each GAN's headline results beside its target and its real-data floor.

    ganflow results                     # the workspace's metrics: one short table a GAN
    ganflow results --exp lr4e-4        # any experiment or commit `dvc exp show` lists
    ganflow results --readme README.md  # rewrite README's results block from the metrics
    ganflow results --readme README.md --check   # exit 1 if the block and the metrics disagree

The figures come from ``reports/<gan>/eval/metrics.json`` (evaluate's, kept in git beside
dvc.lock); the stage wall times from the run record ``ganflow repro`` writes
(:mod:`ganflow.runrecord`). The targets are issue 12's, for a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ganflow import GAN_NAMES
from ganflow.errors import UserError
from ganflow.runrecord import RECORD, load_record

# figure -> (direction, bound); a "<k>x floor" bound is k times the real-data floor's figure
TARGETS = {
    "sine": {"diversity": (">=", 0.8), "fit_rmse_mean": ("<=", 0.05), "mul_w1": ("<=", 0.1)},
    "curve": {"abs_err_mean": ("<=", 0.005), "x_w1": ("<=", 0.01)},
    "mnist_mlp": {"classifier_score": (">=", 9.0), "modes_covered": (">=", 10), "label_kl": ("<=", 0.02),
                  "fcd": ("<=", "8x floor")},
    "mnist_dcgan": {"classifier_score": (">=", 9.3), "modes_covered": (">=", 10), "fcd": ("<=", "3x floor")},
    "cifar_ship": {"ship_frac": (">=", 0.6), "fcd": ("<=", "half the tutorial recipe's")},
}
# Training budgets of the targets, CPU-minutes on 2 cores
BUDGET_MIN = {"sine": 5, "curve": 1, "mnist_mlp": 10, "mnist_dcgan": 60, "cifar_ship": 60}
BEGIN, END = "<!-- results:begin (ganflow results --readme README.md) -->", "<!-- results:end -->"


def bound(rule: tuple, floor: float | None) -> float | None:
    """The rule's number: a constant, k x the floor, or None (a target no single run decides)."""
    value = rule[1]
    if not isinstance(value, str):
        return float(value)
    if value.endswith("x floor") and floor is not None:
        return float(value.split("x")[0]) * floor
    return None


def met(value: float, rule: tuple, floor: float | None = None) -> bool | None:
    limit = bound(rule, floor)
    if limit is None:
        return None
    return value >= limit if rule[0] == ">=" else value <= limit


@dataclass
class Row:
    gan: str
    figure: str
    value: float
    floor: float | None
    target: str
    ok: bool | None  # None: this run alone cannot tell


def rows(metrics: dict[str, dict]) -> list[Row]:
    """Headline rows for each GAN present in ``metrics`` (GAN -> evaluate's metrics.json)."""
    out = []
    for gan in (g for g in GAN_NAMES if g in metrics):
        quality, floor = metrics[gan].get("quality", {}), metrics[gan].get("floor", {})
        for figure, rule in TARGETS[gan].items():
            if figure not in quality:
                continue
            ref = floor.get(figure)
            limit = bound(rule, ref)
            text = f"{rule[0]} {rule[1]}" + (f" = {_num(limit)}" if isinstance(rule[1], str) and limit is not None else "")
            out.append(Row(gan, figure, float(quality[figure]), None if ref is None else float(ref), text,
                           met(float(quality[figure]), rule, ref)))
    return out


def _num(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.0f}" if float(x).is_integer() and abs(x) < 1e6 else f"{x:.3g}"


def _mark(ok: bool | None) -> str:
    return {True: "yes", False: "no", None: "—"}[ok]


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def terminal(table: list[Row], record: dict | None = None) -> str:
    """The per-GAN summary: a line per headline figure, the GAN's train time first."""
    stages = (record or {}).get("stages", {})
    lines = [f"{'GAN':12} {'figure':17} {'value':>9} {'floor':>9}  {'target':24} met"]
    for gan in dict.fromkeys(r.gan for r in table):
        train = stages.get(f"train@{gan}", {}).get("wall_s")
        lines.append(f"{gan} (train {_minutes(train)} min, budget {BUDGET_MIN[gan]})")
        for r in (r for r in table if r.gan == gan):
            lines.append(f"  {'':10} {r.figure:17} {_num(r.value):>9} {_num(r.floor):>9}  {r.target:24} {_mark(r.ok)}")
    return "\n".join(lines)


def markdown(table: list[Row], record: dict) -> str:
    """README's results block: the run (commit, date, CPU), the headline table, stage times."""
    stages = record.get("stages", {})
    total = sum(s["wall_s"] for s in stages.values())
    cpus = sorted({s.get("cpu", "?") for s in stages.values()})
    # a short hash, keeping the record's "-dirty" (a stage run with uncommitted changes)
    commits = ", ".join(f"`{c[:10]}{c[40:]}`" for c in dict.fromkeys(s.get("commit", record.get("commit", "?"))
                                                               for s in stages.values()))
    out = [f"Reference run of `dvc repro` on params.yaml at commit {commits} "
           f"(finished {record.get('finished', '?')}), CPU: {'; '.join(cpus)}. "
           f"Stage wall times add up to **{total / 60:.0f} min**.", "",
           "| GAN | figure | value | real-data floor | target | met |", "|---|---|---:|---:|---|---|"]
    out += [f"| `{r.gan}` | {r.figure} | {_num(r.value)} | {_num(r.floor)} | {r.target} | {_mark(r.ok)} |"
            for r in table]
    noted = any("note" in s for s in stages.values())  # a time not measured by `ganflow repro` says how
    out += ["", "| stage | wall s |" + (" note |" if noted else ""), "|---|---:|" + ("---|" if noted else "")]
    out += [f"| `{name}` | {s['wall_s']:.1f} |" + (f" {s.get('note', '')} |" if noted else "")
            for name, s in stages.items()]
    return "\n".join(out)


def workspace_metrics(root: Path = Path(".")) -> dict[str, dict]:
    out = {}
    for gan in GAN_NAMES:
        path = root / "reports" / gan / "eval" / "metrics.json"
        if path.is_file():
            try:
                out[gan] = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}: not JSON ({exc.msg})") from None
    return out


def experiment_metrics(name: str, root: Path = Path(".")) -> dict[str, dict]:
    """Evaluate's metrics of the experiment or commit ``name``, as `dvc exp show` has them."""
    proc = subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--json", "-A"], cwd=root,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise UserError(f"dvc exp show: {(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
    for baseline in json.loads(proc.stdout or "[]"):
        for exp in [baseline, *(baseline.get("experiments") or [])]:
            for run in exp.get("revs") or [exp]:  # an experiment's runs; a commit is its own
                names = {exp.get("name"), run.get("name"), run.get("rev")} - {None}
                if name in names or any(str(r).startswith(name) for r in (run.get("rev"), exp.get("rev")) if r):
                    found = (run.get("data") or {}).get("metrics") or {}
                    return {gan: found[f"reports/{gan}/eval/metrics.json"]["data"] for gan in GAN_NAMES
                            if "data" in found.get(f"reports/{gan}/eval/metrics.json", {})}
    raise UserError(f"--exp {name}: no such experiment or commit in `dvc exp show -A`")


def update_readme(path: Path, block: str, check: bool) -> bool:
    """Replace README's results block; with ``check``, only say whether it is up to date."""
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise UserError(f"{path}: no results block (the lines {BEGIN!r} and {END!r})")
    head, rest = text.split(BEGIN, 1)
    new = f"{head}{BEGIN}\n{block}\n{END}{rest.split(END, 1)[1]}"
    if check:
        return new == text
    path.write_text(new)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ganflow results", description=__doc__.split("\n\n")[0])
    parser.add_argument("--exp", help="an experiment name or commit (dvc exp show -A); default: the workspace")
    parser.add_argument("--record", type=Path, default=RECORD, help=f"the run record (default {RECORD})")
    parser.add_argument("--readme", type=Path, help="write the results block of this README")
    parser.add_argument("--check", action="store_true", help="with --readme: exit 1 if the block is out of date")
    args = parser.parse_args(argv)
    metrics = experiment_metrics(args.exp) if args.exp else workspace_metrics()
    if not metrics:
        raise UserError("no evaluate metrics (reports/<gan>/eval/metrics.json): run `dvc repro` first")
    record = load_record(args.record) if args.exp is None or args.readme else None
    if args.readme:
        if not record or not record.get("stages"):
            raise UserError(f"{args.record}: no run record; `ganflow repro --record {args.record}` writes one")
        same = update_readme(args.readme, markdown(rows(metrics), record), args.check)
        if args.check and not same:
            print(f"{args.readme}: the results block differs from the metrics; run "
                  f"`ganflow results --readme {args.readme} --record {args.record}`", file=sys.stderr)
            raise SystemExit(1)
        return
    print(terminal(rows(metrics), record))
