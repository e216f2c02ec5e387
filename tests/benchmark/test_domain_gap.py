"""Latent domain gap (``wasserstein-latent``): runner rows, numbers, what it measures, leaderboard/report."""

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from oldphoto import models
from oldphoto.benchmark.domain_gap import METRIC, LatentGap
from oldphoto.benchmark.leaderboard import update
from oldphoto.benchmark.metrics.wasserstein import sliced_wasserstein
from oldphoto.benchmark.report import write_report
from oldphoto.benchmark.runner import MetricFailures, load_paired, load_real, run_benchmark
from oldphoto.datasets.imageio import read_rgb
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize

LATENT_MODEL = "bopbtl-local"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: on a busy 2-core machine more threads make these small convolutions far slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _synthesize(folder, seed):
    synthesize(make_source("builtin"), folder, preset="old-photo-heavy", crop=64, limit=6, seed=seed, progress=False)
    return folder


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """The paired dataset (seed 0) and three 'real' folders: photos degraded the same way with another
    seed (same kind of old photo), the undegraded photos of that set, and copies of the dataset's own
    degraded inputs."""
    base = tmp_path_factory.mktemp("gap")
    data = _synthesize(base / "data", 0)
    other = _synthesize(base / "other", 1)
    folders = {"same-kind": other / "degraded", "clean": other / "clean", "copies": data / "degraded"}
    real = {}
    for name, source in folders.items():
        real[name] = shutil.copytree(source, base / name)
    return data, real


def quiet(_line):
    pass


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def images(folder):
    return [read_rgb(p) for p in sorted(folder.glob("*.png"))]


@pytest.fixture(scope="module")
def run(tmp_path_factory, sets):
    data, real = sets
    out = tmp_path_factory.mktemp("run")
    result = run_benchmark([LATENT_MODEL, "input"], data, out, real=real["same-kind"], metric_names=["wasserstein"],
                           device="cpu", progress=False, log=quiet)
    return out, result


def latent_row(summary, model, dataset):
    rows = [r for r in summary if r["model"] == model and r["dataset"] == dataset and r["metric"] == METRIC]
    assert len(rows) <= 1
    return rows[0] if rows else None


# --- runner rows -----------------------------------------------------------------------------------

def test_row_for_latent_models_only(run, sets):
    out, result = run
    real = "real-same-kind"
    row = latent_row(result.summary, LATENT_MODEL, real)
    assert row is not None and latent_row(result.summary, "input", real) is None
    assert all(r["metric"] != METRIC or r["dataset"] == real for r in result.summary)
    written = {(r["model"], r["dataset"]): r for r in read_rows(out / "summary.csv") if r["metric"] == METRIC}
    assert list(written) == [(LATENT_MODEL, real)]
    assert written[(LATENT_MODEL, real)]["n"] == "6" and written[(LATENT_MODEL, real)]["std"] == ""
    assert written[(LATENT_MODEL, real)]["higher_is_better"] == "False"
    assert row["convention"] == (f"{METRIC}:sliced-w2,old-photo-latent,channel-mean+std,real-vs-synthetic-degraded,"
                                 "proj1024,seed0")
    meta = json.loads((out / "run.json").read_text())
    assert meta["metrics"][METRIC]["convention"] == row["convention"]
    assert row["convention"] in meta["datasets"][real]["protocol_text"]
    assert row["convention"] not in meta["datasets"]["builtin-old-photo-heavy"]["protocol_text"]
    assert any(line.split()[:2] == [LATENT_MODEL, real] for line in result.table())


def test_value_is_the_sliced_wasserstein_of_the_latents(run, sets):
    """The row equals sliced W2 (1024 projections, seed 0) of encode_latents on real vs degraded inputs."""
    data, real = sets
    _, result = run
    restorer = models.create(LATENT_MODEL, device="cpu")
    real_latents = restorer.encode_latents(images(real["same-kind"]))
    synthetic_latents = restorer.encode_latents(images(data / "degraded"))
    assert real_latents.shape == synthetic_latents.shape == (6, 128)
    expected = sliced_wasserstein(real_latents, synthetic_latents, n_projections=1024, seed=0)
    assert expected > 0
    assert latent_row(result.summary, LATENT_MODEL, "real-same-kind")["mean"] == pytest.approx(expected, rel=1e-9)


