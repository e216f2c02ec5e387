"""Face alignment: a similarity transform taking the 5 MTCNN landmarks to an FFHQ-style template.

Matrices are OpenCV 2x3 affine matrices mapping input-image pixel coordinates (x, y) to aligned
crop coordinates. The template is the mean 5-point landmark layout of FFHQ's aligned faces (eyes
at about 37.7% / 62.3% of the width and 46.9% of the height, mouth corners at 72.5%), so crops
look like FFHQ / CelebA-HQ training faces at any size (256 or 512 px are the usual ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .detect import Face
from .errors import FaceStageError

# Mean FFHQ landmarks (left eye, right eye, nose tip, mouth left, mouth right) as fractions of the side.
FFHQ_TEMPLATE = np.array([
    [0.37692, 0.46865],
    [0.62286, 0.46913],
    [0.50124, 0.61332],
    [0.39309, 0.72541],
    [0.61150, 0.72490],
])
ALIGNED_SIZES = (256, 512)


def template(size: int) -> np.ndarray:
    """The 5 template landmarks (x, y) in pixels of a ``size`` x ``size`` crop (pixel centres at integers)."""
    return FFHQ_TEMPLATE * size - 0.5


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation; no reflection) taking the
    Nx2 points ``src`` onto ``dst``, as a 2x3 matrix."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise FaceStageError("align", f"need two matching Nx2 point sets (N >= 2), got {src.shape} and {dst.shape}")
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    p, q = src - src_mean, dst - dst_mean
    norm = float((p**2).sum())
    if not np.isfinite(norm) or norm < 1e-6:
        raise FaceStageError("align", "landmarks are degenerate (all at one point)")
    a = float((p * q).sum()) / norm
    b = float((p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum()) / norm
    linear = np.array([[a, -b], [b, a]])
    return np.hstack([linear, (dst_mean - linear @ src_mean)[:, None]])


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply the 2x3 ``matrix`` to Nx2 points."""
    points = np.asarray(points, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def invert(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine matrix."""
    return cv2.invertAffineTransform(np.asarray(matrix, np.float64))


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 matrix applying ``inner`` first, then ``outer``."""
    out = outer[:, :2] @ inner
    out[:, 2] += outer[:, 2]
    return out


def matrix_scale(matrix: np.ndarray) -> float:
    """Uniform scale of a similarity matrix (aligned pixels per input pixel)."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


@dataclass
class AlignedFace:
    """A face warped into the template frame: ``image`` (size x size x 3 uint8), ``matrix``
    (input -> aligned, 2x3) and the detection ``face`` it came from. The matrix is the face's
    identity when blending back: faces are placed by geometry, never by list position."""

    image: np.ndarray
    matrix: np.ndarray
    face: Face

    @property
    def size(self) -> int:
        return self.image.shape[0]


def crop_footprint(matrix: np.ndarray, size: int, shape: tuple[int, int], margin: int) -> tuple[int, int, int, int]:
    """Integer window (x0, y0, x1, y1) of the (H, W) ``shape`` input covered by the ``size`` px
    aligned crop, widened by ``margin`` px and clipped (empty when x1 <= x0 or y1 <= y0)."""
    corners = transform_points(np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64) - 0.5, invert(matrix))
    x0, y0 = np.floor(corners.min(0)).astype(int) - margin
    x1, y1 = np.ceil(corners.max(0)).astype(int) + margin + 1
    height, width = shape
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)


def warp_to_template(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Warp ``image`` (uint8 HxWx3) into a ``size`` x ``size`` crop with ``matrix`` (bilinear;
    borders reflected). Only the window the crop samples is read; when the face shrinks more than
    2x it is low-passed first (Gaussian, sigma = 0.5 / scale px) to avoid aliasing."""
    x0, y0, x1, y1 = crop_footprint(matrix, size, image.shape[:2], margin=4)
    if x1 <= x0 or y1 <= y0:
        raise FaceStageError("align", f"the face lies outside the {image.shape[1]}x{image.shape[0]} image")
    window = image[y0:y1, x0:x1]
    scale = matrix_scale(matrix)
    if scale < 0.5:
        window = cv2.GaussianBlur(window, (0, 0), sigmaX=0.5 / scale)
    shifted = matrix.copy()
    shifted[:, 2] += matrix[:, :2] @ np.array([x0, y0], np.float64)
    return cv2.warpAffine(window, shifted, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def warp_from_template(aligned: np.ndarray, matrix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse warp: an aligned crop (float or uint8, HxW or HxWxC) back onto an input-sized
    canvas of ``shape`` (H, W); pixels the crop does not cover are 0."""
    height, width = shape
    return cv2.warpAffine(aligned, np.asarray(matrix, np.float64), (width, height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def align_face(image: np.ndarray, face: Face, size: int = 256) -> AlignedFace:
    """Align ``face`` of ``image`` (uint8 HxWx3) to the ``size`` px FFHQ-style template."""
    if size < 32:
        raise FaceStageError("align", f"aligned size must be >= 32 px, got {size}")
    matrix = similarity_transform(face.landmarks, template(size))
    return AlignedFace(warp_to_template(image, matrix, size), matrix, face)
