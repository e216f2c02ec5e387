"""Small building blocks shared by the bopbtl networks."""

from __future__ import annotations

import torch
from torch import nn


def norm_layer(norm: str, channels: int) -> nn.Module:
    """``"instance"``: InstanceNorm2d (no affine, no running statistics); ``"none"``: identity."""
    if norm == "instance":
        return nn.InstanceNorm2d(channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {norm!r}; expected 'instance' or 'none'")


def conv_norm_relu(in_channels: int, out_channels: int, kernel: int = 3, norm: str = "instance") -> nn.Sequential:
    """Reflect-padded stride-1 convolution, the norm, ReLU."""
    return nn.Sequential(
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(in_channels, out_channels, kernel),
        norm_layer(norm, out_channels),
        nn.ReLU(inplace=True),
    )


class ResBlock(nn.Module):
    """x + (pad, conv3x3, norm, ReLU, pad, conv3x3, norm)(x)."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_norm_relu(channels, channels, norm=norm),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            norm_layer(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def res_blocks(channels: int, count: int, norm: str = "instance") -> nn.Sequential:
    """``count`` ResBlocks at ``channels`` (an identity when ``count`` is 0)."""
    return nn.Sequential(*(ResBlock(channels, norm) for _ in range(count)))


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
