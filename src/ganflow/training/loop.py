"""Running pretraining and adversarial training: ``fit`` plus the pipeline's callbacks.

One ``fit`` epoch is one logged interval of ``log_every`` steps, run as a single compiled call
(``steps_per_execution``); the metric trackers reset each epoch, so each logged value is the
mean over its interval. Callbacks log to DVCLive, draw samples from fixed latent vectors, stop
on non-finite losses, and show progress.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from dvclive import Live

from ganflow import runtime
from ganflow.data.batches import real_batches
from ganflow.data.io import save_npz
from ganflow.errors import UserError
from ganflow.models import GanSpec
from ganflow.progress import Progress
from ganflow.sampling import SAMPLES_DIR, fixed_latents, generate
from ganflow.training.checkpoint import Checkpoint, CheckpointWriter
from ganflow.training.ema import AveragedGenerator
from ganflow.training.monitor import BestGenerator, QualityMonitor
from ganflow.training.optimizers import make_optimizer
from ganflow.training.step import GAN, DiscriminatorPretrainer, Recipe



class TrainingDiverged(UserError):
    """A loss became NaN or infinite."""


def check_batch(batch_size: int, n: int, key: str) -> None:
    if batch_size > n:
        raise UserError(f"{key}: batch size {batch_size} exceeds the {n} training samples")


class LiveLogger(keras.callbacks.Callback):
    """Interval means to DVCLive at the interval's last step; stops on NaN/Inf."""

    def __init__(self, live: Live, gan_name: str, steps_per_epoch: int):
        super().__init__()
        self.live, self.gan_name, self.per_epoch = live, gan_name, steps_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.per_epoch
        values = {name: float(value) for name, value in (logs or {}).items()}
        bad = [name for name, value in values.items() if not math.isfinite(value)]
        if bad:
            raise TrainingDiverged(f"{self.gan_name}: non-finite {bad[0]} at step {step}")
        if values.pop("nonfinite", 0.0) > 0:
            raise TrainingDiverged(f"{self.gan_name}: non-finite values (NaN/Inf) in steps "
                                   f"{step - self.per_epoch + 1}-{step}")
        self.live.step = step
        for name, value in values.items():
            self.live.log_metric(name, value)
        self.live.next_step()


class WorkerLog:
    """What a multi-worker cluster's other workers log to: nothing. (A DVCLive ``Live`` finds the
    DVC repo from the working directory, and two of them in one repo race over its signal files.)"""

    def __init__(self):
        self.step, self.summary = 0, {}

    def log_metric(self, name, value):
        pass

    def next_step(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class SampleWriter(keras.callbacks.Callback):
    """Samples from fixed latents every ``every`` steps (and at the last step), as arrays in data
    space: ``<directory>/step_<step>.npz`` (``x``). Drawing them is evaluate's job, so that
    restyling a picture reruns no training."""

    def __init__(self, directory: Path, spec: GanSpec, generator: Callable[[], keras.Model], z: np.ndarray,
                 every: int, steps_per_epoch: int, total: int):
        super().__init__()
        self.dir, self.spec, self.generator, self.z = Path(directory), spec, generator, z
        self.every, self.per_epoch, self.total = every, steps_per_epoch, total

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.per_epoch
        if step % self.every and step != self.total:
            return
        save_npz(self.dir / f"step_{step:07d}.npz", x=self.spec.to_data(generate(self.spec, self.generator(), self.z, unit=False)))


def pretrain_discriminator(spec: GanSpec, params, x: np.ndarray) -> tuple[keras.Model, keras.Model, dict]:
    """Build G and D, pretrain D (real vs initial-G fakes, or vs uniform noise for ``curve``).

    Returns (initial G, pretrained D, metrics): the means over the last logged interval of
    pretraining, and D's accuracy after pretraining on a fresh batch of real and fake samples.
    """
    check_batch(params.batch_size, len(x), f"pretrain.{spec.name}.batch_size")
    generator, discriminator = spec.build_generator(params.width.g), spec.build_discriminator(params.width.d)
    trainer = DiscriminatorPretrainer(generator, discriminator, spec.latent_dim, head=spec.head,
                                      seed=params.seed, fake_uniform=spec.kind == "points")
    # About ten compiled calls, so that progress shows; the final interval's means are reported.
    per_call = max((d for d in range(1, params.steps // 10 + 1) if params.steps % d == 0), default=1)
    trainer.compile(make_optimizer(spec, params.lr), None, steps_per_execution=per_call)
    metrics: dict[str, float] = {"steps": params.steps}
    if params.steps:
        data = real_batches(x, params.batch_size, params.seed, 0, params.steps)
        progress = Progress(f"pretrain {spec.name}", params.steps, 0, per_call)
        history = trainer.fit(data, epochs=params.steps // per_call, steps_per_epoch=per_call,
                              verbose=0, shuffle=False, callbacks=[progress])
        metrics["final_interval_steps"] = per_call
        metrics.update({f"{k}_final_interval": float(v[-1]) for k, v in history.history.items()})
    metrics.update(discriminator_accuracy(trainer, x, params.batch_size, params.seed))
    return generator, discriminator, metrics


def discriminator_accuracy(trainer: DiscriminatorPretrainer, x: np.ndarray, batch: int, seed: int) -> dict:
    """D's accuracy on a fresh batch of real samples and of the trainer's fakes."""
    n = min(batch, len(x))
    rng = np.random.default_rng(seed + 1)
    real = x[rng.choice(len(x), n, replace=False)]
    if trainer.fake_uniform:
        fake = rng.uniform(-1, 1, real.shape).astype(np.float32)
    else:
        z = rng.standard_normal((n, trainer.latent_dim)).astype(np.float32)
        fake = keras.ops.convert_to_numpy(trainer.generator(z, training=False))
    acc_real, acc_fake = trainer.head.accuracy(trainer.discriminator, real, fake)
    return {"d_acc_real": acc_real, "d_acc_fake": acc_fake}


@dataclass
class Trained:
    """What adversarial training hands back: the trained G and D, float32 as saved."""

    generator: keras.Model  # the best averaged G (in-training quality on), else the averaged or raw G
    discriminator: keras.Model
    steps_run: int
    wall_time_s: float
    chief: bool  # False on a multi-worker cluster's other workers, which write nothing
    quality_time_s: float = 0.0  # of wall_time_s, spent on in-training quality
    best_step: int | None = None  # the step whose generator was kept
    quality_history: list | None = None  # per evaluation (ganflow.training.monitor.QualityMonitor.history)


def recipe(spec: GanSpec, gp) -> Recipe:
    """The train step's :class:`Recipe` from the GAN's train params ``gp``."""
    if gp.augment_ops and spec.kind != "image":
        raise UserError(f"train.{spec.name}.augment: augmentation is for the image GANs")
    return Recipe(loss=gp.loss, augment=gp.augment_ops, data_range=spec.data_range,
                  r1_gamma=gp.r1.gamma, r1_every=gp.r1.every,
                  ema_decay=gp.ema.decay or None, ema_warmup=gp.ema.warmup)


def build_gan(spec: GanSpec, train, networks: Callable[[], tuple[keras.Model, keras.Model]],
              strategy=None) -> GAN:
    """The :class:`GAN` compiled as the train stage runs it: G and D made once by
    ``networks()`` in the strategy's scope and set to ``precision`` (variables stay float32),
    optimizers at ``train.lr × lr_scale``, ``jit_compile``, optimizer slots created.

    ``train`` holds ``lr`` and the GAN's block (``gan``). Keras's multi-step loop does not run
    on a distributed dataset (Keras 3.15: "You must feed a value for placeholder tensor"), so
    there a compiled call is one step; the default strategy runs ``log_every`` steps per call.
    """
    gp = train.gan
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if gp.batch_size % replicas:
        raise UserError(f"train.{spec.name}.batch_size: {gp.batch_size} is not divisible by the "
                        f"{replicas} replicas of train.strategy")
    default = strategy is tf.distribute.get_strategy() and not tf.distribute.has_strategy()
    with strategy.scope():
        generator, discriminator = networks()
        for network in (generator, discriminator):
            runtime.set_precision(network, gp.precision)
        gan = GAN(generator, discriminator, spec.latent_dim, head=spec.head, seed=gp.seed,
                  label_smoothing=gp.label_smoothing, label_noise=gp.label_noise, recipe=recipe(spec, gp))
        optimizers = [make_optimizer(spec, train.lr * gp.lr_scale.d),
                      make_optimizer(spec, train.lr * gp.lr_scale.g)]
        if gp.precision == "mixed_float16":
            optimizers = [keras.optimizers.LossScaleOptimizer(o) for o in optimizers]
        gan.compile(d_optimizer=optimizers[0], g_optimizer=optimizers[1],
                    steps_per_execution=gp.log_every if default else 1, jit_compile=gp.jit_compile)
        # Create the optimizers' slots now (not lazily in the first trace), so a checkpoint can
        # be restored into them and fresh and resumed runs build the same graph.
        gan.d_optimizer.build(discriminator.trainable_variables)
        gan.g_optimizer.build(generator.trainable_variables)
    return gan


def train_adversarial(spec: GanSpec, train, networks: Callable[[], tuple[keras.Model, keras.Model]],
                      x: np.ndarray, live_dir: str, checkpoint: Checkpoint | None = None,
                      strategy=None, quality=None, budget_s: float | None = None) -> Trained:
    """Adversarial training of the G and D that ``networks()`` makes (see :func:`build_gan`)
    on real data ``x`` (already in the model's range), logging to DVCLive in ``live_dir``;
    ``train`` holds ``lr`` and the GAN's params block (``gan``). The returned models are set
    back to float32, ready to save.

    With ``quality`` (a :class:`ganflow.evaluation.TrainingQuality`) and ``eval_every``, the
    averaged G is measured every ``eval_every`` steps and the best one returned
    (:mod:`ganflow.training.monitor`). With a ``checkpoint``, resumes from its last matching state (see
    :mod:`ganflow.training.checkpoint`) and saves one every ``params.checkpoint_every`` steps. On a
    multi-worker cluster only the chief logs and checkpoints; the other workers log nothing
    (:class:`WorkerLog`) and write their samples to a temporary directory, removed at the end. ``budget_s`` (benchmarks) stops at the first evaluation after that
    many seconds of training.
    """
    params = train.gan
    check_batch(params.batch_size, len(x), f"train.{spec.name}.batch_size")
    strategy = strategy or tf.distribute.get_strategy()
    gan = build_gan(spec, train, networks, strategy)
    monitored = quality is not None and params.eval_every > 0
    averaged = (AveragedGenerator(gan.generator, gan.ema, spec.latents(512, params.seed + 1))
                if gan.ema is not None or monitored else None)
    best = BestGenerator(averaged.model) if monitored else None
    extra = best.variables if best else []
    chief = runtime.is_chief(strategy)
    with contextlib.ExitStack() as scratch:
        if not chief:  # its temporary folder goes at the end, also when training fails
            live_dir = scratch.enter_context(tempfile.TemporaryDirectory(prefix="ganflow-worker-",
                                                                         ignore_cleanup_errors=True))
            checkpoint = None
        start = checkpoint.restore(gan, live_dir, extra) if checkpoint else 0
        if start == 0:
            shutil.rmtree(live_dir, ignore_errors=True)
        else:
            print(f"train {spec.name}: resuming from the checkpoint at step {start}")
        data = real_batches(x, params.batch_size, params.seed, start, params.steps)
        shown = averaged.sync if gan.ema is not None else (lambda: gan.generator)
        log = (Live(live_dir, resume=start > 0, dvcyaml=None, save_dvc_exp=False, report=None) if chief
               else WorkerLog())
        with log as live:
            callbacks = [
                LiveLogger(live, spec.name, params.log_every),
                SampleWriter(Path(live_dir) / SAMPLES_DIR, spec, shown, fixed_latents(spec, params.seed),
                             params.sample_every, params.log_every, params.steps),
                Progress(f"train {spec.name}", params.steps, start, params.log_every),
            ]
            if monitored:
                z_eval = spec.latents(quality.n, params.seed + 2)
                monitor = QualityMonitor(live, averaged, quality, best,
                                         lambda g: generate(spec, g, z_eval, unit=False),
                                         params.eval_every, params.log_every, params.steps, params.patience,
                                         budget_s)
                callbacks.insert(0, monitor)
                live.summary["quality_floor"] = quality.floor
            if checkpoint:
                callbacks.append(CheckpointWriter(checkpoint, live_dir, params.checkpoint_every,
                                                  params.log_every, params.steps, extra))
            t0 = time.perf_counter()
            history = gan.fit(data, epochs=params.steps // params.log_every, initial_epoch=start // params.log_every,
                              steps_per_epoch=params.log_every, verbose=0, shuffle=False, callbacks=callbacks)
            wall = time.perf_counter() - t0
        steps_run = len(history.epoch) * params.log_every
    if checkpoint:
        checkpoint.complete(start + steps_run)
    generator = gan.generator
    if best is not None:
        generator = best.load_into(averaged.model)
    elif gan.ema is not None:
        generator = averaged.sync()
    for network in (gan.generator, gan.discriminator, generator):
        runtime.set_precision(network, "float32")  # saved models are float32 whatever trained them
    return Trained(generator, gan.discriminator, steps_run, wall, chief,
                   quality_time_s=monitor.seconds if monitored else 0.0,
                   best_step=int(best.step.numpy()) if best else None,
                   quality_history=monitor.history if monitored else None)
