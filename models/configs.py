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


def make_config(cls: type[T], value: Any, owner: str, base: T | None = None) -> T:
    """Return an instance of dataclass ``cls`` from ``None`` (``base``, default ``cls()``), an
    instance, or a dict of overrides of ``base``: every model family takes its config this way
    (``oldphoto benchmark --set MODEL.FIELD=VALUE`` builds such a dict).

    A field holding a dataclass takes a nested dict of its own overrides, and a dotted key reaches
    into it (``{"mapping.res_blocks": 2}`` is ``{"mapping": {"res_blocks": 2}}``); a list given for a
    tuple field becomes a tuple. Unknown keys and wrong types are errors naming ``owner`` (e.g. the
    model or file).
    """
    if value is None:
        return base if base is not None else cls()
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        raise TypeError(f"{owner}: config must be None, a dict or {cls.__name__}, got {type(value).__name__}")
    return override(base if base is not None else cls(), value, owner)


def override(config: T, changes: dict, owner: str) -> T:
    """A copy of dataclass instance ``config`` with ``changes`` (see :func:`make_config`)."""
    nested = nest(changes)
    known = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(nested) - known)
    if unknown:
        raise ValueError(f"{owner}: unknown config field(s) {unknown}; known: {sorted(known)}")
    values = {key: _field_value(getattr(config, key), value, f"{owner} {key}") for key, value in nested.items()}
    try:
        return dataclasses.replace(config, **values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: invalid config: {exc}") from None


def nest(changes: dict) -> dict:
    """Dotted keys as nested dicts: ``{"a.b": 1, "c": 2}`` -> ``{"a": {"b": 1}, "c": 2}``."""
    out: dict = {}
    for key, value in changes.items():
        head, dot, rest = key.partition(".") if isinstance(key, str) else (key, "", "")
        part = {rest: value} if dot else value
        if isinstance(out.get(head), dict) and isinstance(part, dict):
            out[head] = {**out[head], **part}
        elif head in out:
            raise ValueError(f"config field {head!r} is given twice")
        else:
            out[head] = part
    return out


def _field_value(current: Any, value: Any, owner: str) -> Any:
    """``value`` for a field now holding ``current``: a dataclass field takes what :func:`make_config`
    takes (a dict overrides it), a list for a tuple field becomes a tuple."""
    if dataclasses.is_dataclass(current):
        return make_config(type(current), value, owner, base=current)
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)
    return value


def config_dict(config: Any) -> dict:
    """A dataclass config as a plain dict (what checkpoints and model cards store)."""
    return dataclasses.asdict(config)
