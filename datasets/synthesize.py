"""Paired dataset synthesis: plan samples, run them (serially or in a process pool), write files.

Every sample is a pure function of its task (source file, per-sample seed, crop size): it reads
the file, hashes it, crops at a box drawn from the per-sample seed, degrades with the same seed,
and writes ``clean/ID.png``, ``degraded/ID.png`` and ``masks/ID.png`` atomically. Per-sample
seeds come from a stable hash of (seed, source id, sample index), never from processing order,
so the output bytes do not depend on the worker count. Finished samples are journalled, so a
killed run completes on rerun; the manifest is written once, in plan order, at the end.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oldphoto import __version__, degrade
from oldphoto.infra.files import WriteError, write_bytes

from .engines import DaskEngine, Job, PoolEngine, check_engine, open_engine
from .imageio import DEFAULT_MAX_PIXELS, ImageReadError, encode_png, read_journal, read_rgb
from .masks import MASK_BITS, encode_masks
from .sources import Source, SourceError, locate

FORMAT = "oldphoto-dataset"
FORMAT_VERSION = 2  # 2: manifest and skipped.csv record source paths relative to the source root
SUBDIRS = ("clean", "degraded", "masks")
JOURNAL = ".synthesize-journal.jsonl"
OUTPUT_NAMES = (*SUBDIRS, "manifest.csv", "skipped.csv", "dataset.json", JOURNAL)
MANIFEST_COLUMNS = ("id", "source_id", "source_path", "source_sha256", "sample_index", "crop_x",
                    "crop_y", "crop_w", "crop_h", "seed", "preset", "params")
SKIPPED_COLUMNS = ("source_id", "source_path", "reason")
CROP_STREAM = 0x43524F50  # SeedSequence spawn key of the crop-box generator (pipeline nodes use small keys)
PHASES = ("read", "hash", "decode", "degrade", "encode", "write")


class DatasetExistsError(FileExistsError):
    """The output folder holds something other than this dataset (use force=True to replace it)."""


def sample_seed(seed: int, source_id: str, index: int, epoch: int = 0) -> int:
    """Per-sample seed in [0, 2**63): a SHA-256 of (seed, source id, sample index[, epoch]).

    Stable across processes, machines and Python versions; epoch 0 is the seed ``synthesize`` uses.
    """
    key = f"oldphoto-sample\0{seed}\0{source_id}\0{index}" + (f"\0epoch={epoch}" if epoch else "")
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1


def crop_box(seed: int, width: int, height: int, crop: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of a ``crop``-px square drawn uniformly from the sample's seed; 0 = whole image."""
    if crop == 0:
        return 0, 0, width, height
    if crop > min(width, height):
        raise ValueError(f"crop {crop} px does not fit a {width}x{height} image")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(CROP_STREAM,)))
    x = int(rng.integers(0, width - crop, endpoint=True))
    y = int(rng.integers(0, height - crop, endpoint=True))
    return x, y, crop, crop


def make_pair(image: np.ndarray, pipeline: degrade.Pipeline, seed: int, crop: int):
    """Crop ``image`` at the box drawn from ``seed`` and degrade it with ``seed``: (box, Result)."""
    x, y, w, h = crop_box(seed, image.shape[1], image.shape[0], crop)
    return (x, y, w, h), pipeline(np.ascontiguousarray(image[y:y + h, x:x + w]), seed=seed)


@dataclass(frozen=True)
class SampleTask:
    """Everything one sample depends on (besides the run's pipeline); picklable.

    ``source_path`` is the file read here; ``source_record`` the same path as the manifest records
    it (:meth:`Source.record`: relative to the source root, the same on every machine).
    """

    id: str
    source_id: str
    source_path: str
    source_record: str
    sample_index: int
    seed: int
    crop: int
    min_side: int
    max_pixels: int


@dataclass(frozen=True)
class RunConfig:
    """What every sample of a run shares: the output folder and the pipeline (None = unpaired)."""

    out: str
    preset: str
    pipeline: dict | None
    png_stored: bool = False


@dataclass
class SampleOutcome:
    """A manifest row (written sample) or a skip reason."""

    task: SampleTask
    row: dict | None = None
    reason: str | None = None


@dataclass
class GroupOutcome:
    """The outcomes of one photo's samples, plus worker seconds per phase (see PHASES)."""

    outcomes: list[SampleOutcome]
    seconds: dict = field(default_factory=dict)


