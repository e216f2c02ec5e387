"""Trainer registry: ``@register_trainer("name")`` on a :class:`~.stage.Stage` subclass, over
:class:`~oldphoto.infra.registry.Registry` (``TRAINERS``).

``oldphoto train NAME`` looks the stage up here; each trainable family registers its stages when its
module under :mod:`oldphoto.models.training.families` (listed in ``TRAINER_MODULES``) is imported.
"""

from __future__ import annotations

from collections.abc import Callable

from oldphoto.infra.registry import Registry, importing

# Modules that register trainers when imported (one per trainable model family).
TRAINER_MODULES: tuple[str, ...] = (
    "oldphoto.models.training.families.pix2pix",
    "oldphoto.models.training.families.sequential",
    "oldphoto.models.training.families.bopbtl",
    "oldphoto.models.training.families.bopbtl_tone",
    "oldphoto.models.training.families.face",
)

TRAINERS: Registry[type] = Registry("trainer", load=importing(TRAINER_MODULES))


def register_trainer(name: str) -> Callable[[type], type]:
    """Class decorator registering a Stage subclass as the trainer ``name`` (and naming it so)."""

    def wrap(stage_cls: type) -> type:
        TRAINERS.register(name, stage_cls)
        stage_cls.name = name
        return stage_cls

    return wrap


def list_trainers() -> list[str]:
    """Names of every registered trainer (training stage), sorted."""
    return TRAINERS.list()


def get_trainer(name: str) -> type:
    """The Stage class registered as ``name``; an UnknownNameError listing the trainers otherwise."""
    return TRAINERS[name]
