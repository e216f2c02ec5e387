"""`oldphoto benchmark`: every model over a synthesized dataset (and real photos), every metric.

For each model and dataset, each sample is restored once (``restorer.restore(degraded, mask)``),
saved to ``OUT/images/MODEL/ID.png`` and scored with the per-image metrics; set-level metrics
(FID, Wasserstein, ...) then compare the model's restored set with the clean set. The files of a
run folder are described in :mod:`oldphoto.benchmark.rundir`.

Resumable: finished (model, dataset, sample) rows are journalled as they are made and kept when the
model config, the mask mode and the data are unchanged; a rerun only restores what is missing and
computes only the metrics a kept row lacks (from its saved image). A model that fails (at creation
or on any sample) is reported in ``models.csv`` and on the console, and the other models go on.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from oldphoto import __version__
from oldphoto.datasets.engines import EngineError, Job, check_engine, open_engine
from oldphoto.datasets.imageio import read_journal, read_rgb, write_image
from oldphoto.infra.files import WriteError
from oldphoto.infra.memory import peak_memory, reset_peak_memory
from oldphoto.infra.overrides import parse_overrides as parse_dotted

from . import rundir
from .data import BenchData, BenchmarkError, BenchSample, digest, load_paired, load_real, read_mask
from .domain_gap import METRIC as LATENT_GAP
from .domain_gap import LatentGap
from .intervals import Bootstrap, RunIntervals
from .rundir import ModelStatus, metric_sort_key, parse_float, restored_path
from .scoring import MetricFailures, MetricSet, create_metrics, mean_std, score_one

DEFAULT_METRICS = ("psnr", "ssim", "lpips", "fid", "brisque", "niqe", "wasserstein")
MASK_MODES = ("gt", "detected", "none")
JOURNAL = ".per_image.jsonl"
TEXT_KEYS = ("model", "dataset", "sample", "mask", "config", "data_id", "weights")
ROW_KEYS = (*TEXT_KEYS, "seconds", "megapixels")
PACKAGES = ("numpy", "scipy", "torch", "torchvision", "opencv-python-headless", "scikit-image", "pillow",
            "lpips", "pytorch-fid", "piq", "pandas", "albumentations")


# --- measuring -------------------------------------------------------------------------------------

class PeakMemory:
    """Peak memory while restoring, in MiB (:mod:`oldphoto.infra.memory`): CUDA's max allocated bytes
    on a CUDA device, else the process's peak resident set (None where /proc is unavailable)."""

    def __init__(self, device: str) -> None:
        self.device = str(device)
        self.kind = "cuda-max-allocated" if self.device.startswith("cuda") else "process-peak-rss"

    def reset(self) -> None:
        reset_peak_memory(self.device)

    def peak_mib(self) -> float | None:
        peak, _ = peak_memory(self.device)
        return None if peak is None else peak / 2**20


def environment() -> dict:
    """oldphoto version, git commit, Python and package versions, CPU and GPU of this machine."""
    from importlib import metadata

    import torch

    here = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                                    capture_output=True, text=True, timeout=10).stdout.strip()) if commit else None
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    gpus = ([torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            if torch.cuda.is_available() else [])
    return {"oldphoto_version": __version__, "git_commit": commit, "git_dirty": dirty,
            "python": platform.python_version(), "platform": platform.platform(), "packages": versions,
            "cpu": cpu, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.version.cuda if torch.cuda.is_available() else None, "gpus": gpus}


# --- the run ---------------------------------------------------------------------------------------

@dataclass
class RunResult:
    """What :func:`run_benchmark` wrote: the summary rows, models.csv rows and the run metadata."""

    out: Path
    summary: list[dict]
    models: list[ModelStatus]
    run: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[ModelStatus]:
        return [m for m in self.models if m.status == "failed"]

    @property
    def skipped(self) -> list[ModelStatus]:
        return [m for m in self.models if m.status == "skipped"]

    def table(self) -> list[str]:
        """The summary as fixed-width text lines: one row per (model, dataset), one column per metric."""
        return summary_table(self.summary, self.models)


def summary_table(summary: list[dict], statuses: list[ModelStatus]) -> list[str]:
    metric_names = sorted({r["metric"] for r in summary}, key=metric_sort_key)
    arrows = {r["metric"]: "↑" if str(r["higher_is_better"]) in ("True", "true", "1") else "↓" for r in summary}
    header = ["model", "dataset", *[f"{m}{arrows[m]}" for m in metric_names], "s/MP"]
    cells = {(r["model"], r["dataset"], r["metric"]): parse_float(r["mean"]) for r in summary}
    lines = []
    for st in statuses:
        values = [f"{cells[(st.model, st.dataset, m)]:.4g}" if (st.model, st.dataset, m) in cells else "-"
                  for m in metric_names]
        speed = f"{st.seconds_per_mp:.3g}" if st.seconds_per_mp is not None else "-"
        lines.append([st.model, st.dataset, *values, speed if st.status == "ok" else st.status.upper()])
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False))  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(row) for row in lines)]


