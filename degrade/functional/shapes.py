"""Random geometry shared by the structured defects: curves, tapered strokes, irregular blobs.

Coordinates are float (x, y) pixels; drawing uses OpenCV's anti-aliased primitives on uint8
canvases with 4 bits of sub-pixel precision.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

SHIFT = 4
ONE = 1 << SHIFT


def fixed(points: np.ndarray) -> np.ndarray:
    """Float (x, y) points as OpenCV fixed-point int32 coordinates (``SHIFT`` fractional bits)."""
    return np.rint(np.asarray(points) * ONE).astype(np.int32)


def random_curve(rng: np.random.Generator, start: tuple[float, float], length: float, angle: float,
                 bend: float, n: int = 16) -> np.ndarray:
    """Polyline of ``n`` points, ``length`` pixels long, leaving ``start`` at ``angle`` radians.

    The heading drifts smoothly; ``bend`` is the total std of the turn in radians (0 = straight).
    """
    turns = rng.standard_normal(n - 1) * (bend / np.sqrt(n - 1))
    turns = np.convolve(turns, np.ones(3) / 3.0, mode="same")
    heading = angle + np.concatenate([[0.0], np.cumsum(turns[:-1])])
    step = length / (n - 1)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=1) * step
    return np.vstack([start, start + np.cumsum(steps, axis=0)])


def random_curves(rng: np.random.Generator, starts: np.ndarray, lengths: np.ndarray, angles: np.ndarray,
                  bends: np.ndarray, n: int = 16) -> np.ndarray:
    """:func:`random_curve` for many curves at once (version-2 draws): ``starts`` (m x 2) and the
    per-curve ``lengths``, ``angles`` and ``bends`` (m each) give m polylines of ``n`` points (m x n x 2)."""
    drawn = rng.standard_normal((len(starts), n - 1)) * (bends / np.sqrt(n - 1))[:, None]
    turns = drawn.copy()  # the mean of each turn and its neighbours (zero beyond the ends), without np.pad
    turns[:, 1:] += drawn[:, :-1]
    turns[:, :-1] += drawn[:, 1:]
    turns /= 3.0
    heading = angles[:, None] + np.concatenate([np.zeros((len(starts), 1)), np.cumsum(turns[:, :-1], axis=1)], axis=1)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=2) * (lengths / (n - 1))[:, None, None]
    return np.concatenate([starts[:, None], starts[:, None] + np.cumsum(steps, axis=1)], axis=1)


def taper(n: int, ends: float) -> np.ndarray:
    """Weights 0-1 along ``n`` segments: rising over the first and last ``ends`` fraction (0-0.5)."""
    t = (np.arange(n) + 0.5) / n
    if ends <= 0:
        return np.ones(n)
    return np.clip(np.minimum(t, 1.0 - t) / ends, 0.0, 1.0) ** 0.7


def draw_stroke(canvas: np.ndarray, points: np.ndarray, width: float, value: float, ends: float) -> None:
    """Draw ``points`` on the uint8 ``canvas`` in place, ``width`` px wide, tapering at the ends.

    Widths under 1.5 px are drawn 1 px wide with proportionally lower ``value`` (0-255), so
    hairline strokes stay faint. The stroke is drawn on its own patch and merged with ``max``, so
    crossing strokes never darken each other.
    """
    pad = int(np.ceil(width)) + 2
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(canvas.shape[1], x1), min(canvas.shape[0], y1)
    if x0 >= x1 or y0 >= y1:
        return
    patch = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = fixed(points - np.array([x0, y0])).tolist()
    for i, wgt in enumerate(taper(len(points) - 1, ends).tolist()):
        wd = width * wgt
        v = value * min(1.0, wd) if wd < 1.5 else value
        if v >= 1:
            cv2.line(patch, pts[i], pts[i + 1], float(v), max(1, int(round(wd))), cv2.LINE_AA, shift=SHIFT)
    roi = canvas[y0:y1, x0:x1]
    np.maximum(roi, patch, out=roi)


def stroke_styles(segments: int, widths: np.ndarray, values: np.ndarray,
                  ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-segment line thickness (int px >= 1) and value (0-255; 0 = not drawn) of strokes with
    ``segments`` segments, ``widths`` px wide, of ``values``, tapering over ``ends`` (0-0.5, > 0):
    the rules of :func:`draw_stroke` for m strokes at once (m x segments each)."""
    t = (np.arange(segments) + 0.5) / segments
    wd = widths[:, None] * np.clip(np.minimum(t, 1.0 - t) / ends[:, None], 0.0, 1.0) ** 0.7
    value = np.where(wd < 1.5, values[:, None] * np.minimum(1.0, wd), values[:, None])
    return np.maximum(1, np.rint(wd)).astype(int), np.where(value >= 1, value, 0.0)


