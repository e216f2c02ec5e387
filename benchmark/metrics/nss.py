"""Natural-scene statistics shared by BRISQUE and NIQE (numpy, float64).

MSCN coefficients, generalised Gaussian (GGD) and asymmetric GGD (AGGD) moment-matching fits on the
MATLAB grid 0.2:0.001:10, and MATLAB ``imresize`` (bicubic, antialiased) for down-scaling.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import scipy.ndimage
import scipy.sparse
from scipy.special import gammaln

from .ssim import gaussian_1d

FLAT_EPS = 1e-8


@lru_cache(maxsize=1)
def _shape_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shape grid and the GGD / AGGD moment ratios evaluated on it."""
    grid = np.arange(0.2, 10.0 + 0.0005, 0.001)
    ggd_ratio = np.exp(gammaln(1 / grid) + gammaln(3 / grid) - 2 * gammaln(2 / grid))
    return grid, ggd_ratio, 1.0 / ggd_ratio


def mscn(gray: np.ndarray, padding: str, window: int = 7, sigma: float = 7 / 6, c: float = 1.0) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients of a float HxW image in [0, 255].

    ``padding``: "zero" (MATLAB ``filter2 'same'``, BRISQUE) or "replicate" (``imfilter``, NIQE).
    Inside flat windows ``gray - mu`` is float noise (about 1e-13) whose sign would decide whether the
    coefficient counts as left or right in the AGGD fits; numerators below ``FLAT_EPS`` are set to 0.
    """
    kernel = np.outer(gaussian_1d(window, sigma), gaussian_1d(window, sigma))
    mode = {"zero": "constant", "replicate": "nearest"}[padding]
    mu = scipy.ndimage.correlate(gray, kernel, mode=mode, cval=0.0)
    var = scipy.ndimage.correlate(gray * gray, kernel, mode=mode, cval=0.0) - mu * mu
    centred = gray - mu
    centred[np.abs(centred) < FLAT_EPS] = 0.0
    return centred / (np.sqrt(np.abs(var)) + c)


def ggd_fit(x: np.ndarray) -> tuple[float, float]:
    """Zero-mean GGD fit: (shape alpha, variance sigma^2)."""
    grid, ratio, _ = _shape_grid()
    sigma_sq = float(np.mean(x * x))
    rho = sigma_sq / float(np.mean(np.abs(x))) ** 2
    return float(grid[np.argmin(np.abs(rho - ratio))]), sigma_sq


def aggd_fit(x: np.ndarray) -> tuple[float, float, float]:
    """AGGD fit: (shape alpha, left std, right std) from the negative and positive samples."""
    grid, _, ratio = _shape_grid()
    left, right = x[x < 0], x[x > 0]
    left_std = math.sqrt(float(np.mean(left * left))) if left.size else 0.0
    right_std = math.sqrt(float(np.mean(right * right))) if right.size else 0.0
    gamma_hat = left_std / right_std
    r_hat = float(np.mean(np.abs(x))) ** 2 / float(np.mean(x * x))
    r_norm = r_hat * (gamma_hat ** 3 + 1) * (gamma_hat + 1) / (gamma_hat ** 2 + 1) ** 2
    return float(grid[np.argmin(np.abs(ratio - r_norm))]), left_std, right_std


def aggd_mean_factor(alpha: float) -> float:
    """Gamma(2/a) / Gamma(1/a): times (beta_r - beta_l) gives the AGGD mean."""
    return math.exp(math.lgamma(2 / alpha) - math.lgamma(1 / alpha))


def aggd_beta(std: float, alpha: float) -> float:
    """AGGD scale beta from a one-sided standard deviation."""
    return std * math.sqrt(math.exp(math.lgamma(1 / alpha) - math.lgamma(3 / alpha)))


PAIR_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # horizontal, vertical, main and anti diagonal


def pair_products(coeffs: np.ndarray):
    """Products of MSCN coefficients with their circularly shifted neighbours, one per PAIR_SHIFTS."""
    for shift in PAIR_SHIFTS:
        yield coeffs * np.roll(coeffs, shift, axis=(0, 1))


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


@lru_cache(maxsize=64)
def _resize_matrix(in_len: int, scale: float) -> scipy.sparse.csr_matrix:
    """MATLAB imresize weights (bicubic, antialiased when down-scaling, symmetric edges) as a matrix."""
    out_len = math.ceil(in_len * scale)
    width = 4.0 / scale if scale < 1 else 4.0
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]
    dist = u[:, None] - idx
    weights = scale * _cubic(scale * dist) if scale < 1 else _cubic(dist)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    cols = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    rows = np.repeat(np.arange(out_len), taps)
    return scipy.sparse.csr_matrix((weights.ravel(), (rows, cols.ravel())), shape=(out_len, in_len))


def imresize(gray: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB ``imresize(gray, scale)`` (bicubic, antialiasing) of a float64 HxW image, no rounding."""
    rows = _resize_matrix(gray.shape[0], scale)
    cols = _resize_matrix(gray.shape[1], scale)
    return np.asarray((cols @ (rows @ gray).T).T)
