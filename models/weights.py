"""Restorer weight files: the checkpoints shipped in ``models/checkpoints/`` or any path.

A weight file is a dict ``{"format", "model", "config", "state_dict", "meta"}`` written by
:func:`save_weights` (state dict stored in float16 to keep shipped files small).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .checkpoint import CheckpointError, load_checkpoint, load_state, save_checkpoint

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
WEIGHTS_FORMAT = "oldphoto-restorer-weights/1"


def shipped_weights(name: str) -> Path:
    """Path of the checkpoint shipped in the repository for model ``name`` (may not exist)."""
    return CHECKPOINT_DIR / f"{name}.pt"


def save_weights(path: str | os.PathLike, model: str, config: dict, module: torch.nn.Module, meta: dict) -> Path:
    """Write ``module``'s weights (float16) with the model name, its config dict and ``meta``."""
    state = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in module.state_dict().items()}
    payload = {"format": WEIGHTS_FORMAT, "model": model, "config": config, "state_dict": state, "meta": meta}
    return save_checkpoint(path, payload)


def load_weights(module: torch.nn.Module, model: str, path: str | os.PathLike) -> dict:
    """Load the weight file at ``path`` into ``module``; returns the file's ``meta`` dict.

    Raises :class:`CheckpointError` naming the file when it is missing, corrupt, written for
    another model, or does not fit the network built from the current config.
    """
    payload = load_checkpoint(path, required=("format", "model", "state_dict"))
    if payload["format"] != WEIGHTS_FORMAT:
        raise CheckpointError(f"{path}: unknown weight format {payload['format']!r} (expected {WEIGHTS_FORMAT!r})")
    if payload["model"] != model:
        raise CheckpointError(f"{path}: weights are for model {payload['model']!r}, not {model!r}")
    reference = next(module.parameters(), None)
    dtype = reference.dtype if reference is not None else torch.float32
    state = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in payload["state_dict"].items()}
    load_state(module, state, path)
    return dict(payload.get("meta", {}))
