"""Photographic ageing ops: fading, sepia, yellowing, uneven exposure, brightness/contrast, greyscale;
and the clean photo's own tone (``PhotoTone``, applied to the target too)."""

from __future__ import annotations

from dataclasses import dataclass

from ..compose import Op
from ..functional import tone as F
from ..serialize import register


@register
@dataclass
class Fade(Op):
    """Fading: ``contrast`` and ``saturation`` are ranges of the fraction lost (0-1)."""

    contrast: tuple = (0.1, 0.4)
    saturation: tuple = (0.2, 0.7)
    p: float = 1.0

    def validate(self):
        self.range("contrast", 0.0, 1.0)
        self.range("saturation", 0.0, 1.0)

    def sample(self, rng, shape):
        return {"contrast": rng.uniform(*self.contrast), "saturation": rng.uniform(*self.saturation)}

    def apply(self, image, params):
        return F.fade(image, params["contrast"], params["saturation"])


@register
@dataclass
class Sepia(Op):
    """Sepia toning; ``strength`` range 0 (none) to 1 (full sepia matrix)."""

    strength: tuple = (0.3, 1.0)
    p: float = 1.0

    def validate(self):
        self.range("strength", 0.0, 1.0)

    def sample(self, rng, shape):
        return {"strength": rng.uniform(*self.strength)}

    def apply(self, image, params):
        return F.sepia(image, params["strength"])


@register
@dataclass
class Yellowing(Op):
    """Warm yellow cast of aged paper and varnish; ``strength`` range 0-1."""

    strength: tuple = (0.2, 0.8)
    p: float = 1.0

    def validate(self):
        self.range("strength", 0.0, 1.0)

    def sample(self, rng, shape):
        return {"strength": rng.uniform(*self.strength)}

    def apply(self, image, params):
        return F.yellowing(image, params["strength"])


@register
@dataclass
class UnevenExposure(Op):
    """Vignetting plus a linear exposure gradient.

    ``vignette``: range of the gain lost at the farthest corner (0-1); ``center_jitter``: max offset
    of the vignette centre from the middle (fraction of the side, 0-0.5); ``gradient``: range of the
    linear gain change across the image (-1..1) along a uniformly drawn direction.
    """

    vignette: tuple = (0.1, 0.5)
    center_jitter: float = 0.15
    gradient: tuple = (-0.3, 0.3)
    p: float = 1.0

    def validate(self):
        self.range("vignette", 0.0, 1.0)
        self.range("gradient", -1.0, 1.0)
        self.center_jitter = float(self.range("center_jitter", 0.0, 0.5)[1])

    def sample(self, rng, shape):
        j = self.center_jitter
        return {"vignette": rng.uniform(*self.vignette),
                "center": [0.5 + rng.uniform(-j, j), 0.5 + rng.uniform(-j, j)],
                "gradient": rng.uniform(*self.gradient), "angle": rng.uniform(0.0, 360.0)}

    def apply(self, image, params):
        return F.uneven_exposure(image, params["vignette"], tuple(params["center"]),
                                 params["gradient"], params["angle"])


@register
@dataclass
class BrightnessContrast(Op):
    """Brightness shift (fraction of 255) and contrast change (relative), ranges in -1..1."""

    brightness: tuple = (-0.15, 0.15)
    contrast: tuple = (-0.3, 0.2)
    p: float = 1.0

    def validate(self):
        self.range("brightness", -1.0, 1.0)
        self.range("contrast", -1.0, 1.0)

    def sample(self, rng, shape):
        return {"brightness": rng.uniform(*self.brightness), "contrast": rng.uniform(*self.contrast)}

    def apply(self, image, params):
        return F.brightness_contrast(image, params["brightness"], params["contrast"])


@register
@dataclass
class PhotoTone(Op):
    """A different clean photo: gamma, contrast and brightness applied to the image *and* its clean
    target, so a training set spans dim, bright and flat photos and not only well-exposed ones (a
    restorer then cannot take every flat or bright photo for a faded one). ``brightness``: range of
    the shift as a fraction of 255 (-1..1); ``contrast``: range of the relative change (-1..1);
    ``gamma``: range of the exponent (> 0)."""

    brightness: tuple = (-0.15, 0.15)
    contrast: tuple = (-0.6, 0.1)
    gamma: tuple = (0.7, 1.4)
    p: float = 1.0

    def validate(self):
        self.range("brightness", -1.0, 1.0)
        self.range("contrast", -1.0, 1.0)
        self.range("gamma", 0.1, 10.0)

    def affects_target(self) -> bool:
        return True

    def sample(self, rng, shape):
        return {"brightness": rng.uniform(*self.brightness), "contrast": rng.uniform(*self.contrast),
                "gamma": rng.uniform(*self.gamma)}

    def apply(self, image, params):
        return F.photo_tone(image, params["brightness"], params["contrast"], params["gamma"])


@register
@dataclass
class Grayscale(Op):
    """BT.601 greyscale, channels kept. ``target=True`` also greys the clean target (reference recipe)."""

    target: bool = False
    p: float = 1.0

    def affects_target(self) -> bool:
        return self.target

    def apply(self, image, params):
        return F.grayscale(image)
