"""``sequential``: a small learned DnCNN-style denoiser, then OpenCV Telea inpainting of the defect mask.

The paper's "sequential" baseline chains single-purpose restorers; here the denoiser is trained on
synthesized pairs (blur, noise, resampling, JPEG of the chosen preset) and the inpainting is
classical. The network predicts the residual (degraded - clean) as in DnCNN; it has no batch norm.
The training stage lives in :mod:`oldphoto.models.training.families.sequential`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..learned import TorchRestorer
from ..registry import register_model
from .classical import inpaint_telea


@dataclass
class SequentialConfig:
    """``width``: channels per hidden conv; ``depth``: conv layers (receptive field 2*depth+1 px);
    ``inpaint_radius``: Telea radius in pixels; ``weights``: weight file (None = the shipped one)."""

    width: int = 32
    depth: int = 8
    inpaint_radius: float = 5.0
    weights: str | None = None

    def __post_init__(self) -> None:
        if self.width < 1 or self.depth < 2 or self.inpaint_radius <= 0:
            raise ValueError(f"need width >= 1, depth >= 2, inpaint_radius > 0 "
                             f"(got {self.width}, {self.depth}, {self.inpaint_radius})")


class DnCNN(nn.Module):
    """3x3 conv + ReLU stack predicting the degradation residual; output = input - residual."""

    def __init__(self, width: int, depth: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, 3, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.body(x)


class SequentialRestorer(TorchRestorer):
    name = "sequential"
    needs_training = True

    def __init__(self, config: SequentialConfig, device: str = "auto") -> None:
        super().__init__(DnCNN(config.width, config.depth), device)
        self.config = config

    def postprocess(self, restored: np.ndarray, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        return inpaint_telea(restored, mask, self.config.inpaint_radius)


@register_model("sequential", weights=SequentialRestorer.shipped_files)
def create_sequential(config=None, pretrained: bool = True, device: str = "auto") -> SequentialRestorer:
    """Learned DnCNN-style denoiser, then OpenCV Telea inpainting of the defect mask."""
    return SequentialRestorer.build(SequentialConfig, config, pretrained, device)
