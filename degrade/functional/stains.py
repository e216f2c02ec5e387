"""Stains: soft, anisotropic colour shifts from water (with a darker tide line) or chemicals."""

from __future__ import annotations

import cv2
import numpy as np

from .blend import blend_where
from .fields import smooth_noise
from .shapes import blob, fill

WATER = (0.80, 0.64, 0.40)
CHEMICAL = ((0.92, 0.64, 0.86), (0.72, 0.86, 0.60), (0.96, 0.80, 0.45), (0.66, 0.72, 0.92))


def stains(image: np.ndarray, count: int, size: tuple[float, float], strength: float, kind: str,
           seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` stains of radius ``size`` (fraction of the short side), elongated (aspect
    0.3-1) and blurred more along one axis (drawn and blurred at reduced resolution), with mottled density,
    multiplied in at ``strength``.

    ``kind`` "water": brownish with a dark tide line at the border; "chemical": one random tint
    (magenta, green, amber, blue), denser body and a faint edge. Returns ``(image, mask)``.
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    side = min(h, w)
    water = kind == "water"
    colour = WATER if water else CHEMICAL[int(rng.integers(len(CHEMICAL)))]
    body_share, ring_share = (0.5, 1.2) if water else (1.0, 0.3)
    opacity = np.zeros((h, w), np.float32)
    for _ in range(count):
        r = rng.uniform(*size) * side
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        sx, sy = 0.12 * r * rng.uniform(1.0, 2.5), 0.12 * r
        pad = 1.4 * r + 3 * max(sx, sy)
        x0, x1 = int(max(0, cx - pad)), int(min(w, cx + pad + 1))
        y0, y1 = int(max(0, cy - pad)), int(min(h, cy + pad + 1))
        if x1 <= x0 or y1 <= y0:
            continue
        f = max(1.0, sy / 3.0)
        small = np.zeros((max(1, round((y1 - y0) / f)), max(1, round((x1 - x0) / f))), np.uint8)
        outline = blob(rng, (cx - x0, cy - y0), (r, r * rng.uniform(0.3, 1.0)), rng.uniform(0, np.pi), 0.35)
        fill(small, outline / f)
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=sx / f, sigmaY=sy / f)
        body = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        body *= np.float32(1.0 / 255.0)
        ring = np.float32(4.0) * body * (np.float32(1.0) - body)
        mottle = np.float32(0.75) + np.float32(0.25) * smooth_noise(*body.shape, max(2.0, r / 3.0), rng)
        a = (body * np.float32(body_share) + ring * np.float32(ring_share)) * mottle * np.float32(strength)
        np.maximum(opacity[y0:y1, x0:x1], np.clip(a, 0, 1), out=opacity[y0:y1, x0:x1])
    return blend_where(image, opacity > 0.004, colour, "multiply", opacity)
