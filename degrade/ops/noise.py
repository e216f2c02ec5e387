"""Noise ops: additive Gaussian, speckle, salt-and-pepper, Poisson (shot)."""

from __future__ import annotations

from dataclasses import dataclass

from ..compose import Op
from ..functional import noise as F
from ..seeding import SEED_MAX
from ..serialize import register
from ..validate import DegradeError


@register
@dataclass
class GaussianNoise(Op):
    """Additive Gaussian noise; ``sigma`` range in grey levels (0-255).

    ``per_channel=False`` adds one field to all channels (luminance-only noise). ``version=2``: one
    random byte per deviate (256 Gaussian quantiles, see
    :func:`~oldphoto.degrade.functional._util.byte_normal`), about 2x faster.
    """

    VERSIONS = (1, 2)

    sigma: tuple = (5.0, 50.0)
    per_channel: bool = True
    p: float = 1.0

    def validate(self):
        self.range("sigma", 0.0, 255.0)

    def sample(self, rng, shape):
        return {"sigma": rng.uniform(*self.sigma), "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        return F.gaussian_noise(image, params["sigma"], params["seed"], self.per_channel, self.version)


@register
@dataclass
class SpeckleNoise(Op):
    """Multiplicative noise ``x + x * N(0, sigma / 255)``; ``sigma`` in grey levels at white (0-255).
    ``version=2``: one random byte per deviate, as :class:`GaussianNoise` version 2, and one multiply
    by ``1 + n``, about 2x faster."""

    VERSIONS = (1, 2)

    sigma: tuple = (5.0, 50.0)
    p: float = 1.0

    def validate(self):
        self.range("sigma", 0.0, 255.0)

    def sample(self, rng, shape):
        return {"sigma": rng.uniform(*self.sigma), "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        return F.speckle_noise(image, params["sigma"] / 255.0, params["seed"], self.version)


@register
@dataclass
class SaltPepperNoise(Op):
    """Impulse noise: a fraction ``amount`` (0-1) of elements set to 0 or 255; ``salt`` is the 255 share.
    ``version=2``: the replaced elements drawn sparsely (a binomial count, then their places), several
    times faster at small ``amount``."""

    VERSIONS = (1, 2)

    amount: tuple = (0.0, 0.01)
    salt: tuple = (0.3, 0.8)
    p: float = 1.0

    def validate(self):
        self.range("amount", 0.0, 1.0)
        self.range("salt", 0.0, 1.0)

    def sample(self, rng, shape):
        return {"amount": rng.uniform(*self.amount), "salt": rng.uniform(*self.salt),
                "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        return F.salt_pepper_noise(image, params["amount"], params["salt"], params["seed"], self.version)


@register
@dataclass
class PoissonNoise(Op):
    """Shot noise; ``peak`` range is the photon count of white (smaller is noisier, > 0, at most 1e6)."""

    peak: tuple = (20.0, 200.0)
    p: float = 1.0

    def validate(self):
        if self.range("peak", 0.0, 1e6)[0] <= 0:
            raise DegradeError("PoissonNoise: argument 'peak' must be > 0")

    def sample(self, rng, shape):
        return {"peak": rng.uniform(*self.peak), "seed": int(rng.integers(SEED_MAX))}

    def apply(self, image, params):
        return F.poisson_noise(image, params["peak"], params["seed"])
