"""Stage train: adversarial training of one GAN with the fused train step.

Starts from pretrain's initial generator and pretrained discriminator; uses the GPU when
TensorFlow sees one. Writes OUT/generator.keras (the averaged G with an EMA; the best one
with in-training quality on), OUT/discriminator.keras, and DVCLive logs (per-interval d_loss,
g_loss, d_acc_real, d_acc_fake; quality/* every eval_every steps; sample images) under LIVE.
Image GANs measure in-training quality through the evaluation CLASSIFIER.
"""

from pathlib import Path

from ganflow import runtime
from ganflow.cli import stage_parser
from ganflow.errors import run_cli
from ganflow.params import load_params


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, type=Path, help="train.npz from prepare")
    parser.add_argument("--init", required=True, type=Path, help="model directory from pretrain")
    parser.add_argument("--out", required=True, type=Path, help="model directory to write")
    parser.add_argument("--live", required=True, type=Path, help="DVCLive directory to write")
    parser.add_argument("--checkpoint", type=Path, help="checkpoint directory (resume after a kill)")
    parser.add_argument("--classifier", type=Path, help="evaluation classifier (.keras; image GANs)")
    args = parser.parse_args()
    params = load_params(args.params, "train", args.gan)

    from ganflow.training.checkpoint import Checkpoint, file_digest, fingerprint
    from ganflow.data.prepare import load_prepared
    from ganflow.evaluation import TrainingQuality
    from ganflow.training.loop import train_adversarial
    from ganflow.modelio import load_model, save_model
    from ganflow.models import get_spec

    spec = get_spec(args.gan)
    x = spec.to_model(load_prepared(args.gan, args.data))
    device = runtime.setup(params.gan.seed, params.gan.deterministic, params.gan.intra_op_threads)
    print(f"train {args.gan}: {device}")
    strategy = runtime.distribution_strategy(params.strategy)  # before any other TF work
    if params.gan.precision == "mixed_bfloat16" and device.startswith("CPU") and not runtime.native_bf16():
        print(f"train {args.gan}: warning: this CPU has no native bfloat16 (no avx512_bf16/amx_bf16 in "
              f"/proc/cpuinfo, or ONEDNN_MAX_CPU_ISA below them): mixed_bfloat16 is emulated and slower than float32")
    if params.strategy != "default" or params.gan.precision != "float32":
        print(f"train {args.gan}: {params.strategy} strategy, {strategy.num_replicas_in_sync} "
              f"replica(s); {params.gan.precision}")
    def networks():  # pretrain's G and D, loaded where they will train (the strategy's scope)
        return load_model(args.init / "generator.keras"), load_model(args.init / "discriminator.keras")

    quality = None
    if params.gan.eval_every:
        classifier = load_model(args.classifier) if args.classifier and spec.quality == "images" else None
        quality = TrainingQuality(spec, x, params.gan.eval_samples, params.gan.seed, classifier)
    checkpoint = None
    if args.checkpoint:
        run_id = fingerprint(params=params.model_dump(), data=file_digest(args.data), init=file_digest(args.init),
                             **({"classifier": file_digest(args.classifier)} if quality and args.classifier else {}))
        checkpoint = Checkpoint(args.checkpoint, run_id)
    trained = train_adversarial(spec, params, networks, x, str(args.live), checkpoint, strategy, quality)
    if not trained.chief:
        print(f"train {args.gan}: done on a non-chief worker; the chief writes the outputs")
        return
    save_model(trained.generator, args.out / "generator.keras")
    save_model(trained.discriminator, args.out / "discriminator.keras")
    steps, wall = trained.steps_run, trained.wall_time_s
    print(f"train {args.gan}: {steps} steps in {wall:.1f}s ({steps / wall:.1f} steps/s); "
          f"wrote {args.out}/{{generator,discriminator}}.keras and {args.live}")
    if quality:
        print(f"train {args.gan}: in-training quality took {trained.quality_time_s:.1f}s "
              f"({trained.quality_time_s / wall:.1%} of training); kept the generator of step {trained.best_step}")


if __name__ == "__main__":
    run_cli(main)
