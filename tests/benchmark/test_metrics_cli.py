"""`oldphoto weights list|path` and `oldphoto bench metrics` through click's runner."""

from __future__ import annotations

from click.testing import CliRunner

from oldphoto.cli import main


def test_weights_list_and_path(tmp_path, monkeypatch):
    monkeypatch.setenv("OLDPHOTO_HOME", str(tmp_path))
    runner = CliRunner()
    listed = runner.invoke(main, ["weights", "list"])
    assert listed.exit_code == 0
    assert "lpips-alex     MISSING" in listed.output and "not fetched yet" in listed.output
    assert runner.invoke(main, ["weights", "path"]).output.strip() == str(tmp_path / "weights")
    missing = runner.invoke(main, ["weights", "path", "brisque"])
    assert missing.exit_code == 1 and "run `oldphoto weights fetch`" in missing.output
    unknown = runner.invoke(main, ["weights", "fetch", "nope"])
    assert unknown.exit_code == 1 and "unknown weights nope" in unknown.output


def test_bench_metrics_prints_ours_beside_piq():
    result = CliRunner().invoke(main, ["bench", "metrics", "--only", "psnr,ssim", "--size", "64", "--n", "2"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[2:]]
    assert [r[:2] for r in rows] == [["psnr", "64"], ["ssim", "64"]]
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in rows)
    bad = CliRunner().invoke(main, ["bench", "metrics", "--only", "mse"])
    assert bad.exit_code == 2 and "unknown metric(s) mse" in bad.output
