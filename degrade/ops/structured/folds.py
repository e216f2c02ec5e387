"""Fold op: a fold or crease line with shading across it and a crack along it. Mask family ``fold``."""

from __future__ import annotations

from dataclasses import dataclass

from ...compose import Op
from ...functional.folds import fold
from ...seeding import SEED_MAX
from ...serialize import register
from ...validate import DegradeError
from ._common import share


@register
@dataclass
class Fold(Op):
    """A fold across the photo.

    ``offset``: distance of the line from the centre (fraction of the short side); ``angle``: tilt
    in degrees from horizontal, turned vertical with probability ``vertical``; ``width``: shading
    width (fraction of the short side); ``strength``: shading gain (0-1, lit side chosen at
    random); ``crack``: opacity of the cracked-emulsion line (0-1).
    """

    offset: tuple = (-0.3, 0.3)
    angle: tuple = (-8.0, 8.0)
    vertical: float = 0.5
    width: tuple = (0.004, 0.02)
    strength: tuple = (0.08, 0.3)
    crack: tuple = (0.3, 1.0)
    p: float = 1.0

    def validate(self):
        self.range("offset", -0.5, 0.5)
        self.range("angle", -180.0, 180.0)
        share(self, "vertical")
        if self.range("width", 0.0, 0.5)[0] <= 0:
            raise DegradeError("Fold: argument 'width' must be > 0")
        self.range("strength", 0.0, 1.0)
        self.range("crack", 0.0, 1.0)

    def sample(self, rng, shape):
        angle = rng.uniform(*self.angle) + (90.0 if rng.random() < self.vertical else 0.0)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return {"offset": rng.uniform(*self.offset), "angle": angle,
                "width": rng.uniform(*self.width) * min(shape[:2]),
                "strength": sign * rng.uniform(*self.strength), "crack": rng.uniform(*self.crack),
                "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        out, mask = fold(image, params["offset"], params["angle"], max(params["width"], 1.0),
                         params["strength"], params["crack"], params["seed"])
        return out, {"fold": mask}
