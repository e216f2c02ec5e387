"""``classical``: non-local-means denoising, then OpenCV Telea inpainting of the defect mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..base import Restorer
from ..configs import make_config
from ..registry import register_model


def inpaint_telea(image: np.ndarray, mask: np.ndarray | None, radius: float) -> np.ndarray:
    """Fill the pixels where ``mask`` is True with OpenCV's Telea method (``radius`` in pixels).

    Returns ``image`` itself when the mask is None or empty.
    """
    if mask is None or not mask.any():
        return image
    return cv2.inpaint(image, mask.astype(np.uint8) * 255, float(radius), cv2.INPAINT_TELEA)


@dataclass
class ClassicalConfig:
    """``h``/``h_color``: NLM filter strength for luminance / colour (grey levels, larger = smoother);
    ``template``/``search``: NLM patch and search window sides (odd, pixels);
    ``inpaint_radius``: Telea neighbourhood radius in pixels."""

    h: float = 10.0
    h_color: float = 10.0
    template: int = 7
    search: int = 21
    inpaint_radius: float = 5.0

    def __post_init__(self) -> None:
        if self.template % 2 == 0 or self.search % 2 == 0 or self.template < 1 or self.search < self.template:
            raise ValueError(f"template ({self.template}) and search ({self.search}) must be odd, search >= template")
        if self.h < 0 or self.h_color < 0 or self.inpaint_radius <= 0:
            raise ValueError("h, h_color must be >= 0 and inpaint_radius > 0")


class ClassicalRestorer(Restorer):
    name = "classical"

    def __init__(self, config: ClassicalConfig) -> None:
        self.config = config

    def restore_one(self, image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        c = self.config
        denoised = cv2.fastNlMeansDenoisingColored(image, None, c.h, c.h_color, c.template, c.search)
        return inpaint_telea(denoised, mask, c.inpaint_radius)


@register_model("classical")
def create_classical(config=None, pretrained: bool = True, device: str = "auto") -> ClassicalRestorer:
    """Non-local-means denoising, then OpenCV Telea inpainting of the defect mask (CPU)."""
    return ClassicalRestorer(make_config(ClassicalConfig, config, "classical"))
