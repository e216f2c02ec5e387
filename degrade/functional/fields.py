"""Smooth random fields: low-resolution noise up-sampled to the image size (cheap at any size)."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_noise(height: int, width: int, cell: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-std float32 HxW field whose features are about ``cell`` pixels wide.

    Gaussian noise is drawn on a grid of ``cell``-pixel cells and up-sampled bicubically, so the
    cost is that of one resize whatever the feature size.
    """
    gh = max(2, int(np.ceil(height / cell)) + 1)
    gw = max(2, int(np.ceil(width / cell)) + 1)
    coarse = rng.standard_normal((gh, gw), dtype=np.float32)
    if cell <= 1.0:
        field = coarse[:height, :width] if gh >= height and gw >= width else cv2.resize(coarse, (width, height))
    else:
        field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    field -= field.mean()
    std = field.std()
    if std > 0:
        field /= std
    return field
