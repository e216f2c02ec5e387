"""PatchGAN discriminators (LSGAN): multi-scale on images, single-scale on latents."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..configs import DiscriminatorConfig


class PatchDiscriminator(nn.Module):
    """4x4 convs: ``layers`` stride-2 steps doubling the width (capped at 8x), one stride-1 step,
    then a 1-channel patch prediction. ``forward`` returns every stage's output, the prediction
    last, for feature matching.
    """

    def __init__(self, in_channels: int, channels: int = 64, layers: int = 3) -> None:
        super().__init__()
        stages: list[nn.Module] = [nn.Sequential(nn.Conv2d(in_channels, channels, 4, 2, 2), nn.LeakyReLU(0.2, True))]
        width = channels
        for index in range(1, layers + 1):
            next_width = channels * min(2**index, 8)
            stride = 2 if index < layers else 1
            stages.append(
                nn.Sequential(
                    nn.Conv2d(width, next_width, 4, stride, 2), nn.InstanceNorm2d(next_width), nn.LeakyReLU(0.2, True)
                )
            )
            width = next_width
        stages.append(nn.Conv2d(width, 1, 4, 1, 2))
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs


class MultiScaleDiscriminator(nn.Module):
    """``scales`` PatchGANs, each seeing the input halved once more (3x3 average pooling)."""

    def __init__(self, in_channels: int, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.scales = nn.ModuleList(
            PatchDiscriminator(in_channels, config.channels, config.layers) for _ in range(config.scales)
        )

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        results = []
        for index, scale in enumerate(self.scales):
            if index:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            results.append(scale(x))
        return results


def latent_discriminator(latent_channels: int, config: DiscriminatorConfig) -> PatchDiscriminator:
    """The latent-alignment discriminator: real-photo vs synthetic-photo latents of VAE1."""
    return PatchDiscriminator(latent_channels, config.channels, config.layers)
