"""Typed, validated params: each stage reads exactly the keys dvc.yaml declares for it.

params.yaml has one section per stage (``prepare``, ``pretrain``, ``train``, ``evaluate``);
inside each, one block per GAN, plus shared keys (only ``train.lr`` and ``train.strategy``). A stage for GAN ``g``
reads ``<stage>.<g>`` and the stage's shared keys, nothing else: see :func:`declared_params`,
which the test suite checks against dvc.yaml.

Values are validated with pydantic. Floats also accept numeric strings, because ``dvc exp run
-S train.lr=1e-05`` writes ``1e-05`` and PyYAML reads that back as a string. Integers and
booleans are strict. Any problem raises :class:`~ganflow.errors.UserError` with one line that
names the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt
from pydantic import field_validator, model_validator
from pydantic import ValidationError

from ganflow import GAN_NAMES
from ganflow.errors import UserError


def _to_float(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    return value


Float = Annotated[float, BeforeValidator(_to_float)]
Seed = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]
Count = Annotated[StrictInt, Field(gt=0)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- prepare -------------------------------------------------------------------------------


class PrepareSynthetic(_Params):
    """Synthetic 1-D data (sine curves, curve points), generated from ``seed``."""

    seed: Seed
    n_train: Count
    n_test: Count


class PrepareImages(_Params):
    """A real image dataset; ``null`` sizes keep the whole split (smaller values for CI)."""

    n_train: Count | None = None
    n_test: Count | None = None


class PrepareShips(_Params):
    """CIFAR-10 ships: the training split's 5,000 to train on (``n_train``), ``n_test`` of the
    test split's 1,000 held out (chosen by ``seed``), unseen by the evaluation classifier."""

    seed: Seed
    n_test: Count
    n_train: Count | None = None


# --- pretrain / train / evaluate -----------------------------------------------------------


class Width(_Params):
    """Multipliers of the channel/unit counts of G's and D's hidden layers (the topology stays
    the tutorial's; 1 = its exact network)."""

    g: Annotated[Float, Field(gt=0, le=8)] = 1.0
    d: Annotated[Float, Field(gt=0, le=8)] = 1.0


class PretrainParams(_Params):
    seed: Seed
    steps: Annotated[StrictInt, Field(ge=0)]
    batch_size: Count
    lr: Annotated[Float, Field(gt=0, le=1)]
    width: Width = Width()  # the stage that builds G and D; train and evaluate load its models


class LrScale(_Params):
    """Per-GAN multipliers of the shared ``train.lr`` for the two optimizers."""

    g: Annotated[Float, Field(gt=0, le=1000)] = 1.0
    d: Annotated[Float, Field(gt=0, le=1000)] = 1.0


AUGMENT_OPS = ("translation", "cutout", "color")  # ganflow.training.augment.POLICIES (a test checks)


class EmaParams(_Params):
    """EMA of G's weights (ganflow.training.ema): the averaged G is sampled, evaluated and saved.
    ``decay`` 0 = no EMA."""

    decay: Annotated[Float, Field(ge=0, lt=1)] = 0.0
    warmup: Annotated[StrictInt, Field(ge=0)] = 0  # steps during which the average copies G


class R1Params(_Params):
    """Lazy R1 penalty on D (gamma/2 · E||grad_x D(x)||^2 at reals), every ``every`` steps.
    ``gamma`` 0 = no R1."""

    gamma: Annotated[Float, Field(ge=0, le=1e4)] = 0.0
    every: Count = 16


class TrainGanParams(_Params):
    seed: Seed
    steps: Count
    batch_size: Count
    lr_scale: LrScale = LrScale()
    # One-sided label smoothing: D's target for real samples is 1 - label_smoothing.
    label_smoothing: Annotated[Float, Field(ge=0, lt=0.5)] = 0.0
    # Label noise (the CIFAR tutorial's trick), kept inside [0, 1] so the loss on logits stays
    # bounded: real targets 1 - label_smoothing - label_noise·u, fake targets label_noise·u,
    # u ~ U[0, 1). (The tutorial added label_noise·u to both, which a clipped loss tolerated.)
    label_noise: Annotated[Float, Field(ge=0, lt=0.5)] = 0.0
    # Steps per compiled call; losses are logged as the mean over each such interval.
    log_every: Count
    # Sample grids / curve plots from fixed latents every this many steps (rounded up
    # to a multiple of log_every).
    sample_every: Count
    # Save the whole training state every this many steps (a multiple of log_every), so a
    # killed run resumes where it stopped.
    checkpoint_every: Count
    jit_compile: StrictBool = False
    # TensorFlow intra-op threads while training (0 = TensorFlow's default, one per core). One
    # thread suits small ops (mnist_mlp at batch 32); runs are bitwise reproducible at a fixed count.
    intra_op_threads: Annotated[StrictInt, Field(ge=0, le=1024)] = 0
    # Keras dtype policy while training: float32, or mixed_bfloat16 / mixed_float16 (compute in
    # 16 bits, variables in float32; float16 with dynamic loss scaling). Saved models are float32.
    precision: Literal["float32", "mixed_bfloat16", "mixed_float16"] = "float32"
    # TensorFlow op determinism (bitwise-reproducible runs). On CPU it costs nothing measurable;
    # on GPU it can slow some kernels (cuDNN picks deterministic algorithms).
    deterministic: StrictBool = True
    # --- the recipe beyond the tutorials' (each off by default: then the step is the tutorial's)
    # nonsaturating: the tutorials' cross-entropy; hinge: SAGAN/BigGAN's (ganflow.training.losses).
    loss: Literal["nonsaturating", "hinge"] = "nonsaturating"
    # DiffAugment ops applied to everything D sees, comma-separated (image GANs): translation,
    # cutout, color. "" = none.
    augment: str = ""
    ema: EmaParams = EmaParams()
    r1: R1Params = R1Params()
    # In-training quality of the (averaged) G every eval_every steps (0 = off; a multiple of
    # log_every) on eval_samples samples; the best G by it is the one saved. patience: stop after
    # this many evaluations without improvement (0 = never).
    eval_every: Annotated[StrictInt, Field(ge=0)] = 0
    eval_samples: Annotated[StrictInt, Field(ge=2)] = 1000
    patience: Annotated[StrictInt, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _intervals(self):
        for key in ("steps", "sample_every", "checkpoint_every", "eval_every"):
            if getattr(self, key) % self.log_every:
                raise ValueError(f"{key} ({getattr(self, key)}) must be a multiple of log_every ({self.log_every})")
        if self.patience and not self.eval_every:
            raise ValueError("patience needs eval_every > 0")
        if self.loss == "hinge" and (self.label_smoothing or self.label_noise):
            raise ValueError("the hinge loss takes no label_smoothing or label_noise")
        return self

    @field_validator("augment")
    @classmethod
    def _policy(cls, value: str) -> str:
        _augment_ops(value)
        return value

    @property
    def augment_ops(self) -> tuple[str, ...]:
        return _augment_ops(self.augment)


def _augment_ops(policy: str) -> tuple[str, ...]:
    """The ops of a policy string, as ganflow.training.augment.parse_policy reads it ('' = none)."""
    ops = tuple(op.strip() for op in policy.split(",")) if policy.strip() else ()
    for op in ops:
        if op not in AUGMENT_OPS or ops.count(op) > 1:
            raise ValueError(f"{'repeated' if op in AUGMENT_OPS else 'unknown'} op {op!r} "
                             f"(expected a comma-separated list of: {', '.join(AUGMENT_OPS)})")
    return ops


class TrainParams(_Params):
    lr: Annotated[Float, Field(gt=0, le=1)]
    # tf.distribute strategy: one device; all local GPUs (MirroredStrategy); or the workers in
    # TF_CONFIG (MultiWorkerMirroredStrategy). batch_size is the global batch.
    strategy: Literal["default", "mirrored", "multi_worker"]
    gan: TrainGanParams


class EvaluateParams(_Params):
    seed: Seed
    # Generated samples to evaluate; image metrics against a reference set compare
    # min(n_samples, held-out size) samples so that the real-data floor uses equal sizes.
    n_samples: Annotated[StrictInt, Field(ge=2)]


class ClassifierParams(_Params):
    """The evaluation classifier of one real dataset (MNIST or CIFAR-10, all ten classes)."""

    seed: Seed
    epochs: Count
    batch_size: Count
    lr: Annotated[Float, Field(gt=0, le=1)]
    n_train: Count | None = None  # null = the whole training split


_PREPARE = {
    "sine": PrepareSynthetic,
    "curve": PrepareSynthetic,
    "mnist_dcgan": PrepareImages,
    "mnist_mlp": PrepareImages,
    "cifar_ship": PrepareShips,
}
_SHARED_KEYS = {"prepare": (), "pretrain": (), "train": ("lr", "strategy"), "evaluate": (), "classifier": ()}
STAGES = tuple(_SHARED_KEYS)
CLASSIFIER_DATASETS = ("mnist", "cifar10")
# The blocks a section holds: one per GAN, except the classifier's (one per real dataset).
_BLOCKS = {stage: GAN_NAMES for stage in STAGES} | {"classifier": CLASSIFIER_DATASETS}

P = TypeVar("P", bound=BaseModel)


def declared_params(stage: str, gan: str) -> list[str]:
    """The params keys that ``stage`` for ``gan`` (a dataset for ``classifier``) reads, and
    dvc.yaml must declare."""
    return [f"{stage}.{key}" for key in _SHARED_KEYS[stage]] + [f"{stage}.{gan}"]


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"{path}: cannot read params file ({exc.strerror})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise UserError(f"{path}: invalid YAML{line}") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path}: expected a mapping of stage sections at the top level")
    return doc


