"""Benchmark runner: outputs, numbers, resume, failing models, bad arguments, CLI."""

import csv
import json
import math
import os

import numpy as np
import pytest
from click.testing import CliRunner

from oldphoto import models
from oldphoto.benchmark import metrics
from oldphoto.benchmark.runner import (
    BenchmarkError,
    load_paired,
    parse_model_names,
    parse_overrides,
    read_mask,
    run_benchmark,
)
from oldphoto.cli import main
from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.models import weights as model_weights
from oldphoto.models.base import Restorer

METRICS = ["psnr", "ssim"]


@pytest.fixture(scope="module")
def data(paired_set):
    """A 3-sample paired dataset of 48 px crops from the builtin photos."""
    return paired_set("scratches-only", 3)


@pytest.fixture(scope="module")
def real(tmp_path_factory, data):
    """A folder of two 'real' photos (degraded samples standing in for real old photos)."""
    folder = tmp_path_factory.mktemp("real")
    for path in sorted((data / "degraded").glob("*.png"))[:2]:
        write_image(folder / f"old-{path.name}", read_rgb(path))
    return folder


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def quiet(_line):
    pass


class Broken(Restorer):
    """Fails on its second image."""

    name = "broken"

    def __init__(self):
        self.calls = 0

    def restore_one(self, image, mask):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("deliberate failure")
        return image.copy()


@pytest.fixture()
def with_broken(monkeypatch):
    """``models.create("broken")`` returns a Broken restorer; every other name is the real model."""
    real_create = models.create
    made = []

    def create(name, config=None, pretrained=True, device="auto"):
        if name == "broken":
            made.append(Broken())
            return made[-1]
        return real_create(name, config=config, pretrained=pretrained, device=device)

    monkeypatch.setattr(models, "create", create)
    return made


# --- outputs ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory, data):
    out = tmp_path_factory.mktemp("run")
    result = run_benchmark(["input", "classical"], data, out, metric_names=METRICS, device="cpu",
                           progress=False, log=quiet)
    return out, result


def test_run_writes_every_file(run, data):
    out, result = run
    for name in ("per_image.csv", "summary.csv", "models.csv", "run.json", "environment.json"):
        assert (out / name).is_file(), name
    assert not (out / ".per_image.jsonl").exists()
    rows = read_rows(out / "per_image.csv")
    assert sorted((r["model"], r["sample"]) for r in rows) == sorted(
        (m, p.stem) for m in ("input", "classical") for p in (data / "degraded").glob("*.png"))
    for r in rows:
        restored = read_rgb(out / "images" / r["model"] / f"{r['sample']}.png")
        assert restored.shape == (48, 48, 3)
        assert float(r["seconds"]) >= 0 and float(r["megapixels"]) == pytest.approx(48 * 48 / 1e6)
        assert r["mask"] == "gt"
    summary = read_rows(out / "summary.csv")
    assert list(summary[0]) == ["model", "dataset", "metric", "convention", "mean", "std", "n", "higher_is_better",
                                "ci_low", "ci_high", "resamples", "seed"]
    assert {(r["model"], r["metric"]) for r in summary} == {(m, k) for m in ("input", "classical") for k in METRICS}
    assert all(r["n"] == "3" and r["dataset"] == "builtin-scratches-only" for r in summary)
    status = {r["model"]: r for r in read_rows(out / "models.csv")}
    assert status["input"]["status"] == status["classical"]["status"] == "ok"
    assert status["input"]["params"] == "0" and float(status["classical"]["seconds_per_mp"]) > 0
    env = json.loads((out / "environment.json").read_text())
    assert env["oldphoto_version"] and env["packages"]["numpy"] == np.__version__ and env["cpu_count"] >= 1
    meta = json.loads((out / "run.json").read_text())
    dataset = meta["datasets"]["builtin-scratches-only"]
    assert dataset["n"] == 3 and len(dataset["protocol"]) == 10
    assert set(meta["metrics"]) == set(METRICS) and meta["metrics"]["psnr"]["higher_is_better"] is True
    assert not result.failed and any("input" in line for line in result.table())


