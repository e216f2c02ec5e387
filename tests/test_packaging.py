"""The repository root is the package `oldphoto`; nothing else is installed at top level.

A wheel is built from a copy of the checkout (with one extra subpackage, to show that new folders
are found without being listed anywhere) and compared with the folders of the checkout.
"""

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Not part of the package: the tests, hidden folders, and what builds, docs and demos write.
OUTSIDE = {"tests", "build", "dist", "site", "demo-out", "runs", "out"}
PROBE = ("infra", "probe_subpackage")
PACKAGE_DATA = ("degrade/presets/*.yaml", "models/checkpoints/*.pt", "models/checkpoints/*.yaml",
                "models/checkpoints/*.md", "models/checkpoints/*/*.pt", "models/checkpoints/*/*.yaml",
                "models/checkpoints/*/*.md")


def checkout_packages(root: Path) -> set[str]:
    """Dotted names, under ``oldphoto``, of the folders of ``root`` that are packages: an ``__init__.py``
    in them and in every folder above them, outside ``OUTSIDE`` and hidden folders."""
    found = {"oldphoto"}
    for init in root.rglob("__init__.py"):
        rel = init.parent.relative_to(root)
        if not rel.parts or rel.parts[0] in OUTSIDE or any(p.startswith(".") for p in rel.parts):
            continue
        if all((root.joinpath(*rel.parts[:depth]) / "__init__.py").is_file() for depth in range(1, len(rel.parts))):
            found.add(".".join(("oldphoto", *rel.parts)))
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """A wheel built offline from a copy of the checkout plus the subpackage ``PROBE`` and a tests package."""
    src = tmp_path_factory.mktemp("src") / "checkout"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", *OUTSIDE - {"tests"}))
    (src / "tests" / "__init__.py").touch()
    probe = src.joinpath(*PROBE)
    probe.mkdir()
    (probe / "__init__.py").write_text('"""A subpackage no configuration names."""\n')
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(src)], check=True, capture_output=True, timeout=600)
    (path,) = out.glob("oldphoto-*.whl")
    return zipfile.ZipFile(path)


def test_every_package_folder_and_nothing_else_is_in_the_wheel(wheel):
    packages = {str(Path(name).parent).replace("/", ".") for name in wheel.namelist() if name.endswith("/__init__.py")}
    assert packages == checkout_packages(ROOT) | {".".join(("oldphoto", *PROBE))}
    assert "oldphoto.apps" in packages and "oldphoto.models.training.families" in packages


def test_only_oldphoto_is_installed_at_top_level(wheel):
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"oldphoto"}
    (top_level,) = [name for name in wheel.namelist() if name.endswith(".dist-info/top_level.txt")]
    assert wheel.read(top_level).decode().split() == ["oldphoto"]
    assert "oldphoto/setup.py" not in wheel.namelist()


def test_package_data_ships(wheel):
    data = sorted(path.relative_to(ROOT).as_posix() for pattern in PACKAGE_DATA for path in ROOT.glob(pattern))
    assert len(data) > 20
    assert [name for name in data if f"oldphoto/{name}" not in wheel.namelist()] == []


def test_checker_skips_tests_hidden_and_output_folders(tmp_path):
    for folder in ("", "a", "a/b", "c/d", "tests/e", ".hidden", "build/lib/f"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "__init__.py").touch()
    assert checkout_packages(tmp_path) == {"oldphoto", "oldphoto.a", "oldphoto.a.b"}


@pytest.mark.parametrize("name", ["datasets", "models", "degrade", "benchmark", "cli"])
def test_no_top_level_modules_are_installed(name, monkeypatch):
    monkeypatch.setattr("sys.path", [p for p in sys.path if Path(p or ".").resolve() != ROOT])
    assert importlib.util.find_spec(name) is None or "site-packages" in str(importlib.util.find_spec(name).origin)
    assert importlib.util.find_spec(f"oldphoto.{name}") is not None


def test_degrade_imports_no_torch():
    code = "import sys, oldphoto.degrade, oldphoto.degrade.gallery; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