def _row_key(row: dict) -> tuple[str, str, str]:
    return row["model"], row["dataset"], row["sample"]


def _load_rows(out: Path) -> dict[tuple[str, str, str], dict]:
    """Rows of earlier runs into ``out``: per_image.csv, then the journal of an interrupted run."""
    rows: dict = {}
    if (out / rundir.PER_IMAGE).is_file():
        for r in rundir.read_csv(out / rundir.PER_IMAGE):
            rows[_row_key(r)] = {k: (v if k in TEXT_KEYS else parse_float(v)) for k, v in r.items()}
    for row in read_journal(out / JOURNAL):
        rows[_row_key(row)] = row
    return rows


def _write_per_image(out: Path, rows: dict) -> None:
    metric_cols = sorted({k for r in rows.values() for k in r} - set(ROW_KEYS))
    ordered = sorted(rows.values(), key=lambda r: (r["model"], r["dataset"], r["sample"]))
    rundir.write_csv(out / rundir.PER_IMAGE, [*ROW_KEYS, *metric_cols], ordered)


def parse_model_names(spec: str) -> list[str]:
    """``all`` or a comma-separated list, checked against the registry."""
    from oldphoto import models

    known = models.list_models()
    if spec.strip() == "all":
        return known
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise BenchmarkError(f"--models: unknown model(s) {unknown or spec!r}; registered: {', '.join(known)}")
    return list(dict.fromkeys(names))


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict:
    """``["dip.iterations=50", ...]`` -> ``{"dip": {"iterations": 50}}`` (values parsed as YAML scalars)."""
    try:
        return parse_dotted(items)
    except ValueError as exc:
        raise BenchmarkError(str(exc)) from None


def _protocol(data: BenchData, mask: str, metric_info: dict) -> tuple[str, str]:
    """(id, text) of the protocol: the data identity, the mask mode and the metric conventions."""
    mask_text = {"gt": "ground-truth defect masks given to the models", "none": "no masks given",
                 "detected": "masks from each model's own detector"}[mask]
    if data.real and mask == "gt":
        mask_text = "no masks given (real photos have no ground truth)"
    conventions = {name: info["convention"] for name, info in metric_info.items()}
    pid = digest({"data": data.identity, "mask": mask_text, "metrics": conventions})[:10]
    text = f"{data.description}; {mask_text}; metrics: " + ("; ".join(conventions.values()) or "none")
    return pid, text


def _restore_tasks(out: Path, model_name: str, bench: BenchData, identity: dict, mask: str, per_image: dict,
                   rows: dict) -> list[RestoreTask]:
    """The samples of ``bench`` with work left for ``model_name``, in sample order: those without a
    kept row (same identity, image on disk) to restore, those whose kept row lacks metrics to score."""
    tasks = []
    for sample in bench.samples:
        path = restored_path(out, model_name, sample.id, bench.real)
        row = rows.get((model_name, bench.name, sample.id))
        if row is not None and all(row.get(k) == v for k, v in identity.items()) and path.is_file():
            missing = tuple(n for n in per_image if n not in row or math.isnan(row[n]))
            if missing:
                tasks.append(RestoreTask(sample, path, {}, mask, row, missing))
        else:
            base = {"model": model_name, "dataset": bench.name, "sample": sample.id, **identity}
            tasks.append(RestoreTask(sample, path, base, mask))
    return tasks


def _mask_for(sample: BenchSample, mode: str, restorer, image: np.ndarray) -> np.ndarray | None:
    if mode == "none":
        return None
    if mode == "detected":
        return restorer.detect_defects(image)
    return read_mask(sample)


# --- one sample of one model: restore (or reuse) and score; runs here or on a Dask worker -------------

@dataclass(frozen=True)
class RestoreTask:
    """One (model, dataset, sample) to do: restore it (``kept`` None) or complete the ``kept`` row,
    whose restored image exists, with the ``missing`` metrics."""

    sample: BenchSample
    path: Path
    base: dict
    mask: str
    kept: dict | None = None
    missing: tuple[str, ...] = ()


@dataclass
class RestoreOutcome:
    """A finished row, the metric errors to record (name, exception) and, for a failed sample, the error."""

    sample: BenchSample
    row: dict | None = None
    ran: bool = False
    metric_errors: list = field(default_factory=list)
    error: Exception | None = None
    peak_mib: float | None = None


@dataclass
class ModelState:
    """What scoring a sample needs: the restorer and the per-image metrics; ``meter`` measures each
    sample's peak memory (on Dask workers), ``error`` is why the state could not be built there."""

    restorer: object = None
    per_image: dict = field(default_factory=dict)
    meter: PeakMemory | None = None
    error: Exception | None = None


def _as_is(state: ModelState) -> ModelState:
    return state


def _worker_state(spec: tuple) -> ModelState:
    """A Dask worker's :class:`ModelState`: the model and metrics created there, as the client did."""
    from oldphoto import models

    name, config, device, metric_names = spec
    try:
        restorer = models.create(name, config=config, device=device)
        metric_set = create_metrics(list(metric_names), device)
        if metric_set.unavailable:
            raise BenchmarkError(f"metric(s) unavailable on a Dask worker: {metric_set.unavailable}")
    except Exception as exc:  # noqa: BLE001 - reported as the model's failure on its first sample
        return ModelState(error=_portable(exc))
    return ModelState(restorer, metric_set.metrics, PeakMemory(restorer.device))


def _portable(exc: Exception) -> Exception:
    """``exc``, or a RuntimeError with its text when it cannot travel between processes."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - any pickling problem
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def restore_sample(state: ModelState, task: RestoreTask) -> RestoreOutcome:
    """Restore ``task``'s sample (saving the image) or reread its kept image, then score the metrics
    it lacks. Failures come back in the outcome (errors are raised by the caller, in sample order)."""
    outcome = RestoreOutcome(task.sample)
    try:
        if state.error is not None:
            raise state.error
        if task.kept is not None:
            row, missing = dict(task.kept), list(task.missing)
            restored = read_rgb(task.path)
        else:
            image = read_rgb(task.sample.degraded)
            defect_mask = _mask_for(task.sample, task.mask, state.restorer, image)
            if state.meter is not None:
                state.meter.reset()
            t0 = time.perf_counter()
            restored = state.restorer.restore(image, defect_mask)
            seconds = time.perf_counter() - t0
            outcome.peak_mib = state.meter.peak_mib() if state.meter is not None else None
            outcome.ran = True
            write_image(task.path, restored)
            row = {**task.base, "seconds": seconds, "megapixels": image.shape[0] * image.shape[1] / 1e6}
            missing = list(state.per_image)
        target = read_rgb(task.sample.clean) if task.sample.clean is not None else None
        needs_region = any(getattr(state.per_image[n], "needs_mask", False) for n in missing)
        region = read_mask(task.sample) if needs_region else None
        for name in missing:
            try:
                row[name] = score_one(state.per_image[name], restored, target, region)
            except Exception as exc:  # noqa: BLE001 - a metric failing on an image leaves it empty
                row[name] = math.nan
                outcome.metric_errors.append((name, _portable(exc)))
        outcome.row = row
    except Exception as exc:  # noqa: BLE001 - the caller reports the model as failed on this sample
        outcome.error = _portable(exc)
    return outcome


def _in_order(outcomes: Iterator[RestoreOutcome], ids: list[str]) -> Iterator[RestoreOutcome]:
    """``outcomes`` (in completion order) in the order of sample ``ids``, each as soon as it can be."""
    waiting: dict[str, RestoreOutcome] = {}
    position = 0
    for outcome in outcomes:
        waiting[outcome.sample.id] = outcome
        while position < len(ids) and ids[position] in waiting:
            yield waiting.pop(ids[position])
            position += 1


def run_benchmark(model_names: list[str], data: str | os.PathLike | None, out: str | os.PathLike,
                  real: str | os.PathLike | None = None, metric_names: list[str] | tuple = DEFAULT_METRICS,
                  device: str = "auto", mask: str = "gt", limit: int | None = None, configs: dict | None = None,
                  progress: bool = True, log: Callable[[str], None] = print,
                  skip_missing_weights: bool = False, faces: bool = False, references: tuple[str, ...] = ("input",),
                  bootstrap: Bootstrap = Bootstrap(), engine: str = "pool", workers: int = 1,
                  scheduler: str | None = None) -> RunResult:
    """Benchmark ``model_names`` on the paired dataset ``data`` and/or the real photos ``real``.

    ``skip_missing_weights`` (what ``--models all`` uses): a model whose weight files are missing
    (not in ``models.list_models(pretrained=True)``) and that has no entry in ``configs`` is listed
    as ``skipped`` with the missing files instead of being created; otherwise such a model fails.

    ``configs``: model name -> config overrides (a dict passed to ``models.create``). ``mask``: "gt"
    (the dataset's ``defects`` mask), "detected" (the model's ``detect_defects``; an error for models
    without one) or "none". ``limit``: the first N samples of each dataset. ``faces``: also score
    aligned face crops of ``data`` as the dataset ``<name>-faces`` (:mod:`oldphoto.benchmark.faces`).
    Writes the run folder ``out`` and returns what it wrote; ``log`` receives progress lines. Every summary row gets a
    ``bootstrap`` interval, and ``differences.csv`` compares each model with each of ``references``
    (:mod:`oldphoto.benchmark.intervals`).

    ``engine``: ``pool`` restores and scores in this process; ``dask`` sends each (model, sample)
    to a Dask cluster (the ``scheduler`` address, else a local one of ``workers`` one-thread
    workers; docs/cluster.md), one model after another, each worker creating the model and the
    per-image metrics once. The client still creates each model (its status, parameters and the
    latent domain gap) and computes what needs a whole set: set-level metrics (FID, Wasserstein),
    the latent gap, bootstrap intervals and the face benchmark. Rows, CSVs and images are the
    same; peak memory is then the largest per-sample peak on the workers.
    """
    configs = dict(configs or {})
    _check_arguments(model_names, data, real, mask, faces, limit, configs, engine, workers, scheduler)
    datasets = _load_datasets(data, real, limit, log)
    run = _start_run(Path(out), datasets, metric_names, device, mask, engine, progress, bootstrap, references, log)
    skipped = _without_weights(model_names, configs) if skip_missing_weights else {}
    with open(run.out / JOURNAL, "a") as journal, open_engine(engine, workers, scheduler) as runner:
        for model_name in model_names:
            _benchmark_model(run, model_name, configs.get(model_name), skipped.get(model_name), journal, runner)
    face_info = _benchmark_faces(run) if faces else None
    arguments = {"models": list(model_names), "data": str(data) if data is not None else None,
                 "real": str(real) if real is not None else None, "metrics": list(metric_names),
                 "device": device, "mask": mask, "limit": limit, "configs": configs}
    return _finish(run, arguments, face_info)


def _check_arguments(model_names: list[str], data, real, mask: str, faces: bool, limit: int | None, configs: dict,
                     engine: str, workers: int, scheduler: str | None) -> None:
    """BenchmarkError for arguments of :func:`run_benchmark` that cannot go together, before any work."""
    if mask not in MASK_MODES:
        raise BenchmarkError(f"--mask must be one of {', '.join(MASK_MODES)}, got {mask!r}")
    if data is None and real is None:
        raise BenchmarkError("give --data DIR (a synthesized dataset) and/or --real DIR (real old photos)")
    if faces and data is None:
        raise BenchmarkError("--faces needs --data (a paired dataset: faces are found in its clean images)")
    if limit is not None and limit < 1:
        raise BenchmarkError(f"--limit must be >= 1, got {limit}")
    if engine != "dask" and workers != 1:
        raise BenchmarkError("--workers applies to --engine dask only (the default engine runs in this process)")
    try:
        check_engine(engine, scheduler)
    except EngineError as exc:
        raise BenchmarkError(str(exc)) from None
    stray = sorted(set(configs) - set(model_names))
    if stray:
        raise BenchmarkError(f"configs given for model(s) not benchmarked: {stray}")


def _load_datasets(data, real, limit: int | None, log: Callable[[str], None]) -> list[BenchData]:
    """The paired dataset ``data`` and/or the real photos ``real``; each input left out is logged."""
    datasets = (([load_paired(data, limit)] if data is not None else [])
                + ([load_real(real, limit)] if real is not None else []))
    for bench in datasets:
        for path, reason in bench.skipped:
            log(f"skipped: {path}: {reason}")
    return datasets


@dataclass
class BenchmarkRun:
    """What the steps of :func:`run_benchmark` share: the run folder, the datasets, the metrics, the
    rows kept and made so far, and the statuses and summary rows found."""

    out: Path
    datasets: list[BenchData]
    mask: str
    device: str
    engine: str
    progress: bool
    log: Callable[[str], None]
    started: str
    metric_set: MetricSet
    metric_info: dict
    rows: dict
    old_status: dict
    metric_failures: MetricFailures
    intervals: RunIntervals
    latent_gap: LatentGap | None
    statuses: list[ModelStatus] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)
    clean_features: dict[str, np.ndarray] = field(default_factory=dict)
    paired: BenchData | None = field(init=False)

    def __post_init__(self) -> None:
        self.paired = next((d for d in self.datasets if not d.real), None)  # the first: face crops come after

    def clean_set_features(self, name: str, metric) -> np.ndarray:
        """Features of the clean set for set-level metric ``name``, extracted once per run."""
        if name not in self.clean_features:
            self.clean_features[name] = metric.image_features([read_rgb(s.clean) for s in self.paired.samples])
        return self.clean_features[name]


def _start_run(out: Path, datasets: list[BenchData], metric_names, device: str, mask: str, engine: str,
               progress: bool, bootstrap: Bootstrap, references: tuple[str, ...],
               log: Callable[[str], None]) -> BenchmarkRun:
    """Create the run folder (environment.json), the metrics and the latent gap; read earlier rows."""
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rundir.write_json(out / rundir.ENVIRONMENT, environment())
    metric_set = create_metrics(list(metric_names), device)
    for name, reason in metric_set.unavailable.items():
        log(f"warning: metric {name} unavailable, left out: {reason}")
    metric_info = metric_set.describe()
    rows = _load_rows(out)
    old_status = {(r["model"], r["dataset"], r["config"]): r for r in
                  (rundir.read_csv(out / rundir.MODELS) if (out / rundir.MODELS).is_file() else [])}
    metric_failures = MetricFailures(log)
    intervals = RunIntervals(bootstrap, references, metric_failures.record)
    latent_gap = LatentGap.for_run(datasets, metric_names, metric_failures, log)
    if latent_gap is not None:
        metric_info[LATENT_GAP] = latent_gap.describe()
    return BenchmarkRun(out, datasets, mask, device, engine, progress, log, started, metric_set, metric_info, rows,
                        old_status, metric_failures, intervals, latent_gap)


def _without_weights(model_names: list[str], configs: dict) -> dict[str, str]:
    """Model -> why it is skipped, for the models without a config whose weight files are missing."""
    from oldphoto import models

    available = set(models.list_models(pretrained=True))
    return {name: "weight file(s) not found: " + ", ".join(str(p) for p in models.missing_weights(name))
            for name in model_names if name not in available and name not in configs}


# --- one model of a run ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelRun:
    """A created model in a run: its name, config (and the text rows record), restorer, memory meter
    and the first 16 hex digits of its weights' fingerprint (kept rows of other weights are redone)."""

    name: str
    config: dict | None
    config_text: str
    restorer: object
    meter: PeakMemory
    fingerprint: str


def _benchmark_model(run: BenchmarkRun, name: str, config: dict | None, skipped: str | None, journal,
                     runner) -> None:
    """Create model ``name`` (or record it as skipped or failed), then run it on every dataset of ``run``."""
    config_text = json.dumps(config, sort_keys=True) if config else ""
    model = _create_model(run, name, config, config_text, skipped)
    if model is None:
        return
    for bench in run.datasets:
        _benchmark_dataset(run, model, bench, journal, runner)
    gap_rows = run.latent_gap.score(name, model.restorer) if run.latent_gap is not None else []
    for row in gap_rows:
        run.intervals.add_set(name, row["dataset"], LATENT_GAP, run.latent_gap.metric, paired=False)
    run.summary += gap_rows
    _write_per_image(run.out, run.rows)


def _create_model(run: BenchmarkRun, name: str, config: dict | None, config_text: str,
                  skipped: str | None) -> ModelRun | None:
    """The created model, or None after recording it as ``skipped`` (with that reason) or as failed."""
    from oldphoto import models

    if skipped is not None:
        run.log(f"skipped: model {name}: {skipped}")
        run.statuses += [ModelStatus(name, d.name, config_text, status="skipped", error=skipped) for d in run.datasets]
        return None
    try:
        restorer = models.create(name, config=config, device=run.device)
    except Exception as exc:  # noqa: BLE001 - report the model and go on with the others
        message = f"{type(exc).__name__}: {exc}"
        run.log(f"error: model {name} could not be created: {message}")
        run.statuses += [ModelStatus(name, d.name, config_text, status="failed", error=message) for d in run.datasets]
        return None
    return ModelRun(name, config, config_text, restorer, PeakMemory(restorer.device), restorer.fingerprint[:16])


