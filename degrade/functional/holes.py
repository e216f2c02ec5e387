"""Holes (irregular, feathered, revealing paper) and tears (missing corners and edge bites)."""

from __future__ import annotations

import cv2
import numpy as np

from ..seeding import SEED_MAX
from .blend import blend_passes, blend_where, channels, settle
from .paper import paper_layer, paper_layer8
from .shapes import blob, fill, jagged

BACKGROUNDS = {"white": (0.96, 0.96, 0.95), "black": (0.05, 0.05, 0.05),
               "grey": (0.45, 0.45, 0.45), "card": (0.55, 0.45, 0.33)}
TORN_CORE = (0.93, 0.92, 0.88)
EDGE_DIRT = (0.45, 0.38, 0.30)
BREAKUP_LUT = np.clip((np.arange(256) - 112) * 6, 0, 255).astype(np.uint8)


def _box(canvas: np.ndarray) -> tuple[slice, slice] | None:
    x, y, w, h = cv2.boundingRect(canvas)
    return None if w == 0 or h == 0 else (slice(y, y + h), slice(x, x + w))


def _outline_box(outline: np.ndarray, margin: int, height: int, width: int) -> list[int]:
    """[x0, y0, x1, y1] of a filled ``outline`` (anti-aliasing included) grown by ``margin`` px, clipped."""
    x0, y0 = np.floor(outline.min(axis=0)).astype(int) - margin - 1
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + margin + 2
    return [max(0, x0), max(0, y0), min(width, x1), min(height, y1)]


def _merge_boxes(boxes: list[list[int]]) -> list[tuple[slice, slice]]:
    """Row and column slices of the non-empty ``boxes`` ([x0, y0, x1, y1]), overlapping ones merged
    until none overlap."""
    done: list[list[int]] = []
    pending = [b for b in boxes if b[0] < b[2] and b[1] < b[3]]
    while pending:
        box = pending.pop()
        hit = next((d for d in done if box[0] < d[2] and d[0] < box[2] and box[1] < d[3] and d[1] < box[3]), None)
        if hit is None:
            done.append(box)
        else:
            done.remove(hit)
            pending.append([min(box[0], hit[0]), min(box[1], hit[1]), max(box[2], hit[2]), max(box[3], hit[3])])
    return [(slice(y0, y1), slice(x0, x1)) for x0, y0, x1, y1 in done]


