"""`oldphoto restore` end to end with the shipped small checkpoints (one CLI run shared by the tests)."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from oldphoto import degrade, models
from oldphoto.cli import main
from oldphoto.datasets.builtin import builtin_paths
from oldphoto.datasets.imageio import read_rgb
from oldphoto.models import weights as model_weights
from oldphoto.models.bopbtl.restore import PhotoRestorer, Plan
from oldphoto.models.training import CheckpointError


def degraded_photo() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A builtin photo at 200 x 152 px with scratches and the code's degradations: (degraded, clean, mask)."""
    clean = cv2.resize(read_rgb(builtin_paths()["astronaut"]), (200, 152), interpolation=cv2.INTER_AREA)
    pipeline = degrade.Pipeline.from_dict({"type": "Pipeline", "transforms": [
        {"type": "Scratches", "count": [6, 6], "width": [1.5, 2.0], "length": [0.3, 0.5], "dark": 0.0,
         "opacity": [1.0, 1.0], "p": 1.0},
        {"type": "GaussianNoise", "sigma": [8.0, 8.0], "p": 1.0}]})
    result = pipeline(clean, seed=3)
    return result.image, clean, result.masks["defects"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    degraded, clean, mask = degraded_photo()
    Image.fromarray(degraded).save(folder / "photo.png")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)).save(folder / "odd.png")
    Image.fromarray(rng.integers(0, 256, (29, 41), dtype=np.uint8)).save(folder / "grey.png")
    Image.fromarray(rng.integers(0, 65536, (27, 33), dtype=np.uint16)).save(folder / "deep16.png")
    rotated = Image.fromarray(rng.integers(0, 256, (24, 40, 3), dtype=np.uint8))
    exif = rotated.getexif()
    exif[0x0112] = 6  # displayed rotated by 90 degrees: 24 wide, 40 high
    rotated.save(folder / "rotated.jpg", exif=exif)
    (folder / "corrupt.png").write_bytes((folder / "photo.png").read_bytes()[:200])
    out = tmp_path_factory.mktemp("restored")
    result = CliRunner().invoke(main, ["restore", str(folder), "--out", str(out), "--device", "cpu", "--save-masks",
                                       "--no-progress"])
    report = json.loads((out / "restore.json").read_text())
    records = {r["input"].rsplit("/", 1)[-1]: r for r in report["files"]}
    return {"result": result, "out": out, "report": report, "records": records, "clean": clean, "mask": mask,
            "degraded": degraded}


def test_a_corrupt_file_is_reported_and_the_rest_restored(run):
    assert run["result"].exit_code == 1
    assert "corrupt.png" in run["result"].output
    bad = run["records"]["corrupt.png"]
    assert bad["output"] is None and "corrupt.png" in bad["error"] and bad["error"].startswith("read:")
    good = [r for name, r in run["records"].items() if name != "corrupt.png"]
    assert len(good) == 5 and all(r["error"] is None and r["output"] for r in good)
    assert run["report"]["failed"] == 1


@pytest.mark.parametrize("name,size,mode", [("odd.png", (53, 37), "RGB"), ("grey.png", (41, 29), "L"),
                                            ("deep16.png", (33, 27), "L"), ("rotated.png", (24, 40), "RGB"),
                                            ("photo.png", (200, 152), "RGB")])
def test_outputs_keep_size_orientation_and_greyness(run, name, size, mode):
    with Image.open(run["out"] / name) as image:
        assert image.size == size and image.mode == mode


def test_restore_json_records_stages_timings_memory_and_defects(run):
    report = run["report"]
    assert report["model"] == "bopbtl" and report["config"] == "small" and report["device"] == "cpu"
    assert set(report["weights"]["stages"]) == {"bopbtl-vae-old", "bopbtl-vae-clean", "bopbtl-mapping", "bopbtl-fusion",
                                              "bopbtl-detector"}
    record = run["records"]["photo.png"]
    assert record["stages"] == ["read", "detect", "restore", "write"]
    assert set(record["seconds"]) == set(record["stages"]) and all(s >= 0 for s in record["seconds"].values())
    assert record["peak_memory_bytes"] > 0 and record["peak_memory_kind"] == "cpu_peak_rss"
    saved_mask = np.asarray(Image.open(record["mask"])) > 0
    assert record["defect_fraction"] == pytest.approx(saved_mask.mean())
    assert run["records"]["grey.png"]["grey"] is True and run["records"]["odd.png"]["grey"] is False


def test_shipped_detector_finds_the_scratches(run):
    detected = np.asarray(Image.open(run["records"]["photo.png"]["mask"])) > 0
    truth = run["mask"]
    near_truth = cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    recall = (detected & truth).sum() / truth.sum()
    precision = (detected & near_truth).sum() / max(1, detected.sum())
    # a CPU-demonstration detector: well above chance (a random mask of the same density would hit
    # near_truth in about near_truth.mean() of its pixels), not yet precise
    assert recall > 0.4 and precision > 2 * near_truth.mean(), (recall, precision, near_truth.mean())


def test_streamed_and_latent_tiled_restoration_agree_with_whole(run):
    photo = PhotoRestorer(models.create("bopbtl-pnl", config="small", device="cpu"))
    image, mask = run["degraded"], run["mask"]
    whole = photo.restore(image, mask, Plan(False, None, 1 << 20)).astype(int)
    streamed = photo.restore(image, mask, Plan(True, None, 100_000)).astype(int)
    tiled = photo.restore(image, mask, Plan(True, 24, 100_000)).astype(int)
    assert np.abs(whole - streamed).max() <= 1
    assert np.abs(whole - tiled).mean() < 1.0


def test_missing_shipped_part_is_an_error_naming_the_file(tmp_path, monkeypatch):
    # A checkpoint folder holding every shipped bopbtl-ae part but its fusion head.
    for path in model_weights.CHECKPOINT_DIR.glob("bopbtl-small/*.pt"):
        if path.name != "fusion-bopbtl-ae.pt":
            (tmp_path / "bopbtl-small").mkdir(exist_ok=True)
            (tmp_path / "bopbtl-small" / path.name).symlink_to(path)
    monkeypatch.setattr(model_weights, "CHECKPOINT_DIR", tmp_path)
    with pytest.raises(CheckpointError, match="fusion-bopbtl-ae.pt"):
        models.create("bopbtl-ae", config="small", device="cpu")
    with pytest.raises(CheckpointError, match="bopbtl-full"):
        models.create("bopbtl", config="full", device="cpu")


def test_faces_stage_runs_and_is_recorded(tmp_path):
    photo = cv2.resize(read_rgb(builtin_paths()["grace_hopper"]), (256, 300), interpolation=cv2.INTER_AREA)
    Image.fromarray(photo).save(tmp_path / "portrait.png")
    # the default bopbtl: the face stage needs a global restoration in which the face stays detectable
    result = CliRunner().invoke(main, ["restore", str(tmp_path / "portrait.png"), "--out", str(tmp_path / "out"),
                                       "--device", "cpu", "--faces", "--no-progress"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out" / "restore.json").read_text())["files"][0]
    assert record["stages"] == ["read", "detect", "restore", "faces", "write"]
    assert len(record["faces"]) == 1 and record["faces"][0]["enhanced"] and record["faces"][0]["blended"]
