"""Film grain op."""

from __future__ import annotations

from dataclasses import dataclass

from ..compose import Op
from ..functional.grain import film_grain
from ..seeding import SEED_MAX
from ..serialize import register


@register
@dataclass
class FilmGrain(Op):
    """Luminance-dependent, spatially correlated grain.

    ``intensity``: std in grey levels at mid-grey (range 0-255); ``size``: grain size in pixels
    (range 1-50); ``monochrome``: one grain field for all channels. ``version=2``: the grain field is
    drawn one random byte per value (see :func:`~oldphoto.degrade.functional.fields.smooth_noise`) and
    a monochrome grain divided by its std inside the 256-entry amplitude table and added in 8-bit
    passes, about 2.5x faster.
    """

    VERSIONS = (1, 2)

    intensity: tuple = (4.0, 16.0)
    size: tuple = (1.0, 2.5)
    monochrome: bool = True
    p: float = 1.0

    def validate(self):
        self.range("intensity", 0.0, 255.0)
        self.range("size", 1.0, 50.0)

    def sample(self, rng, shape):
        return {"intensity": rng.uniform(*self.intensity), "size": rng.uniform(*self.size),
                "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        return film_grain(image, params["intensity"], params["size"], params["seed"], self.monochrome,
                          self.version)
