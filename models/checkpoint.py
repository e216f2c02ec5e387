"""Checkpoint files: atomic save, load with errors that name the file and the reason."""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch

from oldphoto.infra.files import write_bytes


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or not what was expected; the message names the file."""


def save_checkpoint(path: str | os.PathLike, payload: dict) -> Path:
    """Serialise ``payload`` with ``torch.save`` and write it atomically (temp file, then rename)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path = Path(path)
    write_bytes(path, buffer.getvalue())
    return path


def load_checkpoint(path: str | os.PathLike, required: tuple[str, ...] = (), map_location="cpu") -> dict:
    """Load a checkpoint dict saved by :func:`save_checkpoint` (tensors and plain Python values only).

    Raises :class:`CheckpointError` naming ``path`` when the file is missing, cannot be unpickled
    (truncated, corrupt, not a torch file) or lacks one of the ``required`` keys.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt files
        raise CheckpointError(f"{path}: cannot read checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: expected a checkpoint dict, found {type(payload).__name__}")
    missing = [key for key in required if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {missing}")
    return payload


def load_state(module: torch.nn.Module, state_dict: dict, path: str | os.PathLike, what: str = "weights") -> None:
    """``module.load_state_dict(state_dict, strict=True)`` with mismatches reported against ``path``."""
    try:
        module.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:4])
        raise CheckpointError(f"{path}: {what} do not match the network ({detail})") from None
