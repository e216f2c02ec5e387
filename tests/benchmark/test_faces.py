"""Face benchmark (`oldphoto benchmark --faces`): face rows, numbers, detection cache, no-face datasets."""

import csv
import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from oldphoto.benchmark import faces as face_bench
from oldphoto.benchmark.leaderboard import update
from oldphoto.benchmark.report import write_report
from oldphoto.benchmark.runner import BenchmarkError, run_benchmark
from oldphoto.cli import main
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize
from oldphoto.models.face.align import align_face, warp_to_template
from oldphoto.models.face.detect import DetectorConfig, FaceDetector

MODELS = ["input", "classical"]
METRICS = ["psnr", "ssim"]


def quiet(_line):
    pass


def make_dataset(root, names):
    """Whole half-size builtin photos degraded with old-photo-light: a paired dataset in ``root / 'set'``."""
    photos = root / "photos"
    for name in names:
        image = read_rgb(builtin_paths()[name])
        write_image(photos / f"{name}.png", cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    synthesize(make_source("folder", photos), root / "set", preset="old-photo-light", crop=0, progress=False)
    return root / "set"


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def faces_data(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("faces"), ["astronaut", "grace_hopper", "coffee"])


@pytest.fixture(scope="module")
def faces_run(faces_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    lines = []
    result = run_benchmark(MODELS, faces_data, out, metric_names=METRICS, device="cpu", progress=False,
                           log=lines.append, faces=True)
    return out, result, lines


def test_face_rows_one_per_face_photo(faces_run):
    out, result, lines = faces_run
    name = "folder-photos-old-photo-light-faces"
    assert not result.failed
    rows = [r for r in read_rows(out / "per_image.csv") if r["dataset"] == name]
    assert sorted((r["model"], r["sample"]) for r in rows) == sorted(
        (m, f"{s}_0-face0") for m in MODELS for s in ("astronaut", "grace_hopper"))
    summary = [r for r in read_rows(out / "summary.csv") if r["dataset"] == name]
    assert {(r["model"], r["metric"], r["n"]) for r in summary} == {(m, k, "2") for m in MODELS for k in METRICS}
    statuses = [r for r in read_rows(out / "models.csv") if r["dataset"] == name]
    assert [(r["model"], r["samples"], r["status"]) for r in statuses] == [(m, "2", "ok") for m in MODELS]
    run = json.loads((out / "run.json").read_text())
    assert run["faces"]["faces"] == 2 and run["faces"]["message"] == ""
    assert "aligned 256 px face crops from MTCNN on the clean image" in run["datasets"][name]["protocol_text"]
    whole = {r["sample"] for r in read_rows(out / "per_image.csv") if r["dataset"] == "folder-photos-old-photo-light"}
    assert whole == {"astronaut_0", "coffee_0", "grace_hopper_0"}
    assert any("2 face(s) in 2 of 3 clean images" in line for line in lines)


def test_input_face_psnr_matches_own_computation(faces_run, faces_data):
    out, _, _ = faces_run
    rows = {r["sample"]: r for r in read_rows(out / "per_image.csv")
            if r["dataset"].endswith("-faces") and r["model"] == "input"}
    detector = FaceDetector(DetectorConfig(), device="cpu")
    for sample in ("astronaut_0", "grace_hopper_0"):
        clean = read_rgb(faces_data / "clean" / f"{sample}.png")
        degraded = read_rgb(faces_data / "degraded" / f"{sample}.png")
        (face,) = detector(clean)
        aligned = align_face(clean, face, 256)
        restored = warp_to_template(degraded, aligned.matrix, 256)
        mse = np.mean((aligned.image.astype(np.float64) - restored) ** 2)
        expected = 10 * np.log10(255.0**2 / mse)
        assert float(rows[f"{sample}-face0"]["psnr"]) == pytest.approx(expected, rel=1e-5)
        assert np.array_equal(read_rgb(face_bench.face_crop_path(out, "input", f"{sample}-face0")), restored)


def test_face_crops_differ_between_models(faces_run):
    out, _, _ = faces_run
    rows = {(r["model"], r["sample"]): float(r["psnr"]) for r in read_rows(out / "per_image.csv")
            if r["dataset"].endswith("-faces")}
    assert rows[("input", "astronaut_0-face0")] != rows[("classical", "astronaut_0-face0")]


def test_resume_reuses_cached_detections(faces_run, faces_data, monkeypatch):
    out, result, _ = faces_run

    class NoDetector:
        def __init__(self, *args, **kwargs):
            raise AssertionError("MTCNN ran although every detection was cached")

    monkeypatch.setattr(face_bench, "FaceDetector", NoDetector)
    lines = []
    again = run_benchmark(MODELS, faces_data, out, metric_names=METRICS, device="cpu", progress=False,
                          log=lines.append, faces=True)
    assert again.run["faces"]["detections_cached"] == 3 and again.run["faces"]["detections_run"] == 0
    def face_means(summary):
        return {(r["model"], r["metric"]): r["mean"] for r in summary if r["dataset"].endswith("-faces")}

    assert len(face_means(again.summary)) == 4 and face_means(again.summary) == face_means(result.summary)


def test_leaderboard_and_report_give_faces_their_own_table(faces_run, tmp_path):
    out, _, _ = faces_run
    update(out, tmp_path / "board")
    assert (tmp_path / "board" / "folder-photos-old-photo-light-faces.csv").is_file()
    readme = (tmp_path / "board" / "README.md").read_text()
    assert "## folder-photos-old-photo-light-faces (protocol" in readme
    assert "aligned 256 px face crops from MTCNN on the clean image" in readme
    page = write_report(out).read_text()
    assert "<h2>folder-photos-old-photo-light-faces</h2>" in page
    assert 'src="faces/images/classical/astronaut_0-face0.png"' in page


def test_no_face_in_dataset_gives_no_rows_and_says_so(tmp_path):
    data = make_dataset(tmp_path, ["coffee"])
    lines = []
    result = run_benchmark(["input"], data, tmp_path / "run", metric_names=["psnr"], device="cpu", progress=False,
                           log=lines.append, faces=True)
    assert not any(r["dataset"].endswith("-faces") for r in read_rows(tmp_path / "run" / "per_image.csv"))
    assert not any(r["dataset"].endswith("-faces") for r in read_rows(tmp_path / "run" / "summary.csv"))
    assert list(result.run["datasets"]) == ["folder-photos-old-photo-light"]
    message = "no face found by MTCNN in the 1 clean images of folder-photos-old-photo-light"
    assert result.run["faces"]["message"] == message
    assert any(message in line for line in lines)
    from oldphoto.benchmark.runner import iter_run_lines

    assert any(message in line for line in iter_run_lines(result))


def test_faces_needs_paired_data(tmp_path):
    with pytest.raises(BenchmarkError, match="--faces needs --data"):
        run_benchmark(["input"], None, tmp_path / "run", real=tmp_path, faces=True, progress=False, log=quiet)


def test_cli_faces_flag(faces_data, tmp_path):
    result = CliRunner().invoke(main, ["benchmark", "--models", "input", "--data", str(faces_data), "--metrics", "psnr",
                                       "--out", str(tmp_path / "run"), "--device", "cpu", "--faces", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "folder-photos-old-photo-light-faces" in result.output
