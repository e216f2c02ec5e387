"""`ruff check` is clean on the repository (rules and exclusions: [tool.ruff] in pyproject.toml)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff_bin() -> str:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        pytest.skip("ruff is not installed (it is in the `test` extra: pip install -e '.[test]')")
    return str(find_ruff_bin())


def test_ruff_check_is_clean():
    ruff = _ruff_bin()
    done = subprocess.run([ruff, "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (f"ruff check found problems (fix them, or see [tool.ruff] in pyproject.toml):\n"
                                  f"{done.stdout}{done.stderr}")