def _benchmark_dataset(run: BenchmarkRun, model: ModelRun, bench: BenchData, journal, runner) -> None:
    """Restore and score ``bench`` with ``model`` (its status joins ``run.statuses``), then summarise it."""
    status = ModelStatus(model.name, bench.name, model.config_text, model.restorer.num_parameters,
                         model.restorer.device, memory_kind=model.meter.kind)
    run.statuses.append(status)
    if run.mask == "detected" and not hasattr(model.restorer, "detect_defects"):
        status.status = "failed"
        status.error = f"--mask detected: model {model.name} has no defect detector (use --mask gt or --mask none)"
        run.log(f"error: {status.error}")
        return
    applicable = run.metric_set.applicable(bench, run.paired is not None)
    per_image = {n: m for n, m in applicable.items() if not getattr(m, "set_level", False)}
    model.meter.reset()
    ran_any, worker_peaks = _restore_and_score(run, model, bench, per_image, status, journal, runner)
    _record_timing(run, model, bench, status, ran_any, worker_peaks)
    if status.status != "ok":
        return
    for name, metric in applicable.items():
        row = _summary_row(run, model.name, bench, name, metric)
        if row is not None:
            run.summary.append(row)
    run.log(f"{model.name} on {bench.name}: {status.samples} samples, "
            + (f"{status.seconds_per_mp:.3g} s/MP" if status.seconds_per_mp is not None else "no timing"))