def test_no_row_without_wasserstein_or_without_real(tmp_path, sets):
    data, real = sets
    without_metric = run_benchmark([LATENT_MODEL], data, tmp_path / "a", real=real["copies"], metric_names=["psnr"],
                                   device="cpu", progress=False, log=quiet)
    assert all(r["metric"] != METRIC for r in without_metric.summary)
    assert LatentGap.for_run([load_paired(data)], ["wasserstein"], MetricFailures(quiet)) is None
    assert LatentGap.for_run([load_real(real["copies"])], ["wasserstein"], MetricFailures(quiet)) is None


# --- what it measures ------------------------------------------------------------------------------

def test_gap_is_zero_for_the_synthetic_inputs_themselves(sets):
    """'Real' photos that are the degraded inputs themselves: identical latent sets, distance 0."""
    data, real = sets
    gap = LatentGap(load_real(real["copies"]), load_paired(data), MetricFailures(quiet), quiet)
    assert gap.score(LATENT_MODEL, models.create(LATENT_MODEL, device="cpu"))[0]["mean"] == 0.0


def test_same_kind_of_old_photo_is_closer_than_clean_photos(tmp_path, run, sets):
    """Photos degraded like the dataset (other crops and draws) lie nearer in VAE1's latent space than
    undegraded photos do (measured: about 0.044 against 0.085)."""
    data, real = sets
    same_kind = latent_row(run[1].summary, LATENT_MODEL, "real-same-kind")["mean"]
    clean = run_benchmark([LATENT_MODEL], data, tmp_path, real=real["clean"], metric_names=["wasserstein"],
                          device="cpu", progress=False, log=quiet)
    assert same_kind < 0.75 * latent_row(clean.summary, LATENT_MODEL, "real-clean")["mean"]


def test_models_without_latents_get_nothing_and_failures_are_recorded(sets):
    data, real = sets
    failures = MetricFailures(quiet)
    gap = LatentGap(load_real(real["copies"], limit=1), load_paired(data), failures, quiet)
    assert gap.score("input", models.create("input")) == []
    assert gap.score(LATENT_MODEL, models.create(LATENT_MODEL, device="cpu")) == []
    assert failures.errors[f"{METRIC} on real-copies"]["count"] == 1
    assert "needs at least 2" in failures.errors[f"{METRIC} on real-copies"]["first_error"]


def test_encode_latents_rejects_bad_images():
    restorer = models.create(LATENT_MODEL, device="cpu")
    with pytest.raises(ValueError, match="at least one image"):
        restorer.encode_latents([])
    with pytest.raises(ValueError, match=f"{LATENT_MODEL}: expected a uint8 HxWx3"):
        restorer.encode_latents([np.zeros((16, 16), np.uint8)])
    odd = restorer.encode_latents([np.full((13, 9, 3), 90, np.uint8)])
    assert odd.shape == (1, 128) and np.isfinite(odd).all() and (odd[0, 64:] >= 0).all()


# --- leaderboard and report ------------------------------------------------------------------------

def test_leaderboard_and_report_show_it_in_the_real_table(tmp_path, run):
    out, _ = run
    board = tmp_path / "board"
    update(out, board)
    real_rows = {r["model"]: r for r in read_rows(board / "real-same-kind.csv")}
    assert float(real_rows[LATENT_MODEL][METRIC]) > 0 and real_rows["input"][METRIC] == ""
    assert METRIC not in read_rows(board / "builtin-old-photo-heavy.csv")[0]
    readme = (board / "README.md").read_text()
    real_table = readme[readme.index("## real-same-kind"):]
    assert f"{METRIC} ↓" in real_table.splitlines()[4]
    html = write_report(out).read_text()
    section = html[html.index("<h2>real-same-kind</h2>"):]
    section = section[:section.index("</table>")]
    assert f">{METRIC} ↓</th>" in section and f'title="{METRIC}:sliced-w2' in section
    assert f'<td data-v="{float(real_rows[LATENT_MODEL][METRIC])}" title="95% interval [' in section
