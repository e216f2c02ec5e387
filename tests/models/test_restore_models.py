"""`oldphoto restore --model M` for models outside the bopbtl family, and images too small to restore."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from oldphoto.cli import main

RESTORE = ["--device", "cpu", "--no-progress"]


@pytest.fixture
def scans(tmp_path):
    rng = np.random.default_rng(0)
    for name, size in (("a/x.png", 32), ("b/x.png", 24), ("tiny.png", 1)):
        (tmp_path / "scans" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(tmp_path / "scans" / name)
    return tmp_path / "scans"


def restore(inputs, out, model):
    result = CliRunner().invoke(main, ["restore", *map(str, inputs), "--out", str(out), "--model", model, *RESTORE])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "error: " + str(inputs[-1]) + ": read: ValueError: image is 1x1 px; restore needs sides of at least 8 px" \
        in result.output
    return result, json.loads((out / "restore.json").read_text())


@pytest.mark.parametrize("model", ["input", "classical"])
def test_models_outside_the_bopbtl_family_restore_and_a_1x1_image_is_refused(scans, tmp_path, model):
    out = tmp_path / "out"
    result, report = restore([scans / "a", scans / "b", scans / "tiny.png"], out, model)
    assert "restored 2 of 3 file(s)" in result.output and report["model"] == model and report["failed"] == 1
    assert sorted(p.name for p in out.iterdir()) == ["restore.json", "x-2.png", "x.png"]
    assert Image.open(out / "x.png").size == (32, 32) and Image.open(out / "x-2.png").size == (24, 24)
    if model == "input":
        assert np.array_equal(np.asarray(Image.open(out / "x.png")), np.asarray(Image.open(scans / "a" / "x.png")))


def test_dip_restores(scans, tmp_path):
    result, report = restore([scans / "a" / "x.png", scans / "tiny.png"], tmp_path / "out", "dip")
    assert "restored 1 of 2 file(s)" in result.output and report["files"][0]["stages"] == ["read", "restore", "write"]
    assert Image.open(tmp_path / "out" / "x.png").size == (32, 32)


@pytest.mark.parametrize("args,message", [
    (["--model", "nope"], "--model nope: no such model; restore runs bopbtl, "),
    (["--model", "classical", "--config", "full"], "--model classical: --config and --weights apply to bopbtl"),
])
def test_a_model_restore_cannot_run_is_one_line(scans, tmp_path, args, message):
    result = CliRunner().invoke(main, ["restore", str(scans), "--out", str(tmp_path / "out"), *args, *RESTORE])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"Error: {message}" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
