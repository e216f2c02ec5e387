"""Robust image reading and atomic writing.

:func:`read_rgb` turns whatever a photo collection holds into uint8 RGB HxWx3, or raises
:class:`ImageReadError` naming the file and the reason:

- EXIF orientation is applied (the pixels come out the way a viewer shows them);
- 16-bit samples are reduced to their high byte (``v >> 8``, as Pillow does for 16-bit RGB);
- 32-bit float samples in 0..1 are scaled to 0..255 and rounded (others raise ImageReadError);
- grey, palette, CMYK (Adobe inverted JPEGs included), YCbCr and LAB are converted to RGB;
- alpha (RGBA, LA, palettes with transparency) is composited over white;
- truncated or corrupt files (PNG chunk checksums included: Pillow decodes without checking
  them), non-images and images over ``max_pixels`` (decompression bombs, checked from the header
  before any pixel is decoded) raise ImageReadError.

Writes go through :func:`oldphoto.infra.files.write_bytes` (a temp file in the destination folder
and an atomic rename; a failure raises :class:`~oldphoto.infra.files.WriteError` naming the destination).
"""

from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from oldphoto.infra.files import write_bytes

from . import png

DEFAULT_MAX_PIXELS = 2**27  # 134 Mpx; Pillow itself refuses over 2 * Image.MAX_IMAGE_PIXELS (179 Mpx)
# Compressed PNGs: .png.encode (zlib level 1, Huffman-only, 'up' row filter; about 1.7x faster than OpenCV
# at its defaults, files 3% larger). Stored (OpenCV: uncompressed deflate blocks, no row filter): about 4x
# faster again, files about 1.8x larger (docs/datasets.md).
PNG_STORED_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 0, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


class ImageReadError(ValueError):
    """A file could not be read as an image; the message names the file and the reason."""


def _open(path: Path, max_pixels: int, data: bytes | None = None) -> Image.Image:
    """Open ``path`` (or its already-read ``data``) lazily, header only, and check the pixel limit."""
    if data is None and not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path if data is None else io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image (unrecognised or empty file)") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{path}: decompression bomb ({exc})") from None
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot open ({exc})") from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageReadError(f"{path}: decompression bomb: {width}x{height} = {width * height} pixels "
                             f"exceeds the limit of {max_pixels}")
    if width < 1 or height < 1:
        image.close()
        raise ImageReadError(f"{path}: empty image ({width}x{height})")
    return image


def image_size(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """(width, height) in pixels as displayed (EXIF rotation applied), read from the header only."""
    path = Path(path)
    with _open(path, max_pixels) as image:
        width, height = image.size
        try:
            orientation = image.getexif().get(0x0112, 1)
        except Exception:  # a malformed EXIF block must not hide the size
            orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _to_rgb(path: Path, image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ImageReadError(f"{path}: integer samples outside 0..65535 are not supported")
        grey = (values.astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float32)
        if not (np.isfinite(values).all() and values.min() >= 0.0 and values.max() <= 1.0):
            raise ImageReadError(f"{path}: floating-point samples outside 0..1 are not supported")
        grey = np.rint(values * 255.0).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def read_rgb(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS,
             data: bytes | None = None) -> np.ndarray:
    """Read an image file as a new, writable uint8 RGB HxWx3 array (see the module notes).

    ``max_pixels``: largest width*height accepted; bigger images raise ImageReadError.
    ``data``: the file's bytes when already read (decoded instead of re-reading ``path``).
    """
    path = Path(path)
    with _open(path, max_pixels, data) as image:
        try:
            image.load()
            if image.format == "PNG":
                with Image.open(path if data is None else io.BytesIO(data)) as again:
                    again.verify()  # chunk CRCs, which load() does not check
            upright = ImageOps.exif_transpose(image)
            rgb = _to_rgb(path, upright)
        except ImageReadError:
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageReadError(f"{path}: truncated or corrupt ({exc})") from None
    return rgb if rgb.flags.writeable else rgb.copy()


def encode_png(image: np.ndarray, stored: bool = False) -> bytes:
    """PNG bytes of a uint8 RGB HxWx3 or grey HxW array: :func:`.png.encode`, or with ``stored``
    OpenCV at ``PNG_STORED_PARAMS``."""
    return png.encode_with_opencv(image, PNG_STORED_PARAMS) if stored else png.encode(image)


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write ``image`` (uint8 RGB HxWx3 or grey HxW) atomically: temp file in the folder, then rename."""
    path = Path(path)
    ext = path.suffix.lower() or ".png"
    if ext == ".png":
        write_bytes(path, encode_png(image))
        return
    src = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 and image.shape[2] == 3 else image
    ok, buf = cv2.imencode(ext, src)
    if not ok:
        raise ValueError(f"{path}: OpenCV cannot encode {ext} images")
    write_bytes(path, buf.tobytes())


def read_journal(path: str | os.PathLike) -> list[dict]:
    """Rows of a JSON-lines journal (one JSON object per line); a missing file gives no rows.

    A line that does not parse is skipped: the last line of a killed run may be cut short.
    """
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows
