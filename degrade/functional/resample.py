"""Loss of resolution: resample down to a smaller size, then back up to the original size."""

from __future__ import annotations

import cv2
import numpy as np

INTERPOLATIONS = {
    "nearest": cv2.INTER_NEAREST,
    "bilinear": cv2.INTER_LINEAR,
    "bicubic": cv2.INTER_CUBIC,
    "area": cv2.INTER_AREA,
    "lanczos": cv2.INTER_LANCZOS4,
}


def down_up(image: np.ndarray, width: int, height: int, down: str = "bicubic", up: str = "bilinear") -> np.ndarray:
    """Resize to ``width`` x ``height`` pixels with ``down`` interpolation, then back with ``up``."""
    h, w = image.shape[:2]
    small = cv2.resize(image, (width, height), interpolation=INTERPOLATIONS[down])
    return cv2.resize(small, (w, h), interpolation=INTERPOLATIONS[up])
