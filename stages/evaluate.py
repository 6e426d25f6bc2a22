"""Stage evaluate: discriminator accuracy, quality metrics beside their real-data floor,
training curves and samples for one GAN.

Image GANs are measured in the feature space of the evaluation CLASSIFIER (FCD, KID,
classifier score, precision/recall/density/coverage; digit modes or ship score).
Writes METRICS (metrics.json) and PLOTS/{losses,accuracy,samples}.png (+ labels.png for MNIST),
PLOTS/progress/step_<step>.png (train's fixed-latent samples, LIVE/samples/*.npz, drawn) and
PLOTS/progress.gif (those frames animated).
"""

from pathlib import Path

from ganflow import runtime
from ganflow.cli import stage_parser, write_json
from ganflow.errors import run_cli
from ganflow.params import load_params


def main() -> None:
    parser = stage_parser(__doc__)
    parser.add_argument("--data", required=True, type=Path, help="data directory from prepare")
    parser.add_argument("--models", required=True, type=Path, help="model directory from train")
    parser.add_argument("--live", required=True, type=Path, help="DVCLive directory from train")
    parser.add_argument("--metrics", required=True, type=Path, help="metrics.json to write")
    parser.add_argument("--plots", required=True, type=Path, help="directory for PNG plots")
    parser.add_argument("--classifier", type=Path, help="evaluation classifier (.keras; image GANs)")
    args = parser.parse_args()
    params = load_params(args.params, "evaluate", args.gan)

    from ganflow import animate, evaluation, plots
    from ganflow.data.prepare import load_prepared
    from ganflow.sampling import N_FIXED, SAMPLES_DIR
    from ganflow.modelio import load_model
    from ganflow.models import get_spec

    spec = get_spec(args.gan)
    train_x = spec.to_model(load_prepared(args.gan, args.data / "train.npz"))
    test_x = spec.to_model(load_prepared(args.gan, args.data / "test.npz"))
    history = evaluation.load_history(args.live)
    runtime.setup(params.seed)
    generator = load_model(args.models / "generator.keras")
    discriminator = load_model(args.models / "discriminator.keras")
    classifier = load_model(args.classifier) if args.classifier else None
    metrics, arrays = evaluation.evaluate(spec, params, generator, discriminator, train_x, test_x, history, classifier)
    for name, fig in plots.evaluation_figures(spec, history, arrays).items():
        plots.save(fig, args.plots / name)
    real = train_x[:N_FIXED[spec.kind]] if spec.kind != "image" else None
    animate.training_progress(spec.kind, args.gan, sorted((args.live / SAMPLES_DIR).glob("step_*.npz")), real,
                              args.plots / "progress")
    write_json(args.metrics, metrics)
    print(f"evaluate {args.gan}: wrote {args.metrics} and {args.plots}/: "
          f"D accuracy held-out real {metrics['d_acc_real_heldout']:.3f}, fake {metrics['d_acc_fake']:.3f}")


if __name__ == "__main__":
    run_cli(main)
