"""`oldphoto restore` reruns: resuming, refusing another run's folder, never replacing inputs or foreign files."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from oldphoto.cli import main

RESTORE = ["--device", "cpu", "--no-progress"]


def photo(path, seed, size=(40, 32)):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def restore(*args):
    result = CliRunner().invoke(main, ["restore", *map(str, args), *RESTORE])
    return result


def records(out):
    report = json.loads((out / "restore.json").read_text())
    return {r["input"].rsplit("/", 1)[-1]: r for r in report["files"]}, report


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    photo(folder / "a.png", 0)
    photo(folder / "b.png", 1, (36, 28))
    (folder / "corrupt.png").write_bytes((folder / "a.png").read_bytes()[:120])
    return folder


# --- smoke: resuming ------------------------------------------------------------------------------

def test_rerun_keeps_restored_files_and_retries_failures(tmp_path, inputs):
    out = tmp_path / "out"
    first = restore(inputs, "--out", out)
    assert first.exit_code == 1
    stamps = {name: (out / f"{name}.png").stat().st_mtime_ns for name in ("a", "b")}
    contents = {name: (out / f"{name}.png").read_bytes() for name in ("a", "b")}
    second = restore(inputs, "--out", out)
    assert second.exit_code == 1 and "2 kept from an earlier run" in second.output
    rows, report = records(out)
    assert rows["a.png"]["resumed"] and rows["b.png"]["resumed"] and not rows["corrupt.png"]["resumed"]
    assert rows["corrupt.png"]["error"].startswith("read:") and report["resumed"] == 2 and report["failed"] == 1
    for name in ("a", "b"):
        assert (out / f"{name}.png").stat().st_mtime_ns == stamps[name]
        assert (out / f"{name}.png").read_bytes() == contents[name]


def test_interrupted_batch_restores_only_the_rest(tmp_path, inputs):
    out = tmp_path / "out"
    assert restore(inputs / "a.png", "--out", out).exit_code == 0
    assert restore(inputs / "a.png", inputs / "b.png", "--out", out).exit_code == 0
    rows, _ = records(out)
    assert rows["a.png"]["resumed"] and not rows["b.png"]["resumed"] and rows["b.png"]["error"] is None


def test_a_changed_input_is_restored_again(tmp_path, inputs):
    out = tmp_path / "out"
    assert restore(inputs / "a.png", "--out", out).exit_code == 0
    photo(inputs / "a.png", 7)
    assert restore(inputs / "a.png", "--out", out).exit_code == 0
    rows, _ = records(out)
    assert not rows["a.png"]["resumed"] and rows["a.png"]["error"] is None


def test_a_deleted_output_is_restored_again(tmp_path, inputs):
    out = tmp_path / "out"
    assert restore(inputs / "a.png", "--out", out, "--save-masks").exit_code == 0
    (out / "masks" / "a.png").unlink()
    assert restore(inputs / "a.png", "--out", out, "--save-masks").exit_code == 0
    rows, _ = records(out)
    assert not rows["a.png"]["resumed"] and (out / "masks" / "a.png").is_file()


# --- exceptions: another run's folder, inputs and foreign files ------------------------------------

def test_other_options_are_refused_unless_forced(tmp_path, inputs):
    out = tmp_path / "out"
    assert restore(inputs / "a.png", "--out", out).exit_code == 0
    refused = restore(inputs / "a.png", "--out", out, "--scratches", "off")
    assert refused.exit_code == 1
    assert "other options ['scratches']" in refused.output and "--force" in refused.output
    assert records(out)[1]["options"]["scratches"] == "auto"
    forced = restore(inputs / "a.png", "--out", out, "--scratches", "off", "--force")
    assert forced.exit_code == 0
    rows, report = records(out)
    assert report["options"]["scratches"] == "off" and not rows["a.png"]["resumed"]
    assert rows["a.png"]["stages"] == ["read", "restore", "write"]


def test_an_unreadable_report_is_an_error_naming_it(tmp_path, inputs):
    out = tmp_path / "out"
    out.mkdir()
    (out / "restore.json").write_text("{not json")
    result = restore(inputs / "a.png", "--out", out)
    assert result.exit_code != 0 and f"{out / 'restore.json'}: not a readable restore report" in result.output
    assert (out / "restore.json").read_text() == "{not json"


def test_an_output_never_replaces_an_input(tmp_path, inputs):
    before = (inputs / "a.png").read_bytes()
    for extra in ([], ["--force"]):
        result = restore(inputs / "a.png", "--out", inputs, *extra)
        assert result.exit_code == 1 and "is an input file of this batch" in result.output
        assert (inputs / "a.png").read_bytes() == before


def test_a_foreign_file_is_replaced_only_with_force(tmp_path, inputs):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"someone else's file")
    result = restore(inputs / "a.png", "--out", out)
    assert result.exit_code == 1 and "was not written by a restore run" in result.output
    assert (out / "a.png").read_bytes() == b"someone else's file"
    assert restore(inputs / "a.png", "--out", out, "--force").exit_code == 0
    with Image.open(out / "a.png") as image:
        assert image.size == (40, 32)


def test_an_output_folder_inside_the_input_folder_is_not_read_back(inputs):
    out = inputs / "restored"
    for _ in range(2):
        result = restore(inputs, "--out", out)
        assert result.exit_code == 1
    rows, _ = records(out)
    assert sorted(rows) == ["a.png", "b.png", "corrupt.png"]
    assert sorted(p.name for p in out.glob("*.png")) == ["a.png", "b.png"]


def test_degrade_never_replaces_an_input(inputs):
    before = (inputs / "a.png").read_bytes()
    result = CliRunner().invoke(main, ["degrade", str(inputs / "a.png"), "--out", str(inputs),
                                       "--preset", "bopbtl-code"])
    assert result.exit_code == 1 and "is an input file" in result.output
    assert (inputs / "a.png").read_bytes() == before
