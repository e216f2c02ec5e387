"""``oldphoto train``: read a run config file, build the data, run the shared loop."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .loop import TrainResult, train
from .registry import get_trainer

CONFIG_SECTIONS = ("model", "train")


def load_run_config(path: str | os.PathLike) -> dict[str, dict]:
    """Read a YAML or JSON file with optional sections ``model`` (the model config dataclass's
    fields) and ``train`` (the stage's training config fields); errors name the file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the run config ({exc})") from None
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: the run config must be a mapping with sections {CONFIG_SECTIONS}")
    unknown = sorted(set(data) - set(CONFIG_SECTIONS))
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {unknown}; expected {CONFIG_SECTIONS}")
    for key in CONFIG_SECTIONS:
        if not isinstance(data.get(key) or {}, dict):
            raise ValueError(f"{path}: section {key!r} must be a mapping")
    return {key: data.get(key) for key in CONFIG_SECTIONS}


def train_from_config(name: str, config_file: str | os.PathLike | None, out: str | os.PathLike,
                      data_dir: str | os.PathLike | None = None, source: str | None = None,
                      resume: bool = False, steps: int | None = None, seed: int | None = None,
                      device: str = "auto", progress: bool = True,
                      overrides: dict[str, dict] | None = None) -> TrainResult:
    """What ``oldphoto train NAME`` runs: configs from ``config_file`` (defaults when None) with
    ``overrides`` (``{"model": {...}, "train": {...}}``, what ``--set SECTION.FIELD=VALUE`` builds)
    applied over its sections, data from ``data_dir`` or ``source`` (on resume, the data options and
    the overrides must be given again)."""
    stage_cls = get_trainer(name)
    sections = load_run_config(config_file) if config_file else {"model": None, "train": None}
    unknown = sorted(set(overrides or {}) - set(CONFIG_SECTIONS))
    if unknown:
        raise ValueError(f"--set: unknown section(s) {unknown}; expected {CONFIG_SECTIONS}")
    for key, values in (overrides or {}).items():
        sections[key] = {**(sections[key] or {}), **values}

    def dataset(train_config, run_seed):
        return stage_cls.make_dataset(train_config, run_seed, data_dir=data_dir, source=source)

    return train(name, dataset, out, model_config=sections["model"], train_config=sections["train"],
                 seed=seed, device=device, resume=resume, steps=steps, progress=progress)
