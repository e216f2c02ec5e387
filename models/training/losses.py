"""Training losses: L1, least-squares GAN, discriminator feature matching, VGG16 perceptual.

Images are float NxCxHxW in [0, 1] unless stated otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint import CheckpointError, load_checkpoint, load_state

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Indices in torchvision's vgg16().features after which relu1_2, relu2_2, relu3_3, relu4_3 end.
VGG16_RELU_LAYERS = (3, 8, 15, 22)


def l1_loss(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute error; with a {0,1} ``mask`` (Nx1xHxW) the mean over masked pixels only."""
    diff = (prediction - target).abs()
    if mask is None:
        return diff.mean()
    weight = mask.expand_as(diff)
    return (diff * weight).sum() / weight.sum().clamp_min(1.0)


def _as_list(outputs) -> list[torch.Tensor]:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def lsgan_loss(scores, real: bool) -> torch.Tensor:
    """Least-squares GAN loss: mean (score - 1)^2 for ``real``, mean score^2 otherwise.

    ``scores`` is one score map or a list (multi-scale discriminators); the losses are averaged.
    """
    maps = _as_list(scores)
    target = 1.0 if real else 0.0
    return sum(F.mse_loss(s, torch.full_like(s, target)) for s in maps) / len(maps)


def feature_matching_loss(fake_features: Sequence[torch.Tensor], real_features: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean L1 between discriminator features of fake and (detached) real inputs, layer-averaged."""
    if len(fake_features) != len(real_features) or not fake_features:
        raise ValueError(f"feature matching needs equal, non-empty feature lists, "
                         f"got {len(fake_features)} and {len(real_features)}")
    return (sum(F.l1_loss(f, r.detach()) for f, r in zip(fake_features, real_features, strict=False))
            / len(fake_features))


# VGG16 configuration "D": conv output channels, "M" = 2x2 max pooling.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
# torchvision ``vgg16().features`` index of each of the 13 convolutions, in order.
VGG16_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


def vgg16_feature_layers(last_layer: int) -> nn.Sequential:
    """The layers of torchvision's ``vgg16().features`` up to index ``last_layer`` (same indices,
    so its state dict keys apply), without building the 120M-parameter classifier."""
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG16_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    if not 0 <= last_layer < len(layers):
        raise ValueError(f"VGG16 features have layers 0..{len(layers) - 1}, got last_layer {last_layer}")
    return nn.Sequential(*layers[: last_layer + 1])


def lpips_vgg16_state_dict() -> dict[str, torch.Tensor]:
    """The converted LPIPS VGG16 backbone (ImageNet weights) from the oldphoto weights cache,
    keyed like torchvision's ``vgg16().features`` (``"0.weight"``, ...).

    Raises the cache's ``WeightsError`` (saying to run ``oldphoto weights fetch``) when absent.
    """
    from oldphoto.infra.weights import load_npz

    arrays = load_npz("lpips-vgg16")
    state = {}
    for k, index in enumerate(VGG16_CONV_INDICES):
        state[f"{index}.weight"] = torch.from_numpy(arrays[f"conv{k}.weight"])
        state[f"{index}.bias"] = torch.from_numpy(arrays[f"conv{k}.bias"])
    return state


def vgg16_features(weights: str | os.PathLike | dict | None = None,
                   last_layer: int = VGG16_RELU_LAYERS[-1]) -> nn.Sequential:
    """torchvision's VGG16 ``features`` up to ``last_layer`` with ImageNet weights.

    ``weights``: None for the converted LPIPS VGG16 backbone in the oldphoto cache (see
    :func:`lpips_vgg16_state_dict`), a path to a file holding a ``features`` state dict (keys
    ``"0.weight"``, ...; the dict itself or under ``"state_dict"``), or the dict itself. Layers
    past ``last_layer`` are dropped and their keys ignored.
    """
    features = vgg16_feature_layers(last_layer)
    source = "the oldphoto cache (lpips-vgg16)" if weights is None else "VGG16 weights"
    if weights is None:
        weights = lpips_vgg16_state_dict()
    elif not isinstance(weights, dict):
        payload = load_checkpoint(weights)
        weights, source = payload.get("state_dict", payload), weights
    wanted = set(features.state_dict())
    state = {k.removeprefix("features."): v for k, v in weights.items()}
    missing = wanted - set(state)
    if missing:
        raise CheckpointError(f"{source}: VGG16 features lack {sorted(missing)[:4]}")
    load_state(features, {k: state[k].float() for k in wanted}, source, what="VGG16 weights")
    return features


class VGGPerceptualLoss(nn.Module):
    """Mean L1 distance between VGG16 activations (relu1_2, relu2_2, relu3_3, relu4_3 by default).

    ``features`` is a torchvision-style VGG16 ``features`` module with loaded weights (see
    :func:`vgg16_features`); it is frozen. Inputs are RGB in [0, 1], ImageNet-normalised here.
    ``layer_weights`` scale each layer's term.
    """

    def __init__(self, features: nn.Sequential, layers: Sequence[int] = VGG16_RELU_LAYERS,
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__()
        if max(layers) >= len(features):
            raise ValueError(f"layer {max(layers)} is past the {len(features)} feature layers given")
        self.features = features[: max(layers) + 1].eval().requires_grad_(False)
        self.layers = tuple(layers)
        self.layer_weights = tuple(layer_weights) if layer_weights is not None else (1.0,) * len(self.layers)
        if len(self.layer_weights) != len(self.layers):
            raise ValueError(f"{len(self.layers)} layers but {len(self.layer_weights)} layer weights")
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> VGGPerceptualLoss:
        """The frozen backbone always stays in eval mode."""
        super().train(mode)
        self.features.eval()
        return self

    def _activations(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = (image - self.mean) / self.std
        taken = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.layers:
                taken.append(x)
        return taken

    def forward(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        fake = self._activations(prediction)
        with torch.no_grad():
            real = self._activations(target)
        return sum(w * F.l1_loss(f, r) for w, f, r in zip(self.layer_weights, fake, real, strict=False))
