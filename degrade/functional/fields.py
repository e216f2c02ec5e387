"""Smooth random fields: low-resolution noise up-sampled to the image size (cheap at any size)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ._util import byte_normal, scratch


def smooth_noise(height: int, width: int, cell: float, rng: np.random.Generator,
                 scratch_tag: str | None = None, version: int = 1) -> np.ndarray:
    """Zero-mean, unit-std float32 HxW field whose features are about ``cell`` pixels wide.

    Gaussian noise is drawn on a grid of ``cell``-pixel cells and up-sampled bicubically, so the
    cost is that of one resize whatever the feature size. ``scratch_tag``: as for :func:`coarse_noise`.
    ``version`` 2 draws the grid one byte per value (:func:`table_grid`) and measures mean and std in
    one OpenCV pass: the same field statistics, other values, several times faster.
    """
    if version == 1:
        field = _raw_field(height, width, cell, rng.standard_normal(grid_shape(height, width, cell), dtype=np.float32),
                           scratch_tag)
        mean, std = field.mean(), field.std()
        field -= mean
    else:
        field, std = centred_noise(height, width, cell, rng, scratch_tag)
    if std > 0:
        field /= std
    return field


def _raw_field(height: int, width: int, cell: float, coarse: np.ndarray, scratch_tag: str | None) -> np.ndarray:
    """``coarse`` (the noise grid of :func:`smooth_noise`) at ``height`` x ``width`` pixels: cropped
    when its cells are at most a pixel, else enlarged bicubically (into the scratch array
    ``scratch_tag`` when given)."""
    gh, gw = coarse.shape
    if cell <= 1.0:
        return coarse[:height, :width] if gh >= height and gw >= width else cv2.resize(coarse, (width, height))
    out = scratch(scratch_tag, (height, width)) if scratch_tag else None
    return cv2.resize(coarse, (width, height), dst=out, interpolation=cv2.INTER_CUBIC)


def centred_noise(height: int, width: int, cell: float, rng: np.random.Generator,
                  scratch_tag: str | None = None) -> tuple[np.ndarray, np.float32]:
    """Version 2 of :func:`smooth_noise` before its division by the std: the zero-mean float32 HxW
    field (grid of one byte per value, mean and std in one OpenCV pass) and its std (grid units), so
    a caller that scales the field anyway can fold ``1 / std`` into its own factor (one pass less)."""
    field = _raw_field(height, width, cell, table_grid(grid_shape(height, width, cell), 1.0, rng), scratch_tag)
    mean, std = (np.float32(v[0, 0]) for v in cv2.meanStdDev(field))
    field -= mean
    return field, std


def upsample(coarse: np.ndarray, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """Smoothly enlarge a small float32 grid to ``height`` x ``width``: bicubic up to at most 4x the
    grid (OpenCV's bicubic is slow at large factors), then bilinear to the final size. The last
    resize writes into ``out`` (float32 height x width) when given."""
    gh, gw = coarse.shape[:2]
    mid = (min(width, 4 * gw), min(height, 4 * gh))
    final = mid == (width, height)
    if mid != (gw, gh):
        coarse = cv2.resize(coarse, mid, dst=out if final else None, interpolation=cv2.INTER_CUBIC)
    if final:
        return coarse
    return cv2.resize(coarse, (width, height), dst=out, interpolation=cv2.INTER_LINEAR)


def coarse_noise(height: int, width: int, cell: float, amplitude: float, rng: np.random.Generator,
                 count: int = 1, scratch_tag: str | None = None) -> np.ndarray | list[np.ndarray]:
    """``count`` smooth random fields (float32 HxW, or a list of ``count`` of them for count > 1)
    with features about ``cell`` pixels wide: Gaussian noise of std ``amplitude`` on a
    ``cell``-pixel grid, :func:`upsample`-d (not re-normalised: interpolation lowers the std
    somewhat). A list, not a stacked array: stacking copies every full-size field once more.

    ``scratch_tag``: write the fields into this thread's scratch arrays of that tag (see
    :func:`._util.scratch`), for fields the caller uses up before it returns.
    """
    gh = max(2, int(np.ceil(height / cell)) + 1)
    gw = max(2, int(np.ceil(width / cell)) + 1)
    coarse = rng.standard_normal((count, gh, gw), dtype=np.float32)
    coarse *= np.float32(amplitude)
    fields = [upsample(c, height, width, scratch(f"{scratch_tag}{i}", (height, width)) if scratch_tag else None)
              for i, c in enumerate(coarse)]
    return fields[0] if count == 1 else fields


def elastic_distort(image: np.ndarray, alpha: float, cell: float, rng: np.random.Generator,
                    interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Warp ``image`` (HxW or HxWxC, any dtype cv2.remap takes) by a smooth random displacement:
    each component a :func:`coarse_noise` field of ``alpha`` px std with ``cell``-pixel features.

    Borders reflect, so a stationary texture keeps its statistics (mean, histogram) closely.
    """
    h, w = image.shape[:2]
    if alpha <= 0:
        return image.copy()
    dx, dy = coarse_noise(h, w, cell, alpha, rng, count=2, scratch_tag="elastic")
    dx += np.arange(w, dtype=np.float32)[None, :]
    dy += np.arange(h, dtype=np.float32)[:, None]
    return cv2.remap(image, dx, dy, interpolation, borderMode=cv2.BORDER_REFLECT_101)


def grid_shape(height: int, width: int, cell: float) -> tuple[int, int]:
    """Rows and columns of the random grid behind a ``cell``-pixel field of ``height`` x ``width``."""
    return max(2, int(np.ceil(height / cell)) + 1), max(2, int(np.ceil(width / cell)) + 1)


def table_grid(shape: tuple[int, int], std: float, rng: np.random.Generator) -> np.ndarray:
    """float32 grid of N(0, ``std``) deviates, one random byte each (:func:`._util.byte_normal`): the
    version-2 draws, several times faster than ``rng.standard_normal``."""
    return byte_normal(rng, shape, std)


def point_warp(elastic: float, height: int, width: int, cell: float,
               rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """A function moving float (x, y) points (n x 2) by a smooth random displacement of ``elastic`` px
    std with ``cell``-pixel features (the identity when ``elastic`` is 0).

    Version 2 of a full-size displacement field: the same two random grids, but interpolated
    (bicubic) at the points only, so no image-sized array is made.
    """
    if elastic <= 0:
        return lambda pts: pts
    gh, gw = grid_shape(height, width, cell)
    grids = [table_grid((gh, gw), elastic, rng) for _ in range(2)]
    scale = np.array([gw / width, gh / height])

    def warp(pts: np.ndarray) -> np.ndarray:
        at = ((pts + 0.5) * scale - 0.5).astype(np.float32)[None]  # cv2.resize's pixel-centre mapping
        moved = [cv2.remap(g, at[..., 0], at[..., 1], cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
                 for g in grids]
        return pts + np.stack(moved, axis=-1)[0]
    return warp
