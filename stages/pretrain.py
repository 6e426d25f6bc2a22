"""Stage pretrain: pretrain one GAN's discriminator before adversarial training.

D learns real vs the initial generator's samples (curve: vs uniform noise in [-1,1]^2), as the
tutorials do. Writes OUT/generator.keras (the initial G), OUT/discriminator.keras and METRICS.
"""

from pathlib import Path

from ganflow import runtime
from ganflow.cli import stage_parser, write_json
from ganflow.errors import run_cli
from ganflow.params import load_params


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, type=Path, help="train.npz from prepare")
    parser.add_argument("--out", required=True, type=Path, help="model directory")
    parser.add_argument("--metrics", required=True, type=Path, help="metrics.json to write")
    args = parser.parse_args()
    params = load_params(args.params, "pretrain", args.gan)

    from ganflow.data.prepare import load_prepared
    from ganflow.training.loop import pretrain_discriminator
    from ganflow.modelio import save_model
    from ganflow.models import get_spec

    spec = get_spec(args.gan)
    x = spec.to_model(load_prepared(args.gan, args.data))
    print(f"pretrain {args.gan}: {runtime.setup(params.seed)}")
    generator, discriminator, metrics = pretrain_discriminator(spec, params, x)
    save_model(generator, args.out / "generator.keras")
    save_model(discriminator, args.out / "discriminator.keras")
    write_json(args.metrics, metrics)
    print(f"pretrain {args.gan}: wrote {args.out}/{{generator,discriminator}}.keras, {args.metrics}: "
          f"D accuracy real {metrics['d_acc_real']:.3f} fake {metrics['d_acc_fake']:.3f}")


if __name__ == "__main__":
    run_cli(main)
