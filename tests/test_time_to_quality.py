"""benchmarks.time_to_quality: the guard that keeps runs measured with different evaluation
classifiers out of one results file (their FCDs are not comparable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.time_to_quality import check_classifier, classifier_record


def test_classifier_record_names_the_file_by_its_bytes(tmp_path: Path):
    (tmp_path / "cifar10.keras").write_bytes(b"one")
    first = classifier_record(tmp_path, "cifar_ship")
    (tmp_path / "cifar10.keras").write_bytes(b"two")
    second = classifier_record(tmp_path, "cifar_ship")
    assert first["sha256"] != second["sha256"] and len(first["sha256"]) == 64
    assert "test_accuracy" not in first  # not the pipeline's classifier: no metrics to read
    assert classifier_record(tmp_path, "sine") is None  # curves are measured without one


def test_runs_from_another_or_an_unrecorded_classifier_stop_the_benchmark(tmp_path: Path):
    mine = {"sha256": "a" * 64}
    path = tmp_path / "cifar_ship.json"
    check_classifier(path, [], mine)  # nothing to mix with
    check_classifier(path, [{"classifier": dict(mine)}], mine)
    check_classifier(path, [{"recipe": "ganflow"}], None)  # a curve: no classifier
    for runs in ([{"classifier": {"sha256": "b" * 64}}], [{"recipe": "ganflow"}],
                 [{"classifier": dict(mine)}, {"classifier": None}]):
        with pytest.raises(SystemExit, match="cifar_ship.json: 1 run.*another --out"):
            check_classifier(path, runs, mine)


def test_run_labels_name_width_precision_and_a_variant_tag():
    import argparse

    from benchmarks.time_to_quality import label, parse, recipe_width, tag_name

    assert label("ganflow", {"g": 1.0, "d": 1.0}) == "ganflow"
    assert label("ganflow", {"g": 0.5, "d": 0.5}) == "ganflow-w0.5"
    assert label("ganflow-w0.5-bf16+noaug", {"g": 0.5, "d": 0.5}) == "ganflow-w0.5-bf16+noaug"
    assert label("tutorial+ema0.99", {"g": 0.5, "d": 0.5}) == "tutorial+ema0.99"
    # a recorded label parses back to what it trained: the tag changes neither width nor precision
    assert parse("ganflow-w0.5-bf16+noaug") == ("ganflow", {"g": 0.5, "d": 0.5}, True)
    # G and D at different widths: the recorded name reads back (a rerun loads every recorded run)
    asym = label("ganflow+wg4", {"g": 4.0, "d": 1.0})
    assert asym == "ganflow-wg4-wd1+wg4"
    assert parse(asym) == ("ganflow", {"g": 4.0, "d": 1.0}, False)
    assert recipe_width(asym, {"g": 1.0, "d": 1.0}) == ("ganflow", {"g": 4.0, "d": 1.0})
    assert label(asym, {"g": 4.0, "d": 1.0}) == asym
    assert recipe_width("ganflow+noaug", {"g": 0.5, "d": 0.5}) == ("ganflow", {"g": 0.5, "d": 0.5})
    assert label(label("ganflow+x", {"g": 0.5, "d": 0.5}), {"g": 0.5, "d": 0.5}) == "ganflow-w0.5+x"
    assert tag_name("ema0.99_noaug") == "ema0.99_noaug"
    for bad in ("no-aug", "a/b", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            tag_name(bad)


def test_seed_list_starts_where_asked():
    from benchmarks.time_to_quality import seed_list

    assert seed_list(1, 2) == [1, 2]
    assert seed_list(2, 1) == [2]  # a second seed on a machine whose first is not comparable
    for bad in ((0, 1), (2, 0)):
        with pytest.raises(SystemExit, match="must be >= 1"):
            seed_list(*bad)
