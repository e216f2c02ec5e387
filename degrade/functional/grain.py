"""Film grain: spatially correlated, luminance-dependent noise."""

from __future__ import annotations

import cv2
import numpy as np

from ._util import add_float, add_rounded, luma8, scratch
from .fields import centred_noise, smooth_noise

LEVELS = np.arange(256, dtype=np.float32)  # every luma value: grain_amplitude becomes a lookup table


def grain_amplitude(luma: np.ndarray, intensity: float) -> np.ndarray:
    """Grain standard deviation (grey levels) for luma in 0-255.

    ``intensity`` at mid-grey, falling to 20% of it at pure black and pure white, as silver
    grain is most visible in the mid-tones.
    """
    x = luma * np.float32(1.0 / 255.0)
    return np.float32(intensity) * (np.float32(0.2) + np.float32(3.2) * x * (1.0 - x))


def film_grain(image: np.ndarray, intensity: float, size: float, seed: int, monochrome: bool = True,
               version: int = 1) -> np.ndarray:
    """Add film grain of ``intensity`` grey levels (std at mid-grey) and grain ``size`` in pixels.

    ``monochrome=True`` adds one grain field to every channel; otherwise each channel has its own.
    ``version``: of the random fields (see :func:`.fields.smooth_noise`); version 2 adds a monochrome
    grain with :func:`._util.add_rounded` (2x faster than :func:`._util.add_float` for a grey delta)
    and divides the field by its std inside the amplitude table (256 values, one full pass less).
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    if version == 2 and (monochrome or image.ndim == 2):  # the field's 1 / std folded into the amplitude table
        field, std = centred_noise(h, w, size, rng, scratch_tag="grain")
        table = grain_amplitude(LEVELS, intensity) / (std if std > 0 else np.float32(1.0))
        field *= cv2.LUT(luma8(image), table, dst=scratch("grain-amplitude", (h, w)))
        return add_rounded(image, field)
    amp = cv2.LUT(luma8(image), grain_amplitude(LEVELS, intensity), dst=scratch("grain-amplitude", (h, w)))
    if monochrome or image.ndim == 2:
        field = smooth_noise(h, w, size, rng, scratch_tag="grain", version=version)
        field *= amp
        return add_float(image, field)
    delta = np.stack([smooth_noise(h, w, size, rng, version=version) * amp for _ in range(image.shape[2])], axis=2)
    return add_float(image, delta)
