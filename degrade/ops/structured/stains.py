"""Stain op: water and chemical stains. Mask family ``stain``."""

from __future__ import annotations

from dataclasses import dataclass

from ...compose import Op, pick
from ...functional.stains import stains
from ...seeding import SEED_MAX
from ...serialize import register
from ...validate import check_choices
from ._common import draw_int

KINDS = ("water", "chemical")


@register
@dataclass
class Stains(Op):
    """Soft anisotropic stains. ``count``: integer range (0-20); ``size``: radius as a fraction of the
    short side (0-2); ``strength``: density (0-1); ``kinds``: choices water (tide line), chemical (tint)."""

    count: tuple = (1, 3)
    size: tuple = (0.05, 0.25)
    strength: tuple = (0.2, 0.6)
    kinds: tuple = KINDS
    p: float = 1.0

    def validate(self):
        self.range("count", 0, 20, integer=True)
        self.range("size", 0.0, 2.0)
        self.range("strength", 0.0, 1.0)
        self.kinds = check_choices("Stains", "kinds", self.kinds, KINDS)

    def sample(self, rng, shape):
        return {"count": draw_int(rng, self.count), "strength": rng.uniform(*self.strength),
                "kind": str(pick(rng, self.kinds)), "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        out, mask = stains(image, params["count"], self.size, params["strength"], params["kind"], params["seed"])
        return out, {"stain": mask}
