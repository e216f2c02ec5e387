"""Named pipelines stored as YAML beside this file (``PRESETS``, a
:class:`~oldphoto.infra.registry.Registry`), loaded with the same serializer users use."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from oldphoto.infra.registry import Registry

from ..compose import Pipeline
from ..serialize import read
from ..validate import UnknownDegradeNameError

PRESET_DIR = Path(__file__).parent


def build(path: Path, seed: int | None = None) -> Pipeline:
    """The pipeline of preset file ``path`` (named after the file unless it names itself); ``seed``
    seeds its own call-seed generator."""
    data = dict(read(path))
    data.setdefault("name", path.stem)
    data["seed"] = seed
    return Pipeline.from_dict(data)


def leading_comment(path: Path) -> str:
    """The first sentence of the comment that opens YAML file ``path`` ("" without one)."""
    words = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            words.append(line.lstrip("#").strip())
    text = " ".join(words)
    end = text.find(". ")
    return text[:end + 1] if end >= 0 else text


def register_shipped() -> None:
    """Register every ``*.yaml`` in PRESET_DIR under its stem (its opening comment describes it)."""
    for path in sorted(PRESET_DIR.glob("*.yaml")):
        PRESETS.register(path.stem, partial(build, path), description=leading_comment(path), path=path)


PRESETS: Registry = Registry("preset", load=register_shipped, error=UnknownDegradeNameError)


def list_presets() -> list[str]:
    """Names of the built-in presets, sorted."""
    return PRESETS.list()


def preset_dict(name: str) -> dict:
    """The dict form of preset ``name``."""
    return read(PRESETS.describe(name)["path"])


def preset(name: str, seed: int | None = None) -> Pipeline:
    """Build preset ``name`` as a :class:`Pipeline` (``seed`` seeds its own call-seed generator)."""
    return PRESETS.create(name, seed=seed)
