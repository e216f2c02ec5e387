"""Model and training configs are small dataclasses: turning None / dict / instance into one, and the
PatchGAN discriminator sizes that more than one family trains with."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DiscriminatorConfig:
    """PatchGAN discriminators (image: ``scales`` scales; latent: one scale)."""

    channels: int = 64
    layers: int = 3
    scales: int = 2


def make_config(cls: type[T], value: Any, owner: str) -> T:
    """Return an instance of dataclass ``cls`` from ``None`` (defaults), a dict, or an instance.

    Unknown dict keys and wrong types are errors naming ``owner`` (e.g. the model or file).
    """
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise TypeError(f"{owner}: config must be None, a dict or {cls.__name__}, got {type(value).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValueError(f"{owner}: unknown config field(s) {unknown}; known: {sorted(known)}")
    try:
        return cls(**value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: invalid config: {exc}") from None


def config_dict(config: Any) -> dict:
    """A dataclass config as a plain dict (what checkpoints and model cards store)."""
    return dataclasses.asdict(config)
