"""``dvc plots show``, but a page that works offline.

DVC's default ``dvc_plots/index.html`` loads Vega, Vega-Lite and vega-embed from a CDN, so with
no network its charts stay blank. This module writes an HTML template for ``--html-template``
that inlines those libraries from the ``vl-convert-python`` package (``vl_convert``), then runs
``dvc plots show`` with it: the page is self-contained and renders from a file:// URL.

    python -m ganflow.plots_page [-o dvc_plots] [--open] [targets ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import webbrowser
from pathlib import Path

from ganflow.errors import UserError, run_cli

# DVC fills {refresh_tag} and {plot_divs}. There is deliberately no {scripts}: that is where DVC
# would put its CDN <script> tags. Each plot div runs `vegaEmbed('#id', spec)` as it is parsed,
# so the bundle is a classic (not module, hence not deferred) script in <head>, wrapped in a
# function so its top-level names cannot clash with the `var spec` of DVC's plot scripts.
TEMPLATE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC Plot</title>
    <!-- Vega %(vega)s, Vega-Lite %(vl)s and vega-embed, from vl-convert-python %(vlc)s -->
    <script type="text/javascript">(function () {"use strict";
%(bundle)s
})();</script>
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ganflow"


def template() -> Path:
    """The offline template (about 1 MB), made once per vl-convert version in ~/.cache/ganflow."""
    try:
        import vl_convert
    except ImportError:
        raise UserError("vl_convert is not installed: pip install vl-convert-python") from None
    # DVC's specs are Vega-Lite v5 ($schema .../vega-lite/v5.json): take the newest v5 library.
    vl = max((v for v in vl_convert.get_vegalite_versions() if v.startswith("5.")),
             key=lambda v: tuple(map(int, v.split("."))), default=None)
    path = _cache_dir() / f"plots-template-vlc{vl_convert.__version__}-vl{vl}.html"
    if path.is_file():
        return path
    bundle = vl_convert.javascript_bundle(vl_version=vl)  # ends: window.vegaEmbed = ...
    bundle = bundle.replace("</script", "<\\/script")  # cannot end the inline <script> early
    for placeholder in ("{scripts}", "{plot_divs}", "{refresh_tag}"):
        if placeholder in bundle:  # DVC would replace it inside the JavaScript
            raise UserError(f"vl_convert {vl_convert.__version__}: its bundle contains {placeholder}")
    page = TEMPLATE % {"bundle": bundle, "vega": vl_convert.get_vega_version(), "vl": vl,
                       "vlc": vl_convert.__version__}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf8")
    os.replace(tmp, path)
    return path


def build(repo: Path, out: Path, dvc_args: list[str] = ()) -> Path:
    """Run ``dvc plots show`` in ``repo`` with the offline template; ``out`` (relative: to
    ``repo``) gets index.html and DVC's static/ images. Returns the index.html path."""
    repo = Path(repo).resolve()
    out = repo / out
    cmd = [sys.executable, "-m", "dvc", "plots", "show", "--html-template", str(template()),
           "-o", str(out), *dvc_args]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    index = out / "index.html"
    if proc.returncode != 0 or not index.is_file():
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        why = next((ln for ln in lines if ln.startswith("ERROR")), lines[-1] if lines else "no output")
        raise UserError(f"dvc plots show in {repo} wrote no {index.name} (exit {proc.returncode}): {why}")
    sys.stderr.write(proc.stderr)  # DVC's warnings, e.g. "DVC failed to load some plots ..."
    return index


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="ganflow plots", allow_abbrev=False,  # no option of dvc's taken for a prefix of ours
        description="Write `dvc plots show` output that renders offline (Vega inlined). "
                    "Other arguments (targets, dvc options) go to `dvc plots show`.")
    parser.add_argument("-o", "--out", default="dvc_plots", type=Path,
                        help="output directory (default: %(default)s)")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")
    args, dvc_args = parser.parse_known_args(argv)
    index = build(Path.cwd(), args.out, dvc_args)
    print(index.as_uri())
    if args.open:
        webbrowser.open(index.as_uri())


if __name__ == "__main__":
    run_cli(main)
