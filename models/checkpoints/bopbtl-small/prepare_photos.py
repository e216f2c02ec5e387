"""Photos of the shipped bopbtl-small checkpoints (run by train.sh; writes nothing in the repository).

Usage: python prepare_photos.py DEB_ROOT WORK
DEB_ROOT: the tree Debian's ``mate-backgrounds`` and ``opencv-doc`` packages were unpacked into
(``dpkg -x``). Writes under WORK:
- ``photos/``: the training photos, the builtin set (scikit-image / matplotlib wheels) and the
  ``mate-backgrounds`` nature photos, as PNG scaled to a long side of at most 768 px;
- ``heldout-src/``: the held-out photos (``opencv-doc`` examples no stage trains on), unchanged;
- ``photos.tsv`` and ``heldout.tsv``: name, origin and size of each photo (for the model cards).
"""

import shutil
import sys
from pathlib import Path

import cv2

from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb, write_image

LONG_SIDE = 768
MATE_NATURE = "usr/share/backgrounds/mate/nature"
OPENCV_DATA = "usr/share/doc/opencv-doc/examples/data"
HELDOUT = ("aero1.jpg", "apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg", "ela_original.jpg",
           "fruits.jpg", "home.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg")


def wheel_origin(path: Path) -> str:
    """``package/relative/path`` of a file inside site-packages."""
    parts = path.parts
    return "/".join(parts[parts.index("site-packages") + 1:])


def size(image) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


def main(deb_root: str, work: str) -> None:
    root, out = Path(deb_root), Path(work)
    photos = {f"builtin__{name}": (path, wheel_origin(path)) for name, path in builtin_paths().items()}
    photos.update({f"mate__{p.stem}": (p, f"mate-backgrounds:/{MATE_NATURE}/{p.name}")
                   for p in sorted((root / MATE_NATURE).glob("*.jpg"))})
    rows = []
    for name, (path, origin) in photos.items():
        image = read_rgb(path)
        scale = LONG_SIDE / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        write_image(out / "photos" / f"{name}.png", image)
        rows.append(f"{name}\t{origin}\t{size(image)}")
    (out / "photos.tsv").write_text("\n".join(rows) + "\n")
    (out / "heldout-src").mkdir(parents=True, exist_ok=True)
    rows = []
    for filename in HELDOUT:
        source = root / OPENCV_DATA / filename
        shutil.copyfile(source, out / "heldout-src" / filename)
        rows.append(f"{Path(filename).stem}\topencv-doc:/{OPENCV_DATA}/{filename}\t{size(read_rgb(source))}")
    (out / "heldout.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
