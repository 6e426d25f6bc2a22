"""The ``ganflow`` command (also ``python -m ganflow``): what a user does with trained GANs.

    ganflow sample --gan mnist_dcgan --out samples.png     # samples, interpolations (ganflow.sample)
    ganflow plots                                          # the offline plots page (ganflow.plots_page)
    ganflow repro                                          # dvc repro, timing each stage (ganflow.runrecord)
    ganflow results                                        # each GAN's headline figures (ganflow.results)

The pipeline itself runs with DVC (``dvc repro``, or ``ganflow repro`` to time its stages); the
other commands read what it produced.
"""

from __future__ import annotations

import importlib
import sys

from ganflow.errors import run_cli

COMMANDS = {"sample": ("ganflow.sample", "samples and latent interpolations from a trained generator"),
            "plots": ("ganflow.plots_page", "dvc plots show as a page that renders offline"),
            "repro": ("ganflow.runrecord", "dvc repro, recording each stage's wall time"),
            "results": ("ganflow.results", "each GAN's headline figures beside target and floor")}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        usage = "usage: ganflow {" + ",".join(COMMANDS) + "} ...\n" + "".join(
            f"  {name:8} {text}\n" for name, (_, text) in COMMANDS.items())
        if argv and argv[0] in ("-h", "--help"):
            print(usage, end="")
            return
        print(f"error: {'unknown command ' + repr(argv[0]) if argv else 'no command'}; "
              f"use one of: {', '.join(COMMANDS)}", file=sys.stderr)
        raise SystemExit(2)
    module = importlib.import_module(COMMANDS[argv[0]][0])
    run_cli(lambda: module.main(argv[1:]))


if __name__ == "__main__":
    main()
