"""Folds and creases: shading that changes sign across a fold line, and a crack along it."""

from __future__ import annotations

import numpy as np

from .blend import channels, commit

CRACK_WHITE = np.float32(0.94 * 255.0)


def fold(image: np.ndarray, offset: float, angle: float, width: float, strength: float, crack: float,
         seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fold line through the point ``offset`` (fraction of the short side, along the line's
    normal) from the image centre, at ``angle`` degrees (0 = horizontal), wobbling a little.

    Shading: gain ``1 + strength * s * exp((1 - s^2) / 2)`` with ``s = d / width`` (``d`` the signed
    distance in px), so one side of the fold is lit and the other shaded (sign of ``strength``),
    plus a narrow darker groove. ``crack`` (0-1) is the opacity of a broken white line of cracked
    emulsion along the fold. Returns ``(image, mask)`` with the mask convention of :mod:`.blend`.
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    t = np.deg2rad(angle)
    direction = np.array([np.cos(t), np.sin(t)], np.float32)
    normal = np.array([-direction[1], direction[0]], np.float32)
    centre = np.array([w / 2.0, h / 2.0], np.float32) + np.float32(offset * min(h, w)) * normal
    xs = np.arange(w, dtype=np.float32) - centre[0]
    ys = np.arange(h, dtype=np.float32) - centre[1]
    dist = xs[None, :] * normal[0] + ys[:, None] * normal[1]
    wobble_amp = 0.004 * min(h, w) + 0.5
    reach = 4.0 * width + 3.0 * wobble_amp + 3.0
    idx = np.flatnonzero(np.abs(dist) < reach)
    py, px = np.divmod(idx, w)
    along = xs[px] * direction[0] + ys[py] * direction[1]
    knots = np.linspace(-np.hypot(h, w) / 2, np.hypot(h, w) / 2, 24)
    d = dist.reshape(-1)[idx] + np.interp(along, knots, rng.normal(0, wobble_amp, knots.size)).astype(np.float32)
    s = d / np.float32(width)
    gain = 1.0 + strength * s * np.exp(0.5 - 0.5 * s * s) - 0.35 * abs(strength) * np.exp(-8.0 * s * s)
    fine = np.linspace(knots[0], knots[-1], 160)
    breaks = np.clip(np.interp(along, fine, rng.normal(0.6, 0.8, fine.size)), 0.0, 1.0)
    alpha = (crack * breaks * np.exp(-(d / 0.9) ** 2)).astype(np.float32)
    c = channels(image)
    values = np.ascontiguousarray(image.reshape(-1, c)[idx].T, dtype=np.float32)
    values *= gain.astype(np.float32)
    values += alpha * (CRACK_WHITE - values)
    return commit(image, idx, values)
