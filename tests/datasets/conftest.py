"""Fixtures for the dataset tests: small photo folders, a VOC tree and deliberately bad files."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image


def make_photo(seed: int, height: int, width: int) -> np.ndarray:
    """A smooth random uint8 RGB 'photo' (low-resolution noise scaled up)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def save(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def add_big_photos(root: Path, count: int) -> None:
    """``count`` 1600 px photos named ``zbig*`` (last in id order): each keeps a worker busy for a while."""
    for i in range(count):
        Image.fromarray(make_photo(i, 1600, 1600)).save(root / f"zbig{i}.png", compress_level=1)


def kill_mid_run(args: list[str], journal: Path) -> None:
    """Start ``python -m oldphoto ARGS`` in its own session and SIGKILL it (and its workers) once
    ``journal`` has its first line; asserts the run was cut short (no manifest written yet)."""
    proc = subprocess.Popen([sys.executable, "-m", "oldphoto", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (journal.is_file() and journal.stat().st_size > 0) and time.monotonic() < deadline:
        time.sleep(0.002)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert journal.stat().st_size > 0 and not (journal.parent / "manifest.csv").exists(), "not killed mid-run"


@pytest.fixture
def photos(tmp_path) -> Path:
    """A folder tree of 6 small photos (one in a subfolder, one JPEG)."""
    root = tmp_path / "photos"
    for i in range(5):
        save(root / f"p{i}.png", make_photo(i, 80 + 4 * i, 96))
    save(root / "sub" / "q.jpg", make_photo(9, 90, 100))
    return root


@pytest.fixture
def voc_root(tmp_path) -> Path:
    """DIR/VOCdevkit/VOC2012 with 5 JPEGs (one of them 40 px tall) and train/val split files."""
    year = tmp_path / "voc" / "VOCdevkit" / "VOC2012"
    ids = [f"2008_00000{i}" for i in range(5)]
    for i, name in enumerate(ids):
        save(year / "JPEGImages" / f"{name}.jpg", make_photo(i, 40 if i == 4 else 72, 88))
    main = year / "ImageSets" / "Main"
    main.mkdir(parents=True)
    (main / "train.txt").write_text("\n".join(ids[:3]) + "\n")
    (main / "val.txt").write_text("\n".join(ids[3:]) + "\n")
    (main / "trainval.txt").write_text("\n".join(ids) + "\n")
    return tmp_path / "voc"


@pytest.fixture
def helpers():
    """The helpers above for test modules (conftest is not importable by name)."""
    return SimpleNamespace(make_photo=make_photo, save=save, tree_digest=tree_digest, add_big_photos=add_big_photos,
                           kill_mid_run=kill_mid_run)
