"""``oldphoto restore``: whole photos of any size through a restoration model, in one process.

The bopbtl models run as described below; every other registered model (classical, input, dip,
pix2pix, sequential, bopbtl-face) runs on the whole image in one call, without defect detection
or a memory plan (:class:`WholeImageRestorer`). Images with a side under ``MIN_SIDE`` px are refused.

Stages per file: ``read`` (EXIF rotation, 16-bit, grey: :func:`~oldphoto.datasets.imageio.read_rgb`),
``detect`` and ``restore`` (:class:`~oldphoto.models.bopbtl.restore.PhotoRestorer`), ``faces``
(optional, the ``bopbtl-face`` stage) and ``write`` (atomic PNG at the input's own size; grey
inputs stay grey).

Resumable: ``OUT/restore.json`` is rewritten after every file; a rerun with the same options and
weights keeps each file restored before (same input bytes, output still there) and restores only
the rest. Outputs never replace an input file, nor (without ``force``) a file this folder's report
did not write.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.datasets.inputs import output_names
from oldphoto.degrade.validate import MIN_SIDE
from oldphoto.infra.colour import BT601_LUMA
from oldphoto.infra.files import WriteError, write_bytes
from oldphoto.infra.memory import GB, peak_memory, reset_peak_memory
from oldphoto.models.bopbtl.configs import VARIANTS
from oldphoto.models.bopbtl.model import BopbtlRestorer
from oldphoto.models.bopbtl.restore import PhotoRestorer

REPORT_NAME = "restore.json"
FACE_MODEL = "bopbtl-face"
NAMED_CONFIG_MODELS = (*VARIANTS, FACE_MODEL)  # take --config small/full and --weights FILE


def is_grey(image: np.ndarray) -> bool:
    """True when every pixel of uint8 H x W x 3 ``image`` has equal R, G and B."""
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def luma(image: np.ndarray) -> np.ndarray:
    """uint8 H x W x 3 RGB -> uint8 H x W grey (ITU-R BT.601 weights, rounded)."""
    grey = image.astype(np.float32) @ np.array(BT601_LUMA, dtype=np.float32)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


class WholeImageRestorer:
    """A registered model that is not a bopbtl restorer, behind the interface :class:`RestoreJob` uses:
    the whole image in one ``restorer.restore`` call, no defect detector, no memory plan."""

    uses_mask = False
    max_memory = None

    def __init__(self, restorer) -> None:
        self.restorer = restorer
        self.device = torch.device(restorer.device)
        learned = [getattr(restorer, name, None) for name in ("network", "generator")]
        self.net = next((m for m in learned if m is not None), nn.Module())  # what the weight digest covers

    def plan(self, height: int, width: int) -> None:
        return None

    def restore(self, image: np.ndarray, mask: np.ndarray | None, plan: None = None) -> np.ndarray:
        return self.restorer.restore(image, mask)


@dataclass
class RestoreOptions:
    """Options of :func:`restore_files` (see ``oldphoto restore --help``)."""

    model: str = "bopbtl"
    config: str = "small"
    scratches: str = "auto"
    device: str = "auto"
    save_masks: bool = False
    max_memory_gb: float | None = None
    grey_to_colour: bool = False
    faces: bool = False
    weights: str | None = None

    def __post_init__(self) -> None:
        if self.scratches not in ("auto", "off"):
            raise ValueError(f"scratches {self.scratches!r}: expected 'auto' or 'off'")
        if self.max_memory_gb is not None and not self.max_memory_gb > 0:
            raise ValueError(f"max_memory {self.max_memory_gb}: expected a positive number of GB")


class RestoreFolderError(ValueError):
    """The output folder holds other work (another run's report, or an unreadable one)."""


def state_digest(module: torch.nn.Module) -> str:
    """SHA-256 of a network's parameters and buffers (names, dtypes, shapes and bytes, in name order)."""
    digest = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)}".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class RestoreJob:
    """Loads the models once, then restores files one by one into ``out`` with a report per file.

    ``inputs``: every input file of the batch (outputs never replace one). ``force``: start over in a
    folder holding another run's report (or to redo every file), replacing its files (never an input).
    """

    def __init__(self, options: RestoreOptions, out: str | os.PathLike, inputs: list[Path] = (),
                 force: bool = False) -> None:
        from oldphoto import models

        self.options, self.out, self.force = options, Path(out), force
        self.photo = self._load(models)
        self.faces = models.create(FACE_MODEL, config=options.config, device=options.device) if options.faces else None
        self.inputs = {Path(p).resolve() for p in inputs}
        self.records: list[dict] = []
        self.identity = self._identity()
        self.previous = {} if force else self._previous_records()
        self.own_files = {Path(f).resolve() for r in self.previous.values() for f in (r["output"], r.get("mask")) if f}

    def _load(self, models) -> PhotoRestorer | WholeImageRestorer:
        """The model of ``options.model``; ValueError naming the option when it cannot run as asked."""
        options = self.options
        if options.model not in models.list_models():
            raise ValueError(f"--model {options.model}: no such model; restore runs {', '.join(models.list_models())}")
        named = options.model in NAMED_CONFIG_MODELS
        if not named and (options.config != "small" or options.weights):
            raise ValueError(f"--model {options.model}: --config and --weights apply to "
                             f"{', '.join(NAMED_CONFIG_MODELS)} only")
        restorer = models.create(options.model, config=options.config if named else None,
                                 pretrained=options.weights or True, device=options.device)
        if not isinstance(restorer, BopbtlRestorer):
            return WholeImageRestorer(restorer)
        return PhotoRestorer(restorer, int(options.max_memory_gb * GB) if options.max_memory_gb else None)

    def _identity(self) -> dict:
        """What a resumed run must share with the earlier one: every option but the device and the
        weights path, and the digests of the weights themselves (restoration and, with ``faces``,
        face enhancement)."""
        options = {k: v for k, v in asdict(self.options).items() if k not in ("device", "weights")}
        weights = {"restore": state_digest(self.photo.net)}
        if self.faces is not None:
            weights["faces"] = state_digest(self.faces.generator)
        return {"options": options, "weights_sha256": weights}

    def _previous_records(self) -> dict[Path, dict]:
        """Successful records of an earlier run into ``out`` with this identity, by resolved input path."""
        path = self.out / REPORT_NAME
        if not path.exists():
            return {}
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            stored = report["identity"]
            files = report["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RestoreFolderError(f"{path}: not a readable restore report ({type(exc).__name__}: {exc}); "
                                     "choose another --out or pass --force to start over") from None
        if stored != self.identity:
            ours, theirs = self.identity["options"], stored.get("options", {})
            changed = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
            what = f"options {changed}" if changed else "weights"
            raise RestoreFolderError(f"{self.out}: holds restorations made with other {what}; choose another --out "
                                     "or pass --force to restore into it anew")
        return {Path(r["input"]).resolve(): r for r in files if r.get("error") is None and r.get("output")}

    def describe(self) -> dict:
        """Run-level part of restore.json."""
        return {"model": self.options.model, "config": self.options.config, "device": str(self.photo.device),
                "max_memory_bytes": self.photo.max_memory, "options": asdict(self.options),
                "weights": getattr(self.photo.restorer, "weights_meta", {}), "identity": self.identity}

    def kept_record(self, path: Path, target: Path, data: bytes) -> dict | None:
        """The earlier record of ``path`` when its output (and mask) are still there and the input's
        bytes are unchanged; None when the file must be restored."""
        record = self.previous.get(path.resolve())
        if record is None or Path(record["output"]).resolve() != target.resolve() or not target.is_file():
            return None
        if record.get("mask") and not Path(record["mask"]).is_file():
            return None
        if record.get("input_sha256") != hashlib.sha256(data).hexdigest():
            return None
        return {**record, "resumed": True}

    def check_writable(self, target: Path) -> None:
        """Refuse to replace an input file, or (without ``force``) a file no earlier run here wrote."""
        resolved = target.resolve()
        if resolved in self.inputs:
            raise RestoreFolderError(f"{target} is an input file of this batch; it is never replaced")
        if target.exists() and not self.force and resolved not in self.own_files:
            raise RestoreFolderError(f"{target} exists and was not written by a restore run into {self.out}; "
                                     "pass --force to replace it")

    def restore_file(self, path: Path, name: str) -> dict:
        """Restore one file; every failure is caught and recorded in the returned dict's ``error``."""
        record: dict = {"input": str(path), "output": None, "stages": [], "seconds": {}, "defect_fraction": None,
                        "error": None, "resumed": False}
        device = self.photo.device
        reset_peak_memory(device)
        stage = "read"
        target, mask_path = self.out / f"{name}.png", self.out / "masks" / f"{name}.png"
        try:
            began = time.perf_counter()
            data = Path(path).read_bytes()
            kept = self.kept_record(Path(path), target, data)
            if kept is not None:
                return kept
            record["input_sha256"] = hashlib.sha256(data).hexdigest()
            image = read_rgb(path, data=data)
            if min(image.shape[:2]) < MIN_SIDE:
                raise ValueError(f"image is {image.shape[1]}x{image.shape[0]} px; restore needs sides of at least "
                                 f"{MIN_SIDE} px")
            grey = is_grey(image)
            record.update(width=image.shape[1], height=image.shape[0], grey=grey)
            self._done(record, stage, began)
            mask = None
            if self.options.scratches == "auto" and self.photo.uses_mask:
                stage, began = "detect", time.perf_counter()
                mask = self.photo.detect(image) > self.photo.net.config.detector.threshold
                record["defect_fraction"] = float(mask.mean())
                self._done(record, stage, began)
            stage, began = "restore", time.perf_counter()
            plan = self.photo.plan(*image.shape[:2])
            record["plan"] = asdict(plan) if plan is not None else None
            restored = self.photo.restore(image, mask, plan)
            self._done(record, stage, began)
            if self.faces is not None:
                stage, began = "faces", time.perf_counter()
                restored = self.faces.restore(restored)
                record["faces"] = self.faces.last_faces
                self._done(record, stage, began)
            stage, began = "write", time.perf_counter()
            save_mask = mask is not None and self.options.save_masks
            for path_out in (target, mask_path) if save_mask else (target,):
                self.check_writable(path_out)
            write_image(target, luma(restored) if grey and not self.options.grey_to_colour else restored)
            if save_mask:
                write_image(mask_path, mask.astype(np.uint8) * 255)
                record["mask"] = str(mask_path)
            record["output"] = str(target)
            self._done(record, stage, began)
        except WriteError:
            raise  # OUT cannot take more files: every later file would fail the same way
        except Exception as exc:  # one bad file must not stop the batch; the record says what failed
            record["error"] = f"{stage}: {type(exc).__name__}: {exc}"
        record["peak_memory_bytes"], record["peak_memory_kind"] = peak_memory(device)
        return record

    @staticmethod
    def _done(record: dict, stage: str, began: float) -> None:
        record["stages"].append(stage)
        record["seconds"][stage] = round(time.perf_counter() - began, 4)

    def write_report(self) -> Path:
        """Write ``restore.json`` (atomically) with the run description and every file's record."""
        path = self.out / REPORT_NAME
        report = {**self.describe(), "files": self.records,
                  "failed": sum(1 for r in self.records if r["error"] is not None),
                  "resumed": sum(1 for r in self.records if r.get("resumed"))}
        write_bytes(path, (json.dumps(report, indent=2) + "\n").encode("utf-8"))
        return path


def restore_files(files: list[Path], out: str | os.PathLike, options: RestoreOptions,
                  progress: bool = True, log=None, force: bool = False) -> list[dict]:
    """Restore ``files`` into ``out`` (``NAME.png``, ``masks/NAME.png`` with ``save_masks``,
    ``restore.json``), resuming an earlier run there (see the module notes; ``force``: start over);
    returns the per-file records. ``log(line)`` receives one line per failure."""
    from tqdm.auto import tqdm

    job = RestoreJob(options, out, inputs=files, force=force)
    for path, name in tqdm(list(zip(files, output_names(files), strict=False)), desc="restore", unit="photo",
                           disable=not progress):
        record = job.restore_file(Path(path), name)
        job.records.append(record)
        job.write_report()
        if record["error"] is not None and log is not None:
            log(f"error: {path}: {record['error']}")
    job.write_report()
    return job.records
