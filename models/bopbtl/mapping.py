"""Latent mapping T: Z_X -> Z_Y (old-photo latent to clean-photo latent)."""

from __future__ import annotations

import torch
from torch import nn

from .attention import MultiScalePatchAttention, NonLocalBlock
from .blocks import conv_norm_relu, res_blocks
from .configs import MappingConfig


def build_global_branch(config: MappingConfig, channels: int) -> nn.Module | None:
    """The configured global branch at ``channels`` (None for ``local``)."""
    branch = config.global_branch
    if branch == "local":
        return None
    if branch in ("nonlocal", "partial-nonlocal"):
        return NonLocalBlock(channels, config.nonlocal_res_blocks, branch == "partial-nonlocal",
                             config.attention_chunk_elements, config.norm)
    if branch == "patch-attention":
        return MultiScalePatchAttention(
            channels, config.patch_sizes, config.patch_max_masked, config.patch_res_blocks,
            config.attention_chunk_elements, config.norm, config.patch_fusion == "residual",
        )
    raise ValueError(f"unknown global branch {branch!r}")


class Mapping(nn.Module):
    """3x3 convs up through ``widths``, the global branch, local ResBlocks, 3x3 convs back down.

    Works on latents of any spatial size (all convolutions are stride 1).
    """

    def __init__(self, config: MappingConfig, latent_channels: int) -> None:
        super().__init__()
        widths = (latent_channels, *config.widths)
        self.up = nn.Sequential(*(conv_norm_relu(a, b, norm=config.norm)
                                  for a, b in zip(widths[:-1], widths[1:], strict=False)))
        self.global_branch = build_global_branch(config, widths[-1])
        self.uses_mask = config.global_branch in ("partial-nonlocal", "patch-attention")
        self.local = res_blocks(widths[-1], config.res_blocks, config.norm)
        down_widths = (widths[-1], *reversed(widths[:-1]))
        down = [conv_norm_relu(a, b, norm=config.norm)
                for a, b in zip(down_widths[:-2], down_widths[1:-1], strict=False)]
        down += [nn.ReflectionPad2d(1), nn.Conv2d(down_widths[-2], down_widths[-1], 3)]
        self.down = nn.Sequential(*down)

    def forward(self, latent: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask``: B x 1 x h x w at latent size, 1 = defect; None means no defects."""
        features = self.up(latent)
        if self.global_branch is not None:
            if self.uses_mask and mask is None:
                mask = features.new_zeros((features.shape[0], 1, *features.shape[-2:]))
            features = self.global_branch(features, mask) if self.uses_mask else self.global_branch(features)
        return self.down(self.local(features))
