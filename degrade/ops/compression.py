"""Digitisation losses: JPEG re-compression and down-and-up resampling."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..compose import Op, pick
from ..functional.jpeg import jpeg_compress
from ..functional.resample import INTERPOLATIONS, down_up
from ..serialize import register
from ..validate import check_choices


@register
@dataclass
class JpegCompression(Op):
    """JPEG encode/decode with OpenCV's libjpeg-turbo (4:2:0); ``quality`` an integer range 1-100."""

    quality: tuple = (40, 100)
    p: float = 1.0

    def validate(self):
        self.range("quality", 1, 100, integer=True)

    def sample(self, rng, shape):
        return {"quality": int(rng.integers(self.quality[0], self.quality[1], endpoint=True))}

    def apply(self, image, params):
        return jpeg_compress(image, params["quality"])


@register
@dataclass
class Resample(Op):
    """Resolution loss: resize down by ``scale`` (range in (0, 1]) and back up to the original size.

    ``independent=True`` draws width and height scales separately (the reference code's
    behaviour); ``down``/``up`` are interpolation choices (nearest, bilinear, bicubic, area, lanczos).
    Sizes are integers drawn uniformly from ``[ceil(side * low), floor(side * high)]``.
    """

    scale: tuple = (0.5, 1.0)
    independent: bool = True
    down: tuple = ("bicubic",)
    up: tuple = ("nearest", "bilinear")
    p: float = 1.0

    def validate(self):
        self.range("scale", 1e-3, 1.0)
        self.down = check_choices("Resample", "down", self.down, list(INTERPOLATIONS))
        self.up = check_choices("Resample", "up", self.up, list(INTERPOLATIONS))

    def _size(self, rng, side: int, u: float | None = None) -> int:
        low = max(1, math.ceil(side * self.scale[0]))
        high = max(low, math.floor(side * self.scale[1]))
        if u is None:
            return int(rng.integers(low, high, endpoint=True))
        return low + min(int(u * (high - low + 1)), high - low)

    def sample(self, rng, shape):
        h, w = shape[:2]
        if self.independent:
            width, height = self._size(rng, w), self._size(rng, h)
        else:
            u = rng.random()
            width, height = self._size(rng, w, u), self._size(rng, h, u)
        return {"width": width, "height": height,
                "down": str(pick(rng, self.down)), "up": str(pick(rng, self.up))}

    def apply(self, image, params):
        return down_up(image, params["width"], params["height"], params["down"], params["up"])
