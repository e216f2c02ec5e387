"""Training photos of the shipped bopbtl-small checkpoints (run by train.sh; writes nothing in the repository).

Usage: python prepare_photos.py MATE_ROOT OUT_DIR
MATE_ROOT: the tree unpacked from Debian's mate-backgrounds package (``dpkg -x``); its
``usr/share/backgrounds/mate/nature/*.jpg`` photos are scaled to a long side of at most 768 px and
written beside the builtin photos (scikit-image / matplotlib wheels) as PNG into OUT_DIR.
"""

import sys
from pathlib import Path

import cv2

from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb, write_image

LONG_SIDE = 768


def main(mate_root: str, out_dir: str) -> None:
    out = Path(out_dir)
    photos = {f"builtin__{name}": path for name, path in builtin_paths().items()}
    nature = Path(mate_root) / "usr/share/backgrounds/mate/nature"
    photos.update({f"mate__{path.stem}": path for path in sorted(nature.glob("*.jpg"))})
    for name, path in photos.items():
        image = read_rgb(path)
        scale = LONG_SIDE / max(image.shape[:2])
        if scale < 1:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        write_image(out / f"{name}.png", image)
        print(f"{name}\t{path}\t{image.shape[1]}x{image.shape[0]}")


if __name__ == "__main__":
    main(*sys.argv[1:])
