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
