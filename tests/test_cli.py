"""The command line: entry points, help on every command, errors, and the degrade/presets commands."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from oldphoto import __version__, degrade
from oldphoto.cli import main

ROOT = Path(__file__).resolve().parents[1]


def all_commands(group, prefix=()):
    import click

    for name, cmd in group.commands.items():
        yield prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))


@pytest.mark.parametrize("path", list(all_commands(main)), ids=" ".join)
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.mark.parametrize("argv", [
    [sys.executable, "-m", "oldphoto", "--version"],
    [sys.executable, str(ROOT / "cli.py"), "--version"],
    [str(Path(sys.executable).parent / "oldphoto"), "--version"],
])
def test_entry_points(argv):
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert __version__ in out.stdout


def test_script_entry_point_registers_every_command():
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--help"], capture_output=True, text=True, check=True)
    listed = {line.split()[0] for line in out.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(main.commands)


def test_misuse_exits_non_zero(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["no-such-command"]).exit_code != 0
    res = runner.invoke(main, ["degrade", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code != 0 and "--preset" in res.output
    res = runner.invoke(main, ["degrade", str(tmp_path / "missing.png"), "--out", "o", "--preset", "bopbtl-code"])
    assert res.exit_code != 0 and "missing.png" in res.output
    res = runner.invoke(main, ["presets", "--show", "nope"])
    assert res.exit_code != 0 and "unknown preset" in res.output
    res = runner.invoke(main, ["presets", "--gallery", str(tmp_path / "g.png"), "--photos", "nope"])
    assert res.exit_code != 0 and "unknown builtin photo" in res.output


def write_png(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))


def test_degrade_files_and_folders_with_params(tmp_path, photo):
    write_png(tmp_path / "in" / "a.png", photo)
    write_png(tmp_path / "in" / "sub" / "b.png", photo[:64])
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["degrade", str(tmp_path / "in"), "--out", str(out),
                                    "--preset", "bopbtl-code", "--seed", "3", "--save-params"])
    assert res.exit_code == 1 and "broken.png" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "a.png", "b.json", "b.png"]
    params = json.loads((out / "a.json").read_text())
    written = cv2.cvtColor(cv2.imread(str(out / "a.png")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(written, degrade.replay(photo, params).image)


def test_degrade_with_config_file(tmp_path, photo):
    write_png(tmp_path / "a.png", photo)
    degrade.Pipeline([degrade.Sepia(strength=(1, 1), p=1)]).save(tmp_path / "p.yaml")
    res = CliRunner().invoke(main, ["degrade", str(tmp_path / "a.png"), "--out", str(tmp_path / "o"),
                                    "--config", str(tmp_path / "p.yaml")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "a.png").is_file()


def test_presets_list_show_and_gallery(tmp_path):
    runner = CliRunner()
    listed = runner.invoke(main, ["presets"]).output.split()
    assert listed == degrade.list_presets()
    shown = runner.invoke(main, ["presets", "--show", "bopbtl-code"]).output
    assert "JpegCompression" in shown
    res = runner.invoke(main, ["presets", "--gallery", str(tmp_path / "g.png")])
    assert res.exit_code == 0, res.output
    sheet = cv2.imread(str(tmp_path / "g.png"))
    assert sheet.shape[0] > 256 * len(listed)


def test_degrade_names_repeated_stems_apart_and_counts_what_it_wrote(tmp_path, photo):
    for name in ("a/x.png", "b/x.png", "y.jpg", "y.png"):
        write_png(tmp_path / "coll" / name, photo[:64, :64])
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["degrade", str(tmp_path / "coll"), "--out", str(out), "--preset", "bopbtl-code"])
    assert res.exit_code == 0, res.output
    assert "degraded 4 of 4 file(s)" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["x-2.png", "x.png", "y-2.png", "y.png"]


def test_degrade_into_its_own_input_folder_finds_nothing_and_says_so(tmp_path, photo):
    write_png(tmp_path / "in" / "a.png", photo)
    res = CliRunner().invoke(main, ["degrade", str(tmp_path / "in"), "--out", str(tmp_path / "in"),
                                    "--preset", "bopbtl-code"])
    assert res.exit_code == 2 and "no image files found in" in res.output and "degraded" not in res.output
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["a.png"]


def test_degrade_error_for_a_too_small_image_names_the_file(tmp_path, photo):
    write_png(tmp_path / "tiny.png", photo[:1, :1])
    res = CliRunner().invoke(main, ["degrade", str(tmp_path / "tiny.png"), "--out", str(tmp_path / "o"),
                                    "--preset", "bopbtl-code"])
    assert res.exit_code == 1
    assert f"error: {tmp_path / 'tiny.png'}: Pipeline: image sides must be >= 8 px, got 1x1" in res.output
    assert "degraded 0 of 1 file(s)" in res.output and not (tmp_path / "o").exists()
