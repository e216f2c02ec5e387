"""Model registry: ``register_model(name)``, ``create(name, ...)``, ``list_models()``.

A factory has the signature ``factory(config=None, pretrained=True, device="auto") -> Restorer``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

_FACTORIES: dict[str, Callable] = {}
_DESCRIPTIONS: dict[str, str] = {}
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


def register_model(name: str, description: str = "") -> Callable:
    """Decorator registering a factory under ``name``."""

    def wrap(factory: Callable) -> Callable:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"model {name!r} is registered twice")
        _FACTORIES[name] = factory
        doc_lines = (factory.__doc__ or "").strip().splitlines()
        _DESCRIPTIONS[name] = description or (doc_lines[0] if doc_lines else "")
        return factory

    return wrap


def load_families() -> None:
    """Import every module in FAMILY_MODULES (each registers its models)."""
    for module in FAMILY_MODULES:
        importlib.import_module(module)


def list_models() -> list[str]:
    """Names of every registered model, sorted."""
    load_families()
    return sorted(_FACTORIES)


def describe(name: str) -> str:
    """One-line description of model ``name``."""
    load_families()
    return _DESCRIPTIONS.get(name, "")


def create(name: str, config=None, pretrained: bool = True, device: str = "auto"):
    """Build model ``name`` (a :class:`~oldphoto.models.base.Restorer`).

    A missing checkpoint with ``pretrained=True`` is an error, never silently random weights.
    """
    load_families()
    if name not in _FACTORIES:
        raise KeyError(f"unknown model {name!r}; registered: {sorted(_FACTORIES)}")
    return _FACTORIES[name](config=config, pretrained=pretrained, device=device)


def model_info(name: str) -> dict:
    """Name, parameter count, needs-mask / needs-training flags and description of model ``name``
    (built with ``pretrained=False`` on the CPU, so no weights are needed)."""
    restorer = create(name, pretrained=False, device="cpu")
    return {"name": name, "parameters": restorer.num_parameters, "needs_mask": restorer.needs_mask,
            "needs_training": restorer.needs_training, "description": describe(name)}
