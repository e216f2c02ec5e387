"""Registry of transform names and conversion of pipelines to/from dict, JSON and YAML."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from .validate import DegradeError

REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` constructible from ``{"type": cls.__name__, ...}``."""
    if cls.__name__ in REGISTRY and REGISTRY[cls.__name__] is not cls:
        raise DegradeError(f"transform name {cls.__name__!r} is registered twice")
    REGISTRY[cls.__name__] = cls
    return cls


def jsonable(value):
    """Tuples to lists, numpy scalars to Python numbers, recursively."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def from_dict(data: dict):
    """Build a transform (op, composition or pipeline) from its ``to_dict()`` form."""
    if not isinstance(data, dict) or "type" not in data:
        raise DegradeError(f"a transform description must be a dict with a 'type' key, got {data!r}")
    name = data["type"]
    cls = REGISTRY.get(name)
    if cls is None:
        raise DegradeError(f"unknown transform type {name!r}; known: {sorted(REGISTRY)}")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    if "transforms" in kwargs:
        kwargs["transforms"] = [from_dict(t) for t in kwargs["transforms"]]
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise DegradeError(f"{name}: {exc}") from None


def dumps(data: dict, path: str | os.PathLike) -> str:
    """Serialise ``data`` as YAML for ``.yaml``/``.yml`` paths, else as JSON."""
    if Path(path).suffix.lower() in (".yaml", ".yml"):
        return yaml.safe_dump(data, sort_keys=False)
    return json.dumps(data, indent=2) + "\n"


def read(path: str | os.PathLike) -> dict:
    """Read a JSON or YAML transform description."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise DegradeError(f"cannot read pipeline file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise DegradeError(f"{path}: not valid {path.suffix[1:].upper() or 'JSON'}: {exc}") from None
    return data


def load(path: str | os.PathLike):
    """Load a pipeline (or any transform) saved with ``save`` or written by hand."""
    return from_dict(read(path))
