"""Model registry: ``register_model(name)``, ``create(name, ...)``, ``list_models()`` over
:class:`~oldphoto.infra.registry.Registry` (``MODELS``).

A factory has the signature ``factory(config=None, pretrained=True, device="auto") -> Restorer``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from oldphoto.infra.registry import Registry, importing

# Modules that register models when imported (one file or package per model family).
FAMILY_MODULES: list[str] = [
    "oldphoto.models.baselines.input",
    "oldphoto.models.baselines.classical",
    "oldphoto.models.baselines.sequential",
    "oldphoto.models.baselines.dip",
    "oldphoto.models.baselines.pix2pix",
    "oldphoto.models.bopbtl",
    "oldphoto.models.face",
]

MODELS: Registry[Callable] = Registry("model", load=importing(FAMILY_MODULES))


def register_model(name: str, description: str = "",
                   weights: Callable[[], list[Path]] | None = None) -> Callable[[Callable], Callable]:
    """Decorator registering a factory under ``name``. ``weights``: the files ``create(name)`` reads
    with ``pretrained=True`` and the default config (None: the model has no learned weights)."""
    info = {"weights": weights} if weights is not None else {}
    return MODELS.register(name, description=description, **info)


def missing_weights(name: str) -> list[Path]:
    """The weight files ``create(name)`` (pretrained, default config) needs and cannot find; [] when
    it needs none or has them all."""
    files = MODELS.describe(name).get("weights")
    return [path for path in files() if not path.is_file()] if files is not None else []


def list_models(pretrained: bool = False) -> list[str]:
    """Names of every registered model, sorted; ``pretrained``: only those ``create(name)`` can build
    with their weights (the shipped files are there, or the model has no learned weights)."""
    return [name for name in MODELS.list() if not (pretrained and missing_weights(name))]


def describe(name: str) -> str:
    """One-line description of model ``name``."""
    return MODELS.describe(name)["description"]


def create(name: str, config=None, pretrained: bool | str | os.PathLike = True, device: str = "auto"):
    """Build model ``name`` (a :class:`~oldphoto.models.base.Restorer`); an unknown name is an
    UnknownNameError listing the registered ones.

    ``pretrained``: True loads the shipped weights (or, for families whose config has a ``weights``
    field, the file it names), a path loads that weight file, the same way for every family, and
    False keeps the random initialisation. A missing checkpoint is an error naming the file, never
    silently random weights.
    """
    return MODELS.create(name, config=config, pretrained=pretrained, device=device)


def model_info(name: str) -> dict:
    """Name, parameter count, needs-mask / needs-training flags and description of model ``name``
    (built with ``pretrained=False`` on the CPU, so no weights are needed)."""
    restorer = create(name, pretrained=False, device="cpu")
    return {"name": name, "parameters": restorer.num_parameters, "needs_mask": restorer.needs_mask,
            "needs_training": restorer.needs_training, "description": describe(name)}
