"""Base class for set-level metrics that compare a feature set of predictions with a reference set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .base import Metric, MetricError, as_images
from .features import FEATURE_CONVENTIONS, FeatureExtractor, folder_features


class FeatureSetMetric(Metric):
    """Accumulates features of predictions and of references; ``compute()`` compares the two sets.

    Sets need not be paired or equally large: ``update(pred, target)`` adds images to either set,
    ``update_features(pred, target)`` adds precomputed (N, D) features (e.g. latent codes) and
    ``add_folder(path, role)`` adds a folder's images through the per-folder feature cache.
    ``per_image`` stays empty (one value per set).
    """

    set_level = True
    needs_reference = True
    min_samples = 2

    def __init__(self, features: str, device: str | None = "cpu", batch_size: int = 16) -> None:
        super().__init__(device)
        self.features = features
        self._batch_size = batch_size
        self._extractor: FeatureExtractor | None = None
        self.reset()

    def reset(self) -> None:
        super().reset()
        self._sets: dict[str, list[np.ndarray]] = {"pred": [], "target": []}

    @property
    def extractor(self) -> FeatureExtractor:
        if self.features == "external":
            raise MetricError(f"{self.name}: features='external' takes features via update_features(), not images")
        if self._extractor is None:
            self._extractor = FeatureExtractor(self.features, self.device, self._batch_size)
        return self._extractor

    @property
    def feature_convention(self) -> str:
        """How features are made: an extractor's convention, or "external" (``update_features`` only)."""
        return FEATURE_CONVENTIONS.get(self.features, "external")

    def update(self, pred: Any, target: Any = None) -> None:
        for role, images in (("pred", pred), ("target", target)):
            if images is not None:
                self._sets[role].append(self.image_features(images, role))

    def image_features(self, images: Any, role: str = "target") -> np.ndarray:
        """(N, D) features of ``images`` as ``update`` adds them, to reuse through ``update_features``
        (e.g. one reference set against many prediction sets)."""
        return self.extractor(as_images(self.name, role, images))

    def update_features(self, pred: Any = None, target: Any = None) -> None:
        """Add precomputed features, arrays of shape (N, D)."""
        for role, feats in (("pred", pred), ("target", target)):
            if feats is None:
                continue
            feats = np.asarray(feats, dtype=np.float64)
            if feats.ndim != 2:
                raise MetricError(f"{self.name}: {role} features have shape {feats.shape}; expected (N, D)")
            if not np.isfinite(feats).all():
                raise MetricError(f"{self.name}: {role} features contain NaN or inf")
            self._sets[role].append(feats)

    def add_folder(self, folder: str | Path, role: str = "target") -> None:
        """Add the features of every image in ``folder`` (cached per folder) to ``role``."""
        if role not in self._sets:
            raise MetricError(f"{self.name}: role must be 'pred' or 'target', got {role!r}")
        self._sets[role].append(folder_features(folder, self.extractor))

    def feature_sets(self) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for role in ("pred", "target"):
            if not self._sets[role]:
                raise MetricError(f"{self.name}: no {role} samples added")
            feats = np.concatenate(self._sets[role])
            if len(feats) < self.min_samples:
                raise MetricError(f"{self.name}: {len(feats)} {role} sample(s); needs at least {self.min_samples}")
            out.append(feats)
        if out[0].shape[1] != out[1].shape[1]:
            raise MetricError(f"{self.name}: feature sizes differ: pred {out[0].shape[1]}, target {out[1].shape[1]}")
        return out[0], out[1]

    def compute(self) -> float:
        pred, target = self.feature_sets()
        return self.distance(pred, target)

    def distance(self, pred: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError
