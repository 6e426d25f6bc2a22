"""Quality metrics for the image GANs (MNIST digits, CIFAR-10 ships), with no TensorFlow.

Inception weights cannot be downloaded, so every metric is computed on the outputs of a small
classifier that the pipeline trains itself: penultimate-layer *features* (float arrays (N, D))
and softmax *probabilities* (N, n_classes). Numbers are therefore comparable between runs of
this pipeline, but NOT with published FID/KID/IS values (those use Inception-v3).

Feature-space metrics (generated vs. real features):

* :func:`frechet_distance` -- Fréchet distance between Gaussians fitted to the two feature
  sets ("FID" in our feature space): ``||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``.
  0 for identical statistics; **lower is better**. Biased upwards for small N (compare runs at
  the same N). Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to a
  local Nash equilibrium".
* :func:`kid` -- Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel
  ``k(x, y) = (x.y / d + 1)^3``, averaged over random subsets. ~0 in expectation for equal
  distributions (single values may be slightly negative); **lower is better**; unbiased, so
  fairer than FD for small N. Bińkowski et al. 2018, "Demystifying MMD GANs".
* :func:`prdc` -- k-nearest-neighbour manifold metrics (each ball: centre a sample, radius its
  distance to its k-th nearest neighbour in its own set):

  - ``precision`` (fidelity): fraction of generated samples inside the real manifold (the
    union of real balls). Kynkäänniemi et al. 2019, "Improved precision and recall metric for
    assessing generative models".
  - ``recall`` (diversity): fraction of real samples inside the generated manifold. Same paper.
  - ``density``: ``1/(k M) sum_j sum_i 1[fake_j in ball(real_i)]`` -- like precision but counts
    how many real balls hold each fake sample; ~1 when the distributions match, can exceed 1
    when samples crowd into dense real regions, ~0 for garbage. Naeem et al. 2020, "Reliable
    fidelity and diversity metrics for generative models".
  - ``coverage``: fraction of real balls that hold at least one generated sample; robust to
    outliers, ~1 - 2^-k (0.97 for k=5) for equal distributions and equal sizes. Same paper.

  All four lie in [0, 1] except density; **higher is better**. Mode collapse shows as low
  recall and coverage with high precision.

Label-space metrics (generated probabilities only):

* :func:`classifier_score` -- the Inception Score formula ``exp(E_x KL(p(y|x) || p(y)))`` over
  contiguous splits (mean and std over splits). Range [1, n_classes]; **higher is better**
  (confident AND varied predictions). Salimans et al. 2016, "Improved techniques for training
  GANs".
* :func:`label_histogram` -- fraction of samples per argmax class.
* :func:`modes_covered` -- number of classes holding at least ``min_frac`` of the samples
  (10 = every digit appears; **higher is better**).
* :func:`label_kl_to_uniform` -- ``KL(histogram || uniform)`` in nats: 0 when balanced,
  ``log(n_classes)`` (2.303 for 10) when every sample has one label; **lower is better**.
* :func:`class_score` -- for a target class (CIFAR-10 "ship" = 8): mean ``p(cls|x)`` and the
  fraction of samples classified as ``cls``; **higher is better**.

All public functions return plain Python floats/ints (or dicts of them, ready for
``json.dump``), except :func:`label_histogram`, which returns a NumPy array. Computation is in
float64. Bad input (wrong ndim, mismatched feature dims, fewer than 2 samples, non-finite
values, probabilities not summing to 1) raises :class:`UserError` with a one-line message.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.spatial.distance import cdist
from scipy.stats import entropy

from ganflow.errors import UserError

__all__ = [
    "frechet_distance",
    "kid",
    "classifier_score",
    "prdc",
    "label_histogram",
    "modes_covered",
    "label_kl_to_uniform",
    "class_score",
]

_FD_EPS = 1e-6
_IS_EPS = 1e-12
_PROB_SUM_ATOL = 1e-3
# float64 elements of one distance block (rows x columns): 16e6 * 8 B = 128 MB, plus a boolean
# mask and a partition copy of the same shape at most -> well under 1 GB.
_BLOCK_ELEMENTS = 16_000_000


# ---------------------------------------------------------------------------------------------
# validation


def _as_float_2d(name: str, a) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UserError(f"{name}: not a numeric array ({type(exc).__name__})") from None
    if arr.ndim != 2:
        raise UserError(f"{name}: expected a 2-D array (N, D), got shape {arr.shape}")
    if arr.shape[0] < 2:
        raise UserError(f"{name}: need at least 2 samples, got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise UserError(f"{name}: need at least 1 value per sample, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise UserError(f"{name}: contains non-finite values (NaN or inf)")
    return arr


def _check_features(name_a: str, a, name_b: str, b) -> tuple[np.ndarray, np.ndarray]:
    a = _as_float_2d(name_a, a)
    b = _as_float_2d(name_b, b)
    if a.shape[1] != b.shape[1]:
        raise UserError(
            f"{name_b}: feature dimension {b.shape[1]} does not match {name_a} ({a.shape[1]})"
        )
    return a, b


def _check_probs(name: str, probs) -> np.ndarray:
    p = _as_float_2d(name, probs)
    if p.shape[1] < 2:
        raise UserError(f"{name}: need at least 2 classes, got shape {p.shape}")
    if p.min() < -_PROB_SUM_ATOL or p.max() > 1 + _PROB_SUM_ATOL:
        raise UserError(
            f"{name}: probabilities must lie in [0, 1], got range [{p.min():.4g}, {p.max():.4g}]"
        )
    sums = p.sum(axis=1)
    worst = float(np.abs(sums - 1.0).max())
    if worst > _PROB_SUM_ATOL:
        raise UserError(
            f"{name}: rows must sum to 1 (softmax probabilities), worst row sums to "
            f"{sums[np.argmax(np.abs(sums - 1.0))]:.6g}"
        )
    return np.clip(p, 0.0, 1.0)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UserError(f"{name}: expected an integer, got {value!r}")
    if value < minimum:
        raise UserError(f"{name}: must be at least {minimum}, got {value}")
    return int(value)


# ---------------------------------------------------------------------------------------------
# feature-space metrics


def _sqrtm(m: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        with np.errstate(all="ignore"):
            return np.asarray(linalg.sqrtm(m))


def frechet_distance(feat_a, feat_b) -> float:
    """FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) (covariances with ddof=1)."""
    a, b = _check_features("feat_a", feat_a, "feat_b", feat_b)
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False, ddof=1))
    s_b = np.atleast_2d(np.cov(b, rowvar=False, ddof=1))
    covmean = _sqrtm(s_a @ s_b)
    if not np.isfinite(covmean).all():
        # pytorch-fid fallback: regularise near-singular covariances and retry
        offset = np.eye(s_a.shape[0]) * _FD_EPS
        covmean = _sqrtm((s_a + offset) @ (s_b + offset))
        if not np.isfinite(covmean).all():
            raise UserError(
                "feat_a/feat_b: covariance square root is not finite even after regularisation"
            )
    covmean = np.real(covmean)
    diff = mu_a - mu_b
    fd = float(diff @ diff + np.trace(s_a) + np.trace(s_b) - 2.0 * np.trace(covmean))
    return max(fd, 0.0)


def _poly_kernel(x: np.ndarray, y: np.ndarray, d: int) -> np.ndarray:
    return (x @ y.T / d + 1.0) ** 3


def kid(feat_a, feat_b, *, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> dict:
    """KID = mean (and std, ddof=0) over subsets of unbiased MMD^2, k(x,y) = (x.y/d + 1)^3.

    Subsets hold m = min(subset_size, N_a // 2, N_b // 2) samples of each set: at most half of
    each, so that subsets differ and ``std`` estimates the spread (subsets of a whole set
    would repeat one value, std 0, ``n_subsets`` times the work)."""
    a, b = _check_features("feat_a", feat_a, "feat_b", feat_b)
    n_subsets = _check_int("n_subsets", n_subsets, 2)
    subset_size = _check_int("subset_size", subset_size, 2)
    m = min(subset_size, a.shape[0] // 2, b.shape[0] // 2)
    if m < 2:
        raise UserError(f"KID needs at least 4 samples in each set, got {a.shape[0]} and {b.shape[0]}")
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    mmds = np.empty(n_subsets, dtype=np.float64)
    for s in range(n_subsets):
        x = a[rng.choice(a.shape[0], m, replace=False)]
        y = b[rng.choice(b.shape[0], m, replace=False)]
        k_xx = _poly_kernel(x, x, d)
        k_yy = _poly_kernel(y, y, d)
        k_xy = _poly_kernel(x, y, d)
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        mmds[s] = within - 2.0 * k_xy.sum() / (m * m)
    return {"mean": float(mmds.mean()), "std": float(mmds.std())}


def _kth_radii(feat: np.ndarray, k: int) -> np.ndarray:
    """Distance of each row to its k-th nearest neighbour in the same set (self excluded)."""
    n = feat.shape[0]
    rows = max(1, _BLOCK_ELEMENTS // n)
    radii = np.empty(n, dtype=np.float64)
    for start in range(0, n, rows):
        d = cdist(feat[start : start + rows], feat, metric="euclidean")
        # the self-distance 0 is the smallest entry, so the k-th neighbour is the (k+1)-th
        # smallest value (index k), exactly as in the reference `prdc` package
        d.partition(k, axis=1)
        radii[start : start + rows] = d[:, k]
    return radii


def prdc(real_feat, fake_feat, *, k: int = 5) -> dict:
    """P = avg_j 1[any_i d_ij < R_i]; R = avg_i 1[any_j d_ij < F_j]; D, C: see below.

    d_ij = |real_i - fake_j|, R_i / F_j = k-NN radii of real_i / fake_j within their own set;
    density = sum_ij 1[d_ij < R_i] / (k M); coverage = avg_i 1[min_j d_ij < R_i].
    """
    real, fake = _check_features("real_feat", real_feat, "fake_feat", fake_feat)
    k = _check_int("k", k, 1)
    for name, arr in (("real_feat", real), ("fake_feat", fake)):
        if arr.shape[0] <= k:
            raise UserError(f"{name}: need more than k={k} samples, got {arr.shape[0]}")
    real_radii = _kth_radii(real, k)
    fake_radii = _kth_radii(fake, k)

    n, m = real.shape[0], fake.shape[0]
    rows = max(1, _BLOCK_ELEMENTS // m)
    fake_in_real = np.zeros(m, dtype=bool)  # precision: fake_j inside some real ball
    density_counts = np.zeros(m, dtype=np.int64)  # number of real balls holding fake_j
    real_in_fake = np.empty(n, dtype=bool)  # recall: real_i inside some fake ball
    covered = np.empty(n, dtype=bool)  # coverage: real ball i holds some fake sample
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        d = cdist(real[start:stop], fake, metric="euclidean")
        r = real_radii[start:stop, None]
        real_in_fake[start:stop] = (d < fake_radii[None, :]).any(axis=1)
        covered[start:stop] = d.min(axis=1) < real_radii[start:stop]
        inside = d < r
        del d
        fake_in_real |= inside.any(axis=0)
        density_counts += inside.sum(axis=0)
        del inside
    return {
        "precision": float(fake_in_real.mean()),
        "recall": float(real_in_fake.mean()),
        "density": float(density_counts.sum() / (k * m)),
        "coverage": float(covered.mean()),
    }


# ---------------------------------------------------------------------------------------------
# label-space metrics


def classifier_score(probs, *, n_splits: int = 10) -> dict:
    """IS = exp(E_x KL(p(y|x) || p(y))) per contiguous split, p(y) = the split's mean p(y|x)."""
    p = _check_probs("probs", probs)
    n_splits = _check_int("n_splits", n_splits, 1)
    n = p.shape[0]
    if n_splits > n:
        raise UserError(f"n_splits: {n_splits} splits need at least {n_splits} samples, got {n}")
    scores = np.empty(n_splits, dtype=np.float64)
    for i in range(n_splits):
        part = p[i * n // n_splits : (i + 1) * n // n_splits]
        py = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + _IS_EPS) - np.log(py + _IS_EPS))).sum(axis=1)
        scores[i] = np.exp(kl.mean())
    return {"mean": float(scores.mean()), "std": float(scores.std())}


