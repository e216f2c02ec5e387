"""Small building blocks shared by the bopbtl networks."""

from __future__ import annotations

import torch
from torch import nn


def conv_norm_relu(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Sequential:
    """Reflect-padded stride-1 convolution, InstanceNorm, ReLU."""
    return nn.Sequential(
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(in_channels, out_channels, kernel),
        nn.InstanceNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ResBlock(nn.Module):
    """x + (pad, conv3x3, InstanceNorm, ReLU, pad, conv3x3, InstanceNorm)(x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_norm_relu(channels, channels),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def res_blocks(channels: int, count: int) -> nn.Sequential:
    """``count`` ResBlocks at ``channels`` (an identity when ``count`` is 0)."""
    return nn.Sequential(*(ResBlock(channels) for _ in range(count)))


def pad_to_fit(tensor: torch.Tensor, multiple: int, minimum: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad NxCxHxW on the bottom/right to multiples of ``multiple`` of at least ``minimum`` pixels
    (reflection where the input is large enough, else replication); returns it and the original
    (H, W) for :func:`oldphoto.models.tensors.crop_to`."""
    height, width = tensor.shape[-2:]
    pad_h = max(height + (-height) % multiple, minimum) - height
    pad_w = max(width + (-width) % multiple, minimum) - width
    if pad_h or pad_w:
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        tensor = torch.nn.functional.pad(tensor, (0, pad_w, 0, pad_h), mode=mode)
    return tensor, (height, width)
