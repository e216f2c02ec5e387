"""The main job on the embedded default photos: what `make demo` runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2

from oldphoto import degrade
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.degrade.gallery import contact_sheet, pipeline_rows

GALLERY_PHOTOS = ("astronaut", "chelsea", "coffee")
# The builtin benchmark (bounded so `make demo` stays under 15 minutes on 2 CPU cores): the first
# BENCH_SAMPLES builtin photos, one BENCH_CROP crop each; Deep Image Prior with few iterations.
BENCH_PRESET = "bopbtl-paper"
BENCH_CROP = 256
BENCH_SAMPLES = 12
BENCH_CONFIGS = {"dip": {"iterations": 200}}


def _gallery_images(names=GALLERY_PHOTOS, side: int = 256) -> dict:
    paths = builtin_paths()
    images = {}
    for name in names:
        image = read_rgb(paths[name])
        s = side / min(image.shape[:2])
        images[name] = cv2.resize(image, (round(image.shape[1] * s), round(image.shape[0] * s)),
                                  interpolation=cv2.INTER_AREA)
    return images


def preset_gallery(out: Path, seed: int = 0, photos: tuple[str, ...] = GALLERY_PHOTOS) -> None:
    """Contact sheet of every preset on a few builtin ``photos`` (clean | degraded | mask overlay)."""
    unknown = sorted(set(photos) - set(builtin_paths()))
    if unknown:
        raise ValueError(f"unknown builtin photo(s) {unknown}; available: {sorted(builtin_paths())}")
    images = _gallery_images(photos)
    rows = []
    for name in degrade.list_presets():
        rows += pipeline_rows(degrade.preset(name), images, seed=seed)
    write_image(out, contact_sheet(rows))


def run_demo(out: Path, seed: int = 0, leaderboard: Path | None = Path("leaderboard"),
             log: Callable[[str], None] = print) -> Iterator[str]:
    """The main job: degrade every builtin photo with every preset (outputs and a contact sheet),
    then synthesize the builtin benchmark, run every registered model on it, merge the run into
    ``leaderboard`` (None: leave the leaderboard alone) and write the HTML report.

    ``log`` receives the benchmark's progress and warnings as they happen; yielded lines are the
    demo's own summary.
    """
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
    yield from run_builtin_benchmark(out / "benchmark", seed=seed, leaderboard=leaderboard, log=log)


def run_builtin_benchmark(out: Path, seed: int = 0, leaderboard: Path | None = None,
                          log: Callable[[str], None] = print) -> Iterator[str]:
    """Synthesize the builtin benchmark set (``BENCH_SAMPLES`` crops of ``BENCH_CROP`` px with
    ``BENCH_PRESET``), benchmark every registered model on it with ``BENCH_CONFIGS``, update the
    leaderboard and write the report."""
    from oldphoto import models
    from oldphoto.benchmark.leaderboard import update
    from oldphoto.benchmark.report import write_report
    from oldphoto.benchmark.runner import DEFAULT_METRICS, iter_run_lines, run_benchmark
    from oldphoto.datasets.sources import make_source
    from oldphoto.datasets.synthesize import synthesize

    data = out / "data"
    summary = synthesize(make_source("builtin"), data, preset=BENCH_PRESET, seed=seed, crop=BENCH_CROP,
                         limit=BENCH_SAMPLES, progress=False)
    yield f"benchmark data: {summary.written} samples -> {data}"
    names = models.list_models()
    yield f"benchmarking {len(names)} models: {', '.join(names)}"
    result = run_benchmark(names, data, out / "run", metric_names=DEFAULT_METRICS, configs=BENCH_CONFIGS, log=log,
                           skip_missing_weights=True)
    yield from iter_run_lines(result)
    if leaderboard is not None:
        for path in update(result.out, leaderboard):
            yield f"leaderboard: {path}"
    yield f"report: open {write_report(result.out).resolve().as_uri()}"
