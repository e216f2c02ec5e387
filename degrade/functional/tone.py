"""Photographic ageing of tone and colour. uint8 in, uint8 out, same shape.

Colour operations on a grey (HxW) image act on its luminance: the result is the grey value of the
toned colour image.
"""

from __future__ import annotations

import cv2
import numpy as np

SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)


def _on_colour(image: np.ndarray, fn) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(fn(cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)), cv2.COLOR_RGB2GRAY)
    return fn(image)


def grayscale(image: np.ndarray) -> np.ndarray:
    """BT.601 luma, replicated over the channels of an RGB image (grey images are returned as a copy)."""
    if image.ndim == 2:
        return image.copy()
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def fade(image: np.ndarray, contrast: float, saturation: float) -> np.ndarray:
    """Fading: lose a fraction ``saturation`` (0-1) of chroma and ``contrast`` (0-1) of contrast.

    Contrast shrinks toward the image's mean luma; chroma shrinks toward each pixel's luma.
    """
    out = image
    if image.ndim == 3 and saturation > 0:
        out = cv2.addWeighted(image, 1.0 - saturation, grayscale(image), saturation, 0.0)
    mean = float(cv2.mean(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY) if out.ndim == 3 else out)[0])
    return cv2.addWeighted(out, 1.0 - contrast, out, 0.0, contrast * mean)


def sepia(image: np.ndarray, strength: float) -> np.ndarray:
    """Sepia toning; ``strength`` 0 keeps the image, 1 is the full classic sepia matrix."""
    matrix = (1.0 - strength) * np.eye(3, dtype=np.float32) + strength * SEPIA
    return _on_colour(image, lambda rgb: cv2.transform(rgb, matrix))


def yellowing(image: np.ndarray, strength: float) -> np.ndarray:
    """Warm yellow cast of ageing paper and varnish: blue and a little green drop, shadows warm up.

    ``strength`` 0-1; at 1 blue is scaled by 0.65, green by 0.9, and red/green shadows lifted by 12/6.
    """
    gain = np.array([1.0, 1.0 - 0.1 * strength, 1.0 - 0.35 * strength], np.float32)
    lift = np.array([12.0, 6.0, 0.0], np.float32) * strength
    matrix = np.concatenate([np.diag(gain), lift[:, None]], axis=1)
    return _on_colour(image, lambda rgb: cv2.transform(rgb, matrix))


def exposure_field(height: int, width: int, vignette: float, center: tuple[float, float],
                   gradient: float, angle: float) -> np.ndarray:
    """Multiplicative gain map (float32 HxW) for uneven exposure.

    ``vignette`` (0-1) darkens the corners: gain falls to ``1 - vignette`` at the farthest corner
    from ``center`` (relative coordinates 0-1). ``gradient`` (-1..1) tilts exposure linearly along
    ``angle`` degrees: gain ``1 + gradient * t`` with ``t`` in -0.5..0.5 across the image.
    """
    ys = (np.arange(height, dtype=np.float32) + 0.5) / height
    xs = (np.arange(width, dtype=np.float32) + 0.5) / width
    dx, dy = xs[None, :] - np.float32(center[0]), ys[:, None] - np.float32(center[1])
    r2 = dx * dx + dy * dy
    corners = [(cx - center[0]) ** 2 + (cy - center[1]) ** 2 for cx in (0, 1) for cy in (0, 1)]
    gain = 1.0 - np.float32(vignette) * r2 / np.float32(max(corners))
    t = np.deg2rad(angle)
    proj = (xs[None, :] - 0.5) * np.float32(np.cos(t)) + (ys[:, None] - 0.5) * np.float32(np.sin(t))
    return (gain * (1.0 + np.float32(gradient) * proj)).astype(np.float32)


def uneven_exposure(image: np.ndarray, vignette: float, center: tuple[float, float],
                    gradient: float, angle: float) -> np.ndarray:
    """Vignetting and an exposure gradient (see :func:`exposure_field`)."""
    gain = exposure_field(image.shape[0], image.shape[1], vignette, center, gradient, angle)
    if image.ndim == 3:
        gain = cv2.merge([gain] * image.shape[2])
    return cv2.multiply(image, gain, dtype=cv2.CV_8U)


def photo_tone(image: np.ndarray, brightness: float, contrast: float, gamma: float) -> np.ndarray:
    """A differently exposed and printed photo: gamma ``gamma`` (> 0; above 1 darkens the mid-tones),
    then contrast scaled by ``1 + contrast`` about mid-grey, then ``255 * brightness`` added; one
    256-level lookup table, so colours keep their hue."""
    levels = 255.0 * (np.arange(256, dtype=np.float64) / 255.0) ** gamma
    lut = (levels - 127.5) * (1.0 + contrast) + 127.5 + 255.0 * brightness
    return cv2.LUT(image, np.clip(np.rint(lut), 0, 255).astype(np.uint8))


def brightness_contrast(image: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """``(x - 127.5) * (1 + contrast) + 127.5 + 255 * brightness``; both in -1..1."""
    levels = np.arange(256, dtype=np.float32)
    lut = (levels - 127.5) * (1.0 + contrast) + 127.5 + 255.0 * brightness
    return cv2.LUT(image, np.clip(np.rint(lut), 0, 255).astype(np.uint8))
