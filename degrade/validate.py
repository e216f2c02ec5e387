"""Argument and image checks that raise errors naming the operation and the argument.

Messages echo a value through :func:`shown`, cut to a few dozen characters however big the value.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence

import numpy as np

from oldphoto.infra.registry import UnknownNameError

MIN_SIDE = 8
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 3, 8, 8, 8
_SHORT.maxstring, _SHORT.maxlong, _SHORT.maxother = 60, 40, 60


class DegradeError(ValueError):
    """Invalid argument or input for a degradation; the message names the op and the argument."""


class UnknownDegradeNameError(UnknownNameError, DegradeError):
    """An op (transform type) or preset name that is not registered: an UnknownNameError and a DegradeError."""


def shown(value) -> str:
    """A repr of ``value`` for messages: nesting beyond 3 levels, items beyond 8 and long strings
    are cut with '...' (a value built from YAML aliases can be huge when written out)."""
    return _SHORT.repr(value)


def check_probability(owner: str, p: float) -> float:
    """Return ``p`` as float; it must lie in [0, 1]."""
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= float(p) <= 1.0:
        raise DegradeError(f"{owner}: argument 'p' must be a number in [0, 1], got {shown(p)}")
    return float(p)


def check_version(owner: str, version, versions: Sequence[int]) -> int:
    """Return ``version`` as int; it must be one of ``versions`` (the op's algorithm versions)."""
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or int(version) not in versions:
        raise DegradeError(f"{owner}: argument 'version' must be one of {list(versions)}, got {shown(version)}")
    return int(version)


def check_range(owner: str, name: str, value, lo: float | None = None, hi: float | None = None,
                integer: bool = False) -> tuple:
    """Normalise a ``(low, high)`` range (a single number means ``(v, v)``) and check its bounds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise DegradeError(f"{owner}: argument '{name}' must be a number or a (low, high) pair, got {shown(value)}")
    low, high = value
    if not (np.isfinite(low) and np.isfinite(high)):
        raise DegradeError(f"{owner}: argument '{name}' must be finite, got {shown(value)}")
    if low > high:
        raise DegradeError(f"{owner}: argument '{name}' has low > high: {shown(value)}")
    if lo is not None and low < lo:
        raise DegradeError(f"{owner}: argument '{name}' must be >= {lo}, got {shown(value)}")
    if hi is not None and high > hi:
        raise DegradeError(f"{owner}: argument '{name}' must be <= {hi}, got {shown(value)}")
    if integer:
        if int(low) != low or int(high) != high:
            raise DegradeError(f"{owner}: argument '{name}' must hold integers, got {shown(value)}")
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
        raise DegradeError(f"{owner}: argument '{name}' has invalid choices {shown(bad)}; "
                           f"allowed: {shown(list(allowed))}")
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
