"""ganflow sample: samples from a trained generator, as a picture or as arrays.

    ganflow sample --gan mnist_dcgan -n 64 --seed 0 --out samples.png
    ganflow sample --gan cifar_ship -n 1000 --out ships.npz        # x: (1000, 32, 32, 3) uint8, z: latents
    ganflow sample --gan mnist_dcgan --interpolate 12 -n 8 --out walk.gif

The output's format comes from its suffix: .png (an image grid, the curves overlaid, or the
points over f(x)), .npz (``x``: samples in the training data's dtype, range and layout, as in
data/<gan>/train.npz; ``z``: their latents) or, with --interpolate, .gif. With --interpolate K,
each of the -n latent paths runs in K steps along the great circle from the latents of --seed
to those of --seed + 1 (the .png is a strip, one path a row; the .gif plays the steps there and
back). The same seed gives the same bytes (on one machine).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganflow import GAN_NAMES
from ganflow.errors import UserError, run_cli

# Samples per picture by default: a grid of images, a readable bundle of curves, a point cloud.
DEFAULT_N = {"image": 64, "series": 16, "points": 1000}
DEFAULT_PATHS = {"image": 8, "series": 4, "points": 200}
FORMATS = (".png", ".npz", ".gif")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one ``error:`` line (exit status 2) like every other error."""

    def error(self, message: str):
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="ganflow sample", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gan", help=f"one of: {', '.join(GAN_NAMES)} (reads models/GAN/generator.keras)")
    p.add_argument("--model", type=Path, help="a generator .keras file instead (its GAN is found from the model)")
    p.add_argument("-n", type=int, help="samples (or, with --interpolate, latent paths); default by kind: "
                   + ", ".join(f"{k} {v} ({DEFAULT_PATHS[k]})" for k, v in DEFAULT_N.items()))
    p.add_argument("--seed", type=int, default=0, help="latent seed (default: %(default)s)")
    p.add_argument("--interpolate", type=int, metavar="K", help="K steps of spherical interpolation")
    p.add_argument("--out", type=Path, required=True, help="output file: .png, .npz or (with --interpolate) .gif")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    out = check_out(args.out, args.interpolate is not None)
    from ganflow import runtime

    runtime.setup(args.seed)
    from ganflow.sampling import load_generator

    g = load_generator(args.gan, args.model)
    kind = g.spec.kind
    if args.interpolate is None:
        n = DEFAULT_N[kind] if args.n is None else args.n
        z = g.latents(n, args.seed)
        write(out, kind, g.generate(z), z, interpolation=False)
    else:
        n = DEFAULT_PATHS[kind] if args.n is None else args.n
        z = g.interpolation_latents(n, args.interpolate, args.seed)
        write(out, kind, g.generate(z), z, interpolation=True)
    print(f"ganflow sample: {g.spec.name}, {n} {'paths' if args.interpolate else 'samples'}, "
          f"seed {args.seed} -> {out} ({out.stat().st_size:,} bytes)")


def check_out(out: Path, interpolation: bool) -> Path:
    """Refuse an unknown format or an unwritable place before any work is done (creating nothing)."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"--out {out}: unknown format '{out.suffix}' (use {', '.join(FORMATS)})")
    if suffix == ".gif" and not interpolation:
        raise UserError(f"--out {out}: a .gif needs --interpolate K (a grid of samples is a .png)")
    if out.is_dir():
        raise UserError(f"--out {out}: is a directory")
    import os

    place = out.parent.resolve()
    while not place.exists():  # the nearest existing folder: created at write time
        place = place.parent
    if not place.is_dir() or not os.access(place, os.W_OK):
        raise UserError(f"--out {out}: {place} is not a writable directory")
    return out


def write(out: Path, kind: str, x, z, interpolation: bool) -> None:
    from ganflow import animate, plots
    from ganflow.data.io import save_npz

    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npz":
        save_npz(out, x=x, z=z)
    elif suffix == ".gif":
        frames = [plots.picture(kind, step, f"t = {k / (len(x) - 1):.2f}") for k, step in enumerate(x)]
        animate.write_gif(frames + frames[-2:0:-1], out, hold_last_ms=150)  # there and back, looping
    else:
        animate.write_png(plots.strip(kind, x) if interpolation else plots.picture(kind, x), out)


if __name__ == "__main__":
    run_cli(main)
