"""Blending enhanced faces back: colour matching, inverse warp, feathered elliptical mask.

Each enhanced face travels with its :class:`~.align.AlignedFace` (whose matrix places it), so
faces are put back by geometry; the result does not depend on the order of the list (overlapping
faces are averaged by their mask weights). Pixels no face mask reaches keep their exact bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .align import AlignedFace, crop_footprint, warp_from_template
from .errors import FaceStageError

# Face ellipse in template fractions: centre (x, y) and semi-axes (x, y); covers brows to chin.
FACE_ELLIPSE = ((0.5, 0.56), (0.33, 0.40))
ALPHA_FLOOR = 1.0 / 512  # mask weights below this are 0: far pixels keep their exact bytes


@dataclass
class BlendConfig:
    """``feather``: Gaussian sigma of the mask edge as a fraction of the aligned size (0.005-0.2).
    ``colour_match``: match the enhanced face's Lab mean / std to the original face's (in the mask)."""

    feather: float = 0.04
    colour_match: bool = True

    def __post_init__(self) -> None:
        if not 0.005 <= self.feather <= 0.2:
            raise ValueError(f"feather must be in [0.005, 0.2], got {self.feather}")


def face_mask(size: int, feather: float) -> np.ndarray:
    """float32 size x size weights in [0, 1]: the face ellipse shrunk by 2 sigma, then blurred."""
    sigma = feather * size
    (cx, cy), (rx, ry) = FACE_ELLIPSE
    mask = np.zeros((size, size), np.float32)
    axes = (max(1, round(rx * size - 2 * sigma)), max(1, round(ry * size - 2 * sigma)))
    cv2.ellipse(mask, (round(cx * size), round(cy * size)), axes, 0, 0, 360, 1.0, thickness=-1)
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma)
    mask[mask < ALPHA_FLOOR] = 0.0
    return mask


def _lab(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def match_colour(enhanced: np.ndarray, original: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Shift / scale each Lab channel of ``enhanced`` (uint8 RGB) so its weighted mean and standard
    deviation equal ``original``'s; returns float32 RGB in [0, 255]. Scale factors are clamped to
    [0.25, 4] so a flat channel cannot explode."""
    src, ref = _lab(enhanced), _lab(original)
    w = weights[..., None] / max(float(weights.sum()), 1e-6)
    src_mean, ref_mean = (src * w).sum((0, 1)), (ref * w).sum((0, 1))
    src_std = np.sqrt(((src - src_mean) ** 2 * w).sum((0, 1)))
    ref_std = np.sqrt(((ref - ref_mean) ** 2 * w).sum((0, 1)))
    gain = np.clip(ref_std / np.maximum(src_std, 1e-6), 0.25, 4.0)
    matched = (src - src_mean) * gain + ref_mean
    rgb = cv2.cvtColor(matched.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0, 0, 255)


def is_grey(image: np.ndarray) -> bool:
    """True when all three channels of a uint8 HxWx3 image are identical."""
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2]))


def blend_faces(image: np.ndarray, faces: list[tuple[AlignedFace, np.ndarray]],
                config: BlendConfig | None = None) -> np.ndarray:
    """Paste each (aligned face, enhanced uint8 crop of the same size) back into ``image`` (uint8
    HxWx3, not modified); returns a new image. Grey images stay grey (enhanced faces are reduced to
    their luminance)."""
    config = config or BlendConfig()
    out = image.copy()
    if not faces:
        return out
    grey = is_grey(image)
    shape = image.shape[:2]
    placed = []
    for index, (aligned, enhanced) in enumerate(faces):
        if enhanced.shape != aligned.image.shape or enhanced.dtype != np.uint8:
            raise FaceStageError("blend", f"enhanced crop {enhanced.dtype} {enhanced.shape} does not match the "
                                          f"aligned crop {aligned.image.shape}", face=index)
        window = crop_footprint(aligned.matrix, aligned.size, shape, margin=1)
        if window[2] <= window[0] or window[3] <= window[1]:
            raise FaceStageError("blend", "the aligned crop lies wholly outside the image", face=index)
        mask = face_mask(aligned.size, config.feather)
        colour = match_colour(enhanced, aligned.image, mask) if config.colour_match else enhanced.astype(np.float32)
        if grey:
            colour = np.repeat(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        placed.append((window, aligned.matrix, colour, mask))
    ux0, uy0 = min(w[0] for w, *_ in placed), min(w[1] for w, *_ in placed)
    ux1, uy1 = max(w[2] for w, *_ in placed), max(w[3] for w, *_ in placed)
    weighted = np.zeros((uy1 - uy0, ux1 - ux0, 3), np.float64)
    weight_sum = np.zeros((uy1 - uy0, ux1 - ux0), np.float64)
    keep = np.ones((uy1 - uy0, ux1 - ux0), np.float64)  # product of (1 - alpha): the original's share
    for (x0, y0, x1, y1), matrix, colour, mask in placed:
        shifted = matrix.copy()
        shifted[:, 2] += matrix[:, :2] @ np.array([x0, y0], np.float64)
        alpha = warp_from_template(mask, shifted, (y1 - y0, x1 - x0)).astype(np.float64)
        alpha[alpha < ALPHA_FLOOR] = 0.0
        pixels = warp_from_template(colour, shifted, (y1 - y0, x1 - x0)).astype(np.float64)
        region = np.s_[y0 - uy0:y1 - uy0, x0 - ux0:x1 - ux0]
        weighted[region] += pixels * alpha[..., None]
        weight_sum[region] += alpha
        keep[region] *= 1.0 - alpha
    touched = weight_sum > 0
    face_colour = weighted[touched] / weight_sum[touched][:, None]
    share = (1.0 - keep[touched])[:, None]
    view = out[uy0:uy1, ux0:ux1]
    view[touched] = np.clip(np.rint(view[touched] * (1.0 - share) + face_colour * share), 0, 255).astype(np.uint8)
    return out
