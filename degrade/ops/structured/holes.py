"""Hole and tear ops. Mask families ``hole`` and ``tear``."""

from __future__ import annotations

from dataclasses import dataclass

from ...compose import Op, pick
from ...functional.holes import BACKGROUNDS, holes, tears
from ...functional.paper import sample_texture
from ...seeding import SEED_MAX
from ...serialize import register
from ...validate import DegradeError, check_choices
from ._common import draw_int, texture_dir


@register
@dataclass
class Holes(Op):
    """Irregular holes with feathered edges revealing paper.

    ``count``: integer range (0-50); ``size``: radius as a fraction of the short side (0-1);
    ``roughness``: relative outline wobble (0-2); ``feather``: edge softness (Gaussian sigma, 0-50 px);
    ``elastic``: paper distortion (0-50 px); ``textures``/``scale``: optional folder of paper scans
    shown in the holes, magnified ``scale`` times (range, > 0, at most 10). ``version=2``: a box per
    hole, their paper cut from one :class:`PaperTexture` version-2 paper per call, halo and paper
    blended in one pass (see :func:`~oldphoto.degrade.functional.holes.holes`), about 1.8x faster.
    """

    VERSIONS = (1, 2)

    count: tuple = (1, 3)
    size: tuple = (0.02, 0.08)
    roughness: tuple = (0.2, 0.6)
    feather: tuple = (0.8, 3.0)
    elastic: tuple = (0.0, 3.0)
    textures: str | None = None
    scale: tuple = (0.5, 2.0)
    p: float = 1.0

    def validate(self):
        self.range("count", 0, 50, integer=True)
        self.range("size", 0.0, 1.0)
        self.range("roughness", 0.0, 2.0)
        self.range("feather", 0.0, 50.0)
        self.range("elastic", 0.0, 50.0)
        if self.range("scale", 0.0, 10.0)[0] <= 0:
            raise DegradeError("Holes: argument 'scale' must be > 0")
        texture_dir(self)

    def sample(self, rng, shape):
        return {"count": draw_int(rng, self.count), "roughness": rng.uniform(*self.roughness),
                "feather": rng.uniform(*self.feather), "elastic": rng.uniform(*self.elastic),
                "texture": sample_texture(rng, self.textures, self.scale), "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        out, mask = holes(image, params["count"], self.size, params["roughness"], params["feather"],
                          params["elastic"], params["seed"], self.textures, params["texture"], self.version)
        return out, {"hole": mask}


@register
@dataclass
class Tears(Op):
    """Torn-off corners and bites out of the edges.

    ``count``: integer range (0-20); ``depth``: how far the tear reaches in (fraction of the short
    side, 0-1); ``rim``: width in px of the exposed white paper core along the tear (0-50);
    ``background``: what shows where the photo is missing, choices white, black, grey, card.
    """

    count: tuple = (1, 2)
    depth: tuple = (0.05, 0.2)
    rim: tuple = (1.0, 4.0)
    background: tuple = tuple(BACKGROUNDS)
    p: float = 1.0

    def validate(self):
        self.range("count", 0, 20, integer=True)
        self.range("depth", 0.0, 1.0)
        self.range("rim", 0.0, 50.0)
        self.background = check_choices("Tears", "background", self.background, list(BACKGROUNDS))

    def sample(self, rng, shape):
        return {"count": draw_int(rng, self.count), "rim": rng.uniform(*self.rim),
                "background": str(pick(rng, self.background)), "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        out, mask = tears(image, params["count"], self.depth, params["rim"], params["background"], params["seed"])
        return out, {"tear": mask}
