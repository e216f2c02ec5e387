"""``pix2pix``: U-Net generator + conditional PatchGAN discriminator trained on synthesized pairs
(least-squares GAN loss plus a weighted L1 loss to the clean image).

Deviation from the original pix2pix, for training in minutes on a CPU: the generator predicts a
correction added to its input (output = clamp(input + U-Net(input), 0, 1)); the defect mask is
not an input (the model sees the degraded image only). The training stage and its PatchGAN
discriminator live in :mod:`oldphoto.models.training.families.pix2pix`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..learned import TorchRestorer
from ..registry import register_model


@dataclass
class Pix2PixConfig:
    """``width``: channels of the first U-Net level, doubled per level up to ``max_width``;
    ``levels``: down-sampling levels (images are padded to a multiple of 2**levels);
    ``disc_width``/``disc_layers``: PatchGAN channels and strided layers (training only);
    ``weights``: weight file (None = the shipped one)."""

    width: int = 32
    max_width: int = 128
    levels: int = 5
    disc_width: int = 32
    disc_layers: int = 3
    weights: str | None = None

    def __post_init__(self) -> None:
        if (self.width < 1 or self.max_width < self.width or self.levels < 1 or self.disc_width < 1
                or self.disc_layers < 1):
            raise ValueError("pix2pix: need width >= 1, max_width >= width, levels >= 1, disc_width >= 1, "
                             "disc_layers >= 1")


class UNetBlock(nn.Module):
    """One U-Net level: down-conv, the inner levels, up-conv, concatenated with the level's input."""

    def __init__(self, cin: int, cout: int, inner: nn.Module | None, inner_out: int, outermost: bool) -> None:
        super().__init__()
        innermost = inner is None
        down = [nn.Conv2d(cin, cout, 4, 2, 1)]
        if not (innermost or outermost):
            down.append(nn.InstanceNorm2d(cout, affine=True))
        if not outermost:
            down.insert(0, nn.LeakyReLU(0.2))
        up_in = cout if innermost else inner_out
        up_out = 3 if outermost else cin
        up = [nn.ReLU(), nn.ConvTranspose2d(up_in, up_out, 4, 2, 1)]
        if not outermost:
            up.append(nn.InstanceNorm2d(up_out, affine=True))
        self.down, self.inner, self.up = nn.Sequential(*down), inner or nn.Identity(), nn.Sequential(*up)
        self.outermost = outermost

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(self.inner(self.down(x)))
        return y if self.outermost else torch.cat([x, y], 1)


class UNetGenerator(nn.Module):
    """U-Net on RGB in [0, 1]; returns clamp(x + correction, 0, 1)."""

    def __init__(self, width: int, max_width: int, levels: int) -> None:
        super().__init__()
        widths = [min(width * 2 ** k, max_width) for k in range(levels)]
        block, inner_out = None, 0
        for k in reversed(range(levels)):
            cin = 3 if k == 0 else widths[k - 1]
            block = UNetBlock(cin, widths[k], block, inner_out, outermost=k == 0)
            inner_out = 2 * cin
        self.net = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.net(x * 2 - 1)).clamp(0, 1)


class Pix2PixRestorer(TorchRestorer):
    name = "pix2pix"
    needs_training = True

    def __init__(self, config: Pix2PixConfig, device: str = "auto") -> None:
        super().__init__(UNetGenerator(config.width, config.max_width, config.levels), device)
        self.config = config
        self.multiple = 2 ** config.levels


@register_model("pix2pix", weights=Pix2PixRestorer.shipped_files)
def create_pix2pix(config=None, pretrained: bool = True, device: str = "auto") -> Pix2PixRestorer:
    """U-Net generator + PatchGAN discriminator trained on synthesized pairs (mask not used)."""
    return Pix2PixRestorer.build(Pix2PixConfig, config, pretrained, device)
