"""``--download`` for the voc and div2k sources: official archives, size + SHA-256 checked, resumable.

A download goes to ``ROOT/NAME.part`` and continues from its length with an HTTP Range request
after an interruption; the finished file is verified, renamed to ``ROOT/NAME`` and extracted in
ROOT. Archives already present (placed by hand) are verified and extracted without the network.
Checksums: as published with the archives and recorded by TensorFlow Datasets' url_checksums.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from oldphoto.infra.files import file_sha256

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """An archive could not be fetched or verified; the message says where to put it by hand."""


@dataclass(frozen=True)
class Archive:
    """One official archive: file name, mirror URLs (official first), size in bytes, SHA-256,
    the folder it creates inside the root, and the split it holds (None = all)."""

    name: str
    urls: tuple[str, ...]
    size: int
    sha256: str
    creates: str
    split: str | None = None


ARCHIVES = {
    "voc": (Archive("VOCtrainval_11-May-2012.tar",
                    ("http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
                     "http://pjreddie.com/media/files/VOCtrainval_11-May-2012.tar"),
                    1999639040, "e14f763270cf193d0b5f74b169f44157a4b0c6efa708f4dd0ff78ee691763bcb",
                    "VOCdevkit/VOC2012/JPEGImages"),),
    "div2k": (Archive("DIV2K_train_HR.zip", ("https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_train_HR.zip",),
                      3530603713, "9d0b9c463f6e35b6c62cc6a930ee2224f670b34c1df841a57670f9acf0f6c335",
                      "DIV2K_train_HR", "train"),
              Archive("DIV2K_valid_HR.zip", ("https://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip",),
                      448993893, "20dd31fd84d777bc1cf5d6b7654a3f569c0aec74458ae094122ad1d0489900fc",
                      "DIV2K_valid_HR", "val")),
}


def _verified(path: Path, archive: Archive) -> bool:
    return path.is_file() and path.stat().st_size == archive.size and file_sha256(path) == archive.sha256


def _fetch_url(url: str, part: Path, archive: Archive, timeout: float, progress: bool) -> None:
    """Append the missing bytes of ``url`` to ``part`` (Range request when it already holds some)."""
    have = part.stat().st_size if part.is_file() else 0
    if have > archive.size:
        part.unlink()
        have = 0
    if have == archive.size:
        return
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if have and response.status != 206:  # the server ignored the range: start over
            have = 0
        from tqdm import tqdm

        with open(part, "ab" if have else "wb") as f, tqdm(total=archive.size, initial=have, unit="B",
                                                           unit_scale=True, desc=archive.name,
                                                           disable=not progress) as bar:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                bar.update(len(chunk))


def fetch(archive: Archive, root: Path, timeout: float = 15.0, progress: bool = True) -> Path:
    """Make ``root/archive.name`` exist and verified, downloading (resumably) when needed."""
    dest = root / archive.name
    if _verified(dest, archive):
        return dest
    part = root / f"{archive.name}.part"
    errors = []
    for url in archive.urls:
        try:
            _fetch_url(url, part, archive, timeout, progress)
        except (urllib.error.URLError, OSError) as exc:
            errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
            continue
        if _verified(part, archive):
            os.replace(part, dest)
            return dest
        part.unlink()
        errors.append(f"{url}: size or SHA-256 mismatch (deleted)")
    raise DownloadError(
        f"cannot download {archive.name} ({'; '.join(errors)}). Without network access, download "
        f"{archive.urls[0]} elsewhere and put it at {dest} (size {archive.size} bytes, SHA-256 "
        f"{archive.sha256}), or extract it so that {root / archive.creates} exists; then rerun.")


def _merge(src: Path, dst: Path) -> None:
    """Move the tree ``src`` into ``dst``, keeping what ``dst`` already holds."""
    if not dst.exists():
        os.replace(src, dst)
        return
    if src.is_dir() and dst.is_dir():
        for child in src.iterdir():
            _merge(child, dst / child.name)


def _unpack(path: Path, folder: str) -> None:
    """Unpack the tar or zip archive ``path`` into ``folder``; DownloadError for a zip member that
    would land outside it (tar members are checked by tarfile's ``data`` filter)."""
    if not zipfile.is_zipfile(path):
        with tarfile.open(path) as tf:
            tf.extractall(folder, filter="data")
        return
    with zipfile.ZipFile(path) as zf:
        unsafe = [name for name in zf.namelist() if name.startswith("/") or ".." in Path(name).parts]
        if unsafe:
            raise DownloadError(f"{path}: unsafe member path {unsafe[0]!r}")
        zf.extractall(folder)


def extract(path: Path, root: Path) -> None:
    """Unpack a tar or zip archive into ``root`` (via a temp folder; no path escapes the root)."""
    with tempfile.TemporaryDirectory(dir=root, prefix=".extract-") as tmp:
        _unpack(path, tmp)
        for child in Path(tmp).iterdir():
            _merge(child, root / child.name)


def ensure_downloaded(kind: str, root: str | os.PathLike, split: str | None = None, timeout: float = 15.0,
                      progress: bool = True) -> Path:
    """Fetch and extract the archives ``kind`` (voc or div2k) needs for ``split`` into ``root``."""
    if kind not in ARCHIVES:
        raise DownloadError(f"--download is available for {', '.join(ARCHIVES)}, not {kind!r}")
    root = Path(root).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    for archive in ARCHIVES[kind]:
        if archive.split is not None and split is not None and archive.split != split:
            continue
        if (root / archive.creates).is_dir():
            continue
        extract(fetch(archive, root, timeout, progress), root)
        if not (root / archive.creates).is_dir():
            raise DownloadError(f"{root / archive.name}: extracted, but {root / archive.creates} is missing")
    return root


__all__ = ["ARCHIVES", "Archive", "DownloadError", "ensure_downloaded", "extract", "fetch"]
