"""Behaviour tests for ganflow.metrics.images: matching distributions score at the floor, broken
ones (shifted, collapsed, far away, one class) score badly, and the formulas match closed forms."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from ganflow.errors import UserError
from ganflow.metrics import images
from ganflow.metrics.images import (
    class_score,
    classifier_score,
    frechet_distance,
    kid,
    label_histogram,
    label_kl_to_uniform,
    modes_covered,
    prdc,
)

D = 32


def gauss(n, seed, d=D, shift=0.0, scale=1.0):
    return np.random.default_rng(seed).normal(shift, scale, size=(n, d))


def clustered(n, seed, d=D, n_clusters=10, spread=10.0, only=None):
    """Gaussian blobs around fixed centres (centres from seed 12345, shared between calls)."""
    centres = np.random.default_rng(12345).normal(0.0, spread, size=(n_clusters, d))
    rng = np.random.default_rng(seed)
    labels = np.full(n, only) if only is not None else rng.integers(0, n_clusters, n)
    return centres[labels] + rng.normal(size=(n, d))


def softmax_probs(labels, n_classes=10, sharpness=6.0, seed=0):
    """Softmax of class-clustered logits: confident-ish predictions of the given labels."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(labels), n_classes))
    logits[np.arange(len(labels)), labels] += sharpness
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def one_hot(labels, n_classes=10):
    return np.eye(n_classes)[labels]


# ---------------------------------------------------------------------------------------------
# Fréchet distance


def test_fd_identical_sets_is_zero():
    a = gauss(500, 0)
    assert frechet_distance(a, a) < 1e-6
    assert frechet_distance(a.astype(np.float32), a.astype(np.float32)) < 1e-6


def test_fd_same_distribution_small_shift_large_and_symmetric():
    a, b = gauss(2000, 0), gauss(2000, 1)
    same = frechet_distance(a, b)
    shifted = frechet_distance(a, gauss(2000, 2, shift=0.5))  # true FD = 32 * 0.25 = 8
    assert 0.0 < same < 0.5
    assert shifted > 10 * same
    assert 7.0 < shifted < 9.0
    assert frechet_distance(b, a) == pytest.approx(same, rel=1e-9, abs=1e-9)
    assert isinstance(same, float)


def test_fd_matches_closed_form_for_diagonal_gaussians():
    d, n = 8, 40_000
    rng = np.random.default_rng(7)
    mu1, mu2 = rng.normal(0, 1, d), rng.normal(0, 1, d)
    sd1, sd2 = rng.uniform(0.5, 2.0, d), rng.uniform(0.5, 2.0, d)
    a = mu1 + sd1 * rng.normal(size=(n, d))
    b = mu2 + sd2 * rng.normal(size=(n, d))
    # Tr(S1 + S2 - 2 sqrt(S1 S2)) for diagonal covariances = sum (sd1 - sd2)^2
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((sd1 - sd2) ** 2)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-2)


def test_fd_singular_covariance_still_finite():
    # fewer samples than dimensions: both covariances are singular
    a, b = gauss(10, 0), gauss(10, 1)
    fd = frechet_distance(a, b)
    assert math.isfinite(fd) and fd > 0


# ---------------------------------------------------------------------------------------------
# KID


def test_kid_same_distribution_near_zero_and_unbiased():
    means = []
    for s in range(20):
        r = kid(gauss(300, 2 * s), gauss(300, 2 * s + 1), n_subsets=3, subset_size=300, seed=s)
        assert r["std"] >= 0.0
        means.append(r["mean"])
    means = np.array(means)
    se = means.std(ddof=1) / np.sqrt(len(means))
    assert abs(means.mean()) < 4 * se  # unbiased: centred on 0 ...
    assert (means < 0).any()  # ... so some estimates are negative (not clipped)
    shifted = kid(gauss(300, 100), gauss(300, 101, shift=0.5), n_subsets=3, subset_size=300)
    assert shifted["mean"] > 20 * se
    assert shifted["mean"] > 10 * np.abs(means).max()


def test_kid_shift_is_positive_and_result_is_deterministic():
    a, b = gauss(500, 0), gauss(400, 1, shift=0.3)
    r1 = kid(a, b, n_subsets=10, subset_size=1000, seed=3)  # subset size capped at 400 // 2
    r2 = kid(a, b, n_subsets=10, subset_size=1000, seed=3)
    assert r1 == r2
    assert r1["mean"] > 0
    assert set(r1) == {"mean", "std"} and all(isinstance(v, float) for v in r1.values())
    assert r1 != kid(a, b, n_subsets=10, subset_size=1000, seed=4)  # the seed picks the subsets


