"""Pixel noise. Images are uint8 (HxW or HxWxC); sigmas are in 0-255 grey levels unless stated."""

from __future__ import annotations

import numpy as np

from ._util import add_float, standard_normal, to_uint8


def gaussian_noise(image: np.ndarray, sigma: float, seed: int, per_channel: bool = True) -> np.ndarray:
    """Additive zero-mean Gaussian noise of standard deviation ``sigma`` (grey levels).

    ``per_channel=False`` adds the same noise to every channel (luminance-only noise).
    """
    rng = np.random.default_rng(seed)
    shape = image.shape if per_channel or image.ndim == 2 else image.shape[:2]
    noise = standard_normal(rng, shape)
    noise *= np.float32(sigma)
    return add_float(image, noise)


def speckle_noise(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """Multiplicative noise ``x + x * n``, ``n ~ N(0, sigma)``; ``sigma`` is relative (0-1)."""
    rng = np.random.default_rng(seed)
    noise = standard_normal(rng, image.shape)
    noise *= np.float32(sigma)
    noise *= image
    return add_float(image, noise)


def salt_pepper_noise(image: np.ndarray, amount: float, salt_ratio: float, seed: int) -> np.ndarray:
    """Replace a fraction ``amount`` (0-1) of the array elements by 255 (salt) or 0 (pepper).

    Each element (each channel of each pixel) is drawn independently; ``salt_ratio`` is the share
    of the replaced elements that become salt.
    """
    rng = np.random.default_rng(seed)
    u = rng.random(image.shape, dtype=np.float32)
    out = image.copy()
    out[u < amount] = 0
    out[u < amount * salt_ratio] = 255
    return out


def poisson_noise(image: np.ndarray, peak: float, seed: int) -> np.ndarray:
    """Shot noise: each value is a Poisson count with mean ``x / 255 * peak``, rescaled to 0-255.

    ``peak`` is the photon count of a white pixel; smaller means noisier.
    """
    rng = np.random.default_rng(seed)
    lam = image.astype(np.float32) * np.float32(peak / 255.0)
    counts = rng.poisson(lam).astype(np.float32)
    counts *= np.float32(255.0 / peak)
    return to_uint8(counts)