def _restore_and_score(run: BenchmarkRun, model: ModelRun, bench: BenchData, per_image: dict, status: ModelStatus,
                       journal, runner) -> tuple[bool, list[float]]:
    """Restore and score the samples of ``bench`` with work left, keeping each row in ``run.rows`` and the
    journal; the first failing sample marks ``status`` failed. Returns (any sample restored, worker peaks)."""
    from tqdm import tqdm

    identity = {"mask": run.mask, "config": model.config_text, "data_id": bench.data_id, "weights": model.fingerprint}
    tasks = _restore_tasks(run.out, model.name, bench, identity, run.mask, per_image, run.rows)
    bar = tqdm(total=len(bench.samples), initial=len(bench.samples) - len(tasks),
               desc=f"{model.name} on {bench.name}", unit="img", disable=not run.progress, leave=False)
    outcomes = runner.map(_restore_job(run, model, per_image), tasks)
    sample = tasks[0].sample if tasks else None
    ran_any, worker_peaks = False, []
    try:
        for outcome in _in_order(outcomes, [t.sample.id for t in tasks]):
            sample = outcome.sample
            if outcome.error is not None:
                raise outcome.error
            ran_any |= outcome.ran
            worker_peaks += [outcome.peak_mib] if outcome.peak_mib is not None else []
            _keep_row(run, model.name, bench, outcome, journal)
            bar.update(1)
    except WriteError:
        raise  # the run folder cannot take more: every other model would fail the same way
    except Exception as exc:  # noqa: BLE001 - report the model and go on with the others
        status.status = "failed"
        status.error = f"{type(exc).__name__} on sample {sample.id}: {exc}"
        run.log(f"error: model {model.name} failed on {bench.name}: {status.error}")
    finally:
        outcomes.close()  # cancels what is still running on a cluster after a failure
        bar.close()
    return ran_any, worker_peaks


def _restore_job(run: BenchmarkRun, model: ModelRun, per_image: dict) -> Job:
    """The engine job restoring one sample: with this process's restorer, or one each Dask worker creates."""
    if run.engine == "pool":
        return Job("benchmark", _as_is, ModelState(model.restorer, per_image), restore_sample)
    return Job("benchmark", _worker_state, (model.name, model.config, run.device, tuple(per_image)), restore_sample)


def _keep_row(run: BenchmarkRun, model_name: str, bench: BenchData, outcome: RestoreOutcome, journal) -> None:
    """Record ``outcome``'s metric errors and keep its row (in ``run.rows`` and the journal)."""
    for name, exc in outcome.metric_errors:
        run.metric_failures.record(name, bench.name, outcome.sample.id, exc)
    run.rows[(model_name, bench.name, outcome.sample.id)] = outcome.row
    journal.write(json.dumps(outcome.row) + "\n")
    journal.flush()


def _record_timing(run: BenchmarkRun, model: ModelRun, bench: BenchData, status: ModelStatus, ran_any: bool,
                   worker_peaks: list[float]) -> None:
    """Samples, seconds per megapixel and peak memory (MiB) of ``status`` from the rows of ``bench``; a
    rerun that restored nothing keeps the peak of the earlier run."""
    done = [run.rows[(model.name, bench.name, s.id)] for s in bench.samples
            if (model.name, bench.name, s.id) in run.rows]
    status.samples = len(done)
    megapixels = sum(r["megapixels"] for r in done)
    status.seconds_per_mp = sum(r["seconds"] for r in done) / megapixels if megapixels else None
    previous = run.old_status.get((model.name, bench.name, model.config_text))
    if ran_any:
        status.peak_memory_mib = max(worker_peaks) if worker_peaks else model.meter.peak_mib()
    elif previous is not None and previous.get("peak_memory_mib"):
        status.peak_memory_mib = float(previous["peak_memory_mib"])


def _summary_row(run: BenchmarkRun, model_name: str, bench: BenchData, name: str, metric) -> dict | None:
    """The summary row of metric ``name`` for ``model_name`` on ``bench`` (None without any value)."""
    if getattr(metric, "set_level", False):
        measured = _set_level_value(run, model_name, bench, name, metric)
        if measured is None:
            return None
        mean, std, n = measured
    else:
        values = [run.rows[(model_name, bench.name, s.id)].get(name, math.nan) for s in bench.samples]
        values = [v for v in values if not math.isnan(v)]
        if not values:
            return None
        mean, std = mean_std(metric, values)
        n = len(values)
    return {"model": model_name, "dataset": bench.name, "metric": name, "convention": metric.convention,
            "mean": mean, "std": std, "n": n, "higher_is_better": bool(metric.higher_is_better)}


