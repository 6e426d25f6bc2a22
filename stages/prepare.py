"""Stage prepare: build one GAN's training and held-out arrays.

Writes OUT/train.npz and OUT/test.npz. Curves are synthesized from prepare.<gan>.seed; MNIST and
CIFAR-10 are read from $GANFLOW_DATA_MIRROR when set, else downloaded (checksum-verified).
"""

from pathlib import Path

from ganflow.cli import stage_parser
from ganflow.data.io import save_npz
from ganflow.data.prepare import prepare
from ganflow.errors import run_cli
from ganflow.params import load_params


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--out", required=True, type=Path, help="output directory, e.g. data/sine")
    args = parser.parse_args()
    params = load_params(args.params, "prepare", args.gan)
    train, test = prepare(args.gan, params)
    for name, arrays in (("train", train), ("test", test)):
        path = save_npz(args.out / f"{name}.npz", **arrays)
        print(f"prepare {args.gan}: wrote {path} (x: {arrays['x'].shape} {arrays['x'].dtype})")


if __name__ == "__main__":
    run_cli(main)
