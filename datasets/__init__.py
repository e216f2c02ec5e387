"""oldphoto.datasets: image sources, paired dataset synthesis and torch datasets.

The torch datasets (``PairedDataset``, ``OnTheFlyDataset``, ``UnpairedDataset``) are imported on
first access, so reading images or synthesizing never imports torch.
"""

from __future__ import annotations

_TORCH_NAMES = ("PairedDataset", "OnTheFlyDataset", "UnpairedDataset")


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        from . import torch as torch_datasets

        return getattr(torch_datasets, name)
    raise AttributeError(f"module 'oldphoto.datasets' has no attribute {name!r}")
