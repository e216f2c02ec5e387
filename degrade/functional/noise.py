"""Pixel noise. Images are uint8 (HxW or HxWxC); sigmas are in 0-255 grey levels unless stated."""

from __future__ import annotations

import cv2
import numpy as np

from ._util import add_float, byte_normal, normal_indices, normal_table, random_bytes, to_uint8


def normal_noise(rng: np.random.Generator, shape: tuple[int, ...], std: float, version: int = 1) -> np.ndarray:
    """float32 N(0, ``std``) deviates of ``shape``: 16-bit table lookup (version 1) or one byte each
    (version 2, :func:`._util.byte_normal`)."""
    if version == 1:
        return normal_table(std).take(normal_indices(rng, shape), mode="wrap")
    return byte_normal(rng, shape, std)


def gaussian_noise(image: np.ndarray, sigma: float, seed: int, per_channel: bool = True,
                   version: int = 1) -> np.ndarray:
    """Additive zero-mean Gaussian noise of standard deviation ``sigma`` (grey levels).

    ``per_channel=False`` adds the same noise to every channel (luminance-only noise). ``version``:
    of the draws (see :func:`normal_noise`).
    """
    rng = np.random.default_rng(seed)
    shape = image.shape if per_channel or image.ndim == 2 else image.shape[:2]
    return add_float(image, normal_noise(rng, shape, sigma, version))


def speckle_noise(image: np.ndarray, sigma: float, seed: int, version: int = 1) -> np.ndarray:
    """Multiplicative noise ``x + x * n``, ``n ~ N(0, sigma)``; ``sigma`` is relative (0-1).
    ``version``: of the draws (see :func:`normal_noise`); version 2 multiplies by ``1 + n`` in one
    OpenCV pass, rounding once."""
    rng = np.random.default_rng(seed)
    if version == 2:
        return cv2.multiply(image, byte_normal(rng, image.shape, sigma, mean=1.0), dtype=cv2.CV_8U).reshape(image.shape)
    noise = normal_noise(rng, image.shape, sigma, version)
    noise *= image
    return add_float(image, noise)


def salt_pepper_noise(image: np.ndarray, amount: float, salt_ratio: float, seed: int, version: int = 1) -> np.ndarray:
    """Replace a fraction ``amount`` (0-1) of the array elements by 255 (salt) or 0 (pepper).

    Each element (each channel of each pixel) is drawn independently from a 16-bit uniform integer
    (probabilities resolved to 1/65536); ``salt_ratio`` is the share of replaced elements that are salt.
    ``version`` 2 draws the same thing sparsely (see :func:`sparse_salt_pepper`).
    """
    rng = np.random.default_rng(seed)
    if version == 2:
        return sparse_salt_pepper(image, amount, salt_ratio, rng)
    flat = image.reshape(image.shape[0], -1)
    u = random_bytes(rng, 2 * flat.size).view(np.uint16).reshape(flat.shape)
    replaced = cv2.compare(u, float(round(amount * 65536)), cv2.CMP_LT)
    salt = cv2.compare(u, float(round(amount * salt_ratio * 65536)), cv2.CMP_LT)
    out = cv2.bitwise_or(cv2.bitwise_and(flat, cv2.bitwise_not(replaced)), salt)
    return out.reshape(image.shape)


def sparse_salt_pepper(image: np.ndarray, amount: float, salt_ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Version 2 of :func:`salt_pepper_noise`: the number of replaced elements is drawn (binomial, a
    share ``amount`` of them on average), then their places (uniform, with replacement: a place drawn
    twice is replaced once, 0.5% fewer places at ``amount`` 0.01) and which are salt (share
    ``salt_ratio``). Cost grows with the replaced elements only, not with the image."""
    out = image.copy()
    flat = out.reshape(-1)
    count = int(rng.binomial(flat.size, amount))
    places = rng.integers(0, flat.size, count)
    flat[places] = np.where(rng.random(count) < salt_ratio, np.uint8(255), np.uint8(0))
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
