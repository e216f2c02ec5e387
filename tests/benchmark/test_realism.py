"""`oldphoto realism` and its per-image statistics: values on known images, the ordering on tiny sets,
files and determinism, errors, CLI."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from oldphoto import degrade, models
from oldphoto.benchmark import photo_stats
from oldphoto.benchmark.intervals import Bootstrap
from oldphoto.benchmark.realism import RealismError, realism
from oldphoto.cli import main
from oldphoto.datasets.imageio import write_image
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize

NOISY = degrade.Pipeline.from_dict({"type": "Pipeline", "name": "noisy", "transforms": [
    {"type": "GaussianNoise", "sigma": [25.0, 25.0], "per_channel": False, "p": 1.0}]})
CLEAN = degrade.Pipeline.from_dict({"type": "Pipeline", "name": "untouched", "transforms": []})
BOOT = Bootstrap(resamples=200, set_resamples=4)


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def noise(sigma, seed=0, shape=(128, 128)):
    grey = np.clip(128 + np.random.default_rng(seed).normal(0, sigma, shape), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


# --- per-image statistics: numerical values ------------------------------------------------------

def test_spectrum_of_white_noise_is_flat_at_its_power():
    spectrum = photo_stats.noise_power_spectrum(noise(20))
    window_power = np.mean(np.hanning(128) ** 2) ** 2  # the 2-D Hann window's mean square
    assert np.ptp(spectrum[4:]) < 2.0
    assert np.mean(spectrum[4:]) == pytest.approx(10 * np.log10(20 ** 2 * window_power), abs=0.5)
    blurred = photo_stats.noise_power_spectrum(cv2.GaussianBlur(noise(20), (0, 0), 1.5))
    assert blurred[-1] < spectrum[-1] - 20  # blur removes the high frequencies


def test_grain_statistics_follow_the_noise():
    flat = np.full((64, 64, 3), 128, np.uint8)
    assert photo_stats.grain(flat) == (0.0, 0.0, 0.0)
    s10, s20 = photo_stats.grain(noise(10)), photo_stats.grain(noise(20))
    assert s20[0] == pytest.approx(2 * s10[0], rel=0.1) and abs(s10[1]) < 0.5  # Gaussian: no excess kurtosis
    specks = np.full((128, 128, 3), 128, np.uint8)
    specks[np.random.default_rng(1).random((128, 128)) < 0.01] = 255
    assert photo_stats.grain(specks)[1] > 10  # sparse specks: heavy tails
    coarse = photo_stats.grain(cv2.GaussianBlur(noise(40), (0, 0), 1.0))
    assert coarse[2] > s10[2] + 0.3  # larger grain: neighbours correlate


def test_colour_cast_and_chroma():
    grey = np.full((32, 32, 3), 120, np.uint8)
    sepia = np.zeros_like(grey)
    sepia[:] = (160, 120, 80)
    a, b, chroma = photo_stats.colour(sepia)
    assert b > 15 and a > 0 and chroma == pytest.approx(np.hypot(a, b), rel=1e-6)
    assert photo_stats.colour(grey) == pytest.approx((0.0, 0.0, 0.0), abs=1e-3)


# --- ordering on tiny sets -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_noisy(tmp_path_factory):
    """Stand-ins for real old photos: the noisy recipe on other crops (seed 1) of the same photos."""
    base = tmp_path_factory.mktemp("realism")
    synthesize(make_source("builtin"), base / "ref", pipeline=NOISY, crop=64, per_image=2, limit=4, seed=1,
               progress=False)
    folder = base / "real"
    for path in sorted((base / "ref" / "degraded").glob("*.png")):
        folder.mkdir(exist_ok=True)
        (folder / path.name).write_bytes(path.read_bytes())
    return base, folder


class ThresholdDetector:
    """A stand-in detector: pixels brighter than 200 in every channel are 'defects'."""

    def detect_defects(self, image):
        return (image > 200).all(axis=2)


def run_tiny(real, out):
    """realism of the noisy and the untouched recipe on 8 crops of 64 px, with the stand-in detector."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(models, "create", lambda name, device="auto", **kw: ThresholdDetector())
        return realism([NOISY, CLEAN], real, out, crop=64, per_image=2, real_per_image=1, limit=4,
                       bootstrap=BOOT, device="cpu", detector="threshold", log=lambda line: None)


@pytest.fixture(scope="module")
def result(real_noisy, needs_weights_module):
    base, real = real_noisy
    return run_tiny(real, base / "out")