def test_numbers_match_the_metrics(run, data):
    """The `input` model's rows are the metrics of degraded vs clean; the summary is their mean."""
    out, _ = run
    rows = {r["sample"]: r for r in read_rows(out / "per_image.csv") if r["model"] == "input"}
    psnr = metrics.create("psnr")
    for sample, row in rows.items():
        psnr.update(read_rgb(data / "degraded" / f"{sample}.png"), read_rgb(data / "clean" / f"{sample}.png"))
        assert float(row["psnr"]) == pytest.approx(psnr.per_image[-1], rel=1e-5)
        assert np.array_equal(read_rgb(out / "images" / "input" / f"{sample}.png"),
                              read_rgb(data / "degraded" / f"{sample}.png"))
    summary = {(r["model"], r["metric"]): r for r in read_rows(out / "summary.csv")}
    assert float(summary[("input", "psnr")]["mean"]) == pytest.approx(psnr.compute(), rel=1e-5)
    values = [float(r["ssim"]) for r in rows.values()]
    assert float(summary[("input", "ssim")]["mean"]) == pytest.approx(np.mean(values), rel=1e-5)
    assert float(summary[("input", "ssim")]["std"]) == pytest.approx(np.std(values, ddof=1), rel=1e-4)


def test_ground_truth_mask_reaches_the_model(run, data):
    """classical inpaints only inside the mask: outside it, it equals its restoration without a mask."""
    out, _ = run
    bench = load_paired(data)
    sample = next(s for s in bench.samples if read_mask(s).any())
    degraded, mask = read_rgb(sample.degraded), read_mask(sample)
    restored = read_rgb(out / "images" / "classical" / f"{sample.id}.png")
    denoised = models.create("classical").restore(degraded, None)
    assert np.array_equal(restored[~mask], denoised[~mask])
    assert not np.array_equal(restored[mask], denoised[mask])


def test_real_photos_get_no_reference_rows_only(tmp_path, data, real):
    result = run_benchmark(["input"], data, tmp_path, real=real, metric_names=METRICS, device="cpu",
                           progress=False, log=quiet)
    rows = read_rows(tmp_path / "per_image.csv")
    real_rows = [r for r in rows if r["dataset"] == f"real-{real.name}"]
    assert len(real_rows) == 2 and all(r["psnr"] == "" and r["ssim"] == "" for r in real_rows)
    assert all((tmp_path / "images" / "input" / "real" / f"{r['sample']}.png").is_file() for r in real_rows)
    assert {r["dataset"] for r in result.summary} == {"builtin-scratches-only"}


# --- resume ----------------------------------------------------------------------------------------

def test_resume_recomputes_only_missing_pairs(tmp_path, data):
    run_benchmark(["input", "classical"], data, tmp_path, metric_names=["psnr"], device="cpu", progress=False,
                  log=quiet)
    before = {(r["model"], r["sample"]): r for r in read_rows(tmp_path / "per_image.csv")}
    victim = sorted(before)[0]
    (tmp_path / "images" / victim[0] / f"{victim[1]}.png").unlink()
    run_benchmark(["input", "classical"], data, tmp_path, metric_names=["psnr", "ssim"], device="cpu",
                  progress=False, log=quiet)
    after = {(r["model"], r["sample"]): r for r in read_rows(tmp_path / "per_image.csv")}
    assert set(after) == set(before)
    for key, row in after.items():
        assert row["ssim"] != ""  # a metric added later is computed from the kept image
        assert (row["seconds"] == before[key]["seconds"]) == (key != victim)
        assert row["psnr"] == before[key]["psnr"]


