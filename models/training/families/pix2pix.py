"""``oldphoto train pix2pix``: the U-Net generator of :mod:`oldphoto.models.baselines.pix2pix`
against a conditional PatchGAN (least-squares GAN loss plus a weighted L1 loss to the clean image)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from oldphoto.models.baselines.pix2pix import Pix2PixConfig, UNetGenerator
from oldphoto.models.configs import config_dict
from oldphoto.models.weights import save_weights

from ..config import TrainConfig
from ..losses import l1_loss, lsgan_loss
from ..registry import register_trainer
from ..stage import Stage


class PatchDiscriminator(nn.Module):
    """Conditional PatchGAN: scores overlapping patches of (degraded, candidate) pairs."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Conv2d(6, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = width
        for k in range(1, layers + 1):
            nxt = min(width * 2 ** k, width * 8)
            mods += [nn.Conv2d(ch, nxt, 4, 2 if k < layers else 1, 1), nn.InstanceNorm2d(nxt, affine=True),
                     nn.LeakyReLU(0.2)]
            ch = nxt
        mods.append(nn.Conv2d(ch, 1, 4, 1, 1))
        self.net = nn.Sequential(*mods)

    def forward(self, degraded: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([degraded, candidate], 1) * 2 - 1)


@dataclass
class Pix2PixTrainConfig(TrainConfig):
    """Adds ``l1_weight``: weight of the L1 term against the (unit-weight) GAN term."""

    l1_weight: float = 100.0


@register_trainer("pix2pix")
class Pix2PixStage(Stage):
    """Alternates a discriminator step (real vs generated pairs) and a generator step."""

    model_config_cls = Pix2PixConfig
    train_config_cls = Pix2PixTrainConfig

    def build(self):
        c, lr = self.model_config, self.train_config.lr
        gen = UNetGenerator(c.width, c.max_width, c.levels)
        disc = PatchDiscriminator(c.disc_width, c.disc_layers)
        return ({"generator": gen, "discriminator": disc},
                {"generator": torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999)),
                 "discriminator": torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))})

    def train_step(self, batch):
        x, clean = batch["degraded"], batch["clean"]
        with self.autocast():
            fake = self.nets["generator"](x)
            scores = self.nets["discriminator"](torch.cat([x, x]), torch.cat([clean, fake.detach()])).float()
        real_scores, fake_scores = scores.chunk(2)
        d_loss = 0.5 * (lsgan_loss(real_scores, True) + lsgan_loss(fake_scores, False))
        self.optimize(d_loss, "discriminator")
        with self.autocast():
            # Plain module: the discriminator's gradients from this pass are discarded (zeroed
            # before its next step), so they need no DDP synchronisation.
            g_scores = self.modules["discriminator"](x, fake).float()
        g_gan = lsgan_loss(g_scores, True)
        g_l1 = l1_loss(fake.float(), clean)
        self.optimize(g_gan + self.train_config.l1_weight * g_l1, "generator")
        return {"d": d_loss.item(), "g_gan": g_gan.item(), "l1": g_l1.item()}

    def sample(self, batch):
        return [batch["degraded"], self.modules["generator"](batch["degraded"]), batch["clean"]]

    def export(self, path: Path, meta: dict) -> Path:
        return save_weights(path, "pix2pix", config_dict(self.model_config), self.modules["generator"], meta)
