"""Params: typed validation with one-line errors, and the keys each stage declares in dvc.yaml."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from ganflow import GAN_NAMES
from ganflow.errors import UserError
from ganflow.params import CLASSIFIER_DATASETS, STAGES, check_all, declared_params, load_params

REPO = Path(__file__).resolve().parents[1]
BASE = yaml.safe_load((REPO / "params.yaml").read_text())


def write(tmp_path, doc) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def edited(**changes):
    """A copy of params.yaml with dotted keys set (value ...) or deleted (value Ellipsis)."""
    doc = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = doc
        for part in parents:
            node = node[part]
        if value is ...:
            del node[leaf]
        else:
            node[leaf] = value
    return doc


@pytest.mark.parametrize("path", ["params.yaml", "params.ci.yaml", "params.tutorial.yaml"])
def test_committed_params_files_are_valid(path):
    for stage in STAGES:
        for block in CLASSIFIER_DATASETS if stage == "classifier" else GAN_NAMES:
            load_params(REPO / path, stage, block)
    assert check_all(REPO / path) == len(STAGES[:-1]) * len(GAN_NAMES) + len(CLASSIFIER_DATASETS)


@pytest.mark.parametrize("changes,pattern", [
    # beside a shared key no block declares: no stage reads train.lrr, so only check_all sees it
    ({"train__lrr": 0.0004}, r"unknown key 'train\.lrr'"),
    ({"trian": {"lr": 0.0004}}, r"unknown section 'trian'"),
    # a bad value in any block, whichever block a stage would read
    ({"evaluate__cifar_ship__n_samples": 0}, r"evaluate\.cifar_ship\.n_samples"),
    ({"classifier__cifar10__epochs": "ten"}, r"classifier\.cifar10\.epochs"),
])
def test_check_all_catches_every_typo_and_bad_value_in_the_file(tmp_path, changes, pattern):
    path = write(tmp_path, edited(**changes))
    with pytest.raises(UserError) as err:
        check_all(path)
    assert "\n" not in str(err.value) and re.search(pattern, str(err.value)), str(err.value)


@pytest.mark.parametrize("path", ["params.ci.yaml", "params.tutorial.yaml"])
def test_other_params_files_have_the_same_keys_as_full_params(path):
    other = yaml.safe_load((REPO / path).read_text())

    def keys(node, prefix=""):
        if not isinstance(node, dict):
            return {prefix}
        return set().union(*(keys(v, f"{prefix}.{k}") for k, v in node.items()))

    assert keys(other) == keys(BASE)


# The tutorials' numbers (each GAN module's docstring and params.yaml's comments name the source):
# adversarial steps, batch size, learning rates of G's and D's optimizers, optimizer family,
# Adam's beta_1 / RMSprop's clipvalue, label noise.
TUTORIALS = {
    "sine": (500, 10000, 1e-3, 1e-3, "adam", 0.9, None, 0.0),
    "curve": (10000, 256, 1e-3, 1e-3, "adam", 0.9, None, 0.0),
    "mnist_dcgan": (50000, 256, 2e-4, 2e-4, "adam", 0.5, None, 0.0),
    "mnist_mlp": (30000, 32, 2e-4, 2e-4, "adam", 0.5, None, 0.0),
    "cifar_ship": (10000, 32, 4e-4, 8e-4, "rmsprop", 0.9, 1.0, 0.05),
}


@pytest.mark.parametrize("gan", GAN_NAMES)
def test_tutorial_params_hold_the_tutorials_settings(gan):
    from ganflow.models import get_spec

    path = REPO / "params.tutorial.yaml"
    train, pretrain = load_params(path, "train", gan), load_params(path, "pretrain", gan)
    steps, batch, lr_g, lr_d, family, beta_1, clip, noise = TUTORIALS[gan]
    g = train.gan
    assert (g.steps, g.batch_size, g.label_noise) == (steps, batch, noise)
    assert train.lr * g.lr_scale.g == pytest.approx(lr_g) and train.lr * g.lr_scale.d == pytest.approx(lr_d)
    spec = get_spec(gan)
    assert (spec.optimizer, spec.adam_beta_1, spec.clipvalue) == (family, beta_1, clip)
    assert (pretrain.width.g, pretrain.width.d) == (1.0, 1.0)
    # no ganflow recipe: cross-entropy, no augmentation, EMA, R1 or in-training quality
    assert (g.loss, g.augment, g.ema.decay, g.r1.gamma, g.eval_every) == ("nonsaturating", "", 0.0, 0.0, 0)
    assert train.strategy == "default" and g.precision == "float32"


def test_typed_values():
    p = load_params(REPO / "params.yaml", "train", "cifar_ship")
    assert p.lr == 0.0002 and p.gan.lr_scale.d == 4.0 and p.gan.label_noise == 0.05
    assert isinstance(p.gan.steps, int)


def test_float_written_as_string_by_dvc_is_parsed(tmp_path):
    # `dvc exp run -S train.lr=1e-05` writes 1e-05, which PyYAML reads as the string "1e-05"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(BASE).replace("lr: 0.0002", "lr: 1e-05"))
    assert yaml.safe_load(path.read_text())["train"]["lr"] == "1e-05"
    assert load_params(path, "train", "sine").lr == 1e-05


BAD = [
    ("train", "sine", {"train__sine__steps": "many"}, r"train\.sine\.steps: .*integer"),
    ("train", "sine", {"train__sine__steps": 1.5}, r"train\.sine\.steps"),
    ("train", "sine", {"train__sine__steps": True}, r"train\.sine\.steps"),
    ("train", "sine", {"train__sine__steps": -10}, r"train\.sine\.steps: .*greater than 0"),
    ("train", "sine", {"train__sine__steps": 505}, r"train\.sine: .*multiple of log_every"),
    ("train", "sine", {"train__lr": 0}, r"train\.lr: .*greater than 0"),
    ("train", "sine", {"train__lr": "fast"}, r"train\.lr: .*expected a number"),
    ("train", "sine", {"train__lr": ...}, r"missing key 'train\.lr'"),
    ("train", "sine", {"train__sine__label_noise": 0.7}, r"train\.sine\.label_noise"),
    ("train", "sine", {"train__sine__lr_scale": {"g": 1, "dd": 2}}, r"train\.sine\.lr_scale\.dd: unknown key"),
    ("train", "sine", {"train__sine__stpes": 3}, r"train\.sine\.stpes: unknown key"),
    ("train", "sine", {"train__sinus": {}}, r"unknown key 'train\.sinus'"),
    ("train", "sine", {"train__sine": ...}, r"'train\.sine'"),
    ("train", "sine", {"train__sine__jit_compile": "yes"}, r"train\.sine\.jit_compile"),
    ("train", "sine", {"train__strategy": "tpu"}, r"train\.strategy: .*'default', 'mirrored' or 'multi_worker'"),
    ("train", "sine", {"train__strategy": ...}, r"missing key 'train\.strategy'"),
    ("train", "sine", {"train__sine__precision": "float16"}, r"train\.sine\.precision: .*mixed_bfloat16"),
    ("prepare", "sine", {"prepare__sine__seed": -1}, r"prepare\.sine\.seed"),
    ("prepare", "cifar_ship", {"prepare__cifar_ship__n_test": 0}, r"prepare\.cifar_ship\.n_test"),
    ("prepare", "mnist_mlp", {"prepare__mnist_mlp__n_train": "all"}, r"prepare\.mnist_mlp\.n_train"),
    ("pretrain", "curve", {"pretrain__curve__batch_size": 0}, r"pretrain\.curve\.batch_size"),
    ("pretrain", "curve", {"pretrain__curve__lr": 2}, r"pretrain\.curve\.lr"),
    ("evaluate", "mnist_dcgan", {"evaluate__mnist_dcgan__n_samples": None}, r"evaluate\.mnist_dcgan\.n_samples"),
    ("evaluate", "sine", {"evaluate": ...}, r"section 'evaluate'"),
    ("evaluate", "sine", {"evaluate__sine__n_samples": 1}, r"evaluate\.sine\.n_samples"),
    ("classifier", "mnist", {"classifier__mnist__epochs": 0}, r"classifier\.mnist\.epochs"),
    ("classifier", "cifar10", {"classifier__cifar10__lr": "1e-3x"}, r"classifier\.cifar10\.lr"),
    ("classifier", "mnist", {"classifier__fashion": {}}, r"unknown key 'classifier\.fashion'"),
]


@pytest.mark.parametrize("stage,gan,changes,pattern", BAD)
def test_bad_params_give_one_line_errors_naming_the_key(tmp_path, stage, gan, changes, pattern):
    path = write(tmp_path, edited(**changes))
    with pytest.raises(UserError) as err:
        load_params(path, stage, gan)
    message = str(err.value)
    assert "\n" not in message
    assert re.search(pattern, message), message


def test_unknown_gan_or_dataset(tmp_path):
    with pytest.raises(UserError, match="unknown GAN 'gan9'"):
        load_params(REPO / "params.yaml", "train", "gan9")
    with pytest.raises(UserError, match="unknown dataset 'svhn'"):
        load_params(REPO / "params.yaml", "classifier", "svhn")


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(UserError, match="cannot read params file"):
        load_params(tmp_path / "nope.yaml", "train", "sine")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2\n")
    with pytest.raises(UserError, match="invalid YAML"):
        load_params(bad, "train", "sine")
    bad.write_text("- a list\n")
    with pytest.raises(UserError, match="mapping"):
        load_params(bad, "train", "sine")


def test_yaml_tags_are_not_executed(tmp_path):
    bad = tmp_path / "evil.yaml"
    bad.write_text("train: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(UserError, match="invalid YAML"):
        load_params(bad, "train", "sine")


def test_each_stage_declares_exactly_the_params_it_reads():
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    assert dvc["vars"][0]["gans"] == list(GAN_NAMES)
    variables = {k: v for entry in dvc["vars"] for k, v in entry.items()}
    for stage in STAGES:
        definition = dvc["stages"][stage]
        if "foreach" in definition:  # train, evaluate: one entry per GAN, named by ${key}
            foreach = definition["foreach"]
            if isinstance(foreach, str):  # ${name} of a dict in vars
                foreach = variables[foreach.removeprefix("${").removesuffix("}")]
            assert list(foreach) == list(GAN_NAMES)
            blocks, params, placeholder = GAN_NAMES, definition["do"]["params"], "${key}"
        elif stage == "classifier":
            assert definition["matrix"]["dataset"] == list(CLASSIFIER_DATASETS)
            blocks, params, placeholder = CLASSIFIER_DATASETS, definition["params"], "${item.dataset}"
        else:
            assert definition["matrix"]["gan"] == "${gans}"
            blocks, params, placeholder = GAN_NAMES, definition["params"], "${item.gan}"
        for block in blocks:
            declared = [p.replace(placeholder, block) for p in params]
            assert declared == declared_params(stage, block)
