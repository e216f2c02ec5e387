"""Trainer registry: ``@register_trainer("name")`` on a :class:`~.stage.Stage` subclass.

``oldphoto train NAME`` looks the stage up here; each trainable family registers its stages when its
module under :mod:`oldphoto.models.training.families` (listed in ``TRAINER_MODULES``) is imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

_TRAINERS: dict[str, type] = {}
# Modules that register trainers when imported (one per trainable model family).
TRAINER_MODULES: tuple[str, ...] = (
    "oldphoto.models.training.families.pix2pix",
    "oldphoto.models.training.families.sequential",
    "oldphoto.models.training.families.bopbtl",
    "oldphoto.models.training.families.face",
)


def register_trainer(name: str) -> Callable[[type], type]:
    """Class decorator registering a Stage subclass as the trainer ``name``."""

    def wrap(stage_cls: type) -> type:
        if name in _TRAINERS and _TRAINERS[name] is not stage_cls:
            raise ValueError(f"trainer {name!r} is registered twice")
        _TRAINERS[name] = stage_cls
        stage_cls.name = name
        return stage_cls

    return wrap


def load_trainers() -> None:
    """Import every module in TRAINER_MODULES (each registers its family's training stages)."""
    for module in TRAINER_MODULES:
        importlib.import_module(module)


def list_trainers() -> list[str]:
    """Names of every registered trainer (training stage), sorted."""
    load_trainers()
    return sorted(_TRAINERS)


def get_trainer(name: str) -> type:
    """The Stage class registered as ``name``."""
    load_trainers()
    if name not in _TRAINERS:
        raise KeyError(f"unknown trainer {name!r}; registered: {sorted(_TRAINERS)}")
    return _TRAINERS[name]
