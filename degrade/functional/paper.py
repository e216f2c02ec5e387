"""Paper textures: procedural paper (fibres, mottling, uneven yellowing) or crops of user scans.

Textures are float32 HxWx3 arrays in 0-1, generated at the size they are needed only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ._util import row_bands, scratch, unit_to_uint8
from .blend import LUMA, blend
from .fields import coarse_noise, elastic_distort, grid_shape, point_warp, table_grid
from .shapes import SHIFT, fixed

PAPER_WHITE = np.array([0.95, 0.93, 0.87], np.float32)
AGEING_LOSS = np.array([0.0, 0.06, 0.22], np.float32)
TEXTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
TEXTURE_CACHE = 16
LOW = 4  # version-2 paper: its smooth parts are made at 1/LOW of the size
_TEXTURES: dict[tuple, np.ndarray] = {}


def fibre_curves(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Float (x, y) points (count x 4 x 2) of short curved paper fibres, one per ~3000 px."""
    count = max(3, height * width // 3000)
    start = rng.random((count, 1, 2)) * np.array([width, height])
    heading = rng.uniform(0, 2 * np.pi, (count, 1)) + np.cumsum(rng.normal(0, 0.6, (count, 3)), axis=1)
    step = rng.uniform(2.0, 8.0, (count, 1, 1)) * np.stack([np.cos(heading), np.sin(heading)], axis=2)
    return np.concatenate([start, start + np.cumsum(step, axis=1)], axis=1)


def draw_fibres(height: int, width: int, curves: np.ndarray) -> np.ndarray:
    """uint8 HxW canvas of the fibre ``curves`` (see :func:`fibre_curves`; 0 = none, three strengths)."""
    canvas = np.zeros((height, width), np.uint8)
    for group, value in zip(np.array_split(fixed(curves), 3), (60, 110, 170), strict=False):
        cv2.polylines(canvas, list(group), False, value, 1, cv2.LINE_AA, shift=SHIFT)
    return canvas


def _fibres(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """uint8 HxW canvas of short curved paper fibres (0 = none, three strengths), one per ~3000 px."""
    return draw_fibres(height, width, fibre_curves(height, width, rng))


def procedural_paper(height: int, width: int, yellowing: float, elastic: float, rng: np.random.Generator,
                     grey: bool = False, white: np.ndarray = PAPER_WHITE) -> np.ndarray:
    """Paper of colour ``white`` (RGB 0-1): mottling at two scales, fine grain, fibres bent by an
    elastic distortion of ``elastic`` px, and uneven yellowing of strength ``yellowing`` (0-1: blue
    loses up to 22% where it is strongest). float32 in 0-1, HxWx3, or HxW luma if ``grey``.
    """
    return procedural_rows(height, width, yellowing, elastic, rng, grey, white)(slice(None))


def procedural_rows(height: int, width: int, yellowing: float, elastic: float, rng: np.random.Generator,
                    grey: bool = False, white: np.ndarray = PAPER_WHITE) -> Callable[[slice], np.ndarray]:
    """:func:`procedural_paper` as a function of a row slice: the random fields are drawn now (HxW
    float32 each), the colour planes of the asked rows only when called."""
    side = min(height, width)
    lum = coarse_noise(height, width, max(4.0, side / 5.0), 0.035, rng)
    lum += coarse_noise(height, width, max(2.0, side / 40.0), 0.02, rng, scratch_tag="paper")
    lum += coarse_noise(height, width, 2.0, 0.03, rng, scratch_tag="paper")
    fibres = _fibres(height, width, rng)
    if elastic > 0:
        fibres = elastic_distort(fibres, elastic, max(8.0, side / 4.0), rng)
    lum -= np.multiply(fibres, np.float32(0.25 / 255.0), out=scratch("paper-fibres", fibres.shape))
    lum += np.float32(1.0)
    ageing = coarse_noise(height, width, max(4.0, side / 2.5), 0.5, rng)
    ageing += np.float32(0.6)
    np.clip(ageing, 0.0, 1.5, out=ageing)
    ageing *= np.float32(yellowing)
    colours = [(white @ LUMA, AGEING_LOSS @ LUMA)] if grey else list(zip(white, AGEING_LOSS, strict=False))

    def rows(band: slice) -> np.ndarray:
        planes = [_tint(lum[band], ageing[band], w, loss) for w, loss in colours]
        return planes[0] if grey else cv2.merge(planes)
    return rows


def _tint(lum: np.ndarray, ageing: np.ndarray, white: float, loss: float) -> np.ndarray:
    """One paper channel: ``clip((white - ageing * loss) * lum, 0, 1)``, float32, in one new array."""
    plane = ageing * np.float32(loss)
    np.subtract(np.float32(white), plane, out=plane)
    plane *= lum
    return np.clip(plane, 0.0, 1.0, out=plane)


def texture_files(directory: str | os.PathLike) -> list[str]:
    """Sorted names of the image files (png, jpg, tif, bmp, webp) directly in ``directory``."""
    return sorted(p.name for p in Path(directory).iterdir()
                  if p.is_file() and p.suffix.lower() in TEXTURE_SUFFIXES)


def load_texture(path: str | os.PathLike) -> np.ndarray:
    """A texture scan as uint8 RGB (the last ``TEXTURE_CACHE`` are cached per path, size and mtime)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _TEXTURES:
        data = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if data is None:
            raise ValueError(f"cannot read texture image {path}")
        if len(_TEXTURES) >= TEXTURE_CACHE:
            _TEXTURES.pop(next(iter(_TEXTURES)))
        _TEXTURES[key] = cv2.cvtColor(data, cv2.COLOR_BGR2RGB)
    return _TEXTURES[key]


def texture_crop(texture: np.ndarray, height: int, width: int, center: tuple[float, float],
                 angle: float, scale: float) -> np.ndarray:
    """An ``height`` x ``width`` view of ``texture`` around ``center`` (relative 0-1), rotated by
    ``angle`` degrees and magnified ``scale`` times; borders reflect so small scans tile."""
    th, tw = texture.shape[:2]
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) / scale
    src_center = np.array([center[0] * tw, center[1] * th])
    shift = src_center - rot @ np.array([width / 2.0, height / 2.0])
    matrix = np.hstack([rot, shift[:, None]])
    return cv2.warpAffine(texture, matrix, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT_101)


def sample_texture(rng: np.random.Generator, directory: str | None,
                   scale: tuple[float, float]) -> dict:
    """Random choice of a user texture and its crop (file, center, angle, scale), or {} for none."""
    if directory is None:
        return {}
    names = texture_files(directory)
    return {"file": names[int(rng.integers(len(names)))],
            "center": [rng.uniform(0.0, 1.0), rng.uniform(0.0, 1.0)],
            "angle": rng.uniform(0.0, 360.0), "scale": rng.uniform(*scale)}


def paper_layer(height: int, width: int, yellowing: float, elastic: float, seed: int,
                directory: str | None = None, texture: dict | None = None, grey: bool = False) -> np.ndarray:
    """Paper texture, float32 HxWx3 (HxW luma if ``grey``) in 0-1: a crop of ``directory/texture['file']`` (see
    :func:`sample_texture`) elastically distorted by ``elastic`` px (features a quarter of the
    short side wide) when given, else :func:`procedural_paper` (whose fibres are distorted)."""
    return paper_rows(height, width, yellowing, elastic, seed, directory, texture, grey)(slice(None))


def texture_paper(height: int, width: int, elastic: float, rng: np.random.Generator, directory: str,
                  texture: dict, grey: bool = False) -> np.ndarray:
    """uint8 crop of ``directory/texture['file']`` (see :func:`sample_texture`), grey if ``grey``,
    elastically distorted by ``elastic`` px (features a quarter of the short side wide)."""
    crop = texture_crop(load_texture(Path(directory) / texture["file"]), height, width, texture["center"],
                        texture["angle"], texture["scale"])
    if grey:
        crop = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    if elastic > 0:
        crop = elastic_distort(crop, elastic, max(8.0, min(height, width) / 4.0), rng)
    return crop


def paper_rows(height: int, width: int, yellowing: float, elastic: float, seed: int,
               directory: str | None = None, texture: dict | None = None,
               grey: bool = False) -> Callable[[slice], np.ndarray]:
    """:func:`paper_layer` as a function of a row slice (procedural paper is coloured lazily)."""
    rng = np.random.default_rng(seed)
    if not texture:
        return procedural_rows(height, width, yellowing, elastic, rng, grey)
    paper = texture_paper(height, width, elastic, rng, directory, texture, grey).astype(np.float32)
    paper *= np.float32(1.0 / 255.0)
    return paper.__getitem__


def paper_blend(image: np.ndarray, paper: np.ndarray | Callable[[slice], np.ndarray], mode: str,
                opacity: float) -> np.ndarray:
    """Blend a ``paper`` layer (0-1, same shape as ``image``, or a function of a row slice giving
    those rows, see :func:`paper_rows`) over the whole ``image``, band by band."""
    layer = paper.__getitem__ if isinstance(paper, np.ndarray) else paper
    out = np.empty_like(image)
    for rows in row_bands(image.shape):
        base = image[rows].astype(np.float32)
        base *= np.float32(1.0 / 255.0)
        out[rows] = unit_to_uint8(blend(base, layer(rows).reshape(base.shape), mode, opacity))
    return out


def procedural_paper8(height: int, width: int, yellowing: float, elastic: float, rng: np.random.Generator,
                      grey: bool = False, white: np.ndarray = PAPER_WHITE) -> np.ndarray:
    """Version 2 of :func:`procedural_paper`, uint8 (0-255) HxWx3 (HxW luma if ``grey``): the same
    components, feature sizes and amplitudes, made faster. The smooth parts (mottling at two scales,
    yellowing) are made at 1/``LOW`` of the size, coloured there and enlarged once (bilinear); the fine
    grain is drawn one random byte per grid value; the fibres are bent by moving their points
    (:func:`.fields.point_warp`) instead of warping a full-size canvas; grain and fibres multiply the
    coloured paper (v1 adds them to its lightness before colouring: the same to about 0.2%).
    """
    side = min(height, width)
    lh, lw = -(-height // LOW), -(-width // LOW)
    smooth = coarse_noise(lh, lw, max(4.0, side / 5.0) / LOW, 0.035, rng)
    smooth += coarse_noise(lh, lw, max(2.0, side / 40.0) / LOW, 0.02, rng)
    smooth += np.float32(1.0)
    ageing = coarse_noise(lh, lw, max(4.0, side / 2.5) / LOW, 0.5, rng)
    ageing += np.float32(0.6)
    np.clip(ageing, 0.0, 1.5, out=ageing)
    ageing *= np.float32(yellowing)
    colours = [(white @ LUMA, AGEING_LOSS @ LUMA)] if grey else list(zip(white, AGEING_LOSS, strict=False))
    fine = cv2.resize(table_grid(grid_shape(height, width, 2.0), 0.03, rng), (width, height),
                      interpolation=cv2.INTER_CUBIC)
    warp = point_warp(elastic, height, width, max(8.0, side / 4.0), rng)
    curves = fibre_curves(height, width, rng)
    fibres = draw_fibres(height, width, warp(curves.reshape(-1, 2)).reshape(curves.shape))
    detail = cv2.addWeighted(fine, 1.0, fibres, -0.25 / 255.0, 1.0, dtype=cv2.CV_32F)
    planes = [cv2.multiply(cv2.resize(_tint(smooth, ageing, w, loss), (width, height), interpolation=cv2.INTER_LINEAR),
                           detail, scale=255.0, dtype=cv2.CV_8U) for w, loss in colours]  # no 3-channel float array
    return planes[0] if grey else cv2.merge(planes)


def paper_layer8(height: int, width: int, yellowing: float, elastic: float, seed: int,
                 directory: str | None = None, texture: dict | None = None, grey: bool = False) -> np.ndarray:
    """Version 2 of :func:`paper_layer`: uint8 (0-255), :func:`procedural_paper8` or the same
    texture crop."""
    rng = np.random.default_rng(seed)
    if not texture:
        return procedural_paper8(height, width, yellowing, elastic, rng, grey)
    return texture_paper(height, width, elastic, rng, directory, texture, grey)
