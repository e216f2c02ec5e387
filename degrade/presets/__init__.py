"""Named pipelines stored as YAML beside this file (``PRESETS``, a
:class:`~oldphoto.infra.registry.Registry`), loaded with the same serializer users use.

A preset named in ``UPGRADED`` is offered a second time as ``NAME-vN``: the same file with every op
that has a version N at that version (faster algorithms, other bytes; see docs/degradation-speed.md).
The plain name always keeps version 1, so its outputs never change.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from oldphoto.infra.registry import Registry

from ..compose import Op, Pipeline
from ..serialize import REGISTRY, read
from ..validate import UnknownDegradeNameError

PRESET_DIR = Path(__file__).parent
UPGRADED = {"bopbtl-code": 2, "bopbtl-paper": 2}  # preset file stem -> op version of its NAME-vN twin


def at_version(data: dict, version: int) -> dict:
    """A copy of transform dict ``data`` with every op whose class has ``version`` set to it (the
    other ops and every composition as they are)."""
    data = dict(data)
    if "transforms" in data:
        data["transforms"] = [at_version(t, version) for t in data["transforms"]]
        return data
    cls = REGISTRY[data["type"]]
    if issubclass(cls, Op) and version in cls.VERSIONS:
        data["version"] = version
    return data


def build(name: str, seed: int | None = None) -> Pipeline:
    """The pipeline of preset ``name``; ``seed`` seeds its own call-seed generator."""
    return Pipeline.from_dict({**preset_dict(name), "seed": seed})


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
    """Register every ``*.yaml`` in PRESET_DIR under its stem (its opening comment describes it), and
    the ``NAME-vN`` twins of ``UPGRADED``."""
    for path in sorted(PRESET_DIR.glob("*.yaml")):
        PRESETS.register(path.stem, partial(build, path.stem), description=leading_comment(path), path=path,
                         version=1)
    for stem, version in UPGRADED.items():
        PRESETS.register(f"{stem}-v{version}", partial(build, f"{stem}-v{version}"), path=PRESET_DIR / f"{stem}.yaml",
                         version=version, description=f"{stem} with every op that has a version {version} at it: "
                         "faster, statistically the same degradation, other bytes.")


PRESETS: Registry = Registry("preset", load=register_shipped, error=UnknownDegradeNameError)


def list_presets() -> list[str]:
    """Names of the built-in presets, sorted."""
    return PRESETS.list()


def preset_dict(name: str) -> dict:
    """The dict form of preset ``name`` (named after its file unless the file names it)."""
    info = PRESETS.describe(name)
    data = dict(read(info["path"]))
    data.setdefault("name", info["path"].stem)
    if info["version"] == 1:
        return data
    return {**at_version(data, info["version"]), "name": name}


def preset(name: str, seed: int | None = None) -> Pipeline:
    """Build preset ``name`` as a :class:`Pipeline` (``seed`` seeds its own call-seed generator)."""
    return PRESETS.create(name, seed=seed)
