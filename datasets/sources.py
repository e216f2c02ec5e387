"""Image sources: where the clean photos of a dataset come from.

A source is a sorted list of :class:`SourceItem` (a stable id and a file path). Ids are stable
across machines (a name or a root-relative path), so per-sample seeds derived from them are too.
Sources only ever read their files.

Kinds (``SOURCES``, a :class:`~oldphoto.infra.registry.Registry` of builders ``(root, split) -> Source``):
``builtin`` (photos shipped in the scikit-image / matplotlib wheels), ``folder`` (recursive), ``voc``
(Pascal VOC 2012), ``div2k``, ``ffhq`` and ``real`` (unpaired real old photos: no clean target exists).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from oldphoto.infra.registry import Registry, UnknownNameError

from .builtin import builtin_paths, builtin_record, locate_builtin_record
from .inputs import distinct_names, scan

VOC_SPLITS = ("train", "val", "trainval")
DIV2K_FOLDERS = {"train": "DIV2K_train_HR", "val": "DIV2K_valid_HR"}
FFHQ_TRAIN_COUNT = 60000  # FFHQ metadata: images 00000-59999 are 'training', 60000-69999 'validation'


class SourceError(ValueError):
    """A source's root, layout or split is wrong; the message says what was expected."""


class UnknownSourceError(UnknownNameError, SourceError):
    """A source kind that is not registered: an UnknownNameError and a SourceError."""


@dataclass(frozen=True)
class SourceItem:
    """One source photo: ``id`` (stable, filesystem-safe, no '/') and its ``path``."""

    id: str
    path: Path


@dataclass(frozen=True)
class Source:
    """A named, sorted list of photos. ``paired`` is False for real photos (no clean target).
    ``rejected``: (path, reason) of the entries a folder source could not take (see :func:`.inputs.scan`)."""

    kind: str
    root: Path | None
    split: str | None
    items: tuple[SourceItem, ...]
    paired: bool = True
    rejected: tuple[tuple[Path, str], ...] = ()

    def __len__(self) -> int:
        return len(self.items)

    def describe(self) -> dict:
        """JSON-serialisable identity of the source (kind, root, split)."""
        return {"kind": self.kind, "root": str(self.root) if self.root else None, "split": self.split}

    def record(self, path: Path) -> str:
        """How manifests record ``path``: POSIX, relative to ``root`` (builtin: see ``builtin_record``),
        so a dataset's manifest does not depend on where the source lies."""
        return builtin_record(path) if self.root is None else path.relative_to(self.root).as_posix()


def locate(record: str, root: str | Path | None = None) -> Path:
    """The file of a recorded source path: ``root / record``, a builtin photo when ``root`` is None,
    or ``record`` itself when absolute (manifests of format version 1 held absolute paths)."""
    if Path(record).is_absolute():
        return Path(record)
    if root is not None:
        return Path(root).expanduser() / record
    try:
        return locate_builtin_record(record)
    except ValueError as exc:
        raise ValueError(f"{exc}; a path relative to the source root needs the root (the dataset's "
                         "dataset.json: arguments.source.root)") from None


def list_images(root: Path) -> list[Path]:
    """Image files under ``root`` (recursive, hidden files and folders skipped), sorted."""
    return scan(root, hidden=False)[0]


def _relative_items(root: Path, files: list[Path]) -> tuple[SourceItem, ...]:
    """Ids from root-relative paths ('/' becomes '__'); the suffix is kept only where stems clash, and
    an id that still repeats (``a/x.png`` beside ``a__x.png``) gets a suffix (:func:`.inputs.distinct_names`)."""
    stems = [p.relative_to(root).with_suffix("").as_posix() for p in files]
    clashes = {stem for stem, count in Counter(stems).items() if count > 1}
    names = [(f"{stem}{path.suffix.replace('.', '_')}" if stem in clashes else stem).replace("/", "__")
             for path, stem in zip(files, stems, strict=False)]
    items = [SourceItem(name, path)
             for name, path in zip(distinct_names(names, ignore_case=False), files, strict=False)]
    return tuple(sorted(items, key=lambda item: item.id))


def _need_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise SourceError(f"{path}: {what} not found")
    return path


def voc_year_dir(root: Path) -> Path:
    """The ``VOC2012`` folder, given the root at any of its three levels."""
    for candidate in (root, root / "VOC2012", root / "VOCdevkit" / "VOC2012"):
        if (candidate / "JPEGImages").is_dir():
            return candidate
    raise SourceError(f"{root}: no Pascal VOC layout; expected DIR/VOCdevkit/VOC2012/JPEGImages with "
                      "--root DIR, DIR/VOCdevkit or DIR/VOCdevkit/VOC2012")


