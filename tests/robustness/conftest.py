"""The broken-file corpus the robustness tests run every command over, generated in a temporary folder.

``CORPUS`` maps each entry (a path relative to the corpus root) to None when every command must
process it, or to the reason (a fragment) a command must list it with.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

CORPUS = {
    "a/x.png": None, "b/x.png": None, "y.jpg": None, "y.png": None,  # repeated stems
    "cmyk.jpg": None, "deep16.png": None, "rotated.jpg": None, "фото é.png": None, "float01.tif": None,
    "rgba.png": None, "grey.png": None,
    "truncated.png": "truncated or corrupt", "empty.png": "not an image", "text.jpg": "not an image",
    "bomb.png": "decompression bomb", "badcrc.png": "truncated or corrupt", "float255.tif": "outside 0..1",
    "tiny.png": "1x1", "palette.gif": "unsupported image type .gif", "named.jpg": "a folder, not an image file",
    "dangling.png": "broken symbolic link", "loop.png": "symbolic link loop", "pipe.png": "not a regular file",
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def make_corpus(root: Path) -> None:
    """Write every entry of CORPUS under ``root`` (small images: the suite must stay fast)."""
    rng = np.random.default_rng(0)

    def rgb(size: int = 32) -> Image.Image:
        return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))

    def put(name: str, data: bytes) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)

    for name in ("a/x.png", "b/x.png", "y.png", "фото é.png"):
        put(name, _png(rgb()))
    rgb().save(root / "y.jpg")
    Image.fromarray(rng.integers(0, 256, (32, 32, 4), dtype=np.uint8), "CMYK").save(root / "cmyk.jpg")
    Image.fromarray(rng.integers(0, 65536, (24, 32), dtype=np.uint16)).save(root / "deep16.png")
    rotated = rgb()
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(root / "rotated.jpg", exif=exif)
    Image.fromarray(rng.random((32, 32)).astype(np.float32), "F").save(root / "float01.tif")
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.float32), "F").save(root / "float255.tif")
    Image.fromarray(rng.integers(0, 256, (32, 32, 4), dtype=np.uint8), "RGBA").save(root / "rgba.png")
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(root / "grey.png")
    put("truncated.png", _png(rgb())[:300])
    put("empty.png", b"")
    put("text.jpg", b"I am a text file, not a JPEG\n")
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)  # 900 MP, RGB: a bomb if decoded
    put("bomb.png", b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _chunk(b"IEND", b""))
    bad = bytearray(_png(rgb()))
    at = bad.find(b"IDAT")
    bad[at + 4 + struct.unpack(">I", bad[at - 4:at])[0]] ^= 0xFF  # the IDAT chunk's CRC
    put("badcrc.png", bytes(bad))
    Image.fromarray(rng.integers(0, 256, (1, 1, 3), dtype=np.uint8)).save(root / "tiny.png")
    rgb().convert("P").save(root / "palette.gif")
    (root / "named.jpg").mkdir()
    (root / "dangling.png").symlink_to("nowhere.png")
    (root / "loop.png").symlink_to("loop.png")
    os.mkfifo(root / "pipe.png")
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.name not in ("a", "b")} == set(CORPUS)


def tree_state(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of each file, the target of each link, 'folder' or the kind of other entries
    (FIFOs are never opened)."""
    state = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            state[path.relative_to(root).as_posix()] = "link:" + os.readlink(path)
        elif stat.S_ISREG(mode):
            state[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[path.relative_to(root).as_posix()] = "folder" if stat.S_ISDIR(mode) else oct(stat.S_IFMT(mode))
    return state


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> SimpleNamespace:
    """The corpus ``root``, ``reasons`` (CORPUS), the ``good`` and ``bad`` names (sorted) and ``untouched()``:
    whether the tree is still exactly as generated (conftest is not importable by name)."""
    root = tmp_path_factory.mktemp("corpus")
    make_corpus(root)
    before = tree_state(root)
    return SimpleNamespace(root=root, reasons=CORPUS, untouched=lambda: tree_state(root) == before,
                           good=sorted(k for k, v in CORPUS.items() if v is None),
                           bad=sorted(k for k, v in CORPUS.items() if v is not None))
