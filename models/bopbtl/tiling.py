"""Overlapping tiles blended with smooth weights, for networks that cannot see a whole image at once.

Each tile's output is weighted by a separable raised-cosine ramp that rises from near 0 at a tile
edge shared with a neighbour to 1 at ``overlap`` pixels inside (image edges keep weight 1); the
weighted outputs are summed and divided by the summed weights, so the result varies smoothly
across overlaps and equals a tile's own output wherever only that tile covers a pixel.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

# Floor of the ramp: keeps every weight positive so the normalisation never divides by zero.
MIN_WEIGHT = 1e-3


def tile_windows(length: int, tile: int, overlap: int, align: int = 1) -> list[tuple[int, int]]:
    """(start, stop) of windows of about ``tile`` samples covering ``length`` with at least ``overlap``
    shared between neighbours; starts are multiples of ``align`` (the last window runs to the end)."""
    if tile >= length:
        return [(0, length)]
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap {overlap} must be in [0, tile {tile})")
    step = max(align, (tile - overlap) // align * align)
    last = (length - tile) // align * align
    starts = list(range(0, last, step)) + [last]
    return [(start, start + tile) for start in starts[:-1]] + [(last, length)]


def ramp(length: int, overlap: int, rise_start: bool, rise_end: bool) -> torch.Tensor:
    """1-D weights of one tile side: raised-cosine rises over ``overlap`` samples at the chosen ends."""
    weights = torch.ones(length, dtype=torch.float64)
    if overlap > 0:
        rise = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(overlap, dtype=torch.float64) + 0.5) / overlap)
        rise = rise.clamp_min(MIN_WEIGHT)
        span = min(overlap, length)
        if rise_start:
            weights[:span] = torch.minimum(weights[:span], rise[:span])
        if rise_end:
            weights[length - span:] = torch.minimum(weights[length - span:], rise[:span].flip(0))
    return weights


def run_tiled(fn: Callable[[torch.Tensor, tuple[slice, slice]], torch.Tensor], x: torch.Tensor, tile: int,
              overlap: int, out_channels: int, device: torch.device | None = None, align: int = 1) -> torch.Tensor:
    """Blend ``fn`` over overlapping ``tile`` x ``tile`` windows of N x C x H x W ``x``.

    ``fn(window, (rows, cols))`` gets the window moved to ``device`` (default: x's) and the slices it
    came from, and returns N x ``out_channels`` x h x w for that window. The blended result
    (N x out_channels x H x W, float32) is accumulated on x's device. Window starts are multiples
    of ``align`` (so patch grids inside windows line up with the whole image's).
    """
    device = device or x.device
    height, width = x.shape[-2:]
    total = torch.zeros((x.shape[0], out_channels, height, width), dtype=torch.float32, device=x.device)
    weight_sum = torch.zeros((height, width), dtype=torch.float32, device=x.device)
    for top, bottom in tile_windows(height, tile, overlap, align):
        rows = slice(top, bottom)
        row_w = ramp(bottom - top, overlap, top > 0, bottom < height)
        for left, right in tile_windows(width, tile, overlap, align):
            cols = slice(left, right)
            col_w = ramp(right - left, overlap, left > 0, right < width)
            weights = (row_w[:, None] * col_w[None, :]).float().to(x.device)
            out = fn(x[..., rows, cols].to(device), (rows, cols)).float().to(x.device)
            total[..., rows, cols] += out * weights
            weight_sum[rows, cols] += weights
    return total / weight_sum