def label_histogram(probs) -> np.ndarray:
    """h_c = (1/N) #{x : argmax_y p(y|x) = c}, a float64 array of length n_classes."""
    p = _check_probs("probs", probs)
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1])
    return counts.astype(np.float64) / p.shape[0]


def modes_covered(probs, *, min_frac: float = 0.02) -> int:
    """Number of classes c with h_c >= min_frac (h = label_histogram)."""
    try:
        min_frac = float(min_frac)
    except (TypeError, ValueError):
        raise UserError(f"min_frac: expected a number, got {min_frac!r}") from None
    if not (0.0 < min_frac <= 1.0):
        raise UserError(f"min_frac: must be in (0, 1], got {min_frac}")
    hist = label_histogram(probs)
    # tolerance so that e.g. 2/100 counts as >= 0.02 regardless of rounding
    return int(np.count_nonzero(hist >= min_frac * (1.0 - 1e-9)))


def label_kl_to_uniform(probs) -> float:
    """KL(h || U) = sum_c h_c log(C h_c), nats; h = label_histogram; 0 balanced, log C one class."""
    hist = label_histogram(probs)
    uniform = np.full(hist.shape, 1.0 / hist.size)
    return max(float(entropy(hist, uniform)), 0.0)


def class_score(probs, cls: int) -> dict:
    """mean_p = (1/N) sum_x p(cls|x); frac = (1/N) #{x : argmax_y p(y|x) = cls}."""
    p = _check_probs("probs", probs)
    cls = _check_int("cls", cls, 0)
    if cls >= p.shape[1]:
        raise UserError(f"cls: class {cls} out of range for {p.shape[1]} classes")
    return {
        "mean_p": float(p[:, cls].mean()),
        "frac": float(np.mean(p.argmax(axis=1) == cls)),
    }
