"""PSNR, SSIM and LPIPS restricted to a region of each pair: the defect mask or its complement.

``update(pred, target, mask)`` takes, beside the pairs, one bool HxW defect mask per pair (1 =
defect; in the benchmark the ground-truth ``defects`` mask of the sample, whatever masks the models
were given). ``region="defects"`` scores the pixels inside the mask, ``region="outside"`` the others,
so a model's work on scratches is seen apart from what it does to the rest of the photo.

- PSNR: the mean squared error over the region's pixels (all three channels), data range 255.
- SSIM: the mean of the SSIM map (grey, 11x11 Gaussian, 'valid') over the region's pixels whose
  window lies inside the image (the region cropped by 5 px at each border). Always on the CPU.
- LPIPS: the mean of the spatial LPIPS map (``lpips`` ``spatial=True``: each layer's distance map
  bilinearly up-sampled to the image size, then summed) over the region's pixels. Its mean over the
  whole image is close to, not equal to, the plain LPIPS value.

A pair whose region is empty (no defect pixel, or defects everywhere) has no value: NaN in
``per_image``, left out by ``compute()``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .base import MetricError, as_images
from .lpips import LPIPS
from .psnr import PSNR
from .ssim import SSIM, ssim_map_cpu

REGIONS = ("defects", "outside")


def as_masks(metric: str, masks: Any, count: int) -> list[np.ndarray]:
    """``masks`` (a bool HxW array, a list of them, or an N x H x W array) as a list of ``count`` bool arrays."""
    if masks is None:
        raise MetricError(f"{metric}: needs a defect mask for every pair (update(pred, target, mask))")
    if isinstance(masks, np.ndarray) and masks.ndim == 2:
        masks = [masks]
    masks = [np.asarray(m) for m in masks]
    if len(masks) != count:
        raise MetricError(f"{metric}: {count} pair(s) but {len(masks)} mask(s)")
    for i, m in enumerate(masks):
        if m.ndim != 2 or m.dtype != bool:
            raise MetricError(f"{metric}: mask[{i}] is {m.dtype} {m.shape}; expected a bool HxW array")
    return masks


class RegionMetric:
    """Mixin put before a paired metric class: ``update`` takes masks, ``region_score`` scores one
    pair inside its region, ``compute()`` averages the pairs that have a value."""

    needs_mask = True

    def __init__(self, region: str = "defects", **options) -> None:
        if region not in REGIONS:
            raise MetricError(f"{self.name}: region must be one of {', '.join(REGIONS)}, got {region!r}")
        super().__init__(**options)
        self.region = region
        self.name = f"{self.name}-{region}"
        self._regions: list[np.ndarray] = []

    @property
    def region_rule(self) -> str:
        raise NotImplementedError

    @property
    def convention(self) -> str:
        base = super().convention.split(":", 1)[1]
        return f"{self.name}:{base},region-{self.region}-of-gt-defects,{self.region_rule}"

    def update(self, pred: Any, target: Any = None, mask: Any = None) -> None:
        masks = as_masks(self.name, mask, len(as_images(self.name, "pred", pred)))
        self._regions = [m if self.region == "defects" else ~m for m in masks]
        super().update(pred, target)

    def _score(self, preds, targets):
        for i, (p, region) in enumerate(zip(preds, self._regions, strict=False)):
            if region.shape != p.shape[:2]:
                raise MetricError(f"{self.name}: mask[{i}] is {region.shape}, image {p.shape[:2]}")
        keep = [i for i, region in enumerate(self._regions) if region.any()]
        out = np.full(len(preds), np.nan)
        if keep:
            out[keep] = self.region_scores([preds[i] for i in keep], [targets[i] for i in keep],
                                           [self._regions[i] for i in keep])
        return out

    def region_scores(self, preds: list[np.ndarray], targets: list[np.ndarray],
                      regions: list[np.ndarray]) -> list[float]:
        """One value per pair, restricted to its (non-empty) bool HxW region."""
        raise NotImplementedError

    def compute(self) -> float:
        """The metric's own mean over the pairs with a value (NaN when none has one)."""
        values, self.per_image = self.per_image, [v for v in self.per_image if not math.isnan(v)]
        try:
            return super().compute()
        finally:
            self.per_image = values


class MaskedPSNR(RegionMetric, PSNR):
    """PSNR over a region; ``inf`` for a region without error, counted as ``max_db`` by ``compute()``."""

    region_rule = "mse-over-region-pixels"

    def region_scores(self, preds, targets, regions):
        out = []
        for p, t, region in zip(preds, targets, regions, strict=False):
            mse = float(np.square(p[region] - t[region], dtype=np.float64).mean())
            out.append(10.0 * np.log10(255.0 ** 2 / mse) if mse > 0 else math.inf)
        return out


class MaskedSSIM(RegionMetric, SSIM):
    """SSIM map averaged over a region (the region's pixels 5 px or more from the border)."""

    region_rule = "ssim-map-mean-over-region,cpu"

    def region_scores(self, preds, targets, regions):
        preds, targets = self._prepare(preds, targets)
        out = []
        for p, t, region in zip(preds, targets, regions, strict=False):
            maps = [ssim_map_cpu(p, t)] if p.ndim == 2 else [ssim_map_cpu(p[..., c], t[..., c]) for c in range(3)]
            inner = region[5:-5, 5:-5]
            out.append(float(np.mean(maps, axis=0)[inner].mean()) if inner.any() else math.nan)
        return out


class MaskedLPIPS(RegionMetric, LPIPS):
    """The spatial LPIPS map averaged over a region."""

    region_rule = "mean-over-region"
    _spatial = True
    _reduction = "spatial-map-upsampled-bilinear"

    def region_scores(self, preds, targets, regions):
        out = np.empty(len(preds))
        for idx, maps in self.distances(preds, targets):
            for k, i in enumerate(idx):
                out[i] = float(maps[k, 0].double().cpu().numpy()[regions[i]].mean())
        return out