def test_changed_config_is_recomputed(tmp_path, data):
    run_benchmark(["classical"], data, tmp_path, metric_names=["psnr"], device="cpu", progress=False, log=quiet)
    first = read_rows(tmp_path / "per_image.csv")
    run_benchmark(["classical"], data, tmp_path, metric_names=["psnr"], device="cpu", progress=False, log=quiet,
                  configs={"classical": {"h": 15.0}})
    second = read_rows(tmp_path / "per_image.csv")
    assert all(r["config"] == '{"h": 15.0}' for r in second)
    assert [r["psnr"] for r in first] != [r["psnr"] for r in second]


def test_changed_weights_are_recomputed(tmp_path, data):
    """Same name and config, other weights in the same file: kept rows are redone, not reused."""
    import torch

    from oldphoto.models.weights import save_weights

    weights = tmp_path / "sequential.pt"
    config = {"sequential": {"weights": str(weights)}}
    restorer = models.create("sequential", device="cpu")
    save_weights(weights, "sequential", {"width": 32, "depth": 8}, restorer.network, {})
    kwargs = dict(metric_names=["psnr"], device="cpu", progress=False, log=quiet, configs=config)
    run_benchmark(["sequential"], data, tmp_path / "run", **kwargs)
    first = read_rows(tmp_path / "run" / "per_image.csv")
    run_benchmark(["sequential"], data, tmp_path / "run", **kwargs)
    assert read_rows(tmp_path / "run" / "per_image.csv") == first  # same weights: every row kept
    with torch.no_grad():
        for parameter in restorer.network.parameters():
            parameter.mul_(0.5)
    save_weights(weights, "sequential", {"width": 32, "depth": 8}, restorer.network, {})
    run_benchmark(["sequential"], data, tmp_path / "run", **kwargs)
    second = read_rows(tmp_path / "run" / "per_image.csv")
    assert len({r["weights"] for r in first}) == len({r["weights"] for r in second}) == 1
    assert first[0]["weights"] != second[0]["weights"]
    assert all(a["seconds"] != b["seconds"] for a, b in zip(first, second, strict=False))
    assert [a["psnr"] for a in first] != [b["psnr"] for b in second]


def test_interrupted_model_resumes_where_it_stopped(tmp_path, data, with_broken):
    """A model failing on its 2nd sample keeps its 1st row; the rerun restores only the other two."""
    run_benchmark(["broken"], data, tmp_path, metric_names=["psnr"], device="cpu", progress=False, log=quiet)
    assert len(read_rows(tmp_path / "per_image.csv")) == 1
    run_benchmark(["broken"], data, tmp_path, metric_names=["psnr"], device="cpu", progress=False, log=quiet)
    assert with_broken[-1].calls == 2  # fresh restorer: sample 2 ok (call 1), sample 3 fails (call 2)
    assert len(read_rows(tmp_path / "per_image.csv")) == 2
    run_benchmark(["broken"], data, tmp_path, metric_names=["psnr"], device="cpu", progress=False, log=quiet)
    assert with_broken[-1].calls == 1 and len(read_rows(tmp_path / "per_image.csv")) == 3


# --- failures --------------------------------------------------------------------------------------

def test_failing_model_is_reported_and_others_go_on(tmp_path, data, with_broken):
    lines = []
    result = run_benchmark(["broken", "input"], data, tmp_path, metric_names=METRICS, device="cpu",
                           progress=False, log=lines.append)
    status = {r["model"]: r for r in read_rows(tmp_path / "models.csv")}
    assert status["broken"]["status"] == "failed" and "deliberate failure" in status["broken"]["error"]
    assert status["input"]["status"] == "ok"
    assert any("broken" in line and "deliberate failure" in line for line in lines)
    summary = read_rows(tmp_path / "summary.csv")
    assert {r["model"] for r in summary} == {"input"}
    assert [s.model for s in result.failed] == ["broken"]


