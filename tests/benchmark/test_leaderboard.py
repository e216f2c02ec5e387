"""Leaderboard merge: rows per (model, config, dataset, protocol), idempotence, best marked, CLI."""

import csv

import pytest
from click.testing import CliRunner

from oldphoto.benchmark import rundir
from oldphoto.benchmark.leaderboard import render_table, update
from oldphoto.cli import main

PSNR = {"convention": "psnr:rgb", "higher_is_better": True, "needs_reference": True, "set_level": False}
LPIPS = {"convention": "lpips:alex", "higher_is_better": False, "needs_reference": True, "set_level": False}


def make_run(folder, results, protocol="p000000001", dataset="builtin-x", finished="2025-01-01T00:00:00+00:00",
             failed=()):
    """A run folder as `oldphoto benchmark` writes it; ``results``: model -> {metric: mean}."""
    summary, statuses = [], []
    for model, values in results.items():
        for metric, mean in values.items():
            summary.append({"model": model, "dataset": dataset, "metric": metric, "convention": f"{metric}:c",
                            "mean": mean, "std": 0.5, "n": 4, "higher_is_better": metric == "psnr"})
        statuses.append({"model": model, "dataset": dataset, "config": "", "params": 1000, "device": "cpu",
                         "samples": 4, "seconds_per_mp": 2.0, "peak_memory_mib": 100.0, "memory_kind": "rss",
                         "status": "ok", "error": ""})
    statuses += [{"model": m, "dataset": dataset, "config": "", "status": "failed", "error": "boom"} for m in failed]
    rundir.write_csv(folder / "summary.csv", rundir.SUMMARY_COLUMNS, summary)
    rundir.write_csv(folder / "models.csv", rundir.MODELS_COLUMNS, statuses)
    rundir.write_csv(folder / "per_image.csv", ["model"], [])
    rundir.write_json(folder / "run.json", {
        "datasets": {dataset: {"protocol": protocol, "protocol_text": f"4 samples; protocol {protocol}",
                               "real": False}},
        "metrics": {"psnr": PSNR, "lpips": LPIPS}, "finished": finished})
    rundir.write_json(folder / "environment.json", {"oldphoto_version": "0.1.0", "git_commit": "abcdef0123456789",
                                                    "git_dirty": False})
    return folder


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def snapshot(board):
    return {p.name: p.read_bytes() for p in sorted(board.iterdir())}


def test_update_writes_rows_protocols_and_readme(tmp_path):
    run = make_run(tmp_path / "run", {"input": {"psnr": 20.0, "lpips": 0.4}, "classical": {"psnr": 25.0, "lpips": 0.3}},
                   failed=["dip"])
    board = tmp_path / "board"
    written = update(run, board)
    assert sorted(p.name for p in written) == ["README.md", "builtin-x.csv", "protocols.csv"]
    rows = read(board / "builtin-x.csv")
    assert [r["model"] for r in rows] == ["classical", "input"]  # the failed model is not merged
    assert list(rows[0])[:5] == ["model", "config", "dataset", "protocol", "n"]
    assert rows[1]["psnr"] == "20" and rows[1]["lpips_std"] == "0.5" and rows[1]["commit"] == "abcdef0123"
    assert read(board / "protocols.csv")[0]["protocol"] == "p000000001"
    readme = (board / "README.md").read_text()
    assert "Protocol: 4 samples; protocol p000000001." in readme
    assert "| `classical` | 4 | **25** | **0.3** |" in readme and "| `input` | 4 | 20 | 0.4 |" in readme


def test_update_is_idempotent_and_replaces_same_key(tmp_path):
    board = tmp_path / "board"
    run1 = make_run(tmp_path / "r1", {"input": {"psnr": 20.0, "lpips": 0.4}})
    update(run1, board)
    first = snapshot(board)
    update(run1, board)
    assert snapshot(board) == first
    run2 = make_run(tmp_path / "r2", {"input": {"psnr": 21.0, "lpips": 0.4}}, finished="2025-02-01T00:00:00+00:00")
    update(run2, board)
    rows = read(board / "builtin-x.csv")
    assert len(rows) == 1 and rows[0]["psnr"] == "21" and rows[0]["date"].startswith("2025-02")


def test_protocols_and_datasets_get_separate_tables(tmp_path):
    board = tmp_path / "board"
    update(make_run(tmp_path / "a", {"input": {"psnr": 20.0}}), board)
    update(make_run(tmp_path / "b", {"input": {"psnr": 30.0}}, protocol="p000000002"), board)
    update(make_run(tmp_path / "c", {"input": {"psnr": 40.0}}, dataset="voc-y"), board)
    assert len(read(board / "builtin-x.csv")) == 2 and len(read(board / "voc-y.csv")) == 1
    readme = (board / "README.md").read_text()
    assert readme.count("## builtin-x (protocol") == 2 and readme.count("## voc-y (protocol") == 1


def test_best_marks_follow_direction_and_ties():
    rows = [{"model": m, "config": "", "n": "2", "psnr": p, "lpips": lp, "seconds_per_mp": "1", "params": "0",
             "device": "cpu", "commit": "x"} for m, p, lp in [("a", "30", "0.2"), ("b", "30", "0.1"), ("c", "", "0.3")]]
    lines = render_table(rows, {"psnr": PSNR, "lpips": LPIPS})
    assert lines[0] == "| Model | n | psnr ↑ | lpips ↓ | s/MP ↓ | Params | Device | Commit |"
    assert lines[2].startswith("| `a` | 2 | **30** | 0.2 |")
    assert lines[3].startswith("| `b` | 2 | **30** | **0.1** |")
    assert lines[4].startswith("| `c` | 2 | – | 0.3 |")


def test_bad_run_folder_is_a_clear_error(tmp_path):
    with pytest.raises(rundir.RunDirError, match="summary.csv: missing"):
        update(tmp_path, tmp_path / "board")
    res = CliRunner().invoke(main, ["leaderboard", "update", str(tmp_path), "--dir", str(tmp_path / "board")])
    assert res.exit_code != 0 and "summary.csv: missing" in res.output


def test_cli_update(tmp_path):
    run = make_run(tmp_path / "run", {"input": {"psnr": 20.0}})
    res = CliRunner().invoke(main, ["leaderboard", "update", str(run), "--dir", str(tmp_path / "board")])
    assert res.exit_code == 0, res.output
    assert "README.md" in res.output and (tmp_path / "board" / "README.md").is_file()
