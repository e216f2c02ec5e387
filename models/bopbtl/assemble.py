"""Join the bopbtl stage exports into one restorer weight file."""

from __future__ import annotations

import os
from pathlib import Path

from ..checkpoint import CheckpointError
from ..weights import save_weights
from .configs import VARIANTS, get_config
from .model import BopbtlNet
from .parts import load_stage_weights


def assemble_weights(model: str, size: str, vae_old: str | os.PathLike, vae_clean: str | os.PathLike,
                     mapping: str | os.PathLike, detector: str | os.PathLike, out: str | os.PathLike,
                     meta: dict | None = None, fusion: str | os.PathLike | None = None) -> Path:
    """Join the stage exports into the weight file restorer ``model`` at ``size`` loads (``fusion``:
    the ``bopbtl-fusion`` export, required when the config has a fusion head)."""
    net = BopbtlNet(get_config(size).variant(*VARIANTS[model]))
    parts = [(net.vae_old, "bopbtl-vae-old", vae_old, "vae"), (net.vae_clean, "bopbtl-vae-clean", vae_clean, "vae"),
             (net.mapping, "bopbtl-mapping", mapping, "mapping"),
             (net.detector, "bopbtl-detector", detector, "detector")]
    if net.fusion is not None:
        if fusion is None:
            raise CheckpointError(f"{model} at {size!r} has a fusion head: pass the bopbtl-fusion export")
        parts.append((net.fusion, "bopbtl-fusion", fusion, "fusion"))
    sources = {}
    for module, stage, path, part in parts:
        sources[stage] = {"file": str(path), **load_stage_weights(module, stage, path, net.config, part)}
    return save_weights(out, model, net.config.to_dict(), net, {**(meta or {}), "stages": sources})