@pytest.mark.parametrize("n", [8, 256, 1000])
def test_kid_std_is_estimated_whatever_the_sample_size(n):
    # n <= subset_size used to draw the whole set every time: std 0 by construction
    r = kid(gauss(n, 0), gauss(n, 1, shift=0.3), n_subsets=20, subset_size=1000)
    assert r["std"] > 0


# ---------------------------------------------------------------------------------------------
# classifier (Inception) score


def test_classifier_score_confident_balanced_is_n_classes():
    probs = one_hot(np.tile(np.arange(10), 100))  # each contiguous split of 100 is balanced
    r = classifier_score(probs, n_splits=10)
    assert r["mean"] == pytest.approx(10.0, rel=1e-6)
    assert r["std"] == pytest.approx(0.0, abs=1e-6)


def test_classifier_score_one_class_or_uniform_is_one():
    assert classifier_score(one_hot(np.full(500, 3)))["mean"] == pytest.approx(1.0, abs=1e-6)
    assert classifier_score(np.full((500, 10), 0.1))["mean"] == pytest.approx(1.0, abs=1e-6)


def test_classifier_score_softmax_between_bounds():
    labels = np.random.default_rng(0).integers(0, 10, 1000)
    r = classifier_score(softmax_probs(labels), n_splits=5)
    assert 3.0 < r["mean"] < 10.0
    half = classifier_score(softmax_probs(labels % 5), n_splits=5)  # 5 classes only
    assert half["mean"] < 5.0 < r["mean"]


# ---------------------------------------------------------------------------------------------
# precision / recall / density / coverage


def test_prdc_real_vs_real_is_high():
    # low dimension: k-NN precision/recall of identical distributions fall with D (~0.80 at D=32)
    r = prdc(gauss(1000, 0, d=8), gauss(1000, 1, d=8), k=5)
    assert r["precision"] > 0.8 and r["recall"] > 0.8
    assert 0.8 < r["density"] < 1.2
    assert r["coverage"] > 0.9  # expected 1 - 2^-5 = 0.97 for equal sizes
    assert set(r) == {"precision", "recall", "density", "coverage"}
    assert all(isinstance(v, float) for v in r.values())


def test_prdc_mode_collapse_has_no_recall_or_coverage():
    real = gauss(800, 0)
    fake = np.repeat(gauss(1, 1), 400, axis=0)  # every sample identical
    r = prdc(real, fake, k=5)
    assert r["recall"] < 0.02 and r["coverage"] < 0.02


def test_prdc_far_away_noise_scores_zero():
    r = prdc(gauss(800, 0), gauss(400, 1, shift=50.0), k=5)
    assert r == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_single_cluster_of_ten():
    real = clustered(1000, 0)
    floor = prdc(real, clustered(1000, 1))
    one = prdc(real, clustered(500, 2, only=0))
    assert floor["coverage"] > 0.9 and floor["recall"] > 0.6
    assert one["coverage"] < 0.2 and one["recall"] < 0.2  # one mode of ten: ~0.1
    assert one["coverage"] < floor["coverage"] / 4 and one["recall"] < floor["recall"] / 4
    assert one["precision"] > 0.6  # the samples themselves are realistic


def reference_prdc(real, fake, k):
    """The reference implementation: Naeem et al.'s own `prdc` package (test-only dependency)."""
    from prdc import compute_prdc

    return compute_prdc(real_features=real, fake_features=fake, nearest_k=k)


@pytest.mark.parametrize("block_elements", [1000, 7 * 200, images._BLOCK_ELEMENTS])
def test_prdc_blocked_matches_brute_force(monkeypatch, block_elements):
    monkeypatch.setattr(images, "_BLOCK_ELEMENTS", block_elements)
    real = clustered(200, 0, d=16, spread=2.0)
    real[150:160] = real[:10]  # exact duplicates: ties must be handled as the reference does
    fake = clustered(150, 1, d=16, spread=2.0) * 1.1
    for k in (1, 3, 5):
        got, want = prdc(real, fake, k=k), reference_prdc(real, fake, k)
        for key in want:
            assert got[key] == pytest.approx(float(want[key]), abs=1e-12), (k, key)


# ---------------------------------------------------------------------------------------------
# label histogram, modes, KL to uniform, class score


