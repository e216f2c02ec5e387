"""Scratch textures: procedural bright and dark strokes, elastically distorted, blended in.

Geometry is relative to the image so a 256 px and a 1024 px photo look alike: lengths are
fractions of the image diagonal; stroke widths are in pixels (scratches are physically thin).
"""

from __future__ import annotations

import cv2
import numpy as np

from .blend import blend_passes, blend_where, settle
from .fields import coarse_noise, point_warp
from .shapes import draw_stroke, draw_strokes, random_curve, random_curves


def _single(rng, canvas, warp, start, angle, length, width, value):
    pts = warp(random_curve(rng, start, length, angle, bend=rng.uniform(0.0, 0.7), n=12))
    draw_stroke(canvas, pts, width, value, ends=rng.uniform(0.1, 0.5))


def _warp(elastic: float, height: int, width: int, rng: np.random.Generator):
    """A function moving (x, y) points by a smooth random displacement of ``elastic`` px std with
    features an eighth of the short side wide (the identity when ``elastic`` is 0)."""
    if elastic <= 0:
        return lambda pts: pts
    dx, dy = coarse_noise(height, width, max(8.0, min(height, width) / 8.0), elastic, rng, count=2,
                          scratch_tag="warp")

    def warp(pts: np.ndarray) -> np.ndarray:
        xi = np.clip(np.rint(pts[:, 0]), 0, width - 1).astype(int)
        yi = np.clip(np.rint(pts[:, 1]), 0, height - 1).astype(int)
        return pts + np.stack([dx[yi, xi], dy[yi, xi]], axis=1)
    return warp


