"""The main job on the embedded default photos: what `make demo` runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2

from oldphoto import degrade
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.degrade.gallery import contact_sheet, pipeline_rows

GALLERY_PHOTOS = ("astronaut", "chelsea", "coffee")


def _gallery_images(names=GALLERY_PHOTOS, side: int = 256) -> dict:
    paths = builtin_paths()
    images = {}
    for name in names:
        image = read_rgb(paths[name])
        s = side / min(image.shape[:2])
        images[name] = cv2.resize(image, (round(image.shape[1] * s), round(image.shape[0] * s)),
                                  interpolation=cv2.INTER_AREA)
    return images


def preset_gallery(out: Path, seed: int = 0) -> None:
    """Contact sheet of every preset on a few builtin photos (clean | degraded | mask overlay)."""
    images = _gallery_images()
    rows = []
    for name in degrade.list_presets():
        rows += pipeline_rows(degrade.preset(name), images, seed=seed)
    write_image(out, contact_sheet(rows))


def run_demo(out: Path, seed: int = 0) -> Iterator[str]:
    """Degrade every builtin photo with every preset; write the outputs and a contact sheet."""
    paths = builtin_paths()
    yield f"{len(paths)} builtin photos, presets: {', '.join(degrade.list_presets())}"
    for name in degrade.list_presets():
        pipe = degrade.preset(name)
        for k, (stem, path) in enumerate(paths.items()):
            res = pipe(read_rgb(path), seed=seed + k)
            write_image(out / "degraded" / name / f"{stem}.png", res.image)
        yield f"  {name}: {len(paths)} images -> {out / 'degraded' / name}"
    preset_gallery(out / "gallery.png", seed=seed)
    yield f"contact sheet: {out / 'gallery.png'}"
