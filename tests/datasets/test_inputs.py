"""Input listing (skip reasons for what looks like an image but is not one) and the output-naming rule."""

from __future__ import annotations

import csv
import os

import pytest

from oldphoto.datasets.inputs import InputError, distinct_names, expand_inputs, output_names, scan
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize


@pytest.fixture
def collection(tmp_path, helpers):
    root = tmp_path / "coll"
    for name in ("a/x.png", "b/x.png", "y.jpg", "y.png", "a__x.png"):
        helpers.save(root / name, helpers.make_photo(len(name), 24, 24))
    (root / "palette.gif").write_bytes(b"GIF89a")
    (root / "named.jpg").mkdir()
    (root / "dangling.png").symlink_to("nowhere.png")
    (root / "loop.png").symlink_to("loop.png")
    os.mkfifo(root / "pipe.png")
    (root / "notes.txt").write_text("not an image, not listed")
    return root


REASONS = {"palette.gif": "unsupported image type .gif", "named.jpg": "a folder, not an image file",
           "dangling.png": "broken symbolic link", "loop.png": "symbolic link loop", "pipe.png": "not a regular file"}


def test_scan_gives_every_entry_named_like_an_image_a_reason(collection):
    files, skipped = scan(collection)
    assert [p.relative_to(collection).as_posix() for p in files] == ["a/x.png", "a__x.png", "b/x.png", "y.jpg", "y.png"]
    reasons = {p.name: reason for p, reason in skipped}
    assert set(reasons) == set(REASONS) and all(reasons[k].startswith(v) for k, v in REASONS.items())


def test_expand_inputs_takes_each_file_once_and_never_from_out(collection):
    found = expand_inputs([str(collection), str(collection / "y.png"), str(collection / "loop.png")],
                          out=collection / "a")
    assert [p.relative_to(collection).as_posix() for p in found.files] == ["a__x.png", "b/x.png", "y.jpg", "y.png"]
    assert [p.name for p, _ in found.skipped].count("loop.png") == 2
    with pytest.raises(InputError, match="missing.png: no such file or folder"):
        expand_inputs([str(collection / "missing.png")])


@pytest.mark.parametrize("names,ignore_case,expected", [
    (["x", "y"], True, ["x", "y"]),
    (["x", "x", "x"], True, ["x", "x-2", "x-3"]),
    (["x", "x", "x-2"], True, ["x", "x-3", "x-2"]),  # a given name is never taken by a repeat
    (["X", "x"], True, ["X", "x-2"]),
    (["X", "x"], False, ["X", "x"]),
])
def test_distinct_names(names, ignore_case, expected):
    assert distinct_names(names, ignore_case) == expected


def test_output_names_keep_stems_and_suffix_repeats(collection):
    files, _ = scan(collection)
    assert output_names(files) == ["x", "a__x", "x-2", "y", "y-2"]


def test_folder_sources_list_skipped_entries_and_keep_ids_distinct(collection, tmp_path):
    source = make_source("folder", collection)
    ids = [item.id for item in source.items]
    assert len(set(ids)) == len(ids) == 5 and {"a__x", "a__x-2", "b__x", "y_jpg", "y_png"} == set(ids)
    summary = synthesize(source, tmp_path / "ds", crop=16, progress=False)
    assert summary.written == 5
    with open(tmp_path / "ds" / "skipped.csv", newline="") as f:
        rows = {r["source_path"]: r["reason"] for r in csv.DictReader(f)}
    assert set(rows) == set(REASONS) and all(rows[k].startswith(v) for k, v in REASONS.items())
