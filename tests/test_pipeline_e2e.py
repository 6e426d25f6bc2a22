"""End to end, with DVC itself: the whole pipeline on params.ci.yaml in a scratch git+DVC copy
of the repo, then what a params change reruns, `dvc exp run -S`, and `dvc plots show`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ganflow import GAN_NAMES

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
STAGES = ("prepare", "pretrain", "train", "evaluate")
CLASSIFIERS = {"classifier@mnist", "classifier@cifar10"}
CHECK = "check_params"  # validates the whole params file; every other stage waits for it
CURVE_METRICS = {
    "sine": {"fit_rmse_mean", "fit_rmse_p95", "mul_w1", "diversity", "out_of_range_frac"},
    "curve": {"abs_err_mean", "abs_err_p95", "x_w1", "x_out_of_range_frac", "diversity"},
}
# Each GAN's headline metric (lower is better): the floor (held-out real data) must beat the
# CI-scale generator, which has trained for a few hundred steps at most.
HEADLINE = {"sine": "fit_rmse_mean", "curve": "abs_err_mean", "mnist_dcgan": "fcd", "mnist_mlp": "fcd",
            "cifar_ship": "fcd"}
IMAGE_METRICS = {"fcd", "kid_mean", "kid_std", "classifier_score", "classifier_score_std",
                 "precision", "recall", "density", "coverage"}


def run(cwd: Path, env: dict, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run a command in its own process group. Past ``timeout`` seconds (or if the test is
    interrupted) the whole group is killed and the test fails: a hung command never hangs CI."""
    popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        stdout, stderr = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{' '.join(args)}: still running after {timeout:.0f}s; killed") from None
    finally:
        if popen.poll() is None:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.communicate()
    proc = subprocess.CompletedProcess(args, popen.returncode, stdout, stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def ran_stages(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def ci_repo(tmp_path_factory, mirror_env):
    """A scratch copy with params.ci.yaml as params.yaml, after a full `dvc repro`."""
    dest = tmp_path_factory.mktemp("e2e") / "repo"
    env = {**os.environ, **mirror_env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1"}  # no usage reports from a test run (no network in CI anyway)
    env.pop("DVC_EXP_NAME", None)
    run(REPO, env, "bash", "scripts/scratch_repo.sh", str(dest), "params.ci.yaml")
    proc = run(dest, env, "dvc", "repro", timeout=2400)
    return dest, env, proc.stdout


def test_full_pipeline_runs_every_stage_of_every_gan(ci_repo):
    repo, _, output = ci_repo
    assert ran_stages(output) == {f"{s}@{g}" for s in STAGES for g in GAN_NAMES} | CLASSIFIERS | {CHECK}


# Chance is 0.1 (±0.003 on 10,000 test images); measured on the real data at CI scale: MNIST
# ~0.9, CIFAR-10 0.163 (a constant prediction, as one epoch of 1,024 gave, scores 0.100).
@pytest.mark.parametrize("dataset,better_than", [("mnist", 0.7), ("cifar10", 0.12)])
def test_classifier_metrics(ci_repo, dataset, better_than):
    repo, env, _ = ci_repo
    metrics = json.loads((repo / f"reports/classifier/{dataset}/metrics.json").read_text())
    # on the whole test split of the mirror (10,000 images for the real one)
    with np.load(Path(env["GANFLOW_DATA_MIRROR"]) / f"{dataset}.npz") as mirror:
        assert metrics["n_test"] == len(mirror["y_test"])
    # even the CI-size classifier (2,048 images) beats chance by a margin
    assert metrics["test_accuracy"] > better_than
    assert metrics["n_train"] == yaml.safe_load((repo / "params.yaml").read_text())["classifier"][dataset]["n_train"]


@pytest.mark.parametrize("gan", GAN_NAMES)
def test_outputs_and_metrics_of_each_gan(ci_repo, gan):
    repo, _, _ = ci_repo
    params = yaml.safe_load((repo / "params.yaml").read_text())
    train = params["train"][gan]
    for split in ("train", "test"):
        with np.load(repo / f"data/{gan}/{split}.npz", allow_pickle=False) as f:
            assert len(f["x"]) > 0
    for name in ("generator", "discriminator"):
        assert (repo / f"models/{gan}/pretrain/{name}.keras").stat().st_size > 0
        assert (repo / f"models/{gan}/{name}.keras").stat().st_size > 0

    live = repo / f"reports/{gan}/train"
    expected_steps = list(range(train["log_every"], train["steps"] + 1, train["log_every"]))
    for name in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake"):
        tsv = pd.read_csv(live / f"plots/metrics/{name}.tsv", sep="\t")
        assert tsv["step"].tolist() == expected_steps
        assert np.isfinite(tsv[name]).all()
    if train["eval_every"]:  # in-training quality, every eval_every steps and at the end
        score = pd.read_csv(live / "plots/metrics/quality/score.tsv", sep="\t")
        evals = list(range(train["eval_every"], train["steps"] + 1, train["eval_every"]))
        assert score["step"].tolist() == evals + ([train["steps"]] if evals[-1] != train["steps"] else [])
        summary = json.loads((live / "metrics.json").read_text())
        assert summary["quality_best"]["score"] == pytest.approx(score["score"].min(), rel=1e-6)
        assert set(summary["quality_floor"]) == set(summary["quality"]) - {"score"}
    arrays = sorted((live / "samples").glob("step_*.npz"))  # train writes arrays; evaluate draws them
    assert arrays and arrays[-1].name == f"step_{train['steps']:07d}.npz"
    samples = sorted((repo / f"reports/{gan}/eval/plots/progress").glob("step_*.png"))
    assert [p.stem for p in samples] == [p.stem for p in arrays]

    metrics = json.loads((repo / f"reports/{gan}/eval/metrics.json").read_text())
    assert metrics["n_samples"] == params["evaluate"][gan]["n_samples"]
    # D's held-out accuracy is the share of held-out real samples the saved D calls real
    assert metrics["d_acc_real_heldout"] == pytest.approx(called_real_share(repo, gan), abs=1.5 / len(
        np.load(repo / f"data/{gan}/test.npz")["x"]))
    assert 0.0 <= metrics["d_acc_fake"] <= 1.0
    assert metrics["floor"][HEADLINE[gan]] < metrics["quality"][HEADLINE[gan]]
    if gan in ("sine", "curve"):
        assert set(metrics["quality"]) == set(metrics["floor"]) == CURVE_METRICS[gan]
        diversity = metrics["floor"]["diversity"]
        assert 0.85 < diversity < 1.15, "held-out real data is as diverse as real data"
    else:
        expected = set(IMAGE_METRICS)
        expected |= {"modes_covered", "label_kl"} if gan.startswith("mnist") else {"ship_score", "ship_frac"}
        assert set(metrics["quality"]) == expected
        assert metrics["n_compared"] == min(metrics["n_samples"], len(np.load(repo / f"data/{gan}/test.npz")["x"]))
        assert set(metrics["floor"]) == expected
        if gan.startswith("mnist"):
            assert metrics["floor"]["modes_covered"] == 10
            assert (repo / f"reports/{gan}/eval/plots/labels.png").is_file()
    for png in ("losses.png", "accuracy.png", "samples.png"):
        assert (repo / f"reports/{gan}/eval/plots/{png}").read_bytes()[:4] == b"\x89PNG"
    from PIL import Image  # the progress animation: train's sample grids, in step order

    with Image.open(repo / f"reports/{gan}/eval/plots/progress.gif") as gif, Image.open(samples[-1]) as last:
        assert gif.format == "GIF" and gif.n_frames == len(samples) >= 2 and gif.size == last.size
        gif.seek(gif.n_frames - 1)
        shown, drawn = (np.asarray(im.convert("RGB"), dtype=float) for im in (gif, last))
        assert np.abs(shown - drawn).mean() < 2.0  # the last grid, up to the GIF's 256-colour palette


def called_real_share(repo: Path, gan: str) -> float:
    """The share of ``gan``'s held-out real samples that its trained D calls real, computed
    here from the saved model (one sigmoid unit: p > 0.5; sine's two: the real unit higher)."""
    from ganflow.data.prepare import load_prepared
    from ganflow.modelio import load_model
    from ganflow.models import get_spec

    x = get_spec(gan).to_model(load_prepared(gan, repo / f"data/{gan}/test.npz"))
    p = np.asarray(load_model(repo / f"models/{gan}/discriminator.keras")(x, training=False))
    return float(np.mean(p[:, 1] > p[:, 0] if p.shape[1] == 2 else p[:, 0] > 0.5))


def test_status_is_clean_and_a_second_repro_is_a_no_op(ci_repo):
    repo, env, _ = ci_repo
    assert "Data and pipelines are up to date" in run(repo, env, "dvc", "status").stdout
    assert ran_stages(run(repo, env, "dvc", "repro").stdout) == set()


def lock_hashes(repo: Path) -> dict[str, str]:
    """Every output's hash in dvc.lock, by stage and path."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {f"{name}:{out['path']}": out.get("md5") or out.get("hash")
            for name, stage in lock["stages"].items() for out in stage.get("outs", [])}


def test_forced_rerun_is_bitwise_identical(ci_repo):
    repo, env, _ = ci_repo
    before = lock_hashes(repo)
    # outs per GAN: prepare 1, pretrain 2, train 4, evaluate 2; classifiers 2 each; the check 1
    assert len(before) == 9 * len(GAN_NAMES) + 2 * 2 + 1
    run(repo, env, "dvc", "repro", "-f", timeout=2400)
    after = lock_hashes(repo)
    assert [k for k in before if before[k] != after[k]] == []


def set_param(repo: Path, dotted: str, value) -> None:
    doc = yaml.safe_load((repo / "params.yaml").read_text())
    *parents, leaf = dotted.split(".")
    node = doc
    for part in parents:
        node = node[part]
    node[leaf] = value
    (repo / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.mark.parametrize(
    "dotted,value,expected",
    [
        ("train.sine.steps", 200, {"train@sine"}),
        ("evaluate.mnist_mlp.n_samples", 100, {"evaluate@mnist_mlp"}),
        ("pretrain.cifar_ship.lr", 0.001, {"pretrain@cifar_ship"}),
        ("prepare.mnist_dcgan.n_test", 256, {"prepare@mnist_dcgan"}),
        ("train.lr", 0.0003, {f"train@{g}" for g in GAN_NAMES}),
        ("train.strategy", "mirrored", {f"train@{g}" for g in GAN_NAMES}),
        ("train.cifar_ship.precision", "mixed_float16", {"train@cifar_ship"}),
    ],
)
def test_a_params_change_invalidates_exactly_the_stages_that_read_it(ci_repo, dotted, value, expected):
    # `--dry` lists the stages whose own params or deps changed; stages downstream of them
    # rerun when their outputs change (shown for real below and by the `exp run` test).
    # check_params reads the whole file, so it reruns on any change (its output does not).
    repo, env, _ = ci_repo
    try:
        set_param(repo, dotted, value)
        assert ran_stages(run(repo, env, "dvc", "repro", "--dry").stdout) == expected | {CHECK}
    finally:
        run(repo, env, "git", "checkout", "params.yaml")


def test_a_prepare_change_reruns_that_gans_chain_only_and_reverting_restores_from_cache(ci_repo):
    repo, env, _ = ci_repo
    before = sha(repo / "models/curve/generator.keras")
    hashes = lock_hashes(repo)
    try:
        set_param(repo, "prepare.curve.seed", 7)
        assert ran_stages(run(repo, env, "dvc", "repro").stdout) == {f"{s}@curve" for s in STAGES} | {CHECK}
        changed = lock_hashes(repo)
        # another seed, other data and other models; the other GANs' outputs untouched
        assert changed["prepare@curve:data/curve"] != hashes["prepare@curve:data/curve"]
        assert changed["train@curve:models/curve/generator.keras"] != hashes["train@curve:models/curve/generator.keras"]
        assert {k: v for k, v in changed.items() if "curve" not in k} == {k: v for k, v in hashes.items() if "curve" not in k}
    finally:
        run(repo, env, "git", "checkout", "params.yaml")
    # check_params, prepare and pretrain come back from DVC's run-cache. train has a persistent output (its
    # checkpoint), which DVC never run-caches, so it reruns; being bitwise deterministic, it
    # reproduces the old outputs exactly, and evaluate then comes back from the run-cache too.
    assert ran_stages(run(repo, env, "dvc", "repro").stdout) == {"train@curve"}  # check_params: run-cache
    assert sha(repo / "models/curve/generator.keras") == before
    assert "Data and pipelines are up to date" in run(repo, env, "dvc", "status").stdout


@pytest.mark.parametrize("typo,culprit", [
    ("  lr: 0.0002\n", "  lr: 0.0002\n  lrr: 0.0004\n"),   # beside train.lr: no stage reads it
    ("evaluate:\n", "evaluaet:\n  sine: {seed: 41, n_samples: 100}\nevaluate:\n"),  # a new section
])
def test_a_typo_anywhere_in_params_stops_repro_naming_the_key(ci_repo, typo, culprit):
    repo, env, _ = ci_repo
    text = (repo / "params.yaml").read_text()
    assert text.count(typo) == 1
    (repo / "params.yaml").write_text(text.replace(typo, culprit))
    try:
        proc = run(repo, env, "dvc", "repro", check=False)
        key = "train.lrr" if "lrr" in culprit else "evaluaet"
        assert proc.returncode != 0 and key in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        assert ran_stages(proc.stdout) == {CHECK}  # nothing else ran
    finally:
        run(repo, env, "git", "checkout", "params.yaml")
    # restored: the file matches dvc.lock again (the failed check never wrote there), so nothing runs
    assert ran_stages(run(repo, env, "dvc", "repro").stdout) == set()


def test_bad_params_stop_the_stage_with_one_line_and_keep_outputs(ci_repo):
    repo, env, _ = ci_repo
    model = repo / "models/sine/generator.keras"
    before = sha(model)
    bad = repo / "bad_params.yaml"
    bad.write_text((repo / "params.yaml").read_text().replace("seed: 31, steps: 300", "seed: 31, steps: -300"))
    proc = run(repo, env, sys.executable, "stages/train.py", "--gan", "sine", "--params", str(bad),
               "--data", "data/sine/train.npz", "--init", "models/sine/pretrain",
               "--out", "models/sine", "--live", "reports/sine/train", check=False)
    bad.unlink()
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "train.sine.steps" in lines[0], proc.stderr
    assert sha(model) == before


def git(repo: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return run(repo, env, "git", "-c", "user.name=ganflow", "-c", "user.email=ganflow@localhost", *args)


def test_push_then_a_fresh_clone_gets_the_artifacts_pulls_everything_and_runs_nothing(ci_repo, tmp_path):
    repo, env, _ = ci_repo
    run(repo, env, "dvc", "remote", "add", "-d", "store", str(tmp_path / "remote"))
    # results land as the reference run's do: dvc.lock and the metrics DVC keeps in git (cache: false)
    git(repo, env, "add", "dvc.lock", ".dvc/config", "reports")
    assert len(git(repo, env, "diff", "--cached", "--name-only", "--", "reports").stdout.split()) == 2 * len(GAN_NAMES) + 2
    git(repo, env, "commit", "-qm", "CI-scale results")
    ident = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
             for what, value in (("NAME", "ganflow"), ("EMAIL", "ganflow@localhost"))}
    for gan in GAN_NAMES:  # a version of each generator artifact (a git tag <name>@v0.1.0)
        run(repo, {**env, **ident}, "gto", "register", f"{gan}-generator", "--version", "v0.1.0")
    run(repo, env, "dvc", "push")
    clone = tmp_path / "clone"
    git(tmp_path, env, "clone", "-q", str(repo), str(clone))
    for gan in GAN_NAMES:  # dvc.yaml's artifacts, by name, from the remote (before any pull)
        got = tmp_path / "artifacts" / f"{gan}.keras"
        run(clone, env, "dvc", "artifacts", "get", ".", f"{gan}-generator", "-o", str(got))
        assert sha(got) == sha(repo / f"models/{gan}/generator.keras")
    run(clone, env, "dvc", "pull")
    assert "Data and pipelines are up to date" in run(clone, env, "dvc", "status").stdout
    assert ran_stages(run(clone, env, "dvc", "repro").stdout) == set()
    for gan in GAN_NAMES:
        assert sha(clone / f"models/{gan}/generator.keras") == sha(repo / f"models/{gan}/generator.keras")


def start_queue(repo: Path, env: dict, jobs: int) -> None:
    # The workers are daemons that inherit the caller's stdout and stderr: with pipes there,
    # `dvc queue start` would not return until every worker has exited.
    subprocess.run(["dvc", "queue", "start", "-j", str(jobs)], cwd=repo, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def drain_queue(repo: Path, env: dict, jobs: int, timeout: float) -> str:
    """Start ``jobs`` workers and wait until nothing is queued or running; the last status."""
    start_queue(repo, env, jobs)
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        time.sleep(3)
        proc = run(repo, env, "dvc", "queue", "status", check=False, timeout=120)
        status = proc.stdout
        if proc.returncode or re.search(r"Queued|Running", status) is None:
            break
        if "Running" not in status and "0 active, 0 idle" in status:
            # A worker can exit while tasks are still queued (iterative/dvc#10562); the
            # documented remedy is another `dvc queue start`.
            start_queue(repo, env, jobs)
    return status


def test_queued_sweep_runs_in_workers_and_shows_in_exp_show_and_plots_diff(ci_repo):
    repo, env, _ = ci_repo  # a clean commit with dvc.lock (the push test committed it)
    run(repo, env, "dvc", "exp", "run", "--queue", "-S", "train.lr=0.0003,0.0005", "evaluate@curve")
    try:
        status = drain_queue(repo, env, jobs=2, timeout=900)
    finally:
        run(repo, env, "dvc", "queue", "stop", "--kill", check=False, timeout=120)
    if status.count("Success") != 2:  # show what the unfinished tasks printed
        tasks = re.findall(r"^(\w+)\s.*\b(?:Queued|Running|Failed)\b", status, re.M)
        logs = [run(repo, env, "dvc", "queue", "logs", t, check=False, timeout=60) for t in tasks]
        raise AssertionError(status + "".join(p.stdout[-2000:] + p.stderr[-2000:] for p in logs))
    shown = json.loads(run(repo, env, "dvc", "exp", "show", "--json").stdout)
    runs = {}
    for exp in (e for rev in shown for e in (rev.get("experiments") or [])):
        data = exp["revs"][0]["data"]
        lr = data["params"]["params.yaml"]["data"]["train"]["lr"]
        if lr in (0.0003, 0.0005):
            runs[lr] = exp["name"]
            assert "quality" in data["metrics"]["reports/curve/eval/metrics.json"]["data"]
    assert set(runs) == {0.0003, 0.0005}
    run(repo, env, "dvc", "plots", "diff", runs[0.0003], runs[0.0005], "-o", "sweep_plots")
    html = (repo / "sweep_plots/index.html").read_text()
    assert "reports/curve/train/plots/metrics/d_loss.tsv" in html and runs[0.0003] in html and runs[0.0005] in html


def test_exp_run_with_new_lr_reruns_train_and_evaluate_only(ci_repo):
    repo, env, _ = ci_repo
    proc = run(repo, env, "dvc", "exp", "run", "-S", "train.lr=0.0004", "-n", "lr4e-4")
    assert ran_stages(proc.stdout) == {f"{s}@{g}" for s in ("train", "evaluate") for g in GAN_NAMES} | {CHECK}
    shown = json.loads(run(repo, env, "dvc", "exp", "show", "--json").stdout)
    experiments = [e for rev in shown for e in (rev.get("experiments") or [])]
    exp = next(e for e in experiments if e.get("name") == "lr4e-4")
    data = exp["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["train"]["lr"] == 0.0004
    metrics = data["metrics"]
    for gan in GAN_NAMES:
        assert "d_acc_fake" in metrics[f"reports/{gan}/eval/metrics.json"]["data"]
    # the per-GAN summary reads any experiment, or a commit: the baseline's differs (another lr)
    summary = run(repo, env, "ganflow", "results", "--exp", "lr4e-4").stdout
    assert all(f"\n{gan} (train" in summary for gan in GAN_NAMES), summary
    baseline = run(repo, env, "git", "rev-parse", "HEAD").stdout.strip()
    assert summary == run(repo, env, "ganflow", "results").stdout  # exp run leaves its results here
    assert summary != run(repo, env, "ganflow", "results", "--exp", baseline[:10]).stdout


def test_plots_show_renders_every_gan(ci_repo):
    repo, env, _ = ci_repo
    run(repo, env, "dvc", "plots", "show", "-o", "plots_html")
    html = (repo / "plots_html/index.html").read_text()
    for gan in GAN_NAMES:
        for curve in ("d_loss", "g_loss", "d_acc_real", "d_acc_fake"):  # dvc.yaml: the folder
            assert f"reports/{gan}/train/plots/metrics/{curve}.tsv" in html
        assert f"reports/{gan}/eval/plots/samples.png" in html
        assert f"reports/{gan}/eval/plots/progress.gif" in html
        assert f"reports/{gan}/eval/plots/progress/step_" in html
        assert f"reports/{gan}/train/plots/metrics/quality/score.tsv" in html


def test_the_plots_page_renders_offline_in_chromium(ci_repo):
    """`ganflow plots` on the real pipeline's outputs: in headless Chromium with the network cut
    off, every chart draws and every image (sample grids, progress GIFs) loads."""
    from browser import check_page

    repo, env, _ = ci_repo
    run(repo, env, "ganflow", "plots", "-o", "offline_plots")
    artifacts = Path(os.environ.get("GANFLOW_TEST_ARTIFACTS") or REPO / "test-artifacts")
    report = check_page(repo / "offline_plots/index.html", artifacts / "plots_page_pipeline.png")
    print(f"plots page: {report.drawn}/{report.charts} charts drawn, {report.images_loaded}/"
          f"{len(report.images)} images loaded; screenshot {report.screenshot}")
    assert report.charts >= 4 * len(GAN_NAMES), report  # losses, accuracy and >= 2 quality charts each
    assert report.ok(), report
    assert sum(src.endswith("progress.gif") for src, _ in report.images) == len(GAN_NAMES)
