"""The face generator: progressive SPADE-style up-sampling guided by the degraded face.

It starts at 1/32 of the face size, either from the degraded face down-sampled there
(``start="degraded"``) or from a latent vector (``start="latent"``), then runs seven SPADE residual
blocks over five x2 up-samplings (16, 16, 16, 8, 4, 2, 1 x ``ngf`` channels). Every normalisation
is spatially adaptive: instance-normalised features are scaled and shifted by gamma / beta maps
predicted from the degraded face resampled to that block's resolution, so the degraded face is
injected at every scale. With ``ngf=64``, ``spade_hidden=128`` (``full``) this is about 92 M
parameters, the size of the reference's face network.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

# (input width, output width) in units of ngf, and whether a x2 up-sampling precedes the block.
SPADE_LAYOUT = ((16, 16, False), (16, 16, True), (16, 16, False), (16, 8, True), (8, 4, True), (4, 2, True),
                (2, 1, True))
UPSAMPLINGS = sum(up for _, _, up in SPADE_LAYOUT)
START_MODES = ("degraded", "latent")


@dataclass
class FaceGeneratorConfig:
    """``size``: aligned face side in px (a multiple of 32; 256 or 512 with the FFHQ template).
    ``ngf``: width unit (channels ``16*ngf`` down to ``ngf``). ``spade_hidden``: channels of the
    layer predicting gamma / beta. ``start``: "degraded" or "latent". ``latent_dim``: length of z
    (latent start only). ``spectral_norm``: on every convolution of the main path."""

    size: int = 256
    ngf: int = 64
    spade_hidden: int = 128
    start: str = "degraded"
    latent_dim: int = 256
    spectral_norm: bool = True
    residual: bool = False

    def __post_init__(self) -> None:
        if self.size < 2**UPSAMPLINGS or self.size % 2**UPSAMPLINGS:
            raise ValueError(f"size must be a positive multiple of {2**UPSAMPLINGS} px, got {self.size}")
        if self.ngf < 1 or self.spade_hidden < 1 or self.latent_dim < 1:
            raise ValueError(f"ngf, spade_hidden and latent_dim must be >= 1 "
                             f"(got {self.ngf}, {self.spade_hidden}, {self.latent_dim})")
        if self.start not in START_MODES:
            raise ValueError(f"start must be one of {START_MODES}, got {self.start!r}")


FACE_CONFIGS = {
    "full": FaceGeneratorConfig(),
    "small": FaceGeneratorConfig(ngf=8, spade_hidden=32, residual=True),
}


def get_face_config(name: str) -> FaceGeneratorConfig:
    """A copy of the named generator config (``full`` or ``small``)."""
    if name not in FACE_CONFIGS:
        raise ValueError(f"unknown face generator config {name!r}; choose one of {sorted(FACE_CONFIGS)}")
    return FaceGeneratorConfig(**vars(FACE_CONFIGS[name]))


def _conv(in_channels: int, out_channels: int, kernel: int, sn: bool, bias: bool = True) -> nn.Module:
    conv = nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, bias=bias)
    return spectral_norm(conv) if sn else conv


class SpatialModulation(nn.Module):
    """SPADE: InstanceNorm(x) * (1 + gamma(face)) + beta(face), gamma / beta being HxW maps."""

    def __init__(self, channels: int, hidden: int, guide_channels: int = 3) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=False)
        self.shared = nn.Sequential(nn.Conv2d(guide_channels, hidden, 3, padding=1), nn.ReLU(inplace=True))
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        features = self.shared(guide)
        return self.norm(x) * (1 + self.gamma(features)) + self.beta(features)


class SpadeResBlock(nn.Module):
    """Two modulated 3x3 convolutions with a residual path (a modulated 1x1 when widths differ)."""

    def __init__(self, in_channels: int, out_channels: int, hidden: int, sn: bool) -> None:
        super().__init__()
        middle = min(in_channels, out_channels)
        self.mod_0 = SpatialModulation(in_channels, hidden)
        self.conv_0 = _conv(in_channels, middle, 3, sn)
        self.mod_1 = SpatialModulation(middle, hidden)
        self.conv_1 = _conv(middle, out_channels, 3, sn)
        self.learned_shortcut = in_channels != out_channels
        if self.learned_shortcut:
            self.mod_s = SpatialModulation(in_channels, hidden)
            self.conv_s = _conv(in_channels, out_channels, 1, sn, bias=False)

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        shortcut = self.conv_s(self.mod_s(x, guide)) if self.learned_shortcut else x
        h = self.conv_0(F.leaky_relu(self.mod_0(x, guide), 0.2))
        h = self.conv_1(F.leaky_relu(self.mod_1(h, guide), 0.2))
        return shortcut + h


class FaceGenerator(nn.Module):
    """``forward(degraded, z=None)``: degraded face Nx3xHxW in [0, 1] (H, W multiples of 32)
    -> enhanced face of the same size in [0, 1]. In latent mode ``z`` (N x latent_dim) defaults
    to zeros, the mode of the N(0, 1) prior, so inference is deterministic. See
    FaceGeneratorConfig for ``residual``."""

    def __init__(self, config: FaceGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        top = 16 * config.ngf
        if config.start == "latent":
            start_side = config.size // 2**UPSAMPLINGS
            self.stem = nn.Linear(config.latent_dim, top * start_side * start_side)
        else:
            self.stem = nn.Conv2d(3, top, 3, padding=1)
        self.blocks = nn.ModuleList(
            SpadeResBlock(cin * config.ngf, cout * config.ngf, config.spade_hidden, config.spectral_norm)
            for cin, cout, _ in SPADE_LAYOUT
        )
        self.to_rgb = nn.Conv2d(config.ngf, 3, 3, padding=1)
        if config.residual:
            nn.init.zeros_(self.to_rgb.weight)
            nn.init.zeros_(self.to_rgb.bias)

    def forward(self, degraded: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        n, channels, height, width = degraded.shape
        step = 2**UPSAMPLINGS
        if channels != 3 or height % step or width % step:
            raise ValueError(f"expected Nx3xHxW with H, W multiples of {step}, got {tuple(degraded.shape)}")
        guide = degraded * 2 - 1
        side = (height // step, width // step)
        if self.config.start == "latent":
            expected = (self.config.size // step,) * 2
            if side != expected:
                raise ValueError(f"latent start is built for {self.config.size} px faces, got {height}x{width}")
            if z is None:
                z = guide.new_zeros(n, self.config.latent_dim)
            x = self.stem(z).view(n, -1, *side)
        else:
            x = self.stem(F.interpolate(guide, size=side, mode="area"))
        for (_, _, upsample), block in zip(SPADE_LAYOUT, self.blocks, strict=False):
            if upsample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            scaled = guide if x.shape[-1] == width else F.interpolate(guide, size=x.shape[-2:], mode="area")
            x = block(x, scaled)
        out = torch.tanh(self.to_rgb(F.leaky_relu(x, 0.2)))
        return (degraded + out).clamp(0, 1) if self.config.residual else (out + 1) / 2
