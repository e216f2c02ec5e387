"""Identity-safe output fusion: the restorer's last step, at full resolution, in image space.

The latent translation (VAE1 encoder -> mapping -> VAE2 decoder) regenerates the whole photo from a
1/4-resolution latent, so on its own it cannot keep what was never damaged: it blurs fine detail and
shifts tone wherever the mapping guesses wrong. The fusion head makes preserving the input the
default, as a property of the architecture::

    out = x' + m * (t - x') + r(x', t, m),    x' = A x + b

with ``x`` the input, ``t`` the translated image, ``m`` the defect mask (1 = defect, 0 where there
is none or no mask), ``r`` a small full-resolution convnet whose last convolution starts at zero
and (``A``, ``b``) a per-image colour matrix and offset predicted from whole-image statistics by
:class:`GlobalTone`, whose last layer also starts at zero (A = I, b = 0). Outside defects an
untrained head returns the input exactly; training (with identity pairs, see
``identity_fraction``) teaches ``r`` and the tone stage to correct only what is degraded: noise,
blur, fading, paper tone and colour casts, and the seams of the translated content inside the mask.
"""

from __future__ import annotations

import torch
from torch import nn

from oldphoto.infra.colour import BT601_LUMA

from .configs import FusionConfig

IMAGE_CHANNELS = 3
INPUT_CHANNELS = 2 * IMAGE_CHANNELS + 1  # input, translation, mask
TONE_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TONE_BINS = 256  # histogram bins of the quantiles: 1/255 resolution, as 8-bit photos have
TONE_STATISTICS = len(TONE_QUANTILES) + 2  # and the mean and standard deviation


def channel_statistics(image: torch.Tensor, chunk: int = 1 << 20) -> torch.Tensor:
    """Per image and channel of B x C x H x W ``image`` in [0, 1]: mean, standard deviation and the
    ``TONE_QUANTILES`` (read off a ``TONE_BINS``-bin histogram, so any image size costs one pass in
    ``chunk``-pixel pieces and no sort): B x C x TONE_STATISTICS, no gradient."""
    with torch.no_grad():
        flat = image.detach().flatten(2)
        counts = torch.zeros((*flat.shape[:2], TONE_BINS), dtype=torch.float64, device=image.device)
        sums = torch.zeros((*flat.shape[:2], 2), dtype=torch.float64, device=image.device)
        for start in range(0, flat.shape[-1], chunk):
            piece = flat[..., start:start + chunk].double()
            bins = (piece.clamp(0, 1) * (TONE_BINS - 1)).round().long()
            counts.scatter_add_(2, bins, torch.ones_like(piece))
            sums += torch.stack([piece.sum(2), piece.square().sum(2)], dim=2)
        pixels = flat.shape[-1]
        mean = sums[..., 0] / pixels
        std = (sums[..., 1] / pixels - mean.square()).clamp_min(0).sqrt()
        cdf = (counts.cumsum(2) / pixels).contiguous()
        levels = torch.tensor(TONE_QUANTILES, dtype=cdf.dtype, device=image.device).expand(*cdf.shape[:2], -1)
        quantiles = torch.searchsorted(cdf, levels.contiguous()).clamp_max(TONE_BINS - 1) / (TONE_BINS - 1)
        return torch.cat([mean[..., None], std[..., None], quantiles], dim=2).to(image.dtype)


MONOCHROME_BLOCK = 8  # px: block means average out pixel noise before chroma is measured


def chroma_variation(image: torch.Tensor) -> torch.Tensor:
    """How much the colour of B x 3 x H x W ``image`` (in [0, 1]) varies across it: the root of the
    summed spatial variances of the opponent channels R - G and B - (R + G) / 2 over
    ``MONOCHROME_BLOCK``-pixel block means (B values, [0, 1] units). A uniform tint or per-pixel
    noise on a grey print scores near 0; the colours of a colour photo score well above."""
    blocks = nn.functional.avg_pool2d(image.float(), MONOCHROME_BLOCK, ceil_mode=True).flatten(2)
    red_green = blocks[:, 0] - blocks[:, 1]
    blue_yellow = blocks[:, 2] - (blocks[:, 0] + blocks[:, 1]) / 2
    return (red_green.var(1, correction=0) + blue_yellow.var(1, correction=0)).sqrt()


def keep_monochrome(image: torch.Tensor, restored: torch.Tensor, threshold: float) -> torch.Tensor:
    """``restored`` with its BT.601 luma on every channel for the images of the batch whose input
    ``image`` has a :func:`chroma_variation` below ``threshold`` (0: ``restored`` unchanged)."""
    if threshold <= 0:
        return restored
    grey = (chroma_variation(image) < threshold)[:, None, None, None]
    if not grey.any():
        return restored
    weights = torch.tensor(BT601_LUMA, dtype=restored.dtype, device=restored.device)[None, :, None, None]
    luma = (restored * weights).sum(1, keepdim=True).expand_as(restored)
    return torch.where(grey.to(restored.device), luma, restored)


