"""``pix2pix``: U-Net generator + conditional PatchGAN discriminator trained on synthesized pairs
(least-squares GAN loss plus a weighted L1 loss to the clean image).

Deviation from the original pix2pix, for training in minutes on a CPU: the generator predicts a
correction added to its input (output = clamp(input + U-Net(input), 0, 1)); the defect mask is
not an input (the model sees the degraded image only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..configs import config_dict
from ..learned import TorchRestorer
from ..registry import register_model
from ..training import Stage, TrainConfig, register_trainer
from ..training.losses import l1_loss, lsgan_loss
from ..weights import save_weights


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
        if self.width < 1 or self.max_width < self.width or self.levels < 1 or self.disc_width < 1 or self.disc_layers < 1:
            raise ValueError("pix2pix: need width >= 1, max_width >= width, levels >= 1, disc_width >= 1, disc_layers >= 1")


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


class PatchDiscriminator(nn.Module):
    """Conditional PatchGAN: scores overlapping patches of (degraded, candidate) pairs."""

    def __init__(self, width: int, layers: int) -> None:
        super().__init__()
        mods: list[nn.Module] = [nn.Conv2d(6, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = width
        for k in range(1, layers + 1):
            nxt = min(width * 2 ** k, width * 8)
            mods += [nn.Conv2d(ch, nxt, 4, 2 if k < layers else 1, 1), nn.InstanceNorm2d(nxt, affine=True), nn.LeakyReLU(0.2)]
            ch = nxt
        mods.append(nn.Conv2d(ch, 1, 4, 1, 1))
        self.net = nn.Sequential(*mods)

    def forward(self, degraded: torch.Tensor, candidate: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([degraded, candidate], 1) * 2 - 1)


class Pix2PixRestorer(TorchRestorer):
    name = "pix2pix"
    needs_training = True

    def __init__(self, config: Pix2PixConfig, device: str = "auto") -> None:
        super().__init__(UNetGenerator(config.width, config.max_width, config.levels), device)
        self.config = config
        self.multiple = 2 ** config.levels


@register_model("pix2pix")
def create_pix2pix(config=None, pretrained: bool = True, device: str = "auto") -> Pix2PixRestorer:
    """U-Net generator + PatchGAN discriminator trained on synthesized pairs (mask not used)."""
    return Pix2PixRestorer.build(Pix2PixConfig, config, pretrained, device)


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
