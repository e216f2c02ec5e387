"""pytorch-fid's FID Inception v3 up to pool3, built here so that its weights come from the verified
file of ``oldphoto weights`` (pytorch-fid's own constructor downloads them).

The network is pytorch-fid's: torchvision's Inception v3 (1008 classes) with pytorch-fid's FID blocks
in Mixed_5b..Mixed_7c, and the forward pass of its ``InceptionV3([3])``: resize to 299x299
(bilinear), scale [0, 1] to [-1, 1], run the stem and the Mixed blocks, average over space.
"""

from __future__ import annotations

import torch
import torchvision
from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2
from torch import nn

INPUT_SIZE = 299


def fid_inception_v3() -> nn.Module:
    """pytorch-fid's FID Inception v3 (with its 1008-class head, so its weight file loads strictly), not initialised."""
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


class InceptionPool3(nn.Module):
    """(N, 3, H, W) float images in [0, 1] -> (N, 2048) pool3 features of the FID Inception ``net``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        pool = nn.MaxPool2d(kernel_size=3, stride=2)
        self.layers = nn.Sequential(
            net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, pool, net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, pool,
            net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c, net.Mixed_6d,
            net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c, nn.AdaptiveAvgPool2d(output_size=(1, 1)))
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return self.layers(2 * x - 1).flatten(1)


def inception_pool3(state: dict[str, torch.Tensor]) -> InceptionPool3:
    """The pool3 feature network with ``state`` (a state dict of the FID Inception weight file) loaded strictly."""
    net = fid_inception_v3()
    net.load_state_dict(state)
    return InceptionPool3(net)
