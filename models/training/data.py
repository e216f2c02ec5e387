"""Training data for ``oldphoto train``: a synthesized folder (``--data``) or on-the-fly
degradation of a photo source (``--source``), as fixed-size crops.

Items are dicts of float tensors in [0, 1]: ``degraded`` and ``clean`` (3xHxW) and, when the data
has them, ``masks`` (KxHxW, the last channel the union of defects; see ``oldphoto.datasets.torch``).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import Dataset

from .config import TrainConfig


class CropDataset(Dataset):
    """Crops every tensor of each item of ``dataset`` to ``crop`` x ``crop`` at a box drawn from
    (``seed``, item id): the same item always gives the same crop, whatever the worker."""

    def __init__(self, dataset: Dataset, crop: int, seed: int) -> None:
        self.dataset, self.crop, self.seed = dataset, crop, seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        from oldphoto.datasets.synthesize import crop_box, sample_seed

        item = self.dataset[index]
        height, width = item["degraded"].shape[-2:]
        sample_id = str(item.get("id", index))
        if min(height, width) < self.crop:
            raise ValueError(f"training sample {sample_id!r} is {width}x{height}, smaller than crop {self.crop}")
        x, y, w, h = crop_box(sample_seed(self.seed, sample_id, 0), width, height, self.crop)
        return {k: (v[..., y:y + h, x:x + w] if torch.is_tensor(v) and v.ndim == 3 else v) for k, v in item.items()}


def training_pipeline(train_config: TrainConfig):
    """``train_config.preset``, after a :class:`~oldphoto.degrade.PhotoTone` of the photo and its target
    with probability ``train_config.photo_tone`` and then a grey conversion of both with probability
    ``train_config.grey_fraction`` (each only when above 0)."""
    from oldphoto import degrade

    pipeline = degrade.preset(train_config.preset)
    before, name = [], train_config.preset
    if train_config.grey_fraction:
        before.append(degrade.Grayscale(target=True, p=train_config.grey_fraction))
        name = f"grey-{train_config.grey_fraction:g}+{name}"
    if train_config.photo_tone:
        before.insert(0, degrade.PhotoTone(p=train_config.photo_tone))
        name = f"tone-{train_config.photo_tone:g}+{name}"
    return degrade.Pipeline([*before, pipeline], name=name) if before else pipeline


def build_dataset(train_config: TrainConfig, seed: int, data_dir: str | os.PathLike | None = None,
                  source: str | None = None) -> Dataset:
    """The training set: exactly one of ``data_dir`` (a folder written by ``oldphoto synthesize``)
    or ``source`` (``"builtin"`` or a folder of clean photos, degraded on the fly with
    ``train_config.preset``, ``train_config.per_image`` samples per photo), cropped to
    ``train_config.crop`` pixels."""
    from oldphoto.datasets.torch import OnTheFlyDataset, PairedDataset

    if (data_dir is None) == (source is None):
        raise ValueError("give exactly one of --data DIR (a synthesized dataset) or --source builtin|FOLDER")
    if data_dir is not None:
        path = Path(data_dir)
        if not path.is_dir():
            raise ValueError(f"--data {path}: no such folder")
        return CropDataset(PairedDataset(path), train_config.crop, seed)
    dataset = OnTheFlyDataset(source, preset=training_pipeline(train_config), crop=train_config.crop, seed=seed,
                              per_image=train_config.per_image)
    if len(dataset) == 0:
        raise ValueError(f"--source {source}: no photo with both sides >= {train_config.crop} px")
    return dataset
