"""`oldphoto bench synthesize`: the report's runs, rounds and checks (the pool only, so it stays quick;
the Dask engine's own tests cover its runs)."""

from __future__ import annotations

import re

import pytest

from oldphoto.benchmark.speed import synthesize as bench
from oldphoto.datasets.engines import EngineError


@pytest.fixture
def without_dask(monkeypatch):
    def refuse(name, scheduler=None):
        raise EngineError("dask left out by this test")

    monkeypatch.setattr(bench, "check_engine", refuse)


def test_rounds_give_medians_with_their_range_and_fixed_costs_apart(without_dask):
    lines = list(bench.bench_synthesize(crop=32, per_image=1, repeats=2))
    assert lines[0].endswith("medians of 2 rounds")
    pool = [line for line in lines if re.match(r"  pool \d worker", line)]
    assert len(pool) == 2
    for line in pool:
        assert re.search(r"14 samples, [\d.]+ samples/s \(rounds [\d.]+-[\d.]+\) = [\d.]+x pool 1 "
                         r"\(\+[\d.]+ s start-up, \+[\d.]+ s shut-down\)", line), line
    assert "  dask engine not measured: dask left out by this test" in lines
    assert "  outputs of every engine and worker count identical: yes" in lines


def test_one_round_reports_no_range(without_dask):
    lines = list(bench.bench_synthesize(crop=32, per_image=1))
    assert "rounds" not in "".join(lines[:3])


def test_png_writer_is_timed_against_opencv_with_the_same_bytes():
    line = bench.png_writer_line("bopbtl-paper", 48, rounds=1)
    assert re.fullmatch(r"  PNG writer: [\d.]+ ms per sample against [\d.]+ through OpenCV's libpng at the same "
                        r"settings \([\d.]+x\), same bytes: yes", line), line


def test_sample_files_are_the_three_files_of_each_photo():
    arrays = bench.sample_files("bopbtl-code", 40)
    assert len(arrays) % 3 == 0 and len(arrays) >= 3
    assert all(a.shape[:2] == (40, 40) and a.dtype.name == "uint8" for a in arrays)
    assert [a.ndim for a in arrays[:3]] == [3, 3, 2]  # degraded, clean, packed masks
