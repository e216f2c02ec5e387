"""Sources: builtin, folder, VOC (any of three root levels, splits), DIV2K, FFHQ, real."""

from __future__ import annotations

import pytest

from oldphoto.datasets.sources import SourceError, make_source


def test_builtin_needs_no_download():
    source = make_source("builtin")
    ids = [item.id for item in source.items]
    assert {"astronaut", "camera", "chelsea", "coffee", "rocket", "retina"} <= set(ids)
    assert ids == sorted(ids) and all(item.path.is_file() for item in source.items)


@pytest.mark.parametrize("level", ["", "VOCdevkit", "VOCdevkit/VOC2012"])
def test_voc_root_at_any_level(voc_root, level):
    source = make_source("voc", voc_root / level)
    assert [item.id for item in source.items] == [f"2008_00000{i}" for i in range(5)]


def test_voc_splits(voc_root):
    assert len(make_source("voc", voc_root, "train")) == 3
    assert [i.id for i in make_source("voc", voc_root, "val").items] == ["2008_000003", "2008_000004"]
    with pytest.raises(SourceError, match="unknown split 'test'"):
        make_source("voc", voc_root, "test")
    (voc_root / "VOCdevkit/VOC2012/ImageSets/Main/val.txt").unlink()
    with pytest.raises(SourceError, match="val.txt: split file not found"):
        make_source("voc", voc_root, "val")


def test_voc_wrong_layout_says_what_is_expected(tmp_path):
    with pytest.raises(SourceError, match="VOCdevkit/VOC2012/JPEGImages"):
        make_source("voc", tmp_path)


def test_div2k_split_by_folder(tmp_path, helpers):
    helpers.save(tmp_path / "DIV2K_train_HR" / "0001.png", helpers.make_photo(0, 32, 32))
    helpers.save(tmp_path / "DIV2K_train_HR" / "0002.png", helpers.make_photo(1, 32, 32))
    helpers.save(tmp_path / "DIV2K_valid_HR" / "0801.png", helpers.make_photo(2, 32, 32))
    assert [i.id for i in make_source("div2k", tmp_path).items] == ["0001", "0002", "0801"]
    assert [i.id for i in make_source("div2k", tmp_path, "val").items] == ["0801"]
    with pytest.raises(SourceError, match="DIV2K_train_HR"):
        make_source("div2k", tmp_path / "DIV2K_valid_HR", "train")


def test_ffhq_layout_and_split(tmp_path, helpers):
    for n in (0, 1, 60000):
        helpers.save(tmp_path / "images1024x1024" / f"{n // 1000 * 1000:05d}" / f"{n:05d}.png",
                     helpers.make_photo(n, 16, 16))
    assert [i.id for i in make_source("ffhq", tmp_path).items] == ["00000", "00001", "60000"]
    assert [i.id for i in make_source("ffhq", tmp_path / "images1024x1024", "val").items] == ["60000"]
    with pytest.raises(SourceError, match="images1024x1024"):
        make_source("ffhq", tmp_path / "images1024x1024" / "00000")


def test_folder_is_recursive_with_stable_unique_ids(photos, helpers):
    helpers.save(photos / "p0.jpg", helpers.make_photo(5, 20, 20))  # same stem as p0.png
    (photos / "notes.txt").write_text("not an image")
    helpers.save(photos / ".hidden" / "h.png", helpers.make_photo(6, 20, 20))
    ids = [item.id for item in make_source("folder", photos).items]
    assert ids == ["p0_jpg", "p0_png", "p1", "p2", "p3", "p4", "sub__q"]


def test_real_is_unpaired_and_bad_arguments_are_named(photos):
    assert make_source("real", photos).paired is False
    with pytest.raises(SourceError, match="unknown source 'flickr'"):
        make_source("flickr", photos)
    with pytest.raises(SourceError, match="--root is required"):
        make_source("folder")
    with pytest.raises(SourceError, match="root folder not found"):
        make_source("folder", photos / "missing")
