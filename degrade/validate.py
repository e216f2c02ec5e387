"""Argument and image checks that raise errors naming the operation and the argument."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_SIDE = 8


class DegradeError(ValueError):
    """Invalid argument or input for a degradation; the message names the op and the argument."""


def check_probability(owner: str, p: float) -> float:
    """Return ``p`` as float; it must lie in [0, 1]."""
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
        raise DegradeError(f"{owner}: argument 'p' must be a number in [0, 1], got {p!r}")
    return float(p)


def check_range(owner: str, name: str, value, lo: float | None = None, hi: float | None = None,
                integer: bool = False) -> tuple:
    """Normalise a ``(low, high)`` range (a single number means ``(v, v)``) and check its bounds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise DegradeError(f"{owner}: argument '{name}' must be a number or a (low, high) pair, got {value!r}")
    low, high = value
    if not (np.isfinite(low) and np.isfinite(high)):
        raise DegradeError(f"{owner}: argument '{name}' must be finite, got {value!r}")
    if low > high:
        raise DegradeError(f"{owner}: argument '{name}' has low > high: {value!r}")
    if lo is not None and low < lo:
        raise DegradeError(f"{owner}: argument '{name}' must be >= {lo}, got {value!r}")
    if hi is not None and high > hi:
        raise DegradeError(f"{owner}: argument '{name}' must be <= {hi}, got {value!r}")
    if integer:
        if int(low) != low or int(high) != high:
            raise DegradeError(f"{owner}: argument '{name}' must hold integers, got {value!r}")
        return int(low), int(high)
    return float(low), float(high)


def check_choices(owner: str, name: str, value, allowed: Sequence) -> tuple:
    """Normalise a non-empty choice list (a single value means a one-element list)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = (value,)
    value = tuple(value)
    if not value:
        raise DegradeError(f"{owner}: argument '{name}' must not be empty")
    bad = [v for v in value if v not in allowed]
    if bad:
        raise DegradeError(f"{owner}: argument '{name}' has invalid choices {bad!r}; allowed: {list(allowed)!r}")
    return value


def check_image(owner: str, image) -> np.ndarray:
    """Check a uint8 HxW / HxWx1 / HxWx3 image of at least 8x8 px; return it C-contiguous.

    RGBA (HxWx4) is rejected: composite or drop the alpha channel first.
    """
    if not isinstance(image, np.ndarray):
        raise DegradeError(f"{owner}: image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise DegradeError(f"{owner}: image must be uint8 (0-255), got dtype {image.dtype}")
    if image.ndim not in (2, 3):
        raise DegradeError(f"{owner}: image must be HxW or HxWxC, got shape {image.shape}")
    if image.ndim == 3 and image.shape[2] not in (1, 3):
        hint = " (RGBA: composite or drop the alpha channel first)" if image.shape[2] == 4 else ""
        raise DegradeError(f"{owner}: image must have 1 or 3 channels, got {image.shape[2]}{hint}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise DegradeError(f"{owner}: image sides must be >= {MIN_SIDE} px, got {image.shape[1]}x{image.shape[0]}")
    return np.ascontiguousarray(image)
