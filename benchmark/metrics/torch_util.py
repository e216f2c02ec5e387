"""Batching helpers: same-size HxWxC float arrays to NCHW tensors on a device."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .base import group_by_shape


def to_nchw(images: Sequence[np.ndarray], device: str, dtype=None):
    """Stack same-shape HxWxC (or HxW) arrays into an NCHW tensor on ``device``."""
    import torch

    batch = np.stack([im if im.ndim == 3 else im[:, :, None] for im in images])
    tensor = torch.from_numpy(batch).permute(0, 3, 1, 2).to(device)
    return tensor.to(dtype) if dtype is not None else tensor


def batches(images: Sequence[np.ndarray], device: str, dtype=None, max_batch: int = 64) -> Iterator:
    """Yield ``(indices, NCHW tensor)`` for groups of at most ``max_batch`` same-shape images."""
    for idx in group_by_shape(images).values():
        for start in range(0, len(idx), max_batch):
            chunk = idx[start:start + max_batch]
            yield chunk, to_nchw([images[i] for i in chunk], device, dtype)
