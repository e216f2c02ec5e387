"""Whole bopbtl photos of any size in bounded memory: full-resolution scratch detection and a
memory plan per image (:class:`PhotoRestorer`; the files application is :mod:`oldphoto.apps.restore`).

``detect``: the scratch U-Net at full resolution, in overlapping tiles blended with smooth weights;
``restore``: VAE1 encoder -> mapping -> VAE2 decoder -> fusion head with the input.

Memory: when the whole network does not fit ``max_memory`` bytes on the compute device, the
convolutional parts run band by band (:class:`~.streaming.BandRunner`, exact: fused through all
layers where there is no InstanceNorm, else layer by layer with whole-image statistics and whole
activations kept in host memory); the mapping's
global branch runs on the whole latent when it fits, else on overlapping latent tiles blended
with smooth weights (:func:`~.tiling.run_tiled`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from oldphoto.infra.memory import GB

from ..tensors import crop_to, image_to_tensor, tensor_to_image
from .attention import MultiScalePatchAttention
from .blocks import pad_to_fit
from .detector import rgb_to_grey
from .fusion import keep_monochrome
from .model import MIN_SIZE, BopbtlRestorer, latent_mask
from .streaming import BandRunner
from .tiling import run_tiled
from .vae import DOWNSAMPLING

# Rough working-set factors (bytes = factor * channels * positions * 4), checked by `oldphoto bench restore`.
WHOLE_NETWORK_FACTOR = 5  # live full-resolution activations of the VAE stem in a whole forward pass
GLOBAL_BRANCH_FACTOR = 10  # features, copied patches, the 2C+1 fusion input and ResBlock temporaries
LATENT_TILE_OVERLAP = 16  # latent pixels (64 image pixels) shared by neighbouring global-branch tiles
MIN_LATENT_TILE = 48
LATENT_TILE_ALIGN = 8  # the largest patch size of the patch attention: tiles keep its patch grid


def default_max_memory(device: torch.device) -> int:
    """Default working-memory budget in bytes: 80% of a CUDA device's memory, 4 GiB on the CPU."""
    if device.type == "cuda":
        return int(0.8 * torch.cuda.get_device_properties(device).total_memory)
    return 4 * GB


@dataclass(frozen=True)
class Plan:
    """How one image runs: ``streamed`` (band by band) and the global branch's latent tile side
    (None: the whole latent at once)."""

    streamed: bool
    latent_tile: int | None
    band_elements: int


