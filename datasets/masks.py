"""The mask file format of synthesized datasets: one 8-bit grey PNG per sample, one bit per family.

Bit ``MASK_BITS[name]`` of pixel (y, x) is set where defect family ``name`` changed that pixel.
Families the table does not name (a future op) share the ``other`` bit; ``defects`` (bit 7) is
the engine's union of all families. A sample without structured defects has an all-zero mask.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

MASK_BITS = {"scratch": 0, "dust": 1, "hole": 2, "tear": 3, "fold": 4, "stain": 5, "other": 6, "defects": 7}
MASK_NAMES = tuple(MASK_BITS)


def encode_masks(masks: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Pack bool HxW masks (a ``Result.masks``) into one uint8 HxW bit-field array of ``shape``."""
    packed = np.zeros(shape, np.uint8)
    for name, mask in masks.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != tuple(shape):
            raise ValueError(f"mask {name!r} has shape {mask.shape}, expected {tuple(shape)}")
        packed |= mask.astype(np.uint8) << np.uint8(MASK_BITS.get(name, MASK_BITS["other"]))
    if "defects" not in masks:
        packed |= (packed != 0).astype(np.uint8) << np.uint8(MASK_BITS["defects"])
    return packed


def decode_masks(packed: np.ndarray) -> dict[str, np.ndarray]:
    """Unpack a uint8 HxW bit-field array into bool HxW masks, one per name in ``MASK_NAMES``."""
    packed = np.asarray(packed)
    if packed.dtype != np.uint8 or packed.ndim != 2:
        raise ValueError(f"a packed mask is uint8 HxW, got {packed.dtype} {packed.shape}")
    return {name: (packed >> np.uint8(bit)) & 1 == 1 for name, bit in MASK_BITS.items()}


def read_masks(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a ``masks/ID.png`` file and unpack it (see :func:`decode_masks`)."""
    packed = cv2.imread(str(Path(path)), cv2.IMREAD_UNCHANGED)
    if packed is None:
        raise ValueError(f"{path}: cannot read the mask PNG")
    if packed.dtype != np.uint8 or packed.ndim != 2:
        raise ValueError(f"{path}: a mask PNG is 8-bit single-channel, got {packed.dtype} {packed.shape}")
    return decode_masks(packed)
