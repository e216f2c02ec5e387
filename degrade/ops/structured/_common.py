"""Argument helpers shared by the structured-defect ops."""

from __future__ import annotations

from pathlib import Path

from ...functional.paper import texture_files
from ...validate import DegradeError, check_range


def share(op, name: str) -> float:
    """Check that ``op.name`` is a probability-like number in [0, 1] and store it as float."""
    value = check_range(type(op).__name__, name, getattr(op, name), 0.0, 1.0)
    if value[0] != value[1]:
        raise DegradeError(f"{type(op).__name__}: argument '{name}' must be a single number in [0, 1]")
    setattr(op, name, value[0])
    return value[0]


def texture_dir(op, name: str = "textures") -> None:
    """Check that ``op.name`` is None or a folder holding at least one texture image; store it as str."""
    value = getattr(op, name)
    if value is None:
        return
    path = Path(value)
    if not path.is_dir():
        raise DegradeError(f"{type(op).__name__}: argument '{name}' must be a folder of texture images, "
                           f"{str(path)!r} is not a folder")
    if not texture_files(path):
        raise DegradeError(f"{type(op).__name__}: argument '{name}': folder {str(path)!r} holds no "
                           "texture images (.png, .jpg, .jpeg, .tif, .tiff, .bmp, .webp)")
    setattr(op, name, str(path))


def draw_int(rng, bounds: tuple[int, int]) -> int:
    """Uniform integer in the inclusive range ``bounds``."""
    return int(rng.integers(bounds[0], bounds[1], endpoint=True))