class PhotoRestorer:
    """A loaded bopbtl restorer with full-resolution detection and memory-bounded restoration.

    ``max_memory``: working-memory budget on the compute device in bytes (None: see
    :func:`default_max_memory`). ``detect_tile`` / ``detect_overlap``: detector tile side and
    overlap in pixels.
    """

    def __init__(self, restorer: BopbtlRestorer, max_memory: int | None = None, detect_tile: int = 512,
                 detect_overlap: int = 64) -> None:
        self.restorer = restorer
        self.net = restorer.net
        self.device = torch.device(restorer.device)
        self.max_memory = int(max_memory) if max_memory is not None else default_max_memory(self.device)
        if self.max_memory <= 0:
            raise ValueError(f"max_memory must be > 0 bytes, got {self.max_memory}")
        if not 0 <= detect_overlap < detect_tile:
            raise ValueError(f"detect_overlap {detect_overlap} must be in [0, detect_tile {detect_tile})")
        self.detect_tile, self.detect_overlap = detect_tile, detect_overlap

    @property
    def uses_mask(self) -> bool:
        return self.net.uses_mask

    def global_branch_bytes(self, latent_positions: int) -> int:
        """Estimated bytes of the global branch on ``latent_positions`` latent pixels (0 without one)."""
        if self.net.mapping.global_branch is None:
            return 0
        chunk = 2 * 4 * self.net.config.mapping.attention_chunk_elements
        return GLOBAL_BRANCH_FACTOR * self.net.config.mapping.widths[-1] * latent_positions * 4 + chunk

    def plan(self, height: int, width: int) -> Plan:
        """Choose whole / band-by-band execution and the global branch's tiling for an image size."""
        padded = [max(side + (-side) % DOWNSAMPLING, MIN_SIZE) for side in (height, width)]
        latent = (padded[0] // DOWNSAMPLING) * (padded[1] // DOWNSAMPLING)
        whole = WHOLE_NETWORK_FACTOR * self.net.config.vae.channels * padded[0] * padded[1] * 4
        global_bytes = self.global_branch_bytes(latent)
        band_elements = max(1 << 16, min(1 << 24, self.max_memory // (16 * 4)))
        if whole + global_bytes <= self.max_memory:
            return Plan(False, None, band_elements)
        if global_bytes <= self.max_memory // 2:
            return Plan(True, None, band_elements)
        per_position = GLOBAL_BRANCH_FACTOR * self.net.config.mapping.widths[-1] * 4
        chunk_elements = self.net.config.mapping.attention_chunk_elements
        side = int(math.sqrt(max(1, self.max_memory // 2 - 2 * 4 * chunk_elements) / per_position))
        return Plan(True, max(MIN_LATENT_TILE, side // LATENT_TILE_ALIGN * LATENT_TILE_ALIGN), band_elements)

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Defect probability (float32 H x W in [0, 1]) of uint8 RGB ``image`` at full resolution."""
        grey = rgb_to_grey(image_to_tensor(image, torch.device("cpu")))
        detector = self.net.detector

        def probability(window: torch.Tensor, _slices) -> torch.Tensor:
            return torch.sigmoid(detector(window))

        with torch.inference_mode():
            prob = run_tiled(probability, grey, self.detect_tile, self.detect_overlap, 1, self.device)
        return prob[0, 0].numpy()

    def restore(self, image: np.ndarray, mask: np.ndarray | None, plan: Plan | None = None) -> np.ndarray:
        """Restore uint8 H x W x 3 ``image`` with bool H x W defect ``mask`` (None: no defects)."""
        plan = plan or self.plan(*image.shape[:2])
        storage = torch.device("cpu") if plan.streamed else self.device
        x = image_to_tensor(image, storage)
        m = torch.from_numpy(mask).to(storage, torch.float32)[None, None] if mask is not None else None
        with torch.inference_mode():
            if not plan.streamed:
                return tensor_to_image(self.net(x, m))
            return tensor_to_image(self._restore_streamed(x, m, plan))

    def _restore_streamed(self, x: torch.Tensor, mask: torch.Tensor | None, plan: Plan) -> torch.Tensor:
        net, mapping = self.net, self.net.mapping
        padded, size = pad_to_fit(x, DOWNSAMPLING, MIN_SIZE)
        runner = BandRunner(self.device, x.device, plan.band_elements)
        features = runner.run(nn.Sequential(net.vae_old.encoder.layers, mapping.up), padded * 2.0 - 1.0)
        if mapping.global_branch is not None:
            latent_m = None
            if mapping.uses_mask:
                latent_m = (latent_mask(pad_to_fit(mask, DOWNSAMPLING, MIN_SIZE)[0]) if mask is not None
                            else features.new_zeros((1, 1, *features.shape[-2:])))
            features = self._global(features, latent_m, plan.latent_tile, runner)
        translated = runner.run(nn.Sequential(mapping.local, mapping.down, net.vae_clean.decoder.layers), features)
        translated = translated.mul_(0.5).add_(0.5)
        if net.fusion is None:
            return crop_to(keep_monochrome(padded, translated, net.config.monochrome), size)
        toned = net.fusion.toned(padded)
        full_mask = net.fusion.full_mask(toned,
                                         pad_to_fit(mask, DOWNSAMPLING, MIN_SIZE)[0] if mask is not None else None)
        residual = runner.run(net.fusion.body, [toned, translated, full_mask])
        restored = net.fusion.combine(toned, translated, full_mask, residual)
        return crop_to(keep_monochrome(padded, restored, net.config.monochrome), size)

    def _global(self, features: torch.Tensor, mask: torch.Tensor | None, tile: int | None,
                runner: BandRunner) -> torch.Tensor:
        """The mapping's global branch on the whole latent, or with only its attention in latent tiles
        (its convolutions and ResBlocks then run band by band on the whole latent)."""
        branch, device = self.net.mapping.global_branch, self.device

        def window_mask(slices) -> torch.Tensor | None:
            return mask[..., slices[0], slices[1]].to(device) if mask is not None else None

        if tile is None:
            whole = branch(features.to(device), mask.to(device)) if mask is not None else branch(features.to(device))
            return whole.to(features.device)
        channels = features.shape[1]
        if isinstance(branch, MultiScalePatchAttention):
            x = features
            for scale in branch.scales:
                copied = run_tiled(lambda w, s, scale=scale: scale.copy_patches(w, window_mask(s)), x, tile,
                                   LATENT_TILE_OVERLAP, channels, device, align=scale.patch)
                fused = runner.run(scale.fuse, [x, copied, mask])
                x = runner.add(x, fused) if scale.residual else fused
            return runner.run(branch.post, x)
        attended = run_tiled(lambda w, s: branch.attend(w, window_mask(s) if branch.partial else None), features,
                             tile, LATENT_TILE_OVERLAP, channels, device)
        fused = runner.run(branch.post, runner.add(features, runner.run(branch.W, attended)))
        if not branch.partial:
            return fused
        return torch.lerp(features, fused, mask)