def run_samples(tasks: list[SampleTask], config: RunConfig, pipeline: degrade.Pipeline | None) -> GroupOutcome:
    """Make and write samples of one source photo (read, hashed and decoded once for all of them).

    Each sample's files depend on its own task only. Unreadable, too small or undegradable photos
    give skip reasons instead of rows.
    """
    group = GroupOutcome([])
    clock = time.perf_counter()

    def tick(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        group.seconds[phase] = group.seconds.get(phase, 0.0) + now - clock
        clock = now

    def skip_all(reason: str) -> GroupOutcome:
        group.outcomes = [SampleOutcome(task, reason=reason) for task in tasks]
        return group

    first = tasks[0]
    path = Path(first.source_path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return skip_all(f"cannot read file ({exc.strerror or exc})")
    tick("read")
    sha = hashlib.sha256(data).hexdigest()
    tick("hash")
    try:
        image = read_rgb(path, first.max_pixels, data=data)
    except ImageReadError as exc:
        return skip_all(str(exc).removeprefix(f"{path}: "))
    tick("decode")
    height, width = image.shape[:2]
    if min(width, height) < first.min_side:
        return skip_all(f"too small: {width}x{height}, a side is under {first.min_side} px")
    for task in tasks:
        group.outcomes.append(_make_sample(task, config, pipeline, image, sha, tick))
    return group


def _make_sample(task: SampleTask, config: RunConfig, pipeline: degrade.Pipeline | None, image: np.ndarray,
                 sha: str, tick) -> SampleOutcome:
    try:
        if pipeline is None:
            box = crop_box(task.seed, image.shape[1], image.shape[0], task.crop)
            files = {"degraded": image[box[1]:box[1] + box[3], box[0]:box[0] + box[2]]}
            params = {}
        else:
            box, res = make_pair(image, pipeline, task.seed, task.crop)
            files = {"degraded": res.image, "clean": res.target,
                     "masks": encode_masks(res.masks, res.image.shape[:2])}
            params = res.params
    except ValueError as exc:
        return SampleOutcome(task, reason=f"degradation failed: {exc}")
    tick("degrade")
    encoded = {sub: encode_png(array, config.png_stored) for sub, array in files.items()}
    tick("encode")
    for sub, payload in encoded.items():
        write_bytes(Path(config.out) / sub / f"{task.id}.png", payload)
    tick("write")
    return SampleOutcome(task, row={
        "id": task.id, "source_id": task.source_id, "source_path": task.source_record, "source_sha256": sha,
        "sample_index": task.sample_index, "crop_x": box[0], "crop_y": box[1], "crop_w": box[2],
        "crop_h": box[3], "seed": task.seed, "preset": config.preset,
        "params": json.dumps(params, separators=(",", ":"), sort_keys=True)})


# --- the job an engine runs: one group of samples (one source photo) per item -----------------------

def _group_state(config: RunConfig) -> tuple[RunConfig, degrade.Pipeline | None]:
    """A worker's state: the run config and its pipeline, built once from its dict form."""
    return config, degrade.Pipeline.from_dict(config.pipeline) if config.pipeline else None


def _run_group(state: tuple[RunConfig, degrade.Pipeline | None], tasks: list[SampleTask]) -> GroupOutcome:
    return run_samples(tasks, *state)


def synthesis_job(config: RunConfig) -> Job:
    """The engine job of a run: ``run_samples`` over groups of tasks (see :mod:`.engines`)."""
    return Job("synthesize", _group_state, config, _run_group)


# --- output folder: identity, journal, manifest -------------------------------------------------------

def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _prepare_out(out: Path, arguments: dict, force: bool) -> dict | None:
    """Check the folder may hold this dataset; return its previous dataset.json when resuming."""
    if out.exists() and not out.is_dir():
        raise DatasetExistsError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    previous = _read_json(out / "dataset.json")
    if previous is not None and previous.get("arguments") == arguments:
        return previous
    if previous is not None:
        old = previous.get("arguments", {})
        differ = sorted(k for k in set(old) | set(arguments) if old.get(k) != arguments.get(k))
        problem = f"holds a different dataset (differs in: {', '.join(differ) or 'format'})"
    elif any(out.iterdir()):
        problem = "is not empty and holds no oldphoto dataset"
    else:
        return None
    if not force:
        raise DatasetExistsError(f"{out}: {problem}; use --force to replace it, or another --out")
    for name in OUTPUT_NAMES:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    return None


def _remove_stale_temps(out: Path) -> None:
    """Delete temp files a killed run left behind (``.NAME.*.tmp``, see write_bytes)."""
    for folder in (out, *(out / sub for sub in SUBDIRS)):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink()


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Rows of a ``manifest.csv`` (or of the dataset folder holding one) as dicts of strings."""
    path = Path(path)
    path = path / "manifest.csv" if path.is_dir() else path
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _csv_bytes(columns: tuple[str, ...], rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _journal_rows(out: Path) -> dict[str, dict]:
    """Rows of samples finished earlier: the journal of a killed run, or the manifest of a finished one."""
    rows: dict[str, dict] = {}
    if (out / "manifest.csv").is_file():
        rows.update({r["id"]: r for r in read_manifest(out / "manifest.csv")})
    for row in read_journal(out / JOURNAL):
        rows[row["id"]] = {k: str(v) for k, v in row.items()}
    return rows


def _files_present(out: Path, sample_id: str, paired: bool) -> bool:
    subs = SUBDIRS if paired else ("degraded",)
    return all((out / sub / f"{sample_id}.png").is_file() for sub in subs)


# --- the run ---------------------------------------------------------------------------------------------

@dataclass
class Summary:
    """What a run did. ``startup_s`` and ``shutdown_s``: the engine's fixed costs within ``elapsed_s``
    (starting and stopping its workers); ``seconds``: per-phase worker seconds summed over the samples
    made this run."""

    out: Path
    planned: int
    written: int
    skipped: int
    made: int
    resumed: int
    elapsed_s: float
    startup_s: float
    shutdown_s: float
    seconds: dict
    skip_reasons: list

    @property
    def busy_s(self) -> float:
        """Seconds of the run without the engine's start-up and shut-down."""
        return self.elapsed_s - self.startup_s - self.shutdown_s

    def lines(self) -> list[str]:
        """A one-screen human summary."""
        rate = self.made / max(self.busy_s, 1e-9)
        total = sum(self.seconds.values()) or 1.0
        out = [f"dataset: {self.out}",
               f"samples: {self.written} written of {self.planned} planned ({self.made} made now, "
               f"{self.resumed} kept from an earlier run), {self.skipped} skipped",
               f"time: {self.elapsed_s:.1f} s ({self.startup_s:.1f} s start-up, {self.shutdown_s:.1f} s shut-down), "
               f"{rate:.1f} samples/s",
               "worker time: " + ", ".join(f"{p} {100 * self.seconds.get(p, 0) / total:.0f}%" for p in PHASES)]
        for reason, count in Counter(r.split(" (")[0] for r in self.skip_reasons).most_common(5):
            out.append(f"  skipped {count}: {reason}")
        if self.skip_reasons:
            out.append(f"  full list: {self.out / 'skipped.csv'}")
        return out


def plan(source: Source, seed: int, crop: int, per_image: int, limit: int | None, min_side: int,
         max_pixels: int) -> list[SampleTask]:
    """The samples of a run in plan order: the first ``limit`` source photos, ``per_image`` each."""
    items = source.items[:limit] if limit is not None else source.items
    return [SampleTask(f"{item.id}_{k}", item.id, str(item.path), source.record(item.path), k,
                       sample_seed(seed, item.id, k), crop, min_side, max_pixels)
            for item in items for k in range(per_image)]


def synthesize(source: Source, out: str | os.PathLike, preset: str = "bopbtl-code",
               pipeline: degrade.Pipeline | None = None, seed: int = 0, crop: int = 256,
               per_image: int = 1, limit: int | None = None, min_side: int | None = None,
               workers: int = 1, force: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS,
               png_stored: bool = False, progress: bool = True, engine: str = "pool",
               scheduler: str | None = None) -> Summary:
    """Write a paired dataset from ``source`` into ``out`` (see docs/datasets.md).

    ``crop``: square side in px (0 = whole photos); ``min_side`` (default ``crop``, never less):
    photos with a side under it are skipped. ``pipeline`` overrides the named ``preset``. Unpaired
    sources (``real``) are written as ``degraded/`` only, without a pipeline. Reruns with the same
    arguments resume; a folder holding anything else is refused unless ``force``. ``png_stored``:
    write uncompressed PNGs (about 4x faster to encode, about 1.8x larger).

    ``engine``: ``pool`` (``workers`` local processes) or ``dask`` (a Dask cluster: the one at the
    ``scheduler`` address, else a local one of ``workers`` one-thread workers; see docs/cluster.md).
    The output bytes depend on neither.
    """
    min_side = crop if min_side is None else min_side
    _check_arguments(seed, crop, per_image, workers, limit, min_side, engine, scheduler)
    out = _output_folder(out, source)
    preset, pipeline_dict = _run_pipeline(source, preset, pipeline)
    arguments = {"source": source.describe(), "preset": preset, "pipeline": pipeline_dict, "seed": seed,
                 "crop": crop, "per_image": per_image, "limit": limit, "min_side": min_side,
                 "max_pixels": max_pixels, "png_stored": png_stored}
    started = time.perf_counter()
    previous = _prepare_out(out, arguments, force)
    _remove_stale_temps(out)
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "oldphoto_version": __version__,
              "arguments": arguments, "mask_bits": MASK_BITS if source.paired else None}
    if previous is None:
        write_bytes(out / "dataset.json", _json_bytes({**header, "status": "incomplete"}))
    tasks = plan(source, seed, crop, per_image, limit, min_side, max_pixels)
    done = {k: v for k, v in _journal_rows(out).items() if _files_present(out, k, source.paired)}
    tally = RunTally(dict(done))
    pending = [t for t in tasks if t.id not in done]
    runner = RunnerSettings(engine, workers, scheduler, progress)
    closed = _make_samples(RunConfig(str(out), preset, pipeline_dict, png_stored), pending, len(tasks), runner, tally)
    written = _write_results(out, header, source, tasks, tally)
    return Summary(out, len(tasks), written, len(tasks) - written, tally.made, len(done),
                   time.perf_counter() - started, closed.startup_s, closed.shutdown_s, tally.seconds,
                   [r for _, r in tally.reasons.values()] + [r for _, r in source.rejected])


def _check_arguments(seed: int, crop: int, per_image: int, workers: int, limit: int | None, min_side: int,
                     engine: str, scheduler: str | None) -> None:
    """ValueError for the first of synthesize's arguments out of range (the engine checked by check_engine)."""
    if seed < 0 or crop < 0 or per_image < 1 or workers < 1 or (limit is not None and limit < 0):
        raise ValueError("synthesize: seed and crop must be >= 0, per_image and workers >= 1, limit >= 0")
    check_engine(engine, scheduler)
    if min_side < crop:
        raise ValueError(f"synthesize: min_side ({min_side}) must be >= crop ({crop}): "
                         "smaller photos cannot be cropped")


def _output_folder(out: str | os.PathLike, source: Source) -> Path:
    """``out`` as an absolute path (SourceError when it lies inside the source root)."""
    out = Path(out).expanduser().resolve()
    if source.root is not None and out.is_relative_to(source.root):
        raise SourceError(f"{out}: the output folder must not be inside the source root {source.root}")
    return out


def _run_pipeline(source: Source, preset: str, pipeline: degrade.Pipeline | None) -> tuple[str, dict | None]:
    """The run's preset name and pipeline dict: ``pipeline`` or the named preset; ("none", None) when unpaired."""
    if not source.paired:
        return "none", None
    pipeline = pipeline if pipeline is not None else degrade.preset(preset)
    return pipeline.name or preset, pipeline.to_dict()


@dataclass(frozen=True)
class RunnerSettings:
    """How a run's samples are made: engine (``pool`` or ``dask``), workers, Dask scheduler, progress bar."""

    engine: str
    workers: int
    scheduler: str | None
    progress: bool


@dataclass
class RunTally:
    """What a run has so far: manifest rows by sample id, (source path, skip reason) by source id,
    worker seconds per phase and the number of samples made now."""

    rows: dict[str, dict]
    reasons: dict[str, tuple[str, str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))
    made: int = 0

    def add(self, group: GroupOutcome) -> str:
        """Count in the outcomes of one photo; returns the journal lines of its written samples."""
        for phase, s in group.seconds.items():
            self.seconds[phase] += s
        lines = []
        for outcome in group.outcomes:
            if outcome.row is None:
                self.reasons[outcome.task.source_id] = (outcome.task.source_record, outcome.reason)
                continue
            self.rows[outcome.task.id] = {k: str(v) for k, v in outcome.row.items()}
            self.made += 1
            lines.append(json.dumps(outcome.row) + "\n")
        return "".join(lines)


def _make_samples(config: RunConfig, pending: list[SampleTask], total: int, runner: RunnerSettings,
                  tally: RunTally) -> PoolEngine | DaskEngine:
    """Make the ``pending`` samples of a ``total``-sample run, one engine item per source photo,
    journalling each photo's rows as it finishes; returns the engine, closed (its fixed costs)."""
    from tqdm import tqdm

    groups: dict[str, list[SampleTask]] = {}
    for task in pending:
        groups.setdefault(task.source_id, []).append(task)
    out = Path(config.out)
    # unbuffered: a full disk fails the write that hit it, and a cut-short line is skipped on resume
    with _open_journal(out / JOURNAL) as journal, tqdm(total=total, initial=total - len(pending), unit="sample",
                                                       disable=not runner.progress, smoothing=0.05) as bar, \
            open_engine(runner.engine, runner.workers, runner.scheduler) as engine:
        for group in engine.map(synthesis_job(config), list(groups.values())):
            _append(journal, tally.add(group))
            bar.update(len(group.outcomes))
    return engine


def _write_results(out: Path, header: dict, source: Source, tasks: list[SampleTask], tally: RunTally) -> int:
    """Write manifest.csv (plan order), skipped.csv and the complete dataset.json, drop the journal;
    returns the number of samples in the manifest."""
    _remove_stale_temps(out)  # a worker killed mid-write (Dask reruns its task) leaves a temp file
    rows = tally.rows
    ordered = [{**rows[t.id], "source_path": t.source_record} for t in tasks if t.id in rows]  # v1 rows: absolute
    skipped = [{"source_id": sid, "source_path": p, "reason": r}
               for sid, (p, r) in sorted(tally.reasons.items(), key=lambda kv: kv[0])]
    skipped += [{"source_id": "", "source_path": source.record(p), "reason": r} for p, r in source.rejected]
    write_bytes(out / "manifest.csv", _csv_bytes(MANIFEST_COLUMNS, ordered))
    write_bytes(out / "skipped.csv", _csv_bytes(SKIPPED_COLUMNS, skipped))
    counts = {"planned": len(tasks), "written": len(ordered), "skipped_sources": len(skipped),
              "skipped_samples": len(tasks) - len(ordered)}
    write_bytes(out / "dataset.json", _json_bytes({**header, "status": "complete", "counts": counts}))
    (out / JOURNAL).unlink()
    return len(ordered)


def _open_journal(path: Path):
    """The journal, opened unbuffered for appending (WriteError naming it when it cannot be)."""
    try:
        return open(path, "ab", buffering=0)
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror, str(path)) from None


