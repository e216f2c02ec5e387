"""PSNR in dB on RGB or BT.601 Y; mean clips each value at ``max_db`` so identical pairs (inf) count."""

from __future__ import annotations

import numpy as np

from .base import Metric, MetricError, y_ycbcr601


class PSNR(Metric):
    """Peak signal-to-noise ratio, data range 255, MSE over all channels of each pair.

    ``channel``: "rgb" (skimage convention) or "y" (BT.601 YCbCr Y in 16..235, not rounded).
    ``crop_border``: pixels dropped from every edge first. Identical pairs give ``inf`` per image;
    ``compute()`` averages ``min(value, max_db)`` so a perfect pair scores ``max_db``.
    Always computed on CPU in float64 (a device transfer would cost more than the metric).
    """

    name = "psnr"
    higher_is_better = True
    needs_reference = True

    def __init__(self, channel: str = "rgb", crop_border: int = 0, max_db: float = 100.0,
                 device: str | None = "cpu") -> None:
        super().__init__(device)
        if channel not in ("rgb", "y"):
            raise MetricError(f"{self.name}: channel must be 'rgb' or 'y', got {channel!r}")
        if crop_border < 0:
            raise MetricError(f"{self.name}: crop_border must be >= 0, got {crop_border}")
        self.channel, self.crop_border, self.max_db = channel, int(crop_border), float(max_db)
        if channel == "y":
            self.name = "psnr-y"

    @property
    def convention(self) -> str:
        space = "rgb" if self.channel == "rgb" else "y-ycbcr601"
        return f"{self.name}:{space},range255,crop{self.crop_border},mean-clip{self.max_db:g}dB"

    def _prepare(self, image: np.ndarray) -> np.ndarray:
        b = self.crop_border
        if b:
            if min(image.shape[:2]) <= 2 * b:
                raise MetricError(f"{self.name}: image {image.shape[1]}x{image.shape[0]} "
                                  f"is too small for crop_border={b}")
            image = image[b:-b, b:-b]
        return y_ycbcr601(image)[:, :, None] if self.channel == "y" else image

    def _score(self, preds, targets):
        out = []
        for p, t in zip(preds, targets, strict=False):
            diff = self._prepare(p) - self._prepare(t)
            mse = float(np.square(diff).sum(dtype=np.float64)) / diff.size
            out.append(10.0 * np.log10(255.0 ** 2 / mse) if mse > 0 else float("inf"))
        return out

    def compute(self) -> float:
        if not self.per_image:
            return float("nan")
        return float(np.mean(np.minimum(self.per_image, self.max_db)))
