"""Input files of the per-file commands, their skip reasons, and the one output-naming rule.

Listing: a folder is searched recursively for files with an image suffix (``IMAGE_SUFFIXES``).
Entries that look like images but cannot be read as image files are returned with a reason
instead of being dropped without a word: other image types (``.gif`` ...), folders named like
images, broken or looping symbolic links and non-regular files (FIFOs, devices). Symbolic links
to folders are not followed (no loops).

Naming (degrade and restore outputs, dataset sample ids): :func:`distinct_names` keeps every name
that is unique and gives each repeat the smallest free suffix ``-2``, ``-3``... in input order,
so a rerun over the same inputs names every output the same way and no output replaces another.
"""

from __future__ import annotations

import errno
import stat
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
# Image types that are listed as skipped (with the reason) rather than ignored like other files.
OTHER_IMAGE_SUFFIXES = (".gif", ".heic", ".heif", ".avif", ".jp2", ".j2k", ".jxl", ".ppm", ".pgm", ".pbm",
                        ".pnm", ".ico", ".psd", ".tga", ".dng", ".cr2", ".nef", ".arw", ".svg")


class InputError(ValueError):
    """A named input does not exist; the message names it."""


def problem(path: Path) -> str | None:
    """Why ``path``, named like an image, is not a readable image file (None when it is one)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if path.is_symlink():
            return "broken symbolic link (its target is missing)"
        return f"cannot access ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return "a folder, not an image file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def scan(root: Path, hidden: bool = True) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Image files under folder ``root`` (sorted) and the skipped entries with their reasons.

    ``hidden=False`` leaves out files and folders whose name starts with a dot (without a reason).
    """
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for path in sorted(root.rglob("*")):
        if not hidden and any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            reason = problem(path)
            if reason is None:
                files.append(path)
            else:
                skipped.append((path, reason))
        elif suffix in OTHER_IMAGE_SUFFIXES and not path.is_dir():
            skipped.append((path, f"unsupported image type {suffix} (convert it to PNG)"))
    return files, skipped


@dataclass
class Inputs:
    """What a command was given: image ``files`` in order, and ``skipped`` (path, reason) entries."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def expand_inputs(items: tuple[str, ...] | list[str], out: str | None = None) -> Inputs:
    """Files named in ``items`` and the images inside folders named there (each file once), except
    what such a folder holds under the output folder ``out`` (a rerun must not take earlier outputs
    for inputs; a file named outright is kept, so the command can refuse to replace it).

    A name that does not exist raises InputError; a named file that cannot be read is skipped.
    """
    skip = Path(out).resolve() if out is not None else None
    found = Inputs()
    seen: set[Path] = set()

    def outside_out(path: Path) -> bool:
        where = path.parent.resolve() / path.name  # a link loop cannot be resolved itself
        return skip is None or not (where.resolve() if path.exists() else where).is_relative_to(skip)

    for item in items:
        path = Path(item)
        if path.is_dir():
            files, skipped = scan(path)
            files = [file for file in files if outside_out(file)]
            skipped = [(p, reason) for p, reason in skipped if outside_out(p)]
        elif path.exists() or path.is_symlink():
            reason = problem(path)
            files, skipped = ([path], []) if reason is None else ([], [(path, reason)])
        else:
            raise InputError(f"{path}: no such file or folder")
        for file in files:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.files.append(file)
        found.skipped += skipped
    return found


def distinct_names(names: list[str], ignore_case: bool = True) -> list[str]:
    """``names`` with each repeat renamed ``NAME-k``, k >= 2 the smallest suffix no other name has.

    ``ignore_case``: ``X`` repeats ``x`` (as on the case-insensitive filesystems of macOS and Windows).
    """
    def key(name: str) -> str:
        return name.lower() if ignore_case else name

    given = {key(name) for name in names}
    used: set[str] = set()
    result = []
    for name in names:
        new, k = name, 2
        while key(new) in used or (new != name and key(new) in given):
            new, k = f"{name}-{k}", k + 1
        used.add(key(new))
        result.append(new)
    return result


def output_names(files: list[Path]) -> list[str]:
    """Distinct output stems of ``files``: each input's stem, ``-2``, ``-3``... where stems repeat."""
    return distinct_names([path.stem for path in files])