def test_model_that_cannot_be_created_is_reported(tmp_path, data):
    result = run_benchmark(["classical", "input"], data, tmp_path, metric_names=["psnr"], device="cpu",
                           configs={"classical": {"no_such_field": 1}}, progress=False, log=quiet)
    assert [s.model for s in result.failed] == ["classical"] and "no_such_field" in result.failed[0].error
    assert {r["model"] for r in read_rows(tmp_path / "summary.csv")} == {"input"}


@pytest.mark.parametrize("skip", [True, False])
def test_missing_weights_skip_under_all_and_fail_when_named(tmp_path, data, skip, monkeypatch):
    """`--models all` skips a model whose weight files are missing (models.list_models(pretrained=True)),
    naming the files; naming the model is a failure."""
    monkeypatch.setattr(model_weights, "CHECKPOINT_DIR", tmp_path / "no-checkpoints")
    lines = []
    result = run_benchmark(["sequential", "input"], data, tmp_path / "run", metric_names=["psnr"], device="cpu",
                           progress=False, log=lines.append, skip_missing_weights=skip)
    flagged = result.skipped if skip else result.failed
    assert [s.model for s in flagged] == ["sequential"] and "sequential-small.pt" in flagged[0].error
    assert not (result.failed if skip else result.skipped)
    assert {r["model"] for r in read_rows(tmp_path / "run" / "summary.csv")} == {"input"}
    expected = "skipped: model sequential: weight file(s) not found: " if skip else "error: model sequential could"
    assert any(line.startswith(expected) and "sequential-small.pt" in line for line in lines)


def test_configured_weights_that_are_missing_fail_under_all(tmp_path, data):
    """A config names its model explicitly: an absent weight file in it is a failure, never a skip."""
    configs = {"sequential": {"weights": str(tmp_path / "absent.pt")}}
    result = run_benchmark(["sequential", "input"], data, tmp_path / "run", metric_names=["psnr"], device="cpu",
                           configs=configs, progress=False, log=quiet, skip_missing_weights=True)
    assert [s.model for s in result.failed] == ["sequential"] and "absent.pt" in result.failed[0].error
    assert not result.skipped


def test_set_reaches_bopbtl_config(tmp_path, data):
    """`--set bopbtl.PART.FIELD=VALUE` reaches bopbtl's nested config: an unknown field is named, and a
    size other than the shipped one has no shipped weights (both reported, exit 1)."""
    args = ["benchmark", "--models", "bopbtl", "--data", str(data), "--metrics", "psnr", "--no-progress"]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a"), "--set", "bopbtl.mapping.nope=1"])
    assert res.exit_code == 1 and "bopbtl config mapping: unknown config field(s) ['nope']" in res.output
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b"), "--set", "bopbtl.mapping.res_blocks=2"])
    assert res.exit_code == 1 and "mapping-bopbtl.pt: mapping was trained as" in res.output


def test_detected_masks_need_a_detector(tmp_path, data):
    result = run_benchmark(["classical"], data, tmp_path, metric_names=["psnr"], device="cpu", mask="detected",
                           progress=False, log=quiet)
    assert result.failed and "has no defect detector" in result.failed[0].error


def test_mask_none_gives_no_mask(tmp_path, data):
    run_benchmark(["classical"], data, tmp_path, metric_names=["psnr"], device="cpu", mask="none",
                  progress=False, log=quiet)
    assert {r["mask"] for r in read_rows(tmp_path / "per_image.csv")} == {"none"}


def test_metric_failing_on_an_image_leaves_it_empty(tmp_path, data):
    """NIQE needs 192 px images: on 48 px crops it has no value, and the model still succeeds."""
    lines = []
    result = run_benchmark(["input"], data, tmp_path, metric_names=["psnr", "niqe"], device="cpu",
                           progress=False, log=lines.append)
    if "niqe" in json.loads((tmp_path / "run.json").read_text())["unavailable_metrics"]:
        pytest.skip("NIQE parameters not in the weights cache (run `oldphoto weights fetch`)")
    assert not result.failed
    assert all(r["niqe"] == "" and r["psnr"] != "" for r in read_rows(tmp_path / "per_image.csv"))
    assert any("niqe" in line and "192" in line for line in lines)
    metric_errors = json.loads((tmp_path / "run.json").read_text())["metric_errors"]
    assert metric_errors["niqe on builtin-scratches-only"]["count"] == 3