def _blur8(canvas: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (``sigma`` px) of a uint8 canvas computed in float32 and rounded back (version 2):
    OpenCV's bit-exact 8-bit path is 2-4x slower at the hole sigmas (2-5 px); within a grey level of it."""
    return cv2.convertScaleAbs(cv2.GaussianBlur(canvas.astype(np.float32), (0, 0), sigma))


def _reveal(image: np.ndarray, out: np.ndarray, mask: np.ndarray, box: tuple[slice, slice], sharp: np.ndarray,
            feather: float, paper: np.ndarray, version: int = 1) -> None:
    """Show ``paper`` (0-1 float or uint8, the box's size) through the hole canvas ``sharp`` (uint8,
    ``image[box]``'s size) feathered over ``feather`` px with its dark halo: ``out[box]`` and
    ``mask[box]`` are written in place (``version`` 2: blurred by :func:`_blur8`, halo and paper
    blended in one :func:`.blend.blend_passes`)."""
    blur = _blur8 if version == 2 else lambda canvas, sigma: cv2.GaussianBlur(canvas, (0, 0), sigma)
    a = blur(sharp, feather) if feather > 0 else sharp
    shadow = cv2.subtract(blur(sharp, feather + 1.5), sharp)
    if version == 2:
        passes = [(EDGE_DIRT, "multiply", shadow), (paper, "normal", a)]
        out[box], mask[box] = blend_passes(image[box], cv2.max(shadow, a), passes)
        return
    sub, smask = blend_where(image[box], shadow, EDGE_DIRT, "multiply", shadow)
    sub, hmask = blend_where(sub, a, paper, "normal", a, inplace=True)
    out[box], mask[box] = settle(image[box], sub, smask | hmask)


def holes(image: np.ndarray, count: int, size: tuple[float, float], roughness: float, feather: float,
          elastic: float, seed: int, directory: str | None = None,
          texture: dict | None = None, version: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``count`` irregular holes with radius ``size`` (fraction of the short side) whose outline
    wobbles by ``roughness``, feathered over ``feather`` pixels (Gaussian sigma), with a soft dark
    halo of broken emulsion and dirt just outside the edge, revealing paper:
    light procedural paper (little yellowing), or a user texture (see :func:`.paper.paper_layer`).

    Returns ``(image, mask)`` with the mask convention of :mod:`.blend`. ``version`` 2 works on a box
    around each hole (boxes that overlap merged) instead of one box around them all, its papers cut
    from one :func:`.paper.paper_layer8` (see :func:`_paper_crops`).
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    side = min(h, w)
    alpha = np.zeros((h, w), np.uint8)
    outlines = []
    for _ in range(count):
        r = rng.uniform(*size) * side
        outlines.append(blob(rng, (rng.uniform(0, w), rng.uniform(0, h)), (r, r * rng.uniform(0.45, 1.0)),
                             rng.uniform(0, np.pi), roughness, n=64))
        fill(alpha, outlines[-1])
    margin = int(3 * feather) + 3
    out, mask = image.copy(), np.zeros((h, w), bool)
    grey = channels(image) == 1
    if version == 1:
        box = _box(cv2.dilate(alpha, np.ones((3, 3), np.uint8), iterations=margin))
        boxes = [] if box is None else [box]
        papers = [paper_layer(y.stop - y.start, x.stop - x.start, 0.1, elastic, int(rng.integers(SEED_MAX)),
                              directory, texture, grey) for y, x in boxes]
    else:
        boxes = _merge_boxes([_outline_box(o, margin, h, w) for o in outlines])
        papers = _paper_crops(boxes, elastic, rng, directory, texture, grey)
    for box, paper in zip(boxes, papers, strict=True):
        _reveal(image, out, mask, box, alpha[box], feather, paper, version)
    return out, mask


def _paper_crops(boxes: list[tuple[slice, slice]], elastic: float, rng: np.random.Generator,
                 directory: str | None, texture: dict | None, grey: bool) -> list[np.ndarray]:
    """Version 2: the revealed paper of every box, cut from one light :func:`.paper.paper_layer8`
    (yellowing 0.1, fibres bent by ``elastic`` px) as tall as the boxes stacked and as wide as the
    widest: one paper per call instead of one per box (their fixed cost dominates at hole size)."""
    if not boxes:
        return []
    heights = [y.stop - y.start for y, _ in boxes]
    paper = paper_layer8(sum(heights), max(x.stop - x.start for _, x in boxes), 0.1, elastic,
                         int(rng.integers(SEED_MAX)), directory, texture, grey)
    tops = np.cumsum(heights).tolist()
    return [paper[top - (y.stop - y.start):top, :x.stop - x.start] for top, (y, x) in zip(tops, boxes, strict=True)]


def _tear_outline(rng: np.random.Generator, h: int, w: int, depth: float) -> np.ndarray:
    """Polygon of the missing part: a corner cut off or a bite out of an edge, with a rough border."""
    side = min(h, w)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    if rng.random() < 0.5:
        k = int(rng.integers(4))
        c, prev, nxt = corners[k], corners[k - 1], corners[(k + 1) % 4]
        a = c + (prev - c) / np.hypot(*(prev - c)) * depth * side * rng.uniform(0.6, 1.4)
        b = c + (nxt - c) / np.hypot(*(nxt - c)) * depth * side * rng.uniform(0.6, 1.4)
        edge = jagged(rng, a, b, roughness=0.04 * depth * side + 1.0)
        return np.vstack([c[None], edge])
    k = int(rng.integers(4))
    c0, c1 = corners[k], corners[(k + 1) % 4]
    length = np.hypot(*(c1 - c0))
    along = (c1 - c0) / length
    inward = np.array([-along[1], along[0]])
    span = rng.uniform(0.2, 0.6) * length
    t0 = rng.uniform(0, length - span)
    u = np.linspace(0, 1, 48)
    wobble = jagged(rng, (0, 0), (span, 0), 0.03 * depth * side + 1.0, n=48)[:, 1]
    inset = depth * side * rng.uniform(0.4, 1.0) * np.sin(np.pi * u) ** 0.6 + wobble
    edge = c0 + (t0 + span * u)[:, None] * along + inset[:, None] * inward
    return np.vstack([c0 + t0 * along - inward * 2, edge, c0 + (t0 + span) * along - inward * 2])


def tears(image: np.ndarray, count: int, depth: tuple[float, float], rim: float, background: str,
          seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` torn corners or edge bites reaching ``depth`` (fraction of the short side) into the
    photo. The missing part shows the ``background`` (white, black, grey or card) and a broken rim
    of about ``rim`` pixels of exposed white paper core lines the tear.

    Returns ``(image, mask)`` with the mask convention of :mod:`.blend`.
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    missing = np.zeros((h, w), np.uint8)
    for _ in range(count):
        fill(missing, _tear_outline(rng, h, w, rng.uniform(*depth)))
    size = max(1, int(round(2 * rim)) | 1)
    grown = cv2.dilate(missing, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    noise = (rng.random((h, w), dtype=np.float32) * 255).astype(np.uint8)
    breakup = cv2.LUT(cv2.GaussianBlur(noise, (0, 0), 1.0), BREAKUP_LUT)
    core = cv2.min(cv2.subtract(grown, missing), breakup)
    out, mask = blend_where(image, core, TORN_CORE, "normal", core)
    out, mmask = blend_where(out, missing, BACKGROUNDS[background], "normal", missing, inplace=True)
    return settle(image, out, mask | mmask)
