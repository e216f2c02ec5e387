"""Named pipelines stored as YAML beside this file, loaded with the same serializer users use."""

from __future__ import annotations

from pathlib import Path

from ..compose import Pipeline
from ..serialize import read
from ..validate import DegradeError

PRESET_DIR = Path(__file__).parent


def list_presets() -> list[str]:
    """Names of the built-in presets."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_dict(name: str) -> dict:
    """The dict form of preset ``name``."""
    path = PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise DegradeError(f"unknown preset {name!r}; available: {list_presets()}")
    return read(path)


def preset(name: str, seed: int | None = None) -> Pipeline:
    """Build preset ``name`` as a :class:`Pipeline` (``seed`` seeds its own call-seed generator)."""
    data = dict(preset_dict(name))
    data.setdefault("name", name)
    data["seed"] = seed
    return Pipeline.from_dict(data)
