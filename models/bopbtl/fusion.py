"""Identity-safe output fusion: the restorer's last step, at full resolution, in image space.

The latent translation (VAE1 encoder -> mapping -> VAE2 decoder) regenerates the whole photo from a
1/4-resolution latent, so on its own it cannot keep what was never damaged: it blurs fine detail and
shifts tone wherever the mapping guesses wrong. The fusion head makes preserving the input the
default, as a property of the architecture::

    out = x + m * (t - x) + r(x, t, m)

with ``x`` the input, ``t`` the translated image, ``m`` the defect mask (1 = defect, 0 where there
is none or no mask) and ``r`` a small full-resolution convnet whose last convolution starts at zero.
Outside defects an untrained head returns the input exactly; training (with identity pairs, see
``identity_fraction``) teaches ``r`` to correct only what is degraded: noise, blur, fading and the
seams of the translated content inside the mask.
"""

from __future__ import annotations

import torch
from torch import nn

from .configs import FusionConfig

IMAGE_CHANNELS = 3
INPUT_CHANNELS = 2 * IMAGE_CHANNELS + 1  # input, translation, mask


class FusionHead(nn.Module):
    """``depth`` 3x3 convolutions (``width`` channels, ReLU; He-initialised) from (x, t, m) to the
    residual ``r``, the last one zero-initialised. Images are B x 3 x H x W in [0, 1], the mask B x 1 x H x W."""

    def __init__(self, config: FusionConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(INPUT_CHANNELS, config.width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(config.depth - 2):
            layers += [nn.Conv2d(config.width, config.width, 3, padding=1), nn.ReLU(inplace=True)]
        for layer in layers[::2]:  # He initialisation keeps the signal through the ReLU stack, so the
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")  # zero-started last layer learns at once
            nn.init.zeros_(layer.bias)
        last = nn.Conv2d(config.width, IMAGE_CHANNELS, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.body = nn.Sequential(*layers, last)

    @staticmethod
    def full_mask(image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``mask`` as B x 1 x H x W floats, zeros when None."""
        if mask is None:
            return image.new_zeros((image.shape[0], 1, *image.shape[-2:]))
        return mask.to(image.dtype)

    @staticmethod
    def combine(image: torch.Tensor, translated: torch.Tensor, mask: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """x + m * (t - x) + r, element-wise."""
        return image + mask * (translated - image) + residual

    def forward(self, image: torch.Tensor, translated: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = self.full_mask(image, mask)
        residual = self.body(torch.cat([image, translated, mask], dim=1))
        return self.combine(image, translated, mask, residual)