def test_label_metrics_balanced_one_class_five_classes():
    balanced = softmax_probs(np.tile(np.arange(10), 50))
    assert modes_covered(balanced) == 10
    assert label_kl_to_uniform(balanced) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(label_histogram(balanced), np.full(10, 0.1))

    single = softmax_probs(np.full(500, 4))
    assert modes_covered(single) == 1
    assert label_kl_to_uniform(single) == pytest.approx(math.log(10), rel=1e-9)
    assert label_histogram(single)[4] == 1.0

    five = softmax_probs(np.tile(np.arange(5), 100))
    assert modes_covered(five) == 5
    assert label_kl_to_uniform(five) == pytest.approx(math.log(2), rel=1e-9)


def test_modes_covered_threshold():
    labels = np.concatenate([np.full(98, 0), [1, 1]])  # class 1 holds exactly 2%
    probs = one_hot(labels)
    assert modes_covered(probs, min_frac=0.02) == 2
    assert modes_covered(probs, min_frac=0.03) == 1
    assert isinstance(modes_covered(probs), int)
    assert isinstance(label_kl_to_uniform(probs), float)


def test_class_score():
    probs = np.zeros((4, 10))
    probs[0, 8] = 1.0
    probs[1, [8, 2]] = [0.6, 0.4]
    probs[2, [8, 2]] = [0.4, 0.6]
    probs[3, 0] = 1.0
    r = class_score(probs, 8)
    assert r == pytest.approx({"mean_p": 0.5, "frac": 0.5})
    assert all(isinstance(v, float) for v in r.values())
    assert class_score(probs, 5) == {"mean_p": 0.0, "frac": 0.0}


def test_outputs_are_json_ready():
    a, b = gauss(50, 0, d=8), gauss(50, 1, d=8)
    p = softmax_probs(np.arange(50) % 10)
    out = {
        "fd": frechet_distance(a, b),
        "kid": kid(a, b, n_subsets=2),
        "is": classifier_score(p, n_splits=5),
        "prdc": prdc(a, b),
        "modes": modes_covered(p),
        "kl": label_kl_to_uniform(p),
        "ship": class_score(p, 8),
    }
    assert json.loads(json.dumps(out)) == out

    def leaves(node):
        return [x for v in node.values() for x in leaves(v)] if isinstance(node, dict) else [node]

    # plain Python numbers (a numpy scalar such as np.float32 or np.int64 is not JSON), finite
    assert all(type(v) in (float, int) and math.isfinite(v) for v in leaves(out)), out


# ---------------------------------------------------------------------------------------------
# bad input


GOOD = np.random.default_rng(0).normal(size=(20, 4))
PROBS = one_hot(np.arange(20) % 10)
NAN = GOOD.copy()
NAN[3, 1] = np.nan
UNNORM = PROBS * 2.0


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: frechet_distance(GOOD[0], GOOD), "feat_a"),  # 1-D
        (lambda: frechet_distance(GOOD, GOOD[None]), "feat_b"),  # 3-D
        (lambda: frechet_distance(GOOD, GOOD[:, :3]), "feat_b"),  # mismatched D
        (lambda: frechet_distance(GOOD[:1], GOOD), "feat_a"),  # 1 sample
        (lambda: frechet_distance(GOOD, NAN), "feat_b"),  # NaN
        (lambda: kid(GOOD, np.full_like(GOOD, np.inf)), "feat_b"),
        (lambda: kid(GOOD, GOOD, subset_size=1), "subset_size"),
        (lambda: kid(GOOD, GOOD, n_subsets=0), "n_subsets"),
        (lambda: kid(GOOD, GOOD, n_subsets=1), "n_subsets"),  # one subset: no std to report
        (lambda: prdc(NAN, GOOD), "real_feat"),
        (lambda: prdc(GOOD, GOOD[:, :2]), "fake_feat"),
        (lambda: prdc(GOOD, GOOD[:5], k=5), "fake_feat"),  # not more than k samples
        (lambda: prdc(GOOD, GOOD, k=0), "k"),
        (lambda: classifier_score(UNNORM), "probs"),
        (lambda: classifier_score(PROBS[0]), "probs"),
        (lambda: classifier_score(PROBS, n_splits=50), "n_splits"),
        (lambda: classifier_score(-PROBS + 0.2), "probs"),  # negative entries
        (lambda: label_histogram(UNNORM), "probs"),
        (lambda: modes_covered(PROBS, min_frac=0.0), "min_frac"),
        (lambda: label_kl_to_uniform(np.full((5, 10), np.nan)), "probs"),
        (lambda: class_score(PROBS, 10), "cls"),
        (lambda: class_score(PROBS, -1), "cls"),
        (lambda: frechet_distance([["a", "b"], ["c", "d"]], GOOD), "feat_a"),
    ],
)
def test_bad_input_raises_user_error(call, name):
    with pytest.raises(UserError) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(f"{name}:") or f"{name}:" in msg
    assert "\n" not in msg
