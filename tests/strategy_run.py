"""Train one GAN under a tf.distribute strategy on two logical CPU devices; print JSON.

Run by tests/test_strategy.py in a fresh process (logical devices must be set up before
TensorFlow initialises its devices):

    python tests/strategy_run.py GAN STRATEGY PRECISION WORKDIR

Trains ``GAN`` (``curve`` or ``sine``, on synthetic data; pretrain's initial models built from a fixed seed) with ``train_adversarial``,
exactly as the train stage calls it, and prints the replica count, the final losses and the
trained weights' sha256 and values (as lists) for comparison across strategies.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from ganflow import runtime  # noqa: F401  (quiet TF logs before TensorFlow loads)


def main(gan: str, strategy_name: str, precision: str, workdir: str) -> dict:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import numpy as np

    from ganflow.data.synth import curve_points, sine_curves
    from ganflow.training.loop import train_adversarial
    from ganflow.models import get_spec
    from ganflow.params import TrainGanParams, TrainParams

    runtime.setup(7)
    strategy = runtime.distribution_strategy(strategy_name)
    spec = get_spec(gan)
    make = {"curve": curve_points, "sine": sine_curves}[gan]
    x = make(np.random.default_rng(0), 2048)["x"]
    train = TrainParams(lr=0.001, strategy=strategy_name, gan=TrainGanParams(
        seed=3, steps=40, batch_size=64, log_every=10, sample_every=40, checkpoint_every=40,
        label_noise=0.1, precision=precision))
    trained = train_adversarial(spec, train, lambda: (spec.build_generator(), spec.build_discriminator()),
                                x, str(Path(workdir) / "live"), strategy=strategy)
    weights = [w for m in (trained.generator, trained.discriminator) for w in m.get_weights()]
    # saved as the train stage saves it, then loaded in this (float32) process
    from ganflow.modelio import load_model, save_model

    saved = load_model(save_model(trained.generator, Path(workdir) / "generator.keras"))
    z = spec.latents(16, 0)
    return {
        "replicas": strategy.num_replicas_in_sync,
        "dtype": str(trained.generator.dtype_policy.name),
        "weights": [w.tolist() for w in weights],
        "sha256": hashlib.sha256(b"".join(w.tobytes() for w in weights)).hexdigest(),
        "steps_run": trained.steps_run,
        "saved_policies": sorted({layer.dtype_policy.name for layer in (saved, *saved.layers)}),
        "saved_matches": bool(np.array_equal(np.asarray(saved(z)), np.asarray(trained.generator(z)))),
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
