"""Blend modes and mask-exact compositing of defect layers.

Images are uint8; blending happens in float32 on values scaled to 0-1. Every defect function
finishes with :func:`commit`, which defines the mask convention of the engine:

A pixel belongs to a defect's mask iff the defect changed it by at least ``MASK_THRESHOLD`` grey
levels (after rounding to uint8) in some channel. Smaller changes are reverted to the input, so
outside its mask a defect op returns its input bit for bit, and inside it every pixel differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from oldphoto.infra.colour import BT601_LUMA

MASK_THRESHOLD = 3
LUMA = np.array(BT601_LUMA, np.float32)


def addition(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Linear dodge: ``min(base + layer, 1)``."""
    return np.minimum(base + layer, np.float32(1.0))


def lighten(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Lighten only: ``max(base, layer)``."""
    return np.maximum(base, layer)


def screen(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Screen: ``1 - (1 - base) * (1 - layer)``, computed as ``base + layer - base * layer``."""
    out = base + layer
    out -= base * layer
    return out


def multiply(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Multiply: ``base * layer``."""
    return base * layer


def darken(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Darken only: ``min(base, layer)``."""
    return np.minimum(base, layer)


def normal(base: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """Normal (plain alpha over): the layer itself (a new array of the broadcast shape)."""
    return np.array(np.broadcast_to(layer, np.broadcast_shapes(base.shape, np.shape(layer))))


MODES = {"addition": addition, "lighten": lighten, "screen": screen,
         "multiply": multiply, "darken": darken, "normal": normal}
BRIGHT_MODES = ("addition", "lighten", "screen")
DARK_MODES = ("multiply", "darken")


def _screen8(base: np.ndarray, layer: np.ndarray, opacity: float) -> np.ndarray:
    """Screen at ``opacity``: ``base + opacity * layer * (255 - base) / 255``."""
    return cv2.add(base, cv2.multiply(cv2.bitwise_not(base), layer, scale=opacity / 255.0))


def _multiply8(base: np.ndarray, layer: np.ndarray, opacity: float) -> np.ndarray:
    """Multiply at ``opacity``: ``base - opacity * base * (255 - layer) / 255``."""
    return cv2.subtract(base, cv2.multiply(base, cv2.bitwise_not(layer), scale=opacity / 255.0))


MODES8: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "addition": cv2.add, "lighten": cv2.max, "darken": cv2.min, "normal": lambda base, layer: layer}
SCALED8: dict[str, Callable[[np.ndarray, np.ndarray, float], np.ndarray]] = {"screen": _screen8, "multiply": _multiply8}


def blend8(base: np.ndarray, layer: np.ndarray, mode: str, opacity: float) -> np.ndarray:
    """:func:`blend` of two uint8 images of one shape (0-255) at a scalar ``opacity`` (0-1), in
    OpenCV's saturating 8-bit arithmetic, each pass rounding to whole grey levels, so within about
    one grey level of the float formula. Screen and multiply scale the change they make in the
    same pass as their product (three passes); the other modes blend the mode's result with
    ``cv2.addWeighted``. Used by version-2 ops."""
    if mode in SCALED8:
        return SCALED8[mode](base, layer, opacity)
    return cv2.addWeighted(base, 1.0 - opacity, MODES8[mode](base, layer), opacity, 0.0)


def blend(base: np.ndarray, layer, mode: str, opacity=1.0) -> np.ndarray:
    """``base + opacity * (MODE(base, layer) - base)``; values in 0-1, float32 out.

    ``opacity`` is a number or an array broadcastable to ``base`` (0 keeps base, 1 is the full mode).
    Every mode returns a new array, which is updated in place (the same float32 operations in the
    same order, without a temporary per step).
    """
    base = np.asarray(base, np.float32)
    layer = np.asarray(layer, np.float32)
    out = MODES[mode](base, layer)
    out -= base
    out *= np.asarray(opacity, np.float32)
    out += base
    return out


def channels(image: np.ndarray) -> int:
    """Number of channels of an HxW (1) or HxWxC (C) image."""
    return 1 if image.ndim == 2 else image.shape[2]


def colour_for(image: np.ndarray, rgb: Sequence[float]) -> np.ndarray:
    """An RGB colour (0-1) as a float32 vector matching ``image``'s channels (its luma for grey)."""
    rgb = np.asarray(rgb, np.float32)
    return rgb if channels(image) == 3 else np.array([rgb @ LUMA], np.float32)


def _largest_move(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """``max over channels of |new - old|`` (int16, n) of two uint8 C x n arrays; computed on a
    C-contiguous int16 copy, so the maximum runs over whole rows (several times faster than over a
    short trailing axis)."""
    moved = new.astype(np.int16, order="C")
    moved -= old
    return np.abs(moved, out=moved).max(axis=0)


def commit(image: np.ndarray, idx: np.ndarray, values: np.ndarray, threshold: int = MASK_THRESHOLD,
           out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Write float ``values`` (C x n, 0-255) at flat pixel indices ``idx`` of a copy of ``image``
    (or of ``out``, a C-contiguous array holding the same pixels, e.g. ``image`` itself).

    Returns ``(out, mask)``: only pixels whose rounded value moved by >= ``threshold`` grey levels
    in some channel are written, and exactly those are True in the bool HxW ``mask``.
    """
    c = channels(image)
    out = image.copy() if out is None else out
    mask = np.zeros(image.shape[:2], bool)
    if idx.size == 0:
        return out, mask
    new = np.clip(np.rint(values), 0, 255).astype(np.uint8).reshape(c, -1)
    old = np.take(image.reshape(-1, c), idx, axis=0).T  # np.take: several times faster than [idx]
    changed = _largest_move(new, old) >= threshold
    out.reshape(-1, c)[idx] = np.where(changed, new, old).T  # faster than selecting the changed ones
    mask.reshape(-1)[idx[changed]] = True
    return out, mask


def _gather(values, idx: np.ndarray, c: int, image: np.ndarray) -> np.ndarray:
    """Values at ``idx`` as float32 0-1, channels first: C x n (per pixel) or C x 1 (a constant).

    Arrays are HxW or HxWxK, float32 in 0-1 or uint8 in 0-255 (gathered before conversion);
    constants are RGB colours (made grey for grey images) or single numbers. Channels-first keeps
    numpy's broadcasting on long contiguous rows (broadcasting over a trailing axis of 3 is slow).
    """
    if np.ndim(values) <= 1:
        values = np.asarray(values, np.float32)
        return (colour_for(image, values) if values.size == 3 else values.reshape(-1))[:, None]
    k = 1 if values.ndim == 2 else values.shape[2]
    picked = np.ascontiguousarray(np.take(values.reshape(-1, k), idx, axis=0).T, dtype=np.float32)
    if values.dtype == np.uint8:
        picked *= np.float32(1.0 / 255.0)
    if k == 3 and c == 1:
        picked = LUMA @ picked
        picked = picked[None, :]
    return picked


def blend_where(image: np.ndarray, support: np.ndarray, layer, mode: str, opacity=1.0,
                threshold: int = MASK_THRESHOLD, inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``layer`` onto ``image`` with ``mode`` at the pixels where ``support`` (HxW) is non-zero.

    ``layer``: HxW or HxWx3 array (float32 in 0-1 or uint8 in 0-255), or a constant RGB colour
    (0-1). ``opacity``: a number or an HxW array (float32 0-1 or uint8 0-255). Colour layers on
    grey images use their luma. Cost is proportional to the number of supported pixels. Returns
    ``(out, mask)`` as :func:`commit`; ``inplace=True`` writes into ``image`` (C-contiguous, one
    the caller owns, e.g. the output of an earlier pass) instead of a copy.
    """
    return blend_passes(image, support, [(layer, mode, opacity)], threshold, inplace)


def blend_passes(image: np.ndarray, support: np.ndarray, passes: Sequence[tuple], threshold: int = MASK_THRESHOLD,
                 inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """:func:`blend_where` of several ``(layer, mode, opacity)`` passes, one after another in float,
    at the pixels where ``support`` (HxW) is non-zero; rounded and committed once (one pass: the
    same as :func:`blend_where`).

    Each pass must leave the pixels outside its own support as they are (opacity 0 there, or a
    neutral layer: 0 for the bright modes, 1 for the dark ones), so ``support`` can be the union
    of the passes' supports. Used by version-2 ops instead of several :func:`blend_where` calls and
    :func:`settle`: the pixels are found and gathered once.
    """
    idx = np.flatnonzero(support != 0)  # numpy finds the non-zeros of a bool array much faster
    c = channels(image)
    values = _gather(image, idx, c, image)
    for layer, mode, opacity in passes:
        alpha = _gather(opacity, idx, 1, image) if np.ndim(opacity) else opacity
        values = blend(values, _gather(layer, idx, c, image), mode, alpha)
    values *= np.float32(255.0)
    return commit(image, idx, values, threshold, image if inplace else None)


def settle(image: np.ndarray, out: np.ndarray, mask: np.ndarray,
           threshold: int = MASK_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """Re-apply the mask convention to ``out`` after several passes over ``image`` (in place).

    Mask pixels whose final value moved by less than ``threshold`` from ``image`` (passes that
    cancelled) are reverted and leave the mask.
    """
    c = channels(image)
    idx = np.flatnonzero(mask)
    flat_out, flat_in = out.reshape(-1, c), image.reshape(-1, c)
    small = _largest_move(np.take(flat_out, idx, axis=0).T, np.take(flat_in, idx, axis=0).T) < threshold
    back = idx[small]
    flat_out[back] = flat_in[back]
    mask.reshape(-1)[back] = False
    return out, mask
