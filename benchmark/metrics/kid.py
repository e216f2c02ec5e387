"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel."""

from __future__ import annotations

import numpy as np

from .base import MetricError
from .feature_set import FeatureSetMetric


def kid_mmd2(x: np.ndarray, y: np.ndarray, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> float:
    """Mean over random subsets of the unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3."""
    d = x.shape[1]
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_subsets):
        a = x[rng.choice(len(x), m, replace=False)]
        b = y[rng.choice(len(y), m, replace=False)]
        kxx, kyy, kxy = ((a @ a.T / d + 1) ** 3, (b @ b.T / d + 1) ** 3, (a @ b.T / d + 1) ** 3)
        off = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(off - 2.0 * kxy.mean())
    return float(np.mean(values))


class KID(FeatureSetMetric):
    """KID; lower is better. ``features``: "inception" (standard, needs ``fid-inception``) or "vgg16"."""

    name = "kid"
    higher_is_better = False

    def __init__(self, features: str = "inception", n_subsets: int = 100, subset_size: int = 1000,
                 seed: int = 0, device: str | None = "cpu", batch_size: int = 16) -> None:
        if n_subsets < 1 or subset_size < 2:
            raise MetricError(f"{self.name}: n_subsets must be >= 1 and subset_size >= 2")
        super().__init__(features, device, batch_size)
        self.n_subsets, self.subset_size, self.seed = n_subsets, subset_size, seed

    @property
    def convention(self) -> str:
        flag = "" if self.features == "inception" else ",non-standard"
        return (f"kid:{self.feature_convention},poly3,subsets{self.n_subsets}x{self.subset_size},"
                f"seed{self.seed}{flag}")

    def distance(self, pred: np.ndarray, target: np.ndarray) -> float:
        return kid_mmd2(pred, target, self.n_subsets, self.subset_size, self.seed)
