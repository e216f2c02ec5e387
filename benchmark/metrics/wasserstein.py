"""Sliced 2-Wasserstein distance between two feature sets (e.g. latent codes, or VGG16 features)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .base import MetricError
from .feature_set import FeatureSetMetric


@lru_cache(maxsize=8)
def random_directions(dim: int, n: int, seed: int) -> np.ndarray:
    """``n`` unit vectors uniform on the sphere in R^dim, shape (dim, n), read-only (cached: a
    bootstrap calls the distance hundreds of times with the same directions)."""
    dirs = np.random.default_rng(seed).standard_normal((dim, n))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    dirs.flags.writeable = False
    return dirs


def _quantile_w2_sq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact squared W2 between 1-D empirical distributions, per column of sorted ``a`` (n, P), ``b`` (m, P)."""
    n, m = len(a), len(b)
    edges = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    widths = np.diff(np.concatenate([[0.0], edges]))
    mid = edges - widths / 2
    ia = np.minimum((mid * n).astype(np.int64), n - 1)
    ib = np.minimum((mid * m).astype(np.int64), m - 1)
    return widths @ (a[ia] - b[ib]) ** 2


def sliced_wasserstein(x: np.ndarray, y: np.ndarray, n_projections: int = 1024, seed: int = 0) -> float:
    """sqrt(mean over random directions t of W2^2(x.t, y.t)); x (n, D), y (m, D), any n, m."""
    dirs = random_directions(x.shape[1], n_projections, seed)
    return float(np.sqrt(np.mean(_quantile_w2_sq(np.sort(x @ dirs, axis=0), np.sort(y @ dirs, axis=0)))))


class SlicedWasserstein(FeatureSetMetric):
    """Sliced 2-Wasserstein distance; lower is better.

    ``features``: "vgg16" (images -> VGG16 relu5_3 means, e.g. restored real vs clean photos),
    "inception", or "external" (latent codes given through ``update_features``).
    """

    name = "wasserstein"
    higher_is_better = False

    def __init__(self, features: str = "vgg16", n_projections: int = 1024, seed: int = 0,
                 device: str | None = "cpu", batch_size: int = 16) -> None:
        if n_projections < 1:
            raise MetricError(f"{self.name}: n_projections must be >= 1, got {n_projections}")
        super().__init__(features, device, batch_size)
        self.n_projections, self.seed = n_projections, seed

    @property
    def convention(self) -> str:
        return f"wasserstein:sliced-w2,{self.feature_convention},proj{self.n_projections},seed{self.seed}"

    def distance(self, pred: np.ndarray, target: np.ndarray) -> float:
        return sliced_wasserstein(pred, target, self.n_projections, self.seed)
