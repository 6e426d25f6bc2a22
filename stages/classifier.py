"""Stage classifier: train the evaluation classifier of one real dataset (all ten classes).

Its penultimate-layer features and softmax give the image GANs' quality metrics (FCD, KID,
classifier score, precision/recall/density/coverage, label histograms). Trained once per
dataset and shared by every GAN on it. Writes OUT (.keras) and METRICS (held-out accuracy).
"""

import argparse
from pathlib import Path

from ganflow import runtime
from ganflow.cli import write_json
from ganflow.errors import run_cli
from ganflow.params import CLASSIFIER_DATASETS, load_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, help=f"one of: {', '.join(CLASSIFIER_DATASETS)}")
    parser.add_argument("--params", default="params.yaml", help="params file (default: %(default)s)")
    parser.add_argument("--out", required=True, type=Path, help="classifier .keras file to write")
    parser.add_argument("--metrics", required=True, type=Path, help="metrics.json to write")
    args = parser.parse_args()
    params = load_params(args.params, "classifier", args.dataset)

    from ganflow.classifier import load_dataset, train_classifier
    from ganflow.modelio import save_model
    from ganflow.progress import Progress

    data = load_dataset(args.dataset, params.n_train)
    print(f"classifier {args.dataset}: {runtime.setup(params.seed)}; {len(data[0])} training images")
    progress = Progress(f"classifier {args.dataset}", params.epochs, 0, 1, unit="epoch")
    model, metrics = train_classifier(args.dataset, params, data, callbacks=[progress])
    save_model(model, args.out)
    write_json(args.metrics, metrics)
    print(f"classifier {args.dataset}: test accuracy {metrics['test_accuracy']:.4f}; wrote {args.out}, {args.metrics}")


if __name__ == "__main__":
    run_cli(main)
