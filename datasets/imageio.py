"""Image reading and atomic writing."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np


class ImageReadError(ValueError):
    """A file could not be read as an image; the message names the file and the reason."""


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as uint8 RGB HxWx3 (grey files are expanded to three channels)."""
    path = Path(path)
    data = np.fromfile(path, np.uint8) if path.is_file() else None
    if data is None:
        raise ImageReadError(f"{path}: no such file")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageReadError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write ``image`` (uint8 RGB HxWx3 or grey HxW) atomically: temp file in the folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = path.suffix or ".png"
    src = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 and image.shape[2] == 3 else image
    ok, buf = cv2.imencode(ext, src)
    if not ok:
        raise ValueError(f"{path}: OpenCV cannot encode {ext} images")
    write_bytes(path, buf.tobytes())


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a crash leaves the old file or none, never a partial one)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
