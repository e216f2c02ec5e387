"""Per-domain (variational) autoencoders: VAE1 for old photos, VAE2 for clean photos.

Images are float Bx3xHxW in [0, 1] with H and W multiples of 4; the latent is
``channels`` x H/4 x W/4. The variational form is the reference's reduced VAE: the encoder
predicts the mean, training adds unit-variance Gaussian noise (the reparameterisation with a
fixed variance), and the KL divergence to N(0, I) is then exactly 0.5 * mean(mu^2) per element.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import norm_layer, res_blocks
from .configs import VAEConfig

DOWNSAMPLING = 4


class Encoder(nn.Module):
    """7x7 stem, two stride-2 4x4 convs, ResBlocks; the configured norm throughout."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        width = config.channels
        norm = config.norm
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, width, 7), norm_layer(norm, width),
                                   nn.ReLU(True)]
        for _ in range(2):
            layers += [nn.Conv2d(width, width, 4, stride=2, padding=1), norm_layer(norm, width), nn.ReLU(True)]
        self.layers = nn.Sequential(*layers, res_blocks(width, config.res_blocks, norm))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.layers(image * 2.0 - 1.0)


class Decoder(nn.Module):
    """ResBlocks, two stride-2 4x4 transposed convs, 7x7 conv to RGB, tanh mapped to [0, 1]."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        width = config.channels
        layers: list[nn.Module] = [res_blocks(width, config.res_blocks, config.norm)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(width, width, 4, stride=2, padding=1), norm_layer(config.norm, width),
                       nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, 3, 7), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.layers(latent) * 0.5 + 0.5


class VAE(nn.Module):
    """Encoder + decoder of one domain; ``config.variational=False`` gives a plain autoencoder."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.variational = config.variational
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def encode(self, image: torch.Tensor,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent and KL term (a scalar; 0 for a plain autoencoder).

        With a ``generator`` (training) a variational latent is sampled as mu + N(0, I) noise drawn
        from it; without one the mean is returned (inference), so no global RNG is ever read.
        """
        mean = self.encoder(image)
        if not self.variational:
            return mean, mean.new_zeros(())
        kl = 0.5 * mean.pow(2).mean()
        if generator is None:
            return mean, kl
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + noise, kl

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return self.decoder(latent)

    def forward(self, image: torch.Tensor, generator: torch.Generator | None = None):
        """Reconstruction in [0, 1], latent and KL term."""
        latent, kl = self.encode(image, generator)
        return self.decode(latent), latent, kl
