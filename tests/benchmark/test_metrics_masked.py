"""Masked metrics (psnr/ssim/lpips inside the defect mask or outside it): values, errors, runner."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from oldphoto.benchmark import metrics
from oldphoto.benchmark.metrics import MetricError
from oldphoto.benchmark.runner import load_paired, read_mask, run_benchmark
from oldphoto.datasets.imageio import read_rgb
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize

MASKED = [f"{kind}-{region}" for kind in ("psnr", "ssim", "lpips") for region in ("defects", "outside")]


@pytest.fixture(scope="module")
def pair():
    """A random 64 px image, a copy changed by +40 grey levels inside a 20 px square, and that mask."""
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 200, (64, 64, 3), dtype=np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[20:40, 24:44] = True
    damaged = clean.copy()
    damaged[mask] += 40
    return damaged, clean, mask


# --- smoke -----------------------------------------------------------------------------------------

def test_registry_and_conventions(needs_weights):
    needs_weights("lpips-alex")
    for name in MASKED:
        metric = metrics.create(name)
        region = name.split("-")[1]
        assert metric.name == name and metric.needs_mask and not metric.set_level
        assert metric.convention.startswith(f"{name}:") and f"region-{region}-of-gt-defects" in metric.convention
    assert metrics.create("lpips-defects").higher_is_better is False
    assert metrics.create("psnr-defects").convention != metrics.create("psnr-outside").convention


# --- numerical values ------------------------------------------------------------------------------

def test_psnr_and_ssim_see_only_their_region(pair):
    damaged, clean, mask = pair
    inside, outside = metrics.create("psnr-defects"), metrics.create("psnr-outside")
    inside.update(damaged, clean, mask)
    outside.update(damaged, clean, mask)
    assert inside.per_image[0] == pytest.approx(10 * math.log10(255 ** 2 / 40 ** 2), abs=1e-9)
    assert outside.per_image[0] == math.inf and outside.compute() == 100.0  # untouched: clipped like psnr
    ssim_in, ssim_out = metrics.create("ssim-defects"), metrics.create("ssim-outside")
    ssim_in.update(damaged, clean, mask)
    ssim_out.update(damaged, clean, mask)
    assert ssim_in.per_image[0] < 0.99
    # outside pixels whose 11 px window touches the square see it; the rest are exactly 1
    assert 0.9 < ssim_out.per_image[0] < 1.0


def test_whole_image_region_equals_the_plain_metric(pair, needs_weights):
    needs_weights("lpips-alex")
    damaged, clean, mask = pair
    nothing = np.zeros_like(mask)
    for kind, tolerance in (("psnr", 1e-12), ("ssim", 1e-12), ("lpips", 1e-3)):
        plain, masked = metrics.create(kind), metrics.create(f"{kind}-outside")
        plain.update(damaged, clean)
        masked.update(damaged, clean, nothing)
        assert masked.per_image[0] == pytest.approx(plain.per_image[0], rel=tolerance), kind


def test_lpips_inside_the_damage_is_larger(pair, needs_weights):
    needs_weights("lpips-alex")
    damaged, clean, mask = pair
    inside, outside = metrics.create("lpips-defects"), metrics.create("lpips-outside")
    inside.update(damaged, clean, mask)
    outside.update(damaged, clean, mask)
    assert inside.per_image[0] > 2 * outside.per_image[0] > 0


def test_empty_region_has_no_value_and_is_left_out_of_the_mean(pair):
    damaged, clean, mask = pair
    metric = metrics.create("psnr-defects")
    metric.update([damaged, damaged], [clean, clean], [mask, np.zeros_like(mask)])
    assert math.isnan(metric.per_image[1])
    assert metric.compute() == pytest.approx(metric.per_image[0])
    border = np.zeros_like(mask)
    border[:3] = True  # inside the 5 px SSIM cannot see: no value
    ssim = metrics.create("ssim-defects")
    ssim.update(damaged, clean, border)
    assert math.isnan(ssim.per_image[0]) and math.isnan(ssim.compute())


# --- exceptions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mask, match", [
    (None, "psnr-defects: needs a defect mask for every pair"),
    ([np.zeros((64, 64), bool)] * 2, r"psnr-defects: 1 pair\(s\) but 2 mask\(s\)"),
    (np.zeros((64, 64), np.uint8), "psnr-defects: mask\\[0\\] is uint8"),
    (np.zeros((32, 64), bool), r"psnr-defects: mask\[0\] is \(32, 64\), image \(64, 64\)"),
])
def test_bad_masks(pair, mask, match):
    damaged, clean, _ = pair
    with pytest.raises(MetricError, match=match):
        metrics.create("psnr-defects").update(damaged, clean, mask)


def test_bad_region():
    from oldphoto.benchmark.metrics.masked import MaskedPSNR

    with pytest.raises(MetricError, match="psnr: region must be one of defects, outside"):
        MaskedPSNR(region="inside")


# --- in the benchmark ------------------------------------------------------------------------------

def test_runner_scores_regions_with_the_ground_truth_mask(tmp_path):
    """scratches-only changes pixels only inside the mask: `input` is untouched outside it (100 dB),
    while `classical` denoises everywhere and so loses PSNR outside the mask."""
    data = tmp_path / "data"
    synthesize(make_source("builtin"), data, preset="scratches-only", crop=48, limit=3, progress=False)
    run_benchmark(["input", "classical"], data, tmp_path / "run", metric_names=["psnr-defects", "psnr-outside"],
                  device="cpu", mask="none", progress=False, log=lambda line: None)
    with open(tmp_path / "run" / "per_image.csv", newline="") as f:
        rows = {(r["model"], r["sample"]): r for r in csv.DictReader(f)}
    with open(tmp_path / "run" / "summary.csv", newline="") as f:
        summary = {(r["model"], r["metric"]): r for r in csv.DictReader(f)}
    assert float(summary[("input", "psnr-outside")]["mean"]) == 100.0
    assert float(summary[("classical", "psnr-outside")]["mean"]) < 60
    for sample in load_paired(data).samples:
        expected = metrics.create("psnr-defects")
        mask = read_mask(sample)
        expected.update(read_rgb(sample.degraded), read_rgb(sample.clean), mask)
        value = rows[("input", sample.id)]["psnr-defects"]
        assert (value == "") if not mask.any() else float(value) == pytest.approx(expected.per_image[0], rel=1e-5)
