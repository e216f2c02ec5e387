"""Reads the files stored in a compiled Qt resource bundle (``.rcc``), used for GCompris's photos.

Format (Qt's rcc, versions 1-3, all integers big-endian): a header ``qres``, version, and the
offsets of the tree, data and names sections. Tree nodes are 14 bytes (22 from version 2 on, a
modification time added): name offset, flags, then either child count and first child index
(directory, flag 2) or locale and data offset (file). A file's data is a 4-byte length and the
bytes, zlib-compressed behind a 4-byte uncompressed length when flag 1 is set (zstd, flag 4, is
not read: such files are reported). Names are a 2-byte length, a 4-byte hash and UTF-16 text.
"""

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

DIRECTORY, ZLIB, ZSTD = 2, 1, 4


def rcc_files(path: Path) -> Iterator[tuple[str, bytes]]:
    """(resource path without the leading ``/``, file bytes) for every file in the bundle ``path``."""
    blob = Path(path).read_bytes()
    magic, version, tree, data, names = struct.unpack(">4sIIII", blob[:20])
    if magic != b"qres" or not 1 <= version <= 3:
        raise ValueError(f"{path}: not a Qt resource bundle of version 1-3")
    node_size = 14 if version == 1 else 22

    def name(offset: int) -> str:
        (length,) = struct.unpack_from(">H", blob, names + offset)
        start = names + offset + 6
        return blob[start:start + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> Iterator[tuple[str, bytes]]:
        base = tree + index * node_size
        name_offset, flags = struct.unpack_from(">IH", blob, base)
        here = f"{prefix}{name(name_offset)}" if index else ""
        if flags & DIRECTORY:
            count, first = struct.unpack_from(">II", blob, base + 6)
            for child in range(first, first + count):
                yield from walk(child, f"{here}/" if here else "")
            return
        (offset,) = struct.unpack_from(">I", blob, base + 10)
        (size,) = struct.unpack_from(">I", blob, data + offset)
        raw = blob[data + offset + 4:data + offset + 4 + size]
        if flags & ZSTD:
            raise ValueError(f"{path}: {here} is zstd-compressed, which this reader does not decode")
        yield here, zlib.decompress(raw[4:]) if flags & ZLIB else raw

    yield from walk(0, "")
