"""The PNG writer: the same bytes as libpng (OpenCV) at oldphoto's settings, and valid PNGs."""

import hashlib
import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from oldphoto.datasets import png
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb

libpng = png.encode_with_opencv  # what oldphoto wrote before its own writer: the bytes png.encode must equal


def chunks(data: bytes) -> list[tuple[bytes, int]]:
    out, pos = [], len(png.SIGNATURE)
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos:pos + 4])
        out.append((data[pos + 4:pos + 8], size))
        pos += 12 + size
    return out


@pytest.fixture(scope="module")
def photo():
    return read_rgb(builtin_paths()["astronaut"])


# --- numerical values: libpng's bytes --------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (1, 73), (2, 1), (5, 7), (37, 53), (100, 3), (3, 100),
                                   (128, 128), (257, 300), (512, 512), (300, 517)])
@pytest.mark.parametrize("kind", ["rgb", "grey", "noise", "flat"])
def test_bytes_equal_libpng(photo, shape, kind):
    h, w = shape
    image = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
    if kind == "noise":
        image = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), np.uint8)
    elif kind == "flat":
        image = np.full((h, w, 3), 200, np.uint8)
    elif kind == "grey":
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert png.encode(image) == libpng(image)


def test_bytes_equal_libpng_on_random_shapes_and_views():
    rng = np.random.default_rng(0)
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(1, 160, 2))
        image = rng.integers(0, 256, (h, w, 3) if rng.random() < 0.5 else (h, w), np.uint8)
        if rng.random() < 0.5:
            image = cv2.GaussianBlur(image, (0, 0), 2.0)
        view = np.pad(image, [(3, 3), (2, 2)] + [(0, 0)] * (image.ndim - 2))[3:-3, 2:-2]  # not contiguous
        assert png.encode(view) == libpng(image)


def test_window_header_as_libpng_writes_it():
    assert [png.window_bits(n) for n in (1, 250, 251, 16384 - 262, 16384, 16385, 10**6)] == [9, 9, 10, 14, 15, 15, 15]
    stream = bytes([0x78, 0x01]) + b"rest"
    assert png.small_data_header(stream[:2], 40) == bytes([0x08, 0x1D])  # 256-byte window, check bits
    assert png.small_data_header(stream[:2], 5920) == bytes([0x58, 0x09])  # 8 KiB: 37 x 53 RGB
    assert png.small_data_header(stream[:2], 20000) == stream[:2]


@pytest.mark.parametrize("band", [1, 813, 2000])
def test_bands_of_any_size_give_the_same_bytes(monkeypatch, photo, band):
    image = cv2.resize(photo, (90, 41), interpolation=cv2.INTER_AREA)
    monkeypatch.setattr(png, "BAND_BYTES", band)  # 1, 3 and 7 rows of 271 bytes per band
    assert png.encode(image) == libpng(image)


def test_bytes_are_pinned():
    """The bytes themselves, whatever OpenCV does: a zlib-ng release that coded differently would
    change every dataset file, so it must show here first."""
    rng = np.random.default_rng(2026)
    images = {"rgb": rng.integers(0, 256, (61, 47, 3), np.uint8),
              "grey": np.add.outer(np.arange(300), np.arange(220)).astype(np.uint8) // 3,
              "row": rng.integers(0, 256, (1, 90, 3), np.uint8)}
    digests = {name: hashlib.sha256(png.encode(image)).hexdigest() for name, image in images.items()}
    assert digests == {"rgb": "f25d33c9b4047854376a8cfedbca521abc3278dab70aa500245c02651578ab58",
                       "grey": "9d5bf340e8227148c5ae08c4b9a08398248a15705424fd09d099402bbec12042",
                       "row": "90a0c49f9e1548cc9feb77476ed8b882c659676b299eebddfaac4ee87a77c14b"}


# --- smoke and cardinality: valid files that decode to the input -------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (200, 130), (600, 600)])
@pytest.mark.parametrize("channels", [1, 3])
def test_decodes_to_the_input(shape, channels):
    image = np.random.default_rng(3).integers(0, 256, shape + ((channels,) if channels == 3 else ()), np.uint8)
    data = png.encode(image)
    with Image.open(io.BytesIO(data)) as im:
        im.verify()
    with Image.open(io.BytesIO(data)) as im:
        assert np.array_equal(np.asarray(im), image)
    kinds = [kind for kind, _ in chunks(data)]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and set(kinds[1:-1]) == {b"IDAT"}
    assert all(size == png.IDAT_BYTES for kind, size in chunks(data)[1:-2])


def test_grey_hxwx1_is_grey():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)
    assert png.encode(image) == png.encode(image[:, :, 0])


# --- exceptions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("image", [np.zeros((4, 4), np.uint16), np.zeros((4, 4, 4), np.uint8),
                                   np.zeros((0, 4, 3), np.uint8), np.zeros((4, 4, 2), np.uint8)])
def test_refuses_what_it_cannot_encode(image):
    with pytest.raises(ValueError, match="cannot encode"):
        png.encode(image)
