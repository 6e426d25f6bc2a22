"""The two training loops that the benchmark times, each on its own copy of one GAN.

* :class:`TutorialLoop` (A): the tutorials' Keras loop made correct for Keras 3. Per step::

      fake = G.predict(z)                                   # one batch of B
      D.trainable = True;  D.train_on_batch(concat(real, fake), targets)
      D.trainable = False; GAN.train_on_batch(z', ones)     # GAN = Sequential([G, D])

* :class:`FusedLoop` (B): the pipeline's own step: :class:`ganflow.training.step.GAN` compiled as
  :func:`ganflow.training.loop.train_adversarial` compiles it, fed by :func:`ganflow.data.batches.real_batches`,
  run by calling its compiled train function (``steps_per_execution`` steps per call).

Keras 3 and the frozen discriminator
------------------------------------
Keras 2 fixed a model's trainable weights when it was *compiled*, so the tutorials compile D,
set ``D.trainable = False``, compile the combined model, and never touch the flag again.
Keras 3 reads ``trainable_weights`` when the train function is *traced* (the first
``train_on_batch``, or any retrace), and then reuses that graph: with the tutorials' order,
D's train function is traced while D is frozen, so it updates nothing (Keras only warns
"The model does not have any trainable weights") and D never learns. Setting the flag before
each call, as done here, makes every trace of D's function see D trainable and every trace of
the combined model's function see it frozen; no recompilation, ``run_eagerly`` or
``jit_compile=False`` is needed, and the graphs, once traced, are reused (the flag costs
nothing per step). :meth:`TutorialLoop.verified_step` checks it with assertions.
"""

from __future__ import annotations

import time

import keras
import numpy as np

from ganflow.models import GanSpec
from ganflow.training.loop import build_gan
from ganflow.models.layers import Dropout
from ganflow.training.optimizers import make_optimizer
from ganflow.data.batches import real_batches

PHASES = ("predict", "d_train_on_batch", "gan_train_on_batch")
# Steps ``real_batches`` may draw: far more than any benchmark runs (the dataset is lazy).
_MAX_STEPS = 2**40


def synthetic_data(spec: GanSpec, batch: int, seed: int, n_min: int = 4096) -> np.ndarray:
    """Random "real" samples in the model's data range and the data's shape."""
    shape = tuple(int(d) for d in spec.build_discriminator().input_shape[1:])
    lo, hi = spec.data_range
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, (max(batch, n_min), *shape)).astype(np.float32)


def count_traces(model: keras.Model, method: str) -> dict:
    """Count the Python calls of ``model.<method>`` (``train_step``, ``predict_step``): Keras
    compiles that method into a tf.function, so it runs in Python only when it is traced."""
    counter = {"traces": 0}
    original = getattr(model, method)

    def counted(*args, **kwargs):
        counter["traces"] += 1
        return original(*args, **kwargs)

    setattr(model, method, counted)
    return counter


def check(condition: bool, message: str) -> None:
    """An assertion that ``python -O`` keeps."""
    if not condition:
        raise AssertionError(message)


