"""The offline plots page (ganflow.plots_page): in a scratch git + DVC repo whose dvc.yaml has a
top-level ``plots:`` section in the style of ours (a two-line chart from two TSVs, a directory of
TSVs, a directory of PNGs), the page built by ``plots_page.build`` renders every chart and image
in headless Chromium with the network cut off; DVC's default page (CDN scripts) draws nothing
there, which shows the check can fail. No TensorFlow; seconds.

The screenshots are kept in $GANFLOW_TEST_ARTIFACTS, else <repo>/test-artifacts/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from browser import check_page
from conftest import REPO

from ganflow import plots_page
from ganflow.errors import run_cli

ARTIFACTS = Path(os.environ.get("GANFLOW_TEST_ARTIFACTS") or REPO / "test-artifacts")

DVC_YAML = """\
plots:
  - toy losses:
      title: "toy: D and G loss (mean per logged interval)"
      x: step
      y:
        logs/metrics/d_loss.tsv: d_loss
        logs/metrics/g_loss.tsv: g_loss
      x_label: step
      y_label: binary cross-entropy
  # one chart per file
  - logs/metrics/quality:
      x: step
  - logs/images
"""
CHARTS = 3  # toy losses, quality/fid.tsv, quality/score.tsv


def write_tsv(path: Path, field: str, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"step\t{field}\n" + "".join(f"{10 * i}\t{v:.5f}\n" for i, v in enumerate(values)))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A scratch git + DVC repo with plots only (no stages), and an isolated template cache."""
    from matplotlib import image

    root = tmp_path_factory.mktemp("plots")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(root / "cache"))
        mp.setenv("DVC_NO_ANALYTICS", "1")
        work = root / "repo"
        work.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=work, check=True)
        subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=work, check=True)
        (work / "dvc.yaml").write_text(DVC_YAML)
        steps = np.arange(30)
        write_tsv(work / "logs/metrics/d_loss.tsv", "d_loss", 0.7 - 0.2 * np.tanh(steps / 10))
        write_tsv(work / "logs/metrics/g_loss.tsv", "g_loss", 0.7 + 0.4 * np.tanh(steps / 10))
        write_tsv(work / "logs/metrics/quality/fid.tsv", "fid", 50 * np.exp(-steps / 12))
        write_tsv(work / "logs/metrics/quality/score.tsv", "score", 1 - np.exp(-steps / 8))
        (work / "logs/images").mkdir(parents=True)
        y, x = np.mgrid[0:64, 0:96] / 64
        image.imsave(work / "logs/images/0.png", np.sin(6 * x) * np.cos(6 * y), cmap="viridis")
        image.imsave(work / "logs/images/1.png", np.cos(9 * x * y), cmap="magma")
        yield work


def shot(name: str) -> Path:
    path = ARTIFACTS / name
    print(f"screenshot: {path}")
    return path


def test_offline_page_renders_every_chart_and_image(repo):
    index = plots_page.build(repo, Path("dvc_plots"))
    assert index == repo / "dvc_plots/index.html"
    html = index.read_text()
    assert "cdn.jsdelivr.net" not in html and "<script src=" not in html
    report = check_page(index, shot("plots_page_offline.png"))
    assert report.charts == CHARTS, report
    assert report.drawn == report.charts, report
    assert report.errors == [], report
    assert len(report.images) == 2 and report.images_loaded == 2, report
    png = report.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 30_000, len(png)


def test_default_dvc_page_draws_nothing_offline(repo):
    """DVC's own page loads Vega from a CDN: offline, the same check must fail."""
    out = repo / "dvc_plots_default"
    subprocess.run([sys.executable, "-m", "dvc", "plots", "show", "-o", str(out)], cwd=repo, check=True,
                   capture_output=True, env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    assert "https://cdn.jsdelivr.net/npm/vega" in (out / "index.html").read_text()
    report = check_page(out / "index.html", shot("plots_page_default_offline.png"), settle_s=2)
    assert report.charts == CHARTS and report.drawn == 0, report
    assert any("vegaEmbed is not defined" in e for e in report.errors), report.errors
    assert any("cdn.jsdelivr.net" in e for e in report.errors), report.errors
    assert not report.ok()


def test_check_reports_images_that_did_not_load(tmp_path, repo):
    page = tmp_path / "page.html"
    local = (repo / "logs/images/0.png").as_uri()
    page.write_text(textwrap.dedent(f"""\
        <html><body><img src="{local}"><img src="https://example.com/remote.png">
        <img src="missing.png"></body></html>"""))
    report = check_page(page, tmp_path / "page.png", settle_s=1)
    assert [loaded for _, loaded in report.images] == [True, False, False], report
    assert report.charts == 0 and not report.ok()


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-2000:]
    return lines[0]


def test_cli_outside_a_dvc_repo_fails_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ganflow.plots_page", "-o", "out"], cwd=tmp_path,
                          capture_output=True, text=True,
                          env={**os.environ, "DVC_NO_ANALYTICS": "1", "XDG_CACHE_HOME": str(tmp_path / "c")})
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    line = one_error_line(proc.stderr)
    # outside a DVC repo, dvc plots show exits 0 but writes nothing: "No plots were loaded, ..."
    assert "dvc plots show" in line and "No plots were loaded" in line, line
    assert not (tmp_path / "out").exists()


def test_missing_vl_convert_is_named(monkeypatch, capsys, repo):
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # `import vl_convert` raises ImportError
    monkeypatch.chdir(repo)
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: plots_page.main(["-o", "never"]))
    assert exc.value.code == 2
    line = one_error_line(capsys.readouterr().err)
    assert "vl_convert" in line and "pip install vl-convert-python" in line, line
    assert not (repo / "never").exists()