@pytest.fixture(scope="module")
def needs_weights_module():
    """Skip, saying why, when the VGG16 backbone of the feature distances is not in the weights cache."""
    from oldphoto.infra import weights

    try:
        weights.verify("lpips-vgg16")
    except weights.WeightsError as exc:
        pytest.skip(str(exc))


def test_matching_recipe_is_closer_than_a_mismatched_one(result):
    rows = {(r["preset"], r["statistic"]): r for r in result.rows}
    for stat in ("kid-vgg16", "fd-vgg16", "nps", "grain-sigma", "grain-kurtosis"):
        assert rows[("noisy", stat)]["distance"] < rows[("untouched", stat)]["distance"], stat
    pairs = {p["statistic"]: p for p in result.pairs}
    for stat in ("fd-vgg16", "nps", "grain-sigma"):
        assert (pairs[stat]["preset"], pairs[stat]["other"], pairs[stat]["closer"]) == ("noisy", "untouched", "preset")
        assert pairs[stat]["ci_high"] < 0
    sigma = rows[("untouched", "grain-sigma")]
    assert sigma["difference"] < 0 and sigma["difference_ci_high"] < 0  # untouched crops have less grain
    assert sigma["distance"] == pytest.approx(abs(sigma["preset_mean"] - sigma["real_mean"]))


def test_files_conventions_and_coverage(result):
    out = result.out
    rows = read(out / "realism.csv")
    assert {r["statistic"] for r in rows} >= {"kid-vgg16", "fd-vgg16", "nps", "grain-sigma", "grain-kurtosis",
                                             "grain-corr", "colour-cast", "chroma", "coverage-gt",
                                             "coverage-detected"}
    assert all(r["n_preset"] == "8" and r["n_real"] == "8" and r["seed"] == "0" for r in rows)
    assert {r["resamples"] for r in rows if r["statistic"] == "fd-vgg16"} == {"4"}
    assert {r["resamples"] for r in rows if r["statistic"] == "nps"} == {"200"}
    meta = json.loads((out / "realism.json").read_text())
    assert meta["sets"]["real"]["n"] == 8 and "vgg16-relu5_3" in meta["statistics"]["fd-vgg16"]["convention"]
    assert set(meta["unavailable"]) <= {"fid", "kid"}
    assert sorted(p.name for p in result.figures) == ["colour.png", "coverage.png", "features.png", "grain.png",
                                                     "nps.png"]
    # untouched crops have no defects: their ground-truth coverage is 0
    gt = {r["preset"]: r for r in rows if r["statistic"] == "coverage-gt"}
    assert float(gt["untouched"]["preset_mean"]) == 0.0


def test_rerun_writes_the_same_bytes(result, real_noisy):
    base, real = real_noisy
    files = [result.out / "realism.csv", result.out / "realism_pairs.csv", result.out / "realism.json", *result.figures]
    before = {p: p.read_bytes() for p in files}
    run_tiny(real, base / "out")  # resumed: the crops are kept, everything else is written again
    assert all(p.read_bytes() == data for p, data in before.items())


# --- exceptions and CLI ----------------------------------------------------------------------------

@pytest.mark.parametrize("presets, match", [([], "at least one --preset"), (["nope"], "--preset: "),
                                            (["scratches-only", "scratches-only"], "each preset once")])
def test_bad_presets(tmp_path, presets, match):
    with pytest.raises(RealismError, match=match):
        realism(presets, tmp_path, tmp_path / "out", log=lambda line: None)


def test_bad_folders(tmp_path):
    with pytest.raises(RealismError, match="real root folder"):
        realism(["scratches-only"], tmp_path / "absent", tmp_path / "out", log=lambda line: None)
    write_image(tmp_path / "small" / "a.png", np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(RealismError, match="needs at least 2"):
        realism(["scratches-only"], tmp_path / "small", tmp_path / "out", crop=32, per_image=1, real_per_image=1,
                limit=3, detector=None, log=lambda line: None)


def test_cli(tmp_path, real_noisy, needs_weights_module):
    _, real = real_noisy
    args = ["realism", "--preset", "scratches-only", "--preset", "old-photo-light", "--real", str(real), "--out",
            str(tmp_path), "--crop", "64", "--per-image", "1", "--limit", "3", "--real-per-image", "1",
            "--set-resamples", "2", "--resamples", "50", "--detector", "none", "--no-figures"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "scratches-only vs old-photo-light on fd-vgg16" in res.output and (tmp_path / "realism_pairs.csv").is_file()
    assert not (tmp_path / "figures").exists()
    bad = CliRunner().invoke(main, ["realism", "--preset", "nope", "--real", str(real), "--out", str(tmp_path)])
    assert bad.exit_code == 1 and "unknown preset" in bad.output.lower()