class GlobalTone(nn.Module):
    """Per-image colour correction x' = A x + b: a two-layer MLP of ``hidden`` units from the
    :func:`channel_statistics` of the input to the 3 x 3 matrix ``A - I`` and the offset ``b`` (in
    [0, 1] image units), its last layer zero-initialised (A = I, b = 0). The translation's
    statistics are left out: its tone is further from the clean photo's than the input's."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        last = nn.Linear(hidden, IMAGE_CHANNELS * IMAGE_CHANNELS + IMAGE_CHANNELS)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.mlp = nn.Sequential(nn.Linear(IMAGE_CHANNELS * TONE_STATISTICS, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, hidden), nn.ReLU(inplace=True), last)

    def coefficients(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(A: B x 3 x 3, b: B x 3) for ``image`` (B x 3 x H x W in [0, 1])."""
        return self.coefficients_from(channel_statistics(image))

    def coefficients_from(self, statistics: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(A, b) from B x 3 x TONE_STATISTICS :func:`channel_statistics`."""
        out = self.mlp(statistics.flatten(1))
        matrix = out[:, :IMAGE_CHANNELS * IMAGE_CHANNELS].view(-1, IMAGE_CHANNELS, IMAGE_CHANNELS)
        eye = torch.eye(IMAGE_CHANNELS, device=statistics.device, dtype=statistics.dtype)
        return matrix + eye, out[:, -IMAGE_CHANNELS:]

    @staticmethod
    def apply(image: torch.Tensor, matrix: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """A x + b per pixel, one element-wise pass over the image."""
        return torch.einsum("bij,bjhw->bihw", matrix, image) + offset[..., None, None]

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.apply(image, *self.coefficients(image))


class FusionHead(nn.Module):
    """``depth`` 3x3 convolutions (``width`` channels, ReLU; He-initialised) from (x, t, m) to the
    residual ``r``, the last one zero-initialised, after the :class:`GlobalTone` stage when
    ``config.tone`` is above 0. Images are B x 3 x H x W in [0, 1], the mask B x 1 x H x W."""

    def __init__(self, config: FusionConfig) -> None:
        super().__init__()
        self.tone = GlobalTone(config.tone) if config.tone else None
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

    def start_from_denoiser(self, denoiser: nn.Sequential) -> None:
        """Start the residual body from a trained residual denoiser's conv stack ``denoiser`` (3x3
        convs of this head's width and depth with ReLUs between, predicting the noise n(x) of a
        3-channel image, as :class:`~oldphoto.models.baselines.sequential.DnCNN`'s ``body``): the
        toned-input channels of the first conv take its weights, the translation and mask channels
        start at zero and the last conv is negated, so outside the mask the head returns x' - n(x')."""
        ours = [layer for layer in self.body if isinstance(layer, nn.Conv2d)]
        theirs = [layer for layer in denoiser if isinstance(layer, nn.Conv2d)]
        shapes = [tuple(layer.weight.shape) for layer in theirs]
        expected = [(ours[0].out_channels, IMAGE_CHANNELS, 3, 3)] + [tuple(layer.weight.shape) for layer in ours[1:]]
        if shapes != expected:
            raise ValueError(f"the denoiser's convolutions {shapes} do not match the head's {expected}")
        with torch.no_grad():
            ours[0].weight.zero_()
            ours[0].weight[:, :IMAGE_CHANNELS] = theirs[0].weight
            ours[0].bias.copy_(theirs[0].bias)
            for mine, source in zip(ours[1:-1], theirs[1:-1], strict=True):
                mine.weight.copy_(source.weight)
                mine.bias.copy_(source.bias)
            ours[-1].weight.copy_(-theirs[-1].weight)
            ours[-1].bias.copy_(-theirs[-1].bias)

    @staticmethod
    def full_mask(image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``mask`` as B x 1 x H x W floats, zeros when None."""
        if mask is None:
            return image.new_zeros((image.shape[0], 1, *image.shape[-2:]))
        return mask.to(image.dtype)

    @staticmethod
    def combine(image: torch.Tensor, translated: torch.Tensor, mask: torch.Tensor,
                residual: torch.Tensor) -> torch.Tensor:
        """x + m * (t - x) + r, element-wise."""
        return image + mask * (translated - image) + residual

    def toned(self, image: torch.Tensor) -> torch.Tensor:
        """The input after the global tone stage (the input itself without one)."""
        return image if self.tone is None else self.tone(image)

    def forward(self, image: torch.Tensor, translated: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        image = self.toned(image)
        mask = self.full_mask(image, mask)
        residual = self.body(torch.cat([image, translated, mask], dim=1))
        return self.combine(image, translated, mask, residual)
