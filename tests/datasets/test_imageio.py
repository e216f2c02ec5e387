"""Robust reading: EXIF orientation, 16-bit, float, grey, alpha, CMYK, broken files, bad PNG checksums, bombs;
atomic writes and failed writes."""

from __future__ import annotations

import errno
import os
import struct

import numpy as np
import pytest
from PIL import Image

from oldphoto.datasets.imageio import ImageReadError, encode_png, image_size, read_rgb, write_image
from oldphoto.infra.files import WriteError, write_bytes


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :10] = 255  # white band on the left of the stored image
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    Image.fromarray(pixels).save(tmp_path / "r.jpg", exif=exif, quality=100)
    image = read_rgb(tmp_path / "r.jpg")
    assert image.shape == (40, 20, 3)
    assert image_size(tmp_path / "r.jpg") == (20, 40)
    assert image[:8].mean() > 200 and image[-8:].mean() < 50  # the band is now on top


def test_16bit_grey_png_uses_the_high_byte(tmp_path):
    values = np.array([[0, 255, 256, 65535]], np.uint16).repeat(4, axis=0)
    Image.fromarray(values).save(tmp_path / "g16.png")
    image = read_rgb(tmp_path / "g16.png")
    assert image.dtype == np.uint8 and image.shape == (4, 4, 3)
    assert image[0, :, 0].tolist() == [0, 0, 1, 255]


def test_grey_and_palette_become_rgb(tmp_path):
    Image.fromarray(np.full((5, 6), 77, np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(np.full((5, 6, 3), 30, np.uint8)).convert("P").save(tmp_path / "p.png")
    assert np.all(read_rgb(tmp_path / "g.png") == 77)
    assert read_rgb(tmp_path / "p.png").shape == (5, 6, 3)


def test_rgba_is_composited_over_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :2, 3] = 255  # left half opaque red-ish, right half fully transparent
    rgba[:, 3, 3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    image = read_rgb(tmp_path / "a.png")
    assert image[0, 0].tolist() == [200, 0, 0]
    assert image[0, 3].tolist() == [255, 255, 255]


def test_cmyk_jpeg_is_converted(tmp_path):
    cmyk = np.zeros((16, 16, 4), np.uint8)
    cmyk[..., 1] = 255  # full magenta, no black
    Image.fromarray(cmyk, "CMYK").save(tmp_path / "c.jpg", quality=100)
    r, g, b = read_rgb(tmp_path / "c.jpg")[8, 8].astype(int)
    assert r > 200 and g < 60 and b > 200


@pytest.mark.parametrize("content, reason", [
    (b"", "not an image"), (b"hello, I am text", "not an image"), (None, "truncated or corrupt")])
def test_broken_files_raise_with_file_and_reason(tmp_path, content, reason):
    path = tmp_path / "bad.png"
    if content is None:
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(path)
        content = path.read_bytes()[:400]
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match=reason) as info:
        read_rgb(path)
    assert str(path) in str(info.value)


def test_png_with_a_wrong_idat_checksum_is_corrupt(tmp_path):
    """Pillow decodes such a file without complaint; libpng and Image.verify() refuse it."""
    path = tmp_path / "crc.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    at = data.find(b"IDAT")
    data[at + 4 + struct.unpack(">I", data[at - 4:at])[0]] ^= 0xFF  # first byte of the IDAT CRC
    path.write_bytes(bytes(data))
    for kwargs in ({}, {"data": bytes(data)}):
        with pytest.raises(ImageReadError, match="truncated or corrupt.*checksum") as info:
            read_rgb(path, **kwargs)
        assert str(path) in str(info.value)


def test_float_tiff_in_0_1_is_scaled_to_8_bits(tmp_path):
    values = np.array([[0.0, 0.5, 1.0, 0.2]] * 4, np.float32)
    Image.fromarray(values, "F").save(tmp_path / "f.tif")
    rgb = read_rgb(tmp_path / "f.tif")
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 4, 3)
    assert rgb[0, :, 0].tolist() == [0, 128, 255, 51] and (rgb[..., 0] == rgb[..., 2]).all()
    Image.fromarray(values * 255, "F").save(tmp_path / "g.tif")
    with pytest.raises(ImageReadError, match="g.tif: floating-point samples outside 0..1"):
        read_rgb(tmp_path / "g.tif")


def test_pixel_limit_stops_bombs_before_decoding(tmp_path):
    Image.new("L", (300, 200)).save(tmp_path / "big.png")
    with pytest.raises(ImageReadError, match="decompression bomb: 300x200 = 60000 pixels"):
        read_rgb(tmp_path / "big.png", max_pixels=59999)
    assert read_rgb(tmp_path / "big.png", max_pixels=60000).shape == (200, 300, 3)


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="no such file"):
        read_rgb(tmp_path / "nope.png")


def test_writes_are_atomic_and_lossless(tmp_path):
    image = np.random.default_rng(1).integers(0, 256, (9, 7, 3), np.uint8)
    write_image(tmp_path / "x" / "a.png", image)
    assert np.array_equal(read_rgb(tmp_path / "x" / "a.png"), image)
    for stored in (False, True):
        write_bytes(tmp_path / "b.png", encode_png(image, stored=stored))
        assert np.array_equal(read_rgb(tmp_path / "b.png"), image)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.png", "b.png"]


def test_written_files_get_ordinary_permissions(tmp_path):
    """Atomic writes go through a private temp file, but the result is as readable as open() makes it."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        write_bytes(tmp_path / "a.bin", b"x")
        (tmp_path / "b.bin").write_bytes(b"x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "a.bin").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o644


def test_a_failed_write_names_the_destination_and_leaves_nothing(tmp_path, monkeypatch):
    write_bytes(tmp_path / "a.bin", b"old")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(WriteError) as info:
        write_bytes(tmp_path / "a.bin", b"new")
    assert str(info.value) == f"{tmp_path / 'a.bin'}: cannot write (No space left on device)"
    assert info.value.errno == errno.ENOSPC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"] and (tmp_path / "a.bin").read_bytes() == b"old"
    monkeypatch.undo()
    with pytest.raises(WriteError, match="cannot write"):
        write_bytes(tmp_path / "a.bin" / "b.bin", b"x")  # a file where a folder should be