def _section(doc: dict, path: Path, stage: str, gan: str) -> dict:
    blocks = _BLOCKS[stage]
    if gan not in blocks:
        what = "dataset" if stage == "classifier" else "GAN"
        raise UserError(f"unknown {what} '{gan}' (expected one of: {', '.join(blocks)})")
    section = doc.get(stage)
    if not isinstance(section, dict):
        raise UserError(f"{path}: missing or non-mapping section '{stage}'")
    allowed = set(blocks) | set(_SHARED_KEYS[stage])
    unknown = sorted(str(k) for k in section if k not in allowed)
    if unknown:
        raise UserError(
            f"{path}: unknown key '{stage}.{unknown[0]}' "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    for key in _SHARED_KEYS[stage]:
        if key not in section:
            raise UserError(f"{path}: missing key '{stage}.{key}'")
    if not isinstance(section.get(gan), dict):
        raise UserError(f"{path}: missing or non-mapping block '{stage}.{gan}'")
    return section


def _validate(model: type[P], data: dict, path: Path, prefix: str, gan_field: str = "") -> P:
    """Validate ``data``; on failure, one line naming ``<prefix>.<key>`` of the first error.

    ``gan_field`` names a field of ``model`` that holds the GAN's own block, so that its errors
    read as ``train.sine.steps`` rather than ``train.gan.steps``.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(part) for part in err["loc"]]
        if gan_field and loc and loc[0] == gan_field:
            loc = loc[1:]
        elif gan_field:
            prefix = prefix.rsplit(".", 1)[0]
        key = ".".join([prefix, *loc])
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        else:
            msg = err["msg"]
            if "input" in err and not isinstance(err["input"], dict):
                msg += f" (got {err['input']!r})"
        raise UserError(f"{path}: {key}: {msg}") from None


_MODELS = {"pretrain": PretrainParams, "evaluate": EvaluateParams, "classifier": ClassifierParams}


def load_params(path: str | Path, stage: str, gan: str) -> Any:
    """Validated params of ``stage`` for ``gan``, read from ``path``."""
    path = Path(path)
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return params_from(read_yaml(path), path, stage, gan)


def params_from(doc: dict, path: Path, stage: str, gan: str) -> Any:
    """Validated params of ``stage`` for ``gan`` from an already-read params document ``doc``
    (``path`` names it in errors): what benchmarks use to run an edited copy of a params file."""
    section = _section(doc, path, stage, gan)
    prefix = f"{stage}.{gan}"
    if stage == "train":
        data = {key: section[key] for key in _SHARED_KEYS[stage]} | {"gan": section[gan]}
        return _validate(TrainParams, data, path, prefix, gan_field="gan")
    model = _PREPARE[gan] if stage == "prepare" else _MODELS[stage]
    return _validate(model, section[gan], path, prefix)


def check_all(path: str | Path) -> int:
    """Validate every key of the params file at ``path``: no unknown section, and every
    stage's shared keys and blocks (so a typo outside the blocks a stage reads is caught too).
    Returns the number of blocks checked; raises :class:`UserError` on the first problem."""
    path = Path(path)
    doc = read_yaml(path)
    unknown = sorted(str(k) for k in doc if k not in STAGES)
    if unknown:
        raise UserError(f"{path}: unknown section '{unknown[0]}' (expected: {', '.join(STAGES)})")
    blocks = [(stage, block) for stage in STAGES for block in _BLOCKS[stage]]
    for stage, block in blocks:
        params_from(doc, path, stage, block)
    return len(blocks)
