"""Photos of the shipped bopbtl-small checkpoints (run by train.sh; writes nothing in the repository).

Usage: python prepare_photos.py DEB_ROOT WORK
DEB_ROOT: the tree the Debian packages named in train.sh were unpacked into (``dpkg -x``). Writes
under WORK:
- ``photos/``: the training photos as PNG scaled to a long side of at most 768 px: the builtin set
  (scikit-image / matplotlib wheels), the nature photos of ``mate-backgrounds``, the photographs
  (not the drawings) of ``plasma-workspace-wallpapers`` and ``lomiri-wallpapers-*``, and the animal,
  monument, fish, object and tool photos inside ``gcompris-qt-data``'s Qt resource bundles;
- ``heldout-src/``: the held-out colour photos (``opencv-doc`` examples no stage trains on), unchanged;
- ``heldout-grey-src/``: the held-out grey photos: other ``opencv-doc`` examples, the grey ones
  unchanged and the colour ones turned grey (BT.601 luma, as PNG), none of them in any other set;
- ``photos.tsv``, ``heldout.tsv`` and ``heldout-grey.tsv``: name, origin and size of each photo (for
  the model cards).
A photo listed here but missing from the packages stops the script with its name.
"""

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
from qt_resources import rcc_files

from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb, write_image

LONG_SIDE = 768
MATE_NATURE = "usr/share/backgrounds/mate/nature"
OPENCV_DATA = "usr/share/doc/opencv-doc/examples/data"
HELDOUT = ("aero1.jpg", "apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg", "ela_original.jpg",
           "fruits.jpg", "home.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg", "squirrel_cls.jpg")
HELDOUT_GREY = ("basketball1.png", "box_in_scene.png", "left01.jpg", "right07.jpg", "aero3.jpg", "graf1.png",
                "leuvenB.jpg", "stuff.jpg", "board.jpg", "rubberwhale1.png", "left.jpg", "pic1.png")
PLASMA = "usr/share/wallpapers"
PLASMA_PHOTOS = ("BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
                 "Kite", "OneStandsOut", "Path", "Volna", "summer_1am")
LOMIRI = "usr/share/backgrounds"
LOMIRI_PHOTOS = ("Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace",
                 "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi",
                 "friends_by_Aitzol_Berasategi", "life_by_Aitzol_Berasategi", "picosdeeuropa_by_Aitzol_Berasategi",
                 "seeding_by_Clements_Engelhardt", "sunset_by_Aitzol_Berasategi", "Kleiber_by_Lukas_Baubkus")
GCOMPRIS = "usr/share/gcompris-qt/rcc"
GCOMPRIS_PHOTOS = {  # bundle: (resource folders holding photos only, number of photos expected)
    "erase": (("erase/resource/",), 33),
    "explore_farm_animals": (("explore_farm_animals/resource/animals/",), 9),
    "explore_world_animals": (("explore_world_animals/resource/animals/",), 15),
    "explore_monuments": (("explore_monuments/resource/",), 49),
    "categorization": (tuple(f"categorization/resource/images/{kind}/"
                             for kind in ("fishes", "monuments", "others", "renewable", "tools")), 140),
}
ACTIVITIES = "gcompris/src/activities/"


def wheel_origin(path: Path) -> str:
    """``package/relative/path`` of a file inside site-packages."""
    parts = path.parts
    return "/".join(parts[parts.index("site-packages") + 1:])


def size(image) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


def largest(folder: Path) -> Path:
    """The biggest of a Plasma wallpaper's renditions (files named WIDTHxHEIGHT.ext)."""
    def area(path: Path) -> int:
        width, height = path.stem.split("x")
        return int(width) * int(height)
    return max(folder.glob("*.*"), key=area)


def package_photos(root: Path) -> Iterator[tuple[str, str, Path, bytes | None]]:
    """(name, origin, path, bytes or None to read the path) of each photo taken from the packages."""
    for path in sorted((root / MATE_NATURE).glob("*.jpg")):
        yield f"mate__{path.stem}", f"mate-backgrounds:/{MATE_NATURE}/{path.name}", path, None
    for wallpaper in PLASMA_PHOTOS:
        path = largest(root / PLASMA / wallpaper / "contents/images")
        yield f"plasma__{wallpaper}", f"plasma-workspace-wallpapers:/{path.relative_to(root)}", path, None
    for stem in LOMIRI_PHOTOS:
        (path,) = (root / LOMIRI).glob(f"{stem}.jpg")
        package = "lomiri-wallpapers-20.04" if stem.startswith("Kleiber") else "lomiri-wallpapers-16.04"
        yield f"lomiri__{stem}", f"{package}:/{path.relative_to(root)}", path, None
    for bundle, (folders, expected) in GCOMPRIS_PHOTOS.items():
        rcc = root / GCOMPRIS / f"{bundle}.rcc"
        found = [(name, data) for name, data in rcc_files(rcc)
                 if name.endswith(".webp") and name.removeprefix(ACTIVITIES).startswith(folders)]
        if len(found) != expected:
            raise SystemExit(f"{rcc}: {len(found)} photos in {folders}, expected {expected}")
        for name, data in found:
            stem = name.removeprefix(ACTIVITIES).replace("/resource", "").replace("/", "_").removesuffix(".webp")
            yield f"gcompris__{stem}", f"gcompris-qt-data:/{GCOMPRIS}/{bundle}.rcc:/{name}", rcc, data


def main(deb_root: str, work: str) -> None:
    root, out = Path(deb_root), Path(work)
    photos = [(f"builtin__{name}", wheel_origin(path), path, None) for name, path in builtin_paths().items()]
    rows = []
    for name, origin, path, data in photos + list(package_photos(root)):
        image = read_rgb(path, data=data)
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
    rows = []
    for filename in HELDOUT_GREY:
        source = root / OPENCV_DATA / filename
        grey = cv2.cvtColor(read_rgb(source), cv2.COLOR_RGB2GRAY)
        write_image(out / "heldout-grey-src" / f"{Path(filename).stem}.png", grey)
        rows.append(f"{Path(filename).stem}\topencv-doc:/{OPENCV_DATA}/{filename} (grey)\t{size(grey)}")
    (out / "heldout-grey.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
