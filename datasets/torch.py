"""Torch datasets: synthesized pairs, on-the-fly degradation, and unpaired real photos.

Items are dicts: ``id`` (str), ``degraded`` and ``clean`` (float32 3xHxW in [0, 1]) and ``masks``
(float32 KxHxW in {0, 1}, one channel per name in ``mask_names``, the last being ``defects``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from oldphoto import degrade

from .imageio import DEFAULT_MAX_PIXELS, ImageReadError, image_size, read_rgb
from .masks import MASK_NAMES, decode_masks, encode_masks, read_masks
from .sources import Source, make_source
from .synthesize import dataset_info, make_pair, read_manifest, sample_seed


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 HxWx3 -> float32 3xHxW in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(255.0)


def masks_tensor(masks: dict[str, np.ndarray], names: tuple[str, ...]) -> torch.Tensor:
    """Bool HxW masks -> float32 KxHxW in the order of ``names``."""
    return torch.from_numpy(np.stack([masks[n] for n in names]).astype(np.float32))


def _complete_info(root: Path) -> dict:
    info = dataset_info(root)
    if info.get("status") != "complete":
        raise ValueError(f"{root}: the dataset is incomplete; rerun the same `oldphoto synthesize` to finish it")
    return info


class PairedDataset(Dataset):
    """A folder written by ``oldphoto synthesize``: degraded, clean and (with ``masks``) mask stacks."""

    def __init__(self, root: str | os.PathLike, masks: bool = True, mask_names: tuple[str, ...] = MASK_NAMES):
        self.root = Path(root)
        info = _complete_info(self.root)
        if info["arguments"]["pipeline"] is None:
            raise ValueError(f"{self.root}: an unpaired dataset (no clean images); use UnpairedDataset")
        unknown = [n for n in mask_names if n not in MASK_NAMES]
        if unknown:
            raise ValueError(f"PairedDataset: unknown mask names {unknown}; choose from {MASK_NAMES}")
        self.masks, self.mask_names = masks, tuple(mask_names)
        self.ids = [row["id"] for row in read_manifest(self.root)]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict:
        sample_id = self.ids[index]
        item = {"id": sample_id,
                "degraded": to_tensor(read_rgb(self.root / "degraded" / f"{sample_id}.png")),
                "clean": to_tensor(read_rgb(self.root / "clean" / f"{sample_id}.png"))}
        if self.masks:
            item["masks"] = masks_tensor(read_masks(self.root / "masks" / f"{sample_id}.png"), self.mask_names)
        return item


class OnTheFlyDataset(Dataset):
    """Degrade source photos at access time; item ``i`` is photo ``i // per_image``, sample ``i % per_image``.

    Seeds are :func:`sample_seed` (seed, photo id, sample index, epoch): the same item gives the same
    bytes in any DataLoader worker and every epoch, and with ``epoch=0`` equals the sample
    ``oldphoto synthesize`` writes with the same arguments. ``set_epoch(e)`` draws new samples.
    Photos with a side under ``min_side`` (default ``crop``) or an unreadable header are left out at
    construction and listed in ``skipped`` as (path, reason).
    """

    def __init__(self, source: Source | str | os.PathLike, preset: str | degrade.Pipeline = "bopbtl-code",
                 crop: int = 256, seed: int = 0, epoch: int = 0, per_image: int = 1,
                 min_side: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS):
        if isinstance(source, str) and source == "builtin":
            source = make_source("builtin")
        elif not isinstance(source, Source):
            source = make_source("folder", source)
        if not source.paired:
            raise ValueError(f"OnTheFlyDataset: source {source.kind!r} has no clean photos")
        self.pipeline = preset if isinstance(preset, degrade.Pipeline) else degrade.preset(preset)
        self.crop, self.seed, self.epoch, self.per_image = crop, seed, epoch, per_image
        self.max_pixels = max_pixels
        min_side = crop if min_side is None else max(min_side, crop)
        self.items, self.skipped = [], []
        for item in source.items:
            try:
                width, height = image_size(item.path, max_pixels)
            except ImageReadError as exc:
                self.skipped.append((item.path, str(exc)))
                continue
            if min(width, height) < min_side:
                self.skipped.append((item.path, f"too small: {width}x{height}, a side is under {min_side} px"))
            else:
                self.items.append(item)

    def set_epoch(self, epoch: int) -> None:
        """Use the samples of ``epoch`` from now on (0 = the synthesize samples)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.items) * self.per_image

    def __getitem__(self, index: int) -> dict:
        item, k = self.items[index // self.per_image], index % self.per_image
        seed = sample_seed(self.seed, item.id, k, self.epoch)
        _, res = make_pair(read_rgb(item.path, self.max_pixels), self.pipeline, seed, self.crop)
        masks = decode_masks(encode_masks(res.masks, res.image.shape[:2]))
        return {"id": f"{item.id}_{k}", "degraded": to_tensor(res.image), "clean": to_tensor(res.target),
                "masks": masks_tensor(masks, MASK_NAMES)}


class UnpairedDataset(Dataset):
    """Real old photos without clean targets: a synthesized unpaired folder or any image folder.

    Items: ``id`` and ``degraded`` (float32 3xHxW in [0, 1], each photo at its own size).
    ``skipped``: (path, reason) of the folder's entries that are not readable image files.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.skipped: list[tuple[Path, str]] = []
        if (self.root / "dataset.json").is_file():
            _complete_info(self.root)
            self.files = [(r["id"], self.root / "degraded" / f"{r['id']}.png") for r in read_manifest(self.root)]
        else:
            source = make_source("real", self.root)
            self.files = [(item.id, item.path) for item in source.items]
            self.skipped = list(source.rejected)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict:
        sample_id, path = self.files[index]
        return {"id": sample_id, "degraded": to_tensor(read_rgb(path))}
