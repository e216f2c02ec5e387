"""Film grain: spatially correlated, luminance-dependent noise."""

from __future__ import annotations

import numpy as np

from ._util import add_float, luminance
from .fields import smooth_noise


def grain_amplitude(luma: np.ndarray, intensity: float) -> np.ndarray:
    """Grain standard deviation (grey levels) for luma in 0-255.

    ``intensity`` at mid-grey, falling to 20% of it at pure black and pure white, as silver
    grain is most visible in the mid-tones.
    """
    x = luma * np.float32(1.0 / 255.0)
    return np.float32(intensity) * (np.float32(0.2) + np.float32(3.2) * x * (1.0 - x))


def film_grain(image: np.ndarray, intensity: float, size: float, seed: int, monochrome: bool = True) -> np.ndarray:
    """Add film grain of ``intensity`` grey levels (std at mid-grey) and grain ``size`` in pixels.

    ``monochrome=True`` adds one grain field to every channel; otherwise each channel has its own.
    """
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    amp = grain_amplitude(luminance(image), intensity)
    if monochrome or image.ndim == 2:
        return add_float(image, smooth_noise(h, w, size, rng) * amp)
    delta = np.stack([smooth_noise(h, w, size, rng) * amp for _ in range(image.shape[2])], axis=2)
    return add_float(image, delta)