def _set_level_value(run: BenchmarkRun, model_name: str, bench: BenchData, name: str,
                     metric) -> tuple[float, float, int] | None:
    """(value, NaN std, set size) of set-level metric ``name`` between the set ``model_name`` restored and
    the clean set, with its interval added; None (the failure recorded) when it cannot be computed."""
    preds = [read_rgb(restored_path(run.out, model_name, s.id, bench.real)) for s in bench.samples]
    try:
        metric.reset()
        metric.update(preds)
        metric.update_features(target=run.clean_set_features(name, metric))
        mean = metric.compute()
        run.intervals.add_set(model_name, bench.name, name, metric, paired=not bench.real)
    except Exception as exc:  # noqa: BLE001 - one set-level metric must not stop the run
        run.metric_failures.record(name, bench.name, f"the set restored by {model_name}", exc)
        return None
    return mean, math.nan, len(preds)


# --- the end of a run ------------------------------------------------------------------------------

def _benchmark_faces(run: BenchmarkRun) -> dict | None:
    """Score aligned face crops of the paired dataset (:mod:`.faces`); their rows, statuses and dataset
    join ``run``. Returns the face benchmark's run.json entry."""
    from .faces import benchmark_faces

    face_run = benchmark_faces(run.paired, run.out, run.statuses, run.metric_set, run.mask, run.rows,
                               run.metric_failures, run.log)
    run.summary += face_run.summary
    run.statuses += face_run.statuses
    run.datasets += [face_run.data] if face_run.data is not None else []
    return face_run.info


def _finish(run: BenchmarkRun, arguments: dict, face_info: dict | None) -> RunResult:
    """Write per_image.csv, summary.csv, differences.csv, models.csv and run.json (the journal goes)."""
    _write_per_image(run.out, run.rows)
    (run.out / JOURNAL).unlink()
    differences = run.intervals.finish(run.summary, run.rows, {d.name: [s.id for s in d.samples] for d in run.datasets},
                                       run.metric_set.metrics)
    rundir.write_csv(run.out / rundir.SUMMARY, rundir.SUMMARY_COLUMNS, run.summary)
    rundir.write_csv(run.out / rundir.DIFFERENCES, rundir.DIFFERENCE_COLUMNS, differences)
    rundir.write_csv(run.out / rundir.MODELS, rundir.MODELS_COLUMNS, [vars(s) for s in run.statuses])
    info = {"arguments": arguments, "datasets": {bench.name: _dataset_meta(run, bench) for bench in run.datasets},
            "metrics": run.metric_info, "unavailable_metrics": run.metric_set.unavailable,
            "metric_errors": run.metric_failures.errors, "faces": face_info, "intervals": run.intervals.describe(),
            "started": run.started, "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    rundir.write_json(run.out / rundir.RUN, info)
    return RunResult(run.out, run.summary, run.statuses, info)


def _dataset_meta(run: BenchmarkRun, bench: BenchData) -> dict:
    """run.json's entry for ``bench``: where it lies, its protocol (metrics it was measured with) and inputs."""
    measured = {r["metric"] for r in run.summary if r["dataset"] == bench.name}
    pid, text = _protocol(bench, run.mask, {n: info for n, info in run.metric_info.items() if n in measured})
    return {"real": bench.real, "root": str(bench.root.resolve()), "n": len(bench.samples),
            "description": bench.description, "identity": bench.identity, "protocol": pid, "protocol_text": text,
            "samples": [s.id for s in bench.samples],
            "skipped": [{"path": p, "reason": r} for p, r in bench.skipped],
            "inputs": {s.id: {"degraded": str(s.degraded), "clean": s.clean and str(s.clean),
                              "mask": s.mask and str(s.mask)} for s in bench.samples},
            "reference": str(run.paired.root.resolve()) if run.paired is not None else None}


def iter_run_lines(result: RunResult) -> Iterator[str]:
    """The end-of-run console report: the summary table, failures and where the files are."""
    yield from result.table()
    for st in result.failed:
        yield f"FAILED {st.model} on {st.dataset}: {st.error}"
    for st in result.skipped:
        yield f"skipped {st.model} on {st.dataset} (no shipped weights): {st.error}"
    if (result.run.get("faces") or {}).get("message"):
        yield f"faces: {result.run['faces']['message']}: no face rows"
    yield f"results: {result.out / rundir.SUMMARY} (per image: {result.out / rundir.PER_IMAGE})"
