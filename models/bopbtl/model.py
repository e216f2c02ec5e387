"""The assembled bopbtl restorer and its registered names."""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..base import check_rgb
from ..learned import TorchRestorer
from ..registry import register_model
from ..tensors import count_parameters, crop_to, image_to_tensor
from .blocks import pad_to_fit
from .configs import VARIANTS, BopbtlConfig, get_config
from .detector import ScratchDetector, rgb_to_grey
from .fusion import FusionHead, keep_monochrome
from .mapping import Mapping
from .shipped import load_shipped, shipped_files
from .vae import DOWNSAMPLING, VAE

# Smallest padded side: the 7x7 stem reflects 3 pixels and latent convs reflect 1.
MIN_SIZE = 8


def latent_mask(mask: torch.Tensor) -> torch.Tensor:
    """B x 1 x H x W pixel mask (H, W multiples of 4) -> latent mask: a cell is a hole if any of its
    4 x 4 pixels is."""
    return F.max_pool2d(mask, DOWNSAMPLING)


class BopbtlNet(nn.Module):
    """VAE1 (old photos), VAE2 (clean photos), mapping T, the identity-safe fusion head (None when
    ``config.fusion.mode`` is ``"none"``) and the scratch detector."""

    def __init__(self, config: BopbtlConfig) -> None:
        super().__init__()
        self.config = config
        self.vae_old = VAE(config.vae)
        self.vae_clean = VAE(config.vae)
        self.mapping = Mapping(config.mapping, config.vae.channels)
        self.fusion = FusionHead(config.fusion) if config.fusion.mode != "none" else None
        self.detector = ScratchDetector(config.detector)

    @property
    def uses_mask(self) -> bool:
        return self.mapping.uses_mask

    def inference_modules(self) -> list[nn.Module]:
        """The parts a restoration runs (the detector only for mask-aware branches)."""
        parts = [self.vae_old.encoder, self.mapping, self.vae_clean.decoder]
        parts += [self.fusion] if self.fusion is not None else []
        return parts + [self.detector] if self.uses_mask else parts

    def detect(self, image: torch.Tensor) -> torch.Tensor:
        """Defect probability B x 1 x H x W in [0, 1] of RGB ``image`` in [0, 1]."""
        return torch.sigmoid(self.detector(rgb_to_grey(image)))

    def translate(self, image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Old photo -> clean photo through the latent spaces only (no fusion), B x 3 x H x W in
        [0, 1], H and W multiples of 4. ``mask`` (B x 1 x H x W, 1 = defect) reaches the global
        branch at latent resolution."""
        latent, _ = self.vae_old.encode(image)
        mapped = self.mapping(latent, latent_mask(mask) if mask is not None else None)
        return self.vae_clean.decode(mapped)

    def restore(self, image: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """:meth:`translate`, then the fusion head with the input and the mask (when configured),
        kept monochrome where the input is a black-and-white print (``config.monochrome``)."""
        translated = self.translate(image, mask)
        restored = translated if self.fusion is None else self.fusion(image, translated, mask)
        return keep_monochrome(image, restored, self.config.monochrome)

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Restore RGB in [0, 1] of any size (padded to a multiple of 4, at least 8, cropped back)."""
        padded, size = pad_to_fit(image, DOWNSAMPLING, MIN_SIZE)
        padded_mask = pad_to_fit(mask, DOWNSAMPLING, MIN_SIZE)[0] if mask is not None else None
        return crop_to(self.restore(padded, padded_mask), size)


class BopbtlRestorer(TorchRestorer):
    """Detector (when no mask is given and scratch mode is on) -> VAE1 encoder -> mapping -> VAE2
    decoder, on the whole image at its own size (padded by the network, cropped back)."""

    needs_training = True

    def __init__(self, name: str, net: BopbtlNet, device: str = "auto", scratches: bool = True) -> None:
        super().__init__(net, device)
        self.name = name
        self.net = net
        self.scratches = scratches

    @property
    def num_parameters(self) -> int:
        return sum(count_parameters(module) for module in self.net.inference_modules())

    def detect_defects(self, image: np.ndarray) -> np.ndarray:
        """Bool H x W defect mask of uint8 RGB ``image`` (probability above the config threshold)."""
        with torch.inference_mode():
            probability = self.net.detect(image_to_tensor(image, torch.device(self.device)))
        return (probability[0, 0] > self.net.config.detector.threshold).cpu().numpy()

    def encode_latents(self, images: list[np.ndarray]) -> np.ndarray:
        """Pooled VAE1 (old-photo domain) latent means of uint8 RGB ``images``: float64 N x 2C
        (C latent channels: 64 in the small and full configs, so D = 128). Each image is padded as
        for restoration; over the latent cells covering the image (padding left out), each channel's
        spatial mean, then its spatial population standard deviation."""
        if not images:
            raise ValueError(f"{self.name}: encode_latents needs at least one image")
        rows = []
        with torch.inference_mode():
            for image in images:
                check_rgb(self.name, image)
                x, (height, width) = pad_to_fit(image_to_tensor(image, torch.device(self.device)), DOWNSAMPLING,
                                                MIN_SIZE)
                latent = self.net.vae_old.encode(x)[0][0, :, :-(-height // DOWNSAMPLING), :-(-width // DOWNSAMPLING)]
                cells = latent.flatten(1)
                rows.append(torch.cat([cells.mean(1), cells.std(1, correction=0)]).double().cpu().numpy())
        return np.stack(rows)

    @property
    def fingerprint(self) -> str:
        """Digest of the weights and of the network config (``monochrome`` holds no weights)."""
        config = json.dumps(self.net.config.to_dict(), sort_keys=True)
        return hashlib.sha256(f"{super().fingerprint}:{config}".encode()).hexdigest()

    def run(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if mask is None and self.scratches and self.net.uses_mask:
            mask = (self.net.detect(x) > self.net.config.detector.threshold).float()
        return self.net(x, mask)


def build(name: str, config=None, pretrained: bool | str | Path = True, device: str = "auto") -> BopbtlRestorer:
    """Restorer ``name`` at ``config`` (``"small"`` by default, or ``"full"``, or a BopbtlConfig).

    ``pretrained``: True loads the shipped parts in ``models/checkpoints/bopbtl-<config>/`` (see
    :mod:`.shipped`), a path loads that assembled file (a missing or unfitting file is a
    CheckpointError naming it), False keeps the random initialisation.
    """
    branch, variational = VARIANTS[name]
    net = BopbtlNet(get_config(config).variant(branch, variational))
    restorer = BopbtlRestorer(name, net, device)
    if pretrained is True:
        restorer.weights_meta = load_shipped(net, name)
    elif pretrained:
        restorer.load(pretrained)
    return restorer


def _register(name: str, description: str) -> None:
    def factory(config=None, pretrained=True, device="auto"):
        return build(name, config, pretrained, device)

    register_model(name, description, weights=partial(shipped_files, name))(factory)


_register("bopbtl", "Latent translation with VAEs and multi-scale patch attention (TPAMI)")
_register("bopbtl-pnl", "Latent translation with VAEs and the partial nonlocal block (CVPR)")
_register("bopbtl-local", "Latent translation with VAEs, local ResBlocks only (no global branch)")
_register("bopbtl-ae", "Patch-attention mapping between plain autoencoders (latent ablation)")
