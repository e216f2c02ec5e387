"""Frechet distances between Gaussian fits of two feature sets: FID (Inception) and FD-VGG16."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .feature_set import FeatureSetMetric


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray, eps: float = 1e-6) -> float:
    """||mu1 - mu2||^2 + Tr(C1 + C2 - 2 sqrt(C1 C2)); adds ``eps`` I when the product is singular."""
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(cov1 @ cov2, disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(cov1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean))


def gaussian_fit(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (rows are samples)."""
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


class FID(FeatureSetMetric):
    """Frechet Inception Distance (pytorch-fid convention); lower is better; needs ``fid-inception``."""

    name = "fid"
    higher_is_better = False

    def __init__(self, device: str | None = "cpu", batch_size: int = 16, features: str = "inception") -> None:
        super().__init__(features, device, batch_size)

    @property
    def convention(self) -> str:
        return f"{self.name}:{self.feature_convention},cov-unbiased,sqrtm"

    def distance(self, pred: np.ndarray, target: np.ndarray) -> float:
        return frechet_distance(*gaussian_fit(pred), *gaussian_fit(target))


class FDVGG16(FID):
    """Frechet distance over VGG16 relu5_3 features (NON-STANDARD: not comparable to FID)."""

    name = "fd-vgg16"

    def __init__(self, device: str | None = "cpu", batch_size: int = 16) -> None:
        super().__init__(device, batch_size, features="vgg16")

    @property
    def convention(self) -> str:
        return super().convention + ",non-standard"
