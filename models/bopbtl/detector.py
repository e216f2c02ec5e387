"""Scratch detector: a U-Net on the grey photo producing a per-pixel defect probability."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from oldphoto.infra.colour import BT601_LUMA

from ..tensors import crop_to
from .blocks import pad_to_fit
from .configs import DetectorConfig


def rgb_to_grey(image: torch.Tensor) -> torch.Tensor:
    """B x 3 x H x W RGB in [0, 1] -> B x 1 x H x W luma (ITU-R BT.601 weights)."""
    weights = image.new_tensor(BT601_LUMA).view(1, 3, 1, 1)
    return (image * weights).sum(dim=1, keepdim=True)


def conv_bn_act(in_channels: int, out_channels: int, kernel: int = 3) -> nn.Sequential:
    """Reflect-padded conv, BatchNorm, LeakyReLU(0.2)."""
    return nn.Sequential(
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(in_channels, out_channels, kernel),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(0.2, inplace=True),
    )


class BlurDown(nn.Module):
    """Anti-aliased x2 down-sampling: a [1 2 1] x [1 2 1] / 16 blur, then every second pixel."""

    def __init__(self) -> None:
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("kernel", (taps[:, None] * taps[None, :] / 16.0).view(1, 1, 3, 3), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        blurred = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), self.kernel.expand(channels, 1, 3, 3),
                           groups=channels)
        return blurred[..., ::2, ::2]


class ScratchDetector(nn.Module):
    """U-Net, depth ``config.depth``, widths base * 2**level, BatchNorm, LeakyReLU, blur-pool downs.

    Input: grey B x 1 x H x W in [0, 1], any size (padded inside to a multiple of 2**depth, at least
    2 * 2**depth so the deepest level is 2 x 2 or larger).
    Output: logits B x 1 x H x W; ``torch.sigmoid`` gives the defect probability.
    """

    def __init__(self, config: DetectorConfig) -> None:
        super().__init__()
        widths = [config.base_channels * 2**level for level in range(config.depth + 1)]
        self.multiple = 2**config.depth
        self.stem = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(1, widths[0], 7), nn.LeakyReLU(0.2, inplace=True))
        self.downs = nn.ModuleList(
            nn.Sequential(BlurDown(), conv_bn_act(a, b), conv_bn_act(b, b))
            for a, b in zip(widths[:-1], widths[1:], strict=False)
        )
        self.reduce = nn.ModuleList(conv_bn_act(b, a) for a, b in zip(widths[:-1], widths[1:], strict=False))
        self.merge = nn.ModuleList(
            nn.Sequential(conv_bn_act(2 * a, a), conv_bn_act(a, a)) for a in widths[:-1]
        )
        self.head = nn.Conv2d(widths[0], 1, 1)

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        padded, size = pad_to_fit(grey * 2.0 - 1.0, self.multiple, 2 * self.multiple)
        x = self.stem(padded)
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for level in reversed(range(len(self.downs))):
            x = self.reduce[level](F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False))
            x = self.merge[level](torch.cat([x, skips[level]], dim=1))
        return crop_to(self.head(x), size)
