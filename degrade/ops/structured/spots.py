"""Dust and spot ops: specks and hairs, foxing. Mask family ``dust``."""

from __future__ import annotations

from dataclasses import dataclass

from ...compose import Op
from ...functional.spots import dust, foxing
from ...seeding import SEED_MAX
from ...serialize import register
from ...validate import DegradeError
from ._common import draw_int, share


@register
@dataclass
class Dust(Op):
    """Dust specks and hairs. ``specks``, ``hairs``: integer ranges of counts (0-5000, 0-200);
    ``radius``: speck radius in px (log-uniform, > 0, at most 50); ``dark``: probability a speck or
    hair is dark (else bright)."""

    specks: tuple = (5, 40)
    hairs: tuple = (0, 3)
    radius: tuple = (0.5, 2.5)
    dark: float = 0.6
    p: float = 1.0

    def validate(self):
        self.range("specks", 0, 5000, integer=True)
        self.range("hairs", 0, 200, integer=True)
        if self.range("radius", 0.0, 50.0)[0] <= 0:
            raise DegradeError("Dust: argument 'radius' must be > 0")
        share(self, "dark")

    def sample(self, rng, shape):
        return {"specks": draw_int(rng, self.specks), "hairs": draw_int(rng, self.hairs),
                "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        out, mask = dust(image, params["specks"], params["hairs"], self.radius, self.dark, params["seed"])
        return out, {"dust": mask}


@register
@dataclass
class Foxing(Op):
    """Foxing: ``clusters`` (integer range 0-20) of ``spots`` (integer range per cluster, 0-50)
    rust-brown spots of ``radius`` (fraction of the short side, > 0, at most 0.5), multiplied in at
    ``strength`` (0-1)."""

    clusters: tuple = (1, 3)
    spots: tuple = (3, 12)
    radius: tuple = (0.002, 0.012)
    strength: tuple = (0.3, 0.8)
    p: float = 1.0

    def validate(self):
        self.range("clusters", 0, 20, integer=True)
        self.range("spots", 0, 50, integer=True)
        if self.range("radius", 0.0, 0.5)[0] <= 0:
            raise DegradeError("Foxing: argument 'radius' must be > 0")
        self.range("strength", 0.0, 1.0)

    def sample(self, rng, shape):
        return {"clusters": draw_int(rng, self.clusters), "strength": rng.uniform(*self.strength),
                "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        out, mask = foxing(image, params["clusters"], self.spots, self.radius, params["strength"], params["seed"])
        return out, {"dust": mask}
