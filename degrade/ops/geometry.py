"""Spatial ops: masks and the clean target follow them."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..compose import Op
from ..serialize import register


@register
@dataclass
class HorizontalFlip(Op):
    """Mirror left-right (the reference training's augmentation); applied to image, target and masks."""

    p: float = 0.5
    spatial = True

    def apply(self, image, params):
        return cv2.flip(image, 1)

    def apply_to_mask(self, mask, params):
        return np.ascontiguousarray(mask[:, ::-1])
