"""`oldphoto bench synthesize`: samples/s of dataset synthesis on the builtin photos, 1 vs N workers,
with the process pool and (when installed) the Dask engine on a local cluster, in one run.

Rates exclude the engines' fixed costs, reported separately: start-up (the pool's, or the cluster's
and its workers' first state) and shut-down (stopping the pool, or the client and its cluster).
Ratios are against the serial run (pool, 1 worker); with several rounds, of the median rates. Phase
shares are the worker seconds spent in each phase of a sample, summed over the serial run. Every
run's output is compared file by file with the serial one, so the benchmark also checks engine and
worker-count independence. Last, the PNG writer against OpenCV's libpng at the same settings, on
the files of degraded samples (CPU time, alternated rounds), with a check that the bytes are equal.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from oldphoto import degrade
from oldphoto.datasets import png
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.engines import EngineError, check_engine
from oldphoto.datasets.imageio import read_rgb
from oldphoto.datasets.masks import encode_masks
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import PHASES, synthesize


def tree_digest(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _measure(source, runs: list[tuple[str, int]], repeats: int, **settings) -> tuple[dict, int, bool, dict]:
    """``repeats`` rounds of the ``(engine, workers)`` runs in turn: (samples/s, start-up s, shut-down
    s) per run and round, the samples made per run, whether every output equals the first, and the
    serial run's phase shares, medians over the rounds."""
    measured = {run: [] for run in runs}
    digests, shares, made = set(), {p: [] for p in PHASES}, 0
    with tempfile.TemporaryDirectory(prefix="oldphoto-bench-") as tmp:
        for round_ in range(repeats):
            for engine, n in runs:
                out = Path(tmp) / f"{engine}{n}-{round_}"
                summary = synthesize(source, out, workers=n, progress=False, engine=engine, **settings)
                measured[engine, n].append((summary.made / summary.busy_s, summary.startup_s, summary.shutdown_s))
                made = summary.made
                digests.add(tree_digest(out))
                shutil.rmtree(out)
                if (engine, n) == ("pool", 1):
                    total = sum(summary.seconds.values())
                    for p in PHASES:
                        shares[p].append(summary.seconds[p] / total)
    return measured, made, len(digests) == 1, {p: statistics.median(v) for p, v in shares.items()}


def bench_synthesize(workers: int = 2, crop: int = 256, per_image: int = 8,
                     preset: str = "bopbtl-code", repeats: int = 1) -> Iterator[str]:
    """Yield report lines: rates for 1 and ``workers`` processes, then Dask at 1 and ``workers``
    (skipped, saying why, without Dask), ratios against 1 process, phase shares (default and
    ``--png-stored`` encoding). ``repeats``: rounds of all the runs in turn; each run's figures are
    then the median over the rounds (its range beside), so load from elsewhere falls on all alike."""
    source = make_source("builtin")
    yield (f"synthesize on {len(source)} builtin photos x {per_image} samples, {crop} px crops, preset {preset}, "
           f"{os.cpu_count()} CPUs" + (f", medians of {repeats} rounds" if repeats > 1 else ""))
    runs = [("pool", 1), ("pool", workers)]
    try:
        check_engine("dask")
        runs += [("dask", 1), ("dask", workers)]
    except EngineError as exc:
        dask_missing = str(exc)
    measured, made, same, shares = _measure(source, runs, repeats, preset=preset, crop=crop, per_image=per_image)
    rates = {run: statistics.median(rate for rate, _, _ in rounds) for run, rounds in measured.items()}
    for (engine, n), rounds in measured.items():
        spread = (f" (rounds {min(r for r, _, _ in rounds):.1f}-{max(r for r, _, _ in rounds):.1f})"
                  if repeats > 1 else "")
        yield (f"  {engine} {n} worker(s): {made} samples, {rates[engine, n]:.1f} samples/s"
               f"{spread} = {rates[engine, n] / rates['pool', 1]:.2f}x pool 1 "
               f"(+{statistics.median(s for _, s, _ in rounds):.2f} s start-up, "
               f"+{statistics.median(s for _, _, s in rounds):.2f} s shut-down)")
    yield (f"  speed-up {workers} vs 1 worker: pool {rates['pool', workers] / rates['pool', 1]:.2f}x"
           + (f", dask {rates['dask', workers] / rates['dask', 1]:.2f}x" if ("dask", 1) in rates else "")
           + " (target >= 1.8x for 2 workers on 2 cores)")
    if ("dask", 1) not in rates:
        yield f"  dask engine not measured: {dask_missing}"
    yield "  worker time: " + ", ".join(f"{p} {100 * shares[p]:.1f}%" for p in PHASES)
    yield (f"  file encoding + hashing: {100 * (shares['encode'] + shares['hash']):.1f}% of the total "
           f"(target < 30%); with writing: {100 * (shares['encode'] + shares['hash'] + shares['write']):.1f}%")
    yield f"  outputs of every engine and worker count identical: {'yes' if same else 'NO'}"
    with tempfile.TemporaryDirectory(prefix="oldphoto-bench-") as tmp:
        summary = synthesize(source, Path(tmp), preset=preset, crop=crop, per_image=per_image, png_stored=True,
                             progress=False)
    share = (summary.seconds["encode"] + summary.seconds["hash"]) / sum(summary.seconds.values())
    yield (f"  with --png-stored, 1 worker: {summary.made / summary.busy_s:.1f} "
           f"samples/s, encoding + hashing {100 * share:.1f}% of the total")
    yield png_writer_line(preset, crop)


def sample_files(preset: str, crop: int) -> list[np.ndarray]:
    """The arrays a sample's three files hold (degraded, clean, packed masks), for every builtin
    photo: its central ``crop`` px square (whole when 0) degraded by ``preset`` with seed 0."""
    pipe = degrade.preset(preset)
    arrays = []
    for path in builtin_paths().values():
        image = read_rgb(path)
        h, w = image.shape[:2]
        side = min(crop, h, w)
        if side:
            image = image[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
        res = pipe(image, seed=0)
        arrays += [res.image, res.target, encode_masks(res.masks, res.image.shape[:2])]
    return arrays


def png_writer_line(preset: str, crop: int, rounds: int = 5) -> str:
    """oldphoto's PNG writer against OpenCV's libpng at the same settings, on :func:`sample_files`:
    CPU ms per sample (three files), medians of ``rounds`` alternated rounds, and whether every
    file's bytes are equal."""
    arrays = sample_files(preset, crop)
    writers = {"ours": png.encode, "opencv": png.encode_with_opencv}
    spent, files = {name: [] for name in writers}, {}
    for _ in range(rounds):
        for name, write in writers.items():
            start = time.process_time()
            files[name] = [write(array) for array in arrays]
            spent[name].append(1000 * (time.process_time() - start) / (len(arrays) / 3))
    ours, theirs = (statistics.median(spent[name]) for name in writers)
    same = files["ours"] == files["opencv"]
    return (f"  PNG writer: {ours:.2f} ms per sample against {theirs:.2f} through OpenCV's libpng at the same "
            f"settings ({theirs / ours:.2f}x), same bytes: {'yes' if same else 'NO'}")
