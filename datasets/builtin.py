"""The embedded default images: real photos shipped inside the scikit-image (and matplotlib) wheels.

Files are located on disk; no scikit-image loader is called, so nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SKIMAGE_FILES = {
    "astronaut": "astronaut.png",
    "camera": "camera.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "motorcycle_left": "motorcycle_left.png",
    "motorcycle_right": "motorcycle_right.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "retina": "retina.jpg",
    "coins": "coins.png",
    "moon": "moon.png",
    "clock_motion": "clock_motion.png",
    "immunohistochemistry": "ihc.png",
}


BUILTIN_PACKAGES = ("skimage", "matplotlib")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def builtin_paths() -> dict[str, Path]:
    """Name -> file path of every embedded photo present on this machine (sorted by name).

    scikit-image's photos are required; matplotlib's ``grace_hopper`` is added when installed.
    """
    data_dir = _package_dir("skimage")
    if data_dir is None:
        raise FileNotFoundError("scikit-image is not installed: the builtin photos come from its wheel")
    paths = {name: data_dir / "data" / fname for name, fname in SKIMAGE_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"builtin photos missing from the scikit-image install: {missing}")
    mpl = _package_dir("matplotlib")
    if mpl is not None and (mpl / "mpl-data" / "sample_data" / "grace_hopper.jpg").is_file():
        paths["grace_hopper"] = mpl / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    return dict(sorted(paths.items()))


def builtin_record(path: Path) -> str:
    """``path`` of a builtin photo as recorded in manifests: POSIX, relative to the folder holding
    its package (``skimage/data/astronaut.png``), so the record is the same on every machine."""
    for name in BUILTIN_PACKAGES:
        package = _package_dir(name)
        if package is not None and path.is_relative_to(package):
            return (Path(name) / path.relative_to(package)).as_posix()
    raise ValueError(f"{path}: not inside the {' or '.join(BUILTIN_PACKAGES)} package")


def locate_builtin_record(record: str) -> Path:
    """The file on this machine of a :func:`builtin_record` (ValueError if ``record`` is not one)."""
    name, _, rest = record.partition("/")
    package = _package_dir(name) if name in BUILTIN_PACKAGES and rest else None
    if package is None:
        raise ValueError(f"{record}: not the path of a builtin photo on this machine "
                         f"({' or '.join(n + '/...' for n in BUILTIN_PACKAGES)})")
    return package / rest