def scratch_canvases(height: int, width: int, count: int, widths: tuple[float, float],
                     lengths: tuple[float, float], dark_share: float, cluster_share: float,
                     film: int, elastic: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Bright and dark stroke intensities (two uint8 HxW, 0 = no scratch) for ``count`` scratches.

    A scratch is a single curved stroke or, with probability ``cluster_share``, a cluster of 3-7
    near-parallel strokes; it is dark with probability ``dark_share``. ``film`` long vertical film
    scratches (nearly straight, full height, thin) are added on top. Every stroke is elastically
    distorted: its points move by a smooth random displacement field of ``elastic`` px std.
    """
    warp = _warp(elastic, height, width, rng)
    layers = [np.zeros((height, width), np.uint8) for _ in range(2)]
    diag = float(np.hypot(height, width))
    for _ in range(count):
        layer = layers[int(rng.random() < dark_share)]
        start = np.array([rng.uniform(0, width), rng.uniform(0, height)])
        angle = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(*lengths) * diag
        if rng.random() < cluster_share:
            normal = np.array([-np.sin(angle), np.cos(angle)])
            for _ in range(int(rng.integers(3, 8))):
                offset = normal * rng.normal(0, 0.02 * diag) + rng.normal(0, 0.05 * length, 2)
                _single(rng, layer, warp, start + offset, angle + rng.normal(0, 0.06),
                        length * rng.uniform(0.3, 1.0), rng.uniform(*widths) * 0.8, rng.uniform(90, 230))
        else:
            _single(rng, layer, warp, start, angle, length, rng.uniform(*widths), rng.uniform(140, 255))
    for _ in range(film):
        layer = layers[int(rng.random() < dark_share)]
        start = np.array([rng.uniform(0, width), rng.uniform(-0.2, 0.1) * height])
        pts = warp(random_curve(rng, start, rng.uniform(0.7, 1.3) * height, np.pi / 2 + rng.normal(0, 0.008),
                                bend=0.03, n=24))
        draw_stroke(layer, pts, rng.uniform(0.8, 1.8), rng.uniform(120, 230), ends=0.05)
    return layers


STROKE_POINTS = 12  # points per version-2 stroke curve, film scratches included


def _scratch_strokes(rng: np.random.Generator, height: int, width: int, count: int, widths: tuple[float, float],
                     lengths: tuple[float, float], dark_share: float, cluster_share: float) -> dict[str, np.ndarray]:
    """The strokes of ``count`` scratches drawn at once (version 2), per stroke: curve start (x, y),
    length (px), angle and bend (radians), width (px), value (0-255), taper ends and whether it is
    dark; the same distributions as :func:`scratch_canvases`."""
    diag = float(np.hypot(height, width))
    start = rng.random((count, 2)) * np.array([width, height])
    angle = rng.uniform(0, 2 * np.pi, count)
    length = rng.uniform(*lengths, count) * diag
    clustered = rng.random(count) < cluster_share
    owner = np.repeat(np.arange(count), np.where(clustered, rng.integers(3, 8, count), 1))
    sub, n = clustered[owner], owner.size
    normal = np.stack([-np.sin(angle), np.cos(angle)], axis=1)[owner]
    offset = normal * rng.normal(0, 0.02 * diag, n)[:, None]
    offset += rng.normal(0, 1, (n, 2)) * (0.05 * length[owner])[:, None]
    return {"start": start[owner] + offset * sub[:, None],
            "length": length[owner] * np.where(sub, rng.uniform(0.3, 1.0, n), 1.0),
            "angle": angle[owner] + rng.normal(0, 0.06, n) * sub, "bend": rng.uniform(0.0, 0.7, n),
            "width": rng.uniform(*widths, n) * np.where(sub, 0.8, 1.0),
            "value": np.where(sub, rng.uniform(90, 230, n), rng.uniform(140, 255, n)),
            "ends": rng.uniform(0.1, 0.5, n), "dark": (rng.random(count) < dark_share)[owner]}


def _film_strokes(rng: np.random.Generator, height: int, width: int, film: int,
                  dark_share: float) -> dict[str, np.ndarray]:
    """``film`` long vertical film scratches as strokes (version 2; see :func:`_scratch_strokes`)."""
    return {"start": np.stack([rng.uniform(0, width, film), rng.uniform(-0.2, 0.1, film) * height], axis=1),
            "length": rng.uniform(0.7, 1.3, film) * height, "angle": np.pi / 2 + rng.normal(0, 0.008, film),
            "bend": np.full(film, 0.03), "width": rng.uniform(0.8, 1.8, film), "value": rng.uniform(120, 230, film),
            "ends": np.full(film, 0.05), "dark": rng.random(film) < dark_share}


def scratch_canvases_v2(height: int, width: int, count: int, widths: tuple[float, float],
                        lengths: tuple[float, float], dark_share: float, cluster_share: float,
                        film: int, elastic: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Version 2 of :func:`scratch_canvases`: the same scratches (distributions, widths, tapers,
    film scratches), their random numbers drawn for all strokes at once, every curve (film
    scratches too) ``STROKE_POINTS`` points long, and every point moved by one
    :func:`.fields.point_warp` (no full-size displacement field)."""
    warp = point_warp(elastic, height, width, max(8.0, min(height, width) / 8.0), rng)
    parts = (_scratch_strokes(rng, height, width, count, widths, lengths, dark_share, cluster_share),
             _film_strokes(rng, height, width, film, dark_share))
    strokes = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    layers = [np.zeros((height, width), np.uint8) for _ in range(2)]
    if len(strokes["dark"]):
        curves = random_curves(rng, strokes["start"], strokes["length"], strokes["angle"], strokes["bend"],
                               n=STROKE_POINTS)
        moved = warp(curves.reshape(-1, 2)).reshape(curves.shape)
        draw_strokes(layers, strokes["dark"].astype(int), moved, strokes["width"], strokes["value"], strokes["ends"])
    return layers


def scratches(image: np.ndarray, count: int, widths: tuple[float, float], lengths: tuple[float, float],
              dark_share: float, cluster_share: float, film: int, elastic: float,
              bright_mode: str, dark_mode: str, opacity: float, seed: int,
              version: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Draw elastically distorted scratches (see :func:`scratch_canvases`) and blend bright strokes with ``bright_mode``
    (addition, lighten, screen) and dark ones with ``dark_mode`` (multiply, darken) at ``opacity``.

    Returns ``(image, mask)`` with the mask convention of :mod:`.blend`. ``version`` 2 draws the
    strokes with :func:`scratch_canvases_v2` and blends both layers in one :func:`.blend.blend_passes`
    (rounded once: a pixel under a bright and a dark stroke can differ by a grey level).
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    if version == 2:
        bright, dark = scratch_canvases_v2(h, w, count, widths, lengths, dark_share, cluster_share, film, elastic, rng)
        return blend_passes(image, cv2.max(bright, dark), [(bright, bright_mode, opacity),
                                                           (cv2.bitwise_not(dark), dark_mode, opacity)])
    bright, dark = scratch_canvases(h, w, count, widths, lengths, dark_share, cluster_share, film, elastic, rng)
    out, mask = blend_where(image, bright, bright, bright_mode, opacity)
    out, dmask = blend_where(out, dark, cv2.bitwise_not(dark), dark_mode, opacity, inplace=True)
    return settle(image, out, mask | dmask)
