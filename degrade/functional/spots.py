"""Dust and spots: small dark and bright specks, hairs and fibres, foxing (rust-brown spots)."""

from __future__ import annotations

import cv2
import numpy as np

from .blend import blend_where, settle
from .shapes import blob, draw_stroke, fill, random_curve

DUST_DARK = (0.08, 0.07, 0.06)
DUST_BRIGHT = (0.97, 0.97, 0.95)
FOXING_BROWN = (0.78, 0.56, 0.36)


def dust(image: np.ndarray, specks: int, hairs: int, radius: tuple[float, float], dark_share: float,
         seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``specks`` irregular specks of ``radius`` pixels and ``hairs`` curly hairs/fibres (1.5-10%
    of the image diagonal), each dark or bright (dark with probability ``dark_share``), drawn with
    their own opacity. Returns ``(image, mask)`` with the mask convention of :mod:`.blend`.
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    layers = [np.zeros((h, w), np.uint8) for _ in range(2)]
    diag = float(np.hypot(h, w))
    for _ in range(specks):
        r = float(np.exp(rng.uniform(np.log(radius[0]), np.log(radius[1]))))
        centre = (rng.uniform(0, w), rng.uniform(0, h))
        outline = blob(rng, centre, (r, r * rng.uniform(0.5, 1.0)), rng.uniform(0, np.pi), 0.3, n=12)
        fill(layers[int(rng.random() < dark_share)], outline, rng.uniform(120, 255))
    for _ in range(hairs):
        pts = random_curve(rng, (rng.uniform(0, w), rng.uniform(0, h)), rng.uniform(0.015, 0.1) * diag,
                           rng.uniform(0, 2 * np.pi), bend=rng.uniform(1.0, 4.0), n=20)
        draw_stroke(layers[int(rng.random() < dark_share)], pts, rng.uniform(0.6, 1.6),
                    rng.uniform(110, 230), ends=0.15)
    bright, dark = layers
    out, mask = blend_where(image, bright, DUST_BRIGHT, "normal", bright)
    out, dmask = blend_where(out, dark, DUST_DARK, "normal", dark, inplace=True)
    return settle(image, out, mask | dmask)


def foxing(image: np.ndarray, clusters: int, spots: tuple[int, int], radius: tuple[float, float],
           strength: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Foxing: ``clusters`` groups of ``spots`` soft rust-brown spots, ``radius`` a fraction of the
    short side, multiplied in at ``strength`` (0-1) with a darker core and a soft halo."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    side = min(h, w)
    canvas = np.zeros((h, w), np.uint8)
    for _ in range(clusters):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        spread = rng.uniform(0.03, 0.12) * side
        for _ in range(int(rng.integers(spots[0], spots[1], endpoint=True))):
            r = rng.uniform(*radius) * side
            centre = (cx + rng.normal(0, spread), cy + rng.normal(0, spread))
            value = rng.uniform(120, 255)
            fill(canvas, blob(rng, centre, (r, r * rng.uniform(0.6, 1.0)), rng.uniform(0, np.pi), 0.35, n=16), value)
            fill(canvas, blob(rng, centre, (0.4 * r, 0.4 * r), 0.0, 0.3, n=10), 255)
    sigma = max(0.6, radius[1] * side * 0.35)
    canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
    opacity = canvas.astype(np.float32) * np.float32(strength / 255.0)
    return blend_where(image, canvas, FOXING_BROWN, "multiply", opacity)
