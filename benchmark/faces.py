"""Face benchmark (``oldphoto benchmark --faces``): paired metrics on aligned face crops.

Faces are found once per sample by MTCNN on the CLEAN image (always on CPU, so the face set does
not depend on the machine) and cached in ``OUT/faces/detections/ID.json`` (reused while the clean
file and the detector config are unchanged). Each face's similarity transform (its 5 landmarks to
the FFHQ-style template, :mod:`oldphoto.models.face.align`) warps the clean image and every model's
restored image (for ``input``, the degraded photo itself) to the same ``FACE_SIZE`` px crop, and
the per-image metrics that need a reference (psnr, ssim, lpips, ...) compare the two crops.

The face set is a dataset of its own, ``<dataset>-faces``, whose samples are the faces
(``<sample>-face<k>``, k in order of MTCNN score), so face numbers get their own protocol, summary
rows (``n`` = faces), leaderboard table and report section. Crops are saved for the report:
``OUT/faces/inputs/{clean,degraded}/FACE.png`` and ``OUT/faces/images/MODEL/FACE.png``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.models.face.align import similarity_transform, template, warp_to_template
from oldphoto.models.face.detect import DetectorConfig, Face, FaceDetector

from . import rundir
from .data import BenchData, BenchSample, digest
from .rundir import ModelStatus, restored_path
from .scoring import MetricFailures, MetricSet, mean_std, score_one

FACE_SIZE = 256
SUFFIX = "-faces"
FACES_DIR = "faces"


def detection_path(out: Path, sample_id: str) -> Path:
    """The cached MTCNN detections of one sample's clean image."""
    return Path(out) / FACES_DIR / "detections" / f"{sample_id}.json"


def input_crop_path(out: Path, kind: str, face_id: str) -> Path:
    """Aligned crop of the ``kind`` ("clean" or "degraded") image of a face."""
    return Path(out) / FACES_DIR / "inputs" / kind / f"{face_id}.png"


def face_crop_path(out: Path, model: str, face_id: str) -> Path:
    """Aligned crop of ``model``'s restored image for a face (what the report shows)."""
    return Path(out) / FACES_DIR / rundir.IMAGES / model / f"{face_id}.png"


@dataclass
class FaceRun:
    """What the face benchmark adds to a run: its dataset (None when no face was found), summary
    rows, models.csv rows and the ``faces`` entry of run.json."""

    data: BenchData | None
    summary: list[dict] = field(default_factory=list)
    statuses: list[ModelStatus] = field(default_factory=list)
    info: dict = field(default_factory=dict)


def detect_clean_faces(samples: list[BenchSample], out: Path,
                       config: DetectorConfig) -> tuple[dict[str, list[Face]], int]:
    """Faces of each sample's clean image, from the cache when its clean-file hash and detector
    config match, else by MTCNN on CPU (then cached). Returns (sample id -> faces, number detected now)."""
    detector = None
    found, detected = {}, 0
    for sample in samples:
        path = detection_path(out, sample.id)
        sha = hashlib.sha256(sample.clean.read_bytes()).hexdigest()
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            record = None
        if record is None or record.get("clean_sha256") != sha or record.get("detector") != asdict(config):
            if detector is None:
                detector = FaceDetector(config, device="cpu")
            faces = detector(read_rgb(sample.clean))
            record = {"clean_sha256": sha, "detector": asdict(config),
                      "faces": [{"box": list(f.box), "landmarks": f.landmarks.tolist(), "score": f.score}
                                for f in faces]}
            rundir.write_json(path, record)
            detected += 1
        found[sample.id] = [Face(tuple(f["box"]), np.asarray(f["landmarks"], np.float64), f["score"])
                            for f in record["faces"]]
    return found, detected


def _face_data(paired: BenchData, out: Path, faces: dict[str, list[Face]], config: DetectorConfig) -> BenchData:
    samples = [BenchSample(f"{sid}-face{k}", input_crop_path(out, "degraded", f"{sid}-face{k}"),
                           input_crop_path(out, "clean", f"{sid}-face{k}")) for sid, found in faces.items()
               for k in range(len(found))]
    with_faces = sum(1 for found in faces.values() if found)
    description = (f"{len(samples)} aligned {FACE_SIZE} px face crops from MTCNN on the clean image (threshold "
                   f"{config.threshold}, min face {config.min_face_size} px; FFHQ 5-point template, one similarity "
                   f"transform per face applied to the clean and the restored image) in {with_faces} of the "
                   f"{len(paired.samples)} samples of: {paired.description}")
    boxes = [[s.id, [round(v) for v in face.box]] for s, face in
             zip(samples, (face for found in faces.values() for face in found), strict=False)]
    identity = {**paired.identity, "kind": "faces", "faces": {"detector": asdict(config), "size": FACE_SIZE,
                                                               "template": "ffhq-5pt"},
                "n": len(samples), "samples": digest(boxes)[:12]}
    return BenchData(paired.name + SUFFIX, False, paired.root, samples, description, identity)


@dataclass
class AlignedFaces:
    """The faces of a dataset: their dataset, each sample's alignment matrices (in face order) and the
    aligned clean crops by face id."""

    data: BenchData
    matrices: dict[str, list[np.ndarray]]
    clean: dict[str, np.ndarray]