def _voc(root: Path, split: str | None) -> tuple[SourceItem, ...]:
    year = voc_year_dir(root)
    images = year / "JPEGImages"
    if split is None:
        return _relative_items(images, [p for p in list_images(images) if p.parent == images])
    if split not in VOC_SPLITS:
        raise SourceError(f"voc: unknown split {split!r}; choose one of {', '.join(VOC_SPLITS)}")
    listing = year / "ImageSets" / "Main" / f"{split}.txt"
    if not listing.is_file():
        raise SourceError(f"{listing}: split file not found")
    ids = sorted({line.split()[0] for line in listing.read_text().splitlines() if line.strip()})
    missing = [i for i in ids if not (images / f"{i}.jpg").is_file()]
    if missing:
        raise SourceError(f"{listing}: {len(missing)} listed image(s) missing from {images}, "
                          f"e.g. {missing[0]}.jpg")
    return tuple(SourceItem(i, images / f"{i}.jpg") for i in ids)


def _div2k(root: Path, split: str | None) -> tuple[SourceItem, ...]:
    if split is not None and split not in DIV2K_FOLDERS:
        raise SourceError(f"div2k: unknown split {split!r}; choose train or val")
    wanted = [split] if split else list(DIV2K_FOLDERS)
    folders = [root / DIV2K_FOLDERS[s] for s in wanted if (root / DIV2K_FOLDERS[s]).is_dir()]
    if not folders or (split and len(folders) != 1):
        names = " and/or ".join(DIV2K_FOLDERS[s] for s in wanted)
        raise SourceError(f"{root}: no DIV2K layout; expected {names} inside --root")
    items: list[SourceItem] = []
    for folder in folders:
        items += _relative_items(folder, [p for p in list_images(folder) if p.parent == folder])
    return tuple(sorted(items, key=lambda item: item.id))


def _ffhq(root: Path, split: str | None) -> tuple[SourceItem, ...]:
    images = root if root.name == "images1024x1024" else root / "images1024x1024"
    _need_dir(images, "FFHQ folder images1024x1024 (expected images1024x1024/NNNNN/NNNNN.png)")
    files = sorted(images.glob("*/*.png"))
    if split not in (None, "train", "val"):
        raise SourceError(f"ffhq: unknown split {split!r}; choose train or val")
    items = []
    for path in files:
        if not path.stem.isdigit():
            continue
        is_train = int(path.stem) < FFHQ_TRAIN_COUNT
        if split is None or (split == "train") == is_train:
            items.append(SourceItem(path.stem, path))
    return tuple(sorted(items, key=lambda item: item.id))


SOURCES: Registry[Callable[[str | Path | None, str | None], Source]] = Registry("source", error=UnknownSourceError)


def make_source(kind: str, root: str | Path | None = None, split: str | None = None) -> Source:
    """Build a source of ``kind`` (a name in ``SOURCES``); ``root`` is required except for builtin.

    ``split``: voc train/val/trainval (from ImageSets/Main), div2k and ffhq train/val; None = all.
    """
    return SOURCES.create(kind, root, split)


def root_folder(kind: str, root: str | Path | None) -> Path:
    """The resolved ``--root`` folder of a ``kind`` source (a SourceError when missing or not a folder)."""
    if root is None:
        raise SourceError(f"{kind}: --root is required")
    return _need_dir(Path(root).expanduser().resolve(), f"{kind} root folder")


@SOURCES.register("builtin")
def _builtin(root: str | Path | None, split: str | None) -> Source:
    """Photos shipped in the scikit-image and matplotlib wheels (no --root, no --split)."""
    if root is not None or split is not None:
        raise SourceError("builtin: takes no --root and no --split")
    items = tuple(SourceItem(name, path) for name, path in builtin_paths().items())
    return Source("builtin", None, None, items)


def _scanned(kind: str, root: str | Path | None, split: str | None) -> Source:
    """Every image under ``root`` (recursive); ``real`` photos have no clean target."""
    root_path = root_folder(kind, root)
    if split is not None:
        raise SourceError(f"{kind}: takes no --split")
    files, rejected = scan(root_path, hidden=False)
    return Source(kind, root_path, split, _relative_items(root_path, files), kind != "real", tuple(rejected))


def _laid_out(kind: str, items: Callable[[Path, str | None], tuple[SourceItem, ...]], root: str | Path | None,
              split: str | None) -> Source:
    """A published dataset under ``root``, its ``items`` listed from its own layout and split."""
    root_path = root_folder(kind, root)
    return Source(kind, root_path, split, items(root_path, split))


SOURCES.register("folder", partial(_scanned, "folder"), description="Every image under --root (recursive)")
SOURCES.register("real", partial(_scanned, "real"),
                 description="Real old photos under --root (recursive; unpaired: no clean target)")
SOURCES.register("voc", partial(_laid_out, "voc", _voc),
                 description="Pascal VOC 2012 JPEGImages; --split train, val or trainval")
SOURCES.register("div2k", partial(_laid_out, "div2k", _div2k),
                 description="DIV2K high-resolution photos; --split train or val")
SOURCES.register("ffhq", partial(_laid_out, "ffhq", _ffhq),
                 description="FFHQ 1024 px faces (images1024x1024); --split train or val")
