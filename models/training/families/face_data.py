"""Training faces: aligned crops with on-the-fly flips, small similarity jitter and degradations.

Where faces come from (``face_sources``):
- FFHQ (``images1024x1024/NNNNN/NNNNN.png``) and CelebA-HQ (``CelebA-HQ-img/*.jpg``,
  ``data1024x1024/*``, or ``celeba_hq/{train,val}/{female,male}/*``): already aligned, resized;
- ``builtin`` or any other folder: every photo is searched with the MTCNN detector and each face
  found (score >= threshold, box side >= ``min_face``) is aligned to the FFHQ-style template.

Item ``i`` is sample ``i % per_image`` of face ``i // per_image``; its flip, jitter and degradation
are drawn from a seed that depends only on (run seed, face id, sample index), so items are the
same in every worker and on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from oldphoto import degrade
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import ImageReadError, read_rgb
from oldphoto.datasets.sources import list_images, make_source
from oldphoto.datasets.synthesize import sample_seed
from oldphoto.datasets.torch import to_tensor
from oldphoto.models.face.align import compose, similarity_transform, template, warp_to_template
from oldphoto.models.face.detect import DetectorConfig, FaceDetector

CELEBA_HQ_FOLDERS = ("CelebA-HQ-img", "data1024x1024", "celeba_hq")
CACHE_PHOTOS = 64
JITTER = {"scale": 0.05, "angle_deg": 5.0, "shift": 0.03}  # uniform +- ranges (shift: fraction of the side)


@dataclass(frozen=True)
class FaceRecord:
    """One training face: stable ``id``, the photo's ``path`` and the 5 landmarks (None when the
    photo is an aligned FFHQ / CelebA-HQ crop, which is used whole)."""

    id: str
    path: Path
    landmarks: np.ndarray | None = None


def aligned_layout(root: Path) -> str | None:
    """"ffhq" or "celeba-hq" when ``root`` holds one of those aligned layouts, else None."""
    if root.name == "images1024x1024" or (root / "images1024x1024").is_dir():
        return "ffhq"
    if root.name in CELEBA_HQ_FOLDERS or any((root / name).is_dir() for name in CELEBA_HQ_FOLDERS):
        return "celeba-hq"
    return None


def _celeba_hq_records(root: Path) -> list[FaceRecord]:
    folder = (root if root.name in CELEBA_HQ_FOLDERS
              else next(root / n for n in CELEBA_HQ_FOLDERS if (root / n).is_dir()))
    files = list_images(folder)
    if not files:
        raise ValueError(f"{folder}: CelebA-HQ folder without images")
    return [FaceRecord(p.relative_to(folder).with_suffix("").as_posix().replace("/", "__"), p) for p in files]


def detect_records(photos: list[tuple[str, Path]], detector_config: DetectorConfig,
                   min_face: int) -> tuple[list[FaceRecord], list[str]]:
    """Faces found in ``photos`` (id, path) with the detector; returns (records, notes on photos
    that gave none or could not be read)."""
    detector = FaceDetector(detector_config, device="cpu")
    records, notes = [], []
    for photo_id, path in photos:
        try:
            image = read_rgb(path)
        except ImageReadError as exc:
            notes.append(f"{photo_id}: unreadable ({exc})")
            continue
        faces = [f for f in detector(image) if min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= min_face]
        if not faces:
            notes.append(f"{photo_id}: no face of at least {min_face} px")
        records += [FaceRecord(f"{photo_id}-face{k}", path, f.landmarks) for k, f in enumerate(faces)]
    return records, notes


def face_sources(source: str, detector_config: DetectorConfig | None = None,
                 min_face: int = 64) -> tuple[list[FaceRecord], list[str]]:
    """Training faces of ``source`` ("builtin" or a folder; see the module notes) and notes on
    photos that gave no face. An empty result is a ValueError naming the source."""
    detector_config = detector_config or DetectorConfig()
    if source == "builtin":
        records, notes = detect_records(sorted(builtin_paths().items()), detector_config, min_face)
    else:
        root = Path(source).expanduser()
        if not root.is_dir():
            raise ValueError(f"--source {source}: not 'builtin' and not a folder")
        layout = aligned_layout(root)
        if layout == "ffhq":
            records, notes = [FaceRecord(i.id, i.path) for i in make_source("ffhq", root).items], []
        elif layout == "celeba-hq":
            records, notes = _celeba_hq_records(root), []
        else:
            items = make_source("folder", root).items
            records, notes = detect_records([(i.id, i.path) for i in items], detector_config, min_face)
    if not records:
        raise ValueError(f"--source {source}: no training face found ({'; '.join(notes[:3]) or 'no images'})")
    return records, notes


def jitter_matrix(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random similarity about the crop centre (scale, rotation, shift within JITTER), 2x3."""
    scale = 1.0 + rng.uniform(-JITTER["scale"], JITTER["scale"])
    angle = np.deg2rad(rng.uniform(-JITTER["angle_deg"], JITTER["angle_deg"]))
    shift = rng.uniform(-JITTER["shift"], JITTER["shift"], 2) * size
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = np.array([size / 2 - 0.5, size / 2 - 0.5])
    return np.hstack([linear, (centre + shift - linear @ centre)[:, None]])


class FaceDataset(Dataset):
    """Aligned ``size`` px faces of ``records``, ``per_image`` augmented and degraded samples each.

    Items: ``id``, ``clean`` and ``degraded`` (float32 3 x size x size in [0, 1]). ``clean`` is the
    preset's target (so a target-wide greyscale step applies to both).
    """

    def __init__(self, records: list[FaceRecord], size: int, preset: str | degrade.Pipeline, seed: int,
                 per_image: int = 64) -> None:
        if not records:
            raise ValueError("FaceDataset: no faces")
        self.records, self.size, self.seed, self.per_image = list(records), int(size), int(seed), int(per_image)
        self.pipeline = degrade.preset(preset) if isinstance(preset, str) else preset
        # a handful of photos (the builtin set) is decoded once; large sets are read per item
        self._cache: dict[Path, np.ndarray] | None = {} if len({r.path for r in records}) <= CACHE_PHOTOS else None

    def __len__(self) -> int:
        return len(self.records) * self.per_image

    def _photo(self, path: Path) -> np.ndarray:
        if self._cache is None:
            return read_rgb(path)
        if path not in self._cache:
            self._cache[path] = read_rgb(path)
        return self._cache[path]

    def base_matrix(self, record: FaceRecord, shape: tuple[int, int]) -> np.ndarray:
        """Photo -> aligned crop: the landmark fit, or a plain resize of an aligned photo."""
        if record.landmarks is not None:
            return similarity_transform(record.landmarks, template(self.size))
        height, width = shape
        return np.array([[self.size / width, 0, 0.5 * self.size / width - 0.5],
                         [0, self.size / height, 0.5 * self.size / height - 0.5]])

    def __getitem__(self, index: int) -> dict:
        record = self.records[index // self.per_image]
        seed = sample_seed(self.seed, record.id, index % self.per_image)
        rng = np.random.default_rng(seed)
        photo = self._photo(record.path)
        jitter = jitter_matrix(rng, self.size)
        base = self.base_matrix(record, photo.shape[:2])
        face = warp_to_template(photo, compose(jitter, base), self.size)
        if rng.random() < 0.5:
            face = np.ascontiguousarray(face[:, ::-1])
        result = self.pipeline(face, seed=seed)
        return {"id": f"{record.id}-{index % self.per_image}", "clean": to_tensor(result.target),
                "degraded": to_tensor(result.image)}
