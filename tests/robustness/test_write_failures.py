"""degrade, synthesize and restore into a read-only folder (capabilities dropped: root ignores mode bits),
into /proc and onto a full filesystem (a small tmpfs): one line naming the path and the reason, exit 1,
no traceback, nothing half-written; after space is freed a rerun gives the bytes of a clean run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from oldphoto.cli import main

DROP = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
COMMANDS = {
    "degrade": lambda inputs, out: ["degrade", inputs, "--out", out, "--preset", "bopbtl-code"],
    "synthesize": lambda inputs, out: ["synthesize", "--source", "folder", "--root", inputs, "--out", out,
                                       "--crop", 0, "--min-side", 8, "--preset", "bopbtl-code", "--no-progress"],
    "restore": lambda inputs, out: ["restore", inputs, "--out", out, "--model", "input", "--no-progress"],
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Three 64 x 64 noise photos (each PNG output about 12 KB)."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for k in range(3):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(root / f"p{k}.png")
    return root


def tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def invoke(command: str, photos, out):
    result = CliRunner().invoke(main, [str(a) for a in COMMANDS[command](photos, out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def assert_one_error_line(text: str, *fragments: str) -> None:
    errors = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and all(f in errors[0] for f in fragments), text
    assert text.splitlines()[-1] == errors[0] and "Traceback" not in text, text


@pytest.fixture(scope="module")
def unprivileged(tmp_path_factory) -> list[str]:
    """The command prefix that makes writes into a mode-0555 folder fail: none for a normal user; for root,
    setpriv with the capabilities that override file modes dropped (skips when that cannot be done)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root (mode bits ignored) and setpriv, to drop CAP_DAC_OVERRIDE, is not installed")
    probe = tmp_path_factory.mktemp("probe")
    probe.chmod(0o555)
    done = subprocess.run([*DROP, "sh", "-c", f"touch '{probe}/x'"], capture_output=True)
    if done.returncode == 0 or (probe / "x").exists():
        pytest.skip(f"setpriv could not drop the root override of file modes here ({done.stderr.decode().strip()})")
    return DROP


@pytest.mark.parametrize("command", list(COMMANDS))
def test_into_a_read_only_folder(command, photos, tmp_path, unprivileged):
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    argv = [*unprivileged, sys.executable, "-m", "oldphoto", *map(str, COMMANDS[command](photos, out))]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 1, done.stderr
    assert_one_error_line(done.stderr, str(out), "Permission denied")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", list(COMMANDS))
def test_into_proc(command, photos):
    out = "/proc/oldphoto-no-such-folder/out"
    result = invoke(command, photos, out)
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, "/proc/oldphoto-no-such-folder")


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs at tmp_path/disk, unmounted afterwards (skips where mounting is not allowed)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up here: {done.stderr.strip() or done.returncode}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk, leave: int):
    """Fill ``disk`` up to ``leave`` bytes of free space; returns the filler file."""
    filler = disk / "filler"
    info = os.statvfs(disk)
    filler.write_bytes(b"\0" * (info.f_bavail * info.f_frsize - leave))
    return filler


@pytest.mark.parametrize("command,leave", [("degrade", 16 << 10), ("synthesize", 40 << 10), ("restore", 24 << 10)])
def test_on_a_full_disk_then_after_space_is_freed(command, leave, photos, tmp_path, small_disk):
    clean = tmp_path / "clean"
    assert invoke(command, photos, clean).exit_code == 0
    out = small_disk / "out"
    filler = fill(small_disk, leave)
    result = invoke(command, photos, out)
    assert result.exit_code == 1
    assert_one_error_line(result.stderr, str(out), "No space left on device")
    assert not [p for p in out.rglob("*.tmp")]
    filler.unlink()
    assert invoke(command, photos, out).exit_code == 0
    written, expected = tree(out), tree(clean)
    if command == "restore":  # restore.json holds paths and timings; the images must match
        written, expected = ({k: v for k, v in t.items() if k.endswith(".png")} for t in (written, expected))
    assert written == expected and len(expected) >= 3