def _append(journal, text: str) -> None:
    """Append ``text`` to the journal in full (WriteError naming it when the disk is full)."""
    data = text.encode()
    try:
        while data:
            data = data[journal.write(data):]
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror, journal.name) from None


def _json_bytes(data: dict) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


@dataclass
class Sample:
    """One regenerated sample: uint8 RGB ``clean`` and ``degraded`` and bool ``masks`` per family."""

    clean: np.ndarray | None
    degraded: np.ndarray
    masks: dict


def regenerate_sample(row: dict, source_root: str | os.PathLike | None = None, check_source: bool = True) -> Sample:
    """Recompute a sample from its manifest row (source file, crop box, recorded params).

    ``source_root``: the folder the row's ``source_path`` is relative to, as the dataset was made
    (``dataset_info(DIR)["arguments"]["source"]["root"]``) or wherever that source lies now; None
    for the builtin source. ``check_source``: verify the file's SHA-256 against the row first
    (ValueError if it changed). The PNG encodings of the result equal the dataset's files byte for byte.
    """
    path = locate(row["source_path"], source_root)
    data = path.read_bytes()
    if check_source and hashlib.sha256(data).hexdigest() != row["source_sha256"]:
        raise ValueError(f"{path}: the file changed since sample {row['id']} was made (SHA-256 differs)")
    image = read_rgb(path, max_pixels=2**62, data=data)  # accepted once already; the hash vouches for it
    x, y, w, h = (int(row[k]) for k in ("crop_x", "crop_y", "crop_w", "crop_h"))
    patch = np.ascontiguousarray(image[y:y + h, x:x + w])
    params = json.loads(row["params"])
    if not params:
        return Sample(None, patch, {})
    res = degrade.replay(patch, params)
    return Sample(res.target, res.image, res.masks)


def dataset_info(folder: str | os.PathLike) -> dict:
    """The ``dataset.json`` of a synthesized folder (ValueError when missing or unreadable)."""
    info = _read_json(Path(folder) / "dataset.json")
    if info is None or info.get("format") != FORMAT:
        raise ValueError(f"{folder}: not an oldphoto dataset (no readable dataset.json)")
    return info


__all__ = ["DatasetExistsError", "GroupOutcome", "RunConfig", "Sample", "SampleTask", "Summary", "crop_box",
           "dataset_info", "make_pair", "plan", "read_manifest", "regenerate_sample", "run_samples", "sample_seed",
           "synthesize"]
