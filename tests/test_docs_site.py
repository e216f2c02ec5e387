"""The documentation builds offline into a static site with ``mkdocs build --strict`` (a broken link
or anchor is a warning, and strict makes it an error), and mkdocs.yml's nav lists every page."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def build(root: Path, site: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of the mkdocs.yml in ``root`` into ``site``."""
    pytest.importorskip("mkdocs", reason="mkdocs is in the `test` extra: pip install -e '.[test]'")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(root / "mkdocs.yml"), "-d",
                           str(site)], capture_output=True, text=True, timeout=300)


def hooks():
    spec = importlib.util.spec_from_file_location("site_hooks", ROOT / "docs" / "site_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_site_builds_strict_with_the_readme_as_home(tmp_path):
    done = build(ROOT, tmp_path / "site")
    assert done.returncode == 0 and "WARNING" not in done.stderr, done.stderr
    home = (tmp_path / "site" / "index.html").read_text()
    assert "Quick tour" in home and 'href="training/"' in home
    assert "<code>leaderboard/README.md</code> in the repository" in home
    assert (tmp_path / "site" / "training" / "index.html").is_file()
    assert not (tmp_path / "site" / "site_hooks.py").exists()


def test_nav_lists_every_page():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    nav = {page for entry in config["nav"] for page in entry.values()}
    assert nav == {"index.md"} | {page.name for page in (ROOT / "docs").glob("*.md")}


def test_strict_build_fails_on_a_broken_link(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", copy / "docs")
    for name in ("mkdocs.yml", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    with open(copy / "docs" / "training.md", "a") as page:
        page.write("\nSee [the metrics](metrics.md#no-such-heading) and [a gone page](gone.md).\n")
    done = build(copy, tmp_path / "site")
    assert done.returncode != 0
    assert "gone.md" in done.stderr and "no-such-heading" in done.stderr


@pytest.mark.parametrize(("target", "page", "folder", "expected"), [
    ("docs/models.md#weights", "index.md", "", "models.md#weights"),
    ("../README.md#quick-tour", "training.md", "docs", "index.md#quick-tour"),
    ("metrics.md", "training.md", "docs", "metrics.md"),
    ("../leaderboard/README.md", "benchmark.md", "docs", None),
    ("leaderboard/README.md", "index.md", "", None),
    ("https://example.org/a.md", "training.md", "docs", "https://example.org/a.md"),
    ("#anchor", "training.md", "docs", "#anchor"),
])
def test_links_become_site_links_or_repository_paths(target, page, folder, expected):
    assert hooks().site_link(target, page, folder, "docs") == expected
