"""oldphoto synthesize: layout, determinism across workers, resume after kill -9, refusal, skips, regeneration."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from oldphoto import degrade
from oldphoto.cli import main
from oldphoto.datasets.imageio import encode_png, read_rgb
from oldphoto.datasets.masks import MASK_BITS, decode_masks, encode_masks, read_masks
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import (
    DatasetExistsError,
    crop_box,
    read_manifest,
    regenerate_sample,
    sample_seed,
    synthesize,
)

CROP = 64


def run(source, out, **kw):
    kw.setdefault("crop", CROP)
    return synthesize(source, out, progress=False, **kw)


def test_layout_manifest_and_dataset_json(photos, tmp_path):
    out = tmp_path / "ds"
    summary = run(make_source("folder", photos), out, per_image=2, seed=3)
    assert summary.written == 12 and summary.skipped == 0
    rows = read_manifest(out)
    assert [r["id"] for r in rows][:3] == ["p0_0", "p0_1", "p1_0"]
    assert [r["source_path"] for r in rows][::2] == ["p0.png", "p1.png", "p2.png", "p3.png", "p4.png", "sub/q.jpg"]
    assert list(rows[0]) == ["id", "source_id", "source_path", "source_sha256", "sample_index", "crop_x",
                             "crop_y", "crop_w", "crop_h", "seed", "preset", "params"]
    for row in rows:
        for sub in ("clean", "degraded"):
            assert read_rgb(out / sub / f"{row['id']}.png").shape == (CROP, CROP, 3)
        assert set(read_masks(out / "masks" / f"{row['id']}.png")) == set(MASK_BITS)
        assert int(row["seed"]) == sample_seed(3, row["source_id"], int(row["sample_index"]))
    info = json.loads((out / "dataset.json").read_text())
    assert info["status"] == "complete" and info["counts"]["written"] == 12 and info["format_version"] == 2
    assert info["arguments"]["source"]["root"] == str(photos.resolve())
    assert info["arguments"]["pipeline"] == degrade.preset("bopbtl-code").to_dict()
    assert sorted(p.name for p in out.iterdir()) == ["clean", "dataset.json", "degraded", "manifest.csv",
                                                     "masks", "skipped.csv"]


def test_sample_seeds_depend_on_identity_not_order():
    seeds = {sample_seed(s, i, k) for s in (0, 1) for i in ("a", "b") for k in (0, 1)}
    assert len(seeds) == 8 and all(0 <= x < 2**63 for x in seeds)
    assert sample_seed(0, "a", 0) == sample_seed(0, "a", 0, epoch=0) != sample_seed(0, "a", 0, epoch=1)
    assert crop_box(5, 100, 80, 64) == crop_box(5, 100, 80, 64)
    x, y, w, h = crop_box(5, 100, 80, 64)
    assert 0 <= x <= 36 and 0 <= y <= 16 and w == h == 64


def test_identical_bytes_whatever_the_worker_count(photos, tmp_path, helpers):
    source = make_source("folder", photos)
    run(source, tmp_path / "w1", per_image=2, workers=1)
    run(source, tmp_path / "w2", per_image=2, workers=2)
    assert helpers.tree_digest(tmp_path / "w1") == helpers.tree_digest(tmp_path / "w2")


def test_regenerate_a_sample_from_its_manifest_row(photos, tmp_path):
    out = tmp_path / "ds"
    run(make_source("folder", photos), out)
    row = read_manifest(out)[4]
    sample = regenerate_sample(row, source_root=photos)
    assert encode_png(sample.degraded) == (out / "degraded" / f"{row['id']}.png").read_bytes()
    assert encode_png(sample.clean) == (out / "clean" / f"{row['id']}.png").read_bytes()
    packed = encode_masks(sample.masks, sample.degraded.shape[:2])
    assert encode_png(packed) == (out / "masks" / f"{row['id']}.png").read_bytes()
    changed = dict(row, source_sha256="0" * 64)
    with pytest.raises(ValueError, match="file changed"):
        regenerate_sample(changed, source_root=photos)
    with pytest.raises(ValueError, match=r"p4\.png: not the path of a builtin photo.*needs the root"):
        regenerate_sample(row)
    legacy = dict(row, source_path=str(photos / row["source_path"]))  # format version 1: absolute paths
    assert np.array_equal(regenerate_sample(legacy).degraded, sample.degraded)


def test_manifest_does_not_depend_on_where_the_source_lies(photos, tmp_path, helpers):
    (photos / "bad.png").write_bytes(b"junk")
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(photos, moved)
    run(make_source("folder", photos), tmp_path / "a")
    run(make_source("folder", moved), tmp_path / "b")
    a, b = helpers.tree_digest(tmp_path / "a"), helpers.tree_digest(tmp_path / "b")
    assert a.pop("dataset.json") != b.pop("dataset.json")  # it records each run's --root
    assert a == b and "bad.png" in (tmp_path / "a" / "skipped.csv").read_text()


def test_builtin_rows_record_package_relative_paths(tmp_path):
    out = tmp_path / "ds"
    run(make_source("builtin"), out, limit=2, crop=32)
    rows = read_manifest(out)
    assert [r["source_path"] for r in rows] == ["skimage/data/astronaut.png", "skimage/data/camera.png"]
    sample = regenerate_sample(rows[1])
    assert encode_png(sample.degraded) == (out / "degraded" / f"{rows[1]['id']}.png").read_bytes()
    with pytest.raises(ValueError, match="numpy/data/x.png: not the path of a builtin photo"):
        regenerate_sample(dict(rows[1], source_path="numpy/data/x.png"))


def test_resuming_a_version_1_folder_rewrites_its_paths(photos, tmp_path, helpers):
    source, out = make_source("folder", photos), tmp_path / "ds"
    run(source, out)
    expected = helpers.tree_digest(out)
    manifest = (out / "manifest.csv").read_text()
    (out / "manifest.csv").write_text(manifest.replace(",p0.png,", f",{photos / 'p0.png'},"))
    assert str(photos) in (out / "manifest.csv").read_text()
    (out / "degraded" / "p1_0.png").unlink()
    summary = run(source, out)
    assert summary.resumed == 5 and summary.made == 1 and helpers.tree_digest(out) == expected


def test_mask_bits_round_trip_any_family():
    rng = np.random.default_rng(0)
    masks = {name: rng.random((8, 9)) < 0.3 for name in ("scratch", "fold", "newfangled")}
    masks["defects"] = np.logical_or.reduce(list(masks.values()))
    decoded = decode_masks(encode_masks(masks, (8, 9)))
    assert np.array_equal(decoded["scratch"], masks["scratch"]) and np.array_equal(decoded["fold"], masks["fold"])
    assert np.array_equal(decoded["other"], masks["newfangled"])
    assert np.array_equal(decoded["defects"], masks["defects"]) and not decoded["dust"].any()


def test_bad_files_are_skipped_with_reasons(photos, tmp_path, helpers):
    (photos / "empty.png").write_bytes(b"")
    (photos / "text.jpg").write_text("not a photo")
    (photos / "cut.png").write_bytes((photos / "p1.png").read_bytes()[:300])
    helpers.save(photos / "tiny.png", helpers.make_photo(1, 30, 200))
    Image.new("RGB", (400, 300)).save(photos / "bomb.png")
    Image.fromarray(np.full((70, 70, 4), 128, np.uint8), "RGBA").save(photos / "alpha.png")
    Image.fromarray((np.arange(70 * 70).reshape(70, 70) * 13).astype(np.uint16)).save(photos / "deep.png")
    Image.fromarray(np.zeros((70, 70, 4), np.uint8), "CMYK").save(photos / "cmyk.jpg")
    before = helpers.tree_digest(photos)
    result = CliRunner().invoke(main, ["synthesize", "--source", "folder", "--root", str(photos), "--out",
                                       str(tmp_path / "ds"), "--preset", "bopbtl-code", "--crop", str(CROP),
                                       "--max-pixels", "100000", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "9 written of 14 planned" in result.output and "skipped" in result.output
    skipped = {r["source_id"]: r["reason"] for r in read_manifest(tmp_path / "ds" / "skipped.csv")}
    assert sorted(skipped) == ["bomb", "cut", "empty", "text", "tiny"]
    assert skipped["empty"].startswith("not an image") and skipped["text"].startswith("not an image")
    assert skipped["cut"].startswith("truncated or corrupt")
    assert skipped["bomb"].startswith("decompression bomb: 400x300")
    assert skipped["tiny"] == "too small: 200x30, a side is under 64 px"
    assert helpers.tree_digest(photos) == before  # sources are never modified


def test_nothing_written_exits_non_zero(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.png").write_bytes(b"junk")
    result = CliRunner().invoke(main, ["synthesize", "--source", "folder", "--root", str(bad), "--out",
                                       str(tmp_path / "ds"), "--preset", "bopbtl-code", "--no-progress"])
    assert result.exit_code == 1 and "0 written of 1 planned" in result.output


def test_refuses_a_different_dataset_unless_forced(photos, tmp_path):
    source, out = make_source("folder", photos), tmp_path / "ds"
    run(source, out, seed=1)
    with pytest.raises(DatasetExistsError, match=r"different dataset \(differs in: seed\)"):
        run(source, out, seed=2)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetExistsError, match="holds no oldphoto dataset"):
        run(source, tmp_path / "other")
    summary = run(source, out, seed=2, force=True)
    assert summary.made == 6 and read_manifest(out)[0]["seed"] == str(sample_seed(2, "p0", 0))
    result = CliRunner().invoke(main, ["synthesize", "--source", "folder", "--root", str(photos), "--out",
                                       str(out), "--preset", "bopbtl-code", "--seed", "3", "--no-progress"])
    assert result.exit_code == 1 and "use --force" in result.output


def test_rerun_keeps_finished_samples(photos, tmp_path, helpers):
    source, out = make_source("folder", photos), tmp_path / "ds"
    run(source, out)
    first = helpers.tree_digest(out)
    summary = run(source, out)
    assert summary.made == 0 and summary.resumed == 6 and helpers.tree_digest(out) == first


def test_unpaired_real_photos(photos, tmp_path):
    out = tmp_path / "real"
    run(make_source("real", photos), out, crop=0)
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "degraded", "manifest.csv", "skipped.csv"]
    row = read_manifest(out)[0]
    assert row["id"] == "p0_0" and row["params"] == "{}"
    assert np.array_equal(read_rgb(out / "degraded" / "p0_0.png"), read_rgb(photos / "p0.png"))


def test_kill_minus_9_then_rerun_completes_identically(photos, tmp_path, helpers):
    helpers.add_big_photos(photos, 4)  # big photos last in id order keep the run busy after the first journal lines
    args = ["synthesize", "--source", "folder", "--root", str(photos), "--preset", "bopbtl-code", "--crop",
            str(CROP), "--per-image", "3", "--no-progress"]
    killed = tmp_path / "killed"
    helpers.kill_mid_run([*args, "--out", str(killed), "--workers", "2"], killed / ".synthesize-journal.jsonl")
    result = CliRunner().invoke(main, ["synthesize", "--out", str(killed), "--resume", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert int(re.search(r"(\d+) kept from an earlier run", result.output).group(1)) > 0
    full = tmp_path / "full"
    assert CliRunner().invoke(main, [*args, "--out", str(full)]).exit_code == 0
    assert helpers.tree_digest(killed) == helpers.tree_digest(full)
