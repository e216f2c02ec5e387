"""Torch datasets: PairedDataset over a synthesized folder, OnTheFlyDataset, UnpairedDataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from oldphoto.datasets import OnTheFlyDataset, PairedDataset, UnpairedDataset
from oldphoto.datasets.imageio import read_rgb
from oldphoto.datasets.masks import MASK_NAMES
from oldphoto.datasets.sources import make_source
from oldphoto.datasets.synthesize import synthesize


@pytest.fixture
def dataset_dir(photos, tmp_path):
    out = tmp_path / "ds"
    synthesize(make_source("folder", photos), out, crop=48, per_image=2, seed=7, progress=False)
    return out


def as_uint8(tensor: torch.Tensor) -> np.ndarray:
    return (tensor.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def test_paired_dataset_reads_the_files(dataset_dir):
    data = PairedDataset(dataset_dir)
    assert len(data) == 12
    item = data[3]
    assert item["degraded"].shape == item["clean"].shape == (3, 48, 48) and item["degraded"].dtype == torch.float32
    assert item["masks"].shape == (len(MASK_NAMES), 48, 48)
    assert np.array_equal(as_uint8(item["clean"]), read_rgb(dataset_dir / "clean" / f"{item['id']}.png"))
    assert "masks" not in PairedDataset(dataset_dir, masks=False)[0]
    batch = next(iter(DataLoader(data, batch_size=4)))
    assert batch["degraded"].shape == (4, 3, 48, 48)


def test_on_the_fly_matches_synthesize_and_is_stable(photos, dataset_dir):
    data = OnTheFlyDataset(make_source("folder", photos), "bopbtl-code", crop=48, seed=7, per_image=2)
    paired = PairedDataset(dataset_dir)
    assert len(data) == len(paired)
    for i in (0, 5):
        fly, disk = data[i], paired[i]
        assert fly["id"] == disk["id"]
        assert torch.equal(fly["degraded"], disk["degraded"]) and torch.equal(fly["clean"], disk["clean"])
    loader = DataLoader(data, batch_size=3, num_workers=2, multiprocessing_context="spawn")
    from_workers = torch.cat([b["degraded"] for b in loader])
    assert torch.equal(from_workers, torch.stack([data[i]["degraded"] for i in range(len(data))]))
    data.set_epoch(1)
    assert not torch.equal(data[0]["degraded"], paired[0]["degraded"])


def test_on_the_fly_leaves_out_small_photos(photos, helpers):
    helpers.save(photos / "small.png", helpers.make_photo(0, 20, 90))
    data = OnTheFlyDataset(str(photos), crop=48)
    assert len(data) == 6 and [p.name for p, _ in data.skipped] == ["small.png"]


def test_unpaired_dataset_on_folders_and_synthesized_real(photos, tmp_path):
    raw = UnpairedDataset(photos)
    assert len(raw) == 6 and raw[0]["degraded"].shape == (3, 80, 96) and set(raw[0]) == {"id", "degraded"}
    synthesize(make_source("real", photos), tmp_path / "real", crop=48, progress=False)
    real = UnpairedDataset(tmp_path / "real")
    assert len(real) == 6 and real[2]["degraded"].shape == (3, 48, 48)
    with pytest.raises(ValueError, match="unpaired dataset"):
        PairedDataset(tmp_path / "real")
    with pytest.raises(ValueError, match="not an oldphoto dataset"):
        PairedDataset(photos)
