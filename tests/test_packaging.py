"""The repository root is the package `oldphoto`; nothing else is installed at top level."""

import importlib.util
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"oldphoto"}
    for init in ROOT.rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        if rel.parts and rel.parts[0] in {"tests", ".venv", "build"} or any(p.startswith(".") for p in rel.parts):
            continue
        if rel.parts:
            found.add("oldphoto." + ".".join(rel.parts))
    assert found == listed


@pytest.mark.parametrize("name", ["datasets", "models", "degrade", "benchmark", "cli"])
def test_no_top_level_modules_are_installed(name, monkeypatch):
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if Path(p or ".").resolve() != ROOT])
    assert importlib.util.find_spec(name) is None or "site-packages" in str(importlib.util.find_spec(name).origin)
    assert importlib.util.find_spec(f"oldphoto.{name}") is not None


def test_degrade_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, oldphoto.degrade, oldphoto.degrade.gallery; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
