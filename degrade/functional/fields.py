"""Smooth random fields: low-resolution noise up-sampled to the image size (cheap at any size)."""

from __future__ import annotations

import cv2
import numpy as np

from ._util import scratch


def smooth_noise(height: int, width: int, cell: float, rng: np.random.Generator,
                 scratch_tag: str | None = None) -> np.ndarray:
    """Zero-mean, unit-std float32 HxW field whose features are about ``cell`` pixels wide.

    Gaussian noise is drawn on a grid of ``cell``-pixel cells and up-sampled bicubically, so the
    cost is that of one resize whatever the feature size. ``scratch_tag``: as for :func:`coarse_noise`.
    """
    gh = max(2, int(np.ceil(height / cell)) + 1)
    gw = max(2, int(np.ceil(width / cell)) + 1)
    coarse = rng.standard_normal((gh, gw), dtype=np.float32)
    if cell <= 1.0:
        field = coarse[:height, :width] if gh >= height and gw >= width else cv2.resize(coarse, (width, height))
    else:
        out = scratch(scratch_tag, (height, width)) if scratch_tag else None
        field = cv2.resize(coarse, (width, height), dst=out, interpolation=cv2.INTER_CUBIC)
    field -= field.mean()
    std = field.std()
    if std > 0:
        field /= std
    return field


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
