"""Registry of transform names (``REGISTRY``, a :class:`~oldphoto.infra.registry.Registry` of op and
composition classes) and conversion of pipelines to/from dict, JSON and YAML.

Pipeline files are untrusted input: YAML is read with ``safe_load`` (no code runs), and a file
over ``MAX_FILE_BYTES``, nested deeper than ``MAX_DEPTH`` or holding more than ``MAX_VALUES``
values once YAML aliases are expanded ("billion laughs") is refused before anything is built, and a
composition holding more than ``MAX_OPS`` ops (counted through every nesting level) when it is built.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from oldphoto.infra.registry import Registry

from .validate import DegradeError, UnknownDegradeNameError, shown

REGISTRY: Registry[type] = Registry("transform type", error=UnknownDegradeNameError)
PLAIN = frozenset({int, float, str, bool, type(None)})  # returned by jsonable as they are
MAX_FILE_BYTES = 1 << 20  # the shipped presets are 1-4 KB
MAX_DEPTH = 32  # levels of nested lists and dicts (the shipped presets: 4-8)
MAX_VALUES = 100_000  # values with YAML aliases expanded (the shipped presets: 66-229)
MAX_OPS = 100  # ops in one pipeline, all nesting levels (the shipped presets: 7-17); with each op's
# argument maxima this bounds the work of one call (about 6 s per op at the maxima on 1024 x 1024)


def register(cls: type) -> type:
    """Class decorator: make ``cls`` constructible from ``{"type": cls.__name__, ...}``."""
    return REGISTRY.register(cls.__name__, cls)


def jsonable(value):
    """Tuples to lists, numpy scalars to Python numbers, recursively."""
    if type(value) in PLAIN:
        return value
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
        raise DegradeError(f"a transform description must be a dict with a 'type' key, got {shown(data)}")
    name = data["type"]
    cls = REGISTRY[name]
    kwargs = {k: v for k, v in data.items() if k != "type"}
    if "transforms" in kwargs:
        if not isinstance(kwargs["transforms"], list):
            raise DegradeError(f"{name}: 'transforms' must be a list, got {shown(kwargs['transforms'])}")
        kwargs["transforms"] = [from_dict(t) for t in kwargs["transforms"]]
    try:
        return cls(**kwargs)
    except DegradeError:
        raise
    except (TypeError, ValueError) as exc:
        raise DegradeError(f"{name}: {str(exc)[:200]}") from None


def dumps(data: dict, path: str | os.PathLike) -> str:
    """Serialise ``data`` as YAML for ``.yaml``/``.yml`` paths, else as JSON."""
    if Path(path).suffix.lower() in (".yaml", ".yml"):
        return yaml.safe_dump(data, sort_keys=False)
    return json.dumps(data, indent=2) + "\n"


def check_size(data, owner: str) -> None:
    """Refuse ``data`` nested deeper than MAX_DEPTH or holding more than MAX_VALUES values, counting a
    value reached through several aliases once per path (stops as soon as a limit is passed)."""
    stack, count = [(data, 1)], 1
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise DegradeError(f"{owner}: nested deeper than {MAX_DEPTH} levels")
        children = list(value.values()) if isinstance(value, dict) else value
        count += len(children)
        if count > MAX_VALUES:
            raise DegradeError(f"{owner}: more than {MAX_VALUES} values once YAML aliases are expanded")
        stack.extend((child, depth + 1) for child in children)


def read(path: str | os.PathLike) -> dict:
    """Read a JSON or YAML transform description (see the module notes for the limits)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DegradeError(f"cannot read pipeline file {path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise DegradeError(f"{path}: larger than {MAX_FILE_BYTES} bytes; not a pipeline file")
    try:
        text = raw.decode("utf-8")
        data = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else json.loads(text)
    except UnicodeDecodeError:
        raise DegradeError(f"{path}: not UTF-8 text") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise DegradeError(f"{path}: not valid {path.suffix[1:].upper() or 'JSON'}: {exc}") from None
    except RecursionError:
        raise DegradeError(f"{path}: nested deeper than {MAX_DEPTH} levels") from None
    check_size(data, str(path))
    return data


def load(path: str | os.PathLike):
    """Load a pipeline (or any transform) saved with ``save`` or written by hand; errors name the file."""
    data = read(path)
    try:
        return from_dict(data)
    except DegradeError as exc:
        raise DegradeError(f"{path}: {exc}") from None
