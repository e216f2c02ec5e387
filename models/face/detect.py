"""Face detection with MTCNN (facenet-pytorch 2.5.3; its P/R/O-Net weights ship inside the wheel).

Old photos are often grey, sepia or faded: every input is fed to MTCNN as 3 channels (grey is
replicated) after a luminance contrast stretch that leaves hue untouched, so faded prints look like
the photos MTCNN was trained on. Large scans are detected on a copy whose long side is at most
``max_side`` px; boxes and landmarks are scaled back to the input's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from oldphoto.infra.device import resolve_device

from .errors import FaceStageError

LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")  # image left/right
MTCNN_THRESHOLDS = (0.6, 0.7, 0.7)  # facenet-pytorch defaults for P-, R- and O-Net
MTCNN_MIN_SIZE = 12  # P-Net's window: the smallest face MTCNN can see, in detection pixels


@dataclass
class DetectorConfig:
    """``threshold``: minimum MTCNN face probability in [0, 1]. ``min_face_size``: faces whose box
    has a shorter side under this many input pixels are not reported. ``max_side``: long side (px)
    of the copy detection runs on (0 = full size). ``stretch``: percentile (0-49) clipped at each
    end of the luminance histogram before detection (0 = no contrast stretch)."""

    threshold: float = 0.9
    min_face_size: int = 20
    max_side: int = 1024
    stretch: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        if self.min_face_size < 1:
            raise ValueError(f"min_face_size must be >= 1 px, got {self.min_face_size}")
        if self.max_side != 0 and self.max_side < 64:
            raise ValueError(f"max_side must be 0 or >= 64 px, got {self.max_side}")
        if not 0.0 <= self.stretch < 49.0:
            raise ValueError(f"stretch must be a percentile in [0, 49), got {self.stretch}")


@dataclass(frozen=True)
class Face:
    """One detection in input pixels: ``box`` (x0, y0, x1, y1), ``landmarks`` 5x2 (x, y) in
    LANDMARK_NAMES order, ``score`` the MTCNN probability in [0, 1]."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float

    def to_dict(self) -> dict:
        """JSON-serialisable record (coordinates rounded to 0.01 px)."""
        return {"box": [round(v, 2) for v in self.box],
                "landmarks": {n: [round(float(x), 2), round(float(y), 2)]
                              for n, (x, y) in zip(LANDMARK_NAMES, self.landmarks, strict=False)},
                "score": round(self.score, 5)}


def to_three_channels(image: np.ndarray) -> np.ndarray:
    """uint8 HxW, HxWx1 or HxWx3 -> uint8 HxWx3 (grey replicated); anything else is a FaceStageError."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise FaceStageError("input", f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3) or min(image.shape[:2]) < 1:
        raise FaceStageError("input", f"expected an HxW, HxWx1 or HxWx3 image, got shape {image.shape}")
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def stretch_contrast(image: np.ndarray, percentile: float) -> np.ndarray:
    """Map the [p, 100-p] luminance percentiles to [0, 255] by scaling all channels alike (hue kept)."""
    if percentile <= 0:
        return image
    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    lo, hi = np.percentile(luma, (percentile, 100.0 - percentile))
    if hi - lo < 1.0:
        return image
    scaled = (image.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


class FaceDetector:
    """MTCNN detector: ``detector(image) -> list[Face]`` sorted by score, highest first."""

    def __init__(self, config: DetectorConfig | None = None, device: str = "auto") -> None:
        try:
            from facenet_pytorch import MTCNN
        except ImportError as exc:
            raise FaceStageError("detect", f"facenet-pytorch is needed for face detection "
                                           f"(pip install facenet-pytorch==2.5.3): {exc}") from None
        self.config = config or DetectorConfig()
        self.device = resolve_device(device)
        thresholds = [*MTCNN_THRESHOLDS[:2], min(MTCNN_THRESHOLDS[2], self.config.threshold)]
        self._mtcnn = MTCNN(keep_all=True, select_largest=False, thresholds=thresholds,
                            min_face_size=MTCNN_MIN_SIZE, device=self.device).eval()

    def __call__(self, image: np.ndarray) -> list[Face]:
        rgb = stretch_contrast(to_three_channels(image), self.config.stretch)
        height, width = rgb.shape[:2]
        scale = 1.0
        if self.config.max_side and max(height, width) > self.config.max_side:
            scale = self.config.max_side / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        self._mtcnn.min_face_size = max(MTCNN_MIN_SIZE, int(self.config.min_face_size * scale))
        if min(rgb.shape[:2]) < MTCNN_MIN_SIZE:
            return []
        try:
            boxes, scores, points = self._mtcnn.detect(rgb, landmarks=True)
        except Exception as exc:  # facenet-pytorch raises bare Exception and numpy/torch errors
            raise FaceStageError("detect", f"MTCNN failed on a {width}x{height} image: "
                                           f"{type(exc).__name__}: {exc}") from None
        if boxes is None:
            return []
        boxes = np.asarray(boxes, dtype=np.float64) / scale
        points = np.asarray(points, dtype=np.float64).reshape(-1, 5, 2) / scale
        faces = []
        for box, score, marks in zip(boxes, np.asarray(scores, dtype=np.float64), points, strict=False):
            short_side = min(box[2] - box[0], box[3] - box[1])
            if score >= self.config.threshold and short_side >= self.config.min_face_size:
                faces.append(Face(tuple(float(v) for v in box), marks, float(score)))
        return sorted(faces, key=lambda f: (-f.score, f.box))
