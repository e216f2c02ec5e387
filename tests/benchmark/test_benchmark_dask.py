"""oldphoto benchmark --engine dask: the same rows, tables and images as the default engine, resume,
a failing model, and the errors. An in-process LocalCluster (2 one-thread workers, threads not
processes) serves the module, so models patched in by a test are created on its workers too."""

from __future__ import annotations

import csv
import shutil
import sys

import numpy as np
import pytest

from oldphoto import models
from oldphoto.benchmark.runner import BenchmarkError, run_benchmark
from oldphoto.datasets.imageio import read_rgb
from oldphoto.models.base import Restorer

NEEDS_DASK = "dask/distributed not installed (pip install 'oldphoto[dask]'); the error path is tested without it"
TIMINGS = {"seconds", "seconds_per_mp", "peak_memory_mib"}  # measured, so never equal between runs


@pytest.fixture(scope="module")
def data(paired_set):
    """A 4-sample paired dataset of 48 px crops from the builtin photos."""
    return paired_set("scratches-only", 4)


@pytest.fixture(scope="module")
def scheduler():
    distributed = pytest.importorskip("distributed", reason=NEEDS_DASK)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as local:
        yield local.scheduler_address


def quiet(_line):
    pass


def bench(names, data, out, **kw):
    kw.setdefault("metric_names", ["psnr", "ssim"])
    return run_benchmark(names, data, out, device="cpu", progress=False, log=quiet, **kw)


def table(path):
    """A CSV's rows without the measured timing columns."""
    with open(path, newline="") as f:
        return [{k: v for k, v in row.items() if k not in TIMINGS} for row in csv.DictReader(f)]


def same_run(a, b):
    for name in ("per_image.csv", "summary.csv", "differences.csv", "models.csv"):
        assert table(a / name) == table(b / name), name
    images = sorted(p.relative_to(a) for p in (a / "images").rglob("*.png"))
    assert images == sorted(p.relative_to(b) for p in (b / "images").rglob("*.png"))
    for rel in images:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


# --- smoke ---------------------------------------------------------------------------------------

def test_same_outputs_as_the_default_engine(data, tmp_path, scheduler):
    bench(["input", "classical"], data, tmp_path / "pool", references=("input",))
    result = bench(["input", "classical"], data, tmp_path / "dask", engine="dask", scheduler=scheduler)
    assert not result.failed and len(table(tmp_path / "dask" / "per_image.csv")) == 8
    assert all(float(s["peak_memory_mib"]) > 0 for s in csv.DictReader(open(tmp_path / "dask" / "models.csv")))
    same_run(tmp_path / "pool", tmp_path / "dask")


# --- exceptions ----------------------------------------------------------------------------------

def test_without_dask_it_says_how_to_install_it(data, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(BenchmarkError, match=r"pip install 'oldphoto\[dask\]'"):
        bench(["input"], data, tmp_path, engine="dask")
    with pytest.raises(BenchmarkError, match="--engine dask only"):
        bench(["input"], data, tmp_path, workers=2)


class FailsOnOne(Restorer):
    """Fails on one given image, whichever worker or process restores it."""

    name = "fails-on-one"

    def __init__(self, bad: np.ndarray) -> None:
        self.bad = bad

    def restore_one(self, image, mask):
        if np.array_equal(image, self.bad):
            raise RuntimeError("deliberate failure")
        return image.copy()


def test_a_failing_model_stops_at_the_same_sample(data, tmp_path, scheduler, monkeypatch):
    bad = read_rgb(sorted((data / "degraded").glob("*.png"))[1])
    real_create = models.create
    monkeypatch.setattr(models, "create",
                        lambda name, **kw: FailsOnOne(bad) if name == "broken" else real_create(name, **kw))
    bench(["broken", "input"], data, tmp_path / "pool")
    result = bench(["broken", "input"], data, tmp_path / "dask", engine="dask", scheduler=scheduler)
    assert [s.model for s in result.failed] == ["broken"] and "on sample" in result.failed[0].error
    assert table(tmp_path / "dask" / "per_image.csv") == table(tmp_path / "pool" / "per_image.csv")
    assert table(tmp_path / "dask" / "models.csv") == table(tmp_path / "pool" / "models.csv")


# --- numerical values: resume --------------------------------------------------------------------

def test_resume_scores_only_the_missing_metric_on_the_cluster(data, tmp_path, scheduler):
    bench(["classical"], data, tmp_path / "pool", metric_names=["psnr"])
    shutil.copytree(tmp_path / "pool", tmp_path / "dask")
    stamp = {p: p.stat().st_mtime_ns for p in (tmp_path / "dask" / "images").rglob("*.png")}
    bench(["classical"], data, tmp_path / "dask", engine="dask", scheduler=scheduler)
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp  # kept images were not restored again
    bench(["classical"], data, tmp_path / "pool")  # kept psnr values come from per_image.csv in both
    same_run(tmp_path / "pool", tmp_path / "dask")
    assert "ssim" in table(tmp_path / "dask" / "per_image.csv")[0]
