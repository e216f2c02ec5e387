"""Trainer registry: ``@register_trainer("name")`` on a :class:`~.stage.Stage` subclass.

``oldphoto train NAME`` looks the stage up here; model families register their stages when their
module (listed in ``oldphoto.models.registry.FAMILY_MODULES``) is imported.
"""

from __future__ import annotations

from collections.abc import Callable

from ..registry import load_families

_TRAINERS: dict[str, type] = {}


def register_trainer(name: str) -> Callable[[type], type]:
    """Class decorator registering a Stage subclass as the trainer ``name``."""

    def wrap(stage_cls: type) -> type:
        if name in _TRAINERS and _TRAINERS[name] is not stage_cls:
            raise ValueError(f"trainer {name!r} is registered twice")
        _TRAINERS[name] = stage_cls
        stage_cls.name = name
        return stage_cls

    return wrap


def list_trainers() -> list[str]:
    """Names of every registered trainer (training stage), sorted."""
    load_families()
    return sorted(_TRAINERS)


def get_trainer(name: str) -> type:
    """The Stage class registered as ``name``."""
    load_families()
    if name not in _TRAINERS:
        raise KeyError(f"unknown trainer {name!r}; registered: {sorted(_TRAINERS)}")
    return _TRAINERS[name]
