"""ganflow results (headline figures beside target and floor; the README block) and ganflow
repro (dvc repro with each stage's wall time recorded)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ganflow import results, runrecord
from ganflow.errors import UserError

REPO = Path(__file__).resolve().parents[1]


def metrics(**quality) -> dict:
    return {"quality": quality, "floor": {k: 0.5 * v for k, v in quality.items()}}


def test_rows_judge_each_figure_against_its_target_and_floor():
    table = results.rows({
        "mnist_dcgan": {"quality": {"classifier_score": 9.31, "modes_covered": 9, "fcd": 27.0},
                        "floor": {"classifier_score": 9.7, "modes_covered": 10, "fcd": 9.0}},
        "cifar_ship": {"quality": {"ship_frac": 0.59, "fcd": 100.0}, "floor": {"ship_frac": 0.9, "fcd": 20.0}},
        "sine": {"quality": {"diversity": 0.8, "fit_rmse_mean": 0.0501, "mul_w1": 0.1}, "floor": {}},
    })
    got = {(r.gan, r.figure): r.ok for r in table}
    assert got == {("sine", "diversity"): True, ("sine", "fit_rmse_mean"): False, ("sine", "mul_w1"): True,
                   ("mnist_dcgan", "classifier_score"): True, ("mnist_dcgan", "modes_covered"): False,
                   ("mnist_dcgan", "fcd"): True,  # 27 <= 3 x 9, inclusive
                   ("cifar_ship", "ship_frac"): False,
                   ("cifar_ship", "fcd"): None}  # against the tutorial recipe's: no single run decides
    fcd = next(r for r in table if r.figure == "fcd" and r.gan == "mnist_dcgan")
    assert fcd.floor == 9.0 and fcd.target == "<= 3x floor = 27"
    # GANs in pipeline order, whatever the input order
    assert [r.gan for r in table][0] == "sine" and [r.gan for r in table][-1] == "cifar_ship"


def test_terminal_summary_has_each_gan_its_train_time_and_marks():
    table = results.rows({"curve": {"quality": {"abs_err_mean": 0.004, "x_w1": 0.02},
                                    "floor": {"abs_err_mean": 1e-9, "x_w1": 0.009}}})
    text = results.terminal(table, {"stages": {"train@curve": {"wall_s": 90.0}}})
    assert "curve (train 1.5 min, budget 1)" in text
    lines = {line.split()[0]: line.split() for line in text.splitlines()[2:]}
    assert lines["abs_err_mean"][-1] == "yes" and lines["x_w1"][-1] == "no"
    assert lines["x_w1"][1:3] == ["0.02", "0.009"]
    assert "train — min" in results.terminal(table, None)  # no record: no time, no crash


def test_stage_times_from_dvc_output():
    lines = ["Running stage 'prepare@sine':\n", "> python stages/prepare.py\n", "progress\n",
             "Updating lock file 'dvc.lock'\n", "\n", "Stage 'pretrain@sine' didn't change, skipping\n",
             "Running stage 'train@sine':\n", "Updating lock file 'dvc.lock'\n", "Running stage 'broken':\n",
             "ERROR: failed to reproduce 'broken': failed to run: python x, exited with 1\n"]
    clock = iter(range(0, 100, 2)).__next__  # 2 s a line
    assert list(runrecord.stage_times(lines, clock)) == [("prepare@sine", 6), ("train@sine", 2)]


def test_stage_times_of_stages_that_reproduce_the_lock_exactly():
    # outputs equal to dvc.lock's: DVC prints no "Updating lock file" for those stages
    lines = ["Running stage 'prepare@sine':\n", "wrote\n", "\n",
             "Stage 'prepare@curve' is cached - skipping run, checking out outputs\n",
             "Running stage 'prepare@mnist':\n", "wrote\n", "Running stage 'pretrain@sine':\n", "step\n",
             "Updating lock file 'dvc.lock'\n", "Running stage 'train@sine':\n", "step\n", "step\n"]
    clock = iter(range(0, 100, 2)).__next__
    assert list(runrecord.stage_times(lines, clock)) == [
        ("prepare@sine", 6), ("prepare@mnist", 4), ("pretrain@sine", 4), ("train@sine", 6)]
    # the last one counts only if the run ended well (killed or failed: no time)
    clock = iter(range(0, 100, 2)).__next__
    assert [s for s, _ in runrecord.stage_times(lines, clock, succeeded=lambda: False)] == [
        "prepare@sine", "prepare@mnist", "pretrain@sine"]


def test_readme_block_is_rewritten_and_checked(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\nbefore\n{results.BEGIN}\nold\n{results.END}\nafter\n")
    assert not results.update_readme(readme, "new table", check=True)
    assert results.update_readme(readme, "new table", check=False)
    assert readme.read_text() == f"# x\nbefore\n{results.BEGIN}\nnew table\n{results.END}\nafter\n"
    assert results.update_readme(readme, "new table", check=True)
    readme.write_text("no block")
    with pytest.raises(UserError, match="README.md: no results block"):
        results.update_readme(readme, "t", check=True)


def test_markdown_names_commit_cpu_and_each_stage():
    record = {"commit": "0123456789abcdef", "finished": "2026-12-01T23:00:00+00:00",
              "stages": {"train@sine": {"wall_s": 120.0, "cpu": "Some CPU, 2 cores (avx2)"},
                         "evaluate@sine": {"wall_s": 30.0, "cpu": "Some CPU, 2 cores (avx2)"}}}
    md = results.markdown(results.rows({"sine": metrics(diversity=0.9, fit_rmse_mean=0.01, mul_w1=0.05)}), record)
    assert "`0123456789`" in md and "Some CPU, 2 cores (avx2)" in md and "**2 min**" in md
    assert "| `train@sine` | 120.0 |" in md and "| `sine` | diversity | 0.9 | 0.45 | >= 0.8 | yes |" in md
    # a stage run with uncommitted changes keeps its mark in the short hash
    record["stages"]["train@sine"]["commit"] = "f" * 40 + "-dirty"
    md = results.markdown(results.rows({"sine": metrics(diversity=0.9, fit_rmse_mean=0.01, mul_w1=0.05)}), record)
    assert "`ffffffffff-dirty`" in md
    # a time entered by hand (e.g. a stage resumed after a kill: its parts added) says so beside it
    record["stages"]["train@sine"]["note"] = "741 s to a checkpoint + 1,846 s resumed"
    md = results.markdown(results.rows({"sine": metrics(diversity=0.9, fit_rmse_mean=0.01, mul_w1=0.05)}), record)
    assert "| `train@sine` | 120.0 | 741 s to a checkpoint + 1,846 s resumed |" in md
    assert "| `evaluate@sine` | 30.0 |  |" in md


def test_cpu_model_names_family_and_model(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n"
                    "model name\t: AMD EPYC 7763 64-Core Processor\nflags\t\t: fpu avx2 fma\n\n"
                    "processor\t: 1\nmodel name\t: other\n")
    from ganflow.machine import cpu_flags, cpu_model

    assert cpu_model(str(info)) == "AMD EPYC 7763 64-Core Processor (family 25, model 1)"
    assert cpu_flags(str(info)) == ["avx2", "fma"]


def dvc_repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=path, check=True)
    (path / "dvc.yaml").write_text(
        "stages:\n"
        "  slow:\n    cmd: python -c \"import time; time.sleep(1.0); open('a', 'w').write('a')\"\n    outs: [a]\n"
        "  fast:\n    cmd: python -c \"open('b', 'w').write(open('a').read())\"\n    deps: [a]\n    outs: [b]\n")
    return path


def ganflow(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # as on a user's machine: output to a pipe is block-buffered unless the command says otherwise
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-m", "ganflow", *args], cwd=cwd, capture_output=True, text=True,
                          env=env)


def test_repro_records_each_stage_and_merges_reruns(tmp_path):
    repo = dvc_repo(tmp_path)
    proc = ganflow(repo, "repro")
    assert proc.returncode == 0, proc.stderr
    assert "Running stage 'slow'" in proc.stdout  # DVC's output passes through
    record = json.loads((repo / "reports/run.json").read_text())
    assert list(record["stages"]) == ["slow", "fast"]
    assert 1.0 <= record["stages"]["slow"]["wall_s"] < 30 and record["stages"]["fast"]["wall_s"] < 30
    assert "cores" in record["stages"]["slow"]["cpu"]
    before = record["stages"]["slow"]
    proc = ganflow(repo, "repro", "--force", "--single-item", "fast", "--record", "reports/run.json")
    assert proc.returncode == 0, proc.stderr
    again = json.loads((repo / "reports/run.json").read_text())
    assert again["stages"]["slow"] == before  # kept; only the rerun stage is updated
    assert again["stages"]["fast"]["finished"] >= before["finished"]


def test_repro_times_a_fresh_machine_that_reproduces_the_lock(tmp_path):
    # a fresh clone: dvc.lock committed, no cache, no outputs; the stages rebuild them exactly
    repo = dvc_repo(tmp_path)
    text = (repo / "dvc.yaml").read_text().replace("open('a').read()", "open('a').read() + 'b'")
    (repo / "dvc.yaml").write_text(text)  # b's bytes differ from a's: not in the cache once a is back
    assert ganflow(repo, "repro").returncode == 0
    shutil.rmtree(repo / ".dvc/cache")
    for name in ("a", "b", "reports/run.json"):
        (repo / name).unlink()
    proc = ganflow(repo, "repro")
    assert proc.returncode == 0, proc.stderr
    assert "Updating lock file" not in proc.stdout  # the case: DVC says nothing after each stage
    record = json.loads((repo / "reports/run.json").read_text())
    assert list(record["stages"]) == ["slow", "fast"]
    assert 1.0 <= record["stages"]["slow"]["wall_s"] < 30


def test_repro_fails_like_dvc_and_keeps_the_times_it_measured(tmp_path):
    repo = dvc_repo(tmp_path)
    text = (repo / "dvc.yaml").read_text().replace("open('a').read()", "1/0")
    (repo / "dvc.yaml").write_text(text)
    proc = ganflow(repo, "repro")
    assert proc.returncode != 0
    assert list(json.loads((repo / "reports/run.json").read_text())["stages"]) == ["slow"]


def test_results_without_metrics_or_with_a_bad_record_is_one_line(tmp_path):
    proc = ganflow(tmp_path, "results")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "run `dvc repro` first" in proc.stderr
    (tmp_path / "reports/sine/eval").mkdir(parents=True)
    (tmp_path / "reports/sine/eval/metrics.json").write_text(json.dumps(metrics(diversity=0.9)))
    (tmp_path / "reports/run.json").write_text("[1, 2")
    proc = ganflow(tmp_path, "results")
    assert proc.returncode == 2 and proc.stderr.startswith("error: reports/run.json: not a run record")
    (tmp_path / "reports/run.json").unlink()
    proc = ganflow(tmp_path, "results")
    assert proc.returncode == 0 and "diversity" in proc.stdout and "yes" in proc.stdout


def committed_metrics() -> list[str]:
    out = subprocess.run(["git", "ls-files", "reports/*/eval/metrics.json"], cwd=REPO, capture_output=True,
                         text=True).stdout.split()
    return out


@pytest.mark.skipif(not committed_metrics(), reason="no reference run committed yet (reports/*/eval/metrics.json)")
def test_readme_results_are_the_committed_metrics():
    proc = ganflow(REPO, "results", "--readme", "README.md", "--record", "docs/reference-run.json", "--check")
    assert proc.returncode == 0, proc.stderr
    record = json.loads((REPO / "docs/reference-run.json").read_text())
    from ganflow import GAN_NAMES

    assert {f"{s}@{g}" for s in ("train", "evaluate") for g in GAN_NAMES} <= set(record["stages"])
    assert len(committed_metrics()) == len(GAN_NAMES)