def _weights(model: keras.Model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


def _changed(before: list[np.ndarray], after: list[np.ndarray]) -> int:
    """How many of the weight arrays differ."""
    return sum(not np.array_equal(b, a) for b, a in zip(before, after))


def keras_dropout(model: keras.Model) -> keras.Model:
    """A copy of ``model`` with keras.layers.Dropout in place of ganflow's Dropout (same rate)."""
    def clone(layer):
        if isinstance(layer, Dropout):
            return keras.layers.Dropout(layer.rate, seed=layer.seed, name=layer.name)
        return layer.__class__.from_config(layer.get_config())
    return keras.models.clone_model(model, clone_function=clone)


class TutorialLoop:
    """(A) G.predict + D.train_on_batch + GAN.train_on_batch, with the flag toggled (see module)."""

    def __init__(self, spec: GanSpec, params, x: np.ndarray, batch: int):
        gp = params.gan
        self.spec, self.x, self.batch = spec, x, batch
        self.label_smoothing, self.label_noise = gp.label_smoothing, gp.label_noise
        self.rng = np.random.default_rng(gp.seed)
        # The tutorials' layers: keras.layers.Dropout where the pipeline has its cheaper one.
        self.generator, self.discriminator = spec.build_generator(), keras_dropout(spec.build_discriminator())
        self.combined = keras.Sequential([self.generator, self.discriminator], name="combined")
        self.discriminator.compile(optimizer=make_optimizer(spec, params.lr * gp.lr_scale.d, fused=False),
                                   loss=self._loss(), jit_compile=gp.jit_compile)
        self.discriminator.trainable = False  # the tutorials' freeze (kept; toggled per call)
        self.combined.compile(optimizer=make_optimizer(spec, params.lr * gp.lr_scale.g, fused=False),
                              loss=self._loss(), jit_compile=gp.jit_compile)
        self.g_targets = self._targets(np.ones(batch, np.float32))
        self.traces = {"predict": count_traces(self.generator, "predict_step"),
                       "d_train_on_batch": count_traces(self.discriminator, "train_step"),
                       "gan_train_on_batch": count_traces(self.combined, "train_step")}
        # Seconds spent in each of the three Keras calls (the rest: numpy sampling, the flag).
        self.phase_s: dict[str, float] = dict.fromkeys(PHASES, 0.0)

    def _loss(self) -> keras.losses.Loss:
        """Binary cross-entropy on D's sigmoid units (for two units, against one-hot (1 - t, t),
        the mean over both: the sine tutorial's head)."""
        return keras.losses.BinaryCrossentropy()

    def _targets(self, t: np.ndarray) -> np.ndarray:
        if self.spec.head.units == 2:
            return np.stack([1.0 - t, t], axis=1).astype(np.float32)
        return t[:, None].astype(np.float32)

    def _d_targets(self) -> np.ndarray:
        """Real (1 - smoothing) then fake (0), each plus U[0, label_noise) as the cifar_ship
        tutorial does (harmless to its clipped-probability loss; the pipeline pulls targets
        inward instead). Costs the same draws."""
        t = np.concatenate([np.full(self.batch, 1.0 - self.label_smoothing, np.float32),
                            np.zeros(self.batch, np.float32)])
        if self.label_noise:
            t += self.label_noise * self.rng.random(t.shape, dtype=np.float32)
        return self._targets(t)

    def _latents(self) -> np.ndarray:
        return self.rng.standard_normal((self.batch, self.spec.latent_dim), dtype=np.float32)

    def _timed(self, phase: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.phase_s[phase] += time.perf_counter() - t0
        return out

    def d_step(self) -> None:
        real = self.x[self.rng.integers(0, len(self.x), self.batch)]
        # One batch of B (predict's default of 32 per batch would only add per-batch overhead).
        fake = self._timed("predict", self.generator.predict, self._latents(),
                           batch_size=self.batch, verbose=0)
        self.discriminator.trainable = True
        self._timed("d_train_on_batch", lambda: self.discriminator.train_on_batch(
            np.concatenate([real, fake]), self._d_targets()))

    def g_step(self) -> None:
        self.discriminator.trainable = False
        self._timed("gan_train_on_batch", self.combined.train_on_batch, self._latents(), self.g_targets)

    def step(self) -> None:
        self.d_step()
        self.g_step()

    def verified_step(self) -> dict:
        """One step, asserting that D's update changes D's weights, and that the combined
        model's update changes G's weights but leaves D's exactly as they were."""
        d0 = _weights(self.discriminator)
        self.d_step()
        d1, g1 = _weights(self.discriminator), _weights(self.generator)
        self.g_step()
        d2, g2 = _weights(self.discriminator), _weights(self.generator)
        d_by_d, d_by_g, g_by_g = _changed(d0, d1), _changed(d1, d2), _changed(g1, g2)
        check(d_by_d > 0, "D.train_on_batch did not change D's weights")
        check(d_by_g == 0, "GAN.train_on_batch changed D's weights")
        check(g_by_g > 0, "GAN.train_on_batch did not change G's weights")
        return {"d_weights_changed_by_d_step": f"{d_by_d}/{len(d0)}",
                "d_weights_changed_by_g_step": f"{d_by_g}/{len(d0)}",
                "g_weights_changed_by_g_step": f"{g_by_g}/{len(g1)}"}

    def warm_up(self, steps: int) -> dict:
        """Trace and run all three functions (``steps`` steps), then one verified step; the
        phase timers start from zero afterwards."""
        for _ in range(steps):
            self.step()
        verified = self.verified_step()
        self.phase_s = dict.fromkeys(PHASES, 0.0)
        return {**verified, "traces_after_warmup": self.trace_counts()}

    def trace_counts(self) -> dict[str, int]:
        return {name: counter["traces"] for name, counter in self.traces.items()}

    def time(self, steps: int) -> float:
        """Wall seconds of ``steps`` steps; asserts that nothing was retraced."""
        traces = self.trace_counts()
        t0 = time.perf_counter()
        for _ in range(steps):
            self.step()
        elapsed = time.perf_counter() - t0
        check(self.trace_counts() == traces, f"A retraced while timed: {traces} -> {self.trace_counts()}")
        return elapsed


class FusedLoop:
    """(B) The pipeline's fused step, compiled and fed as ``loop.train_adversarial`` does."""

    def __init__(self, spec: GanSpec, params, x: np.ndarray, batch: int, steps_per_execution: int):
        gp = params.gan.model_copy(update={"log_every": steps_per_execution})
        self.gan = build_gan(spec, params.model_copy(update={"gan": gp}),
                             lambda: (spec.build_generator(), spec.build_discriminator()))
        self.steps_per_execution = steps_per_execution
        self.iterator = iter(real_batches(x, batch, gp.seed, 0, _MAX_STEPS))
        self.gan.make_train_function()

    @property
    def steps_done(self) -> int:
        return int(self.gan.d_optimizer.iterations.numpy())

    def _call(self) -> None:
        logs = self.gan.train_function(self.iterator)
        float(logs["d_loss"])  # the step's results exist (CPU calls are synchronous anyway)

    def warm_up(self) -> dict:
        """One call: traces the train function and runs ``steps_per_execution`` steps."""
        self._call()
        return {"traces": self.gan.trace_count, "steps": self.steps_done}

    def time(self, steps: int) -> float:
        """Wall seconds of ``steps`` steps (a multiple of ``steps_per_execution``); asserts that
        nothing was retraced and that exactly ``steps`` steps ran."""
        calls, rest = divmod(steps, self.steps_per_execution)
        check(rest == 0, f"{steps} steps is not a multiple of {self.steps_per_execution} per call")
        traces, done = self.gan.trace_count, self.steps_done
        t0 = time.perf_counter()
        for _ in range(calls):
            self._call()
        elapsed = time.perf_counter() - t0
        check(self.gan.trace_count == traces, "B's train function was retraced while timed")
        check(self.steps_done - done == steps, f"B ran {self.steps_done - done} steps, not {steps}")
        return elapsed

