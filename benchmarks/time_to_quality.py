"""Time-to-quality: the tutorial recipe against ganflow's, for the same CPU budget.

For each GAN, in one process on one machine, one run after the other (never two at once): each
recipe × seed trains from a fresh G and D (no discriminator pretraining: the same for both
recipes) on the pipeline's training data, with the train stage's code
(:func:`ganflow.training.loop.train_adversarial`), measuring the in-training quality
(:class:`ganflow.evaluation.TrainingQuality`, on ``eval_samples`` samples) on a grid of
budget / 20 seconds of training (checked between compiled calls of ``LOG_EVERY`` steps), until
the budget of training seconds (wall time, evaluation excluded) is spent.

Recipes: ``ganflow`` is the GAN's ``train.<gan>`` block of the params file as it is (the
recommended recipe); ``tutorial`` is the same block with every recipe key off (cross-entropy
loss, no augmentation, no EMA, no R1) and the tutorial's batch size and learning-rate scales.
The tutorial recipe's quality at a time is its generator's then (the tutorial keeps its last
G); ganflow's is the best so far (what the train stage saves).

Writes, under ``--out``: ``<gan>.json`` (every evaluation of every run, the machine, the
params), ``time_to_quality.json`` / ``.md`` (per GAN and recipe: quality at the budget, mean
over seeds; CPU-minutes to reach each target and the tutorial's quality at its budget) and
``<gan>.png`` (selection score vs CPU-minutes, every run) and ``<gan>-<recipe>-seed<k>.png``
(each run's kept generator: samples from the train stage's fixed latents; ``-<B>min`` before
``-seed`` for a budget other than the GAN's target budget). A finished run is kept in
``<gan>.json`` with its budget, beside the other budgets' runs; rerunning skips it (a killed
benchmark resumes run by run). Runs of different budgets are summarized apart (one table row
per GAN, recipe and budget) and drawn together (``<gan>.png``, the longer budgets solid). A
run's recipe is named by what it trained: ``ganflow`` at width 1, ``ganflow-w<W>`` otherwise
(``ganflow-wg<G>-wd<D>`` when G and D differ; so ``ganflow`` on a params file whose width is 0.5
is recorded as ``ganflow-w0.5``); a
``-bf16`` suffix trains in ``mixed_bfloat16`` (refused on a CPU without native bf16). An
ablation runs a variant params file under a tag: ``--params my.yaml --tag ema0.99_noaug`` records
``ganflow+ema0.99_noaug`` (each run keeps its train params, so the variant is on record).

    python -m benchmarks.time_to_quality --gans sine,curve --seeds 1
    python -m benchmarks.time_to_quality --gans mnist_dcgan --budget 15 --seeds 2
    python -m benchmarks.time_to_quality --gans mnist_dcgan --recipes tutorial,ganflow --budget 60
    python -m benchmarks.time_to_quality --gans cifar_ship --recipes ganflow --budget 20 \
        --params variant.yaml --tag noaug

Needs ``data/<gan>/train.npz`` (``dvc repro prepare@<gan>``) and, for the image GANs, the
evaluation classifier (``dvc repro classifier@mnist`` / ``classifier@cifar10``, or
``--classifiers DIR``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from ganflow.results import BUDGET_MIN, TARGETS, bound, met


DATASET = {"mnist_dcgan": "mnist", "mnist_mlp": "mnist", "cifar_ship": "cifar10"}
RECIPE_OFF = {"loss": "nonsaturating", "augment": "", "ema": {"decay": 0.0, "warmup": 0},
              "r1": {"gamma": 0.0, "every": 16}}
# The tutorials' batch sizes and learning-rate scales (the seeds' numbers; params.yaml's
# comments): where ganflow's recipe changes them, the tutorial recipe restores them.
TUTORIAL = {
    "sine": {"batch_size": 10000, "lr_scale": {"g": 5.0, "d": 5.0}},
    "curve": {"batch_size": 256, "lr_scale": {"g": 5.0, "d": 5.0}},
    "mnist_dcgan": {"batch_size": 256, "lr_scale": {"g": 1.0, "d": 1.0}},
    "mnist_mlp": {"batch_size": 32, "lr_scale": {"g": 1.0, "d": 1.0}},
    "cifar_ship": {"batch_size": 32, "lr_scale": {"g": 2.0, "d": 4.0}, "label_noise": 0.05},
}


# Steps per compiled call here: the budget and the evaluation grid are checked between calls,
# so a call must be short (params.yaml's 100 and 50 steps are 1.5-6 min for the conv GANs).
LOG_EVERY = {"mnist_dcgan": 10, "cifar_ship": 5}


def recipe_block(block: dict, gan: str, recipe: str, seed: int) -> dict:
    log = LOG_EVERY.get(gan, block["log_every"])
    block = dict(block, seed=seed, log_every=log, steps=log * 10**6, checkpoint_every=log * 10**6,
                 sample_every=log * 10**6, patience=0)
    if recipe == "tutorial":
        block.update(RECIPE_OFF, **TUTORIAL[gan])
    block.setdefault("eval_every", 0)
    if not block["eval_every"]:
        block["eval_every"] = block["log_every"] * 10
    return block


def run_one(gan: str, recipe: str, seed: int, doc: dict, budget_s: float, classifiers: Path,
            png: Path | None = None) -> dict:
    """One run, in this process (a fresh one: TensorFlow's threads are set before it starts);
    the kept generator's samples from the train stage's fixed latents go to ``png``."""
    from ganflow import plots, runtime
    from ganflow.data.prepare import load_prepared
    from ganflow.evaluation import TrainingQuality
    from ganflow.training.loop import train_adversarial
    from ganflow.modelio import load_model
    from ganflow.models import get_spec
    from ganflow.params import params_from

    doc = json.loads(json.dumps(doc))
    base, width = recipe_width(recipe, doc["pretrain"][gan].get("width", {}))
    doc["train"][gan] = recipe_block(doc["train"][gan], gan, base, seed)
    if precision := recipe_precision(recipe):
        doc["train"][gan]["precision"] = precision
    params = params_from(doc, Path("params.yaml"), "train", gan)
    spec = get_spec(gan)
    x = spec.to_model(load_prepared(gan, Path("data") / gan / "train.npz"))
    runtime.setup(seed, params.gan.deterministic, params.gan.intra_op_threads)
    path = classifier_path(classifiers, gan)
    classifier = load_model(path) if path else None
    quality = TrainingQuality(spec, x, params.gan.eval_samples, seed, classifier)
    with tempfile.TemporaryDirectory() as live:
        trained = train_adversarial(spec, params, lambda: (spec.build_generator(width["g"]),
                                                           spec.build_discriminator(width["d"])),
                                    x, live, quality=quality, budget_s=budget_s)
    if png is not None:
        from ganflow.sampling import N_FIXED, fixed_latents, generate

        shown = generate(spec, trained.generator, fixed_latents(spec, seed))
        real = x[:N_FIXED[spec.kind]] if spec.kind != "image" else None
        plots.save(plots.samples(spec.kind, shown, real, f"{gan}: {recipe} recipe, seed {seed}, "
                                 f"{budget_s / 60:.3g} CPU-min"), png)
    return {"gan": gan, "recipe": recipe, "seed": seed, "budget_s": budget_s, "floor": quality.floor, "width": width,
            "classifier": classifier_record(classifiers, gan),
            "params": params.gan.model_dump(), "steps": trained.steps_run, "wall_s": trained.wall_time_s,
            "eval_s": trained.quality_time_s, "history": trained.quality_history}


def classifier_path(classifiers: Path, gan: str) -> Path | None:
    """The evaluation classifier of an image GAN's dataset in ``classifiers``; None for the curves."""
    return classifiers / f"{DATASET[gan]}.keras" if gan in DATASET else None


def classifier_record(classifiers: Path, gan: str) -> dict | None:
    """Which evaluation classifier measured a run: its file's sha256 and, for the pipeline's
    (``models/classifier``), its test accuracy. FCD and scores from different classifiers are not
    comparable: :func:`main` refuses to mix them in one ``<gan>.json``."""
    path = classifier_path(classifiers, gan)
    if path is None:
        return None
    record = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    metrics = Path("reports/classifier") / DATASET[gan] / "metrics.json"
    if classifiers.resolve() == Path("models/classifier").resolve() and metrics.exists():
        record["test_accuracy"] = json.loads(metrics.read_text()).get("test_accuracy")
    return record


def check_classifier(path: Path, runs: list[dict], record: dict | None) -> None:
    """Stop before any run when ``<gan>.json`` holds runs measured with another classifier (runs
    recorded before classifiers were: unknown, taken as another)."""
    if record is None or not runs:
        return
    other = [r for r in runs if (r.get("classifier") or {}).get("sha256") != record["sha256"]]
    if other:
        raise SystemExit(f"error: {path}: {len(other)} run(s) were measured with another (or an unrecorded) "
                         f"evaluation classifier than {record['sha256'][:12]}: their figures are not comparable; "
                         "pass another --out")


def parse(recipe: str) -> tuple[str, dict | None, bool]:
    """``tutorial``, ``ganflow``, ``ganflow-w<W>`` or ``ganflow-wg<G>-wd<D>`` (the names
    :func:`label` records), each optionally ``-bf16``: (base recipe, {g, d} or None, bf16); a
    ``+<tag>`` after it is ignored."""
    recipe = recipe.partition("+")[0]
    bf16 = recipe.endswith("-bf16")
    base, _, w = recipe.removesuffix("-bf16").partition("-w")
    if not w:
        return base, None, bf16
    g, sep, d = w.partition("-wd")
    if sep:
        return base, {"g": float(g.removeprefix("g")), "d": float(d)}, bf16
    return base, {"g": float(w), "d": float(w)}, bf16


def recipe_width(recipe: str, params_width: dict) -> tuple[str, dict]:
    """(base recipe, {g, d}): width 1 for ``tutorial``, the name's for ``ganflow-w<W>`` or
    ``ganflow-wg<G>-wd<D>``, else pretrain.<gan>.width of the params file."""
    base, w, _ = parse(recipe)
    if base == "tutorial":
        return base, {"g": 1.0, "d": 1.0}
    if w is not None:
        return base, w
    return base, {"g": float(params_width.get("g", 1.0)), "d": float(params_width.get("d", 1.0))}


def recipe_precision(recipe: str) -> str | None:
    """``mixed_bfloat16`` for a ``-bf16`` recipe (only where the CPU has native bf16), else None
    (the params file's precision)."""
    if not parse(recipe)[2]:
        return None
    from ganflow.runtime import native_bf16

    if not native_bf16():
        raise SystemExit(f"error: recipe {recipe}: this CPU has no native bf16 (no avx512_bf16 or amx_bf16 "
                         "in /proc/cpuinfo): it would time oneDNN's float32 emulation")
    return "mixed_bfloat16"


def tag_name(tag: str) -> str:
    """A variant's tag: letters, digits, dots and underscores (it ends file names, and ``-`` would
    read as a width or bf16 suffix)."""
    if not re.fullmatch(r"[A-Za-z0-9._]+", tag):
        raise argparse.ArgumentTypeError(f"{tag!r}: use letters, digits, '.' and '_' only")
    return tag


def label(recipe: str, width: dict) -> str:
    """The name a run is recorded under: what it trained, whatever the params file's width was
    (a ``+<tag>`` stays at the end)."""
    base, _, bf16 = parse(recipe)
    tag = "".join(recipe.partition("+")[1:])
    suffix = ("-bf16" if bf16 else "") + tag
    g, d = float(width.get("g", 1.0)), float(width.get("d", 1.0))
    if base == "tutorial" or g == d == 1.0:
        return base + suffix
    return (f"{base}-w{g:g}" if g == d else f"{base}-wg{g:g}-wd{d:g}") + suffix


def load_runs(path: Path) -> list[dict]:
    """Every finished run in ``<gan>.json``, named by :func:`label` (runs recorded before widths
    were a recipe trained at width 1)."""
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    for r in runs:
        r.setdefault("width", {"g": 1.0, "d": 1.0})
        r["recipe"] = label(r["recipe"], r["width"])
    return runs


def png_name(gan: str, recipe: str, seed: int, budget_s: float) -> str:
    budget = "" if math.isclose(budget_s, 60 * BUDGET_MIN[gan]) else f"-{budget_s / 60:g}min"
    return f"{gan}-{recipe}{budget}-seed{seed}.png"


def _met(value: float, rule: tuple, floor: dict, name: str) -> bool:
    return bool(met(value, rule, floor.get(name)))


def summarize(gan: str, runs: list[dict]) -> dict:
    """Per recipe: quality at the budget (mean over seeds) and minutes to each target."""
    out: dict = {}
    tutorial = [_at_budget(r) for r in runs if r["recipe"] == "tutorial"]
    tutorial_level = float(np.mean([h["score"] for h in tutorial])) if tutorial else None
    for recipe in sorted({r["recipe"] for r in runs}):
        mine = [r for r in runs if r["recipe"] == recipe]
        rows = []
        for r in mine:
            at_budget = _at_budget(r)
            reach = {}
            # the targets one run decides (cifar_ship's FCD is judged against the tutorial's)
            decided = {n: rule for n, rule in TARGETS[gan].items() if bound(rule, r["floor"].get(n)) is not None}
            for name, rule in decided.items():
                hit = next((h["train_s"] for h in r["history"] if _met(h[name], rule, r["floor"], name)), None)
                reach[name] = None if hit is None else hit / 60
            all_hit = next((h["train_s"] for h in r["history"]
                            if all(_met(h[n], rule, r["floor"], n) for n, rule in decided.items())), None)
            level = None
            if tutorial_level is not None:
                level = next((h["train_s"] / 60 for h in r["history"] if h["score"] <= tutorial_level), None)
            rows.append({"seed": r["seed"], "steps": r["steps"], "at_budget": at_budget,
                         "minutes_to_target": reach, "minutes_to_all_targets": None if all_hit is None else all_hit / 60,
                         "minutes_to_tutorial_quality": level, "eval_overhead": r["eval_s"] / max(r["wall_s"], 1e-9)})
        keys = [k for k in rows[0]["at_budget"] if isinstance(rows[0]["at_budget"][k], (int, float))]
        out[recipe] = {"seeds": rows, "mean_at_budget": {k: float(np.mean([row["at_budget"][k] for row in rows]))
                                                         for k in keys}}
    out["tutorial_score_at_budget"] = tutorial_level
    out["floor"] = runs[0]["floor"]
    out["budget_min"] = runs[0]["budget_s"] / 60
    return out


def _at_budget(run: dict) -> dict:
    """The quality a recipe delivers for the budget. ganflow keeps its best G: the best
    evaluation within the budget. The tutorial keeps its last G: its first evaluation at or
    past the budget (it trained at least the budget: this favours the tutorial)."""
    budget = run["budget_s"] * 1.0001
    if run["recipe"] == "tutorial":
        return next((h for h in run["history"] if h["train_s"] >= budget), run["history"][-1])
    within = [h for h in run["history"] if h["train_s"] <= budget] or run["history"][:1]
    return min(within, key=lambda h: h["score"])


def plot(gan: str, runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    colors = {"tutorial": "tab:red", "ganflow": "tab:blue", "ganflow-w0.5": "tab:green", "ganflow-w0.75": "tab:olive",
              "ganflow-w1.5": "tab:purple", "ganflow-w0.5-bf16": "tab:cyan", "ganflow-bf16": "tab:brown"}
    others = iter(["tab:orange", "tab:pink", "tab:gray", "tab:olive", "tab:cyan", "tab:brown"])
    for recipe in sorted({r["recipe"] for r in runs} - set(colors)):  # tagged variants and the rest
        colors[recipe] = next(others, "black")
    longest = max(r["budget_s"] for r in runs)
    for r in runs:
        t = [h["train_s"] / 60 for h in r["history"]]
        s = [h["score"] for h in r["history"]]
        if r["recipe"] != "tutorial":
            s = list(np.minimum.accumulate(s))  # the kept (best-so-far) generator
        kept = "last G" if r["recipe"] == "tutorial" else "kept G: best so far"
        ax.plot(t, s, color=colors[r["recipe"]], alpha=0.8, ls="-" if r["budget_s"] == longest else "--",
                label=f"{r['recipe']} seed {r['seed']}, {r['budget_s'] / 60:g} min ({kept})")
    floor_score = sum(abs(runs[0]["floor"].get(n, 0) - ideal) / unit for n, ideal, unit in _selection(gan))
    ax.axhline(floor_score, color="k", ls=":", label="real-data floor")
    ax.set(xlabel="CPU-minutes of training (2 cores)", ylabel=_figure_name(gan), title=f"{gan}: quality vs CPU time")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _selection(gan: str):
    from ganflow.models import get_spec

    return get_spec(gan).selection


def _figure_name(gan: str) -> str:
    sel = _selection(gan)
    return f"{sel[0][0]} (lower is better)" if len(sel) == 1 else "selection score: sum of |figure - ideal| / target"


def markdown(summary: dict, system: dict) -> str:
    lines = [f"Machine: {system.get('cpu_model')} ({system.get('cpu_count')} cores; flags "
             f"{' '.join(system.get('cpu_flags', []))}); {system.get('date')}; TF {system.get('tensorflow')}.", "",
             "| GAN | recipe | budget (min) | seeds | selection score at budget | headline figures at budget "
             "| min to all targets | min to tutorial's quality at budget |", "|---|---|---|---|---|---|---|---|"]
    for gan, s in ((gan, s) for gan, per_budget in summary.items() for s in per_budget):
        for recipe in sorted((r for r in s if isinstance(s[r], dict) and "seeds" in s[r]),
                             key=lambda r: (r != "tutorial", r)):
            m = s[recipe]["mean_at_budget"]
            heads = ", ".join(f"{k} {m[k]:.4g}" for k in TARGETS[gan] if k in m)
            to_all = [row["minutes_to_all_targets"] for row in s[recipe]["seeds"]]
            to_tut = [row["minutes_to_tutorial_quality"] for row in s[recipe]["seeds"]]
            fmt = lambda v: "/".join("—" if x is None else f"{x:.1f}" for x in v)  # noqa: E731
            lines.append(f"| {gan} | {recipe} | {s['budget_min']:.3g} | {len(s[recipe]['seeds'])} | "
                         f"{m['score']:.4g} | {heads} | {fmt(to_all)} | {fmt(to_tut)} |")
    return "\n".join(lines) + "\n"


def seed_list(first: int, count: int) -> list[int]:
    """The seeds a call runs: ``count`` of them from ``first`` (a second seed alone: 2, 1)."""
    if first < 1 or count < 1:
        raise SystemExit(f"--first-seed {first} --seeds {count}: both must be >= 1")
    return list(range(first, first + count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gans", default=",".join(BUDGET_MIN))
    parser.add_argument("--recipes", default="tutorial,ganflow")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per recipe (1, 2, ...)")
    parser.add_argument("--first-seed", type=int, default=1,
                        help="the first of the --seeds seeds (e.g. 2: a second seed on a machine without the first)")
    parser.add_argument("--budget", type=float, help="CPU-minutes per run (default: each GAN's target budget)")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--classifiers", type=Path, default=Path("models/classifier"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/time_to_quality"))
    parser.add_argument("--tag", type=tag_name, help="record the runs as <recipe>+TAG (a variant --params file)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # GAN:RECIPE:SEED:BUDGET_S:OUT, in a child
    args = parser.parse_args()
    doc = yaml.safe_load(args.params.read_text())
    if args.one:
        gan, recipe, seed, budget_s, out = args.one.split(":", 4)
        result = run_one(gan, recipe, int(seed), doc, float(budget_s), args.classifiers, Path(out + ".png"))
        Path(out).write_text(json.dumps(result))
        return
    from benchmarks.system import machine_info

    args.out.mkdir(parents=True, exist_ok=True)
    summary_path = args.out / "time_to_quality.json"
    summary = json.loads(summary_path.read_text())["gans"] if summary_path.exists() else {}
    system = None
    for gan in args.gans.split(","):
        budget_s = 60 * (args.budget or BUDGET_MIN[gan])
        path = args.out / f"{gan}.json"
        runs = load_runs(path)
        widths = doc["pretrain"][gan].get("width", {})
        for recipe in args.recipes.split(","):
            recipe_precision(recipe)  # a -bf16 recipe without native bf16 stops here, before any run
            tagged = recipe + (f"+{args.tag}" if args.tag else "")  # the child's samples name the variant
            name = label(tagged, recipe_width(recipe, widths)[1])
            for seed in seed_list(args.first_seed, args.seeds):
                if any(r["recipe"] == name and r["seed"] == seed and math.isclose(r["budget_s"], budget_s)
                       for r in runs):
                    continue
                check_classifier(path, runs, classifier_record(args.classifiers, gan))
                print(f"time_to_quality: {gan} {name} seed {seed}, {budget_s / 60:.1f} CPU-minutes", flush=True)
                with tempfile.NamedTemporaryFile(suffix=".json") as result:
                    subprocess.run([sys.executable, "-m", "benchmarks.time_to_quality", "--params", str(args.params),
                                    "--classifiers", str(args.classifiers),
                                    "--one", f"{gan}:{tagged}:{seed}:{budget_s}:{result.name}"], check=True)
                    run = json.loads(Path(result.name).read_text())
                    run["recipe"] = name
                    runs.append(run)
                    shutil.move(result.name + ".png", args.out / png_name(gan, name, seed, budget_s))
                path.write_text(json.dumps({"runs": runs}, indent=1))
        if not runs:
            continue
        system = system or machine_info()  # after the runs: it starts TensorFlow
        budgets = sorted({r["budget_s"] for r in runs})
        summary[gan] = [summarize(gan, [r for r in runs if r["budget_s"] == b]) for b in budgets]
        plot(gan, runs, args.out / f"{gan}.png")
        summary_path.write_text(json.dumps({"system": system, "gans": summary}, indent=1))
        (args.out / "time_to_quality.md").write_text(markdown(summary, system))
        print((args.out / "time_to_quality.md").read_text())

if __name__ == "__main__":
    main()