@pytest.mark.parametrize("kwargs, match", [
    ({"mask": "auto"}, "--mask"),
    ({"limit": 0}, "--limit"),
    ({"metric_names": ["psnr", "nope"]}, "unknown metric"),
    ({"configs": {"dip": {"iterations": 1}}}, "not benchmarked"),
])
def test_bad_arguments(tmp_path, data, kwargs, match):
    args = {"metric_names": ["psnr"], "progress": False, "log": quiet, **kwargs}
    with pytest.raises(BenchmarkError, match=match):
        run_benchmark(["input"], data, tmp_path / "out", **args)


def test_bad_data_folders(tmp_path):
    with pytest.raises(BenchmarkError, match="--data .*not an oldphoto dataset"):
        run_benchmark(["input"], tmp_path, tmp_path / "out", metric_names=["psnr"], progress=False, log=quiet)
    with pytest.raises(BenchmarkError, match="--data DIR .* and/or --real DIR"):
        run_benchmark(["input"], None, tmp_path / "out", metric_names=["psnr"], progress=False, log=quiet)


def test_parse_helpers():
    assert parse_overrides(["dip.iterations=50", "dip.lr=0.1", "classical.h=3"]) == {
        "dip": {"iterations": 50, "lr": 0.1}, "classical": {"h": 3}}
    with pytest.raises(BenchmarkError, match="MODEL.FIELD=VALUE"):
        parse_overrides(["iterations=5"])
    assert parse_model_names("all") == models.list_models()
    assert parse_model_names("input, classical,input") == ["input", "classical"]
    with pytest.raises(BenchmarkError, match="unknown model"):
        parse_model_names("input,nope")


def test_cli_benchmark_and_report(tmp_path, data):
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["benchmark", "--models", "input", "--data", str(data), "--metrics", "psnr",
                                    "--out", str(out), "--set", "input.x=1", "--no-progress"])
    assert res.exit_code == 1 and "unknown config field" in res.output  # reported, exit 1
    res = CliRunner().invoke(main, ["benchmark", "--models", "input", "--data", str(data), "--metrics", "psnr",
                                    "--out", str(out), "--limit", "2", "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "psnr" in res.output and (out / "report.html").is_file()
    assert len(read_rows(out / "per_image.csv")) == 2
    assert math.isfinite(float(read_rows(out / "summary.csv")[0]["mean"]))


def test_real_folder_without_a_readable_image_names_every_entry_and_its_reason(tmp_path):
    """Left out entries are logged by run_benchmark, but a folder with none readable stopped before that:
    the error must say why each was left out."""
    from oldphoto.benchmark.runner import load_real

    (tmp_path / "text.jpg").write_text("not a JPEG")
    (tmp_path / "palette.gif").write_bytes(b"GIF89a")
    write_image(tmp_path / "sub" / "tiny.png", np.zeros((2, 2, 3), np.uint8))
    root = os.path.relpath(tmp_path)  # as typed on a command line; the entries are listed under it
    with pytest.raises(BenchmarkError) as info:
        load_real(root)
    message = str(info.value)
    assert message.startswith(f"--real {root}: no readable images found (3 skipped: ") and "\n" not in message
    for name, reason in (("text.jpg", "not an image"), ("palette.gif", "unsupported image type .gif"),
                         ("sub/tiny.png", "too small: 2x2")):
        assert f"{name}: {reason}" in message, message
    for k in range(10):
        (tmp_path / f"e{k}.png").write_bytes(b"")
    message = str(pytest.raises(BenchmarkError, load_real, tmp_path).value)
    assert "(13 skipped: " in message and message.endswith("and 8 more)") and len(message) < 800, message
