"""Per-image statistics that tell degraded photos apart: noise power spectrum, grain, colour cast.

All work on uint8 HxWx3 RGB. Grey is BT.601 luma in [0, 255] (not rounded). Used by
:mod:`oldphoto.benchmark.realism` to compare synthetic old photos with real ones.

- Noise power spectrum (``nps``): the luma minus its mean, times a 2-D Hann window, its 2-D FFT
  power ``|F|^2 / (H W)`` averaged over ``NPS_BINS`` equal rings of radial frequency in
  (0, 0.5] cycles per pixel, in dB (10 log10, grey levels squared). Blur lowers the high rings,
  noise and grain raise them, fading lowers all of them.
- Grain (``grain``): the residual ``luma - GaussianBlur(luma, sigma GRAIN_SIGMA px)`` on the flatter
  half of the pixels (Sobel gradient magnitude of the blurred luma at or below its median, so edges do
  not count as grain): its standard deviation (grey levels), excess kurtosis (0 for Gaussian noise,
  large for sparse specks) and lag-1 autocorrelation (mean of horizontal and vertical neighbours both
  in the flat half: negative for pixel-fine noise, rising with grain size).
- Colour (``colour``): CIELAB (OpenCV, D65, 8-bit RGB as sRGB) per-image means of a* and b* (the
  cast: sepia is b* > 0) and of the chroma sqrt(a*^2 + b*^2) (saturation; 0 for grey photos).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.stats import kurtosis

from .metrics.base import LUMA601

NPS_BINS = 32
GRAIN_SIGMA = 1.5
NPS_CONVENTION = f"nps:luma601,mean-removed,hann2d,fft-power/HW,{NPS_BINS}-rings-(0,0.5]cyc/px,dB"
GRAIN_CONVENTION = f"grain:luma601,residual-gauss{GRAIN_SIGMA}px,flat-half-by-sobel-median"
COLOUR_CONVENTION = "colour:cielab-opencv-d65-srgb,per-image-mean"


def luma(image: np.ndarray) -> np.ndarray:
    """BT.601 luma of uint8 RGB ``image``: float64 HxW in [0, 255]."""
    return image.astype(np.float64) @ LUMA601


def ring_frequencies(bins: int = NPS_BINS) -> np.ndarray:
    """Centre of each ring of :func:`noise_power_spectrum`, cycles per pixel."""
    return (np.arange(bins) + 0.5) * 0.5 / bins


def noise_power_spectrum(image: np.ndarray, bins: int = NPS_BINS) -> np.ndarray:
    """Radially averaged power spectrum of the windowed luma, dB per ring (see the module notes).
    A ring with no FFT sample (images under about 2 * ``bins`` px) is NaN."""
    gray = luma(image)
    h, w = gray.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2((gray - gray.mean()) * window)) ** 2 / (h * w)
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij"))
    ring = np.ceil(radius / 0.5 * bins).astype(np.int64) - 1  # (0, 0.5] -> 0 .. bins - 1; DC -> -1
    inside = (ring >= 0) & (ring < bins)
    sums = np.bincount(ring[inside], power[inside], minlength=bins)
    counts = np.bincount(ring[inside], minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 10.0 * np.log10(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan) + 1e-12)


def grain(image: np.ndarray) -> tuple[float, float, float]:
    """(residual std in grey levels, excess kurtosis, lag-1 autocorrelation) on the flat half."""
    gray = luma(image)
    smooth = cv2.GaussianBlur(gray, (0, 0), GRAIN_SIGMA, borderType=cv2.BORDER_REFLECT)
    residual = gray - smooth
    gradient = np.hypot(cv2.Sobel(smooth, cv2.CV_64F, 1, 0), cv2.Sobel(smooth, cv2.CV_64F, 0, 1))
    flat = gradient <= np.median(gradient)
    values = residual[flat]
    std = float(values.std())
    if std == 0:
        return 0.0, 0.0, 0.0
    centred = np.where(flat, residual - values.mean(), 0.0)
    pairs = [(centred[:, 1:] * centred[:, :-1], flat[:, 1:] & flat[:, :-1]),
             (centred[1:] * centred[:-1], flat[1:] & flat[:-1])]
    corr = float(np.mean([prod[both].mean() / std ** 2 for prod, both in pairs if both.any()] or [0.0]))
    return std, float(kurtosis(values, fisher=True)), corr


def colour(image: np.ndarray) -> tuple[float, float, float]:
    """(mean a*, mean b*, mean chroma) of ``image`` in CIELAB."""
    lab = cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    a, b = lab[..., 1].astype(np.float64), lab[..., 2].astype(np.float64)
    return float(a.mean()), float(b.mean()), float(np.hypot(a, b).mean())
