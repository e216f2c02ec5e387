"""The HTML report: structure (tables, charts, grids, image paths) and a real-browser check."""

from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from oldphoto.benchmark.report import bar_chart, browser_check, chromium_command, crop_box, write_report
from oldphoto.benchmark.runner import run_benchmark
from oldphoto.cli import main
from oldphoto.datasets.imageio import read_rgb, write_image
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize

MODELS = ["input", "classical"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A benchmark run of input and classical on 3 paired samples and 2 'real' photos."""
    base = tmp_path_factory.mktemp("report")
    data = base / "data"
    synthesize(make_source("builtin"), data, preset="scratches-only", crop=48, limit=3, progress=False)
    real = base / "real"
    for path in sorted((data / "degraded").glob("*.png"))[:2]:
        write_image(real / f"old-{path.name}", read_rgb(path))
    out = base / "run"
    run_benchmark(MODELS, data, out, real=real, metric_names=["psnr", "ssim"], device="cpu", progress=False,
                  log=lambda line: None)
    write_report(out)
    return out


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(path):
    parser = Collect()
    parser.feed(Path(path).read_text())
    return parser.tags


def test_report_structure(run_dir):
    tags = parse(run_dir / "report.html")
    names = [t for t, _ in tags]
    assert names.count("table") == 2  # one sortable summary table per dataset
    assert all(a.get("class") == "sortable" for t, a in tags if t == "table")
    headers = [a for t, a in tags if t == "th"]
    assert sum(a.get("data-higher") == "1" for a in headers) == 2  # psnr, ssim on the paired table
    assert names.count("svg") == 2  # psnr and ssim bar charts (real photos have no paired metrics)
    assert not any(t in ("link",) or (t == "script" and "src" in a) for t, a in tags)  # nothing external
    sections = [a for t, a in tags if t == "section"]
    assert len(sections) == 3 + 2
    images = [a["src"] for t, a in tags if t == "img"]
    # paired: (degraded, 2 models, clean, mask) x (full, zoom) x 3; real: (degraded, 2 models) x 2 x 2
    assert len(images) == 3 * 5 * 2 + 2 * 3 * 2
    for src in images:
        assert not src.startswith(("/", "http", "file:")) and (run_dir / src).is_file(), src
    assert any(src.startswith("images/classical/") for src in images)


def test_crop_box_finds_defects_then_errors():
    mask = np.zeros((40, 60), bool)
    mask[30:38, 50:58] = True
    assert crop_box(mask, None, (40, 60), 8) == (50, 30, 8)
    error = np.zeros((40, 60), np.float32)
    error[2:6, 3:9] = 1.0
    x, y, side = crop_box(None, error, (40, 60), 8)
    assert side == 8 and x <= 3 and x + 8 >= 9 and y <= 2 and y + 8 >= 6
    assert crop_box(None, None, (40, 60), 100) == (10, 0, 40)


def test_bar_chart_marks_the_best():
    svg = bar_chart("lpips", {"a": 0.3, "b": 0.1, "c": float("nan")}, higher_is_better=False)
    assert svg.count("<rect") == 3 and svg.count("#d9822b") == 1
    assert svg.index("#d9822b") > svg.index(">b<")  # the highlighted bar is b's (lowest lpips)
    assert "lower is better" in svg


def test_cli_report(run_dir):
    res = CliRunner().invoke(main, ["report", str(run_dir), "--samples", "1"])
    assert res.exit_code == 0, res.output
    assert sum(t == "section" for t, _ in parse(run_dir / "report.html")) == 2
    write_report(run_dir)


def test_report_in_headless_chromium(run_dir, tmp_path):
    """Every image loads and clicking a header sorts the rows, checked by the page's own script in
    a real browser; a screenshot is saved."""
    if chromium_command(tmp_path) is None:
        pytest.skip("chromium is not installed (`make test` installs the Debian package `chromium` when run as root)")
    shot = tmp_path / "report.png"
    result = browser_check(run_dir / "report.html", screenshot=shot, window=(1200, 900))
    assert result["status"] == "pass", result["text"]
    assert result["images"] == "42" and result["broken"] == "0" and result["sorted"] == "yes"
    assert read_rgb(shot).shape == (900, 1200, 3)


def test_browser_check_sees_a_broken_image(run_dir, tmp_path):
    if chromium_command(tmp_path) is None:
        pytest.skip("chromium is not installed (`make test` installs the Debian package `chromium` when run as root)")
    page = run_dir / "broken.html"
    page.write_text((run_dir / "report.html").read_text().replace('src="images/input/', 'src="images/missing/', 1))
    result = browser_check(page)
    assert result["status"] == "fail" and result["broken"] == "1" and "images/missing/" in result["text"]
