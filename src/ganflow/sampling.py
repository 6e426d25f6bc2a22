"""Using a trained generator: load it by GAN name or path, get samples in data space.

    from ganflow.sampling import load_generator

    g = load_generator("mnist_dcgan")          # models/mnist_dcgan/generator.keras
    x = g.sample(16, seed=0)                   # (16, 28, 28, 1) uint8, like data/mnist_dcgan's x
    path = g.interpolate(8, steps=12, seed=0)  # (12, 8, 28, 28, 1): 8 latent paths, 12 steps

Samples come back in the stored data's dtype and range (uint8 images in [0, 255] as in
MNIST/CIFAR-10, float32 curves), from standard-normal latents drawn with the seed, so the same
seed gives the same samples. Interpolation walks the great circle (spherical interpolation)
from the latents of ``seed`` to those of ``seed + 1``: its first step is ``sample(n, seed)``,
its last ``sample(n, seed + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ganflow import GAN_NAMES
from ganflow.errors import UserError
from ganflow.models import GanSpec, get_spec

# What train draws from fixed latents every sample_every steps (evaluate animates them): how many
# samples per kind, and where in the DVCLive directory (step_<step>.npz, ``x`` in data space).
N_FIXED = {"image": 32, "series": 8, "points": 1000}
SAMPLES_DIR = "samples"
MAX_SAMPLES = 100_000  # per call: a bound on memory (cifar_ship: 300 MB of uint8 images)


def generate(spec: GanSpec, generator: keras.Model, z: np.ndarray, unit: bool = True, chunk: int = 200) -> np.ndarray:
    """Generator output for ``z`` in inference mode, ``chunk`` latents a call; images mapped
    to [0, 1] when ``unit``, else in the model's range."""
    out = np.concatenate([keras.ops.convert_to_numpy(generator(z[i:i + chunk], training=False))
                          for i in range(0, len(z), chunk)])
    return spec.to_unit(out) if spec.kind == "image" and unit else out


def fixed_latents(spec: GanSpec, seed: int) -> np.ndarray:
    """The latent vectors whose samples are drawn across training (the same at every step)."""
    return spec.latents(N_FIXED[spec.kind], seed)


def slerp(z0: np.ndarray, z1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between rows of ``z0`` and ``z1`` at ``t`` in [0, 1] (linear where
    the two are (anti)parallel); t = 0 gives ``z0``, t = 1 gives ``z1`` exactly."""
    if t == 0.0 or t == 1.0:
        return np.array(z1 if t else z0, dtype=np.float32)
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos = np.sum(z0 * z1, -1, keepdims=True) / (np.linalg.norm(z0, axis=-1, keepdims=True)
                                                 * np.linalg.norm(z1, axis=-1, keepdims=True))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    sin = np.sin(omega)
    with np.errstate(divide="ignore", invalid="ignore"):
        spherical = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / sin
    linear = (1 - t) * z0 + t * z1
    return np.where(sin > 1e-6, spherical, linear).astype(np.float32)


@dataclass
class TrainedGenerator:
    """A trained generator with its GAN's spec: samples in data space."""

    spec: GanSpec
    model: keras.Model

    def latents(self, n: int, seed: int) -> np.ndarray:
        return self.spec.latents(check_count(n, "n"), seed)

    def generate(self, z: np.ndarray) -> np.ndarray:
        """Samples for latents ``z`` (any leading shape, last axis the latent size), in data space."""
        z = np.asarray(z, np.float32)
        flat = generate(self.spec, self.model, z.reshape(-1, self.spec.latent_dim), unit=False)
        return self.spec.to_data(flat).reshape(z.shape[:-1] + flat.shape[1:])

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` samples from the latents of ``seed``."""
        return self.generate(self.latents(n, seed))

    def interpolation_latents(self, n: int, steps: int, seed: int = 0) -> np.ndarray:
        """(steps, n, latent) latents: ``n`` great-circle paths from seed's latents to seed+1's."""
        check_count(steps, "steps", low=2)
        z0, z1 = self.latents(n, seed), self.latents(n, seed + 1)
        check_count(n * steps, "n × steps")
        return np.stack([slerp(z0, z1, i / (steps - 1)) for i in range(steps)])

    def interpolate(self, n: int, steps: int, seed: int = 0) -> np.ndarray:
        """(steps, n, ...) samples along :meth:`interpolation_latents`."""
        return self.generate(self.interpolation_latents(n, steps, seed))


def check_count(value: int, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= MAX_SAMPLES:
        raise UserError(f"{name} = {value!r}: must be an integer from {low} to {MAX_SAMPLES}")
    return int(value)


def load_generator(gan: str | None = None, model: str | Path | None = None, root: str | Path = ".") -> TrainedGenerator:
    """The generator of GAN ``gan`` (``<root>/models/<gan>/generator.keras``), or the model file
    ``model``; with only ``model``, the GAN is the one the model was built as. Raises
    :class:`UserError` for an unknown GAN, a missing, corrupt or foreign model file."""
    from ganflow.modelio import load_model

    if gan is None and model is None:
        raise UserError("name a GAN (--gan) or a model file (--model)")
    spec = get_spec(gan) if gan is not None else None
    path = Path(model) if model is not None else Path(root) / "models" / gan / "generator.keras"
    if not path.is_file():
        hint = f" (train it: dvc repro train@{gan})" if model is None else ""
        raise UserError(f"{path}: model file not found{hint}")
    net = load_model(path)
    built_as = net.name.removesuffix("_generator")
    if spec is None:
        if built_as not in GAN_NAMES:
            raise UserError(f"{path}: not a ganflow generator (model name '{net.name}'); name its GAN with --gan")
        spec = get_spec(built_as)
    elif built_as in GAN_NAMES and built_as != spec.name:
        raise UserError(f"{path}: a {built_as} generator, not {spec.name}'s")
    shape = tuple(net.input_shape)
    if shape[1:] != (spec.latent_dim,):
        raise UserError(f"{path}: takes inputs of shape {shape[1:]}, not {spec.name}'s latent ({spec.latent_dim},)")
    return TrainedGenerator(spec, net)
