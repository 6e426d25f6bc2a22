"""What every stage script shares: the argument parser's common options and JSON output."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from ganflow import GAN_NAMES


def stage_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with ``--gan`` and ``--params``; the stage adds its inputs and outputs."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gan", required=True, help=f"one of: {', '.join(GAN_NAMES)}")
    parser.add_argument("--params", default="params.yaml", help="params file (default: %(default)s)")
    return parser


def write_json(path: str | Path, obj: dict) -> Path:
    """Write ``obj`` as sorted, indented JSON, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
    return path
