"""Torch helpers shared by the learned models: image <-> tensor, padding to a multiple."""

from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F


def image_to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 HxWx3 RGB -> float32 1x3xHxW in [0, 1] on ``device``."""
    tensor = torch.from_numpy(np.ascontiguousarray(image)).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """float 1x3xHxW (or 3xHxW) in [0, 1] -> uint8 HxWx3 RGB (clipped, rounded)."""
    if tensor.ndim == 4:
        tensor = tensor[0]
    scaled = tensor.detach().float().clamp(0.0, 1.0).mul(255.0).round()
    return scaled.to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def pad_to_multiple(tensor: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad an NxCxHxW tensor on the bottom/right so H and W are multiples of ``multiple``.

    Returns the padded tensor and the original (H, W) for :func:`crop_to`. Sides shorter than the
    padding fall back to replicate padding (reflection needs pad < size).
    """
    height, width = tensor.shape[-2:]
    pad_h, pad_w = (-height) % multiple, (-width) % multiple
    if pad_h or pad_w:
        mode = "reflect" if pad_h < height and pad_w < width else "replicate"
        tensor = F.pad(tensor, (0, pad_w, 0, pad_h), mode=mode)
    return tensor, (height, width)


def crop_to(tensor: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Crop the bottom/right padding added by :func:`pad_to_multiple`."""
    return tensor[..., : size[0], : size[1]]


def count_parameters(module: torch.nn.Module) -> int:
    """Number of learned (trainable) parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def module_digest(module: torch.nn.Module) -> str:
    """SHA-256 (hex) of ``module``'s state: every parameter and buffer, by name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        data = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{data.dtype}:{tuple(data.shape)};".encode())
        digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()