def draw_strokes(layers: list[np.ndarray], which: np.ndarray, curves: np.ndarray, widths: np.ndarray,
                 values: np.ndarray, ends: np.ndarray) -> None:
    """Version 2 of :func:`draw_stroke` for m strokes (``curves``: m x n x 2 float points) drawn on
    ``layers[which[i]]`` in place: runs of segments of one thickness and value are drawn as one
    polyline (fewer OpenCV calls, no repeated anti-aliasing where segments join); values are
    rounded first, as OpenCV rounds a colour, so more segments join."""
    thick, value = stroke_styles(curves.shape[1] - 1, widths, values, ends)
    value = np.rint(value)
    height, width = layers[0].shape
    pad = np.ceil(widths).astype(int)[:, None] + 2
    low = np.maximum(np.floor(curves.min(axis=1)).astype(int) - pad, 0)
    high = np.minimum(np.ceil(curves.max(axis=1)).astype(int) + pad + 1, [width, height])
    points = fixed(curves - low[:, None])
    for i in np.flatnonzero((low < high).all(axis=1)).tolist():
        (x0, y0), (x1, y1) = low[i].tolist(), high[i].tolist()
        patch = np.zeros((y1 - y0, x1 - x0), np.uint8)
        start = 0
        for (t, v), run in itertools.groupby(zip(thick[i].tolist(), value[i].tolist(), strict=True)):
            stop = start + len(list(run))
            if v > 0:
                cv2.polylines(patch, [points[i, start:stop + 1]], False, v, t, cv2.LINE_AA, shift=SHIFT)
            start = stop
        roi = layers[which[i]][y0:y1, x0:x1]
        np.maximum(roi, patch, out=roi)


def blob(rng: np.random.Generator, center: tuple[float, float], radii: tuple[float, float],
         angle: float, roughness: float, n: int = 48) -> np.ndarray:
    """Closed irregular outline (n x 2 float points): an ellipse whose radius wobbles.

    ``radii`` are the semi-axes in pixels, ``angle`` the rotation in radians, ``roughness`` the
    relative std of the radius wobble (0 = ellipse), smooth at large scale with fine jagged detail.
    """
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    wobble = np.zeros(n)
    for k, amp in ((2, 1.0), (3, 0.7), (5, 0.45), (9, 0.25), (17, 0.12)):
        phase = rng.uniform(0, 2 * np.pi)
        wobble += amp * rng.standard_normal() * np.cos(k * t + phase)
    wobble += 0.15 * rng.standard_normal(n)
    r = np.clip(1.0 + roughness * wobble / 1.4, 0.25, 2.0)
    x, y = radii[0] * r * np.cos(t), radii[1] * r * np.sin(t)
    ca, sa = np.cos(angle), np.sin(angle)
    return np.stack([center[0] + ca * x - sa * y, center[1] + sa * x + ca * y], axis=1)


def fill(canvas: np.ndarray, outline: np.ndarray, value: float = 255) -> None:
    """Fill the closed float ``outline`` on the uint8 ``canvas`` in place (anti-aliased)."""
    cv2.fillPoly(canvas, [fixed(outline)], float(value), cv2.LINE_AA, shift=SHIFT)


def jagged(rng: np.random.Generator, p0, p1, roughness: float, n: int = 64) -> np.ndarray:
    """Rough line from ``p0`` to ``p1`` (n x 2 points) like a paper tear: the perpendicular offset
    is a smooth random walk pinned at both ends plus fine jitter; ``roughness`` scales it in pixels.
    """
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    t = np.linspace(0.0, 1.0, n)
    walk = np.cumsum(rng.standard_normal(n)) / np.sqrt(n)
    walk -= walk[0] + t * (walk[-1] - walk[0])
    offset = roughness * (3.0 * walk + 0.35 * rng.standard_normal(n))
    d = p1 - p0
    normal = np.array([-d[1], d[0]]) / max(np.hypot(*d), 1e-9)
    return p0 + t[:, None] * d + offset[:, None] * normal
