"""dvc.yaml's code deps: every ganflow module a stage script imports is a dependency of that
stage, so that a code change reruns every stage whose outputs it can change (and DVC never
serves a cached result computed by other code)."""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest

from ganflow import GAN_NAMES

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

# Modules that cannot change any stage output: the package marker (GAN names), error classes
# and their messages, the console progress display.
OUTPUT_NEUTRAL = {"src/ganflow/__init__.py", "src/ganflow/errors.py", "src/ganflow/progress.py"}


def _module_file(name: str) -> Path | None:
    base = SRC / name.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(path: Path) -> set[str]:
    """ganflow modules imported anywhere in ``path`` (top level or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.split(".")[0] == "ganflow"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ganflow":
            names.add(node.module)
            # `from ganflow import runtime` imports the module ganflow.runtime
            names |= {f"{node.module}.{a.name}" for a in node.names if _module_file(f"{node.module}.{a.name}")}
    return names


def import_closure(script: Path) -> set[str]:
    """Repo-relative files of the ganflow modules ``script`` imports, transitively, with the
    packages they live in. Static imports only (``get_spec`` picks models/<gan>.py at run time;
    dvc.yaml lists that file by name)."""
    seen: set[Path] = set()
    todo = list(_imported(script))
    while todo:
        parts = todo.pop().split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__
            path = _module_file(".".join(parts[:i]))
            if path is not None and path not in seen:
                seen.add(path)
                todo += _imported(path)
    return {str(p.relative_to(REPO)) for p in seen}


def covered(file: str, deps: list[str]) -> bool:
    return any(file == dep or file.startswith(dep.rstrip("/") + "/") for dep in deps)


def resolved_stages() -> dict[str, tuple[str, list[str]]]:
    """Stage name → (script, code deps), as DVC itself resolves dvc.yaml's matrix/foreach."""
    from dvc.repo import Repo

    with Repo(str(REPO)) as repo:
        out = {}
        for stage in repo.index.stages:
            cmd = shlex.split(stage.cmd)
            assert cmd[0] == "python" and cmd[1].startswith("stages/"), stage.cmd
            out[stage.addressing] = (cmd[1], [str(Path(d.def_path)) for d in stage.deps])
        return out


STAGES = resolved_stages()


def test_the_checker_sees_the_import_graph():
    closure = import_closure(REPO / "stages/train.py")
    # direct (stages/train.py imports ganflow.training.loop), transitive (loop -> training -> losses ->
    # heads) and lazy (imports inside main) imports are all found
    assert {"src/ganflow/training/loop.py", "src/ganflow/training/step.py", "src/ganflow/training/losses.py", "src/ganflow/heads.py",
            "src/ganflow/training/optimizers.py", "src/ganflow/training/checkpoint.py", "src/ganflow/models/spec.py"} <= closure
    # ... and lazy imports inside methods (evaluation.TrainingQuality -> classifier)
    assert "src/ganflow/classifier.py" in closure
    # the GANs' modules come from get_spec at run time, not from a static import
    assert "src/ganflow/models/sine.py" not in closure
    assert covered("src/ganflow/data/io.py", ["src/ganflow/data"])
    assert not covered("src/ganflow/database.py", ["src/ganflow/data"])


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_depends_on_its_script_and_every_module_it_imports(stage):
    script, deps = STAGES[stage]
    assert script in deps
    # the GAN's module, which get_spec imports at run time, brings its own imports (its head)
    gan_modules = [d for d in deps if d.startswith("src/ganflow/models/") and Path(d).stem in GAN_NAMES]
    required = import_closure(REPO / script).union(*(import_closure(REPO / m) for m in gan_modules))
    missing = sorted(f for f in required - OUTPUT_NEUTRAL if not covered(f, deps))
    assert not missing, f"{stage}: add to its deps in dvc.yaml: {missing}"


def test_evaluation_stands_apart_from_training():
    # evaluate reads D's head like the step does, but no edit to the step, its losses or its
    # optimizers can rerun an evaluation; the classifier depends on no GAN code at all
    evaluate = import_closure(REPO / "stages/evaluate.py") | import_closure(REPO / "src/ganflow/models/sine.py")
    assert "src/ganflow/heads.py" in evaluate
    assert not [f for f in evaluate if f.startswith("src/ganflow/training/")]
    assert "src/ganflow/data/batches.py" not in evaluate
    for stage, (script, deps) in STAGES.items():
        if script == "stages/evaluate.py":
            assert not [d for d in deps if d.startswith("src/ganflow/training")], stage
    assert "src/ganflow/heads.py" not in import_closure(REPO / "stages/classifier.py")


@pytest.mark.parametrize("script", ["stages/pretrain.py", "stages/train.py"])
def test_training_depends_on_no_picture_code(script):
    # training writes its fixed-latent samples as arrays and evaluate draws them, so restyling
    # a figure or the GIF reruns no training stage (hours at full scale)
    closure = import_closure(REPO / script)
    for module in ("plots", "animate"):
        assert f"src/ganflow/{module}.py" not in closure
        for stage, (used, deps) in STAGES.items():
            if used == script:
                assert f"src/ganflow/{module}.py" not in deps, stage
    assert "matplotlib" not in (REPO / "src/ganflow/training/loop.py").read_text()


def test_bytecode_beside_a_folder_dep_changes_no_stage(tmp_path):
    # Python writes __pycache__/*.pyc beside every module it imports (unless
    # PYTHONDONTWRITEBYTECODE is set); stages depend on folders (src/ganflow/training, data,
    # metrics), so without the repo's .dvcignore a user's first run would leave every stage
    # "changed" and the next `dvc repro` would run them all again.
    import py_compile
    import shutil
    import subprocess
    import sys

    def dvc(*args):
        return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=tmp_path, capture_output=True,
                              text=True, check=True).stdout

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    dvc("init", "-q")
    shutil.copy(REPO / ".dvcignore", tmp_path / ".dvcignore")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/mod.py").write_text("X = 1\n")
    (tmp_path / "dvc.yaml").write_text("stages:\n  s:\n    cmd: python -c \"open('out', 'w').write('1')\"\n"
                                       "    deps: [pkg]\n    outs: [out]\n")
    dvc("repro", "-q")
    py_compile.compile(str(tmp_path / "pkg/mod.py"), cfile=str(tmp_path / "pkg/__pycache__/mod.cpython-311.pyc"))
    assert "Data and pipelines are up to date" in dvc("status")
    (tmp_path / "pkg/mod.py").write_text("X = 2\n")  # while a real edit still counts
    assert "changed deps" in dvc("status")
