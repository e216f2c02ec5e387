"""JPEG re-compression with OpenCV's bundled libjpeg(-turbo): baseline, 4:2:0 chroma for colour."""

from __future__ import annotations

import cv2
import numpy as np

_DECODE_RGB = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.10


def jpeg_compress(image: np.ndarray, quality: int) -> np.ndarray:
    """Encode ``image`` as JPEG at ``quality`` (1-100) and decode it again (uint8, same shape).

    Colour decodes straight to RGB where OpenCV can (libjpeg-turbo then writes the channels in that
    order: the same bytes as decoding to BGR and swapping, one pass less).
    """
    colour = image.ndim == 3
    src = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if colour else image
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV failed to encode a JPEG")
    if not colour:
        return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if _DECODE_RGB is not None:
        return cv2.imdecode(buf, _DECODE_RGB)
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
