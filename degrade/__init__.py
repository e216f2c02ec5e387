"""oldphoto.degrade: reproducible old-photo degradation synthesis (numpy and OpenCV only).

>>> from oldphoto import degrade
>>> pipe = degrade.preset("bopbtl-code")
>>> res = pipe(image, seed=123)          # res.image, res.target, res.masks, res.params
>>> degrade.replay(image, res.params)    # same bytes
"""

from .compose import Compose, Composition, OneOf, Op, Pipeline, RandomOrder, Result, SomeOf, Transform, replay
from .ops import *  # noqa: F401,F403  (registers every op)
from .ops import __all__ as _ops_all
from .presets import list_presets, preset
from .serialize import REGISTRY, from_dict, load, register
from .validate import DegradeError


def to_albumentations(pipeline: Pipeline, p: float = 1.0):
    """Wrap ``pipeline`` as an albumentations transform (imports albumentations on first use)."""
    from .albumentations import DegradeTransform

    return DegradeTransform(pipeline, p=p)


__all__ = [
    "Composition", "Compose", "DegradeError", "Op", "OneOf", "Pipeline", "REGISTRY", "RandomOrder",
    "Result", "SomeOf", "Transform", "from_dict", "list_presets", "load", "preset", "register",
    "replay", "to_albumentations", *_ops_all,
]
