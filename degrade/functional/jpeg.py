"""JPEG re-compression with OpenCV's bundled libjpeg(-turbo): baseline, 4:2:0 chroma for colour."""

from __future__ import annotations

import cv2
import numpy as np


def jpeg_compress(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode ``image`` as JPEG at ``quality`` (1-100) and decode it again (uint8, same shape)."""
    colour = image.ndim == 3
    src = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if colour else image
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV failed to encode a JPEG")
    flag = cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE
    out = cv2.imdecode(buf, flag)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB) if colour else out
