"""Bootstrap intervals and paired differences: numbers, determinism, errors, the runner's files, the
leaderboard and report display."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from oldphoto.benchmark import metrics, rundir
from oldphoto.benchmark.intervals import (
    Bootstrap,
    RunIntervals,
    better_of,
    counted_values,
    mean_draws,
    set_draws,
    wilcoxon_p,
)
from oldphoto.benchmark.leaderboard import render_table, update
from oldphoto.benchmark.report import write_report
from oldphoto.benchmark.runner import run_benchmark
from oldphoto.cli import main


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- numerical values ------------------------------------------------------------------------------

def test_interval_of_a_normal_mean_matches_the_textbook_one():
    rng = np.random.default_rng(1)
    values = rng.normal(10.0, 2.0, 400)
    boot = Bootstrap(resamples=2000)
    low, high = boot.interval(mean_draws(values, boot.indices((400,), 2000)[0]))
    half = 1.96 * values.std(ddof=1) / math.sqrt(400)
    assert low < values.mean() < high
    assert (high - low) / 2 == pytest.approx(half, rel=0.1)


def test_mean_draws_leave_nan_out_and_give_nan_for_empty_draws():
    values = np.array([1.0, np.nan, 3.0])
    draws = mean_draws(values, np.array([[0, 2, 2], [1, 1, 1], [0, 1, 1]]))
    np.testing.assert_allclose(draws[[0, 2]], [7 / 3, 1.0])
    assert math.isnan(draws[1])
    assert all(math.isnan(v) for v in Bootstrap().interval(np.array([np.nan, 1.0])))  # one finite draw: none


def test_counted_values_clip_like_the_metric_mean():
    np.testing.assert_array_equal(counted_values(metrics.create("psnr", max_db=80), [math.inf, 30.0]), [80.0, 30.0])


def test_shifted_model_differs_by_the_shift_and_identical_ones_do_not():
    rng = np.random.default_rng(2)
    base = rng.normal(20, 3, 50)
    shifted = base + 0.5 + rng.normal(0, 0.05, 50)
    d = shifted - base
    boot = Bootstrap()
    low, high = boot.interval(mean_draws(d, boot.indices((50,), boot.resamples)[0]))
    assert 0.45 < low < 0.5 < high < 0.55
    assert wilcoxon_p(d) < 1e-8
    assert wilcoxon_p(np.zeros(10)) == 1.0 and math.isnan(wilcoxon_p(np.array([np.nan])))
    assert better_of(low, high, higher_is_better=True) == "model"
    assert better_of(low, high, higher_is_better=False) == "reference"
    assert better_of(-0.1, 0.2, True) == "neither" and better_of(math.nan, math.nan, True) == "neither"


def test_set_draws_pair_rows_only_when_paired():
    seen = []

    def distance(a, b):
        seen.append((a[:, 0].tolist(), b[:, 0].tolist()))
        return 0.0

    pred = np.arange(5.0)[:, None]
    set_draws(distance, pred, pred + 100, Bootstrap(set_resamples=20), paired=True)
    assert all([p + 100 for p in a] == b for a, b in seen)
    seen.clear()
    set_draws(distance, pred, np.arange(100.0, 107.0)[:, None], Bootstrap(set_resamples=20), paired=False)
    assert all(len(b) == 7 for _, b in seen) and any([p + 100 for p in a] != b[:5] for a, b in seen)
    with pytest.raises(ValueError, match="paired sets differ in size: 5 and 7"):
        set_draws(distance, pred, np.zeros((7, 1)), Bootstrap(), paired=True)


def test_draws_are_fixed_by_the_seed():
    a, b, c = (Bootstrap(seed=s).indices((30, 8), 50) for s in (0, 0, 1))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=False)) and not np.array_equal(a[0], c[0])


# --- exceptions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [({"resamples": 1}, "resamples must be >= 2"),
                                           ({"set_resamples": 0}, "resamples must be >= 2"),
                                           ({"level": 1.0}, r"level must be in \(0, 1\)")])
def test_bad_bootstrap(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Bootstrap(**kwargs)


def test_failing_set_bootstrap_is_reported_not_raised():
    class Broken:
        def feature_sets(self):
            raise RuntimeError("no features")

    errors = []
    intervals = RunIntervals(Bootstrap(), ["input"], lambda *args: errors.append(args))
    intervals.add_set("m", "d", "fid", Broken(), paired=True)
    assert errors[0][:3] == ("fid", "d", "the bootstrap of m's set") and "no features" in str(errors[0][3])


# --- in the benchmark ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def data(paired_set):
    return paired_set("bopbtl-paper", 8)


@pytest.fixture(scope="module")
def run(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("run")
    run_benchmark(["input", "classical"], data, out, metric_names=["psnr", "ssim"], device="cpu", progress=False,
                  log=lambda line: None, bootstrap=Bootstrap(resamples=500))
    return out


def test_runner_writes_intervals_and_differences(run):
    summary = {(r["model"], r["metric"]): r for r in read(run / "summary.csv")}
    for row in summary.values():
        assert float(row["ci_low"]) <= float(row["mean"]) <= float(row["ci_high"])
        assert row["resamples"] == "500" and row["seed"] == "0"
    diffs = read(run / "differences.csv")
    assert list(diffs[0]) == list(rundir.DIFFERENCE_COLUMNS)
    assert {(d["model"], d["reference"], d["metric"]) for d in diffs} == {("classical", "input", "psnr"),
                                                                        ("classical", "input", "ssim")}
    per_image = read(run / "per_image.csv")
    psnr = {r["model"]: {x["sample"]: float(x["psnr"]) for x in per_image if x["model"] == r["model"]}
            for r in per_image}
    d = np.array([psnr["classical"][s] - psnr["input"][s] for s in sorted(psnr["input"])])
    row = next(x for x in diffs if x["metric"] == "psnr")
    assert float(row["difference"]) == pytest.approx(d.mean(), rel=1e-5) and row["n"] == "8"
    from scipy.stats import wilcoxon
    assert float(row["p_value"]) == pytest.approx(wilcoxon(d).pvalue, rel=1e-5)
    assert row["better"] == better_of(float(row["ci_low"]), float(row["ci_high"]), True)
    meta = json.loads((run / "run.json").read_text())["intervals"]
    assert meta["references"] == ["input"] and meta["resamples"] == 500 and meta["level"] == 0.95


def test_rerun_gives_the_same_bytes(tmp_path, run, data):
    run_benchmark(["input", "classical"], data, tmp_path, metric_names=["psnr", "ssim"], device="cpu", progress=False,
                  log=lambda line: None, bootstrap=Bootstrap(resamples=500))
    for name in ("summary.csv", "differences.csv"):
        assert (tmp_path / name).read_bytes() == (run / name).read_bytes(), name


def test_set_level_metric_gets_a_set_interval(tmp_path, data, needs_weights, monkeypatch):
    needs_weights("lpips-vgg16")
    from oldphoto.benchmark.metrics.feature_set import FeatureSetMetric

    roles = []
    extract = FeatureSetMetric.image_features
    monkeypatch.setattr(FeatureSetMetric, "image_features",
                        lambda self, images, role="target": roles.append(role) or extract(self, images, role))
    run_benchmark(["input", "classical"], data, tmp_path, metric_names=["wasserstein"], device="cpu", progress=False,
                  log=lambda line: None, bootstrap=Bootstrap(set_resamples=20))
    rows = read(tmp_path / "summary.csv")
    assert all(r["resamples"] == "20" and float(r["ci_low"]) < float(r["ci_high"]) for r in rows)
    (diff,) = read(tmp_path / "differences.csv")
    assert diff["test"].startswith("none:set-level") and diff["p_value"] == ""
    assert sorted(roles) == ["pred", "pred", "target"]  # the clean set's features are made once per run


def test_leaderboard_and_report_show_half_widths_and_marks(run, tmp_path):
    update(run, tmp_path / "board")
    rows = {r["model"]: r for r in read(tmp_path / "board" / "builtin-bopbtl-paper.csv")}
    summary = {(r["model"], r["metric"]): r for r in read(run / "summary.csv")}
    diff = {d["metric"]: d for d in read(run / "differences.csv")}
    assert rows["classical"]["reference"] == "input" and rows["classical"]["psnr_p"] == diff["psnr"]["p_value"]
    assert rows["input"]["psnr_ci_low"] == summary[("input", "psnr")]["ci_low"]
    readme = (tmp_path / "board" / "README.md").read_text()
    half = (float(summary[("input", "psnr")]["ci_high"]) - float(summary[("input", "psnr")]["ci_low"])) / 2
    assert f"{float(summary[('input', 'psnr')]['mean']):.4g} ± {half:.2g}" in readme
    assert "Marks compare with `input`." in readme
    cell = next(line for line in readme.splitlines() if line.startswith("| `classical` |")).split(" | ")[2]
    assert cell.strip("*").startswith(f"{float(summary[('classical', 'psnr')]['mean']):.4g}")
    expected = {"model": "▲", "reference": "▼", "neither": None}[diff["psnr"]["better"]]
    assert " ± " in cell and (cell[-1] == expected if expected else cell[-1] not in "▲▼")
    page = write_report(run).read_text()
    assert "95% interval [" in page and "minus input:" in page and "Wilcoxon p" in page


def test_marks_only_where_the_difference_interval_excludes_zero():
    psnr = {"convention": "psnr", "higher_is_better": True}
    base = {"config": "", "n": "9", "psnr": "20", "psnr_ci_low": "19", "psnr_ci_high": "21", "seconds_per_mp": "1",
            "params": "0", "device": "cpu", "commit": "x"}
    rows = [{**base, "model": "a", "psnr_diff_ci_low": "0.1", "psnr_diff_ci_high": "0.9"},
            {**base, "model": "b", "psnr_diff_ci_low": "-0.1", "psnr_diff_ci_high": "0.9"},
            {**base, "model": "c", "psnr_diff_ci_low": "-0.9", "psnr_diff_ci_high": "-0.1"},
            {"model": "old", "config": "", "n": "9", "psnr": "20", "seconds_per_mp": "1", "params": "0",
             "device": "cpu", "commit": "x"}]
    lines = render_table(rows, {"psnr": psnr})
    assert lines[2].startswith("| `a` | 9 | **20** ± 1 ▲ |")
    assert lines[3].startswith("| `b` | 9 | **20** ± 1 |")
    assert lines[4].startswith("| `c` | 9 | **20** ± 1 ▼ |")
    assert lines[5].startswith("| `old` | 9 | **20** |")  # a row of an older run: no interval


def test_cli_reference_and_resamples(tmp_path, data):
    res = CliRunner().invoke(main, ["benchmark", "--models", "input,classical", "--data", str(data),
                                    "--metrics", "psnr", "--out", str(tmp_path), "--reference", "classical",
                                    "--resamples", "50", "--no-progress"])
    assert res.exit_code == 0, res.output
    (diff,) = read(tmp_path / "differences.csv")
    assert (diff["model"], diff["reference"], diff["resamples"]) == ("input", "classical", "50")
