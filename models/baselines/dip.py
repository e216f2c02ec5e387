"""``dip``: Deep Image Prior. A randomly initialised encoder-decoder is fitted to the degraded
image itself from fixed noise; stopping after a fixed number of iterations keeps the image's
structure before the network learns its noise. With a defect mask the loss ignores defect pixels,
so the network fills them from the prior (inpainting). Needs no training data and no weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..configs import make_config
from ..learned import TorchRestorer
from ..registry import register_model


@dataclass
class DIPConfig:
    """``iterations``: Adam steps per image; ``lr``: Adam learning rate; ``width``: channels per
    level; ``levels``: down-sampling levels (images are padded to a multiple of 2**levels);
    ``skip``: channels of each skip connection; ``input_channels``: channels of the fixed noise
    input (uniform in [0, 0.1)); ``input_jitter``: std of the Gaussian perturbation of the input at
    each step; ``ema``: weight of the running average of outputs returned (0 = last output);
    ``seed``: seeds the initial weights, the input noise and the jitter; ``threads``: torch's
    intra-op threads during a fit on the CPU (0 = leave torch's setting). The fit amplifies the
    order in which a convolution's sums are taken, so its bytes depend on the thread count: one
    fixed count gives the same output for a seed whatever the caller's settings."""

    iterations: int = 400
    lr: float = 0.01
    width: int = 32
    levels: int = 4
    skip: int = 4
    input_channels: int = 32
    input_jitter: float = 1.0 / 30.0
    ema: float = 0.99
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise ValueError(f"dip: threads must be >= 0 (0 = torch's setting), got {self.threads}")
        if self.iterations < 1 or self.width < 1 or self.levels < 1 or self.skip < 0 or self.input_channels < 1:
            raise ValueError("dip: iterations, width, levels, input_channels must be >= 1 and skip >= 0")
        if not (0.0 <= self.ema < 1.0) or self.lr <= 0 or self.input_jitter < 0:
            raise ValueError(f"dip: need 0 <= ema < 1, lr > 0, input_jitter >= 0 "
                             f"(got {self.ema}, {self.lr}, {self.input_jitter})")


def _conv(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, padding_mode="reflect"),
                         nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))


class SkipNet(nn.Module):
    """The DIP "skip" encoder-decoder: strided-conv encoder, bilinear-upsampling decoder with
    narrow skip connections, sigmoid RGB output."""

    def __init__(self, cin: int, width: int, levels: int, skip: int) -> None:
        super().__init__()
        self.down = nn.ModuleList(
            nn.Sequential(_conv(cin if k == 0 else width, width, stride=2), _conv(width, width)) for k in range(levels))
        self.skips = nn.ModuleList(_conv(cin if k == 0 else width, skip, kernel=1) if skip else nn.Identity()
                                   for k in range(levels))
        self.up = nn.ModuleList(nn.Sequential(_conv(width + skip, width), _conv(width, width, kernel=1))
                                for _ in range(levels))
        self.head = nn.Conv2d(width, 3, 1)
        self.use_skip = skip > 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for down, skip in zip(self.down, self.skips, strict=False):
            skips.append(skip(x) if self.use_skip else None)
            x = down(x)
        for up, s in zip(reversed(self.up), reversed(skips), strict=False):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = up(torch.cat([x, s], 1) if s is not None else x)
        return torch.sigmoid(self.head(x))


class DIPRestorer(TorchRestorer):
    name = "dip"

    def __init__(self, config: DIPConfig, device: str = "auto") -> None:
        self.config = config
        super().__init__(self._fresh_network(), device)
        self.multiple = 2 ** config.levels

    def _fresh_network(self) -> SkipNet:
        c = self.config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            return SkipNet(c.input_channels, c.width, c.levels, c.skip)

    @property
    def fingerprint(self) -> str:
        """The fit's thread count: results computed with another one are redone."""
        return f"threads={self.config.threads}"

    def run(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Fit a freshly initialised network to ``x`` (1x3xHxW, padded) and return its output, on
        ``config.threads`` intra-op threads when on the CPU."""
        threads = torch.get_num_threads()
        if self.config.threads and x.device.type == "cpu":
            torch.set_num_threads(self.config.threads)
        try:
            return self._fit(x, mask)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        c = self.config
        gen = torch.Generator(x.device).manual_seed(c.seed)
        net = self._fresh_network().to(x.device).train()
        noise = torch.rand((1, c.input_channels, *x.shape[-2:]), generator=gen, device=x.device) * 0.1
        weight = torch.ones_like(x[:, :1]) if mask is None else 1.0 - mask
        opt = torch.optim.Adam(net.parameters(), lr=c.lr)
        average = None
        with torch.enable_grad():
            for _ in range(c.iterations):
                jitter = torch.randn(noise.shape, generator=gen, device=x.device) * c.input_jitter
                out = net(noise + jitter)
                loss = ((out - x) ** 2 * weight).sum() / (weight.sum() * 3).clamp_min(1.0)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                out = out.detach()
                average = out if average is None else c.ema * average + (1 - c.ema) * out
        return average


@register_model("dip")
def create_dip(config=None, pretrained: bool = True, device: str = "auto") -> DIPRestorer:
    """Deep Image Prior: per-image network fitting (masked loss with a mask); no weights needed."""
    return DIPRestorer(make_config(DIPConfig, config, "dip"), device)