def benchmark_faces(paired: BenchData, out: Path, statuses: list[ModelStatus], metric_set: MetricSet, mask: str,
                    rows: dict, failures: MetricFailures, log: Callable[[str], None] = print,
                    config: DetectorConfig | None = None) -> FaceRun:
    """Score the faces of ``paired`` for every model of ``statuses`` that restored it.

    ``rows`` (the run's per-image rows, keyed (model, dataset, sample)) gets this run's face rows in
    place of earlier ones for the same models. A model that failed on ``paired`` gets the same status
    on the face set and no rows. No face in the whole dataset (or no reference metric) is logged
    and recorded in the returned ``info``; nothing else is added.
    """
    config = config or DetectorConfig()
    name = paired.name + SUFFIX
    metrics = {n: m for n, m in metric_set.metrics.items()
               if m.needs_reference and not getattr(m, "set_level", False) and not getattr(m, "needs_mask", False)}
    faces, detected = detect_clean_faces(paired.samples, out, config)
    total = sum(len(found) for found in faces.values())
    info = {"dataset": name, "faces": total, "samples_with_faces": sum(1 for f in faces.values() if f),
            "detections_run": detected, "detections_cached": len(paired.samples) - detected, "message": ""}
    log(f"faces: {total} face(s) in {info['samples_with_faces']} of {len(paired.samples)} clean images of "
        f"{paired.name} ({detected} detected now, {info['detections_cached']} from the cache)")
    if total == 0 or not metrics:
        info["message"] = (f"no face found by MTCNN in the {len(paired.samples)} clean images of {paired.name}"
                           if total == 0 else "none of --metrics compares with a reference (e.g. psnr, ssim, lpips)")
        log(f"faces: {info['message']}: no face rows written")
        return FaceRun(None, info=info)
    aligned = _align_inputs(paired, out, faces, config)
    run = FaceRun(aligned.data, info=info)
    for parent in (s for s in statuses if s.dataset == paired.name):
        status = replace(parent, dataset=name, samples=0)
        run.statuses.append(status)
        for key in [k for k in rows if k[0] == parent.model and k[1] == name]:
            del rows[key]
        if parent.status != "ok":
            continue
        status.samples = _score_model(out, parent, aligned, metrics, mask, failures, rows)
        run.summary += _summary_rows(parent.model, aligned.data, metrics, rows)
        log(f"{parent.model} on {name}: {status.samples} faces")
    return run


def _align_inputs(paired: BenchData, out: Path, faces: dict[str, list[Face]], config: DetectorConfig) -> AlignedFaces:
    """Align every face of ``paired``: its matrix, and its clean and degraded crops (saved for the report)."""
    matrices = {sid: [similarity_transform(f.landmarks, template(FACE_SIZE)) for f in found]
                for sid, found in faces.items() if found}
    by_id = {s.id: s for s in paired.samples}
    clean_crops = {}
    for sid, mats in matrices.items():
        clean, degraded = read_rgb(by_id[sid].clean), read_rgb(by_id[sid].degraded)
        for k, matrix in enumerate(mats):
            face_id = f"{sid}-face{k}"
            clean_crops[face_id] = warp_to_template(clean, matrix, FACE_SIZE)
            write_image(input_crop_path(out, "clean", face_id), clean_crops[face_id])
            write_image(input_crop_path(out, "degraded", face_id), warp_to_template(degraded, matrix, FACE_SIZE))
    return AlignedFaces(_face_data(paired, out, faces, config), matrices, clean_crops)


def _score_model(out: Path, parent: ModelStatus, aligned: AlignedFaces, metrics: dict, mask: str,
                 failures: MetricFailures, rows: dict) -> int:
    """Align ``parent.model``'s restored images to every face, save the crops and put one row per face
    in ``rows``; returns the number of faces scored."""
    name = aligned.data.name
    scored = 0
    for sid, mats in aligned.matrices.items():
        restored = read_rgb(restored_path(out, parent.model, sid, False))
        for k, matrix in enumerate(mats):
            face_id = f"{sid}-face{k}"
            crop = warp_to_template(restored, matrix, FACE_SIZE)
            write_image(face_crop_path(out, parent.model, face_id), crop)
            row = {"model": parent.model, "dataset": name, "sample": face_id, "mask": mask,
                   "config": parent.config, "data_id": aligned.data.data_id}
            row.update(_face_scores(metrics, crop, aligned.clean[face_id], failures, name, face_id))
            rows[(parent.model, name, face_id)] = row
            scored += 1
    return scored


def _face_scores(metrics: dict, crop: np.ndarray, clean: np.ndarray, failures: MetricFailures, dataset: str,
                 face_id: str) -> dict[str, float]:
    """Each metric of ``crop`` against the ``clean`` crop; NaN (recorded in ``failures``) where one fails."""
    scores = {}
    for metric_name, metric in metrics.items():
        try:
            scores[metric_name] = score_one(metric, crop, clean)
        except Exception as exc:  # noqa: BLE001 - a metric failing on a face leaves it empty
            scores[metric_name] = math.nan
            failures.record(metric_name, dataset, face_id, exc)
    return scores


def _summary_rows(model: str, data: BenchData, metrics: dict, rows: dict) -> list[dict]:
    """summary.csv rows of ``model`` on the face set: each metric's mean and std over the faces it scored."""
    summary = []
    for metric_name, metric in metrics.items():
        values = [rows[(model, data.name, s.id)][metric_name] for s in data.samples]
        values = [v for v in values if not math.isnan(v)]
        if values:
            mean, std = mean_std(metric, values)
            summary.append({"model": model, "dataset": data.name, "metric": metric_name,
                            "convention": metric.convention, "mean": mean, "std": std, "n": len(values),
                            "higher_is_better": bool(metric.higher_is_better)})
    return summary
