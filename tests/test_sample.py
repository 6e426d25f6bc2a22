"""Using a trained generator: the sampling API (ganflow.sampling) and `ganflow sample`.

The generators here are freshly built (seeded, untrained) and saved as the train stage saves
them: what is tested is loading, latents, data-space conversion, formats, determinism and
errors, none of which depends on training.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganflow import runtime
from ganflow.errors import run_cli
from ganflow.models import get_spec
from ganflow.sampling import TrainedGenerator, load_generator, slerp

KINDS = {"mnist_dcgan": "image", "sine": "series", "curve": "points"}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A project directory with models/<gan>/generator.keras (and one discriminator) saved."""
    from ganflow.modelio import save_model

    root = tmp_path_factory.mktemp("sample")
    runtime.setup(7)
    for gan in KINDS:
        spec = get_spec(gan)
        save_model(spec.build_generator(), root / f"models/{gan}/generator.keras")
    save_model(get_spec("mnist_dcgan").build_discriminator(), root / "models/mnist_dcgan/discriminator.keras")
    (root / "models/corrupt.keras").write_bytes(b"PK\x03\x04 not really a zip")
    return root


def cli(root: Path, *argv: str, capsys=None) -> tuple[int, str]:
    """Run `ganflow sample ARGV` in this process (as the console script does); (status, stderr)."""
    from ganflow import sample

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        try:
            run_cli(lambda: sample.main(list(argv)))
            status = 0
        except SystemExit as exc:
            status = exc.code
    return status, capsys.readouterr().err if capsys else ""


# ---- the API -------------------------------------------------------------------------------

def test_samples_are_the_generators_output_in_the_datas_dtype_and_range(root):
    g = load_generator("mnist_dcgan", root=root)
    x = g.sample(12, seed=3)
    assert x.dtype == np.uint8 and x.shape == (12, 28, 28, 1)
    direct = np.asarray(g.model(get_spec("mnist_dcgan").latents(12, 3), training=False))  # in [0, 1]
    np.testing.assert_array_equal(x, np.rint(np.clip(direct, 0, 1) * 255).astype(np.uint8))
    np.testing.assert_array_equal(g.sample(12, seed=3), x)
    assert not np.array_equal(g.sample(12, seed=4), x)
    curves = load_generator("sine", root=root).sample(5, seed=0)
    assert curves.dtype == np.float32 and curves.shape == (5, 50)


@pytest.mark.parametrize("gan", ["mnist_dcgan", "mnist_mlp", "cifar_ship"])
def test_to_data_inverts_to_model_for_every_stored_pixel_value(gan):
    spec = get_spec(gan)
    channels = 3 if gan == "cifar_ship" else 1
    x = np.arange(256, dtype=np.uint8).repeat(channels).reshape(1, 16, 16, channels)
    np.testing.assert_array_equal(spec.to_data(spec.to_model(x)), x)


def test_slerp_ends_exactly_at_its_endpoints_and_stays_on_the_sphere():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal((2, 4, 16)).astype(np.float32)
    z1 *= (np.linalg.norm(z0, axis=1) / np.linalg.norm(z1, axis=1))[:, None]  # equal norms
    np.testing.assert_array_equal(slerp(z0, z1, 0.0), z0)
    np.testing.assert_array_equal(slerp(z0, z1, 1.0), z1)
    mid = slerp(z0, z1, 0.5)
    np.testing.assert_allclose(np.linalg.norm(mid, axis=1), np.linalg.norm(z0, axis=1), rtol=1e-5)
    # halfway along the great circle: the same angle to both ends (a linear mix would shrink the norm)
    cos = lambda a, b: np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)  # noqa: E731
    np.testing.assert_allclose(cos(mid, z0), cos(mid, z1), rtol=1e-5)
    assert np.all(np.linalg.norm((z0 + z1) / 2, axis=1) < np.linalg.norm(mid, axis=1))
    np.testing.assert_allclose(slerp(z0, 2 * z0, 0.25), 1.25 * z0, rtol=1e-6)  # parallel: linear


def test_interpolation_runs_from_seeds_samples_to_the_next_seeds(root):
    g = load_generator("mnist_dcgan", root=root)
    path = g.interpolate(3, steps=5, seed=10)
    assert path.shape == (5, 3, 28, 28, 1) and path.dtype == np.uint8
    np.testing.assert_array_equal(path[0], g.sample(3, seed=10))
    np.testing.assert_array_equal(path[-1], g.sample(3, seed=11))
    assert not np.array_equal(path[2], path[0]) and not np.array_equal(path[2], path[-1])


