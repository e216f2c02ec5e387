"""SSIM (Wang et al. 2004) with the MATLAB ``ssim_index`` conventions.

On CPU the separable Gaussian runs through OpenCV in float64 (fast and exact); on other devices the
same formula runs batched in torch.
"""

from __future__ import annotations

import numpy as np

from .base import Metric, MetricError, check_min_size, gray601
from .torch_util import batches, to_nchw


def gaussian_1d(size: int, sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian taps; their outer product is MATLAB's ``fspecial('gaussian')``."""
    x = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(x ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def _ssim_from_moments(mu_x, mu_y, xx, yy, xy, k1: float, k2: float, data_range: float):
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_xy, mu_x2, mu_y2 = mu_x * mu_y, mu_x * mu_x, mu_y * mu_y
    num = (2 * mu_xy + c1) * (2 * (xy - mu_xy) + c2)
    den = (mu_x2 + mu_y2 + c1) * ((xx - mu_x2) + (yy - mu_y2) + c2)
    return num / den


def ssim_map_cpu(x: np.ndarray, y: np.ndarray, window: int = 11, sigma: float = 1.5, k1: float = 0.01,
                 k2: float = 0.03, data_range: float = 255.0) -> np.ndarray:
    """SSIM map of two HxW float arrays, float64 (H - window + 1) x (W - window + 1): 'valid' window,
    so map pixel (i, j) belongs to image pixel (i + window // 2, j + window // 2)."""
    import cv2

    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    taps = gaussian_1d(window, sigma)
    r = window // 2

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.sepFilter2D(a, cv2.CV_64F, taps, taps, borderType=cv2.BORDER_REFLECT)[r:-r, r:-r]

    moments = [blur(a) for a in (x, y, x * x, y * y, x * y)]
    return _ssim_from_moments(*moments, k1, k2, data_range)


def ssim_cpu(x: np.ndarray, y: np.ndarray, window: int = 11, sigma: float = 1.5, k1: float = 0.01,
             k2: float = 0.03, data_range: float = 255.0) -> float:
    """Mean SSIM of two HxW or HxWxC float arrays (channels averaged), 'valid' window, float64."""
    if np.ndim(x) == 3:
        return float(np.mean([ssim_cpu(x[..., c], y[..., c], window, sigma, k1, k2, data_range)
                              for c in range(x.shape[2])]))
    return float(ssim_map_cpu(x, y, window, sigma, k1, k2, data_range).mean())


def ssim_per_image(x, y, window: int = 11, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03,
                   data_range: float = 255.0):
    """Mean SSIM per image of NCHW tensors ``x``, ``y`` (values in [0, data_range]), 'valid' window.

    The torch path (GPU): separable Gaussian, channels averaged. Returns a tensor of shape (N,).
    """
    import torch
    import torch.nn.functional as F

    n, c, h, w = x.shape
    x = x.reshape(n * c, 1, h, w)
    y = y.reshape(n * c, 1, h, w)
    taps = torch.as_tensor(gaussian_1d(window, sigma), dtype=x.dtype, device=x.device)
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)
    stack = F.conv2d(stack, taps.view(1, 1, 1, -1).expand(5, 1, 1, window), groups=5)
    stack = F.conv2d(stack, taps.view(1, 1, -1, 1).expand(5, 1, window, 1), groups=5)
    ssim_map = _ssim_from_moments(*stack.unbind(1), k1, k2, data_range)
    return ssim_map.mean(dim=(1, 2)).reshape(n, c).mean(dim=1)


class SSIM(Metric):
    """Structural similarity in [-1, 1]: Gaussian 11x11, sigma 1.5, K1 0.01, K2 0.03, L 255, 'valid'.

    ``channel``: "gray" (default: rounded BT.601 luma, as MATLAB ``rgb2gray`` on uint8) or "rgb"
    (mean over the three channels). No down-sampling. Computed in float64 (OpenCV on CPU, torch elsewhere).
    """

    name = "ssim"
    higher_is_better = True
    needs_reference = True

    def __init__(self, channel: str = "gray", device: str | None = "cpu") -> None:
        super().__init__(device)
        if channel not in ("gray", "rgb"):
            raise MetricError(f"{self.name}: channel must be 'gray' or 'rgb', got {channel!r}")
        self.channel = channel

    @property
    def convention(self) -> str:
        space = "gray601-round" if self.channel == "gray" else "rgb-mean"
        return f"ssim:{space},gauss11,sigma1.5,k0.01/0.03,L255,valid,nodownsample"

    def _prepare(self, preds, targets) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Images as scored: checked for the window size, converted to grey for ``channel="gray"``."""
        check_min_size(self.name, preds, 11, "11x11 Gaussian window, 'valid' region")
        if self.channel == "gray":
            return [gray601(p) for p in preds], [gray601(t) for t in targets]
        return preds, targets

    def _score(self, preds, targets):
        import torch

        preds, targets = self._prepare(preds, targets)
        if self.device == "cpu":
            return [ssim_cpu(p, t) for p, t in zip(preds, targets, strict=False)]
        out = np.empty(len(preds))
        for idx, x in batches(preds, self.device, torch.float64):
            y = to_nchw([targets[i] for i in idx], self.device, torch.float64)
            out[idx] = ssim_per_image(x, y).cpu().numpy()
        return out
