"""Paper texture op: procedural paper or user scans, elastically distorted, blended over the photo."""

from __future__ import annotations

from dataclasses import dataclass

from ...compose import Op, pick
from ...functional.blend import MODES, blend8, channels
from ...functional.paper import paper_blend, paper_layer8, paper_rows, sample_texture
from ...seeding import SEED_MAX
from ...serialize import register
from ...validate import DegradeError, check_choices
from ._common import texture_dir


@register
@dataclass
class PaperTexture(Op):
    """Paper texture over the whole photo (a global look, like toning: no mask).

    ``opacity`` (0-1) and ``modes`` (blend modes, see ``functional.blend.MODES``) of the blend;
    ``yellowing`` (0-1) of procedural paper; ``elastic``: displacement std in px (0-50); ``textures``:
    a folder of paper scans to use instead of procedural paper, cropped at a random place, rotated
    and magnified by ``scale`` (range, > 0, at most 10).

    ``version=2``: the same draws of parameters; procedural paper made by
    :func:`~oldphoto.degrade.functional.paper.procedural_paper8` and blended in 8-bit arithmetic
    (:func:`~oldphoto.degrade.functional.blend.blend8`), about 2.9x faster.
    """

    VERSIONS = (1, 2)

    opacity: tuple = (0.1, 0.4)
    modes: tuple = ("multiply", "screen", "lighten")
    yellowing: tuple = (0.0, 0.6)
    elastic: tuple = (0.0, 6.0)
    textures: str | None = None
    scale: tuple = (0.5, 2.0)
    p: float = 1.0

    def validate(self):
        self.range("opacity", 0.0, 1.0)
        self.modes = check_choices("PaperTexture", "modes", self.modes, list(MODES))
        self.range("yellowing", 0.0, 1.0)
        self.range("elastic", 0.0, 50.0)
        if self.range("scale", 0.0, 10.0)[0] <= 0:
            raise DegradeError("PaperTexture: argument 'scale' must be > 0")
        texture_dir(self)

    def sample(self, rng, shape):
        return {"opacity": rng.uniform(*self.opacity), "mode": str(pick(rng, self.modes)),
                "yellowing": rng.uniform(*self.yellowing), "elastic": rng.uniform(*self.elastic),
                "texture": sample_texture(rng, self.textures, self.scale), "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        h, w = image.shape[:2]
        if self.version == 2:
            paper = paper_layer8(h, w, params["yellowing"], params["elastic"], params["seed"], self.textures,
                                 params["texture"], grey=channels(image) == 1)
            return blend8(image, paper, params["mode"], params["opacity"])
        paper = paper_rows(h, w, params["yellowing"], params["elastic"], params["seed"], self.textures,
                           params["texture"], grey=channels(image) == 1)
        return paper_blend(image, paper, params["mode"], params["opacity"])
