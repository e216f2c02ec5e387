"""Contact sheets: rows of clean | degraded | defect-mask overlay tiles with labels."""

from __future__ import annotations

import cv2
import numpy as np

from .compose import Pipeline


def _tile(image: np.ndarray, size: int) -> np.ndarray:
    """Centre ``size`` x ``size`` crop at 1:1 pixels when the image is big enough, else fit it in."""
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image[:, :, :3]
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    h, w = rgb.shape[:2]
    if h >= size and w >= size:
        y, x = (h - size) // 2, (w - size) // 2
        return np.ascontiguousarray(rgb[y:y + size, x:x + size])
    s = size / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    canvas = np.full((size, size, 3), 255, np.uint8)
    y, x = (size - small.shape[0]) // 2, (size - small.shape[1]) // 2
    canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
    return canvas


def overlay(image: np.ndarray, mask: np.ndarray | None, colour=(255, 0, 0), alpha: float = 0.6) -> np.ndarray:
    """``image`` (RGB or grey) with ``mask`` pixels tinted ``colour``; returns RGB uint8."""
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else np.array(image[:, :, :3])
    if rgb.shape[2] == 1:
        rgb = np.repeat(rgb, 3, axis=2)
    if mask is not None and mask.any():
        tint = np.array(colour, np.float32)
        rgb[mask] = (rgb[mask] * (1 - alpha) + tint * alpha).astype(np.uint8)
    return rgb


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(tile, text[:40], (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def contact_sheet(rows: list[list[tuple[str, np.ndarray]]], tile: int = 256, gap: int = 4) -> np.ndarray:
    """Grid of labelled tiles; each row is a list of ``(label, image)``. Returns RGB uint8."""
    ncols = max(len(r) for r in rows)
    height = len(rows) * tile + (len(rows) + 1) * gap
    width = ncols * tile + (ncols + 1) * gap
    sheet = np.full((height, width, 3), 40, np.uint8)
    for i, row in enumerate(rows):
        for j, (label, image) in enumerate(row):
            y, x = gap + i * (tile + gap), gap + j * (tile + gap)
            sheet[y:y + tile, x:x + tile] = _label(_tile(image, tile), label)
    return sheet


def pipeline_rows(pipe: Pipeline, images: dict[str, np.ndarray], seed: int = 0) -> list[list[tuple[str, np.ndarray]]]:
    """One row per image: clean target | degraded | mask overlay, degraded with ``seed + k``."""
    rows = []
    for k, (name, image) in enumerate(images.items()):
        res = pipe(image, seed=seed + k)
        defects = res.masks.get("defects")
        frac = f"{defects.mean():.1%} px" if defects is not None else "no mask"
        rows.append([(f"{name}: clean", res.target), (f"{pipe.name or 'pipeline'}", res.image),
                     (f"defects {frac}", overlay(res.image, defects))])
    return rows
