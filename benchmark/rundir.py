"""The files of a benchmark run folder, shared by the runner, the leaderboard and the report.

A run folder ``OUT`` holds::

    per_image.csv     model, dataset, sample, mask, config, data_id, weights, seconds, megapixels, one column per metric
    summary.csv       tidy rows: model, dataset, metric, convention, mean, std, n, higher_is_better,
                      ci_low, ci_high (bootstrap interval of the mean), resamples, seed
    differences.csv   model - reference per (model, reference, dataset, metric): n, difference, its
                      bootstrap interval, Wilcoxon p-value, better (model / reference / neither)
    models.csv        model, dataset, config, params, device, seconds_per_mp, peak_memory_mib, status, error
    run.json          arguments, datasets (name, kind, root, protocol), metrics (convention, direction)
    environment.json  oldphoto version, git commit, package versions, CPU/GPU
    images/MODEL/ID.png         restored synthetic samples
    images/MODEL/real/ID.png    restored real photos (with --real)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from oldphoto.infra.files import write_bytes

PER_IMAGE = "per_image.csv"
SUMMARY = "summary.csv"
DIFFERENCES = "differences.csv"
MODELS = "models.csv"
RUN = "run.json"
ENVIRONMENT = "environment.json"
IMAGES = "images"
REAL_SUBDIR = "real"

SUMMARY_COLUMNS = ("model", "dataset", "metric", "convention", "mean", "std", "n", "higher_is_better",
                   "ci_low", "ci_high", "resamples", "seed")
DIFFERENCE_COLUMNS = ("model", "reference", "dataset", "metric", "n", "difference", "ci_low", "ci_high", "p_value",
                      "test", "resamples", "seed", "better")
MODELS_COLUMNS = ("model", "dataset", "config", "params", "device", "samples", "seconds_per_mp",
                  "peak_memory_mib", "memory_kind", "status", "error")
METRIC_ORDER = ("psnr", "psnr-y", "ssim", "lpips", "psnr-defects", "ssim-defects", "lpips-defects", "psnr-outside",
                "ssim-outside", "lpips-outside", "fid", "kid", "fd-vgg16", "brisque", "niqe", "wasserstein")


def metric_sort_key(name: str) -> tuple[int, str]:
    """Sort key putting metrics in the usual table order (paired, set-level, no-reference), others last."""
    return (METRIC_ORDER.index(name) if name in METRIC_ORDER else len(METRIC_ORDER), name)


class RunDirError(ValueError):
    """A run folder is missing a file or holds an unreadable one; the message names it."""


def format_value(value) -> str:
    """CSV text of a cell: floats with 6 significant digits, NaN and None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return "inf" if math.isinf(value) and value > 0 else ("-inf" if math.isinf(value) else f"{value:.6g}")
    return str(value)


def parse_float(text: str) -> float:
    """Inverse of :func:`format_value` for numbers: empty -> NaN."""
    return float(text) if text not in ("", None) else math.nan


def write_csv(path: str | os.PathLike, columns: tuple[str, ...] | list[str], rows: list[dict]) -> None:
    """Write ``rows`` (dicts; missing keys empty) atomically as CSV with a header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: format_value(row.get(k)) for k in columns})
    write_bytes(path, buffer.getvalue().encode())


def read_csv(path: str | os.PathLike) -> list[dict]:
    """Rows of a CSV file as dicts of strings (RunDirError naming the file when it is missing)."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path}: missing (is this a folder written by `oldphoto benchmark`?)")
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_json(path: str | os.PathLike, data: dict) -> None:
    write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: str | os.PathLike) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunDirError(f"{path}: missing (is this a folder written by `oldphoto benchmark`?)") from None
    except ValueError as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None


def restored_path(out: Path, model: str, sample: str, real: bool) -> Path:
    """Where the runner saves ``model``'s restoration of ``sample``."""
    folder = Path(out) / IMAGES / model
    return (folder / REAL_SUBDIR if real else folder) / f"{sample}.png"


def load_run(run_dir: str | os.PathLike) -> dict:
    """A run's tables and metadata: ``summary``, ``models``, ``per_image``, ``differences`` (rows;
    no differences in folders of older versions), ``run``, ``environment``."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such run folder")
    differences = read_csv(run_dir / DIFFERENCES) if (run_dir / DIFFERENCES).is_file() else []
    return {"summary": read_csv(run_dir / SUMMARY), "models": read_csv(run_dir / MODELS),
            "per_image": read_csv(run_dir / PER_IMAGE), "differences": differences, "run": read_json(run_dir / RUN),
            "environment": read_json(run_dir / ENVIRONMENT)}


@dataclass
class ModelStatus:
    """One (model, dataset) line of models.csv."""

    model: str
    dataset: str
    config: str
    params: int | None = None
    device: str | None = None
    samples: int = 0
    seconds_per_mp: float | None = None
    peak_memory_mib: float | None = None
    memory_kind: str | None = None
    status: str = "ok"
    error: str = ""