def test_a_model_file_alone_names_its_gan(root):
    g = load_generator(model=root / "models/sine/generator.keras")
    assert isinstance(g, TrainedGenerator) and g.spec.name == "sine"


# ---- the command ---------------------------------------------------------------------------

def test_console_script_gives_the_same_bytes_for_the_same_seed(root, tmp_path):
    exe = Path(sys.executable).with_name("ganflow")
    outs = []
    for name in ("a.png", "b.png", "c.png"):
        seed = "5" if name != "c.png" else "6"
        subprocess.run([str(exe), "sample", "--gan", "mnist_dcgan", "-n", "16", "--seed", seed,
                        "--out", str(tmp_path / name)], cwd=root, check=True, capture_output=True)
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1] != outs[2]
    grid = np.asarray(Image.open(io.BytesIO(outs[0])))
    assert grid.shape == (4 * 58 + 2, 4 * 58 + 2, 3)  # 4 × 4 digits at 2× (56 px) with 2 px gaps
    digits = load_generator("mnist_dcgan", root=root).sample(16, seed=5)
    np.testing.assert_array_equal(grid[2:58:2, 2:58:2, 0], digits[0, ..., 0])  # top-left, pixel for pixel


@pytest.mark.parametrize("gan", list(KINDS))
def test_npz_png_and_gif_formats(root, tmp_path, gan, capsys):
    spec = get_spec(gan)
    assert cli(root, "--gan", gan, "-n", "6", "--seed", "2", "--out", str(tmp_path / "s.npz"), capsys=capsys)[0] == 0
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        np.testing.assert_array_equal(f["z"], spec.latents(6, 2))
        np.testing.assert_array_equal(f["x"], load_generator(gan, root=root).sample(6, seed=2))
    for out in ("s.png", "walk.png", "walk.gif", "again.gif"):
        walk = ["--interpolate", "4"] if out != "s.png" else []
        assert cli(root, "--gan", gan, "-n", "3", *walk, "--out", str(tmp_path / out), capsys=capsys)[0] == 0
    assert (tmp_path / "walk.gif").read_bytes() == (tmp_path / "again.gif").read_bytes()
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 4 + 2  # 4 steps there, 2 inner steps back
    with Image.open(tmp_path / "walk.png") as strip, Image.open(tmp_path / "s.png") as grid:
        assert strip.format == grid.format == "PNG"
        if KINDS[gan] == "image":
            assert strip.size == (4 * 58 + 2, 3 * 58 + 2)  # a path a row, a step a column


def test_the_gan_command_dispatches_and_refuses_an_unknown_command(capsys):
    from ganflow.__main__ import main

    main(["--help"])
    assert "sample" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["smaple"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "smaple" in err[0]


BAD = [
    (["--gan", "mnist_gan"], "mnist_gan"),
    (["--gan", "mnist_mlp"], "models/mnist_mlp/generator.keras"),  # not trained: names the file
    (["--model", "models/corrupt.keras"], "models/corrupt.keras"),
    (["--model", "models/none.keras"], "models/none.keras"),
    (["--model", "models/mnist_dcgan/discriminator.keras"], "not a ganflow generator"),
    (["--gan", "mnist_mlp", "--model", "models/mnist_dcgan/generator.keras"], "not mnist_mlp's"),
    (["--gan", "curve", "-n", "0"], "n = 0"),
    (["--gan", "curve", "-n", "-4"], "n = -4"),
    (["--gan", "curve", "-n", "many"], "-n"),
    (["--gan", "curve", "-n", "10000000"], "n = 10000000"),
    (["--gan", "curve", "--interpolate", "1"], "steps = 1"),
    (["--gan", "curve", "--out", "samples.jpg"], ".jpg"),
    (["--gan", "curve", "--out", "samples.gif"], "--interpolate"),
    (["--gan", "curve", "--out", "models/corrupt.keras/x.png"], "models/corrupt.keras"),
    ([], "--gan"),
]


@pytest.mark.parametrize("argv,culprit", BAD)
def test_bad_input_is_one_line_naming_the_culprit_and_writes_nothing(root, argv, culprit, capsys):
    if "--out" not in argv:
        argv = [*argv, "--out", "out/samples.png"]
    status, err = cli(root, *argv, capsys=capsys)
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error:"), err
    assert culprit in lines[0], lines[0]
    assert not (root / "out/samples.png").exists()
