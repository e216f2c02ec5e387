"""degrade, synthesize, restore and benchmark over the broken-file corpus (see conftest.py): no traceback,
every entry processed or listed with its reason, exit codes as docs/bad-input.md gives them, the corpus
untouched (hashes before and after) and no partial file left."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner
from PIL import Image

from oldphoto.cli import main


def run(args: list[str], exit_code: int):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and result.exit_code == exit_code, result.output
    return result


def assert_listed(output: str, corpus) -> None:
    """Each bad entry is named on a 'skipped:' or 'error:' line with its reason."""
    lines = output.splitlines()
    for name in corpus.bad:
        path = corpus.root / name
        assert any(line.startswith((f"skipped: {path}: ", f"error: {path}: ")) and corpus.reasons[name] in line
                   for line in lines), (name, output)


def assert_no_partial_files(folder) -> None:
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]


def test_degrade(corpus, tmp_path):
    out = tmp_path / "out"
    result = run(["degrade", corpus.root, "--out", out, "--preset", "bopbtl-code", "--save-params"], 1)
    assert_listed(result.output, corpus)
    assert f"degraded {len(corpus.good)} of {len(corpus.good) + 7} file(s) into {out}, 5 skipped" in result.output
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == len(corpus.good) and {"x.png", "x-2.png", "y.png", "y-2.png"} <= set(pngs)
    assert len(list(out.glob("*.json"))) == len(corpus.good)
    assert_no_partial_files(out)
    assert corpus.untouched()


def test_synthesize(corpus, tmp_path):
    out = tmp_path / "ds"
    run(["synthesize", "--source", "folder", "--root", corpus.root, "--out", out, "--crop", 0, "--min-side", 8,
         "--preset", "bopbtl-code", "--no-progress"], 0)
    with open(out / "manifest.csv", newline="") as f:
        assert sorted(r["source_path"] for r in csv.DictReader(f)) == corpus.good
    with open(out / "skipped.csv", newline="") as f:
        skipped = {r["source_path"]: r["reason"] for r in csv.DictReader(f)}
    assert set(skipped) == set(corpus.bad) and all(corpus.reasons[name] in reason for name, reason in skipped.items())
    assert_no_partial_files(out)
    assert corpus.untouched()


def test_restore(corpus, tmp_path):
    out = tmp_path / "restored"
    result = run(["restore", corpus.root, "--out", out, "--device", "cpu", "--no-progress"], 1)
    assert_listed(result.output, corpus)
    assert f"restored {len(corpus.good)} of {len(corpus.good) + 7} file(s) into {out}, 5 skipped" in result.output
    records = json.loads((out / "restore.json").read_text())["files"]
    for record in records:
        name = record["input"][len(str(corpus.root)) + 1:]
        assert (record["error"] is None) == (corpus.reasons[name] is None), record
        if record["output"]:
            with Image.open(record["output"]) as image:
                assert image.size == (record["width"], record["height"])
    assert len(list(out.glob("*.png"))) == len(corpus.good)
    assert_no_partial_files(out)
    assert corpus.untouched()


def test_benchmark(corpus, tmp_path):
    out = tmp_path / "run"
    result = run(["benchmark", "--models", "input", "--real", corpus.root, "--metrics", "brisque", "--out", out,
                  "--device", "cpu", "--no-progress"], 0)
    assert_listed(result.output, corpus)
    (dataset,) = json.loads((out / "run.json").read_text())["datasets"].values()
    assert sorted(s["path"][len(str(corpus.root)) + 1:] for s in dataset["skipped"]) == corpus.bad
    assert len(list((out / "images" / "input" / "real").glob("*.png"))) == len(corpus.good)
    assert_no_partial_files(out)
    assert corpus.untouched()
